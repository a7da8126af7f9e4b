"""lif_stepwise component in Amaranth's simulator against the golden model (no external
simulator): the cocotb bench's own model, stimulus and corner-case phases, default and
non-default parameters, every deliberate mutant caught, constructor validation."""

from __future__ import annotations

import pytest
from amaranth import signed

from hwsnn.errors import ConfigError
from hwsnn.hw.registry import bench_module
from hwsnn.hw.amaranth_sim import Mismatch, check_cycles
from hwsnn.hw.lif_stepwise import LIF_MUTANTS, LifStepwise
from hwsnn.spec.units import LifStepwiseParams

tb = bench_module("lif_stepwise")

NON_DEFAULT = LifStepwiseParams(V_BITS=12, LEAK_SHIFT=2, REFRACTORY=1, THETA_BASE=300, THETA_STEP=150, LEVELS=8,
                                LEVEL_INIT=3, WINDOW=16, RATE_HI=4, RATE_LO=2, LEARN_UP=40, LEARN_DN=200)


def _check(params, cycles, seed=1, **mutant):
    model, stim = tb.make(params)
    n = check_cycles(LifStepwise(**params.as_dict(), **mutant), inputs=tb.INPUTS, outputs=tb.OUTPUTS,
                     model_step=model.step, stimulus=stim, cycles=cycles, seed=seed)
    return n, model


@pytest.mark.parametrize("params", [LifStepwiseParams(), NON_DEFAULT], ids=["default", "v12_levels8"])
def test_matches_golden_and_reaches_corner_cases(params):
    n, model = _check(params, 8000, seed=2)
    assert n == 8000
    missing = [b for b in tb.COVERAGE_BINS if model.cov[b] == 0]
    assert not missing, f"corner cases never reached: {missing}"


@pytest.mark.parametrize("mutant", list(LIF_MUTANTS))
def test_every_mutant_is_caught(mutant):
    with pytest.raises(Mismatch) as exc:
        _check(LifStepwiseParams(), 6000, seed=1, _mutant=mutant)
    e = exc.value
    assert e.expected != e.actual and "i_syn" in e.inputs and str(e.cycle) in str(e)


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_constructor_keyword_only_validated_and_ports_derived():
    with pytest.raises(TypeError):
        LifStepwise(16)
    with pytest.raises(ConfigError, match="LEVEL_INIT"):
        LifStepwise(LEVELS=2, LEVEL_INIT=2)
    with pytest.raises(ConfigError, match="_mutant"):
        LifStepwise(_mutant="nope")
    c = LifStepwise(**NON_DEFAULT.as_dict())
    assert c.params == NON_DEFAULT
    assert c.i_syn.shape() == signed(12) and c.v.shape() == signed(12)
    assert len(c.level) == 3 and c.level.init == 3  # ceil(log2(8)) bits, LEVEL_INIT after reset
    assert len(LifStepwise(LEVELS=5).level) == 3 and len(LifStepwise(LEVELS=1, THETA_STEP=0).level) == 1
