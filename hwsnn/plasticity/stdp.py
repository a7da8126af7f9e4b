"""Pair STDP (R1) and Diehl & Cook triplet STDP (R2), float rules and their integer twins.

Conventions (reference ``plasticity.md`` section 5.0, and :data:`hwsnn.snn.STEP_ORDER`):

* Weights are ``w[i, j]``: row ``i`` = presynaptic neuron, column ``j`` = postsynaptic neuron
  (crossbar rows are inputs).
* Plasticity (phase 5) reads the traces *after* this step's decay and *before* this step's
  increments, so a pre and a post spike on the same step do not see each other (dw = 0 at
  dt = 0 for the pair terms).
* A synapse touched by both a pre and a post spike on the same step gets both terms computed
  from the same old weight, then one clip -- the same combinational form as Contract 1's
  ``stdp_update`` (``wn = clamp(w + dp - dm, 0, W_MAX)``).
* Event driven: a step with only presynaptic spikes touches only their rows; a postsynaptic
  spike touches its column.  The affected synapses are visited in row-major order (row
  ascending, then column ascending), which fixes the order in which the integer twins draw
  LFSR16 states: one advance per visited synapse, exactly as a serial ``stdp_update`` unit
  fed with ``valid=1`` for each (:func:`hwsnn.golden.stdp.stdp_update_serial`).

Pair STDP, float (R1)::

    on post j:  w_ij += eta_plus  * x_i * f_plus(w_ij)          (dc_powerlaw: eta_plus*(x_i - x_tar)*(w_max-w)^mu)
    on pre  i:  w_ij -= eta_minus * y_j * f_minus(w_ij)         (dc_powerlaw: no pre term)
    f_plus  = 1 | (w_max - w) | (w_max - w)^mu     (additive | softbound | powerlaw)
    f_minus = 1 | (w - w_min) | (w - w_min)^mu

Pair STDP, integer twin (weights ``q`` in ``0..W_MAX``, traces in ``0..2**X_BITS-1``)::

    r = lfsr                          # one LFSR16 state per visited synapse
    dp = (x_i*A_PLUS  [*F+[q] >> B_F] + (r & (2**SHIFT_PLUS-1)))         >> SHIFT_PLUS    if post j
    dm = (y_j*A_MINUS [*F-[q] >> B_F] + (rot8(r) & (2**SHIFT_MINUS-1)))  >> SHIFT_MINUS   if pre i
    q' = clamp(q + dp - dm, 0, W_MAX); lfsr advances

For ``weight_dependence="additive"`` and shifts <= 8 this is Contract 1's ``stdp_update`` bit
for bit (``rot8(r) & mask == (r >> 8) & mask`` for masks of up to 8 bits).  ``F+/F-`` are
``2**B_F``-scaled look-up tables of ``f_plus/f_minus`` over the ``2**W_BITS`` weight codes.

Triplet STDP, float (R2, the Diehl & Cook code form; traces "set to 1" on spikes)::

    on pre  i:  w_ij -= nu_pre  * post1_j
    on post j:  w_ij += nu_post * pre_i * post2_j      (post2 before this step's increment)

Triplet, integer twin: ``dm = (post1*NU_PRE_M + r_minus) >> NU_PRE_E``;
``dp = (pre*post2*NU_POST_M + r_plus) >> NU_POST_E`` (``sround``), ``q' = clamp(q + dp - dm)``.

Float-to-integer scaling: one weight LSB is ``(w_max - w_min) / W_MAX``, a trace of 1.0 is
``X_MAX = 2**X_BITS - 1``; ``to_int()`` chooses 8-bit mantissas and the exponents, and the
trace decay shift whose ``1 - 2**-k`` best matches ``exp(-dt/tau)``; ``to_float()`` maps back to
the float rule with the *effective* constants of the integer twin, so the two can be compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from hwsnn.errors import ConfigError
from hwsnn.plasticity.base import Learner, check_backend
from hwsnn.plasticity.fixed import lfsr_advance, r_minus_bits, sround
from hwsnn.plasticity.traces import (
    TRACE_MODES,
    decay_factor,
    shift_for_tau,
    tau_of_shift,
    trace_decay_float,
    trace_decay_int,
    trace_spike_float,
    trace_spike_int,
)
from hwsnn.snn._params import ParamsMixin, check_choice, check_float, check_int, mant_exp
from hwsnn.spec.lfsr import LFSR_SEED_DEFAULT, check_seed

__all__ = [
    "WEIGHT_DEPENDENCES",
    "PairSTDP",
    "PairSTDPInt",
    "TripletSTDP",
    "TripletSTDPInt",
    "pair_dw_float",
    "pair_dw_int",
    "pair_stdp_float",
    "pair_stdp_int",
    "triplet_stdp_float",
    "triplet_stdp_int",
    "pair_luts",
]

WEIGHT_DEPENDENCES = ("additive", "softbound", "powerlaw", "dc_powerlaw")
"""Weight dependence of pair STDP; the index is the ``kind`` code of the kernels."""

_KIND = {name: k for k, name in enumerate(WEIGHT_DEPENDENCES)}
_ADD, _SOFT, _POW, _DC = 0, 1, 2, 3


# ----------------------------------------------------------------------------------------------
# Float pair STDP
# ----------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def pair_dw_float(w, x_pre, y_post, pre, post, kind, fp):
    """Weight change of one synapse (float R1).

    ``fp = [eta_plus, eta_minus, w_min, w_max, mu, x_tar]``; ``kind`` indexes
    :data:`WEIGHT_DEPENDENCES`.  Returns ``dp - dm`` computed from the old weight ``w``.
    """
    eta_p, eta_m, w_min, w_max, mu, x_tar = fp[0], fp[1], fp[2], fp[3], fp[4], fp[5]
    dw = 0.0
    if post != 0:
        up = w_max - w
        if up < 0.0:
            up = 0.0
        if kind == _ADD:
            dw += eta_p * x_pre
        elif kind == _SOFT:
            dw += eta_p * x_pre * up
        elif kind == _POW:
            dw += eta_p * x_pre * up ** mu
        else:
            dw += eta_p * (x_pre - x_tar) * up ** mu
    if pre != 0 and kind != _DC:
        dn = w - w_min
        if dn < 0.0:
            dn = 0.0
        if kind == _ADD:
            dw -= eta_m * y_post
        elif kind == _SOFT:
            dw -= eta_m * y_post * dn
        else:
            dw -= eta_m * y_post * dn ** mu
    return dw


@njit(cache=True, inline="always")
def _clipf(w, lo, hi):
    return lo if w < lo else hi if w > hi else w


@njit(cache=True)
def pair_stdp_float(w, x_pre, y_post, pre_spk, pre_idx, post_spk, post_idx, kind, fp):
    """Event-driven pair STDP on float weights ``w[n_pre, n_post]`` (in place).

    Work is ``len(pre_idx) * n_post + n_pre * len(post_idx)`` synapse updates.
    """
    n_pre, n_post = w.shape
    w_min, w_max = fp[2], fp[3]
    if post_idx.shape[0] == 0:
        for a in range(pre_idx.shape[0]):
            i = pre_idx[a]
            for j in range(n_post):
                w[i, j] = _clipf(w[i, j] + pair_dw_float(w[i, j], x_pre[i], y_post[j], 1, 0, kind, fp), w_min, w_max)
        return
    for i in range(n_pre):
        if pre_spk[i] != 0:
            for j in range(n_post):
                w[i, j] = _clipf(w[i, j] + pair_dw_float(w[i, j], x_pre[i], y_post[j], 1, post_spk[j], kind, fp),
                                 w_min, w_max)
        else:
            for b in range(post_idx.shape[0]):
                j = post_idx[b]
                w[i, j] = _clipf(w[i, j] + pair_dw_float(w[i, j], x_pre[i], y_post[j], 0, 1, kind, fp), w_min, w_max)


# ----------------------------------------------------------------------------------------------
# Integer pair STDP
# ----------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _pair_one_int(q, x_pre, y_post, pre, post, r, w_max, a_p, a_m, s_p, s_m, kind, x_tar, b_f, lut_plus, lut_minus):
    # scalar constants (not array loads) so LLVM keeps them in registers: q and c are both int64
    # arrays and could alias, which would force a reload of every constant per synapse
    # one code path for every weight dependence: the additive table is the constant 2**B_F, so
    # (x*A*2**B_F) >> B_F == x*A exactly (branching on kind per synapse was ~5x slower in Numba)
    dp = np.int64(0)
    dm = np.int64(0)
    if post != 0:
        xe = x_pre - x_tar if kind == _DC else x_pre
        dp = sround((xe * a_p * lut_plus[q]) >> b_f, r, s_p)
    if pre != 0 and kind != _DC:
        dm = sround((y_post * a_m * lut_minus[q]) >> b_f, r_minus_bits(r), s_m)
    qn = q + dp - dm
    if qn < 0:
        qn = np.int64(0)
    elif qn > w_max:
        qn = w_max
    return qn


@njit(cache=True, inline="always")
def pair_dw_int(q, x_pre, y_post, pre, post, r, c, lut_plus, lut_minus):
    """New weight code of one synapse (integer R1) for LFSR state ``r``.

    ``c = [W_MAX, A_PLUS, A_MINUS, SHIFT_PLUS, SHIFT_MINUS, KIND, X_TAR, B_F]``; the tables are
    :func:`pair_luts` (the additive ones are constant ``2**B_F``).
    """
    return _pair_one_int(q, x_pre, y_post, pre, post, r, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                         lut_plus, lut_minus)


@njit(cache=True)
def pair_stdp_int(q, x_pre, y_post, pre_spk, pre_idx, post_spk, post_idx, c, lut_plus, lut_minus, lfsr):
    """Event-driven integer pair STDP on ``int64`` codes ``q[n_pre, n_post]`` (in place).

    Visits the affected synapses row-major, one LFSR16 advance each; returns the new LFSR state.
    """
    n_pre, n_post = q.shape
    w_max, a_p, a_m, s_p, s_m, kind, x_tar, b_f = c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    r = np.int64(lfsr)
    if post_idx.shape[0] == 0:
        for a in range(pre_idx.shape[0]):
            i = pre_idx[a]
            xi = x_pre[i]
            for j in range(n_post):
                q[i, j] = _pair_one_int(q[i, j], xi, y_post[j], 1, 0, r, w_max, a_p, a_m, s_p, s_m, kind, x_tar,
                                        b_f, lut_plus, lut_minus)
                r = lfsr_advance(r)
        return r
    for i in range(n_pre):
        xi = x_pre[i]
        if pre_spk[i] != 0:
            for j in range(n_post):
                q[i, j] = _pair_one_int(q[i, j], xi, y_post[j], 1, post_spk[j], r, w_max, a_p, a_m, s_p, s_m, kind,
                                        x_tar, b_f, lut_plus, lut_minus)
                r = lfsr_advance(r)
        else:
            for b in range(post_idx.shape[0]):
                j = post_idx[b]
                q[i, j] = _pair_one_int(q[i, j], xi, y_post[j], 0, 1, r, w_max, a_p, a_m, s_p, s_m, kind, x_tar,
                                        b_f, lut_plus, lut_minus)
                r = lfsr_advance(r)
    return r


# ----------------------------------------------------------------------------------------------
# Triplet STDP (Diehl & Cook code form)
# ----------------------------------------------------------------------------------------------


@njit(cache=True)
def triplet_stdp_float(w, pre_tr, post1, post2, pre_spk, pre_idx, post_spk, post_idx, fp):
    """Event-driven D&C triplet rule on float weights (in place).

    ``fp = [nu_pre, nu_post, w_min, w_max]``.  On pre ``i``: ``-nu_pre*post1_j``; on post ``j``:
    ``+nu_post*pre_i*post2_j``; both from the old weight, one clip.
    """
    n_pre, n_post = w.shape
    nu_pre, nu_post, w_min, w_max = fp[0], fp[1], fp[2], fp[3]
    if post_idx.shape[0] == 0:
        for a in range(pre_idx.shape[0]):
            i = pre_idx[a]
            for j in range(n_post):
                w[i, j] = _clipf(w[i, j] - nu_pre * post1[j], w_min, w_max)
        return
    for i in range(n_pre):
        if pre_spk[i] != 0:
            for j in range(n_post):
                dw = -nu_pre * post1[j]
                if post_spk[j] != 0:
                    dw += nu_post * pre_tr[i] * post2[j]
                w[i, j] = _clipf(w[i, j] + dw, w_min, w_max)
        else:
            for b in range(post_idx.shape[0]):
                j = post_idx[b]
                w[i, j] = _clipf(w[i, j] + nu_post * pre_tr[i] * post2[j], w_min, w_max)


@njit(cache=True, inline="always")
def _triplet_one_int(q, pre_tr, p1, p2, pre, post, r, w_max, pm, pe, qm, qe):
    dp = np.int64(0)
    dm = np.int64(0)
    if post != 0:
        dp = sround(pre_tr * p2 * qm, r, qe)
    if pre != 0:
        dm = sround(p1 * pm, r_minus_bits(r), pe)
    qn = q + dp - dm
    if qn < 0:
        qn = np.int64(0)
    elif qn > w_max:
        qn = w_max
    return qn


@njit(cache=True)
def triplet_stdp_int(q, pre_tr, post1, post2, pre_spk, pre_idx, post_spk, post_idx, c, lfsr):
    """Integer twin of :func:`triplet_stdp_float` (row-major visit, one LFSR16 advance per synapse).

    ``c = [W_MAX, NU_PRE_M, NU_PRE_E, NU_POST_M, NU_POST_E]``; returns the new LFSR state.
    """
    n_pre, n_post = q.shape
    w_max, pm, pe, qm, qe = c[0], c[1], c[2], c[3], c[4]
    r = np.int64(lfsr)
    if post_idx.shape[0] == 0:
        for a in range(pre_idx.shape[0]):
            i = pre_idx[a]
            xi = pre_tr[i]
            for j in range(n_post):
                q[i, j] = _triplet_one_int(q[i, j], xi, post1[j], post2[j], 1, 0, r, w_max, pm, pe, qm, qe)
                r = lfsr_advance(r)
        return r
    for i in range(n_pre):
        xi = pre_tr[i]
        if pre_spk[i] != 0:
            for j in range(n_post):
                q[i, j] = _triplet_one_int(q[i, j], xi, post1[j], post2[j], 1, post_spk[j], r, w_max, pm, pe, qm, qe)
                r = lfsr_advance(r)
        else:
            for b in range(post_idx.shape[0]):
                j = post_idx[b]
                q[i, j] = _triplet_one_int(q[i, j], xi, post1[j], post2[j], 0, 1, r, w_max, pm, pe, qm, qe)
                r = lfsr_advance(r)
    return r


# ----------------------------------------------------------------------------------------------
# Parameter dataclasses
# ----------------------------------------------------------------------------------------------


def _check_bounds(obj):
    check_float(obj, "w_min")
    check_float(obj, "w_max")
    if not obj.w_max > obj.w_min:
        raise ConfigError("w_max", f"must be > w_min={obj.w_min}, not {obj.w_max}")


def _shift_for(tau: float, dt: float, field: str) -> int:
    k = shift_for_tau(tau, dt)
    if k < 1:
        raise ConfigError(field, f"time constant {tau} s is too short for a shift decay at dt={dt} s")
    return k


def _mant_exp_checked(a: float, field: str, e_min: int = 1, e_max: int = 48) -> tuple[int, int]:
    m, e = mant_exp(a, 8, e_max)
    while e < e_min:
        m, e = m * 2, e + 1
    if a > 0 and m == 0:
        raise ConfigError(field, f"{a} is below the smallest representable step 2**-{e_max}")
    return m, e


@dataclass(frozen=True, kw_only=True)
class PairSTDP(ParamsMixin):
    """Float pair STDP (R1) with selectable weight dependence (times in seconds)."""

    eta_plus: float = 1e-2
    """Potentiation rate (weight units per unit presynaptic trace), applied on post spikes."""
    eta_minus: float = 1e-4
    """Depression rate (weight units per unit postsynaptic trace), applied on pre spikes."""
    tau_plus: float = 20e-3
    """Presynaptic trace time constant (s)."""
    tau_minus: float = 20e-3
    """Postsynaptic trace time constant (s)."""
    weight_dependence: str = "additive"
    """One of :data:`WEIGHT_DEPENDENCES`."""
    mu: float = 0.2
    """Exponent of the power-law dependences (D&C ``exp_ee_pre``)."""
    x_tar: float = 0.4
    """Target presynaptic trace of the D&C power-law rule (``STDP_offset``)."""
    w_min: float = 0.0
    """Lower weight bound."""
    w_max: float = 1.0
    """Upper weight bound."""
    trace: str = "nearest"
    """Trace mode, one of :data:`~hwsnn.plasticity.traces.TRACE_MODES`."""

    def __post_init__(self):
        check_float(self, "eta_plus", 0.0)
        check_float(self, "eta_minus", 0.0)
        check_float(self, "tau_plus", 0.0, lo_open=True)
        check_float(self, "tau_minus", 0.0, lo_open=True)
        check_choice(self, "weight_dependence", WEIGHT_DEPENDENCES)
        check_float(self, "mu", 0.0)
        check_float(self, "x_tar", 0.0)
        _check_bounds(self)
        check_choice(self, "trace", TRACE_MODES)

    @property
    def kind(self) -> int:
        return _KIND[self.weight_dependence]

    def fparams(self) -> np.ndarray:
        """The ``fp`` vector of :func:`pair_dw_float`."""
        return np.array([self.eta_plus, self.eta_minus, self.w_min, self.w_max, self.mu, self.x_tar])

    def to_int(self, *, W_BITS: int = 8, X_BITS: int = 8, dt: float = 1e-3, LFSR_SEED: int = LFSR_SEED_DEFAULT,
               B_F: int = 8) -> "PairSTDPInt":
        """Integer twin: trace shifts matched to ``tau``, rates as 8-bit mantissa / shift pairs."""
        w_max_c = (1 << W_BITS) - 1
        x_max = (1 << X_BITS) - 1
        span = self.w_max - self.w_min
        a_p, s_p = _mant_exp_checked(self.eta_plus * w_max_c / (x_max * span), "eta_plus", 1, 32)
        a_m, s_m = _mant_exp_checked(self.eta_minus * w_max_c / (x_max * span), "eta_minus", 1, 32)
        return PairSTDPInt(W_BITS=W_BITS, W_MAX=w_max_c, X_BITS=X_BITS, A_PLUS=a_p, A_MINUS=a_m, SHIFT_PLUS=s_p,
                           SHIFT_MINUS=s_m, DECAY_SHIFT_PRE=_shift_for(self.tau_plus, dt, "tau_plus"),
                           DECAY_SHIFT_POST=_shift_for(self.tau_minus, dt, "tau_minus"), LFSR_SEED=LFSR_SEED,
                           weight_dependence=self.weight_dependence, mu=self.mu,
                           X_TAR=int(round(self.x_tar * x_max)), B_F=B_F, w_min=self.w_min, w_max=self.w_max)

    def bind(self, syn, dt: float, seed: int = 0) -> Learner:
        """Learner for a projection whose weights live in ``syn`` (any backend)."""
        kind = check_backend(syn, ("ideal", "int", "crossbar"), "PairSTDP")
        if kind == "int":
            return self.to_int(W_BITS=syn.W_BITS, dt=dt, LFSR_SEED=_seed16(seed)).bind(syn, dt, seed)
        return _PairFloatLearner(self, syn, dt)


@dataclass(frozen=True, kw_only=True)
class PairSTDPInt(ParamsMixin):
    """Integer twin of :class:`PairSTDP` (additive + shifts <= 8 == Contract 1 ``stdp_update``)."""

    W_BITS: int = 8
    """Weight code width; codes ``0..W_MAX`` map linearly onto ``[w_min, w_max]``."""
    W_MAX: int = 255
    """Largest weight code (saturation)."""
    X_BITS: int = 8
    """Trace width; a spike sets the trace to ``2**X_BITS - 1``."""
    A_PLUS: int = 16
    """Potentiation multiplier."""
    A_MINUS: int = 8
    """Depression multiplier."""
    SHIFT_PLUS: int = 8
    """Potentiation right shift (stochastically rounded with LFSR bits 0..)."""
    SHIFT_MINUS: int = 8
    """Depression right shift (stochastically rounded with LFSR bits 8.., rotated)."""
    DECAY_SHIFT_PRE: int = 4
    """Presynaptic trace ceil-decay shift (tau about ``2**k`` steps)."""
    DECAY_SHIFT_POST: int = 4
    """Postsynaptic trace ceil-decay shift."""
    LFSR_SEED: int = LFSR_SEED_DEFAULT
    """Reset state of the rule's LFSR16."""
    weight_dependence: str = "additive"
    """One of :data:`WEIGHT_DEPENDENCES` (non-additive ones use ``B_F``-bit look-up tables)."""
    mu: float = 0.2
    """Power-law exponent used to build the look-up tables."""
    X_TAR: int = 102
    """Target trace code of ``dc_powerlaw`` (0.4 * 255)."""
    B_F: int = 8
    """Fraction bits of the weight-dependence look-up tables."""
    w_min: float = 0.0
    """Weight (float units) of code 0."""
    w_max: float = 1.0
    """Weight (float units) of code ``W_MAX``."""

    def __post_init__(self):
        check_int(self, "W_BITS", 1, 16)
        check_int(self, "W_MAX", 1, (1 << self.W_BITS) - 1)
        check_int(self, "X_BITS", 1, 16)
        check_int(self, "A_PLUS", 0, 1 << 24)
        check_int(self, "A_MINUS", 0, 1 << 24)
        check_int(self, "SHIFT_PLUS", 1, 40)
        check_int(self, "SHIFT_MINUS", 1, 40)
        check_int(self, "DECAY_SHIFT_PRE", 0, 16)
        check_int(self, "DECAY_SHIFT_POST", 0, 16)
        check_seed(self.LFSR_SEED)
        check_choice(self, "weight_dependence", WEIGHT_DEPENDENCES)
        check_float(self, "mu", 0.0)
        check_int(self, "X_TAR", 0, (1 << self.X_BITS) - 1)
        check_int(self, "B_F", 0, 16)
        _check_bounds(self)

    @property
    def kind(self) -> int:
        return _KIND[self.weight_dependence]

    @property
    def x_max(self) -> int:
        return (1 << self.X_BITS) - 1

    @property
    def lsb(self) -> float:
        """Float weight of one code step."""
        return (self.w_max - self.w_min) / self.W_MAX

    def consts(self) -> np.ndarray:
        """The ``c`` vector of :func:`pair_dw_int`."""
        return np.array([self.W_MAX, self.A_PLUS, self.A_MINUS, self.SHIFT_PLUS, self.SHIFT_MINUS, self.kind,
                         self.X_TAR, self.B_F], dtype=np.int64)

    def luts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(F+, F-)`` look-up tables over the weight codes (see :func:`pair_luts`)."""
        return pair_luts(self)

    def to_float(self, dt: float = 1e-3) -> PairSTDP:
        """The float rule with this twin's effective constants (for comparisons)."""
        span = self.w_max - self.w_min
        k = self.x_max * span / self.W_MAX
        return PairSTDP(eta_plus=self.A_PLUS / 2.0 ** self.SHIFT_PLUS * k,
                        eta_minus=self.A_MINUS / 2.0 ** self.SHIFT_MINUS * k,
                        tau_plus=tau_of_shift(self.DECAY_SHIFT_PRE, dt) or 1e-12,
                        tau_minus=tau_of_shift(self.DECAY_SHIFT_POST, dt) or 1e-12,
                        weight_dependence=self.weight_dependence, mu=self.mu, x_tar=self.X_TAR / self.x_max,
                        w_min=self.w_min, w_max=self.w_max)

    def bind(self, syn, dt: float, seed: int = 0) -> Learner:
        check_backend(syn, ("int",), "PairSTDPInt")
        _check_int_syn(self, syn)
        return _PairIntLearner(self, syn)


