"""Sweeps: spec validation, designs, derived seeds, the results store, resume, failures, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hwsnn.errors import ConfigError, HwsnnError
from hwsnn.io import TMP_MARK
from hwsnn.sweep import derive_seed, design_points, parse_spec, plan_units, read_results, run_sweep
from hwsnn.sweep.spec import SweepSpec, unit_cube

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fake_unit import expected_accuracy, fake_unit  # noqa: E402

TINY = {"task.n_train": 20, "task.n_test": 20, "task.epochs": 1, "task.baseline": "none", "task.kmeans": False,
        "task.curve_points": 1, "network.n_exc": 6, "synapse.backend": "ideal"}


def spec(**kw):
    d = {"base": "default", "set": dict(TINY), "axes": [{"path": "network.efficacy", "values": [1.0, 2.0, 3.0]}]}
    d.update(kw)
    return parse_spec(d)


# ---------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("doc, field, text", [
    ({"axes": [{"path": "network.efficacy", "values": [1.0]}, {"path": "network.w_inh_total", "values": [3000.0]},
               {"path": "synapse.device.nu_mean", "values": [0.1]}]},
     "axes[2].path", "no field 'synapse.device.nu_mean'"),
    ({"axes": [{"path": "network.efficacy", "values": [1.0, -1.0]}]}, "axes[0].values[1]",
     "network.efficacy: must be >= 0"),
    ({"axes": [{"path": "network.w_max", "values": [1.0, 0.1]}]}, "points[1]", "network.w_init_max: must be <="),
    ({"axes": [{"path": "network.efficacy", "low": 1.0}]}, "axes[0].values", "is required"),
    ({"axes": [{"path": "network.efficacy", "low": 1.0, "high": 2.0}]}, "axes[0].n", "is required"),
    ({"design": "lhs", "axes": [{"path": "network.efficacy", "low": 1.0, "high": 2.0}]}, "samples", "required"),
    ({"repeats": 0}, "repeats", "must be >= 1"),
    ({"bogus": 1}, "bogus", "unknown field"),
    ({"metrics": ["acc"]}, "metrics", "unknown metric 'acc'"),
    ({"set": {**TINY, "task.seeds": [1]}, "repeats": 2}, "repeats", "must be 1"),
    ({"set": {**TINY, "network.n_exc": 0}}, "set.network.n_exc", "must be >= 1"),
    ({"base": "no_such_config"}, "base", "no config file"),
    ({"axes": [{"path": "network.efficacy", "values": [1.0]}, {"path": "network.efficacy", "values": [2.0]}]},
     "axes[1].path", "swept twice"),
])
def test_spec_errors_name_the_field(doc, field, text):
    with pytest.raises(ConfigError) as ei:
        plan_units(spec(**doc))
    assert ei.value.field == field, str(ei.value)
    assert text in ei.value.message, str(ei.value)


# ---------------------------------------------------------------------------------------------- designs
def test_grid_is_the_cartesian_product_first_axis_slowest():
    s = SweepSpec(axes=[{"path": "a", "values": [1, 2, 3]}, {"path": "b", "low": 1.0, "high": 100.0, "n": 3,
                                                             "log": True}])
    pts = design_points(s)
    assert len(pts) == 9
    assert pts[:3] == [(1, 1.0), (1, 10.0), (1, 100.0)] or np.allclose([p[1] for p in pts[:3]], [1, 10, 100])
    assert [p[0] for p in pts] == [1, 1, 1, 2, 2, 2, 3, 3, 3]


@pytest.mark.parametrize("n, d", [(7, 1), (20, 3), (64, 2)])
def test_lhs_stratifies_every_axis(n, d):
    u = unit_cube("lhs", n, d, seed=11)
    assert u.shape == (n, d) and np.all((u >= 0) & (u < 1))
    for k in range(d):  # each of the n equal strata of every axis holds exactly one point
        assert sorted(np.floor(u[:, k] * n).astype(int)) == list(range(n))
    assert np.array_equal(u, unit_cube("lhs", n, d, seed=11))
    assert not np.array_equal(u, unit_cube("lhs", n, d, seed=12))


def test_lhs_stratifies_a_discrete_axis_and_maps_continuous_ones():
    s = SweepSpec(design="lhs", samples=8, seed=4, axes=[{"path": "a", "values": list("abcdefgh")},
                                                        {"path": "b", "low": 2.0, "high": 4.0}])
    pts = design_points(s)
    assert sorted(p[0] for p in pts) == list("abcdefgh")
    assert all(2.0 <= p[1] <= 4.0 for p in pts)
    r = design_points(SweepSpec(design="random", samples=50, seed=4, axes=[{"path": "b", "low": 1.0, "high": 1e3,
                                                                            "log": True, "integer": True}]))
    assert all(isinstance(p[0], int) and 1 <= p[0] <= 1000 for p in r)


# ---------------------------------------------------------------------------------------------- seeds
def test_derived_seeds_are_distinct_stable_and_in_range():
    seeds = {derive_seed(0, i, r) for i in range(200) for r in range(10)}
    assert len(seeds) == 2000
    assert all(0 <= s < 2**31 for s in seeds)
    # stable across releases and machines: pinned values of SeedSequence([0, 0, 0]) etc.
    ref = [int(np.random.SeedSequence([s, i, r]).generate_state(1, np.uint32)[0]) & 0x7FFFFFFF
           for s, i, r in [(0, 0, 0), (7, 3, 1)]]
    assert [derive_seed(0, 0, 0), derive_seed(7, 3, 1)] == ref
    assert derive_seed(0, 1, 0) != derive_seed(1, 0, 0)


def test_units_carry_their_seed_in_the_config_and_distinct_hashes():
    units = plan_units(spec(repeats=3))
    assert len(units) == 9
    assert all(u.config["task"]["seeds"] == [u.seed] for u in units)
    assert len({u.config_hash for u in units}) == 9
    assert [u.config_hash for u in plan_units(spec(repeats=3))] == [u.config_hash for u in units]


# ---------------------------------------------------------------------------------------------- store
def _check_rows(df, units):
    assert sorted(zip(df["point"], df["repeat"])) == sorted(u.key for u in units)  # each unit exactly once
    for u in units:
        row = df[(df["point"] == u.point) & (df["repeat"] == u.repeat)].iloc[0]
        assert row["seed"] == u.seed and row["config_hash"] == u.config_hash
        assert row["accuracy"] == expected_accuracy({"network.efficacy": u.values[0]}, u.seed)


def test_store_resume_retry_failed(tmp_path, monkeypatch):
    rs = spec(repeats=2)
    units = plan_units(rs)
    monkeypatch.setenv("FAKE_UNIT_FAIL", "1")
    rep = run_sweep(rs, tmp_path, workers=0, progress=False, unit=fake_unit)
    assert (rep.ran, rep.ok, rep.failed) == (6, 4, 2)
    df = pd.read_parquet(tmp_path)  # the one-line read
    assert len(df) == 6 and set(df[df["status"] == "failed"]["point"]) == {1}
    assert (df[df["status"] == "failed"]["error"] == "ValueError: planned failure").all()
    assert df[df["status"] == "failed"]["accuracy"].isna().all()
    rep = run_sweep(rs, tmp_path, workers=0, progress=False, unit=fake_unit)
    assert (rep.skipped, rep.ran) == (6, 0)  # resume: nothing to do, failed units kept
    monkeypatch.delenv("FAKE_UNIT_FAIL")
    rep = run_sweep(rs, tmp_path, workers=0, progress=False, unit=fake_unit, retry_failed=True)
    assert (rep.skipped, rep.ran, rep.ok) == (4, 2, 2)
    df = pd.read_parquet(tmp_path)
    assert (df["status"] == "ok").all()
    _check_rows(df, units)
    assert not list(tmp_path.rglob(f"*{TMP_MARK}*"))
    # result files get normal permissions (0o666 minus the umask), like every other hwsnn output
    umask = os.umask(0)
    os.umask(umask)
    for f in [tmp_path / "results.parquet", tmp_path / "_spec.json", *(tmp_path / "_points").glob("*")]:
        assert f.stat().st_mode & 0o777 == 0o666 & ~umask, f


def test_store_flushes_each_point_to_disk_before_it_counts(tmp_path, monkeypatch):
    # a resumed sweep trusts every point file: each one is fsynced before its rename, and the
    # folder entry after it
    synced = []
    real = os.fsync

    def spy(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    run_sweep(spec(), tmp_path, workers=0, progress=False, unit=fake_unit)
    points = sorted((tmp_path / "_points").glob("p*.parquet"))
    assert points
    assert sum(TMP_MARK in s and "/_points/" in s for s in synced) == len(points)
    assert sum(s.endswith("/_points") for s in synced) == len(points)


def test_store_refuses_another_spec_and_a_second_writer(tmp_path):
    run_sweep(spec(), tmp_path, workers=0, progress=False, unit=fake_unit)
    with pytest.raises(HwsnnError, match="different sweep spec"):
        run_sweep(spec(repeats=2), tmp_path, workers=0, progress=False, unit=fake_unit)
    from filelock import FileLock

    with FileLock(str(tmp_path / "_lock")):
        # the lock is per process in filelock; take it from another process
        code = ("import sys; sys.path.insert(0, %r); from fake_unit import fake_unit; from test_sweep import spec; "
                "from hwsnn.sweep import run_sweep; run_sweep(spec(), %r, workers=0, progress=False, unit=fake_unit)"
                % (str(HERE), str(tmp_path)))
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=HERE)
        assert r.returncode != 0 and "another sweep is writing" in r.stderr


def test_a_raising_point_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    import hwsnn.tasks.run as run_mod

    real = run_mod.run_experiment

    def flaky(cfg, out, *a, **kw):
        if cfg.network.efficacy == 2.0:
            raise RuntimeError("device exploded")
        return real(cfg, out, *a, **kw)

    monkeypatch.setattr(run_mod, "run_experiment", flaky)
    rs = spec(axes=[{"path": "network.efficacy", "values": [1.0, 2.0]}])
    rep = run_sweep(rs, tmp_path, workers=0, progress=False)
    assert (rep.ok, rep.failed) == (1, 1)
    df = read_results(tmp_path)
    bad = df[df["point"] == 1].iloc[0]
    assert bad["status"] == "failed" and bad["error"].startswith("RuntimeError: device exploded")
    good = df[df["point"] == 0].iloc[0]
    assert good["status"] == "ok" and 0.0 <= good["accuracy"] <= 1.0 and good["samples"] == 20


# ---------------------------------------------------------------------------------------------- kill -9
def test_sigkill_at_any_moment_loses_nothing_and_resume_completes(tmp_path):
    """A running sweep (2 process-pool workers) is killed with SIGKILL at several moments; the
    store stays readable, every stored unit survives, and resuming runs each unit exactly once."""
    rs_doc = dict(axes=[{"path": "network.efficacy", "values": [float(v) for v in range(1, 13)]}], repeats=2)
    units = plan_units(spec(**rs_doc))
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(HERE)!r})
        from fake_unit import fake_unit
        from test_sweep import spec
        from hwsnn.sweep import run_sweep
        run_sweep(spec(**{rs_doc!r}), {str(tmp_path)!r}, workers=2, progress=False, unit=fake_unit,
                  compact_every=0.0)
    """)
    env = {**os.environ, "FAKE_UNIT_SLEEP": "0.15"}
    seen = 0
    for target, extra in ((3, 0.0), (8, 0.07), (14, 0.13)):
        p = subprocess.Popen([sys.executable, "-c", code], cwd=HERE, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90
        while len(list((tmp_path / "_points").glob("p*.parquet"))) < target and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(extra)  # land at different moments of a unit's write / compaction
        os.killpg(p.pid, signal.SIGKILL)  # the driver and its workers, at once
        p.wait()
        if (tmp_path / "results.parquet").exists():
            pd.read_parquet(tmp_path)  # never unreadable
        df = read_results(tmp_path)
        assert df[["point", "repeat"]].duplicated().sum() == 0
        assert len(df) >= seen  # no stored unit lost
        seen = len(df)
    assert 0 < seen < len(units), "the kills should land mid-sweep"
    rep = run_sweep(spec(**rs_doc), tmp_path, workers=0, progress=False, unit=fake_unit)
    assert rep.skipped == seen and rep.ran == len(units) - seen
    df = pd.read_parquet(tmp_path)
    _check_rows(df, units)


# ---------------------------------------------------------------------------------------------- determinism
METRIC_COLS = ["accuracy", "train_accuracy", "mean_test_spikes", "samples", "reruns"]


def _metrics(root):
    df = read_results(root)
    assert (df["status"] == "ok").all(), df["error"].tolist()
    return df.set_index(["point", "repeat"])[["seed", "config_hash", *METRIC_COLS]].sort_index()


def test_same_metrics_in_process_and_on_dask_threads(tmp_path):
    """Real runs: this process vs a 2-thread in-process Dask cluster (units finish in any order)."""
    from distributed import LocalCluster

    rs = spec(axes=[{"path": "network.efficacy", "values": [1.5, 2.5]}], repeats=2)
    run_sweep(rs, tmp_path / "inline", workers=0, progress=False)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        run_sweep(rs, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    a, b = _metrics(tmp_path / "inline"), _metrics(tmp_path / "dask")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a["accuracy"].nunique() > 1  # the units really differ (seeds, efficacy)


@pytest.mark.slow
def test_same_metrics_on_process_pools_of_1_and_2_workers_and_local_dask(tmp_path):
    rs = spec(axes=[{"path": "network.efficacy", "values": [1.5, 2.5]}], repeats=2)
    run_sweep(rs, tmp_path / "p1", workers=1, progress=False)
    run_sweep(rs, tmp_path / "p2", workers=2, progress=False)
    run_sweep(rs, tmp_path / "d2", dask_local=2, progress=False)
    ref = _metrics(tmp_path / "p1")
    for other in ("p2", "d2"):
        pd.testing.assert_frame_equal(ref, _metrics(tmp_path / other), check_exact=True)


def test_driver_warms_the_kernel_caches_once_before_local_workers(tmp_path, monkeypatch):
    # on a cold cache every spawned worker would compile the same kernels at the same time
    import hwsnn.sweep.runner as runner
    import hwsnn.sweep.work as work

    calls = []
    monkeypatch.setattr(runner, "warm_kernels", lambda cfg: calls.append(cfg) or 0.0)
    monkeypatch.setattr(runner, "run_unit", fake_unit)  # the real unit, as far as the driver can tell
    rs = spec()
    run_sweep(rs, tmp_path / "pool", workers=1, progress=False, unit=fake_unit, log=lambda m: None)
    assert len(calls) == 1 and calls[0] == plan_units(rs)[0].config
    run_sweep(rs, tmp_path / "inline", workers=0, progress=False, unit=fake_unit, log=lambda m: None)
    assert len(calls) == 1  # in-process units compile in the driver anyway

    # the warm-up itself is a two-sample run of the unit's config
    seen = []
    monkeypatch.setattr("hwsnn.tasks.run.run_experiment", lambda cfg, out, figures=True: seen.append(cfg))
    work.warm_kernels(plan_units(rs)[0].config)
    (cfg,) = seen
    assert (cfg.task.n_train, cfg.task.n_test, cfg.task.epochs, len(cfg.task.seeds)) == (2, 2, 1, 1)
    assert cfg.network.n_exc == 6 and cfg.synapse.backend == "ideal"


def test_paired_spec_gives_each_repeat_one_seed_at_every_point():
    plain, paired = plan_units(spec(repeats=2)), plan_units(spec(repeats=2, paired=True))
    assert len({u.seed for u in plain}) == 6  # a seed per (point, repeat)
    assert {u.repeat: u.seed for u in paired} == {0: derive_seed(0, 0, 0), 1: derive_seed(0, 0, 1)}
    assert all(u.seed == derive_seed(0, 0, u.repeat) for u in paired)
    assert [u.config_hash for u in plain] != [u.config_hash for u in paired]
