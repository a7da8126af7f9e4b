"""Golden ``lif_stepwise`` against the contract: an independent transcription, directed cases,
and the Numba population form bit-exact against the scalar form."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsnn.errors import ConfigError
from hwsnn.golden.lif_stepwise import (
    LifStepwiseIn,
    lif_stepwise_outputs,
    lif_stepwise_pop_reset,
    lif_stepwise_pop_run,
    lif_stepwise_pop_step,
    lif_stepwise_reset,
    lif_stepwise_step,
)
from hwsnn.spec.units import LifStepwiseParams


class ContractLif:
    """The contract's pseudo-code (docs/hardware/fixed_point.md), transcribed literally (mutable, plain ints)."""

    def __init__(self, P):
        self.P = P
        self.v = self.ref = self.count = self.win = self.spike = 0
        self.level = P.LEVEL_INIT

    def edge(self, step, i_syn, ip_en):
        P = self.P
        if step == 1:
            theta = P.THETA_BASE + self.level * P.THETA_STEP
            if self.ref > 0:
                v2, ref2, spike2 = 0, self.ref - 1, 0
            else:
                u = max(-(2 ** (P.V_BITS - 1)), min(2 ** (P.V_BITS - 1) - 1, self.v - (self.v >> P.LEAK_SHIFT) + i_syn))
                if u >= theta:
                    spike2, v2, ref2 = 1, 0, P.REFRACTORY
                else:
                    spike2, v2, ref2 = 0, u, 0
            level2, count2, win2 = self.level, self.count, self.win
            if ip_en:
                c = self.count + spike2
                if self.win == P.WINDOW - 1:
                    if c > P.RATE_HI:
                        level2 = min(self.level + 1, P.LEVELS - 1)
                    elif c < P.RATE_LO:
                        level2 = max(self.level - 1, 0)
                    count2, win2 = 0, 0
                else:
                    count2, win2 = c, self.win + 1
            self.v, self.ref, self.spike, self.level, self.count, self.win = v2, ref2, spike2, level2, count2, win2
        theta_now = P.THETA_BASE + self.level * P.THETA_STEP
        return {
            "spike": self.spike, "v": self.v, "level": self.level,
            "learn_up": int(self.v >= theta_now - P.LEARN_UP), "learn_dn": int(self.v < theta_now - P.LEARN_DN),
        }