def pair_luts(p: PairSTDPInt) -> tuple[np.ndarray, np.ndarray]:
    """Weight-dependence tables ``F+[q] = round(2**B_F f_plus(w(q)))`` and ``F-`` likewise.

    ``w(q) = w_min + q * (w_max - w_min) / W_MAX``; additive tables are the constant ``2**B_F``.
    """
    q = np.arange((1 << p.W_BITS), dtype=np.float64)
    w = p.w_min + np.minimum(q, p.W_MAX) * p.lsb
    up = np.maximum(p.w_max - w, 0.0)
    dn = np.maximum(w - p.w_min, 0.0)
    one = float(1 << p.B_F)
    if p.weight_dependence == "additive":
        fp, fm = np.ones_like(w), np.ones_like(w)
    elif p.weight_dependence == "softbound":
        fp, fm = up, dn
    else:
        fp, fm = up ** p.mu, dn ** p.mu
    return np.rint(fp * one).astype(np.int64), np.rint(fm * one).astype(np.int64)


@dataclass(frozen=True, kw_only=True)
class TripletSTDP(ParamsMixin):
    """Float triplet STDP exactly as in the Diehl & Cook code (times in seconds)."""

    nu_pre: float = 1e-4
    """Depression on a pre spike, times the ``post1`` trace."""
    nu_post: float = 1e-2
    """Potentiation on a post spike, times ``pre * post2`` (``post2`` before its increment)."""
    tau_pre: float = 20e-3
    """Presynaptic trace time constant (s)."""
    tau_post1: float = 20e-3
    """Fast postsynaptic trace time constant (s)."""
    tau_post2: float = 40e-3
    """Slow postsynaptic trace time constant (s)."""
    w_min: float = 0.0
    """Lower weight bound."""
    w_max: float = 1.0
    """Upper weight bound."""
    trace: str = "nearest"
    """Trace mode (the D&C code sets traces to 1: ``nearest``)."""

    def __post_init__(self):
        check_float(self, "nu_pre", 0.0)
        check_float(self, "nu_post", 0.0)
        check_float(self, "tau_pre", 0.0, lo_open=True)
        check_float(self, "tau_post1", 0.0, lo_open=True)
        check_float(self, "tau_post2", 0.0, lo_open=True)
        _check_bounds(self)
        check_choice(self, "trace", TRACE_MODES)

    def fparams(self) -> np.ndarray:
        """The ``fp`` vector of :func:`triplet_stdp_float`."""
        return np.array([self.nu_pre, self.nu_post, self.w_min, self.w_max])

    def to_int(self, *, W_BITS: int = 8, X_BITS: int = 8, dt: float = 1e-3,
               LFSR_SEED: int = LFSR_SEED_DEFAULT) -> "TripletSTDPInt":
        w_max_c = (1 << W_BITS) - 1
        x_max = (1 << X_BITS) - 1
        span = self.w_max - self.w_min
        pm, pe = _mant_exp_checked(self.nu_pre * w_max_c / (x_max * span), "nu_pre", 0, 48)
        qm, qe = _mant_exp_checked(self.nu_post * w_max_c / (x_max * x_max * span), "nu_post", 0, 48)
        return TripletSTDPInt(W_BITS=W_BITS, W_MAX=w_max_c, X_BITS=X_BITS,
                              DECAY_SHIFT_PRE=_shift_for(self.tau_pre, dt, "tau_pre"),
                              DECAY_SHIFT_POST1=_shift_for(self.tau_post1, dt, "tau_post1"),
                              DECAY_SHIFT_POST2=_shift_for(self.tau_post2, dt, "tau_post2"),
                              NU_PRE_M=pm, NU_PRE_E=pe, NU_POST_M=qm, NU_POST_E=qe, LFSR_SEED=LFSR_SEED,
                              w_min=self.w_min, w_max=self.w_max)

    def bind(self, syn, dt: float, seed: int = 0) -> Learner:
        kind = check_backend(syn, ("ideal", "int", "crossbar"), "TripletSTDP")
        if kind == "int":
            return self.to_int(W_BITS=syn.W_BITS, dt=dt, LFSR_SEED=_seed16(seed)).bind(syn, dt, seed)
        return _TripletFloatLearner(self, syn, dt)


