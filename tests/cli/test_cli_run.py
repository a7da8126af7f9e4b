"""`hwsnn run` end to end on a tiny config: files, JSON line, clear errors."""

from __future__ import annotations

import json

import pytest

from hwsnn.cli import main

TINY = """
[run]
dataset = "digits"
synapse = "ideal"
baseline = "int8"
seeds = [0]
epochs = 1
n_train = 50
n_test = 30
curve_points = 1
kmeans = true

[network]
n_exc = 6
"""


def test_run_tiny_config_writes_files_and_json(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "out"
    rc = main(["run", str(cfg), "--out", str(out), "--json"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert set(summary) == {"accuracy", "baseline_accuracy", "samples", "seconds"}
    assert summary["samples"] == 50 and 0 <= summary["accuracy"] <= 1
    for name in ("metrics.json", "receptive_fields.png", "conductance_hist.png", "confusion.png", "accuracy_curve.png"):
        assert (out / name).is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["kmeans_accuracy"] is not None


def test_run_overrides_from_flags(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    rc = main(["run", str(cfg), "--out", str(tmp_path / "o"), "--json", "--synapse", "int8", "--baseline", "none",
               "--n-train", "20", "--seed", "2"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["samples"] == 20 and summary["baseline_accuracy"] is None
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["seeds"] == [2] and metrics["synapse"] == "int8"


@pytest.mark.parametrize(
    "text, field",
    [
        ("[network]\nn_exc = 0\n", "network.n_exc"),
        ("[run]\nsynapse = 'quantum'\n", "run.synapse"),
        ("[network]\nmystery = 1\n", "network.mystery"),
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


def test_print_config(capsys):
    assert main(["run", "--print-config"]) == 0
    assert "[network]" in capsys.readouterr().out


def test_shipped_config_by_name(tmp_path, capsys):
    rc = main(["run", "mnist100", "--out", str(tmp_path / "m"), "--json", "--n-train", "30", "--n-test", "20",
               "--epochs", "1", "--n-exc", "5"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["samples"] == 30
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["dataset"] == "mnist"
