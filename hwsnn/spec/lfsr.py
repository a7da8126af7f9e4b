"""LFSR16: the one pseudo-random source of the digital hardware (docs/hardware/fixed_point.md).

16-bit Galois LFSR.  ``lsb = s & 1; s >>= 1; if lsb: s ^= TAPS``.  The golden models, the
Amaranth component and the cocotb benches all take the taps, width and default seed from here.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LFSR_WIDTH", "LFSR_TAPS", "LFSR_SEED_DEFAULT", "lfsr16_next", "lfsr16_sequence", "lfsr16_period", "check_seed"]

LFSR_WIDTH = 16
"""State width in bits."""

LFSR_TAPS = 0xB400
"""Galois feedback mask (x^16 + x^14 + x^13 + x^11 + 1, maximal length 65535)."""

LFSR_SEED_DEFAULT = 0xACE1
"""Reset state used when no seed is given."""


def check_seed(seed: int, field: str = "LFSR_SEED") -> int:
    """Validate an LFSR seed: an int in 1 .. 0xFFFF (zero would lock the register)."""
    from hwsnn.errors import ConfigError

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(field, f"must be an integer, not {seed!r}")
    seed = int(seed)
    if not 0 < seed < (1 << LFSR_WIDTH):
        raise ConfigError(field, f"must be in 1..0x{(1 << LFSR_WIDTH) - 1:X} (non-zero), not {seed:#x}")
    return seed


def lfsr16_next(s: int, taps: int = LFSR_TAPS) -> int:
    """One advance of the Galois LFSR."""
    lsb = s & 1
    s >>= 1
    if lsb:
        s ^= taps
    return s


def lfsr16_sequence(seed: int, n: int, taps: int = LFSR_TAPS) -> np.ndarray:
    """States ``s_0 = seed, s_1, ..., s_{n-1}`` as a uint16 array."""
    out = np.empty(n, dtype=np.uint16)
    s = seed
    for i in range(n):
        out[i] = s
        s = lfsr16_next(s, taps)
    return out


def lfsr16_period(seed: int = LFSR_SEED_DEFAULT, taps: int = LFSR_TAPS) -> int:
    """Number of advances until the state returns to ``seed``."""
    s = lfsr16_next(seed, taps)
    n = 1
    while s != seed:
        s = lfsr16_next(s, taps)
        n += 1
        if n > (1 << LFSR_WIDTH):
            raise RuntimeError("LFSR does not return to its seed")
    return n
