"""Device model against closed-form laws, anchors and statistics (independent expectations)."""

import math

import numpy as np
import pytest
from scipy import stats

from hwsnn.devices import DeviceArray, DeviceParams, get_preset, nl_to_a

QUIET = dict(c2c_mult=0.0, c2c_add=0.0, st_amp=0.0, drift_nu_mean=0.0, drift_nu_std=0.0, read_noise=0.0)


def quiet(**kw):
    return DeviceParams(**{**QUIET, **kw})


def norm_state(a):
    g = a.conductance()
    return (g - a.g_min_dev) / (a.g_max_dev - a.g_min_dev)


# --------------------------------------------------------------------------------------------
# closed form for n pulses == n single pulses (noise off, d2d on)
@pytest.mark.parametrize("law", ["neurosim", "constant", "linear", "softbounds", "exp", "pow"])
def test_closed_form_equals_single_pulses(law):
    p = quiet(update_model=law, d2d=0.1, law_gamma_up=0.7, law_gamma_down=1.3, nl_ltp=2.4, nl_ltd=4.0)
    ns = np.array([[1, 3, 7, 20, 55, 130, -4, 0]])
    one = DeviceArray(p, (6, 8), seed=3)
    many = DeviceArray(p, (6, 8), seed=3)
    one.pulse(np.full((6, 8), 60))  # start from mid-window for the RESET columns
    many.pulse(np.full((6, 8), 60))
    one.pulse(np.broadcast_to(ns, (6, 8)))
    for k in range(ns.max()):
        many.pulse(np.broadcast_to((ns > k).astype(int), (6, 8)))
    for k in range(-ns.min()):
        many.pulse(np.broadcast_to(-(-ns > k).astype(int), (6, 8)))
    np.testing.assert_allclose(one.conductance(), many.conductance(), rtol=2e-5)
    assert one.pulse_count == many.pulse_count


def test_neurosim_equation_exact():
    # NeuroSim law: G(P) = B (1 - e^{-P/A}) + Gmin, B = (Gmax - Gmin)/(1 - e^{-Pmax/A})
    p = quiet(nl_ltp=2.4, nl_ltd=4.88, p_max=97, p_max_ltd=100, d2d=0.0, g_min=3.0769e-9, g_max=3.8462e-8)
    a = DeviceArray(p, (1, 1))
    A = nl_to_a(2.4) * 97
    B = (p.g_max - p.g_min) / (1 - math.exp(-97 / A))
    got = []
    for _ in range(97):
        a.pulse(1)
        got.append(a.conductance()[0, 0])
    P = np.arange(1, 98)
    np.testing.assert_allclose(got, B * (1 - np.exp(-P / A)) + p.g_min, rtol=1e-5)
    assert got[-1] == pytest.approx(p.g_max, rel=1e-5)
    # LTD: mirror image saturating at Gmin
    Ad = nl_to_a(4.88) * 100
    Bd = (p.g_max - p.g_min) / (1 - math.exp(-100 / Ad))
    a.pulse(-30)
    assert a.conductance()[0, 0] == pytest.approx(p.g_max - Bd * (1 - math.exp(-30 / Ad)), rel=1e-5)


def test_neurosim_equals_aihwkit_softbounds_pmax():
    # aihwkit SoftBoundsPmaxDevice: w(p_up) = B (1 - e^{-alpha p_up}) + r_min, B = (r_max - r_min)/(1 - e^{-alpha p_max})
    p = get_preset("aihwkit_softbounds_pmax").replace(**QUIET, d2d=0.0)
    a = DeviceArray(p, (1, 1))
    alpha, pmax, rmin, rmax = 0.0005, 1000, 0.0, 1.0
    B = (rmax - rmin) / (1 - math.exp(-alpha * pmax))
    for pup in [1, 10, 250, 739]:
        b = DeviceArray(p, (1, 1))
        b.pulse(pup)
        assert b.conductance()[0, 0] == pytest.approx(B * (1 - math.exp(-alpha * pup)) + rmin, rel=1e-5)
    # depression from the top: w(p_down) = -B (1 - e^{-alpha (p_max - p_down)}) + r_max ... mirrored form
    a.pulse(1000)
    a.pulse(-200)
    assert a.conductance()[0, 0] == pytest.approx(rmax - B * (1 - math.exp(-alpha * 200)), rel=1e-5)


