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


def test_diehl_cook_config():
    cfg = snn.diehl_cook_config(784, 400)
    net, sch, hom, rule = cfg.network, cfg.schedule, cfg.homeostasis, cfg.rules[0]
    assert (net.n_exc, net.inhibition, net.efficacy, net.w_ei, net.w_ie) == (400, "population", 1.0, 10.4, 17.0)
    assert sch.max_rate == 63.75 and (sch.dt, sch.t_present, sch.t_rest) == (5e-4, 0.35, 0.15)
    assert sch.n_on == 700 and sch.n_total == 1000
    assert abs(hom.norm_per_input * snn.n_inputs(cfg) - 78.0) < 1e-9 and hom.theta_plus == 5e-5
    assert (rule.kind, rule.nu_pre, rule.nu_post, rule.nu_post_crossbar) == ("triplet_stdp", 1e-4, 1e-2, 0.0)
    assert cfg.task.dataset == "mnist" and cfg.synapse.backend == "ideal"
    small = snn.bench_config(64, 100)
    assert snn.n_inputs(small) == 64 and small.task.dataset == "digits" and small.schedule.rerun_min_spikes == 0
    assert (small.schedule.max_rate, small.network.efficacy, small.rules[0].nu_post) == (127.5, 2.0, 0.03)
    assert small.network.inhibition == "population"  # the small drive keeps the D&C equations
    xb = small.with_overrides(snn.CROSSBAR_ALL_ON)
    assert xb.synapse.backend == "crossbar" and xb.crossbar.io.adc_bits == 8 and xb.device.p_stuck_min == 0.01
    # overrides are validated like --set: errors name the dotted path
    with pytest.raises(ConfigError) as ei:
        snn.diehl_cook_config(784, 400, {"network.w_ie": -1.0})
    assert ei.value.field == "network.w_ie"
    with pytest.raises(ConfigError) as ei:
        snn.diehl_cook_config(100, 400)
    assert ei.value.field == "n_in"


def test_brian2_params_come_from_the_config():
    cfg = snn.diehl_cook_config(n_in=784, n_exc=400)
    p = snn.brian2_params(cfg)
    nr, inh = cfg.neuron, cfg.neuron.inhibitory
    # D&C values, read from the config (one source of truth), SI -> ms / mV exactly
    assert p["tau_m_e"] == 100.0 and nr.tau_m == 0.1
    assert p["v_thresh_e"] == -52.0 and p["theta_offset"] == 20.0 and p["v_reset_i"] == -45.0
    assert p["tau_theta"] == 1e7 and p["theta_init"] == 20.0 and p["tau_post2"] == 40.0
    assert p["nu_pre"] == 1e-4 and p["nu_post"] == 1e-2 and p["theta_plus"] == 0.05
    assert p["max_rate_hz"] == 63.75 and p["w_ei"] == cfg.network.w_ei and p["w_ie"] == cfg.network.w_ie
    assert p["w_sum"] == pytest.approx(78.0)
    # Brian2 holds the membrane one update less than its refractory period: + dt
    assert p["refrac_e"] == pytest.approx(1e3 * (nr.refractory + cfg.schedule.dt)) == 5.5
    assert p["refrac_i"] == pytest.approx(1e3 * (inh.refractory + cfg.schedule.dt)) == 2.5
    changed = snn.brian2_params(cfg.with_overrides({"network.w_ie": 12.5, "rules[0].tau_post2": 0.033}))
    assert changed["w_ie"] == 12.5 and changed["tau_post2"] == 33.0
    # only the network Brian2 has a twin of: each other choice is refused by name
    from hwsnn.engine.contract import neuron_class

    for path, bad in (("network.inhibition", cfg.with_overrides({"network.inhibition": "direct"})),
                      ("neuron.model", cfg.replace(neuron=neuron_class("lif")())),
                      ("rules", cfg.replace(rules=[*cfg.rules, cfg.rules[0]])),
                      ("synergy.form", cfg.with_overrides({"synergy.form": "shared"}))):
        with pytest.raises(ConfigError) as ei:
            snn.brian2_params(bad)
        assert ei.value.field == path


