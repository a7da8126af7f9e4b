"""``Crossbar.weights(cols=, long_term=)``: column subsets and the consolidated (long-term) weights."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.crossbar import Crossbar, CrossbarConfig, MappingConfig
from hwsnn.devices import get_preset
from hwsnn.errors import ConfigError


def _written(scheme: str, **dev) -> Crossbar:
    p = get_preset("sto").replace(p_stuck_min=0.02, p_stuck_max=0.02, **dev)
    xb = Crossbar(p, 9, 7, config=CrossbarConfig(mapping=MappingConfig(scheme=scheme)), seed=5)
    rng = np.random.default_rng(1)
    xb.program(rng.uniform(0.0, 0.8, (9, 7)), verify=False)
    xb.advance(2.0)
    xb.update(rng.uniform(-0.05, 0.1, (9, 7)))  # fresh writes: volatile part and drift restart
    xb.advance(0.3)
    return xb


@pytest.mark.parametrize("scheme", ["differential", "reference"])
def test_cols_subset_equals_slice_of_full(scheme):
    xb = _written(scheme)
    full = xb.weights()
    cols = np.array([5, 0, 3])
    assert np.array_equal(xb.weights(cols), full[:, cols])
    assert np.array_equal(xb.weights(cols=np.array([], np.int64)), full[:, :0])
    lt = xb.weights(long_term=True)
    assert np.array_equal(xb.weights(cols, long_term=True), lt[:, cols])
    assert xb.weights(6).shape == (9, 1)


def test_long_term_excludes_only_the_volatile_part():
    # volatile component off: long-term == effective (drift still acts on both; the two device
    # reads may round differently in the last bits)
    xb0 = _written("differential", st_amp=0.0)
    assert np.allclose(xb0.weights(long_term=True), xb0.weights(), rtol=1e-12, atol=1e-12)
    # volatile on: right after SET pulses the effective weights of potentiated synapses exceed the
    # consolidated ones; once the volatile part has relaxed (st_tau = 3 s) the two agree
    xb = _written("differential")
    diff = xb.weights() - xb.weights(long_term=True)
    assert diff.max() > 1e-3
    xb.advance(600.0)
    assert np.allclose(xb.weights(), xb.weights(long_term=True), rtol=0, atol=1e-12)
    # consolidated weights are what the public device API reports as long-term state
    a = xb.array
    lt = a.long_term()
    g = a.g_min_dev + (a.g_max_dev - a.g_min_dev) * lt
    c = xb.config.mapping.w_span / (xb.params.g_max - xb.params.g_min)
    assert np.allclose(xb.weights(long_term=True), c * (g[:, 0::2] - g[:, 1::2]), rtol=0, atol=1e-12)


def test_cols_validation():
    xb = _written("differential")
    with pytest.raises(ConfigError, match="cols"):
        xb.weights(cols=np.array([7]))
    with pytest.raises(ConfigError, match="cols"):
        xb.weights(cols=np.array([0.5]))
