"""The learned plasticity rule family (PDLF-style ``ABCD`` / ``BD`` rules), float and integer twins.

The rule family applies, at every time step, to every synapse ``(i, j)`` of a projection

    dW_ij = lr * (A * x_i y_j - A * C * x_i + B * y_j + D)

with ``x`` the presynaptic and ``y`` the postsynaptic activity, followed by a normalisation of the
projection by its largest weight.  ``lr, A, B, C, D`` are the rule's coefficients, found by an
outer loop (:mod:`hwsnn.pdlf.outer`); variant ``"BD"`` keeps only ``B`` and ``D`` (``A = 0``).

In the engine the activities are spike trains and the product term is the spike-trace
coincidence, so every term is event driven except the constant drift:

* on a presynaptic spike of ``i``, for every postsynaptic ``j`` (``pre_scope = "all"``):
  ``dw = lr * (A * y_j - A * C)``, ``y_j`` the postsynaptic nearest-spike trace;
* on a postsynaptic spike of ``j``, for every presynaptic ``i`` (``post_scope = "all"``):
  ``dw = lr * (A * x_i + B)``, ``x_i`` the presynaptic trace;
* every ``period`` steps (the companion slow rule :class:`PDLFNorm`), on every synapse:
  ``w <- w + lr * D * period``, then ``w <- w * w_max / max(w)`` (when ``max(w) > 0``).

Traces are read before this step's increments (the engine's order), so ``A x y`` is the sum of
the pre-before-post and post-before-pre pair products of the two spike trains.  Weights live in
``[0, w_max]`` (each change clipped, as for every rule of the engine).  :func:`pdlf_rules` builds
the pair (event rule, slow rule) from one set of coefficients.

Integer twins (:class:`PDLFInt`, :class:`PDLFNormInt`) work on weight codes with ``stdp_trace``
traces: ``dq = sround(pre * (M_AY x_post - M_AC) + post * (M_AX x_pre + M_B), r, S)`` with signed
mantissas at a common shift ``S`` and the synapse's LFSR16 value ``r``; the drift adds
``sround(M_D, r, S)`` codes per synapse and application (``M_D`` includes the period; one LFSR16
advance per synapse, row-major) and the normalisation is ``q <- (2 q Q_MAX + m) // (2 m)``, ``m = max(q)``.
"""

from __future__ import annotations

from typing import ClassVar, Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field

from hwsnn.engine.contract import CompileContext, IntFormat, Rule, RuleHooks, TraceSpec, register_rule
from hwsnn.engine.rules.threshold import network_only
from hwsnn.plasticity.fixed import lfsr_advance, sround
from hwsnn.plasticity.traces import shift_for_tau

__all__ = ["PDLF", "PDLFInt", "PDLFNorm", "PDLFNormInt", "pdlf_rules", "VARIANTS", "INT_SHIFT",
           "trace_area_ratio", "max_normalize", "max_normalize_int"]

VARIANTS = ("ABCD", "BD")
"""Rule variants: the full rule, and the reduced rule without the Hebbian and presynaptic terms."""

INT_SHIFT = 16
"""Common shift ``S`` of the integer twins' mantissas (coefficient resolution ``2**-16`` codes)."""


def trace_area_ratio(tau: float, shift: int, dt: float, x_bits: int) -> float:
    """Summed float trace table over the integer one in units of ``2**x_bits - 1`` (the engine's
    nearest-spike tables, :func:`hwsnn.snn.step_kernels.trace_tables`): the factor that makes a
    change proportional to the integer trace equal the float one on average over spike pairs."""
    from hwsnn.snn.step_kernels import trace_tables

    f = float(trace_tables([tau], dt, False).sum())
    i = float(trace_tables([shift], dt, True, x_bits).sum()) / ((1 << x_bits) - 1)
    return f / i if i > 0 else 0.0


# ---------------------------------------------------------------------------------------------
class PDLFConst(NamedTuple):
    a: float
    """``lr * A``."""
    ac: float
    """``lr * A * C``."""
    b: float
    """``lr * B``."""


@njit(cache=True, inline="always")
def pdlf_on_pre(c, w, x_pre, x_post):
    return c.a * x_post - c.ac


@njit(cache=True, inline="always")
def pdlf_on_post(c, w, x_pre, x_post):
    return c.a * x_pre + c.b


class PDLFIntConst(NamedTuple):
    m_ax: int
    m_ay: int
    m_ac: int
    m_b: int
    s: int


@njit(cache=True, inline="always")
def pdlf_on_synapse(c, q, pre, post, x_pre, x_post, r):
    p = 0
    if pre != 0:
        p += c.m_ay * x_post - c.m_ac
    if post != 0:
        p += c.m_ax * x_pre + c.m_b
    return sround(p, r, c.s)


