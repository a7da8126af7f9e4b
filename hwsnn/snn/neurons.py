"""Neuron models: parameter dataclasses and Numba population step kernels.

Every kernel advances a whole population by one step in the shared per-step order
(:data:`hwsnn.snn.network.STEP_ORDER`): **decay** (leak, synaptic current / conductance decay,
threshold decay) -> **integrate** (this step's synaptic input) -> **threshold** -> **reset /
refractory** (and the threshold increment of adaptive neurons).  A neuron whose refractory
counter is non-zero at the start of a step is held at its reset potential, counts the counter
down and cannot spike (the semantics of Contract 1's ``lif_stepwise``: with ``REFRACTORY = R``
a neuron that spiked at step ``t`` can spike again at ``t + R + 1`` at the earliest).

Models (times in seconds, potentials in the user's unit, mV for the Diehl & Cook presets):

* :class:`LIFParams` -- current-based LIF, optional exponential synaptic current, optional
  adaptive threshold (R5a); delta synapses when ``tau_syn == 0``.
* :class:`CondLIFParams` -- conductance-based LIF integrated exactly over each step with the
  conductances held (``v <- v_inf + (v - v_inf) exp(-dt (1 + ge + gi) / tau_m)``), so ``v`` never
  overshoots a reversal potential however large the conductances; conductances decay exactly.
* :class:`DiehlCookParams` -- the Diehl & Cook 2015 excitatory neuron (conductance LIF + adaptive
  threshold ``theta``: ``+theta_plus`` per spike, decay ``tau_theta``).
* :class:`StepwiseLIFParams` -- float twin of ``lif_stepwise`` (same algorithm without the floor
  in the leak and without rounding of the input).
* ``LifStepwiseParams`` (from :mod:`hwsnn.spec`) -- the integer ``lif_stepwise`` population,
  bit-exact to Contract 1 (:func:`lif_stepwise_pop_kernel`).

:func:`make_population` turns any of these into a :class:`Population` used by the network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from hwsnn.errors import ConfigError
from hwsnn.snn._params import ParamsMixin, check_float, check_int
from hwsnn.spec.units import LifStepwiseParams

__all__ = [
    "LIFParams",
    "CondLIFParams",
    "DiehlCookParams",
    "DiehlCookInhParams",
    "StepwiseLIFParams",
    "LifStepwiseParams",
    "lif_kernel",
    "cond_lif_kernel",
    "stepwise_float_kernel",
    "lif_stepwise_pop_kernel",
    "lif_stepwise_consts",
    "adaptive_threshold_float",
    "Population",
    "make_population",
]


def _ref_steps(t_ref: float, dt: float) -> int:
    return int(round(t_ref / dt))


def _decay(tau: float, dt: float) -> float:
    if tau == 0:
        return 0.0
    if math.isinf(tau):
        return 1.0
    return math.exp(-dt / tau)


# ----------------------------------------------------------------------------------------------
# Kernels
# ----------------------------------------------------------------------------------------------


@njit(cache=True)
def adaptive_threshold_float(theta, spk, d_theta, theta_plus):
    """R5a, float: ``theta <- theta * d_theta + theta_plus * s`` (decay, then increment on spikes).

    The neuron kernels below inline the same two statements in their decay and reset phases.
    """
    for j in range(theta.shape[0]):
        theta[j] = theta[j] * d_theta
        if spk[j] != 0:
            theta[j] += theta_plus


@njit(cache=True)
def lif_kernel(v, isyn, ref, theta, in_exc, in_inh, spk, fp, ref_steps, adapt):
    """One step of a current-based LIF population (in place).

    ``fp = [d_m, d_s, v_rest, v_reset, v_th, d_theta, theta_plus, use_isyn]``; ``adapt`` enables
    the threshold increment (learning phase).  Input ``in_exc - in_inh`` is in potential units:
    a delta synapse jumps ``v`` by it, an exponential synapse adds it to the current ``isyn``
    whose steady-state effect on ``v`` is ``isyn``.
    """
    d_m, d_s, v_rest, v_reset, v_th = fp[0], fp[1], fp[2], fp[3], fp[4]
    d_theta, theta_plus, use_isyn = fp[5], fp[6], fp[7]
    for j in range(v.shape[0]):
        # 1. decay
        theta[j] = theta[j] * d_theta
        inp = in_exc[j] - in_inh[j]
        if use_isyn != 0.0:
            isyn[j] = isyn[j] * d_s + inp  # 2. integrate into the synaptic current
        if ref[j] > 0:
            v[j] = v_reset
            ref[j] -= 1
            spk[j] = 0
            continue
        # 1+2. leak and integrate
        if use_isyn != 0.0:
            v[j] = v_rest + (v[j] - v_rest) * d_m + isyn[j] * (1.0 - d_m)
        else:
            v[j] = v_rest + (v[j] - v_rest) * d_m + inp
        # 3. threshold, 4. reset / refractory
        if v[j] >= v_th + theta[j]:
            spk[j] = 1
            v[j] = v_reset
            ref[j] = ref_steps
            if adapt:
                theta[j] += theta_plus
        else:
            spk[j] = 0


@njit(cache=True)
def cond_lif_kernel(v, ge, gi, ref, theta, in_exc, in_inh, spk, fp, ref_steps, adapt):
    """One step of a conductance-based LIF population (in place).

    ``fp = [dt/tau_m, d_ge, d_gi, v_rest, v_reset, v_th, e_exc, e_inh, d_theta, theta_plus]``.
    Conductances are in units of the leak conductance; an input adds to them after their decay.
    """
    dt_tau, d_ge, d_gi, v_rest, v_reset, v_th = fp[0], fp[1], fp[2], fp[3], fp[4], fp[5]
    e_exc, e_inh, d_theta, theta_plus = fp[6], fp[7], fp[8], fp[9]
    for j in range(v.shape[0]):
        # 1. decay (exact), 2. integrate
        ge[j] = ge[j] * d_ge + in_exc[j]
        gi[j] = gi[j] * d_gi + in_inh[j]
        theta[j] = theta[j] * d_theta
        if ref[j] > 0:
            v[j] = v_reset
            ref[j] -= 1
            spk[j] = 0
            continue
        b = 1.0 + ge[j] + gi[j]
        v_inf = (v_rest + ge[j] * e_exc + gi[j] * e_inh) / b
        v[j] = v_inf + (v[j] - v_inf) * math.exp(-dt_tau * b)
        # 3. threshold, 4. reset / refractory
        if v[j] >= v_th + theta[j]:
            spk[j] = 1
            v[j] = v_reset
            ref[j] = ref_steps
            if adapt:
                theta[j] += theta_plus
        else:
            spk[j] = 0


@njit(cache=True)
def stepwise_float_kernel(v, ref, level, count, win, spk, i_syn, ip_en, fp, ip):
    """Float twin of ``lif_stepwise`` (one step, every neuron stepped, in place).

    ``fp = [leak (2**-LEAK_SHIFT), v_lo, v_hi, theta_base, theta_step]``;
    ``ip = [REFRACTORY, LEVELS, WINDOW, RATE_HI, RATE_LO]``.  Identical to the integer
    algorithm except that the leak ``v * 2**-LEAK_SHIFT`` is not floored.
    """
    leak, v_lo, v_hi, tb, ts = fp[0], fp[1], fp[2], fp[3], fp[4]
    refr, levels, window, rate_hi, rate_lo = ip[0], ip[1], ip[2], ip[3], ip[4]
    for n in range(v.shape[0]):
        theta = tb + level[n] * ts
        if ref[n] > 0:
            v[n] = 0.0
            ref[n] -= 1
            s = 0
        else:
            u = v[n] - v[n] * leak + i_syn[n]
            u = v_lo if u < v_lo else v_hi if u > v_hi else u
            if u >= theta:
                v[n] = 0.0
                ref[n] = refr
                s = 1
            else:
                v[n] = u
                s = 0
        spk[n] = s
        if ip_en != 0:
            c = count[n] + s
            if win[n] == window - 1:
                if c > rate_hi:
                    if level[n] < levels - 1:
                        level[n] += 1
                elif c < rate_lo:
                    if level[n] > 0:
                        level[n] -= 1
                count[n] = 0
                win[n] = 0
            else:
                count[n] = c
                win[n] += 1


@njit(cache=True)
def lif_stepwise_pop_kernel(v, ref, level, count, win, spike, step, i_syn, ip_en, c):
    """Contract 1 ``lif_stepwise`` for a population of independent neurons (in place, ``int64``).

    ``c = [V_BITS, LEAK_SHIFT, REFRACTORY, THETA_BASE, THETA_STEP, LEVELS, WINDOW, RATE_HI,
    RATE_LO]``; ``step``, ``i_syn`` and ``ip_en`` are per-neuron arrays.  A neuron with
    ``step == 0`` keeps its whole state.  The caller guarantees ``i_syn`` within the signed
    ``V_BITS`` range (the port width).
    """
    v_bits, leak, refr, tb, ts = c[0], c[1], c[2], c[3], c[4]
    levels, window, rate_hi, rate_lo = c[5], c[6], c[7], c[8]
    lo = -(np.int64(1) << (v_bits - 1))
    hi = (np.int64(1) << (v_bits - 1)) - 1
    for n in range(v.shape[0]):
        if step[n] == 0:
            continue
        theta = tb + level[n] * ts  # level before this step
        if ref[n] > 0:
            v_n = np.int64(0)
            ref_n = ref[n] - 1
            s_n = np.int64(0)
        else:
            u = v[n] - (v[n] >> leak) + i_syn[n]
            u = lo if u < lo else hi if u > hi else u
            if u >= theta:
                v_n, ref_n, s_n = np.int64(0), refr, np.int64(1)
            else:
                v_n, ref_n, s_n = u, np.int64(0), np.int64(0)
        v[n] = v_n
        ref[n] = ref_n
        spike[n] = s_n
        if ip_en[n] != 0:
            cnt = count[n] + s_n
            if win[n] == window - 1:
                if cnt > rate_hi:
                    level[n] = min(level[n] + 1, levels - 1)
                elif cnt < rate_lo:
                    level[n] = max(level[n] - 1, 0)
                count[n] = 0
                win[n] = 0
            else:
                count[n] = cnt
                win[n] = win[n] + 1


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------


def _check_theta(obj):
    check_float(obj, "theta_plus", 0.0)
    check_float(obj, "tau_theta", 0.0, lo_open=True, allow_inf=True)
    check_float(obj, "theta_init")


@dataclass(frozen=True, kw_only=True)
class LIFParams(ParamsMixin):
    """Current-based leaky integrate-and-fire neuron."""

    tau_m: float = 20e-3
    """Membrane time constant (s)."""
    v_rest: float = 0.0
    """Resting potential."""
    v_reset: float = 0.0
    """Potential after a spike and during the refractory period."""
    v_th: float = 1.0
    """Firing threshold (the adaptive part ``theta`` is added)."""
    t_ref: float = 2e-3
    """Refractory period (s), rounded to whole steps."""
    tau_syn: float = 0.0
    """Synaptic current time constant (s); 0 = delta synapses (input jumps ``v``)."""
    theta_plus: float = 0.0
    """Adaptive threshold increment per spike (R5a); 0 = fixed threshold."""
    tau_theta: float = math.inf
    """Adaptive threshold decay time constant (s)."""
    theta_init: float = 0.0
    """Initial adaptive threshold."""

    def __post_init__(self):
        check_float(self, "tau_m", 0.0, lo_open=True)
        check_float(self, "v_rest")
        check_float(self, "v_reset")
        check_float(self, "v_th")
        check_float(self, "t_ref", 0.0)
        check_float(self, "tau_syn", 0.0)
        _check_theta(self)
        if self.v_reset >= self.v_th:
            raise ConfigError("v_reset", f"must be below v_th={self.v_th}, not {self.v_reset}")


@dataclass(frozen=True, kw_only=True)
class CondLIFParams(ParamsMixin):
    """Conductance-based LIF neuron (conductances in units of the leak conductance)."""

    tau_m: float = 100e-3
    """Membrane time constant (s)."""
    v_rest: float = -65.0
    """Resting potential (mV)."""
    v_reset: float = -65.0
    """Reset potential (mV)."""
    v_th: float = -52.0
    """Firing threshold (mV); the adaptive ``theta`` is added."""
    t_ref: float = 5e-3
    """Refractory period (s)."""
    e_exc: float = 0.0
    """Excitatory reversal potential (mV)."""
    e_inh: float = -100.0
    """Inhibitory reversal potential (mV)."""
    tau_ge: float = 1e-3
    """Excitatory conductance time constant (s)."""
    tau_gi: float = 2e-3
    """Inhibitory conductance time constant (s)."""
    theta_plus: float = 0.0
    """Adaptive threshold increment per spike (mV)."""
    tau_theta: float = math.inf
    """Adaptive threshold decay time constant (s)."""
    theta_init: float = 0.0
    """Initial adaptive threshold (mV)."""

    def __post_init__(self):
        check_float(self, "tau_m", 0.0, lo_open=True)
        for f in ("v_rest", "v_reset", "v_th", "e_exc", "e_inh"):
            check_float(self, f)
        check_float(self, "t_ref", 0.0)
        check_float(self, "tau_ge", 0.0, lo_open=True)
        check_float(self, "tau_gi", 0.0, lo_open=True)
        _check_theta(self)
        if self.v_reset >= self.v_th:
            raise ConfigError("v_reset", f"must be below v_th={self.v_th}, not {self.v_reset}")
        if self.e_inh >= self.e_exc:
            raise ConfigError("e_inh", f"must be below e_exc={self.e_exc}, not {self.e_inh}")


@dataclass(frozen=True, kw_only=True)
class DiehlCookParams(CondLIFParams):
    """Diehl & Cook 2015 excitatory neuron: conductance LIF with adaptive threshold.

    D&C write the threshold as ``theta - 20 mV - 52 mV`` with ``theta`` starting at 20 mV; here
    ``theta`` is only the adaptive part (starting at 0), which is the same condition.
    """

    theta_plus: float = 0.05
    """Threshold increment per spike (mV)."""
    tau_theta: float = 1e4
    """Threshold decay (s) = 1e7 ms."""


@dataclass(frozen=True, kw_only=True)
class DiehlCookInhParams(CondLIFParams):
    """Diehl & Cook 2015 inhibitory neuron (fixed threshold)."""

    tau_m: float = 10e-3
    v_rest: float = -60.0
    v_reset: float = -45.0
    v_th: float = -40.0
    t_ref: float = 2e-3
    e_inh: float = -85.0


@dataclass(frozen=True, kw_only=True)
class StepwiseLIFParams(ParamsMixin):
    """Float twin of ``lif_stepwise`` (same names as Contract 1; potentials are floats)."""

    V_BITS: int = 16
    """Saturation range ``[-2**(V_BITS-1), 2**(V_BITS-1)-1]`` of the membrane."""
    LEAK_SHIFT: int = 3
    """Leak ``v * 2**-LEAK_SHIFT`` per step (not floored)."""
    REFRACTORY: int = 2
    """Steps held at 0 after a spike."""
    THETA_BASE: float = 256.0
    """Firing threshold at level 0."""
    THETA_STEP: float = 64.0
    """Threshold increment per level."""
    LEVELS: int = 4
    """Number of threshold levels."""
    LEVEL_INIT: int = 0
    """Initial level."""
    WINDOW: int = 32
    """Steps per rate window (counted while intrinsic plasticity is on)."""
    RATE_HI: int = 3
    """Level up when a window holds more spikes than this."""
    RATE_LO: int = 1
    """Level down when a window holds fewer spikes than this."""
    LEARN_UP: float = 32.0
    """``learn_up`` when ``v >= theta - LEARN_UP``."""
    LEARN_DN: float = 128.0
    """``learn_dn`` when ``v < theta - LEARN_DN``."""

    def __post_init__(self):
        check_int(self, "V_BITS", 4, 32)
        check_int(self, "LEAK_SHIFT", 0, 31)
        check_int(self, "REFRACTORY", 0, 255)
        check_float(self, "THETA_BASE", 0.0, lo_open=True)
        check_float(self, "THETA_STEP", 0.0)
        check_int(self, "LEVELS", 1, 256)
        check_int(self, "LEVEL_INIT", 0, self.LEVELS - 1)
        check_int(self, "WINDOW", 1, 1 << 16)
        check_int(self, "RATE_HI", 0, self.WINDOW)
        check_int(self, "RATE_LO", 0, self.WINDOW)
        check_float(self, "LEARN_UP", 0.0)
        check_float(self, "LEARN_DN", 0.0)

    @classmethod
    def from_int(cls, p: LifStepwiseParams) -> "StepwiseLIFParams":
        """The float twin of an integer ``lif_stepwise`` parameter set."""
        return cls(V_BITS=p.V_BITS, LEAK_SHIFT=p.LEAK_SHIFT, REFRACTORY=p.REFRACTORY,
                   THETA_BASE=float(p.THETA_BASE), THETA_STEP=float(p.THETA_STEP), LEVELS=p.LEVELS,
                   LEVEL_INIT=p.LEVEL_INIT, WINDOW=p.WINDOW, RATE_HI=p.RATE_HI, RATE_LO=p.RATE_LO,
                   LEARN_UP=float(p.LEARN_UP), LEARN_DN=float(p.LEARN_DN))


def lif_stepwise_consts(p: LifStepwiseParams) -> np.ndarray:
    """The ``c`` vector of :func:`lif_stepwise_pop_kernel`."""
    return np.array([p.V_BITS, p.LEAK_SHIFT, p.REFRACTORY, p.THETA_BASE, p.THETA_STEP, p.LEVELS, p.WINDOW,
                     p.RATE_HI, p.RATE_LO], dtype=np.int64)


# ----------------------------------------------------------------------------------------------
# Populations
# ----------------------------------------------------------------------------------------------


class Population:
    """A group of ``n`` neurons of one model with its state arrays.

    Attributes
    ----------
    n : int
        Number of neurons.
    spk : ndarray of uint8
        Spikes of the last executed step.
    integer : bool
        True for the integer ``lif_stepwise`` population (inputs are integer codes).
    """

    integer = False

    def __init__(self, params, n: int, dt: float):
        self.params, self.n, self.dt = params, int(n), float(dt)
        self.spk = np.zeros(self.n, dtype=np.uint8)

    def step(self, in_exc: np.ndarray, in_inh: np.ndarray, learning: bool = True) -> np.ndarray:
        """Advance one step with this step's inputs; returns the spike array (uint8)."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Return membranes, synaptic state and refractory counters to rest (not learned thresholds)."""
        raise NotImplementedError

    def learn_flags(self):
        """``(learn_up, learn_dn)`` boolean arrays (stepwise-threshold neurons only)."""
        raise ConfigError("neuron", f"{type(self.params).__name__} has no learning thresholds (R5c needs a "
                                    "stepwise-threshold neuron)")


