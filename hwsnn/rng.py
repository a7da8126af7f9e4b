"""Counter-based random numbers for Numba kernels.

A value is a pure function of ``(seed, stream, index, counter)``: no generator state is carried
between calls, so results do not depend on thread count, chunking or call order.  The mixer
is SplitMix64's finaliser (Steele, Lea & Flood 2014), applied to a combined key.

Use ``key(seed, stream)`` once per purpose (e.g. stream 1 = write noise, 2 = read noise),
then ``uniform(k, index, counter)`` / ``normal(k, index, counter)`` inside kernels.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.extending import overload

__all__ = ["mix64", "key", "bits64", "uniform", "normal", "normal_first", "uniform_array", "normal_array"]

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


# Ziggurat normal (Marsaglia & Tsang 2000, 256 layers) on the counter-based bits: the common
# path costs one hash and a table lookup (no log/sqrt/cos).
def _zig_tables(n=256, r=3.6541528853610088, v=0.00492867323399):
    f = lambda x: math.exp(-0.5 * x * x)  # noqa: E731
    x = np.zeros(n + 1)
    x[0] = v / f(r)
    x[1] = r
    for i in range(1, n - 1):
        x[i + 1] = math.sqrt(-2.0 * math.log(v / x[i] + f(x[i])))
    x[n] = 0.0
    return x, np.exp(-0.5 * x * x), r


ZIG_X, ZIG_F, ZIG_R = _zig_tables()
_U64_FF = np.uint64(0xFF)
_U64_8 = np.uint64(8)
_U64_1 = np.uint64(1)
_U64_11 = np.uint64(11)
_SALT = np.uint64(0xA0761D6478BD642F)
_SALT2 = np.uint64(0xE7037ED1A0B428DB)


@njit(cache=True, inline="always")
def normal(k, index, counter):
    """Standard normal float64 for (key, index, counter) by the ziggurat method (exact distribution).

    The one normal sampler of hwsnn: devices, crossbar reads, networks and data generators draw
    their normals here (vectorised kernels through :func:`normal_first`)."""
    attempt = np.uint64(0)
    while True:
        kk = np.uint64(k) + attempt * _SALT
        b = bits64(kk, index, counter)
        layer = np.int64(b & _U64_FF)
        neg = ((b >> _U64_8) & _U64_1) != 0
        u = (np.float64(b >> _U64_11) + 0.5) * _INV53
        x = u * ZIG_X[layer]
        if x < ZIG_X[layer + 1]:
            return -x if neg else x
        k2 = kk ^ _SALT2
        if layer == 0:  # tail beyond r (Marsaglia 1964)
            j = np.uint64(0)
            while True:
                u1 = uniform(k2, index, np.uint64(counter) * np.uint64(2) + j * np.uint64(0x10000000000))
                u2 = uniform(k2 ^ _SALT, index, np.uint64(counter) * np.uint64(2) + j * np.uint64(0x10000000000))
                xt = -math.log(u1) / ZIG_R
                if -2.0 * math.log(u2) > xt * xt:
                    return -(ZIG_R + xt) if neg else ZIG_R + xt
                j += np.uint64(1)
        u2 = uniform(k2, index, counter)
        if ZIG_F[layer] + u2 * (ZIG_F[layer + 1] - ZIG_F[layer]) < math.exp(-0.5 * x * x):
            return -x if neg else x
        attempt += np.uint64(1)


@njit(cache=True, inline="always")
def normal_first(k, index, counter):
    """The ziggurat's first attempt: :func:`normal`'s value, or NaN where :func:`normal` goes on
    (about 1 % of draws).  Branch-free, so loops of it vectorise; redo the NaNs with :func:`normal`."""
    b = bits64(k, index, counter)
    layer = np.int64(b & _U64_FF)
    neg = ((b >> _U64_8) & _U64_1) != 0
    u = (np.float64(np.int64(b >> _U64_11)) + 0.5) * _INV53
    x = u * ZIG_X[layer]
    z = -x if neg else x
    return z if x < ZIG_X[layer + 1] else np.nan


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
