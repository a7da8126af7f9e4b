"""Numba integer helpers shared by the integer rule twins.

All integer state is ``int64`` (mixing unsigned types with literals silently turns Numba
arithmetic into float64).  The LFSR here is the hardware's LFSR16 (taps and seed from
:mod:`hwsnn.spec.lfsr`); stochastic rounding takes its bits exactly like ``stdp_update``:
``r_plus = r & (2**s - 1)`` and ``r_minus = (r >> 8) & (2**s - 1)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hwsnn.spec.lfsr import LFSR_TAPS

__all__ = ["lfsr_advance", "r_minus_bits", "sround", "decay_ceil_nb", "LFSR_TAPS_I64"]

LFSR_TAPS_I64 = np.int64(LFSR_TAPS)


@njit(cache=True, inline="always")
def lfsr_advance(r):
    """One Galois LFSR16 advance (the ``lfsr16`` unit): ``lsb = r & 1; r >>= 1; if lsb: r ^= 0xB400``."""
    # branchless form of "if lsb: r ^= taps": the lsb is random, so a branch mispredicts half the time
    return (r >> 1) ^ (-(r & 1) & LFSR_TAPS_I64)


@njit(cache=True, inline="always")
def r_minus_bits(r):
    """LFSR bits for the depression path: the state rotated by 8.

    For shifts up to 8 this is exactly ``stdp_update``'s ``(r >> 8) & mask``; the rotation only
    extends the same choice to shifts 9..16 (bits 0..7 follow bits 8..15).
    """
    return ((r >> 8) | (r << 8)) & 0xFFFF


@njit(cache=True, inline="always")
def sround(p, rbits, s):
    """Stochastic rounding of ``p / 2**s``: ``(p + (rbits & (2**s-1))) >> s`` (floor shift).

    ``rbits`` holds 16 random bits.  For ``s > 16`` the product is first floor-shifted by
    ``s - 16`` so that the 16 random bits cover the remaining fraction (the truncated part is
    below ``2**-16`` of one output LSB).  ``p`` may be negative: the floor shift keeps the
    rounding unbiased in both directions.
    """
    if s <= 0:
        return p
    if s > 16:
        p = p >> (s - 16)
        s = 16
    return (p + (rbits & ((np.int64(1) << s) - 1))) >> s


@njit(cache=True, inline="always")
def decay_ceil_nb(x, k):
    """``x - ceil(x / 2**k)`` (the ``stdp_trace`` decay; reaches 0 exactly)."""
    return x - ((x + (np.int64(1) << k) - 1) >> k)
