"""Threshold-related rules: the learning-threshold-gated weight rule and threshold plasticity
(integer adaptive threshold, homeostatic intrinsic plasticity); see docs/plasticity.md.

These rules read or change postsynaptic *neuron* state, which only :class:`hwsnn.snn.Network`
supplies (the layer kernel's hooks see traces only); compiled into a layer they raise a
:class:`~hwsnn.errors.ConfigError`.

``StepwiseGated`` (Nomura-Nishi stepwise firing threshold with synchronised learning
thresholds).  The firing-threshold part (level steps per window) is the ``lif_stepwise`` neuron
itself (or its float twin ``lif_stepwise_float``); the weight part: on a presynaptic spike ``i``,
for every target ``j``::

    if learn_up_j:   w_ij += w_step        (clipped to [0, w_max])
    elif learn_dn_j: w_ij -= w_step

with the flags read from the postsynaptic state after this step's neuron update
(:func:`hwsnn.engine.neurons_extra.stepwise_learn_flags`).  The hooks receive the flags after the
trace arguments (``post_inputs = ("learn_up", "learn_dn")``).  The integer twin steps ``STEP``
codes; float and integer are the same algorithm.

``HomeostaticIP``: per step, ``theta += eta * (s - rho)`` clipped below at ``theta_min``
(float); integer ``theta += s * UP - DN`` with ``DN / UP = rho``.

``AdaptiveThresholdInt`` (integer adaptive threshold): a ``theta`` register with ``F`` fraction bits; on a spike
``theta += THETA_PLUS``; every ``2**P`` steps ``theta -= theta >> Q`` (time constant about
``2**(P+Q)`` steps).  The float adaptive threshold is part of the neuron models
(``DiehlCookNeuron`` through ``homeostasis``, ``LifNeuron`` through ``theta_plus``/``tau_theta``).

Population rules (``target = "population"``) provide ``population_hook()``, an njit function
``hook(c, theta, spk, step)`` (``spk``: 0/1 per neuron this step) called by the network after the
neuron update of every learning step.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field

from hwsnn.engine import neurons_extra  # noqa: F401  (registers the stepwise float twin the gated rule reads)
from hwsnn.engine.contract import CompileContext, IntFormat, Rule, RuleHooks, register_rule
from hwsnn.errors import ConfigError

__all__ = ["StepwiseGated", "StepwiseGatedInt", "HomeostaticIP", "HomeostaticIPInt", "AdaptiveThresholdInt",
           "network_only"]


def network_only(rule: Rule, ctx: CompileContext, why: str = "reads neuron state") -> None:
    """Raise unless compiled by :class:`hwsnn.snn.Network` (whose context supplies neuron inputs)."""
    if not getattr(ctx, "neuron_inputs", False):
        raise ConfigError(f"rules.{rule.kind}", f"{why}: it runs in hwsnn.snn.Network only, not in the fused layer "
                                                "kernel")


# ---------------------------------------------------------------------------------------------
class GatedConst(NamedTuple):
    w_step: float


@njit(cache=True, inline="always")
def gated_on_pre(c, w, up, dn):
    return c.w_step if up else (-c.w_step if dn else 0.0)


class GatedIntConst(NamedTuple):
    step: int


@njit(cache=True, inline="always")
def gated_on_synapse(c, q, pre, post, up, dn, r):
    if pre == 0:
        return 0
    return c.step if up else (-c.step if dn else 0)


@register_rule
class StepwiseGated(Rule):
    """Learning-threshold-gated rule: pre-spike-driven +/- one step gated by the postsynaptic learning
    flags (see module)."""

    kind: Literal["stepwise_gated"] = "stepwise_gated"
    w_step: float = Field(1.0 / 255, gt=0)
    """Weight step per presynaptic spike (weight units)."""

    post_inputs: ClassVar[tuple] = ("learn_up", "learn_dn")

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_pre=gated_on_pre, pre_scope="all")

    def consts(self, ctx: CompileContext) -> GatedConst:
        network_only(self, ctx)
        return GatedConst(self.w_step)

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "StepwiseGatedInt":
        lsb = w_max / ((1 << fmt.w_bits) - 1)
        k = self.w_step / lsb
        if abs(k - round(k)) > 1e-9 or round(k) < 1:
            raise ConfigError("rules.w_step", f"must be a whole number of weight codes ({lsb:g}) on the integer backend")
        return StepwiseGatedInt(STEP=int(round(k)))


@register_rule
class StepwiseGatedInt(Rule):
    """Integer twin of :class:`StepwiseGated`: ``dq = +STEP`` (learn_up) / ``-STEP`` (learn_dn) on a
    presynaptic spike, clamped to the code range."""

    kind: Literal["stepwise_gated_int"] = "stepwise_gated_int"
    integer: ClassVar[bool] = True
    STEP: int = Field(1, ge=1)
    """Code step per presynaptic spike."""

    post_inputs: ClassVar[tuple] = ("learn_up", "learn_dn")

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_synapse=gated_on_synapse)

    def consts(self, ctx: CompileContext) -> GatedIntConst:
        network_only(self, ctx)
        return GatedIntConst(self.STEP)


# ---------------------------------------------------------------------------------------------
class IPConst(NamedTuple):
    eta: float
    rho: float
    theta_min: float


@njit(cache=True)
def homeostatic_ip_step(c, theta, spk, step):
    """Homeostatic IP, float, one step: ``theta += eta * (s - rho)``, clipped below at ``theta_min``."""
    for j in range(theta.shape[0]):
        v = theta[j] + c.eta * (spk[j] - c.rho)
        theta[j] = c.theta_min if v < c.theta_min else v


class IPIntConst(NamedTuple):
    up: int
    dn: int
    theta_min: int


@njit(cache=True)
def homeostatic_ip_int_step(c, theta, spk, step):
    """Homeostatic IP, integer, one step: ``theta += s * UP - DN``, clipped below at ``THETA_MIN``."""
    for j in range(theta.shape[0]):
        v = theta[j] + spk[j] * c.up - c.dn
        theta[j] = c.theta_min if v < c.theta_min else v


class _PopulationRule(Rule):
    target: ClassVar[str] = "population"

    def consts(self, ctx: CompileContext):
        network_only(self, ctx)
        return self.population_consts()


@register_rule
class HomeostaticIP(_PopulationRule):
    """Threshold homeostasis (float) toward a target spike probability per step ``rho``."""

    kind: Literal["homeostatic_ip"] = "homeostatic_ip"
    eta: float = Field(0.01, ge=0)
    """Threshold change per unit of (spike - rho), in the neuron's threshold units."""
    rho: float = Field(0.01, ge=0, le=1)
    """Target spike probability per step (rate * dt)."""
    theta_min: float = 0.0
    """Lower bound of the adaptive threshold."""

    def population_hook(self):
        return homeostatic_ip_step

    def population_consts(self) -> IPConst:
        return IPConst(self.eta, self.rho, self.theta_min)

    def to_int(self, fmt: IntFormat | None = None, dt: float | None = None, w_max: float | None = None, *,
               v_lsb: float = 1.0, F: int | None = None) -> "HomeostaticIPInt":
        """Integer twin at membrane LSB ``v_lsb``; ``F=None`` picks enough fraction bits that
        ``DN = UP * rho`` is resolved to better than 1/64 (the ratio sets the target rate)."""
        if F is None:
            F = 0
            while F < 32 and round(self.eta / v_lsb * (1 << F) * max(self.rho, 1e-12)) < 64:
                F += 1
        up = int(round(self.eta / v_lsb * (1 << F)))
        return HomeostaticIPInt(UP=up, DN=int(round(up * self.rho)), F=F,
                                THETA_MIN=int(math.floor(self.theta_min / v_lsb * (1 << F))))


