"""hwsnn.snn.Network on the engine's neurons and rules: step order, event-driven propagation and
plasticity vs dense references, integer sweep vs a plain-Python stdp_update transcription,
float vs integer vs crossbar on the same rasters, traces across runs, config errors."""

from __future__ import annotations

import math
from types import SimpleNamespace as ns
from typing import Literal, NamedTuple

import numpy as np
import pytest
from numba import njit

from hwsnn.engine.contract import IntFormat, Rule, RuleHooks, TraceSpec
from hwsnn.engine.neurons import DiehlCookNeuron, LifStepwiseNeuron
from hwsnn.engine.neurons_extra import LifNeuron, LifStepwiseFloatNeuron
from hwsnn.engine.rules import PairSTDP, PairSTDPInt, StepwiseGated, TripletSTDP
from hwsnn.errors import ConfigError
from hwsnn.plasticity.traces import tau_of_shift
from hwsnn.snn import STEP_ORDER, Network, SynapseConfig, poisson_raster
from hwsnn.snn import network as network_mod
from hwsnn.spec.units import LifStepwiseParams


def test_step_order_documented():
    assert STEP_ORDER == ("decay", "integrate", "threshold", "reset_refractory", "plasticity", "trace_increment",
                          "slow_rules")
    doc = network_mod.__doc__
    pos = [doc.index(f"``{phase}``") for phase in STEP_ORDER]
    assert pos == sorted(pos)


def test_event_driven_propagation_equals_dense_with_one_step_delay():
    rng = np.random.default_rng(0)
    n_in, n_out, T = 40, 7, 30
    w = rng.random((n_in, n_out))
    raster = (rng.random((T, n_in)) < 0.2).astype(np.uint8)
    net = Network()
    net.add_input("in", n_in)
    pop = net.add_population("out", LifNeuron(tau_m=1e12, v_thresh=1e9, v_reset=-1.0, refractory=0.0), n_out)
    net.connect("in", "out", w=w, gain=0.5)
    v_prev = np.zeros(n_out)
    for t in range(T):
        net.run(1, {"in": raster[t:t + 1]})
        expect = 0.5 * raster[t - 1] @ w if t > 0 else np.zeros(n_out)
        np.testing.assert_allclose(pop.v - v_prev, expect, atol=1e-9)
        v_prev = pop.v.copy()


def dense_pair_reference(rule: PairSTDP, w, pre_r, post_r, dt=1e-3, w_max=1.0):
    """Dense (all synapses every step) simulation in the documented order: traces decay, the
    pre-spike changes (clipped), then the post-spike changes (clipped), then trace increments."""
    w = w.copy()
    dp, dm = math.exp(-dt / rule.tau_pre), math.exp(-dt / rule.tau_post)
    x = np.zeros(w.shape[0])
    y = np.zeros(w.shape[1])
    for t in range(pre_r.shape[0]):
        x *= dp
        y *= dm
        s, q = pre_r[t].astype(float), post_r[t].astype(float)
        w = np.clip(w - rule.a_minus * np.outer(s, y), 0, w_max)
        w = np.clip(w + rule.a_plus * np.outer(x, q), 0, w_max)
        x[s > 0] = 1.0
        y[q > 0] = 1.0
    return w


def dense_triplet_reference(rule: TripletSTDP, w, pre_r, post_r, dt=1e-3, w_max=1.0):
    w = w.copy()
    d = [math.exp(-dt / tau) for tau in (rule.tau_pre, rule.tau_post1, rule.tau_post2)]
    a = np.zeros(w.shape[0])
    o1 = np.zeros(w.shape[1])
    o2 = np.zeros(w.shape[1])
    for t in range(pre_r.shape[0]):
        a *= d[0]
        o1 *= d[1]
        o2 *= d[2]
        s, q = pre_r[t].astype(float), post_r[t].astype(float)
        w = np.clip(w - rule.nu_pre * np.outer(s, o1), 0, w_max)
        w = np.clip(w + rule.nu_post * np.outer(a, q * o2), 0, w_max)
        a[s > 0] = 1.0
        o1[q > 0] = 1.0
        o2[q > 0] = 1.0
    return w


