"""Spike-timing-dependent plasticity rules: the Diehl & Cook triplet rule and pair STDP.

Float hooks return weight changes in weight units; integer twins (``*_int``) return code changes
with LFSR16 stochastic rounding (:func:`hwsnn.plasticity.fixed.sround`), the integer traces being
the ``stdp_trace`` unit's (``2**X_BITS - 1`` on a spike, ceil-decay by ``DECAY_SHIFT`` per step).
The pair rule's integer twin is the ``stdp_update`` unit, bit for bit.
"""

from __future__ import annotations

from typing import ClassVar, Literal, NamedTuple

from numba import njit
from pydantic import Field

from hwsnn.engine.contract import CompileContext, IntFormat, Rule, RuleHooks, TraceSpec, register_rule
from hwsnn.plasticity.fixed import r_minus_bits, sround
from hwsnn.plasticity.traces import shift_for_tau, trace_gain
from hwsnn.snn._params import mant_exp

__all__ = ["TripletSTDP", "TripletSTDPInt", "PairSTDP", "PairSTDPInt", "int_coefficient"]


def int_coefficient(a: float, field: str) -> tuple[int, int]:
    """``(A, SHIFT)`` with ``A / 2**SHIFT ~= a`` (8-bit mantissa, relative error <= 2**-8)."""
    from hwsnn.errors import ConfigError

    m, e = mant_exp(a, m_bits=8, e_max=40)
    if a > 0 and m == 0:
        raise ConfigError(field, f"{a} is below the integer format's resolution")
    return m, e


# ---------------------------------------------------------------------------------------------
class TripletConst(NamedTuple):
    nu_pre: float
    nu_post: float


@njit(cache=True, inline="always")
def triplet_on_pre(c, w, x_pre, x_post1, x_post2):
    return -(c.nu_pre * x_post1)


@njit(cache=True, inline="always")
def triplet_on_post(c, w, x_pre, x_post1, x_post2):
    return c.nu_post * x_pre * x_post2


class TripletIntConst(NamedTuple):
    a_plus: int
    s_plus: int
    a_minus: int
    s_minus: int


@njit(cache=True, inline="always")
def triplet_on_synapse(c, q, pre, post, x_pre, x_post1, x_post2, r):
    dp = sround(x_pre * x_post2 * c.a_plus, r, c.s_plus) if post != 0 else 0
    dm = sround(x_post1 * c.a_minus, r_minus_bits(r), c.s_minus) if pre != 0 else 0
    return dp - dm


