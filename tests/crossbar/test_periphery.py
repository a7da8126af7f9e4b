"""DAC / ADC transfer functions against nearest-level closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.crossbar import adc_levels, adc_quantize, dac_quantize


def nearest_level(y, levels):
    """Independent reference: pick the closest of an explicit level list (clips implicitly)."""
    return levels[np.argmin(np.abs(y[:, None] - levels[None, :]), axis=1)]


def adc_error(fn, bits, lo, hi, y):
    return np.max(np.abs(fn(y, bits, lo, hi) - nearest_level(y, adc_levels(bits, lo, hi))))


@pytest.mark.parametrize("bits, lo, hi", [(1, 0.0, 1.0), (3, -2.0, 5.0), (8, 0.0, 16.0), (5, -4.0, -1.0)])
def test_adc_matches_nearest_level_with_clipping(bits, lo, hi):
    rng = np.random.default_rng(bits)
    y = rng.uniform(lo - 0.5 * (hi - lo), hi + 0.5 * (hi - lo), 5000)  # a third of them clip
    assert adc_error(adc_quantize, bits, lo, hi, y) < 1e-12 * max(1.0, abs(lo), abs(hi))
    assert len(adc_levels(bits, lo, hi)) == 2**bits
    q = adc_quantize(y, bits, lo, hi)
    assert q.min() >= lo - 1e-12 and q.max() <= hi + 1e-12


def test_adc_without_saturation_keeps_the_step():
    y = np.array([-1.26, 2.49, 7.74, 100.1])
    step = 1.0 / 3.0  # 2 bits on [0, 1]
    expect = np.round(y / step) * step  # no ties in these values
    assert np.allclose(adc_quantize(y, 2, 0.0, 1.0, saturate=False), expect, atol=1e-12)


def test_adc_checker_catches_a_truncating_mutant():
    def truncating(y, bits, lo, hi):
        step = (hi - lo) / (2**bits - 1)
        return lo + np.clip(np.floor((y - lo) / step), 0, 2**bits - 1) * step

    y = np.random.default_rng(0).uniform(-1.0, 2.0, 2000)
    assert adc_error(truncating, 4, 0.0, 1.0, y) > 0.01  # the same check fails on the mutant


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_dac_matches_nearest_level(bits):
    x = np.random.default_rng(bits).uniform(-0.3, 1.3, 4000)
    levels = np.arange(2**bits) / (2**bits - 1)
    assert np.max(np.abs(dac_quantize(x, bits) - nearest_level(x, levels))) < 1e-12


def test_one_bit_dac_is_a_spike_threshold():
    x = np.array([0.0, 0.2, 0.49, 0.51, 0.9, 1.0, 3.0, -1.0])
    assert np.array_equal(dac_quantize(x, 1), [0, 0, 0, 1, 1, 1, 1, 0])