def _forced(rule, w, pre_r, post_r, backend="ideal", seed=0, chunks=(None,)):
    net = Network(synapse=backend, seed=seed)
    net.add_input("pre", pre_r.shape[1])
    net.add_input("post", post_r.shape[1])
    proj = net.connect("pre", "post", w=w, rule=rule)
    t0 = 0
    for c in chunks:
        t1 = pre_r.shape[0] if c is None else c
        net.run(t1 - t0, {"pre": pre_r[t0:t1], "post": post_r[t0:t1]})
        t0 = t1
    return proj


@pytest.mark.parametrize("which", ["pair", "triplet"])
def test_event_driven_plasticity_equals_dense(which):
    rng = np.random.default_rng(1)
    T, n_pre, n_post = 400, 30, 12
    pre_r = poisson_raster(np.full(n_pre, 40.0), T, seed=1)
    post_r = poisson_raster(np.full(n_post, 25.0), T, seed=2)
    w0 = rng.uniform(0.2, 0.8, (n_pre, n_post))
    if which == "pair":
        rule = PairSTDP(a_plus=0.02, a_minus=0.021)
        want = dense_pair_reference(rule, w0, pre_r, post_r)
    else:
        rule = TripletSTDP(nu_pre=0.005, nu_post=0.05)
        want = dense_triplet_reference(rule, w0, pre_r, post_r)
    got = _forced(rule, w0, pre_r, post_r).syn.weights()
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert np.abs(got - w0).max() > 0.05  # learning happened
    # traces persist across run calls: the same rasters in three chunks give the same weights
    chunked = _forced(rule, w0, pre_r, post_r, chunks=(123, 250, None)).syn.weights()
    np.testing.assert_allclose(chunked, got, rtol=0, atol=1e-15)


def test_dense_reference_rejects_mutant_order():
    """Incrementing traces *before* plasticity (a common ordering bug) is detected."""
    rng = np.random.default_rng(2)
    T = 300
    pre_r = poisson_raster(np.full(10, 60.0), T, seed=3)
    post_r = pre_r[:, :5].copy()  # coincident pre/post spikes make the order matter
    rule = PairSTDP(a_plus=0.02, a_minus=0.02)
    w0 = rng.uniform(0.3, 0.7, (10, 5))
    got = _forced(rule, w0, pre_r, post_r).syn.weights()
    np.testing.assert_allclose(got, dense_pair_reference(rule, w0, pre_r, post_r), atol=1e-12)
    w = w0.copy()
    x, y = np.zeros(10), np.zeros(5)
    d = math.exp(-1e-3 / rule.tau_pre)
    for t in range(T):
        x *= d
        y *= d
        x[pre_r[t] > 0] = 1.0
        y[post_r[t] > 0] = 1.0
        w = np.clip(w + 0.02 * np.outer(x, post_r[t]) - 0.02 * np.outer(pre_r[t], y), 0, 1)
    assert np.abs(got - w).max() > 1e-3


# -- integer sweep vs a plain-Python transcription of stdp_update / stdp_trace (RTL contract) --
def lfsr_next(s):
    lsb = s & 1
    s >>= 1
    if lsb:
        s ^= 0xB400
    return s


