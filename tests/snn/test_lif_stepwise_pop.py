"""Integer ``lif_stepwise`` population kernel vs a plain-Python transcription of Contract 1."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.snn import LifStepwiseParams, StepwiseLIFParams, make_population
from hwsnn.snn.neurons import lif_stepwise_consts, lif_stepwise_pop_kernel


def contract_edge(P, st, step, i_syn, ip_en, mutant=False):
    """One clock edge of one neuron, transcribed from DESIGN.md Contract 1 (``lif_stepwise``)."""
    v, ref, level, count, win, spike = st
    if not step:
        return st
    theta = P.THETA_BASE + level * P.THETA_STEP
    if ref > 0:
        v2, ref2, spike2 = 0, ref - 1, 0
    else:
        u = v - (v >> P.LEAK_SHIFT) + i_syn
        u = max(-(2 ** (P.V_BITS - 1)), min(u, 2 ** (P.V_BITS - 1) - 1))
        fire = (u > theta) if mutant else (u >= theta)
        if fire:
            spike2, v2, ref2 = 1, 0, P.REFRACTORY
        else:
            spike2, v2, ref2 = 0, u, 0
    level2, count2, win2 = level, count, win
    if ip_en:
        c = count + spike2
        if win == P.WINDOW - 1:
            if c > P.RATE_HI:
                level2 = min(level + 1, P.LEVELS - 1)
            elif c < P.RATE_LO:
                level2 = max(level - 1, 0)
            count2, win2 = 0, 0
        else:
            count2, win2 = c, win + 1
    return (v2, ref2, level2, count2, win2, spike2)


def contract_flags(P, st):
    v, level = st[0], st[2]
    theta_now = P.THETA_BASE + level * P.THETA_STEP
    return int(v >= theta_now - P.LEARN_UP), int(v < theta_now - P.LEARN_DN)


PARAMS = [
    LifStepwiseParams(),
    LifStepwiseParams(V_BITS=8, LEAK_SHIFT=1, REFRACTORY=0, THETA_BASE=40, THETA_STEP=20, LEVELS=4, WINDOW=4,
                      RATE_HI=1, RATE_LO=1, LEARN_UP=5, LEARN_DN=30),
    LifStepwiseParams(V_BITS=12, LEAK_SHIFT=4, REFRACTORY=5, THETA_BASE=300, THETA_STEP=100, LEVELS=8, LEVEL_INIT=3,
                      WINDOW=7, RATE_HI=2, RATE_LO=1, LEARN_UP=50, LEARN_DN=200),
    LifStepwiseParams(LEVELS=1, WINDOW=1, RATE_HI=0, RATE_LO=0),
]


def _run_both(P, seed, n=40, T=300, mutant=False):
    rng = np.random.default_rng(seed)
    lo, hi = -(2 ** (P.V_BITS - 1)), 2 ** (P.V_BITS - 1) - 1
    # mostly moderate drive, with bursts at the port limits to exercise saturation
    i_syn = rng.integers(-P.THETA_BASE // 2, P.THETA_BASE, (T, n))
    sat = rng.random((T, n)) < 0.05
    i_syn[sat] = rng.choice([lo, hi], size=sat.sum())
    step = (rng.random((T, n)) < 0.9).astype(np.int64)
    ip_en = (rng.random((T, n)) < 0.8).astype(np.int64)
    ref_states = [(0, 0, P.LEVEL_INIT, 0, 0, 0)] * n
    v = np.zeros(n, np.int64)
    ref = np.zeros(n, np.int64)
    level = np.full(n, P.LEVEL_INIT, np.int64)
    count = np.zeros(n, np.int64)
    win = np.zeros(n, np.int64)
    spike = np.zeros(n, np.int64)
    c = lif_stepwise_consts(P)
    mismatch = False
    for t in range(T):
        ref_states = [contract_edge(P, ref_states[k], step[t, k], int(i_syn[t, k]), ip_en[t, k], mutant)
                      for k in range(n)]
        lif_stepwise_pop_kernel(v, ref, level, count, win, spike, step[t], i_syn[t].astype(np.int64), ip_en[t], c)
        got = np.stack([v, ref, level, count, win, spike], 1)
        want = np.array(ref_states)
        if not np.array_equal(got, want):
            mismatch = True
            if not mutant:
                raise AssertionError(f"step {t}: kernel {got[(got != want).any(1)][:3]} != "
                                     f"contract {want[(got != want).any(1)][:3]}")
    return mismatch, ref_states


@pytest.mark.parametrize("pi", range(len(PARAMS)))
@pytest.mark.parametrize("seed", [0, 1])
def test_kernel_bit_exact_to_contract(pi, seed):
    P = PARAMS[pi]
    mismatch, states = _run_both(P, seed)
    assert not mismatch
    # the random drive exercised spikes, refractory, level changes and saturation
    assert any(s[5] for s in states) or P.REFRACTORY == 0


def test_contract_checker_rejects_mutant():
    """A kernel-vs-contract comparison fails for a '>' instead of '>=' threshold (equality cases occur)."""
    P = PARAMS[1]
    mismatch, _ = _run_both(P, 3, mutant=True)
    assert mismatch


def test_population_flags_and_levels_follow_contract():
    P = PARAMS[1]
    pop = make_population(P, 30, 1e-3)
    rng = np.random.default_rng(11)
    states = [(0, 0, P.LEVEL_INIT, 0, 0, 0)] * 30
    levels_seen = set()
    for t in range(400):
        i = rng.integers(-20, 60, 30)
        states = [contract_edge(P, states[k], 1, int(i[k]), 1) for k in range(30)]
        pop.step(i.astype(float), np.zeros(30))
        np.testing.assert_array_equal(pop.v, [s[0] for s in states])
        np.testing.assert_array_equal(pop.level, [s[2] for s in states])
        np.testing.assert_array_equal(pop.spk, [s[5] for s in states])
        up, dn = pop.learn_flags()
        flags = np.array([contract_flags(P, s) for s in states])
        np.testing.assert_array_equal(up, flags[:, 0].astype(bool))
        np.testing.assert_array_equal(dn, flags[:, 1].astype(bool))
        levels_seen.update(pop.level.tolist())
    assert len(levels_seen) >= 2  # intrinsic plasticity moved levels


def test_float_twin_tracks_integer():
    """The float twin (no floor in the leak) spikes at nearly the same rate as the integer model."""
    P = LifStepwiseParams(LEAK_SHIFT=3, THETA_BASE=256, THETA_STEP=64, WINDOW=32, RATE_HI=3, RATE_LO=1)
    rng = np.random.default_rng(2)
    n, T = 50, 2000
    i_syn = rng.integers(0, 80, (T, n)).astype(float)
    ip, fp = make_population(P, n, 1e-3), make_population(StepwiseLIFParams.from_int(P), n, 1e-3)
    ci = cf = 0
    z = np.zeros(n)
    for t in range(T):
        ci += ip.step(i_syn[t], z).sum()
        cf += fp.step(i_syn[t], z).sum()
    assert ci > 100
    assert abs(ci - cf) / ci < 0.05


def test_kernel_agrees_with_golden_population_model():
    golden = pytest.importorskip("hwsnn.golden.lif_stepwise")
    P = PARAMS[2]
    rng = np.random.default_rng(5)
    i_syn = rng.integers(-200, 400, (200, 16))
    spikes_g, st_g = golden.lif_stepwise_pop_run(P, golden.lif_stepwise_pop_reset(P, 16), i_syn)
    pop = make_population(P, 16, 1e-3)
    spikes = np.array([pop.step(i_syn[t].astype(float), np.zeros(16)).copy() for t in range(200)])
    np.testing.assert_array_equal(spikes, spikes_g)
    np.testing.assert_array_equal(pop.v, st_g.v)
    np.testing.assert_array_equal(pop.level, st_g.level)
