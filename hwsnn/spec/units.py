"""Elaboration-time parameters of every RTL unit (docs/hardware/fixed_point.md), in one place.

The golden models, the Amaranth components, the cocotb benches and ``hwsnn rtl generate``
all build from these dataclasses; port widths are derived properties, never retyped.
Field names are the contract's parameter names.  Construction validates every field and
raises :class:`hwsnn.errors.ConfigError` naming it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from hwsnn.errors import ConfigError
from hwsnn.spec.fixed import bits_for, signed_range
from hwsnn.spec.lfsr import LFSR_SEED_DEFAULT, check_seed

__all__ = ["Lfsr16Params", "LifStepwiseParams", "StdpTraceParams", "StdpUpdateParams"]


def _int(obj, name: str, lo: int | None = None, hi: int | None = None) -> int:
    v = getattr(obj, name)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(name, f"must be an integer, not {v!r}")
    if lo is not None and v < lo:
        raise ConfigError(name, f"must be >= {lo}, not {v}")
    if hi is not None and v > hi:
        raise ConfigError(name, f"must be <= {hi}, not {v}")
    return v


class _Params:
    """Mixin: ``replace`` and ``as_dict`` for the parameter dataclasses."""

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict):
        names = {f.name for f in fields(cls)}
        for k in d:
            if k not in names:
                raise ConfigError(k, f"unknown parameter of {cls.__name__}; known: {sorted(names)}")
        return cls(**d)


@dataclass(frozen=True, kw_only=True)
class Lfsr16Params(_Params):
    """Parameters of the stand-alone ``lfsr16`` unit."""

    LFSR_SEED: int = LFSR_SEED_DEFAULT
    """Reset state, non-zero 16-bit."""

    module = "lfsr16"

    def __post_init__(self):
        check_seed(self.LFSR_SEED)


@dataclass(frozen=True, kw_only=True)
class LifStepwiseParams(_Params):
    """Parameters of ``lif_stepwise``: LIF neuron with stepwise firing and learning thresholds."""

    V_BITS: int = 16
    """Width of the signed membrane potential and of ``i_syn``."""
    LEAK_SHIFT: int = 3
    """Leak ``v >> LEAK_SHIFT`` per step (time constant about ``2**LEAK_SHIFT`` steps)."""
    REFRACTORY: int = 2
    """Steps held at 0 after a spike."""
    THETA_BASE: int = 256
    """Firing threshold at level 0."""
    THETA_STEP: int = 64
    """Threshold increment per level."""
    LEVELS: int = 4
    """Number of threshold levels (intrinsic plasticity range)."""
    LEVEL_INIT: int = 0
    """Level after reset."""
    WINDOW: int = 32
    """Steps per rate-counting window (counted only while ``ip_en``)."""
    RATE_HI: int = 3
    """Level goes up when a window holds more spikes than this."""
    RATE_LO: int = 1
    """Level goes down when a window holds fewer spikes than this."""
    LEARN_UP: int = 32
    """``learn_up`` when ``v >= theta - LEARN_UP``."""
    LEARN_DN: int = 128
    """``learn_dn`` when ``v < theta - LEARN_DN``."""

    module = "lif_stepwise"

    def __post_init__(self):
        _int(self, "V_BITS", 4, 32)
        _int(self, "LEAK_SHIFT", 1, self.V_BITS - 1)
        _int(self, "REFRACTORY", 0, 255)
        lo, hi = signed_range(self.V_BITS)
        _int(self, "THETA_BASE", 1, hi)
        _int(self, "THETA_STEP", 0, hi)
        _int(self, "LEVELS", 1, 256)
        _int(self, "LEVEL_INIT", 0, self.LEVELS - 1)
        _int(self, "WINDOW", 1, 1 << 16)
        _int(self, "RATE_HI", 0, self.WINDOW)
        _int(self, "RATE_LO", 0, self.WINDOW)
        if self.theta_max > hi:
            raise ConfigError(
                "THETA_STEP",
                f"THETA_BASE + (LEVELS-1)*THETA_STEP = {self.theta_max} exceeds the V_BITS={self.V_BITS} maximum {hi}",
            )
        _int(self, "LEARN_UP", 0, hi)
        _int(self, "LEARN_DN", 0, hi)

    @property
    def theta_max(self) -> int:
        return self.THETA_BASE + (self.LEVELS - 1) * self.THETA_STEP

    @property
    def level_bits(self) -> int:
        """Width of the ``level`` port: ``max(1, ceil(log2(LEVELS)))``."""
        return bits_for(self.LEVELS)

    @property
    def ref_bits(self) -> int:
        return max(1, self.REFRACTORY.bit_length())

    @property
    def win_bits(self) -> int:
        return bits_for(self.WINDOW)

    @property
    def count_bits(self) -> int:
        # count holds 0..WINDOW spikes (one per step of the window at most)
        return max(1, self.WINDOW.bit_length())


@dataclass(frozen=True, kw_only=True)
class StdpTraceParams(_Params):
    """Parameters of ``stdp_trace``: nearest-spike trace with ceil-decay."""

    X_BITS: int = 8
    """Trace width; a spike sets the trace to ``2**X_BITS - 1``."""
    DECAY_SHIFT: int = 3
    """Decay ``x - ceil(x / 2**DECAY_SHIFT)`` per step."""

    module = "stdp_trace"

    def __post_init__(self):
        _int(self, "X_BITS", 1, 16)
        _int(self, "DECAY_SHIFT", 0, 16)

    @property
    def x_max(self) -> int:
        return (1 << self.X_BITS) - 1


@dataclass(frozen=True, kw_only=True)
class StdpUpdateParams(_Params):
    """Parameters of ``stdp_update``: trace STDP with LFSR stochastic rounding."""

    W_BITS: int = 8
    """Weight width (unsigned)."""
    W_MAX: int = 255
    """Upper weight bound (saturation)."""
    X_BITS: int = 8
    """Trace width of ``x_pre``/``x_post``."""
    A_PLUS: int = 16
    """Potentiation multiplier (applied to ``x_pre`` on a post spike)."""
    A_MINUS: int = 8
    """Depression multiplier (applied to ``x_post`` on a pre spike)."""
    SHIFT_PLUS: int = 8
    """Right shift of the potentiation product, 1..8."""
    SHIFT_MINUS: int = 8
    """Right shift of the depression product, 1..8."""
    LFSR_SEED: int = LFSR_SEED_DEFAULT
    """Reset state of the unit's own LFSR16."""

    module = "stdp_update"

    R_MINUS_OFFSET = 8
    """``r_minus`` takes the LFSR bits from this position up (``r_plus`` from bit 0); fixed by the contract."""

    def __post_init__(self):
        _int(self, "W_BITS", 1, 16)
        _int(self, "W_MAX", 1, (1 << self.W_BITS) - 1)
        _int(self, "X_BITS", 1, 16)
        _int(self, "A_PLUS", 0, 1 << 16)
        _int(self, "A_MINUS", 0, 1 << 16)
        _int(self, "SHIFT_PLUS", 1, 8)
        _int(self, "SHIFT_MINUS", 1, 8)
        check_seed(self.LFSR_SEED)
