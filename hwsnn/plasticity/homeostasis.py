"""Weight-normalisation kernels, shared by the engine's layer (per-sample normalisation) and
the ``normalize`` rule of :mod:`hwsnn.engine.rules.homeostasis`.

``normalize_columns``: ``w[:, j] <- w[:, j] * S_tgt / sum_i w[i, j]`` (clipped at ``w_max``).
Integer twins: ``normalize_columns_int`` rounds half up, ``q <- (2 q T + S) // (2 S)``;
``normalize_columns_int_sr`` rounds stochastically with the shared LFSR16.

``scale_columns_int_sr``: the integer per-column multiplicative step of the scaling rules,
``q_ij <- q_ij + sround(q_ij * e_j, r, s)`` (``e_j / 2**s`` the column's relative change), with the
shared LFSR16; synaptic scaling's factor codes have ``SCALE_FRAC_BITS`` fraction bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hwsnn.plasticity.fixed import lfsr_advance, sround

__all__ = ["normalize_columns", "normalize_columns_int", "normalize_columns_int_sr", "scale_columns_int_sr",
           "SCALE_FRAC_BITS"]

SCALE_FRAC_BITS = 16
"""Fraction bits of a per-column scaling factor code: ``e_j = round(relative change * 2**16)``."""


# ----------------------------------------------------------------------------------------------
# Kernels
# ----------------------------------------------------------------------------------------------


@njit(cache=True)
def normalize_columns(w, target, w_max):
    """Normalisation in place: each column with a positive sum is rescaled to sum ``target`` (clipped at
    ``w_max``; a clipped column sums below target).  Zero columns are left alone."""
    # two row-major passes (the array is C-ordered: column-strided loops would miss the cache)
    n_pre, n_post = w.shape
    f = np.zeros(n_post)
    for i in range(n_pre):
        for j in range(n_post):
            f[j] += w[i, j]
    for j in range(n_post):
        f[j] = target / f[j] if f[j] > 0.0 else 1.0
    for i in range(n_pre):
        for j in range(n_post):
            v = w[i, j] * f[j]
            w[i, j] = w_max if v > w_max else v


@njit(cache=True)
def normalize_columns_int(q, target, w_max):
    """Integer normalisation in place: ``q <- round(q * T / S)`` (half up), saturating at ``w_max``."""
    n_pre, n_post = q.shape
    for j in range(n_post):
        s = np.int64(0)
        for i in range(n_pre):
            s += q[i, j]
        if s > 0:
            for i in range(n_pre):
                v = (2 * q[i, j] * target + s) // (2 * s)
                q[i, j] = w_max if v > w_max else v


@njit(cache=True)
def normalize_columns_int_sr(q, target, w_max, lfsr):
    """Integer normalisation with LFSR16 stochastic rounding, in place (row-major, one LFSR16 advance
    per synapse): ``q <- (q * T * 2**16 // S + r) >> 16`` saturating at ``w_max``; ``lfsr[0]`` is
    the shared LFSR16 state.  Unbiased: small codes are not rounded away column after column."""
    n_pre, n_post = q.shape
    s = np.zeros(n_post, np.int64)
    for i in range(n_pre):
        for j in range(n_post):
            s[j] += q[i, j]
    r = lfsr[0]
    for i in range(n_pre):
        for j in range(n_post):
            if s[j] > 0:
                v = ((q[i, j] * target << 16) // s[j] + r) >> 16
                q[i, j] = w_max if v > w_max else v
                r = lfsr_advance(r)
    lfsr[0] = r


@njit(cache=True)
def scale_columns_int_sr(q, e, shift, w_max, lfsr):
    """Per-column multiplicative step, integer, in place: ``q_ij <- q_ij + sround(q_ij * e_j, r, shift)``,
    saturating to ``[0, w_max]``; one LFSR16 advance per synapse (row-major), ``lfsr[0]`` the shared
    state.  ``e_j / 2**shift`` is column ``j``'s relative change (either sign); the floor shift keeps
    the rounding unbiased both ways."""
    n_pre, n_post = q.shape
    r = lfsr[0]
    for i in range(n_pre):
        for j in range(n_post):
            v = q[i, j] + sround(q[i, j] * e[j], r, shift)
            q[i, j] = 0 if v < 0 else (w_max if v > w_max else v)
            r = lfsr_advance(r)
    lfsr[0] = r
