"""Result files and result folders.

* :func:`atomic_write` (and :func:`write_json`, :func:`write_text`, :func:`save_figure`): a result
  file is either complete or absent, never half-written.  The temporary file lives next to the
  target, is named ``.<name>.<random>.hwsnn-tmp<suffix>`` and is created with mode ``0o666``
  masked by the process umask (``0o644`` under the usual umask 022), like any file ``open()``
  creates.
* :class:`RunFolder`: a results folder that is either complete or visibly incomplete.  Opening it
  removes a previous run's ``manifest.json``, deletes leftover temporary files (of an interrupted
  or killed earlier run) and writes the marker file ``INCOMPLETE``; finishing it writes
  ``manifest.json`` (every file with its size and SHA-256, plus provenance) and only then removes
  ``INCOMPLETE``.  An interrupted run (Ctrl-C, an error, SIGKILL) therefore never leaves a folder
  that looks finished; :func:`check_run_folder` says whether a folder is complete and intact.
* :func:`provenance`: hwsnn version, git commit (when available), command line, Python, time.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = ["atomic_write", "fsync_path", "write_json", "write_text", "save_figure", "to_jsonable", "RunFolder",
           "check_run_folder", "provenance", "MANIFEST", "INCOMPLETE", "TMP_MARK"]

MANIFEST = "manifest.json"
"""Name of the completion manifest of a :class:`RunFolder` (written last)."""
INCOMPLETE = "INCOMPLETE"
"""Name of the marker file present while a run is in progress or after it was interrupted."""
TMP_MARK = ".hwsnn-tmp"
"""Part of every temporary file name written by :func:`atomic_write`."""
LOCK = ".hwsnn.lock"
"""Lock file that keeps two runs from writing into the same folder at once."""


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TMP_MARK}{path.suffix}")


def atomic_write(path: str | os.PathLike, writer: Callable[[str], None], *, fsync: bool = False) -> Path:
    """Call ``writer(tmp_path)`` then rename ``tmp_path`` onto ``path`` atomically.

    The temporary file is created empty (``O_EXCL``, mode ``0o666`` minus the umask) in the
    destination directory, so the final ``os.replace`` never crosses a file system and the result
    has normal permissions.  On any exception the temporary file is removed and ``path`` is left
    as it was.  With ``fsync`` the file's data is flushed to disk before the rename and the
    directory entry after it, so the file also survives a power loss or a killed machine (the
    sweep store's points, which a resumed sweep trusts).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = _tmp_name(path)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
    os.close(fd)
    try:
        writer(str(tmp))
        if fsync:
            fsync_path(tmp, os.O_RDONLY)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if fsync:
        fsync_path(path.parent, os.O_RDONLY)
    return path


def fsync_path(path: str | os.PathLike, flags: int = os.O_RDONLY) -> None:
    """Flush a file's (or a directory's entries') data to disk."""
    try:
        fd = os.open(path, flags)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, dataclasses, paths and tuples to plain JSON values.

    Non-finite floats are rejected: a silent NaN in a result file is a bug we want to see.
    """
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        if not math.isfinite(f):
            raise ValueError(f"refusing to write non-finite value {f!r} to a result file")
        return f
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(to_jsonable(data), indent=2, sort_keys=False) + "\n"
    return write_text(path, text)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write text atomically."""

    def _w(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    return atomic_write(path, _w)


def save_figure(fig, path: str | os.PathLike, **kwargs) -> Path:
    """Save a matplotlib figure atomically (PNG by default) and close it."""
    import matplotlib.pyplot as plt

    fmt = Path(path).suffix.lstrip(".") or "png"
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=kwargs.pop("dpi", 110), **kwargs))
    finally:
        plt.close(fig)


# ---------------------------------------------------------------------------------------------- provenance
def _version() -> str:
    from hwsnn import __version__

    return __version__


def _git_commit() -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the checkout hwsnn is imported from, or None (not a checkout, no git)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty} if commit else None


