"""Crossbar configuration: weight mapping, periphery (DAC/ADC/noise/IR drop) and update scheme.

Device physics lives in :class:`hwsnn.devices.DeviceParams`; the three dataclasses here hold
everything else, kept apart in the aihwkit manner (``MappingConfig`` ~ the weight/unit-cell
choice, ``IOConfig`` ~ ``IOParameters``, ``UpdateConfig`` ~ ``UpdateParameters``) and composed by
:class:`CrossbarConfig`.  All are frozen and validated on construction: a bad value raises
:class:`hwsnn.errors.ConfigError` whose ``field`` is the dotted path (``"io.adc_bits"``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields

from hwsnn.errors import ConfigError

__all__ = ["MappingConfig", "IOConfig", "UpdateConfig", "CrossbarConfig", "SCHEMES", "ADC_CLIP_MODES",
           "READ_NOISE_MODES", "DEPRESS_MODES", "PULSE_SCHEMES"]

SCHEMES = ("differential", "reference")
"""Weight -> conductance schemes: a ``G+ - G-`` pair per weight, or one device per weight against a
per-row reference device in an extra column."""
ADC_CLIP_MODES = ("saturate", "none")
"""``saturate``: codes are clamped to ``[0, 2**adc_bits - 1]``; ``none``: only the step is applied
(an unbounded counting ADC), for studying quantisation without clipping."""
READ_NOISE_MODES = ("column", "device")
"""``column``: one Gaussian per column current with the exact summed variance; ``device``: one draw
per device read (``DeviceArray.read``)."""
DEPRESS_MODES = ("reset_plus", "set_minus")
"""Differential depression: RESET the active device (``G+`` for a positive weight), or SET the
partner device."""
PULSE_SCHEMES = ("row", "column")
"""Row-parallel (one word line at a time, all its columns together) or column-parallel programming."""


def _num(section: str, name: str, v, *, lo=None, lo_open=False, hi=None):
    field = f"{section}.{name}"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(field, f"must be a number, not {v!r}")
    v = float(v)
    if not math.isfinite(v):
        raise ConfigError(field, f"must be finite, not {v!r}")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ConfigError(field, f"must be {'>' if lo_open else '>='} {lo}, not {v}")
    if hi is not None and v > hi:
        raise ConfigError(field, f"must be <= {hi}, not {v}")
    return v


def _int(section: str, name: str, v, *, lo: int, allow_none: bool = False):
    field = f"{section}.{name}"
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ConfigError(field, f"must be an integer >= {lo}{' or None' if allow_none else ''}, not {v!r}")
    return int(v)


def _choice(section: str, name: str, v, options):
    if v not in options:
        raise ConfigError(f"{section}.{name}", f"must be one of {options}, not {v!r}")
    return v


@dataclass(frozen=True, kw_only=True)
class MappingConfig:
    """How a weight is stored as conductances."""

    scheme: str = "differential"
    """One of :data:`SCHEMES`.  ``differential``: ``w = w_scale*(G+ - G-)/(g_max - g_min)`` with
    ``w_scale = max(|w_min|, |w_max|)``; ``reference``: ``w = (w_max - w_min)*(G - G_ref)/(g_max - g_min)``
    with one reference device per row at the conductance of ``w = 0``."""
    w_min: float = 0.0
    """Lowest weight (must be <= 0 so that ``w = 0`` is representable)."""
    w_max: float = 1.0
    """Highest weight (must be >= 0 and > ``w_min``)."""
    levels: int | None = None
    """Target weights are quantised to this many equally spaced values on ``[w_min, w_max]`` before
    programming (None = no quantisation)."""

    def __post_init__(self):
        s = "mapping"
        _choice(s, "scheme", self.scheme, SCHEMES)
        object.__setattr__(self, "w_min", _num(s, "w_min", self.w_min, hi=0.0))
        object.__setattr__(self, "w_max", _num(s, "w_max", self.w_max, lo=0.0))
        if not self.w_min < self.w_max:
            raise ConfigError("mapping.w_max", f"must be > w_min ({self.w_min}), not {self.w_max}")
        _int(s, "levels", self.levels, lo=2, allow_none=True)

    @property
    def w_span(self) -> float:
        """Weight change of one device swept across its whole window."""
        if self.scheme == "differential":
            return max(abs(self.w_min), abs(self.w_max))
        return self.w_max - self.w_min


@dataclass(frozen=True, kw_only=True)
class IOConfig:
    """Read periphery: DAC, read voltage, read noise, IR drop, ADC.  Outputs are in weight units
    (``sum_i w_ij x_i``), so ranges below are in weight units too."""

    dac_bits: int = 1
    """Input DAC resolution; 1 = binary spike input (``x`` in {0, 1}).  Inputs in [0, 1] are rounded
    to ``k/(2**dac_bits - 1)``."""
    v_read: float = 0.1
    """Read voltage for ``x = 1`` in volts (linear device I-V)."""
    read_noise: str = "column"
    """One of :data:`READ_NOISE_MODES`.  ``column`` is exact for the device's Gaussian (``normal``)
    read noise without IR drop (a sum of independent Gaussians is Gaussian with the summed
    variance); otherwise per-device draws are used automatically."""
    out_noise: float = 0.0
    """Std of additive Gaussian noise on each column output (weight units), before the ADC."""
    adc_bits: int | None = None
    """ADC resolution; None = ideal (no quantisation, no clipping)."""
    adc_range: tuple[float, float] | None = None
    """``(lo, hi)`` of the ADC in weight units; None = the full possible output range
    ``(n_in*min(w_min, 0), n_in*max(w_max, 0))``, which never clips."""
    adc_clip: str = "saturate"
    """One of :data:`ADC_CLIP_MODES`."""
    ir_drop: bool = False
    """Model line resistance (IR drop); when on, every read solves the resistive network."""
    r_wire: float = 1.0
    """Resistance of one word-line / bit-line segment between adjacent cells (and from driver /
    sense amplifier to the first cell), ohms."""
    ir_tol: float = 1e-9
    """Relative convergence tolerance of the iterative IR-drop solver (on column currents)."""
    ir_max_iter: int = 10000
    """Iteration cap of the iterative IR-drop solver."""

    def __post_init__(self):
        s = "io"
        _int(s, "dac_bits", self.dac_bits, lo=1)
        if self.dac_bits > 30:
            raise ConfigError("io.dac_bits", f"must be <= 30, not {self.dac_bits}")
        object.__setattr__(self, "v_read", _num(s, "v_read", self.v_read, lo=0.0, lo_open=True))
        _choice(s, "read_noise", self.read_noise, READ_NOISE_MODES)
        object.__setattr__(self, "out_noise", _num(s, "out_noise", self.out_noise, lo=0.0))
        _int(s, "adc_bits", self.adc_bits, lo=1, allow_none=True)
        if self.adc_bits is not None and self.adc_bits > 30:
            raise ConfigError("io.adc_bits", f"must be <= 30, not {self.adc_bits}")
        if self.adc_range is not None:
            r = self.adc_range
            if not isinstance(r, (tuple, list)) or len(r) != 2:
                raise ConfigError("io.adc_range", f"must be a pair (lo, hi) or None, not {r!r}")
            lo = _num(s, "adc_range", r[0])
            hi = _num(s, "adc_range", r[1])
            if not lo < hi:
                raise ConfigError("io.adc_range", f"needs lo < hi, not {r!r}")
            object.__setattr__(self, "adc_range", (lo, hi))
        _choice(s, "adc_clip", self.adc_clip, ADC_CLIP_MODES)
        if not isinstance(self.ir_drop, bool):
            raise ConfigError("io.ir_drop", f"must be True or False, not {self.ir_drop!r}")
        object.__setattr__(self, "r_wire", _num(s, "r_wire", self.r_wire, lo=0.0))
        object.__setattr__(self, "ir_tol", _num(s, "ir_tol", self.ir_tol, lo=0.0, lo_open=True))
        _int(s, "ir_max_iter", self.ir_max_iter, lo=1)


@dataclass(frozen=True, kw_only=True)
class UpdateConfig:
    """How weight changes and target weights become programming pulses."""

    dw_step: float | None = None
    """Weight change credited to one pulse when converting ``dw`` to pulse counts; None = the nominal
    linear step ``w_span / p_max`` (one device's window over its pulse count)."""
    stochastic_rounding: bool = True
    """Round fractional pulse counts stochastically (unbiased, counter-based RNG); False = nearest."""
    depress: str = "reset_plus"
    """One of :data:`DEPRESS_MODES` (differential scheme only)."""
    pulse_scheme: str = "row"
    """One of :data:`PULSE_SCHEMES`: order in which :meth:`Crossbar.program` issues its write
    phases (it changes write order, not the pulse counts of an ideal array)."""
    verify_tol: float = 0.02
    """Write-verify acceptance: ``|w_read - w_target| <= verify_tol * (w_max - w_min)``
    (devices.md 8(b)(7), aihwkit ReRamCMO 2 %)."""
    verify_max_iter: int = 20
    """Write-verify iteration cap (N_max)."""
    verify_wait: float = 0.0
    """Seconds the array clock advances before each verify read (lets a volatile component decay so
    that the long-term state is verified); 0 = read at once."""

    def __post_init__(self):
        s = "update"
        if self.dw_step is not None:
            object.__setattr__(self, "dw_step", _num(s, "dw_step", self.dw_step, lo=0.0, lo_open=True))
        if not isinstance(self.stochastic_rounding, bool):
            raise ConfigError("update.stochastic_rounding", f"must be True or False, not {self.stochastic_rounding!r}")
        _choice(s, "depress", self.depress, DEPRESS_MODES)
        _choice(s, "pulse_scheme", self.pulse_scheme, PULSE_SCHEMES)
        object.__setattr__(self, "verify_tol", _num(s, "verify_tol", self.verify_tol, lo=0.0, lo_open=True))
        _int(s, "verify_max_iter", self.verify_max_iter, lo=1)
        object.__setattr__(self, "verify_wait", _num(s, "verify_wait", self.verify_wait, lo=0.0))


_SECTIONS = {"mapping": MappingConfig, "io": IOConfig, "update": UpdateConfig}


@dataclass(frozen=True, kw_only=True)
class CrossbarConfig:
    """A crossbar's mapping, periphery and update scheme (device physics is separate)."""

    mapping: MappingConfig = dataclasses.field(default_factory=MappingConfig)
    """Weight -> conductance mapping."""
    io: IOConfig = dataclasses.field(default_factory=IOConfig)
    """Read periphery."""
    update: UpdateConfig = dataclasses.field(default_factory=UpdateConfig)
    """Programming and update scheme."""

    def __post_init__(self):
        for name, cls in _SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(name, f"must be a {cls.__name__}, not {type(getattr(self, name)).__name__}")

    def as_dict(self) -> dict:
        """Nested plain dict (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "CrossbarConfig":
        """Build from ``{"mapping": {...}, "io": {...}, "update": {...}}``; unknown keys raise
        ConfigError naming them."""
        if not isinstance(d, dict):
            raise ConfigError("crossbar", "must be a mapping of sections mapping/io/update")
        parts = {}
        for k, v in d.items():
            if k not in _SECTIONS:
                raise ConfigError(k, f"unknown crossbar section; known: {', '.join(_SECTIONS)}")
            if not isinstance(v, dict):
                raise ConfigError(k, "must be a mapping of fields")
            known = {f.name for f in fields(_SECTIONS[k])}
            for f in v:
                if f not in known:
                    raise ConfigError(f"{k}.{f}", f"unknown field; known: {', '.join(sorted(known))}")
            if k == "io" and isinstance(v.get("adc_range"), list):
                v = {**v, "adc_range": tuple(v["adc_range"])}
            parts[k] = _SECTIONS[k](**v)
        return cls(**parts)
