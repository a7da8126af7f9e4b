"""The ``hwsnn`` command line (reference: docs/cli.md, generated from these parsers).

Each subcommand lives in its own module ``hwsnn.cli.<name>`` exposing
``register(subparsers)``; the module adds its parser and sets ``func`` to a callable
``func(args) -> int``.  User mistakes raise :class:`hwsnn.errors.HwsnnError` and are printed as
one line, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from hwsnn import __version__
from hwsnn.errors import HwsnnError

__all__ = ["main", "build_parser", "COMMANDS"]

COMMANDS = ["run", "sweep", "plot", "device", "rtl", "cosim", "bench", "doctor"]
"""Subcommand modules, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hwsnn",
        description="Memristor/FPGA co-simulation of spiking networks that learn with local plasticity.",
    )
    parser.add_argument("--version", action="version", version=f"hwsnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"hwsnn.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        rc = args.func(args)
    except HwsnnError as exc:
        print(f"hwsnn {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hwsnn {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
