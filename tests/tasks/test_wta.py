"""The WTA network: kernel == straightforward dense reference, learning-off invariance,
event-driven shortcuts, config validation, and that it learns digits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwsnn.errors import ConfigError
from hwsnn.tasks._config import from_dict
from hwsnn.tasks.wta import WTAConfig, WTANetwork, assign_labels, predict, train_and_evaluate


# ---------------------------------------------------------------------------------------------- reference
def reference_presentation(cfg: WTAConfig, w, state, raster, learn):
    """Dense, step-by-step NumPy/Python model of one presentation (same per-step order as the kernel).

    Traces are dense arrays decayed every step; plasticity loops over all synapses; membranes use
    ``math.exp``.  Returns the spike counts of the presentation steps.
    """
    dt = cfg.dt
    n_in, n_exc = w.shape
    n_on, n_total = cfg.n_on, cfg.n_total
    v, ge, gi, ref, theta = (state[k] for k in ("v", "ge", "gi", "ref", "theta"))
    pop = cfg.inhibition == "population"
    vi, gei, refi = (state[k] for k in ("vi", "gei", "refi"))
    if learn and cfg.norm_target > 0:
        w *= cfg.norm_target / w.sum(axis=0)
        np.minimum(w, cfg.w_max, out=w)
    dge, dgi, dgei = math.exp(-dt / cfg.tau_ge), math.exp(-dt / cfg.tau_gi), math.exp(-dt / cfg.tau_ge_inh)
    dpre, dp1, dp2 = (math.exp(-dt / t) for t in (cfg.tau_pre, cfg.tau_post1, cfg.tau_post2))
    ref_e, ref_i = round(cfg.refrac_exc / dt), round(cfg.refrac_inh / dt)
    w_inh = cfg.w_inh_total / n_exc
    pre = np.zeros(n_in)
    post1 = np.zeros(n_exc)
    post2 = np.zeros(n_exc)
    counts = np.zeros(n_exc, np.int64)
    prev_e, prev_i = [], []
    for t in range(n_total):
        ge *= dge
        gi *= dgi
        gei *= dgei
        pre *= dpre
        post1 *= dp1
        post2 *= dp2
        spikes_in = np.flatnonzero(raster[t]) if t < n_on and t < raster.shape[0] else np.array([], int)
        for i in spikes_in:
            ge += cfg.efficacy * w[i]
        if pop:
            for j in prev_e:
                gei[j] += cfg.w_ei
            for k in prev_i:
                for j in range(n_exc):
                    if j != k:
                        gi[j] += cfg.w_ie
        else:
            for j in prev_e:
                for k in range(n_exc):
                    if k != j:
                        gi[k] += w_inh
        fired = []
        for j in range(n_exc):
            if ref[j] > 0:
                ref[j] -= 1
                continue
            b = 1.0 + ge[j] + gi[j]
            vinf = (cfg.v_rest + ge[j] * cfg.e_exc + gi[j] * cfg.e_inh) / b
            v[j] = vinf + (v[j] - vinf) * math.exp(-dt * b / cfg.tau_m)
            if v[j] > cfg.v_thresh - cfg.theta_offset + theta[j]:
                v[j] = cfg.v_reset
                ref[j] = ref_e
                fired.append(j)
                if learn:
                    theta[j] += cfg.theta_plus
        fired_i = []
        if pop:
            for k in range(n_exc):
                if refi[k] > 0:
                    refi[k] -= 1
                    continue
                b = 1.0 + gei[k]
                vinf = (cfg.v_rest_inh + gei[k] * cfg.e_exc) / b
                vi[k] = vinf + (vi[k] - vinf) * math.exp(-dt * b / cfg.tau_m_inh)
                if vi[k] > cfg.v_thresh_inh:
                    vi[k] = cfg.v_reset_inh
                    refi[k] = ref_i
                    fired_i.append(k)
        if t < n_on:
            for j in fired:
                counts[j] += 1
        if learn:
            reference_rule(w, pre, post1, post2, spikes_in, fired, cfg)
        pre[spikes_in] = 1.0
        for j in fired:
            post1[j] = 1.0
            post2[j] = 1.0
        prev_e, prev_i = fired, fired_i
    if learn:
        theta *= math.exp(-n_total * dt / cfg.tau_theta)
    return counts


def reference_rule(w, pre, post1, post2, spikes_in, fired, cfg: WTAConfig) -> None:
    """The D&C triplet rule of one step, traces before this step's increments (in place)."""
    n_in, n_exc = w.shape
    for i in spikes_in:
        for j in range(n_exc):
            w[i, j] = max(w[i, j] - cfg.nu_pre * post1[j], 0.0)
    for j in fired:
        for i in range(n_in):
            w[i, j] = min(w[i, j] + cfg.nu_post * pre[i] * post2[j], cfg.w_max)


