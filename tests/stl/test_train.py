"""Adam, the SL / TL / STL modes, determinism, learning on digits, and the config layer."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.errors import ConfigError
from hwsnn.stl.model import ModelParams, init_params
from hwsnn.stl.train import Adam, TaskParams, TrainParams, load_split, parse_stl_config, train


def test_adam_first_steps_closed_form():
    a = np.array([1.0, -2.0, 3.0])
    opt = Adam([a], lr=0.1, beta1=0.9, beta2=0.999, eps=1e-12)
    opt.step([np.array([0.5, -4.0, 0.0])])
    # bias-corrected first step: -lr * g/|g| (0 where g = 0)
    np.testing.assert_allclose(a, [0.9, -1.9, 3.0])
    g2 = np.array([1.0, 1.0, 1.0])
    opt.step([g2])
    m = 0.9 * 0.1 * np.array([0.5, -4.0, 0.0]) + 0.1 * g2
    v = 0.999 * 0.001 * np.array([0.25, 16.0, 0.0]) + 0.001 * g2**2
    step = 0.1 * (m / (1 - 0.9**2)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-12)
    np.testing.assert_allclose(a, np.array([0.9, -1.9, 3.0]) - step)


def test_adam_weight_decay_is_added_to_the_gradient():
    a = np.array([2.0])
    opt = Adam([a], lr=0.5, eps=0.0, weight_decay=0.5)
    opt.step([np.array([-0.5])])  # g + wd*a = 0.5 > 0: moves down
    np.testing.assert_allclose(a, [1.5])


@pytest.fixture(scope="module")
def small():
    model = ModelParams(n_hidden=0, w_init=1.0)
    opt = TrainParams(epochs=4, batch=20)
    task = TaskParams(dataset="digits", n_train=600, n_test=200, seeds=[0])
    return model, opt, task, load_split(task, 0)


def test_modes_train_what_they_name(small):
    model, opt, task, data = small
    init = init_params(model, 64, 10, 0)
    res = {m: train(model, opt, task, m, 0, data=data) for m in ("sl", "tl", "stl")}
    w0, th0 = init.layers[0].w, init.layers[0].theta
    np.testing.assert_array_equal(res["sl"].params.layers[0].theta, th0)
    assert not np.array_equal(res["sl"].params.layers[0].w, w0)
    np.testing.assert_array_equal(res["tl"].params.layers[0].w, w0)
    assert not np.array_equal(res["tl"].params.layers[0].theta, th0)
    assert not np.array_equal(res["stl"].params.layers[0].w, w0)
    assert not np.array_equal(res["stl"].params.layers[0].theta, th0)
    # learning happened: training loss falls, test accuracy far above chance (10 %)
    for m in ("sl", "stl"):
        assert res[m].loss[-1] < res[m].loss[0]
        assert res[m].test_accuracy > 0.5
    assert all(l.theta.min() >= model.theta_min for l in res["tl"].params.layers)


def test_same_seed_same_result(small):
    model, opt, task, data = small
    a = train(model, opt, task, "stl", 0, data=data)
    b = train(model, opt, task, "stl", 0, data=data)
    np.testing.assert_array_equal(a.params.layers[0].w, b.params.layers[0].w)
    assert a.loss == b.loss and a.test_accuracy == b.test_accuracy


def test_sizes_beyond_the_split_are_errors():
    with pytest.raises(ConfigError, match="task.n_train"):
        load_split(TaskParams(dataset="digits", n_train=5000), 0)
    with pytest.raises(ConfigError, match="mode"):
        train(ModelParams(), TrainParams(epochs=1), TaskParams(n_train=20, n_test=20), "xl", 0)


@pytest.mark.parametrize("data,field", [
    ({"model": {"n_hiden": 5}}, "model.n_hiden"),
    ({"model": {"decay": 1.0}}, "model.decay"),
    ({"train": {"modes": ["sl", "sl"]}}, "train.modes"),
    ({"train": {"epochs": 1.5}}, "train.epochs"),
    ({"task": {"dataset": "cifar"}}, "task.dataset"),
    ({"deploy": {"device": "nope"}}, "deploy.device"),
    ({"deploy": {"drift": [60.0, 1.0]}}, "deploy.drift"),
    ({"deploy": 3}, "deploy"),
])
def test_config_errors_name_the_field(data, field):
    with pytest.raises(ConfigError) as e:
        parse_stl_config(data)
    assert e.value.field == field


@pytest.mark.slow
def test_digits_preset_two_layers_learns():
    from hwsnn.stl.train import stl_preset_path
    from hwsnn.config import read_toml

    cfg = parse_stl_config(read_toml(stl_preset_path("digits")), {"task.seeds": [0]})
    r = train(cfg.model, cfg.train, cfg.task, "stl", 0)
    assert r.test_accuracy > 0.85
