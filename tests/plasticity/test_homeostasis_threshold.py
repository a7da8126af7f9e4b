"""Synaptic homeostasis and threshold plasticity: the engine rules' kernels against closed
forms and fixed points, and the rules in hwsnn.snn.Network."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pydantic import ValidationError

from hwsnn.engine.contract import CompileContext, IntFormat
from hwsnn.engine.neurons_extra import LifNeuron
from hwsnn.engine.rules import (AdaptiveThresholdInt, HomeostaticIP, Normalize, RateScaling, StepwiseGated,
                                StepwiseScaling)
from hwsnn.engine.rules.homeostasis import (rate_scale_float, rate_scale_int, rate_track_float, rate_track_int,
                                            stepwise_scale_float, stepwise_scale_int)
from hwsnn.engine.rules.threshold import (IPConst, IPIntConst, adaptive_threshold_int_step, gated_on_pre,
                                          homeostatic_ip_int_step, homeostatic_ip_step)
from hwsnn.errors import ConfigError
from hwsnn.plasticity import normalize_columns, normalize_columns_int
from hwsnn.snn import Network, poisson_raster

FMT = IntFormat(8, 8)


# -- normalisation -------------------------------------------------------------------------------
def test_normalisation_invariant():
    rng = np.random.default_rng(0)
    w = rng.random((64, 10)) * 0.5
    w[:, 3] = 0.0  # a silent column stays zero
    normalize_columns(w, 6.4, 1.0)
    sums = w.sum(0)
    np.testing.assert_allclose(np.delete(sums, 3), 6.4, rtol=1e-12)
    assert sums[3] == 0
    q = rng.integers(0, 256, (64, 10)).astype(np.int64)
    ratio = q / q.sum(0)
    normalize_columns_int(q, 1632, 255)
    assert np.all(np.abs(q.sum(0) - 1632) <= 64 / 2)  # at most half a code per synapse
    np.testing.assert_allclose(q / 1632, ratio, atol=0.5 / 1632 + 1e-12)  # proportions kept


def test_normalisation_in_network_each_period():
    raster = poisson_raster(np.full(20, 50.0), 100, seed=0)
    net = Network()
    net.add_input("in", 20)
    net.add_population("out", LifNeuron(), 4)
    proj = net.connect("in", "out", w=np.random.default_rng(1).random((20, 4)) * 0.3,
                       rules=[Normalize(target=2.0, period=50)])
    net.run(49, {"in": raster})
    assert not np.allclose(proj.syn.weights().sum(0), 2.0)
    net.run(1, {"in": raster})
    np.testing.assert_allclose(proj.syn.weights().sum(0), 2.0)
    # integer twin: stochastic rounding keeps the column sums within a few codes of the target
    net = Network(synapse="int")
    net.add_input("in", 20)
    net.add_population("out", LifNeuron(), 4)
    proj = net.connect("in", "out", w=np.random.default_rng(1).random((20, 4)) * 0.3,
                       rules=[Normalize(target=2.0, period=50)])
    net.run(50, {"in": raster})
    assert proj.compiled[0].TARGET == 510
    assert np.all(np.abs(proj.syn.q.sum(0) - 510) <= 8)


# -- stepwise scaling-----------------------------------------------------------------------------
def test_stepwise_scaling_direction_and_twins():
    rng = np.random.default_rng(2)
    q = rng.integers(0, 256, (32, 6)).astype(np.int64)
    q[:, 0] //= 8  # far below target
    q[:, 1] = 255  # far above
    lsb = 1 / 255
    w = q * lsb
    target = float(np.median(q.sum(0))) * lsb
    sums_q = q.sum(0)
    delta_q = 40
    q0, w0 = q.copy(), w.copy()
    d_int = stepwise_scale_int(q, sums_q, int(round(target / lsb)), delta_q, 3, 255)
    d_f = stepwise_scale_float(w, w0.sum(0), target, delta_q * lsb, 3, lsb, 1.0)
    np.testing.assert_array_equal(d_int, d_f)
    expect_dir = np.where(sums_q > round(target / lsb) + delta_q, -1, np.where(sums_q < round(target / lsb) - delta_q,
                                                                                1, 0))
    np.testing.assert_array_equal(d_int, expect_dir)
    assert d_int[0] == 1 and d_int[1] == -1
    moved = np.sign(q.sum(0) - q0.sum(0))
    np.testing.assert_array_equal(moved, expect_dir)
    # float twin == integer up to the floor of the shift (< 1 code per synapse)
    assert np.abs(w - q * lsb).max() <= lsb + 1e-12


def test_stepwise_scaling_converges_into_band():
    rng = np.random.default_rng(3)
    q = rng.integers(0, 256, (32, 4)).astype(np.int64)
    for _ in range(200):
        stepwise_scale_int(q, q.sum(0), 2000, 100, 4, 255)
    assert np.all(np.abs(q.sum(0) - 2000) <= 100 + 32 * 255 / 16)


# -- rate scaling --------------------------------------------------------------------------------
def _rate_model(total_w):
    """A neuron whose rate (Hz) is proportional to its summed input weight."""
    return 5.0 * total_w


def test_rate_scaling_fixed_point_float():
    r_t = 20.0
    w = np.full((10, 3), 0.1) * np.array([0.5, 1.0, 3.0])
    for _ in range(400):
        rbar = _rate_model(w.sum(0))
        rate_scale_float(w, rbar, r_t, 0.005, 1.0)
    # fixed point: rate == target (sum w = 4 for every column), from below and from above
    np.testing.assert_allclose(_rate_model(w.sum(0)), r_t, rtol=1e-3)


def test_rate_tracking_float_and_int_agree():
    spk = poisson_raster(np.array([20.0]), 20000, seed=4)
    rb_f = np.zeros(1)
    rb_i = np.zeros(1, np.int64)
    k_r, b_r = 7, 16
    d = 1 - 2.0 ** -k_r
    for t in range(20000):
        rate_track_float(rb_f, spk[t], d, 1e-3)
        rate_track_int(rb_i, spk[t], k_r, b_r)
    # the integer decay floors (rbar >> K_R), which keeps up to one code per step: the estimate
    # sits above the float one by at most 2**K_R codes (half of that on average)
    bias = (rb_i[0] / 2 ** b_r - rb_f[0] * 1e-3) * 2 ** b_r
    assert 0 <= bias <= 2 ** k_r


def test_rate_scaling_int_fixed_point_and_direction():
    q = np.full((10, 3), 60, np.int64)
    b_r = 16
    r_tgt = round(0.02 * 2 ** b_r)  # 20 Hz at 1 ms
    rbar = np.array([r_tgt // 2, r_tgt, 2 * r_tgt], np.int64)
    q0 = q.copy()
    lfsr = np.array([0xACE1], np.int64)
    rate_scale_int(q, rbar, r_tgt, 128, b_r + 7, 255, lfsr)
    assert np.all(q[:, 0] >= q0[:, 0]) and np.all(q[:, 1] == q0[:, 1]) and np.all(q[:, 2] <= q0[:, 2])
    # unbiased: mean change equals q (R - rbar) H / 2**(B_R + H_E) (= 60 * 0.5*0.02 = 0.6 codes)
    assert (q[:, 0] - 60).mean() == pytest.approx(60 * (r_tgt - r_tgt // 2) * 128 / 2 ** 23, abs=0.35)
    assert RateScaling(r_target=20.0, eta=0.005).to_int(FMT, 1e-3, 1.0).R_TGT == r_tgt


def test_rate_scaling_in_network_moves_rate_toward_target():
    raster = poisson_raster(np.full(30, 40.0), 3000, seed=5)
    rates = {}
    for backend in ("ideal", "int"):
        net = Network(synapse=backend)
        net.add_input("in", 30)
        net.add_population("out", LifNeuron(), 2)
        proj = net.connect("in", "out", w=np.array([[0.9, 0.05]] * 30), gain=0.2,
                           rules=[RateScaling(r_target=15.0, tau_r=0.2, eta=0.002, period=50)])
        w0 = proj.syn.weights().sum(0)
        net.run(3000, {"in": raster})
        w1 = proj.syn.weights().sum(0)
        assert w1[0] < w0[0] and w1[1] > w0[1], backend  # too active -> down, too quiet -> up
        rates[backend] = w1


# -- thresholds ----------------------------------------------------------------------------------
def test_adaptive_threshold_int_matches_float():
    p = AdaptiveThresholdInt.from_float(theta_plus=0.05, tau_theta=2.0, dt=1e-3, v_lsb=0.01, F=8, P=4)
    spk = poisson_raster(np.full(4, 30.0), 6000, seed=6)
    th_f = np.zeros(4)
    th_i = np.zeros(4, np.int64)
    d = p.decay_per_step()
    c = p.population_consts()
    for t in range(6000):
        th_f = th_f * d + p.THETA_PLUS * spk[t].astype(float)  # float reference in register units
        adaptive_threshold_int_step(c, th_i, spk[t].astype(np.int64), t)
    np.testing.assert_allclose(th_i, th_f, rtol=0.02)
    assert th_f.min() > 10 * p.THETA_PLUS


def test_homeostatic_ip_float_and_int_fixed_point():
    rho = 0.02
    eta = 0.05
    theta_f = np.zeros(1)
    rng = np.random.default_rng(7)
    c = IPConst(eta, rho, 0.0)
    # a neuron whose spike probability falls with its threshold: p = 0.1 exp(-theta)
    for t in range(40000):
        s = np.array([float(rng.random() < 0.1 * math.exp(-theta_f[0]))])
        homeostatic_ip_step(c, theta_f, s, t)
    assert theta_f[0] == pytest.approx(math.log(0.1 / rho), abs=0.3)
    ip = HomeostaticIP(eta=eta, rho=rho).to_int(v_lsb=1.0)
    assert ip.DN / ip.UP == pytest.approx(rho, rel=1 / 64)
    theta_i = np.zeros(1, np.int64)
    ci = IPIntConst(ip.UP, ip.DN, 0)
    for t in range(40000):
        s = np.array([int(rng.random() < 0.1 * math.exp(-theta_i[0] / 2 ** ip.F))], np.int64)
        homeostatic_ip_int_step(ci, theta_i, s, t)
    assert theta_i[0] / 2 ** ip.F == pytest.approx(math.log(0.1 / rho), abs=0.3)


def test_stepwise_gated_hooks_float_and_int_identical():
    rule = StepwiseGated(w_step=2 / 255)
    twin = rule.to_int(FMT, 1e-3, 1.0)
    assert twin.STEP == 2
    from hwsnn.engine.rules.threshold import GatedConst, GatedIntConst, gated_on_synapse

    for up, dn in ((1, 0), (0, 1), (1, 1), (0, 0)):
        dw = gated_on_pre(GatedConst(rule.w_step), 0.5, up, dn)
        dq = gated_on_synapse(GatedIntConst(twin.STEP), 100, 1, 0, up, dn, 0xACE1)
        assert dq == round(dw * 255)
        assert dw == (rule.w_step if up else (-rule.w_step if dn else 0.0))
        assert gated_on_synapse(GatedIntConst(twin.STEP), 100, 0, 1, up, dn, 0xACE1) == 0  # only pre spikes
    with pytest.raises(ConfigError) as e:
        StepwiseGated(w_step=1.5 / 255).to_int(FMT, 1e-3, 1.0)
    assert e.value.field == "rules.w_step"


def test_network_rules_refuse_the_layer_kernel():
    """Rules that read neuron state or act every ``period`` steps run in Network only."""
    ctx = CompileContext(dt=1e-3, w_max=1.0, n_in=4, n_out=2, backend="ideal")
    for rule in (StepwiseGated(), HomeostaticIP(), Normalize(), RateScaling(), StepwiseScaling()):
        with pytest.raises(ConfigError):
            rule.consts(ctx)


@pytest.mark.parametrize("cls,field,value", [
    (Normalize, "target", 0.0),
    (Normalize, "period", 0),
    (StepwiseScaling, "shift", 0),
    (RateScaling, "tau_r", 0.0),
    (HomeostaticIP, "rho", 2.0),
    (AdaptiveThresholdInt, "Q", 0),
])
def test_bad_rule_config(cls, field, value):
    with pytest.raises(ValidationError) as e:
        cls(**{field: value})
    assert e.value.errors()[0]["loc"] == (field,)


def test_normalisation_checker_rejects_mutant():
    """Normalising rows instead of columns (a transposition bug) breaks the invariant."""
    rng = np.random.default_rng(9)
    w = rng.random((16, 4))
    wt = np.ascontiguousarray(w.T)
    normalize_columns(wt, 3.0, 1.0)  # mutant: applied to the transposed matrix
    assert not np.allclose(wt.T.sum(0), 3.0)


def test_homeostatic_ip_as_population_rule():
    raster = poisson_raster(np.full(20, 50.0), 4000, seed=10)
    net = Network()
    net.add_input("in", 20)
    pop = net.add_population("out", LifNeuron(tau_m=20e-3, v_thresh=1.0), 3, rules=[HomeostaticIP(eta=0.1, rho=0.01)])
    net.connect("in", "out", w=np.full((20, 3), 0.5), gain=0.5)
    out = net.run(4000, {"in": raster})
    late = out.spikes["out"][2000:].mean(0)  # spikes per step after adaptation (theta ~ 4 reached by ~1000)
    assert pop.theta.min() > 0
    np.testing.assert_allclose(late, 0.01, atol=0.004)
