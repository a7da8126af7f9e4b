"""STDP window experiment (benchmark B0) for the engine's STDP rules, run through hwsnn.snn.Network.

A presynaptic input and a group of identical postsynaptic inputs are driven by explicit rasters
(pre at ``t0``, post at ``t0 + D``); the weight change of every synapse is compared with the
closed form derived here from the rule definitions and the per-step order (traces are read after
their decay and before this step's increment; a float trace ``k`` steps after its spike is
``exp(-k dt / tau)``, an integer one the ``stdp_trace`` register, full scale at ``k = 1``):

* pair rule, one pair: ``dw = a_plus d_pre**D`` for ``D > 0``, ``-a_minus d_post**|D|`` for
  ``D < 0``, 0 for ``D = 0``;
* triplet (D&C code), N pairs with period T (post2 needs a previous post spike).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwsnn.engine.contract import IntFormat
from hwsnn.engine.rules import PairSTDP, PairSTDPWD, TripletSTDP
from hwsnn.plasticity.traces import tau_of_shift
from hwsnn.snn import Network
from hwsnn.spec.fixed import decay_ceil

DT = 1e-3
T0 = 120  # first pre/post spike well after the start
DELTAS = list(range(-100, 101, 5))
N_POST = 16
W0 = 0.5
FMT = IntFormat(8, 8)


def _pair_run(rule, delta, backend="ideal", n_post=N_POST, pairs=1, period=0, seed=0, w0=W0):
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
    proj = net.connect("pre", "post", w=w0, rule=rule)
    net.run(n_steps, {"pre": pre, "post": post})
    return proj.syn.weights()[0] - w0 if backend == "ideal" else proj


def exp_trace(tau):
    d = math.exp(-DT / tau)
    return lambda k: d ** k


def ceil_trace(shift, x_bits=8):
    """Integer trace ``k`` steps after a spike, as a fraction of full scale: the register is full
    scale at ``k = 1`` and ceil-decays once per step after that."""
    x_max = (1 << x_bits) - 1

    def f(k):
        x = x_max
        for _ in range(k - 1):
            x = decay_ceil(x, shift)
        return x / x_max
    return f


def cut_exp_trace(shift, x_bits=8):
    """``exp(-k dt / tau)`` at the shift decay's time constant while the integer register is above 0."""
    f, g = exp_trace(tau_of_shift(shift, DT)), ceil_trace(shift, x_bits)
    return lambda k: f(k) if g(k) > 0 else 0.0


def tail_factor(shift, x_bits=8):
    """The integer trace's area over the untruncated register's (``sum_k (1 - 2**-shift)**k =
    2**shift``): what the ceil decay's linear tail leaves of it."""
    x = x_max = (1 << x_bits) - 1
    area = 0
    while x > 0:
        area += x
        x = decay_ceil(x, shift)
    return area / x_max / 2 ** shift


def pair_closed_form(a_plus, a_minus, tr_pre, tr_post, delta: int) -> float:
    if delta > 0:
        return a_plus * tr_pre(delta)
    if delta < 0:
        return -a_minus * tr_post(-delta)
    return 0.0


def test_pair_window_matches_closed_form():
    rule = PairSTDP(a_plus=0.01, a_minus=0.012, tau_pre=0.02, tau_post=0.03)
    got = np.array([_pair_run(rule, d) for d in DELTAS])  # (n_delta, N_POST), all columns identical
    want = np.array([pair_closed_form(rule.a_plus, rule.a_minus, exp_trace(rule.tau_pre), exp_trace(rule.tau_post), d)
                     for d in DELTAS])
    np.testing.assert_allclose(got, np.repeat(want[:, None], N_POST, 1), rtol=1e-9, atol=1e-15)
    dw = got[:, 0]
    d = np.array(DELTAS)
    # classic asymmetric window: LTP for pre-before-post, LTD for post-before-pre, zero at 0
    assert np.all(dw[d > 0] > 0) and np.all(dw[d < 0] < 0) and dw[d == 0][0] == 0
    pos = d > 0
    assert np.polyfit(d[pos] * DT, np.log(dw[pos]), 1)[0] == pytest.approx(-1 / rule.tau_pre, rel=1e-6)
    neg = d < 0
    assert np.polyfit(-d[neg] * DT, np.log(-dw[neg]), 1)[0] == pytest.approx(-1 / rule.tau_post, rel=1e-6)


def triplet_closed_form(nu_pre, nu_post, traces, delta: int, n: int, period: int) -> float:
    pre, p1, p2 = traces
    a = abs(delta)
    if delta > 0:  # pre at kT, post at kT + D: post2 sees the previous post (period ago)
        ltp = nu_post * pre(a) * p2(period) * (n - 1)
        ltd = nu_pre * p1(period - a) * (n - 1)
    elif delta < 0:  # post at kT, pre at kT + |D|
        ltp = nu_post * pre(period - a) * p2(period) * (n - 1)
        ltd = nu_pre * p1(a) * n
    else:  # same step: neither sees the other's increment
        ltp = nu_post * pre(period) * p2(period) * (n - 1)
        ltd = nu_pre * p1(period) * (n - 1)
    return ltp - ltd


