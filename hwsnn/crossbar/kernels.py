"""Numba kernels of the crossbar hot paths (event-driven read, pulse rounding and routing).

Device columns are laid out physically: ``differential`` interleaves ``G+`` (column ``2j``) and
``G-`` (``2j + 1``) so a pair shares the word-line position; ``reference`` puts the weight devices in
columns ``0..n_out-1`` and the per-row reference device in column ``n_out``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hwsnn.rng import normal, normal_first, uniform

SCHEME_DIFF, SCHEME_REF = 0, 1
MODE_RESET_PLUS, MODE_SET_MINUS = 0, 1


@njit(cache=True, inline="always")
def _noisy_column(g, x, col, noise_on, sr, has_sa, sa, key, counter):
    """``sum_i x_i G_i,col`` plus (``noise_on``) one draw of its column-sum read-noise Gaussian."""
    s = 0.0
    v = 0.0
    for i in range(g.shape[0]):
        xi = x[i]
        if xi == 0.0:
            continue
        gj = g[i, col]
        s += xi * gj
        if noise_on:
            v += xi * xi * sr * sr * gj * gj
            if has_sa:
                v += xi * xi * sa[i, col] ** 2
    if noise_on and v > 0.0:
        s += math.sqrt(v) * normal(key, col, counter)
    return s


@njit(cache=True)
def read_columns(g, x, scheme, n_out, c, noise_on, sr, has_sa, sa, key, counter, out_noise, adc_on, adc_lo, adc_step,
                 adc_max, adc_sat):
    """Column outputs in weight units from the conductances ``g`` (k, dev_cols) of the active rows.

    ``y_j = c * sum_i x_i (G+_ij - G-_ij)`` (differential) or ``c * sum_i x_i (G_ij - G_ref,i)``.
    With ``noise_on`` the device read noise ``G(1 + sr*xi) + sa_i*xi'`` is drawn per column, not per
    device: the column current is a sum of independent Gaussians, hence Gaussian with mean the
    noise-free sum and variance ``sum_i x_i^2 (sr^2 G_i^2 + sa_i^2)``, so one draw with that variance
    has exactly the same distribution.  The reference column's current is one shared draw that is
    subtracted from every column (its noise is common to all outputs, as in hardware).
    ``sa`` is the (k, dev_cols) additive sigma (S) of each device, used when ``has_sa``.
    """
    k = g.shape[0]
    y = np.zeros(n_out)
    if scheme == SCHEME_DIFF:
        v = np.zeros(n_out)
        for j in range(n_out):
            s = 0.0
            vj = 0.0
            for i in range(k):
                xi = x[i]
                if xi == 0.0:
                    continue
                gp = g[i, 2 * j]
                gm = g[i, 2 * j + 1]
                s += xi * (gp - gm)
                if noise_on:
                    vj += xi * xi * pair_variance(gp, gm, sr, sa[i, 2 * j] if has_sa else 0.0,
                                                  sa[i, 2 * j + 1] if has_sa else 0.0)
            y[j] = s
            v[j] = vj
        read_out(y, v, c, noise_on, np.empty(n_out), key, counter, out_noise, adc_on, adc_lo, adc_step, adc_max,
                 adc_sat)
        return y
    else:
        # the reference column's draw is shared: subtracted from every weight column
        sref = _noisy_column(g, x, n_out, noise_on, sr, has_sa, sa, key, counter)
        for j in range(n_out):
            y[j] = c * (_noisy_column(g, x, j, noise_on, sr, has_sa, sa, key, counter) - sref)
    finish_columns(y, key, counter, out_noise, adc_on, adc_lo, adc_step, adc_max, adc_sat)
    return y


@njit(cache=True, inline="always")
def pair_variance(gp, gm, sr, sap, sam):
    """Read-noise variance (S^2) of one differential pair read with input 1: each device reads
    ``G (1 + sr*xi) + sa*xi'``, so the pair's current ``G+ - G-`` has variance
    ``sr^2 (G+^2 + G-^2) + sa+^2 + sa-^2``."""
    return sr * sr * (gp * gp + gm * gm) + sap * sap + sam * sam


@njit(cache=True)
def pair_stats(g, sr, has_sa, sa, c, w, v):
    """Per-cell read model of a differential array, in weight units: ``w[i, j] = c (G+ - G-)``
    and ``v[i, j] = c^2 pair_variance(...)`` (the fused network read sums these over active rows
    and finishes with :func:`read_out`, exactly as :func:`read_columns` does)."""
    n, m = w.shape
    c2 = c * c
    for i in range(n):
        for j in range(m):
            gp = g[i, 2 * j]
            gm = g[i, 2 * j + 1]
            w[i, j] = c * (gp - gm)
            v[i, j] = c2 * pair_variance(gp, gm, sr, sa[i, 2 * j] if has_sa else 0.0,
                                         sa[i, 2 * j + 1] if has_sa else 0.0)


@njit(cache=True, inline="always")
def column_normals(key, counter, z):
    """``z[j] = normal(key, j, counter)`` for every ``j``: the ziggurat's branch-free first
    attempt for all columns (vectorises), then the rare redo."""
    for j in range(z.shape[0]):
        z[j] = normal_first(key, j, counter)
    for j in range(z.shape[0]):
        if z[j] != z[j]:
            z[j] = normal(key, j, counter)


@njit(cache=True, inline="always")
def read_out(y, v, c, noisy, z, key, counter, out_noise, adc_on, adc_lo, adc_step, adc_max, adc_sat):
    """The end of every column read, in place: ``y_j = c (s_j + sqrt(v_j) z_j)`` from the noise-free
    column sums ``s = y`` and their read-noise variances ``v`` (one standard normal ``z_j`` per
    column, :func:`column_normals`), then output noise and ADC (:func:`finish_columns`).

    Shared by :func:`read_columns` (``Crossbar`` reads) and the network's fused kernel
    (:mod:`hwsnn.engine.kernel`), which sums cached per-cell weights and variances
    (:func:`pair_stats`) over a step's active rows.  ``z`` is scratch space of ``y``'s length."""
    n = y.shape[0]
    if noisy:
        column_normals(key, counter, z)
        for j in range(n):
            y[j] = c * (y[j] + math.sqrt(v[j]) * z[j])
    elif c != 1.0:
        for j in range(n):
            y[j] = c * y[j]
    if out_noise > 0.0 or adc_on:
        finish_columns(y, key, counter, out_noise, adc_on, adc_lo, adc_step, adc_max, adc_sat)


@njit(cache=True)
def finish_columns(y, key, counter, out_noise, adc_on, adc_lo, adc_step, adc_max, adc_sat):
    """Output noise then ADC, in place (shared by every read path)."""
    n_out = y.shape[0]
    for j in range(n_out):
        if out_noise > 0.0:
            # index offset keeps these draws independent of the column-noise draws
            y[j] += out_noise * normal(key, j + 2 * n_out + 2, counter)
        if adc_on:
            q = math.floor((y[j] - adc_lo) / adc_step + 0.5)
            if adc_sat:
                if q < 0.0:
                    q = 0.0
                elif q > adc_max:
                    q = adc_max
            y[j] = adc_lo + q * adc_step


@njit(cache=True)
def combine_columns(i_phys, scheme, n_out, c):
    """Weight-unit outputs from physical column currents divided by ``v_read``."""
    y = np.empty(n_out)
    for j in range(n_out):
        if scheme == SCHEME_DIFF:
            y[j] = c * (i_phys[2 * j] - i_phys[2 * j + 1])
        else:
            y[j] = c * (i_phys[j] - i_phys[n_out])
    return y


@njit(cache=True)
def round_pulses(dw, rows, cols, n_out, step_pos, step_neg, stochastic, key, counter):
    """Signed pulse counts ``dw/step`` rounded stochastically (unbiased) or to nearest.

    ``P(n = floor(x) + 1) = x - floor(x)`` with a uniform drawn from the counter RNG at index
    ``row*n_out + col`` (the synapse) and ``counter`` (the update call), so the result does not
    depend on thread count or on which other synapses are updated in the same call.
    """
    k, m = dw.shape
    out = np.zeros((k, m), np.int64)
    for a in range(k):
        for b in range(m):
            d = dw[a, b]
            if d == 0.0:
                continue
            x = abs(d) / (step_pos if d > 0.0 else step_neg)
            f = math.floor(x)
            if stochastic:
                if uniform(key, rows[a] * n_out + cols[b], counter) < x - f:
                    f += 1.0
            elif x - f >= 0.5:
                f += 1.0
            n = np.int64(f)
            out[a, b] = n if d > 0.0 else -n
    return out


@njit(cache=True, inline="always")
def _route_one(p, a, b, j, scheme, mode, side_of, use_side):
    """(device column, signed device pulses) of weight pulses ``p`` of synapse ``(a, b)``, column ``j``."""
    if scheme == SCHEME_REF:
        return j, p
    if mode == MODE_SET_MINUS:
        return (2 * j, p) if p > 0 else (2 * j + 1, -p)
    side = side_of[a, b] if use_side else 1
    if side == 0:
        side = 1 if p > 0 else -1
    return (2 * j + 1, -p) if side < 0 else (2 * j, p)


@njit(cache=True)
def route_pulses(n, rows, cols, scheme, mode, side_of, use_side, dev_cols, n_out, flat, cnt, by_column):
    """Map signed weight-pulse counts (``> 0`` potentiate) to device pulses; returns how many.

    Fills ``flat`` (flat device index ``row * dev_cols + device column``) and ``cnt`` (``> 0`` SET,
    ``< 0`` RESET) for the non-zero entries, row by row, or with ``by_column`` device column by
    device column (the storage order of a column-major array, so its writes stay contiguous).
    Differential ``reset_plus``: the active device (``side_of`` = +1: ``G+``, -1: ``G-``; 0 = both
    at rest: ``G+`` to potentiate, ``G-`` to depress; all +1 unless ``use_side``) is SET to move its
    weight away from zero and RESET to move it back (so depressing a positive weight RESETs ``G+``,
    potentiating a negative one RESETs ``G-``); ``set_minus``: potentiate SETs ``G+``, depress SETs
    ``G-``.  Reference: SET / RESET the weight device.
    """
    k, m = n.shape
    nnz = 0
    if not by_column:
        for a in range(k):
            base = rows[a] * dev_cols
            for b in range(m):
                p = n[a, b]
                if p == 0:
                    continue
                d, q = _route_one(p, a, b, cols[b], scheme, mode, side_of, use_side)
                flat[nnz] = base + d
                cnt[nnz] = q
                nnz += 1
        return nnz
    # one pass per device column of each weight column: G+ (or the reference scheme's weight
    # device) first, then G-
    n_dev = 1 if scheme == SCHEME_REF else 2
    for b in range(m):
        j = cols[b]
        for half in range(n_dev):
            for a in range(k):
                p = n[a, b]
                if p == 0:
                    continue
                d, q = _route_one(p, a, b, j, scheme, mode, side_of, use_side)
                if d - (j if scheme == SCHEME_REF else 2 * j) != half:
                    continue
                flat[nnz] = rows[a] * dev_cols + d
                cnt[nnz] = q
                nnz += 1
    return nnz


@njit(cache=True)
def write_slots(n, by_row):
    """Pulse slots of a parallel write: SET and RESET are separate phases; within a phase a whole
    row (row-parallel) or column (column-parallel) is pulsed together, so it lasts as long as its
    largest count."""
    r, c = n.shape
    total = 0
    if by_row:
        for i in range(r):
            up = 0
            dn = 0
            for j in range(c):
                v = n[i, j]
                if v > up:
                    up = v
                if -v > dn:
                    dn = -v
            total += up + dn
    else:
        for j in range(c):
            up = 0
            dn = 0
            for i in range(r):
                v = n[i, j]
                if v > up:
                    up = v
                if -v > dn:
                    dn = -v
            total += up + dn
    return total
