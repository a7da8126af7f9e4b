"""Fit device parameters from measured data (``hwsnn device fit DATA.csv``).

CSV format
----------
One long-format table with the header ``experiment,device,x,g`` (extra columns are ignored):

``experiment``
    ``ltp``: a SET pulse train on a fully reset device; ``x`` = pulses applied so far (0, 1, 2, ...),
    ``g`` = conductance (S) read after them.  ``ltd``: a RESET train on a fully set device, same
    columns.  ``retention``: a device programmed once and left alone; ``x`` = seconds since
    programming, ``g`` = conductance.  ``read``: repeated reads of an untouched device; ``x`` =
    repeat index, ``g`` = reading.
``device``
    Any label; rows of one experiment and device form one curve.

Any subset of experiments may be present.  Pulse-train and retention readings are assumed to be
averaged reads (read noise small compared with the write noise / drift), taken right after the
pulses (volatile part and drift negligible during a train).

Method
------
* ``g_min``/``g_max``: mean first reading of the LTP / LTD trains.
* ``p_max``, ``nl_ltp``, ``nl_ltd``: the NeuroSim law gives, per pulse, the soft-bounds recursion
  ``G_k - G_{k-1} = c (G_inf - G_{k-1})`` with ``c = 1 - exp(-1/A)`` (docs/devices.md).  A
  least-squares line through all (G_{k-1}, G_k - G_{k-1}) pairs away from the bounds gives ``c``
  and ``G_inf``; then ``A = -1/ln(1-c)``, ``B = (G_inf - g_min)/(g_max - g_min)``,
  ``p_max = -A ln(1 - 1/B)`` and ``NL`` from ``A/p_max``.  LTD is the mirror image.  (This is
  NeuroSim's ``nonlinear_fit.m`` idea, done by linear regression on steps so that accumulated
  noise does not bias it.)
* ``c2c_mult``, ``c2c_add``: maximum likelihood on the step residuals,
  ``r_k ~ N(0, c2c_mult^2 d_k^2 + c2c_add^2)`` with ``d_k`` the predicted normalised step.
* ``drift_nu_mean``, ``drift_nu_std``: per device the log-log slope
  ``ln(G - g_min) = ln(G_0 - g_min) - nu ln(1 + t/t0)``; then the folded-normal maximum likelihood
  fit of ``nu_i ~ |N(mean, std)|``.
* ``read_noise``: root mean square over devices of (std / mean) of the repeated reads.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from hwsnn.devices.params import DeviceParams, a_to_nl
from hwsnn.errors import ConfigError

__all__ = ["load_csv", "fit_device", "synthetic_dataset", "write_csv", "CSV_HELP"]

CSV_HELP = (
    "CSV header 'experiment,device,x,g'. experiment: ltp (SET train from reset; x = pulses so far, g = S), "
    "ltd (RESET train from full set), retention (x = seconds since programming), read (x = repeat index). "
    "Any subset of experiments may be given."
)

EXPERIMENTS = ("ltp", "ltd", "retention", "read")


def load_csv(path: str | Path) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Parse a fit CSV into ``{experiment: {device: (x, g)}}`` (each curve sorted by x)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError("DATA", f"file not found: {path}")
    data: dict[str, dict[str, list]] = {e: {} for e in EXPERIMENTS}
    with open(p, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = [c.strip() for c in (reader.fieldnames or [])]
        for need in ("experiment", "device", "x", "g"):
            if need not in cols:
                raise ConfigError("DATA", f"{path}: missing column {need!r} (expected header experiment,device,x,g)")
        reader.fieldnames = cols
        for lineno, row in enumerate(reader, start=2):
            e = (row["experiment"] or "").strip().lower()
            if e not in EXPERIMENTS:
                raise ConfigError("experiment", f"{path}:{lineno}: unknown experiment {e!r}; use {EXPERIMENTS}")
            try:
                x = float(row["x"])
                g = float(row["g"])
            except (TypeError, ValueError):
                raise ConfigError("x" if not _isnum(row["x"]) else "g", f"{path}:{lineno}: not a number") from None
            if not (math.isfinite(x) and math.isfinite(g)):
                raise ConfigError("g", f"{path}:{lineno}: must be finite")
            data[e].setdefault(row["device"].strip(), []).append((x, g))
    out: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for e, devs in data.items():
        out[e] = {}
        for d, pts in devs.items():
            arr = np.array(sorted(pts))
            out[e][d] = (arr[:, 0], arr[:, 1])
    if not any(out.values()):
        raise ConfigError("DATA", f"{path}: no data rows")
    return out


def _isnum(s) -> bool:
    try:
        float(s)
        return True
    except (TypeError, ValueError):
        return False


def _steps(curves, g_lo, g_hi, mirror: bool, margin: float):
    """(previous state, step) pairs in normalised units, away from both bounds."""
    prev, step = [], []
    w = g_hi - g_lo
    for x, g in curves.values():
        u = (g - g_lo) / w
        if mirror:
            u = 1.0 - u
        ok = np.diff(x) == 1
        a, b = u[:-1][ok], u[1:][ok]
        sel = (a > margin) & (a < 1 - margin)
        prev.append(a[sel])
        step.append((b - a)[sel])
    if not prev:
        return np.empty(0), np.empty(0)
    return np.concatenate(prev), np.concatenate(step)


def _fit_law(prev, step):
    """Soft-bounds regression step = c (b - prev) -> (A pulses or inf, B normalised, predicted steps)."""
    if prev.size < 3:
        raise ConfigError("DATA", "too few usable pulse-train steps to fit (need >= 3 away from the bounds)")
    X = np.column_stack([np.ones_like(prev), prev])
    coef, *_ = np.linalg.lstsq(X, step, rcond=None)
    c = -coef[1]
    if c <= 1e-9:  # no curvature: linear law
        mean_step = float(np.mean(step))
        if mean_step <= 0:
            raise ConfigError("DATA", "pulse train does not move the conductance in the pulse direction")
        return math.inf, 1.0, np.full_like(prev, mean_step), 1.0 / mean_step
    b = coef[0] / c
    A = -1.0 / math.log1p(-min(c, 1 - 1e-12))
    b = max(b, 1.0 + 1e-9)
    pmax = -A * math.log1p(-1.0 / b)
    return A, b, c * (b - prev), pmax


def _noise_mle(res, pred):
    """MLE of (mult, add) in res ~ N(0, mult^2 pred^2 + add^2)."""
    from scipy.optimize import minimize

    p2 = pred**2
    r2 = res**2

    def nll(th):
        v = math.exp(2 * th[0]) * p2 + math.exp(2 * th[1])
        return 0.5 * np.sum(np.log(v) + r2 / v)

    s0 = max(float(np.sqrt(np.mean(r2))), 1e-9)
    best = None
    for m0 in (0.01, 0.1, 1.0):
        r = minimize(nll, [math.log(m0), math.log(s0)], method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000})
        if best is None or r.fun < best.fun:
            best = r
    mult, add = math.exp(best.x[0]), math.exp(best.x[1])
    # values far below what the data can resolve are reported as 0
    if mult * np.sqrt(np.mean(p2)) < 1e-3 * add:
        mult = 0.0
    if add < 1e-3 * mult * np.sqrt(np.mean(p2)):
        add = 0.0
    return mult, add


def _folded_normal_mle(nu: np.ndarray) -> tuple[float, float]:
    from scipy.optimize import minimize
    from scipy.stats import norm

    nu = np.abs(nu)
    m0, s0 = float(np.mean(nu)), float(np.std(nu, ddof=1)) if nu.size > 1 else 0.0
    if nu.size < 2 or s0 <= 0:
        return m0, 0.0

    def nll(th):
        mu, sg = th[0], math.exp(th[1])
        return -np.sum(np.logaddexp(norm.logpdf(nu, mu, sg), norm.logpdf(nu, -mu, sg)))

    r = minimize(nll, [m0, math.log(s0)], method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 4000})
    return abs(float(r.x[0])), float(math.exp(r.x[1]))


def fit_device(data, base: DeviceParams | None = None, margin: float = 0.1) -> tuple[DeviceParams, dict]:
    """Fit parameters from parsed data (see module docstring); returns (params, report)."""
    base = base if base is not None else DeviceParams()
    fitted: dict = {}
    report: dict = {"experiments": {e: len(v) for e, v in data.items()}}
    ltp, ltd = data.get("ltp", {}), data.get("ltd", {})
    g_lo, g_hi = base.g_min, base.g_max
    if ltp:
        g_lo = float(np.mean([g[0] for x, g in ltp.values() if x[0] == 0] or [g[0] for x, g in ltp.values()]))
    if ltd:
        g_hi = float(np.mean([g[0] for x, g in ltd.values() if x[0] == 0] or [g[0] for x, g in ltd.values()]))
    elif ltp:
        g_hi = float(np.mean([g[-1] for x, g in ltp.values()]))
    if ltp or ltd:
        if not g_hi > g_lo:
            raise ConfigError("DATA", f"fitted g_min ({g_lo:g}) must be < g_max ({g_hi:g}); check the LTP/LTD trains")
        fitted.update(g_min=max(g_lo, 0.0), g_max=g_hi)
    res_all, pred_all = [], []
    for name, curves, mirror in (("ltp", ltp, False), ("ltd", ltd, True)):
        if not curves:
            continue
        prev, step = _steps(curves, g_lo, g_hi, mirror, margin)
        A, b, pred, pmax = _fit_law(prev, step)
        nl = 0.0 if math.isinf(A) else a_to_nl(A / pmax)
        report[name] = {"steps_used": int(prev.size), "A_pulses": A if math.isfinite(A) else None, "B": b, "p_max": pmax, "nl": nl}
        if name == "ltp":
            fitted.update(p_max=pmax, nl_ltp=nl)
        else:
            fitted.update(nl_ltd=nl, p_max_ltd=pmax)
        res_all.append(step - pred)
        pred_all.append(pred)
    if res_all:
        mult, add = _noise_mle(np.concatenate(res_all), np.concatenate(pred_all))
        fitted.update(c2c_mult=mult, c2c_add=add)
        report["c2c"] = {"residuals": int(sum(r.size for r in res_all)), "c2c_mult": mult, "c2c_add": add}
    if "p_max" in fitted and "p_max_ltd" in fitted:
        if abs(fitted["p_max_ltd"] / fitted["p_max"] - 1) < 0.01:
            fitted["p_max_ltd"] = 0.0  # same as p_max within fit precision
    ret = data.get("retention", {})
    if ret:
        gmin = fitted.get("g_min", base.g_min)
        t0 = base.drift_t0
        nus = []
        for x, g in ret.values():
            ok = (g > gmin) & (x >= 0)
            if ok.sum() < 3:
                continue
            lx = np.log1p(x[ok] / t0)
            ly = np.log(g[ok] - gmin)
            if np.ptp(lx) == 0:
                continue
            slope = np.polyfit(lx, ly, 1)[0]
            nus.append(-slope)
        if not nus:
            raise ConfigError("DATA", "retention curves need >= 3 readings above g_min at distinct times")
        mu, sd = _folded_normal_mle(np.array(nus))
        fitted.update(drift_nu_mean=mu, drift_nu_std=sd)
        report["retention"] = {"devices": len(nus), "drift_t0": t0, "nu_mean": mu, "nu_std": sd}
    reads = data.get("read", {})
    if reads:
        rel = []
        for _, g in reads.values():
            if g.size >= 2 and np.mean(g) > 0:
                rel.append(np.var(g, ddof=1) / np.mean(g) ** 2)
        if not rel:
            raise ConfigError("DATA", "read experiment needs >= 2 readings per device")
        rn = float(math.sqrt(np.mean(rel)))
        fitted["read_noise"] = rn
        report["read"] = {"devices": len(rel), "read_noise": rn}
    params = base.replace(**fitted)
    report["fitted"] = fitted
    return params, report


def synthetic_dataset(p: DeviceParams, n_devices: int = 64, n_pulses: int | None = None, retention_devices: int = 0,
                      retention_times=(1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0), read_devices: int = 0,
                      n_reads: int = 50, seed: int = 0) -> list[tuple[str, str, float, float]]:
    """Measurement-like rows ``(experiment, device, x, g)`` simulated with :class:`DeviceArray`.

    Trains and retention curves use noise-free reads (the fit's averaged-read assumption); the
    ``read`` experiment uses :meth:`DeviceArray.read`.
    """
    from hwsnn.devices.array import DeviceArray

    rows: list[tuple[str, str, float, float]] = []
    if n_devices:
        P = int(n_pulses or round(1.3 * max(p.p_max, p.p_max_down)))
        for exp, sign, sd in (("ltp", 1, seed), ("ltd", -1, seed + 1)):
            a = DeviceArray(p, (n_devices, 1), seed=sd)
            if exp == "ltd":
                a._gl[a._stuck == 0] = 1.0  # fully set start (an ideal long SET before the RESET train)
            g = a.conductance()[:, 0]
            for d in range(n_devices):
                rows.append((exp, f"d{d}", 0.0, float(g[d])))
            for k in range(1, P + 1):
                a.pulse(sign)
                g = a.conductance()[:, 0]
                for d in range(n_devices):
                    rows.append((exp, f"d{d}", float(k), float(g[d])))
    if retention_devices:
        r = DeviceArray(p, (retention_devices, 1), seed=seed + 2)
        r.pulse(int(round(0.6 * p.p_max)))
        t_prev = 0.0
        for t in (0.0, *retention_times):
            r.advance(t - t_prev)
            t_prev = t
            g = r.conductance()[:, 0]
            for d in range(retention_devices):
                rows.append(("retention", f"r{d}", float(t), float(g[d])))
    if read_devices:
        q = DeviceArray(p, (read_devices, 1), seed=seed + 3)
        q.pulse(int(round(0.5 * p.p_max)))
        for k in range(n_reads):
            g = q.read()[:, 0]
            for d in range(read_devices):
                rows.append(("read", f"q{d}", float(k), float(g[d])))
    return rows


def write_csv(path: str | Path, rows) -> Path:
    """Write rows ``(experiment, device, x, g)`` with the header, atomically."""
    from hwsnn.io import atomic_write

    def _w(tmp: str) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["experiment", "device", "x", "g"])
            for e, d, x, g in rows:
                w.writerow([e, d, repr(float(x)), repr(float(g))])

    return atomic_write(path, _w)
