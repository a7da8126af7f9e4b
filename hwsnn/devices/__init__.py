"""Memristor device physics (docs/devices.md): STO-v0 model, anchor laws, presets, fitting.

>>> from hwsnn.devices import DeviceParams, DeviceArray, get_preset, list_presets
>>> a = DeviceArray(get_preset("sto"), shape=(4, 4), seed=0)
>>> a.pulse(3); a.advance(1.0); g = a.read()

Model (docs/devices.md; every term has an off switch at 0, see :class:`DeviceParams`)::

    G_i(t)   = Gmin_i + (Gmax_i - Gmin_i) * clip(gL_eff(t) + gS_eff(t), 0, 1)
    SET  n:  gL' = B_p - (B_p - gL) exp(-n/A_p)          (NeuroSim law, closed form; == aihwkit SoftBoundsPmax)
    RESET n: mirror image with (A_d, B_d), saturating at Gmin
    noise:   dgL ~ N(dgL_det, (c2c_mult dgL_det)^2 + c2c_add^2 n)   (== dgL (1 + s_m xi1) + s_a sqrt(n) xi2)
    volatile (SET): gS' = s_max - (s_max - gS)(1 - a_s/s_max)^n, times (1 + st_noise xi); decays exp(-dt/tau_i),
             tau_i = st_tau e^{sigma xi} e^{st_kappa bias}; optional consolidation of gS above theta into gL
    drift:   gL_eff(t) = g_rest + (gL - g_rest)(1 + (t - t_w)/t0)^-nu_i, nu_i = |N(mean, std)|, t_w reset on write
    read:    G (1 + read_noise xi) + read_noise_add (Gmax_i - Gmin_i) xi'   (or aihwkit PCM 1/f, ``pcm1f``)
    energy:  V_w^2 (G_before + G_after)/2 t_pw n + V_w^2 C_line n         (NeuroSim)

Time is per device and lazy: drift and decay are closed forms evaluated at read/write events.
Random numbers are counter-based (seed, stream, device index, per-device event counter), so the
result does not depend on thread count or call order.  Anchor laws (``update_model``): aihwkit
ConstantStep, LinearStep, SoftBounds, ExpStep, PowStep in aihwkit's ``w = 2 gL - 1`` coordinate.
"""

from hwsnn.devices.array import DeviceArray
from hwsnn.devices.params import DRIFT_MODELS, READ_NOISE_MODELS, UPDATE_MODELS, DeviceParams, a_to_nl, nl_to_a
from hwsnn.devices.presets import get_preset, list_presets, preset_doc

__all__ = [
    "DeviceParams", "DeviceArray", "get_preset", "list_presets", "preset_doc", "nl_to_a", "a_to_nl",
    "UPDATE_MODELS", "DRIFT_MODELS", "READ_NOISE_MODELS",
]