def _aihwkit_step(law, w, d, dw, p):
    """Reference per-pulse aihwkit updates (docs/devices.md) on w in [-1, 1]; d=+1 up, -1 down."""
    if law == "constant":
        w = w + d * dw
    elif law in ("linear", "softbounds"):
        gu, gd = (1.0, 1.0) if law == "softbounds" else (p.law_gamma_up, p.law_gamma_down)
        if d > 0:
            w = w + dw * ((-gu / 1.0) * w + 1)  # gamma_up_ij = -|gamma_up|/b_max
        else:
            w = w - dw * ((-gd / -1.0) * w + 1)  # gamma_down_ij = -|gamma_down|/b_min
    elif law == "exp":
        z = 2 * p.exp_a * w / 2.0 + p.exp_b
        # aihwkit rpu_expstep_device.cpp update_once: y_up = 1 - A_up e^{gamma_up z}, y_down = 1 - A_down e^{-gamma_down z}
        if d > 0:
            y = 1 - p.exp_A_up * math.exp(p.exp_gamma_up * z)
            w = w + max(y, 0) * dw
        else:
            y = 1 - p.exp_A_down * math.exp(-p.exp_gamma_down * z)
            w = w - max(y, 0) * dw
    elif law == "pow":
        om = (1 - w) / 2
        w = w + dw * om**p.law_gamma_up if d > 0 else w - dw * (1 - om) ** p.law_gamma_down
    return min(max(w, -1.0), 1.0)


@pytest.mark.parametrize("law", ["constant", "linear", "softbounds", "exp", "pow"])
def test_aihwkit_laws_per_pulse(law):
    p = quiet(update_model=law, d2d=0.0, p_max=50, law_gamma_up=0.5, law_gamma_down=2.0)
    a = DeviceArray(p, (1, 1))
    w, dw = -1.0, 2.0 / 50
    seq = [1] * 70 + [-1] * 40 + [1] * 5
    for d in seq:
        a.pulse(d)
        w = _aihwkit_step(law, w, d, dw, p)
        assert 2 * norm_state(a)[0, 0] - 1 == pytest.approx(w, abs=2e-6)


def test_aihwkit_multiplicative_noise_single_pulse():
    # aihwkit ConstantStep: w <- w + dw (1 + sigma xi): step std = sigma * dw for single pulses
    p = quiet(update_model="constant", d2d=0.0, p_max=100, c2c_mult=0.3)
    a = DeviceArray(p, (200, 100), seed=1)
    a.pulse(1)
    steps = norm_state(a).ravel() / 0.01
    n = steps.size
    assert abs(steps.mean() - 1) < 4 * 0.3 / math.sqrt(n)
    var = steps.var(ddof=1)
    lo, hi = stats.chi2.ppf([1e-4, 1 - 1e-4], n - 1) / (n - 1) * 0.09
    assert lo < var < hi


def test_additive_noise_scales_with_sqrt_n():
    # NeuroSim: G_new += N(0, sigma_CtoC) sqrt(|n|) (linear law, no clipping in the middle)
    p = quiet(nl_ltp=0.0, nl_ltd=0.0, d2d=0.0, c2c_add=0.01)
    for n in [1, 9]:
        a = DeviceArray(p, (100, 100), seed=2)
        a.pulse(40)  # state ~0.4, far from the bounds
        before = norm_state(a)
        a.pulse(n)
        r = (norm_state(a) - before - n / 100).ravel()
        var_ref = 0.01**2 * n
        N = r.size
        lo, hi = stats.chi2.ppf([1e-4, 1 - 1e-4], N) / N * var_ref
        # the first event's noise is in `before`; the second event's is r
        assert lo < np.mean(r**2) < hi, n


