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

from hwsnn.devices.params import DeviceParams, a_to_nl, nl_to_a
from hwsnn.errors import ConfigError

__all__ = ["load_csv", "fit_device", "synthetic_dataset", "write_csv", "CSV_HELP"]

CSV_HELP = (
    "CSV header 'experiment,device,x,g'. experiment: ltp (SET train from reset; x = pulses so far, g = S), "
    "ltd (RESET train from full set), retention (x = seconds since programming), read (x = repeat index). "
    "Any subset of experiments may be given."
)

EXPERIMENTS = ("ltp", "ltd", "retention", "read")
_X_MEANS = {"ltp": "pulses so far", "ltd": "pulses so far", "retention": "seconds since programming",
            "read": "repeat index"}


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
            for name, v in (("x", x), ("g", g)):
                if not math.isfinite(v):
                    raise ConfigError(name, f"{path}:{lineno}: must be finite, got {row[name].strip()}")
            if g < 0:
                raise ConfigError("g", f"{path}:{lineno}: a conductance must be >= 0 S, got {row['g'].strip()}")
            if x < 0:
                raise ConfigError("x", f"{path}:{lineno}: must be >= 0 ({_X_MEANS[e]}), got {row['x'].strip()}")
            if e != "retention" and not x.is_integer():
                raise ConfigError("x", f"{path}:{lineno}: must be a whole number ({_X_MEANS[e]}), "
                                       f"got {row['x'].strip()}")
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


# ---------------------------------------------------------------------------------------------
# Fitting the output of `hwsnn device curve` (device_curve.json)
CURVE_NOT_IDENTIFIED = {
    "d2d_step": "each device runs one pulse train and 8 traces are recorded: a device's own step gain is "
                "confounded with its window and nonlinearity (a spread of 8 values is not a distribution)",
    "d2d_nl": "as d2d_step",
    "d2d_tau": "the volatile decay is recorded as a mean over devices only",
    "st_noise": "the volatile increments are recorded as a mean over devices only",
    "read_noise_add": "read noise is recorded for one device at one conductance: multiplicative and additive "
                      "parts are not separable (all of it is reported as read_noise)",
    "drift_t0": "the volatile decay overlaps the drift onset at t ~ t0; t0 is taken from the base",
}
"""DeviceParams fields the curve fit cannot separate, with the reason (reported, taken from the base)."""


def is_curve_json(data) -> bool:
    return isinstance(data, dict) and {"ltp_ltd", "retention", "read_noise", "pulses"} <= set(data)


def load_data(path: str | Path):
    """A fit CSV (:func:`load_csv`) or the ``device_curve.json`` written by ``hwsnn device curve``."""
    import json

    p = Path(path)
    if not p.is_file():
        raise ConfigError("DATA", f"file not found: {path}")
    if p.suffix.lower() != ".json":
        return load_csv(p)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError("DATA", f"{path} is not a valid JSON file ({exc})") from None
    if not is_curve_json(data):
        raise ConfigError("DATA", f"{path} is not the device_curve.json of `hwsnn device curve` "
                                  "(needs pulses, ltp_ltd, retention, read_noise)")
    return data


class _Law:
    """Noise-free mean-device pulse law in the normalised long-term state ``l``."""

    def __init__(self, p: float, nl: float, linear: bool):
        self.linear = linear or nl <= 1e-6
        if self.linear:
            self.step = 1.0 / p
        else:
            a = nl_to_a(nl)
            self.A = a * p
            self.B = 1.0 / (-math.expm1(-1.0 / a))

    def up(self, l: float, m: int = 1) -> float:
        if self.linear:
            x = l + m * self.step
        else:
            x = self.B - (self.B - l) * math.exp(-m / self.A)
        return np.clip(x, 0.0, 1.0)

    def down(self, l: float) -> float:
        if self.linear:
            x = l - self.step
        else:
            x = 1.0 - (self.B - (self.B - (1.0 - l)) * math.exp(-1.0 / self.A))
        return np.clip(x, 0.0, 1.0)


