"""Integer twin of the conductance LIF: the Diehl & Cook neuron (and its inhibitory population)
on the integer backend.

:meth:`hwsnn.engine.neurons.DiehlCookNeuron.to_int` builds it; the layer uses it whenever
``synapse.backend = "integer"``, so that membranes, conductances and thresholds are integer
registers like the weights, traces and rules.  Formats (all ``int64`` in the kernel, named in
:class:`CondLIFIntFormat`):

``v``, ``v_rest``, ``v_reset``, ``v_th``, ``e_exc``, ``e_inh``
    signed, ``V_FRAC = 8`` fraction bits of a millivolt (LSB 3.9 uV), saturated to 32 bits;
``theta``
    unsigned, ``THETA_FRAC = 16`` fraction bits of a millivolt (the slow per-sample decay
    needs the extra 8 bits), compared as ``theta >> 8``;
``ge``, ``gi``
    unsigned, ``G_FRAC = 16`` fraction bits of the leak conductance;
decay factors
    16-bit fractions ``D = round(f * 2**16)``, applied as ``x <- (x * D) >> 16`` (floor, so a
    conductance reaches 0 exactly).

One step (the float model's phases, same order)::

    decay    ge <- (ge * D_GE) >> 16;  gi <- (gi * D_GI) >> 16
    update   I  = (v_rest - v) * 2**G_FRAC + ge (e_exc - v) + gi (e_inh - v)
             v  <- sat32(v + shr_round(I * STEP[idx], F_FRAC + G_FRAC))
             spike if v > v_th + (theta >> 8): v = v_reset, refractory, theta += THETA_PLUS (learning)

and, between learning samples of length ``T``, ``theta <- theta - shr_round(theta * K_TH, 32)``
with ``K_TH = round((1 - exp(-T / tau_theta)) * 2**32)``.  ``shr_round`` is
:func:`hwsnn.spec.fixed.shr_round` (round half up).

The membrane step is the float model's exact exponential-Euler step written as a gain on the
input current: ``v_inf - v = I / (1 + g)``, so ``dv = I * F(g)`` with
``F(g) = (1 - exp(-dt/tau_m (1 + g))) / (1 + g)``, ``g = ge + gi``.  ``STEP`` is a ROM of
``round(F * 2**F_FRAC)`` (``F_FRAC = 24``) at ``g`` steps of ``2**-G_STEP`` leak units
(``G_STEP = 3``, ``2**13`` entries, up to 1,024 leak units), indexed by ``shr_round(g,
G_FRAC - G_STEP)``; beyond it the step goes to ``v_inf``: ``dv = round(I / (1 + g))`` (one
division; the exact step differs by the factor ``1 - exp(-dt/tau_m (1 + g))``, under 1 % there).  Unlike a forward-Euler step it is
stable for any conductance (the strong lateral inhibition of a winner-take-all layer reaches hundreds of
leak units, where forward Euler diverges).  The input per spiking weight code is ``round(efficacy * w_lsb *
2**G_FRAC)`` conductance codes (:meth:`CondLIFInt.input_scale`); lateral inhibition weights are
rounded the same way (:meth:`CondLIFInt.conductance_code`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from hwsnn.engine.contract import NeuronHooks
from hwsnn.spec.fixed import shr_round

__all__ = ["CondLIFIntFormat", "CondLIFInt", "FORMAT"]

shr_round_nb = njit(cache=True, inline="always")(shr_round)


class CondLIFIntFormat(NamedTuple):
    """Fraction bits of the integer conductance LIF's registers."""

    V_FRAC: int = 8
    """Membrane and potentials: fraction bits of a millivolt."""
    THETA_FRAC: int = 16
    """Adaptive threshold: fraction bits of a millivolt (compared as ``theta >> (THETA_FRAC - V_FRAC)``)."""
    G_FRAC: int = 16
    """Conductances: fraction bits of the leak conductance."""
    D_FRAC: int = 16
    """Conductance decay factors: fraction bits."""
    F_FRAC: int = 24
    """Membrane step gains ``STEP``: fraction bits."""
    G_STEP: int = 3
    """``STEP`` ROM spacing: ``2**-G_STEP`` leak units."""
    STEP_BITS: int = 13
    """``STEP`` ROM address width (``2**STEP_BITS`` entries)."""
    V_BITS: int = 32
    """Membrane register width (signed, saturating)."""


