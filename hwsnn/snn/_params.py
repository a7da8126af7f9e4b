"""Validation helpers shared by the parameter dataclasses of :mod:`hwsnn.snn` and :mod:`hwsnn.plasticity`.

Every check raises :class:`hwsnn.errors.ConfigError` naming the offending field, so a bad value in
a config file surfaces as one clear line instead of a NaN deep inside a kernel.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from hwsnn.errors import ConfigError

__all__ = ["check_float", "check_int", "check_choice", "ParamsMixin", "mant_exp"]


def check_float(obj, name: str, lo: float | None = None, hi: float | None = None, *,
                lo_open: bool = False, allow_inf: bool = False) -> float:
    """Validate ``obj.<name>`` as a real number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""
    v = getattr(obj, name)
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ConfigError(name, f"must be a number, not {v!r}")
    v = float(v)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ConfigError(name, f"must be finite, not {v}")
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise ConfigError(name, f"must be {'>' if lo_open else '>='} {lo}, not {v}")
    if hi is not None and v > hi:
        raise ConfigError(name, f"must be <= {hi}, not {v}")
    return v


def check_int(obj, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """Validate ``obj.<name>`` as an integer in ``[lo, hi]``."""
    v = getattr(obj, name)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ConfigError(name, f"must be an integer, not {v!r}")
    v = int(v)
    if lo is not None and v < lo:
        raise ConfigError(name, f"must be >= {lo}, not {v}")
    if hi is not None and v > hi:
        raise ConfigError(name, f"must be <= {hi}, not {v}")
    return v


def check_choice(obj, name: str, choices) -> str:
    """Validate ``obj.<name>`` as one of ``choices``."""
    v = getattr(obj, name)
    if v not in choices:
        raise ConfigError(name, f"must be one of {list(choices)}, not {v!r}")
    return v


class ParamsMixin:
    """``replace`` / ``as_dict`` / ``from_dict`` (unknown keys -> ConfigError) for frozen dataclasses."""

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict):
        names = {f.name for f in dataclasses.fields(cls)}
        for k in d:
            if k not in names:
                raise ConfigError(k, f"unknown parameter of {cls.__name__}; known: {sorted(names)}")
        return cls(**d)


def mant_exp(a: float, m_bits: int = 8, e_max: int = 48) -> tuple[int, int]:
    """Represent ``a >= 0`` as ``m / 2**e`` with an ``m_bits``-bit mantissa (Lava-style literal).

    The smallest exponent whose rounded mantissa reaches ``2**(m_bits-1)`` is chosen, so the
    relative error is at most ``2**-m_bits``; values too large for ``e = 0`` keep ``e = 0`` and a
    larger mantissa.
    """
    if a < 0 or not math.isfinite(a):
        raise ValueError(f"mant_exp: need a finite a >= 0, not {a}")
    if a == 0:
        return 0, 0
    for e in range(0, e_max + 1):
        m = int(round(a * (1 << e)))
        if m >= (1 << (m_bits - 1)):
            return m, e
    return int(round(a * (1 << e_max))), e_max
