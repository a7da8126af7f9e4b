"""The ``hwsnn`` command line (reference: docs/cli.md, generated from these parsers).

Each subcommand lives in its own module ``hwsnn.cli.<name>`` exposing
``register(subparsers)``; the module adds its parser and sets ``func`` to a callable
``func(args) -> int``.  User mistakes raise :class:`hwsnn.errors.HwsnnError` and are printed as
one line, never as a traceback; so are argument errors (:class:`OneLineParser`) and
operating-system errors such as a full disk (set ``HWSNN_DEBUG=1`` to see the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from hwsnn import __version__
from hwsnn.errors import HwsnnError, is_interrupt

__all__ = ["main", "build_parser", "COMMANDS"]

COMMANDS = ["run", "sweep", "compare", "stl", "ecg", "pdlf", "plot", "device", "rtl", "cosim", "bench", "doctor"]
"""Subcommand modules, in the order ``--help`` lists them."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``hwsnn run: error: argument --n-exc: ...``)
    pointing at ``--help``, instead of the usage block; subcommand parsers inherit it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


EPILOG = """environment:
  HWSNN_PROGRESS=0   no progress bars (same as --no-progress); =1 forces terminal-style bars.
                     When stderr is not a terminal, progress is a plain line every 30 s.
  HWSNN_DEBUG=1      show the Python traceback of an error instead of one line.
  HWSNN_COMPILE_NOTICE=0  no "compiling kernels, first run only" line on a cold Numba cache."""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="hwsnn",
        description="Memristor/FPGA co-simulation of spiking networks that learn with local plasticity.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hwsnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"hwsnn.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from hwsnn.cli.common import set_progress

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or an argument error (already printed as one line)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    args._argv = argv
    os.environ.setdefault("HWSNN_COMPILE_NOTICE", "1")  # "compiling kernels, first run only" (hwsnn.engine.kernel)
    set_progress(not getattr(args, "no_progress", False))
    debug = os.environ.get("HWSNN_DEBUG", "") not in ("", "0")
    try:
        rc = args.func(args)
    except HwsnnError as exc:
        if debug:
            raise
        print(f"hwsnn {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hwsnn {args.command}: interrupted", file=sys.stderr)
        return 130
    except SystemError as exc:
        if debug or not is_interrupt(exc):  # Ctrl-C inside a compiled function
            raise
        print(f"hwsnn {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if debug:
            raise
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"hwsnn {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    finally:
        set_progress(True)
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
