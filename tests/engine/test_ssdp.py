"""SSDP and DA-SSDP through the rule contract: direct NumPy references on hand-made rasters, the
fused kernel on every backend, the integer twin, the gate, config errors."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from hwsnn.config import load_config, parse_config
from hwsnn.engine.contract import CompileContext, IntFormat
from hwsnn.engine.layer import LayerNetwork
from hwsnn.engine.rules.ssdp import SSDP, DASSDP, ssdp_on_sample, ssdp_on_sample_syn
from hwsnn.errors import ConfigError
from hwsnn.spec.lfsr import lfsr16_next

N_IN, N_OUT = 6, 3
SIGMA = 0.002  # 4 steps of 0.5 ms: G(1 step) = 0.969, G(2) = 0.88, G(10) = 0.04
A_PLUS, A_BASE = 0.01, 0.004


def _cfg(backend: str, rule: dict, **extra):
    return load_config(None, {"network.n_exc": N_OUT, "network.w_inh_total": 0.0, "network.efficacy": 50.0,
                              "homeostasis.norm_per_input": 0.0, "homeostasis.theta_plus": 0.0,
                              "schedule.t_present": 0.05, "schedule.t_rest": 0.01, "synapse.backend": backend,
                              "rules": [rule], **extra})


def _rule(kind="ssdp", **kw):
    return {"kind": kind, "a_plus": A_PLUS, "a_base": A_BASE, "sigma": SIGMA, **kw}


# Hand-made presentation (T = 100 steps): input 0 at steps 3, 10, 40 (first != last); input 1 at
# 5..8; input 2 silent; input 3 only at the last step T-1 (one step before a silent neuron's T);
# input 4 at 20; input 5 silent.  Neuron 0 listens to input 0, neuron 1 to input 1, neuron 2 to
# nobody (silent).
def _raster(t: int) -> np.ndarray:
    r = np.zeros((t, N_IN), bool)
    r[[3, 10, 40], 0] = True
    r[[5, 6, 7, 8], 1] = True
    r[t - 1, 3] = True
    r[20, 4] = True
    return r


def _w0() -> np.ndarray:
    w = np.full((N_IN, N_OUT), 0.05)
    w[0, 0] = w[1, 1] = 0.9
    w[:, 2] = 0.0
    w[5, 2] = 0.5  # a silent input's weight on the silent neuron (both-silent depression is visible)
    return w


def spike_times(raster: np.ndarray, t_len: int, which: str) -> tuple[np.ndarray, np.ndarray]:
    """(times, fired) per column of a bool raster; silent columns at ``t_len``.  "last" is the
    authors' ``cumsum(0).argmax(0)``."""
    fired = raster.any(axis=0)
    if which == "first":
        t = np.argmax(raster, axis=0)
    else:
        t = np.cumsum(raster, axis=0).argmax(axis=0)
    return np.where(fired, t, t_len), fired


def ssdp_reference(pre: np.ndarray, post: np.ndarray, t_len: int, dt: float, which: str, a_plus=A_PLUS,
                   a_base=A_BASE, sigma=SIGMA, dw_max=1.0, gate=1.0) -> np.ndarray:
    """The authors' formula: ``dw = gate (A+ sync G - A_base (1 - sync) G)``, clamped."""
    tp, p = spike_times(pre, t_len, which)
    tq, q = spike_times(post, t_len, which)
    dt_s = (tq[None, :] - tp[:, None]) * dt
    g = np.exp(-dt_s ** 2 / (2 * sigma ** 2))
    sync = np.outer(p, q).astype(float)
    return np.clip(gate * (a_plus * sync * g - a_base * (1 - sync) * g), -dw_max, dw_max)


def _net(backend: str, rule: dict, record=True, **extra) -> LayerNetwork:
    net = LayerNetwork(_cfg(backend, rule, **extra), N_IN, seed=3, record=record)
    w = _w0()
    if backend == "ideal":
        net.w[:] = w
    elif backend == "integer":
        net.wq[:] = np.rint(w * net._qmax).astype(np.int64)
    else:
        net.xb.program(w)
        net.w[:] = np.asarray(net.xb.weights(), np.float64) * net.w_max
    return net