class _LIFPop(Population):
    def __init__(self, p: LIFParams, n, dt):
        super().__init__(p, n, dt)
        self.fp = np.array([_decay(p.tau_m, dt), _decay(p.tau_syn, dt), p.v_rest, p.v_reset, p.v_th,
                            _decay(p.tau_theta, dt), p.theta_plus, 1.0 if p.tau_syn > 0 else 0.0])
        self.ref_steps = _ref_steps(p.t_ref, dt)
        self.theta = np.full(self.n, float(p.theta_init))
        self.reset_state()

    def reset_state(self):
        self.v = np.full(self.n, float(self.params.v_rest))
        self.isyn = np.zeros(self.n)
        self.ref = np.zeros(self.n, dtype=np.int64)

    def step(self, in_exc, in_inh, learning=True):
        lif_kernel(self.v, self.isyn, self.ref, self.theta, in_exc, in_inh, self.spk, self.fp, self.ref_steps,
                   bool(learning))
        return self.spk


class _CondPop(Population):
    def __init__(self, p: CondLIFParams, n, dt):
        super().__init__(p, n, dt)
        self.fp = np.array([dt / p.tau_m, _decay(p.tau_ge, dt), _decay(p.tau_gi, dt), p.v_rest, p.v_reset, p.v_th,
                            p.e_exc, p.e_inh, _decay(p.tau_theta, dt), p.theta_plus])
        self.ref_steps = _ref_steps(p.t_ref, dt)
        self.theta = np.full(self.n, float(p.theta_init))
        self.reset_state()

    def reset_state(self):
        self.v = np.full(self.n, float(self.params.v_rest))
        self.ge = np.zeros(self.n)
        self.gi = np.zeros(self.n)
        self.ref = np.zeros(self.n, dtype=np.int64)

    def step(self, in_exc, in_inh, learning=True):
        cond_lif_kernel(self.v, self.ge, self.gi, self.ref, self.theta, in_exc, in_inh, self.spk, self.fp,
                        self.ref_steps, bool(learning))
        return self.spk


