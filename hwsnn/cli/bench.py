"""``hwsnn bench SUITE``: performance measured side by side with its comparison, as ratios.

Results go to ``--out DIR`` (default ``runs/bench``, with ``manifest.json`` written last).  The
figures committed with the repository (``benchmarks/results/``) are only rewritten with
``--update-committed``; an ``--out`` pointing there without that flag is refused.
"""

from __future__ import annotations

import importlib
import time

import contextlib
from pathlib import Path

from hwsnn.cli.common import add_output_args, emit_json, open_run_folder, prepare_out
from hwsnn.errors import ConfigError
from hwsnn.io import write_json

DEFAULT_OUT = "runs/bench"
"""Default results folder of ``hwsnn bench`` (relative to the working directory)."""
COMMITTED = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
"""The benchmark results committed with the repository (written only with ``--update-committed``)."""


def register(sub) -> None:
    from hwsnn.bench import SUITES

    p = sub.add_parser("bench", help="run a benchmark suite (results as JSON + a printed table)")
    p.add_argument("suite", choices=[*SUITES, "all"], help="which suite")
    p.add_argument("--quick", action="store_true", help="small sizes (smoke run, seconds)")
    add_output_args(p, default_out=None)
    p.set_defaults(func=run)
    p.add_argument("--update-committed", action="store_true",
                   help=f"write into the repository's committed benchmarks/results/ (default: --out, else "
                        f"{DEFAULT_OUT})")


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def print_table(rows: list[dict]) -> None:
    if not rows:
        return
    cols = list(dict.fromkeys(k for r in rows for k in r))
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in cols))


def run(args) -> int:
    from hwsnn.bench import SUITES

    names = list(SUITES) if args.suite == "all" else [args.suite]
    if args.update_committed:
        if args.out is not None:
            raise ConfigError("--update-committed", "writes to benchmarks/results/; do not combine it with --out")
        dest, ctx = prepare_out(COMMITTED, "--update-committed"), contextlib.nullcontext()
    else:
        if args.out and Path(args.out).resolve() == COMMITTED.resolve():
            raise ConfigError("--out", f"{args.out} holds the committed results; add --update-committed (without "
                                       f"--out) to overwrite them")
        ctx = open_run_folder(args, DEFAULT_OUT)
        dest = ctx.path
    with ctx:
        results = _run_suites(args, names, dest)
    emit_json(args, {n: {k: v for k, v in r.items() if k != "table"} | {"table": r.get("table", [])} for n, r in results.items()})
    return 0


def _run_suites(args, names: list[str], dest) -> dict:
    from hwsnn.bench import SUITES

    results = {}
    for name in names:
        try:
            mod = importlib.import_module(SUITES[name])
        except ModuleNotFoundError as exc:
            raise ConfigError("suite", f"benchmark suite {name!r} is not available: {exc}") from None
        t0 = time.perf_counter()
        res = mod.run(quick=args.quick, out_dir=dest)
        res["wall_seconds"] = round(time.perf_counter() - t0, 2)
        res["quick"] = bool(args.quick)
        print(f"== bench {name} ({res['wall_seconds']} s)")
        print_table(res.get("table", []))
        write_json(dest / f"bench_{name}{'_quick' if args.quick else ''}.json", res)
        results[name] = res
    return results
