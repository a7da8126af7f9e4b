"""A fast, deterministic stand-in for the sweep's unit of work (importable by spawned workers)."""

import os
import time


def expected_accuracy(values: dict, seed: int) -> float:
    return (sum(float(v) for v in values.values()) * 1e-3 + seed % 997) / 1000.0


def fake_unit(task):
    time.sleep(float(os.environ.get("FAKE_UNIT_SLEEP", "0")))
    row = {k: task[k] for k in ("point", "repeat", "seed", "config_hash")}
    row.update(task["values"])
    if task["point"] in {int(p) for p in os.environ.get("FAKE_UNIT_FAIL", "").split(",") if p}:
        row.update(status="failed", error="ValueError: planned failure")
    else:
        row.update(status="ok", error="", accuracy=expected_accuracy(task["values"], task["seed"]))
    row.update(host="test", pid=os.getpid(), started=time.time(), wall_s=0.0)
    return row
