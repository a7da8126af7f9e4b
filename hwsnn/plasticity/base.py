"""The learner protocol the network engine calls, once per step, in :data:`hwsnn.snn.STEP_ORDER`.

A *rule* is a frozen parameter dataclass (float rule or its integer twin).  ``rule.bind(syn, dt,
seed)`` returns a :class:`Learner` holding the rule's state (traces, LFSR, rate estimates) for one
projection whose weights live in the synapse backend ``syn`` (``syn.kind`` is ``"ideal"``,
``"int"`` or ``"crossbar"``).  The network never imports this package: it only calls these
methods, which keeps the layering (plasticity -> snn, never the reverse).

Arguments passed by the network: ``pre_spk``/``post_spk`` are ``uint8`` arrays (1 = spiked this
step), ``pre_idx``/``post_idx`` the ascending indices of the spiking neurons, ``post_pop`` the
target population object (for rules that read neuron state, e.g. R5c's learning flags), ``step``
the index of the step being executed.
"""

from __future__ import annotations

from hwsnn.errors import ConfigError

__all__ = ["Learner", "check_backend"]


class Learner:
    """Base learner: every phase is a no-op unless overridden."""

    def decay(self) -> None:
        """Phase 1: decay the rule's traces."""

    def plasticity(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step: int) -> None:
        """Phase 5: weight updates from this step's spikes and the traces before their increments."""

    def increment(self, pre_spk, pre_idx, post_spk, post_idx, post_pop, step: int) -> None:
        """Phase 6: trace increments for this step's spikes."""

    def slow(self, step: int, post_pop) -> None:
        """Phase 7: slow (per-window / per-sample) rules; called after every step."""


def check_backend(syn, allowed, rule_name: str) -> str:
    kind = getattr(syn, "kind", None)
    if kind not in allowed:
        raise ConfigError("synapse", f"rule {rule_name} does not support synapse backend {kind!r}; "
                                     f"supported: {list(allowed)}")
    return kind
