"""Named integer helpers: the only places where overflow and rounding happen.

Every variable in the golden models and the RTL chooses one of these explicitly; plain
arithmetic is assumed exact (Python ints are unbounded, the RTL sizes its intermediates so
they never wrap).  ``>>`` on a Python ``int`` is an arithmetic (floor) shift, which is what
the RTL implements for signed values.
"""

from __future__ import annotations

__all__ = [
    "clamp",
    "signed_range",
    "unsigned_range",
    "sat_signed",
    "sat_unsigned",
    "wrap_unsigned",
    "wrap_signed",
    "shr_floor",
    "shr_ceil",
    "shr_round",
    "decay_ceil",
    "bits_for",
    "mask",
]


def clamp(x: int, lo: int, hi: int) -> int:
    """Saturate ``x`` to the closed interval ``[lo, hi]``."""
    if lo > hi:
        raise ValueError(f"clamp: lo={lo} > hi={hi}")
    return lo if x < lo else hi if x > hi else x


def signed_range(bits: int) -> tuple[int, int]:
    """Inclusive range of a two's-complement number of ``bits`` bits."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def unsigned_range(bits: int) -> tuple[int, int]:
    """Inclusive range of an unsigned number of ``bits`` bits."""
    return 0, (1 << bits) - 1


def sat_signed(x: int, bits: int) -> int:
    """Saturate to a signed ``bits``-bit value."""
    lo, hi = signed_range(bits)
    return clamp(x, lo, hi)


def sat_unsigned(x: int, bits: int) -> int:
    """Saturate to an unsigned ``bits``-bit value."""
    return clamp(x, 0, (1 << bits) - 1)


def mask(bits: int) -> int:
    """``2**bits - 1``."""
    return (1 << bits) - 1


def wrap_unsigned(x: int, bits: int) -> int:
    """Keep the low ``bits`` bits (modular wrap)."""
    return x & mask(bits)


def wrap_signed(x: int, bits: int) -> int:
    """Two's-complement wrap to ``bits`` bits."""
    x &= mask(bits)
    return x - (1 << bits) if x >> (bits - 1) else x


def shr_floor(x: int, k: int) -> int:
    """Arithmetic right shift (rounds toward minus infinity), as RTL ``>>>`` on signed values."""
    return x >> k


def shr_ceil(x: int, k: int) -> int:
    """Right shift rounding toward plus infinity: ``ceil(x / 2**k)``."""
    return (x + (1 << k) - 1) >> k


def shr_round(x: int, k: int) -> int:
    """Right shift rounding half up: ``floor(x / 2**k + 1/2)`` (``k >= 1``); also valid on
    integer NumPy arrays and compiled by Numba as written."""
    return (x + (1 << (k - 1))) >> k


def decay_ceil(x: int, k: int) -> int:
    """Trace decay ``x - ceil(x / 2**k)``: factor about ``1 - 2**-k`` that reaches 0 exactly."""
    return x - shr_ceil(x, k)


def bits_for(n_values: int) -> int:
    """Bits needed to hold values ``0 .. n_values-1`` (at least 1)."""
    if n_values < 1:
        raise ValueError(f"bits_for: n_values must be >= 1, not {n_values}")
    return max(1, (n_values - 1).bit_length())
