"""`hwsnn device info|curve|fit` end to end (subprocess, as a user runs it)."""

import json
import subprocess
import sys

import pytest

from hwsnn.devices import DeviceParams
from hwsnn.devices.fit import synthetic_dataset, write_csv


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "hwsnn", "device", *args], capture_output=True, text=True, timeout=timeout)


def last_json(r):
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_info_list_and_preset():
    r = run_cli("info", "--list", "--json")
    assert r.returncode == 0 and "sto" in last_json(r)["presets"]
    r = run_cli("info", "--preset", "neurosim_agsi", "--json")
    assert r.returncode == 0 and last_json(r)["params"]["nl_ltd"] == 4.88


def test_unknown_preset_is_one_line_error():
    r = run_cli("info", "--preset", "unobtainium")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "unobtainium" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_bad_params_file_names_the_field(tmp_path):
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"g_min": 5e-8, "g_max": 4e-8}))
    r = run_cli("info", "--params", str(f))
    assert r.returncode != 0 and "g_min" in r.stderr and "Traceback" not in r.stderr
    f.write_text(json.dumps({"c2c_mult": -1}))
    r = run_cli("curve", "--params", str(f), "--out", str(tmp_path))
    assert r.returncode != 0 and "c2c_mult" in r.stderr and "Traceback" not in r.stderr


def test_curve_writes_png_and_json(tmp_path):
    r = run_cli("curve", "--preset", "sto", "--devices", "4", "--out", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    s = last_json(r)
    assert (tmp_path / "device_curve.png").stat().st_size > 10_000
    data = json.loads((tmp_path / "device_curve.json").read_text())
    assert {"ltp_ltd", "retention", "read_noise", "ppf"} <= set(data)
    p = DeviceParams()
    # the trains start at the window bottom and the read noise is near the preset's 1 %
    assert data["ltp_ltd"]["g_mean"][0] == pytest.approx(p.g_min, rel=0.3)
    assert 0.008 < s["read_rel_std"] < 0.012


def test_fit_then_use_params_file(tmp_path):
    truth = DeviceParams(d2d=0.0, st_amp=0.0, c2c_mult=0.0, c2c_add=0.005, nl_ltp=1.5, nl_ltd=1.5, read_noise=0.03)
    csv = write_csv(tmp_path / "data.csv", synthetic_dataset(truth, n_devices=48, read_devices=40, seed=1))
    r = run_cli("fit", str(csv), "--out", str(tmp_path / "fit"), "--json")
    assert r.returncode == 0, r.stderr
    s = last_json(r)
    assert s["fitted"]["nl_ltp"] == pytest.approx(1.5, rel=0.1)
    assert s["fitted"]["read_noise"] == pytest.approx(0.03, rel=0.15)
    r = run_cli("info", "--params", s["params_file"], "--json")
    assert r.returncode == 0 and last_json(r)["params"]["nl_ltp"] == pytest.approx(s["fitted"]["nl_ltp"])
    r = run_cli("fit", str(tmp_path / "missing.csv"))
    assert r.returncode != 0 and "DATA" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("fit", "--help")
    assert "experiment,device,x,g" in r.stdout
