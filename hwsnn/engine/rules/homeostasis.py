"""Slow synaptic homeostasis rules for :class:`hwsnn.snn.Network`: normalisation, hardware
stepwise scaling and rate-based scaling, float rules and integer twins.

They act on the columns of ``w[n_pre, n_post]`` (the afferents of one postsynaptic neuron) in the
``slow_rules`` phase, every ``period`` steps while learning.  A slow rule (``slow = True``)
provides ``init_state(n_post)``, optionally ``track(state, spk)`` (every learning step, ``spk``
0/1 per postsynaptic neuron), and ``sample_dw(state, w, counts, sums)`` (float weights; ``sums``
the measured column sums, e.g. one crossbar read with every row active) or, for integer twins,
``sample_dq(state, q, counts, q_max, lfsr)`` (codes; ``lfsr`` the projection's shared LFSR16,
a one-element ``int64`` array).  The network adds the change and clips to ``[0, w_max]``.
The main job's layer has its own per-sample normalisation (``homeostasis.norm_per_input``, the
same :func:`~hwsnn.plasticity.homeostasis.normalize_columns` kernels) and per-sample
``synaptic_scaling``; compiled into the layer these rules raise a ConfigError.

``Normalize`` (Diehl & Cook): ``w[:, j] <- w[:, j] * target / sum_i w[i, j]``; integer twin
with LFSR16 stochastic rounding (:func:`~hwsnn.plasticity.homeostasis.normalize_columns_int_sr`).

``StepwiseScaling``: ``S_j = sum_i w_ij``; ``S_j > T + delta``: ``w <- w - (w >> s)``;
``S_j < T - delta``: ``w <- w + (w >> s) + 1`` (integer, saturating).  The float twin uses the
same multiplicative step without the floor: ``w (1 - 2**-s)`` and ``w (1 + 2**-s) + lsb``.

``RateScaling`` (Turrigiano): float ``rbar <- rbar d + (1 - d) s / dt`` every step (Hz),
every ``period`` steps ``w += eta * w * (r_target - rbar)``.  Integer twin:
``rbar <- rbar - (rbar >> K_R) + (s << (B_R - K_R))`` (``rbar / 2**B_R`` = spikes per step),
``dq = sround(q * (R_TGT - rbar) * H_M, B_R + H_E)`` with one LFSR16 advance per synapse.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
from numba import njit
from pydantic import Field

from hwsnn.engine.contract import CompileContext, IntFormat, Rule, register_rule
from hwsnn.engine.rules.stdp import int_coefficient
from hwsnn.engine.rules.threshold import network_only
from hwsnn.plasticity.homeostasis import normalize_columns, normalize_columns_int_sr, scale_columns_int_sr

__all__ = ["Normalize", "NormalizeInt", "StepwiseScaling", "StepwiseScalingInt", "RateScaling", "RateScalingInt",
           "stepwise_scale_float", "stepwise_scale_int", "rate_track_float", "rate_track_int", "rate_scale_float",
           "rate_scale_int"]


# ---------------------------------------------------------------------------------------------
# kernels


@njit(cache=True)
def stepwise_scale_float(w, sums, target, delta, shift, lsb, w_max):
    """Stepwise scaling, float, in place; ``sums[j]`` is the measured column sum.  Returns the direction
    per column (-1 down, 0 hold, +1 up)."""
    n_pre, n_post = w.shape
    f = 2.0**-shift
    out = np.zeros(n_post, dtype=np.int64)
    for j in range(n_post):
        if sums[j] > target + delta:
            out[j] = -1
        elif sums[j] < target - delta:
            out[j] = 1
    for i in range(n_pre):
        for j in range(n_post):
            if out[j] < 0:
                w[i, j] = w[i, j] - w[i, j] * f
            elif out[j] > 0:
                v = w[i, j] + w[i, j] * f + lsb
                w[i, j] = w_max if v > w_max else v
    return out


@njit(cache=True)
def stepwise_scale_int(q, sums, target, delta, shift, w_max):
    """Stepwise scaling, integer, in place (``q - (q >> s)`` down, ``q + (q >> s) + 1`` up, saturating)."""
    n_pre, n_post = q.shape
    out = np.zeros(n_post, dtype=np.int64)
    for j in range(n_post):
        if sums[j] > target + delta:
            out[j] = -1
        elif sums[j] < target - delta:
            out[j] = 1
    for i in range(n_pre):
        for j in range(n_post):
            if out[j] < 0:
                q[i, j] = q[i, j] - (q[i, j] >> shift)
            elif out[j] > 0:
                v = q[i, j] + (q[i, j] >> shift) + 1
                q[i, j] = w_max if v > w_max else v
    return out


@njit(cache=True)
def rate_track_float(rbar, spk, d, dt):
    """Rate estimate (Hz): ``rbar <- rbar d + (1 - d) s / dt``."""
    for j in range(rbar.shape[0]):
        rbar[j] = rbar[j] * d + (1.0 - d) * spk[j] / dt


@njit(cache=True)
def rate_track_int(rbar, spk, k_r, b_r):
    """Integer rate estimate: ``rbar <- rbar - (rbar >> K_R) + (s << (B_R - K_R))``."""
    for j in range(rbar.shape[0]):
        rbar[j] = rbar[j] - (rbar[j] >> k_r) + (np.int64(spk[j]) << (b_r - k_r))


@njit(cache=True)
def rate_scale_float(w, rbar, r_target, eta, w_max):
    """Rate scaling, float, in place: ``w += eta * w * (r_target - rbar_j)``, clipped to ``[0, w_max]``."""
    n_pre, n_post = w.shape
    for i in range(n_pre):
        for j in range(n_post):
            v = w[i, j] + eta * (r_target - rbar[j]) * w[i, j]
            w[i, j] = 0.0 if v < 0.0 else (w_max if v > w_max else v)


@njit(cache=True)
def rate_scale_int(q, rbar, r_tgt, h_m, shift, w_max, lfsr):
    """Rate scaling, integer, in place; one LFSR16 advance per synapse (row-major); ``lfsr[0]`` is the state."""
    scale_columns_int_sr(q, (r_tgt - rbar) * h_m, shift, w_max, lfsr)


# ---------------------------------------------------------------------------------------------
class _SlowRule(Rule):
    slow: ClassVar[bool] = True

    period: int = Field(500, ge=1)
    """Steps between applications (phase ``slow_rules``, while learning)."""

    def consts(self, ctx: CompileContext):
        network_only(self, ctx, "acts every `period` steps")
        return None

    def init_state(self, n_post: int) -> dict:
        return {}


def _codes(x: float, fmt: IntFormat, w_max: float) -> int:
    return int(round(x * ((1 << fmt.w_bits) - 1) / w_max))


@register_rule
class Normalize(_SlowRule):
    """Normalisation: rescale every column with a positive sum to sum ``target`` (weight units)."""

    kind: Literal["normalize"] = "normalize"
    target: float = Field(78.0, gt=0)
    """Column sum after normalisation (weight units; Diehl & Cook: 78 for 784 inputs)."""

    def sample_dw(self, state: dict, w: np.ndarray, counts, sums=None) -> np.ndarray:
        w1 = np.array(w, np.float64, order="C")
        normalize_columns(w1, self.target, np.inf)
        return w1 - w

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "NormalizeInt":
        return NormalizeInt(TARGET=_codes(self.target, fmt, w_max), period=self.period)


@register_rule
class NormalizeInt(_SlowRule):
    """Integer twin of :class:`Normalize`: ``q <- (q T 2**16 // S + r) >> 16`` (LFSR16 stochastic rounding, row-major,
    one advance per synapse), saturating at the largest code."""

    kind: Literal["normalize_int"] = "normalize_int"
    integer: ClassVar[bool] = True
    TARGET: int = Field(ge=1)
    """Column sum after normalisation (codes)."""

    def sample_dq(self, state: dict, q: np.ndarray, counts, q_max: int, lfsr: np.ndarray) -> np.ndarray:
        q1 = q.copy()
        normalize_columns_int_sr(q1, np.int64(self.TARGET), np.int64(q_max), lfsr)
        return q1 - q


@register_rule
class StepwiseScaling(_SlowRule):
    """Float twin of hardware stepwise synaptic scaling toward a column-sum band."""

    kind: Literal["stepwise_scaling"] = "stepwise_scaling"
    target: float = Field(19.2, gt=0)
    """Target column sum (weight units)."""
    delta: float = Field(1.0, ge=0)
    """Half-width of the dead band (weight units)."""
    shift: int = Field(4, ge=1, le=16)
    """Multiplicative step ``2**-shift``."""
    lsb: float = Field(1.0 / 255, ge=0)
    """Additive part of the up-step (one code step of the integer twin, weight units)."""

    def sample_dw(self, state: dict, w: np.ndarray, counts, sums=None) -> np.ndarray:
        w1 = np.array(w, np.float64, order="C")
        s = w1.sum(axis=0) if sums is None else np.asarray(sums, np.float64)
        state["last"] = stepwise_scale_float(w1, s, self.target, self.delta, self.shift, self.lsb, np.inf)
        return w1 - w

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "StepwiseScalingInt":
        return StepwiseScalingInt(TARGET=_codes(self.target, fmt, w_max), DELTA=_codes(self.delta, fmt, w_max),
                                  SHIFT=self.shift, period=self.period)


@register_rule
class StepwiseScalingInt(_SlowRule):
    """Stepwise scaling: ``q - (q >> SHIFT)`` above ``TARGET + DELTA``, ``q + (q >> SHIFT) + 1`` below
    ``TARGET - DELTA`` (codes, saturating)."""

    kind: Literal["stepwise_scaling_int"] = "stepwise_scaling_int"
    integer: ClassVar[bool] = True
    TARGET: int = Field(ge=0)
    """Target column sum (codes)."""
    DELTA: int = Field(0, ge=0)
    """Half-width of the dead band (codes)."""
    SHIFT: int = Field(4, ge=1, le=16)
    """Step shift."""

    def sample_dq(self, state: dict, q: np.ndarray, counts, q_max: int, lfsr: np.ndarray) -> np.ndarray:
        q1 = q.copy()
        state["last"] = stepwise_scale_int(q1, q.sum(axis=0), np.int64(self.TARGET), np.int64(self.DELTA),
                                           np.int64(self.SHIFT), np.int64(q_max))
        return q1 - q


@register_rule
class RateScaling(_SlowRule):
    """Rate scaling: multiplicative scaling of a neuron's afferents toward a target rate."""

    kind: Literal["rate_scaling"] = "rate_scaling"
    period: int = Field(100, ge=1)
    """Steps between scaling events."""
    r_target: float = Field(10.0, ge=0)
    """Target postsynaptic rate (Hz)."""
    tau_r: float = Field(1.0, gt=0)
    """Rate-estimate time constant (s)."""
    eta: float = Field(1e-3, ge=0)
    """Scaling rate (relative change per Hz of rate error, per scaling event)."""
    dt: float = Field(1e-3, gt=0)
    """Time step of the rate estimate (s); the network sets its own."""

    def init_state(self, n_post: int) -> dict:
        return {"rbar": np.zeros(n_post), "d": math.exp(-self.dt / self.tau_r)}

    def track(self, state: dict, spk: np.ndarray) -> None:
        rate_track_float(state["rbar"], spk, state["d"], self.dt)

    def sample_dw(self, state: dict, w: np.ndarray, counts, sums=None) -> np.ndarray:
        w1 = np.array(w, np.float64, order="C")
        rate_scale_float(w1, state["rbar"], self.r_target, self.eta, np.inf)
        return w1 - w

    def to_int(self, fmt: IntFormat | None = None, dt: float | None = None, w_max: float | None = None, *,
               B_R: int = 16) -> "RateScalingInt":
        """Integer twin: rate shift matched to ``tau_r``, ``H_M / 2**H_E = eta / dt``."""
        dt = self.dt if dt is None else dt
        k_r = max(1, min(B_R, int(round(math.log2(max(self.tau_r / dt, 1.0))))))
        m, e = int_coefficient(self.eta / dt, "rules.eta") if self.eta > 0 else (0, 0)
        return RateScalingInt(R_TGT=int(round(self.r_target * dt * (1 << B_R))), K_R=k_r, B_R=B_R, H_M=m, H_E=e,
                              period=self.period)


