"""Run the cocotb benches of the RTL units (``hwsnn rtl verify``).

Units and benches come from :mod:`hwsnn.hw.registry`.  A ``unit`` bench checks ``cycles`` clock
cycles against the golden step function; the ``core`` bench (``learning_core``) co-simulates the
core with the crossbar agent (ideal device, back-pressure on) for ``max(20, cycles // 500)``
timesteps and compares every transaction, the neuron states and the device conductances with
the golden co-simulation.  The benches live in the repository's ``sim/`` package; they need a
checkout (or an editable install), not just the installed wheel.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

from hwsnn.errors import ConfigError, ToolFailedError, ToolMissingError
from hwsnn.hw.export import build, to_verilog
from hwsnn.hw.registry import REGISTRY, get, sim_runner

__all__ = ["verify_unit", "verify", "core_timesteps"]


def core_timesteps(cycles: int) -> int:
    """Timesteps of the core bench for a ``cycles`` budget (a timestep is a few hundred cycles)."""
    return max(20, cycles // 500)


def _verify_core(sim: str, params, cycles: int, seed: int):
    from hwsnn.cosim.config import config_from_dict
    from hwsnn.cosim.run import job_from_config, run_rtl

    cfg = config_from_dict({"cosim": {"preset": "ideal", "timesteps": core_timesteps(cycles), "bench_seed": seed,
                                      "input_seed": seed}})
    if params is not None:
        cfg = dataclasses.replace(cfg, core=params)
    res = run_rtl(job_from_config(cfg), sim)
    rep = dict(res.report)
    rep.setdefault("mismatch", rep.get("first_mismatch"))
    return SimpleNamespace(passed=res.passed, cycles=res.cycles if res.passed else 0, seconds=res.report.get("seconds", 0.0),
                           cycles_per_second=(res.cycles / res.report["seconds"]) if res.report.get("seconds") else 0.0,
                           report=rep, log=res.log, log_tail=lambda n=30: res.extra.get("log_tail", ""))


def verify_unit(unit: str, sim: str, *, params=None, cycles: int = 20000, seed: int = 1, **mutant):
    """Build ``unit`` (default or given params, optional mutant kwargs) and run its bench on ``sim``."""
    rec = get(unit)
    if cycles < 1:
        raise ConfigError("--cycles", f"must be >= 1, not {cycles}")
    if rec.kind == "core":
        if mutant:
            raise ConfigError("mutant", "core mutants are component subclasses: use hwsnn.cosim.run.run_rtl")
        return _verify_core(sim, params, cycles, seed)
    runner = sim_runner()
    p = params if params is not None else rec.params()
    verilog = to_verilog(build(unit, p, **mutant), unit)
    return runner.run_bench(
        unit=unit, verilog=verilog, test_module=f"sim.{rec.bench}", sim=sim, params=p.as_dict(), cycles=cycles, seed=seed
    )


def verify(units=None, sims=("verilator", "icarus"), cycles: int = 20000, seed: int = 1, on_result=None) -> list:
    """Run every (unit, simulator) pair; a missing simulator yields a skipped row, not a failure."""
    rows = []
    for sim in sims:
        for unit in units or list(REGISTRY):
            try:
                r = verify_unit(unit, sim, cycles=cycles, seed=seed)
                row = {
                    "unit": unit, "sim": sim, "status": "PASS" if r.passed else "FAIL", "cycles": r.cycles,
                    "seconds": round(r.seconds, 3), "cycles_per_s": round(r.cycles_per_second),
                    "mismatch": r.report.get("mismatch"),
                }
                if not r.passed:
                    row["log_tail"] = r.log_tail()
            except ToolMissingError as exc:
                row = {"unit": unit, "sim": sim, "status": "SKIP", "reason": str(exc), "cycles": 0}
            except ToolFailedError as exc:
                row = {"unit": unit, "sim": sim, "status": "FAIL", "reason": str(exc), "cycles": 0}
            except ModuleNotFoundError as exc:
                row = {"unit": unit, "sim": sim, "status": "FAIL", "reason": f"not implemented: {exc}", "cycles": 0}
            rows.append(row)
            if on_result:
                on_result(row)
    return rows