def _coverage(post: np.ndarray, t_len: int) -> None:
    # the cases the test is about actually occur: a silent neuron, one with first != last spike
    n = post.sum(axis=0)
    assert n[2] == 0 and n[0] >= 2 and n[1] >= 1
    f, _ = spike_times(post, t_len, "first")
    la, _ = spike_times(post, t_len, "last")
    assert f[0] != la[0]


# --------------------------------------------------------------------------------------- reference
def test_reference_conventions_on_a_hand_made_raster():
    # the reference itself against numbers worked out by hand (first-spike, last-spike, silent = T)
    t_len, dt = 10, 5e-4
    pre = np.zeros((t_len, 3), bool)
    pre[[2, 7], 0] = True       # first 2, last 7
    pre[9, 1] = True            # only at T-1
    post = np.zeros((t_len, 2), bool)
    post[[3, 4], 0] = True      # first 3, last 4; neuron 1 silent (t = 10)
    g = lambda d: math.exp(-(d * dt) ** 2 / (2 * SIGMA ** 2))  # noqa: E731
    first = ssdp_reference(pre, post, t_len, dt, "first")
    last = ssdp_reference(pre, post, t_len, dt, "last")
    assert first[0, 0] == pytest.approx(A_PLUS * g(1)) and last[0, 0] == pytest.approx(A_PLUS * g(3))
    assert first[1, 0] == pytest.approx(A_PLUS * g(6)) and last[1, 0] == pytest.approx(A_PLUS * g(5))
    assert first[0, 1] == pytest.approx(-A_BASE * g(8)) and last[0, 1] == pytest.approx(-A_BASE * g(3))
    assert first[1, 1] == pytest.approx(-A_BASE * g(1))          # spike at T-1 vs silent at T
    assert first[2, 0] == pytest.approx(-A_BASE * g(7))          # silent input vs first post spike
    assert first[2, 1] == last[2, 1] == pytest.approx(-A_BASE)   # both silent: G = 1, the (1 - sync) term


# --------------------------------------------------------------------------------------- the fused kernel
@pytest.mark.parametrize("which", ["first", "last"])
@pytest.mark.parametrize("backend", ["ideal", "crossbar"])
def test_fused_kernel_equals_the_reference(backend, which):
    extra = {"synapse.write_back.every": 1000, "synapse.device.preset": "ideal"} if backend == "crossbar" else {}
    net = _net(backend, _rule(spike_time=which), **extra)
    w0 = net.weights()
    r = _raster(net.n_on)
    net.present_raster(r)
    post = net.record.spikes[:net.n_on].astype(bool)
    _coverage(post, net.n_on)
    ref = ssdp_reference(r, post, net.n_on, net.dt, which)
    assert np.abs(ref).min() > 0 and (ref > 0).any() and (ref < 0).any()
    if backend == "ideal":
        np.testing.assert_allclose(net.weights() - w0, np.clip(w0 + ref, 0.0, 1.0) - w0, rtol=0, atol=1e-15)
    else:  # the crossbar accumulates the change for its write-back (here: not yet written)
        np.testing.assert_allclose(net.dw, ref, rtol=0, atol=1e-15)


def test_first_and_last_differ_on_this_raster():
    # guards the two tests above: the variants are distinguishable on the hand-made raster
    net = _net("ideal", _rule())
    r = _raster(net.n_on)
    net.present_raster(r)
    post = net.record.spikes[:net.n_on].astype(bool)
    a = ssdp_reference(r, post, net.n_on, net.dt, "first")
    b = ssdp_reference(r, post, net.n_on, net.dt, "last")
    assert np.abs(a - b).max() > 1e-3


