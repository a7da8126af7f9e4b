"""`hwsnn run`'s background compilation of the baseline network's kernel on a cold cache."""

from __future__ import annotations

import pytest

from hwsnn.config import load_config
from hwsnn.tasks.run import precompile_in_background


def test_a_warm_cache_starts_no_process(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSNN_KERNEL_CACHE", str(tmp_path))
    (tmp_path / "layer_0123.py").write_text("# a generated kernel\n")
    assert precompile_in_background(load_config(None, {}), ["ideal"]) == []
    assert precompile_in_background(load_config(None, {}), []) == []


@pytest.mark.slow
def test_a_cold_cache_compiles_the_baseline_kernel_in_the_background(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSNN_KERNEL_CACHE", str(tmp_path / "kernels"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    procs = precompile_in_background(load_config(None, {}), ["ideal"])
    assert len(procs) == 1
    procs[0].join(timeout=600)
    assert procs[0].exitcode == 0
    assert len(list((tmp_path / "kernels").glob("layer_*.py"))) == 1
    assert list((tmp_path / "numba").rglob("*.nbi"))  # machine code cached for the main process
