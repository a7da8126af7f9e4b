"""Spike-synchrony-dependent plasticity (SSDP) and its dopamine-gated form (DA-SSDP).

SSDP (Tian et al., "Learning with Spike Synchrony in Spiking Neural Networks", arXiv 2505.14841)
changes a synapse once per presentation from *whether* and *how closely in time* its two neurons
fired, not from their order.  Per presentation (one sample = one element of the authors' batch)
and synapse ``(i, j)``::

    p_i = 1[input i spiked in the presentation]     q_j = 1[neuron j spiked in the presentation]
    t_i, t_j = spike steps (first spike by default, last with spike_time = "last"; T if silent)
    G_ij  = exp(-(|t_j - t_i| dt)**2 / (2 sigma**2))        sync_ij = p_i q_j
    dw_ij = g * (a_plus sync_ij G_ij - a_base (1 - sync_ij) G_ij),  clamped to [-dw_max, dw_max]

then the weight is clipped to ``[0, w_max]``.  ``T`` is the presentation's length in steps, so a
pair of silent neurons has ``G = 1`` and is depressed by ``a_base`` every sample (as in the
authors' code, whose silent neurons also sit at ``t = T``), while a pair with one silent neuron is
depressed by ``a_base`` times the Gaussian of the distance of the other one's spike to the end of
the presentation.  The authors average ``dw`` over a batch of ``B`` samples; here every sample is
applied on its own, which for small changes equals the batch mean with ``a_plus, a_base`` scaled
by ``1/B`` applied ``B`` times.

``g = 1`` for SSDP.  DA-SSDP (arXiv 2512.07194) gates each sample's change by its synchrony: the
sample's synchrony score ``S = mean_ij sync_ij = (n_pre / n_in) (n_post / n_out)`` and a loss-like
signal ``L`` are recorded; after ``warmup`` samples ``k = -corr(S, L)`` (= ``-mean(z(S) z(L))``) and
the mean ``mu_S`` and standard deviation ``sigma_S`` of ``S`` are fitted (on the last ``window``
samples, refitted after every sample; ``window = 0``: once, on the warm-up samples, as in the
authors' code) and ``g = clamp(1 + k (S - mu_S) / sigma_S, gate_min, gate_max)``.  The
winner-take-all layer has no loss, so ``L = 1 - M`` with the layer's winner margin
``M = (n_1 - n_2) / n_1`` of the sample (:func:`hwsnn.engine.synergy.margin`; a silent layer has
``L = 1``): samples the layer answers decisively count as low loss.  A constant ``S`` or ``L``
gives ``k = 0`` and ``g = 1`` exactly, i.e. plain SSDP.

Integer twins (``ssdp_int``, ``da_ssdp_int``): ``G`` is a lookup table ``G_LUT`` of UQ0.8 entries
(``round(255 G)``, indexed by ``|t_j - t_i|`` in steps, 0 beyond its last entry), the gate is
``g_q = round(256 g)`` (UQ2.8; ``256`` for SSDP) and::

    sync:      dq =  sround(G_LUT[d] * A_PLUS * g_q, r, SHIFT_PLUS + 8)
    otherwise: dq = -sround(G_LUT[d] * A_BASE * g_q, rot8(r), SHIFT_BASE + 8)
    dq = clamp(dq, -DQ_MAX, DQ_MAX)

with one LFSR16 value ``r`` per synapse (``hwsnn.plasticity.fixed.sround``).  The gate itself is a
per-sample scalar computed by the host in floating point (a correlation and a division per
sample), quantised to UQ2.8 before it scales the integer updates.

Crossbar: the sample's changes are accumulated with the other rules' and written back as
SET/RESET pulses by the crossbar's write-back (every changed column is marked for writing).

SSDP runs per presentation in the fused layer kernel (``hwsnn run``); :class:`hwsnn.snn.Network`
has no presentations and refuses it with the field named.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from hwsnn.engine.contract import CompileContext, IntFormat, Rule, RuleHooks, SpikeTimeSpec, register_rule
from hwsnn.engine.rules.stdp import int_coefficient
from hwsnn.engine.synergy import margin
from hwsnn.errors import ConfigError
from hwsnn.plasticity.fixed import r_minus_bits, sround

__all__ = ["SSDP", "SSDPConst", "ssdp_change", "SSDPInt", "DASSDP", "DASSDPInt", "ssdp_lut", "fit_gate", "G_BITS",
           "GATE_BITS", "LUT_MAX"]

G_BITS = 8
"""Bits of a ``G_LUT`` entry (UQ0.8: ``255`` stands for ``G = 1``)."""
GATE_BITS = 8
"""Fraction bits of the integer gate ``g_q`` (UQ2.8: ``256`` stands for ``g = 1``)."""
LUT_MAX = 1 << 16
"""Largest ``G_LUT`` (entries)."""

SpikeTime = Literal["first", "last"]


def _layer_only(rule: Rule, ctx: CompileContext) -> None:
    if getattr(ctx, "neuron_inputs", False):  # hwsnn.snn.Network's context: no presentations
        raise ConfigError(f"rules.{rule.kind}", "acts once per presentation: it runs in the fused layer kernel "
                                                "(hwsnn run, LayerNetwork) only, not in hwsnn.snn.Network")


def _times(which: str) -> tuple[SpikeTimeSpec, SpikeTimeSpec]:
    return (SpikeTimeSpec("pre", which), SpikeTimeSpec("post", which))


def ssdp_lut(sigma: float, dt: float, field: str = "rules.sigma") -> tuple[int, ...]:
    """``G_LUT[d] = round(255 exp(-(d dt)**2 / (2 sigma**2)))`` (half up) for ``d = 0, 1, ...`` up to
    the last non-zero entry."""
    out = []
    gmax = (1 << G_BITS) - 1
    k2 = dt * dt / (2.0 * sigma * sigma)
    for d in range(LUT_MAX + 1):
        v = int(math.floor(gmax * math.exp(-(d * d) * k2) + 0.5))
        if v == 0:
            return tuple(out)
        out.append(v)
    raise ConfigError(field, f"sigma / dt = {sigma / dt:g} needs a G lookup table of more than {LUT_MAX} entries")


# --------------------------------------------------------------------------------------------- float SSDP
class SSDPConst(NamedTuple):
    a_plus: float
    a_base: float
    dw_max: float
    k2: float
    """``dt**2 / (2 sigma**2)``: ``G = exp(-d**2 k2)`` for ``d`` steps."""


@njit(cache=True, inline="always")
def ssdp_change(c, g, pre, post, t_pre, t_post):
    """One synapse's unclamped SSDP change ``g (a_plus sync G - a_base (1 - sync) G)`` from the
    flags ``pre``/``post`` (0/1) and spike steps ``t_pre``/``t_post`` (``T`` if silent); shared by
    :func:`ssdp_on_sample` and the batched post-optimisation of :mod:`hwsnn.stl.ssdp_post`."""
    d = t_post - t_pre
    gauss = math.exp(-(d * d) * c.k2)
    if pre != 0 and post != 0:
        return g * (c.a_plus * gauss)
    return -(g * (c.a_base * gauss))


@njit(cache=True, inline="always")
def ssdp_on_sample(c, w, g, pre, post, t_pre, t_post):
    dw = ssdp_change(c, g, pre, post, t_pre, t_post)
    if dw > c.dw_max:
        return c.dw_max
    if dw < -c.dw_max:
        return -c.dw_max
    return dw


class _SSDPFields(Rule):
    a_plus: float = Field(1.5e-4, ge=0)
    """Potentiation of a synchronous pair (both neurons spiked) at ``G = 1`` per sample (weight
    units; the authors' module default)."""
    a_base: float = Field(5e-5, ge=0)
    """Baseline depression of a pair that is not synchronous (at least one neuron silent) at
    ``G = 1`` per sample (weight units; the authors' default)."""
    sigma: float = Field(0.01, gt=0, le=10)
    """Width of the Gaussian synchrony window (s).  The authors' code uses one time step of a
    4-step presentation; with 0.5 ms steps and 0.35 s presentations one step would make ``G``
    negligible for all but coincident spikes, so the default is 10 ms, about the interval between
    the spikes of the strongest inputs (1 / 127.5 Hz)."""
    dw_max: float = Field(1.0, gt=0)
    """Bound of a sample's change ``|dw|`` (weight units): the authors' code clamps the change to
    ``[-1, 1]``, one unit of its weights, i.e. ``w_max = 1`` here (it never binds at the default
    amplitudes)."""
    spike_time: SpikeTime = "first"
    """Spike time of a neuron: its ``"first"`` spike in the presentation (the paper), or its
    ``"last"`` (what the authors' code computes: ``cumsum().argmax()`` returns the index of the
    last spike)."""

    def _int_fields(self, fmt: IntFormat, dt: float, w_max: float) -> dict:
        qmax = (1 << fmt.w_bits) - 1
        gmax = (1 << G_BITS) - 1
        ap, sp = int_coefficient(self.a_plus * qmax / (w_max * gmax), "rules.a_plus")
        ab, sb = int_coefficient(self.a_base * qmax / (w_max * gmax), "rules.a_base")
        dq = int(math.floor(self.dw_max * qmax / w_max + 0.5))
        if dq < 1:
            raise ConfigError("rules.dw_max", f"{self.dw_max} is below one weight code ({w_max / qmax:g}) "
                                              "on the integer backend")
        return dict(A_PLUS=ap, SHIFT_PLUS=sp, A_BASE=ab, SHIFT_BASE=sb, G_LUT=ssdp_lut(self.sigma, dt),
                    DQ_MAX=dq, SPIKE_TIME=self.spike_time)


@register_rule
class SSDP(_SSDPFields):
    """Spike-synchrony-dependent plasticity (Tian et al. 2025), once per presentation: a pair of
    neurons that both spiked gains ``a_plus G``, any other pair loses ``a_base G``, with
    ``G = exp(-dt**2 / (2 sigma**2))`` of their spike times (silent: the end of the presentation)."""

    kind: Literal["ssdp"] = "ssdp"

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_sample=ssdp_on_sample, spike_times=_times(self.spike_time))

    def consts(self, ctx: CompileContext) -> SSDPConst:
        _layer_only(self, ctx)
        return SSDPConst(self.a_plus, self.a_base, self.dw_max, ctx.dt * ctx.dt / (2.0 * self.sigma * self.sigma))

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "SSDPInt":
        return SSDPInt(**self._int_fields(fmt, dt, w_max))