def contract_network(rule: PairSTDPInt, lfsr, q, pre_r, post_r, order="row"):
    """Per step: every synapse with a pre or post spike gets stdp_update with the trace registers
    before this step's edge, row-major, one LFSR16 state each; then the stdp_trace edges."""
    q = q.copy()
    x = np.zeros(q.shape[0], int)
    y = np.zeros(q.shape[1], int)
    ceil = lambda v, k: v - ((v + (1 << k) - 1) >> k)  # noqa: E731
    for t in range(pre_r.shape[0]):
        pre, post = pre_r[t], post_r[t]
        pairs = [(i, j) for i in range(q.shape[0]) for j in range(q.shape[1]) if pre[i] or post[j]]
        if order == "col":
            pairs.sort(key=lambda ij: (ij[1], ij[0]))
        for i, j in pairs:
            r = lfsr
            dp = (x[i] * rule.A_PLUS + (r & ((1 << rule.SHIFT_PLUS) - 1))) >> rule.SHIFT_PLUS if post[j] else 0
            dm = (y[j] * rule.A_MINUS + ((r >> 8) & ((1 << rule.SHIFT_MINUS) - 1))) >> rule.SHIFT_MINUS if pre[i] else 0
            q[i, j] = min(max(q[i, j] + dp - dm, 0), 255)
            lfsr = lfsr_next(lfsr)
        x = np.where(pre > 0, 255, [ceil(int(v), rule.SHIFT_PRE) for v in x])
        y = np.where(post > 0, 255, [ceil(int(v), rule.SHIFT_POST) for v in y])
    return q, lfsr


@pytest.mark.parametrize("seed", [0, 1])
def test_integer_sweep_bit_exact_to_contract(seed):
    rng = np.random.default_rng(seed)
    rule = PairSTDPInt(A_PLUS=int(rng.integers(8, 64)), A_MINUS=int(rng.integers(8, 64)),
                       SHIFT_PLUS=int(rng.integers(1, 9)), SHIFT_MINUS=int(rng.integers(1, 9)), SHIFT_PRE=3,
                       SHIFT_POST=4)
    T, n_pre, n_post = 120, 9, 7
    pre_r = (rng.random((T, n_pre)) < 0.15).astype(np.uint8)
    post_r = (rng.random((T, n_post)) < 0.15).astype(np.uint8)
    w0 = rng.integers(0, 256, (n_pre, n_post)) / 255
    w0[0] = 1.0  # saturation corners
    w0[1] = 0.0
    proj = _forced(rule, w0, pre_r, post_r, backend="int", seed=seed)
    q0 = np.rint(w0 * 255).astype(np.int64)
    lfsr0 = network_mod._lfsr_seed(seed * 1000)
    want, lfsr = contract_network(rule, lfsr0, q0, pre_r, post_r)
    np.testing.assert_array_equal(proj.syn.q, want)
    assert int(proj.lfsr[0]) == lfsr
    assert np.abs(want - q0).sum() > 50
    # mutant of the reference (column-major evaluation order) must not match
    bad, _ = contract_network(rule, lfsr0, q0, pre_r, post_r, order="col")
    assert not np.array_equal(bad, want)


def _gain(tau, k, dt=1e-3):
    # float trace area over the shift decay's (-dt / ln(1 - 2**-k)): the trace gain of to_int()
    return tau / (-dt / math.log(1 - 2.0**-k))


def _represented(rule, twin):
    """Float rule with the twin's quantised coefficients (trace gains taken out) and ``rule``'s taus."""
    if isinstance(rule, PairSTDP):
        return PairSTDP(a_plus=twin.A_PLUS / 2**twin.SHIFT_PLUS / _gain(rule.tau_pre, twin.SHIFT_PRE),
                        a_minus=twin.A_MINUS / 2**twin.SHIFT_MINUS / _gain(rule.tau_post, twin.SHIFT_POST),
                        tau_pre=rule.tau_pre, tau_post=rule.tau_post)
    gp = _gain(rule.tau_pre, twin.SHIFT_PRE) * _gain(rule.tau_post2, twin.SHIFT_POST2)
    return rule.model_copy(update=dict(nu_post=255 * twin.A_PLUS / 2**twin.SHIFT_PLUS / gp,
                                       nu_pre=twin.A_MINUS / 2**twin.SHIFT_MINUS / _gain(rule.tau_post1, twin.SHIFT_POST1)))


