"""BPTT of the STL network against finite differences (weights and thresholds, one and two layers)
and against the closed form of a one-neuron, one-step network with the Heaviside forward."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwsnn.stl.model import Layer, ModelParams, STLParams, encode, init_params, smooth_spike, surrogate
from hwsnn.stl.train import loss_and_grads


def _numeric(params, raster, y, alpha, layer, field, eps=1e-6):
    a = getattr(params.layers[layer], field)
    num = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + eps
        lp, _ = loss_and_grads(params, raster, y, alpha, smooth_spike)
        a[idx] = old - eps
        lm, _ = loss_and_grads(params, raster, y, alpha, smooth_spike)
        a[idx] = old
        num[idx] = (lp - lm) / (2 * eps)
    return num


@pytest.mark.parametrize("n_hidden", [0, 5])
def test_gradient_matches_finite_differences(n_hidden):
    cfg = ModelParams(n_hidden=n_hidden, population=2, w_init=3.0, theta_init=0.6, theta_spread=0.1)
    params = init_params(cfg, 6, 3, seed=4)
    x = np.random.default_rng(1).random((4, 6))
    raster = encode(x, 5, seed=2, stream=0, ids=np.arange(4))
    y = np.eye(3)[[0, 1, 2, 1]]
    _, grads = loss_and_grads(params, raster, y, 2.0, smooth_spike)
    for k in range(len(params.layers)):
        for field in ("w", "theta"):
            num = _numeric(params, raster, y, 2.0, k, field)
            ana = getattr(grads[k], field)
            assert np.abs(num).max() > 1e-4  # the check is not vacuous
            np.testing.assert_allclose(ana, num, rtol=1e-5, atol=1e-9)


def test_surrogate_is_the_derivative_of_the_smooth_twin():
    z = np.linspace(-3, 3, 61)
    h = 1e-6
    num = (smooth_spike(z + h, 2.0) - smooth_spike(z - h, 2.0)) / (2 * h)
    np.testing.assert_allclose(surrogate(z, 2.0), num, rtol=1e-7)
    assert surrogate(np.array([0.0]), 2.0)[0] == 1.0  # alpha / 2


def test_heaviside_gradient_closed_form():
    # one input, one neuron, one class, T = 1: r = s = H(w x - theta), L = (s - y)^2
    for w, th, x, y in [(1.5, 1.0, 1.0, 0.0), (0.5, 1.0, 1.0, 1.0), (0.3, 2.0, 0.0, 1.0)]:
        p = STLParams(layers=(Layer(w=np.array([[w]]), theta=np.array([th])),), decay=0.5, population=1)
        loss, g = loss_and_grads(p, np.array([[[x]]]), np.array([[y]]), 2.0)
        s = 1.0 if w * x >= th else 0.0
        sg = 1.0 / (1.0 + (math.pi * (w * x - th)) ** 2)
        assert loss == pytest.approx((s - y) ** 2)
        assert g[0].w[0, 0] == pytest.approx(2 * (s - y) * sg * x)
        assert g[0].theta[0] == pytest.approx(-2 * (s - y) * sg)


def test_reset_is_differentiated():
    # T = 2, one neuron that spikes at t=0: the reset v = (1 - s) m carries gradient into step 1
    p = STLParams(layers=(Layer(w=np.array([[1.2]]), theta=np.array([1.0])),), decay=0.5, population=1)
    raster = np.array([[[1.0]], [[0.0]]])
    _, g = loss_and_grads(p, raster, np.array([[0.0]]), 2.0)
    # closed form: m0 = 1.2, s0 = 1, v0 = 0, m1 = 0, s1 = 0, r = 0.5, dL/dr = 1
    sg0 = 1.0 / (1.0 + (math.pi * 0.2) ** 2)
    sg1 = 1.0 / (1.0 + math.pi**2)
    # dL/ds1 = 0.5, dL/dm1 = 0.5*sg1, dL/dv0 = 0.25*sg1, dL/ds0 = 0.5 - 0.25*sg1*m0,
    # dL/dm0 = 0.25*sg1*(1 - s0) + dL/ds0 * sg0
    gs0 = 0.5 - 0.25 * sg1 * 1.2
    assert g[0].w[0, 0] == pytest.approx(gs0 * sg0 * 1.0)
    assert g[0].theta[0] == pytest.approx(-(gs0 * sg0 + 0.5 * sg1))
