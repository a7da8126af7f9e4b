"""Synaptic scaling toward a target rate (Turrigiano-style homeostasis), applied once per sample.

Each neuron keeps a running mean ``r_j`` of its spikes per learning sample,
``r_j <- (1 - beta) r_j + beta n_j``; after every learning sample its input weights are scaled
multiplicatively toward the rate that gives every neuron an equal share of the layer's activity:
``dw_ij = eta * w_ij * (r_target - r_j) / r_target``, with ``r_target = n_layer / n_exc`` (the
layer's mean spikes per sample, also a running mean) unless ``target`` is set.  Neurons that win
too often weaken, silent ones strengthen: the per-neuron counterpart of the adaptive threshold.

Hardware: one spike counter per neuron and a per-column multiplicative step (a column-wide
pulse train on the crossbar).  Integer twin (:class:`SynapticScalingInt`): the column's
relative change ``lambda * eta * err_j`` as a factor code ``e_j`` of ``SCALE_FRAC_BITS`` (16)
fraction bits, and ``dq_ij = sround(q_ij * e_j, r, 16)`` with the layer's shared LFSR16, one advance
per synapse, row-major (:func:`~hwsnn.plasticity.homeostasis.scale_columns_int_sr`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from hwsnn.engine.contract import CompileContext, IntFormat, Rule, register_rule
from hwsnn.plasticity.homeostasis import SCALE_FRAC_BITS, scale_columns_int_sr

__all__ = ["SynapticScaling", "SynapticScalingInt"]


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

    def to_int(self, fmt: IntFormat, dt: float, w_max: float) -> "SynapticScalingInt":
        """Integer twin: the same running means (host counters) and per-column factor codes."""
        return SynapticScalingInt(eta=self.eta, beta=self.beta, target=self.target)

    def init_state(self, n_exc: int) -> dict:
        return {"rate": np.zeros(n_exc), "layer": 0.0, "n": 0}

    def _error(self, state: dict, counts: np.ndarray) -> np.ndarray | None:
        """Update the running means with one learning sample's ``counts``; the per-column relative rate
        error ``(r_target - r_j) / r_target`` in [-1, 1], or None while the target is still 0."""
        c = counts.astype(np.float64)
        b = self.beta if state["n"] else 1.0
        state["rate"] = (1.0 - b) * state["rate"] + b * c
        state["layer"] = (1.0 - b) * state["layer"] + b * c.mean()
        state["n"] += 1
        r_t = self.target or state["layer"]
        if r_t <= 0:
            return None
        return np.clip((r_t - state["rate"]) / r_t, -1.0, 1.0)

    def sample_dw(self, state: dict, w: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The per-sample change of ``w`` (``n_in x n_exc``) after a learning sample with ``counts``."""
        err = self._error(state, counts)
        if err is None:
            return np.zeros_like(w)
        return self.eta * w * err[None, :]


@register_rule
class SynapticScalingInt(SynapticScaling):
    """Integer twin of :class:`SynapticScaling` on weight codes (see module): the relative change of
    column ``j`` as a factor code ``e_j = round(lambda eta err_j 2**16)``, ``dq = sround(q e_j, r, 16)``."""

    kind: Literal["synaptic_scaling_int"] = "synaptic_scaling_int"
    integer: ClassVar[bool] = True

    def sample_dq(self, state: dict, q: np.ndarray, counts: np.ndarray, q_max: int, lfsr: np.ndarray,
                  gain: float = 1.0) -> np.ndarray:
        """Integer twin of :meth:`sample_dw` on weight codes ``q`` (``0..q_max``): the change of ``q``,
        stochastically rounded with the shared LFSR16 state ``lfsr`` (advanced in place); ``gain`` is the
        mechanism weight (synergy's ``lambda``), folded into the factor codes."""
        err = self._error(state, counts)
        if err is None:
            return np.zeros_like(q)
        e = np.round(gain * self.eta * err * (1 << SCALE_FRAC_BITS)).astype(np.int64)
        if not e.any():  # no column to step (e.g. lambda = 0): no step, the LFSR does not advance
            return np.zeros_like(q)
        q1 = np.array(q, dtype=np.int64, order="C")  # a copy: the caller applies the change
        scale_columns_int_sr(q1, e, np.int64(SCALE_FRAC_BITS), np.int64(q_max), lfsr)
        return q1 - q
