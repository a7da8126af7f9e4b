"""Verilog export: one self-contained file per registered unit, deterministic text.

The units, their components and parameter classes come from :mod:`hwsnn.hw.registry`.
Source-location attributes are not emitted, so the text depends only on the design and the
Amaranth/Yosys versions, not on where the checkout lives.
"""

from __future__ import annotations

from pathlib import Path

from hwsnn.hw.registry import REGISTRY, get
from hwsnn.io import write_text

__all__ = ["UNITS", "component_class", "build", "to_verilog", "generate"]

UNITS = REGISTRY
"""The registry (unit name -> :class:`~hwsnn.hw.registry.UnitRecord`), in generation order."""


def component_class(name: str):
    """The component class of unit ``name``."""
    return get(name).component_class()


def build(name: str, params=None, **kwargs):
    """Instantiate unit ``name`` from a parameter dataclass (default parameters if ``None``).

    Extra ``kwargs`` go to the constructor (used by tests to build deliberate mutants).
    """
    return get(name).build(params, **kwargs)


def to_verilog(component, name: str) -> str:
    """Verilog text of ``component`` with top module ``name`` (no source-location attributes)."""
    from amaranth.back import verilog

    return verilog.convert(component, name=name, emit_src=False)


def generate(out_dir: str | Path, units: list[str] | None = None, params: dict | None = None) -> list[Path]:
    """Write ``<out_dir>/<unit>.v`` for each unit (all by default), with default or given params."""
    out = Path(out_dir)
    written = []
    for name in units or list(REGISTRY):
        p = (params or {}).get(name)
        text = to_verilog(build(name, p), name)
        written.append(write_text(out / f"{name}.v", text))
    return written