@pytest.mark.parametrize("make_rule,r_min", [(lambda: PairSTDP(a_plus=0.02, a_minus=0.022), 0.9),
                                             (lambda: TripletSTDP(nu_pre=0.004, nu_post=0.08), 0.75)])
def test_float_vs_integer_on_same_raster(make_rule, r_min):
    """Same rasters, same rule: the integer backend (the rule's integer twin, 8-bit weights and
    ``stdp_trace`` traces) follows the float backend.  Tolerance: mean change within 30 % (the
    shift decay's time constant and the ceil decay differ from ``exp(-t/tau)`` by ~10-20 %) and
    per-synapse changes correlate (pair r > 0.9; triplet r > 0.75: its depression is ~1 code per
    presynaptic spike, rounded stochastically, which adds per-synapse noise)."""
    rng = np.random.default_rng(4)
    T, n_pre, n_post = 2000, 40, 10
    pre_r = poisson_raster(np.full(n_pre, 30.0), T, seed=5)
    post_r = poisson_raster(np.full(n_post, 20.0), T, seed=6)
    w0 = np.rint(rng.uniform(0.3, 0.7, (n_pre, n_post)) * 255) / 255
    rule = make_rule()
    # the float side runs the rule the twin represents: its quantised coefficients divided by the
    # trace gains that to_int() applied, so that coefficient rounding (2**-8 for stdp_update) is
    # not what is measured
    w_f = _forced(_represented(rule, rule.to_int(IntFormat(8, 8), 1e-3, 1.0)), w0, pre_r, post_r, "ideal").syn.weights()
    w_i = _forced(rule, w0, pre_r, post_r, "int").syn.weights()
    change = np.abs(w_f - w0).mean()
    assert change > 0.02
    assert abs((w_i - w_f).mean()) < 0.3 * change
    assert np.corrcoef((w_i - w0).ravel(), (w_f - w0).ravel())[0, 1] > r_min


def _lif_net(backend, rule, raster, w0, seed=0):
    net = Network(synapse=backend, seed=seed)
    net.add_input("in", raster.shape[1])
    net.add_population("exc", LifNeuron(tau_m=20e-3, v_thresh=1.0, refractory=2e-3), w0.shape[1])
    proj = net.connect("in", "exc", w=w0, rule=rule, gain=0.25)
    out = net.run(raster.shape[0], {"in": raster})
    return proj, out


def test_same_network_on_three_backends():
    """One config field switches ideal / int / crossbar; with an ideal device the three agree."""
    pytest.importorskip("hwsnn.crossbar", reason="hwsnn.crossbar not available yet")
    rng = np.random.default_rng(7)
    raster = poisson_raster(np.full(30, 40.0), 1000, seed=8)
    w0 = np.rint(rng.uniform(0.2, 0.6, (30, 6)) * 100) / 100  # on the 100-pulse grid of the ideal device
    # 5/256 codes per trace code after the trace gain (20 ms -> shift 4): the operating point at
    # which the r_min below were set (larger steps saturate more weights and correlate less)
    a = 5 / 256 / _gain(20e-3, 4)
    rule = PairSTDP(a_plus=a, a_minus=a)
    twin = rule.to_int(IntFormat(8, 8), 1e-3, 1.0)
    assert twin.A_PLUS == twin.A_MINUS == 5 and twin.SHIFT_PLUS == 8
    # the float backends run the twin's effective constants (the quantised rates and the shift
    # decay's time constant), so that the comparison measures the backends, not the quantisation
    eff = PairSTDP(a_plus=twin.A_PLUS / 2**twin.SHIFT_PLUS, a_minus=twin.A_MINUS / 2**twin.SHIFT_MINUS,
                   tau_pre=tau_of_shift(twin.SHIFT_PRE, 1e-3), tau_post=tau_of_shift(twin.SHIFT_POST, 1e-3))
    results = {}
    for backend in ("ideal", "int", "crossbar"):
        cfg = SynapseConfig(backend=backend, device="ideal")
        proj, out = _lif_net(cfg, rule if backend == "int" else eff, raster, w0)
        results[backend] = (proj.syn.weights(), out.counts("exc"))
    w_i, c_i = results["ideal"]
    assert c_i.sum() > 50
    for backend in ("int", "crossbar"):
        w, c = results[backend]
        assert np.all((w >= -1e-12) & (w <= 1 + 1e-12))
        assert abs(c.sum() - c_i.sum()) / c_i.sum() < 0.15, backend
        assert abs((w - w0).mean() - (w_i - w0).mean()) < 0.3 * abs((w_i - w0).mean()), backend
        r_min = 0.8 if backend == "int" else 0.6  # crossbar: each change rounded to 0.01 pulses
        assert np.corrcoef((w - w0).ravel(), (w_i - w0).ravel())[0, 1] > r_min, backend


