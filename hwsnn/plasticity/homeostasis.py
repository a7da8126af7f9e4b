"""Synaptic homeostasis (R4): normalisation, hardware stepwise scaling, rate-based scaling.

All three act on the columns of ``w[n_pre, n_post]`` (the afferents of one postsynaptic neuron)
in phase 7 (``slow_rules``) of the per-step order, every ``period`` steps.

R4a -- normalisation (Diehl & Cook): ``w[:, j] <- w[:, j] * S_tgt / sum_i w[i, j]``.  Integer
twin: ``q <- (2 q T + S) // (2 S)`` (round half up), with ``T`` the target in codes.

R4b -- stepwise scaling: ``S_j = sum_i w_ij`` (on a crossbar: one read with every row active);
``S_j > T + delta``: ``w <- w - (w >> s)``; ``S_j < T - delta``: ``w <- w + (w >> s) + 1``
(integer, saturating at ``W_MAX``).  The float twin uses the same multiplicative step without
the floor: ``w * (1 - 2**-s)`` and ``w * (1 + 2**-s) + lsb`` (``lsb`` = one code step).

R4c -- rate-based scaling (Turrigiano): float ``rbar <- rbar d + (1 - d) s / dt`` every step (Hz),
every ``period`` steps ``w += eta * w * (r_target - rbar)``.  Integer twin:
``rbar <- rbar - (rbar >> K_R) + (s << (B_R - K_R))`` (``rbar / 2**B_R`` = spikes per step),
``dq = sround(q * (R_TGT - rbar) * H_M, B_R + H_E)`` with the LFSR16 bits as in ``stdp_update``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from hwsnn.plasticity.base import Learner, check_backend
from hwsnn.plasticity.fixed import lfsr_advance, sround
from hwsnn.snn._params import ParamsMixin, check_float, check_int, mant_exp
from hwsnn.spec.lfsr import LFSR_SEED_DEFAULT, check_seed

__all__ = [
    "Normalize",
    "StepwiseScaling",
    "RateScaling",
    "RateScalingInt",
    "normalize_columns",
    "normalize_columns_int",
    "stepwise_scale_float",
    "stepwise_scale_int",
    "rate_track_float",
    "rate_track_int",
    "rate_scale_float",
    "rate_scale_int",
]


# ----------------------------------------------------------------------------------------------
# Kernels
# ----------------------------------------------------------------------------------------------


@njit(cache=True)
def normalize_columns(w, target, w_max):
    """R4a in place: each column with a positive sum is rescaled to sum ``target`` (clipped at
    ``w_max``; a clipped column sums below target).  Zero columns are left alone."""
    # two row-major passes (the array is C-ordered: column-strided loops would miss the cache)
    n_pre, n_post = w.shape
    f = np.zeros(n_post)
    for i in range(n_pre):
        for j in range(n_post):
            f[j] += w[i, j]
    for j in range(n_post):
        f[j] = target / f[j] if f[j] > 0.0 else 1.0
    for i in range(n_pre):
        for j in range(n_post):
            v = w[i, j] * f[j]
            w[i, j] = w_max if v > w_max else v


@njit(cache=True)
def normalize_columns_int(q, target, w_max):
    """R4a integer twin in place: ``q <- round(q * T / S)`` (half up), saturating at ``w_max``."""
    n_pre, n_post = q.shape
    for j in range(n_post):
        s = np.int64(0)
        for i in range(n_pre):
            s += q[i, j]
        if s > 0:
            for i in range(n_pre):
                v = (2 * q[i, j] * target + s) // (2 * s)
                q[i, j] = w_max if v > w_max else v


@njit(cache=True)
def normalize_columns_int_sr(q, target, w_max, lfsr):
    """R4a integer twin with LFSR16 stochastic rounding, in place (row-major, one LFSR16 advance
    per synapse): ``q <- (q * T * 2**16 // S + r) >> 16`` saturating at ``w_max``; ``lfsr[0]`` is
    the shared LFSR16 state.  Unbiased: small codes are not rounded away column after column."""
    n_pre, n_post = q.shape
    s = np.zeros(n_post, np.int64)
    for i in range(n_pre):
        for j in range(n_post):
            s[j] += q[i, j]
    r = lfsr[0]
    for i in range(n_pre):
        for j in range(n_post):
            if s[j] > 0:
                v = ((q[i, j] * target << 16) // s[j] + r) >> 16
                q[i, j] = w_max if v > w_max else v
                r = lfsr_advance(r)
    lfsr[0] = r


@njit(cache=True)
def stepwise_scale_float(w, sums, target, delta, shift, lsb, w_max):
    """R4b float twin in place; ``sums[j]`` is the measured column sum.  Returns the direction
    per column (-1 down, 0 hold, +1 up)."""
    n_pre, n_post = w.shape
    f = 2.0 ** -shift
    out = np.zeros(n_post, dtype=np.int64)
    for j in range(n_post):
        if sums[j] > target + delta:
            out[j] = -1
            for i in range(n_pre):
                w[i, j] = w[i, j] - w[i, j] * f
        elif sums[j] < target - delta:
            out[j] = 1
            for i in range(n_pre):
                v = w[i, j] + w[i, j] * f + lsb
                w[i, j] = w_max if v > w_max else v
    return out


@njit(cache=True)
def stepwise_scale_int(q, sums, target, delta, shift, w_max):
    """R4b integer in place (``q - (q >> s)`` down, ``q + (q >> s) + 1`` up, saturating)."""
    n_pre, n_post = q.shape
    out = np.zeros(n_post, dtype=np.int64)
    for j in range(n_post):
        if sums[j] > target + delta:
            out[j] = -1
            for i in range(n_pre):
                q[i, j] = q[i, j] - (q[i, j] >> shift)
        elif sums[j] < target - delta:
            out[j] = 1
            for i in range(n_pre):
                v = q[i, j] + (q[i, j] >> shift) + 1
                q[i, j] = w_max if v > w_max else v
    return out


@njit(cache=True)
def rate_track_float(rbar, spk, d, dt):
    """R4c rate estimate (Hz): ``rbar <- rbar d + (1 - d) s / dt``."""
    for j in range(rbar.shape[0]):
        rbar[j] = rbar[j] * d + (1.0 - d) * spk[j] / dt


@njit(cache=True)
def rate_track_int(rbar, spk, k_r, b_r):
    """R4c integer rate estimate: ``rbar <- rbar - (rbar >> K_R) + (s << (B_R - K_R))``."""
    for j in range(rbar.shape[0]):
        rbar[j] = rbar[j] - (rbar[j] >> k_r) + (np.int64(spk[j]) << (b_r - k_r))


@njit(cache=True)
def rate_scale_float(w, rbar, r_target, eta, w_min, w_max):
    """R4c float in place: ``w += eta * w * (r_target - rbar_j)``, clipped."""
    n_pre, n_post = w.shape
    for j in range(n_post):
        g = eta * (r_target - rbar[j])
        for i in range(n_pre):
            v = w[i, j] + g * w[i, j]
            w[i, j] = w_min if v < w_min else w_max if v > w_max else v


@njit(cache=True)
def rate_scale_int(q, rbar, r_tgt, h_m, shift, w_max, lfsr):
    """R4c integer in place; one LFSR16 advance per synapse (row-major).  Returns the LFSR state."""
    n_pre, n_post = q.shape
    r = lfsr
    for i in range(n_pre):
        for j in range(n_post):
            dq = sround(q[i, j] * (r_tgt - rbar[j]) * h_m, r, shift)
            v = q[i, j] + dq
            q[i, j] = 0 if v < 0 else w_max if v > w_max else v
            r = lfsr_advance(r)
    return r


# ----------------------------------------------------------------------------------------------
# Rules
# ----------------------------------------------------------------------------------------------


def _period(obj):
    check_int(obj, "period", 1)


@dataclass(frozen=True, kw_only=True)
class Normalize(ParamsMixin):
    """R4a: rescale every column to sum ``target`` every ``period`` steps (phase 7)."""

    target: float = 78.0
    """Column sum after normalisation (D&C: 78 for 784 inputs, i.e. 0.1 per input)."""
    period: int = 500
    """Steps between normalisations (one sample in D&C: 350 + 150 ms)."""
    w_min: float = 0.0
    """Lower weight bound (must be 0: normalisation is multiplicative)."""
    w_max: float = 1.0
    """Upper weight bound (clip)."""

    def __post_init__(self):
        check_float(self, "target", 0.0, lo_open=True)
        _period(self)
        check_float(self, "w_min", 0.0, 0.0)
        check_float(self, "w_max", 0.0, lo_open=True)

    def bind(self, syn, dt, seed=0) -> Learner:
        check_backend(syn, ("ideal", "int", "crossbar"), "Normalize")
        return _NormalizeLearner(self, syn)


class _NormalizeLearner(Learner):
    def __init__(self, rule, syn):
        self.rule, self.syn = rule, syn

    def slow(self, step, post_pop):
        if (step + 1) % self.rule.period:
            return
        syn, r = self.syn, self.rule
        if syn.kind == "ideal":
            normalize_columns(syn.w, r.target, r.w_max)
        elif syn.kind == "int":
            normalize_columns_int(syn.q, int(round(r.target / syn.lsb)), syn.W_MAX)
        else:
            w0 = syn.weights()
            w1 = w0.copy()
            normalize_columns(w1, r.target, r.w_max)
            syn.xbar.update(w1 - w0)
            syn._cache = None


@dataclass(frozen=True, kw_only=True)
class StepwiseScaling(ParamsMixin):
    """R4b: hardware stepwise synaptic scaling toward a column-sum band."""

    target: float = 19.2
    """Target column sum (weight units)."""
    delta: float = 1.0
    """Half-width of the dead band (weight units)."""
    shift: int = 4
    """Multiplicative step ``2**-shift``."""
    period: int = 500
    """Steps between scaling events."""
    w_min: float = 0.0
    """Lower weight bound (0)."""
    w_max: float = 1.0
    """Upper weight bound."""
    lsb: float = 1.0 / 255
    """Float twin: additive part of the up-step (one code step of the integer twin)."""

    def __post_init__(self):
        check_float(self, "target", 0.0, lo_open=True)
        check_float(self, "delta", 0.0)
        check_int(self, "shift", 1, 16)
        _period(self)
        check_float(self, "w_min", 0.0, 0.0)
        check_float(self, "w_max", 0.0, lo_open=True)
        check_float(self, "lsb", 0.0)

    def bind(self, syn, dt, seed=0) -> Learner:
        check_backend(syn, ("ideal", "int", "crossbar"), "StepwiseScaling")
        return _StepwiseLearner(self, syn)


class _StepwiseLearner(Learner):
    def __init__(self, rule, syn):
        self.rule, self.syn = rule, syn
        self.last = None

    def slow(self, step, post_pop):
        if (step + 1) % self.rule.period:
            return
        syn, r = self.syn, self.rule
        if syn.kind == "ideal":
            self.last = stepwise_scale_float(syn.w, syn.w.sum(axis=0), r.target, r.delta, r.shift, r.lsb, r.w_max)
        elif syn.kind == "int":
            self.last = stepwise_scale_int(syn.q, syn.q.sum(axis=0), int(round(r.target / syn.lsb)),
                                           int(round(r.delta / syn.lsb)), r.shift, syn.W_MAX)
        else:
            # the column sums are one crossbar read with every row active (through the ADC)
            sums = syn.xbar.read_currents(np.arange(syn.n_pre, dtype=np.int64))
            w0 = syn.weights()
            w1 = w0.copy()
            self.last = stepwise_scale_float(w1, sums, r.target, r.delta, r.shift, r.lsb, r.w_max)
            syn.xbar.update(w1 - w0)
            syn._cache = None


@dataclass(frozen=True, kw_only=True)
class RateScaling(ParamsMixin):
    """R4c float: multiplicative scaling of a neuron's afferents toward a target rate."""

    r_target: float = 10.0
    """Target postsynaptic rate (Hz)."""
    tau_r: float = 1.0
    """Rate-estimate time constant (s)."""
    eta: float = 1e-3
    """Scaling rate (per Hz of rate error, per scaling event)."""
    period: int = 100
    """Steps between scaling events."""
    w_min: float = 0.0
    """Lower weight bound."""
    w_max: float = 1.0
    """Upper weight bound."""

    def __post_init__(self):
        check_float(self, "r_target", 0.0)
        check_float(self, "tau_r", 0.0, lo_open=True)
        check_float(self, "eta", 0.0)
        _period(self)
        check_float(self, "w_min", 0.0, 0.0)
        check_float(self, "w_max", 0.0, lo_open=True)

    def to_int(self, *, dt: float = 1e-3, B_R: int = 16, LFSR_SEED: int = LFSR_SEED_DEFAULT) -> "RateScalingInt":
        """Integer twin: rate shift matched to ``tau_r``, ``H_M / 2**H_E = eta / dt``."""
        k_r = max(1, min(B_R, int(round(math.log2(max(self.tau_r / dt, 1.0))))))
        # dq = q * (R_tgt - rbar) * H / 2**(B_R+H_E) with (R - rbar)/2**B_R in spikes per step
        m, e = mant_exp(self.eta / dt, 8, 40)
        return RateScalingInt(R_TGT=int(round(self.r_target * dt * (1 << B_R))), K_R=k_r, B_R=B_R, H_M=m, H_E=e,
                              period=self.period, LFSR_SEED=LFSR_SEED)

    def bind(self, syn, dt, seed=0) -> Learner:
        kind = check_backend(syn, ("ideal", "int", "crossbar"), "RateScaling")
        if kind == "int":
            return self.to_int(dt=dt).bind(syn, dt, seed)
        return _RateFloatLearner(self, syn, dt)


@dataclass(frozen=True, kw_only=True)
class RateScalingInt(ParamsMixin):
    """R4c integer twin (rate register of ``B_R`` fraction bits per step)."""

    R_TGT: int = 655
    """Target rate code (spikes per step * 2**B_R; 655 = 10 Hz at 1 ms)."""
    K_R: int = 10
    """Rate-estimate shift (time constant about ``2**K_R`` steps)."""
    B_R: int = 16
    """Fraction bits of the rate register."""
    H_M: int = 128
    """Scaling mantissa."""
    H_E: int = 7
    """Scaling shift beyond ``B_R``."""
    period: int = 100
    """Steps between scaling events."""
    LFSR_SEED: int = LFSR_SEED_DEFAULT
    """Reset state of the rule's LFSR16."""

    def __post_init__(self):
        check_int(self, "B_R", 1, 30)
        check_int(self, "K_R", 1, self.B_R)
        check_int(self, "R_TGT", 0, 1 << self.B_R)
        check_int(self, "H_M", 0, 1 << 24)
        check_int(self, "H_E", 0, 48)
        _period(self)
        check_seed(self.LFSR_SEED)

    def bind(self, syn, dt, seed=0) -> Learner:
        check_backend(syn, ("int",), "RateScalingInt")
        return _RateIntLearner(self, syn)


class _RateFloatLearner(Learner):
    def __init__(self, rule, syn, dt):
        self.rule, self.syn, self.dt = rule, syn, dt
        self.d = math.exp(-dt / rule.tau_r)
        self.rbar = np.zeros(syn.n_post)

    def increment(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        rate_track_float(self.rbar, post_spk, self.d, self.dt)

    def slow(self, step, post_pop):
        if (step + 1) % self.rule.period:
            return
        r, syn = self.rule, self.syn
        if syn.kind == "ideal":
            rate_scale_float(syn.w, self.rbar, r.r_target, r.eta, r.w_min, r.w_max)
        else:
            w0 = syn.weights()
            w1 = w0.copy()
            rate_scale_float(w1, self.rbar, r.r_target, r.eta, r.w_min, r.w_max)
            syn.xbar.update(w1 - w0)
            syn._cache = None


class _RateIntLearner(Learner):
    def __init__(self, rule, syn):
        self.rule, self.syn = rule, syn
        self.rbar = np.zeros(syn.n_post, dtype=np.int64)
        self.lfsr = np.int64(rule.LFSR_SEED)

    def increment(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        rate_track_int(self.rbar, post_spk, self.rule.K_R, self.rule.B_R)

    def slow(self, step, post_pop):
        if (step + 1) % self.rule.period:
            return
        r = self.rule
        self.lfsr = rate_scale_int(self.syn.q, self.rbar, r.R_TGT, r.H_M, r.B_R + r.H_E, self.syn.W_MAX, self.lfsr)
