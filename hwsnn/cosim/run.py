"""Run the co-simulation: the RTL core through cocotb (Verilator or Icarus) with the crossbar
agent in the loop, the golden co-simulation, and their exact comparison.

:func:`run_rtl` writes a job file, runs ``sim/tb_learning_core.py`` through
:func:`sim.runner.run_bench` (cached builds, toolchain fixes) and returns a :class:`CosimResult`
with the RTL record, the bench's report (equivalence, cycles, timings) and the first mismatch if
any.  :func:`core_verilog` caches the generated Verilog per parameter set (and per mutant class).
"""

from __future__ import annotations

import functools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwsnn.cosim.config import CosimConfig, Job, agent_from_job, random_inputs, write_job
from hwsnn.cosim.record import Record, compare, load_record, run_golden
from hwsnn.errors import HwsnnError

__all__ = ["CosimResult", "core_verilog", "job_from_config", "run_rtl", "run_golden_job"]


@dataclass
class CosimResult:
    """Outcome of one RTL co-simulation run."""

    sim: str
    passed: bool
    """The bench ran and (when checked) the RTL run equals the golden run exactly."""
    report: dict
    record: Record | None
    seconds: float
    build_seconds: float
    log: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def equivalent(self) -> bool:
        return bool(self.report.get("equivalent", False))

    @property
    def cycles(self) -> int:
        return int(self.report.get("cycles", 0))


@functools.lru_cache(maxsize=16)
def _verilog(params_json: str, cls_path: str) -> str:
    import importlib
    import json

    from hwsnn.hw.export import to_verilog
    from hwsnn.spec.core import LearningCoreParams

    mod, name = cls_path.split(":")
    cls = getattr(importlib.import_module(mod), name)
    p = LearningCoreParams.from_dict(json.loads(params_json))
    return to_verilog(cls(**p.as_dict()), "learning_core")


def core_verilog(params, component_class=None) -> str:
    """Verilog of the learning core (top ``learning_core``) for ``params``; ``component_class``
    (tests: a mutant subclass) defaults to :class:`hwsnn.hw.learning_core.LearningCore`."""
    import json

    if component_class is None:
        from hwsnn.hw.learning_core import LearningCore as component_class
    path = f"{component_class.__module__}:{component_class.__qualname__}"
    return _verilog(json.dumps(params.to_dict(), sort_keys=True), path)


def job_from_config(cfg: CosimConfig, in_spikes: np.ndarray | None = None, **over) -> Job:
    spikes = random_inputs(cfg) if in_spikes is None else np.asarray(in_spikes, np.int8)
    kw = dict(core=cfg.core, preset=cfg.preset, device=cfg.device, crossbar=cfg.crossbar, seed=cfg.seed, dt=cfg.dt,
              in_spikes=spikes, read_latency=cfg.read_latency, backpressure=cfg.backpressure,
              bench_seed=cfg.bench_seed, snapshot_every=cfg.snapshot_every, check=cfg.check)
    kw.update(over)
    return Job(**kw)


def run_golden_job(job: Job) -> Record:
    """The golden co-simulation of a job (fresh agent)."""
    return run_golden(job.core, agent_from_job(job), job.in_spikes, job.snapshot_every, job.learn_array())


def run_rtl(job: Job, sim: str = "verilator", *, verilog: str | None = None, waves: str | None = None,
            work_dir: str | Path | None = None, component_class=None) -> CosimResult:
    """Co-simulate ``job`` on ``sim``; ``verilog`` overrides the generated core (mutants)."""
    from hwsnn.hw.registry import sim_runner

    runner = sim_runner()
    text = verilog if verilog is not None else core_verilog(job.core, component_class)
    with tempfile.TemporaryDirectory(prefix="hwsnn-cosim-", dir=work_dir) as tmp:
        d = Path(tmp)
        job.record = str(d / "record.npz")
        jpath = write_job(d / "job.json", job)
        t0 = time.perf_counter()
        r = runner.run_bench(unit="learning_core", verilog=text, test_module="sim.tb_learning_core", sim=sim,
                             params=job.core.to_dict(), cycles=job.timesteps, seed=job.bench_seed,
                             extra_env={"HWSNN_COSIM_JOB": str(jpath)}, waves=waves)
        wall = time.perf_counter() - t0
        rec = load_record(job.record, extra=dict(r.report)) if Path(job.record).exists() else None
        wave_file = r.report.get("wave_file") or getattr(r, "wave_file", None)
    passed = r.passed and (not job.check or bool(r.report.get("equivalent")))
    if rec is None and r.passed:
        raise HwsnnError(f"cosim bench produced no record; log: {r.log}")
    return CosimResult(sim=sim, passed=passed, report=r.report, record=rec, seconds=wall,
                       build_seconds=r.build_seconds, log=r.log, extra={"log_tail": r.log_tail(40) if not passed else "",
                                                                         "wave_file": wave_file})


_ = compare