FORMAT = CondLIFIntFormat()


class CondLIFIntConst(NamedTuple):
    step: np.ndarray
    """The ``STEP`` ROM: ``round(F(g) * 2**F_FRAC)``."""
    idx_shift: int
    """``G_FRAC - G_STEP``."""
    g_one: int
    """``2**G_FRAC`` (one leak unit)."""
    v_rest: int
    v_reset: int
    v_th: int
    e_exc: int
    e_inh: int
    d_ge: int
    d_gi: int
    theta_plus: int
    ref_steps: int
    g_frac: int
    step_shift: int
    """``F_FRAC + G_FRAC``."""
    theta_shift: int
    """``THETA_FRAC - V_FRAC``."""
    v_lo: int
    v_hi: int


class CondLIFIntState(NamedTuple):
    v: np.ndarray
    ge: np.ndarray
    gi: np.ndarray
    ref: np.ndarray
    theta: np.ndarray


def _q(x: float, frac: int) -> int:
    """Round half up to ``frac`` fraction bits (the same rounding as ``shr_round``)."""
    return int(math.floor(x * (1 << frac) + 0.5))


@njit(cache=True, inline="always")
def cond_lif_int_decay(c, s):
    ge = s.ge
    gi = s.gi
    for j in range(ge.shape[0]):
        ge[j] = (ge[j] * c.d_ge) >> 16
        gi[j] = (gi[j] * c.d_gi) >> 16


@njit(cache=True, inline="always")
def cond_lif_int_update(c, s, learn, spk):
    v = s.v
    ge = s.ge
    gi = s.gi
    ref = s.ref
    theta = s.theta
    n_spk = 0
    for j in range(v.shape[0]):
        if ref[j] <= 0:
            vj = v[j]
            i_in = ((c.v_rest - vj) << c.g_frac) + ge[j] * (c.e_exc - vj) + gi[j] * (c.e_inh - vj)
            g = ge[j] + gi[j]
            k = shr_round_nb(g, c.idx_shift)
            if k < c.step.shape[0]:
                vn = vj + shr_round_nb(i_in * c.step[k], c.step_shift)
            else:
                # beyond the ROM (over 1,024 leak units) the exact gain is 1/(1+g) to within
                # exp(-dt/tau_m (1+g)) < 1 %: the step lands on v_inf = v + I/(1+g), rounded
                d = g + c.g_one
                vn = vj + (2 * i_in + d) // (2 * d)
            vn = c.v_lo if vn < c.v_lo else (c.v_hi if vn > c.v_hi else vn)
            if vn > c.v_th + (theta[j] >> c.theta_shift):
                vn = c.v_reset
                ref[j] = c.ref_steps + 1
                spk[n_spk] = j
                n_spk += 1
                if learn:
                    theta[j] += c.theta_plus
            v[j] = vn
        r = ref[j]
        ref[j] = r - 1 if r > 0 else r
    return n_spk


@njit(cache=True, inline="always")
def cond_lif_int_busy(c, s):
    # the rounded membrane settles within a few LSB of rest, not at it: never fast-forwarded
    return True


@njit(cache=True, inline="always")
def cond_lif_int_skip(c, s, m):
    pass


COND_LIF_INT_HOOKS = NeuronHooks(decay=cond_lif_int_decay, update=cond_lif_int_update, busy=cond_lif_int_busy,
                                 skip=cond_lif_int_skip)


