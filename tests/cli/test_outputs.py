"""Outputs that can be trusted: interrupted runs are visibly incomplete (real SIGINT / SIGKILL on a
subprocess), the next run cleans up, a verification that checked nothing fails, ``hwsnn bench``
keeps off the committed results, progress output has no carriage returns off a terminal."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from hwsnn.cli import main
from hwsnn.io import INCOMPLETE, MANIFEST, check_run_folder


def _start_run(out: Path) -> subprocess.Popen:
    # a background job of a non-interactive shell ignores SIGINT; give the child the default handler
    return subprocess.Popen([sys.executable, "-m", "hwsnn", "run", "--epochs", "1", "--n-train", "600", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "the run never opened its folder"
        time.sleep(0.05)


def _fake_experiment(cfg, out, progress=None, log=None, extra=None, precompile=False):
    """Stands in for training (the folder handling is what is tested): writes metrics.json."""
    from hwsnn.io import write_json

    m = {**(extra or {}), "accuracy": 0.5, "accuracy_std": 0.0, "baseline_accuracy": None, "kmeans_accuracy": 0.9,
         "synapse": "crossbar", "baseline": "none", "dataset": "digits", "seeds": [0], "samples": 10, "seconds": 0.1,
         "runs": [{"synapse": "crossbar", "seed": 0, "accuracy": 0.5}], "kmeans": [{"seed": 0, "accuracy": 0.9}]}
    write_json(Path(out) / "metrics.json", m)
    return m


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_run_is_incomplete_and_the_next_run_cleans_up(sig, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    proc = _start_run(out)
    _wait_for(out / INCOMPLETE, proc)
    time.sleep(1.0)
    t0 = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    latency = time.monotonic() - t0
    assert latency < 30, f"took {latency:.1f} s to stop"
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
        assert "interrupted (Ctrl-C)" in (out / INCOMPLETE).read_text()
        assert "\r" not in err  # stderr is a pipe: plain progress lines
    else:
        assert proc.returncode == -signal.SIGKILL
        assert "in progress (or the process was killed)" in (out / INCOMPLETE).read_text()
    assert not (out / MANIFEST).exists()
    assert f"{INCOMPLETE} marker present" in check_run_folder(out)
    # a kill in the middle of a write leaves a temporary file; the next run into the folder removes it
    leftover = out / ".metrics.json.0123abcd.hwsnn-tmp.json"
    leftover.write_text('{"half": ')
    monkeypatch.setattr("hwsnn.tasks.run.run_experiment", _fake_experiment)
    assert main(["run", "--n-train", "20", "--n-test", "10", "--n-exc", "5", "--out", str(out)]) == 0
    assert "removed 1 temporary file" in capsys.readouterr().err
    assert not leftover.exists() and not (out / INCOMPLETE).exists()
    assert check_run_folder(out) == []


def test_metrics_record_provenance_and_the_resolved_config(tmp_path, monkeypatch, capsys):
    from hwsnn.config import dump_toml, load_config, to_plain

    monkeypatch.setattr("hwsnn.tasks.run.run_experiment", _fake_experiment)
    out = tmp_path / "r"
    argv = ["run", "mnist100", "--n-train", "200", "--n-test", "50", "--set", "synapse.device.params.nl_ltp=3.5",
            "--out", str(out), "--json"]
    assert main(argv) == 0
    m = json.loads((out / "metrics.json").read_text())
    p = m["provenance"]
    assert p["command"] == "hwsnn " + " ".join(argv) and p["argv"] == argv
    import hwsnn

    assert p["hwsnn_version"] == hwsnn.__version__
    assert p["git_commit"] is None or len(p["git_commit"]) == 40
    cfg = load_config(out / "config.toml")
    assert cfg.synapse.device.resolve().nl_ltp == 3.5 and cfg.task.dataset == "mnist" and cfg.task.n_test == 50
    assert (out / "config.toml").read_text() == dump_toml(cfg)
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["kmeans_accuracy"] == 0.9 and summary["kmeans"] == {"0": 0.9}
    assert summary["per_seed"] == {"crossbar": {"0": 0.5}} and summary["out"] == str(out)
    del to_plain


def test_print_config_prints_that_config_with_device_and_crossbar_settings(tmp_path, capsys):
    from hwsnn.config import parse_config

    try:
        import tomllib
    except ImportError:  # pragma: no cover
        import tomli as tomllib
    toml = tmp_path / "c.toml"
    toml.write_text('[network]\nn_exc = 7\n[synapse]\nbackend = "crossbar"\n[synapse.device.params]\nc2c_mult = 0.03\n'
                    "[synapse.crossbar.io]\nadc_bits = 6\n")
    assert main(["run", "--print-config", str(toml), "--set", "synapse.device.params.d2d=0.2"]) == 0
    cfg = parse_config(tomllib.loads(capsys.readouterr().out))
    dev = cfg.synapse.device.resolve()
    assert (cfg.network.n_exc, dev.c2c_mult, dev.d2d, cfg.synapse.crossbar.io.adc_bits) == (7, 0.03, 0.2, 6)
    assert main(["run", "mnist400", "--print-config"]) == 0
    assert parse_config(tomllib.loads(capsys.readouterr().out)).network.n_exc == 400


# ---------------------------------------------------------------------------------------------- rtl verify
def _no(tool):
    from hwsnn.toolchain import Tool

    return lambda: Tool(tool, False, reason="not found (test)", fix="install it")


def test_rtl_verify_that_checked_nothing_fails(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("hwsnn.toolchain.icarus", _no("icarus"))
    rc = main(["rtl", "verify", "--sim", "icarus", "--unit", "lfsr16", "--json", "--no-progress",
               "--out", str(tmp_path / "v")])
    out, err = capsys.readouterr()
    s = json.loads(out.strip().splitlines()[-1])
    assert rc == 2 and s["passed"] is False and s["cycles_checked"] == 0
    assert s["per_simulator"]["icarus"]["cycles_checked"] == 0
    assert "nothing was checked" in err and "not found (test)" in err
    assert json.loads((tmp_path / "v" / "rtl_verify.json").read_text())["passed"] is False


def test_rtl_verify_reports_per_simulator_what_ran(monkeypatch, capsys):
    from hwsnn.errors import ToolMissingError

    def fake_verify_unit(unit, sim, *, cycles, seed, **kw):
        if sim == "icarus":
            raise ToolMissingError("icarus: not found (test)")
        return types.SimpleNamespace(passed=True, cycles=cycles, seconds=0.5, cycles_per_second=cycles / 0.5, report={})

    monkeypatch.setattr("hwsnn.hw.verify.verify_unit", fake_verify_unit)
    rc = main(["rtl", "verify", "--sim", "both", "--unit", "lfsr16", "--unit", "stdp_trace", "--cycles", "300",
               "--json", "--no-progress"])
    out, err = capsys.readouterr()
    s = json.loads(out.strip().splitlines()[-1])
    assert rc == 2 and not s["passed"] and not s["complete"]
    assert s["per_simulator"]["verilator"] == {"units_checked": ["lfsr16", "stdp_trace"], "cycles_checked": 600,
                                               "failed": [], "not_checked": {}}
    assert s["per_simulator"]["icarus"]["cycles_checked"] == 0
    assert "not everything was checked" in err and "icarus: no unit checked" in err
    monkeypatch.setattr("hwsnn.hw.verify.verify_unit", lambda unit, sim, **kw: fake_verify_unit(unit, "verilator", **kw))
    assert main(["rtl", "verify", "--sim", "both", "--unit", "lfsr16", "--no-progress"]) == 0


def test_rtl_verify_without_icarus_on_path_subprocess():
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # no /usr/bin: no iverilog / vvp
    r = subprocess.run([sys.executable, "-m", "hwsnn", "rtl", "verify", "--sim", "icarus", "--unit", "lfsr16",
                        "--cycles", "100", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["passed"] is False
    assert "nothing was checked" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------------------------------------- bench
def test_bench_writes_a_user_folder_and_not_the_committed_results(tmp_path, monkeypatch, capsys):
    import hwsnn.bench
    from hwsnn.cli.bench import COMMITTED

    mod = types.ModuleType("hwsnn_test_fake_suite")
    mod.run = lambda quick, out_dir: {"table": [{"case": "a", "ratio": 2.0}]}
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    monkeypatch.setitem(hwsnn.bench.SUITES, "fake", mod.__name__)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in COMMITTED.iterdir())
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "fake", "--quick"]) == 0
    assert json.loads((tmp_path / "runs" / "bench" / "bench_fake_quick.json").read_text())["table"][0]["ratio"] == 2.0
    assert check_run_folder(tmp_path / "runs" / "bench") == []
    assert sorted((p.name, p.stat().st_mtime_ns) for p in COMMITTED.iterdir()) == before
    capsys.readouterr()


# ---------------------------------------------------------------------------------------------- progress
def test_progress_off_a_terminal_is_plain_lines(monkeypatch):
    from hwsnn.cli import common

    monkeypatch.delenv("HWSNN_PROGRESS", raising=False)
    buf = io.StringIO()
    bar = common.progress(total=5, desc="work", file=buf)
    for _ in range(5):
        bar.update(1)
    bar.close()
    text = buf.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert lines[-1].startswith("work: 5/5 (100%)") and len(lines) == len(set(lines)) <= 3


@pytest.mark.parametrize("how", ["env", "flag"])
def test_progress_can_be_turned_off(how, monkeypatch):
    from hwsnn.cli import common

    buf = io.StringIO()
    if how == "env":
        monkeypatch.setenv("HWSNN_PROGRESS", "0")
    else:
        monkeypatch.setattr(common, "_PROGRESS_OFF", True)
    bar = common.progress(total=3, desc="work", file=buf)
    bar.update(3)
    bar.close()
    assert buf.getvalue() == ""


def test_progress_switch_is_documented(capsys):
    assert main(["--help"]) == 0
    assert "HWSNN_PROGRESS=0" in capsys.readouterr().out
    for cmd in (["run"], ["rtl", "verify"]):
        assert main([*cmd, "--help"]) == 0
        assert "--no-progress" in capsys.readouterr().out


def _raise_from_interrupt():
    # what Numba's dispatcher raises when Ctrl-C lands while it loads a cached kernel
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise SystemError("CPUDispatcher(...) returned a result with an exception set") from exc


def test_ctrl_c_inside_a_compiled_call_is_an_interrupt_not_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("hwsnn.tasks.run.run_experiment", lambda *a, **k: _raise_from_interrupt())
    out = tmp_path / "run"
    assert main(["run", "--n-train", "20", "--n-test", "10", "--n-exc", "5", "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "hwsnn run: interrupted" in err and "Traceback" not in err
    assert f"{INCOMPLETE} marker present" in check_run_folder(out)
    # the marker tells the same story as the console: an interrupt, not a failure
    assert "interrupted (Ctrl-C)" in (out / INCOMPLETE).read_text()

    # a SystemError without an interrupt behind it is a bug and stays loud
    def broken(*a, **k):
        raise SystemError("a real bug")

    monkeypatch.setattr("hwsnn.tasks.run.run_experiment", broken)
    with pytest.raises(SystemError, match="a real bug"):
        main(["run", "--n-train", "20", "--n-test", "10", "--n-exc", "5", "--out", str(tmp_path / "r2")])
    assert "the run failed (SystemError: a real bug)" in (tmp_path / "r2" / INCOMPLETE).read_text()


def test_a_simulator_whose_build_fails_is_a_failed_row_not_a_traceback(monkeypatch, capsys, tmp_path):
    # the simulator is found but its build cannot run (here: a build step exits 127, command not found)
    from cocotb_tools import runner as cocotb_runner

    def failing_build(self, *a, **k):
        raise RuntimeError("Command failed with return code: 127")

    monkeypatch.setattr(cocotb_runner.Runner, "build", failing_build)
    monkeypatch.setenv("HWSNN_SIM_BUILD", str(tmp_path / "build"))
    rc = main(["rtl", "verify", "--unit", "lfsr16", "--sim", "icarus", "--cycles", "100", "--json"])
    out, err = capsys.readouterr()
    assert rc != 0 and "Traceback" not in out + err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["passed"] is False and summary["rows"][0]["status"] == "FAIL"
    assert "building lfsr16 failed" in summary["rows"][0]["reason"] and "return code: 127" in summary["rows"][0]["reason"]
