"""`hwsnn compare [SPEC] --out DIR`: which learning mechanisms survive real hardware.

SPEC is a comparison spec file or the name of a shipped one (``hwsnn compare --list``; default
``mechanisms``): mechanisms x datasets x backends x seeds, robustness axes and the claims to test.
Every cell runs as a resumable sweep (the executors of ``hwsnn sweep``); the folder gets a table
(mean ± std accuracy, run time, the k-means reference), figures of accuracy vs each robustness
axis and a verdict per claim (paired one-sided t-test over seeds) in ``summary.md``.
"""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("compare", help="compare learning mechanisms on datasets x backends x seeds, test claims",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("spec", nargs="?", default="mechanisms", metavar="SPEC.toml",
                   help="comparison spec file or shipped spec name (default: mechanisms)")
    p.add_argument("--out", metavar="DIR", help="results folder (default runs/compare-<spec name>)")
    from hwsnn.cli.common import add_executor_args

    add_executor_args(p, workers_help="local process-pool workers (default: cores; 0 = run in this process)",
                      threads_help="Numba threads per unit")
    p.add_argument("--retry-failed", action="store_true", help="rerun units stored as failed")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", default=[],
                   help="override of every mechanism's config (added to the spec's [set])")
    p.add_argument("--repeats", type=int, metavar="N", help="seeds per cell (overrides the spec)")
    p.add_argument("--dry-run", action="store_true", help="validate the spec, print the cell sweeps, run nothing")
    p.add_argument("--list", action="store_true", help="list the shipped comparison specs and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON summary object as the last line of stdout")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from hwsnn.cli.common import emit_json, open_run_folder
    from hwsnn.compare import (builtin_compare_path, list_builtin_compare_specs, load_compare_spec,
                               parse_compare_spec, plan_sweeps, run_compare)
    from hwsnn.compare.run import summary_markdown
    from hwsnn.config import read_toml

    if args.list:
        for name in list_builtin_compare_specs():
            print(f"{name:24s} {read_toml(builtin_compare_path(name)).get('description', '')}")
        return 0
    spec, base_dir = load_compare_spec(args.spec)
    if args.set or args.repeats is not None:
        from hwsnn.config import parse_assignment

        data = spec.model_dump(mode="python")
        for text in args.set:
            k, v = parse_assignment(text)
            data["set"][k] = v
        if args.repeats is not None:
            data["repeats"] = args.repeats
        spec, _ = parse_compare_spec(data, base_dir)
    sweeps = plan_sweeps(spec, base_dir)
    if args.dry_run:
        from hwsnn.sweep import plan_units

        total = 0
        for mech, ds, axis, rs in sweeps:
            n = len(plan_units(rs))
            total += n
            print(f"{mech:20s} {ds:14s} {axis:32s} {n} unit(s)")
        print(f"{total} unit(s) valid")
        return 0
    with open_run_folder(args, f"runs/compare-{spec.name or 'spec'}") as folder:
        rep = run_compare(spec, folder.path, base_dir=base_dir, workers=args.workers, scheduler=args.scheduler,
                          dask_local=args.dask_local, threads=args.threads, retry_failed=args.retry_failed,
                          progress=not args.no_progress)
        folder.extra["compare"] = {"units": rep.units, "failed": rep.failed}
    print(summary_markdown(spec, rep))
    print(f"{rep.units} unit(s), {rep.ran} run, {rep.failed} failed, {rep.seconds:.1f} s -> {rep.out}")
    emit_json(args, {"units": rep.units, "failed": rep.failed, "out": str(rep.out),
                     "table": _no_nan(rep.table.to_dict(orient="records") if rep.table is not None else []),
                     "claims": _no_nan(rep.claims)})
    if rep.failed:
        print(f"{rep.failed} unit(s) failed; rerun with --retry-failed", file=sys.stderr)
        return 1
    return 0


def _no_nan(rows: list[dict]) -> list[dict]:
    """JSON rows with a missing value (NaN: no spread over one seed, no run time of k-means) as null."""
    import math

    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]
