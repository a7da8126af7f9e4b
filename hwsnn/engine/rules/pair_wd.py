"""Pair STDP with weight dependence (variants of pair STDP): soft bounds, power law, Diehl & Cook power law.

Float (``dw`` in weight units, nearest-spike traces, ``w`` in ``[0, w_max]``)::

    on post j:  dw = a_plus  * x_pre  * f_plus(w)       (dc_powerlaw: a_plus * (x_pre - x_tar) * f_plus(w))
    on pre  i:  dw = -a_minus * x_post * f_minus(w)     (dc_powerlaw: no presynaptic term)
    f_plus  = (w_max - w) | (w_max - w)**mu             (softbound | powerlaw, dc_powerlaw)
    f_minus = w           | w**mu

With ``dc_powerlaw`` every afferent of a spiking neuron changes (``post_scope = "all"``: inputs
with a zero trace are depressed by ``a_plus * x_tar * f_plus``).  The additive rule is
:class:`~hwsnn.engine.rules.stdp.PairSTDP`.

Integer twin: weight codes ``q``, traces of ``X_BITS``; ``F+[q]``/``F-[q]`` are ``2**B_F``-scaled
tables of the weight dependence over the codes (as a fraction of full scale)::

    dp = sround((x_pre' * A_PLUS * F+[q]) >> B_F, r, SHIFT_PLUS)            if post   (x_pre' = x_pre - X_TAR for dc)
    dm = sround((x_post * A_MINUS * F-[q]) >> B_F, rot8(r), SHIFT_MINUS)    if pre (not dc)
"""

from __future__ import annotations

from typing import ClassVar, Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field

from hwsnn.engine.contract import CompileContext, IntFormat, Rule, RuleHooks, TraceSpec, register_rule
from hwsnn.engine.rules.stdp import int_coefficient
from hwsnn.plasticity.fixed import r_minus_bits, sround
from hwsnn.plasticity.traces import shift_for_tau, trace_gain

__all__ = ["PairSTDPWD", "PairSTDPWDInt", "WEIGHT_DEPENDENCES"]

WEIGHT_DEPENDENCES = ("softbound", "powerlaw", "dc_powerlaw")
"""Weight dependences; the index is the ``kind`` code of the hooks."""


class WDConst(NamedTuple):
    a_plus: float
    a_minus: float
    w_max: float
    mu: float
    x_tar: float
    kind: int


@njit(cache=True, inline="always")
def _f(x, kind, mu):
    x = x if x > 0.0 else 0.0
    return x if kind == 0 else x**mu


@njit(cache=True, inline="always")
def wd_on_pre(c, w, x_pre, x_post):
    if c.kind == 2:
        return 0.0
    return -c.a_minus * x_post * _f(w, c.kind, c.mu)


@njit(cache=True, inline="always")
def wd_on_post(c, w, x_pre, x_post):
    xe = x_pre - c.x_tar if c.kind == 2 else x_pre
    return c.a_plus * xe * _f(c.w_max - w, c.kind, c.mu)


