"""Trace time constants of the integer twins.

The engine keeps nearest-spike traces as "step of the last spike" and reads them from tables
(:func:`hwsnn.snn.step_kernels.trace_tables`, the layer kernel's tables): float
``exp(-k dt / tau)``, integer the ``stdp_trace`` register (docs/hardware/fixed_point.md: ``x' = X_MAX`` on a spike,
else ``x - ceil(x / 2**k)``).  An integer twin matches a float time constant ``tau`` with the
decay shift whose factor ``1 - 2**-k`` is closest (:func:`shift_for_tau`).
"""

from __future__ import annotations

import math

__all__ = ["shift_for_tau", "tau_of_shift"]


def shift_for_tau(tau: float, dt: float) -> int:
    """Decay shift ``k`` whose time constant ``-dt / ln(1 - 2**-k)`` is closest to ``tau`` (k >= 0)."""
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
