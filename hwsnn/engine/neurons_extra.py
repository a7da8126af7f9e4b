"""More neuron models of the engine: current-based LIF and the float twin of ``lif_stepwise``.

Both follow the :class:`~hwsnn.engine.contract.NeuronHooks` contract of
:mod:`hwsnn.engine.neurons`: a state NamedTuple with ``v``, ``ge`` and ``gi`` (``ge``/``gi`` are
the excitatory / inhibitory input accumulated *this step*; ``update`` consumes and clears them),
``decay(c, s)``, ``update(c, s, learn, spk) -> n_spk``, ``busy`` and ``skip``.  They run in the
fused layer kernel (``neuron.model = "lif"`` / ``"lif_stepwise_float"``) and in
:class:`hwsnn.snn.Network`.

Refractory semantics (shared with ``lif_stepwise``): a neuron that spiked at step ``t`` is held
at its reset potential for the next ``refractory`` steps and can spike again at
``t + refractory_steps + 1`` at the earliest.

:func:`stepwise_learn_flags` gives the ``learn_up`` / ``learn_dn`` flags of a stepwise-threshold
population (``lif_stepwise`` or its float twin), which the learning-threshold-gated rule reads.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from hwsnn.engine.contract import NeuronHooks, NeuronModel, register_neuron
from hwsnn.engine.neurons import LifStepwiseNeuron

__all__ = ["LifNeuron", "LifStepwiseFloatNeuron", "stepwise_learn_flags"]


def _decay(tau: float, dt: float) -> float:
    """``exp(-dt / tau)``; ``tau == 0`` means no decay (factor 1)."""
    return 1.0 if tau == 0 else math.exp(-dt / tau)


# ---------------------------------------------------------------------------------------------
# current-based LIF


class LifConst(NamedTuple):
    dm: float
    """Membrane decay per step ``exp(-dt / tau_m)``."""
    ds: float
    """Synaptic current decay per step (0 with delta synapses)."""
    v_rest: float
    v_reset: float
    v_th: float
    dth: float
    """Adaptive threshold decay per step."""
    theta_plus: float
    use_isyn: bool
    ref_steps: int
    quiet: float


class LifState(NamedTuple):
    v: np.ndarray
    ge: np.ndarray
    """Excitatory input of this step (potential units)."""
    gi: np.ndarray
    """Inhibitory input of this step (potential units)."""
    isyn: np.ndarray
    """Synaptic current (potential units: its steady-state effect on ``v``)."""
    ref: np.ndarray
    theta: np.ndarray


@njit(cache=True, inline="always")
def lif_decay(c, s):
    """Phase 1: the synaptic current and the adaptive threshold decay."""
    for j in range(s.v.shape[0]):
        s.isyn[j] *= c.ds
        s.theta[j] *= c.dth


@njit(cache=True, inline="always")
def lif_update(c, s, learn, spk):
    """Phases 2-4: input ``ge - gi`` into the current (or directly into ``v`` with delta synapses),
    leak, threshold ``v >= v_th + theta``, reset, refractory count, ``theta += theta_plus`` while
    learning; writes the spiking indices to ``spk``."""
    n_spk = 0
    dm = c.dm
    for j in range(s.v.shape[0]):
        inp = s.ge[j] - s.gi[j]
        s.ge[j] = 0.0
        s.gi[j] = 0.0
        if c.use_isyn:
            s.isyn[j] += inp
        if s.ref[j] > 0:
            s.v[j] = c.v_reset
            s.ref[j] -= 1
            continue
        if c.use_isyn:
            v = c.v_rest + (s.v[j] - c.v_rest) * dm + s.isyn[j] * (1.0 - dm)
        else:
            v = c.v_rest + (s.v[j] - c.v_rest) * dm + inp
        if v >= c.v_th + s.theta[j]:
            v = c.v_reset
            s.ref[j] = c.ref_steps
            spk[n_spk] = j
            n_spk += 1
            if learn:
                s.theta[j] += c.theta_plus
        s.v[j] = v
    return n_spk


@njit(cache=True, inline="always")
def lif_busy(c, s):
    """Not quiescent: a refractory neuron or a synaptic current above ``quiet``."""
    for j in range(s.v.shape[0]):
        if s.ref[j] > 0 or abs(s.isyn[j]) > c.quiet:
            return True
    return False


@njit(cache=True, inline="always")
def lif_skip(c, s, m):
    """``m`` quiescent steps in closed form (membrane relaxes, current and threshold decay)."""
    fm = c.dm**m
    fs = c.ds**m
    ft = c.dth**m
    for j in range(s.v.shape[0]):
        s.v[j] = c.v_rest + (s.v[j] - c.v_rest) * fm
        s.isyn[j] *= fs
        s.theta[j] *= ft


LIF_HOOKS = NeuronHooks(decay=lif_decay, update=lif_update, busy=lif_busy, skip=lif_skip)


@register_neuron
class LifNeuron(NeuronModel):
    """Current-based leaky integrate-and-fire neuron.

    ``v <- v_rest + (v - v_rest) exp(-dt/tau_m) + input`` with delta synapses (``tau_syn = 0``:
    the step's input ``ge - gi`` jumps ``v``), or with an exponential synaptic current
    ``isyn <- isyn exp(-dt/tau_syn) + input`` and ``v <- v_rest + (v - v_rest) d + isyn (1 - d)``.
    Spike when ``v >= v_thresh + theta``; optional adaptive threshold ``theta`` (``+theta_plus``
    per spike while learning, decay ``tau_theta``).
    """

    model: Literal["lif"] = "lif"
    tau_m: float = Field(0.020, gt=0)
    """Membrane time constant (s)."""
    v_rest: float = 0.0
    """Resting potential (V)."""
    v_reset: float = 0.0
    """Potential after a spike and during the refractory period (V)."""
    v_thresh: float = 1.0
    """Firing threshold without adaptation (V)."""
    refractory: float = Field(0.002, ge=0)
    """Refractory period (s), rounded to whole steps."""
    tau_syn: float = Field(0.0, ge=0)
    """Synaptic current time constant (s); 0 = delta synapses."""
    theta_plus: float = Field(0.0, ge=0)
    """Adaptive threshold increment per spike while learning (V); 0 = fixed threshold."""
    tau_theta: float = Field(0.0, ge=0)
    """Adaptive threshold decay time constant (s); 0 = no decay."""
    theta_init: float = 0.0
    """Initial adaptive threshold (V)."""

    @model_validator(mode="after")
    def _reset_below_threshold(self):
        if not self.v_reset < self.v_thresh:
            raise ValueError(f"v_reset ({self.v_reset} V) must be below v_thresh ({self.v_thresh} V)")
        return self

    def hooks(self) -> NeuronHooks:
        return LIF_HOOKS

    def consts(self, dt: float, homeostasis=None) -> LifConst:
        return LifConst(dm=math.exp(-dt / self.tau_m), ds=0.0 if self.tau_syn == 0 else math.exp(-dt / self.tau_syn),
                        v_rest=self.v_rest, v_reset=self.v_reset, v_th=self.v_thresh, dth=_decay(self.tau_theta, dt),
                        theta_plus=self.theta_plus, use_isyn=self.tau_syn > 0,
                        ref_steps=int(round(self.refractory / dt)),
                        quiet=1e-12)

    def state(self, consts, n: int, homeostasis=None) -> LifState:
        z = lambda: np.zeros(n)  # noqa: E731
        return LifState(v=np.full(n, float(self.v_rest)), ge=z(), gi=z(), isyn=z(), ref=np.zeros(n, np.int64),
                        theta=np.full(n, float(self.theta_init)))


# ---------------------------------------------------------------------------------------------
# float twin of lif_stepwise


class StepwiseFloatConst(NamedTuple):
    leak: float
    """``2**-LEAK_SHIFT``."""
    v_lo: float
    v_hi: float
    theta_base: float
    theta_step: float
    refractory: int
    levels: int
    window: int
    rate_hi: int
    rate_lo: int


class StepwiseFloatState(NamedTuple):
    v: np.ndarray
    ge: np.ndarray
    gi: np.ndarray
    ref: np.ndarray
    level: np.ndarray
    count: np.ndarray
    win: np.ndarray


@njit(cache=True, inline="always")
def stepwise_float_decay(c, s):
    pass


@njit(cache=True, inline="always")
def stepwise_float_update(c, s, learn, spk):
    """The ``lif_stepwise`` algorithm on floats: leak ``v * 2**-LEAK_SHIFT`` not floored, input not
    rounded; window counting and level steps while learning (``ip_en = learn``)."""
    n_spk = 0
    for n in range(s.v.shape[0]):
        i_syn = s.ge[n] - s.gi[n]
        s.ge[n] = 0.0
        s.gi[n] = 0.0
        theta = c.theta_base + s.level[n] * c.theta_step
        sp = 0
        if s.ref[n] > 0:
            s.v[n] = 0.0
            s.ref[n] -= 1
        else:
            u = s.v[n] - s.v[n] * c.leak + i_syn
            u = c.v_lo if u < c.v_lo else (c.v_hi if u > c.v_hi else u)
            if u >= theta:
                s.v[n] = 0.0
                s.ref[n] = c.refractory
                sp = 1
                spk[n_spk] = n
                n_spk += 1
            else:
                s.v[n] = u
        if learn:
            cnt = s.count[n] + sp
            if s.win[n] == c.window - 1:
                if cnt > c.rate_hi:
                    if s.level[n] < c.levels - 1:
                        s.level[n] += 1
                elif cnt < c.rate_lo:
                    if s.level[n] > 0:
                        s.level[n] -= 1
                s.count[n] = 0
                s.win[n] = 0
            else:
                s.count[n] = cnt
                s.win[n] += 1
    return n_spk


@njit(cache=True, inline="always")
def stepwise_float_busy(c, s):
    return True


@njit(cache=True, inline="always")
def stepwise_float_skip(c, s, m):
    pass


STEPWISE_FLOAT_HOOKS = NeuronHooks(decay=stepwise_float_decay, update=stepwise_float_update,
                                   busy=stepwise_float_busy, skip=stepwise_float_skip)


@register_neuron
class LifStepwiseFloatNeuron(NeuronModel):
    """Float twin of ``lif_stepwise`` (:class:`~hwsnn.engine.neurons.LifStepwiseNeuron`): the same
    algorithm with a float membrane, no floor in the leak and no rounding of the input ``ge - gi``."""

    model: Literal["lif_stepwise_float"] = "lif_stepwise_float"
    integer: ClassVar[bool] = False
    V_BITS: int = Field(16, ge=4, le=32)
    """Saturation range ``[-2**(V_BITS-1), 2**(V_BITS-1) - 1]`` of the membrane."""
    LEAK_SHIFT: int = Field(3, ge=0, le=31)
    """Leak ``v * 2**-LEAK_SHIFT`` per step."""
    REFRACTORY: int = Field(2, ge=0, le=255)
    """Steps held at 0 after a spike."""
    THETA_BASE: float = Field(256.0, gt=0)
    """Firing threshold at level 0 (membrane units)."""
    THETA_STEP: float = Field(64.0, ge=0)
    """Threshold increment per level."""
    LEVELS: int = Field(4, ge=1, le=256)
    """Number of threshold levels."""
    LEVEL_INIT: int = Field(0, ge=0)
    """Level after reset."""
    WINDOW: int = Field(32, ge=1, le=1 << 16)
    """Steps per rate-counting window (counted while learning)."""
    RATE_HI: int = Field(3, ge=0)
    """Level up when a window holds more spikes than this."""
    RATE_LO: int = Field(1, ge=0)
    """Level down when a window holds fewer spikes than this."""
    LEARN_UP: float = Field(32.0, ge=0)
    """``learn_up`` when ``v >= theta - LEARN_UP``."""
    LEARN_DN: float = Field(128.0, ge=0)
    """``learn_dn`` when ``v < theta - LEARN_DN``."""

    @model_validator(mode="after")
    def _ranges(self):
        if self.LEVEL_INIT > self.LEVELS - 1:
            raise ValueError(f"LEVEL_INIT ({self.LEVEL_INIT}) must be below LEVELS ({self.LEVELS})")
        if self.RATE_HI > self.WINDOW or self.RATE_LO > self.WINDOW:
            raise ValueError("RATE_HI and RATE_LO must not exceed WINDOW")
        return self

    @classmethod
    def from_int(cls, p: LifStepwiseNeuron) -> "LifStepwiseFloatNeuron":
        """The float twin of an integer ``lif_stepwise`` neuron (``gain`` is a projection matter)."""
        return cls(**p.unit.as_dict())

    def hooks(self) -> NeuronHooks:
        return STEPWISE_FLOAT_HOOKS

    def consts(self, dt: float, homeostasis=None) -> StepwiseFloatConst:
        return StepwiseFloatConst(leak=2.0**-self.LEAK_SHIFT, v_lo=-(2.0 ** (self.V_BITS - 1)),
                                  v_hi=2.0 ** (self.V_BITS - 1) - 1, theta_base=float(self.THETA_BASE),
                                  theta_step=float(self.THETA_STEP), refractory=self.REFRACTORY, levels=self.LEVELS,
                                  window=self.WINDOW, rate_hi=self.RATE_HI, rate_lo=self.RATE_LO)

    def state(self, consts, n: int, homeostasis=None) -> StepwiseFloatState:
        zi = lambda: np.zeros(n, np.int64)  # noqa: E731
        return StepwiseFloatState(v=np.zeros(n), ge=np.zeros(n), gi=np.zeros(n), ref=zi(),
                                  level=np.full(n, self.LEVEL_INIT, np.int64), count=zi(), win=zi())


def stepwise_learn_flags(neuron: NeuronModel, state) -> tuple[np.ndarray, np.ndarray]:
    """``(learn_up, learn_dn)`` of a stepwise-threshold population (as the RTL unit: combinational from
    the registered state): ``v >= theta - LEARN_UP`` and ``v < theta - LEARN_DN`` with
    ``theta = THETA_BASE + level * THETA_STEP``."""
    if not isinstance(neuron, (LifStepwiseNeuron, LifStepwiseFloatNeuron)):
        from hwsnn.errors import ConfigError

        raise ConfigError("neuron.model", f"{neuron.model!r} has no learning thresholds (needs a stepwise-threshold "
                                          "neuron: lif_stepwise or lif_stepwise_float)")
    p = neuron.unit if isinstance(neuron, LifStepwiseNeuron) else neuron
    theta = p.THETA_BASE + state.level * p.THETA_STEP
    return state.v >= theta - p.LEARN_UP, state.v < theta - p.LEARN_DN