def _curve_model(th: dict, proto: dict):
    """Mean-device prediction of the curve protocol (train, retention, PPF) for parameters ``th``.

    The pulse train is simulated for ``proto["z"].shape[1]`` virtual devices with the fixed
    standard normals ``proto["z"]`` as their cycle-to-cycle noise (``proto["c2c"]``) and averaged:
    noise clipped at the window bounds shifts the mean curve, which a noise-free curve misses.
    """
    lo, w = th["g_min"], th["g_max"] - th["g_min"]
    up = _Law(th["p_max"], th["nl_ltp"], proto["linear"])
    dn = _Law(th["p_max_ltd"], th["nl_ltd"], proto["linear"])
    amp, smax, tau, nu = th["st_amp"], th["st_max"], th["st_tau"], th["nu"]
    t0, rest, dt = proto["t0"], proto["rest"], proto["interval"]
    cm, ca = proto["c2c"]
    z = proto["z"]
    D = (1.0 + dt / t0) ** -nu if (nu > 0 and dt > 0) else 1.0
    r = math.exp(-dt / tau) if amp > 0 else 1.0
    ga = amp / smax if amp > 0 else 0.0
    P = proto["P"]
    l = np.zeros(z.shape[1])
    s = 0.0
    train = [lo + w * min(max(s, 0.0), 1.0)]
    for k in range(2 * P):
        if k:  # the first pulse meets a fresh device (no drift, no volatile state)
            l = rest + (l - rest) * D
            s *= r
        l1 = up.up(l) if k < P else dn.down(l)
        if cm or ca:
            d = l1 - l
            l1 = np.clip(l + d + np.sqrt((cm * d) ** 2 + ca * ca) * z[k], 0.0, 1.0)
        l = l1
        if k < P:
            s = s + (smax - s) * ga
        train.append(lo + w * float(np.mean(np.clip(l + s, 0.0, 1.0))))
    m = proto["m_ret"]
    l0 = up.up(0.0, m)
    s0 = smax * (1.0 - (1.0 - ga) ** m) if amp > 0 else 0.0
    t = proto["t_ret"]
    lt = rest + (l0 - rest) * (1.0 + t / t0) ** -nu if nu > 0 else np.full_like(t, l0)
    ret = lo + w * np.clip(lt + s0 * np.exp(-t / tau), 0.0, 1.0)
    l1 = up.up(0.0)
    a1 = l1 + amp
    ppf = []
    for d in proto["ppf_dt"]:
        dd = (1.0 + d / t0) ** -nu if nu > 0 else 1.0
        l2 = up.up(rest + (l1 - rest) * dd)
        sd = amp * math.exp(-d / tau)
        s2 = sd + (smax - sd) * ga
        ppf.append((min(l2 + s2, 1.0)) / a1 if a1 > 0 else 1.0)
    return np.array(train), ret, np.array(ppf)


def _c2c_from_traces(train_dev: np.ndarray, P: int, w0: float):
    """Cycle-to-cycle noise from the recorded device traces: the change of a device's step from
    one pulse to the next (a smooth per-device difference -- device-to-device spread -- cancels
    in it; the noise of two independent pulses does not).  Steps touching a bound are skipped."""
    res, pred = [], []
    for g in train_dev:
        u = (g - g[0]) / w0
        hi = u.max()
        for seg in (slice(0, P + 1), slice(P, 2 * P + 1)):
            x = u[seg]
            d = np.diff(x)
            ok = (x[1:-1] > 0.02) & (x[1:-1] < hi - 0.02) & (x[:-2] > 0.02) & (x[2:] > 0.02) \
                & (x[:-2] < hi - 0.02) & (x[2:] < hi - 0.02)
            dd = np.diff(d)[ok]
            res.append(dd / math.sqrt(2.0))
            pred.append(np.abs(0.5 * (d[1:] + d[:-1]))[ok])
    res = np.concatenate(res) if res else np.empty(0)
    if res.size < 20:
        return None
    return _noise_mle(res, np.concatenate(pred))