# --------------------------------------------------------------------------------------------- integer SSDP
class SSDPIntConst(NamedTuple):
    a_plus: int
    s_plus: int
    a_base: int
    s_base: int
    dq_max: int
    lut: np.ndarray
    g_one: int


@njit(cache=True, inline="always")
def ssdp_int_begin(c, n_pre, n_post, counts):
    return c.g_one


@njit(cache=True, inline="always")
def ssdp_on_sample_syn(c, q, g, pre, post, t_pre, t_post, r):
    d = abs(t_post - t_pre)
    gq = c.lut[d] if d < c.lut.shape[0] else 0
    if pre != 0 and post != 0:
        dq = sround(gq * c.a_plus * g, r, c.s_plus)
    else:
        dq = -sround(gq * c.a_base * g, r_minus_bits(r), c.s_base)
    if dq > c.dq_max:
        return c.dq_max
    if dq < -c.dq_max:
        return -c.dq_max
    return dq


class _SSDPIntFields(Rule):
    integer: ClassVar[bool] = True
    A_PLUS: int = Field(ge=0, le=(1 << 16) - 1)
    """Potentiation mantissa (codes per ``2**SHIFT_PLUS`` units of ``G_LUT``)."""
    SHIFT_PLUS: int = Field(ge=0, le=48)
    """Potentiation shift (the gate's 8 fraction bits come on top)."""
    A_BASE: int = Field(ge=0, le=(1 << 16) - 1)
    """Baseline-depression mantissa."""
    SHIFT_BASE: int = Field(ge=0, le=48)
    """Baseline-depression shift."""
    G_LUT: tuple[int, ...] = Field(min_length=1, max_length=LUT_MAX)
    """Gaussian lookup table (UQ0.8, ``255 = 1``) indexed by ``|t_post - t_pre|`` in steps; 0 beyond
    its last entry."""
    DQ_MAX: int = Field(ge=1)
    """Bound of a sample's change (codes)."""
    SPIKE_TIME: SpikeTime = "first"
    """``"first"`` or ``"last"`` spike step (as ``spike_time`` of the float rule)."""

    @model_validator(mode="after")
    def _lut(self):
        bad = [v for v in self.G_LUT if not 0 <= v <= (1 << G_BITS) - 1]
        if bad:
            raise ConfigError("G_LUT", f"entries must be in 0..{(1 << G_BITS) - 1}, got {bad[0]}")
        return self

    def _int_consts(self, ctx: CompileContext) -> SSDPIntConst:
        _layer_only(self, ctx)
        return SSDPIntConst(self.A_PLUS, self.SHIFT_PLUS + GATE_BITS, self.A_BASE, self.SHIFT_BASE + GATE_BITS,
                            self.DQ_MAX, np.array(self.G_LUT, np.int64), 1 << GATE_BITS)


