"""Helpers shared by the subcommands: validation of user input, output folders, ``--json``, progress.

Every subcommand validates all of its input *before* any work starts, through the validators
here, so that one kind of mistake gives the same one-line error in every command:

* :func:`prepare_out` / :func:`open_run_folder` -- an ``--out`` folder that can be created and
  written (not an existing file, not under a read-only or virtual file system);
* :func:`int_in`, :func:`float_in` -- argparse ``type=`` functions with bounds (``--devices``,
  ``--cycles``, ...), so an out-of-range or unbounded size is refused by the argument parser
  with the flag's name;
* :func:`read_text` (UTF-8 text files), :func:`read_toml_tables` (a TOML file whose named
  sections must be tables), :func:`check_csv` (header and complete rows);
* :func:`flag_error` -- a config-layer :class:`~hwsnn.errors.ConfigError` on a field that was
  set by a command-line flag, re-labelled with the flag (``--n-test (task.n_test)``).

Errors are :class:`hwsnn.errors.HwsnnError`; :func:`hwsnn.cli.main` prints them as one line.

Progress bars (:func:`progress`) go to stderr.  On a terminal they are tqdm bars; when stderr
is not a terminal (a log file, CI) they become one plain line at most every 30 s, without
carriage returns.  ``--no-progress`` or the environment variable ``HWSNN_PROGRESS=0`` turns
them off; ``HWSNN_PROGRESS=1`` forces terminal-style bars.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterable

from hwsnn.errors import ConfigError, HwsnnError
from hwsnn.io import RunFolder, to_jsonable

__all__ = ["add_output_args", "add_seed_arg", "add_progress_arg", "prepare_out", "out_dir", "open_run_folder",
           "emit_json", "progress", "not_yet", "require_file", "read_text", "read_json", "read_toml_tables", "check_csv",
           "int_in", "float_in", "flag_error", "PROGRESS_HELP", "MAX_WORKERS", "add_executor_args"]

PROGRESS_HELP = ("progress bars go to stderr; when stderr is not a terminal they are plain lines every 30 s; "
                 "--no-progress or HWSNN_PROGRESS=0 turns them off")


# ---------------------------------------------------------------------------------------------- arguments
def add_output_args(p: argparse.ArgumentParser, default_out: str | None = None) -> None:
    """``--out DIR`` (results folder) and ``--json`` (summary as the last stdout line)."""
    p.add_argument("--out", metavar="DIR", default=default_out, help="write results (JSON + PNG) to this folder")
    p.add_argument("--json", action="store_true", help="print one JSON summary object as the last line of stdout")


def add_seed_arg(p: argparse.ArgumentParser, default: int = 0) -> None:
    p.add_argument("--seed", type=int_in(0, 2**32 - 1), default=default, help=f"random seed (default {default})")


def add_progress_arg(p: argparse.ArgumentParser) -> None:
    """``--no-progress``: no progress bars (same as ``HWSNN_PROGRESS=0``)."""
    p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr (same as HWSNN_PROGRESS=0; "
                                                              "when stderr is not a terminal they are plain lines "
                                                              "every 30 s)")


MAX_WORKERS = 1024
"""Largest ``--workers`` / ``--dask-local`` / ``--threads`` accepted (a typo, not a machine)."""


def add_executor_args(p: argparse.ArgumentParser, *, workers_help: str, threads_help: str | None = None) -> None:
    """``--workers N``, ``--scheduler ADDRESS``, ``--dask-local N`` (and ``--threads N`` when
    ``threads_help`` is given) of the commands that run on the sweep executor, bounded by
    :data:`MAX_WORKERS`."""
    p.add_argument("--workers", type=int_in(0, MAX_WORKERS), metavar="N", help=workers_help)
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster (tcp://host:8786)")
    p.add_argument("--dask-local", type=int_in(1, MAX_WORKERS), metavar="N",
                   help="start a local Dask cluster of N worker processes")
    if threads_help is not None:
        p.add_argument("--threads", type=int_in(1, MAX_WORKERS), metavar="N", help=threads_help)


def int_in(lo: int | None = None, hi: int | None = None):
    """An argparse ``type=`` for an integer in ``[lo, hi]`` (None: unbounded on that side).

    ``"1e9"`` is accepted when it is a whole number (then range-checked); the error names the flag
    (argparse adds ``argument --cycles:``).
    """

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
            if not f.is_integer():
                raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
            v = int(f)
        if lo is not None and v < lo:
            raise argparse.ArgumentTypeError(f"must be >= {lo}, got {text}")
        if hi is not None and v > hi:
            raise argparse.ArgumentTypeError(f"must be <= {hi:,}, got {text}")
        return v

    parse.__name__ = "integer"
    return parse


def float_in(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False):
    """An argparse ``type=`` for a finite number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if v != v or v in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"must be finite, got {text}")
        if lo is not None and (v <= lo if lo_open else v < lo):
            raise argparse.ArgumentTypeError(f"must be {'>' if lo_open else '>='} {lo:g}, got {text}")
        if hi is not None and v > hi:
            raise argparse.ArgumentTypeError(f"must be <= {hi:g}, got {text}")
        return v

    parse.__name__ = "number"
    return parse