def test_triplet_window_matches_closed_form():
    rule = TripletSTDP()  # D&C constants: nu_pre 1e-4, nu_post 2e-2, tau 20/20/40 ms
    n, period = 5, 300  # period long enough that the pairs of the +-100 ms window stay unambiguous
    got = np.array([_pair_run(rule, d, pairs=n, period=period)[0] for d in DELTAS])
    tr = (exp_trace(rule.tau_pre), exp_trace(rule.tau_post1), exp_trace(rule.tau_post2))
    want = np.array([triplet_closed_form(rule.nu_pre, rule.nu_post, tr, d, n, period) for d in DELTAS])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    d = np.array(DELTAS)
    assert np.all(got[d > 0] > 0) and np.all(got[d < 0] < 0)
    near = (d > 0) & (d <= 60)
    assert np.polyfit(d[near] * DT, np.log(got[near]), 1)[0] == pytest.approx(-1 / rule.tau_pre, rel=0.02)
    near = (d < 0) & (d >= -60)
    assert np.polyfit(-d[near] * DT, np.log(-got[near]), 1)[0] == pytest.approx(-1 / rule.tau_post1, rel=0.02)


@pytest.mark.parametrize("name", ["pair", "triplet"])
def test_integer_twin_window_mean(name):
    """Integer twins: the mean change over many LFSR draws is unbiased (equals the closed form with
    the twin's effective constants and the ``stdp_trace`` traces) and within 10 % + half an LSB of
    the float window with the twin's effective constants (``exp(-t/tau)`` at the shift decay's time
    constant, 0 where the register has decayed to 0) for |D| <= 20 ms: the ceil decay runs ahead of
    the exponential at small values.  (The register's linear tail ends the trace after ~100 steps
    at 8 bits; the twin's trace gains make up for the area it loses, see
    ``test_pair_twin_mean_drift_per_pair_equals_float``.)"""
    n_post = 128
    lsb = 1 / 255
    if name == "pair":
        f_rule = PairSTDP(a_plus=0.05, a_minus=0.06)
        i_rule = f_rule.to_int(FMT, DT, 1.0)
        ap, am = i_rule.A_PLUS / 2 ** i_rule.SHIFT_PLUS, i_rule.A_MINUS / 2 ** i_rule.SHIFT_MINUS
        tr_i = (ceil_trace(i_rule.SHIFT_PRE), ceil_trace(i_rule.SHIFT_POST))
        tr_f = (cut_exp_trace(i_rule.SHIFT_PRE), cut_exp_trace(i_rule.SHIFT_POST))
    else:
        f_rule = TripletSTDP(nu_pre=0.02, nu_post=0.4)
        i_rule = f_rule.to_int(FMT, DT, 1.0)
        ap = 255 * i_rule.A_PLUS / 2 ** i_rule.SHIFT_PLUS
        am = i_rule.A_MINUS / 2 ** i_rule.SHIFT_MINUS
        tr_i = (ceil_trace(i_rule.SHIFT_PRE), ceil_trace(i_rule.SHIFT_POST1), ceil_trace(i_rule.SHIFT_POST2))
        tr_f = tuple(cut_exp_trace(k) for k in (i_rule.SHIFT_PRE, i_rule.SHIFT_POST1, i_rule.SHIFT_POST2))
    for delta in (-60, -20, -5, -1, 1, 5, 20, 60):
        if name == "pair":
            proj = _pair_run(f_rule, delta, backend="int", n_post=n_post)
            want_int = pair_closed_form(ap, am, *tr_i, delta)
            want = pair_closed_form(ap, am, *tr_f, delta)
        else:
            proj = _pair_run(f_rule, delta, backend="int", n_post=n_post, pairs=3, period=200)
            want_int = triplet_closed_form(am, ap, tr_i, delta, 3, 200)
            want = triplet_closed_form(am, ap, tr_f, delta, 3, 200)
        mean = (proj.syn.q[0] - round(W0 / lsb)).mean() * lsb
        if abs(want_int) > 2 * lsb:
            assert np.sign(mean) == np.sign(want_int), (delta, mean, want_int)
        # unbiased stochastic rounding: error of the mean ~ 0.5 code / sqrt(n_post) (4 sigma)
        tol = 0.01 * abs(want_int) + 4 * 0.5 / math.sqrt(n_post) * lsb
        assert abs(mean - want_int) <= tol, (name, delta, mean, want_int, tol)
        if abs(delta) <= 20:
            assert abs(want_int - want) <= 0.1 * abs(want) + 0.5 * lsb, (name, delta, want_int, want)


def test_checker_rejects_mutant_window():
    """The closed-form checker catches swapped potentiation/depression amplitudes (Lava #484)."""
    rule = PairSTDP(a_plus=0.01, a_minus=0.012)
    flipped = rule.replace(a_plus=rule.a_minus, a_minus=rule.a_plus)
    got = np.array([_pair_run(flipped, d)[0] for d in (-10, 10)])
    want = np.array([pair_closed_form(rule.a_plus, rule.a_minus, exp_trace(rule.tau_pre), exp_trace(rule.tau_post), d)
                     for d in (-10, 10)])
    assert not np.allclose(got, want, rtol=1e-6)


