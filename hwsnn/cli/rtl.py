"""``hwsnn rtl generate|verify|report``: Verilog export, cocotb verification, FPGA estimates.

``verify`` passes only when every requested (unit, simulator) pair checked at least one cycle
bit-exactly: a simulator that is not installed checks nothing, and that is an error (exit 2),
not a pass.  The summary says per simulator what ran (units, cycles) and why anything did not.
Exit codes: 0 all checked and equal, 1 a mismatch, 2 nothing / not everything checked.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from hwsnn.cli.common import (add_output_args, add_progress_arg, emit_json, int_in, open_run_folder, prepare_out,
                              progress)
from hwsnn.io import write_json

MAX_CYCLES = 10_000_000
"""Largest ``--cycles`` of ``rtl verify`` (per unit and simulator; Icarus runs some 10^4 cycles/s)."""

DEFAULT_RTL_DIR = Path(__file__).resolve().parents[2] / "rtl"


def register(sub) -> None:
    p = sub.add_parser("rtl", help="generate Verilog, verify it against the golden model, report FPGA resources")
    rs = p.add_subparsers(dest="rtl_command", metavar="ACTION", required=True)

    g = rs.add_parser("generate", help="write rtl/<unit>.v for every unit (default parameters)")
    g.add_argument("--out", metavar="DIR", default=None, help="output folder (default: the repository's rtl/)")
    g.add_argument("--unit", action="append", help="only this unit (repeatable)")
    g.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    g.set_defaults(func=_generate)

    v = rs.add_parser("verify", help="run the cocotb benches (bit-exact vs the golden model)")
    v.add_argument("--sim", choices=["verilator", "icarus", "both"], default="both")
    v.add_argument("--cycles", type=int_in(1, MAX_CYCLES), default=20000,
                   help=f"checked cycles per unit per simulator (default 20000, at most {MAX_CYCLES:,})")
    v.add_argument("--seed", type=int_in(0, 2**32 - 1), default=1)
    v.add_argument("--unit", action="append", help="only this unit (repeatable)")
    add_output_args(v)
    add_progress_arg(v)
    v.set_defaults(func=_verify)

    r = rs.add_parser("report", help="iCE40 HX8K resources and fmax (Yosys + nextpnr)")
    r.add_argument("--unit", action="append", help="only this unit (repeatable)")
    add_output_args(r)
    r.set_defaults(func=_report)


def _generate(args) -> int:
    from hwsnn.hw.export import generate
    from hwsnn.hw.registry import get

    for u in args.unit or []:
        get(u, field="--unit")
    out = prepare_out(args.out) if args.out is not None else DEFAULT_RTL_DIR
    files = generate(out, units=args.unit)
    for f in files:
        print(f"wrote {f}")
    emit_json(args, {"files": [str(f) for f in files]})
    return 0


def per_simulator(rows: list[dict], sims: list[str], units: list[str]) -> dict[str, dict]:
    """What ran on each simulator: units checked, cycles checked, failures, and the units that
    checked nothing with the reason."""
    out = {}
    for sim in sims:
        mine = [r for r in rows if r["sim"] == sim]
        checked = [r["unit"] for r in mine if r["status"] == "PASS" and r["cycles"] > 0]
        failed = [r["unit"] for r in mine if r["status"] == "FAIL"]
        nothing = {r["unit"]: r.get("reason") or "0 cycles checked" for r in mine
                   if r["status"] != "FAIL" and not (r["status"] == "PASS" and r["cycles"] > 0)}
        nothing.update({u: "not run" for u in units if u not in {r["unit"] for r in mine}})
        out[sim] = {"units_checked": checked, "cycles_checked": sum(r["cycles"] for r in mine), "failed": failed,
                    "not_checked": nothing}
    return out


def _verify(args) -> int:
    import sys

    from hwsnn.hw.registry import get, names
    from hwsnn.hw.verify import verify

    sims = ["verilator", "icarus"] if args.sim == "both" else [args.sim]
    units = args.unit or names()
    for u in units:
        get(u, field="--unit")
    rf = open_run_folder(args, args.out) if args.out is not None else None
    with rf if rf is not None else contextlib.nullcontext():
        bar = progress(total=len(sims) * len(units), desc="rtl verify", unit="bench")
        rows = verify(units=units, sims=sims, cycles=args.cycles, seed=args.seed, on_result=lambda r: bar.update(1))
        bar.close()
        print(f"{'unit':<14} {'sim':<10} {'status':<6} {'cycles':>9} {'seconds':>8} {'cycles/s':>9}")
        for r in rows:
            print(f"{r['unit']:<14} {r['sim']:<10} {r['status']:<6} {r['cycles']:>9} {r.get('seconds', 0):>8} "
                  f"{r.get('cycles_per_s', 0):>9}")
            if r["status"] == "FAIL":
                print(f"  first mismatch: {r.get('mismatch') or r.get('reason')}")
                if r.get("log_tail"):
                    print("  " + r["log_tail"].replace("\n", "\n  "))
            elif r["status"] == "SKIP":
                print(f"  skipped: {r['reason']}")
        sim_rows = per_simulator(rows, sims, units)
        for sim, d in sim_rows.items():
            print(f"{sim}: {len(d['units_checked'])}/{len(units)} units checked, {d['cycles_checked']} cycles"
                  + (f", {len(d['failed'])} failed" if d["failed"] else "")
                  + (f"; not checked: {', '.join(d['not_checked'])}" if d["not_checked"] else ""))
        failed = any(r["status"] == "FAIL" for r in rows)
        unchecked = []
        for sim, d in sim_rows.items():
            reasons = set(d["not_checked"].values())
            if d["not_checked"] and len(reasons) == 1:
                which = "no unit" if len(d["not_checked"]) == len(units) else ", ".join(d["not_checked"])
                unchecked.append(f"{sim}: {which} checked ({reasons.pop()})")
            else:
                unchecked += [f"{sim}: {u} not checked ({why})" for u, why in d["not_checked"].items()]
        summary = {
            "passed": not failed and not unchecked,
            "complete": not unchecked,
            "per_simulator": sim_rows,
            "rows": [{k: v for k, v in r.items() if k != "log_tail"} for r in rows],
            "cycles_checked": sum(r["cycles"] for r in rows),
        }
        if unchecked:
            what = "nothing was checked" if summary["cycles_checked"] == 0 else "not everything was checked"
            summary["error"] = f"{what} - " + "; ".join(unchecked)
        if rf is not None:
            write_json(rf.path / "rtl_verify.json", summary)
    emit_json(args, summary)
    if failed:
        return 1
    if unchecked:
        print(f"hwsnn rtl verify: error: {summary['error']} - install the simulator (`hwsnn doctor`) or choose "
              f"another with --sim", file=sys.stderr)
        return 2
    return 0


def _report(args) -> int:
    from hwsnn.hw.registry import get
    from hwsnn.hw.synth import report

    for u in args.unit or []:
        get(u, field="--unit")
    rf = open_run_folder(args, args.out) if args.out is not None else None
    if rf is None:
        return _report_body(args, report, None)
    with rf:
        return _report_body(args, report, rf.path)


def _report_body(args, report, dest) -> int:
    rep = report(units=args.unit)
    rows = rep["rows"] if isinstance(rep, dict) and "rows" in rep else rep
    print(f"{'unit':<14} {'LUT4':>6} {'CARRY':>6} {'FF':>5} {'BRAM':>5} {'LC':>5} {'fmax MHz':>9}")
    for r in rows:
        lc = f"{r.get('lc', 0)}{'*' if r.get('lc_includes_harness') else ''}"
        print(f"{r['unit']:<14} {r['lut4']:>6} {r['carry']:>6} {r['ff']:>5} {r.get('bram', 0):>5} {lc:>5} {r['fmax_mhz']:>9.1f}")
    if any(r.get("lc_includes_harness") for r in rows):
        print("* LC of the serial I/O harness placement (the unit has more I/O bits than the package has pins)")
    if dest is not None:
        write_json(dest / "rtl_report.json", rep)
    emit_json(args, rep)
    return 0
