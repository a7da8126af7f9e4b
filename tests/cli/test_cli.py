"""The hwsnn command: help lists the Contract-3 commands, errors are one line, never a traceback."""

import json
import subprocess
import sys

import pytest

from hwsnn.cli import COMMANDS, main


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "hwsnn", *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_contract_commands():
    r = run_cli("--help")
    assert r.returncode == 0
    for cmd in ["run", "sweep", "device", "rtl", "cosim", "bench", "doctor"]:
        assert cmd in r.stdout
    assert set(COMMANDS) >= {"run", "sweep", "device", "rtl", "cosim", "bench", "doctor"}
    rtl = run_cli("rtl", "--help")
    for action in ["generate", "verify", "report"]:
        assert action in rtl.stdout


def test_doctor_reports_every_tool_with_status_and_json():
    r = run_cli("doctor", "--json")
    lines = r.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert {"verilator", "icarus", "yosys", "nextpnr-ice40"} <= set(summary["tools"])
    for name in ["python", "numba", "amaranth", "cocotb", "verilator", "icarus"]:
        assert any(name in ln and (ln.startswith("OK") or "fix" in ln or ln.startswith("INFO")) for ln in lines[:-1]), name
    assert r.returncode == (0 if summary["ok"] else 1)


def test_bad_input_is_one_line_without_traceback(tmp_path):
    r = run_cli("rtl", "verify", "--cycles", "0")
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "--cycles" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_rtl_generate_writes_files_atomically(tmp_path):
    assert main(["rtl", "generate", "--out", str(tmp_path), "--unit", "lfsr16"]) == 0
    assert (tmp_path / "lfsr16.v").read_text().count("module lfsr16(") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["lfsr16.v"]


def test_sweep_without_a_spec_fails_with_one_line():
    r = run_cli("sweep")
    assert r.returncode != 0
    assert "SPEC" in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
