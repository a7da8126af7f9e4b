"""The integer twin of the Diehl & Cook conductance neuron (hwsnn.engine.neurons_int).

The kernel's integer layer is checked step by step against a direct Python-int loop of the
documented formats and arithmetic, and the twin against the float neuron it replaces."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwsnn.config import load_config
from hwsnn.engine.layer import LayerNetwork
from hwsnn.spec.fixed import shr_round

N_IN = 16


def round_half_up_div(x: int, d: int) -> int:
    return math.floor(x / d + 0.5) if abs(x) < 2**50 else (2 * x + d) // (2 * d)


def _cfg(**extra):
    return load_config(None, {"synapse.backend": "integer", "network.n_exc": 6, **extra})


def _raster(p=0.08, seed=0, n_on=None):
    rng = np.random.default_rng(seed)
    return (rng.random((n_on or 700, N_IN)) < p).astype(np.uint8)


def _reference(net, raster, learn=False):
    """Python ints, written from the docstring's formats: STEP recomputed here, no kernel code."""
    n = net.neuron.float_model
    fmt = net.neuron.fmt
    dt = net.dt
    mv = lambda x: math.floor(x * 1e3 * 2**fmt.V_FRAC + 0.5)  # noqa: E731
    gq = lambda x: math.floor(x * 2**fmt.G_FRAC + 0.5)  # noqa: E731
    d_ge = math.floor(math.exp(-dt / n.tau_ge) * 2**16 + 0.5)
    d_gi = math.floor(math.exp(-dt / n.tau_gi) * 2**16 + 0.5)
    a = dt / n.tau_m

    def step_gain(g_code):
        k = shr_round(g_code, fmt.G_FRAC - fmt.G_STEP)
        if k >= 2**fmt.STEP_BITS:
            return None  # beyond the ROM: straight to v_inf
        g = k / 2**fmt.G_STEP
        return math.floor(-math.expm1(-a * (1 + g)) / (1 + g) * 2**fmt.F_FRAC + 0.5)

    hom = net.cfg.homeostasis
    v_rest, v_reset = mv(n.v_rest), mv(n.v_reset)
    v_th = mv(n.v_thresh - n.theta_offset)
    e_exc, e_inh = mv(n.e_exc), mv(n.e_inh)
    eff = gq(net.cfg.network.efficacy * net.w_max / net._qmax)
    w_inh = gq(net.cfg.network.w_inh_total / net.n_exc)
    ref_steps = round(n.refractory / dt)
    m = net.n_exc
    v = [v_rest] * m
    ge = [0] * m
    gi = [0] * m
    ref = [0] * m
    theta = [math.floor(hom.theta_init * 1e3 * 2**fmt.THETA_FRAC + 0.5)] * m
    q = net.wq.astype(int).tolist()
    prev: list[int] = []
    out_v, out_ge, out_s = [], [], []
    for t in range(net.n_total):
        for j in range(m):
            ge[j] = (ge[j] * d_ge) >> 16
            gi[j] = (gi[j] * d_gi) >> 16
        if t < raster.shape[0]:
            for i in np.flatnonzero(raster[t]):
                for j in range(m):
                    ge[j] += eff * q[i][j]
        for j in range(m):
            gi[j] += w_inh * (len(prev) - (1 if j in prev else 0))
        spikes = []
        for j in range(m):
            if ref[j] <= 0:
                i_in = (v_rest - v[j]) * 2**fmt.G_FRAC + ge[j] * (e_exc - v[j]) + gi[j] * (e_inh - v[j])
                f = step_gain(ge[j] + gi[j])
                if f is None:
                    vn = v[j] + round_half_up_div(i_in, ge[j] + gi[j] + 2**fmt.G_FRAC)
                else:
                    vn = v[j] + shr_round(i_in * f, fmt.F_FRAC + fmt.G_FRAC)
                if vn > v_th + (theta[j] >> (fmt.THETA_FRAC - fmt.V_FRAC)):
                    vn = v_reset
                    ref[j] = ref_steps + 1
                    spikes.append(j)
                v[j] = vn
            ref[j] = ref[j] - 1 if ref[j] > 0 else ref[j]
        prev = spikes
        out_v.append(list(v))
        out_ge.append(list(ge))
        s = [0] * m
        for j in spikes:
            s[j] = 1
        out_s.append(s)
    return np.array(out_v), np.array(out_ge), np.array(out_s)


