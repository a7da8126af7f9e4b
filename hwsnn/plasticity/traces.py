"""Synaptic eligibility traces, float and integer (phases 1 and 6 of the per-step order).

Float: ``x <- x * exp(-dt/tau)`` (phase 1, decay); on a spike (phase 6) ``x <- 1`` ("nearest")
or ``x <- x + 1`` ("all_to_all").

Integer: ``x <- x - ceil(x / 2**k)`` (Contract 1 ``stdp_trace``); on a spike ``x <- X_MAX``
("nearest") or ``x <- min(x + X_MAX, X_MAX)`` -- with a saturating ``X_BITS`` register the
all-to-all increment of "1.0" saturates, so the integer twin of an all-to-all trace is its
nearest-spike form clipped to full scale; the float all-to-all trace is unbounded.

Decay kernels touch every trace (cost per step proportional to neurons, not synapses);
increments touch only spiking neurons.  Contract 1's ``stdp_trace`` edge ``x' = X_MAX if spike
else decay(x)`` equals decay (phase 1) followed by the nearest-spike increment (phase 6).
"""

from __future__ import annotations

import math

from numba import njit

from hwsnn.plasticity.fixed import decay_ceil_nb

__all__ = [
    "TRACE_MODES",
    "trace_decay_float",
    "trace_spike_float",
    "trace_decay_int",
    "trace_spike_int",
    "decay_factor",
    "shift_for_tau",
    "tau_of_shift",
]

TRACE_MODES = ("nearest", "all_to_all")
"""``nearest``: a spike sets the trace to full scale; ``all_to_all``: a spike adds full scale."""


@njit(cache=True)
def trace_decay_float(x, d):
    """Phase 1: ``x *= d`` in place (``d = exp(-dt/tau)``)."""
    for i in range(x.shape[0]):
        x[i] *= d


@njit(cache=True)
def trace_spike_float(x, idx, nearest):
    """Phase 6: increment the traces of the neurons in ``idx`` (``nearest``: set to 1, else add 1)."""
    for k in range(idx.shape[0]):
        i = idx[k]
        if nearest:
            x[i] = 1.0
        else:
            x[i] += 1.0


@njit(cache=True)
def trace_decay_int(x, k):
    """Phase 1: ceil-decay by ``2**-k`` in place (``int64`` array)."""
    for i in range(x.shape[0]):
        x[i] = decay_ceil_nb(x[i], k)


@njit(cache=True)
def trace_spike_int(x, idx, x_max):
    """Phase 6: set (saturating increment of full scale) the traces of the neurons in ``idx``."""
    for k in range(idx.shape[0]):
        x[idx[k]] = x_max


def decay_factor(tau: float, dt: float) -> float:
    """``exp(-dt / tau)`` (0 for ``tau == 0``)."""
    return 0.0 if tau == 0 else math.exp(-dt / tau)


def shift_for_tau(tau: float, dt: float) -> int:
    """Decay shift ``k`` whose factor ``1 - 2**-k`` best matches ``exp(-dt/tau)`` (k >= 0)."""
    if tau <= 0:
        return 0
    best, err = 0, float("inf")
    for k in range(0, 17):
        e = abs(tau_of_shift(k, dt) - tau)
        if e < err:
            best, err = k, e
    return best


def tau_of_shift(k: int, dt: float) -> float:
    """Time constant of the shift decay: ``-dt / ln(1 - 2**-k)`` (0 for ``k == 0``: full decay)."""
    if k == 0:
        return 0.0
    return -dt / math.log1p(-(2.0 ** -k))