# -- weight-dependent pair STDP (soft bound, power law, Diehl & Cook power law) ------------------
WD_RULES = {
    "softbound": PairSTDPWD(weight_dependence="softbound", a_plus=0.01, a_minus=0.012),
    "powerlaw": PairSTDPWD(weight_dependence="powerlaw", a_plus=0.01, a_minus=0.012, mu=0.5),
    "dc_powerlaw": PairSTDPWD(weight_dependence="dc_powerlaw", a_plus=0.01, mu=0.2, x_tar=0.4),
}


W0_WD = 0.3  # away from 0.5, where the soft bounds' f_plus and f_minus coincide


def wd_closed_form(rule: PairSTDPWD, delta: int, tr_pre=None, tr_post=None, w_max=1.0) -> float:
    tr_pre = tr_pre or exp_trace(rule.tau_pre)
    tr_post = tr_post or exp_trace(rule.tau_post)
    p = 1.0 if rule.weight_dependence == "softbound" else rule.mu
    up, dn = (w_max - W0_WD) ** p, W0_WD ** p
    if rule.weight_dependence == "dc_powerlaw":
        x = tr_pre(delta) if delta > 0 else 0.0
        return rule.a_plus * (x - rule.x_tar) * up
    if delta > 0:
        return rule.a_plus * tr_pre(delta) * up
    if delta < 0:
        return -rule.a_minus * tr_post(-delta) * dn
    return 0.0


@pytest.mark.parametrize("name", list(WD_RULES))
def test_weight_dependent_window_matches_closed_form(name):
    rule = WD_RULES[name]
    got = np.array([_pair_run(rule, d, w0=W0_WD) for d in DELTAS])
    want = np.array([wd_closed_form(rule, d) for d in DELTAS])
    np.testing.assert_allclose(got, np.repeat(want[:, None], N_POST, 1), rtol=1e-9, atol=1e-15)
    dw, d = got[:, 0], np.array(DELTAS)
    if name == "dc_powerlaw":
        # LTP only while the pre trace exceeds x_tar: D < tau ln(1/x_tar); constant depression otherwise
        crossing = rule.tau_pre / DT * math.log(1 / rule.x_tar)
        assert np.all(dw[(d > 0) & (d < crossing - 1)] > 0) and np.all(dw[d > crossing + 1] < 0)
        assert np.allclose(dw[d <= 0], dw[d <= 0][0]) and dw[d <= 0][0] < 0
    else:
        assert np.all(dw[d > 0] > 0) and np.all(dw[d < 0] < 0) and dw[d == 0][0] == 0


@pytest.mark.parametrize("name", list(WD_RULES))
def test_weight_dependent_integer_twin_mean(name):
    """The integer twin's mean change (128 synapses, LFSR16 rounding) equals the closed form with
    its effective constants, ``stdp_trace`` traces and table weight dependence (1 % + 4 sigma)."""
    rule = WD_RULES[name].replace(a_plus=0.05, a_minus=0.06)
    twin = rule.to_int(FMT, DT, 1.0)
    lp, lm = twin.luts(255)
    q0 = round(W0_WD * 255)
    ap = twin.A_PLUS / 2 ** twin.SHIFT_PLUS * lp[q0] / 2 ** twin.B_F
    am = twin.A_MINUS / 2 ** twin.SHIFT_MINUS * lm[q0] / 2 ** twin.B_F
    tr_pre, tr_post = ceil_trace(twin.SHIFT_PRE), ceil_trace(twin.SHIFT_POST)
    for delta in (-20, -5, 5, 20):
        proj = _pair_run(rule, delta, backend="int", n_post=128, w0=q0 / 255)
        mean = (proj.syn.q[0] - q0).mean()  # codes
        if name == "dc_powerlaw":
            x = round(tr_pre(delta) * 255) if delta > 0 else 0
            want = ap * (x - twin.X_TAR)
        else:
            want = ap * round(tr_pre(delta) * 255) if delta > 0 else -am * round(tr_post(-delta) * 255)
        assert abs(mean - want) <= 0.01 * abs(want) + 4 * 0.5 / math.sqrt(128) + 2 ** -8 * abs(want), \
            (name, delta, mean, want)
        # and the float rule's change within 25 % at |D| = 5 ms (the 20 ms time constant becomes the
        # shift decay's 15.5 ms; dc_powerlaw subtracts x_tar, which amplifies the relative gap), once
        # the trace gain's make-up for the area the register's linear tail loses is taken out
        if abs(delta) == 5:
            f = wd_closed_form(rule, delta)
            tail = tail_factor(twin.SHIFT_PRE if delta > 0 else twin.SHIFT_POST)
            assert abs(tail * mean / 255 - f) <= 0.25 * abs(f) + 0.5 / 255, (name, delta, mean / 255, f)
