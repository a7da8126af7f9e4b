"""stdp_trace and stdp_update components in Amaranth's simulator against the golden models
(no external simulator): the cocotb benches' models and stimulus, default and non-default
parameters, every deliberate mutant caught, constructor validation."""

from __future__ import annotations

import pytest

from hwsnn.errors import ConfigError
from hwsnn.hw.registry import bench_module
from hwsnn.hw.amaranth_sim import Mismatch, check_cycles
from hwsnn.hw.stdp import TRACE_MUTANTS, UPDATE_MUTANTS, StdpTrace, StdpUpdate
from hwsnn.spec.units import StdpTraceParams, StdpUpdateParams

tbt = bench_module("stdp_trace")
tbu = bench_module("stdp_update")

TRACE_SETS = [StdpTraceParams(), StdpTraceParams(X_BITS=6, DECAY_SHIFT=2), StdpTraceParams(X_BITS=4, DECAY_SHIFT=6)]
UPDATE_SETS = [
    StdpUpdateParams(),
    StdpUpdateParams(W_BITS=4, W_MAX=15, X_BITS=6, A_PLUS=5, A_MINUS=3, SHIFT_PLUS=3, SHIFT_MINUS=2, LFSR_SEED=0x1D2B),
    StdpUpdateParams(W_BITS=6, W_MAX=50, A_PLUS=37, A_MINUS=200, SHIFT_PLUS=1, SHIFT_MINUS=5),
]


def _check(tb, cls, params, cycles, seed=1, **mutant):
    model, stim = tb.make(params)
    n = check_cycles(cls(**params.as_dict(), **mutant), inputs=tb.INPUTS, outputs=tb.OUTPUTS,
                     model_step=model.step, stimulus=stim, cycles=cycles, seed=seed)
    return n, model


@pytest.mark.parametrize("params", TRACE_SETS, ids=lambda p: f"x{p.X_BITS}_d{p.DECAY_SHIFT}")
def test_trace_matches_golden(params):
    n, model = _check(tbt, StdpTrace, params, 6000)
    assert n == 6000
    assert not [b for b in tbt.COVERAGE_BINS if model.cov[b] == 0]


@pytest.mark.parametrize("params", UPDATE_SETS, ids=["default", "w4_wmax15", "w6_wmax50"])
def test_update_matches_golden(params):
    n, model = _check(tbu, StdpUpdate, params, 6000)
    assert n == 6000
    unreachable = {"w_above_w_max"} if params.W_MAX == 2**params.W_BITS - 1 else set()
    assert not [b for b in tbu.COVERAGE_BINS if model.cov[b] == 0 and b not in unreachable]


@pytest.mark.parametrize("mutant", list(TRACE_MUTANTS))
def test_trace_mutants_caught(mutant):
    with pytest.raises(Mismatch) as exc:
        _check(tbt, StdpTrace, StdpTraceParams(), 4000, _mutant=mutant)
    assert exc.value.expected != exc.value.actual


@pytest.mark.parametrize("mutant", list(UPDATE_MUTANTS))
def test_update_mutants_caught(mutant):
    with pytest.raises(Mismatch) as exc:
        _check(tbu, StdpUpdate, StdpUpdateParams(), 4000, _mutant=mutant)
    assert exc.value.expected != exc.value.actual


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_constructors_keyword_only_validated_and_ports_derived():
    with pytest.raises(TypeError):
        StdpTrace(8)
    with pytest.raises(TypeError):
        StdpUpdate(8)
    with pytest.raises(ConfigError, match="SHIFT_PLUS"):
        StdpUpdate(SHIFT_PLUS=9)
    with pytest.raises(ConfigError, match="W_MAX"):
        StdpUpdate(W_BITS=4, W_MAX=16)
    with pytest.raises(ConfigError, match="X_BITS"):
        StdpTrace(X_BITS=0)
    with pytest.raises(ConfigError, match="_mutant"):
        StdpUpdate(_mutant="nope")
    u = StdpUpdate(W_BITS=4, W_MAX=15, X_BITS=6)
    assert [len(getattr(u, n)) for n in ("w", "x_pre", "x_post", "w_new", "n_set", "n_reset")] == [4, 6, 6, 4, 4, 4]
    assert len(StdpTrace(X_BITS=5).x) == 5