@register_rule
class TripletSTDP(Rule):
    """The Diehl & Cook (2015) triplet rule with nearest-spike traces.

    On a presynaptic spike: ``dw = -nu_pre * x_post1``; on a postsynaptic spike:
    ``dw = nu_post * x_pre * x_post2`` (traces read before this step's increments; ``x_post2`` is
    the value just before the spike).  Weights are clipped to ``[0, w_max]`` at each change.
    """

    kind: Literal["triplet_stdp"] = "triplet_stdp"
    nu_pre: float = Field(1e-4, ge=0)
    """Depression per presynaptic spike, times the post1 trace (weight units)."""
    nu_post: float = Field(0.02, ge=0)
    """Potentiation per postsynaptic spike, times the pre and post2 traces (weight units)."""
    nu_post_crossbar: float = Field(0.15, ge=0)
    """Potentiation used instead of ``nu_post`` on the crossbar backend (0 = ``nu_post``).  The STO
    device's drift restarts at every write, so freshly learned conductances lose a few per cent
    within seconds; a larger potentiation step outpaces that loss."""
    tau_pre: float = Field(0.020, gt=0)
    """Presynaptic trace time constant (s)."""
    tau_post1: float = Field(0.020, gt=0)
    """First postsynaptic trace time constant (s)."""
    tau_post2: float = Field(0.040, gt=0)
    """Second (triplet) postsynaptic trace time constant (s)."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.tau_pre), TraceSpec("post", self.tau_post1), TraceSpec("post", self.tau_post2))

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_pre=triplet_on_pre, on_post=triplet_on_post)

    def consts(self, ctx: CompileContext) -> TripletConst:
        nu_post = self.nu_post_crossbar if (ctx.backend == "crossbar" and self.nu_post_crossbar > 0) else self.nu_post
        return TripletConst(self.nu_pre, nu_post)

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "TripletSTDPInt":
        qmax = (1 << fmt.w_bits) - 1
        xmax = (1 << fmt.x_bits) - 1
        # trace gains: the twin's mean change per spike pair equals the float rule's (traces.py)
        gp = trace_gain(self.tau_pre, dt, fmt.x_bits) * trace_gain(self.tau_post2, dt, fmt.x_bits)
        ap, sp = int_coefficient(self.nu_post * gp * qmax / (w_max * xmax * xmax), "rules.nu_post")
        gm = trace_gain(self.tau_post1, dt, fmt.x_bits)
        am, sm = int_coefficient(self.nu_pre * gm * qmax / (w_max * xmax), "rules.nu_pre")
        return TripletSTDPInt(A_PLUS=ap, SHIFT_PLUS=sp, A_MINUS=am, SHIFT_MINUS=sm,
                              SHIFT_PRE=shift_for_tau(self.tau_pre, dt), SHIFT_POST1=shift_for_tau(self.tau_post1, dt),
                              SHIFT_POST2=shift_for_tau(self.tau_post2, dt))


@register_rule
class TripletSTDPInt(Rule):
    """Integer twin of :class:`TripletSTDP` (codes and ``stdp_trace`` traces).

    At a step where input ``i`` or neuron ``j`` spikes, with ``r`` the synapse's LFSR16 value:
    ``dp = (x_pre * x_post2 * A_PLUS + r_plus) >> SHIFT_PLUS`` if post,
    ``dm = (x_post1 * A_MINUS + r_minus) >> SHIFT_MINUS`` if pre, ``q' = clamp(q + dp - dm)``;
    ``r_plus``/``r_minus`` are the low / rotated-by-8 bits of ``r`` as in ``stdp_update``, and a
    shift above 16 first floor-shifts the product so that the 16 random bits cover the fraction.
    """

    kind: Literal["triplet_stdp_int"] = "triplet_stdp_int"
    integer: ClassVar[bool] = True
    A_PLUS: int = Field(ge=0)
    """Potentiation mantissa (codes per ``2**SHIFT_PLUS`` units of ``x_pre * x_post2``)."""
    SHIFT_PLUS: int = Field(ge=0, le=48)
    """Potentiation shift."""
    A_MINUS: int = Field(ge=0)
    """Depression mantissa."""
    SHIFT_MINUS: int = Field(ge=0, le=48)
    """Depression shift."""
    SHIFT_PRE: int = Field(ge=1, le=16)
    """``stdp_trace`` ``DECAY_SHIFT`` of the presynaptic trace."""
    SHIFT_POST1: int = Field(ge=1, le=16)
    """``DECAY_SHIFT`` of the first postsynaptic trace."""
    SHIFT_POST2: int = Field(ge=1, le=16)
    """``DECAY_SHIFT`` of the second postsynaptic trace."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.SHIFT_PRE), TraceSpec("post", self.SHIFT_POST1),
                TraceSpec("post", self.SHIFT_POST2))

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_synapse=triplet_on_synapse)

    def consts(self, ctx: CompileContext) -> TripletIntConst:
        return TripletIntConst(self.A_PLUS, self.SHIFT_PLUS, self.A_MINUS, self.SHIFT_MINUS)


# ---------------------------------------------------------------------------------------------
class PairConst(NamedTuple):
    a_plus: float
    a_minus: float


@njit(cache=True, inline="always")
def pair_on_pre(c, w, x_pre, x_post):
    return -(c.a_minus * x_post)


@njit(cache=True, inline="always")
def pair_on_post(c, w, x_pre, x_post):
    return c.a_plus * x_pre


class PairIntConst(NamedTuple):
    a_plus: int
    s_plus: int
    a_minus: int
    s_minus: int


@njit(cache=True, inline="always")
def pair_on_synapse(c, q, pre, post, x_pre, x_post, r):
    # stdp_update (docs/hardware/fixed_point.md): dp/dm from one LFSR value; r_minus = (r >> 8) & mask for shifts <= 8
    dp = (x_pre * c.a_plus + (r & ((1 << c.s_plus) - 1))) >> c.s_plus if post != 0 else 0
    dm = (x_post * c.a_minus + ((r >> 8) & ((1 << c.s_minus) - 1))) >> c.s_minus if pre != 0 else 0
    return dp - dm


