"""Counter-based random numbers for Numba kernels.

A value is a pure function of ``(seed, stream, index, counter)``: no generator state is carried
between calls, so results do not depend on thread count, chunking or call order.  The mixer
is SplitMix64's finaliser (Steele, Lea & Flood 2014), applied to a combined key.

Use ``key(seed, stream)`` once per purpose (e.g. stream 1 = write noise, 2 = read noise),
then ``uniform(k, index, counter)`` / ``normal(k, index, counter)`` inside kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import overload

__all__ = ["mix64", "key", "bits64", "uniform", "normal", "normal_pair", "uniform_array", "normal_array"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_C2 = np.uint64(0xD6E8FEB86659FD93)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def mix64(z):
    """SplitMix64 finaliser: a bijective avalanche mix of a uint64."""
    z = np.uint64(z)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def _key_jit(seed, stream):
    return mix64(np.uint64(seed) * _GOLDEN + mix64(np.uint64(stream) + _C2))


def key(seed, stream):
    """Key (``np.uint64``) for one random stream of one seed; callable from Python and Numba."""
    return np.uint64(_key_jit(seed, stream))


@overload(key)
def _key_overload(seed, stream):
    # inside jitted code `key` compiles to the same mixer
    return lambda seed, stream: _key_jit(seed, stream)


@njit(cache=True, inline="always")
def bits64(k, index, counter):
    """64 random bits for (key, index, counter)."""
    z = mix64(np.uint64(k) ^ (np.uint64(index) * _GOLDEN))
    return mix64(z + np.uint64(counter) * _C2 + _GOLDEN)


@njit(cache=True, inline="always")
def uniform(k, index, counter):
    """Uniform float64 in the open interval (0, 1)."""
    b = bits64(k, index, counter) >> _S11
    return (np.float64(b) + 0.5) * _INV53


@njit(cache=True, inline="always")
def normal(k, index, counter):
    """Standard normal float64 (Box-Muller, first output)."""
    u1 = uniform(k, index, np.uint64(counter) * np.uint64(2))
    u2 = uniform(k, index, np.uint64(counter) * np.uint64(2) + np.uint64(1))
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit(cache=True, inline="always")
def normal_pair(k, index, counter):
    """Two independent standard normals from one Box-Muller draw."""
    u1 = uniform(k, index, np.uint64(counter) * np.uint64(2))
    u2 = uniform(k, index, np.uint64(counter) * np.uint64(2) + np.uint64(1))
    r = np.sqrt(-2.0 * np.log(u1))
    return r * np.cos(2.0 * np.pi * u2), r * np.sin(2.0 * np.pi * u2)


@njit(cache=True)
def _uniform_array(k, n, counter):
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = uniform(k, i, counter)
    return out


@njit(cache=True)
def _normal_array(k, n, counter):
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = normal(k, i, counter)
    return out


def uniform_array(seed: int, stream: int, n: int, counter: int = 0) -> np.ndarray:
    """``n`` uniforms for indices ``0..n-1`` (convenience for tests and setup code)."""
    return _uniform_array(key(seed, stream), n, counter)


def normal_array(seed: int, stream: int, n: int, counter: int = 0) -> np.ndarray:
    """``n`` standard normals for indices ``0..n-1``."""
    return _normal_array(key(seed, stream), n, counter)
