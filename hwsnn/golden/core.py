"""Golden model of ``learning_core``: one timestep of the whole core as a pure step function.

The model is transaction-level: its observable interface is exactly the RTL's, transaction by
transaction (docs/hardware/learning_core.md):

1. after reset, :func:`core_init_commands` -- the power-up weights as SET commands, row-major;
2. per timestep, the core accepts the input spike vector, issues **one read request** whose row
   mask is that vector (:func:`core_read_rows`), receives one ADC code per column and then
   :func:`core_step` does the rest of the timestep and returns the program commands (in the
   order the RTL emits them) and the spike vector of the output beat.

Schedule of :func:`core_step` (the RTL runs the same order over its memories):

a. ``i_syn[j] = isyn_of(code[j], inh_j)`` (:func:`hwsnn.spec.core.isyn_of`), ``inh_j`` = any spike
   in the previous timestep, or (``WTA = 1``) a spike of a neuron ``j' < j`` in this timestep;
b. every neuron ``j = 0 .. N-1`` takes one ``lif_stepwise`` step (``step=1``,
   ``ip_en = ip_enable(in_learn)``): :func:`hwsnn.golden.lif_stepwise.lif_stepwise_pop_step`;
   ``post = spike'``;
c. traces: ``x_post[j]`` with ``post[j]``, ``x_pre[i]`` with ``pre[i]``
   (:func:`hwsnn.golden.stdp.stdp_trace_pop_step`), so learning sees this timestep's spikes;
d. if ``LEARN`` and the input beat's ``in_learn``, the evaluated synapses, in row-major order
   (``i`` outer, ``j`` inner), are updated:

   - ``RULE = 0`` (trace STDP): the synapses ``(i, j)`` with ``pre[i] or post[j]``, by one
     ``stdp_update`` whose single LFSR16 advances once per evaluated synapse
     (:func:`hwsnn.golden.stdp.stdp_update_serial`);
   - ``RULE = 1`` (instar): the synapses ``(i, j)`` with ``post[j]``, ``w_new = instar_of(w,
     x_pre[i])`` (:func:`hwsnn.spec.core.instar_of`); the LFSR does not advance;
   - ``RULE = 2`` (gated stepwise): the synapses ``(i, j)`` with ``pre[i]``, ``w_new = gated_of(w,
     learn_up[j], learn_dn[j])`` (:func:`hwsnn.spec.core.gated_of`) with neuron ``j``'s learning
     flags after step b; the LFSR does not advance;

   each evaluated synapse whose weight changes emits one command ``(row=i, col=j, SET, n_set)`` or
   ``(i, j, RESET, n_reset)`` in that order, and its shadow weight becomes ``w_new``;
e. ``inh' = any(post)``; the output beat carries ``post``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hwsnn.golden.lif_stepwise import (
    LifStepwiseState, lif_stepwise_pop_outputs, lif_stepwise_pop_reset, lif_stepwise_pop_step,
)
from hwsnn.golden.stdp import stdp_trace_pop_step, stdp_update_serial
from hwsnn.spec.core import (
    OP_RESET, OP_SET, RULE_GATED, RULE_INSTAR, LearningCoreParams, gated_of, initial_weights, instar_of, ip_enable,
    isyn_of,
)

__all__ = ["CoreState", "CoreIn", "CoreOut", "core_reset", "core_init_commands", "core_read_rows", "core_step",
           "core_neuron_view", "NO_COMMANDS"]

NO_COMMANDS = np.zeros((0, 4), dtype=np.int64)
"""An empty command list; commands are ``(K, 4)`` int64 rows ``(row, col, set, count)``."""


class CoreState(NamedTuple):
    """State of the core: neuron memory, trace memories, shadow weights, LFSR, inhibition flag."""

    lif: LifStepwiseState
    """Neuron memory: a :class:`LifStepwiseState` of ``(N,)`` int64 arrays."""
    x_pre: np.ndarray
    """``(M,)`` pre-synaptic traces."""
    x_post: np.ndarray
    """``(N,)`` post-synaptic traces."""
    w: np.ndarray
    """``(M, N)`` shadow weights (what the core has programmed into the array)."""
    lfsr: int
    """State of the shared LFSR16 of ``stdp_update``."""
    inh: int
    """1 if any neuron spiked in the previous timestep."""


class CoreIn(NamedTuple):
    in_spikes: np.ndarray
    """``(M,)`` 0/1 input spikes of this timestep (the read request's row mask)."""
    adc_codes: np.ndarray
    """``(N,)`` ADC codes of the read response, column order."""
    learn: int = 1
    """``in_learn`` of the input beat: learning runs in this timestep (if ``LEARN``)."""


class CoreOut(NamedTuple):
    spikes: np.ndarray
    """``(N,)`` output beat: the neurons' spikes of this timestep."""
    commands: np.ndarray
    """``(K, 4)`` program commands ``(row, col, set, count)`` in emission order."""


def core_reset(p: LearningCoreParams) -> CoreState:
    """State after reset at power-up (weights = :func:`hwsnn.spec.core.initial_weights`)."""
    return CoreState(
        lif=lif_stepwise_pop_reset(p.lif, p.N), x_pre=np.zeros(p.M, np.int64), x_post=np.zeros(p.N, np.int64),
        w=initial_weights(p), lfsr=p.update.LFSR_SEED, inh=0,
    )


def _commands(rows, cols, n_set, n_reset) -> np.ndarray:
    out = np.zeros((rows.size, 4), np.int64)
    out[:, 0], out[:, 1] = rows, cols
    is_set = n_set > 0
    out[:, 2] = np.where(is_set, OP_SET, OP_RESET)
    out[:, 3] = np.where(is_set, n_set, n_reset)
    keep = (n_set > 0) | (n_reset > 0)
    return out[keep]


def core_init_commands(p: LearningCoreParams, state: CoreState) -> np.ndarray:
    """The commands the core emits after reset: ``(i, j, SET, w[i, j])`` for ``w > 0``, row-major."""
    w = state.w.reshape(-1)
    k = np.arange(w.size)
    return _commands(k // p.N, k % p.N, w, np.zeros_like(w))


def core_read_rows(p: LearningCoreParams, in_spikes) -> np.ndarray:
    """Row mask of the timestep's read request: the active input rows (``(M,)`` 0/1 int64)."""
    s = np.asarray(in_spikes, dtype=np.int64)
    if s.shape != (p.M,):
        raise ValueError(f"in_spikes must have shape ({p.M},), not {s.shape}")
    return (s != 0).astype(np.int64)


def core_step(p: LearningCoreParams, state: CoreState, inputs: CoreIn):
    """One timestep after the read response (schedule in the module docstring).

    Returns ``(CoreOut, new_state)``; ``state`` is not modified.
    """
    pre = core_read_rows(p, inputs.in_spikes)
    codes = np.asarray(inputs.adc_codes, dtype=np.int64)
    if codes.shape != (p.N,) or codes.min(initial=0) < 0 or codes.max(initial=0) >= (1 << p.ADC_BITS):
        raise ValueError(f"adc_codes must be ({p.N},) unsigned {p.ADC_BITS}-bit codes")
    ip_en = ip_enable(p, inputs.learn)
    i_syn = isyn_of(p, codes, state.inh)
    _, lif = lif_stepwise_pop_step(p.lif, state.lif, i_syn, step=1, ip_en=ip_en)
    if p.WTA and not state.inh and p.INHIB and lif.spike.any():
        # the first spiking neuron inhibits the ones updated after it (the ones before it did not
        # spike, and it spiked without inhibition): redo the step with that inhibition
        j0 = int(np.flatnonzero(lif.spike)[0])
        inh = (np.arange(p.N) > j0).astype(np.int64)
        _, lif = lif_stepwise_pop_step(p.lif, state.lif, isyn_of(p, codes, inh), step=1, ip_en=ip_en)
    post = lif.spike.copy()
    x_post = stdp_trace_pop_step(p.trace, state.x_post, post)
    x_pre = stdp_trace_pop_step(p.trace, state.x_pre, pre)
    w, lfsr, cmds = state.w, state.lfsr, NO_COMMANDS
    if p.LEARN and inputs.learn:
        if p.RULE == RULE_INSTAR:
            ev = np.broadcast_to(post[None, :] != 0, (p.M, p.N))
        elif p.RULE == RULE_GATED:
            ev = np.broadcast_to(pre[:, None] != 0, (p.M, p.N))
        else:
            ev = (pre[:, None] != 0) | (post[None, :] != 0)
        rows, cols = np.nonzero(ev)  # row-major order
        if rows.size:
            w = w.copy()
            if p.RULE in (RULE_INSTAR, RULE_GATED):
                w_old = w[rows, cols]
                if p.RULE == RULE_INSTAR:
                    w_new = instar_of(p, w_old, x_pre[rows])
                else:
                    flags = lif_stepwise_pop_outputs(p.lif, lif)
                    w_new = gated_of(p, w_old, flags.learn_up[cols], flags.learn_dn[cols])
                n_set, n_reset = np.maximum(w_new - w_old, 0), np.maximum(w_old - w_new, 0)
            else:
                w_new, n_set, n_reset, lfsr = stdp_update_serial(
                    p.update, lfsr, w[rows, cols], x_pre[rows], x_post[cols], pre[rows], post[cols]
                )
            w[rows, cols] = w_new
            cmds = _commands(rows, cols, n_set, n_reset)
    new = CoreState(lif=lif, x_pre=x_pre, x_post=x_post, w=w, lfsr=int(lfsr), inh=int(post.any()))
    return CoreOut(spikes=post, commands=cmds), new


def core_neuron_view(p: LearningCoreParams, state: CoreState) -> dict:
    """What the RTL's debug port shows of the neuron memory: ``v`` and ``level`` per neuron."""
    o = lif_stepwise_pop_outputs(p.lif, state.lif)
    return {"v": o.v.copy(), "level": o.level.copy()}