@register_rule
class HomeostaticIPInt(_PopulationRule):
    """Integer twin of :class:`HomeostaticIP`: ``theta += s * UP - DN`` on an integer ``theta`` register
    (``F`` fraction bits)."""

    kind: Literal["homeostatic_ip_int"] = "homeostatic_ip_int"
    integer: ClassVar[bool] = True
    UP: int = Field(3, ge=0)
    """Increment on a spike (register units)."""
    DN: int = Field(0, ge=0)
    """Decrement every step."""
    F: int = Field(8, ge=0, le=32)
    """Fraction bits of the theta register."""
    THETA_MIN: int = 0
    """Lower bound (register units)."""

    def population_hook(self):
        return homeostatic_ip_int_step

    def population_consts(self) -> IPIntConst:
        return IPIntConst(self.UP, self.DN, self.THETA_MIN)


class AdaptIntConst(NamedTuple):
    theta_plus: int
    p: int
    q: int


@njit(cache=True)
def adaptive_threshold_int_step(c, theta, spk, step):
    """Integer adaptive threshold, one step: every ``2**P`` executed steps ``theta -= theta >> Q``; on a spike
    ``theta += THETA_PLUS`` (``step`` is the index of the step being executed)."""
    tick = ((step + 1) & ((np.int64(1) << c.p) - 1)) == 0
    for j in range(theta.shape[0]):
        if tick:
            theta[j] = theta[j] - (theta[j] >> c.q)
        if spk[j] != 0:
            theta[j] += c.theta_plus


@register_rule
class AdaptiveThresholdInt(_PopulationRule):
    """Integer twin of the adaptive threshold (prescaled shift decay)."""

    kind: Literal["adaptive_threshold_int"] = "adaptive_threshold_int"
    integer: ClassVar[bool] = True
    F: int = Field(8, ge=0, le=32)
    """Fraction bits of the theta register below one membrane LSB."""
    THETA_PLUS: int = Field(13, ge=0)
    """Increment per spike in register units (0.05 LSB * 2**8 = 12.8)."""
    P: int = Field(10, ge=0, le=30)
    """Prescaler: decay every ``2**P`` steps."""
    Q: int = Field(13, ge=1, le=40)
    """Decay shift (time constant about ``2**(P+Q)`` steps)."""

    @classmethod
    def from_float(cls, theta_plus: float, tau_theta: float, dt: float, v_lsb: float = 1.0, F: int = 8,
                   P: int = 10) -> "AdaptiveThresholdInt":
        """Match a float threshold (``theta_plus`` in potential units, ``tau_theta`` in s; 0 = no decay)."""
        q = 40 if tau_theta == 0 else max(1, int(round(math.log2(max(tau_theta / dt, 2.0)))) - P)
        return cls(F=F, THETA_PLUS=int(round(theta_plus / v_lsb * (1 << F))), P=P, Q=min(q, 40))

    def decay_per_step(self) -> float:
        """Average per-step decay factor of the prescaled decay: ``(1 - 2**-Q) ** (2**-P)``."""
        return (1.0 - 2.0**-self.Q) ** (2.0**-self.P)

    def population_hook(self):
        return adaptive_threshold_int_step

    def population_consts(self) -> AdaptIntConst:
        return AdaptIntConst(self.THETA_PLUS, self.P, self.Q)
