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

Coefficients are per layer (one number each) or per synapse, as in the authors' code: each of
``A, B, C, D`` may be an ``(n_in, n_out)`` matrix (nested lists or a NumPy array; a number is
the same for every synapse).  ``lr`` stays one number: ``lr_ij A_ij`` is ``lr A'_ij``, so a
per-synapse ``lr`` adds nothing to the family.  Per-synapse rules compile to indexed hooks
(:attr:`hwsnn.engine.contract.RuleHooks.indexed`) that read ``c.a[i, j]`` etc.; their integer
twins carry per-synapse mantissas, rounded as the per-layer ones.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, NamedTuple, Union

import numpy as np
from numba import njit
from pydantic import AfterValidator, BeforeValidator, Field

from hwsnn.engine.contract import CompileContext, IntFormat, Rule, RuleHooks, TraceSpec, register_rule
from hwsnn.engine.rules.threshold import network_only
from hwsnn.errors import ConfigError
from hwsnn.plasticity.fixed import lfsr_advance, sround
from hwsnn.plasticity.traces import shift_for_tau, trace_gain

__all__ = ["PDLF", "PDLFInt", "PDLFNorm", "PDLFNormInt", "pdlf_rules", "VARIANTS", "INT_SHIFT",
           "max_normalize", "max_normalize_int", "coefficient_matrix"]

VARIANTS = ("ABCD", "BD")
"""Rule variants: the full rule, and the reduced rule without the Hebbian and presynaptic terms."""

INT_SHIFT = 16
"""Common shift ``S`` of the integer twins' mantissas (coefficient resolution ``2**-16`` codes)."""


# ---------------------------------------------------------------------------------------------
# per-layer or per-synapse coefficients


