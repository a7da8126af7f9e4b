"""Smoke test of the device benchmark harness (numbers are not asserted: the CPU is shared)."""

import json

from hwsnn.bench.devices import BYTES_PER_UPDATE, run


def test_quick_run_reports_every_comparison(tmp_path):
    res = run(quick=True, out_dir=tmp_path)
    json.dumps(res)  # JSON-able
    assert res["shape"] == [256, 256] and res["copy_bandwidth_GBps"] > 0.1
    ops = {r["op"]: r for r in res["table"]}
    assert set(ops) == set(BYTES_PER_UPDATE)
    for r in ops.values():
        for k in ("numba_s_2thr", "numba_s_1thr", "numpy_s"):
            assert r[k] > 0
        assert r["speedup_vs_numpy"] == r["numpy_s"] / r["numba_s_2thr"]
        assert 0 < r["fraction_of_bound"] == r["updates_per_s"] / r["bandwidth_bound_updates_per_s"]
    assert ops["pulse_1pct"]["updates"] == 655