@register_rule
class PairSTDPWD(Rule):
    """Pair STDP with soft-bound / power-law / Diehl & Cook power-law weight dependence (see module)."""

    kind: Literal["pair_stdp_wd"] = "pair_stdp_wd"
    weight_dependence: Literal["softbound", "powerlaw", "dc_powerlaw"] = "softbound"
    """``softbound``: ``f_plus = w_max - w``, ``f_minus = w``; ``powerlaw``: the same to the power
    ``mu``; ``dc_powerlaw``: Diehl & Cook's rule (potentiation toward ``x_tar``, no pre term)."""
    a_plus: float = Field(0.01, ge=0)
    """Potentiation rate (per unit presynaptic trace and unit of ``f_plus``)."""
    a_minus: float = Field(0.005, ge=0)
    """Depression rate (per unit postsynaptic trace and unit of ``f_minus``)."""
    tau_pre: float = Field(0.020, gt=0)
    """Presynaptic trace time constant (s)."""
    tau_post: float = Field(0.020, gt=0)
    """Postsynaptic trace time constant (s)."""
    mu: float = Field(0.2, ge=0)
    """Exponent of the power laws (Diehl & Cook ``exp_ee_pre``)."""
    x_tar: float = Field(0.4, ge=0, le=1)
    """Target presynaptic trace of ``dc_powerlaw`` (Diehl & Cook ``STDP_offset``)."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.tau_pre), TraceSpec("post", self.tau_post))

    def hooks(self) -> RuleHooks:
        dc = self.weight_dependence == "dc_powerlaw"
        return RuleHooks(on_pre=None if dc else wd_on_pre, on_post=wd_on_post, post_scope="all" if dc else "active")

    def consts(self, ctx: CompileContext) -> WDConst:
        return WDConst(self.a_plus, self.a_minus, ctx.w_max, self.mu, self.x_tar,
                       WEIGHT_DEPENDENCES.index(self.weight_dependence))

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "PairSTDPWDInt":
        qmax = (1 << fmt.w_bits) - 1
        xmax = (1 << fmt.x_bits) - 1
        p = 1.0 if self.weight_dependence == "softbound" else self.mu
        # codes per trace code at a full-scale table entry: a * (w_max**p) * qmax / (w_max * xmax)
        k = w_max**p * qmax / (w_max * xmax)
        # trace gains keep the twin's mean change per spike pair equal to the float rule's (traces.py)
        ap, sp = int_coefficient(self.a_plus * k * trace_gain(self.tau_pre, dt, fmt.x_bits), "rules.a_plus")
        am, sm = (int_coefficient(self.a_minus * k * trace_gain(self.tau_post, dt, fmt.x_bits), "rules.a_minus")
                  if self.a_minus > 0 else (0, 1))
        return PairSTDPWDInt(weight_dependence=self.weight_dependence, A_PLUS=ap, SHIFT_PLUS=sp, A_MINUS=am,
                             SHIFT_MINUS=sm, SHIFT_PRE=shift_for_tau(self.tau_pre, dt),
                             SHIFT_POST=shift_for_tau(self.tau_post, dt), mu=self.mu,
                             X_TAR=int(round(self.x_tar * xmax)))


class WDIntConst(NamedTuple):
    a_plus: int
    s_plus: int
    a_minus: int
    s_minus: int
    x_tar: int
    b_f: int
    dc: bool
    lut_plus: np.ndarray
    lut_minus: np.ndarray


@njit(cache=True, inline="always")
def wd_on_synapse(c, q, pre, post, x_pre, x_post, r):
    dp = 0
    dm = 0
    if post != 0:
        xe = x_pre - c.x_tar if c.dc else x_pre
        dp = sround((xe * c.a_plus * c.lut_plus[q]) >> c.b_f, r, c.s_plus)
    if pre != 0 and not c.dc:
        dm = sround((x_post * c.a_minus * c.lut_minus[q]) >> c.b_f, r_minus_bits(r), c.s_minus)
    return dp - dm


@register_rule
class PairSTDPWDInt(Rule):
    """Integer twin of :class:`PairSTDPWD` (weight-dependence tables, LFSR16 stochastic rounding)."""

    kind: Literal["pair_stdp_wd_int"] = "pair_stdp_wd_int"
    integer: ClassVar[bool] = True
    weight_dependence: Literal["softbound", "powerlaw", "dc_powerlaw"] = "softbound"
    """As in :class:`PairSTDPWD`."""
    A_PLUS: int = Field(ge=0)
    """Potentiation mantissa (codes per ``2**SHIFT_PLUS`` trace codes at a full-scale table entry)."""
    SHIFT_PLUS: int = Field(ge=0, le=48)
    """Potentiation shift."""
    A_MINUS: int = Field(ge=0)
    """Depression mantissa."""
    SHIFT_MINUS: int = Field(ge=0, le=48)
    """Depression shift."""
    SHIFT_PRE: int = Field(ge=1, le=16)
    """``stdp_trace`` ``DECAY_SHIFT`` of the presynaptic trace."""
    SHIFT_POST: int = Field(ge=1, le=16)
    """``DECAY_SHIFT`` of the postsynaptic trace."""
    mu: float = Field(0.2, ge=0)
    """Power-law exponent of the tables."""
    X_TAR: int = Field(102, ge=0)
    """Target trace code of ``dc_powerlaw``."""
    B_F: int = Field(8, ge=0, le=16)
    """Fraction bits of the weight-dependence tables."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.SHIFT_PRE), TraceSpec("post", self.SHIFT_POST))

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_synapse=wd_on_synapse)

    def luts(self, q_max: int) -> tuple[np.ndarray, np.ndarray]:
        """``F+[q] = round(2**B_F f_plus(q / q_max))``, ``F-`` likewise (fractions of full scale)."""
        frac = np.arange(q_max + 1) / q_max
        p = 1.0 if self.weight_dependence == "softbound" else self.mu
        one = float(1 << self.B_F)
        return (np.rint(np.maximum(1.0 - frac, 0.0) ** p * one).astype(np.int64),
                np.rint(frac**p * one).astype(np.int64))

    def consts(self, ctx: CompileContext) -> WDIntConst:
        lp, lm = self.luts(int(ctx.w_max))
        return WDIntConst(self.A_PLUS, self.SHIFT_PLUS, self.A_MINUS, self.SHIFT_MINUS, self.X_TAR, self.B_F,
                          self.weight_dependence == "dc_powerlaw", lp, lm)