class _StepwiseFloatPop(Population):
    def __init__(self, p: StepwiseLIFParams, n, dt):
        super().__init__(p, n, dt)
        self.fp = np.array([2.0 ** -p.LEAK_SHIFT, -(2.0 ** (p.V_BITS - 1)), 2.0 ** (p.V_BITS - 1) - 1,
                            p.THETA_BASE, p.THETA_STEP])
        self.ip = np.array([p.REFRACTORY, p.LEVELS, p.WINDOW, p.RATE_HI, p.RATE_LO], dtype=np.int64)
        self.level = np.full(self.n, p.LEVEL_INIT, dtype=np.int64)
        self.count = np.zeros(self.n, dtype=np.int64)
        self.win = np.zeros(self.n, dtype=np.int64)
        self.reset_state()

    def reset_state(self):
        self.v = np.zeros(self.n)
        self.ref = np.zeros(self.n, dtype=np.int64)

    def step(self, in_exc, in_inh, learning=True):
        stepwise_float_kernel(self.v, self.ref, self.level, self.count, self.win, self.spk, in_exc - in_inh,
                              1 if learning else 0, self.fp, self.ip)
        return self.spk

    def learn_flags(self):
        theta = self.params.THETA_BASE + self.level * self.params.THETA_STEP
        return self.v >= theta - self.params.LEARN_UP, self.v < theta - self.params.LEARN_DN