@dataclass(frozen=True, kw_only=True)
class TripletSTDPInt(ParamsMixin):
    """Integer twin of :class:`TripletSTDP` (8-bit traces, mantissa/shift rates, LFSR16 rounding)."""

    W_BITS: int = 8
    """Weight code width."""
    W_MAX: int = 255
    """Largest weight code."""
    X_BITS: int = 8
    """Trace width."""
    DECAY_SHIFT_PRE: int = 4
    """Pre trace decay shift."""
    DECAY_SHIFT_POST1: int = 4
    """Fast post trace decay shift."""
    DECAY_SHIFT_POST2: int = 5
    """Slow post trace decay shift."""
    NU_PRE_M: int = 210
    """Depression mantissa (``dm = (post1*M + r) >> E``); default ~1e-4 weight units."""
    NU_PRE_E: int = 21
    """Depression shift."""
    NU_POST_M: int = 164
    """Potentiation mantissa (``dp = (pre*post2*M + r) >> E``); default ~1e-2."""
    NU_POST_E: int = 22
    """Potentiation shift."""
    LFSR_SEED: int = LFSR_SEED_DEFAULT
    """Reset state of the rule's LFSR16."""
    w_min: float = 0.0
    """Weight of code 0."""
    w_max: float = 1.0
    """Weight of code ``W_MAX``."""

    def __post_init__(self):
        check_int(self, "W_BITS", 1, 16)
        check_int(self, "W_MAX", 1, (1 << self.W_BITS) - 1)
        check_int(self, "X_BITS", 1, 16)
        for f in ("DECAY_SHIFT_PRE", "DECAY_SHIFT_POST1", "DECAY_SHIFT_POST2"):
            check_int(self, f, 0, 16)
        check_int(self, "NU_PRE_M", 0, 1 << 24)
        check_int(self, "NU_PRE_E", 0, 48)
        check_int(self, "NU_POST_M", 0, 1 << 24)
        check_int(self, "NU_POST_E", 0, 48)
        check_seed(self.LFSR_SEED)
        _check_bounds(self)

    @property
    def x_max(self) -> int:
        return (1 << self.X_BITS) - 1

    @property
    def lsb(self) -> float:
        return (self.w_max - self.w_min) / self.W_MAX

    def consts(self) -> np.ndarray:
        return np.array([self.W_MAX, self.NU_PRE_M, self.NU_PRE_E, self.NU_POST_M, self.NU_POST_E], dtype=np.int64)

    def to_float(self, dt: float = 1e-3) -> TripletSTDP:
        span = self.w_max - self.w_min
        return TripletSTDP(nu_pre=self.NU_PRE_M / 2.0 ** self.NU_PRE_E * self.x_max * span / self.W_MAX,
                           nu_post=self.NU_POST_M / 2.0 ** self.NU_POST_E * self.x_max ** 2 * span / self.W_MAX,
                           tau_pre=tau_of_shift(self.DECAY_SHIFT_PRE, dt) or 1e-12,
                           tau_post1=tau_of_shift(self.DECAY_SHIFT_POST1, dt) or 1e-12,
                           tau_post2=tau_of_shift(self.DECAY_SHIFT_POST2, dt) or 1e-12,
                           w_min=self.w_min, w_max=self.w_max)

    def bind(self, syn, dt: float, seed: int = 0) -> Learner:
        check_backend(syn, ("int",), "TripletSTDPInt")
        _check_int_syn(self, syn)
        return _TripletIntLearner(self, syn)


