"""RTL bench throughput: checked cycles per second of every cocotb bench on each simulator."""

from __future__ import annotations

from pathlib import Path

__all__ = ["run"]


def run(quick: bool, out_dir: Path) -> dict:
    from hwsnn.hw.verify import verify

    cycles = 5000 if quick else 50000
    rows = verify(cycles=cycles, seed=11)
    table = [
        {
            "unit": r["unit"], "sim": r["sim"], "status": r["status"], "cycles": r["cycles"],
            "seconds": r.get("seconds", 0.0), "cycles_per_s": r.get("cycles_per_s", 0),
            "target_cycles_per_s": 15000 if r["sim"] == "verilator" else None,
        }
        for r in rows
    ]
    return {"suite": "rtl", "cycles_per_bench": cycles, "table": table}