class _StepwiseIntPop(Population):
    integer = True

    def __init__(self, p: LifStepwiseParams, n, dt):
        super().__init__(p, n, dt)
        self.c = lif_stepwise_consts(p)
        self.lo, self.hi = -(1 << (p.V_BITS - 1)), (1 << (p.V_BITS - 1)) - 1
        self.level = np.full(self.n, p.LEVEL_INIT, dtype=np.int64)
        self.count = np.zeros(self.n, dtype=np.int64)
        self.win = np.zeros(self.n, dtype=np.int64)
        self.ones = np.ones(self.n, dtype=np.int64)
        self.zeros = np.zeros(self.n, dtype=np.int64)
        self.spike = np.zeros(self.n, dtype=np.int64)
        self.reset_state()

    def reset_state(self):
        self.v = np.zeros(self.n, dtype=np.int64)
        self.ref = np.zeros(self.n, dtype=np.int64)

    def step(self, in_exc, in_inh, learning=True):
        # the i_syn port is V_BITS wide: the synaptic sum saturates onto it (the engine's adder does)
        i_syn = np.clip(np.rint(np.asarray(in_exc) - np.asarray(in_inh)), self.lo, self.hi).astype(np.int64)
        lif_stepwise_pop_kernel(self.v, self.ref, self.level, self.count, self.win, self.spike, self.ones, i_syn,
                                self.ones if learning else self.zeros, self.c)
        self.spk[:] = self.spike
        return self.spk

    def learn_flags(self):
        theta = self.params.THETA_BASE + self.level * self.params.THETA_STEP
        return self.v >= theta - self.params.LEARN_UP, self.v < theta - self.params.LEARN_DN


def make_population(params, n: int, dt: float) -> Population:
    """A :class:`Population` of ``n`` neurons for any neuron parameter object of this module."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError("n", f"population size must be a positive integer, not {n!r}")
    if isinstance(params, LifStepwiseParams):
        return _StepwiseIntPop(params, n, dt)
    if isinstance(params, StepwiseLIFParams):
        return _StepwiseFloatPop(params, n, dt)
    if isinstance(params, CondLIFParams):
        return _CondPop(params, n, dt)
    if isinstance(params, LIFParams):
        return _LIFPop(params, n, dt)
    raise ConfigError("neuron", f"unknown neuron parameter type {type(params).__name__}")