@register_rule
class PairSTDP(Rule):
    """Additive pair STDP with nearest-spike traces: ``dw = a_plus * x_pre`` on a postsynaptic
    spike, ``dw = -a_minus * x_post`` on a presynaptic spike (clipped to ``[0, w_max]``)."""

    kind: Literal["pair_stdp"] = "pair_stdp"
    a_plus: float = Field(0.01, ge=0)
    """Potentiation per postsynaptic spike at full presynaptic trace (weight units)."""
    a_minus: float = Field(0.005, ge=0)
    """Depression per presynaptic spike at full postsynaptic trace (weight units)."""
    tau_pre: float = Field(0.020, gt=0)
    """Presynaptic trace time constant (s)."""
    tau_post: float = Field(0.020, gt=0)
    """Postsynaptic trace time constant (s)."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.tau_pre), TraceSpec("post", self.tau_post))

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_pre=pair_on_pre, on_post=pair_on_post)

    def consts(self, ctx: CompileContext) -> PairConst:
        return PairConst(self.a_plus, self.a_minus)

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "PairSTDPInt":
        qmax = (1 << fmt.w_bits) - 1
        xmax = (1 << fmt.x_bits) - 1
        gp, gm = trace_gain(self.tau_pre, dt, fmt.x_bits), trace_gain(self.tau_post, dt, fmt.x_bits)
        ap, sp = _stdp_update_coef(self.a_plus * gp * qmax / (w_max * xmax), "rules.a_plus")
        am, sm = _stdp_update_coef(self.a_minus * gm * qmax / (w_max * xmax),
                                   "rules.a_minus")
        return PairSTDPInt(A_PLUS=ap, SHIFT_PLUS=sp, A_MINUS=am, SHIFT_MINUS=sm,
                           SHIFT_PRE=shift_for_tau(self.tau_pre, dt), SHIFT_POST=shift_for_tau(self.tau_post, dt))


def _stdp_update_coef(a: float, field: str) -> tuple[int, int]:
    # stdp_update's shifts are 1..8: the largest shift keeps the most precision
    from hwsnn.errors import ConfigError

    best = None
    for s in range(1, 9):
        m = int(round(a * (1 << s)))
        if m >= 1:
            best = (m, s)
    if best is None:
        raise ConfigError(field, f"{a} codes per trace unit is below stdp_update's resolution (2**-8)")
    return best


@register_rule
class PairSTDPInt(Rule):
    """Integer twin of :class:`PairSTDP`: the ``stdp_update`` unit bit for bit.

    ``dp = (x_pre * A_PLUS + r_plus) >> SHIFT_PLUS`` if post, ``dm = (x_post * A_MINUS + r_minus)
    >> SHIFT_MINUS`` if pre, ``r_plus = r & (2**SHIFT_PLUS - 1)``, ``r_minus = (r >> 8) &
    (2**SHIFT_MINUS - 1)``, ``q' = clamp(q + dp - dm, 0, 2**w_bits - 1)``.
    """

    kind: Literal["pair_stdp_int"] = "pair_stdp_int"
    integer: ClassVar[bool] = True
    A_PLUS: int = Field(16, ge=0, le=255)
    """``stdp_update`` A_PLUS."""
    SHIFT_PLUS: int = Field(8, ge=1, le=8)
    """``stdp_update`` SHIFT_PLUS."""
    A_MINUS: int = Field(8, ge=0, le=255)
    """``stdp_update`` A_MINUS."""
    SHIFT_MINUS: int = Field(8, ge=1, le=8)
    """``stdp_update`` SHIFT_MINUS."""
    SHIFT_PRE: int = Field(3, ge=1, le=16)
    """``stdp_trace`` DECAY_SHIFT of the presynaptic trace."""
    SHIFT_POST: int = Field(3, ge=1, le=16)
    """``stdp_trace`` DECAY_SHIFT of the postsynaptic trace."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.SHIFT_PRE), TraceSpec("post", self.SHIFT_POST))

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_synapse=pair_on_synapse)

    def consts(self, ctx: CompileContext) -> PairIntConst:
        return PairIntConst(self.A_PLUS, self.SHIFT_PLUS, self.A_MINUS, self.SHIFT_MINUS)


