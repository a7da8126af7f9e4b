"""`hwsnn bench`: not implemented yet; says so and exits non-zero."""

from __future__ import annotations

from hwsnn.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("bench", help="(bench: not available yet)", description="Not available yet: tracked in issues #3/#4 (benchmark harness).")
    p.add_argument("rest", nargs="*", help="ignored")
    p.set_defaults(func=not_yet("bench", "issues #3/#4 (benchmark harness)"))