def _listify(v):
    """Arrays and nested lists (TOML) as nested tuples, before the (strict) validation."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, list):
        return tuple(tuple(row) if isinstance(row, list) else row for row in v)
    return v


def _rectangular(v):
    if isinstance(v, tuple):
        if not v or not v[0] or any(len(row) != len(v[0]) for row in v):
            raise ValueError("a per-synapse coefficient must be a non-empty (n_in, n_out) matrix with rows of "
                             "equal length")
    return v


Coef = Annotated[Union[float, tuple[tuple[float, ...], ...]], BeforeValidator(_listify), AfterValidator(_rectangular)]
"""A coefficient: one number for the layer, or an ``(n_in, n_out)`` matrix (one per synapse)."""

IntCoef = Annotated[Union[int, tuple[tuple[int, ...], ...]], BeforeValidator(_listify), AfterValidator(_rectangular)]
"""An integer mantissa: one for the layer, or an ``(n_in, n_out)`` matrix."""


def coefficient_matrix(v, shape: tuple[int, int], field: str, dtype=np.float64) -> np.ndarray:
    """``v`` (a number or a matrix) as a C-contiguous ``shape`` array; a matrix of another shape
    is a :class:`~hwsnn.errors.ConfigError` naming ``field``."""
    a = np.asarray(v, dtype)
    if a.ndim == 0:
        return np.full(shape, a, dtype)
    if a.shape != tuple(shape):
        raise ConfigError(field, f"has shape {a.shape}, the projection is {tuple(shape)} (n_in, n_out)")
    return np.ascontiguousarray(a)


def _is_matrix(*vs) -> bool:
    return any(isinstance(v, tuple) for v in vs)


def _mantissa(x):
    """``round(x)`` of a number, or element-wise of a matrix (half to even, as :func:`round`)."""
    a = np.asarray(x, np.float64)
    return int(round(float(a))) if a.ndim == 0 else np.rint(a).astype(np.int64)


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


class PDLFSynConst(NamedTuple):
    a: np.ndarray
    """``lr * A`` per synapse, ``(n_in, n_out)``."""
    ac: np.ndarray
    """``lr * A * C`` per synapse."""
    b: np.ndarray
    """``lr * B`` per synapse."""


@njit(cache=True, inline="always")
def pdlf_on_pre_syn(c, i, j, w, x_pre, x_post):
    return c.a[i, j] * x_post - c.ac[i, j]


@njit(cache=True, inline="always")
def pdlf_on_post_syn(c, i, j, w, x_pre, x_post):
    return c.a[i, j] * x_pre + c.b[i, j]


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


class PDLFIntSynConst(NamedTuple):
    m_ax: np.ndarray
    m_ay: np.ndarray
    m_ac: np.ndarray
    m_b: np.ndarray
    s: int


@njit(cache=True, inline="always")
def pdlf_on_synapse_syn(c, i, j, q, pre, post, x_pre, x_post, r):
    p = 0
    if pre != 0:
        p += c.m_ay[i, j] * x_post - c.m_ac[i, j]
    if post != 0:
        p += c.m_ax[i, j] * x_pre + c.m_b[i, j]
    return sround(p, r, c.s)


class _Coefs(Rule):
    lr: float = Field(0.01, ge=0)
    """Learning rate ``lr`` (weight units per unit of the bracket)."""
    A: Coef = 0.0
    """Hebbian coefficient (the spike-trace product ``x y``; also scales ``-A C x``); a number,
    or an ``(n_in, n_out)`` matrix for per-synapse coefficients."""
    B: Coef = 0.0
    """Postsynaptic coefficient (per postsynaptic spike); a number or an ``(n_in, n_out)`` matrix."""
    C: Coef = 0.0
    """Presynaptic offset: a presynaptic spike changes the weight by ``-lr A C``; a number or an
    ``(n_in, n_out)`` matrix."""
    D: Coef = 0.0
    """Constant drift per step (applied by the companion slow rule :class:`PDLFNorm`); a number or
    an ``(n_in, n_out)`` matrix."""
    variant: Literal["ABCD", "BD"] = "ABCD"
    """``"ABCD"``: the full rule; ``"BD"``: ``A`` (and with it ``C``) ignored."""

    @property
    def per_synapse(self) -> bool:
        """Whether any coefficient is a per-synapse matrix."""
        return _is_matrix(self.A, self.B, self.C, self.D)

    def _a(self):
        return np.asarray(self.A, np.float64) if self.variant == "ABCD" else 0.0

    def _check_shape(self, shape) -> None:
        """Every matrix coefficient has the projection's shape (the error names the field)."""
        for n in ("A", "B", "C", "D"):
            v = getattr(self, n)
            if isinstance(v, tuple):
                coefficient_matrix(v, shape, f"rules.{self.kind}.{n}")

    def _event_coefs(self, shape=None):
        """``(lr A, lr A C, lr B)``: numbers, or ``shape`` arrays when per synapse."""
        a = self.lr * self._a()
        out = (a, a * np.asarray(self.C, np.float64), self.lr * np.asarray(self.B, np.float64))
        if shape is None:
            return tuple(float(x) for x in out)
        return tuple(coefficient_matrix(x, shape, f"rules.{self.kind}.{n}") for x, n in zip(out, "ACB"))


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
        if self.per_synapse:
            return RuleHooks(on_pre=pdlf_on_pre_syn, on_post=pdlf_on_post_syn, pre_scope="all", post_scope="all",
                             indexed=True)
        return RuleHooks(on_pre=pdlf_on_pre, on_post=pdlf_on_post, pre_scope="all", post_scope="all")

    def consts(self, ctx: CompileContext) -> PDLFConst | PDLFSynConst:
        if self.per_synapse:
            self._check_shape((ctx.n_in, ctx.n_out))
            return PDLFSynConst(*self._event_coefs((ctx.n_in, ctx.n_out)))
        return PDLFConst(*self._event_coefs())

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "PDLFInt":
        """Integer twin: coefficients in codes at shift :data:`INT_SHIFT`; each Hebbian mantissa also
        carries the ratio of the float trace's summed table to the integer trace's
        (:func:`hwsnn.plasticity.traces.trace_gain`), so that the mean change per spike pair equals the float rule's."""
        qmax = (1 << fmt.w_bits) - 1
        xmax = (1 << fmt.x_bits) - 1
        k = qmax / w_max * (1 << INT_SHIFT)
        a = self.lr * self._a()
        sp, sq = shift_for_tau(self.tau_pre, dt), shift_for_tau(self.tau_post, dt)
        return PDLFInt(M_AX=_mantissa(a * trace_gain(self.tau_pre, dt, fmt.x_bits) * k / xmax),
                       M_AY=_mantissa(a * trace_gain(self.tau_post, dt, fmt.x_bits) * k / xmax),
                       M_AC=_mantissa(a * np.asarray(self.C, np.float64) * k),
                       M_B=_mantissa(self.lr * np.asarray(self.B, np.float64) * k),
                       SHIFT_PRE=sp, SHIFT_POST=sq)


