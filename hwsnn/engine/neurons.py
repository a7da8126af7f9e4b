"""Neuron models of the engine (parameters in SI units; hooks compiled into the fused kernel)."""

from __future__ import annotations

import math
from typing import ClassVar, Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from hwsnn.engine.contract import NeuronHooks, NeuronModel, register_neuron
from hwsnn.engine.fastmath import expneg
from hwsnn.errors import ConfigError
from hwsnn.spec.units import LifStepwiseParams

__all__ = ["DiehlCookNeuron", "InhibitoryNeuron", "LifStepwiseNeuron"]


class _CondLIFModel(NeuronModel):
    """Shared part of the conductance-LIF models: the reset check and the compiled form."""

    @model_validator(mode="after")
    def _reset_below_threshold(self):
        if not self.v_reset < self.v_thresh:
            raise ConfigError("v_reset", f"must be below v_thresh ({self.v_thresh} V), got {self.v_reset}")
        return self

    def hooks(self) -> NeuronHooks:
        return COND_LIF_HOOKS

    def consts(self, dt: float, homeostasis=None) -> "CondLIFConst":
        return cond_lif_const(self, dt, 0.0 if homeostasis is None else homeostasis.theta_plus)

    def state(self, consts, n: int, homeostasis=None) -> "CondLIFState":
        return cond_lif_state(consts, n, 0.0 if homeostasis is None else homeostasis.theta_init)

    def to_int(self):
        """The integer twin (:class:`hwsnn.engine.neurons_int.CondLIFInt`), used on the integer backend."""
        from hwsnn.engine.neurons_int import CondLIFInt

        return CondLIFInt(self)


class InhibitoryNeuron(_CondLIFModel):
    """Conductance-based LIF of the inhibitory population (Diehl & Cook 2015), no adaptation."""

    model: Literal["inhibitory"] = "inhibitory"
    tau_m: float = Field(0.010, gt=0)
    """Membrane time constant (s)."""
    v_rest: float = -0.060
    """Resting potential (V)."""
    v_reset: float = -0.045
    """Reset potential (V)."""
    v_thresh: float = -0.040
    """Firing threshold (V)."""
    refractory: float = Field(0.002, ge=0)
    """Refractory period (s)."""
    tau_ge: float = Field(0.001, gt=0)
    """Excitatory conductance time constant (s)."""
    e_exc: float = 0.0
    """Excitatory reversal potential (V)."""



@register_neuron
class DiehlCookNeuron(_CondLIFModel):
    """Conductance-based LIF with an adaptive threshold (Diehl & Cook 2015).

    ``tau_m dv/dt = (v_rest - v) + g_e (E_exc - v) + g_i (E_inh - v)`` with conductances in units
    of the leak, integrated exactly over each step with the conductances held (exponential
    Euler); spike when ``v > v_thresh + theta - theta_offset``, then ``v = v_reset``, a refractory
    period, and (while learning) ``theta += theta_plus``; ``theta`` decays with ``tau_theta``
    between samples and is frozen at test time (``homeostasis`` section).
    """

    model: Literal["diehl_cook"] = "diehl_cook"
    tau_m: float = Field(0.100, gt=0)
    """Membrane time constant (s)."""
    v_rest: float = -0.065
    """Resting potential (V)."""
    v_reset: float = -0.065
    """Reset potential (V)."""
    v_thresh: float = -0.052
    """Threshold without adaptation (V)."""
    theta_offset: float = 0.020
    """Offset subtracted from the adaptive threshold theta (V)."""
    refractory: float = Field(0.005, ge=0)
    """Refractory period (s)."""
    e_exc: float = 0.0
    """Excitatory reversal potential (V)."""
    e_inh: float = -0.100
    """Inhibitory reversal potential (V)."""
    tau_ge: float = Field(0.001, gt=0)
    """Excitatory conductance time constant (s)."""
    tau_gi: float = Field(0.002, gt=0)
    """Inhibitory conductance time constant (s)."""
    inhibitory: InhibitoryNeuron = InhibitoryNeuron()
    """The inhibitory population's neurons (``network.inhibition = "population"``)."""


    def after_sample(self, state, learn: bool, seconds: float, homeostasis) -> None:
        if learn:  # theta decays between samples while learning; frozen at test time
            state.theta[:] *= math.exp(-seconds / homeostasis.tau_theta)


# ---------------------------------------------------------------------------------------------
# Compiled form of the conductance LIF (both populations use it; the inhibitory one has no
# inhibitory conductance and no adaptation).  Units inside the kernel: ms and mV, as the
# per-step constants are all that the kernel sees.


class CondLIFConst(NamedTuple):
    """Per-step constants of a conductance-LIF population."""

    dm: float
    """Membrane decay per step, ``exp(-dt / tau_m)``."""
    dt_tau: float
    """``dt / tau_m``."""
    v_rest: float
    v_reset: float
    v_th: float
    """``v_thresh - theta_offset`` (mV); spike when ``v > v_th + theta``."""
    e_exc: float
    e_inh: float
    dge: float
    """Excitatory conductance decay per step."""
    dgi: float
    """Inhibitory conductance decay per step."""
    theta_plus: float
    """Threshold increment per spike while learning (mV)."""
    ref_steps: int
    """Refractory period in steps."""
    quiet: float
    """Conductance below which the rest phase may be fast-forwarded."""


