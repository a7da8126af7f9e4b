"""The unit of work of a sweep and the executors that run it.

:func:`run_unit` is one pure call -- a resolved config (plain data) -> a result row (metrics,
timings, host, status) -- made through :func:`hwsnn.tasks.run.run_experiment`, the same call
``hwsnn run`` makes (with ``figures=False``: metrics only, into a temporary folder).  A unit that raises returns a row with ``status = "failed"`` and the error
text; it never raises itself, so one bad point cannot stop a sweep.

Executors are :class:`concurrent.futures.Executor` s, one code path for all of them:

* a local :class:`~concurrent.futures.ProcessPoolExecutor` (default; ``spawn`` start method,
  workers = cores);
* ``workers = 0``: every unit in the calling process, one after the other (debugging, tests);
* a Dask distributed cluster (``scheduler`` address, or a ``dask_local`` ``LocalCluster``) through
  ``Client.get_executor()``.

Numba threads per unit (``numba.set_num_threads``, plus ``NUMBA_NUM_THREADS`` / BLAS thread
variables for spawned workers) default to ``cores // workers`` for local executors and 1 on an
external cluster, so workers never oversubscribe the cores.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import socket
import tempfile
import time
import traceback
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterator

__all__ = ["run_unit", "warm_kernels", "open_executor", "ExecutorInfo", "THREAD_VARS"]

THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Environment variables set to the threads per unit for spawned workers."""


def _set_threads(n: int) -> None:
    try:
        import numba

        numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    except ImportError:  # pragma: no cover
        pass


def _metrics(m: dict) -> dict[str, float]:
    runs = [r for r in m.get("runs", []) if r.get("synapse") == m.get("synapse")]
    r0 = runs[0] if runs else {}

    def f(v):
        return float("nan") if v is None else float(v)

    return {
        "accuracy": f(m.get("accuracy")),
        "train_accuracy": f(r0.get("train_accuracy")),
        "baseline_accuracy": f(m.get("baseline_accuracy")),
        "kmeans_accuracy": f(m.get("kmeans_accuracy")),
        "mean_test_spikes": f(r0.get("mean_test_spikes")),
        "samples": f(m.get("samples")),
        "reruns": f(r0.get("reruns")),
        "run_s": f(m.get("seconds")),
        "train_s": f(r0.get("train_seconds")),
        "ms_per_sample": f(r0.get("ms_per_sample")),
    }


def run_unit(task: dict[str, Any]) -> dict[str, Any]:
    """Run one unit: ``task`` holds ``point``, ``repeat``, ``seed``, ``config_hash``, ``values``
    (axis path -> value), ``config`` (plain resolved config) and ``threads``.  Returns its row."""
    t0 = time.time()
    p0 = time.perf_counter()
    row: dict[str, Any] = {k: task[k] for k in ("point", "repeat", "seed", "config_hash")}
    row.update(task["values"])
    row.update(host=socket.gethostname(), pid=os.getpid(), started=t0, error="")
    try:
        _set_threads(task.get("threads", 1))
        from hwsnn.config import parse_config
        from hwsnn.tasks.run import run_experiment

        cfg = parse_config(task["config"])
        with tempfile.TemporaryDirectory(prefix="hwsnn-sweep-") as d:
            m = run_experiment(cfg, d, figures=False)
        row.update(_metrics(m))
        row["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - recorded, the sweep goes on
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}{where}"
    row["wall_s"] = time.perf_counter() - p0
    return row


def warm_kernels(config: dict[str, Any]) -> float:
    """Compile (or load from the on-disk caches) the kernels a unit of ``config`` runs, in this
    process: a two-sample run of the same config (every backend, write-back and evaluation path).

    The driver calls it before it starts local workers, so that on a cold cache the workers load
    the compiled kernels instead of each compiling its own copy at the same time.  Returns the
    seconds it took.
    """
    from hwsnn.config import parse_config
    from hwsnn.tasks.run import run_experiment

    t0 = time.perf_counter()
    cfg = parse_config(config)
    cfg = cfg.with_overrides({"task.n_train": 2, "task.n_test": 2, "task.epochs": 1, "task.kmeans": False,
                              "task.seeds": [cfg.task.seeds[0]], "task.curve_points": 1})
    with tempfile.TemporaryDirectory(prefix="hwsnn-warm-") as d:
        run_experiment(cfg, d, figures=False)
    return time.perf_counter() - t0


@dataclass
class ExecutorInfo:
    """An open executor and what it is."""

    executor: Executor
    workers: int
    threads: int
    """Numba threads per unit."""
    label: str
    client: Any = None
    """The Dask client (None for the process pool)."""


class InlineExecutor(Executor):
    """Runs each submitted call at once in the calling process (``workers = 0``)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            f.set_exception(exc)
        return f


@contextlib.contextmanager
def _thread_env(n: int) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update({k: str(n) for k in THREAD_VARS})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def open_executor(workers: int | None = None, *, scheduler: str | None = None, dask_local: int | None = None,
                  threads: int | None = None) -> Iterator[ExecutorInfo]:
    """Open the executor of a sweep (see the module docstring); closes it on exit."""
    from hwsnn.errors import HwsnnError

    cores = os.cpu_count() or 1
    if scheduler and dask_local:
        raise HwsnnError("--scheduler and --dask-local exclude each other")
    if scheduler or dask_local:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - a main dependency
            raise HwsnnError(f"Dask executors need dask[distributed]: {exc}") from None
        if dask_local is not None and dask_local < 1:
            raise HwsnnError(f"--dask-local: must be >= 1, got {dask_local}")
        n_thr = threads or (max(1, cores // dask_local) if dask_local else 1)
        with _thread_env(n_thr):
            if dask_local:
                cluster = LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
                client = Client(cluster)
                label = f"local Dask cluster, {dask_local} worker(s)"
            else:
                cluster = None
                try:
                    client = Client(scheduler, timeout="20s")
                except OSError as exc:
                    raise HwsnnError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
                label = f"Dask cluster at {scheduler}"
            try:
                n = sum(client.nthreads().values()) or 1
                yield ExecutorInfo(client.get_executor(pure=False), n, n_thr, f"{label} ({n} thread(s))", client)
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
        return
    if workers == 0:
        yield ExecutorInfo(InlineExecutor(), 1, threads or cores, "this process (workers = 0)")
        return
    n = workers or cores
    if n < 1:
        raise HwsnnError(f"--workers: must be >= 1, got {n}")
    n_thr = threads or max(1, cores // n)
    with _thread_env(n_thr):
        ex = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
        try:
            yield ExecutorInfo(ex, n, n_thr, f"process pool, {n} worker(s)")
        finally:
            ex.shutdown(wait=True, cancel_futures=True)


def threads_note(info: ExecutorInfo) -> str:
    cores = os.cpu_count() or 1
    return f"{info.threads} Numba thread(s) per unit ({cores} core(s), {math.ceil(info.workers)} worker(s))"
