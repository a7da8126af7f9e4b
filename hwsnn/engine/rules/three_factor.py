"""Three-factor (reward-modulated) STDP with eligibility traces.

Pair STDP does not change the weights directly: each pairing is written into a per-synapse
eligibility trace, and a global reward (the third factor, a dopamine-like neuromodulator) turns
the trace into a weight change (Izhikevich, *Cereb. Cortex* 17(10), 2007; Florian, *Neural
Comput.* 19(6), 2007; review: Frémaux & Gerstner, *Front. Neural Circuits* 9:85, 2016)::

    e_ij <- e_ij exp(-dt / tau_e) + stdp_ij(t)     stdp_ij = a_plus x_pre (post spike), -a_minus x_post (pre spike)
    dw_ij = eta R e_ij(T_end)                       (once, at the end of the presentation)

with nearest-spike traces ``x_pre``, ``x_post`` as in ``pair_stdp``; the eligibility restarts at
every presentation.  The reward is computed in the kernel at the end of the presentation from the
layer's response and the sample's label: neuron ``j`` votes for class ``j % n_classes``; the
winner (most spikes, the lower index on a tie) earns ``R = +1`` if its class is the label,
``R = reward_wrong`` otherwise, and a silent layer ``R = 0``.  Only the neurons that fired have
eligibility, so a correct answer reinforces the pairings that produced it and a wrong one
weakens them.  The label is set by the caller before each learning presentation
(:meth:`RewardSTDP.set_label`); the unsupervised ``hwsnn run`` has none and is refused with the
field named.

Integer twin (``reward_stdp_int``, what ``reward_stdp`` becomes on the integer backend): a signed
eligibility register per synapse, in units of ``2**-E_FRAC`` weight codes of rewarded change
(``eta`` is folded into the coefficients), with the pairings accumulated only at events and
already decayed to the end of the presentation by a shared table (no per-step sweep over the
synapses).  At a step where input ``i`` or neuron ``j`` spikes, ``k = T_end - t`` steps before the
reward, with ``stdp_trace`` traces ``x_pre``, ``x_post`` (codes ``0 .. 2**x_bits - 1``)::

    de = post * A_PLUS * x_pre - pre * A_MINUS * x_post
    e  <- sat_E(e + shr_round(de * DLUT[k], D_FRAC))         DLUT[k] = round(2**D_FRAC (E_DECAY / 2**32)**k)

and on the reward broadcast, once per synapse (row-major, one LFSR16 value ``r`` each)::

    q  <- clamp(q + sround(R_q * e, r, E_FRAC + R_FRAC), 0, 2**w_bits - 1)       then e <- 0

Formats: ``e`` is a two's-complement ``E_BITS = 40``-bit register with ``E_FRAC = 24`` fraction
bits (range +-2**15 weight codes; ``sat_E`` saturates to it); ``E_DECAY`` is the per-step decay
``exp(-dt / tau_e)`` as a 32-bit fraction (UQ0.32, round half up) and ``DLUT`` its powers as
``D_FRAC = 16``-bit fractions (UQ1.16, computed once in double precision, half up), indexed by the
steps to the reward and 0 beyond its last non-zero entry (a pairing that long before the reward
has decayed below half an LSB of the factor; at most ``DLUT_MAX`` entries, ``tau_e / dt`` up to
about 89,000); ``shr_round`` is :func:`hwsnn.spec.fixed.shr_round` (half up).  The reward is Q1.8 (``R_FRAC = 8``): ``R_q = 256`` for a correct answer,
``R_WRONG = round(256 reward_wrong)`` for a wrong one, 0 for a silent layer, and the rewarded change
is stochastically rounded with the synapse's LFSR16 value (:func:`hwsnn.plasticity.fixed.sround`;
the shift above 16 first floor-shifts the product so that the 16 random bits cover the fraction).
``A_PLUS = round(2**E_FRAC eta a_plus g_pre Q_MAX / (w_max X_MAX))`` (``A_MINUS`` likewise with
``a_minus`` and ``g_post``), ``g`` the trace gains of :func:`hwsnn.plasticity.traces.trace_gain`
as in ``pair_stdp_int``.  The twin differs from the float rule by the integer traces' window shape
(the same area), the coefficients' rounding (half an LSB, ``2**-25`` codes per trace code), the decay
factor's (half an LSB of ``DLUT`` per event) and the final rounding (less than one code per
synapse, unbiased).

On the crossbar the rewarded change is accumulated and written back as pulses like every other
rule's.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field

from hwsnn.engine.contract import CompileContext, IntFormat, Rule, RuleHooks, TraceSpec, register_rule
from hwsnn.engine.neurons_int import shr_round_nb
from hwsnn.engine.rules.stdp import pair_on_post, pair_on_pre
from hwsnn.errors import ConfigError
from hwsnn.plasticity.fixed import sround
from hwsnn.plasticity.traces import shift_for_tau, trace_gain
from hwsnn.spec.fixed import signed_range

__all__ = ["RewardSTDP", "RewardSTDPInt", "winner_reward", "decay_lut", "E_BITS", "E_FRAC", "D_FRAC", "R_FRAC",
           "DLUT_MAX", "A_MAX"]

E_BITS = 40
"""Width of the integer twin's eligibility register (two's complement, saturating)."""
E_FRAC = 24
"""Fraction bits of the eligibility: its LSB is ``2**-24`` weight codes of rewarded change."""
D_FRAC = 16
"""Fraction bits of the decay table ``DLUT`` (UQ1.16: ``2**16`` stands for a factor of 1)."""
R_FRAC = 8
"""Fraction bits of the integer reward (Q1.8: ``256`` stands for ``R = 1``)."""
DLUT_MAX = 1 << 20
"""Largest decay table (entries)."""
A_MAX = (1 << 31) - 1
"""Largest eligibility coefficient ``A_PLUS`` / ``A_MINUS``."""

_FIELD = "rules.reward_stdp"  # the user's rule (the integer twin is made from it)


class RewardConst(NamedTuple):
    a_plus: float
    a_minus: float
    k_e: float
    """``dt / tau_e``."""
    eta: float
    n_classes: int
    r_wrong: float
    elig: np.ndarray
    """Eligibility ``(n_in, n_out)``, decayed to the end of the presentation."""
    label: np.ndarray
    """``[label]`` of the current sample (-1: none)."""
    last: np.ndarray
    """``[reward, winner]`` of the last learning presentation."""


@njit(cache=True, inline="always")
def winner_reward(counts, label, n_classes, r_wrong):
    """``(R, winner)``: the winner (most spikes, lowest index on a tie; -1 if silent) and its reward."""
    best = -1
    top = 0
    for j in range(counts.shape[0]):
        if counts[j] > top:
            top = counts[j]
            best = j
    if best < 0:
        return 0.0, best
    return (1.0 if best % n_classes == label else r_wrong), best


@njit(cache=True, inline="always")
def reward_begin(c, n_pre, n_post, counts):
    if c.label[0] < 0:
        c.last[0] = 0.0
        c.last[1] = -1.0
        return 0.0
    r, best = winner_reward(counts, c.label[0], c.n_classes, c.r_wrong)
    c.last[0] = r
    c.last[1] = best
    return c.eta * r


def _layer_consts_check(ctx: CompileContext, n_classes: int) -> None:
    if getattr(ctx, "neuron_inputs", False):
        raise ConfigError(_FIELD, "is rewarded once per presentation: it runs in the fused layer kernel "
                                  "(LayerNetwork) only, not in hwsnn.snn.Network")
    if ctx.n_out < n_classes:
        raise ConfigError("rules.n_classes", f"needs at least one neuron per class: n_classes={n_classes} > "
                                             f"{ctx.n_out} neurons")


def _set_label(consts, label: int) -> None:
    """The label of the sample(s) presented next (-1: none)."""
    consts.label[0] = int(label)


def _needs_label(consts) -> None:
    if consts.label[0] < 0:
        raise ConfigError(_FIELD, "needs the label of every learning presentation "
                                  "(RewardSTDP.set_label); hwsnn run trains unsupervised")


@register_rule
class RewardSTDP(Rule):
    """Reward-modulated pair STDP with eligibility traces: ``dw = eta R e`` at the end of each
    presentation, ``R`` from the winner's class and the sample's label (three-factor rule)."""

    kind: Literal["reward_stdp"] = "reward_stdp"
    a_plus: float = Field(0.01, ge=0)
    """Eligibility per postsynaptic spike at full presynaptic trace."""
    a_minus: float = Field(1e-4, ge=0)
    """Eligibility removed per presynaptic spike at full postsynaptic trace.  Small: with Poisson
    inputs firing faster than the neurons, a balanced pair window leaves the active synapses of a
    responding neuron with a negative eligibility, so a reward would weaken the pairings that
    earned it (Diehl & Cook's rule uses a 200 times smaller depression for the same reason)."""
    tau_pre: float = Field(0.020, gt=0)
    """Presynaptic trace time constant (s)."""
    tau_post: float = Field(0.020, gt=0)
    """Postsynaptic trace time constant (s)."""
    tau_e: float = Field(1.0, gt=0)
    """Eligibility trace time constant (s); the reward arrives at the end of the presentation."""
    eta: float = Field(1.0, ge=0)
    """Weight change per unit of reward and eligibility."""
    n_classes: int = Field(10, ge=1)
    """Classes; neuron ``j`` answers class ``j % n_classes``."""
    reward_wrong: float = Field(-1.0, ge=-1, le=1)
    """Reward of a wrong answer (a correct one earns +1, a silent layer 0)."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.tau_pre), TraceSpec("post", self.tau_post))

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_pre=pair_on_pre, on_post=pair_on_post, on_sample_begin=reward_begin,
                         eligibility=True)

    def consts(self, ctx: CompileContext) -> RewardConst:
        _layer_consts_check(ctx, self.n_classes)
        return RewardConst(self.a_plus, self.a_minus, ctx.dt / self.tau_e, self.eta, self.n_classes,
                           self.reward_wrong, np.zeros((ctx.n_in, ctx.n_out)), np.full(1, -1, np.int64),
                           np.zeros(2))

    set_label = staticmethod(_set_label)

    def after_presentation(self, consts: RewardConst, counts) -> None:
        _needs_label(consts)

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "RewardSTDPInt":
        """The integer twin (module docstring): ``eta`` and the trace gains folded into the
        eligibility coefficients at ``E_FRAC`` fraction bits, the decay as a UQ0.32 fraction and
        the wrong answer's reward as Q1.8."""
        qmax = (1 << fmt.w_bits) - 1
        xmax = (1 << fmt.x_bits) - 1
        scale = self.eta * qmax / (w_max * xmax) * (1 << E_FRAC)
        coef = {}
        for name, a, tau in (("a_plus", self.a_plus, self.tau_pre), ("a_minus", self.a_minus, self.tau_post)):
            m = int(math.floor(a * trace_gain(tau, dt, fmt.x_bits) * scale + 0.5))
            if m > A_MAX:
                raise ConfigError(f"rules.{name}", f"eta * {name} = {self.eta * a:g} is beyond the integer "
                                                   f"eligibility's range (at most {A_MAX} LSB per trace code)")
            if m == 0 and a * self.eta > 0:
                raise ConfigError(f"rules.{name}", f"eta * {name} = {self.eta * a:g} is below the integer "
                                                   f"eligibility's resolution (2**-{E_FRAC} codes per trace code)")
            coef[name] = m
        decay = int(math.floor(math.exp(-dt / self.tau_e) * (1 << 32) + 0.5))
        if decay >= 1 << 32:
            raise ConfigError("rules.tau_e", f"{self.tau_e:g} s is too long for the integer decay "
                                             f"(a 32-bit fraction per step of {dt:g} s)")
        decay_lut(decay, "rules.tau_e")  # refuse a table beyond DLUT_MAX now, naming the float field
        return RewardSTDPInt(A_PLUS=coef["a_plus"], A_MINUS=coef["a_minus"],
                             SHIFT_PRE=shift_for_tau(self.tau_pre, dt), SHIFT_POST=shift_for_tau(self.tau_post, dt),
                             E_DECAY=decay, n_classes=self.n_classes,
                             R_WRONG=int(math.floor(self.reward_wrong * (1 << R_FRAC) + 0.5)))


# --------------------------------------------------------------------------------------------- integer twin
def decay_lut(decay: int, field: str = "rules.E_DECAY") -> np.ndarray:
    """``DLUT[k] = floor(2**D_FRAC (decay / 2**32)**k + 1/2)`` for ``k = 0, 1, ...`` up to the last
    non-zero entry (int64; double precision powers)."""
    d = decay / float(1 << 32)
    if d <= 0.0:
        return np.array([1 << D_FRAC], np.int64)
    # the last k with 2**D_FRAC d**k >= 1/2
    n = int(math.floor(math.log(0.5 / (1 << D_FRAC)) / math.log(d))) + 1 if d < 1.0 else DLUT_MAX + 1
    if n > DLUT_MAX:
        raise ConfigError(field, f"the decay per step ({d:.9g}) needs a table of more than {DLUT_MAX} entries "
                                 f"(tau_e / dt above about {int(DLUT_MAX / math.log(2.0 ** (D_FRAC + 1)))})")
    lut = np.floor(np.power(d, np.arange(n + 1, dtype=np.float64)) * (1 << D_FRAC) + 0.5).astype(np.int64)
    nz = np.flatnonzero(lut)
    return np.ascontiguousarray(lut[:nz[-1] + 1])


class RewardIntConst(NamedTuple):
    a_plus: int
    a_minus: int
    e_lo: int
    e_hi: int
    lut: np.ndarray
    """``DLUT`` (UQ1.16) indexed by the steps to the reward."""
    r_one: int
    r_wrong: int
    n_classes: int
    elig: np.ndarray
    """Eligibility registers ``(n_in, n_out)`` (int64, ``E_FRAC`` fraction bits), decayed to the end
    of the presentation."""
    label: np.ndarray
    """``[label]`` of the current sample (-1: none)."""
    last: np.ndarray
    """``[reward, winner]`` of the last learning presentation (the reward as ``R_q / 256``)."""


@njit(cache=True, inline="always")
def reward_int_on_synapse(c, e, pre, post, x_pre, x_post, k):
    """The eligibility register after a pairing ``k`` steps before the reward (module docstring)."""
    de = 0
    if post != 0:
        de += c.a_plus * x_pre
    if pre != 0:
        de -= c.a_minus * x_post
    if de == 0:
        return e
    f = c.lut[k] if k < c.lut.shape[0] else 0
    x = e + shr_round_nb(de * f, D_FRAC)
    return c.e_lo if x < c.e_lo else (c.e_hi if x > c.e_hi else x)


@njit(cache=True, inline="always")
def reward_int_begin(c, n_pre, n_post, counts):
    """``R_q``: ``r_one`` for a correct winner, ``r_wrong`` for a wrong one, 0 if silent or unlabelled."""
    if c.label[0] < 0:
        c.last[0] = 0.0
        c.last[1] = -1.0
        return 0
    r, best = winner_reward(counts, c.label[0], c.n_classes, -1.0)
    g = 0
    if best >= 0:
        g = c.r_one if r > 0.0 else c.r_wrong
    c.last[0] = g / c.r_one
    c.last[1] = best
    return g


@njit(cache=True, inline="always")
def reward_int_on_sample_syn(c, q, g, pre, post, e, r):
    """The rewarded change of one synapse: ``sround(R_q e, r, E_FRAC + R_FRAC)`` codes."""
    return sround(g * e, r, E_FRAC + R_FRAC)


@register_rule
class RewardSTDPInt(Rule):
    """Integer twin of :class:`RewardSTDP` (module docstring): a saturating ``E_BITS``-bit
    eligibility register per synapse, fed at events with the pair-STDP change pre-decayed to the
    reward by the table ``DLUT``, and ``q += sround(R_q e, r, 32)`` on the reward broadcast."""

    kind: Literal["reward_stdp_int"] = "reward_stdp_int"
    integer: ClassVar[bool] = True
    A_PLUS: int = Field(ge=0, le=A_MAX)
    """Eligibility per postsynaptic spike per presynaptic trace code (``2**-E_FRAC`` weight codes)."""
    A_MINUS: int = Field(ge=0, le=A_MAX)
    """Eligibility removed per presynaptic spike per postsynaptic trace code (``2**-E_FRAC`` codes)."""
    SHIFT_PRE: int = Field(3, ge=1, le=16)
    """``stdp_trace`` DECAY_SHIFT of the presynaptic trace."""
    SHIFT_POST: int = Field(3, ge=1, le=16)
    """``stdp_trace`` DECAY_SHIFT of the postsynaptic trace."""
    E_DECAY: int = Field(ge=0, le=(1 << 32) - 1)
    """Eligibility decay per step, a 32-bit fraction (``exp(-dt / tau_e) 2**32``)."""
    n_classes: int = Field(10, ge=1)
    """Classes; neuron ``j`` answers class ``j % n_classes``."""
    R_WRONG: int = Field(-(1 << R_FRAC), ge=-(1 << R_FRAC), le=1 << R_FRAC)
    """Reward of a wrong answer, Q1.8 (``256``: +1; a correct answer earns 256, a silent layer 0)."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.SHIFT_PRE), TraceSpec("post", self.SHIFT_POST))

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_synapse=reward_int_on_synapse, on_sample_syn=reward_int_on_sample_syn,
                         on_sample_begin=reward_int_begin, eligibility=True)

    def consts(self, ctx: CompileContext) -> RewardIntConst:
        _layer_consts_check(ctx, self.n_classes)
        lo, hi = signed_range(E_BITS)
        return RewardIntConst(self.A_PLUS, self.A_MINUS, lo, hi, decay_lut(self.E_DECAY), 1 << R_FRAC,
                              self.R_WRONG, self.n_classes, np.zeros((ctx.n_in, ctx.n_out), np.int64),
                              np.full(1, -1, np.int64), np.zeros(2))

    set_label = staticmethod(_set_label)

    def after_presentation(self, consts: RewardIntConst, counts) -> None:
        _needs_label(consts)