def fit_curve(data: dict, base: DeviceParams | None = None) -> tuple[DeviceParams, dict]:
    """Fit the ``device_curve.json`` of ``hwsnn device curve``; returns (params, report).

    What the curve output determines, and how:

    * ``c2c_mult``, ``c2c_add``: maximum likelihood on the pulse-to-pulse change of each recorded
      device's step (device-to-device differences are smooth along a trace and cancel in it);
    * ``g_min``, ``g_max``, ``p_max``, ``p_max_ltd``, ``nl_ltp``, ``nl_ltd`` and the volatile
      ``st_amp``, ``st_max``, ``st_tau``: least squares of a mean-device model of the whole protocol
      (pulse train with the volatile build-up and decay between pulses and the drift of each
      interval, retention curve, paired-pulse ratios) against the recorded means; the train is
      averaged over virtual devices carrying the fitted cycle-to-cycle noise, because noise
      clipped at the bounds moves the mean curve;
    * ``drift_nu_mean``, ``drift_nu_std``: per-device log-log slopes of the retention readings
      after the volatile part has decayed (t >= 30 st_tau), folded-normal maximum likelihood;
    * ``d2d``: the log-normal spread of the fresh devices' first readings (their own g_min);
    * ``read_noise``: the relative spread of the repeated reads.

    The fields in :data:`CURVE_NOT_IDENTIFIED` (and those a preset's models make meaningless,
    e.g. the volatile shape when there is no volatile part) are reported under
    ``report["not_identified"]`` with the reason and keep the base values.
    """
    from scipy.optimize import least_squares

    base = base if base is not None else DeviceParams()
    if base.update_model not in ("neurosim", "constant"):
        raise ConfigError("--base", f"the curve fit models the neurosim and constant pulse laws, not "
                                    f"{base.update_model!r}; fit CSV pulse trains instead")
    try:
        P = int(data["pulses"])
        interval = float(data.get("interval", 0.1))
        train = np.asarray(data["ltp_ltd"]["g_mean"], float)
        t_ret = np.asarray(data["retention"]["t"], float)
        g_ret = np.asarray(data["retention"]["g_mean"], float)
        ret_dev = np.asarray(data["retention"]["g_devices"], float)
        train_dev = np.asarray(data["ltp_ltd"]["g_devices"], float)
        rn = data["read_noise"]
        ppf_dt = np.asarray(data["ppf"]["dt"], float)
        ppf = np.asarray(data["ppf"]["ppf"], float)
        m_ret = int(data["retention"].get("pulses", round(P / 2)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError("DATA", f"device curve JSON is missing or has a malformed field ({exc})") from None
    if train.size != 2 * P + 1 or P < 3:
        raise ConfigError("DATA", f"ltp_ltd.g_mean must hold 2*pulses+1 = {2 * P + 1} readings, not {train.size}")
    if train_dev.ndim != 2 or train_dev.shape[1] != train.size:
        raise ConfigError("DATA", "ltp_ltd.g_devices must be a list of device traces as long as g_mean")
    linear = base.update_model == "constant"
    lo0 = float(train[0])
    w0 = float(max(train.max(), g_ret.max()) - lo0)
    if not w0 > 0:
        raise ConfigError("DATA", "the LTP train does not raise the conductance")
    fitted: dict = {}
    not_id = dict(CURVE_NOT_IDENTIFIED)
    report: dict = {"input": "device curve", "protocol": {"pulses": P, "interval": interval, "retention_pulses": m_ret}}
    c2c = _c2c_from_traces(train_dev, P, w0)
    if c2c is None:
        not_id["c2c_mult"] = not_id["c2c_add"] = "fewer than 20 recorded steps away from the bounds"
        c2c = (0.0, 0.0)
    else:
        if c2c[0] < 1e-3 and c2c[1] < 1e-4:  # below what 8 traces resolve: no noise
            c2c = (0.0, 0.0)
        fitted.update(c2c_mult=c2c[0], c2c_add=c2c[1])
        report["c2c"] = {"devices": int(train_dev.shape[0]), "c2c_mult": c2c[0], "c2c_add": c2c[1]}
    n_virtual = 32 if (c2c[0] or c2c[1]) else 1
    proto = {"P": P, "interval": interval, "t0": base.drift_t0, "rest": base.drift_g_rest, "linear": linear,
             "m_ret": m_ret, "t_ret": t_ret, "ppf_dt": ppf_dt, "c2c": c2c,
             "z": np.random.default_rng(20240229).standard_normal((2 * P, n_virtual))}
    # starting point: the soft-bounds step regression on the mean train (ignores the volatile part)
    x0 = {"g_min": lo0, "g_max": lo0 + w0, "p_max": P / 1.2, "nl_ltp": 0.0 if linear else 2.0, "p_max_ltd": P / 1.2,
          "nl_ltd": 0.0 if linear else 2.0, "st_amp": 0.01, "st_max": 0.3,
          "st_tau": float(ppf_dt[len(ppf_dt) // 2]) if ppf_dt.size else 1.0, "nu": 0.01}
    x_pulse = np.arange(P + 1, dtype=float)
    for name, seg, mirror in (("ltp", train[:P + 1], False), ("ltd", train[P:], True)):
        try:
            A, _b, _pred, pmax = _fit_law(*_steps({"m": (x_pulse, seg)}, lo0, lo0 + w0, mirror, 0.1))
        except ConfigError:
            continue
        if math.isfinite(pmax) and pmax > 0:
            x0["p_max" if name == "ltp" else "p_max_ltd"] = float(np.clip(pmax, 1.0, 10 * P))
            if not linear and math.isfinite(A):
                x0["nl_ltp" if name == "ltp" else "nl_ltd"] = float(np.clip(a_to_nl(A / pmax), 0.0, 9.0))
            elif not linear:
                x0["nl_ltp" if name == "ltp" else "nl_ltd"] = 0.0
    names = list(x0)
    lb = {"g_min": lo0 - w0, "g_max": lo0, "p_max": 1.0, "nl_ltp": 0.0, "p_max_ltd": 1.0, "nl_ltd": 0.0,
          "st_amp": 0.0, "st_max": 1e-6, "st_tau": 1e-9, "nu": 0.0}
    ub = {"g_min": lo0 + w0, "g_max": lo0 + 3 * w0, "p_max": 1e7, "nl_ltp": 9.9, "p_max_ltd": 1e7, "nl_ltd": 9.9,
          "st_amp": 1.0, "st_max": 10.0, "st_tau": 1e9, "nu": 1.0}

    def solve(fixed, start):
        free = [n for n in names if n not in fixed]

        def resid(u):
            th = dict(start)
            th.update(zip(free, u))
            th["st_max"] = max(th["st_max"], th["st_amp"] + 1e-12)
            tr, rt, pp = _curve_model(th, proto)
            return np.concatenate([(tr - train) / w0, (rt - g_ret) / w0, 0.1 * (pp - ppf)])

        u0 = [float(np.clip(start[n], lb[n], ub[n])) for n in free]
        sol = least_squares(resid, u0, bounds=([lb[n] for n in free], [ub[n] for n in free]),
                            x_scale=[w0 if n in ("g_min", "g_max") else max(abs(start[n]), 1e-2) for n in free],
                            xtol=1e-10, ftol=1e-12, max_nfev=300)
        v = dict(start)
        v.update(zip(free, sol.x))
        return v, sol

    n_dev = int(data.get("devices", 32))
    walk = c2c[1] * math.sqrt(P) / math.sqrt(max(n_dev, 1))
    if walk > 0.04:
        # the recorded mean is an average of n_dev random walks: their spread over one train, in
        # window units, is c2c_add sqrt(P) / sqrt(n_dev) -- beyond 4 % the curve's shape (law and
        # volatile part) is not determined well enough to report (the STO preset: 0.02, NeuroSim AgSi: 0.07)
        why = (f"cycle-to-cycle noise dominates the recorded mean curve (c2c_add sqrt(P / devices) = {walk:.3f} "
               f"of the window); record more devices (`device curve --devices`) or fit CSV pulse trains")
        for k in ("p_max", "p_max_ltd", "nl_ltp", "nl_ltd", "st_amp", "st_max", "st_tau"):
            not_id[k] = why
        fitted.update(g_min=max(lo0, 0.0), g_max=float(np.mean(train_dev.max(axis=1))) if train_dev.size else lo0 + w0)
        return _finish_curve_fit(base, data, fitted, not_id, report, ret_dev, t_ret, train_dev, rn, {"nu": 0.0})
    fixed = {"nl_ltp", "nl_ltd"} if linear else set()
    v, sol = solve(fixed, x0)
    if v["st_amp"] < 1e-3:
        # no volatile component: its amplitude is 0, its saturation and time constant do not show
        v, sol = solve(fixed | {"st_amp", "st_max", "st_tau"},
                       {**v, "st_amp": 0.0, "st_max": base.st_max, "st_tau": base.st_tau})
        not_id["st_max"] = not_id["st_tau"] = "no volatile component in the data (st_amp fits 0)"
    report["model_residual_rms"] = float(np.sqrt(np.mean(sol.fun ** 2)))
    fitted.update(g_min=max(v["g_min"], 0.0), g_max=v["g_max"], p_max=v["p_max"], st_amp=v["st_amp"])
    fitted["p_max_ltd"] = 0.0 if abs(v["p_max_ltd"] / v["p_max"] - 1) < 0.01 else v["p_max_ltd"]
    if linear:
        not_id["nl_ltp"] = not_id["nl_ltd"] = f"the {base.update_model!r} law has no nonlinearity"
    else:
        fitted.update(nl_ltp=v["nl_ltp"], nl_ltd=v["nl_ltd"])
    if "st_tau" not in not_id:
        fitted.update(st_max=max(v["st_max"], v["st_amp"]), st_tau=v["st_tau"])
    return _finish_curve_fit(base, data, fitted, not_id, report, ret_dev, t_ret, train_dev, rn, v)


def _finish_curve_fit(base, data, fitted, not_id, report, ret_dev, t_ret, train_dev, rn, v):
    """Drift, window spread and read noise of :func:`fit_curve` (independent of the law fit)."""
    # drift: per-device log-log slopes of the retention readings once the volatile part has decayed
    late = t_ret >= 30.0 * fitted.get("st_tau", base.st_tau)
    nus = []
    for g in ret_dev:
        ok = late & (g > fitted["g_min"]) & (t_ret > 0)
        if ok.sum() >= 3:
            nus.append(-np.polyfit(np.log1p(t_ret[ok] / base.drift_t0), np.log(g[ok] - fitted["g_min"]), 1)[0])
    if base.drift_model == "pcm":
        not_id["drift_nu_mean"] = not_id["drift_nu_std"] = (
            "the pcm drift model draws each device's exponent from fixed state-dependent statistics; "
            "the measured mean exponent is in the report")
        report["retention"] = {"devices": len(nus), "nu_mean_measured": float(np.mean(np.abs(nus))) if nus else None}
    elif nus:
        mu, sd = _folded_normal_mle(np.array(nus))
        if mu < 1e-6:
            mu = sd = 0.0
        fitted.update(drift_nu_mean=mu, drift_nu_std=sd)
        report["retention"] = {"devices": len(nus), "from_t": float(t_ret[late][0]) if late.any() else None,
                               "nu_mean": mu, "nu_std": sd, "nu_mean_curve": v["nu"]}
    # device-to-device window spread: the fresh devices' first readings are their own g_min
    g_first = train_dev[:, 0]
    if g_first.size >= 2 and np.all(g_first > 0):
        fitted["d2d"] = float(np.std(np.log(g_first), ddof=1))
        report["d2d"] = {"devices": int(g_first.size), "from": "log-normal spread of the fresh devices' g_min"}
    else:
        not_id["d2d"] = "g_min is 0 (or fewer than 2 device traces): the window spread does not show"
    if base.read_noise_model == "normal":
        fitted["read_noise"] = float(rn["rel_std"])
    else:
        not_id["read_noise"] = f"the {base.read_noise_model!r} read noise depends on the read history"
    for k in fitted:
        not_id.pop(k, None)
    report["fitted"] = fitted
    report["not_identified"] = not_id
    return base.replace(**fitted), report