def test_crossbar_backend_deterministic_per_seed():
    pytest.importorskip("hwsnn.crossbar", reason="hwsnn.crossbar not available yet")
    raster = poisson_raster(np.full(12, 50.0), 300, seed=1)
    w0 = np.full((12, 4), 0.4)
    cfg = SynapseConfig(backend="crossbar", device="sto")
    a = _lif_net(cfg, PairSTDP(a_plus=0.03, a_minus=0.03), raster, w0, seed=3)[0].syn.weights()
    b = _lif_net(cfg, PairSTDP(a_plus=0.03, a_minus=0.03), raster, w0, seed=3)[0].syn.weights()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("neuron,backend", [
    (LifStepwiseNeuron(unit=LifStepwiseParams(THETA_BASE=100, THETA_STEP=20, LEARN_UP=30, LEARN_DN=60)), "int"),
    (LifStepwiseFloatNeuron(THETA_BASE=100, THETA_STEP=20, LEARN_UP=30, LEARN_DN=60), "int"),
    (LifStepwiseFloatNeuron(THETA_BASE=100, THETA_STEP=20, LEARN_UP=30, LEARN_DN=60), "ideal"),
])
def test_stepwise_gated_rule_in_network(neuron, backend):
    """Gated rule: every weight change happens on a pre spike and goes in the direction of the post
    neuron's learning flags at that step (the float rule on ideal weights, its integer twin on
    the int backend)."""
    rng = np.random.default_rng(9)
    n_in, n_out, T = 20, 5, 300
    raster = poisson_raster(np.full(n_in, 50.0), T, seed=9)
    net = Network(synapse=backend)
    net.add_input("in", n_in)
    pop = net.add_population("out", neuron, n_out)
    w0 = rng.integers(0, 20, (n_in, n_out)) / 255
    gain = 4 if neuron.integer else 4.0 * 255  # ~10 codes per input spike x 4 crosses theta in a few steps
    proj = net.connect("in", "out", w=w0, rule=StepwiseGated(w_step=1 / 255), gain=gain)
    moved_up = moved_dn = 0
    codes = (lambda: proj.syn.q.copy()) if backend == "int" else (lambda: np.rint(proj.syn.w * 255).astype(int))
    for t in range(T):
        q0 = codes()
        net.run(1, {"in": raster[t:t + 1]})
        up, dn = pop.learn_flags()
        dq = codes() - q0
        rows = raster[t] > 0
        assert np.all(dq[~rows] == 0)
        expect = np.where(up, 1, np.where(dn, -1, 0))[None, :] * np.ones((rows.sum(), 1), int)
        clipped = np.clip(q0[rows] + expect, 0, 255) - q0[rows]
        np.testing.assert_array_equal(dq[rows], clipped)
        moved_up += (dq > 0).sum()
        moved_dn += (dq < 0).sum()
    assert moved_up > 0 and moved_dn > 0


