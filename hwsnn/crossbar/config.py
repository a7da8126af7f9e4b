"""Crossbar configuration: weight mapping, periphery (DAC/ADC/noise/IR drop) and update scheme.

Device physics lives in :class:`hwsnn.devices.DeviceParams`; the three sections here hold
everything else, kept apart in the aihwkit manner (``MappingConfig`` ~ the weight/unit-cell
choice, ``IOConfig`` ~ ``IOParameters``, ``UpdateConfig`` ~ ``UpdateParameters``) and composed by
:class:`CrossbarConfig`.

They are frozen pydantic dataclasses: validated by pydantic on construction (and by
``dataclasses.replace``, which constructs anew), and still ordinary dataclasses for
``dataclasses.fields`` / ``asdict`` / ``replace``.  Constructing one directly with a bad value
raises :class:`hwsnn.errors.ConfigError` whose ``field`` is the dotted path (``"io.adc_bits"``);
inside a run config the same errors carry the full path (``synapse.crossbar.io.adc_bits``).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass

from hwsnn.config.errors import config_error, show_value
from hwsnn.config.types import Bool, Float, Int, MODEL_CONFIG
from hwsnn.errors import ConfigError

__all__ = ["MappingConfig", "IOConfig", "UpdateConfig", "CrossbarConfig", "SCHEMES", "ADC_CLIP_MODES",
           "READ_NOISE_MODES", "DEPRESS_MODES", "PULSE_SCHEMES"]

Scheme = Literal["differential", "reference"]
AdcClip = Literal["saturate", "none"]
ReadNoise = Literal["column", "device"]
Depress = Literal["reset_plus", "set_minus"]
PulseScheme = Literal["row", "column"]

SCHEMES = get_args(Scheme)
"""Weight -> conductance schemes: a ``G+ - G-`` pair per weight, or one device per weight against a
per-row reference device in an extra column."""
ADC_CLIP_MODES = get_args(AdcClip)
"""``saturate``: codes are clamped to ``[0, 2**adc_bits - 1]``; ``none``: only the step is applied
(an unbounded counting ADC), for studying quantisation without clipping."""
READ_NOISE_MODES = get_args(ReadNoise)
"""``column``: one Gaussian per column current with the exact summed variance; ``device``: one draw
per device read (``DeviceArray.read``)."""
DEPRESS_MODES = get_args(Depress)
"""Differential depression: RESET the active device (``G+`` for a positive weight), or SET the
partner device."""
PULSE_SCHEMES = get_args(PulseScheme)
"""Row-parallel (one word line at a time, all its columns together) or column-parallel programming."""

_CONFIG = {k: v for k, v in MODEL_CONFIG.items() if k != "frozen"}  # frozen is a dataclass argument


def _section(name: str):
    """Class decorator: a frozen, keyword-only pydantic dataclass whose construction errors are a
    :class:`ConfigError` under ``name`` (``""`` for the composed :class:`CrossbarConfig`)."""

    def wrap(cls):
        cls = dataclass(frozen=True, kw_only=True, config=_CONFIG)(cls)
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            try:
                init(self, *args, **kwargs)
            except ValidationError as exc:
                raise config_error(exc, cls, name) from None

        cls.__init__ = __init__
        cls._section_name = name
        return cls

    return wrap


class _Common:
    """Methods shared by the four config classes."""

    def replace(self, **changes: Any):
        """A validated copy with ``changes`` applied (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """Nested plain dict (JSON-ready; ``adc_range`` stays a tuple)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict):
        """Build from a mapping of fields (sections as nested mappings); unknown keys and bad
        values raise :class:`ConfigError` naming the dotted field."""
        name = getattr(cls, "_section_name", "") or "crossbar"
        if not isinstance(d, dict):
            what = "sections mapping/io/update" if cls is CrossbarConfig else "fields"
            raise ConfigError(name, f"must be a mapping of {what}, got {show_value(d)}")
        try:
            return cls.__pydantic_validator__.validate_python(d)
        except ValidationError as exc:
            raise config_error(exc, cls, getattr(cls, "_section_name", "")) from None


@_section("mapping")
class MappingConfig(_Common):
    """How a weight is stored as conductances."""

    scheme: Scheme = "differential"
    """One of :data:`SCHEMES`.  ``differential``: ``w = w_scale*(G+ - G-)/(g_max - g_min)`` with
    ``w_scale = max(|w_min|, |w_max|)``; ``reference``: ``w = (w_max - w_min)*(G - G_ref)/(g_max - g_min)``
    with one reference device per row at the conductance of ``w = 0``."""
    w_min: Annotated[Float, Field(le=0.0)] = 0.0
    """Lowest weight (must be <= 0 so that ``w = 0`` is representable)."""
    w_max: Annotated[Float, Field(ge=0.0)] = 1.0
    """Highest weight (must be >= 0 and > ``w_min``)."""
    levels: Annotated[Int, Field(ge=2)] | None = None
    """Target weights are quantised to this many equally spaced values on ``[w_min, w_max]`` before
    programming (None = no quantisation)."""

    @model_validator(mode="after")
    def _span(self):
        if not self.w_min < self.w_max:
            raise ConfigError("w_max", f"must be > w_min ({self.w_min}), got {self.w_max}")
        return self

    @property
    def w_span(self) -> float:
        """Weight change of one device swept across its whole window."""
        if self.scheme == "differential":
            return max(abs(self.w_min), abs(self.w_max))
        return self.w_max - self.w_min


@_section("io")
class IOConfig(_Common):
    """Read periphery: DAC, read voltage, read noise, IR drop, ADC.  Outputs are in weight units
    (``sum_i w_ij x_i``), so ranges below are in weight units too."""

    dac_bits: Annotated[Int, Field(ge=1, le=30)] = 1
    """Input DAC resolution; 1 = binary spike input (``x`` in {0, 1}).  Inputs in [0, 1] are rounded
    to ``k/(2**dac_bits - 1)``."""
    v_read: Annotated[Float, Field(gt=0.0)] = 0.1
    """Read voltage for ``x = 1`` in volts (linear device I-V)."""
    read_noise: ReadNoise = "column"
    """One of :data:`READ_NOISE_MODES`.  ``column`` is exact for the device's Gaussian (``normal``)
    read noise without IR drop (a sum of independent Gaussians is Gaussian with the summed
    variance); otherwise per-device draws are used automatically."""
    out_noise: Annotated[Float, Field(ge=0.0)] = 0.0
    """Std of additive Gaussian noise on each column output (weight units), before the ADC."""
    adc_bits: Annotated[Int, Field(ge=1, le=30)] | None = None
    """ADC resolution; None = ideal (no quantisation, no clipping)."""
    adc_range: tuple[Float, Float] | None = None
    """``(lo, hi)`` of the ADC in weight units; None = the full possible output range
    ``(n_in*min(w_min, 0), n_in*max(w_max, 0))``, which never clips."""
    adc_clip: AdcClip = "saturate"
    """One of :data:`ADC_CLIP_MODES`."""
    ir_drop: Bool = False
    """Model line resistance (IR drop); when on, every read solves the resistive network."""
    r_wire: Annotated[Float, Field(ge=0.0)] = 1.0
    """Resistance of one word-line / bit-line segment between adjacent cells (and from driver /
    sense amplifier to the first cell), ohms."""
    ir_tol: Annotated[Float, Field(gt=0.0)] = 1e-9
    """Relative convergence tolerance of the iterative IR-drop solver (on column currents)."""
    ir_max_iter: Annotated[Int, Field(ge=1)] = 10000
    """Iteration cap of the iterative IR-drop solver."""

    @field_validator("adc_range", mode="before")
    @classmethod
    def _pair(cls, r):
        if r is not None and (not isinstance(r, (tuple, list)) or len(r) != 2):
            raise ValueError(f"must be a pair [lo, hi] (or left out for the full range), got {show_value(r)}")
        return r

    @field_validator("adc_range")
    @classmethod
    def _ordered(cls, r):
        if r is not None and not r[0] < r[1]:
            raise ValueError(f"needs lo < hi, got {show_value(list(r))}")
        return r


@_section("update")
class UpdateConfig(_Common):
    """How weight changes and target weights become programming pulses."""

    dw_step: Annotated[Float, Field(gt=0.0)] | None = None
    """Weight change credited to one pulse when converting ``dw`` to pulse counts; None = the nominal
    linear step ``w_span / p_max`` (one device's window over its pulse count)."""
    stochastic_rounding: Bool = True
    """Round fractional pulse counts stochastically (unbiased, counter-based RNG); False = nearest."""
    depress: Depress = "reset_plus"
    """One of :data:`DEPRESS_MODES` (differential scheme only)."""
    pulse_scheme: PulseScheme = "row"
    """One of :data:`PULSE_SCHEMES`: order in which :meth:`Crossbar.program` issues its write
    phases (it changes write order, not the pulse counts of an ideal array)."""
    verify_tol: Annotated[Float, Field(gt=0.0)] = 0.02
    """Write-verify acceptance: ``|w_read - w_target| <= verify_tol * (w_max - w_min)``
    (2 % as in aihwkit's ReRamCMO preset; see docs/crossbar.md)."""
    verify_max_iter: Annotated[Int, Field(ge=1)] = 20
    """Write-verify iteration cap (N_max)."""
    verify_wait: Annotated[Float, Field(ge=0.0)] = 0.0
    """Seconds the array clock advances before each verify read (lets a volatile component decay so
    that the long-term state is verified); 0 = read at once."""


@_section("")
class CrossbarConfig(_Common):
    """A crossbar's mapping, periphery and update scheme (device physics is separate)."""

    mapping: MappingConfig = MappingConfig()
    """Weight -> conductance mapping."""
    io: IOConfig = IOConfig()
    """Read periphery."""
    update: UpdateConfig = UpdateConfig()
    """Programming and update scheme."""
