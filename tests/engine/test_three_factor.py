"""Three-factor (reward-modulated) STDP: eligibility and reward against a direct reference, and a
task that needs the reward (digits classified by fixed neuron-to-class votes)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwsnn.config import load_config
from hwsnn.engine.layer import LayerNetwork
from hwsnn.engine.rules.three_factor import RewardSTDP
from hwsnn.errors import ConfigError

N_IN, N_OUT = 6, 4
RULE = {"kind": "reward_stdp", "a_plus": 0.02, "a_minus": 0.01, "tau_pre": 0.004, "tau_post": 0.006, "tau_e": 0.03,
        "eta": 2.0, "n_classes": 2, "reward_wrong": -0.5}


def _net(backend="ideal", rule=RULE, silent=False, **extra):
    cfg = load_config(None, {"network.n_exc": N_OUT, "network.w_inh_total": 0.0, "network.efficacy": 50.0,
                             "homeostasis.norm_per_input": 0.0, "homeostasis.theta_plus": 0.0,
                             "schedule.t_present": 0.05, "schedule.t_rest": 0.01, "synapse.backend": backend,
                             "rules": [rule], **extra})
    net = LayerNetwork(cfg, N_IN, seed=2, record=True)
    w = np.full((N_IN, N_OUT), 0.05)
    w[0, 0] = w[1, 1] = w[2, 3] = 0.9
    w[:, 2] = 0.0  # neuron 2 stays silent
    if silent:
        w[:] = 0.0
    if backend == "ideal":
        net.w[:] = w
    elif backend == "integer":
        net.wq[:] = np.rint(w * net._qmax).astype(np.int64)
    else:
        net.xb.program(w)
        net.w[:] = np.asarray(net.xb.weights(), np.float64) * net.w_max
    return net


def _raster(t_len: int) -> np.ndarray:
    r = np.zeros((t_len, N_IN), bool)
    r[[3, 10, 11, 40], 0] = True
    r[[5, 6, 30], 1] = True
    r[[8, 9, 12, 60], 2] = True
    r[[4, 20, 41], 4] = True
    return r


def eligibility_reference(pre, post, n_total, dt, p) -> np.ndarray:
    """Pair STDP with nearest-spike traces read before this step's spikes, each pairing decayed to
    the end of the presentation: e(T) = sum_k dstdp_k exp(-(n_total - t_k) dt / tau_e)."""
    n_in, n_out = pre.shape[1], post.shape[1]
    last_pre = np.full(n_in, -1)
    last_post = np.full(n_out, -1)
    e = np.zeros((n_in, n_out))
    for t in range(n_total):
        decay = math.exp(-(n_total - t) * dt / p["tau_e"])
        for i in np.flatnonzero(pre[t]) if t < pre.shape[0] else []:
            for j in range(n_out):
                if last_post[j] >= 0:
                    e[i, j] -= p["a_minus"] * math.exp(-(t - last_post[j]) * dt / p["tau_post"]) * decay
        for j in np.flatnonzero(post[t]):
            for i in range(n_in):
                if last_pre[i] >= 0:
                    e[i, j] += p["a_plus"] * math.exp(-(t - last_pre[i]) * dt / p["tau_pre"]) * decay
        if t < pre.shape[0]:
            last_pre[pre[t]] = t
        last_post[post[t]] = t
    return e


@pytest.mark.parametrize("label", [0, 1, -2])
@pytest.mark.parametrize("backend", ["ideal", "crossbar"])
def test_rewarded_change_equals_the_reference(backend, label):
    extra = {"synapse.write_back.every": 1000, "synapse.device.preset": "ideal"} if backend == "crossbar" else {}
    net = _net(backend, **extra)
    c = net._rules[0].consts
    RewardSTDP.set_label(c, 0 if label == -2 else label)
    w0 = net.weights()
    r = _raster(net.n_on)
    counts = net.present_raster(r)
    post = net.record.spikes.astype(bool)
    assert counts[2] == 0 and (counts > 0).sum() >= 2
    e = eligibility_reference(r, post, net.n_total, net.dt, RULE)
    winner = int(np.argmax(counts))
    want_label = 0 if label == -2 else label
    reward = 1.0 if winner % 2 == want_label else -0.5
    assert c.last[0] == reward and c.last[1] == winner
    dw = RULE["eta"] * reward * e
    assert np.abs(dw).max() > 1e-3 and (e > 0).any() and (e < 0).any()
    if backend == "ideal":
        np.testing.assert_allclose(net.weights() - w0, np.clip(w0 + dw, 0.0, 1.0) - w0, rtol=0, atol=1e-14)
    else:
        np.testing.assert_allclose(net.dw, dw, rtol=0, atol=1e-14)
    assert not c.elig.any()  # the eligibility restarts after the reward


def test_both_rewards_occur_in_the_reference_test():
    # guards the test above: label 0 and label 1 give opposite signs for this raster's winner
    net = _net()
    counts = net.present_raster(_raster(net.n_on), learn=False)
    assert int(np.argmax(counts)) % 2 in (0, 1) and counts.sum() > 0


def _digits_accuracy(ds, rule, backend="ideal", seed=0):
    """The reward-only digits task: 50 neurons voting for class ``j % 10``, 600 training samples
    twice (labels given to ``reward_stdp``), accuracy on 300 test digits (a silent layer is wrong)."""
    cfg = load_config(None, {"network.n_exc": 50, "synapse.backend": backend, "homeostasis.theta_plus": 0.0,
                             "rules": [rule]})
    net = LayerNetwork(cfg, ds.n_in, seed=seed)
    c = net._rules[0].consts
    rng = np.random.default_rng(5)
    for _ in range(2):
        for idx in rng.permutation(len(ds.x_train))[:600]:
            if rule["kind"] == "reward_stdp":
                RewardSTDP.set_label(c, ds.y_train[idx])
            net.present(ds.x_train[idx])
    hits = 0
    for x, y in zip(ds.x_test[:300], ds.y_test[:300]):
        n = net.present(x, learn=False)
        hits += bool(n.sum() > 0 and int(np.argmax(n)) % 10 == y)
    return hits / 300


def test_reward_drives_a_classification_that_unsupervised_stdp_cannot_learn():
    # digits; neuron j votes for class j % 10; the reward is the only teacher
    from hwsnn.tasks.datasets import load_dataset

    ds = load_dataset("digits", seed=0)
    rewarded = _digits_accuracy(ds, {"kind": "reward_stdp", "eta": 1.0})
    no_reward = _digits_accuracy(ds, {"kind": "reward_stdp", "eta": 0.0})
    unsupervised = _digits_accuracy(ds, {"kind": "pair_stdp", "a_minus": 1e-4})
    assert no_reward < 0.2 and unsupervised < 0.2  # chance is 0.1
    assert rewarded > 0.3 and rewarded > unsupervised + 0.15


@pytest.mark.parametrize("backend", ["ideal", "integer"])
def test_unlabelled_learning_is_refused(backend):
    net = _net(backend)
    with pytest.raises(ConfigError) as ei:
        net.present_raster(_raster(net.n_on))
    assert ei.value.field == "rules.reward_stdp"


@pytest.mark.parametrize("backend", ["ideal", "integer"])
def test_hwsnn_run_names_the_rule(tmp_path, capsys, backend):
    from hwsnn.cli import main

    rc = main(["run", "ssdp_digits", "--set", 'rules=[{kind = "reward_stdp"}]', "--n-train", "20", "--n-test", "5",
               "--n-exc", "10", "--seed", "0", "--set", "task.kmeans=false", "--synapse", backend,
               "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "rules.reward_stdp" in err and "Traceback" not in err


def test_bad_setups_are_refused():
    with pytest.raises(ConfigError) as ei:
        _net(rule={**RULE, "n_classes": 5})
    assert ei.value.field == "rules.n_classes"
    with pytest.raises(ConfigError) as ei:
        _net("integer", rule={**RULE, "tau_e": 1e3})  # beyond the integer decay table
    assert ei.value.field == "rules.tau_e"
    with pytest.raises(ConfigError) as ei:
        _net("integer", rule={**RULE, "a_minus": 1e-12})  # below the integer eligibility's LSB
    assert ei.value.field == "rules.a_minus"
    with pytest.raises(ConfigError) as ei:
        _net("integer", rule={**RULE, "n_classes": 5})
    assert ei.value.field == "rules.n_classes"
    from hwsnn.engine.neurons_extra import LifNeuron
    from hwsnn.snn import Network

    nw = Network(dt=5e-4)
    nw.add_input("in", 4)
    nw.add_population("exc", LifNeuron(), 2)
    with pytest.raises(ConfigError) as ei:
        nw.connect("in", "exc", w=0.2, rule=RewardSTDP(n_classes=2))
    assert ei.value.field == "rules.reward_stdp"


# --------------------------------------------------------------------------------------------- integer twin
# eta 20: the rewarded changes are tens of weight codes, far above the final rounding's one code
RULE_INT = {**RULE, "eta": 20.0}


def _int_traces(shift: int, x_max: int):
    """``stdp_trace`` as a register: full on a spike, ceil-decayed by ``2**-shift`` otherwise."""
    from hwsnn.spec.fixed import decay_ceil

    return lambda x, spike: x_max if spike else decay_ceil(x, shift)


def int_reference(pre, post, n_on, n_total, twin, q0, lfsr0, label, x_bits, q_max):
    """The integer twin written out per synapse with exact rationals (Fraction) for the decay factor,
    the learning core's LFSR16 stream (one value per evaluated synapse of every step, then one per
    synapse of the reward sweep, row-major).  Returns ``(q, R_q, winner, lfsr)``."""
    from fractions import Fraction

    from hwsnn.spec.lfsr import lfsr16_next

    n_in, n_out = q0.shape
    x_max = (1 << x_bits) - 1
    dec_pre, dec_post = _int_traces(twin.SHIFT_PRE, x_max), _int_traces(twin.SHIFT_POST, x_max)
    xp, xq = [0] * n_in, [0] * n_out  # trace registers, read before this step's increments
    e = [[0] * n_out for _ in range(n_in)]
    e_lim = 2 ** 39  # E_BITS = 40, two's complement
    d = Fraction(twin.E_DECAY, 2 ** 32)
    r = int(lfsr0)
    for t in range(n_total):
        p_t = [bool(pre[t, i]) if t < min(n_on, pre.shape[0]) else False for i in range(n_in)]
        q_t = [bool(post[t, j]) for j in range(n_out)]
        n_p, n_q = sum(p_t), sum(q_t)
        if n_p or n_q:
            for _ in range(n_p * n_out + (n_in - n_p) * n_q):
                r = lfsr16_next(r)
        f = math.floor(65536 * d ** (n_total - t) + Fraction(1, 2))
        for i in range(n_in):
            for j in range(n_out):
                if p_t[i] or q_t[j]:
                    de = (twin.A_PLUS * xp[i] if q_t[j] else 0) - (twin.A_MINUS * xq[j] if p_t[i] else 0)
                    v = e[i][j] + math.floor(Fraction(de * f, 65536) + Fraction(1, 2))
                    e[i][j] = min(max(v, -e_lim), e_lim - 1)
        xp = [dec_pre(xp[i], p_t[i]) for i in range(n_in)]
        xq = [dec_post(xq[j], q_t[j]) for j in range(n_out)]
    counts = post[:n_on].sum(axis=0)
    winner = int(np.argmax(counts)) if counts.max() > 0 else -1
    r_q = 0 if winner < 0 else (256 if winner % twin.n_classes == label else twin.R_WRONG)
    q = [[int(v) for v in row] for row in q0]
    for i in range(n_in):
        for j in range(n_out):
            p = r_q * e[i][j]
            dq = ((p >> 16) + (r & 0xFFFF)) >> 16  # stochastic rounding of p / 2**32
            q[i][j] = min(max(q[i][j] + dq, 0), q_max)
            r = lfsr16_next(r)
    return np.array(q, np.int64), r_q, winner, r, e


def _int_run(rule, label, silent=False):
    net = _net("integer", rule=rule, silent=silent)
    c = net._rules[0].consts
    RewardSTDP.set_label(c, label)
    q0, lfsr0 = net.wq.copy(), int(net._lfsr[0])
    r = _raster(net.n_on)
    counts = net.present_raster(r)
    return net, c, r, q0, lfsr0, counts


SATURATE = {"kind": "reward_stdp_int", "A_PLUS": (1 << 31) - 1, "A_MINUS": 0, "SHIFT_PRE": 3, "SHIFT_POST": 4,
            "E_DECAY": 4294000000, "n_classes": 2, "R_WRONG": 1}


@pytest.mark.parametrize("case", ["right", "wrong", "silent", "saturated"])
def test_integer_twin_equals_the_integer_reference(case):
    rule = SATURATE if case == "saturated" else RULE_INT
    net, c, r, q0, lfsr0, counts = _int_run(rule, label=0 if case == "right" else 1, silent=case == "silent")
    twin = net._rules[0].rule
    assert twin.kind == "reward_stdp_int"
    post = net.record.spikes.astype(bool)
    q, r_q, winner, lfsr, e = int_reference(r, post, net.n_on, net.n_total, twin, q0, lfsr0, 0 if case == "right" else 1,
                                            net.int_format.x_bits, net._qmax)
    np.testing.assert_array_equal(net.wq, q)
    assert int(net._lfsr[0]) == lfsr
    assert c.last[0] == r_q / 256 and c.last[1] == winner
    assert not c.elig.any()  # the eligibility restarts after the reward
    e = np.array(e)
    if case == "silent":
        assert counts.sum() == 0 and r_q == 0 and winner == -1 and not e.any()
        np.testing.assert_array_equal(net.wq, q0)
        return
    assert counts[2] == 0 and (counts > 0).sum() >= 2 and (e > 0).any() and ((e < 0).any() or case == "saturated")
    dq = net.wq - q0
    if case == "right":
        assert r_q == 256 and dq.max() >= 10 and dq.min() <= -10
    elif case == "wrong":
        assert r_q == -128 and dq.max() >= 5 and dq.min() <= -5
    else:  # the register saturates: unsaturated sums would move the codes much further
        assert (e == 2 ** 39 - 1).any() and r_q == 1
        sat = e == 2 ** 39 - 1  # a saturated register moves its code by 127 or 128 (2**39 / 2**32), clamped
        lo, hi = np.minimum(q0[sat] + 127, 255) - q0[sat], np.minimum(q0[sat] + 128, 255) - q0[sat]
        assert ((dq[sat] == lo) | (dq[sat] == hi)).all() and dq.max() <= 128


def test_twin_fields_follow_the_documented_formats():
    from hwsnn.plasticity.traces import trace_gain

    net = _net("integer", rule=RULE_INT)
    twin = net._rules[0].rule
    dt, q_max, x_max = net.dt, net._qmax, (1 << net.int_format.x_bits) - 1
    scale = 2 ** 24 * RULE_INT["eta"] * q_max / (net.w_max * x_max)
    assert twin.A_PLUS == round(scale * RULE_INT["a_plus"] * trace_gain(RULE_INT["tau_pre"], dt, net.int_format.x_bits))
    assert twin.A_MINUS == round(scale * RULE_INT["a_minus"] * trace_gain(RULE_INT["tau_post"], dt, net.int_format.x_bits))
    assert twin.E_DECAY == round(2 ** 32 * math.exp(-dt / RULE_INT["tau_e"]))
    assert twin.R_WRONG == -128 and twin.n_classes == 2
    lut = net._rules[0].consts.lut
    assert lut[0] == 65536 and lut[-1] >= 1 and 65536 * (twin.E_DECAY / 2 ** 32) ** len(lut) < 0.5
    np.testing.assert_allclose(lut[:net.n_total + 1] / 65536, np.exp(-np.arange(net.n_total + 1) * dt / RULE_INT["tau_e"]),
                               rtol=0, atol=2.0 ** -16)


def _float_int_tolerance(pre, post, n_on, dt, rule, x_bits, q_max, w_max, reward):
    """Per synapse bound of |q_int - q_float| (codes) after one presentation, from the formats:
    0.5 (initial codes rounded to the nearest), 1 (the final stochastic rounding), and per pairing
    the float change times the largest gap between the float trace and the gain-corrected
    integer trace (its window shape), the decay table's half LSB and the coefficients' and
    eligibility's LSBs (below 2**-16 codes)."""
    from hwsnn.plasticity.traces import shift_for_tau, trace_gain
    from hwsnn.spec.fixed import decay_ceil

    n_total = post.shape[0]
    x_max = (1 << x_bits) - 1
    c = rule["eta"] * q_max / w_max

    def gap(tau):
        k_shift, x, worst = shift_for_tau(tau, dt), x_max, 0.0
        g = trace_gain(tau, dt, x_bits)
        for lag in range(1, n_total + 1):  # the integer trace is full one step after the spike
            worst = max(worst, abs(g * x / x_max - math.exp(-lag * dt / tau)))
            x = decay_ceil(x, k_shift)
        return worst, g

    gp, g_pre = gap(rule["tau_pre"])
    gq, g_post = gap(rule["tau_post"])
    eps_pot = c * rule["a_plus"] * (gp + g_pre * 2.0 ** -16) + 2.0 ** -16
    eps_dep = c * rule["a_minus"] * (gq + g_post * 2.0 ** -16) + 2.0 ** -16
    n_in, n_out = pre.shape[1], post.shape[1]
    seen_pre, seen_post = np.zeros(n_in, bool), np.zeros(n_out, bool)
    n_pot, n_dep = np.zeros((n_in, n_out)), np.zeros((n_in, n_out))
    for t in range(n_total):
        p_t = pre[t] if t < min(n_on, pre.shape[0]) else np.zeros(n_in, bool)
        n_pot += np.outer(seen_pre, post[t])
        n_dep += np.outer(p_t, seen_post)
        seen_pre |= p_t
        seen_post |= post[t]
    return 1.5 + abs(reward) * (n_pot * eps_pot + n_dep * eps_dep), n_pot + n_dep


