"""Golden model of ``lif_stepwise`` (docs/hardware/fixed_point.md): LIF neuron with a stepwise threshold.

Two forms with one semantics:

- :func:`lif_stepwise_step` -- pure Python ints over NamedTuples, one clock edge of one neuron;
  the oracle of the RTL benches;
- :func:`lif_stepwise_pop_step` / :func:`lif_stepwise_pop_run` -- the same edge for a
  population of independent neurons, as a Numba kernel over ``int64`` arrays (the integer
  model of the learning engine uses these); tested bit-exact against the scalar form.

Rounding and saturation are the named spec helpers: the leak is a floor shift
(:func:`~hwsnn.spec.fixed.shr_floor`), the membrane update saturates to the signed ``V_BITS``
range (:func:`~hwsnn.spec.fixed.sat_signed`), levels saturate at ``0`` and ``LEVELS-1``
(:func:`~hwsnn.spec.fixed.clamp`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hwsnn.spec.fixed import clamp, sat_signed, shr_floor, signed_range
from hwsnn.spec.units import LifStepwiseParams

__all__ = [
    "LifStepwiseState",
    "LifStepwiseIn",
    "LifStepwiseOut",
    "lif_stepwise_reset",
    "lif_stepwise_outputs",
    "lif_stepwise_step",
    "theta_of",
    "lif_stepwise_pop_reset",
    "lif_stepwise_pop_step",
    "lif_stepwise_pop_outputs",
    "lif_stepwise_pop_run",
]


class LifStepwiseState(NamedTuple):
    """Registered state.  With ``int`` fields for one neuron, ``int64`` arrays for a population."""

    v: int
    ref: int
    level: int
    count: int
    win: int
    spike: int


class LifStepwiseIn(NamedTuple):
    step: int
    i_syn: int
    ip_en: int


class LifStepwiseOut(NamedTuple):
    spike: int
    v: int
    level: int
    learn_up: int
    learn_dn: int


def theta_of(params: LifStepwiseParams, level: int) -> int:
    """Firing threshold at ``level``: ``THETA_BASE + level*THETA_STEP``."""
    return params.THETA_BASE + level * params.THETA_STEP


def lif_stepwise_reset(params: LifStepwiseParams) -> LifStepwiseState:
    """State after a synchronous reset."""
    return LifStepwiseState(v=0, ref=0, level=params.LEVEL_INIT, count=0, win=0, spike=0)


def lif_stepwise_outputs(params: LifStepwiseParams, state: LifStepwiseState) -> LifStepwiseOut:
    """Output ports seen with registered ``state``; the learning flags are combinational from it."""
    theta_now = theta_of(params, state.level)
    return LifStepwiseOut(
        spike=state.spike,
        v=state.v,
        level=state.level,
        learn_up=int(state.v >= theta_now - params.LEARN_UP),
        learn_dn=int(state.v < theta_now - params.LEARN_DN),
    )


def lif_stepwise_step(params: LifStepwiseParams, state: LifStepwiseState, inputs: LifStepwiseIn):
    """One clock edge (no reset).  Returns ``(outputs after the edge, new state)``."""
    if not inputs.step:
        return lif_stepwise_outputs(params, state), state
    lo, hi = signed_range(params.V_BITS)
    if not lo <= inputs.i_syn <= hi:
        raise ValueError(f"i_syn={inputs.i_syn} outside the signed V_BITS={params.V_BITS} range")
    v, ref, level, count, win = state.v, state.ref, state.level, state.count, state.win
    theta = theta_of(params, level)  # level before this step
    if ref > 0:
        v_n, ref_n, spike_n = 0, ref - 1, 0
    else:
        u = sat_signed(v - shr_floor(v, params.LEAK_SHIFT) + inputs.i_syn, params.V_BITS)
        if u >= theta:
            v_n, ref_n, spike_n = 0, params.REFRACTORY, 1
        else:
            v_n, ref_n, spike_n = u, 0, 0
    level_n, count_n, win_n = level, count, win
    if inputs.ip_en:
        c = count + spike_n
        if win == params.WINDOW - 1:
            if c > params.RATE_HI:
                level_n = clamp(level + 1, 0, params.LEVELS - 1)
            elif c < params.RATE_LO:
                level_n = clamp(level - 1, 0, params.LEVELS - 1)
            count_n, win_n = 0, 0
        else:
            count_n, win_n = c, win + 1
    new = LifStepwiseState(v=v_n, ref=ref_n, level=level_n, count=count_n, win=win_n, spike=spike_n)
    return lif_stepwise_outputs(params, new), new


# ----------------------------------------------------------------------------------------------
# Population form (Numba)
# ----------------------------------------------------------------------------------------------


def _kernel():
    from numba import njit

    @njit(cache=True)
    def step_kernel(v, ref, level, count, win, spike, step, i_syn, ip_en, consts):
        # consts: V_BITS, LEAK_SHIFT, REFRACTORY, THETA_BASE, THETA_STEP, LEVELS, WINDOW, RATE_HI, RATE_LO
        v_bits, leak, refr, tb, ts, levels, window, rate_hi, rate_lo = (
            consts[0], consts[1], consts[2], consts[3], consts[4], consts[5], consts[6], consts[7], consts[8]
        )
        lo = -(np.int64(1) << (v_bits - 1))
        hi = (np.int64(1) << (v_bits - 1)) - 1
        for n in range(v.shape[0]):
            if step[n] == 0:
                continue
            theta = tb + level[n] * ts
            if ref[n] > 0:
                v_n = np.int64(0)
                ref_n = ref[n] - 1
                s_n = np.int64(0)
            else:
                u = v[n] - (v[n] >> leak) + i_syn[n]
                if u < lo:
                    u = lo
                elif u > hi:
                    u = hi
                if u >= theta:
                    v_n = np.int64(0)
                    ref_n = refr
                    s_n = np.int64(1)
                else:
                    v_n = u
                    ref_n = np.int64(0)
                    s_n = np.int64(0)
            v[n] = v_n
            ref[n] = ref_n
            spike[n] = s_n
            if ip_en[n] != 0:
                c = count[n] + s_n
                if win[n] == window - 1:
                    if c > rate_hi:
                        if level[n] + 1 <= levels - 1:
                            level[n] = level[n] + 1
                    elif c < rate_lo:
                        if level[n] - 1 >= 0:
                            level[n] = level[n] - 1
                    count[n] = 0
                    win[n] = 0
                else:
                    count[n] = c
                    win[n] = win[n] + 1

    @njit(cache=True)
    def run_kernel(v, ref, level, count, win, spike, step, i_syn, ip_en, consts, spikes_out):
        for t in range(i_syn.shape[0]):
            step_kernel(v, ref, level, count, win, spike, step[t], i_syn[t], ip_en[t], consts)
            for n in range(v.shape[0]):
                spikes_out[t, n] = spike[n]

    return step_kernel, run_kernel


_KERNELS = None


def _kernels():
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = _kernel()
    return _KERNELS


def _consts(p: LifStepwiseParams) -> np.ndarray:
    return np.array(
        [p.V_BITS, p.LEAK_SHIFT, p.REFRACTORY, p.THETA_BASE, p.THETA_STEP, p.LEVELS, p.WINDOW, p.RATE_HI, p.RATE_LO],
        dtype=np.int64,
    )


def lif_stepwise_pop_reset(params: LifStepwiseParams, n: int) -> LifStepwiseState:
    """Reset state of ``n`` neurons: a :class:`LifStepwiseState` of ``int64`` arrays."""
    z = np.zeros(n, dtype=np.int64)
    return LifStepwiseState(v=z.copy(), ref=z.copy(), level=np.full(n, params.LEVEL_INIT, dtype=np.int64),
                            count=z.copy(), win=z.copy(), spike=z.copy())


def _as_i64(x, shape) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.int64), shape))


def _check_i_syn(params: LifStepwiseParams, i_syn: np.ndarray) -> None:
    lo, hi = signed_range(params.V_BITS)
    if i_syn.size and (i_syn.min() < lo or i_syn.max() > hi):
        raise ValueError(f"i_syn outside the signed V_BITS={params.V_BITS} range [{lo}, {hi}]")


def lif_stepwise_pop_outputs(params: LifStepwiseParams, state: LifStepwiseState) -> LifStepwiseOut:
    """Outputs of a population state (arrays), learning flags included."""
    theta_now = params.THETA_BASE + state.level * params.THETA_STEP
    return LifStepwiseOut(
        spike=state.spike.copy(), v=state.v.copy(), level=state.level.copy(),
        learn_up=(state.v >= theta_now - params.LEARN_UP).astype(np.int64),
        learn_dn=(state.v < theta_now - params.LEARN_DN).astype(np.int64),
    )


def lif_stepwise_pop_step(params: LifStepwiseParams, state: LifStepwiseState, i_syn, step=1, ip_en=1):
    """One clock edge for every neuron of a population (arrays of length N; scalars broadcast).

    Returns ``(outputs, new_state)``; ``state`` itself is not modified.
    """
    n = state.v.shape[0]
    st = LifStepwiseState(*(np.array(a, dtype=np.int64, copy=True) for a in state))
    i_syn = _as_i64(i_syn, (n,))
    _check_i_syn(params, i_syn)
    step_k, _ = _kernels()
    step_k(*st, _as_i64(step, (n,)), i_syn, _as_i64(ip_en, (n,)), _consts(params))
    return lif_stepwise_pop_outputs(params, st), st


def lif_stepwise_pop_run(params: LifStepwiseParams, state: LifStepwiseState, i_syn, step=1, ip_en=1):
    """Run ``T`` edges: ``i_syn`` is ``(T, N)``; ``step``/``ip_en`` broadcast to it.

    Returns ``(spikes[T, N] as int64, final state)``.
    """
    n = state.v.shape[0]
    i_syn = np.asarray(i_syn, dtype=np.int64)
    if i_syn.ndim != 2 or i_syn.shape[1] != n:
        raise ValueError(f"i_syn must have shape (T, {n}), not {i_syn.shape}")
    _check_i_syn(params, i_syn)
    shape = i_syn.shape
    st = LifStepwiseState(*(np.array(a, dtype=np.int64, copy=True) for a in state))
    spikes = np.zeros(shape, dtype=np.int64)
    _, run_k = _kernels()
    run_k(*st, _as_i64(step, shape), np.ascontiguousarray(i_syn), _as_i64(ip_en, shape), _consts(params), spikes)
    return spikes, st
