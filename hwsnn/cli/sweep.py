"""`hwsnn sweep SPEC.toml --out DIR`: run a sweep of config fields, resumable, into a Parquet folder.

SPEC is a sweep spec file or the name of a shipped one (``hwsnn sweep --list``).  Units run on a
local process pool (workers = cores) by default, on an existing Dask cluster with
``--scheduler ADDRESS``, or on a local Dask cluster with ``--dask-local N``.  Re-running the same
command resumes (stored units are skipped; ``--retry-failed`` reruns failed ones).  Results:
``pandas.read_parquet(DIR)``; figures: ``hwsnn plot DIR``.
"""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("sweep", help="sweep config fields (device non-idealities, ...) into a resumable Parquet store",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("spec", nargs="?", metavar="SPEC.toml", help="sweep spec file or shipped spec name")
    p.add_argument("--out", metavar="DIR", help="results folder (default runs/sweep-<spec name>)")
    from hwsnn.cli.common import add_executor_args

    add_executor_args(p, workers_help="local process-pool workers (default: cores; 0 = run in this process)",
                      threads_help="Numba threads per unit (default: cores // workers locally, 1 on --scheduler)")
    p.add_argument("--retry-failed", action="store_true", help="rerun units stored as failed")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", default=[],
                   help="fixed override of the base config at every point (added to the spec's [set])")
    p.add_argument("--dry-run", action="store_true", help="validate the spec, print the units, run nothing")
    p.add_argument("--list", action="store_true", help="list the shipped sweep specs and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from hwsnn.errors import HwsnnError
    from hwsnn.sweep import list_builtin_specs, load_spec, parse_spec, plan_units, read_results, run_sweep
    from hwsnn.sweep.runner import summary_table

    if args.list:
        from hwsnn.sweep import builtin_spec_path
        from hwsnn.config import read_toml

        for name in list_builtin_specs():
            print(f"{name:24s} {read_toml(builtin_spec_path(name)).get('description', '')}")
        return 0
    if not args.spec:
        raise HwsnnError("SPEC.toml is required (or --list)")
    rs = load_spec(args.spec)
    if args.set:
        from hwsnn.config import parse_assignment

        data = rs.spec.model_dump(mode="python")
        data["base"] = str(rs.base_path)
        for text in args.set:
            k, v = parse_assignment(text)
            data["set"][k] = v
        rs = parse_spec(data)
    units = plan_units(rs)
    if args.dry_run:
        paths = [a.path for a in rs.axes]
        for u in units:
            vals = ", ".join(f"{p}={v!r}" for p, v in zip(paths, u.values))
            print(f"point {u.point} repeat {u.repeat} seed {u.seed} hash {u.config_hash}: {vals}")
        print(f"{len(units)} unit(s) valid")
        return 0
    from hwsnn.cli.common import prepare_out

    out = str(prepare_out(args.out or f"runs/sweep-{rs.spec.name or 'spec'}"))
    rep = run_sweep(rs, out, workers=args.workers, scheduler=args.scheduler, dask_local=args.dask_local,
                    threads=args.threads, retry_failed=args.retry_failed, progress=not args.no_progress)
    df = read_results(out)
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.max_rows", 200):
        print(summary_table(df, rs).to_string(float_format=lambda v: f"{v:.4g}"))
    n_failed = int((df["status"] != "ok").sum())
    print(f"{rep.total} unit(s): {rep.skipped} already stored, {rep.ran} run ({rep.ok} ok, {rep.failed} failed)"
          f"{f', {rep.lost} lost (worker died)' if rep.lost else ''} in {rep.seconds:.1f} s"
          f"{f' on {rep.executor}' if rep.executor else ''} -> {out}")
    for e in rep.errors[:10]:
        print(f"  failed: {e}", file=sys.stderr)
    if n_failed:
        print(f"{n_failed} unit(s) stored as failed; rerun with --retry-failed", file=sys.stderr)
    return 1 if (n_failed or rep.lost) else 0