@register_rule
class RateScalingInt(_SlowRule):
    """Integer twin of :class:`RateScaling` (rate register of ``B_R`` fraction bits per step)."""

    kind: Literal["rate_scaling_int"] = "rate_scaling_int"
    integer: ClassVar[bool] = True
    period: int = Field(100, ge=1)
    """Steps between scaling events."""
    R_TGT: int = Field(655, ge=0)
    """Target rate code (spikes per step * 2**B_R; 655 = 10 Hz at 1 ms)."""
    K_R: int = Field(10, ge=1, le=30)
    """Rate-estimate shift (time constant about ``2**K_R`` steps)."""
    B_R: int = Field(16, ge=1, le=30)
    """Fraction bits of the rate register."""
    H_M: int = Field(128, ge=0)
    """Scaling mantissa."""
    H_E: int = Field(7, ge=0, le=48)
    """Scaling shift beyond ``B_R``."""

    def init_state(self, n_post: int) -> dict:
        return {"rbar": np.zeros(n_post, np.int64)}

    def track(self, state: dict, spk: np.ndarray) -> None:
        rate_track_int(state["rbar"], spk, self.K_R, self.B_R)

    def sample_dq(self, state: dict, q: np.ndarray, counts, q_max: int, lfsr: np.ndarray) -> np.ndarray:
        q1 = q.copy()
        rate_scale_int(q1, state["rbar"], np.int64(self.R_TGT), np.int64(self.H_M), np.int64(self.B_R + self.H_E),
                       np.int64(q_max), lfsr)
        return q1 - q
