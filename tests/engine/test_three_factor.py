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


def _net(backend="ideal", rule=RULE, **extra):
    cfg = load_config(None, {"network.n_exc": N_OUT, "network.w_inh_total": 0.0, "network.efficacy": 50.0,
                             "homeostasis.norm_per_input": 0.0, "homeostasis.theta_plus": 0.0,
                             "schedule.t_present": 0.05, "schedule.t_rest": 0.01, "synapse.backend": backend,
                             "rules": [rule], **extra})
    net = LayerNetwork(cfg, N_IN, seed=2, record=True)
    w = np.full((N_IN, N_OUT), 0.05)
    w[0, 0] = w[1, 1] = w[2, 3] = 0.9
    w[:, 2] = 0.0  # neuron 2 stays silent
    if backend == "ideal":
        net.w[:] = w
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


def test_reward_drives_a_classification_that_unsupervised_stdp_cannot_learn():
    # digits; neuron j votes for class j % 10; the reward is the only teacher
    from hwsnn.tasks.datasets import load_dataset

    ds = load_dataset("digits", seed=0)

    def accuracy(rule):
        cfg = load_config(None, {"network.n_exc": 50, "synapse.backend": "ideal", "homeostasis.theta_plus": 0.0,
                                 "rules": [rule]})
        net = LayerNetwork(cfg, ds.n_in, seed=0)
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

    rewarded = accuracy({"kind": "reward_stdp", "eta": 1.0})
    no_reward = accuracy({"kind": "reward_stdp", "eta": 0.0})
    unsupervised = accuracy({"kind": "pair_stdp", "a_minus": 1e-4})
    assert no_reward < 0.2 and unsupervised < 0.2  # chance is 0.1
    assert rewarded > 0.3 and rewarded > unsupervised + 0.15


def test_unlabelled_learning_is_refused():
    net = _net()
    with pytest.raises(ConfigError) as ei:
        net.present_raster(_raster(net.n_on))
    assert ei.value.field == "rules.reward_stdp"


def test_hwsnn_run_names_the_rule(tmp_path, capsys):
    from hwsnn.cli import main

    rc = main(["run", "ssdp_digits", "--set", 'rules=[{kind = "reward_stdp"}]', "--n-train", "20", "--n-test", "5",
               "--n-exc", "10", "--seed", "0", "--set", "task.kmeans=false", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "rules.reward_stdp" in err and "Traceback" not in err


def test_bad_setups_are_refused():
    with pytest.raises(ConfigError) as ei:
        _net(rule={**RULE, "n_classes": 5})
    assert ei.value.field == "rules.n_classes"
    with pytest.raises(ConfigError) as ei:
        _net("integer")
    assert ei.value.field == "rules.reward_stdp"
    from hwsnn.engine.neurons_extra import LifNeuron
    from hwsnn.snn import Network

    nw = Network(dt=5e-4)
    nw.add_input("in", 4)
    nw.add_population("exc", LifNeuron(), 2)
    with pytest.raises(ConfigError) as ei:
        nw.connect("in", "exc", w=0.2, rule=RewardSTDP(n_classes=2))
    assert ei.value.field == "rules.reward_stdp"