def test_crossbar_write_back_turns_the_change_into_pulses():
    # every column SSDP changed is programmed, silent neurons' columns included
    net = _net("crossbar", _rule(kind="ssdp", a_plus=0.08, a_base=0.05), **{"synapse.device.preset": "ideal"})
    w0 = np.asarray(net.xb.weights(), np.float64) * net.w_max
    r = _raster(net.n_on)
    net.present_raster(r)
    post = net.record.spikes[:net.n_on].astype(bool)
    ref = ssdp_reference(r, post, net.n_on, net.dt, "first", a_plus=0.08, a_base=0.05)
    w1 = np.asarray(net.xb.weights(), np.float64) * net.w_max
    want = np.clip(w0 + ref, 0.0, 1.0)
    step = 1.0 / net.xb.params.p_max  # one pulse of the linear device, in weight units
    assert np.abs(w1 - want).max() <= 1.0001 * step
    moved = np.abs(want - w0) >= 2 * step
    assert moved[:, 2].any()  # the silent neuron's column was written too
    assert np.all(np.sign(w1 - w0)[moved] == np.sign(want - w0)[moved])
    assert not net.dw.any()  # the accumulated change was consumed by the write-back


def _lut(dt: float, sigma: float) -> list[int]:
    out, d = [], 0
    while True:  # G in UQ0.8, round half up, up to the last non-zero entry
        v = math.floor(255 * math.exp(-(d * dt) ** 2 / (2 * sigma ** 2)) + 0.5)
        if v == 0:
            return out
        out.append(v)
        d += 1


def _sround(p: int, rbits: int, sh: int) -> int:
    if sh > 16:
        p >>= sh - 16
        sh = 16
    return (p + (rbits & ((1 << sh) - 1))) >> sh


def _int_presentation(net, twin, raster, spikes, s: int, q0: np.ndarray) -> tuple[np.ndarray, int]:
    """Python reference of one integer presentation: (codes after it, LFSR state after it)."""
    n_in, n_out = q0.shape
    # the step sweep of the integer backend advances the LFSR once per evaluated synapse
    for t in range(net.n_total):
        n_pre = int(raster[t].sum()) if t < raster.shape[0] else 0
        n_spk = int(spikes[t].sum())
        for _ in range(n_pre * n_out + ((n_in - n_pre) * n_spk if n_spk else 0)):
            s = lfsr16_next(s)
    lut = _lut(net.dt, SIGMA)
    assert list(twin.G_LUT) == lut
    tp, p = spike_times(raster, net.n_on, "first")
    tq, q = spike_times(spikes[:net.n_on], net.n_on, "first")
    want = q0.copy()
    for i in range(n_in):
        for j in range(n_out):
            d = abs(int(tq[j]) - int(tp[i]))
            gq = lut[d] if d < len(lut) else 0
            if p[i] and q[j]:
                dq = _sround(gq * twin.A_PLUS * 256, s, twin.SHIFT_PLUS + 8)
            else:
                dq = -_sround(gq * twin.A_BASE * 256, ((s >> 8) | (s << 8)) & 0xFFFF, twin.SHIFT_BASE + 8)
            dq = max(-twin.DQ_MAX, min(twin.DQ_MAX, dq))
            want[i, j] = max(0, min(net._qmax, int(q0[i, j]) + dq))
            s = lfsr16_next(s)
    return want, s


def test_integer_kernel_is_bit_exact_on_the_hand_made_raster():
    net = _net("integer", _rule())
    q0 = net.wq.copy()
    s0 = int(net._lfsr[0])
    r = _raster(net.n_on)
    net.present_raster(r)
    _coverage(net.record.spikes[:net.n_on].astype(bool), net.n_on)
    want, s = _int_presentation(net, net._rules[0].rule, r, net.record.spikes.astype(bool), s0, q0)
    np.testing.assert_array_equal(net.wq, want)
    assert int(net._lfsr[0]) == s and (want != q0).any()


