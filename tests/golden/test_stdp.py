"""Golden ``stdp_trace`` / ``stdp_update`` against the contract: independent transcriptions,
directed cases, the rounding properties, and the population/serial forms bit-exact against the
scalar forms."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsnn.errors import ConfigError
from hwsnn.golden.stdp import (
    StdpTraceIn,
    StdpUpdateIn,
    stdp_trace_pop_step,
    stdp_trace_reset,
    stdp_trace_step,
    stdp_update_pop_reset,
    stdp_update_pop_step,
    stdp_update_reset,
    stdp_update_serial,
    stdp_update_step,
)
from hwsnn.spec.units import StdpTraceParams, StdpUpdateParams


# --------------------------------------------------------------------------- stdp_trace


@settings(max_examples=40, deadline=None)
@given(x_bits=st.integers(1, 16), k=st.integers(0, 16), seed=st.integers(0, 2**31))
def test_trace_equals_contract(x_bits, k, seed):
    P = StdpTraceParams(X_BITS=x_bits, DECAY_SHIFT=k)
    rng = random.Random(seed)
    s, x = stdp_trace_reset(P), 0
    for _ in range(300):
        step, spike = int(rng.random() < 0.9), int(rng.random() < 0.1)
        if step:  # contract: x' = 2**X_BITS - 1 if spike else x - ((x + 2**k - 1) >> k)
            x = 2**x_bits - 1 if spike else x - ((x + 2**k - 1) >> k)
        out, s = stdp_trace_step(P, s, StdpTraceIn(step, spike))
        assert out.x == x == s.x


def test_trace_ceil_decay_reaches_zero_exactly():
    P = StdpTraceParams()  # X_BITS=8, DECAY_SHIFT=3
    _, s = stdp_trace_step(P, stdp_trace_reset(P), StdpTraceIn(1, 1))
    seq = [s.x]
    while s.x:
        _, s = stdp_trace_step(P, s, StdpTraceIn(1, 0))
        seq.append(s.x)
    # every step removes ceil(x/8) (math.ceil on exact rationals, independent of the shift form)
    assert all(b == a - math.ceil(a / 8) for a, b in zip(seq, seq[1:]))
    assert seq[:3] == [255, 223, 195] and seq[-1] == 0
    _, s2 = stdp_trace_step(P, s, StdpTraceIn(1, 0))
    assert s2.x == 0


def test_trace_population_equals_scalar():
    P = StdpTraceParams(X_BITS=6, DECAY_SHIFT=2)
    rng = np.random.default_rng(3)
    x = np.zeros(50, dtype=np.int64)
    scal = [stdp_trace_reset(P) for _ in range(50)]
    for _ in range(200):
        spike, step = rng.random(50) < 0.1, rng.random(50) < 0.9
        x = stdp_trace_pop_step(P, x, spike, step)
        for j in range(50):
            _, scal[j] = stdp_trace_step(P, scal[j], StdpTraceIn(int(step[j]), int(spike[j])))
        assert [s.x for s in scal] == x.tolist()


# --------------------------------------------------------------------------- stdp_update


class ContractUpdate:
    """The ``stdp_update`` pseudo-code (docs/hardware/fixed_point.md), transcribed with its own LFSR."""

    def __init__(self, P):
        self.P, self.lfsr = P, P.LFSR_SEED
        self.out = (0, 0, 0, 0)

    def edge(self, valid, w, x_pre, x_post, pre, post):
        P = self.P
        if not valid:
            self.out = (0, *self.out[1:])
            return self.out
        r = self.lfsr
        r_plus = r & (2**P.SHIFT_PLUS - 1)
        r_minus = (r >> 8) & (2**P.SHIFT_MINUS - 1)
        dp = (x_pre * P.A_PLUS + r_plus) >> P.SHIFT_PLUS if post else 0
        dm = (x_post * P.A_MINUS + r_minus) >> P.SHIFT_MINUS if pre else 0
        wn = max(0, min(P.W_MAX, w + dp - dm))
        self.out = (1, wn, max(wn - w, 0), max(w - wn, 0))
        lsb = self.lfsr & 1
        self.lfsr >>= 1
        if lsb:
            self.lfsr ^= 0xB400
        return self.out


@st.composite
def update_params(draw):
    w_bits = draw(st.integers(1, 12))
    return StdpUpdateParams(
        W_BITS=w_bits, W_MAX=draw(st.integers(1, 2**w_bits - 1)), X_BITS=draw(st.integers(1, 12)),
        A_PLUS=draw(st.integers(0, 300)), A_MINUS=draw(st.integers(0, 300)), SHIFT_PLUS=draw(st.integers(1, 8)),
        SHIFT_MINUS=draw(st.integers(1, 8)), LFSR_SEED=draw(st.integers(1, 0xFFFF)),
    )


@settings(max_examples=60, deadline=None)
@given(P=update_params(), seed=st.integers(0, 2**31))
def test_update_equals_contract(P, seed):
    rng = random.Random(seed)
    ref, s = ContractUpdate(P), stdp_update_reset(P)
    for _ in range(300):
        vec = (int(rng.random() < 0.8), rng.randint(0, 2**P.W_BITS - 1), rng.randint(0, 2**P.X_BITS - 1),
               rng.randint(0, 2**P.X_BITS - 1), rng.randint(0, 1), rng.randint(0, 1))
        out, s = stdp_update_step(P, s, StdpUpdateIn(*vec))
        assert tuple(out) == ref.edge(*vec)
        assert s.lfsr == ref.lfsr


def test_update_reset_and_hold_on_invalid():
    P = StdpUpdateParams(LFSR_SEED=0x1234)
    s = stdp_update_reset(P)
    assert tuple(s) == (0x1234, 0, 0, 0, 0)
    out, s1 = stdp_update_step(P, s, StdpUpdateIn(1, 100, 255, 0, 0, 1))
    assert out.out_valid == 1 and s1.lfsr != 0x1234
    out, s2 = stdp_update_step(P, s1, StdpUpdateIn(0, 7, 7, 7, 1, 1))
    assert (out.out_valid, out.w_new, out.n_set, out.n_reset) == (0, s1.w_new, s1.n_set, s1.n_reset)
    assert s2.lfsr == s1.lfsr


def test_stochastic_rounding_is_unbiased_over_the_lfsr_period():
    # dp = floor((x*A + r)/2**S) with r uniform over the LFSR: mean dp -> x*A/2**S
    P = StdpUpdateParams(A_PLUS=16, SHIFT_PLUS=8, W_MAX=255)
    s = stdp_update_reset(P)
    total, n = 0, 65535
    for _ in range(n):
        out, s = stdp_update_step(P, s, StdpUpdateIn(1, 100, 200, 0, 0, 1))
        total += out.n_set
    assert abs(total / n - 200 * 16 / 256) < 0.01
    assert s.lfsr == P.LFSR_SEED  # one full period


def test_saturation_and_pulse_counts():
    P = StdpUpdateParams(W_BITS=4, W_MAX=12, A_PLUS=255, A_MINUS=255, SHIFT_PLUS=1, SHIFT_MINUS=1)
    s = stdp_update_reset(P)
    out, s = stdp_update_step(P, s, StdpUpdateIn(1, 10, 255, 0, 0, 1))
    assert (out.w_new, out.n_set, out.n_reset) == (12, 2, 0)
    out, s = stdp_update_step(P, s, StdpUpdateIn(1, 14, 0, 0, 0, 0))  # w above W_MAX: pulled down
    assert (out.w_new, out.n_set, out.n_reset) == (12, 0, 2)
    out, s = stdp_update_step(P, s, StdpUpdateIn(1, 3, 0, 255, 1, 0))
    assert (out.w_new, out.n_set, out.n_reset) == (0, 0, 3)


@pytest.mark.parametrize(
    "bad, field",
    [(dict(SHIFT_PLUS=9), "SHIFT_PLUS"), (dict(SHIFT_MINUS=0), "SHIFT_MINUS"), (dict(W_MAX=256), "W_MAX"),
     (dict(LFSR_SEED=0), "LFSR_SEED"), (dict(W_BITS=0), "W_BITS"), (dict(A_PLUS=-1), "A_PLUS")],
)
def test_update_bad_parameters_name_the_field(bad, field):
    with pytest.raises(ConfigError, match=field):
        StdpUpdateParams(**bad)


@pytest.mark.parametrize("bad, field", [(dict(X_BITS=0), "X_BITS"), (dict(DECAY_SHIFT=-1), "DECAY_SHIFT")])
def test_trace_bad_parameters_name_the_field(bad, field):
    with pytest.raises(ConfigError, match=field):
        StdpTraceParams(**bad)


@pytest.mark.parametrize(
    "P",
    [StdpUpdateParams(),
     StdpUpdateParams(W_BITS=4, W_MAX=15, X_BITS=6, A_PLUS=5, A_MINUS=3, SHIFT_PLUS=3, SHIFT_MINUS=2, LFSR_SEED=0x1D2B)],
)
def test_population_and_serial_forms_equal_scalar(P):
    rng = np.random.default_rng(11)
    n, t = 16, 300
    seeds = rng.integers(1, 0x10000, size=n)
    pop = stdp_update_pop_reset(P, n, seeds=seeds)
    scal = [stdp_update_reset(P)._replace(lfsr=int(sd)) for sd in seeds]
    wmax_port, xmax = 2**P.W_BITS - 1, 2**P.X_BITS - 1
    for _ in range(t):
        ins = StdpUpdateIn(
            (rng.random(n) < 0.8).astype(np.int64), rng.integers(0, wmax_port + 1, n), rng.integers(0, xmax + 1, n),
            rng.integers(0, xmax + 1, n), rng.integers(0, 2, n), rng.integers(0, 2, n),
        )
        out, pop = stdp_update_pop_step(P, pop, ins)
        for j in range(n):
            o, scal[j] = stdp_update_step(P, scal[j], StdpUpdateIn(*(int(a[j]) for a in ins)))
            assert tuple(o) == tuple(int(a[j]) for a in out)
    assert [s.lfsr for s in scal] == pop.lfsr.tolist()

    k = 500
    w, xp, xq = rng.integers(0, wmax_port + 1, k), rng.integers(0, xmax + 1, k), rng.integers(0, xmax + 1, k)
    pr, po = rng.integers(0, 2, k), rng.integers(0, 2, k)
    wn, ns, nr, r_after = stdp_update_serial(P, P.LFSR_SEED, w, xp, xq, pr, po)
    s = stdp_update_reset(P)
    for i in range(k):
        o, s = stdp_update_step(P, s, StdpUpdateIn(1, int(w[i]), int(xp[i]), int(xq[i]), int(pr[i]), int(po[i])))
        assert (o.w_new, o.n_set, o.n_reset) == (wn[i], ns[i], nr[i])
    assert s.lfsr == r_after
