"""`hwsnn ecg run` / `hwsnn ecg record`: results folder, resolved config round trip, WFDB output, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwsnn.cli import main
from hwsnn.io import check_run_folder

TINY = """
conditions = ["none", "ip+sp"]
seeds = [0]
[data.synthetic]
duration = 110.0
[data.synthetic.anomalies]
start = 40.0
ectopic = 3
rate_jump = 1
st_change = 1
noise_burst = 1
[split]
train_s = 20.0
calib_s = 20.0
[network]
n_exc = 30
n_inh = 8
[network.exc]
LEVELS = 3
"""


def test_ecg_run_writes_complete_folder(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "out"
    assert main(["ecg", "run", str(cfg), "--out", str(out), "--no-progress", "--json"]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["runs"] == 3 and len(last["table"]) == 3  # with the encoder-only reference
    assert check_run_folder(out) == []
    res = json.loads((out / "results.json").read_text())
    assert {(r["form"], r["condition"]) for r in res} == {("input-only", "-"), ("integer", "none"),
                                                          ("integer", "ip+sp")}
    assert all(0.0 <= r["auc"] <= 1.0 and r["n_pos"] > 0 for r in res)
    assert "| integer | ip+sp |" in (out / "summary.md").read_text()
    # the resolved config runs back to the same config; a partial [network.exc] kept the other defaults
    assert main(["ecg", "run", str(out / "config.toml"), "--print-config"]) == 0
    again = capsys.readouterr().out
    assert again.split("\n", 3)[3] == (out / "config.toml").read_text().split("\n", 3)[3]
    assert "LEVELS = 3" in again and "LEARN_DN = 400" in again


def test_ecg_record_writes_wfdb(tmp_path, capsys):
    from hwsnn.tasks.ecg import load_wfdb

    assert main(["ecg", "record", "--out", str(tmp_path / "rec"), "--seed", "4"]) == 0
    rec = load_wfdb(tmp_path / "rec")
    assert rec.duration == pytest.approx(240.0) and np.any(rec.labels > 0)


@pytest.mark.parametrize("argv,needle", [
    (["ecg", "run", "nope"], "config: no file or shipped ECG preset 'nope'"),
    (["ecg", "run", "--set", "network.p_in=2", "--print-config"], "network.p_in: must be <= 1"),
    (["ecg", "run", "--set", "network.form=analog", "--print-config"], "network.form"),
    (["ecg", "run", "--set", "data.source=wfdb", "--set", "data.record=/nonexistent/r1", "--out", "{tmp}/o"],
     "data.record: no WFDB header"),
    (["ecg", "record", "--out", "{tmp}"], "--out: "),
])
def test_ecg_errors_are_one_line(argv, needle, capsys, tmp_path):
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # nothing was started


def test_every_shipped_preset_validates(capsys):
    from hwsnn.ecg.detector import preset_dir

    names = sorted(p.stem for p in preset_dir().glob("*.toml"))
    assert {"float", "integer", "crossbar", "binary"} <= set(names)
    for name in names:
        assert main(["ecg", "run", name, "--print-config"]) == 0, name
        text = capsys.readouterr().out
        assert "[network]" in text
    assert main(["ecg", "run", "--list"]) == 0
    listing = capsys.readouterr().out
    assert all(n in listing for n in names)