@register_rule
class PDLFInt(Rule):
    """Integer twin of :class:`PDLF`: at a step where input ``i`` or neuron ``j`` spikes,
    ``dq = sround(pre (M_AY x_post - M_AC) + post (M_AX x_pre + M_B), r, 16)`` (signed mantissas,
    ``stdp_trace`` traces, LFSR16 value ``r``); the summed change is clamped to the code range."""

    kind: Literal["pdlf_int"] = "pdlf_int"
    integer: ClassVar[bool] = True
    M_AX: IntCoef = 0
    """Hebbian mantissa of a postsynaptic spike (codes * 2**16 per unit of presynaptic trace code);
    a number, or an ``(n_in, n_out)`` matrix (per synapse)."""
    M_AY: IntCoef = 0
    """Hebbian mantissa of a presynaptic spike (codes * 2**16 per unit of postsynaptic trace code)."""
    M_AC: IntCoef = 0
    """Presynaptic mantissa (codes * 2**16 per presynaptic spike, subtracted)."""
    M_B: IntCoef = 0
    """Postsynaptic mantissa (codes * 2**16 per postsynaptic spike)."""
    SHIFT_PRE: int = Field(2, ge=0, le=16)
    """``stdp_trace`` DECAY_SHIFT of the presynaptic trace."""
    SHIFT_POST: int = Field(2, ge=0, le=16)
    """``stdp_trace`` DECAY_SHIFT of the postsynaptic trace."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.SHIFT_PRE), TraceSpec("post", self.SHIFT_POST))

    @property
    def per_synapse(self) -> bool:
        """Whether any mantissa is a per-synapse matrix."""
        return _is_matrix(self.M_AX, self.M_AY, self.M_AC, self.M_B)

    def hooks(self) -> RuleHooks:
        if self.per_synapse:
            return RuleHooks(on_synapse=pdlf_on_synapse_syn, indexed=True)
        return RuleHooks(on_synapse=pdlf_on_synapse)

    def consts(self, ctx: CompileContext) -> PDLFIntConst | PDLFIntSynConst:
        m = (self.M_AX, self.M_AY, self.M_AC, self.M_B)
        if self.per_synapse:
            shape = (ctx.n_in, ctx.n_out)
            return PDLFIntSynConst(*(coefficient_matrix(v, shape, f"rules.{self.kind}.{n}", np.int64)
                                     for v, n in zip(m, ("M_AX", "M_AY", "M_AC", "M_B"))), INT_SHIFT)
        return PDLFIntConst(*m, INT_SHIFT)


# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _drift_int(q, m_d, s, q_max, lfsr):
    """``q += sround(m_d[i, j], r, s)`` per synapse, row-major, one LFSR16 advance each; clamped."""
    r = lfsr[0]
    n_pre, n_post = q.shape
    for i in range(n_pre):
        for j in range(n_post):
            v = q[i, j] + sround(m_d[i, j], r, s)
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
        w = np.asarray(w, np.float64)
        d = coefficient_matrix(self.D, w.shape, f"rules.{self.kind}.D")
        w1 = np.clip(w + self.lr * d * self.period, 0.0, w_max)
        if self.normalize:
            w1 = max_normalize(w1, w_max)
        return w1 - w

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "PDLFNormInt":
        qmax = (1 << fmt.w_bits) - 1
        return PDLFNormInt(M_D=_mantissa(self.lr * np.asarray(self.D, np.float64) * self.period * qmax / self.w_max
                                         * (1 << INT_SHIFT)),
                           period=self.period, normalize=self.normalize)


@register_rule
class PDLFNormInt(Rule):
    """Integer twin of :class:`PDLFNorm`: every ``period`` steps ``q += sround(M_D, r, 16)`` per
    synapse (row-major, one LFSR16 advance each, clamped), then ``q <- (2 q Q_MAX + m) // (2 m)``."""

    kind: Literal["pdlf_norm_int"] = "pdlf_norm_int"
    integer: ClassVar[bool] = True
    slow: ClassVar[bool] = True
    M_D: IntCoef = 0
    """Drift mantissa (codes * 2**16 per application); a number or an ``(n_in, n_out)`` matrix."""
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
        m_d = coefficient_matrix(self.M_D, q1.shape, f"rules.{self.kind}.M_D", np.int64)
        if np.any(m_d != 0):
            _drift_int(q1, m_d, np.int64(INT_SHIFT), np.int64(q_max), lfsr)
        if self.normalize:
            q1 = max_normalize_int(q1, q_max)
        return q1 - q


def pdlf_rules(lr: float, A, B, C, D, *, variant: str = "ABCD", tau_pre: float = 0.005,
               tau_post: float = 0.005, period: int = 1, normalize: bool = True,
               w_max: float = 1.0) -> tuple[PDLF, PDLFNorm]:
    """The event rule and its slow companion for one set of coefficients (numbers, or
    ``(n_in, n_out)`` matrices for per-synapse coefficients)."""
    co = dict(lr=lr, A=A, B=B, C=C, D=D, variant=variant)
    return (PDLF(**co, tau_pre=tau_pre, tau_post=tau_post),
            PDLFNorm(**co, period=period, normalize=normalize, w_max=w_max))
