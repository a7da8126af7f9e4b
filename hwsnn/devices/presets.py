"""Named parameter sets, each named after its source (the source is in its docstring).

``get_preset(name)`` returns a frozen :class:`DeviceParams`; make variants with
``dataclasses.replace(p, ...)`` or ``p.replace(...)``.
"""

from __future__ import annotations

from typing import Callable

from hwsnn.devices.params import DeviceParams, a_to_nl
from hwsnn.errors import ConfigError

__all__ = ["get_preset", "list_presets", "preset_doc"]


def _sto() -> DeviceParams:
    """STO-v0: SrTiO3-like interface-type, low-conductance memristor with volatile state.

    Source: the project's STO-v0 specification, docs/devices.md (Weilenmann et al., Nat. Commun. 2024,
    arXiv 2402.16628 for the qualitative behaviour).  Values marked [CAL] are placeholders
    awaiting calibration: window 3-40 nS, P_max 100, NL 2/2, c2c 0.1 mult + 0.01 add, d2d 0.1,
    volatile a_s 0.02 / tau 3 s / s_max 0.5, drift nu 0.02 +- 0.01 toward g_min, read noise 1 %.
    """
    return DeviceParams()


def _ideal() -> DeviceParams:
    """Ideal device: linear 100-level response, no noise, no spread, no drift, no volatile state.

    Source: none (reference point for ablations).
    """
    return DeviceParams(
        nl_ltp=0.0, nl_ltd=0.0, c2c_mult=0.0, c2c_add=0.0, d2d=0.0, st_amp=0.0, drift_nu_mean=0.0,
        drift_nu_std=0.0, read_noise=0.0,
    )


def _neurosim_agsi() -> DeviceParams:
    """NeuroSim default RealDevice, Ag:a-Si (MLP_NeuroSim V3.0 ``Cell.cpp``).

    Source: NeuroSim ``Cell.cpp`` (RealDevice defaults): Gmin 3.0769e-9 S, Gmax 3.8462e-8 S, maxNumLevelLTP/LTD 97/100,
    NL_LTP 2.4, NL_LTD -4.88 (mirror curve; written 4.88 here), sigma_CtoC 0.035 of the range per
    sqrt(pulse), sigmaDtoD 0, read noise off, 3.2 V / 300 us write pulses.
    """
    return DeviceParams(
        g_min=3.0769e-9, g_max=3.8462e-8, p_max=97.0, p_max_ltd=100.0, nl_ltp=2.4, nl_ltd=4.88, c2c_mult=0.0,
        c2c_add=0.035, d2d=0.0, st_amp=0.0, drift_nu_mean=0.0, drift_nu_std=0.0, read_noise=0.0,
        write_voltage=3.2, pulse_width=300e-6,
    )


def _aihwkit_pcm() -> DeviceParams:
    """aihwkit PCMLikeNoiseModel (Nandakumar et al. 2019): PCM-like drift and 1/f read noise.

    Source: ``aihwkit/inference/noise/pcm.py``: g_max 25 uS (g_min 0),
    drift ``g (t/t_0)^-nu`` with ``t = t_inf + t_0``, t_0 = 20 s, nu ~ |N(mu(g_T), sd(g_T))|
    clipped PCM statistics; read noise ``G Q_s sqrt(ln((t + t_read)/(2 t_read)))``, t_read 250 ns.
    Programming is pulsed with a constant step (aihwkit's programming-noise polynomial is not
    modelled; program with write-verify).
    """
    return DeviceParams(
        g_min=0.0, g_max=25e-6, update_model="constant", p_max=100.0, nl_ltp=0.0, nl_ltd=0.0, c2c_mult=0.0,
        c2c_add=0.0, d2d=0.0, st_amp=0.0, drift_model="pcm", drift_nu_mean=0.049, drift_nu_std=0.008,
        drift_t0=20.0, read_noise_model="pcm1f", read_noise=1.0, t_read=250e-9,
    )


def _aihwkit_softbounds_pmax() -> DeviceParams:
    """aihwkit SoftBoundsPmaxDevice defaults (== NeuroSim exponential law).

    Source: aihwkit ``SoftBoundsPmaxDevice`` / ``PulsedDevice`` defaults: p_max 1000, alpha 0.0005
    (A = 1/alpha = 2000 pulses, A/P_max = 2),
    PulsedDevice defaults dw_min_std 0.3 (c2c), dtod 0.3 (bounds and step), read noise off.
    """
    nl = a_to_nl(2.0)
    return DeviceParams(
        g_min=0.0, g_max=1.0, p_max=1000.0, nl_ltp=nl, nl_ltd=nl, c2c_mult=0.3, c2c_add=0.0, d2d=0.3, d2d_nl=0.0,
        st_amp=0.0, drift_nu_mean=0.0, drift_nu_std=0.0, read_noise=0.0,
    )


_PRESETS: dict[str, Callable[[], DeviceParams]] = {
    "sto": _sto,
    "ideal": _ideal,
    "neurosim_agsi": _neurosim_agsi,
    "aihwkit_pcm": _aihwkit_pcm,
    "aihwkit_softbounds_pmax": _aihwkit_softbounds_pmax,
}


def list_presets() -> list[str]:
    """Names accepted by :func:`get_preset`."""
    return list(_PRESETS)


def get_preset(name: str) -> DeviceParams:
    """The parameter set called ``name``; unknown names raise ConfigError("preset", ...)."""
    try:
        return _PRESETS[name]()
    except KeyError:
        raise ConfigError("preset", f"unknown preset {name!r}; known: {', '.join(_PRESETS)}") from None


def preset_doc(name: str) -> str:
    """The docstring (source) of preset ``name``."""
    get_preset(name)
    return (_PRESETS[name].__doc__ or "").strip()
