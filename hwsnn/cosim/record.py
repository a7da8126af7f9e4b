"""What a co-simulation run records, how two records are compared, and the golden run.

A :class:`Record` holds every observable of a run: per-timestep read codes, spike raster and
program command counts, the command list itself, the final neuron state (``v``, ``level``) and
the device conductances (final, plus snapshots every ``snapshot_every`` timesteps).  The RTL run
(cocotb) and the golden run fill the same structure, and :func:`compare` demands exact equality.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from hwsnn.cosim.agent import CrossbarAgent
from hwsnn.golden.core import CoreIn, core_init_commands, core_neuron_view, core_read_rows, core_reset, core_step
from hwsnn.spec.core import LearningCoreParams

__all__ = ["Record", "compare", "run_golden", "save_record", "load_record"]


@dataclass
class Record:
    """Observables of one run of ``T`` timesteps."""

    spikes: np.ndarray
    """``(T, N)`` output beats."""
    codes: np.ndarray
    """``(T, N)`` ADC codes answered to the read requests."""
    rows: np.ndarray
    """``(T, M)`` row masks of the read requests."""
    commands: np.ndarray
    """``(K, 5)`` program commands ``(t, row, col, set, count)``; ``t = -1`` for the power-up SETs."""
    v: np.ndarray
    """``(N,)`` final membrane potentials."""
    level: np.ndarray
    """``(N,)`` final threshold levels."""
    g: np.ndarray
    """Final noise-free device conductances (S)."""
    g_snap: np.ndarray
    """``(S, M, device columns)`` conductance snapshots (after timesteps ``snap_t``)."""
    snap_t: np.ndarray
    """Timesteps of the snapshots."""
    extra: dict = field(default_factory=dict)
    """Timings and counters (not compared)."""

    @property
    def timesteps(self) -> int:
        return int(self.spikes.shape[0])


_COMPARED = ("rows", "codes", "spikes", "commands", "v", "level", "g", "g_snap")


def compare(a: Record, b: Record) -> dict:
    """Exact comparison; ``{"equivalent", "checked", "first_mismatch"}``.

    ``checked`` counts the compared items (timesteps x observables, commands, neurons, devices);
    a record of zero timesteps is never equivalent.
    """
    checked = 0
    if a.timesteps == 0 or b.timesteps == 0:
        return {"equivalent": False, "checked": 0, "first_mismatch": {"field": "timesteps", "a": a.timesteps, "b": b.timesteps}}
    for name in ("rows", "codes", "spikes"):
        x, y = getattr(a, name), getattr(b, name)
        if x.shape != y.shape:
            return {"equivalent": False, "checked": checked, "first_mismatch": {"field": name, "shape": [x.shape, y.shape]}}
        bad = np.nonzero(np.any(x != y, axis=1))[0]
        if bad.size:
            t = int(bad[0])
            return {"equivalent": False, "checked": checked,
                    "first_mismatch": {"field": name, "timestep": t, "a": x[t].tolist(), "b": y[t].tolist()}}
        checked += x.size
    ca, cb = a.commands, b.commands
    n = min(len(ca), len(cb))
    diff = np.nonzero(np.any(ca[:n] != cb[:n], axis=1))[0] if n else np.zeros(0, int)
    if diff.size or len(ca) != len(cb):
        k = int(diff[0]) if diff.size else n
        return {"equivalent": False, "checked": checked,
                "first_mismatch": {"field": "commands", "index": k, "a": ca[k].tolist() if k < len(ca) else None,
                                   "b": cb[k].tolist() if k < len(cb) else None}}
    checked += ca.size
    for name in ("v", "level", "g", "g_snap"):
        x, y = getattr(a, name), getattr(b, name)
        if x.shape != y.shape or not np.array_equal(x, y):
            idx = None if x.shape != y.shape else np.argwhere(x != y)[0].tolist()
            return {"equivalent": False, "checked": checked, "first_mismatch": {"field": name, "index": idx}}
        checked += x.size
    return {"equivalent": True, "checked": int(checked), "first_mismatch": None}


class Recorder:
    """Collects a :class:`Record` while a run goes (used by both runs)."""

    def __init__(self, p: LearningCoreParams, T: int, snapshot_every: int = 0):
        self.p, self.T = p, T
        self.spikes = np.zeros((T, p.N), np.int8)
        self.codes = np.zeros((T, p.N), np.int64)
        self.rows = np.zeros((T, p.M), np.int8)
        self.cmds: list = []
        self.snap_every = snapshot_every
        self.snaps: list = []
        self.snap_t: list = []

    def command(self, t: int, row: int, col: int, set_: int, count: int) -> None:
        self.cmds.append((t, row, col, set_, count))

    def commands_array(self, t: int, cmds: np.ndarray) -> None:
        if len(cmds):
            a = np.empty((len(cmds), 5), np.int64)
            a[:, 0] = t
            a[:, 1:] = cmds
            self.cmds.extend(map(tuple, a.tolist()))

    def end_timestep(self, t: int, agent: CrossbarAgent) -> None:
        if self.snap_every and ((t + 1) % self.snap_every == 0 or t == self.T - 1):
            self.snaps.append(agent.conductances())
            self.snap_t.append(t)

    def finish(self, v, level, agent: CrossbarAgent, **extra) -> Record:
        g = agent.conductances()
        snaps = np.array(self.snaps) if self.snaps else np.zeros((0, *g.shape))
        cmds = np.array(self.cmds, np.int64).reshape(-1, 5)
        return Record(spikes=self.spikes, codes=self.codes, rows=self.rows, commands=cmds,
                      v=np.asarray(v, np.int64), level=np.asarray(level, np.int64), g=g, g_snap=snaps,
                      snap_t=np.array(self.snap_t, np.int64), extra=extra)


def run_golden(p: LearningCoreParams, agent: CrossbarAgent, in_spikes: np.ndarray, snapshot_every: int = 0,
               learn: np.ndarray | None = None) -> Record:
    """The golden co-simulation: golden core + the same crossbar agent handlers as the RTL run.

    ``learn`` is the per-timestep ``in_learn`` (default all 1)."""
    T = in_spikes.shape[0]
    learn = np.ones(T, np.int64) if learn is None else np.asarray(learn, np.int64)
    rec = Recorder(p, T, snapshot_every)
    t0 = time.perf_counter()
    st = core_reset(p)
    init = core_init_commands(p, st)
    rec.commands_array(-1, init)
    agent.program_many(init)
    t_dev = 0.0
    for t in range(T):
        rows = core_read_rows(p, in_spikes[t])
        td = time.perf_counter()
        codes = agent.read(rows)
        t_dev += time.perf_counter() - td
        out, st = core_step(p, st, CoreIn(rows, codes, int(learn[t])))
        td = time.perf_counter()
        agent.program_many(out.commands)
        agent.end_timestep()
        t_dev += time.perf_counter() - td
        rec.rows[t] = rows
        rec.codes[t] = codes
        rec.spikes[t] = out.spikes
        rec.commands_array(t, out.commands)
        rec.end_timestep(t, agent)
    view = core_neuron_view(p, st)
    total = time.perf_counter() - t0
    return rec.finish(view["v"], view["level"], agent, seconds=total, device_seconds=t_dev,
                      weights_shadow=st.w)


def save_record(path, rec: Record) -> None:
    """Write a record as ``.npz`` (arrays) -- atomic."""
    from hwsnn.io import atomic_write

    arrays = {f.name: getattr(rec, f.name) for f in dataclasses.fields(rec) if f.name != "extra"}

    def _w(tmp):
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    atomic_write(path, _w)


def load_record(path, extra: dict | None = None) -> Record:
    with np.load(path) as z:
        kw = {k: z[k] for k in z.files}
    return Record(**kw, extra=extra or {})