def _seed16(seed: int) -> int:
    """A non-zero LFSR16 seed derived from a network seed (0 maps to the default seed)."""
    s = (int(seed) * 0x9E37 + LFSR_SEED_DEFAULT) & 0xFFFF
    return s or LFSR_SEED_DEFAULT


def _check_int_syn(p, syn) -> None:
    if syn.W_MAX != p.W_MAX:
        raise ConfigError("W_MAX", f"rule has W_MAX={p.W_MAX} but the integer synapses have {syn.W_MAX}")
    if not (math.isclose(syn.w_min, p.w_min) and math.isclose(syn.w_max, p.w_max)):
        raise ConfigError("w_max", f"rule maps codes onto [{p.w_min}, {p.w_max}] but the synapses onto "
                                   f"[{syn.w_min}, {syn.w_max}]")


# ----------------------------------------------------------------------------------------------
# Learners (bound to a synapse backend by the network engine)
# ----------------------------------------------------------------------------------------------


class _FloatWeightLearner(Learner):
    """Float rule on float weights; on a crossbar the rule's desired change becomes pulses."""

    def __init__(self, syn):
        self.syn = syn

    def _apply(self, fn, pre_idx, post_idx):
        syn = self.syn
        if syn.kind == "ideal":
            fn(syn.w)
        else:  # crossbar: the rule computes a desired change from the current weight estimate
            w0 = syn.weights()
            w1 = w0.copy()
            fn(w1)
            syn.commit(w0, w1, pre_idx, post_idx)


