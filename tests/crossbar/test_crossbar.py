"""Crossbar behaviour against independent expectations (closed forms, device model, statistics)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from hwsnn.crossbar import Crossbar, CrossbarConfig, IOConfig, MappingConfig, UpdateConfig, ir_drop_nodal
from hwsnn.crossbar import kernels as K
from hwsnn.devices import DeviceArray, get_preset
from hwsnn.errors import ConfigError

IDEAL = get_preset("ideal")


def cfg(scheme="differential", w_min=0.0, io=None, update=None, levels=None):
    return CrossbarConfig(mapping=MappingConfig(scheme=scheme, w_min=w_min, levels=levels),
                          io=io or IOConfig(), update=update or UpdateConfig())


def quiet_sto(**kw):
    """STO device with volatile state and drift off (they are tested in hwsnn.devices)."""
    base = dict(st_amp=0.0, drift_nu_mean=0.0, drift_nu_std=0.0)
    base.update(kw)
    return get_preset("sto").replace(**base)


# -- mapping ------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["differential", "reference"])
@pytest.mark.parametrize("w_min", [0.0, -1.0])
def test_program_ideal_roundtrip_within_half_pulse(scheme, w_min):
    n_in, n_out = 12, 7
    xb = Crossbar(IDEAL, n_in, n_out, cfg(scheme, w_min), seed=3)
    w = np.random.default_rng(1).uniform(w_min, 1.0, (n_in, n_out))
    res = xb.program(w, verify=False)
    # an ideal linear device moves w_span/p_max per pulse; the inverse law picks the nearest count
    step = xb.config.mapping.w_span / IDEAL.p_max
    assert np.max(np.abs(xb.weights() - w)) <= 0.5 * step + 1e-6
    assert res.error == pytest.approx(np.max(np.abs(xb.weights() - w)))
    assert res.iterations == 1 and res.pulses == xb.pulse_count > 0


def test_levels_quantise_targets():
    xb = Crossbar(IDEAL, 6, 5, cfg(levels=5), seed=0)
    w = np.random.default_rng(2).uniform(0, 1, (6, 5))
    xb.program(w)
    wq = np.round(w * 4) / 4  # 5 levels on [0, 1]; no ties at these draws
    assert np.array_equal(xb.quantize(w), wq)
    assert np.max(np.abs(xb.weights() - wq)) <= 0.5 / IDEAL.p_max + 1e-6


def test_differential_sign_handling():
    xb = Crossbar(IDEAL, 4, 6, cfg(w_min=-1.0), seed=0)
    w = np.array([[-1.0, -0.5, -0.2, 0.0, 0.3, 1.0]] * 4)
    xb.program(w)
    g = xb.array.conductance()
    gp, gm = g[:, 0::2], g[:, 1::2]
    g_min = IDEAL.g_min
    neg = w < 0
    # the idle device of each pair is fully reset; the active one carries |w|
    assert np.allclose(gp[neg], g_min) and np.allclose(gm[~neg], g_min)
    assert np.allclose(gm[neg] - g_min, -w[neg] * (IDEAL.g_max - g_min), atol=1e-12)
    assert np.allclose(gp[~neg] - g_min, w[~neg] * (IDEAL.g_max - g_min), atol=1e-12)
    assert np.allclose(xb.weights(), w, atol=1e-6)
    # a spike read returns the signed sum
    assert np.allclose(xb.read_currents(np.array([0, 2])), 2 * w[0], atol=1e-6)


def test_reference_column_holds_the_zero_weight():
    xb = Crossbar(IDEAL, 3, 4, cfg("reference", -1.0), seed=0)
    xb.program(np.zeros((3, 4)))
    g = xb.array.conductance()
    mid = 0.5 * (IDEAL.g_min + IDEAL.g_max)  # w = 0 on [-1, 1]
    assert np.allclose(g, mid, rtol=1e-6)
    assert np.allclose(xb.weights(), 0.0, atol=1e-6)


# -- reads --------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["differential", "reference"])
def test_event_driven_read_equals_weighted_row_sum(scheme):
    xb = Crossbar(IDEAL, 10, 4, cfg(scheme, io=IOConfig(dac_bits=3)), seed=0)
    w = np.random.default_rng(4).uniform(0, 1, (10, 4))
    xb.program(w)
    we = xb.weights()
    rows = np.array([1, 4, 7])
    assert np.allclose(xb.read_currents(rows), we[rows].sum(0), rtol=1e-12, atol=1e-12)
    vals = np.array([0.1, 0.5, 0.93])
    xq = np.array([1 / 7, 4 / 7, 1.0])  # 3-bit DAC: round(v*7)/7
    assert np.allclose(xb.read_currents(rows, vals), xq @ we[rows], rtol=1e-12, atol=1e-12)
    x = np.zeros(10)
    x[rows] = vals
    assert np.allclose(xb.mvm(x), xb.read_currents(rows, vals), rtol=1e-12, atol=1e-14)
    assert np.allclose(xb.mvm(np.stack([x, x])), xb.read_currents(rows, vals)[None].repeat(2, 0), atol=1e-14)
    assert np.array_equal(xb.read_currents(np.array([], np.int64)), np.zeros(4))


def test_adc_in_the_read_path():
    io = IOConfig(adc_bits=4, adc_range=(0.0, 3.0))
    xb = Crossbar(IDEAL, 8, 5, cfg(io=io), seed=0)
    w = np.random.default_rng(5).uniform(0, 1, (8, 5))
    xb.program(w)
    rows = np.arange(6)
    ideal = xb.weights()[rows].sum(0)
    step = 3.0 / 15
    expect = np.clip(np.round(ideal / step), 0, 15) * step
    assert np.allclose(xb.read_currents(rows), expect, atol=1e-12)
    assert xb.read_currents(rows).max() <= 3.0 + 1e-12


def test_out_noise_statistics():
    xb = Crossbar(IDEAL, 4, 300, cfg(io=IOConfig(out_noise=0.2)), seed=0)
    xb.program(np.full((4, 300), 0.5))
    y = np.concatenate([xb.read_currents(np.array([0, 1])) for _ in range(20)]) - 1.0
    n = y.size  # 6000 draws
    assert abs(y.mean()) < 5 * 0.2 / np.sqrt(n)
    assert abs(y.var() / 0.04 - 1) < 5 * np.sqrt(2 / n)


def column_variance_ok(samples, expected_var, n_sigma=5.0):
    """Sample variances per column vs expected, within n_sigma of the chi-square spread."""
    n = samples.shape[0]
    ratio = samples.var(axis=0, ddof=1) / expected_var
    return bool(np.all(np.abs(ratio - 1) < n_sigma * np.sqrt(2 / (n - 1))))


@pytest.mark.parametrize("sr, sa", [(0.05, 0.0), (0.03, 0.005)])
@pytest.mark.parametrize("scheme", ["differential", "reference"])
def test_column_read_noise_equals_per_device_noise(scheme, sr, sa):
    p = quiet_sto(read_noise=sr, read_noise_add=sa, c2c_mult=0.0, c2c_add=0.0)
    w = np.random.default_rng(6).uniform(0.1, 0.9, (8, 6))
    rows = np.array([0, 2, 3, 6])
    out = {}
    for mode in ["column", "device"]:
        xb = Crossbar(p, 8, 6, cfg(scheme, io=IOConfig(read_noise=mode)), seed=11)
        assert xb._column_noise_ok == (mode == "column")
        xb.program(w, verify=False)
        out[mode] = np.stack([xb.read_currents(rows) for _ in range(2000)])
    # expected: sum over the devices read of (c * sr * G)^2, from the device conductances
    g = xb.array.conductance(rows)
    c = xb.config.mapping.w_span / (p.g_max - p.g_min)
    window = (xb.array.g_max_dev - xb.array.g_min_dev)[rows]
    var_dev = c**2 * ((sr * g) ** 2 + (sa * window) ** 2)  # read-noise law (docs/devices.md), per device
    if scheme == "differential":
        expect = var_dev[:, 0::2].sum(0) + var_dev[:, 1::2].sum(0)
    else:
        expect = var_dev[:, :6].sum(0) + var_dev[:, 6].sum()
    mean = xb.weights()[rows].sum(0)
    for mode, smp in out.items():
        assert column_variance_ok(smp, expect), mode
        assert np.all(np.abs(smp.mean(0) - mean) < 5 * np.sqrt(expect / smp.shape[0])), mode
    # the checker fails on a mutant that adds the devices' standard deviations instead of variances
    sd_sum = np.sqrt(var_dev).sum(0)
    sd_sum = sd_sum[0::2] + sd_sum[1::2] if scheme == "differential" else sd_sum[:6] + sd_sum[6]
    mutant = mean + sd_sum * np.random.default_rng(0).standard_normal((2000, 6))
    assert not column_variance_ok(mutant, expect)


def test_read_model_is_the_device_read_noise_law():
    """``read_model``'s per-cell variance is the sum of both devices' read-noise variances
    (closed form from the device conductances), and its weights are ``weights()``; signed
    weights put conductance on ``G-`` too, so both devices of a pair matter."""
    sr, sa = 0.04, 0.003
    p = quiet_sto(read_noise=sr, read_noise_add=sa)
    xb = Crossbar(p, 7, 5, cfg("differential", -1.0), seed=4)
    xb.program(np.random.default_rng(2).uniform(-0.9, 0.9, (7, 5)), verify=False)
    w, v = xb.read_model()
    g = xb.array.conductance()
    c = xb.config.mapping.w_span / (p.g_max - p.g_min)
    var_dev = c**2 * ((sr * g) ** 2 + (sa * (xb.array.g_max_dev - xb.array.g_min_dev)) ** 2)
    np.testing.assert_allclose(v, var_dev[:, 0::2] + var_dev[:, 1::2], rtol=1e-12)
    np.testing.assert_allclose(w, xb.weights(), rtol=1e-12, atol=1e-15)
    wc, vc = xb.read_model(cols=[3, 1])
    np.testing.assert_array_equal(vc, v[:, [3, 1]])
    np.testing.assert_array_equal(wc, w[:, [3, 1]])
    # sums of the model over active rows finished by read_out give read_currents exactly
    rows = np.array([0, 2, 5])
    key, counter = xb.read_key
    y, vy = w[rows].sum(0), v[rows].sum(0)
    K.read_out(y, vy, 1.0, True, np.empty(5), key, counter, 0.0, *xb.adc)
    np.testing.assert_allclose(xb.read_currents(rows), y, rtol=1e-12)


def test_read_model_refuses_what_it_cannot_express():
    p = quiet_sto(read_noise=0.05)
    with pytest.raises(ConfigError, match="mapping.scheme"):
        Crossbar(p, 4, 2, cfg("reference", -1.0), seed=0).read_model()
    with pytest.raises(ConfigError, match="io.read_noise"):
        Crossbar(p, 4, 2, cfg(io=IOConfig(read_noise="device")), seed=0).read_model()


def test_reference_noise_is_shared_between_columns():
    p = quiet_sto(read_noise=0.05, c2c_mult=0.0, c2c_add=0.0, d2d=0.0)
    xb = Crossbar(p, 6, 2, cfg("reference", -1.0), seed=2)
    xb.program(np.zeros((6, 2)), verify=False)
    s = np.stack([xb.read_currents(np.arange(6)) for _ in range(3000)])
    c = 2.0 / (p.g_max - p.g_min)
    var_ref = np.sum((c * 0.05 * xb.array.conductance()[:, 2]) ** 2)
    cov = np.cov(s.T)
    # cov(y0, y1) = var(reference current); sampling sd of a covariance ~ sqrt((v0 v1 + c^2)/n)
    sd = np.sqrt((cov[0, 0] * cov[1, 1] + cov[0, 1] ** 2) / s.shape[0])
    assert abs(cov[0, 1] - var_ref) < 5 * sd
    assert cov[0, 1] > 10 * sd  # and it is clearly not zero (independent columns would give 0)


def test_column_noise_falls_back_when_not_exact():
    assert Crossbar(quiet_sto(), 2, 2)._column_noise_ok
    assert not Crossbar(quiet_sto(read_noise_model="pcm1f"), 2, 2)._column_noise_ok
    assert not Crossbar(quiet_sto(read_noise=0.3), 2, 2)._column_noise_ok  # a read could clip at 0 S
    assert not Crossbar(quiet_sto(), 2, 2, cfg(io=IOConfig(ir_drop=True)))._column_noise_ok


@pytest.mark.parametrize("scheme", ["differential", "reference"])
def test_ir_drop_read_matches_nodal_solve_of_the_array(scheme):
    p = IDEAL.replace(g_min=3e-6, g_max=40e-6)  # uS devices so that a few ohms matter
    io = IOConfig(ir_drop=True, r_wire=20.0, v_read=0.2)
    xb = Crossbar(p, 10, 6, cfg(scheme, io=io), seed=0)
    xb.program(np.random.default_rng(8).uniform(0, 1, (10, 6)))
    rows = np.array([0, 3, 4, 9])
    g = xb.array.conductance()
    v = np.zeros(10)
    v[rows] = 0.2
    i = ir_drop_nodal(g, v, 20.0) / 0.2
    c = xb.config.mapping.w_span / (p.g_max - p.g_min)
    expect = c * (i[0::2] - i[1::2]) if scheme == "differential" else c * (i[:6] - i[6])
    y = xb.read_currents(rows)
    assert np.allclose(y, expect, rtol=1e-6, atol=1e-9)
    ideal = xb.weights()[rows].sum(0)
    assert np.max(np.abs(y - ideal)) > 1e-3  # the drop is visible
    xb0 = Crossbar(p, 10, 6, cfg(scheme, io=IOConfig(ir_drop=True, r_wire=0.0, v_read=0.2)), seed=0)
    xb0.program(np.random.default_rng(8).uniform(0, 1, (10, 6)))
    assert np.allclose(xb0.read_currents(rows), ideal, rtol=1e-12, atol=1e-12)


# -- programming --------------------------------------------------------------------------------
def test_write_verify_reaches_tolerance_on_noisy_devices():
    p = quiet_sto()  # c2c 0.1 mult + 0.01 add, d2d 0.1, read noise 1 %
    w = np.random.default_rng(9).uniform(0.05, 0.85, (16, 10))
    tol = 0.03
    up = UpdateConfig(verify_tol=tol, verify_max_iter=30)
    open_loop = Crossbar(p, 16, 10, cfg(update=up), seed=4)
    r0 = open_loop.program(w, verify=False)
    xb = Crossbar(p, 16, 10, cfg(update=up), seed=4)
    res = xb.program(w, verify=True)
    err = np.abs(xb.weights() - w)
    # verify decides on noisy reads: allow a few read-noise sigmas of a pair (1 % of each G)
    g = xb.array.conductance()
    sigma_w = 0.01 * np.sqrt(g[:, 0::2] ** 2 + g[:, 1::2] ** 2) / (p.g_max - p.g_min)
    assert np.mean(err <= tol + 4 * sigma_w) == 1.0
    assert res.converged > 0.95 > r0.converged
    assert 1 < res.iterations <= 31
    # counters agree with the device model's own
    assert res.pulses == xb.pulse_count == xb.array.pulse_count
    assert res.energy == pytest.approx(xb.energy)
    # energy per pulse lies between V^2 Gmin tpw and V^2 Gmax tpw (line_cap = 0)
    e1 = p.write_voltage**2 * p.pulse_width
    gmin, gmax = xb.array.g_min_dev.min(), xb.array.g_max_dev.max()
    assert e1 * gmin * res.pulses <= res.energy <= e1 * gmax * res.pulses


def test_write_slots_row_and_column_parallel():
    p = IDEAL
    w = np.zeros((2, 2))
    w[0, 0], w[0, 1], w[1, 0], w[1, 1] = 0.3, 0.4, 0.1, 0.2  # 30, 40, 10, 20 SET pulses on G+
    row = Crossbar(p, 2, 2, cfg(update=UpdateConfig(pulse_scheme="row")), seed=0).program(w, verify=False)
    col = Crossbar(p, 2, 2, cfg(update=UpdateConfig(pulse_scheme="column")), seed=0).program(w, verify=False)
    assert row.write_slots == 40 + 20  # max per row
    assert col.write_slots == 30 + 40  # max per device column (G- columns get 0)
    assert row.pulses == col.pulses == 100
    assert row.write_time == pytest.approx(60 * p.pulse_width)


# -- updates ------------------------------------------------------------------------------------
def rounding_ok(counts, frac, n_sigma=5.0):
    """Total pulses of n independent Bernoulli(frac) roundings lies within n_sigma of n*frac."""
    n = counts.size
    return abs(counts.sum() - n * frac) <= n_sigma * np.sqrt(n * frac * (1 - frac))


@pytest.mark.parametrize("frac", [0.37, 0.9])
def test_stochastic_rounding_is_unbiased(frac):
    xb = Crossbar(IDEAL, 3000, 2, seed=5)
    step = xb.dw_step[0]
    assert step == pytest.approx(1.0 / IDEAL.p_max)
    n = xb.update(np.full((3000, 1), (2 + frac) * step), cols=np.array([1]))
    assert set(np.unique(n)) <= {2, 3}
    assert rounding_ok(n - 2, frac)
    # depression rounds the same way and is negative
    m = xb.update(np.full((3000, 1), -frac * step), cols=np.array([1]))
    assert set(np.unique(m)) <= {-1, 0} and rounding_ok(-m, frac)
    # the device really received them: G+ moved by (n + m) linear steps
    dg = (IDEAL.g_max - IDEAL.g_min) / IDEAL.p_max
    assert np.allclose(xb.array.conductance()[:, 2] - IDEAL.g_min, (n + m)[:, 0] * dg, atol=1e-15)
    # the checker rejects a truncating mutant
    assert not rounding_ok(np.floor(np.full(3000, frac)), frac)


def test_nearest_rounding_when_not_stochastic():
    xb = Crossbar(IDEAL, 4, 3, cfg(update=UpdateConfig(stochastic_rounding=False)), seed=0)
    dw = np.array([[0.014, 0.016, -0.034], [0.0, 0.049, -0.051]])
    n = xb.update(dw, rows=np.array([1, 3]))
    assert np.array_equal(n, [[1, 2, -3], [0, 5, -5]])


def test_depress_modes_route_to_the_right_device():
    base = np.full((2, 2), 0.5)
    # reset_plus: depression RESETs G+, G- untouched
    xb = Crossbar(IDEAL, 2, 2, cfg(update=UpdateConfig(stochastic_rounding=False)), seed=0)
    xb.program(base)
    g0 = xb.array.conductance()
    xb.update(np.full((2, 2), -0.1))
    g1 = xb.array.conductance()
    assert np.allclose(g1[:, 1::2], g0[:, 1::2]) and np.all(g1[:, 0::2] < g0[:, 0::2])
    # set_minus: depression SETs G-, G+ untouched
    xb = Crossbar(IDEAL, 2, 2, cfg(update=UpdateConfig(stochastic_rounding=False, depress="set_minus")), seed=0)
    xb.program(base)
    g0 = xb.array.conductance()
    xb.update(np.full((2, 2), -0.1))
    g1 = xb.array.conductance()
    assert np.allclose(g1[:, 0::2], g0[:, 0::2]) and np.all(g1[:, 1::2] > g0[:, 1::2])
    assert np.allclose(xb.weights(), 0.4, atol=1e-6)


def test_signed_weights_cross_zero_under_reset_plus():
    xb = Crossbar(IDEAL, 1, 1, cfg(w_min=-1.0, update=UpdateConfig(stochastic_rounding=False)), seed=0)
    xb.program(np.array([[0.05]]))
    for _ in range(10):
        xb.update(np.array([[-0.02]]))  # 2 pulses each: RESET G+ down to its minimum, then SET G-
    # 0.05 -> 0.03 -> 0.01 -> 0 (one of the two RESET pulses hits the floor: a train never spans
    # both devices) -> -0.02 ... seven SET trains on G- -> -0.14
    assert xb.weights()[0, 0] == pytest.approx(-0.14, abs=1e-6)
    g = xb.array.conductance()[0]
    assert g[0] == pytest.approx(IDEAL.g_min) and g[1] > IDEAL.g_min


@pytest.mark.parametrize("scheme", ["differential", "reference"])
def test_apply_pulses_matches_direct_device_pulses(scheme):
    p = get_preset("sto")  # full noise: equality needs the same events on the same devices
    n_in, n_out = 5, 4
    xb = Crossbar(p, n_in, n_out, cfg(scheme), seed=7)
    dev = DeviceArray(p, shape=xb.array.shape, seed=7)
    rng = np.random.default_rng(3)
    for _ in range(3):
        ns = rng.integers(0, 6, (n_in, n_out)) * (rng.uniform(size=(n_in, n_out)) < 0.5)
        nr = rng.integers(0, 6, (n_in, n_out)) * (rng.uniform(size=(n_in, n_out)) < 0.5)
        xb.apply_pulses(ns, nr)
        cols = np.arange(n_out) * 2 if scheme == "differential" else np.arange(n_out)
        full_s = np.zeros(dev.shape, np.int64)
        full_s[:, cols] = ns
        dev.pulse(full_s)
        full_r = np.zeros(dev.shape, np.int64)
        full_r[:, cols] = -nr
        dev.pulse(full_r)
        xb.advance(0.5)
        dev.advance(0.5)
    assert np.array_equal(xb.array.conductance(), dev.conductance())
    assert xb.pulse_count == dev.pulse_count and xb.energy == pytest.approx(dev.energy)
    # a row/column subset addresses the same devices
    xb.apply_pulses(np.array([[3]]), np.array([[0]]), rows=np.array([2]), cols=np.array([1]))
    one = np.zeros(dev.shape, np.int64)
    one[2, 2 if scheme == "differential" else 1] = 3
    dev.pulse(one)
    assert np.array_equal(xb.array.conductance(), dev.conductance())


# -- determinism and errors ---------------------------------------------------------------------
SCRIPT = """
import numpy as np
from hwsnn.crossbar import Crossbar
from hwsnn.devices import get_preset
xb = Crossbar(get_preset("sto"), 40, 8, seed=3)
xb.program(np.random.default_rng(0).uniform(0, 1, (40, 8)))
a = [xb.read_currents(np.array([1, 5, 7])) for _ in range(3)]
n = xb.update(np.full((40, 8), 0.0137))
xb.advance(2.0)
print(repr(np.concatenate([xb.weights().ravel(), np.concatenate(a), n.ravel().astype(float)]).tobytes().hex()))
"""


def test_same_seed_same_result_regardless_of_threads():
    outs = []
    for threads in ["1", "2"]:
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        outs.append(subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                                   check=True, timeout=120).stdout)
    assert outs[0] == outs[1] and len(outs[0]) > 100


def test_different_seed_differs():
    w = np.full((6, 3), 0.5)
    a, b = Crossbar("sto", 6, 3, seed=0), Crossbar("sto", 6, 3, seed=1)
    a.program(w, verify=False)
    b.program(w, verify=False)
    assert not np.array_equal(a.weights(), b.weights())


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda xb: xb.program(np.zeros((3, 3))), "w"),
        (lambda xb: xb.program(np.full((4, 3), 1.5)), "w"),
        (lambda xb: xb.program(np.full((4, 3), np.nan)), "w"),
        (lambda xb: xb.read_currents(np.array([4])), "active_rows"),
        (lambda xb: xb.read_currents(np.array([0.5])), "active_rows"),
        (lambda xb: xb.read_currents(np.array([0, 1]), values=np.ones(3)), "values"),
        (lambda xb: xb.read_currents(np.array([0]), values=np.array([np.nan])), "values"),
        (lambda xb: xb.mvm(np.ones(5)), "x"),
        (lambda xb: xb.update(np.zeros((4, 2))), "dw"),
        (lambda xb: xb.update(np.zeros((2, 3)), rows=np.array([0, 0])), "rows"),
        (lambda xb: xb.update(np.full((4, 3), np.inf)), "dw"),
        (lambda xb: xb.update(np.zeros((4, 1)), cols=np.array([3])), "cols"),
        (lambda xb: xb.apply_pulses(-np.ones((4, 3), int), np.zeros((4, 3), int)), "n_set"),
        (lambda xb: xb.apply_pulses(np.ones((4, 3), int), np.full((4, 3), 0.5)), "n_reset"),
        (lambda xb: xb.apply_pulses(np.ones((4, 3), int), np.ones((4, 2), int)), "n_reset"),
        (lambda xb: xb.apply_pulses(np.ones((1, 3), int), np.ones((1, 3), int)), "n_set"),
        (lambda xb: xb.advance(-1.0), "dt"),
    ],
)
def test_bad_calls_raise_config_error_naming_the_field(call, field):
    xb = Crossbar(IDEAL, 4, 3, seed=0)
    with pytest.raises(ConfigError) as ei:
        call(xb)
    assert ei.value.field == field


def test_weights_follow_device_drift_closed_form():
    nu = 0.1
    p = IDEAL.replace(drift_nu_mean=nu, drift_nu_std=0.0)
    xb = Crossbar(p, 3, 4, seed=0)
    w = np.random.default_rng(12).uniform(0, 1, (3, 4))
    xb.program(w, verify=False)
    w0 = xb.weights()
    xb.advance(50.0)
    # power-law relaxation toward g_min (docs/devices.md, Drift): G - g_min scales by (1 + t/t0)^-nu
    assert np.allclose(xb.weights(), w0 * (1 + 50.0 / p.drift_t0) ** -nu, rtol=1e-5)
    assert np.allclose(xb.read_currents(np.array([0, 2])), xb.weights()[[0, 2]].sum(0), rtol=1e-12)
    assert xb.time == 50.0