# --------------------------------------------------------------------------------------------
# drift / relaxation
def test_power_law_drift_per_device_and_clock_reset():
    p = quiet(nl_ltp=2.0, d2d=0.1, drift_nu_mean=0.05, drift_nu_std=0.02, drift_t0=2.0, drift_g_rest=0.1)
    a = DeviceArray(p, (8, 8), seed=4)
    a.pulse(60)
    l0 = norm_state(a)
    nu = a.nu
    for dt in [0.5, 10.0, 1000.0]:
        a.advance(dt)
        t = a.time
        expect = 0.1 + (l0 - 0.1) * (1 + t / 2.0) ** (-nu)
        np.testing.assert_allclose(norm_state(a), expect, rtol=2e-5)
    # a write resets the drift clock: later drift is measured from the write time
    t_w = a.time
    a.pulse(5)
    l1 = norm_state(a)
    a.advance(7.0)
    np.testing.assert_allclose(norm_state(a), 0.1 + (l1 - 0.1) * (1 + 7.0 / 2.0) ** (-nu), rtol=2e-5)
    assert a.time == pytest.approx(t_w + 7.0)


def test_drift_exponent_statistics():
    mu, sd = 0.05, 0.01  # far from 0: the fold |N| is negligible (P < 3e-7)
    p = quiet(drift_nu_mean=mu, drift_nu_std=sd)
    nu = DeviceArray(p, (100, 100), seed=5).nu.ravel()
    n = nu.size
    assert abs(nu.mean() - mu) < 4 * sd / math.sqrt(n)
    lo, hi = stats.chi2.ppf([1e-4, 1 - 1e-4], n - 1) / (n - 1) * sd**2
    assert lo < nu.var(ddof=1) < hi


def test_pcm_drift_matches_aihwkit_formula():
    p = get_preset("aihwkit_pcm").replace(read_noise=0.0)
    a = DeviceArray(p, (20, 20), seed=6)
    a.pulse(np.arange(400).reshape(20, 20) % 90 + 5)
    g_prog = a.conductance()
    nu = a.nu
    gt = g_prog / 25e-6
    mu = np.clip(-0.0155 * np.log(gt) + 0.0244, 0.049, 0.1)
    sg = np.clip(-0.0125 * np.log(gt) - 0.0059, 0.008, 0.045)
    z = (nu - mu) / sg  # |N(mu, sg)|: fold of z is rare at these values
    assert abs(np.mean(np.abs(z))) < 3 and np.all(nu > 0)
    t_inf = 3600.0
    a.advance(t_inf)
    np.testing.assert_allclose(a.conductance(), g_prog * ((t_inf + 20.0) / 20.0) ** (-nu), rtol=2e-5)


# --------------------------------------------------------------------------------------------
# read noise and faults
def test_read_noise_statistics_and_fresh_each_call():
    p = quiet(read_noise=0.02, d2d=0.1)
    a = DeviceArray(p, (100, 100), seed=7)
    a.pulse(30)
    g = a.conductance()
    r1, r2 = a.read(), a.read()
    assert not np.array_equal(r1, r2)
    rel = (r1 / g - 1).ravel()
    n = rel.size
    assert abs(rel.mean()) < 4 * 0.02 / math.sqrt(n)
    lo, hi = stats.chi2.ppf([1e-4, 1 - 1e-4], n - 1) / (n - 1) * 0.02**2
    assert lo < rel.var(ddof=1) < hi
    np.testing.assert_array_equal(a.conductance(), g)  # reads do not disturb the state


def test_pcm_1f_read_noise_sigma():
    p = get_preset("aihwkit_pcm")
    a = DeviceArray(p, (100, 100), seed=8)
    a.pulse(50)
    a.advance(100.0)
    g = a.conductance()
    rel = (a.read() / g - 1).ravel()
    gt = 0.5  # 50 of 100 constant steps of a 25 uS window
    qs = min(0.0088 / gt**0.65, 0.2)
    t = 100.0 + 20.0
    sig = qs * math.sqrt(math.log((t + 250e-9) / (2 * 250e-9)))
    n = rel.size
    lo, hi = stats.chi2.ppf([1e-4, 1 - 1e-4], n - 1) / (n - 1) * sig**2
    assert lo < rel.var(ddof=1) < hi


