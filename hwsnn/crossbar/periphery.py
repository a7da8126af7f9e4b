"""Input DAC and output ADC of a crossbar (scalar-exact, Numba-callable).

Both round half-up (``floor(z + 0.5)``) as a comparator-based converter does, rather than
half-to-even.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["dac_quantize", "adc_quantize", "adc_levels"]


@njit(cache=True, inline="always")
def _dac_scalar(x, n_levels):
    # inputs saturate at the DAC's rails
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return np.floor(x * n_levels + 0.5) / n_levels


@njit(cache=True)
def _dac_array(x, n_levels):
    out = np.empty(x.shape[0], np.float64)
    for i in range(x.shape[0]):
        out[i] = _dac_scalar(x[i], n_levels)
    return out


def dac_quantize(x, bits: int) -> np.ndarray:
    """Quantise inputs in [0, 1] to ``bits`` bits: ``round(clip(x, 0, 1)*(2**bits - 1))/(2**bits - 1)``.

    ``bits = 1`` gives binary spikes (threshold 0.5).
    """
    x = np.ascontiguousarray(np.asarray(x, np.float64).ravel())
    return _dac_array(x, float(2**bits - 1))


@njit(cache=True, inline="always")
def _adc_scalar(y, lo, step, max_code, saturate):
    c = np.floor((y - lo) / step + 0.5)
    if saturate:
        if c < 0.0:
            c = 0.0
        elif c > max_code:
            c = max_code
    return lo + c * step


@njit(cache=True)
def _adc_array(y, lo, step, max_code, saturate):
    out = np.empty(y.shape[0], np.float64)
    for i in range(y.shape[0]):
        out[i] = _adc_scalar(y[i], lo, step, max_code, saturate)
    return out


def adc_levels(bits: int, lo: float, hi: float) -> np.ndarray:
    """The ``2**bits`` output values of an ADC spanning ``[lo, hi]`` (``lo`` and ``hi`` included)."""
    return lo + (hi - lo) * np.arange(2**bits) / (2**bits - 1)


def adc_quantize(y, bits: int, lo: float, hi: float, saturate: bool = True) -> np.ndarray:
    """ADC transfer: ``lo + clamp(floor((y - lo)/step + 0.5), 0, 2**bits - 1)*step`` with
    ``step = (hi - lo)/(2**bits - 1)``; without ``saturate`` the code is not clamped."""
    y = np.ascontiguousarray(np.asarray(y, np.float64).ravel())
    n = float(2**bits - 1)
    return _adc_array(y, float(lo), (hi - lo) / n, n, bool(saturate))
