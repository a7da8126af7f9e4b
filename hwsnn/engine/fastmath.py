"""Small numerical helpers compiled into the engine's kernels."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["expneg"]

# exp(-x) without a libm call, so that the membrane loops vectorise: x = k ln2 - r with
# k = round(x / ln2) and |r| <= ln2 / 2, exp(-x) = 2**-k * exp(-r); exp(-r) by its Taylor series to
# degree 13 (truncation < 1e-17 relative), 2**-k from a table (0 beyond the double range).
# Relative error a few ulp, like libm's; k ln2 in two parts (the high part has trailing zero bits,
# so k * _LN2_HI is exact for the k used here).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.4426950408889634
_K_MAX = 1100
_POW2_NEG = np.array([math.ldexp(1.0, -k) for k in range(_K_MAX + 1)])
_C = [1.0 / math.factorial(k) for k in range(14)]
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C[2:]


@njit(cache=True, inline="always")
def expneg(x):
    """exp(-x) for 0 <= x (finite), branch-free (vectorisable); relative error ~1e-16."""
    kf = np.floor(x * _INV_LN2 + 0.5)
    kf = kf if kf < _K_MAX else np.float64(_K_MAX)
    r = (kf * _LN2_HI - x) + kf * _LN2_LO
    p = _C12 + r * _C13
    p = _C11 + r * p
    p = _C10 + r * p
    p = _C9 + r * p
    p = _C8 + r * p
    p = _C7 + r * p
    p = _C6 + r * p
    p = _C5 + r * p
    p = _C4 + r * p
    p = _C3 + r * p
    p = _C2 + r * p
    p = 1.0 + r * p
    p = 1.0 + r * p
    return p * _POW2_NEG[np.uint64(kf)]
