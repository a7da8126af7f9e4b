"""RTL co-simulation of learning_core with the crossbar agent in the loop (cocotb, Verilator and
Icarus), against the golden co-simulation: exact equality of spike rasters, neuron states, the
command stream and every device conductance.

Default run: ideal, quantised and STO presets (non-idealities on), T = 2,000 timesteps, read
latency 2 and random back-pressure on every channel, both simulators; the competitive core of the
digits task (winner-take-all, instar rule, thresholds frozen without ``in_learn``) on STO, both
simulators; every deliberate core mutant caught on Icarus, two on Verilator.  ``slow``:
T = 50,000 (STO, both simulators), the competitive core on the ideal preset.
"""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.cosim.config import DIGITS_CORE, config_from_dict
from hwsnn.cosim.run import job_from_config, run_rtl
from hwsnn.hw.registry import get

pytestmark = pytest.mark.rtl

SIMS = ["verilator", "icarus"]
PRESETS = ["ideal", "quantised", "sto"]


def _run(sim, preset, T, *, seed=0, bp=0.2, lat=2, component_class=None, core=None, **cosim):
    cfg = config_from_dict({"cosim": {"preset": preset, "timesteps": T, "seed": seed, "backpressure": bp,
                                      "read_latency": lat, "bench_seed": seed + 1, "input_seed": seed + 2,
                                      "snapshot_every": max(1, T // 4), **cosim}, "core": core or {}})
    learn = None
    if core is not None:  # learning on 14 of every 20 timesteps (frozen threshold windows in between)
        learn = (np.arange(T) % 20 < 14).astype(np.int8)
    return run_rtl(job_from_config(cfg, learn=learn), sim, component_class=component_class)


def _assert_equivalent(r, T):
    assert r.passed, f"first mismatch: {r.report.get('first_mismatch')}\n{r.extra.get('log_tail')}"
    rep, rec = r.report, r.record
    assert rep["equivalent"] is True and rep["timesteps"] == T and rec.timesteps == T
    assert rep["cycles"] > 100 * T and rep["checked"] > T * 16  # never a check of nothing
    cmds = rec.commands
    learn = cmds[cmds[:, 0] >= 0]
    assert rec.spikes.sum() > 0 and len(learn) > 0
    assert {0, 1} <= set(learn[:, 3].tolist()), "both SET and RESET commands must occur"
    assert rec.g_snap.shape[0] >= 4


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("sim", SIMS)
def test_rtl_equals_golden_2000_timesteps(sim, preset, sim_tool):
    sim_tool(sim)
    r = _run(sim, preset, 2000, seed=3)
    _assert_equivalent(r, 2000)
    print(f"{preset} {sim}: 2000 timesteps, {r.cycles} cycles, {r.report['timesteps_per_s']:.0f} timesteps/s, "
          f"{r.report['commands']} commands")


@pytest.mark.parametrize("preset", [pytest.param("ideal", marks=pytest.mark.slow), "sto"])
@pytest.mark.parametrize("sim", SIMS)
def test_rtl_equals_golden_competitive_core(sim, preset, sim_tool):
    # the digits task's core: in-timestep winner-take-all, instar rule, levels frozen while not learning
    sim_tool(sim)
    T = 2000
    r = _run(sim, preset, T, seed=4, core=DIGITS_CORE[preset], input_rate=0.08)
    _assert_equivalent(r, T)
    rec = r.record
    learn = rec.commands[rec.commands[:, 0] >= 0]
    assert (rec.spikes[learn[:, 0], learn[:, 2]] == 1).all()  # instar: only columns that spiked are programmed
    assert rec.spikes.sum() > 50


@pytest.mark.parametrize("sim", SIMS)
def test_fast_agent_path_equals_golden(sim, sim_tool):
    # always-ready agent (one wake-up per beat), no read latency
    sim_tool(sim)
    r = _run(sim, "sto", 400, seed=5, bp=0.0, lat=0)
    _assert_equivalent(r, 400)


GATED_CORE = {"RULE": 2, "GATED_STEP": 2, "INHIB": 40, "W_INIT_MAX": 30, "lif": {"LEARN_UP": 60, "LEARN_DN": 150}}
"""A core running the learning-threshold-gated stepwise rule (``learn_up`` / ``learn_dn`` on input spikes)."""


@pytest.mark.parametrize("sim", SIMS)
def test_gated_stepwise_rule_core_equals_golden(sim, sim_tool):
    sim_tool(sim)
    r = _run(sim, "sto", 600, seed=4, core=GATED_CORE, input_rate=0.08)
    _assert_equivalent(r, 600)


def _assert_caught(r, name):
    assert not r.passed and r.report.get("equivalent") is False, f"mutant {name} survived {r.report}"
    mm = r.report.get("first_mismatch")
    assert mm and "field" in mm
    assert "MISMATCH rtl vs golden" in open(r.log).read()


MUTANTS = get("learning_core").mutant_table()


@pytest.mark.parametrize("name", list(MUTANTS))
def test_every_core_mutant_caught_icarus(name, sim_tool):
    sim_tool("icarus")
    from sim.mutants_learning_core import COMPETITIVE, GATED

    cls, _ = MUTANTS[name]
    core = DIGITS_CORE["sto"] if name in COMPETITIVE else (GATED_CORE if name in GATED else None)
    _assert_caught(_run("icarus", "sto", 150, seed=1, bp=0.3, component_class=cls, core=core,
                        input_rate=0.08 if core else 0.05), name)


@pytest.mark.parametrize("name", ["learn_before_trace", "pg_ignores_ready"])
def test_core_mutants_caught_verilator(name, sim_tool):
    sim_tool("verilator")
    cls, _ = MUTANTS[name]
    _assert_caught(_run("verilator", "sto", 300, seed=1, bp=0.3, component_class=cls), name)


@pytest.mark.slow
@pytest.mark.parametrize("sim", SIMS)
def test_rtl_equals_golden_50000_timesteps(sim, sim_tool):
    sim_tool(sim)
    r = _run(sim, "sto", 50000, seed=11, snapshot_every=5000)
    _assert_equivalent(r, 50000)
