"""Plain vectorised NumPy implementation of the STO-v0 model (benchmark baseline, cross-check).

Same equations as the Numba kernels for the ``neurosim`` law with every effect (c2c noise,
device-to-device spread, volatile state with consolidation, power-law drift, read noise, faults,
finite levels, write energy), written the straightforward way: whole-array NumPy expressions
on the written subset.  Random numbers come from ``numpy.random.default_rng(seed)`` (the random
stream semantics of :class:`hwsnn.devices.DeviceArray` are *not* reproduced), so with every noise
off the two implementations agree to float32 rounding.
"""

from __future__ import annotations

import math

import numpy as np

from hwsnn.devices.params import DeviceParams
from hwsnn.errors import ConfigError

__all__ = ["NumpyDeviceArray", "nl_to_a_vec"]


def nl_to_a_vec(nl: np.ndarray) -> np.ndarray:
    """Vectorised NeuroSim label -> A/Pmax (``inf`` for 0), same rule as ``params.nl_to_a``."""
    nl = np.abs(np.asarray(nl, np.float64))
    target = nl / 10.0
    lo = np.full(nl.shape, math.log(1e-6))
    hi = np.full(nl.shape, math.log(1e6))
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        a = np.exp(mid)
        e = -np.expm1(-1.0 / a)
        p = np.clip(-a * np.log(a * e), 0.0, 1.0)
        dev = -np.expm1(-p / a) / e - p
        big = dev > target
        lo = np.where(big, mid, lo)
        hi = np.where(big, hi, mid)
    out = np.exp(0.5 * (lo + hi))
    out = np.where(target >= 0.999, 1e-6, out)
    return np.where(nl == 0.0, np.inf, out)


