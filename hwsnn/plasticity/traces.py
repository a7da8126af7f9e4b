"""Trace time constants of the integer twins.

The engine keeps nearest-spike traces as "step of the last spike" and reads them from tables
(:func:`hwsnn.snn.step_kernels.trace_tables`, the layer kernel's tables): float
``exp(-k dt / tau)``, integer the ``stdp_trace`` register (docs/hardware/fixed_point.md: ``x' = X_MAX`` on a spike,
else ``x - ceil(x / 2**k)``).  An integer twin matches a float time constant ``tau`` with the
decay shift whose factor ``1 - 2**-k`` is closest (:func:`shift_for_tau`).

Only ``dt * 2**k``-like time constants are representable, so a rounded trace holds less (or
more) area than the float one: 20 ms at ``dt = 0.5`` ms becomes 15.75 ms, and every weight change
proportional to that trace shrinks by the same factor on average.  :func:`trace_gain` is that
ratio; the rules' ``to_int()`` multiply a coefficient by the gains of the traces it multiplies, so
the twin's mean drift per spike pair (the trace integral times the coefficient) equals the float
rule's, and only the window's shape changes.
"""

from __future__ import annotations

import math

__all__ = ["shift_for_tau", "tau_of_shift", "trace_gain"]


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


def trace_gain(tau: float, dt: float) -> float:
    """Area ratio ``tau / tau_of_shift(shift_for_tau(tau, dt), dt)`` of the float trace to its
    integer twin's (1 when ``tau`` is exactly representable)."""
    k = shift_for_tau(tau, dt)
    return tau / tau_of_shift(k, dt) if k > 0 else 1.0
