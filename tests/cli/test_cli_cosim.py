"""``hwsnn cosim``: bad configs give one clear error naming the field; a short run writes its
results and ends with one JSON object that says whether RTL and golden are equivalent."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hwsnn.cli import main


def run_cli(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "hwsnn", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("toml, field", [
    ("[cosim]\ntimestep = 10\n", "cosim.timestep"),
    ("[cosim]\nbackpressure = -0.1\n", "cosim.backpressure"),
    ("[cosim]\npreset = \"nope\"\n", "cosim.preset"),
    ("[cosim]\ntimesteps = 0\n", "cosim.timesteps"),
    ("[core]\nN = 0\n", "core.N"),
    ("[core.lif]\nTHETA_BASE = -3\n", "core.lif.THETA_BASE"),
    ("[device]\nread_noise = -1.0\n", "device.read_noise"),
    ("[crossbar.io]\nadc_bits = 5\n", "crossbar.io.adc_bits"),
    ("[digits]\ntrain_samples = 0\n", "digits.train_samples"),
    ("[nope]\nx = 1\n", "nope"),
])
def test_bad_config_names_the_field(tmp_path, capsys, toml, field):
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    rc = main(["cosim", str(cfg)])
    err = capsys.readouterr().err
    assert rc == 2 and field in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_missing_config_file_and_bad_cli_value(capsys, tmp_path):
    assert main(["cosim", str(tmp_path / "missing.toml")]) == 2
    assert "CONFIG" in capsys.readouterr().err
    assert main(["cosim", "--timesteps", "0"]) == 2
    assert "--timesteps" in capsys.readouterr().err


@pytest.mark.rtl
def test_short_run_writes_results_and_json(tmp_path, sim_tool):
    sim_tool("verilator")
    cfg = tmp_path / "c.toml"
    cfg.write_text("[cosim]\npreset = \"sto\"\ntimesteps = 60\nbackpressure = 0.2\nsnapshot_every = 20\n")
    out = tmp_path / "out"
    r = run_cli("cosim", str(cfg), "--sim", "verilator", "--out", str(out), "--json", "--wave", "vcd")
    assert r.returncode == 0, r.stdout + r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["equivalent"] is True and s["timesteps"] == 60 and s["cycles"] > 60 * 100
    assert s["throughput"]["timesteps_per_s"] > 0 and set(s["breakdown_s"]) >= {"rtl_simulation", "device_model_and_agent",
                                                                             "python_cocotb_glue"}
    for f in ("summary.json", "record.npz", "raster.npz", "conductances.npz", "raster.png", "conductance_maps.png",
              "learning_core.vcd"):
        assert (out / f).is_file(), f
    assert "$enddefinitions" in (out / "learning_core.vcd").read_text()[:100000]
    assert json.loads((out / "summary.json").read_text())["equivalent"] is True
