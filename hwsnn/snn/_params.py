"""Literal helper of the integer twins: a coefficient as an 8-bit mantissa and a shift.

(Parameter validation is pydantic's, through :class:`hwsnn.engine.contract.Params`.)
"""

from __future__ import annotations

import math

__all__ = ["mant_exp"]


def mant_exp(a: float, m_bits: int = 8, e_max: int = 48) -> tuple[int, int]:
    """Represent ``a >= 0`` as ``m / 2**e`` with an ``m_bits``-bit mantissa (Lava-style literal).

    The smallest exponent whose rounded mantissa reaches ``2**(m_bits-1)`` is chosen, so the
    relative error is at most ``2**-m_bits``; values too large for ``e = 0`` keep ``e = 0`` and a
    larger mantissa.
    """
    if a < 0 or not math.isfinite(a):
        raise ValueError(f"mant_exp: need a finite a >= 0, not {a}")
    if a == 0:
        return 0, 0
    for e in range(0, e_max + 1):
        m = int(round(a * (1 << e)))
        if m >= (1 << (m_bits - 1)):
            return m, e
    return int(round(a * (1 << e_max))), e_max
