"""Run the cocotb benches of the RTL units (``hwsnn rtl verify``).

The benches live in the repository's ``sim/`` folder next to the package; they need a
checkout (or an editable install), not just the installed wheel.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from hwsnn.errors import ConfigError, HwsnnError, ToolMissingError
from hwsnn.hw.export import UNITS, build, to_verilog
from hwsnn.spec.units import UNIT_PARAMS

__all__ = ["BENCHES", "sim_package", "verify_unit", "verify"]

BENCHES = {name: f"tb_{name}" for name in UNITS}
"""Unit -> cocotb test module in ``sim/``."""

_REPO = Path(__file__).resolve().parents[2]


def sim_package():
    """Import ``sim.runner`` from the checkout this package lives in."""
    if not (_REPO / "sim" / "runner.py").is_file():
        raise HwsnnError(
            f"the cocotb benches (sim/) are not next to this installation ({_REPO}); run from a source checkout "
            "installed with 'pip install -e .'"
        )
    if str(_REPO) not in sys.path:
        sys.path.insert(0, str(_REPO))
    return importlib.import_module("sim.runner")


def verify_unit(unit: str, sim: str, *, params=None, cycles: int = 20000, seed: int = 1, **mutant):
    """Build ``unit`` (default or given params, optional mutant kwargs) and run its bench on ``sim``."""
    if unit not in UNITS:
        raise ConfigError("unit", f"unknown RTL unit {unit!r}; known: {', '.join(UNITS)}")
    if cycles < 1:
        raise ConfigError("--cycles", f"must be >= 1, not {cycles}")
    runner = sim_package()
    p = params if params is not None else UNIT_PARAMS[unit]()
    verilog = to_verilog(build(unit, p, **mutant), unit)
    return runner.run_bench(
        unit=unit, verilog=verilog, test_module=BENCHES[unit], sim=sim, params=p.as_dict(), cycles=cycles, seed=seed
    )


def verify(units=None, sims=("verilator", "icarus"), cycles: int = 20000, seed: int = 1, on_result=None) -> list:
    """Run every (unit, simulator) pair; a missing simulator yields a skipped row, not a failure."""
    rows = []
    for sim in sims:
        for unit in units or list(UNITS):
            try:
                r = verify_unit(unit, sim, cycles=cycles, seed=seed)
                row = {
                    "unit": unit, "sim": sim, "status": "PASS" if r.passed else "FAIL", "cycles": r.cycles,
                    "seconds": round(r.seconds, 3), "cycles_per_s": round(r.cycles_per_second),
                    "mismatch": r.report.get("mismatch"),
                }
                if not r.passed:
                    row["log_tail"] = r.log_tail()
            except ToolMissingError as exc:
                row = {"unit": unit, "sim": sim, "status": "SKIP", "reason": str(exc), "cycles": 0}
            except ModuleNotFoundError as exc:
                row = {"unit": unit, "sim": sim, "status": "FAIL", "reason": f"not implemented: {exc}", "cycles": 0}
            rows.append(row)
            if on_result:
                on_result(row)
    return rows
