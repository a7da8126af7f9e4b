"""Verilog export: one self-contained file per unit, deterministic text.

``UNITS`` maps each contract module name to its Amaranth component (imported lazily, so a unit
whose code is missing does not break the others) and its parameter class in
:mod:`hwsnn.spec.units`.  Source-location attributes are not emitted, so the text depends only
on the design and the Amaranth/Yosys versions, not on where the checkout lives.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from hwsnn.errors import ConfigError
from hwsnn.io import write_text
from hwsnn.spec.units import UNIT_PARAMS

__all__ = ["UNITS", "component_class", "build", "to_verilog", "generate"]

UNITS: dict[str, str] = {
    "lfsr16": "hwsnn.hw.lfsr:Lfsr16",
    "lif_stepwise": "hwsnn.hw.lif_stepwise:LifStepwise",
    "stdp_trace": "hwsnn.hw.stdp:StdpTrace",
    "stdp_update": "hwsnn.hw.stdp:StdpUpdate",
}
"""Contract module name -> ``"module:Class"`` of its Amaranth component."""


def component_class(name: str):
    """The component class of unit ``name``."""
    if name not in UNITS:
        raise ConfigError("unit", f"unknown RTL unit {name!r}; known: {', '.join(UNITS)}")
    mod, cls = UNITS[name].split(":")
    return getattr(importlib.import_module(mod), cls)


def build(name: str, params=None, **kwargs):
    """Instantiate unit ``name`` from a parameter dataclass (default parameters if ``None``).

    Extra ``kwargs`` go to the constructor (used by tests to build deliberate mutants).
    """
    cls = component_class(name)
    pcls = UNIT_PARAMS[name]
    p = params if params is not None else pcls()
    if not isinstance(p, pcls):
        raise ConfigError("params", f"unit {name} takes {pcls.__name__}, not {type(p).__name__}")
    return cls(**p.as_dict(), **kwargs)


def to_verilog(component, name: str) -> str:
    """Verilog text of ``component`` with top module ``name`` (no source-location attributes)."""
    from amaranth.back import verilog

    return verilog.convert(component, name=name, emit_src=False)


def generate(out_dir: str | Path, units: list[str] | None = None, params: dict | None = None) -> list[Path]:
    """Write ``<out_dir>/<unit>.v`` for each unit (all by default), with default or given params."""
    out = Path(out_dir)
    written = []
    for name in units or list(UNITS):
        p = (params or {}).get(name)
        text = to_verilog(build(name, p), name)
        written.append(write_text(out / f"{name}.v", text))
    return written