def provenance(argv: list[str] | None = None) -> dict[str, Any]:
    """Where a result came from: hwsnn version, git commit (None outside a checkout or without git),
    the command line (``argv``, default ``sys.argv[1:]``), Python version, host time (UTC)."""
    args = list(sys.argv[1:] if argv is None else argv)
    git = _git_commit()
    return {
        "hwsnn_version": _version(),
        "git_commit": git["commit"] if git else None,
        "git_dirty": git["dirty"] if git else None,
        "command": " ".join(["hwsnn", *(_quote(a) for a in args)]),
        "argv": args,
        "python": sys.version.split()[0],
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _quote(a: str) -> str:
    import shlex

    return shlex.quote(a)


# ---------------------------------------------------------------------------------------------- run folders
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _is_bookkeeping(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return rel in (MANIFEST, INCOMPLETE, LOCK) or TMP_MARK in name


def _listing(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and not p.is_symlink() and not _is_bookkeeping(rel):
            rows.append({"path": rel, "bytes": p.stat().st_size, "sha256": _sha256(p)})
    return rows


class RunFolder:
    """A results folder that is complete (``manifest.json``, no ``INCOMPLETE``) or visibly not.

    Use as a context manager around all the work of a command::

        with RunFolder(path, argv=argv) as folder:
            write_json(folder.path / "metrics.json", metrics)

    On entry the folder is created, locked against a concurrent run, cleaned of leftover
    temporary files and of a previous ``manifest.json``, and ``INCOMPLETE`` is written.  On a
    normal exit ``manifest.json`` is written (files, sizes, SHA-256, :func:`provenance`, ``extra``)
    and ``INCOMPLETE`` removed; on an exception ``INCOMPLETE`` is rewritten with the reason.

    Parameters
    ----------
    path : path-like
        The folder (created if missing).
    argv : list of str, optional
        The command line recorded in the manifest (default ``sys.argv[1:]``).
    """

    def __init__(self, path: str | os.PathLike, argv: list[str] | None = None):
        self.path = Path(path)
        self.argv = argv
        self.extra: dict[str, Any] = {}
        self.cleaned: list[str] = []
        self._lock = None
        self.started = ""

    def __enter__(self) -> RunFolder:
        from filelock import FileLock, Timeout

        from hwsnn.errors import HwsnnError

        self.path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path / LOCK))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise HwsnnError(f"{self.path} is being written by another hwsnn run (lock {LOCK})") from None
        self._lock = lock
        self.started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        try:
            for p in sorted(self.path.rglob(f"*{TMP_MARK}*")):
                if p.is_file():
                    p.unlink()
                    self.cleaned.append(p.relative_to(self.path).as_posix())
            (self.path / MANIFEST).unlink(missing_ok=True)
            write_text(self.path / INCOMPLETE, self._marker("in progress (or the process was killed)"))
        except BaseException:
            self._release()
            raise
        return self

    def _marker(self, state: str) -> str:
        return (f"This folder is NOT a complete hwsnn result: {state}.\n"
                f"pid {os.getpid()}, started {self.started}\n"
                f"command: {provenance(self.argv)['command']}\n")

    def finish(self) -> Path:
        """Write ``manifest.json`` (the completion marker), then remove ``INCOMPLETE``."""
        manifest = {"complete": True, **provenance(self.argv), **self.extra, "files": _listing(self.path)}
        out = write_json(self.path / MANIFEST, manifest)
        (self.path / INCOMPLETE).unlink(missing_ok=True)
        return out

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is None:
                self.finish()
            else:
                from hwsnn.errors import is_interrupt

                why = "interrupted (Ctrl-C)" if issubclass(exc_type, KeyboardInterrupt) or is_interrupt(exc) else \
                    f"the run failed ({exc_type.__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
                try:
                    write_text(self.path / INCOMPLETE, self._marker(why))
                except OSError:  # pragma: no cover - the marker from __enter__ stays
                    pass
        finally:
            self._release()
        return False


def check_run_folder(path: str | os.PathLike) -> list[str]:
    """Problems of a results folder (an empty list: complete and intact).

    A folder is complete when ``manifest.json`` exists, ``INCOMPLETE`` does not, and every file
    the manifest lists has its recorded size and SHA-256.
    """
    folder = Path(path)
    problems = []
    if (folder / INCOMPLETE).exists():
        problems.append(f"{INCOMPLETE} marker present")
    m = folder / MANIFEST
    if not m.is_file():
        return problems + [f"no {MANIFEST}"]
    try:
        manifest = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return problems + [f"{MANIFEST} unreadable: {exc}"]
    for row in manifest.get("files", []):
        p = folder / row["path"]
        if not p.is_file():
            problems.append(f"{row['path']}: missing")
        elif p.stat().st_size != row["bytes"] or _sha256(p) != row["sha256"]:
            problems.append(f"{row['path']}: changed since the run finished")
    return problems
