"""Trace time constants of the integer twins.

The engine keeps nearest-spike traces as "step of the last spike" and reads them from tables
(:func:`hwsnn.snn.step_kernels.trace_tables`, the layer kernel's tables): float
``exp(-k dt / tau)``, integer the ``stdp_trace`` register (docs/hardware/fixed_point.md: ``x' = X_MAX`` on a spike,
else ``x - ceil(x / 2**k)``).  An integer twin matches a float time constant ``tau`` with the
decay shift whose factor ``1 - 2**-k`` is closest (:func:`shift_for_tau`).

Only ``dt * 2**k``-like time constants are representable (20 ms at ``dt = 0.5`` ms becomes
15.75 ms), and the register's ceil-decay ends in a linear tail (below ``2**k`` it loses one code
per step), so an integer trace holds less (or more) area than the float one: at ``x_bits = 8``
the 15.75-ms trace holds 85 % of its own exponential's area and a 31.5-ms one 75 %.  Every weight
change proportional to a trace shrinks on average by the ratio of the areas.  :func:`trace_gain`
is that ratio, from the engine's own trace tables (the float table's sum over the integer
table's, in units of the register's full scale); the rules' ``to_int()`` multiply a coefficient
by the gains of the traces it multiplies, so that the twin's mean drift per spike pair (the
trace integral times the coefficient) equals the float rule's, and only the window's shape
changes.
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


def trace_gain(tau: float, dt: float, x_bits: int) -> float:
    """Area ratio of the float trace of time constant ``tau`` to its integer twin's: the summed
    float table ``exp(-k dt / tau)`` over the summed ``stdp_trace`` register sequence (shift
    :func:`shift_for_tau`, ``x_bits`` bits) divided by ``2**x_bits - 1``; both are the tables the
    kernels read (:func:`hwsnn.snn.step_kernels.trace_tables`).  1 for ``tau <= 0``."""
    if tau <= 0:
        return 1.0
    from hwsnn.snn.step_kernels import trace_tables  # the one table builder (imports the engine)

    f = float(trace_tables([tau], dt, False).sum())
    i = float(trace_tables([shift_for_tau(tau, dt)], dt, True, x_bits).sum()) / ((1 << x_bits) - 1)
    return f / i
