"""`hwsnn cosim`: not implemented yet; says so and exits non-zero."""

from __future__ import annotations

from hwsnn.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("cosim", help="(cosim: not available yet)", description="Not available yet: tracked in the co-simulation issue (RTL core with the crossbar in the loop).")
    p.add_argument("rest", nargs="*", help="ignored")
    p.set_defaults(func=not_yet("cosim", "the co-simulation issue (RTL core with the crossbar in the loop)"))
