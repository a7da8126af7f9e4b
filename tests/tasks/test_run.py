"""Run configs (TOML + validation) and the run_experiment pipeline on a tiny case."""

from __future__ import annotations

import json

import pytest

from hwsnn.errors import ConfigError
from hwsnn.tasks.run import default_config_text, load_run_config, parse_run_config, run_experiment

TINY = """
[run]
dataset = "digits"
synapse = "{synapse}"
baseline = "{baseline}"
seeds = [0]
epochs = 1
n_train = 60
n_test = 40
curve = "{curve}"
curve_points = 2
kmeans = false

[network]
n_exc = 8
theta_plus = 0.2
"""


def test_default_config_parses_and_matches_the_issue():
    text = default_config_text()
    cfg = load_run_config()
    assert "[run]" in text and "[network]" in text
    assert cfg.run.dataset == "digits" and cfg.run.synapse == "crossbar" and cfg.run.baseline == "ideal"
    assert cfg.network.n_exc == 100 and cfg.network.device_preset == "sto"


def test_overrides_apply():
    cfg = load_run_config(None, {"run.epochs": 1, "network.n_exc": 25, "run.seeds": [3, 4]})
    assert cfg.run.epochs == 1 and cfg.network.n_exc == 25 and cfg.run.seeds == [3, 4]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"run": {"synapse": "optical"}}, "run.synapse"),
        ({"run": {"epochs": -1}}, "run.epochs"),
        ({"run": {"seeds": []}}, "run.seeds"),
        ({"run": {"seeds": [1, 1]}}, "run.seeds"),
        ({"run": {"dataset": "cifar"}}, "run.dataset"),
        ({"run": {"speed": 3}}, "run.speed"),
        ({"network": {"n_exc": -4}}, "network.n_exc"),
        ({"network": {"tau_m": 0}}, "network.tau_m"),
        ({"devices": {}}, "devices"),
    ],
)
def test_config_errors_name_the_field(data, field):
    with pytest.raises(ConfigError) as ei:
        parse_run_config(data)
    assert ei.value.field == field


def test_bad_toml_and_missing_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[run\nseeds = ")
    with pytest.raises(ConfigError, match="config"):
        load_run_config(p)
    with pytest.raises(ConfigError, match="file not found"):
        load_run_config(tmp_path / "nope.toml")


def test_run_experiment_writes_all_files(tmp_path):
    cfg = parse_run_config(__import__("tomllib").loads(TINY.format(synapse="int8", baseline="ideal", curve="test")))
    m = run_experiment(cfg, tmp_path)
    for name in ("metrics.json", "receptive_fields.png", "conductance_hist.png", "confusion.png", "accuracy_curve.png"):
        assert (tmp_path / name).is_file(), name
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert data["synapse"] == "int8" and 0 <= data["accuracy"] <= 1 and 0 <= data["baseline_accuracy"] <= 1
    assert data["samples"] == 60 and data["config"]["network"]["n_exc"] == 8
    assert len(data["runs"]) == 2 and len(data["runs"][0]["curve"]) == 2
    assert m["accuracy"] == data["accuracy"]


def test_run_experiment_crossbar(tmp_path):
    pytest.importorskip("hwsnn.crossbar")
    cfg = parse_run_config(__import__("tomllib").loads(TINY.format(synapse="crossbar", baseline="none", curve="online")))
    m = run_experiment(cfg, tmp_path)
    assert m["baseline_accuracy"] is None and m["synapse"] == "crossbar"
    assert (tmp_path / "conductance_hist.png").stat().st_size > 1000
    assert "crossbar" in m


def test_shipped_configs_parse():
    from importlib import resources

    names = [p.name for p in resources.files("hwsnn").joinpath("configs").iterdir() if p.name.endswith(".toml")]
    assert "default.toml" in names
    for name in names:
        cfg = load_run_config(resources.files("hwsnn").joinpath("configs", name))
        assert cfg.network.n_exc >= 1
