"""Input encoders: Poisson rate, latency (time to first spike) and explicit spike rasters.

One Poisson encoder, :func:`poisson_events` (CSR over steps, event driven: geometric gaps drawn
from the counter-based generator of :mod:`hwsnn.rng`, so the result is a pure function of
``(rates, seed, counter base)``); it feeds the engine's layer kernel, and :func:`poisson_raster`
is its dense ``uint8`` ``(T, n)`` view (1 = spike at that step) for :class:`hwsnn.snn.Network`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hwsnn.errors import ConfigError

from hwsnn.rng import key, uniform

__all__ = ["poisson_events", "poisson_raster", "latency_raster", "as_raster", "POISSON_STREAM"]

POISSON_STREAM = 0x5053
"""Default RNG stream of the Poisson encoder (distinct from device-noise streams)."""


def poisson_raster(rates, n_steps: int, dt: float = 1e-3, seed: int = 0, *, stream: int = POISSON_STREAM,
                   counter0: int = 0) -> np.ndarray:
    """Dense ``(T, n)`` view of :func:`poisson_events` (the one Poisson encoder).

    Parameters
    ----------
    rates : array_like
        Constant rates in Hz, shape ``(n,)``.
    n_steps : int
        Number of steps ``T``.
    dt : float
        Step in seconds; the spike probability per step is ``rate * dt`` and must be <= 1.
    seed, stream : int
        Random key; ``counter0`` is the counter base of the draws (a different ``counter0`` gives
        an independent raster, like the engine's per-presentation counter).

    Returns
    -------
    ndarray of uint8, shape ``(T, n)``
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
        raise ConfigError("n_steps", f"must be a non-negative integer, not {n_steps!r}")
    if not dt > 0:
        raise ConfigError("dt", f"must be > 0, not {dt}")
    r = np.asarray(rates, dtype=np.float64)
    if r.ndim != 1:
        raise ConfigError("rates", f"must have shape (n,), not {np.shape(rates)}")
    if not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ConfigError("rates", "must be finite and >= 0 Hz")
    if r.size and r.max() * dt > 1.0:
        raise ConfigError("rates", f"rate * dt = {r.max() * dt:.3g} > 1: the step is too long for this rate")
    ptr, idx = poisson_events(np.ascontiguousarray(r), float(dt) * 1e3, int(n_steps), key(int(seed), int(stream)),
                              np.int64(counter0))
    out = np.zeros((n_steps, r.shape[0]), dtype=np.uint8)
    out[np.repeat(np.arange(n_steps), np.diff(ptr)), idx] = 1
    return out


def latency_raster(values, n_steps: int, *, t_max: int | None = None, threshold: float = 0.0) -> np.ndarray:
    """Time-to-first-spike code: one spike per input, earlier for larger values.

    ``values`` in ``[0, 1]`` (shape ``(n,)``); input ``i`` spikes once at step
    ``round((1 - values[i]) * t_max)`` (``t_max`` defaults to ``n_steps - 1``); inputs with
    ``values[i] <= threshold`` stay silent.
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ConfigError("n_steps", f"must be a positive integer, not {n_steps!r}")
    t_max = n_steps - 1 if t_max is None else t_max
    if isinstance(t_max, bool) or not isinstance(t_max, (int, np.integer)) or not 0 <= t_max < n_steps:
        raise ConfigError("t_max", f"must be an integer in 0..n_steps-1={n_steps - 1}, not {t_max!r}")
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ConfigError("values", f"must be one-dimensional, not shape {v.shape}")
    if not np.all(np.isfinite(v)) or np.any(v < 0) or np.any(v > 1):
        raise ConfigError("values", "must lie in [0, 1]")
    out = np.zeros((n_steps, v.shape[0]), dtype=np.uint8)
    on = v > threshold
    t = np.rint((1.0 - v) * t_max).astype(np.int64)
    out[t[on], np.flatnonzero(on)] = 1
    return out


def as_raster(spikes, n: int | None = None, field: str = "raster") -> np.ndarray:
    """Validate an explicit raster (``(T, n)`` of 0/1 or bool) and return it as ``uint8``.

    ``n`` checks the number of columns; ``field`` names the config field in errors.
    """
    a = np.asarray(spikes)
    if a.ndim != 2:
        raise ConfigError(field, f"must be a 2-D (steps, neurons) array, not shape {a.shape}")
    if n is not None and a.shape[1] != n:
        raise ConfigError(field, f"has {a.shape[1]} columns but the population has {n} neurons")
    if a.dtype == bool:
        return a.astype(np.uint8)
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ConfigError(field, f"must hold 0/1 values, not dtype {a.dtype}")
    if a.size and not np.all((a == 0) | (a == 1)):
        raise ConfigError(field, "must hold only 0 and 1")
    return np.ascontiguousarray(a.astype(np.uint8))


@njit(cache=True)
def poisson_events(rates_hz, dt_ms, n_steps, key, counter_base):
    """Bernoulli-per-step Poisson spike trains as CSR over steps (event driven).

    Input ``i`` spikes in each step independently with probability ``p_i = rate_i * dt``;
    the gaps between spikes are drawn as geometric variables, so the cost is proportional to
    the number of spikes.  Returns ``(ptr, idx)``: the spikes of step ``t`` are
    ``idx[ptr[t]:ptr[t+1]]`` (ascending input index).
    """
    n_in = rates_hz.shape[0]
    cap = 64
    st = np.empty(cap, np.int64)
    ix = np.empty(cap, np.int64)
    n = 0
    for i in range(n_in):
        p = rates_hz[i] * dt_ms * 1e-3
        if p <= 0.0:
            continue
        c = 0
        t = -1
        if p >= 1.0:
            lq = 0.0
        else:
            lq = math.log1p(-p)
        while True:
            if p >= 1.0:
                t += 1
            else:
                u = uniform(key, i, counter_base + c)
                c += 1
                gap = math.floor(math.log(u) / lq)
                if gap > n_steps:
                    break
                t += 1 + int(gap)
            if t >= n_steps:
                break
            if n == cap:
                cap *= 2
                st2 = np.empty(cap, np.int64)
                ix2 = np.empty(cap, np.int64)
                for k in range(n):  # element loops: a slice copy compiles Numba's shape-mismatch error path
                    st2[k] = st[k]
                    ix2[k] = ix[k]
                st = st2
                ix = ix2
            st[n] = t
            ix[n] = i
            n += 1
    ptr = np.zeros(n_steps + 1, np.int64)
    for e in range(n):
        ptr[st[e] + 1] += 1
    for t in range(n_steps):
        ptr[t + 1] += ptr[t]
    fill = ptr[:-1].copy()
    idx = np.empty(n, np.int64)
    for e in range(n):  # inputs were generated in ascending order -> stable
        idx[fill[st[e]]] = ix[e]
        fill[st[e]] += 1
    return ptr, idx