@register_rule
class SSDPInt(_SSDPIntFields):
    """Integer twin of ``ssdp``: the Gaussian as a UQ0.8 lookup table over the spike-time distance in
    steps, 8-bit mantissa coefficients and LFSR16 stochastic rounding of every synapse's change."""

    kind: Literal["ssdp_int"] = "ssdp_int"

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_sample_syn=ssdp_on_sample_syn, on_sample_begin=ssdp_int_begin,
                         spike_times=_times(self.SPIKE_TIME))

    def consts(self, ctx: CompileContext) -> SSDPIntConst:
        return self._int_consts(ctx)


# --------------------------------------------------------------------------------------------- DA gate
def fit_gate(s: np.ndarray, l: np.ndarray) -> tuple[float, float, float]:
    """``(k, mu_S, sigma_S)`` of the DA gate from synchrony scores ``s`` and losses ``l``:
    ``k = -mean(z(s) z(l))`` (population standard deviations), ``k = 0`` when either is constant
    (then ``sigma_S = 1`` if ``s`` is)."""
    s = np.asarray(s, np.float64)
    l = np.asarray(l, np.float64)
    if s.size == 0:
        return 0.0, 0.0, 1.0
    mu, sd, sl = float(s.mean()), float(s.std()), float(l.std())
    if sd <= 0.0 or sl <= 0.0:
        return 0.0, mu, sd if sd > 0.0 else 1.0
    k = -float(np.mean((s - mu) / sd * ((l - l.mean()) / sl)))
    return k, mu, sd