@pytest.mark.parametrize("label", [0, 1])
def test_float_and_integer_agree_within_the_format_tolerance(label):
    f = _net("ideal", rule=RULE_INT)
    RewardSTDP.set_label(f._rules[0].consts, label)
    r = _raster(f.n_on)
    f.present_raster(r)
    net, c, _r, q0, _l, _counts = _int_run(RULE_INT, label)
    post = net.record.spikes.astype(bool)
    np.testing.assert_array_equal(post, f.record.spikes.astype(bool))  # the same spikes on both backends
    reward = f._rules[0].consts.last[0]
    assert reward == c.last[0]  # 1 and -0.5 are exact in Q1.8
    tol, n_events = _float_int_tolerance(r, post, net.n_on, net.dt, RULE_INT, net.int_format.x_bits, net._qmax,
                                         net.w_max, reward)
    err = np.abs(net.wq - f.weights() * net._qmax / net.w_max)
    assert (err <= tol).all(), (err - tol).max()
    # the bound is loose (worst-case window gap per pairing), so also compare the changes as a whole:
    # the twin follows the float rule synapse by synapse up to its roundings
    d_float = (f.weights() - _net("ideal", rule=RULE_INT).weights()).ravel() * net._qmax / net.w_max
    d_int = (net.wq - q0).ravel()
    assert np.abs(d_float).max() >= 5 and np.corrcoef(d_float, d_int)[0, 1] > 0.95
    assert np.abs(d_int - d_float).mean() < 0.3 * np.abs(d_float).mean()
    assert n_events.max() >= 3


def test_integer_backend_learns_the_reward_task():
    # the digits task of the float test above on the integer backend (8-bit codes): learning
    # varies between seeds, so the mean over four is compared
    from hwsnn.tasks.datasets import load_dataset

    ds = load_dataset("digits", seed=0)
    rewarded = np.mean([_digits_accuracy(ds, {"kind": "reward_stdp", "eta": 1.0}, "integer", s) for s in range(4)])
    no_reward = np.mean([_digits_accuracy(ds, {"kind": "reward_stdp", "eta": 0.0}, "integer", s) for s in range(4)])
    assert no_reward < 0.2  # chance is 0.1
    assert rewarded > 0.25 and rewarded > no_reward + 0.15
