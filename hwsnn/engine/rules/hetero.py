"""Heterosynaptic plasticity: on a postsynaptic spike, the afferents that did not take part drift.

Float (``HeteroSTDP``): when neuron ``j`` spikes, every afferent ``i`` whose presynaptic trace is
below ``x_th`` (it has not been active recently: an *unstimulated* synapse) moves toward
``w_ref``: ``dw = -eta * (w_ij - w_ref)``; with ``x_th > 1`` every afferent drifts (Zenke-style
heterosynaptic stabilisation with ``y_j`` = the spike).  This is the depression of unstimulated
synapses that complements Hebbian potentiation of the stimulated ones (homosynaptic STDP), so a
neuron's receptive field sharpens without a global normalisation.

Integer (``HeteroSTDPInt``): ``if post and x_pre < X_TH: dq = -((q - W_REF) >> SHIFT)`` (arithmetic
shift: floor, so it is biased toward ``W_REF`` from both sides by less than one code).

Crossbar: the change of one neuron is one column-wide operation: on a post spike, the column's
unstimulated rows (a row mask from the input trace registers) receive the same relative update,
accumulated and written back with the other rules' changes.
"""

from __future__ import annotations

from typing import ClassVar, Literal, NamedTuple

from numba import njit
from pydantic import Field

from hwsnn.engine.contract import CompileContext, IntFormat, Rule, RuleHooks, TraceSpec, register_rule
from hwsnn.plasticity.traces import shift_for_tau

__all__ = ["HeteroSTDP", "HeteroSTDPInt"]


class HeteroConst(NamedTuple):
    eta: float
    w_ref: float
    x_th: float


@njit(cache=True, inline="always")
def hetero_on_post(c, w, x_pre):
    return -c.eta * (w - c.w_ref) if x_pre < c.x_th else 0.0


class HeteroIntConst(NamedTuple):
    shift: int
    w_ref: int
    x_th: int


@njit(cache=True, inline="always")
def hetero_on_synapse(c, q, pre, post, x_pre, r):
    if post != 0 and x_pre < c.x_th:
        return -((q - c.w_ref) >> c.shift)
    return 0


@register_rule
class HeteroSTDP(Rule):
    """Heterosynaptic depression of the unstimulated afferents of a spiking neuron (see module)."""

    kind: Literal["hetero_stdp"] = "hetero_stdp"
    eta: float = Field(0.01, ge=0, le=1)
    """Fraction of the distance to ``w_ref`` removed per postsynaptic spike."""
    w_ref: float = Field(0.0, ge=0)
    """Reference weight the unstimulated synapses drift to (weight units)."""
    x_th: float = Field(0.05, ge=0)
    """Presynaptic trace below which an afferent counts as unstimulated (> 1: every afferent)."""
    tau_pre: float = Field(0.020, gt=0)
    """Presynaptic trace time constant (s)."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.tau_pre),)

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_post=hetero_on_post, post_scope="all")

    def consts(self, ctx: CompileContext) -> HeteroConst:
        return HeteroConst(self.eta, self.w_ref, self.x_th)

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "HeteroSTDPInt":
        import math

        qmax = (1 << fmt.w_bits) - 1
        xmax = (1 << fmt.x_bits) - 1
        shift = max(0, min(16, int(round(-math.log2(self.eta))))) if self.eta > 0 else 16
        return HeteroSTDPInt(SHIFT=shift, W_REF=int(round(self.w_ref / w_max * qmax)),
                             X_TH=min(xmax + 1, int(math.ceil(self.x_th * xmax))), SHIFT_PRE=shift_for_tau(self.tau_pre, dt))


@register_rule
class HeteroSTDPInt(Rule):
    """Integer twin of :class:`HeteroSTDP`: ``dq = -((q - W_REF) >> SHIFT)`` on a post spike for
    afferents with ``x_pre < X_TH``."""

    kind: Literal["hetero_stdp_int"] = "hetero_stdp_int"
    integer: ClassVar[bool] = True
    SHIFT: int = Field(7, ge=0, le=16)
    """Shift of the drift (``eta ~ 2**-SHIFT``)."""
    W_REF: int = Field(0, ge=0)
    """Reference code."""
    X_TH: int = Field(13, ge=0)
    """Trace threshold (codes)."""
    SHIFT_PRE: int = Field(5, ge=1, le=16)
    """``stdp_trace`` DECAY_SHIFT of the presynaptic trace."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.SHIFT_PRE),)

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_synapse=hetero_on_synapse)

    def consts(self, ctx: CompileContext) -> HeteroIntConst:
        return HeteroIntConst(self.SHIFT, self.W_REF, self.X_TH)
