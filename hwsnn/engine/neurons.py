"""Neuron models of the engine (parameters in SI units; hooks compiled into the fused kernel)."""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from hwsnn.engine.contract import NeuronModel, register_neuron
from hwsnn.engine.fastmath import expneg

__all__ = ["DiehlCookNeuron", "InhibitoryNeuron"]


class InhibitoryNeuron(NeuronModel):
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

    @model_validator(mode="after")
    def _reset_below_threshold(self):
        if not self.v_reset < self.v_thresh:
            raise ValueError(f"v_reset ({self.v_reset} V) must be below v_thresh ({self.v_thresh} V)")
        return self


@register_neuron
class DiehlCookNeuron(NeuronModel):
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

    @model_validator(mode="after")
    def _reset_below_threshold(self):
        if not self.v_reset < self.v_thresh:
            raise ValueError(f"v_reset ({self.v_reset} V) must be below v_thresh ({self.v_thresh} V)")
        return self


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
