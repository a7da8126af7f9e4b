"""Three-factor (reward-modulated) STDP with eligibility traces.

Pair STDP does not change the weights directly: each pairing is written into a per-synapse
eligibility trace, and a global reward (the third factor, a dopamine-like neuromodulator) turns
the trace into a weight change (Izhikevich, *Cereb. Cortex* 17(10), 2007; Florian, *Neural
Comput.* 19(6), 2007; review: Frémaux & Gerstner, *Front. Neural Circuits* 9:85, 2016)::

    e_ij <- e_ij exp(-dt / tau_e) + stdp_ij(t)     stdp_ij = a_plus x_pre (post spike), -a_minus x_post (pre spike)
    dw_ij = eta R e_ij(T_end)                       (once, at the end of the presentation)

with nearest-spike traces ``x_pre``, ``x_post`` as in ``pair_stdp``; the eligibility restarts at
every presentation.  The reward is computed in the kernel at the end of the presentation from the
layer's response and the sample's label: neuron ``j`` votes for class ``j % n_classes``; the
winner (most spikes, the lower index on a tie) earns ``R = +1`` if its class is the label,
``R = reward_wrong`` otherwise, and a silent layer ``R = 0``.  Only the neurons that fired have
eligibility, so a correct answer reinforces the pairings that produced it and a wrong one
weakens them.  The label is set by the caller before each learning presentation
(:meth:`RewardSTDP.set_label`); the unsupervised ``hwsnn run`` has none and is refused with the
field named.

Float backends only (no integer twin yet: the hardware form is a signed eligibility register per
synapse, ``e <- e - (e >> K_E) + dstdp`` every step, and ``w <- sat(w + ((R e H) >> S))`` on the
reward broadcast).  On the crossbar the rewarded change is accumulated and written back as
pulses like every other rule's.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field

from hwsnn.engine.contract import CompileContext, Rule, RuleHooks, TraceSpec, register_rule
from hwsnn.engine.rules.stdp import pair_on_post, pair_on_pre
from hwsnn.errors import ConfigError

__all__ = ["RewardSTDP", "winner_reward"]


class RewardConst(NamedTuple):
    a_plus: float
    a_minus: float
    k_e: float
    """``dt / tau_e``."""
    eta: float
    n_classes: int
    r_wrong: float
    elig: np.ndarray
    """Eligibility ``(n_in, n_out)``, decayed to the end of the presentation."""
    label: np.ndarray
    """``[label]`` of the current sample (-1: none)."""
    last: np.ndarray
    """``[reward, winner]`` of the last learning presentation."""


@njit(cache=True, inline="always")
def winner_reward(counts, label, n_classes, r_wrong):
    """``(R, winner)``: the winner (most spikes, lowest index on a tie; -1 if silent) and its reward."""
    best = -1
    top = 0
    for j in range(counts.shape[0]):
        if counts[j] > top:
            top = counts[j]
            best = j
    if best < 0:
        return 0.0, best
    return (1.0 if best % n_classes == label else r_wrong), best


@njit(cache=True, inline="always")
def reward_begin(c, n_pre, n_post, counts):
    if c.label[0] < 0:
        c.last[0] = 0.0
        c.last[1] = -1.0
        return 0.0
    r, best = winner_reward(counts, c.label[0], c.n_classes, c.r_wrong)
    c.last[0] = r
    c.last[1] = best
    return c.eta * r


@register_rule
class RewardSTDP(Rule):
    """Reward-modulated pair STDP with eligibility traces: ``dw = eta R e`` at the end of each
    presentation, ``R`` from the winner's class and the sample's label (three-factor rule)."""

    kind: Literal["reward_stdp"] = "reward_stdp"
    a_plus: float = Field(0.01, ge=0)
    """Eligibility per postsynaptic spike at full presynaptic trace."""
    a_minus: float = Field(1e-4, ge=0)
    """Eligibility removed per presynaptic spike at full postsynaptic trace.  Small: with Poisson
    inputs firing faster than the neurons, a balanced pair window leaves the active synapses of a
    responding neuron with a negative eligibility, so a reward would weaken the pairings that
    earned it (Diehl & Cook's rule uses a 200 times smaller depression for the same reason)."""
    tau_pre: float = Field(0.020, gt=0)
    """Presynaptic trace time constant (s)."""
    tau_post: float = Field(0.020, gt=0)
    """Postsynaptic trace time constant (s)."""
    tau_e: float = Field(1.0, gt=0)
    """Eligibility trace time constant (s); the reward arrives at the end of the presentation."""
    eta: float = Field(1.0, ge=0)
    """Weight change per unit of reward and eligibility."""
    n_classes: int = Field(10, ge=1)
    """Classes; neuron ``j`` answers class ``j % n_classes``."""
    reward_wrong: float = Field(-1.0, ge=-1, le=1)
    """Reward of a wrong answer (a correct one earns +1, a silent layer 0)."""

    def traces(self) -> tuple[TraceSpec, ...]:
        return (TraceSpec("pre", self.tau_pre), TraceSpec("post", self.tau_post))

    def hooks(self) -> RuleHooks:
        return RuleHooks(on_pre=pair_on_pre, on_post=pair_on_post, on_sample_begin=reward_begin,
                         eligibility=True)

    def consts(self, ctx: CompileContext) -> RewardConst:
        if getattr(ctx, "neuron_inputs", False):
            raise ConfigError(f"rules.{self.kind}", "is rewarded once per presentation: it runs in the fused layer "
                                                    "kernel (LayerNetwork) only, not in hwsnn.snn.Network")
        if ctx.n_out < self.n_classes:
            raise ConfigError("rules.n_classes", f"needs at least one neuron per class: n_classes={self.n_classes} > "
                                                 f"{ctx.n_out} neurons")
        return RewardConst(self.a_plus, self.a_minus, ctx.dt / self.tau_e, self.eta, self.n_classes,
                           self.reward_wrong, np.zeros((ctx.n_in, ctx.n_out)), np.full(1, -1, np.int64),
                           np.zeros(2))

    @staticmethod
    def set_label(consts: RewardConst, label: int) -> None:
        """The label of the sample(s) presented next (-1: none)."""
        consts.label[0] = int(label)

    def after_presentation(self, consts: RewardConst, counts) -> None:
        if consts.label[0] < 0:
            raise ConfigError(f"rules.{self.kind}", "needs the label of every learning presentation "
                                                    "(RewardSTDP.set_label); hwsnn run trains unsupervised")
