"""Sweep executor scaling: throughput of a 16-point sweep on 1 and 2 process-pool workers and on a
2-worker local Dask cluster, and the per-unit overhead of each executor (null units).

Two unit sizes: a 0.5-s unit (30 neurons), where the executors' fixed costs (kernel warm-up in the
driver, worker start-up, the first unit's imports and kernel loads, shut-down) weigh most, and,
with ``--builtin NAME``, a shipped sweep as users run it (``weight_levels``: 8 points x 2 repeats
= 16 units of about 2 s).

    .venv/bin/python benchmarks/sweep_scaling.py [--out benchmarks/results/sweep_scaling.json]
                                                 [--builtin weight_levels]

Results are a JSON file; figures depend on the machine being otherwise idle.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from hwsnn.sweep import load_spec, parse_spec, read_results, run_sweep

SET = {"task.n_train": 300, "task.n_test": 100, "task.epochs": 1, "task.baseline": "none", "task.kmeans": False,
       "task.curve_points": 1, "network.n_exc": 30, "synapse.backend": "ideal"}


def null_unit(task):
    """A unit that does nothing: the executor's own cost per unit."""
    row = {k: task[k] for k in ("point", "repeat", "seed", "config_hash")}
    row.update(task["values"], status="ok", error="", host="", pid=os.getpid(), started=time.time(), wall_s=0.0)
    return row


def measure(n_points: int, kind: str, unit=None, n_train: int = 300, rs=None) -> dict:
    if rs is None:
        rs = parse_spec({"name": "scaling", "set": {**SET, "task.n_train": n_train},
                         "axes": [{"path": "network.efficacy", "values": [1.0 + 0.1 * k for k in range(n_points)]}]})
    kw = {"workers": 1} if kind == "pool1" else {"workers": 2} if kind == "pool2" else {"dask_local": 2}
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        run_sweep(rs, d, progress=False, log=lambda m: None, **({"unit": unit} if unit else {}), **kw)
        wall = time.perf_counter() - t0
        df = read_results(d)
    end = df["started"] + df["wall_s"]
    first_end = end.groupby(df["pid"]).min()  # each worker's first unit carries its start-up (imports, kernels)
    rest = int(len(df) - len(first_end))
    steady = rest / (end.max() - first_end.max()) if rest and end.max() > first_end.max() else float("nan")
    n_points = len(df)
    return {"executor": kind, "units": n_points, "wall_s": wall, "units_per_s": n_points / wall,
            "steady_units_per_s": steady, "worker_pids": len(first_end),
            "sum_unit_wall_s": float(df["wall_s"].sum()), "accuracy": df["accuracy"].tolist()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results/sweep_scaling.json")
    ap.add_argument("--points", type=int, default=16)
    ap.add_argument("--n-train", type=int, default=300,
                    help="training samples per unit (unit length; 0 = all 1,297 digits)")
    ap.add_argument("--builtin", default=None, metavar="NAME",
                    help="also measure this shipped sweep (e.g. weight_levels: 16 units of ~2 s)")
    args = ap.parse_args()
    res = {"load_before": os.getloadavg(), "cores": os.cpu_count(), "n_train": args.n_train, "runs": []}
    for kind in ("pool1", "pool2", "dask2"):
        r = measure(args.points, kind, n_train=args.n_train)
        res["runs"].append(r)
        print(f"{kind}: {r['wall_s']:.1f} s, {r['units_per_s']:.3f} units/s, steady {r['steady_units_per_s']:.3f}/s",
              file=sys.stderr)
    for kind in ("pool1", "pool2", "dask2"):
        r = measure(200, kind, null_unit)
        r["overhead_ms_per_unit"] = 1e3 * r["wall_s"] / r["units"]
        r.pop("accuracy")
        res["runs"].append({**r, "null": True})
        print(f"{kind} null units: {r['overhead_ms_per_unit']:.1f} ms/unit (incl. start-up)", file=sys.stderr)
    if args.builtin:
        rs = load_spec(args.builtin)
        b = {}
        for kind in ("pool1", "pool2", "dask2"):
            r = measure(0, kind, rs=rs)
            b[kind] = r
            res["runs"].append({**r, "builtin": args.builtin})
            print(f"{args.builtin} {kind}: {r['wall_s']:.1f} s for {r['units']} units", file=sys.stderr)
        res["builtin"] = {"spec": args.builtin, "units": b["pool1"]["units"],
                          "speedup_2_vs_1": b["pool2"]["units_per_s"] / b["pool1"]["units_per_s"],
                          "dask2_vs_pool2": b["dask2"]["units_per_s"] / b["pool2"]["units_per_s"],
                          "bit_identical": b["pool1"]["accuracy"] == b["pool2"]["accuracy"] == b["dask2"]["accuracy"]}
    res["load_after"] = os.getloadavg()
    a = {r["executor"]: r for r in res["runs"] if not r.get("null") and not r.get("builtin")}
    res["speedup_2_vs_1"] = a["pool2"]["units_per_s"] / a["pool1"]["units_per_s"]
    res["dask2_vs_pool2"] = a["dask2"]["units_per_s"] / a["pool2"]["units_per_s"]
    res["steady_speedup_2_vs_1"] = a["pool2"]["steady_units_per_s"] / a["pool1"]["steady_units_per_s"]
    res["steady_dask2_vs_pool2"] = a["dask2"]["steady_units_per_s"] / a["pool2"]["steady_units_per_s"]
    res["bit_identical"] = a["pool1"]["accuracy"] == a["pool2"]["accuracy"] == a["dask2"]["accuracy"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(json.dumps({k: v for k, v in res.items() if k != "runs"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