def test_network_config_errors():
    with pytest.raises(ConfigError) as e:
        Network(synapse="analog")
    assert e.value.field == "backend"
    with pytest.raises(ConfigError) as e:
        Network(dt=0)
    assert e.value.field == "dt"
    net = Network()
    net.add_input("in", 3)
    net.add_population("int", LifStepwiseNeuron(), 2)
    net.add_population("lif", LifNeuron(), 2)
    with pytest.raises(ConfigError) as e:
        net.connect("in", "nope", w=0.1)
    assert e.value.field == "dst"
    with pytest.raises(ConfigError) as e:
        net.connect("in", "int", w=0.1)  # integer neurons need the int backend
    assert e.value.field == "synapse.backend"
    with pytest.raises(ConfigError) as e:
        net.connect("in", "in", w=np.zeros((2, 2)))
    assert e.value.field == "w"
    with pytest.raises(ConfigError) as e:
        net.connect("in", "in", w=0.1, receptor="gaba")
    assert e.value.field == "receptor"
    with pytest.raises(ConfigError) as e:
        net.connect("in", "lif", w=0.1, rule=PairSTDPInt())  # integer twin on float weights
    assert e.value.field == "rules[0].kind"
    with pytest.raises(ConfigError) as e:
        net.connect("in", "lif", w=0.1, rule=StepwiseGated())  # no learning flags
    assert e.value.field == "neuron.model"
    with pytest.raises(ConfigError) as e:
        net.run(5, {"in": np.zeros((5, 4))})
    assert e.value.field == "inputs.in"
    with pytest.raises(ConfigError) as e:
        net.add_input("in", 2)
    assert e.value.field == "name"


def test_conductance_population_exc_and_inh_receptors():
    """Excitatory and inhibitory projections feed ge and gi separately (one-step delay); the
    membrane follows the exact step with the conductances held (mV inside the model)."""
    rng = np.random.default_rng(12)
    net = Network()
    net.add_input("a", 5)
    net.add_input("b", 4)
    p = DiehlCookNeuron(tau_ge=1e9, tau_gi=1e9, v_thresh=1.0)
    pop = net.add_population("exc", p, 3)
    we, wi = rng.random((5, 3)), rng.random((4, 3))
    net.connect("a", "exc", w=we)
    net.connect("b", "exc", w=wi, receptor="inh", gain=2.0)
    ra = np.zeros((3, 5), np.uint8)
    rb = np.zeros((3, 4), np.uint8)
    ra[0, [1, 3]] = 1
    rb[0, [0, 2]] = 1
    net.run(2, {"a": ra, "b": rb})
    np.testing.assert_allclose(pop.ge, we[[1, 3]].sum(0), rtol=1e-9)
    np.testing.assert_allclose(pop.gi, 2.0 * wi[[0, 2]].sum(0), rtol=1e-9)
    v_rest, e_exc, e_inh = p.v_rest * 1e3, p.e_exc * 1e3, p.e_inh * 1e3
    b = 1 + pop.ge + pop.gi  # conductances held over step 1; v was at rest after step 0
    v_inf = (v_rest + pop.ge * e_exc + pop.gi * e_inh) / b
    np.testing.assert_allclose(pop.v, v_inf + (v_rest - v_inf) * np.exp(-1e-3 * b / p.tau_m), rtol=1e-9)