def test_fault_rates_within_binomial_bounds_and_behaviour():
    p = quiet(p_stuck_min=0.02, p_stuck_max=0.03, p_stuck_random=0.05, d2d=0.1)
    a = DeviceArray(p, (200, 100), seed=9)
    s = a.stuck
    N = s.size
    for code, prob in [(1, 0.02), (2, 0.03), (3, 0.05)]:
        k = int(np.sum(s == code))
        lo, hi = stats.binom.ppf([1e-5, 1 - 1e-5], N, prob)
        assert lo <= k <= hi, code
    g0 = a.conductance()
    a.pulse(25)
    a.advance(100)
    a.pulse(-5)
    g1 = a.conductance()
    np.testing.assert_array_equal(g1[s != 0], g0[s != 0])
    np.testing.assert_allclose(g1[s == 1], a.g_min_dev[s == 1], rtol=1e-6)
    np.testing.assert_allclose(g1[s == 2], a.g_max_dev[s == 2], rtol=1e-6)
    r = (g1[s == 3] - a.g_min_dev[s == 3]) / (a.g_max_dev[s == 3] - a.g_min_dev[s == 3])
    assert stats.kstest(r, "uniform").pvalue > 1e-4
    assert np.all(g1[s == 0] > g0[s == 0])


# --------------------------------------------------------------------------------------------
# volatile state, PPF, meta-plasticity, consolidation
def test_short_term_decay_is_stpn_lambda():
    p = quiet(d2d=0.0, st_amp=0.05, st_max=0.5, st_tau=2.0, st_noise=0.0, nl_ltp=0.0)
    a = DeviceArray(p, (1, 1))
    a.pulse(1)
    w = p.g_max - p.g_min
    base = p.g_min + w * 0.01  # one linear long-term step
    for dt in [0.1, 1.0, 3.0]:
        a.advance(dt)
        lam = math.exp(-a.time / 2.0)  # STPN: F_t = lambda F_{t-1}
        assert a.conductance()[0, 0] - base == pytest.approx(w * 0.05 * lam, rel=1e-5)


def test_paired_pulse_facilitation_closed_form():
    a_s, smax, tau = 0.04, 0.5, 1.0
    p = quiet(d2d=0.0, st_amp=a_s, st_max=smax, st_tau=tau, st_noise=0.0, nl_ltp=0.0)
    w = p.g_max - p.g_min
    dl = 0.01
    ppf = []
    for dt in [0.05, 0.5, 2.0, 10.0]:
        a = DeviceArray(p, (1, 1))
        a.pulse(1)
        a1 = a.conductance()[0, 0] - p.g_min
        a.advance(dt)
        a.pulse(1)
        a2 = a.conductance()[0, 0] - p.g_min
        sb = a_s * math.exp(-dt / tau)
        expect = (2 * dl + sb + (smax - sb) * a_s / smax) / (dl + a_s)
        assert a2 / a1 == pytest.approx(expect, rel=1e-5)
        # closed form: PPF ~ 1 + a_s e^{-dt/tau}/(a_s + dL), plus the second long-term step dL/(a_s + dL)
        # that the approximation leaves out; the soft bound bounds the difference
        assert a2 / a1 - dl / (a_s + dl) == pytest.approx(1 + sb / (a_s + dl), abs=1.01 * a_s * sb / smax / (a_s + dl))
        ppf.append(a2 / a1)
        assert a1 == pytest.approx(w * (dl + a_s), rel=1e-5)
    assert all(x > y for x, y in zip(ppf, ppf[1:])) and ppf[0] > 1.5


