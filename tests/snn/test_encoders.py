"""Encoders: the Poisson encoder (events and their dense view) statistics and determinism, latency
order, raster validation."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.errors import ConfigError
from hwsnn.rng import key
from hwsnn.snn import as_raster, latency_raster, poisson_events, poisson_raster


def test_poisson_rate_within_binomial_bounds():
    rates = np.array([0.0, 5.0, 20.0, 63.75, 200.0])
    T, dt = 20000, 1e-3
    r = poisson_raster(rates, T, dt, seed=3)
    assert r.shape == (T, 5) and r.dtype == np.uint8
    p = rates * dt
    counts = r.sum(0)
    sd = np.sqrt(T * p * (1 - p))
    assert counts[0] == 0
    assert np.all(np.abs(counts[1:] - T * p[1:]) < 5 * sd[1:])
    # Poisson-process property: inter-spike intervals are geometric, CV close to sqrt(1-p)
    isi = np.diff(np.flatnonzero(r[:, 3]))
    assert isi.std() / isi.mean() == pytest.approx(np.sqrt(1 - p[3]), abs=0.05)


def test_poisson_deterministic_and_seeded():
    rates = np.linspace(0, 100, 50)
    a = poisson_raster(rates, 500, seed=7)
    b = poisson_raster(rates, 500, seed=7)
    c = poisson_raster(rates, 500, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # the counter base gives independent rasters (the engine's per-presentation counter)
    assert not np.array_equal(poisson_raster(rates, 500, seed=7, counter0=1 << 24), a)


def test_dense_view_is_the_event_encoder():
    rates = np.linspace(0, 150, 33)
    r = poisson_raster(rates, 400, 5e-4, seed=3, counter0=5)
    ptr, idx = poisson_events(rates, 0.5, 400, key(3, 0x5053), np.int64(5))
    assert r.sum() == idx.shape[0] > 0
    for t in range(400):
        np.testing.assert_array_equal(np.flatnonzero(r[t]), idx[ptr[t]:ptr[t + 1]])


def test_poisson_independent_inputs():
    r = poisson_raster(np.full(2, 300.0), 20000, seed=1).astype(float)
    assert abs(np.corrcoef(r[:, 0], r[:, 1])[0, 1]) < 0.04


def test_latency_order():
    v = np.array([1.0, 0.75, 0.5, 0.1, 0.0])
    r = latency_raster(v, 101)
    t = [np.flatnonzero(r[:, i]) for i in range(5)]
    assert [len(x) for x in t] == [1, 1, 1, 1, 0]
    assert t[0][0] == 0 and t[1][0] == 25 and t[2][0] == 50 and t[3][0] == 90
    assert r.sum() == 4


def test_raster_validation():
    np.testing.assert_array_equal(as_raster([[True, False]]), [[1, 0]])
    for bad, field in (([[0, 2]], "raster"), ([0, 1], "raster"), (np.ones((3, 4)), "x")):
        with pytest.raises(ConfigError) as e:
            as_raster(bad, n=2 if field != "x" else 3, field=field)
        assert e.value.field == field


@pytest.mark.parametrize("kwargs,field", [
    (dict(rates=[-1.0], n_steps=10), "rates"),
    (dict(rates=[2000.0], n_steps=10), "rates"),
    (dict(rates=[1.0], n_steps=-1), "n_steps"),
    (dict(rates=[1.0], n_steps=10, dt=0.0), "dt"),
    (dict(rates=np.ones((3, 2)), n_steps=10), "rates"),
])
def test_poisson_bad_config(kwargs, field):
    with pytest.raises(ConfigError) as e:
        poisson_raster(**kwargs)
    assert e.value.field == field


def test_latency_bad_values():
    with pytest.raises(ConfigError) as e:
        latency_raster([1.5], 10)
    assert e.value.field == "values"
