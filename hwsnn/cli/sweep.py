"""`hwsnn sweep`: not implemented yet; says so and exits non-zero."""

from __future__ import annotations

from hwsnn.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("sweep", help="(sweep: not available yet)", description="Not available yet: tracked in the sweep issue (device non-ideality sweeps at scale).")
    p.add_argument("rest", nargs="*", help="ignored")
    p.set_defaults(func=not_yet("sweep", "the sweep issue (device non-ideality sweeps at scale)"))
