"""Neuron models of the engine (parameters in SI units; hooks compiled into the fused kernel)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from hwsnn.engine.contract import NeuronModel, register_neuron

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
