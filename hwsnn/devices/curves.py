"""Characteristic curves of a parameter set: LTP/LTD, drift/relaxation, read noise, PPF."""

from __future__ import annotations

import numpy as np

from hwsnn.devices.array import DeviceArray
from hwsnn.devices.params import DeviceParams

__all__ = ["curve_data", "plot_curves"]


def curve_data(p: DeviceParams, seed: int = 0, devices: int = 32, reads: int = 2000, interval: float = 0.1) -> dict:
    """Simulate the standard characterisation protocol; all conductances in siemens.

    * ``ltp_ltd``: ``P = ceil(1.2 p_max)`` single SET pulses then ``P`` single RESET pulses on
      ``devices`` fresh devices, ``interval`` seconds apart (noise-free reads; the volatile part
      decays between pulses).
    * ``retention``: the devices programmed with ``pulses = round(0.6 p_max)`` SET pulses (one
      write), read at log-spaced times (volatile decay at short times, drift at long times).
    * ``read_noise``: ``reads`` readings of one device programmed to mid-window.
    * ``ppf``: paired single pulses ``dt`` apart; ``A2/A1`` with amplitudes above the initial
      baseline, right after each pulse (mean over devices).

    ``g_devices`` hold the first 8 devices' traces; ``hwsnn device fit`` reads this output.
    """
    P = int(np.ceil(1.2 * max(p.p_max, p.p_max_down)))
    a = DeviceArray(p, (devices, 1), seed=seed)
    traj = [a.conductance()[:, 0]]
    for s in [1] * P + [-1] * P:
        a.advance(interval)
        a.pulse(s)
        traj.append(a.conductance()[:, 0])
    traj = np.array(traj)  # (2P+1, devices)
    b = DeviceArray(p, (devices, 1), seed=seed + 1)
    m_ret = int(round(0.6 * p.p_max))
    b.pulse(m_ret)
    times = np.concatenate([[0.0], np.logspace(-3, 6, 46)])
    ret = []
    for t in times:
        b.advance(t - b.time)
        ret.append(b.conductance()[:, 0])
    ret = np.array(ret)
    c = DeviceArray(p, (1, 1), seed=seed + 2)
    c.pulse(int(round(0.5 * p.p_max)))
    rd = np.array([c.read()[0, 0] for _ in range(reads)])
    g_true = float(c.conductance()[0, 0])
    dts = np.logspace(-2, 2, 17) * p.st_tau
    ppf = []
    for dt in dts:
        d = DeviceArray(p, (devices, 1), seed=seed + 3)
        g0 = d.conductance()[:, 0]
        d.pulse(1)
        a1 = d.conductance()[:, 0] - g0
        d.advance(float(dt))
        d.pulse(1)
        a2 = d.conductance()[:, 0] - g0
        ok = a1 > 0
        ppf.append(float(np.mean(a2[ok] / a1[ok])) if ok.any() else 1.0)
    return {
        "pulses": P,
        "interval": interval,
        "devices": devices,
        "ltp_ltd": {"pulse": np.arange(2 * P + 1).tolist(), "g_mean": traj.mean(1).tolist(), "g_devices": traj[:, :8].T.tolist()},
        "retention": {"pulses": m_ret, "t": times.tolist(), "g_mean": ret.mean(1).tolist(), "g_devices": ret[:, :8].T.tolist()},
        "read_noise": {"g_true": g_true, "reads": rd.tolist(), "rel_std": float(np.std(rd, ddof=1) / g_true) if g_true > 0 else 0.0},
        "ppf": {"dt": dts.tolist(), "ppf": ppf},
    }


def plot_curves(data: dict, title: str = ""):
    """2x2 figure of :func:`curve_data` output."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(10, 7.5))
    ll = data["ltp_ltd"]
    for tr in ll["g_devices"]:
        ax[0, 0].plot(ll["pulse"], np.array(tr) * 1e9, lw=0.6, alpha=0.5)
    ax[0, 0].plot(ll["pulse"], np.array(ll["g_mean"]) * 1e9, "k", lw=2, label="mean")
    ax[0, 0].axvline(data["pulses"], color="grey", ls=":")
    ax[0, 0].set(xlabel="pulse number (SET then RESET)", ylabel="G (nS)", title="LTP / LTD")
    ax[0, 0].legend()
    rt = data["retention"]
    t = np.array(rt["t"][1:])
    for tr in rt["g_devices"]:
        ax[0, 1].semilogx(t, np.array(tr[1:]) * 1e9, lw=0.6, alpha=0.5)
    ax[0, 1].semilogx(t, np.array(rt["g_mean"][1:]) * 1e9, "k", lw=2)
    ax[0, 1].set(xlabel="time since programming (s)", ylabel="G (nS)", title="relaxation (volatile) + drift")
    rn = data["read_noise"]
    ax[1, 0].hist(np.array(rn["reads"]) * 1e9, bins=50, color="tab:blue", alpha=0.8)
    ax[1, 0].axvline(rn["g_true"] * 1e9, color="k")
    ax[1, 0].set(xlabel="read G (nS)", ylabel="count", title=f"read noise (rel. std {rn['rel_std']:.3g})")
    pp = data["ppf"]
    ax[1, 1].semilogx(pp["dt"], pp["ppf"], "o-")
    ax[1, 1].set(xlabel="pulse interval (s)", ylabel="A2 / A1", title="paired-pulse facilitation")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
