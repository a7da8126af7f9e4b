"""Run a sweep: plan and validate every unit, skip stored ones, execute the rest, store, summarise."""

from __future__ import annotations

import sys
import time
from concurrent.futures import as_completed
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwsnn.errors import HwsnnError
from hwsnn.sweep.spec import METRIC_NAMES, ResolvedSpec, Unit, plan_units
from hwsnn.sweep.store import ResultStore, row_schema
from hwsnn.sweep.work import ExecutorInfo, open_executor, run_unit, warm_kernels

__all__ = ["run_sweep", "SweepReport", "summary_table"]


@dataclass
class SweepReport:
    """What a call of :func:`run_sweep` did."""

    out: Path
    total: int
    skipped: int
    ran: int = 0
    ok: int = 0
    failed: int = 0
    lost: int = 0
    """Units whose worker died (not recorded: a re-run runs them again)."""
    seconds: float = 0.0
    executor: str = ""
    errors: list[str] = field(default_factory=list)


def _schema_for(rs: ResolvedSpec, units: list[Unit]):
    paths = [a.path for a in rs.axes]
    vals = [[u.values[i] for u in units] for i in range(len(paths))]
    return row_schema(paths, vals, METRIC_NAMES)


def run_sweep(rs: ResolvedSpec, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              dask_local: int | None = None, threads: int | None = None, retry_failed: bool = False,
              progress: bool = True, compact_every: float = 1.0, log=None, unit=run_unit,
              executor: ExecutorInfo | None = None) -> SweepReport:
    """Run the spec's units into the results folder ``out`` (resuming: stored units are skipped;
    failed ones too unless ``retry_failed``).

    ``executor``: an executor already open (:func:`hwsnn.sweep.work.open_executor`) to run the
    units on instead of opening one for this sweep (e.g. one for all cells of a comparison).

    ``unit`` is the unit of work (default :func:`hwsnn.sweep.work.run_unit`): a picklable,
    module-level function from a task dict to a row dict (see :func:`run_unit`).  ``scheduler``
    is a Dask scheduler address, ``dask_local`` a number of local Dask worker processes,
    ``workers`` local process-pool workers (0: run in this process).
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    units = plan_units(rs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    schema = _schema_for(rs, units)
    t0 = time.perf_counter()
    with ResultStore(out, schema, rs.canonical()) as store:
        todo = []
        for u in units:
            row = store.rows.get(u.key)
            if row is not None and row.get("config_hash") != u.config_hash:
                raise HwsnnError(f"{out}: point {u.point} repeat {u.repeat} was stored with another config "
                                 f"(hash {row.get('config_hash')} != {u.config_hash}; the base config changed?); "
                                 "use another --out folder")
            if row is None or (retry_failed and row.get("status") != "ok"):
                todo.append(u)
        store.compact()
        rep = SweepReport(out, len(units), len(units) - len(todo))
        if rep.skipped:
            log(f"resuming: {rep.skipped} of {len(units)} unit(s) already stored in {out}")
        if not todo:
            rep.seconds = time.perf_counter() - t0
            return rep
        paths = [a.path for a in rs.axes]
        if unit is run_unit and workers != 0 and scheduler is None:
            # local workers share this machine's kernel caches: fill them once, here
            try:
                log(f"kernels ready in {warm_kernels(todo[0].config):.1f} s")
            except Exception as exc:  # noqa: BLE001 - the unit itself will record the error
                log(f"kernel warm-up failed ({type(exc).__name__}: {exc}); the units will report it")
        opened = (nullcontext(executor) if executor is not None
                  else open_executor(workers, scheduler=scheduler, dask_local=dask_local, threads=threads))
        with opened as info:
            rep.executor = info.label
            log(f"{len(todo)} unit(s) on {info.label}, {info.threads} Numba thread(s) per unit")
            if info.client is not None and getattr(info.client, "dashboard_link", None):
                log(f"Dask dashboard: {info.client.dashboard_link}")
            futs = {}
            for u in todo:
                task = {"point": u.point, "repeat": u.repeat, "seed": u.seed, "config_hash": u.config_hash,
                        "values": dict(zip(paths, u.values)), "config": u.config, "threads": info.threads}
                futs[info.executor.submit(unit, task)] = u
            bar = None
            if progress:
                from tqdm.auto import tqdm

                bar = tqdm(total=len(todo), desc=rs.spec.name or "sweep", unit="unit", file=sys.stderr)
            last = time.monotonic()
            try:
                for fut in as_completed(futs):
                    u = futs[fut]
                    try:
                        row = fut.result()
                    except Exception as exc:  # noqa: BLE001 - the worker died; leave the unit to a re-run
                        rep.lost += 1
                        rep.errors.append(f"point {u.point} repeat {u.repeat}: worker lost ({type(exc).__name__}: "
                                          f"{exc})")
                        continue
                    store.write(row)
                    rep.ran += 1
                    if row["status"] == "ok":
                        rep.ok += 1
                    else:
                        rep.failed += 1
                        rep.errors.append(f"point {u.point} repeat {u.repeat}: {row['error']}")
                    if time.monotonic() - last >= compact_every:
                        store.compact()
                        last = time.monotonic()
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(ok=rep.ok, failed=rep.failed, refresh=False)
            finally:
                if bar is not None:
                    bar.close()
                store.compact()
    rep.seconds = time.perf_counter() - t0
    return rep


def summary_table(df, rs: ResolvedSpec) -> Any:
    """Mean and std over repeats of the spec's metrics per point (a pandas DataFrame)."""
    paths = [a.path for a in rs.axes]
    ok = df[df["status"] == "ok"]
    g = df.groupby("point")
    table = g[paths].first()
    table["ok"] = g["status"].apply(lambda s: int((s == "ok").sum()))
    table["failed"] = g["status"].apply(lambda s: int((s != "ok").sum()))
    for m in rs.spec.metrics:
        gm = ok.groupby("point")[m]
        table[f"{m} mean"] = gm.mean()
        table[f"{m} std"] = gm.std(ddof=0)
    table["wall_s mean"] = g["wall_s"].mean()
    return table
