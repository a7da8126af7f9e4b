"""DeviceArray API: core + extended API, determinism, switches, bounds, bad input."""

import dataclasses

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsnn.devices import DeviceArray, DeviceParams, get_preset
from hwsnn.devices.numpy_ref import NumpyDeviceArray
from hwsnn.errors import ConfigError

STO = get_preset("sto")
ALL_ON = STO.replace(p_stuck_min=0.01, p_stuck_max=0.01, p_stuck_random=0.01, consol_rate=0.2, levels=0)


def workload(a, rng_seed=0):
    r = np.random.default_rng(rng_seed)
    for _ in range(4):
        a.pulse(r.integers(-6, 9, a.shape))
        a.advance(0.3)
    return a.read()


def test_contract2_api_and_initial_state():
    a = DeviceArray(STO, shape=(3, 4), seed=0)
    assert a.shape == (3, 4) and a.seed == 0 and a.params is STO and a.time == 0.0
    # fully reset: every device at its own minimum
    np.testing.assert_array_equal(a.conductance(), a.g_min_dev)
    assert a.g_max_dev.shape == (3, 4) and np.all(a.g_max_dev > a.g_min_dev)
    a.pulse(np.array([1, 2, 3, 4]))  # broadcast over rows
    a.advance(2.5)
    assert a.time == 2.5 and a.energy > 0 and a.pulse_count == 30
    assert a.read().shape == (3, 4) and a.stuck.dtype == np.int8


def test_same_seed_same_result_any_thread_count_and_call_order():
    outs = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        try:
            outs.append(workload(DeviceArray(ALL_ON, (37, 29), seed=11)))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(outs[0], outs[1])
    # call order: the same events split into row groups / sparse calls give identical devices
    n = np.random.default_rng(1).integers(-5, 8, (37, 29))
    a = DeviceArray(ALL_ON, (37, 29), seed=11)
    a.pulse(n)
    b = DeviceArray(ALL_ON, (37, 29), seed=11)
    b.pulse(n[20:], rows=np.arange(20, 37))
    b.pulse(n[:20][::-1], rows=np.arange(20)[::-1])  # rows in reverse order
    c = DeviceArray(ALL_ON, (37, 29), seed=11)
    idx = np.flatnonzero(n)[::-1].copy()
    c.pulse_at(idx, n.ravel()[idx])
    np.testing.assert_array_equal(a.conductance(), b.conductance())
    np.testing.assert_array_equal(a.conductance(), c.conductance())
    assert a.energy == pytest.approx(c.energy, rel=1e-12) and a.pulse_count == c.pulse_count
    assert not np.array_equal(workload(DeviceArray(ALL_ON, (37, 29), seed=12)), outs[0])


def test_rows_are_lazy_views_of_the_same_devices():
    a = DeviceArray(STO, (10, 6), seed=2)
    workload(a)
    rows = np.array([7, 2, 2])
    np.testing.assert_array_equal(a.conductance(rows), a.conductance()[rows])
    assert a.read(rows).shape == (3, 6)
    b = DeviceArray(STO, (10, 6), seed=2)
    workload(b)
    b.pulse(3, rows=np.array([4]))
    a.pulse(np.where(np.arange(10)[:, None] == 4, 3, 0))
    np.testing.assert_array_equal(a.conductance(), b.conductance())


@pytest.mark.parametrize("law", ["neurosim", "linear", "exp"])
def test_pulses_for_inverts_the_law(law):
    p = STO.replace(update_model=law, c2c_mult=0.0, c2c_add=0.0, st_amp=0.0, d2d=0.15, drift_nu_mean=0, drift_nu_std=0)
    a = DeviceArray(p, (20, 10), seed=3)
    a.pulse(30)
    tgt = a.g_min_dev + (a.g_max_dev - a.g_min_dev) * np.linspace(0.05, 0.95, 200).reshape(20, 10)
    n = a.pulses_for(tgt)
    a.pulse(n)
    err = np.abs(a.conductance() - tgt) / (a.g_max_dev - a.g_min_dev)
    # closest integer pulse count: error below one step (the largest step of the law)
    assert err.max() < 0.04
    assert np.all(a.pulses_for(a.conductance()) == 0)


