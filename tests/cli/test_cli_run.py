"""`hwsnn run` end to end on a tiny config: files, JSON line, clear errors."""

from __future__ import annotations

import json

import pytest

from hwsnn.cli import main

TINY = """
[task]
dataset = "digits"
baseline = "integer"
seeds = [0]
epochs = 1
n_train = 50
n_test = 30
curve_points = 1
kmeans = true

[network]
n_exc = 6

[synapse]
backend = "ideal"
"""

LEGACY = """
[run]
dataset = "digits"
synapse = "ideal"
baseline = "none"
seeds = [0]
epochs = 1
n_train = 20
n_test = 10
kmeans = false

[network]
n_exc = 4
tau_m = 100.0
"""


def test_run_tiny_config_writes_files_and_json(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "out"
    rc = main(["run", str(cfg), "--out", str(out), "--json"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert {"accuracy", "baseline_accuracy", "kmeans_accuracy", "samples", "seconds", "per_seed", "kmeans"} <= set(summary)
    metrics0 = json.loads((out / "metrics.json").read_text())
    assert summary["kmeans_accuracy"] == metrics0["kmeans_accuracy"] and summary["accuracy"] == metrics0["accuracy"]
    assert summary["samples"] == 50 and 0 <= summary["accuracy"] <= 1
    for name in ("metrics.json", "receptive_fields.png", "conductance_hist.png", "confusion.png", "accuracy_curve.png"):
        assert (out / name).is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["kmeans_accuracy"] is not None


def test_short_run_skips_kmeans_and_says_so(tmp_path, capsys):
    # fewer training samples than neurons: the network still trains; only the k-means reference
    # (as many clusters as neurons) cannot run, and the run says so instead of failing
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "o"
    rc = main(["run", str(cfg), "--out", str(out), "--json", "--baseline", "none", "--n-train", "4"])
    assert rc == 0
    cap = capsys.readouterr()
    assert "k-means reference skipped: 6 clusters (network.n_exc)" in cap.err
    summary = json.loads(cap.out.strip().splitlines()[-1])
    metrics = json.loads((out / "metrics.json").read_text())
    assert summary["kmeans_accuracy"] is None and metrics["kmeans_accuracy"] is None and metrics["kmeans"] == []
    assert "got 4 (task.n_train)" in metrics["kmeans_skipped"] and summary["kmeans_skipped"] == metrics["kmeans_skipped"]


def test_run_overrides_from_flags(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    rc = main(["run", str(cfg), "--out", str(tmp_path / "o"), "--json", "--synapse", "integer", "--baseline", "none",
               "--n-train", "20", "--seed", "2", "--set", "rules[0].nu_post=0.05"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["samples"] == 20 and summary["baseline_accuracy"] is None
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["seeds"] == [2] and metrics["synapse"] == "integer"
    assert metrics["config"]["rules"][0]["nu_post"] == 0.05


def test_legacy_config_still_runs_with_a_note(tmp_path, capsys):
    cfg = tmp_path / "old.toml"
    cfg.write_text(LEGACY)
    rc = main(["run", str(cfg), "--out", str(tmp_path / "o"), "--json"])
    assert rc == 0
    cap = capsys.readouterr()
    assert "note:" in cap.err
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["config"]["neuron"]["tau_m"] == pytest.approx(0.1)  # ms -> s


@pytest.mark.parametrize(
    "text, field",
    [
        ("[network]\nn_exc = 0\n", "network.n_exc"),
        ("[synapse]\nbackend = 'quantum'\n", "synapse.backend"),
        ("[network]\nmystery = 1\n", "network.mystery"),
        ("[synapse.crossbar.io]\nadc_bits = 0\n", "synapse.crossbar.io.adc_bits"),
        ("network = 5\n", "network"),
    ],
)
def test_bad_config_exits_with_field(tmp_path, capsys, text, field):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    rc = main(["run", str(cfg), "--out", str(tmp_path / "o")])
    assert rc == 2
    err = capsys.readouterr().err
    assert field in err and "Traceback" not in err


def test_missing_config_file(tmp_path, capsys):
    rc = main(["run", str(tmp_path / "absent.toml")])
    assert rc == 2
    assert "config" in capsys.readouterr().err


def test_print_config_round_trips_config_and_overrides(tmp_path, capsys):
    import tomllib

    from hwsnn.config import load_config

    assert main(["run", "mnist100", "--print-config", "--set", "synapse.crossbar.io.adc_bits=6", "--n-exc", "7"]) == 0
    text = capsys.readouterr().out
    data = tomllib.loads(text)
    assert data["task"]["dataset"] == "mnist" and data["network"]["n_exc"] == 7
    assert data["synapse"]["crossbar"]["io"]["adc_bits"] == 6
    f = tmp_path / "resolved.toml"
    f.write_text(text)
    from hwsnn.config import preset_path

    assert load_config(f) == load_config(preset_path("mnist100"), {"synapse.crossbar.io.adc_bits": 6, "network.n_exc": 7})


def test_shipped_config_by_name(tmp_path, capsys):
    rc = main(["run", "mnist100", "--out", str(tmp_path / "m"), "--json", "--n-train", "30", "--n-test", "20",
               "--epochs", "1", "--n-exc", "5"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["samples"] == 30
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["dataset"] == "mnist"
