"""SSDP post-optimisation of the STL trainer's last layer and the robustness perturbations.

The batched change is checked against a vectorised NumPy reference (spike times by argmax, not by
a scan) and hand-computed values; the trainer against plain training (A = 0, warm-up), the cosine
schedule against its closed form, and the perturbations against their stated distributions.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hwsnn.engine.rules.ssdp import SSDP
from hwsnn.errors import ConfigError
from hwsnn.stl.model import ModelParams
from hwsnn.stl.ssdp_post import (SSDPPostParams, anneal_factor, batch_change, event_noise, jitter, jitter_shifts,
                                 rule_at, spike_times)
from hwsnn.stl.train import TaskParams, TrainParams, load_split, parse_stl_config, train


# ---------------------------------------------------------------------------------------------- reference
def _ref_times(sp: np.ndarray, which: str):
    """Flags and spike steps by argmax over time (T for silent), a different route than the scan."""
    n_t = sp.shape[0]
    on = sp.any(axis=0)
    if which == "first":
        t = np.argmax(sp != 0, axis=0)
    else:
        t = n_t - 1 - np.argmax(sp[::-1] != 0, axis=0)
    return on.astype(int), np.where(on, t, n_t)


def _ref_change(pre, post, a_plus, a_base, sigma_steps, dw_max, which):
    p, tp = _ref_times(pre, which)
    q, tq = _ref_times(post, which)
    sync = p[:, :, None] * q[:, None, :]                                   # (B, n_in, n_out)
    d = np.abs(tq[:, None, :] - tp[:, :, None]).astype(float)
    g = np.exp(-d**2 / (2.0 * sigma_steps**2))
    dw = np.mean(a_plus * sync * g - a_base * (1 - sync) * g, axis=0)
    return np.clip(dw, -dw_max, dw_max)


def _raster(t_steps, n, b, spikes):
    r = np.zeros((t_steps, b, n))
    for t, bb, i in spikes:
        r[t, bb, i] = 1.0
    return r


# hand-made: T = 4, 2 samples, 3 inputs, 2 outputs; input 2 and output 1 of sample 1 silent
PRE = _raster(4, 3, 2, [(0, 0, 0), (2, 0, 0), (1, 0, 1), (3, 0, 2), (0, 1, 0), (1, 1, 1), (3, 1, 1)])
POST = _raster(4, 2, 2, [(1, 0, 0), (1, 0, 1), (2, 0, 1), (2, 1, 0), (3, 1, 0)])


@pytest.mark.parametrize("which", ["first", "last"])
def test_spike_times_first_last_and_silent(which):
    flag, t = spike_times(PRE, which)
    first = [[0, 1, 3], [0, 1, 4]]
    last = [[2, 1, 3], [0, 3, 4]]
    np.testing.assert_array_equal(flag, [[1, 1, 1], [1, 1, 0]])
    np.testing.assert_array_equal(t, first if which == "first" else last)


@pytest.mark.parametrize("which", ["first", "last"])
def test_batch_change_equals_reference_on_hand_made_rasters(which):
    rule = SSDP(a_plus=0.3, a_base=0.1, sigma=0.015, spike_time=which)   # 1.5 steps at dt = 10 ms
    got = batch_change(rule, 0.01, PRE, POST)
    np.testing.assert_allclose(got, _ref_change(PRE, POST, 0.3, 0.1, 1.5, 1.0, which), rtol=1e-13, atol=0)
    # one entry by hand: input 0 -> output 1; sample 0 first: pre 0, post 1 (sync, d = 1),
    # sample 1: pre 0, post silent (t = 4): not sync, d = 4
    g = lambda d: math.exp(-d * d / (2 * 1.5**2))
    if which == "first":
        want = (0.3 * g(1) - 0.1 * g(4)) / 2
    else:  # sample 0: pre last 2, post last 2 (d = 0); sample 1 as before
        want = (0.3 * g(0) - 0.1 * g(4)) / 2
    assert got[0, 1] == pytest.approx(want, rel=1e-13)
    # input 2 of sample 1 and output 1 of sample 1 both silent: G = 1, - a_base
    b1 = -0.1 * g(0)
    t_out1 = 2 if which == "last" else 1  # sample 0: input 2 spikes at 3, output 1 at 1 and 2
    s0 = 0.3 * g(abs(t_out1 - 3))
    assert got[2, 1] == pytest.approx((s0 + b1) / 2, rel=1e-13)


@pytest.mark.parametrize("which", ["first", "last"])
def test_batch_change_equals_reference_on_random_rasters(which):
    r = np.random.default_rng(7)
    pre = (r.random((6, 9, 11)) < 0.2).astype(float)
    post = (r.random((6, 9, 5)) < 0.15).astype(float)
    pre[:, 0, :] = 0.0      # a silent sample
    post[:, :, 3] = 0.0     # a silent output
    rule = SSDP(a_plus=1.5e-4, a_base=5e-5, sigma=0.01, spike_time=which)
    np.testing.assert_allclose(batch_change(rule, 0.01, pre, post),
                               _ref_change(pre, post, 1.5e-4, 5e-5, 1.0, 1.0, which), rtol=1e-12, atol=0)


def test_sigma_is_in_seconds_and_converted_with_dt():
    rule2 = SSDP(a_plus=0.2, a_base=0.05, sigma=0.02)
    a = batch_change(rule2, 0.01, PRE, POST)                         # 2 steps
    b = batch_change(SSDP(a_plus=0.2, a_base=0.05, sigma=2e-3), 1e-3, PRE, POST)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(a, _ref_change(PRE, POST, 0.2, 0.05, 2.0, 1.0, "first"), rtol=1e-13)


def test_the_batch_mean_is_clamped():
    rule = SSDP(a_plus=5.0, a_base=2.0, sigma=0.01, dw_max=0.4)
    got = batch_change(rule, 0.01, PRE, POST)
    ref = _ref_change(PRE, POST, 5.0, 2.0, 1.0, 0.4, "first")
    unclamped = _ref_change(PRE, POST, 5.0, 2.0, 1.0, np.inf, "first")
    assert np.any(unclamped > 0.4) and np.any(unclamped < -0.4)   # the bound binds on both sides
    np.testing.assert_allclose(got, ref, rtol=1e-13)
    assert got.max() == 0.4 and got.min() == -0.4


def test_bad_rasters_name_the_argument():
    rule = SSDP()
    with pytest.raises(ConfigError, match="post"):
        batch_change(rule, 0.01, PRE, POST[:, :1])
    with pytest.raises(ConfigError, match="pre"):
        batch_change(rule, 0.01, PRE[0], POST)


# ---------------------------------------------------------------------------------------------- schedule
def test_anneal_factor_closed_form():
    p = SSDPPostParams(enabled=True, warmup=2, anneal=True)
    got = [anneal_factor(p, e, 6) for e in range(6)]
    c = math.cos
    want = [0.0, 0.0, 1.0, (1 + c(math.pi / 4)) / 2, 0.5, (1 + c(3 * math.pi / 4)) / 2]
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-15)
    flat = [anneal_factor(p.replace(anneal=False), e, 6) for e in range(6)]
    assert flat == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    assert all(anneal_factor(p.replace(enabled=False), e, 6) == 0.0 for e in range(6))
    r = rule_at(p, 4, 6)
    assert (r.a_plus, r.a_base, r.sigma, r.dw_max) == pytest.approx((0.75e-4, 2.5e-5, 0.005, 1.0))
    assert rule_at(p, 1, 6) is None


# ---------------------------------------------------------------------------------------------- trainer
@pytest.fixture(scope="module")
def small():
    model = ModelParams(n_hidden=16, population=2, w_init=2.0, theta_init=0.5)
    task = TaskParams(dataset="digits", n_train=120, n_test=60, seeds=[0])
    return model, task, load_split(task, 0)


def _opt(**ssdp):
    return TrainParams(epochs=3, batch=30, epoch_accuracy=True, ssdp=SSDPPostParams(**ssdp))


def _same(a, b):
    for la, lb in zip(a.params.layers, b.params.layers):
        np.testing.assert_array_equal(la.w, lb.w)
        np.testing.assert_array_equal(la.theta, lb.theta)
    assert a.loss == b.loss and a.epoch_accuracy == b.epoch_accuracy


def test_zero_amplitudes_are_bit_identical_to_plain_training(small):
    model, task, data = small
    plain = train(model, _opt(), task, "sl", 0, data=data)
    zero = train(model, _opt(enabled=True, warmup=0, rule=SSDP(a_plus=0.0, a_base=0.0)), task, "sl", 0, data=data)
    _same(plain, zero)
    assert zero.ssdp_change == (0.0, 0.0, 0.0) and plain.ssdp_change == ()


def test_warmup_is_respected(small):
    model, task, data = small
    plain = train(model, _opt(), task, "sl", 0, data=data)
    big = SSDP(a_plus=0.05, a_base=0.02)
    res = train(model, _opt(enabled=True, warmup=2, rule=big), task, "sl", 0, data=data)
    # epochs 0 and 1 untouched (their losses and accuracies are plain training's), SSDP acts in epoch 2
    assert res.loss[:2] == plain.loss[:2] and res.epoch_accuracy[:2] == plain.epoch_accuracy[:2]
    assert res.ssdp_change[:2] == (0.0, 0.0) and res.ssdp_change[2] > 1e-3
    assert res.loss[2] != plain.loss[2]
    assert not np.array_equal(res.params.layers[1].w, plain.params.layers[1].w)
    assert res.epoch_accuracy[-1] == res.test_accuracy


def test_only_the_last_layer_is_edited(small):
    model, task, data = small
    from hwsnn.stl.model import init_params

    init = init_params(model, 64, 10, 0)
    res = train(model, _opt(enabled=True, warmup=1, rule=SSDP(a_plus=0.05, a_base=0.02)), task, "tl", 0, data=data)
    np.testing.assert_array_equal(res.params.layers[0].w, init.layers[0].w)  # tl: no gradient step on w
    assert not np.array_equal(res.params.layers[1].w, init.layers[1].w)


def test_trainer_follows_the_anneal_schedule(small):
    model, task, data = small
    big = SSDP(a_plus=0.05, a_base=0.02)
    flat = train(model, _opt(enabled=True, warmup=2, rule=big), task, "sl", 0, data=data)
    ann = train(model, _opt(enabled=True, warmup=2, anneal=True, rule=big), task, "sl", 0, data=data)
    _same(flat, ann)  # the only SSDP epoch has factor 1
    opt4 = lambda **k: TrainParams(epochs=4, batch=30, ssdp=SSDPPostParams(enabled=True, warmup=2, rule=big, **k))
    a = train(model, opt4(), task, "sl", 0, data=data)
    b = train(model, opt4(anneal=True), task, "sl", 0, data=data)
    assert a.loss[:3] == b.loss[:3] and a.loss[3] != b.loss[3]  # epoch 3: factor 1/2


def test_same_seed_same_result_different_seed_differs(small):
    model, task, data = small
    o = _opt(enabled=True, warmup=1, rule=SSDP(a_plus=0.01, a_base=0.004, spike_time="last"))
    _same(train(model, o, task, "sl", 0, data=data), train(model, o, task, "sl", 0, data=data))
    other = train(model, o, task.replace(seeds=[1]), "sl", 1)
    assert other.loss != train(model, o, task, "sl", 0, data=data).loss


@pytest.mark.parametrize("data,field", [
    ({"train": {"epochs": 5, "ssdp": {"enabled": True, "warmup": 5}}}, "train.ssdp.warmup"),
    ({"train": {"ssdp": {"rule": {"sigma": 0.0}}}}, "train.ssdp.rule.sigma"),
    ({"train": {"ssdp": {"rule": {"spike_time": "mid"}}}}, "train.ssdp.rule.spike_time"),
    ({"train": {"ssdp": {"dt": -1.0}}}, "train.ssdp.dt"),
    ({"train": {"ssdp": {"anneal": 1}}}, "train.ssdp.anneal"),
    ({"robustness": {"jitter": [1.0, 1.0]}}, "robustness.jitter"),
    ({"robustness": {"noise": [1.5]}}, "robustness.noise[0]"),
])
def test_config_errors_name_the_field(data, field):
    with pytest.raises(ConfigError) as e:
        parse_stl_config(data)
    assert e.value.field == field


# ---------------------------------------------------------------------------------------------- perturbations
def _rounded_gauss_pmf(std, k):
    phi = lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))
    return phi((k + 0.5) / std) - phi((k - 0.5) / std)


@pytest.mark.parametrize("std", [1.0, 2.0])
def test_jitter_shifts_are_rounded_gaussians(std):
    n = 100_000
    s = jitter_shifts(std, 4, n // 4, seed=3, sample_id=11).ravel()
    ks = np.arange(-12, 13)
    pmf = np.array([_rounded_gauss_pmf(std, k) for k in ks])
    var = float(np.sum(pmf * ks**2))                     # exact variance of the rounded Gaussian
    assert abs(s.mean()) < 4 * math.sqrt(var / n)
    assert abs(s.var() - var) < 4 * var * math.sqrt(2.0 / n)
    for k in (0, 1, -2):
        assert abs(np.mean(s == k) - pmf[k + 12]) < 4 * math.sqrt(pmf[k + 12] / n)
    np.testing.assert_array_equal(s, jitter_shifts(std, 4, n // 4, seed=3, sample_id=11).ravel())
    assert not np.array_equal(s, jitter_shifts(std, 4, n // 4, seed=4, sample_id=11).ravel())


def test_jitter_moves_each_spike_by_its_shift():
    r = np.random.default_rng(1)
    raster = (r.random((6, 3, 40)) < 0.3).astype(float)
    ids = np.array([5, 9, 2])
    got = jitter(raster, 1.5, 0, ids)
    want = np.zeros_like(raster)
    for b in range(3):
        sh = jitter_shifts(1.5, 6, 40, 0, ids[b])
        for t, i in zip(*np.nonzero(raster[:, b, :])):
            if 0 <= t + sh[t, i] < 6:
                want[t + sh[t, i], b, i] = 1.0
    np.testing.assert_array_equal(got, want)
    # a sample's jitter does not depend on its batch
    np.testing.assert_array_equal(got[:, 1:2], jitter(raster[:, 1:2], 1.5, 0, ids[1:2]))


def test_event_noise_adds_spikes_at_rate_p():
    r = np.random.default_rng(2)
    raster = (r.random((5, 40, 100)) < 0.5).astype(float)
    ids = np.arange(40)
    p = 0.05
    out = event_noise(raster, p, 0, ids)
    assert np.all(out[raster == 1.0] == 1.0)            # no spike removed
    zeros = raster == 0.0
    n0 = int(zeros.sum())
    frac = float(out[zeros].mean())
    assert abs(frac - p) < 4 * math.sqrt(p * (1 - p) / n0)
    np.testing.assert_array_equal(out, event_noise(raster, p, 0, ids))
    np.testing.assert_array_equal(out[:, 7:8], event_noise(raster[:, 7:8], p, 0, ids[7:8]))
    assert not np.array_equal(out, event_noise(raster, p, 1, ids))


# ---------------------------------------------------------------------------------------------- CLI
TINY = """
[model]
n_hidden = 0
population = 2
w_init = 1.0
theta_init = 0.5
[train]
modes = ["sl"]
epochs = 3
[task]
dataset = "digits"
n_train = 100
n_test = 40
seeds = [0, 1]
"""


def test_cli_ssdp_run_records_stability_and_robustness(tmp_path, capsys):
    from hwsnn.cli import main

    (tmp_path / "t.toml").write_text(TINY)
    argv = ["stl", "train", str(tmp_path / "t.toml"), "--ssdp", "--ssdp-warmup", "1", "--ssdp-anneal",
            "--ssdp-spike-time", "last", "--epoch-accuracy", "--jitter", "1", "--noise", "0.05",
            "--out", str(tmp_path / "run"), "--no-progress", "--json"]
    assert main(argv) == 0
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    cfg = m["config"]["train"]["ssdp"]
    assert cfg["enabled"] and cfg["anneal"] and cfg["warmup"] == 1 and cfg["rule"]["spike_time"] == "last"
    for row in m["runs"]:
        curve = m["epoch_accuracy"][f"sl-seed{row['seed']}"]
        assert len(curve) == 3 and curve[-1] == row["test_accuracy"]
        assert row["epoch_accuracy_var"] == pytest.approx(np.var(curve[1:]))
        assert {"jitter_1", "noise_0.05", "ssdp_change_mean"} <= set(row) and row["ssdp"] is True
    # the curves are not flat, so the variance after the warm-up differs from the whole curve's
    assert any(np.var(c) != np.var(c[1:]) for c in m["epoch_accuracy"].values())
    s = m["modes"]["sl"]
    assert s["jitter_1_mean"] == pytest.approx(np.mean([r["jitter_1"] for r in m["runs"]]))
    assert "epoch_accuracy_var_std" in s


@pytest.mark.parametrize("argv,needle", [
    (["--ssdp", "--ssdp-warmup", "30"], "--ssdp-warmup (train.ssdp.warmup): must be below train.epochs (20)"),
    (["--jitter", "0"], "--jitter (robustness.jitter[0]): must be > 0"),
    (["--ssdp-spike-time", "mid"], "argument --ssdp-spike-time: invalid choice"),
    (["--set", "train.ssdp.rule.a_plus=-1"], "train.ssdp.rule.a_plus: must be >= 0"),
])
def test_cli_bad_input_is_one_error_line(capsys, argv, needle):
    from hwsnn.cli import main

    rc = main(["stl", "train", *argv, "--print-config"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "Traceback" not in err[0], err
    assert needle in err[0]
