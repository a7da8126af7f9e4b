"""IR drop: column currents of a crossbar with resistive word and bit lines.

Circuit (both solvers use the same one)::

    driver v_i --r-- WL(i,0) --r-- WL(i,1) --r-- ... --r-- WL(i,N-1)        word line i
                       |G_i0         |G_i1                  |
                     BL(i,0)       BL(i,1)      ...        BL(i,N-1)
                       |r            |r                     |r             bit lines run down;
                      ...           ...                    ...           the last segment of
                     BL(M-1,j) --r--> virtual ground (0 V), sense current I_j     each ends in a sense amp

Row 0 is the farthest from the sense amplifiers and column 0 the nearest to the drivers.  Every
row is driven (inactive rows at 0 V: their cells still carry the small reverse current set by
the raised bit-line voltages), every column is held at 0 V by its sense amplifier, devices are
linear resistors and access switches are ideal.

* :func:`ir_drop_nodal` assembles the full nodal (KCL) system, ``2*M*N`` unknowns, and solves it
  directly with ``scipy.sparse.linalg.spsolve``: the reference.
* :func:`ir_drop_currents` is the fast model (CrossSim-style iteration on line currents): given
  the cell currents, cumulative sums along the lines give every node voltage exactly, and the cell
  currents are recomputed from those voltages.  The fixed point is the exact nodal solution; the
  iteration is damped so it converges for any ``r`` (see the kernel), and it stops when the
  residual of the cell currents is below ``tol`` relative to the largest cell current.

With ``r = 0`` both return the ideal MVM ``G.T @ v`` exactly (the nodal system would contain
infinite conductances, so ``r = 0`` is the closed-form limit, not a numerical solve).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hwsnn.errors import ConfigError, HwsnnError

__all__ = ["ir_drop_currents", "ir_drop_nodal", "ideal_currents"]


def _check(g, v, r):
    g = np.ascontiguousarray(np.asarray(g, np.float64))
    v = np.ascontiguousarray(np.asarray(v, np.float64).ravel())
    if g.ndim != 2:
        raise ConfigError("g", f"must be a 2-D conductance matrix, not shape {g.shape}")
    if v.shape[0] != g.shape[0]:
        raise ConfigError("v", f"needs one voltage per row ({g.shape[0]}), not {v.shape[0]}")
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        raise ConfigError("g", "conductances must be finite and >= 0")
    if not np.all(np.isfinite(v)):
        raise ConfigError("v", "voltages must be finite")
    if not (np.isfinite(r) and r >= 0):
        raise ConfigError("r_wire", f"must be finite and >= 0, not {r}")
    return g, v, float(r)


def ideal_currents(g, v) -> np.ndarray:
    """Column currents without line resistance: ``I_j = sum_i G_ij v_i``."""
    return np.asarray(g, np.float64).T @ np.asarray(v, np.float64)


@njit(cache=True)
def _iterate(g, v, r, tol, max_iter):
    m, n = g.shape
    # Bound on the largest eigenvalue of the linearised update r*G*(L_wl + L_bl) (its 1-norm:
    # a word-line node sees at most n segments carrying at most its row current, etc.).  All its
    # eigenvalues are real and positive (G^(1/2) L G^(1/2) is SPD), so the damped map
    # I <- I + gam*(F(I) - I) has eigenvalues 1 - gam*(1 + lam) inside (-1, 1) for gam = 2/(2 + bound).
    row_max = 0.0
    for i in range(m):
        s = 0.0
        for j in range(n):
            s += g[i, j]
        row_max = max(row_max, s)
    col_max = 0.0
    for j in range(n):
        s = 0.0
        for i in range(m):
            s += g[i, j]
        col_max = max(col_max, s)
    bound = r * (n * row_max + m * col_max)
    gam = 2.0 / (2.0 + bound)
    cur = np.empty((m, n))
    for i in range(m):
        for j in range(n):
            cur[i, j] = g[i, j] * v[i]  # first-order start: no drop
    vwl = np.empty((m, n))
    vbl = np.empty((m, n))
    prefix = np.zeros(n)
    it = 0
    converged = False
    while it < max_iter:
        it += 1
        # word lines: segment k carries the current of cells k..n-1
        for i in range(m):
            suffix = 0.0
            for j in range(n - 1, -1, -1):
                suffix += cur[i, j]
                vwl[i, j] = suffix  # temporarily: segment current
            acc = v[i]
            for j in range(n):
                acc -= r * vwl[i, j]
                vwl[i, j] = acc
        # bit lines: the segment below node i carries the current of cells 0..i
        for j in range(n):
            prefix[j] = 0.0
        for i in range(m):
            for j in range(n):
                prefix[j] += cur[i, j]
                vbl[i, j] = prefix[j]  # temporarily: segment current
        for j in range(n):
            acc = 0.0
            for i in range(m - 1, -1, -1):
                acc += r * vbl[i, j]
                vbl[i, j] = acc
        res = 0.0
        big = 0.0
        for i in range(m):
            for j in range(n):
                new = g[i, j] * (vwl[i, j] - vbl[i, j])
                d = new - cur[i, j]
                res = max(res, abs(d))
                # scale from the old and the new current: the new one alone can be exactly 0 (a
                # 1x1 array with 2*r*G = 1 maps I0 to 0), which must not pass for convergence
                big = max(big, abs(new), abs(cur[i, j]))
                cur[i, j] += gam * d
        if res <= tol * big:
            converged = True
            break
    out = np.zeros(n)
    for i in range(m):
        for j in range(n):
            out[j] += cur[i, j]
    return out, it, converged


def ir_drop_currents(g, v, r_wire: float, tol: float = 1e-9, max_iter: int = 10000, return_iters: bool = False):
    """Column currents with IR drop by the fast damped line-current iteration.

    Parameters
    ----------
    g : (M, N) array
        Device conductances in siemens.
    v : (M,) array
        Row driver voltages.
    r_wire : float
        Segment resistance in ohms.
    tol : float
        Stop when the largest cell-current residual is ``<= tol`` times the largest cell current;
        the error of the cell currents is then at most about that residual.
    max_iter : int
        Iteration cap; exceeding it raises :class:`HwsnnError`.
    return_iters : bool
        Also return the number of iterations.

    Returns
    -------
    (N,) array of sense currents (and the iteration count if asked).
    """
    g, v, r = _check(g, v, r_wire)
    if r == 0.0:
        out, it = ideal_currents(g, v), 0
    else:
        out, it, ok = _iterate(g, v, r, float(tol), int(max_iter))
        if not ok:
            raise HwsnnError(
                f"IR-drop iteration did not converge in {max_iter} iterations (r_wire*G*size too large); "
                "raise io.ir_max_iter or use ir_drop_nodal")
    return (out, it) if return_iters else out


def ir_drop_nodal(g, v, r_wire: float, return_voltages: bool = False):
    """Column currents with IR drop by a direct sparse nodal solve (reference).

    Unknowns are the ``M*N`` word-line and ``M*N`` bit-line node voltages; each resistor adds its
    conductance stamp, drivers and the virtual grounds enter as Norton sources.

    Returns
    -------
    (N,) sense currents, and with ``return_voltages`` also the (M, N) word- and bit-line voltages.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    g, v, r = _check(g, v, r_wire)
    m, n = g.shape
    if r == 0.0:
        out = ideal_currents(g, v)
        if return_voltages:
            return out, np.repeat(v[:, None], n, axis=1), np.zeros((m, n))
        return out
    gw = 1.0 / r
    idx = np.arange(m * n).reshape(m, n)
    wl, bl = idx, idx + m * n
    a_nodes, b_nodes, conds = [], [], []
    # cells
    a_nodes.append(wl.ravel()); b_nodes.append(bl.ravel()); conds.append(g.ravel())
    # word-line segments between neighbouring cells
    a_nodes.append(wl[:, :-1].ravel()); b_nodes.append(wl[:, 1:].ravel()); conds.append(np.full(m * (n - 1), gw))
    # bit-line segments between neighbouring cells
    a_nodes.append(bl[:-1, :].ravel()); b_nodes.append(bl[1:, :].ravel()); conds.append(np.full((m - 1) * n, gw))
    a = np.concatenate(a_nodes); b = np.concatenate(b_nodes); c = np.concatenate(conds)
    rows = np.concatenate([a, b, a, b])
    cols = np.concatenate([a, b, b, a])
    vals = np.concatenate([c, c, -c, -c])
    # driver segments (to v_i) and sense segments (to 0 V) only touch the diagonal
    rows = np.concatenate([rows, wl[:, 0], bl[m - 1, :]])
    cols = np.concatenate([cols, wl[:, 0], bl[m - 1, :]])
    vals = np.concatenate([vals, np.full(m, gw), np.full(n, gw)])
    mat = sp.coo_matrix((vals, (rows, cols)), shape=(2 * m * n, 2 * m * n)).tocsc()
    rhs = np.zeros(2 * m * n)
    rhs[wl[:, 0]] = gw * v
    x = spsolve(mat, rhs)
    vw = x[: m * n].reshape(m, n)
    vb = x[m * n:].reshape(m, n)
    out = gw * vb[m - 1, :]
    if return_voltages:
        return out, vw, vb
    return out
