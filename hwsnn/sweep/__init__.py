"""Sweeps of config fields (device non-idealities, periphery, rules, sizes, seeds) at scale.

* :mod:`hwsnn.sweep.spec` -- the spec (base config + axes + design + repeats), validated up front;
  designs ``grid`` / ``random`` / ``lhs``; derived seeds;
* :mod:`hwsnn.sweep.work` -- the unit of work (resolved config -> row, the call ``hwsnn run``
  makes) and the executors (local process pool, Dask);
* :mod:`hwsnn.sweep.store` -- the resumable, kill-safe Parquet results folder;
* :mod:`hwsnn.sweep.runner` -- :func:`run_sweep`;
* :mod:`hwsnn.sweep.plot` -- figures of a results folder.

>>> from hwsnn.sweep import load_spec, run_sweep, read_results   # doctest: +SKIP
>>> run_sweep(load_spec("weight_levels"), "runs/levels")          # doctest: +SKIP
>>> read_results("runs/levels")                                   # doctest: +SKIP
"""

from __future__ import annotations

from hwsnn.sweep.runner import SweepReport, run_sweep, summary_table
from hwsnn.sweep.spec import (Axis, ResolvedSpec, SweepSpec, Unit, builtin_spec_path, derive_seed, design_points,
                              load_spec, parse_spec, plan_units)
from hwsnn.sweep.store import ResultStore, read_results
from hwsnn.sweep.work import open_executor, run_unit

__all__ = ["Axis", "SweepSpec", "ResolvedSpec", "Unit", "load_spec", "parse_spec", "plan_units", "design_points",
           "derive_seed", "builtin_spec_path", "run_sweep", "SweepReport", "summary_table", "ResultStore",
           "read_results", "open_executor", "run_unit", "list_builtin_specs"]


def list_builtin_specs() -> list[str]:
    """Names of the shipped sweep specs (``hwsnn/configs/sweeps/<name>.toml``)."""
    from importlib import resources

    d = resources.files("hwsnn").joinpath("configs", "sweeps")
    return sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".toml"))
