"""``hwsnn doctor``: toolchain status, one line per item (OK, or the reason and the fix)."""

from __future__ import annotations

from hwsnn.cli.common import add_output_args, emit_json


def register(sub) -> None:
    p = sub.add_parser("doctor", help="report the toolchain: packages, simulators, Yosys/nextpnr, Numba threading")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object as the last line")
    p.set_defaults(func=run)


def run(args) -> int:
    from hwsnn.toolchain import doctor_report

    rep = doctor_report()
    for ln in rep["lines"]:
        print(ln)
    emit_json(args, {k: v for k, v in rep.items() if k != "lines"})
    return 0 if rep["ok"] else 1
