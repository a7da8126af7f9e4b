"""Tests of hwsnn.bench.snn: the comparison machinery (no Brian2 needed) and, when the Brian2
environment is available, hwsnn-vs-Brian2 agreement on identical inputs plus a quick-suite smoke run."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

from hwsnn.bench import snn
from hwsnn.errors import ConfigError, ToolMissingError

# ---------------------------------------------------------------------------------------------
# pure helpers


def test_brian2_params_come_from_the_config():
    from hwsnn.tasks.wta import WTAConfig

    cfg = WTAConfig.diehl_cook(n_in=784, n_exc=400)
    p = snn.brian2_params(cfg)
    # D&C values, read from the config (one source of truth)
    assert p["tau_m_e"] == cfg.tau_m == 100.0
    assert p["v_thresh_e"] == cfg.v_thresh and p["theta_offset"] == cfg.theta_offset
    assert p["nu_pre"] == 1e-4 and p["nu_post"] == 1e-2 and p["theta_plus"] == 0.05
    assert p["max_rate_hz"] == 63.75 and p["w_ei"] == cfg.w_ei and p["w_ie"] == cfg.w_ie
    assert p["w_sum"] == pytest.approx(78.0)
    # Brian2 holds the membrane one update less than its refractory period: + dt
    assert p["refrac_e"] == pytest.approx(cfg.refrac_exc + cfg.dt)
    assert p["refrac_i"] == pytest.approx(cfg.refrac_inh + cfg.dt)
    changed = snn.brian2_params(cfg.replace(w_ie=12.5, tau_post2=33.0))
    assert changed["w_ie"] == 12.5 and changed["tau_post2"] == 33.0
    with pytest.raises(ConfigError) as ei:
        snn.brian2_params(cfg.replace(inhibition="direct"))
    assert ei.value.field == "inhibition"


def test_every_brian2_script_parameter_is_supplied():
    """The job carries every constant the Brian2 script requires (it refuses missing ones)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("dc_brian2", snn._SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # the script imports Brian2 only inside build_and_run
    from hwsnn.tasks.wta import WTAConfig

    p = snn.brian2_params(WTAConfig.diehl_cook(n_in=64, n_exc=10))
    assert set(mod.PARAM_KEYS) <= set(p)


def test_job_paths_are_absolute(monkeypatch, tmp_path):
    """The Brian2 script runs in another working directory: every path in the job is absolute."""
    from pathlib import Path

    from hwsnn.tasks.wta import WTAConfig

    monkeypatch.chdir(tmp_path)
    job = snn._job(WTAConfig.diehl_cook(n_in=64, n_exc=10), n_samples=2, seed=0, learn=True,
                   inputs_file=Path("in.npz"), out_stem=Path("sub/out"))
    for key in ("inputs_file", "out_json", "out_npz"):
        assert Path(job[key]).is_absolute() and job[key].startswith(str(tmp_path))
    assert job["codegen_target"] == "auto" and job["method"] == "exponential_euler"
    assert job["dt_ms"] == 0.5 and job["t_present_ms"] == 350.0 and job["t_rest_ms"] == 150.0


def test_poisson_raster_rate_and_determinism():
    x = np.array([[0.0, 0.5, 1.0]] * 2)
    r1 = snn.poisson_raster(x, max_rate=100.0, dt_ms=0.5, n_steps=20000, seed=3)
    r2 = snn.poisson_raster(x, max_rate=100.0, dt_ms=0.5, n_steps=20000, seed=3)
    r3 = snn.poisson_raster(x, max_rate=100.0, dt_ms=0.5, n_steps=20000, seed=4)
    assert r1.dtype == bool and r1.shape == (2, 20000, 3)
    np.testing.assert_array_equal(r1, r2)
    assert not np.array_equal(r1, r3)
    rate = r1.mean(axis=1) / 0.5e-3  # Hz
    assert np.all(rate[:, 0] == 0)
    np.testing.assert_allclose(rate[:, 1], 50.0, rtol=0.1)
    np.testing.assert_allclose(rate[:, 2], 100.0, rtol=0.1)


def test_classify_regime():
    normal = np.zeros((5, 100), int)
    normal[:, :5] = 3
    assert snn.classify_regime(normal)["regime"] == "normal"
    runaway = np.ones((5, 100), int) * 4
    r = snn.classify_regime(runaway)
    assert r["regime"] == "runaway" and r["active_fraction_median"] == 1.0
    assert snn.classify_regime(np.zeros((5, 100), int))["regime"] == "silent"


def test_brian2_counts_binning_with_and_without_lag():
    # n_total 10 steps per sample, n_on 6, dt 0.5 ms
    arrays = {"spike_i": np.array([0, 1, 1, 2, 0]), "spike_t_ms": np.array([0.0, 2.5, 3.0, 5.5, 7.0])}
    # no lag: steps 0, 5, 6(rest), 11 -> sample 1 step 1, 14 -> sample 1 step 4
    c0 = snn._brian2_counts_aligned(arrays, 2, 3, 6, 10, 0.5, step_lag=0)
    assert c0.tolist() == [[1, 1, 0], [1, 0, 1]]
    # lag 1: steps -1(dropped), 4, 5, 10 -> s1 step0, 13 -> s1 step3
    c1 = snn._brian2_counts_aligned(arrays, 2, 3, 6, 10, 0.5, step_lag=1)
    assert c1.tolist() == [[0, 2, 0], [1, 0, 1]]


def _synthetic(seed=0, n_samples=20, n_exc=100, n_in=30):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(2.0, size=(n_samples, n_exc))
    dw = rng.normal(0, 1e-3, size=(n_in, n_exc))
    return counts, dw


def test_compare_runs_identical_passes_both_modes():
    c, dw = _synthetic()
    for mode in ("exact", "statistical"):
        r = snn.compare_runs(c, c.copy(), dw, dw.copy(), mode)
        assert r["ok"] and r["count_entries_equal_frac"] == 1.0 and r["dw_corr"] == pytest.approx(1.0)
        assert r["samples_identical"] == c.shape[0] and r["first_differing_sample"] is None


def test_compare_runs_exact_detects_mutants():
    c, dw = _synthetic()
    # mutant 1: neurons relabelled (same totals, wrong neurons)
    perm = np.roll(np.arange(c.shape[1]), 1)
    r = snn.compare_runs(c, c[:, perm], dw, dw, "exact")
    assert not r["ok"] and not r["checks"]["count_entries_equal"]
    # mutant 2: weight changes of another run
    _, dw2 = _synthetic(seed=1)
    r = snn.compare_runs(c, c, dw, dw2, "exact")
    assert not r["ok"] and not r["checks"]["dw_corr"]
    # mutant 3: same pattern, 20 % more depression/potentiation
    r = snn.compare_runs(c, c, dw, 1.2 * dw, "exact")
    assert not r["ok"] and r["checks"]["dw_corr"] and not r["checks"]["dw_mean_abs"]
    # a single differing spike is within the exact tolerance (floating-point threshold ties)
    c2 = c.copy()
    c2[0, 0] += 1
    assert snn.compare_runs(c, c2, dw, dw, "exact")["ok"]


def test_compare_runs_statistical_detects_mutants():
    c, dw = _synthetic()
    c_other, dw_other = _synthetic(seed=5)  # other winners, same statistics
    r = snn.compare_runs(c, c_other, dw, dw_other, "statistical")
    assert r["ok"] and not snn.compare_runs(c, c_other, dw, dw_other, "exact")["ok"]
    r = snn.compare_runs(c, 2 * c_other, dw, dw_other, "statistical")  # twice the activity
    assert not r["ok"] and not r["checks"]["total_spikes"]
    r = snn.compare_runs(c, c_other, dw, np.abs(dw_other), "statistical")  # no depression
    assert not r["ok"] and not r["checks"]["frac_potentiated"]
    with pytest.raises(ConfigError):
        snn.compare_runs(c, c[:, :-1], dw, dw)
    with pytest.raises(ConfigError):
        snn.compare_runs(c, c, dw, dw, mode="loose")


def test_tolerance_is_a_documented_dataclass():
    fields = {f.name for f in dataclasses.fields(snn.AgreementTolerance)}
    assert {"exact_count_entries_equal_min", "stat_total_spikes_rel"} <= fields


def test_missing_env_without_create_raises(monkeypatch, tmp_path):
    monkeypatch.setenv("HWSNN_BRIAN2_VENV", str(tmp_path / "nope"))
    with pytest.raises(ToolMissingError, match="no Brian2 environment"):
        snn.ensure_brian2_env(create=False)


def test_env_creation_failure_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("HWSNN_BRIAN2_VENV", str(tmp_path / "venv"))
    monkeypatch.setattr(sys, "_base_executable", str(tmp_path / "no-such-python"), raising=False)
    with pytest.raises(ToolMissingError, match="python -m venv failed"):
        snn.ensure_brian2_env(create=True, timeout=30)
    assert not (tmp_path / "venv" / "hwsnn-brian2-ok").exists()


def test_run_reports_missing_brian2(monkeypatch, tmp_path):
    def _no_env(create=True, timeout=900.0):
        raise ToolMissingError("Brian2 environment: pip install failed (no network)")

    monkeypatch.setattr(snn, "ensure_brian2_env", _no_env)
    with pytest.raises(ToolMissingError, match="no network"):
        snn.run(quick=True, out_dir=tmp_path)


# ---------------------------------------------------------------------------------------------
# with Brian2


@pytest.fixture(scope="module")
def brian2_python():
    try:
        return snn.ensure_brian2_env(create=True)
    except ToolMissingError as exc:
        pytest.skip(f"Brian2 environment unavailable: {exc}")


def test_agreement_exact_and_mutant(brian2_python, tmp_path):
    """hwsnn's float model and Brian2 agree spike for spike with learning on (same conventions);
    a hwsnn-only change of the potentiation rate is caught."""
    r = snn.agreement(64, 100, 4, "learning_on_exact", tmp_path, python=brian2_python)
    assert r["brian2_target"] == ["CythonCodeObject"]
    assert r["regime_hwsnn"] == "normal"
    assert r["ok"], r
    assert r["total_spikes"][0] > 50 and r["total_spikes"][0] == r["total_spikes"][1]
    assert r["dw_max_abs_diff"] < 1e-9
    m = snn.agreement(64, 100, 4, "learning_on_exact", tmp_path, python=brian2_python,
                      hwsnn_overrides={"nu_post": 0.02})
    assert not m["ok"] and not m["checks"]["dw_mean_abs"]


@pytest.mark.slow
def test_agreement_learning_off_and_inhibition_mutant(brian2_python, tmp_path):
    r = snn.agreement(64, 100, 6, "learning_off", tmp_path, python=brian2_python)
    assert r["ok"] and r["count_entries_equal_frac"] == 1.0
    m = snn.agreement(64, 100, 6, "learning_off", tmp_path, python=brian2_python,
                      hwsnn_overrides={"w_ie": 8.5})
    assert not m["ok"] and m["total_spikes"][0] > m["total_spikes"][1]


@pytest.mark.slow
def test_agreement_dc_conventions_statistical(brian2_python, tmp_path):
    r = snn.agreement(64, 100, 10, "learning_on_dc", tmp_path, python=brian2_python)
    assert r["mode"] == "statistical" and r["ok"], r


@pytest.mark.slow
def test_quick_suite_smoke(brian2_python, tmp_path):
    res = snn.run(quick=True, out_dir=tmp_path)
    rows = res["table"]
    assert {(r["simulator"], r["synapse"]) for r in rows} == {
        ("brian2", "float"), ("hwsnn", "float"), ("hwsnn", "sto_all_nonideal")}
    b = next(r for r in rows if r["simulator"] == "brian2")
    assert "CythonCodeObject" in b["target"] and b["ms_median"] > 0
    h = next(r for r in rows if r["simulator"] == "hwsnn" and r["synapse"] == "float")
    assert h["speedup_vs_brian2"] > 10 and h["regime"] == "normal"
    assert res["agreement_ok"] and [a["variant"] for a in res["agreement"]] == ["learning_on_exact"]
    import json

    from hwsnn.io import to_jsonable

    json.dumps(to_jsonable(res))  # JSON-able
    assert (tmp_path / "snn_brian2").is_dir()
