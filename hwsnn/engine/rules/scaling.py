"""Synaptic scaling toward a target rate (Turrigiano-style homeostasis), applied once per sample.

Each neuron keeps a running mean ``r_j`` of its spikes per learning sample,
``r_j <- (1 - beta) r_j + beta n_j``; after every learning sample its input weights are scaled
multiplicatively toward the rate that gives every neuron an equal share of the layer's activity:
``dw_ij = eta * w_ij * (r_target - r_j) / r_target``, with ``r_target = n_layer / n_exc`` (the
layer's mean spikes per sample, also a running mean) unless ``target`` is set.  Neurons that win
too often weaken, silent ones strengthen: the per-neuron counterpart of the adaptive threshold.

Hardware: one spike counter per neuron and a per-column multiplicative step (a column-wide
pulse train on the crossbar); integer twin: the same with the change rounded stochastically.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from hwsnn.engine.contract import CompileContext, IntFormat, Rule, register_rule

__all__ = ["SynapticScaling"]


@register_rule
class SynapticScaling(Rule):
    """Multiplicative synaptic scaling toward an equal share of the layer's spikes (see module)."""

    kind: Literal["synaptic_scaling"] = "synaptic_scaling"
    eta: float = Field(0.02, ge=0, le=1)
    """Relative weight change per sample at a rate error of 100 %."""
    beta: float = Field(0.02, gt=0, le=1)
    """Update rate of the running spike means."""
    target: float = Field(0.0, ge=0)
    """Target spikes per sample per neuron (0: the layer's running mean share)."""

    per_sample: ClassVar[bool] = True

    def consts(self, ctx: CompileContext):
        return None

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "SynapticScaling":
        return self  # per-sample host rule: the integer backend rounds its change stochastically

    def init_state(self, n_exc: int) -> dict:
        return {"rate": np.zeros(n_exc), "layer": 0.0, "n": 0}

    def sample_dw(self, state: dict, w: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The per-sample change of ``w`` (``n_in x n_exc``) after a learning sample with ``counts``."""
        c = counts.astype(np.float64)
        b = self.beta if state["n"] else 1.0
        state["rate"] = (1.0 - b) * state["rate"] + b * c
        state["layer"] = (1.0 - b) * state["layer"] + b * c.mean()
        state["n"] += 1
        r_t = self.target or state["layer"]
        if r_t <= 0:
            return np.zeros_like(w)
        err = np.clip((r_t - state["rate"]) / r_t, -1.0, 1.0)
        return self.eta * w * err[None, :]