def test_integer_kernel_is_bit_exact_over_presentations():
    # a larger layer; amplitudes of 12.75 and 0.54 codes at G = 1, so that the rounding bits decide
    # many of the changes
    n_in, n_out = 24, 6
    cfg = load_config(None, {"network.n_exc": n_out, "network.w_inh_total": 0.0, "network.efficacy": 3.0,
                             "homeostasis.norm_per_input": 0.0, "homeostasis.theta_plus": 0.0,
                             "schedule.t_present": 0.05, "schedule.t_rest": 0.01, "synapse.backend": "integer",
                             "rules": [_rule(a_plus=0.05, a_base=0.0021)]})
    net = LayerNetwork(cfg, n_in, seed=5, record=True)
    twin = net._rules[0].rule
    s = int(net._lfsr[0])
    rng = np.random.default_rng(7)
    net.wq[:, 4:] = rng.integers(2, 10, size=(n_in, 2))  # two neurons too weakly driven to fire
    n_round = 0
    for _ in range(6):
        q0 = net.wq.copy()
        r = rng.random((net.n_on, n_in)) < 0.02
        net.present_raster(r)
        spikes = net.record.spikes.astype(bool)
        want, s = _int_presentation(net, twin, r, spikes, s, q0)
        np.testing.assert_array_equal(net.wq, want)
        assert int(net._lfsr[0]) == s
        n_round += int((want != q0).sum())
        assert spikes[:net.n_on, :4].any() and not spikes[:net.n_on, 4:].any()  # spiking and silent neurons
    assert n_round > 80


# --------------------------------------------------------------------------------------- rule shape
def _consts(rule, backend="ideal"):
    ctx = CompileContext(dt=5e-4, w_max=1.0 if backend != "integer" else 255.0, n_in=N_IN, n_out=N_OUT, backend=backend)
    return rule.consts(ctx)


def test_symmetric_gaussian_in_dt_sweep():
    rule = SSDP(a_plus=A_PLUS, a_base=A_BASE, sigma=SIGMA)
    c = _consts(rule)
    dts = np.arange(-40, 41)
    pot = np.array([ssdp_on_sample(c, 0.5, 1.0, 1, 1, 50, 50 + d) for d in dts])
    dep = np.array([ssdp_on_sample(c, 0.5, 1.0, 1, 0, 50, 50 + d) for d in dts])
    np.testing.assert_allclose(pot, A_PLUS * np.exp(-(dts * 5e-4) ** 2 / (2 * SIGMA ** 2)), rtol=1e-14)
    np.testing.assert_allclose(dep, -A_BASE / A_PLUS * pot, rtol=1e-14)
    np.testing.assert_array_equal(pot, pot[::-1])  # symmetric: depends on |dt| only, not on the order
    assert pot.argmax() == 40 and pot[40] == A_PLUS
    assert np.all(np.diff(pot[40:]) < 0) and (pot > 0).all() and (dep < 0).all()
    # half maximum at |dt| = sigma sqrt(2 ln 2)
    half = SIGMA * math.sqrt(2 * math.log(2)) / 5e-4
    k = int(half)
    assert pot[40 + k] >= A_PLUS / 2 > pot[40 + k + 1]


def test_dt_sweep_through_the_kernel():
    # inputs 1..40 spike once each at steps 10..49, input 0 drives the neuron at step 30: the weight
    # change of input k is the Gaussian of its spike's distance to the neuron's first spike
    n_in = 41
    cfg = load_config(None, {"network.n_exc": 1, "network.w_inh_total": 0.0, "network.efficacy": 50.0,
                             "homeostasis.norm_per_input": 0.0, "homeostasis.theta_plus": 0.0,
                             "schedule.t_present": 0.05, "schedule.t_rest": 0.0, "synapse.backend": "ideal",
                             "rules": [_rule()]})
    net = LayerNetwork(cfg, n_in, seed=0, record=True)
    net.w[:] = 0.0
    net.w[0, 0] = 1.0
    r = np.zeros((net.n_on, n_in), bool)
    r[30, 0] = True
    for k in range(1, n_in):
        r[9 + k, k] = True
    net.present_raster(r)
    t_post = int(np.flatnonzero(net.record.spikes[:, 0])[0])
    assert t_post == 30
    dw = net.weights()[1:, 0]
    d = np.arange(10, 50) - t_post
    np.testing.assert_allclose(dw, A_PLUS * np.exp(-(d * 5e-4) ** 2 / (2 * SIGMA ** 2)), rtol=1e-14)
    before, after = dw[d < 0][::-1][:19], dw[d > 0][:19]
    np.testing.assert_array_equal(before, after)  # pre-before-post equals post-before-pre


