"""The engine's integer STDP twins in hwsnn.snn.Network's integer sweep: pair == the golden
``stdp_update``/``stdp_trace`` units step by step; triplet == a plain-Python serial unit;
stochastic rounding unbiased; integer coefficients; config validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from hwsnn.engine.contract import IntFormat
from hwsnn.engine.rules import PairSTDP, PairSTDPInt, TripletSTDP, TripletSTDPInt
from hwsnn.plasticity.fixed import sround
from hwsnn.snn import Network
from hwsnn.snn import network as network_mod
from hwsnn.spec.fixed import decay_ceil

FMT = IntFormat(8, 8)


def lfsr_next(s):
    lsb = s & 1
    s >>= 1
    if lsb:
        s ^= 0xB400
    return s


def _forced_int(rule, w0, pre_r, post_r, seed=0):
    net = Network(synapse="int", seed=seed)
    net.add_input("pre", pre_r.shape[1])
    net.add_input("post", post_r.shape[1])
    proj = net.connect("pre", "post", w=w0, rule=rule)
    net.run(pre_r.shape[0], {"pre": pre_r, "post": post_r})
    return proj


def _rasters(rng, T, n_pre, n_post, p=0.2):
    return ((rng.random((T, n_pre)) < p).astype(np.uint8), (rng.random((T, n_post)) < p).astype(np.uint8))


def test_int_pair_equals_golden_units():
    """Per step: golden stdp_update_serial over the synapses with a pre or post spike (row-major,
    one unit, one LFSR), with the golden stdp_trace registers before this step's edge."""
    golden = pytest.importorskip("hwsnn.golden.stdp")
    from hwsnn.spec.units import StdpTraceParams, StdpUpdateParams

    rng = np.random.default_rng(7)
    rule = PairSTDPInt(A_PLUS=23, A_MINUS=11, SHIFT_PLUS=5, SHIFT_MINUS=7, SHIFT_PRE=3, SHIFT_POST=5)
    T, n_pre, n_post = 80, 6, 8
    pre_r, post_r = _rasters(rng, T, n_pre, n_post)
    q = rng.integers(0, 256, (n_pre, n_post)).astype(np.int64)
    proj = _forced_int(rule, q / 255, pre_r, post_r, seed=2)
    lfsr = network_mod._lfsr_seed(2000)
    up = StdpUpdateParams(A_PLUS=23, A_MINUS=11, SHIFT_PLUS=5, SHIFT_MINUS=7, W_MAX=255, LFSR_SEED=lfsr)
    tp, tq = StdpTraceParams(X_BITS=8, DECAY_SHIFT=3), StdpTraceParams(X_BITS=8, DECAY_SHIFT=5)
    x, y = np.zeros(n_pre, np.int64), np.zeros(n_post, np.int64)
    changed = 0
    for t in range(T):
        pre, post = pre_r[t], post_r[t]
        ii, jj = np.nonzero(pre[:, None] | post[None, :])  # row-major order
        if ii.size:
            wn, _, _, lfsr = golden.stdp_update_serial(up, lfsr, q[ii, jj], x[ii], y[jj], pre[ii], post[jj])
            changed += int((wn != q[ii, jj]).sum())
            q[ii, jj] = wn
        x = golden.stdp_trace_pop_step(tp, x, pre)
        y = golden.stdp_trace_pop_step(tq, y, post)
    np.testing.assert_array_equal(proj.syn.q, q)
    assert int(proj.lfsr[0]) == lfsr
    assert changed > 50