@pytest.mark.parametrize("w_inh_total", [None, 20000.0])  # the second puts g beyond the STEP ROM
def test_integer_layer_equals_the_documented_fixed_point_arithmetic(w_inh_total):
    extra = {} if w_inh_total is None else {"network.w_inh_total": w_inh_total}
    net = LayerNetwork(_cfg(**extra), N_IN, seed=2, record=True)
    assert type(net.neuron).__name__ == "CondLIFInt"
    raster = _raster(p=0.12)
    net.present_raster(raster, learn=False)
    v, ge, s = _reference(net, raster)
    rec = net.record
    assert s.sum() > 5  # the neurons fired: threshold, reset, refractory and inhibition were exercised
    np.testing.assert_array_equal(rec.ge.astype(np.int64), ge)
    np.testing.assert_array_equal(rec.spikes, s)
    np.testing.assert_array_equal(rec.v.astype(np.int64), v)


def test_twin_tracks_the_float_neuron_on_the_same_weights():
    """Same weights, same raster: membranes agree to a fraction of a millivolt until the first
    spike, and the spike counts agree closely (the twin is the exponential-Euler step)."""
    cfg = _cfg()
    a = LayerNetwork(cfg, N_IN, seed=0, record=True)
    b = LayerNetwork(cfg, N_IN, seed=0, record=True, backend="ideal")
    b.w[:] = a.wq * (a.w_max / a._qmax)
    raster = _raster(p=0.06, seed=1)
    ca = a.present_raster(raster, learn=False)
    cb = b.present_raster(raster, learn=False)
    va = a.record.v / 2**a.neuron.fmt.V_FRAC
    first = int(np.argmax(b.record.spikes.any(axis=1) | a.record.spikes.any(axis=1)))
    assert first > 20
    assert np.abs(va[:first] - b.record.v[:first]).max() < 0.5  # mV
    assert abs(int(ca.sum()) - int(cb.sum())) <= max(2, 0.1 * cb.sum())
    np.testing.assert_allclose(a.theta, b.theta)  # learn=False: thresholds frozen, same in mV


def test_strong_inhibition_keeps_the_membrane_between_the_reversal_potentials():
    """The exponential-Euler gain is stable at any conductance (forward Euler overshoots and
    diverges once dt/tau_m (1 + g) > 2, i.e. g > 400 leak units here)."""
    net = LayerNetwork(_cfg(**{"network.w_inh_total": 20000.0, "network.efficacy": 20.0}), N_IN, seed=0,
                       record=True)
    net.present_raster(_raster(p=0.5), learn=False)
    v = net.record.v / 2**net.neuron.fmt.V_FRAC
    n = net.neuron.float_model
    assert v.min() >= n.e_inh * 1e3 - 0.01 and v.max() <= n.e_exc * 1e3 + 0.01
    assert net.record.spikes.sum() > 0


def test_threshold_decay_between_learning_samples():
    net = LayerNetwork(_cfg(), N_IN, seed=0)
    fmt = net.neuron.fmt
    net.es.theta[:] = 20 << fmt.THETA_FRAC  # 20 mV
    hom = net.cfg.homeostasis
    T = net.n_total * net.dt
    k = math.floor((1 - math.exp(-T / hom.tau_theta)) * 2**32 + 0.5)
    want = [x - shr_round(int(x) * k, 32) for x in net.es.theta]
    net.neuron.after_sample(net.es, True, T, hom)
    assert net.es.theta.tolist() == want
    before = net.es.theta.copy()
    net.neuron.after_sample(net.es, False, T, hom)  # frozen at test time
    np.testing.assert_array_equal(net.es.theta, before)
    assert net.theta[0] == pytest.approx(20.0 * (1 - k / 2**32), abs=2**-fmt.THETA_FRAC)
