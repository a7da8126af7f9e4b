"""The device block kernels compile to vector code.

Lost vectorisation changes no result, only speed (4-6x on the read and pulse kernels), so no
numerical test notices it.  This one compiles fresh copies of the read and write block kernels with
the production dispatchers' options and counts vector operations in their LLVM IR, against the
same kernel compiled in Numba's scalar-forcing Python error model (a zero-division check before
every float division) as the reference of what a scalar loop looks like on this CPU.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from hwsnn.devices import kernels as K
from hwsnn.devices.array import DeviceArray
from hwsnn.devices.presets import get_preset

_VECTOR = re.compile(r"<\d+ x double>")


def _captured_args(name: str, action) -> tuple:
    """The arguments the array passes to kernel ``name`` when ``action`` runs (the real kernel runs)."""
    real = getattr(K, name)
    seen = {}

    def spy(*args):
        seen["args"] = args
        return real(*args)

    setattr(K, name, spy)
    try:
        action()
    finally:
        setattr(K, name, real)
    assert "args" in seen, f"{name} was not called"
    return seen["args"]


def _vector_ops(block, py_func, args, **change) -> int:
    """Vector double types in the LLVM IR of a fresh compile of ``py_func`` with ``block``'s options."""
    opts = {**block.targetoptions, **change}
    tag = "_".join(f"{k}_{v}" for k, v in change.items()) or "production"
    fresh = type(block)(py_func=K._twin(py_func, f"{py_func.__name__}_probe_{tag}"), locals={}, targetoptions=opts)
    fresh(*args)
    (sig,) = fresh.signatures
    return len(_VECTOR.findall(fresh.inspect_llvm(sig)))


def _read_block_args():
    a = DeviceArray(get_preset("sto"), (16, 16), seed=0)
    out, _offs, *rest = _captured_args("read_seg_fast_serial", a.read)
    return (out, 0, 0, out.size, *rest)


def _write_block_args():
    a = DeviceArray(get_preset("sto"), (16, 16), seed=0)
    n = np.tile(np.array([3, -2, 1, 0]), 64).reshape(16, 16)
    nflat, _offs, *rest = _captured_args("pulse_seg_fast_serial", lambda: a.pulse(n))
    *state, _knu, z1b, z2b = rest
    i0 = np.int64(0)
    return (K._NOIDX, i0, nflat, i0, np.int64(nflat.size), *state, z1b, z2b, i0)


@pytest.mark.parametrize("block, py_func, make_args", [
    (K._rblock, K._rblock_py, _read_block_args),
    (K._wblock_dense, K._wblock_dense_py, _write_block_args),
], ids=["read", "write"])
def test_block_kernels_are_vectorised(block, py_func, make_args):
    args = make_args()
    vec = _vector_ops(block, py_func, args)
    scalar = _vector_ops(block, py_func, args, error_model="python")
    # measured on x86-64 (AVX2): read 219 vs 33, write 437 vs 35; the scalar form keeps a few vector moves
    assert scalar > 0
    assert vec >= 3 * scalar, f"{py_func.__name__}: {vec} vector ops, scalar form {scalar}"
