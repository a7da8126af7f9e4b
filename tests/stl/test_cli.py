"""`hwsnn stl train|deploy|export` end to end on a tiny config, and bad input: one error line that
names the flag or field, no traceback, exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwsnn.cli import main
from hwsnn.io import check_run_folder

TINY = """
[model]
n_hidden = 0
population = 2
w_init = 1.0
[train]
modes = ["sl", "stl"]
epochs = 1
[task]
dataset = "digits"
n_train = 100
n_test = 40
seeds = [0, 1]
[deploy]
n_test = 20
open_loop = false
drift = [1.0]
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("stl")
    (d / "tiny.toml").write_text(TINY)
    assert main(["stl", "train", str(d / "tiny.toml"), "--out", str(d / "run"), "--no-progress"]) == 0
    return d


def test_train_writes_a_complete_folder(run_dir, capsys):
    run = run_dir / "run"
    assert check_run_folder(run) == []
    m = json.loads((run / "metrics.json").read_text())
    assert {(r["mode"], r["seed"]) for r in m["runs"]} == {("sl", 0), ("sl", 1), ("stl", 0), ("stl", 1)}
    assert set(m["claims"]) == {"stl_gt_sl"}
    rows = (run / "runs.csv").read_text().splitlines()
    assert rows[0].startswith("mode,seed,train_accuracy,test_accuracy") and len(rows) == 5
    accs = [r["test_accuracy"] for r in m["runs"] if r["mode"] == "sl"]
    assert m["modes"]["sl"]["test_accuracy_mean"] == pytest.approx(np.mean(accs))
    assert m["modes"]["sl"]["test_accuracy_std"] == pytest.approx(np.std(accs, ddof=1))


def test_deploy_and_export(run_dir, capsys):
    run = run_dir / "run"
    assert main(["stl", "deploy", str(run), "--seed", "1", "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out["summary"]) == {"float_accuracy", "integer_accuracy", "verified_accuracy", "drift_1s_accuracy"}
    assert check_run_folder(run / "deploy-stl") == []
    rep = json.loads((run / "deploy-stl" / "deploy-seed1.json").read_text())
    assert rep["n_test"] == 20 and rep["drift"][0]["time_s"] == 1.0
    assert main(["stl", "export", str(run), "--nir", str(run_dir / "net.nir"), "--mode", "sl", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["sizes"] == [64, 20] and (run_dir / "net.nir").is_file()


def _err(capsys, argv):
    rc = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2, err
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize("argv,needle", [
    (["stl", "train", "nosuchpreset"], "config: 'nosuchpreset' is neither a file nor a shipped STL config"),
    (["stl", "train", "--set", "model.n_hiden=3", "--print-config"], "model.n_hiden: unknown field"),
    (["stl", "train", "--set", "train.lr=-1", "--print-config"], "train.lr:"),
    (["stl", "train", "--n-train", "99999", "--epochs", "1"], "--n-train (task.n_train): 99999 exceeds"),
    (["stl", "train", "--mode", "xl"], "argument --mode: invalid choice"),
    (["stl", "train", "--epochs", "0"], "argument --epochs: must be >= 1"),
    (["stl", "train", "--set", "deploy.device=nope", "--print-config"], "deploy.device: unknown device preset"),
])
def test_train_bad_input(capsys, argv, needle):
    assert needle in _err(capsys, argv)


def test_folder_errors(run_dir, capsys, tmp_path):
    assert "RUN_DIR" in _err(capsys, ["stl", "deploy", str(tmp_path / "nope")])
    assert "not a `hwsnn stl train` folder" in _err(capsys, ["stl", "deploy", str(tmp_path)])
    run = run_dir / "run"
    assert "--mode/--seed: no trained tl network of seed 0" in _err(capsys, ["stl", "deploy", str(run), "--mode", "tl"])
    assert "--n-test (deploy.n_test): 500 exceeds" in _err(capsys, ["stl", "deploy", str(run), "--n-test", "500"])
    assert "--set: deploy changes only deploy.* fields" in _err(
        capsys, ["stl", "deploy", str(run), "--set", "model.n_hidden=3"])
    assert "--nir" in _err(capsys, ["stl", "export", str(run), "--nir", str(run_dir)])
    # an interrupted run is refused
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in ("config.toml",):
        (broken / f).write_text((run / f).read_text())
    (broken / "params").mkdir()
    assert "not a complete result" in _err(capsys, ["stl", "export", str(broken), "--nir", str(tmp_path / "x.nir")])
