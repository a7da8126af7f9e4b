"""STDP kernels: integer twin bit-exact to Contract 1, event-driven == dense, unbiased rounding."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.errors import ConfigError
from hwsnn.plasticity import (
    PairSTDP,
    PairSTDPInt,
    TripletSTDP,
    TripletSTDPInt,
    pair_stdp_float,
    pair_stdp_int,
    triplet_stdp_float,
    triplet_stdp_int,
)
from hwsnn.plasticity.fixed import sround


# -- plain-Python transcription of Contract 1 (DESIGN.md), written independently of the kernels --
def lfsr_next(s):
    lsb = s & 1
    s >>= 1
    if lsb:
        s ^= 0xB400
    return s


def contract_stdp_update(p, lfsr, w, x_pre, x_post, pre, post):
    r = lfsr
    r_plus = r & (2 ** p["SHIFT_PLUS"] - 1)
    r_minus = (r >> 8) & (2 ** p["SHIFT_MINUS"] - 1)
    dp = (x_pre * p["A_PLUS"] + r_plus) >> p["SHIFT_PLUS"] if post else 0
    dm = (x_post * p["A_MINUS"] + r_minus) >> p["SHIFT_MINUS"] if pre else 0
    wn = min(max(w + dp - dm, 0), p["W_MAX"])
    return wn, lfsr_next(lfsr)


def contract_serial(p, lfsr, q, x, y, pre, post):
    """Apply stdp_update to every synapse with a pre or post spike, row-major, one unit."""
    q = q.copy()
    for i in range(q.shape[0]):
        for j in range(q.shape[1]):
            if pre[i] or post[j]:
                q[i, j], lfsr = contract_stdp_update(p, lfsr, int(q[i, j]), int(x[i]), int(y[j]), pre[i], post[j])
    return q, lfsr


def _spikes(rng, n, p):
    s = (rng.random(n) < p).astype(np.uint8)
    return s, np.flatnonzero(s).astype(np.int64)


@pytest.mark.parametrize("seed", range(6))
def test_int_pair_bit_exact_to_contract(seed):
    rng = np.random.default_rng(seed)
    a_p, a_m = int(rng.integers(0, 64)), int(rng.integers(0, 64))
    sp, sm = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    lfsr0 = int(rng.integers(1, 1 << 16))
    rule = PairSTDPInt(A_PLUS=a_p, A_MINUS=a_m, SHIFT_PLUS=sp, SHIFT_MINUS=sm, LFSR_SEED=lfsr0)
    p = dict(A_PLUS=a_p, A_MINUS=a_m, SHIFT_PLUS=sp, SHIFT_MINUS=sm, W_MAX=255)
    n_pre, n_post = 9, 7
    q = rng.integers(0, 256, (n_pre, n_post)).astype(np.int64)
    # include saturation corners
    q[0, :] = 255
    q[1, :] = 0
    lut_p, lut_m = rule.luts()
    lfsr = lfsr0
    lfsr_k = np.int64(lfsr0)
    qk = q.copy()
    for _ in range(20):
        x = rng.integers(0, 256, n_pre).astype(np.int64)
        y = rng.integers(0, 256, n_post).astype(np.int64)
        pre, pi = _spikes(rng, n_pre, 0.3)
        post, po = _spikes(rng, n_post, 0.3)
        q, lfsr = contract_serial(p, lfsr, q, x, y, pre, post)
        lfsr_k = pair_stdp_int(qk, x, y, pre, pi, post, po, rule.consts(), lut_p, lut_m, lfsr_k)
        np.testing.assert_array_equal(qk, q)
        assert int(lfsr_k) == lfsr


def test_int_pair_matches_golden_serial_unit():
    golden = pytest.importorskip("hwsnn.golden.stdp")
    from hwsnn.spec.units import StdpUpdateParams

    rng = np.random.default_rng(7)
    up = StdpUpdateParams(A_PLUS=23, A_MINUS=11, SHIFT_PLUS=5, SHIFT_MINUS=7, W_MAX=200)
    rule = PairSTDPInt(A_PLUS=23, A_MINUS=11, SHIFT_PLUS=5, SHIFT_MINUS=7, W_MAX=200)
    q = rng.integers(0, 201, (6, 8)).astype(np.int64)
    x, y = rng.integers(0, 256, 6).astype(np.int64), rng.integers(0, 256, 8).astype(np.int64)
    pre, pi = _spikes(rng, 6, 0.5)
    post, po = _spikes(rng, 8, 0.5)
    ii, jj = np.nonzero(pre[:, None] | post[None, :])  # row-major order
    wn, _, _, r_end = golden.stdp_update_serial(up, up.LFSR_SEED, q[ii, jj], x[ii], y[jj], pre[ii], post[jj])
    lut_p, lut_m = rule.luts()
    r = pair_stdp_int(q, x, y, pre, pi, post, po, rule.consts(), lut_p, lut_m, np.int64(up.LFSR_SEED))
    np.testing.assert_array_equal(q[ii, jj], wn)
    assert int(r) == r_end


def test_bit_exact_checker_rejects_mutant():
    """The contract transcription detects a one-bit change of the rounding bits (r_minus from bit 7)."""
    rng = np.random.default_rng(1)
    p = dict(A_PLUS=16, A_MINUS=8, SHIFT_PLUS=8, SHIFT_MINUS=8, W_MAX=255)
    q = rng.integers(0, 256, (8, 8)).astype(np.int64)
    x, y = rng.integers(0, 256, 8), rng.integers(0, 256, 8)
    pre, post = np.ones(8, np.uint8), np.ones(8, np.uint8)

    def mutant(p, lfsr, w, x_pre, x_post, pre, post):
        r = lfsr
        dp = (x_pre * p["A_PLUS"] + (r & 255)) >> 8 if post else 0
        dm = (x_post * p["A_MINUS"] + ((r >> 7) & 255)) >> 8 if pre else 0
        return min(max(w + dp - dm, 0), 255), lfsr_next(lfsr)

    good, _ = contract_serial(p, 0xACE1, q, x, y, pre, post)
    bad = q.copy()
    lfsr = 0xACE1
    for i in range(8):
        for j in range(8):
            bad[i, j], lfsr = mutant(p, lfsr, int(bad[i, j]), int(x[i]), int(y[j]), 1, 1)
    assert not np.array_equal(good, bad)


# -- event-driven vs dense ----------------------------------------------------------------------
def dense_pair(w, x, y, pre, post, r: PairSTDP):
    up = np.maximum(r.w_max - w, 0)
    dn = np.maximum(w - r.w_min, 0)
    f_plus = {"additive": 1.0, "softbound": up, "powerlaw": up ** r.mu, "dc_powerlaw": up ** r.mu}[r.weight_dependence]
    if r.weight_dependence == "dc_powerlaw":
        ltp = r.eta_plus * (x[:, None] - r.x_tar) * post[None, :] * f_plus
        ltd = 0.0
    else:
        f_minus = {"additive": 1.0, "softbound": dn, "powerlaw": dn ** r.mu}[r.weight_dependence]
        ltp = r.eta_plus * np.outer(x, post) * f_plus
        ltd = r.eta_minus * np.outer(pre, y) * f_minus
    return np.clip(w + ltp - ltd, r.w_min, r.w_max)


@pytest.mark.parametrize("wd", ["additive", "softbound", "powerlaw", "dc_powerlaw"])
@pytest.mark.parametrize("p_post", [0.0, 0.2])
def test_pair_event_driven_equals_dense(wd, p_post):
    rng = np.random.default_rng(3)
    r = PairSTDP(eta_plus=0.3, eta_minus=0.2, weight_dependence=wd, mu=0.4)
    w = rng.random((30, 20))
    x, y = rng.random(30), rng.random(20)
    pre, pi = _spikes(rng, 30, 0.2)
    post, po = _spikes(rng, 20, p_post)
    want = dense_pair(w, x, y, pre, post, r)
    pair_stdp_float(w, x, y, pre, pi, post, po, r.kind, r.fparams())
    np.testing.assert_allclose(w, want, rtol=0, atol=1e-14)


def test_triplet_event_driven_equals_dense():
    rng = np.random.default_rng(4)
    r = TripletSTDP(nu_pre=0.05, nu_post=0.3)
    w = rng.random((25, 15))
    pre_tr, p1, p2 = rng.random(25), rng.random(15), rng.random(15)
    pre, pi = _spikes(rng, 25, 0.3)
    post, po = _spikes(rng, 15, 0.3)
    want = np.clip(w - r.nu_pre * np.outer(pre, p1) + r.nu_post * np.outer(pre_tr, post * p2), 0, 1)
    triplet_stdp_float(w, pre_tr, p1, p2, pre, pi, post, po, r.fparams())
    np.testing.assert_allclose(w, want, atol=1e-14)


def test_triplet_int_serial_reference():
    """Integer triplet == a plain-Python serial unit (row-major, one LFSR advance per synapse)."""
    rng = np.random.default_rng(5)
    rule = TripletSTDP(nu_pre=0.01, nu_post=0.2).to_int()
    q = rng.integers(0, 256, (10, 6)).astype(np.int64)
    pre_tr, p1, p2 = (rng.integers(0, 256, n).astype(np.int64) for n in (10, 6, 6))
    pre, pi = _spikes(rng, 10, 0.4)
    post, po = _spikes(rng, 6, 0.4)

    def sr(p, r, s):  # stochastic rounding with 16 random bits, extended for shifts > 16
        if s > 16:
            p, s = p >> (s - 16), 16
        return (p + (r & ((1 << s) - 1))) >> s

    want = q.copy()
    lfsr = rule.LFSR_SEED
    for i in range(10):
        for j in range(6):
            if pre[i] or post[j]:
                rm = ((lfsr >> 8) | (lfsr << 8)) & 0xFFFF
                dp = sr(int(pre_tr[i] * p2[j] * rule.NU_POST_M), lfsr, rule.NU_POST_E) if post[j] else 0
                dm = sr(int(p1[j] * rule.NU_PRE_M), rm, rule.NU_PRE_E) if pre[i] else 0
                want[i, j] = min(max(want[i, j] + dp - dm, 0), 255)
                lfsr = lfsr_next(lfsr)
    r = triplet_stdp_int(q, pre_tr, p1, p2, pre, pi, post, po, rule.consts(), np.int64(rule.LFSR_SEED))
    np.testing.assert_array_equal(q, want)
    assert int(r) == lfsr


# -- stochastic rounding ------------------------------------------------------------------------
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


def test_int_float_conversion_round_trip():
    f = PairSTDP(eta_plus=0.01, eta_minus=0.0123, tau_plus=16e-3, tau_minus=32e-3)
    g = f.to_int().to_float()
    assert g.eta_plus == pytest.approx(f.eta_plus, rel=2 ** -7)
    assert g.eta_minus == pytest.approx(f.eta_minus, rel=2 ** -7)
    assert g.tau_plus == pytest.approx(15.5e-3, rel=0.01)  # 1 - 2**-4 per step
    t = TripletSTDP().to_int()
    assert t == TripletSTDPInt()  # the documented defaults are the D&C constants' twin
    assert t.to_float().nu_pre == pytest.approx(1e-4, rel=2 ** -7)


@pytest.mark.parametrize("cls,field,value", [
    (PairSTDP, "eta_plus", -1.0),
    (PairSTDP, "tau_minus", 0.0),
    (PairSTDP, "weight_dependence", "cubic"),
    (PairSTDP, "w_max", -1.0),
    (PairSTDP, "trace", "all"),
    (PairSTDPInt, "SHIFT_PLUS", 0),
    (PairSTDPInt, "LFSR_SEED", 0),
    (PairSTDPInt, "W_MAX", 256),
    (TripletSTDP, "tau_post2", -1.0),
    (TripletSTDPInt, "NU_PRE_E", 99),
])
def test_bad_config_names_field(cls, field, value):
    with pytest.raises(ConfigError) as e:
        cls(**{field: value})
    assert e.value.field == field