def test_int_triplet_serial_reference():
    """Integer triplet == a plain-Python serial unit (row-major, one LFSR advance per synapse,
    ``sround`` extended to shifts > 16, r_minus = the state rotated by 8)."""
    rng = np.random.default_rng(5)
    rule = TripletSTDP(nu_pre=0.01, nu_post=0.2).to_int(FMT, 1e-3, 1.0)
    T, n_pre, n_post = 100, 10, 6
    pre_r, post_r = _rasters(rng, T, n_pre, n_post, 0.25)
    q0 = rng.integers(0, 256, (n_pre, n_post)).astype(np.int64)
    proj = _forced_int(rule, q0 / 255, pre_r, post_r, seed=1)

    def sr(p, r, s):
        if s > 16:
            p, s = p >> (s - 16), 16
        return (p + (r & ((1 << s) - 1))) >> s

    def decay(v, k):
        return v - ((v + (1 << k) - 1) >> k)

    q = q0.copy()
    a, p1, p2 = np.zeros(n_pre, int), np.zeros(n_post, int), np.zeros(n_post, int)
    lfsr = network_mod._lfsr_seed(1000)
    for t in range(T):
        pre, post = pre_r[t], post_r[t]
        for i in range(n_pre):
            for j in range(n_post):
                if pre[i] or post[j]:
                    rm = ((lfsr >> 8) | (lfsr << 8)) & 0xFFFF
                    dp = sr(int(a[i] * p2[j] * rule.A_PLUS), lfsr, rule.SHIFT_PLUS) if post[j] else 0
                    dm = sr(int(p1[j] * rule.A_MINUS), rm, rule.SHIFT_MINUS) if pre[i] else 0
                    q[i, j] = min(max(q[i, j] + dp - dm, 0), 255)
                    lfsr = lfsr_next(lfsr)
        a = np.where(pre > 0, 255, [decay(int(v), rule.SHIFT_PRE) for v in a])
        p1 = np.where(post > 0, 255, [decay(int(v), rule.SHIFT_POST1) for v in p1])
        p2 = np.where(post > 0, 255, [decay(int(v), rule.SHIFT_POST2) for v in p2])
    np.testing.assert_array_equal(proj.syn.q, q)
    assert int(proj.lfsr[0]) == lfsr
    assert np.abs(q - q0).sum() > 50


@pytest.mark.parametrize("s", [1, 4, 8, 12, 16, 20])
def test_stochastic_rounding_unbiased_over_lfsr_period(s):
    """Over the full LFSR16 period every non-zero state occurs once, so the mean of
    ``sround(p, r, s)`` equals ``p / 2**s`` up to the missing zero state (< 2**-16 relative)."""
    states = np.empty(65535, np.int64)
    r = 0xACE1
    for k in range(65535):
        states[k] = r
        r = lfsr_next(r)
    rng = np.random.default_rng(s)
    for p in rng.integers(-(1 << 22), 1 << 22, 5):
        vals = np.array([sround(np.int64(p), np.int64(st), np.int64(s)) for st in states[:: 17]])
        exact = p / 2.0 ** s
        # every 17th state: 3855 draws; the spread of one draw is < 1 -> 4 sigma < 0.033
        assert abs(vals.mean() - exact) < 0.04 + (2.0 ** (s - 16) if s > 16 else 0) / 2 ** s


