"""Golden models of ``stdp_trace`` and ``stdp_update`` (docs/hardware/fixed_point.md).

Scalar forms (pure Python ints over NamedTuples, one clock edge) are the oracles of the RTL
benches.  Population forms apply the same edge to many independent units at once over
``int64`` arrays (Numba for ``stdp_update``, whose every unit owns an LFSR16); the serial
form :func:`stdp_update_serial` is one unit processing a list of updates back to back (a
time-multiplexed learning engine).  All are tested bit-exact against the scalar forms.

Named rounding: the trace decays by :func:`~hwsnn.spec.fixed.decay_ceil` (reaches 0); the
STDP increments are floor shifts of ``product + LFSR bits`` (stochastic rounding, unbiased on
average); the weight saturates to ``[0, W_MAX]`` with :func:`~hwsnn.spec.fixed.clamp`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hwsnn.spec.fixed import clamp, decay_ceil, mask, shr_floor
from hwsnn.spec.lfsr import LFSR_TAPS, lfsr16_next
from hwsnn.spec.units import StdpTraceParams, StdpUpdateParams

__all__ = [
    "StdpTraceState",
    "StdpTraceIn",
    "StdpTraceOut",
    "stdp_trace_reset",
    "stdp_trace_step",
    "stdp_trace_pop_step",
    "StdpUpdateState",
    "StdpUpdateIn",
    "StdpUpdateOut",
    "stdp_update_reset",
    "stdp_update_step",
    "stdp_update_delta",
    "stdp_update_pop_reset",
    "stdp_update_pop_step",
    "stdp_update_serial",
    "R_MINUS_OFFSET",
]

R_MINUS_OFFSET = StdpUpdateParams.R_MINUS_OFFSET
"""``r_minus`` takes LFSR bits from this position up (``r_plus`` from bit 0); defined in the spec."""


# ----------------------------------------------------------------------------------------------
# stdp_trace
# ----------------------------------------------------------------------------------------------


class StdpTraceState(NamedTuple):
    x: int


class StdpTraceIn(NamedTuple):
    step: int
    spike: int


class StdpTraceOut(NamedTuple):
    x: int


def stdp_trace_reset(params: StdpTraceParams) -> StdpTraceState:
    return StdpTraceState(x=0)


def stdp_trace_step(params: StdpTraceParams, state: StdpTraceState, inputs: StdpTraceIn):
    """One clock edge (no reset): a spike sets ``x`` to full scale, otherwise ceil-decay."""
    x = state.x
    if inputs.step:
        x = params.x_max if inputs.spike else decay_ceil(x, params.DECAY_SHIFT)
    return StdpTraceOut(x=x), StdpTraceState(x=x)


def stdp_trace_pop_step(params: StdpTraceParams, x, spike, step=1) -> np.ndarray:
    """One edge for many traces (NumPy, ``int64``); returns the new ``x`` array."""
    x = np.asarray(x, dtype=np.int64)
    k = params.DECAY_SHIFT
    decayed = x - ((x + ((1 << k) - 1)) >> k)
    new = np.where(np.asarray(spike) != 0, params.x_max, decayed)
    return np.where(np.asarray(step) != 0, new, x).astype(np.int64)


# ----------------------------------------------------------------------------------------------
# stdp_update
# ----------------------------------------------------------------------------------------------


class StdpUpdateState(NamedTuple):
    """Registered state; ``int`` fields for one unit, ``int64`` arrays for a population."""

    lfsr: int
    out_valid: int
    w_new: int
    n_set: int
    n_reset: int


class StdpUpdateIn(NamedTuple):
    valid: int
    w: int
    x_pre: int
    x_post: int
    pre: int
    post: int


class StdpUpdateOut(NamedTuple):
    out_valid: int
    w_new: int
    n_set: int
    n_reset: int


def stdp_update_reset(params: StdpUpdateParams) -> StdpUpdateState:
    return StdpUpdateState(lfsr=params.LFSR_SEED, out_valid=0, w_new=0, n_set=0, n_reset=0)


def stdp_update_delta(params: StdpUpdateParams, r: int, w: int, x_pre: int, x_post: int, pre: int, post: int):
    """The combinational update for LFSR state ``r``: ``(wn, n_set, n_reset)``."""
    r_plus = r & mask(params.SHIFT_PLUS)
    r_minus = (r >> R_MINUS_OFFSET) & mask(params.SHIFT_MINUS)
    dp = shr_floor(x_pre * params.A_PLUS + r_plus, params.SHIFT_PLUS) if post else 0
    dm = shr_floor(x_post * params.A_MINUS + r_minus, params.SHIFT_MINUS) if pre else 0
    wn = clamp(w + dp - dm, 0, params.W_MAX)
    return wn, max(wn - w, 0), max(w - wn, 0)


def _check_inputs(params: StdpUpdateParams, inputs: StdpUpdateIn) -> None:
    if not 0 <= inputs.w <= mask(params.W_BITS):
        raise ValueError(f"w={inputs.w} outside W_BITS={params.W_BITS}")
    for name in ("x_pre", "x_post"):
        val = getattr(inputs, name)
        if not 0 <= val <= mask(params.X_BITS):
            raise ValueError(f"{name}={val} outside X_BITS={params.X_BITS}")


def stdp_update_step(params: StdpUpdateParams, state: StdpUpdateState, inputs: StdpUpdateIn, taps: int = LFSR_TAPS):
    """One clock edge (no reset).  ``valid=0`` clears ``out_valid`` and holds everything else."""
    if not inputs.valid:
        new = state._replace(out_valid=0)
    else:
        _check_inputs(params, inputs)
        wn, n_set, n_reset = stdp_update_delta(
            params, state.lfsr, inputs.w, inputs.x_pre, inputs.x_post, inputs.pre, inputs.post
        )
        new = StdpUpdateState(lfsr=lfsr16_next(state.lfsr, taps), out_valid=1, w_new=wn, n_set=n_set, n_reset=n_reset)
    return StdpUpdateOut(out_valid=new.out_valid, w_new=new.w_new, n_set=new.n_set, n_reset=new.n_reset), new


def _update_kernels():
    from numba import njit

    @njit(cache=True, inline="always")
    def one(r, w, x_pre, x_post, pre, post, c):
        # c: W_MAX, A_PLUS, A_MINUS, SHIFT_PLUS, SHIFT_MINUS, TAPS, R_MINUS_OFFSET
        w_max, a_plus, a_minus, sp, sm = c[0], c[1], c[2], c[3], c[4]
        r_plus = r & ((np.int64(1) << sp) - 1)
        r_minus = (r >> c[6]) & ((np.int64(1) << sm) - 1)
        dp = ((x_pre * a_plus + r_plus) >> sp) if post != 0 else np.int64(0)
        dm = ((x_post * a_minus + r_minus) >> sm) if pre != 0 else np.int64(0)
        wn = w + dp - dm
        if wn < 0:
            wn = np.int64(0)
        elif wn > w_max:
            wn = w_max
        return wn

    @njit(cache=True, inline="always")
    def advance(r, taps):
        lsb = r & 1
        r = r >> 1
        if lsb != 0:
            r = r ^ taps
        return r

    @njit(cache=True)
    def pop_step(lfsr, out_valid, w_new, n_set, n_reset, valid, w, x_pre, x_post, pre, post, c):
        for n in range(lfsr.shape[0]):
            if valid[n] == 0:
                out_valid[n] = 0
                continue
            wn = one(lfsr[n], w[n], x_pre[n], x_post[n], pre[n], post[n], c)
            out_valid[n] = 1
            w_new[n] = wn
            n_set[n] = wn - w[n] if wn > w[n] else 0
            n_reset[n] = w[n] - wn if w[n] > wn else 0
            lfsr[n] = advance(lfsr[n], c[5])

    @njit(cache=True)
    def serial(lfsr0, w, x_pre, x_post, pre, post, c, w_new, n_set, n_reset):
        r = lfsr0
        for k in range(w.shape[0]):
            wn = one(r, w[k], x_pre[k], x_post[k], pre[k], post[k], c)
            w_new[k] = wn
            n_set[k] = wn - w[k] if wn > w[k] else 0
            n_reset[k] = w[k] - wn if w[k] > wn else 0
            r = advance(r, c[5])
        return r

    return pop_step, serial


_UKERNELS = None


def _ukernels():
    global _UKERNELS
    if _UKERNELS is None:
        _UKERNELS = _update_kernels()
    return _UKERNELS


def _uconsts(p: StdpUpdateParams, taps: int = LFSR_TAPS) -> np.ndarray:
    return np.array([p.W_MAX, p.A_PLUS, p.A_MINUS, p.SHIFT_PLUS, p.SHIFT_MINUS, taps, R_MINUS_OFFSET], dtype=np.int64)


def _i64(x, n: int) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.int64), (n,)))


def _check_arrays(p: StdpUpdateParams, w, x_pre, x_post) -> None:
    for name, arr, bits in (("w", w, p.W_BITS), ("x_pre", x_pre, p.X_BITS), ("x_post", x_post, p.X_BITS)):
        if arr.size and (arr.min() < 0 or arr.max() > mask(bits)):
            raise ValueError(f"{name} outside the unsigned {bits}-bit range")


def stdp_update_pop_reset(params: StdpUpdateParams, n: int, seeds=None) -> StdpUpdateState:
    """Reset state of ``n`` independent units (``seeds`` per unit, default ``LFSR_SEED`` for all)."""
    z = np.zeros(n, dtype=np.int64)
    lfsr = _i64(params.LFSR_SEED if seeds is None else seeds, n).copy()
    if np.any(lfsr <= 0) or np.any(lfsr > 0xFFFF):
        raise ValueError("every LFSR seed must be in 1..0xFFFF")
    return StdpUpdateState(lfsr=lfsr, out_valid=z.copy(), w_new=z.copy(), n_set=z.copy(), n_reset=z.copy())


def stdp_update_pop_step(params: StdpUpdateParams, state: StdpUpdateState, inputs: StdpUpdateIn):
    """One clock edge of ``N`` independent units (arrays; scalars broadcast).  ``state`` is not modified."""
    n = state.lfsr.shape[0]
    st = StdpUpdateState(*(np.array(a, dtype=np.int64, copy=True) for a in state))
    ins = [_i64(a, n) for a in inputs]
    _check_arrays(params, ins[1], ins[2], ins[3])
    pop_step, _ = _ukernels()
    pop_step(*st, *ins, _uconsts(params))
    return StdpUpdateOut(out_valid=st.out_valid.copy(), w_new=st.w_new.copy(), n_set=st.n_set.copy(),
                         n_reset=st.n_reset.copy()), st


def stdp_update_serial(params: StdpUpdateParams, lfsr: int, w, x_pre, x_post, pre, post):
    """One unit applying ``K`` valid updates back to back (arrays of length K).

    Returns ``(w_new, n_set, n_reset, lfsr_after)``; equals ``K`` consecutive
    :func:`stdp_update_step` calls with ``valid=1``.
    """
    w = np.ascontiguousarray(np.asarray(w, dtype=np.int64))
    k = w.shape[0]
    x_pre, x_post, pre, post = (_i64(a, k) for a in (x_pre, x_post, pre, post))
    _check_arrays(params, w, x_pre, x_post)
    out = [np.zeros(k, dtype=np.int64) for _ in range(3)]
    _, serial = _ukernels()
    r = serial(np.int64(lfsr), w, x_pre, x_post, pre, post, _uconsts(params), *out)
    return out[0], out[1], out[2], int(r)
