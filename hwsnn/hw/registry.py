"""The RTL unit registry: one record per unit, read by everything that lists units.

``hwsnn rtl generate|verify|report``, :mod:`hwsnn.hw.export`, :mod:`hwsnn.hw.verify`,
:mod:`hwsnn.hw.synth`, the tests and the co-simulation take the list of units, their parameter
classes, golden models, Amaranth components, cocotb benches and deliberate mutants from
:data:`REGISTRY` -- there is no other list.

Components, golden models and mutant tables are named as ``"module:attribute"`` strings and
imported lazily, so a unit whose code is missing does not break the others.  The cocotb benches
and the mutant tables of the core live in the repository's ``sim/`` package (test
infrastructure, next to the package in a source checkout); :func:`sim_module` is the one place
that makes it importable.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

from hwsnn.errors import ConfigError, HwsnnError
from hwsnn.spec.core import LearningCoreParams
from hwsnn.spec.units import Lfsr16Params, LifStepwiseParams, StdpTraceParams, StdpUpdateParams

__all__ = ["UnitRecord", "REGISTRY", "get", "names", "repo_root", "sim_module", "sim_runner", "bench_module"]


def _load(ref: str):
    mod, attr = ref.split(":")
    obj = importlib.import_module(mod)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class UnitRecord:
    """Everything the tools need to know about one RTL unit."""

    name: str
    """Contract module name; top module of ``rtl/<name>.v``."""
    params: type
    """Parameter dataclass (:mod:`hwsnn.spec.units` / :mod:`hwsnn.spec.core`)."""
    component: str
    """``"module:Class"`` of the Amaranth component (keyword-only constructor of the params' fields)."""
    golden_reset: str
    """``"module:function"``: ``reset(params) -> state``."""
    golden_step: str
    """``"module:function"``: ``step(params, state, inputs) -> (outputs, state)``."""
    bench: str
    """cocotb test module in ``sim/`` (imported as ``sim.<bench>``)."""
    mutants: str
    """``"module:NAME"`` of the deliberate-mutant table (mutant name -> what it breaks)."""
    kind: str = "unit"
    """``unit`` (one transaction per clock, cycle bench) or ``core`` (co-simulation bench)."""

    def component_class(self):
        return _load(self.component)

    def build(self, params=None, **kwargs):
        """Instantiate the component from a parameter object (defaults if ``None``); ``kwargs``
        go to the constructor (unit mutant switches of the unit benches)."""
        p = params if params is not None else self.params()
        if not isinstance(p, self.params):
            raise ConfigError("params", f"unit {self.name} takes {self.params.__name__}, not {type(p).__name__}")
        return self.component_class()(**p.as_dict(), **kwargs)

    def golden(self):
        """``(reset, step)`` functions of the golden model."""
        return _load(self.golden_reset), _load(self.golden_step)

    def mutant_table(self) -> dict:
        mod, _ = self.mutants.split(":")
        if mod.startswith("sim."):
            sim_module()
        return dict(_load(self.mutants))

    def bench_module(self):
        sim_module()
        return importlib.import_module(f"sim.{self.bench}")


REGISTRY: dict[str, UnitRecord] = {
    r.name: r
    for r in (
        UnitRecord("lfsr16", Lfsr16Params, "hwsnn.hw.lfsr:Lfsr16", "hwsnn.golden.lfsr:lfsr16_reset",
                   "hwsnn.golden.lfsr:lfsr16_step", "tb_lfsr16", "hwsnn.hw.lfsr:LFSR_MUTANTS"),
        UnitRecord("lif_stepwise", LifStepwiseParams, "hwsnn.hw.lif_stepwise:LifStepwise",
                   "hwsnn.golden.lif_stepwise:lif_stepwise_reset", "hwsnn.golden.lif_stepwise:lif_stepwise_step",
                   "tb_lif_stepwise", "hwsnn.hw.lif_stepwise:LIF_MUTANTS"),
        UnitRecord("stdp_trace", StdpTraceParams, "hwsnn.hw.stdp:StdpTrace", "hwsnn.golden.stdp:stdp_trace_reset",
                   "hwsnn.golden.stdp:stdp_trace_step", "tb_stdp_trace", "hwsnn.hw.stdp:TRACE_MUTANTS"),
        UnitRecord("stdp_update", StdpUpdateParams, "hwsnn.hw.stdp:StdpUpdate", "hwsnn.golden.stdp:stdp_update_reset",
                   "hwsnn.golden.stdp:stdp_update_step", "tb_stdp_update", "hwsnn.hw.stdp:UPDATE_MUTANTS"),
        UnitRecord("learning_core", LearningCoreParams, "hwsnn.hw.learning_core:LearningCore",
                   "hwsnn.golden.core:core_reset", "hwsnn.golden.core:core_step", "tb_learning_core",
                   "sim.mutants_learning_core:MUTANTS", kind="core"),
    )
}
"""Unit name -> record, in generation order."""


def names(kind: str | None = None) -> list[str]:
    """Registered unit names (optionally only ``unit`` or ``core`` kinds)."""
    return [n for n, r in REGISTRY.items() if kind is None or r.kind == kind]


def get(name: str, field: str = "unit") -> UnitRecord:
    """The record of ``name``; unknown names raise ConfigError naming ``field``."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(field, f"unknown RTL unit {name!r}; known: {', '.join(REGISTRY)}") from None


def repo_root() -> Path:
    """The source checkout this package lives in (parent of ``hwsnn/``)."""
    return Path(__file__).resolve().parents[2]


def sim_module():
    """Import the repository's ``sim`` package (benches, runner, core mutants).

    The single place that puts the checkout on ``sys.path``; cocotb 2.x hands the caller's
    ``sys.path`` to the simulator process, so the benches import ``sim.*`` there as well.
    """
    root = repo_root()
    if not (root / "sim" / "runner.py").is_file():
        raise HwsnnError(
            f"the cocotb benches (sim/) are not next to this installation ({root}); run from a source checkout "
            "installed with 'pip install -e .'"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module("sim")


def sim_runner():
    """``sim.runner`` (builds and runs a cocotb bench)."""
    sim_module()
    return importlib.import_module("sim.runner")


def bench_module(name: str):
    """The cocotb bench module of unit ``name`` (``sim.tb_<name>``)."""
    return get(name).bench_module()