def test_int_coefficients_match_float_rule():
    f = PairSTDP(a_plus=0.01, a_minus=0.0123, tau_pre=16e-3, tau_post=32e-3)
    g = f.to_int(FMT, 1e-3, 1.0)
    assert (g.SHIFT_PRE, g.SHIFT_POST) == (4, 5)  # 1 - 2**-k closest to exp(-dt/tau)

    # trace gain: the float trace's area over the integer register's (both k >= 1 steps after the
    # spike), so that the twin's mean change per spike pair equals the float rule's.  Float:
    # sum_k exp(-k dt / tau) = d / (1 - d); integer: the ceil-decayed register stepped here, in
    # units of its full scale (the linear tail below 2**k makes it ~15-25 % short at 8 bits)
    def gain(tau, k, dt=1e-3, x_bits=8):
        d = math.exp(-dt / tau)
        x, area, x_max = (1 << x_bits) - 1, 0, (1 << x_bits) - 1
        while x > 0:
            area += x
            x = decay_ceil(x, k)
        return (d / (1 - d)) / (area / x_max)

    # stdp_update: codes per trace code = a * gain * 255 / 255; shifts 1..8 (resolution 2**-8)
    assert g.A_PLUS / 2 ** g.SHIFT_PLUS == pytest.approx(f.a_plus * gain(16e-3, 4), abs=2 ** -9)
    assert g.A_MINUS / 2 ** g.SHIFT_MINUS == pytest.approx(f.a_minus * gain(32e-3, 5), abs=2 ** -9)
    t = TripletSTDP().to_int(FMT, 1e-3, 1.0)  # 20 / 20 / 40 ms at 1 ms -> shifts 4 / 4 / 5
    assert (t.SHIFT_PRE, t.SHIFT_POST1, t.SHIFT_POST2) == (4, 4, 5)
    assert t.A_MINUS / 2 ** t.SHIFT_MINUS == pytest.approx(1e-4 * gain(20e-3, 4), rel=2 ** -7)
    assert 255 * t.A_PLUS / 2 ** t.SHIFT_PLUS == pytest.approx(
        TripletSTDP().nu_post * gain(20e-3, 4) * gain(40e-3, 5), rel=2 ** -7)
    # wider traces lose less to the tail: the gain approaches the float area over the untruncated
    # register's, sum_k (1 - 2**-k)**k' = 2**k steps
    t12 = TripletSTDP().to_int(IntFormat(8, 12), 1e-3, 1.0)
    assert t12.A_MINUS / 2 ** t12.SHIFT_MINUS * 4095 / 255 == pytest.approx(1e-4 * gain(20e-3, 4, x_bits=12), rel=2 ** -7)
    d = math.exp(-1e-3 / 20e-3)
    assert gain(20e-3, 4, x_bits=16) == pytest.approx(d / (1 - d) / 2**4, rel=0.005)


def test_pair_twin_mean_drift_per_pair_equals_float():
    """Summed over all pairings of one pre and one post spike (every lag), the twin's mean change
    equals the float rule's up to its mantissa's rounding, at 8 and 10 trace bits (the window's
    shape differs, not its area)."""
    from hwsnn.snn.step_kernels import trace_tables

    f = PairSTDP(a_plus=0.1, a_minus=0.12, tau_pre=20e-3, tau_post=20e-3)
    for x_bits in (8, 10):
        g = f.to_int(IntFormat(8, x_bits), 1e-3, 1.0)
        x_max = (1 << x_bits) - 1
        area_int = trace_tables([g.SHIFT_PRE], 1e-3, True, x_bits).sum() / x_max
        area_float = trace_tables([f.tau_pre], 1e-3, False).sum()
        per_trace = x_max / 255 * area_int  # weight per mantissa unit per pairing sweep
        got = g.A_PLUS / 2 ** g.SHIFT_PLUS * per_trace
        assert abs(got - f.a_plus * area_float) <= 0.5 / 2 ** g.SHIFT_PLUS * per_trace, x_bits


@pytest.mark.parametrize("cls,field,value", [
    (PairSTDP, "a_plus", -1.0),
    (PairSTDP, "tau_post", 0.0),
    (PairSTDPInt, "SHIFT_PLUS", 0),
    (PairSTDPInt, "A_PLUS", 256),
    (TripletSTDP, "tau_post2", -1.0),
    (TripletSTDPInt, "SHIFT_MINUS", 99),
])
def test_bad_config_names_field(cls, field, value):
    base = dict(A_PLUS=1, SHIFT_PLUS=1, A_MINUS=1, SHIFT_MINUS=1, SHIFT_PRE=1, SHIFT_POST1=1,
                SHIFT_POST2=1) if cls is TripletSTDPInt else {}
    with pytest.raises(ValidationError) as e:
        cls(**{**base, field: value})
    assert e.value.errors()[0]["loc"] == (field,)
