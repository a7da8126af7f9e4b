"""Quantisation invariants, the integer neuron against a scalar reference built on hwsnn.spec,
crossbar programming with write-verify (tolerance), and drift bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.errors import ConfigError
from hwsnn.spec import sat_signed, shr_floor
from hwsnn.stl.deploy import (DeployParams, IntNetwork, accuracy, crossbar_forward, deploy, int_forward,
                              program_crossbars, quantize)
from hwsnn.stl.model import Layer, ModelParams, STLParams, encode, init_params


@pytest.fixture(scope="module")
def net():
    p = init_params(ModelParams(n_hidden=12, population=2, w_init=4.0, theta_init=1.0, theta_spread=0.3), 10, 3, 0)
    x = np.random.default_rng(0).random((8, 10))
    return p, encode(x, 5, 0, 0, np.arange(8))


@pytest.mark.parametrize("w_bits", [3, 8])
def test_quantisation_invariants(net, w_bits):
    p, _ = net
    q = quantize(p, w_bits=w_bits, v_bits=16)
    q_max = 2 ** (w_bits - 1) - 1
    for layer, ql in zip(p.layers, q.layers):
        assert ql.w.dtype == np.int64 and ql.theta.dtype == np.int64
        assert np.abs(ql.w).max() == q_max  # the largest weight uses the full code range
        assert np.all(np.abs(ql.w * ql.lsb - layer.w) <= ql.lsb / 2 * (1 + 1e-12))
        assert np.all(ql.theta >= 1)
        kept = layer.theta >= ql.lsb / 2  # the others rounded to 0 and were raised to 1 code
        assert np.all(np.abs(ql.theta * ql.lsb - layer.theta)[kept] <= ql.lsb / 2 * (1 + 1e-12))
        np.testing.assert_array_equal(ql.theta[~kept], 1)
        big = np.abs(layer.w) > ql.lsb
        np.testing.assert_array_equal(np.sign(ql.w)[big], np.sign(layer.w)[big])


def test_quantisation_refusals(net):
    p, _ = net
    with pytest.raises(ConfigError, match="deploy.v_bits"):
        quantize(p._replace(layers=(p.layers[0]._replace(theta=p.layers[0].theta * 1e4), p.layers[1])), 8, 8)
    with pytest.raises(ConfigError, match="model.decay"):
        quantize(p._replace(decay=0.6), 8, 16)
    small = p._replace(layers=(p.layers[0]._replace(theta=np.full(12, 1e-6)), p.layers[1]))
    assert quantize(small, 8, 16).raised == 12  # rounded to 0 -> raised to 1, counted


def _int_reference(q: IntNetwork, raster):
    n_t, batch, _ = raster.shape
    inp = raster.astype(np.int64)
    for layer in q.layers:
        n_in, n_out = layer.w.shape
        out = np.zeros((n_t, batch, n_out), np.int64)
        for b in range(batch):
            for j in range(n_out):
                v = 0
                for t in range(n_t):
                    cur = sum(int(layer.w[i, j]) for i in range(n_in) if inp[t, b, i])
                    m = sat_signed(shr_floor(v, q.shift) + cur, q.v_bits)
                    if m >= layer.theta[j]:
                        out[t, b, j] = 1
                        v = 0
                    else:
                        v = m
        inp = out
    return inp


@pytest.mark.parametrize("v_bits", [16, 7])
def test_integer_model_matches_scalar_reference(net, v_bits):
    p, raster = net
    q = quantize(p, 5, 16)._replace(v_bits=v_bits)
    q = q._replace(layers=tuple(l._replace(theta=np.minimum(l.theta, 2 ** (v_bits - 1) - 1)) for l in q.layers))
    out, sat = int_forward(q, raster)
    ref = _int_reference(q, raster)
    assert 0.05 < out[-1].mean() < 0.95
    np.testing.assert_array_equal(out[-1], ref)
    if v_bits == 7:
        assert sat > 0  # the narrow membrane saturates, and the reference saturates the same way


def test_crossbar_on_ideal_device_is_the_integer_network_in_float(net):
    # ideal devices (no noise, no spread; 100 pulses over the window): the crossbar read is the code
    # sum to within half a pulse per weight; the crossbar neuron halves in float, so it is the float
    # network with weights Wq and thresholds theta_q up to those small read errors
    p, raster = net
    q = quantize(p, 6, 16)
    xbars, res = program_crossbars(q, DeployParams(device="ideal"), seed=0)
    assert all(r.error <= 0.5 / 100 + 1e-12 for r in res)
    from hwsnn.stl.model import forward

    fl = STLParams(layers=tuple(Layer(w=l.w.astype(float), theta=l.theta.astype(float)) for l in q.layers),
                   decay=0.5, population=2)
    want = forward(fl, raster).spikes[-1]
    got = crossbar_forward(q, xbars, raster)
    assert np.mean(got == want) > 0.97 and 0.05 < want.mean() < 0.95


def test_write_verify_meets_its_tolerance_on_sto(net):
    p, _ = net
    q = quantize(p, 8, 16)
    cfg = DeployParams()
    _, open_loop = program_crossbars(q, cfg, seed=1, verify=False)
    xbars, verified = program_crossbars(q, cfg, seed=1, verify=True)
    tol = cfg.verify_tol * 2.0  # weight range [-1, 1]
    for ol, vr, xb, layer in zip(open_loop, verified, xbars, q.layers):
        err = np.abs(xb.weights(long_term=True) - layer.w / 127)
        assert vr.converged >= 0.8 and np.mean(err <= tol) >= 0.9  # the rest: devices whose window is short
        assert vr.rms_error < 0.5 * ol.rms_error
        assert vr.iterations > 1


def test_deploy_report_and_drift_clock(net, monkeypatch):
    p, raster = net
    y = np.arange(8) % 3
    x = np.random.default_rng(0).random((8, 10))
    import hwsnn.stl.deploy as D

    seen = []
    orig = D.program_crossbars

    def spy(*a, **k):
        xbars, res = orig(*a, **k)
        seen.append(xbars)
        return xbars, res

    monkeypatch.setattr(D, "program_crossbars", spy)
    rep = deploy(p, DeployParams(drift=[1.0, 60.0]), x, y, 5, seed=0)
    assert [d["time_s"] for d in rep["drift"]] == [1.0, 60.0]
    t_end = seen[-1][0].time
    assert t_end > 60.0  # verify waits, then the drift times on top
    for key in ("float_accuracy", "integer_accuracy", "open_loop_accuracy", "verified_accuracy"):
        assert 0.0 <= rep[key] <= 1.0
    assert accuracy(np.zeros((2, 3, 4)), np.zeros(3, int), 2) == 1.0  # ties go to class 0


def test_integer_membrane_saturates_as_spec_says():
    from hwsnn.stl.deploy import IntLayer, int_step

    q = IntNetwork(layers=(IntLayer(w=np.array([[-100, 30]]), theta=np.array([5, 200]), lsb=1.0),), shift=1,
                   w_bits=8, v_bits=7, population=1, raised=0)
    v = (np.zeros((1, 2), np.int64),)
    ref = [0, 0]
    for _ in range(6):
        s, v, _ = int_step(q, v, np.ones((1, 1)))
        ref = [sat_signed(shr_floor(r, 1) + w, 7) for r, w in zip(ref, (-100, 30))]
        ref = [0 if r >= t else r for r, t in zip(ref, (5, 200))]
        assert list(v[0][0]) == ref
    assert ref == [-64, 59]  # 30 + 29 = 59 (below 63); -100 saturates at -64