def test_pulses_for_picks_the_closest_count_exhaustively():
    # d2d = 0: all 301 devices identical, device k receives pulse count k - 150 (brute force)
    p = STO.replace(c2c_mult=0.0, c2c_add=0.0, st_amp=0.0, d2d=0.0, nl_ltd=3.1, drift_nu_mean=0, drift_nu_std=0)
    a = DeviceArray(p, (1, 1), seed=4)
    a.pulse(40)
    b = DeviceArray(p, (1, 301), seed=4)
    b.pulse(40)
    ks = np.arange(-150, 151)
    b.pulse(ks[None, :])
    gb = b.conductance()[0]
    g0 = a.conductance()[0, 0]
    for frac in [0.02, 0.1, 0.33, 0.8, 0.97]:
        tgt = p.g_min + frac * (p.g_max - p.g_min)
        best = ks[np.argmin(np.abs(gb - tgt))]
        assert a.pulses_for(np.array([[tgt]]))[0, 0] == best
    assert a.conductance()[0, 0] == g0


def test_every_effect_off_at_zero():
    base = ALL_ON
    # d2d = 0: no spread of window, step, nonlinearity, time constants
    a = DeviceArray(base.replace(d2d=0.0), (10, 10), seed=1)
    for arr in (a.g_min_dev, a.g_max_dev, a.tau):
        assert np.all(arr == arr.flat[0])
    assert np.all(a._ap == a._ap[0]) and np.all(a._su == a._su[0])
    # c2c = 0 (and d2d = 0): identical devices follow identical noise-free trajectories
    q = base.replace(d2d=0.0, c2c_mult=0.0, c2c_add=0.0, st_noise=0.0, p_stuck_min=0, p_stuck_max=0, p_stuck_random=0)
    b = DeviceArray(q, (5, 5), seed=1)
    b.pulse(7)
    assert np.all(b.conductance() == b.conductance()[0, 0])
    # read_noise = 0: read() == conductance()
    c = DeviceArray(base.replace(read_noise=0.0), (5, 5), seed=1)
    workload(c)
    np.testing.assert_array_equal(c.read(), c.conductance())
    # st_amp = 0 and no drift: conductance frozen in time after a write
    d = DeviceArray(base.replace(st_amp=0.0, drift_nu_mean=0.0, drift_nu_std=0.0), (5, 5), seed=1)
    d.pulse(9)
    g = d.conductance()
    d.advance(1e6)
    np.testing.assert_array_equal(d.conductance(), g)
    # faults at 0: none stuck
    assert not DeviceArray(STO, (50, 50), seed=1).stuck.any()
    # energy parameters at 0: no energy
    e = DeviceArray(base.replace(write_voltage=0.0), (3, 3))
    e.pulse(3)
    assert e.energy == 0.0


def test_switches_have_an_effect_when_on():
    # mutant check for the zero-switch test: each effect, when on, changes the outcome
    q = STO.replace(d2d=0.0, c2c_mult=0.0, c2c_add=0.0, st_amp=0.0, drift_nu_mean=0.0, drift_nu_std=0.0, read_noise=0.0)
    for change in [dict(d2d=0.1), dict(c2c_add=0.01), dict(c2c_mult=0.1), dict(st_amp=0.02), dict(drift_nu_mean=0.05)]:
        a = DeviceArray(q.replace(**change), (4, 4), seed=1)
        a.pulse(9)
        a.advance(5.0)
        g = a.conductance()
        ref = DeviceArray(q, (4, 4), seed=1)
        ref.pulse(9)
        ref.advance(5.0)
        assert not np.array_equal(g, ref.conductance()), change


def test_numpy_reference_agrees_without_noise():
    p = STO.replace(c2c_mult=0.0, c2c_add=0.0, st_noise=0.0, read_noise=0.0, d2d=0.0, consol_rate=0.3, drift_nu_std=0.0)
    a = DeviceArray(p, (8, 8), seed=0)
    b = NumpyDeviceArray(p, (8, 8), seed=0)
    r = np.random.default_rng(5)
    for _ in range(6):
        n = r.integers(-10, 12, (8, 8))
        a.pulse(n)
        b.pulse(n)
        a.advance(0.7)
        b.advance(0.7)
        np.testing.assert_allclose(a.conductance(), b.conductance(), rtol=1e-5)
    assert a.energy == pytest.approx(b.energy, rel=1e-5) and a.pulse_count == b.pulse_count


