"""Crossbar tests make many tiny event-driven calls; the device kernels are ``parallel=True`` and
their thread launch costs more than the work at this size on a busy 2-core machine.  Results do not
depend on the thread count (checked in a subprocess by ``test_same_seed_same_result_regardless_of_threads``),
so run these tests on one Numba thread."""

from __future__ import annotations

import numba
import pytest


@pytest.fixture(autouse=True)
def _one_numba_thread():
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(old)