def _tiny(**kw) -> WTAConfig:
    base = dict(n_in=12, n_exc=5, t_present=40.0, t_rest=10.0, max_rate=400.0, fast_forward=False,
                nu_post=0.05, nu_pre=0.01, theta_plus=0.5, norm_per_input=0.3, rerun_min_spikes=0)
    base.update(kw)
    return WTAConfig.tuned(**base)


def _raster(cfg: WTAConfig, seed: int, p: float = 0.08) -> np.ndarray:
    return np.random.default_rng(seed).random((cfg.n_on, cfg.n_in)) < p


def _ref_state(net: WTANetwork) -> dict:
    return {"v": net.v.copy(), "ge": net.ge.copy(), "gi": net.gi.copy(), "ref": net.ref.copy(),
            "theta": net.theta.copy(), "vi": net.vi.copy(), "gei": net.gei.copy(), "refi": net.refi.copy()}


@pytest.mark.parametrize("inhibition", ["direct", "population"])
@pytest.mark.parametrize("learn", [True, False])
def test_kernel_matches_dense_reference(inhibition, learn):
    cfg = _tiny(inhibition=inhibition, w_inh_total=20.0, w_ie=3.0, w_ei=10.4)
    net = WTANetwork(cfg, "ideal", seed=3)
    w_ref = net.weights()
    st = _ref_state(net)
    total = 0
    for s in range(4):
        raster = _raster(cfg, s)
        c_kernel = net.present_raster(raster, learn=learn)
        c_ref = reference_presentation(cfg, w_ref, st, raster, learn)
        np.testing.assert_array_equal(c_kernel, c_ref)
        np.testing.assert_allclose(net.weights(), w_ref, rtol=0, atol=1e-12)
        np.testing.assert_allclose(net.v, st["v"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(net.theta, st["theta"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(net.gi, st["gi"], rtol=0, atol=1e-12)
        if inhibition == "population":
            np.testing.assert_allclose(net.vi, st["vi"], rtol=0, atol=1e-9)
        total += c_kernel.sum()
    assert total > 0, "the test case must produce spikes to mean anything"


def _rule_on_rasters(w0, pre_r, post_r, cfg: WTAConfig, post2_late: bool = False) -> np.ndarray:
    """reference_rule over forced rasters with decayed nearest-spike traces (the WTA per-step
    order); ``post2_late`` is a deliberate mutant: post2 read after its increment."""
    w = w0.copy()
    d = [math.exp(-cfg.dt / tau) for tau in (cfg.tau_pre, cfg.tau_post1, cfg.tau_post2)]
    pre, post1, post2 = np.zeros(w.shape[0]), np.zeros(w.shape[1]), np.zeros(w.shape[1])
    for t in range(pre_r.shape[0]):
        pre *= d[0]
        post1 *= d[1]
        post2 *= d[2]
        spikes_in, fired = np.flatnonzero(pre_r[t]), np.flatnonzero(post_r[t])
        if post2_late:
            post2[fired] = 1.0
        reference_rule(w, pre, post1, post2, spikes_in, fired, cfg)
        pre[spikes_in] = 1.0
        post1[fired] = 1.0
        post2[fired] = 1.0
    return w


def test_wta_rule_equals_general_engine_triplet_stdp():
    # The fused WTA kernel's rule is pinned to reference_rule by the test above; here the engine's
    # TripletSTDP (the same hooks the fused kernel calls) runs in the general network
    # (hwsnn.snn.Network, its generated per-projection kernel) on forced pre and post rasters and is
    # checked against the same reference, so the two kernel generators cannot drift apart.  Weights
    # stay inside the bounds (no clipping).
    from hwsnn.engine.rules import TripletSTDP
    from hwsnn.snn import Network

    cfg = _tiny(nu_pre=0.003, nu_post=0.01)
    n_in, n_exc, steps = cfg.n_in, cfg.n_exc, 400
    rng = np.random.default_rng(7)
    pre_r = rng.random((steps, n_in)) < 0.06
    post_r = rng.random((steps, n_exc)) < 0.05
    w0 = rng.uniform(0.3, 0.6, (n_in, n_exc))
    w_ref = _rule_on_rasters(w0, pre_r, post_r, cfg)
    net = Network(dt=cfg.dt * 1e-3, synapse="ideal", seed=0)
    net.add_input("pre", n_in)
    net.add_input("post", n_exc)
    rule = TripletSTDP(nu_pre=cfg.nu_pre, nu_post=cfg.nu_post, tau_pre=cfg.tau_pre * 1e-3,
                       tau_post1=cfg.tau_post1 * 1e-3, tau_post2=cfg.tau_post2 * 1e-3)
    proj = net.connect("pre", "post", w=w0.copy(), rule=rule, w_max=cfg.w_max)
    net.run(steps, inputs={"pre": pre_r, "post": post_r})
    w_eng = proj.syn.weights()
    assert 0.0 < w_ref.min() and w_ref.max() < cfg.w_max, "the case must stay inside the bounds"
    assert np.abs(w_ref - w0).max() > 0.05, "the case must change weights to mean anything"
    np.testing.assert_allclose(w_eng, w_ref, rtol=0, atol=1e-12)
    # mutant check: post2 taken after its increment (a classic triplet mistake) must not pass
    assert not np.allclose(w_eng, _rule_on_rasters(w0, pre_r, post_r, cfg, post2_late=True), rtol=0, atol=1e-6)


def test_fast_forward_equals_full_rest():
    cfg = _tiny(t_rest=60.0)
    a = WTANetwork(cfg, "ideal", seed=1)
    b = WTANetwork(cfg.replace(fast_forward=True), "ideal", seed=1)
    for s in range(3):
        r = _raster(cfg, 10 + s)
        np.testing.assert_array_equal(a.present_raster(r), b.present_raster(r))
        np.testing.assert_allclose(a.weights(), b.weights(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.v, b.v, rtol=0, atol=1e-6)


@pytest.mark.parametrize("synapse", ["ideal", "int8"])
def test_learning_off_leaves_weights_and_theta(synapse):
    cfg = _tiny()
    net = WTANetwork(cfg, synapse, seed=2)
    net.present_raster(_raster(cfg, 0), learn=True)
    w0, th0 = net.weights(), net.theta.copy()
    counts = [net.present_raster(_raster(cfg, s), learn=False).sum() for s in range(3)]
    assert sum(counts) > 0
    np.testing.assert_array_equal(net.weights(), w0)
    np.testing.assert_array_equal(net.theta, th0)


def test_learning_changes_weights_and_int8_stays_on_grid():
    cfg = _tiny()
    for syn in ("ideal", "int8"):
        net = WTANetwork(cfg, syn, seed=2)
        w0 = net.weights()
        for s in range(3):
            net.present_raster(_raster(cfg, s), learn=True)
        w1 = net.weights()
        assert not np.array_equal(w0, w1)
        assert w1.min() >= 0 and w1.max() <= cfg.w_max
        if syn == "int8":
            q = w1 / cfg.w_max * 255
            np.testing.assert_allclose(q, np.round(q), atol=1e-9)


def test_silent_raster_no_spikes_no_change():
    cfg = _tiny(norm_per_input=0.0)
    net = WTANetwork(cfg, "ideal", seed=0)
    w0 = net.weights()
    c = net.present_raster(np.zeros((cfg.n_on, cfg.n_in), bool))
    assert c.sum() == 0
    np.testing.assert_array_equal(net.weights(), w0)


def test_poisson_rates_and_rerun():
    cfg = _tiny(n_in=50, max_rate=100.0, t_present=350.0, t_rest=0.0)
    from hwsnn.rng import key
    from hwsnn.snn.encoders import poisson_events

    rates = np.full(50, 100.0)
    ptr, idx = poisson_events(rates, cfg.dt, cfg.n_on, np.uint64(key(0, 11)), np.int64(0))
    assert ptr[-1] == idx.size
    expected = 50 * 100.0 * 0.35
    assert abs(idx.size - expected) < 5 * math.sqrt(expected)
    # a blank image never reaches 5 spikes: re-presented rerun_max times
    net = WTANetwork(cfg.replace(rerun_min_spikes=5, rerun_max=3), "ideal", seed=0)
    net.present(np.zeros(50))
    assert net.n_reruns == 3


def test_present_is_deterministic_per_seed():
    cfg = _tiny()
    x = np.linspace(0, 1, cfg.n_in)
    a, b = WTANetwork(cfg, "ideal", seed=5), WTANetwork(cfg, "ideal", seed=5)
    for _ in range(3):
        np.testing.assert_array_equal(a.present(x), b.present(x))
    np.testing.assert_array_equal(a.weights(), b.weights())


def test_state_snapshot_and_diehl_cook_factory():
    cfg = WTAConfig.diehl_cook(n_in=784, n_exc=400)
    assert cfg.inhibition == "population" and cfg.max_rate == 63.75 and cfg.nu_post == 1e-2
    assert abs(cfg.norm_target - 78.0) < 1e-9 and cfg.n_on == 700 and cfg.n_total == 1000
    net = WTANetwork(WTAConfig.diehl_cook(n_in=16, n_exc=4), "ideal", seed=0)
    snap = net.state_snapshot()
    for k in ("v", "theta", "ge", "gi", "v_inh", "ge_inh"):
        assert k in snap
    assert net.weights().shape == (16, 4)


def test_labels_and_vote():
    counts = np.array([[5, 0, 1], [4, 1, 0], [0, 6, 0], [0, 0, 7]])
    y = np.array([0, 0, 1, 2])
    a = assign_labels(counts, y, 3)
    np.testing.assert_array_equal(a, [0, 1, 2])
    np.testing.assert_array_equal(predict(counts, a, 3), [0, 0, 1, 2])


@pytest.mark.parametrize(
    "data, field",
    [
        ({"n_exc": 0}, "network.n_exc"),
        ({"n_exc": "many"}, "network.n_exc"),
        ({"bogus": 1}, "network.bogus"),
        ({"inhibition": "lateral"}, "network.inhibition"),
        ({"dt": -0.5}, "network.dt"),
        ({"v_reset": -40.0}, "network.v_reset"),
        ({"norm_per_input": 2.0}, "network.norm_per_input"),
        ({"fast_forward": 1}, "network.fast_forward"),
    ],
)
def test_config_errors_name_the_field(data, field):
    with pytest.raises(ConfigError) as ei:
        from_dict(WTAConfig, data, "network")
    assert ei.value.field == field


def test_bad_synapse_and_seed():
    with pytest.raises(ConfigError, match="synapse"):
        WTANetwork(_tiny(), "analog")
    with pytest.raises(ConfigError, match="seed"):
        WTANetwork(_tiny(), "ideal", seed=-1)
    with pytest.raises(ConfigError, match="x"):
        WTANetwork(_tiny(), "ideal").present(np.zeros(3))


def _digits():
    from hwsnn.tasks.datasets import load_dataset

    return load_dataset("digits", seed=0)


def test_learns_digits_above_chance():
    ds = _digits()
    # a small, fast-learning variant (the default config needs ~3 epochs to settle)
    cfg = WTAConfig.tuned(n_in=64, n_exc=30, nu_post=0.1, theta_plus=0.2)
    r = train_and_evaluate(cfg, ds, "ideal", seed=0, epochs=1, n_train=600, n_test=200, curve_points=1,
                           curve="test")
    assert r["accuracy"] > 0.45, r["accuracy"]  # chance is 0.10
    assert r["samples"] == 600 and len(r["curve"]) == 1  # test curve: one checkpoint at the end
    # online curve: 4 windows per epoch -> 3 points (the first window only provides labels)
    r2 = train_and_evaluate(cfg, ds, "ideal", seed=0, epochs=1, n_train=200, n_test=50, curve_points=4)
    assert [p["kind"] for p in r2["curve"]] == ["online"] * 3


def test_crossbar_backend_learns_small():
    pytest.importorskip("hwsnn.crossbar")
    ds = _digits()
    cfg = WTAConfig.tuned(n_in=64, n_exc=20, nu_post=0.1, theta_plus=0.2)
    r = train_and_evaluate(cfg, ds, "crossbar", seed=0, epochs=1, n_train=150, n_test=100, curve_points=1)
    net = r["network"]
    assert net.xb.pulse_count > 0 and net.xb.time > 0
    w = net.weights()
    assert w.shape == (64, 20) and np.all(np.isfinite(w))
    assert r["accuracy"] > 0.15
    # learning off: no programming pulses
    p0 = net.xb.pulse_count
    net.present(ds.x_test[0], learn=False)
    assert net.xb.pulse_count == p0


def _one_step_crossbar(**kw) -> WTANetwork:
    """A crossbar network presenting one 0.5 ms step and no rest: after a presentation ``ge`` is
    exactly ``efficacy * gain * (column input of that step)`` (ge starts at 0, decays first)."""
    pytest.importorskip("hwsnn.crossbar")
    base = dict(n_in=16, n_exc=40, t_present=0.5, t_rest=0.0, fast_forward=False, rerun_min_spikes=0,
                column_gain=False, device_preset="sto")
    base.update(kw)
    return WTANetwork(WTAConfig.tuned(**base), "crossbar", seed=5)


def test_crossbar_step_input_goes_through_the_adc():
    # reference: ADC codes round(col / lsb) clipped to the range, in weight units (io.adc_range
    # is in weight units of w_max); column_gain=False also covers the no-gain path of the kernel
    net = _one_step_crossbar(adc_bits=4, read_noise=0.0, crossbar_options={"io": {"adc_range": [0.0, 1.5]}})
    cfg = net.wta
    lsb = 1.5 * cfg.w_max / 15
    active = np.zeros((1, cfg.n_in), bool)
    active[0, [1, 4, 5, 9]] = True
    seen_clip = seen_round = False
    for _ in range(3):
        w = net.weights().copy()
        net.ge[:] = 0.0
        net.present_raster(active, learn=False)
        col = w[active[0]].sum(axis=0)
        expect = cfg.efficacy * np.clip(np.floor(col / lsb + 0.5) * lsb, 0.0, 1.5 * cfg.w_max)
        np.testing.assert_allclose(net.ge, expect, rtol=1e-12, atol=1e-12)
        seen_clip |= bool(np.any(col > 1.5 * cfg.w_max))
        seen_round |= bool(np.any(np.abs(cfg.efficacy * col - net.ge) > 1e-3))
    assert seen_round, "the case must exercise quantisation to mean anything"
    # mutant: the same network without the ADC gives a different input
    ideal = _one_step_crossbar(adc_bits=-1, read_noise=0.0)
    ideal.ge[:] = 0.0
    ideal.present_raster(active, learn=False)
    assert not np.allclose(ideal.ge, cfg.efficacy * np.clip(np.floor(w[active[0]].sum(0) / lsb + 0.5) * lsb, 0, 1.5))


def test_crossbar_step_read_noise_is_the_column_sum_gaussian():
    # per-device relative read noise rn on both devices of each differential pair (G+ = w + g0,
    # G- = g0 in weight units): the column input is col + N(0, rn^2 * sum_i ((w_i + g0)^2 + g0^2))
    rn = 0.05
    # a narrow window (g_min = g_max / 3: g0 = w_max / 2) so the g0 terms carry weight
    net = _one_step_crossbar(adc_bits=-1, read_noise=rn, device_options={"g_min": 1e-8, "g_max": 3e-8})
    cfg = net.wta
    p = net.xb.params
    g0 = net.xb.config.mapping.w_span * p.g_min / (p.g_max - p.g_min) * cfg.w_max
    active = np.zeros((1, cfg.n_in), bool)
    active[0, [0, 3, 7, 8, 12]] = True
    n = 1500
    z = np.empty((n, cfg.n_exc))
    for k in range(n):
        w = net.weights()[active[0]]  # the weights the kernel integrates (refreshed as the array drifts)
        col = w.sum(axis=0)
        sigma = rn * np.sqrt(((w + g0) ** 2 + g0**2).sum(axis=0))
        net.ge[:] = 0.0
        net.present_raster(active, learn=False)
        z[k] = (net.ge / cfg.efficacy - col) / sigma
    m = z.size
    assert abs(z.mean()) < 4.0 / math.sqrt(m)
    assert 0.95 < z.var() < 1.05, z.var()
    # every column on its own (sd of a sample variance of n normals: sqrt(2 / n))
    v = z.var(axis=0)
    assert np.all(np.abs(v - 1.0) < 5.0 * math.sqrt(2.0 / n)), v
    # columns of one step are independent, and so are successive steps
    c = np.corrcoef(z.T)
    off = c[~np.eye(cfg.n_exc, dtype=bool)]
    assert np.abs(off).max() < 5.0 / math.sqrt(n)
    lag = np.mean(z[1:] * z[:-1])
    assert abs(lag) < 4.0 / math.sqrt(m)


@pytest.mark.slow
@pytest.mark.parametrize("synapse, target", [("ideal", 0.90), ("int8", 0.885), ("crossbar", 0.85)])
def test_digits_headline_accuracy(synapse, target):
    from hwsnn.tasks.datasets import load_dataset

    accs = []
    for seed in (0, 1, 2):
        ds = load_dataset("digits", seed=seed)
        accs.append(train_and_evaluate(WTAConfig.tuned(64, 100), ds, synapse, seed, 3, curve_points=1)["accuracy"])
    assert np.mean(accs) >= target, accs
