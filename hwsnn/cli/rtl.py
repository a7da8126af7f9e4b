"""``hwsnn rtl generate|verify|report``: Verilog export, cocotb verification, FPGA estimates."""

from __future__ import annotations

from pathlib import Path

from hwsnn.cli.common import add_output_args, emit_json, out_dir, progress
from hwsnn.errors import ConfigError
from hwsnn.io import write_json

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
    v.add_argument("--cycles", type=int, default=20000, help="checked cycles per unit per simulator (default 20000)")
    v.add_argument("--seed", type=int, default=1)
    v.add_argument("--unit", action="append", help="only this unit (repeatable)")
    add_output_args(v)
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
    out = Path(args.out) if args.out else DEFAULT_RTL_DIR
    files = generate(out, units=args.unit)
    for f in files:
        print(f"wrote {f}")
    emit_json(args, {"files": [str(f) for f in files]})
    return 0


def _verify(args) -> int:
    from hwsnn.hw.verify import verify

    if args.cycles < 1:
        raise ConfigError("--cycles", f"must be >= 1, not {args.cycles}")
    sims = ["verilator", "icarus"] if args.sim == "both" else [args.sim]
    from hwsnn.hw.registry import get, names

    units = args.unit or names()
    for u in units:
        get(u, field="--unit")
    bar = progress(total=len(sims) * len(units), desc="rtl verify", unit="bench")
    rows = verify(units=units, sims=sims, cycles=args.cycles, seed=args.seed, on_result=lambda r: bar.update(1))
    bar.close()
    print(f"{'unit':<14} {'sim':<10} {'status':<6} {'cycles':>9} {'seconds':>8} {'cycles/s':>9}")
    for r in rows:
        print(f"{r['unit']:<14} {r['sim']:<10} {r['status']:<6} {r['cycles']:>9} {r.get('seconds', 0):>8} {r.get('cycles_per_s', 0):>9}")
        if r["status"] == "FAIL":
            print(f"  first mismatch: {r.get('mismatch') or r.get('reason')}")
            if r.get("log_tail"):
                print("  " + r["log_tail"].replace("\n", "\n  "))
        elif r["status"] == "SKIP":
            print(f"  skipped: {r['reason']}")
    summary = {
        "passed": all(r["status"] != "FAIL" for r in rows),
        "rows": [{k: v for k, v in r.items() if k != "log_tail"} for r in rows],
        "cycles_checked": sum(r["cycles"] for r in rows),
    }
    if args.out:
        write_json(out_dir(args, args.out) / "rtl_verify.json", summary)
    emit_json(args, summary)
    return 0 if summary["passed"] else 1


def _report(args) -> int:
    from hwsnn.hw.synth import report

    rep = report(units=args.unit)
    rows = rep["rows"] if isinstance(rep, dict) and "rows" in rep else rep
    print(f"{'unit':<14} {'LUT4':>6} {'CARRY':>6} {'FF':>5} {'BRAM':>5} {'LC':>5} {'fmax MHz':>9}")
    for r in rows:
        lc = f"{r.get('lc', 0)}{'*' if r.get('lc_includes_harness') else ''}"
        print(f"{r['unit']:<14} {r['lut4']:>6} {r['carry']:>6} {r['ff']:>5} {r.get('bram', 0):>5} {lc:>5} {r['fmax_mhz']:>9.1f}")
    if any(r.get("lc_includes_harness") for r in rows):
        print("* LC of the serial I/O harness placement (the unit has more I/O bits than the package has pins)")
    if args.out:
        write_json(out_dir(args, args.out) / "rtl_report.json", rep)
    emit_json(args, rep)
    return 0
