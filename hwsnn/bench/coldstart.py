"""Cold start: the first ``hwsnn run`` / ``hwsnn device curve`` with empty kernel caches, and again warm.

Each command runs in a subprocess twice with the same fresh cache folders (``NUMBA_CACHE_DIR``
and ``HWSNN_KERNEL_CACHE`` pointing into ``out_dir``): the first run compiles every kernel it needs
(cold), the second loads them (warm).  The difference is the compile time a new user waits for
once.  ``quick`` runs one seed of ``hwsnn run`` instead of the default three.  The machine's other
load makes these wall-clock figures noisy: compare cold and warm of the same run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

NOTICE = "compiling kernels, first run only"


def _time(cmd: list[str], env: dict, log: Path) -> tuple[float, int, bool]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    log.write_text(r.stdout + "\n--- stderr ---\n" + r.stderr, encoding="utf-8")
    return dt, r.returncode, NOTICE in r.stderr


def run(quick: bool, out_dir: Path) -> dict:
    out_dir = Path(out_dir)
    exe = [sys.executable, "-m", "hwsnn"]
    commands = {
        "run": ["run", *(["--seed", "0"] if quick else []), "--no-progress"],
        "device curve": ["device", "curve"],
    }
    rows = []
    for name, args in commands.items():
        work = out_dir / ("coldstart-" + name.replace(" ", "-"))
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        env = dict(os.environ, NUMBA_CACHE_DIR=str(work / "numba"), HWSNN_KERNEL_CACHE=str(work / "kernels"),
                   HWSNN_PROGRESS="0")
        res = {}
        for phase in ("cold", "warm"):
            res[phase] = _time([*exe, *args, "--out", str(work / f"out-{phase}")], env, work / f"{phase}.log")
        rows.append({"command": f"hwsnn {name}", "cold_s": res["cold"][0], "warm_s": res["warm"][0],
                     "compile_s": res["cold"][0] - res["warm"][0],
                     "ok": res["cold"][1] == 0 and res["warm"][1] == 0,
                     "notice_cold": res["cold"][2], "notice_warm": res["warm"][2]})
    return {"table": rows, "cpus": os.cpu_count(), "quick": quick}