class CondLIFState(NamedTuple):
    """State arrays of a conductance-LIF population (mV, conductances in units of the leak)."""

    v: np.ndarray
    ge: np.ndarray
    gi: np.ndarray
    ref: np.ndarray
    theta: np.ndarray


def _ms(x: float) -> float:
    return x * 1e3


def cond_lif_const(n: NeuronModel, dt: float, theta_plus: float = 0.0) -> CondLIFConst:
    """Per-step constants of ``n`` (a :class:`DiehlCookNeuron` or :class:`InhibitoryNeuron`)."""
    dt_ms = _ms(dt)
    inh = isinstance(n, InhibitoryNeuron)
    return CondLIFConst(
        dm=math.exp(-dt / n.tau_m),
        dt_tau=dt_ms / _ms(n.tau_m),
        v_rest=_ms(n.v_rest),
        v_reset=_ms(n.v_reset),
        v_th=_ms(n.v_thresh) if inh else _ms(n.v_thresh) - _ms(n.theta_offset),
        e_exc=_ms(n.e_exc),
        e_inh=0.0 if inh else _ms(n.e_inh),
        dge=math.exp(-dt / n.tau_ge),
        dgi=1.0 if inh else math.exp(-dt / n.tau_gi),
        theta_plus=0.0 if inh else _ms(theta_plus),
        ref_steps=int(round(n.refractory / dt)),
        quiet=1e-9,
    )


def cond_lif_state(c: CondLIFConst, n: int, theta0: float = 0.0) -> CondLIFState:
    """Resting state of ``n`` neurons (``theta0`` in V)."""
    return CondLIFState(v=np.full(n, c.v_rest), ge=np.zeros(n), gi=np.zeros(n), ref=np.zeros(n, np.int64),
                        theta=np.full(n, _ms(theta0)))


@njit(cache=True, inline="always")
def cond_lif_decay(c, s):
    """Phase 1: conductances decay exactly (values below 1e-30 flush to 0: no denormals)."""
    ge = s.ge
    gi = s.gi
    dge = c.dge
    dgi = c.dgi
    for j in range(ge.shape[0]):
        x = ge[j] * dge
        ge[j] = x if x > 1e-30 else 0.0
        x = gi[j] * dgi
        gi[j] = x if x > 1e-30 else 0.0


@njit(cache=True, inline="always")
def cond_lif_update(c, s, learn, spk):
    """Phases 2-4 for the membranes: exact exponential-Euler step with the conductances held,
    threshold, reset, refractory count, adaptive threshold; writes spiking indices to ``spk`` and
    returns their number.

    A branch-free pass over all neurons (vectorised; refractory neurons keep ``v``), then a scan
    only if some neuron crossed; a neuron that fires gets ``ref + 1`` so that the vectorised
    countdown after it leaves exactly ``ref_steps``.
    """
    v = s.v
    ge = s.ge
    gi = s.gi
    ref = s.ref
    theta = s.theta
    n = v.shape[0]
    dm = c.dm
    dt_tau = c.dt_tau
    vrest = c.v_rest
    e_exc = c.e_exc
    e_inh = c.e_inh
    vth = c.v_th
    n_cross = 0
    for j in range(n):
        gej = ge[j]
        gij = gi[j]
        g = gej + gij
        vinf = (vrest + gej * e_exc + gij * e_inh) / (1.0 + g)
        vn = vinf + (v[j] - vinf) * (dm * expneg(dt_tau * g))
        free = ref[j] <= 0
        v[j] = vn if free else v[j]
        n_cross += 1 if (free and vn > vth + theta[j]) else 0
    n_spk = 0
    if n_cross > 0:
        for j in range(n):
            if ref[j] <= 0 and v[j] > vth + theta[j]:
                v[j] = c.v_reset
                ref[j] = c.ref_steps + 1
                spk[n_spk] = j
                n_spk += 1
                if learn:
                    theta[j] += c.theta_plus
    for j in range(n):
        r = ref[j]
        ref[j] = r - 1 if r > 0 else r
    return n_spk


@njit(cache=True, inline="always")
def cond_lif_busy(c, s):
    """True while the population is not quiescent (conductances above ``quiet`` or refractory)."""
    q = c.quiet
    for j in range(s.v.shape[0]):
        if s.ge[j] > q or s.gi[j] > q or s.ref[j] > 0:
            return True
    return False


@njit(cache=True, inline="always")
def cond_lif_skip(c, s, m):
    """Advance a quiescent population by ``m`` steps in closed form."""
    fe = c.dm**m
    fg = c.dge**m
    fgi = c.dgi**m
    for j in range(s.v.shape[0]):
        s.v[j] = c.v_rest + (s.v[j] - c.v_rest) * fe
        s.ge[j] *= fg
        s.gi[j] *= fgi