def test_float_and_integer_agree_within_the_stated_tolerance():
    # E over the 2**16 LFSR values of the integer change equals the float change (in codes) up to
    # the LUT rounding (0.5 / 255), the 8-bit mantissas (2**-8) and the pre-shift (2**-16)
    rule = SSDP(a_plus=3e-3, a_base=1e-3, sigma=SIGMA)
    fmt = IntFormat(8, 8)
    twin = rule.to_int(fmt, 5e-4, 1.0)
    cf, ci = _consts(rule), _consts(twin, "integer")
    rs = np.arange(1 << 16)
    for pre, post in ((1, 1), (1, 0), (0, 0)):
        a_codes = (3e-3 if pre and post else 1e-3) * 255
        for d in (0, 1, 3, 7, 12, 20, 40):
            f = ssdp_on_sample(cf, 0.5, 1.0, pre, post, 0, d) * 255
            e = np.mean([ssdp_on_sample_syn(ci, 128, 256, pre, post, 0, d, int(x)) for x in rs])
            tol = a_codes * (2 ** -8 * math.exp(-(d * 5e-4) ** 2 / (2 * SIGMA ** 2)) + 0.5 / 255 * (1 + 2 ** -8)) \
                + 2 ** -16
            assert abs(e - f) <= tol, (pre, post, d, e, f, tol)


# --------------------------------------------------------------------------------------- DA gate
def _random_rasters(n: int, t_len: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random((t_len, N_IN)) < rng.uniform(0.002, 0.03) for _ in range(n)]


@pytest.mark.parametrize("backend", ["ideal", "integer"])
@pytest.mark.parametrize("gate", [{"warmup": 0, "window": 0}, {"warmup": 100, "window": 5, "warmup_updates": True}])
def test_da_gate_of_one_is_plain_ssdp(backend, gate):
    nets = [_net(backend, _rule(), record=False), _net(backend, _rule(kind="da_ssdp", **gate), record=False)]
    for r in _random_rasters(6, nets[0].n_on, 1):
        for net in nets:
            net.present_raster(r)
    a, b = nets[0].weights(), nets[1].weights()
    assert not np.array_equal(a, _w0() if backend == "ideal" else np.rint(_w0() * 255) / 255)
    np.testing.assert_array_equal(a, b)


def _margin(counts: np.ndarray) -> float:
    s = np.sort(counts)[::-1]
    return 0.0 if s[0] == 0 else float(s[0] - s[1]) / float(s[0])


