"""Device physics parameters ("STO-v0" and the anchor laws; see docs/devices.md).

:class:`DeviceParams` is a frozen dataclass: one set of physical parameters shared by every
device of an array (device-to-device spread is drawn from it at construction).  Every effect has
a parameter whose value 0 switches it off exactly.  Construction validates every field and raises
:class:`hwsnn.errors.ConfigError` naming the offending field.

Internal state is normalised: the long-term state ``gL`` and the volatile state ``gS`` are
fractions of each device's own window, and a device's conductance is
``G = Gmin_i + (Gmax_i - Gmin_i) * clip(gL_eff(t) + gS_eff(t), 0, 1)``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, fields
from pathlib import Path

from hwsnn.errors import ConfigError

__all__ = ["DeviceParams", "UPDATE_MODELS", "DRIFT_MODELS", "READ_NOISE_MODELS", "nl_to_a", "a_to_nl"]

G_LIMIT = 1.0
"""Largest accepted conductance in siemens (1 ohm): a larger ``g_max`` is a unit mistake, not a device."""

UPDATE_MODELS = ("neurosim", "constant", "linear", "softbounds", "exp", "pow")
"""Pulse-response laws.  ``neurosim`` is the STO-v0 / NeuroSim exponential law (closed form,
== aihwkit SoftBoundsPmax); the others are the aihwkit per-pulse laws in aihwkit's weight
coordinate ``w = 2*gL - 1`` on ``[-1, 1]`` (ConstantStep, LinearStep, SoftBounds, ExpStep, PowStep)."""

DRIFT_MODELS = ("power", "pcm")
"""``power``: relaxation toward ``drift_g_rest`` with a per-device exponent fixed at construction.
``pcm``: aihwkit PCMLikeNoiseModel drift, exponent drawn from the state-dependent PCM statistics
at every write."""

READ_NOISE_MODELS = ("normal", "pcm1f")
"""``normal``: ``G*(1 + read_noise*xi) + read_noise_add*(g_max-g_min)*xi'``.  ``pcm1f``: aihwkit PCM
accumulated 1/f noise ``G*Q_s*sqrt(ln((t+t_read)/(2 t_read)))`` scaled by ``read_noise``."""


def _dev_max(a: float) -> float:
    """Largest deviation of the normalised NeuroSim curve from the straight line.

    ``g(p) = (1 - exp(-p/a)) / (1 - exp(-1/a))`` on ``p in [0, 1]``; its slope equals 1 at
    ``p* = -a ln(a (1 - exp(-1/a)))``.
    """
    e = -math.expm1(-1.0 / a)
    p = -a * math.log(a * e)
    p = min(max(p, 0.0), 1.0)
    return -math.expm1(-p / a) / e - p


def nl_to_a(nl: float) -> float:
    """NeuroSim nonlinearity label -> normalised ``A/Pmax`` (``inf`` for ``nl == 0``: linear).

    NeuroSim's ``getParamA`` table is reproduced (within ~1 %) by the rule
    ``NL = 10 * max_p |g(p) - p|`` (docs/devices.md, section Pulse response); we invert that rule by bisection
    so that the label is defined for any ``nl >= 0`` without copying the table.
    """
    nl = abs(float(nl))
    if nl == 0.0:
        return math.inf
    target = nl / 10.0
    if target >= 0.999:
        return 1e-6
    lo, hi = math.log(1e-6), math.log(1e6)  # deviation decreases with a
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _dev_max(math.exp(mid)) > target:
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi))


def a_to_nl(a: float) -> float:
    """Inverse of :func:`nl_to_a` (``inf`` -> 0)."""
    if not math.isfinite(a):
        return 0.0
    return 10.0 * _dev_max(a)


@dataclass(frozen=True, kw_only=True)
class DeviceParams:
    """Physical parameters of one memristor technology (STO-v0 by default).

    Defaults are the STO-v0 specification (docs/devices.md); values marked [CAL] are
    placeholders awaiting calibration.  Normalised quantities are fractions of a device's window
    ``g_max - g_min``.
    """

    # -- (1) window ---------------------------------------------------------------------------
    g_min: float = 3e-9
    """Minimum (fully reset) conductance in siemens [CAL]."""
    g_max: float = 40e-9
    """Maximum (fully set) conductance in siemens [CAL]; must be > ``g_min``."""

    # -- (2) pulse response -------------------------------------------------------------------
    update_model: str = "neurosim"
    """Pulse-response law, one of :data:`UPDATE_MODELS`."""
    p_max: float = 100.0
    """Pulses from ``g_min`` to ``g_max`` (SET direction)."""
    p_max_ltd: float = 0.0
    """Pulses from ``g_max`` to ``g_min`` (RESET direction); 0 means "same as ``p_max``"."""
    nl_ltp: float = 2.0
    """NeuroSim nonlinearity label of potentiation (0 = linear) [CAL]."""
    nl_ltd: float = 2.0
    """NeuroSim nonlinearity label of depression; the curve is the mirror image, saturating at
    ``g_min`` (NeuroSim writes this as a negative label) [CAL]."""
    law_gamma_up: float = 1.0
    """aihwkit ``gamma_up`` (LinearStep slope, PowStep exponent) for ``linear``/``pow``."""
    law_gamma_down: float = 1.0
    """aihwkit ``gamma_down`` for ``linear``/``pow``."""
    exp_A_up: float = 0.00081
    """aihwkit ExpStep ``A_up``."""
    exp_A_down: float = 0.36833
    """aihwkit ExpStep ``A_down``."""
    exp_gamma_up: float = 12.44625
    """aihwkit ExpStep ``gamma_up``."""
    exp_gamma_down: float = 12.78785
    """aihwkit ExpStep ``gamma_down``."""
    exp_a: float = 0.244
    """aihwkit ExpStep ``a``."""
    exp_b: float = 0.2425
    """aihwkit ExpStep ``b``."""
    levels: int = 0
    """Number of distinguishable long-term levels (0 = continuous); the state is rounded to the
    nearest level after every write."""

    # -- (3) cycle-to-cycle noise -------------------------------------------------------------
    c2c_mult: float = 0.1
    """Multiplicative write noise: the event's step is scaled by ``1 + c2c_mult*xi`` [CAL]."""
    c2c_add: float = 0.01
    """Additive write noise per sqrt(pulse), normalised (NeuroSim sigma_CtoC) [CAL]."""

    # -- device-to-device ---------------------------------------------------------------------
    d2d: float = 0.1
    """Master device-to-device spread (0 removes all of it: window, step, nonlinearity, volatile
    time constant).  Log-normal sigma of the window bounds; the other spreads are this times the
    ``d2d_*`` factors.  The per-device drift exponent has its own spread, ``drift_nu_std``."""
    d2d_step: float = 1.0
    """Factor: log-normal sigma of the per-device step gain is ``d2d*d2d_step``."""
    d2d_nl: float = 2.0
    """Factor: sigma of the per-device NL label is ``d2d*d2d_nl`` (0.2 at defaults)."""
    d2d_tau: float = 2.0
    """Factor: log-normal sigma of the per-device ``st_tau`` is ``d2d*d2d_tau``."""

    # -- (4) short-term (volatile) state ------------------------------------------------------
    st_amp: float = 0.02
    """Volatile increment per SET pulse (normalised); 0 removes the volatile state [CAL]."""
    st_tau: float = 3.0
    """Volatile decay time constant at zero bias, seconds [CAL]."""
    st_max: float = 0.5
    """Saturation of the volatile state (soft bound), normalised [CAL]."""
    st_noise: float = 0.05
    """Relative cycle-to-cycle noise of the volatile increment [CAL]."""
    st_kappa: float = 0.0
    """Meta-plasticity: ``tau = st_tau * exp(st_kappa * bias)``, 1/V."""
    st_bias: float = 0.0
    """Default bias voltage for the meta-plastic time constant, V."""
    consol_rate: float = 0.0
    """Consolidation: fraction of ``gS - consol_theta`` moved into the long-term state per SET
    event (0 = off)."""
    consol_theta: float = 0.1
    """Consolidation threshold on the volatile state (normalised)."""

    # -- (5) drift / relaxation ---------------------------------------------------------------
    drift_model: str = "power"
    """Drift law, one of :data:`DRIFT_MODELS`."""
    drift_nu_mean: float = 0.02
    """Mean drift exponent ``nu`` [CAL]."""
    drift_nu_std: float = 0.01
    """Device-to-device std of ``nu`` (``nu_i = |N(mean, std)|``) [CAL]."""
    drift_t0: float = 1.0
    """Drift time scale ``t0`` in seconds: ``(1 + (t - t_w)/t0)**-nu``."""
    drift_g_rest: float = 0.0
    """Normalised state the long-term part relaxes toward (0 = ``g_min``, HRS)."""

    # -- (6) read noise -----------------------------------------------------------------------
    read_noise_model: str = "normal"
    """Read-noise law, one of :data:`READ_NOISE_MODELS`."""
    read_noise: float = 0.01
    """Relative (multiplicative) read noise sigma; scale of the ``pcm1f`` noise."""
    read_noise_add: float = 0.0
    """Additive read noise sigma, normalised to ``g_max - g_min``."""
    t_read: float = 250e-9
    """Read duration of the ``pcm1f`` model, seconds (aihwkit default 250 ns)."""

    # -- (8) faults ---------------------------------------------------------------------------
    p_stuck_min: float = 0.0
    """Probability a device is stuck at its minimum conductance."""
    p_stuck_max: float = 0.0
    """Probability a device is stuck at its maximum conductance."""
    p_stuck_random: float = 0.0
    """Probability a device is stuck at a uniformly random conductance in its window."""

    # -- (9) write energy ---------------------------------------------------------------------
    write_voltage: float = 2.0
    """Write pulse amplitude V_w in volts [CAL]."""
    pulse_width: float = 1e-6
    """Write pulse width t_pw in seconds [CAL]."""
    line_cap: float = 0.0
    """Line capacitance charged per pulse, farads [CAL] (NeuroSim ``V_w^2 C`` term)."""

    # ------------------------------------------------------------------------------------------
    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type in ("float", float):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ConfigError(f.name, f"must be a number, not {v!r}")
                if not math.isfinite(float(v)):
                    raise ConfigError(f.name, f"must be finite, not {v!r}")
                object.__setattr__(self, f.name, float(v))
        if self.update_model not in UPDATE_MODELS:
            raise ConfigError("update_model", f"unknown law {self.update_model!r}; choose from {UPDATE_MODELS}")
        if self.drift_model not in DRIFT_MODELS:
            raise ConfigError("drift_model", f"unknown law {self.drift_model!r}; choose from {DRIFT_MODELS}")
        if self.read_noise_model not in READ_NOISE_MODELS:
            raise ConfigError(
                "read_noise_model", f"unknown law {self.read_noise_model!r}; choose from {READ_NOISE_MODELS}"
            )
        if self.g_min < 0:
            raise ConfigError("g_min", f"must be >= 0 S, not {self.g_min}")
        if self.g_max > G_LIMIT:
            raise ConfigError("g_max", f"must be <= {G_LIMIT:g} S (a resistance of at least 1 ohm), not {self.g_max}")
        if not self.g_min < self.g_max:
            raise ConfigError("g_min", f"must be < g_max (got g_min={self.g_min}, g_max={self.g_max})")
        if self.p_max <= 0:
            raise ConfigError("p_max", f"must be > 0 pulses, not {self.p_max}")
        if self.p_max_ltd < 0:
            raise ConfigError("p_max_ltd", f"must be >= 0 (0 = same as p_max), not {self.p_max_ltd}")
        if isinstance(self.levels, bool) or not isinstance(self.levels, int) or self.levels < 0 or self.levels == 1:
            raise ConfigError("levels", f"must be 0 (continuous) or an integer >= 2, not {self.levels!r}")
        nonneg = [
            "nl_ltp", "nl_ltd", "law_gamma_up", "law_gamma_down", "exp_A_up", "exp_A_down", "exp_gamma_up",
            "exp_gamma_down", "c2c_mult", "c2c_add", "d2d", "d2d_step", "d2d_nl", "d2d_tau", "st_amp", "st_noise",
            "consol_rate", "consol_theta", "drift_nu_mean", "drift_nu_std", "read_noise", "read_noise_add",
            "p_stuck_min", "p_stuck_max", "p_stuck_random", "write_voltage", "pulse_width", "line_cap",
        ]
        for name in nonneg:
            if getattr(self, name) < 0:
                raise ConfigError(name, f"must be >= 0, not {getattr(self, name)}")
        for name in ["st_tau", "drift_t0", "t_read"]:
            if getattr(self, name) <= 0:
                raise ConfigError(name, f"must be > 0 s, not {getattr(self, name)}")
        if self.st_max <= 0:
            raise ConfigError("st_max", f"must be > 0, not {self.st_max}")
        if self.st_amp > self.st_max:
            raise ConfigError("st_amp", f"must be <= st_max ({self.st_max}), not {self.st_amp}")
        if self.consol_rate > 1:
            raise ConfigError("consol_rate", f"must be in [0, 1], not {self.consol_rate}")
        if not 0.0 <= self.drift_g_rest <= 1.0:
            raise ConfigError("drift_g_rest", f"must be in [0, 1], not {self.drift_g_rest}")
        for name in ["nl_ltp", "nl_ltd"]:
            if getattr(self, name) >= 9.99:
                raise ConfigError(name, f"must be < 9.99 (NeuroSim label range), not {getattr(self, name)}")
        ps = self.p_stuck_min + self.p_stuck_max + self.p_stuck_random
        if ps > 1:
            raise ConfigError("p_stuck_min", f"p_stuck_min + p_stuck_max + p_stuck_random must be <= 1, not {ps}")
        if self.update_model == "exp" and self.exp_a * 2 > 1e6:
            raise ConfigError("exp_a", "is unreasonably large")

    # -- derived ------------------------------------------------------------------------------
    @property
    def p_max_down(self) -> float:
        """Pulses for a full RESET sweep (``p_max_ltd`` or ``p_max``)."""
        return self.p_max_ltd if self.p_max_ltd > 0 else self.p_max

    def replace(self, **changes) -> "DeviceParams":
        """``dataclasses.replace`` (validated)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """All fields as a plain dict (JSON-ready)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict, base: "DeviceParams | None" = None) -> "DeviceParams":
        """Build from a dict of field values; fields not given come from ``base`` (or defaults).

        A ``{"params": {...}}`` wrapper is accepted.  Unknown keys raise ConfigError naming them.
        """
        if not isinstance(d, dict):
            raise ConfigError("params", "must be a JSON object of DeviceParams fields")
        if "params" in d and isinstance(d["params"], dict):
            d = d["params"]
        names = {f.name for f in fields(cls)}
        for k in d:
            if k not in names:
                raise ConfigError(k, f"unknown device parameter; known: {', '.join(sorted(names))}")
        base = base if base is not None else cls()
        return dataclasses.replace(base, **d)

    @classmethod
    def from_json(cls, path: str | Path) -> "DeviceParams":
        """Load a parameter file written by ``hwsnn device fit`` (or by hand)."""
        p = Path(path)
        if not p.is_file():
            raise ConfigError("params", f"file not found: {path}")
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError("params", f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
        return cls.from_dict(data)
