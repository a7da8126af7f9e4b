"""The engine's ``lif_stepwise`` neuron (golden kernel, as hwsnn.snn.Network steps it) vs a
plain-Python transcription of its contract; its float twin tracks it."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.engine.neurons import LifStepwiseNeuron
from hwsnn.engine.neurons_extra import LifStepwiseFloatNeuron
from hwsnn.snn import Population
from hwsnn.spec.units import LifStepwiseParams

def contract_edge(P, st, step, i_syn, ip_en, mutant=False):
    """One clock edge of one neuron, transcribed from the ``lif_stepwise`` contract (docs/hardware/fixed_point.md)."""
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


def _step(pop, i_exc, i_inh, learn):
    pop.hooks.decay(pop.c, pop.s)
    pop.s.ge[:] += i_exc
    pop.s.gi[:] += i_inh
    k = pop.hooks.update(pop.c, pop.s, learn, pop.spk)
    out = np.zeros(pop.n, np.int64)
    out[pop.spk[:k]] = 1
    return out


def _run_both(P, seed, n=40, T=300, mutant=False):
    """Random drive beyond the i_syn port range (the neuron saturates ge - gi onto it) and a random
    learning flag per step (``ip_en``)."""
    rng = np.random.default_rng(seed)
    lo, hi = -(2 ** (P.V_BITS - 1)), 2 ** (P.V_BITS - 1) - 1
    i_exc = rng.integers(0, P.THETA_BASE, (T, n))
    i_inh = rng.integers(0, P.THETA_BASE // 2, (T, n))
    sat = rng.random((T, n)) < 0.05
    i_exc[sat] += 3 * hi
    sat = rng.random((T, n)) < 0.03
    i_inh[sat] += 3 * hi
    ip_en = rng.random(T) < 0.8
    pop = Population(LifStepwiseNeuron(unit=P), n, 1e-3)
    ref_states = [(0, 0, P.LEVEL_INIT, 0, 0, 0)] * n
    mismatch = False
    for t in range(T):
        i_syn = np.clip(i_exc[t] - i_inh[t], lo, hi)
        ref_states = [contract_edge(P, ref_states[k], 1, int(i_syn[k]), int(ip_en[t]), mutant) for k in range(n)]
        spk = _step(pop, i_exc[t], i_inh[t], bool(ip_en[t]))
        got = np.stack([pop.v, pop.ref, pop.level, pop.count, pop.win, spk], 1)
        want = np.array(ref_states)
        if not np.array_equal(got, want):
            mismatch = True
            if not mutant:
                raise AssertionError(f"step {t}: neuron {got[(got != want).any(1)][:3]} != "
                                     f"contract {want[(got != want).any(1)][:3]}")
        if not mutant:
            up, dn = pop.learn_flags()
            flags = np.array([contract_flags(P, s) for s in ref_states])
            np.testing.assert_array_equal(up, flags[:, 0].astype(bool))
            np.testing.assert_array_equal(dn, flags[:, 1].astype(bool))
    return mismatch, ref_states


@pytest.mark.parametrize("pi", range(len(PARAMS)))
def test_neuron_bit_exact_to_contract(pi):
    P = PARAMS[pi]
    mismatch, states = _run_both(P, pi)
    assert not mismatch
    # the random drive exercised spikes, refractory, level changes and saturation
    assert any(s[5] for s in states) or P.REFRACTORY == 0


def test_contract_checker_rejects_mutant():
    """A neuron-vs-contract comparison fails for a '>' instead of '>=' threshold (equality cases occur)."""
    mismatch, _ = _run_both(PARAMS[1], 3, mutant=True)
    assert mismatch


def test_float_twin_tracks_integer():
    """The float twin (no floor in the leak) spikes at nearly the same rate as the integer model."""
    P = LifStepwiseParams(LEAK_SHIFT=3, THETA_BASE=256, THETA_STEP=64, WINDOW=32, RATE_HI=3, RATE_LO=1)
    rng = np.random.default_rng(2)
    n, T = 50, 2000
    i_syn = rng.integers(0, 80, (T, n))
    ip = Population(LifStepwiseNeuron(unit=P), n, 1e-3)
    fp = Population(LifStepwiseFloatNeuron.from_int(LifStepwiseNeuron(unit=P)), n, 1e-3)
    ci = cf = 0
    for t in range(T):
        ci += _step(ip, i_syn[t], 0, True).sum()
        cf += _step(fp, i_syn[t].astype(float), 0.0, True).sum()
    assert ci > 100
    assert abs(ci - cf) / ci < 0.05