@pytest.mark.parametrize("window", [0, 4])
def test_da_gate_matches_a_reference(window):
    warmup = 3
    net = _net("ideal", _rule(kind="da_ssdp", warmup=warmup, window=window))
    hist_s, hist_l, gates = [], [], []
    for b, r in enumerate(_random_rasters(12, net.n_on, 2)):
        w_before = net.weights()
        counts = net.present_raster(r)
        post = net.record.spikes[:net.n_on].astype(bool)
        s_b = r.any(axis=0).mean() * post.any(axis=0).mean()
        if b < warmup:
            g = 0.0  # warm-up: statistics only
        else:
            past = slice(0, warmup) if window == 0 else slice(max(0, b - window), b)
            s, l_ = np.array(hist_s[past]), np.array(hist_l[past])
            k = 0.0 if s.std() == 0 or l_.std() == 0 else -np.corrcoef(s, l_)[0, 1]
            sd = s.std() if s.std() > 0 else 1.0
            g = float(np.clip(1.0 + k * (s_b - s.mean()) / sd, 0.0, 2.0))
        gates.append(g)
        assert net._rules[0].rule.gate_state(net._rules[0].consts)["S_last"] == pytest.approx(s_b, rel=1e-14)
        hist_s.append(s_b)
        hist_l.append(1.0 - _margin(counts))
        ref = ssdp_reference(r, post, net.n_on, net.dt, "first", gate=g)
        np.testing.assert_allclose(net.weights() - w_before, np.clip(w_before + ref, 0.0, 1.0) - w_before,
                                   rtol=0, atol=1e-12)
    post_warm = np.array(gates[warmup:])
    assert np.abs(post_warm - 1.0).max() > 0.05, "the gate must have acted for the test to mean anything"


# --------------------------------------------------------------------------------------- config
@pytest.mark.parametrize("text, field", [
    ('kind = "ssdp"\nsigma = 0.0', "rules[0].sigma"),
    ('kind = "ssdp"\nspike_time = "middle"', "rules[0].spike_time"),
    ('kind = "ssdp"\na_plus = -1e-3', "rules[0].a_plus"),
    ('kind = "ssdp"\ndw_max = 0', "rules[0].dw_max"),
    ('kind = "da_ssdp"\ngate_min = 1.5\ngate_max = 1.0', "rules[0].gate_max"),
    ('kind = "da_ssdp"\nwarmup = -1', "rules[0].warmup"),
    ('kind = "da_ssdp"\nwindow = 2.5', "rules[0].window"),
    ('kind = "ssdp"\ngate_max = 1.0', "rules[0].gate_max"),
    ('kind = "ssdp_int"\nA_PLUS = 1\nSHIFT_PLUS = 1\nA_BASE = 1\nSHIFT_BASE = 1\nG_LUT = [300]\nDQ_MAX = 1',
     "rules[0].G_LUT"),
])
def test_config_errors_name_the_field(text, field):
    with pytest.raises(ConfigError) as ei:
        parse_config(tomllib.loads("[[rules]]\n" + text))
    assert ei.value.field == field


def test_cli_bad_rule_field_exits_with_its_path(tmp_path, capsys):
    from hwsnn.cli import main

    rc = main(["run", "ssdp_digits", "--set", "rules[0].sigma=-0.01", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "rules[0].sigma" in err and "Traceback" not in err


def test_integer_change_bound_below_one_code_is_refused():
    with pytest.raises(ConfigError) as ei:
        LayerNetwork(_cfg("integer", _rule(dw_max=1e-3)), N_IN, seed=0)
    assert ei.value.field == "rules.dw_max"


def test_snn_network_refuses_a_per_presentation_rule():
    from hwsnn.engine.neurons_extra import LifNeuron
    from hwsnn.snn import Network

    net = Network(dt=5e-4)
    net.add_input("in", 4)
    net.add_population("exc", LifNeuron(), 2)
    with pytest.raises(ConfigError) as ei:
        net.connect("in", "exc", w=0.2, rule=SSDP())
    assert ei.value.field == "rules.ssdp"


@pytest.mark.parametrize("name", ["ssdp_digits", "da_ssdp_digits"])
def test_presets_select_the_rules(name):
    from hwsnn.config import load_config_with_notes, preset_path

    cfg, notes = load_config_with_notes(preset_path(name))
    assert notes == []
    kinds = [r.kind for r in cfg.rules]
    assert ("da_ssdp" if name.startswith("da") else "ssdp") in kinds
    assert isinstance(next(r for r in cfg.rules if r.kind in ("ssdp", "da_ssdp")), SSDP if name == "ssdp_digits"
                      else DASSDP)
