"""The STL forward pass against a direct per-neuron loop, the input code, the initialisation,
parameter files and the parameter checks."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.errors import ConfigError
from hwsnn.stl.model import (Layer, ModelParams, STLParams, check_params, encode, forward, init_params,
                             load_params, readout, save_params)


def _reference(params, raster):
    """Scalar loops: every sample, neuron and step on its own (no matrix products)."""
    n_t, batch, _ = raster.shape
    outs = []
    inp = raster
    for layer in params.layers:
        n_in, n_out = layer.w.shape
        s_out = np.zeros((n_t, batch, n_out))
        for b in range(batch):
            for j in range(n_out):
                v = 0.0
                for t in range(n_t):
                    cur = 0.0
                    for i in range(n_in):
                        if inp[t, b, i]:
                            cur += layer.w[i, j]
                    m = params.decay * v + cur
                    if m >= layer.theta[j]:
                        s_out[t, b, j] = 1.0
                        v = 0.0
                    else:
                        v = m
        outs.append(s_out)
        inp = s_out
    return outs


@pytest.mark.parametrize("n_hidden", [0, 7])
def test_forward_matches_direct_loop(n_hidden):
    cfg = ModelParams(n_hidden=n_hidden, population=3, w_init=4.0, theta_init=0.8, theta_spread=0.2)
    params = init_params(cfg, 9, 2, seed=3)
    # dyadic weights: every order of summation gives the same float
    params = params._replace(layers=tuple(Layer(w=np.round(l.w * 64) / 64, theta=l.theta) for l in params.layers))
    raster = encode(np.random.default_rng(0).random((5, 9)), 6, seed=1, stream=7, ids=np.arange(5))
    tr = forward(params, raster)
    ref = _reference(params, raster)
    for a, b in zip(tr.spikes, ref):
        assert 0.05 < a.mean() < 0.95  # both spiking and silent steps occur
        np.testing.assert_array_equal(a, b)


def test_threshold_is_inclusive_and_reset_is_hard():
    p = STLParams(layers=(Layer(w=np.array([[1.0]]), theta=np.array([1.5])),), decay=0.5, population=1)
    tr = forward(p, np.ones((4, 1, 1)))
    # m: 1.0, 1.5 (= theta: spike, reset), 1.0, 1.5
    np.testing.assert_array_equal(tr.spikes[0][:, 0, 0], [0, 1, 0, 1])
    np.testing.assert_array_equal(tr.membrane[0][:, 0, 0], [1.0, 1.5, 1.0, 1.5])


def test_readout_is_population_mean():
    p = STLParams(layers=(Layer(w=np.zeros((1, 4)), theta=np.ones(4)),), decay=0.5, population=2)
    s = np.zeros((2, 1, 4))
    s[0, 0, 0] = 1  # class 0: 1 spike of 2 neurons x 2 steps
    s[:, 0, 2:] = 1  # class 1: all
    np.testing.assert_allclose(readout(p, s), [[0.25, 1.0]])


def test_encode_rates_and_independence_of_batching():
    x = np.array([[0.0, 0.25, 0.5, 1.0]])
    big = encode(np.repeat(x, 400, axis=0), 50, seed=5, stream=100, ids=np.arange(400))
    rates = big.mean(axis=(0, 1))
    assert rates[0] == 0.0 and rates[3] == 1.0
    np.testing.assert_allclose(rates[1:3], [0.25, 0.5], atol=0.01)
    # a sample's raster depends on its id, not on its batch-mates
    one = encode(x, 50, seed=5, stream=100, ids=np.array([17]))
    np.testing.assert_array_equal(one[:, 0], big[:, 17])
    assert not np.array_equal(encode(x, 50, 5, 100, np.array([17]), counter=1), one)


def test_init_is_seeded_and_shaped():
    cfg = ModelParams(n_hidden=10, population=4, theta_spread=0.01)
    a, b, c = init_params(cfg, 8, 3, 0), init_params(cfg, 8, 3, 0), init_params(cfg, 8, 3, 1)
    assert [l.w.shape for l in a.layers] == [(8, 10), (10, 12)]
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_array_equal(la.w, lb.w)
        np.testing.assert_array_equal(la.theta, lb.theta)
    assert not np.array_equal(a.layers[0].w, c.layers[0].w)
    assert np.abs(a.layers[0].w).max() <= 1 / np.sqrt(8)
    assert abs(a.layers[1].theta.mean() - 2.0) < 0.01 and a.layers[1].theta.std() > 0


def test_params_file_round_trip(tmp_path):
    p = init_params(ModelParams(n_hidden=3, population=2), 4, 2, 0)
    save_params(p, tmp_path / "p.npz")
    q = load_params(tmp_path / "p.npz")
    assert q.decay == p.decay and q.population == p.population
    for a, b in zip(p.layers, q.layers):
        np.testing.assert_array_equal(a.w, b.w)
        np.testing.assert_array_equal(a.theta, b.theta)
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(ConfigError, match="params"):
        load_params(tmp_path / "bad.npz")


def test_check_params_names_the_layer():
    good = Layer(w=np.zeros((3, 4)), theta=np.ones(4))
    with pytest.raises(ConfigError, match=r"layers\[1\]\.w"):
        check_params(STLParams(layers=(good, Layer(w=np.zeros((5, 2)), theta=np.ones(2))), decay=0.5, population=2))
    with pytest.raises(ConfigError, match="population"):
        check_params(STLParams(layers=(good,), decay=0.5, population=3))
    with pytest.raises(ConfigError, match=r"layers\[0\]"):
        check_params(STLParams(layers=(Layer(w=np.full((3, 4), np.nan), theta=np.ones(4)),), decay=0.5,
                               population=2))
