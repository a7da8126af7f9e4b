"""Formal bounded equivalence (SymbiYosys BMC, AnySeq-driven inputs and reset) of the RTL units
against in-HDL transcriptions of their contracts (docs/hardware/fixed_point.md); each check is shown
to fail on mutants."""

from __future__ import annotations

import pytest

from hwsnn.errors import ToolMissingError
from hwsnn.hw.lif_stepwise import LIF_MUTANTS
from hwsnn.hw.stdp import TRACE_MUTANTS, UPDATE_MUTANTS
from hwsnn.spec.units import LifStepwiseParams, StdpTraceParams, StdpUpdateParams
from sim.formal.units import formal_tools, run_bmc

# Small enough for the window/level logic to be exercised within the bound.
LIF_SMALL = LifStepwiseParams(V_BITS=8, LEAK_SHIFT=2, REFRACTORY=1, THETA_BASE=40, THETA_STEP=20, LEVELS=3,
                              LEVEL_INIT=1, WINDOW=3, RATE_HI=1, RATE_LO=1, LEARN_UP=10, LEARN_DN=30)

CASES = {
    "stdp_trace": [(StdpTraceParams(), 12), (StdpTraceParams(X_BITS=5, DECAY_SHIFT=7), 10)],
    "stdp_update": [(StdpUpdateParams(), 8),
                    (StdpUpdateParams(W_BITS=4, W_MAX=13, X_BITS=5, A_PLUS=7, A_MINUS=3, SHIFT_PLUS=3,
                                      SHIFT_MINUS=2, LFSR_SEED=0x1D2B), 8)],
    "lif_stepwise": [(LifStepwiseParams(), 6), (LIF_SMALL, 10)],
}
MUTANT_PARAMS = {"stdp_trace": (StdpTraceParams(), 10), "stdp_update": (StdpUpdateParams(), 8),
                 "lif_stepwise": (LIF_SMALL, 10)}
MUTANTS = {"stdp_trace": TRACE_MUTANTS, "stdp_update": UPDATE_MUTANTS, "lif_stepwise": LIF_MUTANTS}
DEFAULT_RUN_MUTANTS = {"stdp_trace": "no_ceil", "stdp_update": "lfsr_wrong_tap", "lif_stepwise": "window_off_by_one"}


@pytest.fixture(autouse=True)
def _tools():
    try:
        formal_tools()
    except ToolMissingError as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("unit, params, depth", [(u, p, d) for u, cs in CASES.items() for p, d in cs])
def test_rtl_equals_contract_spec_up_to_depth(unit, params, depth):
    status, log = run_bmc(unit, params, depth)
    assert status == "PASS", log


@pytest.mark.parametrize("unit", list(DEFAULT_RUN_MUTANTS))
def test_formal_check_fails_on_mutant(unit):
    p, depth = MUTANT_PARAMS[unit]
    status, log = run_bmc(unit, p, depth, DEFAULT_RUN_MUTANTS[unit])
    assert status == "FAIL", log


@pytest.mark.slow
@pytest.mark.parametrize("unit, mutant", [(u, m) for u in MUTANTS for m in MUTANTS[u]])
def test_formal_check_fails_on_every_mutant(unit, mutant):
    p, depth = MUTANT_PARAMS[unit]
    status, log = run_bmc(unit, p, depth, mutant)
    assert status == "FAIL", log