def flag_error(exc: ConfigError, flags: dict[str, str]) -> ConfigError:
    """``exc`` re-labelled with the command-line flag that set its field (``flags``: dotted path ->
    flag), e.g. ``task.n_test`` -> ``--n-test (task.n_test)``; unchanged if no flag set it."""
    field = exc.field
    for dotted, flag in flags.items():
        if field == dotted or field.startswith(dotted + "[") or field.startswith(dotted + "."):
            return ConfigError(f"{flag} ({field})", exc.message)
    return exc


# ---------------------------------------------------------------------------------------------- output
def prepare_out(path: str | os.PathLike, flag: str = "--out") -> Path:
    """Create the output folder ``path`` (and its parents) and check it is writable.

    Raises :class:`ConfigError` naming ``flag`` when ``path`` is an existing file, cannot be
    created (read-only or virtual file system such as ``/proc``, permission denied) or cannot
    be written.
    """
    p = Path(path)
    if str(path) == "":
        raise ConfigError(flag, "must not be empty")
    if p.exists() and not p.is_dir():
        raise ConfigError(flag, f"{p} exists and is not a folder")
    for parent in p.parents:
        if parent.exists() and not parent.is_dir():
            raise ConfigError(flag, f"cannot create {p}: {parent} is a file, not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(flag, f"cannot create the folder {p}: {exc.strerror or exc}") from None
    probe = p / f".hwsnn-write-test-{os.getpid()}"
    try:
        with open(probe, "w", encoding="utf-8") as fh:
            fh.write("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(flag, f"cannot write into {p}: {exc.strerror or exc}") from None
    return p


def out_dir(args, default: str) -> Path:
    """The results folder: ``--out`` if given, else ``default``; validated and created."""
    out = getattr(args, "out", None)
    return prepare_out(out if out is not None else default)


def open_run_folder(args, default: str) -> RunFolder:
    """A :class:`hwsnn.io.RunFolder` on ``--out`` (or ``default``), validated now; enter it with
    ``with`` around the work (manifest + completion marker at the end)."""
    return RunFolder(out_dir(args, default), argv=getattr(args, "_argv", None))


def emit_json(args, summary: dict[str, Any]) -> None:
    """Print ``summary`` as one compact JSON line if ``--json`` was given."""
    if getattr(args, "json", False):
        sys.stdout.flush()
        print(json.dumps(to_jsonable(summary), separators=(",", ":")))


# ---------------------------------------------------------------------------------------------- input files
def require_file(path: str, field: str) -> Path:
    """``path`` as a Path; :class:`ConfigError` naming ``field`` if it is not an existing file."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(field, f"{path} is a folder, not a file")
    if not p.is_file():
        raise ConfigError(field, f"file not found: {path}")
    return p


def read_text(path: str | os.PathLike, field: str) -> str:
    """The UTF-8 text of the file ``path`` (a leading BOM dropped); errors name ``field`` and, for
    non-UTF-8 bytes, the line and column."""
    p = require_file(str(path), field)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(field, f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(field, f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}, "
                                 f"column {col}); save it as UTF-8") from None
    return text.removeprefix("\ufeff")


def read_json(path: str | os.PathLike, field: str, kind: type = dict) -> Any:
    """Parse the UTF-8 JSON file ``path``; the top level must be a ``kind`` (default an object)."""
    text = read_text(path, field)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(field, f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, kind):
        raise ConfigError(field, f"{path} must hold a JSON {'object' if kind is dict else kind.__name__}, "
                                 f"got {type(data).__name__}")
    return data


def read_toml_tables(path: str | os.PathLike, field: str, sections: Iterable[str]) -> dict[str, Any]:
    """Parse the TOML file ``path``; each of ``sections`` that is present must be a table.

    Errors: :class:`ConfigError` naming ``field`` (unreadable, not UTF-8, not TOML) or the
    section (``network: must be a table, got 5``).
    """
    from hwsnn.config import read_toml

    read_text(path, field)  # existence and encoding, named with this command's field
    try:
        data = read_toml(path)
    except ConfigError as exc:
        raise ConfigError(field, exc.message) from None
    for name in sections:
        if name in data and not isinstance(data[name], dict):
            from hwsnn.config.errors import show_value

            raise ConfigError(name, f"must be a table ([{name}]), got {show_value(data[name])}")
    return data


def check_csv(path: str | os.PathLike, field: str, columns: Iterable[str]) -> int:
    """Check a CSV file: UTF-8, a header with ``columns``, and every row with a non-empty value in
    each of them and no extra fields.  Returns the number of data rows (at least one)."""
    columns = list(columns)
    text = read_text(path, field)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ConfigError(field, f"{path} is not valid CSV: {exc}") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ConfigError(field, f"{path} is empty (expected the header {','.join(columns)})")
    header = [c.strip().lower() for c in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ConfigError(field, f"{path}: header lacks column {missing[0]!r} (expected {','.join(columns)})")
    idx = {c: header.index(c) for c in columns}
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) > len(header):
            raise ConfigError(field, f"{path}:{lineno}: {len(row)} fields, the header has {len(header)}")
        for c in columns:
            if idx[c] >= len(row) or not row[idx[c]].strip():
                raise ConfigError(c, f"{path}:{lineno}: missing value in column {c!r}")
    if len(rows) < 2:
        raise ConfigError(field, f"{path}: no data rows after the header")
    return len(rows) - 1


# ---------------------------------------------------------------------------------------------- progress
_PROGRESS_OFF = False
"""Set by ``--no-progress`` (see :func:`set_progress`)."""


def set_progress(enabled: bool) -> None:
    """Turn progress bars on or off for this process (``--no-progress``)."""
    global _PROGRESS_OFF
    _PROGRESS_OFF = not enabled


class _PlainLines:
    """A file for tqdm when stderr is not a terminal: each refresh is one plain line (no ``\\r``)."""

    def __init__(self, fh):
        self._fh = fh
        self._last = ""

    def write(self, s: str) -> int:
        line = s.replace("\r", "").replace("\x1b[A", "").strip()
        if line and line != self._last:
            self._fh.write(line + "\n")
            self._last = line
        return len(s)

    def flush(self) -> None:
        self._fh.flush()


def progress(iterable: Iterable | None = None, **kwargs):
    """A progress bar on stderr: tqdm on a terminal, plain lines every 30 s otherwise, nothing with
    ``--no-progress`` / ``HWSNN_PROGRESS=0`` (``HWSNN_PROGRESS=1`` forces the terminal bar)."""
    from tqdm import tqdm

    env = os.environ.get("HWSNN_PROGRESS", "").strip().lower()
    disable = _PROGRESS_OFF or env in ("0", "off", "false", "no")
    fh = kwargs.pop("file", sys.stderr)
    tty = env in ("1", "on", "true", "yes") or (hasattr(fh, "isatty") and fh.isatty())
    if tty:
        kwargs.setdefault("dynamic_ncols", True)
        kwargs.setdefault("mininterval", 0.5)
    else:
        fh = _PlainLines(fh)
        kwargs.setdefault("mininterval", 30.0)
        kwargs.setdefault("bar_format", "{desc}: {n_fmt}/{total_fmt} ({percentage:3.0f}%) elapsed {elapsed}, "
                                        "remaining {remaining}")
    return tqdm(iterable, disable=disable, file=fh, **kwargs)


def not_yet(command: str, issue: str):
    """Build a ``func`` for a subcommand whose implementation has not landed: says so, exits 3."""

    def _func(args) -> int:
        print(
            f"hwsnn {command}: not available yet - it is tracked in {issue} and has not landed on main.",
            file=sys.stderr,
        )
        return 3

    return _func


_ = HwsnnError  # re-exported for subcommand modules
