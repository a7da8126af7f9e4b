"""Device-model throughput: Numba kernels vs the plain NumPy implementation, 1 vs 2 threads,
next to the memory-bandwidth bound measured in the same run.

Operations on a rows x cols array with every effect on (STO-v0 + faults + consolidation):
``pulse_1pct`` (1 % random devices, event-driven ``pulse_at``; NumPy: dense ``n`` with 99 % zeros),
``pulse_all`` (every device 1-3 SET or RESET pulses) and ``read`` (every device, read noise).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["run", "BYTES_PER_UPDATE"]

# bytes a kernel streams per device update (structure of arrays; see hwsnn.devices.kernels):
#   pulse: reads n(8) gl gs(4+4) tw te ev(8*3) gmin gmax ap bp ad bd su sd nu tau(4*10) stuck(1),
#          writes gl gs(4+4) tw te ev(8*3), scratch normals z1 z2 (8+8, written and read back)
#                                                                  = 77 + 32 + 16 = 125 (+8 idx sparse)
#   read:  reads gl gs(4+4) tw te(8+8) nu tau gmin gmax(4*4) stuck(1), writes out(8), scratch z1(8)
#                                                                  = 41 + 8 + 8 = 57
BYTES_PER_UPDATE = {"pulse_all": 125, "pulse_1pct": 133, "read": 57}


def _best(fn, reps: int) -> float:
    """Minimum of ``reps`` timings (the CPU is shared: the minimum is the least disturbed run)."""
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(min(ts))


def copy_bandwidth(nbytes: int = 256 << 20, reps: int = 5) -> float:
    """Bytes per second moved by a large ``np.copyto`` (read + write counted)."""
    src = np.ones(nbytes // 8, np.float64)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    t = min(_timed(lambda: np.copyto(dst, src)) for _ in range(reps))
    return 2.0 * src.nbytes / t


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(quick: bool, out_dir: Path | None = None) -> dict:
    import numba

    from hwsnn.devices import DeviceArray, get_preset
    from hwsnn.devices.numpy_ref import NumpyDeviceArray

    shape = (256, 256) if quick else (1024, 1024)
    reps = 3 if quick else 9
    n_dev = shape[0] * shape[1]
    p = get_preset("sto").replace(p_stuck_min=0.005, p_stuck_max=0.005, p_stuck_random=0.005, consol_rate=0.1)
    r = np.random.default_rng(0)
    n_all = (r.integers(1, 4, shape) * r.choice([-1, 1], shape)).astype(np.int64)
    k = max(1, n_dev // 100)
    idx = np.sort(r.choice(n_dev, k, replace=False)).astype(np.int64)
    n_idx = (r.integers(1, 4, k) * r.choice([-1, 1], k)).astype(np.int64)
    n_sparse_dense = np.zeros(n_dev, np.int64)
    n_sparse_dense[idx] = n_idx
    n_sparse_dense = n_sparse_dense.reshape(shape)

    def make_ops(a, sparse_ok: bool):
        def adv():
            a.advance(0.01)  # every op sees elapsed time: drift and decay are really evaluated

        ops = {
            "pulse_1pct": (lambda: (adv(), a.pulse_at(idx, n_idx))) if sparse_ok else (lambda: (adv(), a.pulse(n_sparse_dense))),
            "pulse_all": lambda: (adv(), a.pulse(n_all)),
            "read": lambda: (adv(), a.read()),
        }
        return ops

    import os

    load_before = os.getloadavg()[0]  # 2v1 thread scaling is meaningless if other jobs hold the cores
    bw = copy_bandwidth((64 << 20) if quick else (256 << 20))
    max_threads = numba.config.NUMBA_NUM_THREADS
    a = DeviceArray(p, shape, seed=0)
    ops_nb = make_ops(a, True)
    for f in ops_nb.values():  # compile / load the cache, touch memory
        f()
    t_nb = {}
    for th in sorted({1, min(2, max_threads)}):
        numba.set_num_threads(th)
        try:
            t_nb[th] = {name: _best(f, reps) for name, f in ops_nb.items()}
        finally:
            numba.set_num_threads(max_threads)
    b = NumpyDeviceArray(p, shape, seed=0)
    ops_np = make_ops(b, False)
    for f in ops_np.values():
        f()
    t_np = {name: _best(f, max(2, reps - 2)) for name, f in ops_np.items()}
    th2 = max(t_nb)
    table = []
    for name in ops_nb:
        updates = k if name == "pulse_1pct" else n_dev
        bytes_u = BYTES_PER_UPDATE[name]
        ups = updates / t_nb[th2][name]
        bound = bw / bytes_u
        table.append(
            {
                "op": name,
                "devices": n_dev,
                "updates": updates,
                "numba_s_2thr": t_nb[th2][name],
                "numba_s_1thr": t_nb[1][name],
                "numpy_s": t_np[name],
                "speedup_vs_numpy": t_np[name] / t_nb[th2][name],
                "thread_scaling_2v1": t_nb[1][name] / t_nb[th2][name],
                "updates_per_s": ups,
                "bytes_per_update": bytes_u,
                "bandwidth_bound_updates_per_s": bound,
                "fraction_of_bound": ups / bound,
            }
        )
    return {
        "suite": "devices",
        "shape": list(shape),
        "threads": th2,
        "copy_bandwidth_GBps": bw / 1e9,
        "cpu_count": os.cpu_count(),
        "loadavg_1min_before": load_before,
        "loadavg_1min_after": os.getloadavg()[0],
        "targets": {"speedup_vs_numpy": 5.0, "thread_scaling_2v1": 1.6, "fraction_of_bound_pulse_all": 0.3},
        "table": table,
    }