class _PairFloatLearner(_FloatWeightLearner):
    def __init__(self, rule: PairSTDP, syn, dt):
        super().__init__(syn)
        self.rule = rule
        self.d_pre = decay_factor(rule.tau_plus, dt)
        self.d_post = decay_factor(rule.tau_minus, dt)
        self.x = np.zeros(syn.n_pre)
        self.y = np.zeros(syn.n_post)
        self.fp = rule.fparams()
        self.kind = rule.kind
        self.nearest = rule.trace == "nearest"

    def decay(self):
        trace_decay_float(self.x, self.d_pre)
        trace_decay_float(self.y, self.d_post)

    def plasticity(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        if pre_idx.shape[0] == 0 and post_idx.shape[0] == 0:
            return
        self._apply(lambda w: pair_stdp_float(w, self.x, self.y, pre_spk, pre_idx, post_spk, post_idx, self.kind,
                                              self.fp), pre_idx, post_idx)

    def increment(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        trace_spike_float(self.x, pre_idx, self.nearest)
        trace_spike_float(self.y, post_idx, self.nearest)


class _PairIntLearner(Learner):
    def __init__(self, rule: PairSTDPInt, syn):
        self.rule, self.syn = rule, syn
        self.x = np.zeros(syn.n_pre, dtype=np.int64)
        self.y = np.zeros(syn.n_post, dtype=np.int64)
        self.c = rule.consts()
        self.lut_p, self.lut_m = rule.luts()
        self.lfsr = np.int64(rule.LFSR_SEED)

    def decay(self):
        trace_decay_int(self.x, self.rule.DECAY_SHIFT_PRE)
        trace_decay_int(self.y, self.rule.DECAY_SHIFT_POST)

    def plasticity(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        if pre_idx.shape[0] == 0 and post_idx.shape[0] == 0:
            return
        self.lfsr = pair_stdp_int(self.syn.q, self.x, self.y, pre_spk, pre_idx, post_spk, post_idx, self.c,
                                  self.lut_p, self.lut_m, self.lfsr)

    def increment(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        trace_spike_int(self.x, pre_idx, self.rule.x_max)
        trace_spike_int(self.y, post_idx, self.rule.x_max)


class _TripletFloatLearner(_FloatWeightLearner):
    def __init__(self, rule: TripletSTDP, syn, dt):
        super().__init__(syn)
        self.rule = rule
        self.d = (decay_factor(rule.tau_pre, dt), decay_factor(rule.tau_post1, dt), decay_factor(rule.tau_post2, dt))
        self.pre = np.zeros(syn.n_pre)
        self.post1 = np.zeros(syn.n_post)
        self.post2 = np.zeros(syn.n_post)
        self.fp = rule.fparams()
        self.nearest = rule.trace == "nearest"

    def decay(self):
        trace_decay_float(self.pre, self.d[0])
        trace_decay_float(self.post1, self.d[1])
        trace_decay_float(self.post2, self.d[2])

    def plasticity(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        if pre_idx.shape[0] == 0 and post_idx.shape[0] == 0:
            return
        self._apply(lambda w: triplet_stdp_float(w, self.pre, self.post1, self.post2, pre_spk, pre_idx, post_spk,
                                                 post_idx, self.fp), pre_idx, post_idx)

    def increment(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        trace_spike_float(self.pre, pre_idx, self.nearest)
        trace_spike_float(self.post1, post_idx, self.nearest)
        trace_spike_float(self.post2, post_idx, self.nearest)


class _TripletIntLearner(Learner):
    def __init__(self, rule: TripletSTDPInt, syn):
        self.rule, self.syn = rule, syn
        self.pre = np.zeros(syn.n_pre, dtype=np.int64)
        self.post1 = np.zeros(syn.n_post, dtype=np.int64)
        self.post2 = np.zeros(syn.n_post, dtype=np.int64)
        self.c = rule.consts()
        self.lfsr = np.int64(rule.LFSR_SEED)

    def decay(self):
        trace_decay_int(self.pre, self.rule.DECAY_SHIFT_PRE)
        trace_decay_int(self.post1, self.rule.DECAY_SHIFT_POST1)
        trace_decay_int(self.post2, self.rule.DECAY_SHIFT_POST2)

    def plasticity(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        if pre_idx.shape[0] == 0 and post_idx.shape[0] == 0:
            return
        self.lfsr = triplet_stdp_int(self.syn.q, self.pre, self.post1, self.post2, pre_spk, pre_idx, post_spk,
                                     post_idx, self.c, self.lfsr)

    def increment(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step):
        x_max = self.rule.x_max
        trace_spike_int(self.pre, pre_idx, x_max)
        trace_spike_int(self.post1, post_idx, x_max)
        trace_spike_int(self.post2, post_idx, x_max)
