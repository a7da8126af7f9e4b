"""Spike-timing-dependent plasticity rules."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hwsnn.engine.contract import Rule, TraceSpec, register_rule

__all__ = ["TripletSTDP"]


@register_rule
class TripletSTDP(Rule):
    """The Diehl & Cook (2015) triplet rule with nearest-spike traces.

    On a presynaptic spike: ``dw = -nu_pre * x_post1``; on a postsynaptic spike:
    ``dw = nu_post * x_pre * x_post2`` (traces read before this step's increments; ``x_post2`` is
    the value just before the spike).  Weights are clipped to ``[0, w_max]`` at each change.
    """

    kind: Literal["triplet_stdp"] = "triplet_stdp"
    nu_pre: float = Field(1e-4, ge=0)
    """Depression per presynaptic spike, times the post1 trace (weight units)."""
    nu_post: float = Field(0.02, ge=0)
    """Potentiation per postsynaptic spike, times the pre and post2 traces (weight units)."""
    nu_post_crossbar: float = Field(0.15, ge=0)
    """Potentiation used instead of ``nu_post`` on the crossbar backend (0 = ``nu_post``).  The STO
    device's drift restarts at every write, so freshly learned conductances lose a few per cent
    within seconds; a larger potentiation step outpaces that loss."""
    tau_pre: float = Field(0.020, gt=0)
    """Presynaptic trace time constant (s)."""
    tau_post1: float = Field(0.020, gt=0)
    """First postsynaptic trace time constant (s)."""
    tau_post2: float = Field(0.040, gt=0)
    """Second (triplet) postsynaptic trace time constant (s)."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.tau_pre), TraceSpec("post", self.tau_post1), TraceSpec("post", self.tau_post2))
