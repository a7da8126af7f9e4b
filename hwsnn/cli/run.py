"""`hwsnn run`: not implemented yet; says so and exits non-zero."""

from __future__ import annotations

from hwsnn.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("run", help="(run: not available yet)", description="Not available yet: tracked in issue #4 (SNN engine and crossbar learning).")
    p.add_argument("rest", nargs="*", help="ignored")
    p.set_defaults(func=not_yet("run", "issue #4 (SNN engine and crossbar learning)"))