class CondLIFInt:
    """The integer twin of a conductance-LIF model (:class:`DiehlCookNeuron` or
    :class:`InhibitoryNeuron`); see the module docstring for formats and arithmetic.

    Parameters
    ----------
    model
        The float model it is the twin of (its fields are the physical parameters).
    fmt
        Register formats.
    """

    integer = False  # runs with the integer backend's weights; not an "integer-only" user model
    twin_of_float = True

    def __init__(self, model, fmt: CondLIFIntFormat = FORMAT):
        self.float_model = model
        self.fmt = fmt
        self.model = f"{model.model}_int"
        inh = getattr(model, "inhibitory", None)
        self.inhibitory = CondLIFInt(inh, fmt) if inh is not None else None

    def hooks(self) -> NeuronHooks:
        return COND_LIF_INT_HOOKS

    def consts(self, dt: float, homeostasis=None) -> CondLIFIntConst:
        from hwsnn.engine.neurons import InhibitoryNeuron

        n, f = self.float_model, self.fmt
        inh = isinstance(n, InhibitoryNeuron)
        mv = lambda x: _q(x * 1e3, f.V_FRAC)  # noqa: E731 - volts to membrane codes
        theta_plus = 0.0 if (inh or homeostasis is None) else homeostasis.theta_plus
        v_th = n.v_thresh if inh else n.v_thresh - n.theta_offset
        lo, hi = -(1 << (f.V_BITS - 1)), (1 << (f.V_BITS - 1)) - 1
        g = np.arange(1 << f.STEP_BITS) / (1 << f.G_STEP)
        a = dt / n.tau_m
        step = np.floor(-np.expm1(-a * (1.0 + g)) / (1.0 + g) * (1 << f.F_FRAC) + 0.5).astype(np.int64)
        return CondLIFIntConst(
            step=step, idx_shift=f.G_FRAC - f.G_STEP, g_one=1 << f.G_FRAC, v_rest=mv(n.v_rest), v_reset=mv(n.v_reset), v_th=mv(v_th),
            e_exc=mv(n.e_exc), e_inh=0 if inh else mv(n.e_inh),
            d_ge=_q(math.exp(-dt / n.tau_ge), f.D_FRAC), d_gi=(1 << f.D_FRAC) if inh else _q(math.exp(-dt / n.tau_gi), f.D_FRAC),
            theta_plus=_q(theta_plus * 1e3, f.THETA_FRAC), ref_steps=int(round(n.refractory / dt)),
            g_frac=f.G_FRAC, step_shift=f.F_FRAC + f.G_FRAC, theta_shift=f.THETA_FRAC - f.V_FRAC, v_lo=lo, v_hi=hi)

    def state(self, consts: CondLIFIntConst, n: int, homeostasis=None) -> CondLIFIntState:
        theta0 = 0.0 if homeostasis is None else homeostasis.theta_init
        z = lambda: np.zeros(n, np.int64)  # noqa: E731
        return CondLIFIntState(v=np.full(n, consts.v_rest, np.int64), ge=z(), gi=z(), ref=z(),
                               theta=np.full(n, _q(theta0 * 1e3, self.fmt.THETA_FRAC), np.int64))

    def conductance_code(self, g: float) -> int:
        """A conductance (units of the leak) as ``G_FRAC`` codes."""
        return _q(g, self.fmt.G_FRAC)

    def input_scale(self, efficacy: float, w_lsb: float) -> int:
        """Conductance codes per weight code of a spiking input."""
        return self.conductance_code(efficacy * w_lsb)

    def after_sample(self, state: CondLIFIntState, learn: bool, seconds: float, homeostasis) -> None:
        if learn and homeostasis is not None and getattr(self.float_model, "theta_offset", None) is not None:
            k = _q(1.0 - math.exp(-seconds / homeostasis.tau_theta), 32)
            th = state.theta
            th -= shr_round(th * k, 32)

    def millivolts(self, field: str, x: np.ndarray) -> np.ndarray:
        """Register values of ``field`` (``"v"`` or ``"theta"``) in mV."""
        frac = self.fmt.THETA_FRAC if field == "theta" else self.fmt.V_FRAC
        return np.asarray(x, np.float64) / (1 << frac)
