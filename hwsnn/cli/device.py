"""`hwsnn device`: not implemented yet; says so and exits non-zero."""

from __future__ import annotations

from hwsnn.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("device", help="(device: not available yet)", description="Not available yet: tracked in issue #3 (device physics).")
    p.add_argument("rest", nargs="*", help="ignored")
    p.set_defaults(func=not_yet("device", "issue #3 (device physics)"))