class _GateFields(Rule):
    warmup: int = Field(100, ge=0)
    """Learning presentations before the gate is fitted (the authors' code: 100 epochs)."""
    window: int = Field(100, ge=0)
    """Presentations the gate's statistics cover: after the warm-up they are refitted after every
    presentation on the last ``window`` ones; 0: fitted once, on the warm-up presentations, and then
    fixed (the authors' code)."""
    warmup_updates: bool = False
    """Apply plain SSDP (gate 1) during the warm-up; false: no change during the warm-up, only
    the statistics are recorded (the authors' code)."""
    gate_min: float = Field(0.0, ge=0)
    """Lower clamp of the gate (the authors' code: 0)."""
    gate_max: float = Field(2.0, ge=0, le=4)
    """Upper clamp of the gate (the authors' code: 2; at most 4, the range of the integer gate)."""

    @model_validator(mode="after")
    def _gate(self):
        if self.gate_min > self.gate_max:
            raise ConfigError("gate_max", f"must be >= gate_min ({self.gate_min}), got {self.gate_max}")
        return self

    def _gate_arrays(self, ctx: CompileContext) -> dict:
        h = max(1, self.window if self.window > 0 else self.warmup)
        gate = np.array([0.0, 0.0, 0.0, 1.0])  # active, k, mu_S, sigma_S
        if self.warmup == 0:
            gate[0] = 1.0  # nothing recorded: k = 0 (g = 1) until the first fit
        return dict(n_in=float(ctx.n_in), n_out=float(ctx.n_out), g_min=float(self.gate_min),
                    g_max=float(self.gate_max), g_warm=1.0 if self.warmup_updates else 0.0, gate=gate,
                    stat=np.zeros(1), hist=np.zeros((2, h)), n=np.zeros(1, np.int64))

    def after_presentation(self, c, counts) -> None:
        """Record this presentation's ``(S, L)`` and refit the gate (see module)."""
        n = int(c.n[0])
        h = c.hist.shape[1]
        if self.window == 0 and n >= self.warmup:
            return  # fitted once: nothing more to record
        c.hist[0, n % h] = c.stat[0]
        c.hist[1, n % h] = 1.0 - margin(np.asarray(counts))
        n += 1
        c.n[0] = n
        if n < self.warmup:
            return
        m = min(n, h)
        k, mu, sd = fit_gate(c.hist[0, :m], c.hist[1, :m])
        c.gate[:] = (1.0, k, mu, sd)

    def gate_state(self, c) -> dict:
        """The gate's current ``k``, ``mu_S``, ``sigma_S``, whether it is active and the
        presentations recorded (diagnostics)."""
        return {"active": bool(c.gate[0]), "k": float(c.gate[1]), "mu_S": float(c.gate[2]),
                "sigma_S": float(c.gate[3]), "n": int(c.n[0]), "S_last": float(c.stat[0])}


