"""Intrinsic / threshold plasticity (R5) and the learning-threshold-gated weight rule (R5c).

R5a -- adaptive threshold (Diehl & Cook).  Float: ``theta <- theta * exp(-dt/tau_theta) +
theta_plus * s`` (built into :class:`hwsnn.snn.LIFParams` / :class:`hwsnn.snn.CondLIFParams`
through ``theta_plus``/``tau_theta``; the stand-alone kernel is
:func:`hwsnn.snn.neurons.adaptive_threshold_float`).  Integer: a ``theta`` register with ``F``
fraction bits below the membrane LSB; on a spike ``theta += THETA_PLUS``; every ``2**P`` steps
``theta -= theta >> Q`` (prescaled decay; time constant about ``2**(P+Q)`` steps).

R5b -- homeostatic intrinsic plasticity.  Float: ``theta += eta * (s - rho)`` per step (clipped
at ``theta_min``); integer: ``theta += s * UP - DN`` per step with ``DN / UP = rho``.

R5c -- Nomura-Nishi stepwise firing threshold with synchronised learning thresholds.  The
firing-threshold part (level steps per window) is the ``lif_stepwise`` neuron itself
(:class:`hwsnn.spec.LifStepwiseParams` / its float twin :class:`hwsnn.snn.StepwiseLIFParams`);
the weight part is :class:`StepwiseGated`: on a presynaptic spike ``i``, for every target ``j``::

    if learn_up_j:   w_ij = min(w_ij + w_step, w_max)
    elif learn_dn_j: w_ij = max(w_ij - w_step, w_min)

with ``learn_up = v >= theta - LEARN_UP`` and ``learn_dn = v < theta - LEARN_DN`` read from the
postsynaptic neuron's state after this step's phases 1-4 (Contract 1: the flags are
combinational from the registered state).  Float and integer are the same algorithm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from hwsnn.errors import ConfigError
from hwsnn.plasticity.base import Learner, check_backend
from hwsnn.snn._params import ParamsMixin, check_float, check_int
from hwsnn.snn.neurons import adaptive_threshold_float

__all__ = [
    "adaptive_threshold_float",
    "adaptive_threshold_int",
    "AdaptiveThresholdInt",
    "homeostatic_ip_float",
    "homeostatic_ip_int",
    "HomeostaticIP",
    "HomeostaticIPInt",
    "stepwise_gated_update",
    "StepwiseGated",
]


@njit(cache=True)
def adaptive_threshold_int(theta, spk, theta_plus, p, q, step):
    """R5a integer, one step (in place): increment on spikes; every ``2**p`` steps ``theta -= theta >> q``.

    ``step`` is the index of the step being executed (the prescaler fires when
    ``(step + 1) % 2**p == 0``, i.e. after every ``2**p`` executed steps).
    """
    tick = ((step + 1) & ((np.int64(1) << p) - 1)) == 0
    for j in range(theta.shape[0]):
        if tick:
            theta[j] = theta[j] - (theta[j] >> q)
        if spk[j] != 0:
            theta[j] += theta_plus


@dataclass(frozen=True, kw_only=True)
class AdaptiveThresholdInt(ParamsMixin):
    """R5a integer twin parameters."""

    F: int = 8
    """Fraction bits of the theta register below one membrane LSB."""
    THETA_PLUS: int = 13
    """Increment per spike in register units (0.05 LSB * 2**8 = 12.8)."""
    P: int = 10
    """Prescaler: decay every ``2**P`` steps."""
    Q: int = 13
    """Decay shift (time constant about ``2**(P+Q)`` steps = 8.4e6 for the defaults)."""

    def __post_init__(self):
        check_int(self, "F", 0, 32)
        check_int(self, "THETA_PLUS", 0, 1 << 30)
        check_int(self, "P", 0, 30)
        check_int(self, "Q", 1, 40)

    @classmethod
    def from_float(cls, theta_plus: float, tau_theta: float, dt: float, v_lsb: float = 1.0, F: int = 8,
                   P: int = 10) -> "AdaptiveThresholdInt":
        """Match a float (``theta_plus`` in potential units, ``tau_theta`` in s) at membrane LSB ``v_lsb``."""
        if not math.isfinite(tau_theta):
            q = 40
        else:
            q = max(1, int(round(math.log2(max(tau_theta / dt, 2.0)))) - P)
        return cls(F=F, THETA_PLUS=int(round(theta_plus / v_lsb * (1 << F))), P=P, Q=min(q, 40))

    def decay_per_step(self) -> float:
        """Average per-step decay factor of the prescaled decay: ``(1 - 2**-Q) ** (2**-P)``."""
        return (1.0 - 2.0 ** -self.Q) ** (2.0 ** -self.P)


@njit(cache=True)
def homeostatic_ip_float(theta, spk, eta, rho, theta_min):
    """R5b float, one step: ``theta += eta * (s - rho)``, clipped below at ``theta_min``."""
    for j in range(theta.shape[0]):
        v = theta[j] + eta * (spk[j] - rho)
        theta[j] = theta_min if v < theta_min else v


@njit(cache=True)
def homeostatic_ip_int(theta, spk, up, dn, theta_min):
    """R5b integer, one step: ``theta += s * UP - DN``, clipped below at ``theta_min``."""
    for j in range(theta.shape[0]):
        v = theta[j] + spk[j] * up - dn
        theta[j] = theta_min if v < theta_min else v


@dataclass(frozen=True, kw_only=True)
class HomeostaticIP(ParamsMixin):
    """R5b float: threshold homeostasis toward a target spike probability per step ``rho``."""

    eta: float = 0.01
    """Threshold change per unit of (spike - rho)."""
    rho: float = 0.01
    """Target spike probability per step (rate * dt)."""
    theta_min: float = 0.0
    """Lower bound of the adaptive threshold."""

    def __post_init__(self):
        check_float(self, "eta", 0.0)
        check_float(self, "rho", 0.0, 1.0)
        check_float(self, "theta_min")

    def to_int(self, v_lsb: float = 1.0, F: int | None = None) -> "HomeostaticIPInt":
        """Integer twin at membrane LSB ``v_lsb``; ``F=None`` picks enough fraction bits that
        ``DN = UP * rho`` is resolved to better than 1/64 (the ratio sets the target rate)."""
        if F is None:
            F = 0
            while F < 32 and round(self.eta / v_lsb * (1 << F) * max(self.rho, 1e-12)) < 64:
                F += 1
        up = int(round(self.eta / v_lsb * (1 << F)))
        return HomeostaticIPInt(UP=up, DN=int(round(up * self.rho)), F=F,
                                THETA_MIN=int(math.floor(self.theta_min / v_lsb * (1 << F))))

    def bind_population(self, pop, dt) -> Learner:
        if not hasattr(pop, "theta"):
            raise ConfigError("neuron", f"{type(pop.params).__name__} has no adaptive threshold for HomeostaticIP")
        return _IPLearner(self, pop)


@dataclass(frozen=True, kw_only=True)
class HomeostaticIPInt(ParamsMixin):
    """R5b integer twin: ``theta += s*UP - DN`` (``F`` fraction bits)."""

    UP: int = 3
    """Increment on a spike (register units)."""
    DN: int = 0
    """Decrement every step."""
    F: int = 8
    """Fraction bits of the theta register."""
    THETA_MIN: int = 0
    """Lower bound (register units)."""

    def __post_init__(self):
        check_int(self, "UP", 0)
        check_int(self, "DN", 0)
        check_int(self, "F", 0, 32)
        check_int(self, "THETA_MIN")


class _IPLearner(Learner):
    def __init__(self, rule, pop):
        self.rule, self.pop = rule, pop

    def plasticity(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        r = self.rule
        homeostatic_ip_float(self.pop.theta, post_spk, r.eta, r.rho, r.theta_min)


@njit(cache=True)
def stepwise_gated_update(w, pre_idx, up, dn, w_step, w_min, w_max):
    """R5c in place (float or integer ``w``): rows of spiking inputs step toward the flags."""
    n_post = w.shape[1]
    for a in range(pre_idx.shape[0]):
        i = pre_idx[a]
        for j in range(n_post):
            if up[j]:
                v = w[i, j] + w_step
                w[i, j] = w_max if v > w_max else v
            elif dn[j]:
                v = w[i, j] - w_step
                w[i, j] = w_min if v < w_min else v


@dataclass(frozen=True, kw_only=True)
class StepwiseGated(ParamsMixin):
    """R5c weight rule: pre-spike-driven +/- one step gated by the post neuron's learning flags."""

    w_step: float = 1.0 / 255
    """Weight step (float units; the ``int`` backend uses one code per step when it equals the LSB)."""
    w_min: float = 0.0
    """Lower bound."""
    w_max: float = 1.0
    """Upper bound (``w_max = w_step`` with ``w_min = 0`` gives binary weights)."""

    def __post_init__(self):
        check_float(self, "w_step", 0.0, lo_open=True)
        check_float(self, "w_min")
        check_float(self, "w_max")
        if not self.w_max > self.w_min:
            raise ConfigError("w_max", f"must be > w_min={self.w_min}, not {self.w_max}")

    def bind(self, syn, dt, seed=0) -> Learner:
        kind = check_backend(syn, ("ideal", "int", "crossbar"), "StepwiseGated")
        if kind == "int":
            k = self.w_step / syn.lsb
            if abs(k - round(k)) > 1e-9 or round(k) < 1:
                raise ConfigError("w_step", f"must be a whole number of weight codes ({syn.lsb:g}) on the int backend")
        return _GatedLearner(self, syn)


class _GatedLearner(Learner):
    def __init__(self, rule, syn):
        self.rule, self.syn = rule, syn
        if syn.kind == "int":
            self.q_step = np.int64(round(rule.w_step / syn.lsb))

    def plasticity(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        if pre_idx.shape[0] == 0:
            return
        up, dn = post_pop.learn_flags()
        up = np.ascontiguousarray(up, dtype=np.bool_)
        dn = np.ascontiguousarray(dn, dtype=np.bool_)
        syn, r = self.syn, self.rule
        if syn.kind == "ideal":
            stepwise_gated_update(syn.w, pre_idx, up, dn, r.w_step, r.w_min, r.w_max)
        elif syn.kind == "int":
            stepwise_gated_update(syn.q, pre_idx, up, dn, self.q_step, np.int64(0), np.int64(syn.W_MAX))
        else:
            w0 = syn.weights()
            w1 = w0.copy()
            stepwise_gated_update(w1, pre_idx, up, dn, r.w_step, r.w_min, r.w_max)
            syn.commit(w0, w1, pre_idx, pre_idx[:0])
