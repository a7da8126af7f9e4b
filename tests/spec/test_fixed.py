"""Named rounding/saturation helpers against their mathematical definitions."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hwsnn.spec.fixed import (
    bits_for, clamp, decay_ceil, sat_signed, sat_unsigned, shr_ceil, shr_floor, signed_range, wrap_signed,
    wrap_unsigned,
)


@given(st.integers(-10**6, 10**6), st.integers(0, 12))
def test_shifts_are_floor_and_ceil_division(x, k):
    assert shr_floor(x, k) == math.floor(x / 2**k)
    assert shr_ceil(x, k) == math.ceil(x / 2**k)


@given(st.integers(0, 2**16 - 1), st.integers(1, 8))
def test_decay_ceil_reaches_zero_monotonically(x, k):
    # x - ceil(x/2^k) strictly decreases every positive x, so repeated decay ends at exactly 0
    y = decay_ceil(x, k)
    assert 0 <= y < x or x == 0 == y


@given(st.integers(-(2**20), 2**20), st.integers(2, 16))
def test_saturation_and_wrap(x, bits):
    lo, hi = signed_range(bits)
    assert sat_signed(x, bits) == min(max(x, lo), hi)
    assert sat_unsigned(x, bits) == min(max(x, 0), 2**bits - 1)
    assert wrap_unsigned(x, bits) == x % 2**bits
    w = wrap_signed(x, bits)
    assert lo <= w <= hi and (w - x) % 2**bits == 0


def test_bits_for_and_clamp_bounds():
    assert [bits_for(n) for n in (1, 2, 3, 4, 5, 8, 9)] == [1, 1, 2, 2, 3, 3, 4]
    assert clamp(5, 0, 3) == 3 and clamp(-1, 0, 3) == 0
    with pytest.raises(ValueError):
        clamp(0, 3, 1)