def test_every_brian2_script_parameter_is_supplied():
    """The job carries every constant the Brian2 script requires (it refuses missing ones)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("dc_brian2", snn._SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # the script imports Brian2 only inside build_and_run
    p = snn.brian2_params(snn.diehl_cook_config(n_in=64, n_exc=10))
    assert set(mod.PARAM_KEYS) <= set(p)


def test_job_paths_are_absolute(monkeypatch, tmp_path):
    """The Brian2 script runs in another working directory: every path in the job is absolute."""
    from pathlib import Path

    monkeypatch.chdir(tmp_path)
    job = snn._job(snn.diehl_cook_config(n_in=64, n_exc=10), n_samples=2, seed=0, learn=True,
                   inputs_file=Path("in.npz"), out_stem=Path("sub/out"))
    for key in ("inputs_file", "out_json", "out_npz"):
        assert Path(job[key]).is_absolute() and job[key].startswith(str(tmp_path))
    assert job["codegen_target"] == "auto" and job["method"] == "exponential_euler"
    assert job["dt_ms"] == 0.5 and job["t_present_ms"] == 350.0 and job["t_rest_ms"] == 150.0
    assert job["n_in"] == 64 and job["n_exc"] == 10


def test_poisson_raster_rate_and_determinism():
    x = np.array([[0.0, 0.5, 1.0]] * 2)
    r1 = snn.poisson_raster(x, max_rate=100.0, dt_ms=0.5, n_steps=20000, seed=3)
    r2 = snn.poisson_raster(x, max_rate=100.0, dt_ms=0.5, n_steps=20000, seed=3)
    r3 = snn.poisson_raster(x, max_rate=100.0, dt_ms=0.5, n_steps=20000, seed=4)
    assert r1.dtype == bool and r1.shape == (2, 20000, 3)
    np.testing.assert_array_equal(r1, r2)
    assert not np.array_equal(r1, r3)
    # the bench draws through the engine's one encoder, an independent counter base per sample
    from hwsnn.snn.encoders import poisson_raster as encode

    np.testing.assert_array_equal(r1[1], encode(x[1] * 100.0, 20000, 0.5e-3, 3, counter0=1 << 24).astype(bool))
    assert not np.array_equal(r1[0], r1[1])
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
# Brian2 C++ standalone column and scaling section: job fields and bookkeeping (no Brian2 needed)


def _script_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("dc_brian2_mod", snn._SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_standalone_job_fields_serialise(tmp_path):
    import json
    from pathlib import Path

    from hwsnn.io import write_json

    cfg = snn.diehl_cook_config(n_in=64, n_exc=10)
    job = snn._job(cfg, n_samples=3, seed=1, learn=True, inputs_file=Path("in.npz"), out_stem=tmp_path / "o",
                   device="cpp_standalone", openmp_threads=snn.STANDALONE_THREADS)
    write_json(tmp_path / "job.json", job)
    back = json.loads((tmp_path / "job.json").read_text())
    assert back["device"] == "cpp_standalone" and back["openmp_threads"] == 2 == snn.STANDALONE_THREADS
    assert back == job
    # the default job is today's runtime behaviour: no device field means "runtime"
    plain = snn._job(cfg, n_samples=3, seed=1, learn=True, inputs_file=Path("in.npz"), out_stem=tmp_path / "o")
    assert "device" not in plain
    assert _script_module().DEVICES == ("runtime", "cpp_standalone")


def test_script_refuses_unknown_device_and_unsupported_standalone_options():
    mod = _script_module()
    with pytest.raises(ValueError, match="device must be one of"):
        mod.build_and_run({"device": "gpu"})  # checked before Brian2 is imported
    base = {"device": "cpp_standalone", "learn": True}
    mod._check_standalone_job(dict(base))  # the speed rows' configuration
    mod._check_standalone_job({"device": "cpp_standalone", "learn": False, "stdp_form": "hwsnn"})
    for bad, msg in (({"stdp_form": "hwsnn"}, "stdp_form"), ({"theta_decay": "per_sample"}, "theta_decay"),
                     ({"reset_traces_each_sample": True}, "reset_traces"), ({"input_same_step": True}, "same_step")):
        with pytest.raises(ValueError, match=msg):
            mod.build_and_run({**base, **bad})


def test_standalone_rate_table_layout():
    mod = _script_module()
    assert mod.rate_grid(0.5, 350.0, 150.0) == (100, 7, 3)  # 50 ms rows: 7 on, 3 off
    assert mod.rate_grid(0.5, 350.0, 0.0) == (700, 1, 0)
    assert mod.rate_grid(1.0, 3.0, 2.0) == (1, 3, 2)
    rates = np.array([[10.0, 20.0], [30.0, 0.0]])
    rows = mod.rate_rows(rates, 2, 1)
    assert rows.shape == (6, 2)
    np.testing.assert_array_equal(rows, [[10, 20], [10, 20], [0, 0], [30, 0], [30, 0], [0, 0]])
    # the TimedArray row of time t: sample k on for t in [k T, k T + t_present), 0 Hz in its rest
    g, on, off = mod.rate_grid(0.5, 350.0, 150.0)
    table = mod.rate_rows(np.arange(3 * 4, dtype=float).reshape(3, 4) + 1, on, off)
    for step, sample, active in ((0, 0, True), (699, 0, True), (700, 0, False), (999, 0, False),
                                 (1000, 1, True), (2700, 2, False)):
        row = table[step // g]
        assert (row.sum() > 0) == active and (not active or row[0] == 4 * sample + 1)


def test_standalone_spike_binning():
    mod = _script_module()
    # 10 steps per sample at 0.5 ms: times 0, 4.5 (sample 0), 5.0, 9.5 (sample 1), 10.0 (dropped)
    c = mod.bin_counts(np.array([0, 1, 1, 0, 2]), np.array([0.0, 4.5, 5.0, 9.5, 10.0]), 2, 3, 0.5, 10)
    assert c.tolist() == [[1, 1, 0], [1, 1, 0]]


def _rows_for(net="784x400", rt_ms=500.0, rt_cpu=250.0, sa_ms=200.0, sa_cpu=300.0):
    rt = {"network": net, "simulator": "brian2", "synapse": "float", "device": "runtime",
          "ms_per_sample": rt_ms, "cpu_ms_per_sample": rt_cpu, "speedup_vs_brian2": 1.0}
    summ = {"ms_per_sample": sa_ms, "cpu_ms_per_sample": sa_cpu, "openmp_threads": 2, "n_samples": 21,
            "codegen_target_used": ["CPPStandaloneCodeObject"], "compile_s": 40.0}
    sa = snn.standalone_row(net, summ, rt, {"exc_spikes_per_sample": 17.0, "regime": "normal"})
    fl = {"network": net, "simulator": "hwsnn", "synapse": "float", "ms_per_sample": 4.0, "cpu_ms_per_sample": 3.0,
          "speedup_vs_brian2": rt_ms / 4.0, "speedup_cpu": rt_cpu / 3.0}
    xb = {"network": net, "simulator": "hwsnn", "synapse": "sto_all_nonideal", "ms_per_sample": 5.0,
          "cpu_ms_per_sample": 6.0, "speedup_vs_brian2": rt_ms / 5.0, "speedup_cpu": rt_cpu / 6.0}
    return [rt, sa, fl, xb]


def test_standalone_row_and_ratios():
    rows = snn.add_standalone_ratios(_rows_for() + _rows_for("64x100", sa_ms=100.0))
    sa = rows[1]
    assert sa["device"] == "cpp_standalone" and sa["simulator"] == "brian2" and sa["synapse"] == "float"
    assert "OpenMP 2 threads" in sa["target"] and sa["compile_s"] == 40.0 and sa["samples"] == 21
    assert sa["speedup_vs_brian2"] == pytest.approx(2.5) and sa["speedup_cpu"] == pytest.approx(250 / 300)
    assert sa["ms_median"] is None  # one build: no per-sample wall times
    fl, xb = rows[2], rows[3]
    assert fl["speedup_vs_standalone"] == pytest.approx(50.0) and xb["speedup_vs_standalone"] == pytest.approx(40.0)
    assert fl["speedup_cpu_vs_standalone"] == pytest.approx(100.0)
    assert rows[6]["speedup_vs_standalone"] == pytest.approx(25.0)  # each network against its own build
    assert "speedup_vs_standalone" not in rows[0] and "speedup_vs_standalone" not in rows[1]
    # the serial (no OpenMP) information row is not the ratio's reference
    rt, sa2, fl2, xb2 = _rows_for()
    serial = snn.standalone_row("784x400", {"ms_per_sample": 10.0, "cpu_ms_per_sample": 10.0, "openmp_threads": 0,
                                            "n_samples": 21, "codegen_target_used": ["CPPStandaloneCodeObject"],
                                            "compile_s": 30.0}, rt, {"exc_spikes_per_sample": 17.0, "regime": "normal"})
    assert serial["openmp_threads"] == 0 and "no OpenMP" in serial["target"]
    snn.add_standalone_ratios([rt, sa2, serial, fl2, xb2])
    assert fl2["speedup_vs_standalone"] == pytest.approx(50.0)
    # no standalone row (e.g. disabled): hwsnn rows get no standalone ratio
    lone = snn.add_standalone_ratios([r for i, r in enumerate(_rows_for()) if i != 1])
    assert all("speedup_vs_standalone" not in r for r in lone)


def test_targets_bookkeeping():
    rows = snn.add_standalone_ratios(_rows_for(rt_ms=600.0, sa_ms=240.0))
    rows.append(snn.scaling_row(784, 400, {"samples": 3, "ms_per_sample": 99.0, "ms_per_sample_median": 99.0,
                                            "cpu_ms_per_sample": 99.0, "exc_spikes_per_sample": 5.0,
                                            "regime": "normal"}))
    t = snn._targets(rows, "784x400")
    assert t["float_speedup"] == pytest.approx(150.0) and t["float_ok"]  # the scaling row is not picked
    assert t["crossbar_speedup"] == pytest.approx(120.0) and t["crossbar_ok"]
    assert t["float_speedup_vs_standalone"] == pytest.approx(60.0) and t["float_standalone_ok"]
    assert t["crossbar_over_float_time"] == pytest.approx(1.25) and t["crossbar_over_float_ok"]
    assert (t["float_target"], t["crossbar_target"], t["float_standalone_target"]) == (100.0, 50.0, 50.0)
    # every key of the previous schema is still there
    assert {"network", "float_speedup", "float_target", "crossbar_speedup", "crossbar_target", "float_speedup_cpu",
            "crossbar_speedup_cpu", "float_ok", "crossbar_ok"} <= set(t)
    assert t["fastest_standalone_ms"] == 240.0 and t["fastest_standalone_threads"] == 2
    rt, sa2, fl2, xb2 = _rows_for(rt_ms=600.0, sa_ms=240.0)
    serial = dict(sa2, openmp_threads=0, ms_per_sample=20.0)
    t2 = snn._targets(snn.add_standalone_ratios([rt, sa2, serial, fl2, xb2]), "784x400")
    assert t2["float_speedup_vs_standalone"] == pytest.approx(60.0)  # the OpenMP column
    assert t2["fastest_standalone_threads"] == 0 and t2["float_speedup_vs_fastest_standalone"] == pytest.approx(5.0)
    assert t2["crossbar_speedup_vs_fastest_standalone"] == pytest.approx(4.0)
    none = snn._targets(rows, "64x100")
    assert none["float_speedup"] is None and not none["float_ok"] and not none["float_standalone_ok"]


def test_standalone_agreement_bookkeeping():
    c, dw = _synthetic(n_in=30)
    rng = np.random.default_rng(3)
    w0 = rng.random(dw.shape)
    runtime = {"counts": c, "w0": w0, "w_final": w0 + dw}
    c2, dw2 = _synthetic(seed=7, n_in=30)  # other Poisson trains, same statistics
    same = {"counts": c2, "w0": w0.copy(), "w_final": w0 + dw2}
    r = snn.standalone_agreement(runtime, same, "64x100")
    assert r["variant"] == "standalone_vs_runtime" and r["mode"] == "statistical" and r["ok"], r
    assert r["regime_runtime"] == r["regime_standalone"] and r["samples"] == c.shape[0]
    assert r["checks"]["same_initial_weights"] and r["checks"]["same_regime"]
    assert set(r["checks"]) == {"spikes_per_sample", "dw_mean_abs", "frac_potentiated", "same_regime",
                                "same_initial_weights"}
    busy = {"counts": 2 * c2, "w0": w0, "w_final": w0 + dw2}  # twice the activity: another network
    b = snn.standalone_agreement(runtime, busy, "64x100")
    assert not b["ok"] and not b["checks"]["spikes_per_sample"] and b["spikes_per_sample_z"] > 10
    other_w0 = {"counts": c2, "w0": w0 + 0.01, "w_final": w0 + 0.01 + dw2}
    m = snn.standalone_agreement(runtime, other_w0, "64x100")
    assert not m["ok"] and not m["checks"]["same_initial_weights"]


def test_spikes_per_sample_z_accepts_bursty_but_consistent_counts():
    assert snn.spikes_per_sample_z([1, 2, 3], [1, 2, 3]) == 0.0
    assert snn.spikes_per_sample_z([5], [5, 6]) is None
    assert snn.spikes_per_sample_z([4, 4], [5, 5]) == float("inf")
    # bursty D&C-like per-sample totals: 19 % apart in total, but 1.5 standard errors
    a = np.array([26, 12, 10, 36, 10, 19, 22, 25, 11, 11, 14, 43, 12, 17, 19, 15, 22, 18, 10, 7, 7])
    b = np.array([18, 10, 7, 16, 10, 16, 17, 21, 11, 14, 13, 26, 11, 15, 21, 13, 15, 15, 9, 9, 8])
    z = snn.spikes_per_sample_z(a, b)
    assert 1.0 < z < snn.STANDALONE_SPIKES_Z_MAX
    counts_a = np.zeros((21, 10), int)
    counts_b = np.zeros((21, 10), int)
    counts_a[:, 0], counts_b[:, 0] = a, b
    dw = np.full((3, 10), 0.01)
    w0 = np.zeros((3, 10))
    r = snn.standalone_agreement({"counts": counts_a, "w0": w0, "w_final": w0 + dw},
                                 {"counts": counts_b, "w0": w0, "w_final": w0 + dw}, "784x400")
    assert r["total_spikes_rel_diff"] > snn.AGREEMENT_TOLERANCE.stat_total_spikes_rel
    assert r["checks"]["spikes_per_sample"] and r["ok"]


def test_scaling_rows_bookkeeping(monkeypatch):
    seen = []

    def _fake_inputs(n_in, n, seed):
        return np.zeros((n, n_in))

    def _fake_time(cfg, x, seed):
        n = cfg.network.n_exc
        seen.append((snn.n_inputs(cfg), n, len(x), cfg.synapse.backend))
        return {"samples": len(x) - 1, "ms_per_sample": 0.01 * n, "ms_per_sample_median": 0.01 * n,
                "cpu_ms_per_sample": 0.02 * n, "exc_spikes_per_sample": 20.0, "regime": "normal"}

    monkeypatch.setattr(snn, "_inputs", _fake_inputs)
    monkeypatch.setattr(snn, "_time_hwsnn_scaling", _fake_time)
    rows = snn.scaling_rows(784, snn.SCALING_SIZES, n_samples=4, seed=0)
    assert snn.SCALING_SIZES == (100, 400, 1600, 6400)
    assert seen == [(784, n, 5, "ideal") for n in snn.SCALING_SIZES]  # one untimed + 4 timed samples each
    assert [r["network"] for r in rows] == ["784x100", "784x400", "784x1600", "784x6400"]
    assert all(r["section"] == "scaling" and r["simulator"] == "hwsnn" and r["synapse"] == "float" for r in rows)
    assert [r["synapses"] for r in rows] == [78400, 313600, 1254400, 5017600]
    assert [r["synapses_rel"] for r in rows] == [1.0, 4.0, 16.0, 64.0]
    assert rows[-1]["ms_rel"] == pytest.approx(64.0) and rows[-1]["spikes_rel"] == pytest.approx(1.0)
    assert rows[0]["samples"] == 4 and rows[0]["spikes_per_sample"] == 20.0
    assert snn.add_scaling_relatives([]) == []


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
                      hwsnn_overrides={"rules[0].nu_post": 0.02})
    assert not m["ok"] and not m["checks"]["dw_mean_abs"]


@pytest.mark.slow
def test_agreement_learning_off_and_inhibition_mutant(brian2_python, tmp_path):
    r = snn.agreement(64, 100, 6, "learning_off", tmp_path, python=brian2_python)
    assert r["ok"] and r["count_entries_equal_frac"] == 1.0
    m = snn.agreement(64, 100, 6, "learning_off", tmp_path, python=brian2_python,
                      hwsnn_overrides={"network.w_ie": 8.5})
    assert not m["ok"] and m["total_spikes"][0] > m["total_spikes"][1]


@pytest.mark.slow
def test_agreement_dc_conventions_statistical(brian2_python, tmp_path):
    r = snn.agreement(64, 100, 10, "learning_on_dc", tmp_path, python=brian2_python)
    assert r["mode"] == "statistical" and r["ok"], r


@pytest.mark.slow
def test_standalone_build_matches_runtime(brian2_python, tmp_path):
    """One C++ standalone build (OpenMP) runs the same network as the runtime device (compiles: slow)."""
    cfg = snn.bench_config(64, 100)
    x = snn._inputs(64, 8, 0)
    inp = tmp_path / "rates.npz"
    snn._save_npz(inp, rates_hz=np.clip(x, 0, 1) * cfg.schedule.max_rate)
    out = {}
    for dev in ("runtime", "cpp_standalone"):
        job = snn._job(cfg, n_samples=8, seed=0, learn=True, inputs_file=inp, out_stem=tmp_path / dev, device=dev,
                       openmp_threads=2)
        out[dev] = snn.run_brian2(job, tmp_path, brian2_python)
    summ, arr = out["cpp_standalone"]
    assert summ["device"] == "cpp_standalone" and summ["openmp_threads"] == 2
    assert summ["codegen_target_used"] == ["CPPStandaloneCodeObject"]
    assert summ["compile_s"] > 0 and summ["ms_per_sample"] > 0 and summ["network_run_s"] <= summ["run_binary_s"]
    assert out["runtime"][0]["device"] == "runtime"
    # normalisation inside the build: every column sums to w_sum before each sample, as in runtime
    np.testing.assert_allclose(arr["w_final"].mean(), out["runtime"][1]["w_final"].mean(), rtol=0.02)
    r = snn.standalone_agreement(out["runtime"][1], arr, "64x100")
    assert r["ok"], r
    # identical input rasters: the standalone build is the runtime network spike for spike
    e = snn.standalone_raster_agreement(64, 100, 4, tmp_path, python=brian2_python)
    assert e["variant"] == "standalone_vs_runtime_raster" and e["ok"], e
    assert e["count_entries_equal_frac"] == 1.0 and e["dw_max_abs_diff"] < 1e-9


@pytest.mark.slow
def test_quick_suite_smoke(brian2_python, tmp_path):
    res = snn.run(quick=True, out_dir=tmp_path)
    rows = [r for r in res["table"] if r["section"] == "speed"]
    assert {(r["simulator"], r["synapse"], r.get("device")) for r in rows} == {
        ("brian2", "float", "runtime"), ("brian2", "float", "cpp_standalone"), ("hwsnn", "float", None),
        ("hwsnn", "sto_all_nonideal", None)}
    b = next(r for r in rows if r["simulator"] == "brian2")
    assert "CythonCodeObject" in b["target"] and b["ms_median"] > 0
    sa = next(r for r in rows if r.get("device") == "cpp_standalone")
    assert "CPPStandaloneCodeObject" in sa["target"] and sa["ms_per_sample"] > 0 and sa["compile_s"] > 0
    h = next(r for r in rows if r["simulator"] == "hwsnn" and r["synapse"] == "float")
    assert h["speedup_vs_brian2"] > 10 and h["regime"] == "normal" and h["speedup_vs_standalone"] > 0
    assert [a["variant"] for a in res["agreement"]] == ["learning_on_exact", "standalone_vs_runtime"]
    assert res["agreement"][0]["ok"]  # spike for spike; the standalone check is statistical on 4 samples
    scal = [r for r in res["table"] if r["section"] == "scaling"]
    assert [r["network"] for r in scal] == ["784x100", "784x400"] == [r["network"] for r in res["scaling"]["rows"]]
    assert res["brian2"]["64x100"]["brian2_standalone"]["compile_s"] > 0
    import json

    from hwsnn.io import to_jsonable

    json.dumps(to_jsonable(res))  # JSON-able
    assert (tmp_path / "snn_brian2").is_dir()
