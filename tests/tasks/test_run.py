"""The run_experiment pipeline on tiny engine configs (files, metrics, backends, synergy)."""

from __future__ import annotations

import json
import tomllib

import pytest

from hwsnn.config import parse_config
from hwsnn.tasks.run import run_experiment

TINY = """
[task]
dataset = "digits"
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

[homeostasis]
theta_plus = 2e-4

[synapse]
backend = "{synapse}"
"""


def _cfg(**kw):
    return parse_config(tomllib.loads(TINY.format(**kw)))


def test_run_experiment_writes_all_files(tmp_path):
    m = run_experiment(_cfg(synapse="integer", baseline="ideal", curve="test"), tmp_path)
    for name in ("metrics.json", "receptive_fields.png", "conductance_hist.png", "confusion.png", "accuracy_curve.png"):
        assert (tmp_path / name).is_file(), name
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert data["synapse"] == "integer" and 0 <= data["accuracy"] <= 1 and 0 <= data["baseline_accuracy"] <= 1
    assert data["samples"] == 60 and data["config"]["network"]["n_exc"] == 8
    assert data["config"]["synapse"]["backend"] == "integer"
    assert len(data["runs"]) == 2 and len(data["runs"][0]["curve"]) == 2
    assert m["accuracy"] == data["accuracy"]


def test_run_experiment_crossbar(tmp_path):
    m = run_experiment(_cfg(synapse="crossbar", baseline="none", curve="online"), tmp_path)
    assert m["baseline_accuracy"] is None and m["synapse"] == "crossbar"
    assert (tmp_path / "conductance_hist.png").stat().st_size > 1000
    assert "crossbar" in m and m["crossbar"]["pulse_count"] > 0


def test_run_experiment_synergy_writes_lambda_plot(tmp_path):
    text = TINY.format(synapse="ideal", baseline="none", curve="online") + """
[[rules]]
kind = "triplet_stdp"
[[rules]]
kind = "hetero_stdp"
eta = 0.01
[[rules]]
kind = "synaptic_scaling"

[synergy]
form = "shared"
adapt = "es"
window = 5
"""
    m = run_experiment(parse_config(tomllib.loads(text)), tmp_path)
    assert (tmp_path / "lambda.png").stat().st_size > 1000
    lam = m["runs"][0]["lambda_final"]
    # the ES keeps the initial total of its centre; the last lambda is a perturbation of it
    assert len(lam) == 3 and 3.0 * (1 - 0.6) < sum(lam) < 3.0 * (1 + 0.6)
    assert lam != [1.0, 1.0, 1.0]  # it moved


def test_shipped_configs_parse():
    from hwsnn.config import list_config_presets, load_config, preset_path

    names = list_config_presets()
    assert {"default", "mnist100", "mnist400"} <= set(names)
    for name in names:
        assert load_config(preset_path(name)).network.n_exc >= 1