@st.composite
def lif_params(draw):
    v_bits = draw(st.integers(6, 20))
    hi = 2 ** (v_bits - 1) - 1
    levels = draw(st.integers(1, 9))
    base = draw(st.integers(1, hi // 2))
    step = draw(st.integers(0, (hi - base) // max(1, levels - 1)))
    window = draw(st.integers(1, 40))
    return LifStepwiseParams(
        V_BITS=v_bits, LEAK_SHIFT=draw(st.integers(1, v_bits - 1)), REFRACTORY=draw(st.integers(0, 5)),
        THETA_BASE=base, THETA_STEP=step, LEVELS=levels, LEVEL_INIT=draw(st.integers(0, levels - 1)),
        WINDOW=window, RATE_HI=draw(st.integers(0, window)), RATE_LO=draw(st.integers(0, window)),
        LEARN_UP=draw(st.integers(0, hi)), LEARN_DN=draw(st.integers(0, hi)),
    )


def _random_inputs(P, rng, n):
    hi = 2 ** (P.V_BITS - 1) - 1
    theta_max = P.THETA_BASE + (P.LEVELS - 1) * P.THETA_STEP
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.1:
            i = rng.randint(-hi - 1, hi)
        elif r < 0.2:
            i = rng.choice([-hi - 1, hi])
        else:
            i = rng.randint(-theta_max, 2 * theta_max)
        out.append((int(rng.random() < 0.9), max(-hi - 1, min(hi, i)), int(rng.random() < 0.8)))
    return out


@settings(max_examples=60, deadline=None)
@given(P=lif_params(), seed=st.integers(0, 2**31))
def test_golden_equals_contract_transcription(P, seed):
    ref = ContractLif(P)
    s = lif_stepwise_reset(P)
    assert lif_stepwise_outputs(P, s)._asdict() == ref.edge(0, 0, 0)
    for step, i_syn, ip_en in _random_inputs(P, random.Random(seed), 400):
        out, s = lif_stepwise_step(P, s, LifStepwiseIn(step, i_syn, ip_en))
        assert out._asdict() == ref.edge(step, i_syn, ip_en)


def test_reset_state_and_step_zero_holds():
    P = LifStepwiseParams(LEVEL_INIT=2)
    s = lif_stepwise_reset(P)
    assert (s.v, s.ref, s.level, s.count, s.win, s.spike) == (0, 0, 2, 0, 0, 0)
    _, s1 = lif_stepwise_step(P, s, LifStepwiseIn(1, 100, 1))
    out, s2 = lif_stepwise_step(P, s1, LifStepwiseIn(0, 30000, 1))
    assert s2 == s1 and out.v == 100


def test_leak_is_floor_shift_and_fire_at_threshold_then_refractory():
    P = LifStepwiseParams()  # LEAK_SHIFT=3, THETA_BASE=256, REFRACTORY=2
    s = lif_stepwise_reset(P)
    _, s = lif_stepwise_step(P, s, LifStepwiseIn(1, -9, 0))
    assert s.v == -9
    _, s = lif_stepwise_step(P, s, LifStepwiseIn(1, 0, 0))
    assert s.v == -9 - (-2)  # -9 >> 3 == -2 (floor), so v = -7
    _, s = lif_stepwise_step(P, s, LifStepwiseIn(1, 256 + 7 - 0 - 1, 0))  # u = -7 - (-1) + 262 = 256 = theta
    assert (s.spike, s.v, s.ref) == (1, 0, 2)
    for _ in range(2):  # held for REFRACTORY steps whatever the input
        out, s = lif_stepwise_step(P, s, LifStepwiseIn(1, 30000, 0))
        assert (out.spike, out.v) == (0, 0)
    out, s = lif_stepwise_step(P, s, LifStepwiseIn(1, 255, 0))
    assert (out.spike, out.v) == (0, 255)  # one below threshold: no spike


def test_saturation_at_both_ends():
    P = LifStepwiseParams(V_BITS=12, THETA_BASE=2047, LEVELS=1)
    s = lif_stepwise_reset(P)
    for _ in range(5):
        _, s = lif_stepwise_step(P, s, LifStepwiseIn(1, -2048, 0))
    assert s.v == -2048
    _, s = lif_stepwise_step(P, s, LifStepwiseIn(1, 2000, 0))
    _, s = lif_stepwise_step(P, s, LifStepwiseIn(1, 2000, 0))
    # -2048 + 256 + 2000 = 208, then 208 - 26 + 2000 = 2182 saturates to 2047 == theta: fires
    # (a wrapped sum would be negative)
    assert s.spike == 1


def test_level_moves_once_per_window_and_saturates():
    P = LifStepwiseParams(WINDOW=4, RATE_HI=1, RATE_LO=1, LEVELS=3, REFRACTORY=0)
    s = lif_stepwise_reset(P)
    levels = []
    for w in range(4):  # fire every step: 4 spikes > RATE_HI per window
        for _ in range(4):
            _, s = lif_stepwise_step(P, s, LifStepwiseIn(1, 30000, 1))
        levels.append(s.level)
    assert levels == [1, 2, 2, 2]
    for _ in range(3):  # silent window with ip_en=0 does not count
        _, s = lif_stepwise_step(P, s, LifStepwiseIn(1, 0, 0))
    assert (s.level, s.win) == (2, 0)
    got = []
    for w in range(3):
        for _ in range(4):
            _, s = lif_stepwise_step(P, s, LifStepwiseIn(1, 0, 1))
        got.append(s.level)
    assert got == [1, 0, 0]


def test_learning_flags_follow_the_level():
    P = LifStepwiseParams()  # theta = 256 + 64*level, LEARN_UP=32, LEARN_DN=128
    s = lif_stepwise_reset(P)._replace(v=224)
    o = lif_stepwise_outputs(P, s)
    assert (o.learn_up, o.learn_dn) == (1, 0)
    o = lif_stepwise_outputs(P, s._replace(v=223))
    assert (o.learn_up, o.learn_dn) == (0, 0)
    o = lif_stepwise_outputs(P, s._replace(v=127))
    assert (o.learn_up, o.learn_dn) == (0, 1)
    o = lif_stepwise_outputs(P, s._replace(v=224, level=1))  # theta 320: up needs 288
    assert (o.learn_up, o.learn_dn) == (0, 0)


def test_out_of_range_input_rejected():
    P = LifStepwiseParams(V_BITS=8, THETA_BASE=100, LEVELS=1, LEARN_DN=50)
    with pytest.raises(ValueError, match="i_syn"):
        lif_stepwise_step(P, lif_stepwise_reset(P), LifStepwiseIn(1, 128, 0))


@pytest.mark.parametrize(
    "bad, field",
    [
        (dict(LEVEL_INIT=4), "LEVEL_INIT"),
        (dict(V_BITS=3), "V_BITS"),
        (dict(THETA_STEP=20000), "THETA_STEP"),
        (dict(RATE_HI=33), "RATE_HI"),
        (dict(LEAK_SHIFT=0), "LEAK_SHIFT"),
        (dict(WINDOW=0), "WINDOW"),
    ],
)
def test_bad_parameters_name_the_field(bad, field):
    with pytest.raises(ConfigError, match=field):
        LifStepwiseParams(**bad)


@pytest.mark.parametrize(
    "pd",
    [{}, dict(V_BITS=12, LEAK_SHIFT=2, REFRACTORY=1, THETA_BASE=300, THETA_STEP=150, LEVELS=8, LEVEL_INIT=3,
              WINDOW=16, RATE_HI=4, RATE_LO=2, LEARN_UP=40, LEARN_DN=200)],
)
def test_population_kernel_bit_exact_with_scalar(pd):
    P = LifStepwiseParams(**pd)
    rng = np.random.default_rng(7)
    n, t = 24, 600
    lo, hi = -(2 ** (P.V_BITS - 1)), 2 ** (P.V_BITS - 1) - 1
    i_syn = np.clip(rng.integers(-P.THETA_BASE, 3 * P.THETA_BASE, size=(t, n)), lo, hi)
    i_syn[::50] = hi
    i_syn[25::50] = lo
    step = (rng.random((t, n)) < 0.9).astype(np.int64)
    ip_en = (rng.random((t, n)) < 0.8).astype(np.int64)
    pop0 = lif_stepwise_pop_reset(P, n)
    spikes, final = lif_stepwise_pop_run(P, pop0, i_syn, step, ip_en)
    # one-step form agrees with the run form
    pst = pop0
    for k in range(t):
        out, pst = lif_stepwise_pop_step(P, pst, i_syn[k], step[k], ip_en[k])
        assert np.array_equal(out.spike, spikes[k])
    assert all(np.array_equal(a, b) for a, b in zip(pst, final))
    assert np.all(pop0.v == 0)  # inputs not modified
    for j in range(n):
        s = lif_stepwise_reset(P)
        for k in range(t):
            out, s = lif_stepwise_step(P, s, LifStepwiseIn(int(step[k, j]), int(i_syn[k, j]), int(ip_en[k, j])))
            assert out.spike == spikes[k, j]
        assert tuple(s) == tuple(int(a[j]) for a in final)
    assert spikes.sum() > 0 and len(set(final.level.tolist())) >= 1


def test_population_rejects_out_of_range_current():
    P = LifStepwiseParams(V_BITS=8, THETA_BASE=100, LEVELS=1, LEARN_DN=50)
    with pytest.raises(ValueError, match="i_syn"):
        lif_stepwise_pop_step(P, lif_stepwise_pop_reset(P, 2), np.array([0, 200]))