def test_bias_controls_tau_meta_plasticity():
    p = quiet(d2d=0.0, st_amp=0.05, st_tau=1.0, st_noise=0.0, st_kappa=2.0, nl_ltp=0.0)
    a = DeviceArray(p, (1, 2))
    a.pulse(np.array([[1, 0]]))
    base = a.conductance()[0, 0] - (p.g_max - p.g_min) * 0.05
    a.bias = 0.5  # tau -> e^{1} s from now on
    a.advance(1.0)
    exc = a.conductance()[0, 0] - base
    assert exc == pytest.approx((p.g_max - p.g_min) * 0.05 * math.exp(-1.0 / math.e), rel=1e-5)


def test_consolidation_moves_volatile_to_long_term():
    p = quiet(d2d=0.0, st_amp=0.1, st_max=0.5, st_tau=1.0, st_noise=0.0, nl_ltp=0.0, consol_rate=0.5, consol_theta=0.1)
    a = DeviceArray(p, (1, 1))
    a.pulse(5)
    s = 0.5 - 0.5 * (1 - 0.2) ** 5  # soft-bounded volatile after 5 back-to-back pulses
    mv = 0.5 * (s - 0.1)
    assert a.long_term()[0, 0] == pytest.approx(0.05 + mv, rel=1e-5)
    a.advance(100.0)  # volatile gone, consolidated part stays
    assert a.long_term()[0, 0] == pytest.approx(0.05 + mv, rel=1e-5)


def test_finite_levels():
    p = quiet(d2d=0.0, levels=5, nl_ltp=0.0)
    a = DeviceArray(p, (1, 3))
    a.pulse(np.array([[10, 13, 40]]))  # 0.10 -> 0.0, 0.13 -> 0.25, 0.40 -> 0.5 (nearest of 0, .25, .5...)
    np.testing.assert_allclose(a.long_term()[0], [0.0, 0.25, 0.5], atol=1e-7)


def test_write_energy_neurosim_formula():
    p = quiet(d2d=0.0, nl_ltp=0.0, write_voltage=2.0, pulse_width=1e-6, line_cap=1e-15)
    a = DeviceArray(p, (1, 1))
    g0 = a.conductance()[0, 0]
    a.pulse(10)
    g1 = a.conductance()[0, 0]
    assert a.energy == pytest.approx(4.0 * (g0 + g1) / 2 * 1e-6 * 10 + 4.0 * 1e-15 * 10, rel=1e-6)
    assert a.pulse_count == 10


# --------------------------------------------------------------------------------------------
# the statistical checkers above reject deliberate mutants
def _var_ok(x, var_ref):
    n = x.size
    lo, hi = stats.chi2.ppf([1e-4, 1 - 1e-4], n - 1) / (n - 1) * var_ref
    return bool(lo < x.var(ddof=1) < hi)


def test_read_noise_checker_rejects_a_10_percent_mutant():
    for sigma, ok in [(0.02, True), (0.022, False), (0.018, False)]:
        a = DeviceArray(quiet(read_noise=sigma, d2d=0.1), (100, 100), seed=7)
        a.pulse(30)
        rel = (a.read() / a.conductance() - 1).ravel()
        assert _var_ok(rel, 0.02**2) is ok, sigma


def test_fault_checker_rejects_a_mutant_rate():
    N = 20000
    lo, hi = stats.binom.ppf([1e-5, 1 - 1e-5], N, 0.02)
    k_mut = int(np.sum(DeviceArray(quiet(p_stuck_min=0.026), (200, 100), seed=9).stuck == 1))
    assert not lo <= k_mut <= hi


def test_closed_form_checker_rejects_a_perturbed_law():
    # the NeuroSim-equation test tolerance (1e-5) is far below the effect of a 1 % error in A
    p = quiet(nl_ltp=2.4, d2d=0.0)
    a = DeviceArray(p, (1, 1))
    a.pulse(20)
    A = nl_to_a(2.4) * 100 * 1.01
    B = (p.g_max - p.g_min) / (1 - math.exp(-100 / A))
    assert a.conductance()[0, 0] != pytest.approx(B * (1 - math.exp(-20 / A)) + p.g_min, rel=1e-5)
