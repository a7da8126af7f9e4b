"""STDP window experiment (benchmark B0) for every STDP variant, run through the network engine.

A presynaptic input and a group of identical postsynaptic inputs are driven by explicit rasters
(pre at ``t0``, post at ``t0 + dt_ms``); the weight change of every synapse is compared with the
closed form derived here from the rule definitions (plasticity.md R1/R2 and the per-step order:
traces are read after their decay and before this step's increment):

* pair rules, one pair: ``dw = eta_plus d_plus**D f_plus(w0)`` for ``D > 0``,
  ``-eta_minus d_minus**|D| f_minus(w0)`` for ``D < 0``, 0 for ``D = 0``;
* D&C power law: ``eta (d**D - x_tar) (w_max - w0)**mu`` for ``D > 0``, ``-eta x_tar (w_max - w0)**mu`` otherwise;
* triplet (D&C code), N pairs with period T (post2 needs a previous post spike).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwsnn.plasticity import PairSTDP, TripletSTDP
from hwsnn.snn import Network
from hwsnn.spec.fixed import decay_ceil

DT = 1e-3
T0 = 120  # first pre/post spike well after the start
DELTAS = list(range(-100, 101, 5))
N_POST = 16
W0 = 0.5


def _pair_run(rule, delta, backend="ideal", n_post=N_POST, pairs=1, period=0, seed=0):
    n_steps = T0 + 110 + pairs * period + 5
    pre = np.zeros((n_steps, 1), np.uint8)
    post = np.zeros((n_steps, n_post), np.uint8)
    for k in range(pairs):
        t = T0 + k * period
        pre[t if delta >= 0 else t - delta, 0] = 1
        post[t + delta if delta >= 0 else t, :] = 1
    net = Network(dt=DT, synapse=backend, seed=seed)
    net.add_input("pre", 1)
    net.add_input("post", n_post)
    proj = net.connect("pre", "post", w=W0, rule=rule)
    net.run(n_steps, {"pre": pre, "post": post})
    return proj.syn.weights()[0] - W0 if backend == "ideal" else proj


def exp_trace(tau):
    d = math.exp(-DT / tau)
    return lambda k: d ** k


def ceil_trace(shift, x_bits=8):
    """Integer trace ``k`` steps after a spike (Contract 1 ceil decay), as a fraction of full scale."""
    x_max = (1 << x_bits) - 1

    def f(k):
        x = x_max
        for _ in range(k):
            x = decay_ceil(x, shift)
        return x / x_max
    return f


def pair_closed_form(rule: PairSTDP, delta: int, tr_plus=None, tr_minus=None) -> float:
    tr_plus = tr_plus or exp_trace(rule.tau_plus)
    tr_minus = tr_minus or exp_trace(rule.tau_minus)
    up, dn = rule.w_max - W0, W0 - rule.w_min
    f_plus = {"additive": 1.0, "softbound": up, "powerlaw": up ** rule.mu, "dc_powerlaw": up ** rule.mu}
    f_minus = {"additive": 1.0, "softbound": dn, "powerlaw": dn ** rule.mu}
    wd = rule.weight_dependence
    if wd == "dc_powerlaw":
        x = tr_plus(delta) if delta > 0 else 0.0
        return rule.eta_plus * (x - rule.x_tar) * f_plus[wd]
    if delta > 0:
        return rule.eta_plus * tr_plus(delta) * f_plus[wd]
    if delta < 0:
        return -rule.eta_minus * tr_minus(-delta) * f_minus[wd]
    return 0.0


PAIR_RULES = {
    "additive": PairSTDP(eta_plus=0.01, eta_minus=0.012, weight_dependence="additive"),
    "softbound": PairSTDP(eta_plus=0.01, eta_minus=0.012, weight_dependence="softbound"),
    "powerlaw": PairSTDP(eta_plus=0.01, eta_minus=0.012, weight_dependence="powerlaw", mu=0.5),
    "dc_powerlaw": PairSTDP(eta_plus=0.01, weight_dependence="dc_powerlaw", mu=0.2, x_tar=0.4),
}


@pytest.mark.parametrize("name", list(PAIR_RULES))
def test_pair_window_matches_closed_form(name):
    rule = PAIR_RULES[name]
    got = np.array([_pair_run(rule, d) for d in DELTAS])  # (n_delta, N_POST), all columns identical
    want = np.array([pair_closed_form(rule, d) for d in DELTAS])
    np.testing.assert_allclose(got, np.repeat(want[:, None], N_POST, 1), rtol=1e-9, atol=1e-15)
    dw = got[:, 0]
    d = np.array(DELTAS)
    if name == "dc_powerlaw":
        # LTP only while the pre trace exceeds x_tar: D < tau ln(1/x_tar); constant depression otherwise
        crossing = rule.tau_plus / DT * math.log(1 / rule.x_tar)
        assert np.all(dw[(d > 0) & (d < crossing - 1)] > 0)
        assert np.all(dw[(d > crossing + 1)] < 0)
        assert np.allclose(dw[d <= 0], dw[d <= 0][0]) and dw[d <= 0][0] < 0
        return
    # classic asymmetric window: LTP for pre-before-post, LTD for post-before-pre, zero at 0
    assert np.all(dw[d > 0] > 0) and np.all(dw[d < 0] < 0) and dw[d == 0][0] == 0
    # magnitude decays like exp(-|D|/tau): log-slope over the positive branch
    pos = d > 0
    slope = np.polyfit(d[pos] * DT, np.log(dw[pos]), 1)[0]
    assert slope == pytest.approx(-1 / rule.tau_plus, rel=1e-6)
    neg = d < 0
    slope = np.polyfit(-d[neg] * DT, np.log(-dw[neg]), 1)[0]
    assert slope == pytest.approx(-1 / rule.tau_minus, rel=1e-6)


def triplet_closed_form(rule: TripletSTDP, delta: int, n: int, period: int, traces=None) -> float:
    pre, p1, p2 = traces or (exp_trace(rule.tau_pre), exp_trace(rule.tau_post1), exp_trace(rule.tau_post2))
    a = abs(delta)
    if delta > 0:  # pre at kT, post at kT + D: post2 sees the previous post (period ago)
        ltp = rule.nu_post * pre(a) * p2(period) * (n - 1)
        ltd = rule.nu_pre * p1(period - a) * (n - 1)
    elif delta < 0:  # post at kT, pre at kT + |D|
        ltp = rule.nu_post * pre(period - a) * p2(period) * (n - 1)
        ltd = rule.nu_pre * p1(a) * n
    else:  # same step: neither sees the other's increment
        ltp = rule.nu_post * pre(period) * p2(period) * (n - 1)
        ltd = rule.nu_pre * p1(period) * (n - 1)
    return ltp - ltd


def test_triplet_window_matches_closed_form():
    rule = TripletSTDP()  # D&C constants: nu_pre 1e-4, nu_post 1e-2, tau 20/20/40 ms
    n, period = 5, 300  # period long enough that the pairs of the +-100 ms window stay unambiguous
    got = np.array([_pair_run(rule, d, pairs=n, period=period)[0] for d in DELTAS])
    want = np.array([triplet_closed_form(rule, d, n, period) for d in DELTAS])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    d = np.array(DELTAS)
    assert np.all(got[d > 0] > 0) and np.all(got[d < 0] < 0)
    # LTP branch decays with tau_pre, LTD branch with tau_post1 (until the other term matters)
    near = (d > 0) & (d <= 60)
    assert np.polyfit(d[near] * DT, np.log(got[near]), 1)[0] == pytest.approx(-1 / rule.tau_pre, rel=0.02)
    near = (d < 0) & (d >= -60)
    assert np.polyfit(-d[near] * DT, np.log(-got[near]), 1)[0] == pytest.approx(-1 / rule.tau_post1, rel=0.02)


@pytest.mark.parametrize("name", ["additive", "softbound", "powerlaw", "dc_powerlaw", "triplet"])
def test_integer_twin_window_sign_and_mean(name):
    """Integer twins: the mean change over many LFSR draws is unbiased (equals the closed form
    evaluated with the integer ceil-decay traces), and it matches the float rule with the twin's
    effective constants (``to_float``) within 10 % + half an LSB for |D| <= 20 ms (the ceil
    decay runs ahead of exp(-t/tau) at small trace values, so the tail is shorter)."""
    n_post = 128
    if name == "triplet":
        f_rule = TripletSTDP(nu_pre=0.02, nu_post=0.4)
    else:
        f_rule = PAIR_RULES[name].replace(eta_plus=0.05, eta_minus=0.06)
    i_rule = f_rule.to_int(dt=DT)
    eff = i_rule.to_float(DT)
    lsb = i_rule.lsb
    for delta in (-60, -20, -5, -1, 1, 5, 20, 60):
        if name == "triplet":
            proj = _pair_run(i_rule, delta, backend="int", n_post=n_post, pairs=3, period=200)
            tr = (ceil_trace(i_rule.DECAY_SHIFT_PRE), ceil_trace(i_rule.DECAY_SHIFT_POST1),
                  ceil_trace(i_rule.DECAY_SHIFT_POST2))
            want_int = triplet_closed_form(eff, delta, 3, 200, tr)
            want = triplet_closed_form(eff, delta, 3, 200)
        else:
            proj = _pair_run(i_rule, delta, backend="int", n_post=n_post)
            want_int = pair_closed_form(eff, delta, ceil_trace(i_rule.DECAY_SHIFT_PRE),
                                        ceil_trace(i_rule.DECAY_SHIFT_POST))
            want = pair_closed_form(eff, delta)
        dq = proj.syn.q[0] - round(W0 / lsb)
        mean = dq.mean() * lsb
        if name != "dc_powerlaw" and abs(want_int) > 2 * lsb:
            assert np.sign(mean) == np.sign(want_int), (delta, mean, want_int)
        # unbiased stochastic rounding: error of the mean ~ 0.5 code / sqrt(n_post) (4 sigma);
        # 2 % covers the B_F-bit weight-dependence table
        tol = 0.02 * abs(want_int) + 4 * 0.5 / math.sqrt(n_post) * lsb
        assert abs(mean - want_int) <= tol, (name, delta, mean, want_int, tol)
        if abs(delta) <= 20:
            assert abs(want_int - want) <= 0.1 * abs(want) + 0.5 * lsb, (name, delta, want_int, want)


def test_checker_rejects_mutant_window():
    """The closed-form checker catches swapped potentiation/depression amplitudes (Lava #484)."""
    rule = PAIR_RULES["additive"]
    flipped = rule.replace(eta_plus=rule.eta_minus, eta_minus=rule.eta_plus)
    got = np.array([_pair_run(flipped, d)[0] for d in (-10, 10)])
    want = np.array([pair_closed_form(rule, d) for d in (-10, 10)])
    assert not np.allclose(got, want, rtol=1e-6)


def test_all_to_all_trace_sums_previous_spikes():
    """All-to-all traces add one per spike: two pre spikes a and b steps before a post spike give
    ``eta_plus (d**a + d**b)``; nearest traces keep only the latest (``eta_plus d**b``)."""
    a, b = 30, 10
    for mode in ("all_to_all", "nearest"):
        rule = PairSTDP(eta_plus=0.01, eta_minus=0.0, trace=mode)
        d = math.exp(-DT / rule.tau_plus)
        want = 0.01 * (d ** a + d ** b) if mode == "all_to_all" else 0.01 * d ** b
        pre = np.zeros((100, 1), np.uint8)
        post = np.zeros((100, 1), np.uint8)
        pre[50 - a, 0] = pre[50 - b, 0] = 1
        post[50, 0] = 1
        net = Network(dt=DT)
        net.add_input("pre", 1)
        net.add_input("post", 1)
        proj = net.connect("pre", "post", w=W0, rule=rule)
        net.run(100, {"pre": pre, "post": post})
        assert proj.syn.weights()[0, 0] - W0 == pytest.approx(want, rel=1e-12)