COND_LIF_HOOKS = NeuronHooks(decay=cond_lif_decay, update=cond_lif_update, busy=cond_lif_busy, skip=cond_lif_skip)


# ---------------------------------------------------------------------------------------------
# lif_stepwise: the RTL unit's integer neuron, stepped by the golden model's own kernel


class StepwiseConst(NamedTuple):
    """Constants of ``lif_stepwise`` (the golden kernel's order) and its input saturation."""

    consts: np.ndarray
    """``V_BITS, LEAK_SHIFT, REFRACTORY, THETA_BASE, THETA_STEP, LEVELS, WINDOW, RATE_HI, RATE_LO``."""
    lo: int
    hi: int
    """``i_syn`` port range (signed ``V_BITS``): the summed input saturates to it."""


class StepwiseState(NamedTuple):
    v: np.ndarray
    ge: np.ndarray
    """Excitatory input of this step (integer, summed weight codes times ``gain``)."""
    gi: np.ndarray
    """Inhibitory input of this step (integer)."""
    ref: np.ndarray
    level: np.ndarray
    count: np.ndarray
    win: np.ndarray
    spike: np.ndarray
    i_syn: np.ndarray
    ones: np.ndarray
    """``step`` input of every neuron (1), and ``ip_en`` while learning."""
    zeros: np.ndarray
    """``ip_en`` when not learning (0)."""


def _golden_step():
    from hwsnn.golden.lif_stepwise import _kernels

    return _kernels()[0]


_GOLDEN_STEP = _golden_step()


@njit(cache=True, inline="always")
def stepwise_decay(c, s):
    pass


@njit(cache=True, inline="always")
def stepwise_update(c, s, learn, spk):
    """One ``step=1`` edge of every neuron with the golden kernel; ``ip_en = learn``."""
    n = s.v.shape[0]
    for j in range(n):
        x = s.ge[j] - s.gi[j]
        s.i_syn[j] = c.lo if x < c.lo else (c.hi if x > c.hi else x)
        s.ge[j] = 0
        s.gi[j] = 0
    _GOLDEN_STEP(s.v, s.ref, s.level, s.count, s.win, s.spike, s.ones, s.i_syn, s.ones if learn else s.zeros,
                 c.consts)
    n_spk = 0
    for j in range(n):
        if s.spike[j] != 0:
            spk[n_spk] = j
            n_spk += 1
    return n_spk


@njit(cache=True, inline="always")
def stepwise_busy(c, s):
    return True


@njit(cache=True, inline="always")
def stepwise_skip(c, s, m):
    pass


@register_neuron
class LifStepwiseNeuron(NeuronModel):
    """The ``lif_stepwise`` RTL unit as a neuron model (integer backend only).

    Each step the neuron's ``i_syn`` is ``gain * sum`` of the weight codes of this step's input
    spikes minus the inhibitory input, saturated to the signed ``V_BITS`` port range, and the
    population is stepped by the golden model's kernel (``hwsnn.golden.lif_stepwise``) with
    ``step = 1`` and ``ip_en`` = learning; fields are the unit's parameters.
    """

    model: Literal["lif_stepwise"] = "lif_stepwise"
    integer: ClassVar[bool] = True
    unit: LifStepwiseParams = LifStepwiseParams()
    """The unit's parameters (``V_BITS``, ``LEAK_SHIFT``, ``REFRACTORY``, ``THETA_BASE``, ``THETA_STEP``,
    ``LEVELS``, ``LEVEL_INIT``, ``WINDOW``, ``RATE_HI``, ``RATE_LO``, ``LEARN_UP``, ``LEARN_DN``: the
    spec's :class:`hwsnn.spec.units.LifStepwiseParams`, validated by it)."""
    gain: int = Field(1, ge=0)
    """Input per weight code of a spiking input."""

    def hooks(self) -> NeuronHooks:
        return NeuronHooks(decay=stepwise_decay, update=stepwise_update, busy=stepwise_busy, skip=stepwise_skip)

    def consts(self, dt: float, homeostasis=None) -> StepwiseConst:
        from hwsnn.golden.lif_stepwise import _consts

        p = self.unit
        lo, hi = -(1 << (p.V_BITS - 1)), (1 << (p.V_BITS - 1)) - 1
        return StepwiseConst(_consts(p), lo, hi)

    def state(self, consts, n: int, homeostasis=None) -> StepwiseState:
        z = lambda: np.zeros(n, np.int64)  # noqa: E731
        st = StepwiseState(v=z(), ge=z(), gi=z(), ref=z(), level=np.full(n, self.unit.LEVEL_INIT, np.int64), count=z(),
                           win=z(), spike=z(), i_syn=z(), ones=np.ones(n, np.int64), zeros=z())
        return st

    def input_scale(self, efficacy: float, w_lsb: float):
        return int(self.gain)