class _Coefs(Rule):
    lr: float = Field(0.01, ge=0)
    """Learning rate ``lr`` (weight units per unit of the bracket)."""
    A: float = 0.0
    """Hebbian coefficient (the spike-trace product ``x y``; also scales ``-A C x``)."""
    B: float = 0.0
    """Postsynaptic coefficient (per postsynaptic spike)."""
    C: float = 0.0
    """Presynaptic offset: a presynaptic spike changes the weight by ``-lr A C``."""
    D: float = 0.0
    """Constant drift per step (applied by the companion slow rule :class:`PDLFNorm`)."""
    variant: Literal["ABCD", "BD"] = "ABCD"
    """``"ABCD"``: the full rule; ``"BD"``: ``A`` (and with it ``C``) ignored."""

    def _a(self) -> float:
        return self.A if self.variant == "ABCD" else 0.0


@register_rule
class PDLF(_Coefs):
    """Learned rule ``lr (A x y - A C x + B y + D)``, event-driven part (module docstring): on a
    presynaptic spike ``dw = lr (A y_j - A C)`` on every postsynaptic neuron, on a postsynaptic
    spike ``dw = lr (A x_i + B)`` on every presynaptic neuron.  ``D`` and the max-normalisation are
    :class:`PDLFNorm`'s (build both with :func:`pdlf_rules`)."""

    kind: Literal["pdlf"] = "pdlf"
    tau_pre: float = Field(0.005, gt=0)
    """Presynaptic activity trace time constant (s)."""
    tau_post: float = Field(0.005, gt=0)
    """Postsynaptic activity trace time constant (s)."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.tau_pre), TraceSpec("post", self.tau_post))

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_pre=pdlf_on_pre, on_post=pdlf_on_post, pre_scope="all", post_scope="all")

    def consts(self, ctx: CompileContext) -> PDLFConst:
        a = self.lr * self._a()
        return PDLFConst(a, a * self.C, self.lr * self.B)

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "PDLFInt":
        """Integer twin: coefficients in codes at shift :data:`INT_SHIFT`; each Hebbian mantissa also
        carries the ratio of the float trace's summed table to the integer trace's
        (:func:`trace_area_ratio`), so that the mean change per spike pair equals the float rule's."""
        qmax = (1 << fmt.w_bits) - 1
        xmax = (1 << fmt.x_bits) - 1
        k = qmax / w_max * (1 << INT_SHIFT)
        a = self.lr * self._a()
        sp, sq = shift_for_tau(self.tau_pre, dt), shift_for_tau(self.tau_post, dt)
        return PDLFInt(M_AX=int(round(a * trace_area_ratio(self.tau_pre, sp, dt, fmt.x_bits) * k / xmax)),
                       M_AY=int(round(a * trace_area_ratio(self.tau_post, sq, dt, fmt.x_bits) * k / xmax)),
                       M_AC=int(round(a * self.C * k)), M_B=int(round(self.lr * self.B * k)),
                       SHIFT_PRE=sp, SHIFT_POST=sq)


@register_rule
class PDLFInt(Rule):
    """Integer twin of :class:`PDLF`: at a step where input ``i`` or neuron ``j`` spikes,
    ``dq = sround(pre (M_AY x_post - M_AC) + post (M_AX x_pre + M_B), r, 16)`` (signed mantissas,
    ``stdp_trace`` traces, LFSR16 value ``r``); the summed change is clamped to the code range."""

    kind: Literal["pdlf_int"] = "pdlf_int"
    integer: ClassVar[bool] = True
    M_AX: int = 0
    """Hebbian mantissa of a postsynaptic spike (codes * 2**16 per unit of presynaptic trace code)."""
    M_AY: int = 0
    """Hebbian mantissa of a presynaptic spike (codes * 2**16 per unit of postsynaptic trace code)."""
    M_AC: int = 0
    """Presynaptic mantissa (codes * 2**16 per presynaptic spike, subtracted)."""
    M_B: int = 0
    """Postsynaptic mantissa (codes * 2**16 per postsynaptic spike)."""
    SHIFT_PRE: int = Field(2, ge=0, le=16)
    """``stdp_trace`` DECAY_SHIFT of the presynaptic trace."""
    SHIFT_POST: int = Field(2, ge=0, le=16)
    """``stdp_trace`` DECAY_SHIFT of the postsynaptic trace."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.SHIFT_PRE), TraceSpec("post", self.SHIFT_POST))

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_synapse=pdlf_on_synapse)

    def consts(self, ctx: CompileContext) -> PDLFIntConst:
        return PDLFIntConst(self.M_AX, self.M_AY, self.M_AC, self.M_B, INT_SHIFT)


# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _drift_int(q, m_d, s, q_max, lfsr):
    """``q += sround(m_d, r, s)`` per synapse, row-major, one LFSR16 advance each; clamped."""
    r = lfsr[0]
    n_pre, n_post = q.shape
    for i in range(n_pre):
        for j in range(n_post):
            v = q[i, j] + sround(m_d, r, s)
            q[i, j] = 0 if v < 0 else (q_max if v > q_max else v)
            r = lfsr_advance(r)
    lfsr[0] = r


def max_normalize(w: np.ndarray, w_max: float) -> np.ndarray:
    """``w * w_max / max(w)`` (a copy; unchanged when ``max(w) <= 0``)."""
    m = float(np.max(w)) if w.size else 0.0
    return w * (w_max / m) if m > 0 else np.array(w, np.float64)


def max_normalize_int(q: np.ndarray, q_max: int) -> np.ndarray:
    """``(2 q q_max + m) // (2 m)`` with ``m = max(q)`` (round half up; unchanged when ``m == 0``)."""
    q = np.asarray(q, np.int64)
    m = int(q.max()) if q.size else 0
    return (2 * q * q_max + m) // (2 * m) if m > 0 else q.copy()


