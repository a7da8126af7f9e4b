"""Helpers shared by the subcommands: output folder, ``--json`` line, progress bars."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterable

from hwsnn.errors import ConfigError, HwsnnError
from hwsnn.io import to_jsonable

__all__ = ["add_output_args", "out_dir", "emit_json", "progress", "not_yet", "add_seed_arg"]


def add_output_args(p: argparse.ArgumentParser, default_out: str | None = None) -> None:
    """``--out DIR`` (results folder) and ``--json`` (summary as the last stdout line)."""
    p.add_argument("--out", metavar="DIR", default=default_out, help="write results (JSON + PNG) to this folder")
    p.add_argument("--json", action="store_true", help="print one JSON summary object as the last line of stdout")


def add_seed_arg(p: argparse.ArgumentParser, default: int = 0) -> None:
    p.add_argument("--seed", type=int, default=default, help=f"random seed (default {default})")


def out_dir(args, default: str) -> Path:
    """The results folder: ``--out`` if given, else ``default``; created if missing."""
    path = Path(args.out if getattr(args, "out", None) else default)
    if path.exists() and not path.is_dir():
        raise ConfigError("--out", f"{path} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def emit_json(args, summary: dict[str, Any]) -> None:
    """Print ``summary`` as one compact JSON line if ``--json`` was given."""
    if getattr(args, "json", False):
        sys.stdout.flush()
        print(json.dumps(to_jsonable(summary), separators=(",", ":")))


def progress(iterable: Iterable | None = None, **kwargs):
    """A tqdm progress bar on stderr (quiet when stderr is not a terminal and HWSNN_PROGRESS=0)."""
    import os

    from tqdm.auto import tqdm

    disable = os.environ.get("HWSNN_PROGRESS", "") == "0"
    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault("mininterval", 0.5)
    return tqdm(iterable, disable=disable, **kwargs)


def not_yet(command: str, issue: str):
    """Build a ``func`` for a subcommand whose implementation has not landed: says so, exits 3."""

    def _func(args) -> int:
        print(
            f"hwsnn {command}: not available yet - it is tracked in {issue} and has not landed on main.",
            file=sys.stderr,
        )
        return 3

    return _func


def require_file(path: str, field: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(field, f"file not found: {path}")
    return p


__all__.append("require_file")
_ = HwsnnError  # re-exported for subcommand modules