class NumpyDeviceArray:
    """NumPy twin of :class:`hwsnn.devices.DeviceArray` (``neurosim`` law, ``power`` drift, ``normal`` reads)."""

    def __init__(self, p: DeviceParams, shape=(1, 1), seed: int = 0):
        if p.update_model != "neurosim" or p.drift_model != "power" or p.read_noise_model != "normal":
            raise ConfigError("update_model", "the NumPy reference implements neurosim/power/normal only")
        self.params = p
        self.shape = tuple(shape)
        n = self.shape[0] * self.shape[1]
        self.rng = np.random.default_rng(seed)
        r = self.rng
        d = p.d2d
        z = r.standard_normal((7, n))
        self.gmin = (p.g_min * np.exp(d * z[0])).astype(np.float32)
        self.gmax = (p.g_max * np.exp(d * z[1])).astype(np.float32)
        self.gmax = np.maximum(self.gmax, self.gmin * np.float32(1 + 1e-6) + np.float32(1e-30))
        gain = np.exp(d * p.d2d_step * z[2])
        a_p = nl_to_a_vec(np.maximum(p.nl_ltp + d * p.d2d_nl * z[3], 0.0))
        a_d = nl_to_a_vec(np.maximum(p.nl_ltd + d * p.d2d_nl * z[4], 0.0))
        lin_p, lin_d = np.isinf(a_p), np.isinf(a_d)
        a_pf, a_df = np.where(lin_p, 1.0, a_p), np.where(lin_d, 1.0, a_d)
        self.ap = np.where(lin_p, 0.0, a_pf * p.p_max / gain).astype(np.float32)
        self.ad = np.where(lin_d, 0.0, a_df * p.p_max_down / gain).astype(np.float32)
        self.bp = np.where(lin_p, 1.0, 1.0 / -np.expm1(-1.0 / a_pf)).astype(np.float32)
        self.bd = np.where(lin_d, 1.0, 1.0 / -np.expm1(-1.0 / a_df)).astype(np.float32)
        self.su = (gain / p.p_max).astype(np.float32)
        self.sd = (gain / p.p_max_down).astype(np.float32)
        self.tau = (p.st_tau * np.exp(d * p.d2d_tau * z[5])).astype(np.float32)
        self.nu = np.abs(p.drift_nu_mean + p.drift_nu_std * z[6]).astype(np.float32)
        u = r.random(n)
        c1 = p.p_stuck_min
        c2 = c1 + p.p_stuck_max
        c3 = c2 + p.p_stuck_random
        self.stuck = np.select([u < c1, u < c2, u < c3], [1, 2, 3], 0).astype(np.int8)
        self.gl = np.select([self.stuck == 2, self.stuck == 3], [1.0, r.random(n)], 0.0).astype(np.float32)
        self.gs = np.zeros(n, np.float32)
        self.tw = np.zeros(n)
        self.te = np.zeros(n)
        self.time = 0.0
        self.energy = 0.0
        self.pulse_count = 0
        self._drift_on = p.drift_nu_mean > 0 or p.drift_nu_std > 0
        self._tau_scale = math.exp(p.st_kappa * p.st_bias)

    def advance(self, dt: float) -> None:
        self.time += float(dt)

    def _lt(self, idx):
        gl = self.gl[idx].astype(np.float64)
        if not self._drift_on:
            return gl
        rest = self.params.drift_g_rest
        dt = np.maximum(self.time - self.tw[idx], 0.0)
        f = np.exp(-self.nu[idx] * np.log1p(dt / self.params.drift_t0))
        out = rest + (gl - rest) * f
        return np.where(self.stuck[idx] != 0, gl, out)

    def _st(self, idx):
        dt = np.maximum(self.time - self.te[idx], 0.0)
        return self.gs[idx] * np.exp(-dt / (self.tau[idx] * self._tau_scale))

    def _g(self, idx):
        x = np.clip(self._lt(idx) + np.where(self.stuck[idx] != 0, 0.0, self._st(idx)), 0.0, 1.0)
        lo = self.gmin[idx].astype(np.float64)
        return lo + (self.gmax[idx].astype(np.float64) - lo) * x

    def conductance(self) -> np.ndarray:
        return self._g(slice(None)).reshape(self.shape)

    def read(self) -> np.ndarray:
        p = self.params
        g = self._g(slice(None))
        if p.read_noise or p.read_noise_add:
            z = self.rng.standard_normal((2, g.size))
            w = self.gmax.astype(np.float64) - self.gmin
            g = np.maximum(g * (1 + p.read_noise * z[0]) + p.read_noise_add * w * z[1], 0.0)
        return g.reshape(self.shape)

    def pulse(self, n) -> None:
        p = self.params
        n = np.broadcast_to(np.asarray(n, np.int64), self.shape).reshape(-1)
        idx = np.flatnonzero(n)
        if idx.size == 0:
            return
        nn = n[idx]
        m = np.abs(nn).astype(np.float64)
        g_before = self._g(idx)
        live = self.stuck[idx] == 0
        l = self._lt(idx)
        s = self._st(idx)
        ap, bp, ad, bd = (a[idx].astype(np.float64) for a in (self.ap, self.bp, self.ad, self.bd))
        su, sd = self.su[idx].astype(np.float64), self.sd[idx].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            up_exp = bp - (bp - l) * np.exp(-m / np.where(ap > 0, ap, 1.0))
            up = np.where(ap > 0, up_exp, l + m * su)
            u = 1.0 - l
            dn_exp = bd - (bd - u) * np.exp(-m / np.where(ad > 0, ad, 1.0))
            dn = 1.0 - np.where(ad > 0, dn_exp, u + m * sd)
        new = np.clip(np.where(nn > 0, up, dn), 0.0, 1.0)
        dlt = new - l
        if p.c2c_mult or p.c2c_add:
            # same law as the kernels: d (1 + cm xi1) + ca sqrt(m) xi2 drawn as one Gaussian
            dlt = dlt + np.sqrt((p.c2c_mult * dlt) ** 2 + p.c2c_add**2 * m) * self.rng.standard_normal(idx.size)
        l2 = np.clip(l + dlt, 0.0, 1.0)
        if p.st_amp > 0:
            inc = (p.st_max - s) * (1.0 - (1.0 - p.st_amp / p.st_max) ** m)
            if p.st_noise:
                inc = inc * (1 + p.st_noise * self.rng.standard_normal(idx.size))
            s_new = np.clip(s + inc, 0.0, p.st_max)
            s = np.where(nn > 0, s_new, s)
            if p.consol_rate > 0:
                mv = np.where((nn > 0) & (s > p.consol_theta), p.consol_rate * (s - p.consol_theta), 0.0)
                s = s - mv
                l2 = np.clip(l2 + mv, 0.0, 1.0)
        if p.levels >= 2:
            l2 = np.floor(l2 * (p.levels - 1) + 0.5) / (p.levels - 1)
        li = idx[live]
        self.gl[li] = l2[live]
        self.gs[li] = s[live]
        self.tw[li] = self.time
        self.te[li] = self.time
        g_after = self._g(idx)
        v2 = p.write_voltage**2
        self.energy += float(np.sum(v2 * 0.5 * (g_before + g_after) * p.pulse_width * m + v2 * p.line_cap * m))
        self.pulse_count += int(m.sum())