def test_learning_off_freezes_weights_and_thresholds():
    raster = poisson_raster(np.full(20, 80.0), 300, seed=2)
    hom = ns(theta_init=0.0, theta_plus=5e-5, tau_theta=1e4)
    net = Network(synapse="int")
    net.add_input("in", 20)
    pop = net.add_population("exc", DiehlCookNeuron(), 3, homeostasis=hom)
    proj = net.connect("in", "exc", w=0.8, rule=TripletSTDP(nu_pre=0.01, nu_post=0.1), gain=1.0)
    q0 = proj.syn.q.copy()
    out = net.run(300, {"in": raster}, learning=False)
    n_off = out.counts("exc")
    assert n_off.sum() > 0
    np.testing.assert_array_equal(proj.syn.q, q0)
    assert np.all(pop.theta == 0)
    out = net.run(300, {"in": raster}, learning=True)
    assert np.any(proj.syn.q != q0)
    # theta: +theta_plus (mV) per spike while learning, then the per-run decay exp(-T dt / tau_theta)
    np.testing.assert_allclose(pop.theta, out.counts("exc") * 0.05 * math.exp(-0.3 / 1e4), rtol=1e-12)
    assert np.all(pop.theta > 0)


def test_crossbar_backend_homeostasis_and_gated_rule():
    """Slow rules and the gated rule reach a crossbar as pulse updates: normalisation lands within the pulse
    grid (ideal device: 1/100 per pulse, stochastic rounding) of the target."""
    pytest.importorskip("hwsnn.crossbar", reason="hwsnn.crossbar not available yet")
    from hwsnn.engine.rules import Normalize

    rng = np.random.default_rng(13)
    raster = poisson_raster(np.full(16, 50.0), 100, seed=4)
    net = Network(synapse=SynapseConfig(backend="crossbar", device="ideal"), seed=1)
    net.add_input("in", 16)
    net.add_population("out", LifStepwiseFloatNeuron(THETA_BASE=2.0, THETA_STEP=0.5, LEARN_UP=1.0, LEARN_DN=1.5), 3)
    proj = net.connect("in", "out", w=np.rint(rng.uniform(0.1, 0.5, (16, 3)) * 100) / 100,
                       rules=[StepwiseGated(w_step=0.01), Normalize(target=4.0, period=100)])
    w_before = proj.syn.weights()
    net.run(100, {"in": raster})
    w = proj.syn.weights()
    assert np.any(np.abs(w - w_before) > 0.005)
    np.testing.assert_allclose(w.sum(0), 4.0, atol=16 * 0.01)


# -- a rule written once (hooks only) runs in Network's generated kernel -------------------------
class _HebbConst(NamedTuple):
    step: float


@njit(cache=True, inline="always")
def _hebb_on_post(c, w, x_pre):
    return c.step * x_pre


class _Hebb(Rule):
    """Potentiation only: ``dw = step * x_pre`` on a postsynaptic spike (not registered)."""

    kind: Literal["test_net_hebb"] = "test_net_hebb"
    step: float = 0.01
    """Change per postsynaptic spike at full presynaptic trace."""

    def traces(self):
        return (TraceSpec("pre", 0.01),)

    def hooks(self):
        return RuleHooks(on_post=_hebb_on_post, post_scope="all")

    def consts(self, ctx):
        return _HebbConst(self.step)


def test_user_rule_runs_in_the_generated_projection_kernel():
    from hwsnn.engine.kernel import kernel_cache_dir

    pre_r = np.zeros((30, 3), np.uint8)
    post_r = np.zeros((30, 2), np.uint8)
    pre_r[10, 0] = 1
    pre_r[14, 1] = 1
    post_r[20, 1] = 1
    proj = _forced(_Hebb(step=0.1), np.full((3, 2), 0.5), pre_r, post_r)
    d = math.exp(-1e-3 / 0.01)
    want = np.full((3, 2), 0.5)
    want[0, 1] += 0.1 * d ** 10
    want[1, 1] += 0.1 * d ** 6
    np.testing.assert_allclose(proj.syn.weights(), want, rtol=0, atol=1e-15)
    assert proj.kernel.py_func.__globals__["R0_post"] is _hebb_on_post
    key = proj.kernel.py_func.__module__.removeprefix("hwsnn_proj_")
    assert "R0_post(rc[0], W[i, j], xp0)" in (kernel_cache_dir() / f"proj_{key}.py").read_text()