@njit(cache=True, inline="always")
def _gate_value(c, n_pre, n_post):
    s = (n_pre / c.n_in) * (n_post / c.n_out)
    c.stat[0] = s
    if c.gate[0] == 0.0:
        return c.g_warm
    g = 1.0 + c.gate[1] * (s - c.gate[2]) / c.gate[3]
    return c.g_min if g < c.g_min else (c.g_max if g > c.g_max else g)


class DAConst(NamedTuple):
    a_plus: float
    a_base: float
    dw_max: float
    k2: float
    n_in: float
    n_out: float
    g_min: float
    g_max: float
    g_warm: float
    gate: np.ndarray
    stat: np.ndarray
    hist: np.ndarray
    n: np.ndarray


@njit(cache=True, inline="always")
def da_begin(c, n_pre, n_post, counts):
    return _gate_value(c, n_pre, n_post)


@register_rule
class DASSDP(_GateFields, _SSDPFields):
    """SSDP with the dopamine-like synchrony gate of DA-SSDP: after ``warmup`` presentations each
    presentation's change is scaled by ``g = 1 + k (S - mu_S) / sigma_S``, ``k = -corr(S, L)`` over
    the last ``window`` presentations, ``S`` the presentation's synchrony score and ``L = 1 -`` the
    layer's winner margin."""

    kind: Literal["da_ssdp"] = "da_ssdp"

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_sample=ssdp_on_sample, on_sample_begin=da_begin, spike_times=_times(self.spike_time))

    def consts(self, ctx: CompileContext) -> DAConst:
        _layer_only(self, ctx)
        return DAConst(self.a_plus, self.a_base, self.dw_max, ctx.dt * ctx.dt / (2.0 * self.sigma * self.sigma),
                       **self._gate_arrays(ctx))

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "DASSDPInt":
        return DASSDPInt(**self._int_fields(fmt, dt, w_max), warmup=self.warmup, window=self.window,
                         warmup_updates=self.warmup_updates, gate_min=self.gate_min, gate_max=self.gate_max)


class DAIntConst(NamedTuple):
    a_plus: int
    s_plus: int
    a_base: int
    s_base: int
    dq_max: int
    lut: np.ndarray
    g_one: int
    n_in: float
    n_out: float
    g_min: float
    g_max: float
    g_warm: float
    gate: np.ndarray
    stat: np.ndarray
    hist: np.ndarray
    n: np.ndarray


@njit(cache=True, inline="always")
def da_int_begin(c, n_pre, n_post, counts):
    return np.int64(math.floor(_gate_value(c, n_pre, n_post) * c.g_one + 0.5))


@register_rule
class DASSDPInt(_GateFields, _SSDPIntFields):
    """Integer twin of ``da_ssdp``: the host-computed gate, quantised to UQ2.8, scales
    ``ssdp_int``'s update."""

    kind: Literal["da_ssdp_int"] = "da_ssdp_int"

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_sample_syn=ssdp_on_sample_syn, on_sample_begin=da_int_begin,
                         spike_times=_times(self.SPIKE_TIME))

    def consts(self, ctx: CompileContext) -> DAIntConst:
        return DAIntConst(*self._int_consts(ctx), **self._gate_arrays(ctx))