@register_rule
class PDLFNorm(_Coefs):
    """The slow part of :class:`PDLF`: every ``period`` steps ``w <- w + lr D period`` on every
    synapse, then ``w <- w w_max / max(w)``.  Runs in :class:`hwsnn.snn.Network` (slow rules)."""

    kind: Literal["pdlf_norm"] = "pdlf_norm"
    slow: ClassVar[bool] = True
    period: int = Field(1, ge=1)
    """Steps between applications (1: after every step, the rule's definition)."""
    normalize: bool = True
    """Normalise by the largest weight after the drift."""
    w_max: float = Field(1.0, gt=0)
    """The projection's weight bound (its ``connect(..., w_max=)``): the largest weight after
    normalisation."""

    def consts(self, ctx: CompileContext):
        network_only(self, ctx, "acts every `period` steps")
        return None

    def init_state(self, n_post: int) -> dict:
        return {}

    def sample_dw(self, state: dict, w: np.ndarray, counts, sums=None) -> np.ndarray:
        w_max = self.w_max
        w1 = np.clip(np.asarray(w, np.float64) + self.lr * self.D * self.period, 0.0, w_max)
        if self.normalize:
            w1 = max_normalize(w1, w_max)
        return w1 - w

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "PDLFNormInt":
        qmax = (1 << fmt.w_bits) - 1
        return PDLFNormInt(M_D=int(round(self.lr * self.D * self.period * qmax / self.w_max * (1 << INT_SHIFT))),
                           period=self.period, normalize=self.normalize)


@register_rule
class PDLFNormInt(Rule):
    """Integer twin of :class:`PDLFNorm`: every ``period`` steps ``q += sround(M_D, r, 16)`` per
    synapse (row-major, one LFSR16 advance each, clamped), then ``q <- (2 q Q_MAX + m) // (2 m)``."""

    kind: Literal["pdlf_norm_int"] = "pdlf_norm_int"
    integer: ClassVar[bool] = True
    slow: ClassVar[bool] = True
    M_D: int = 0
    """Drift mantissa (codes * 2**16 per application)."""
    period: int = Field(1, ge=1)
    """Steps between applications."""
    normalize: bool = True
    """Normalise by the largest code after the drift."""

    def consts(self, ctx: CompileContext):
        network_only(self, ctx, "acts every `period` steps")
        return None

    def init_state(self, n_post: int) -> dict:
        return {}

    def sample_dq(self, state: dict, q: np.ndarray, counts, q_max: int, lfsr: np.ndarray) -> np.ndarray:
        q1 = np.array(q, np.int64, order="C")
        if self.M_D != 0:
            _drift_int(q1, np.int64(self.M_D), np.int64(INT_SHIFT), np.int64(q_max), lfsr)
        if self.normalize:
            q1 = max_normalize_int(q1, q_max)
        return q1 - q


def pdlf_rules(lr: float, A: float, B: float, C: float, D: float, *, variant: str = "ABCD", tau_pre: float = 0.005,
               tau_post: float = 0.005, period: int = 1, normalize: bool = True,
               w_max: float = 1.0) -> tuple[PDLF, PDLFNorm]:
    """The event rule and its slow companion for one set of coefficients."""
    co = dict(lr=lr, A=A, B=B, C=C, D=D, variant=variant)
    return (PDLF(**co, tau_pre=tau_pre, tau_post=tau_post),
            PDLFNorm(**co, period=period, normalize=normalize, w_max=w_max))