PARAMS = st.fixed_dictionaries(
    {
        "g_min": st.floats(0.0, 1e-6),
        "ratio": st.floats(1.01, 1e4),
        "update_model": st.sampled_from(["neurosim", "constant", "linear", "softbounds", "exp", "pow"]),
        "p_max": st.floats(1.0, 2000.0),
        "nl_ltp": st.floats(0.0, 9.0),
        "nl_ltd": st.floats(0.0, 9.0),
        "c2c_mult": st.floats(0.0, 3.0),
        "c2c_add": st.floats(0.0, 1.0),
        "d2d": st.floats(0.0, 2.0),
        "st_amp": st.floats(0.0, 0.5),
        "drift_nu_mean": st.floats(0.0, 2.0),
        "drift_g_rest": st.floats(0.0, 1.0),
        "consol_rate": st.floats(0.0, 1.0),
        "law_gamma_up": st.floats(0.0, 3.0),
        "read_noise": st.floats(0.0, 1.0),
    }
)


@settings(max_examples=40, deadline=None)
@given(PARAMS, st.lists(st.tuples(st.integers(-300, 300), st.floats(0.0, 1e4)), min_size=1, max_size=6), st.integers(0, 99))
def test_conductance_always_within_device_window(d, events, seed):
    d = dict(d)
    g_min = d.pop("g_min")
    p = DeviceParams(g_min=g_min, g_max=(g_min or 1e-9) * d.pop("ratio") + 1e-12, **d)
    a = DeviceArray(p, (3, 4), seed=seed)
    lo, hi = a.g_min_dev, a.g_max_dev
    r = np.random.default_rng(seed)
    for n, dt in events:
        a.pulse(r.integers(min(n, 0), max(n, 0) + 1, (3, 4)))
        a.advance(dt)
        g = a.conductance()
        assert np.all(np.isfinite(g))
        assert np.all(g >= lo * (1 - 1e-6)) and np.all(g <= hi * (1 + 1e-6))
        assert np.all(np.isfinite(a.read())) and np.all(a.read() >= 0)


@pytest.mark.parametrize(
    "call,field",
    [
        (lambda a: a.pulse(np.ones((2, 5), int)), "n"),
        (lambda a: a.pulse(np.ones(3) * 0.5), "n"),
        (lambda a: a.pulse(np.array([np.nan])), "n"),
        (lambda a: a.pulse(1, rows=np.array([9])), "rows"),
        (lambda a: a.pulse(np.ones((2, 4), int), rows=np.array([0, 1, 2])), "n"),
        (lambda a: a.pulse(1, rows=np.array([1, 1])), "rows"),
        (lambda a: a.pulse_at(np.array([0, 0]), 1), "flat_idx"),
        (lambda a: a.pulse_at(np.array([0, 99]), 1), "flat_idx"),
        (lambda a: a.pulse_at(np.array([0, 1]), np.array([1, 2, 3])), "n"),
        (lambda a: a.advance(-1.0), "dt"),
        (lambda a: a.advance(float("nan")), "dt"),
        (lambda a: a.pulses_for(np.ones((5, 5))), "g_target"),
        (lambda a: a.pulses_for(np.array([np.nan])), "g_target"),
        (lambda a: a.conductance(rows=np.array([[0]])), "rows"),
        (lambda a: a.conductance(cols=np.array([4])), "cols"),
        (lambda a: a.long_term(rows=np.array([3])), "rows"),
        (lambda a: a.pulses_for(np.ones(4), rows=np.array([-1])), "rows"),
    ],
)
@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_bad_calls_raise_config_error(call, field, layout):
    a = DeviceArray(STO, (3, 4), layout=layout)
    with pytest.raises(ConfigError) as ei:
        call(a)
    assert ei.value.field == field


def test_bad_layout_names_the_field():
    with pytest.raises(ConfigError) as ei:
        DeviceArray(STO, (2, 2), layout="diagonal")
    assert ei.value.field == "layout"


@pytest.mark.parametrize("shape,seed,field", [((0, 3), 0, "shape"), ((3,), 0, "shape"), ((2, 2), -1, "seed"), ("ab", 0, "shape")])
def test_bad_construction(shape, seed, field):
    with pytest.raises(ConfigError) as ei:
        DeviceArray(STO, shape, seed=seed)
    assert ei.value.field == field


def test_replace_keeps_frozen_dataclass_semantics():
    p = dataclasses.replace(STO, st_amp=0.0)
    assert DeviceArray(p, (2, 2)).params.st_amp == 0.0
