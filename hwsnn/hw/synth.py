"""FPGA estimates for the RTL units: iCE40 HX8K (ct256) resources and fmax (``hwsnn rtl report``).

Flow per unit, with :func:`hwsnn.toolchain.yosys` / :func:`hwsnn.toolchain.nextpnr_ice40`
(YoWASP from pip, or system tools):

1. ``synth_ice40`` of the unit on its own, ``stat``: ``SB_LUT4``, ``SB_CARRY``, flip-flops
   (every ``SB_DFF*`` cell type);
2. ``nextpnr-ice40 --hx8k --package ct256`` of the unit on its own: ``ICESTORM_LC``;
3. place and route of a *harness* that registers every input port of the unit (reset-less
   flip-flops, no logic), so that the input-to-register paths count in fmax as they would inside
   a design (the unit's outputs are registered already).  ``fmax_mhz`` is the worst achieved
   frequency of the clock over the seeds given.

These are open-tool estimates (not vendor-tool results); they depend on the tool versions,
which the report records.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from hwsnn.errors import ConfigError, HwsnnError, ToolMissingError

__all__ = ["DEVICE", "TARGETS", "report", "synth_unit", "harness_verilog", "budget_path", "load_budget"]

DEVICE = {"family": "ice40", "device": "hx8k", "package": "ct256"}

TARGETS = {
    "lif_stepwise": {"lut4_max": 200, "fmax_min_mhz": 60.0},
    "stdp_update": {"lut4_max": 100, "fmax_min_mhz": 70.0},
    "stdp_trace": {"lut4_max": 30},
    "learning_core": {"lc_max": 7680, "bram_max": 32},
}
"""Targets on iCE40 HX8K (default parameters): issue #5 for the units; the learning core must fit
(7,680 logic cells, 32 block RAMs)."""

_FREQ_MHZ = 100  # nextpnr's target; the achieved fmax is reported whatever the target


def budget_path() -> Path:
    """The recorded resource figures (``hwsnn/hw/synth_budget.json``)."""
    return Path(__file__).with_name("synth_budget.json")


def load_budget() -> dict:
    return json.loads(budget_path().read_text())


def harness_verilog(component, name: str) -> str:
    """Verilog of ``<name>_harness``: ``component`` with every input port behind a reset-less register."""
    from amaranth import Module, Signal
    from amaranth.back import verilog
    from amaranth.hdl import Elaboratable
    from amaranth.lib.wiring import Flow

    class _Harness(Elaboratable):
        def __init__(self, dut):
            self.dut = dut
            self.ports = {}
            for pname, member in dut.signature.members.items():
                self.ports[pname] = (Signal(member.shape, name=pname), member.flow)

        def elaborate(self, platform):
            m = Module()
            m.submodules.dut = self.dut
            for pname, (sig, flow) in self.ports.items():
                port = getattr(self.dut, pname)
                if flow == Flow.In:
                    reg = Signal(port.shape(), name=f"{pname}_q", reset_less=True)
                    m.d.sync += reg.eq(sig)
                    m.d.comb += port.eq(reg)
                else:
                    m.d.comb += sig.eq(port)
            return m

    h = _Harness(component)
    return verilog.convert(h, name=f"{name}_harness", ports=[s for s, _ in h.ports.values()], emit_src=False)


def serial_harness_verilog(component, name: str) -> str:
    """Verilog of ``<name>_harness`` for a unit with more I/O bits than the package has pins (the
    learning core): every input bit comes from one shift register fed by pin ``sin``, every output
    bit goes into one register whose XOR drives pin ``sout`` (so no output is optimised away).
    Inputs stay registered as in :func:`harness_verilog`; the shift/XOR logic adds a few hundred
    flip-flops and LUTs to the harness (not to the unit's own cell counts)."""
    from amaranth import Cat, Module, Signal
    from amaranth.back import verilog
    from amaranth.hdl import Elaboratable
    from amaranth.lib.wiring import Flow

    class _Serial(Elaboratable):
        def __init__(self, dut):
            self.dut = dut
            self.sin = Signal(name="sin")
            self.sout = Signal(name="sout")

        def elaborate(self, platform):
            m = Module()
            m.submodules.dut = dut = self.dut
            ins, outs = [], []
            for pname, member in dut.signature.members.items():
                (ins if member.flow == Flow.In else outs).append(getattr(dut, pname))
            w_in = sum(len(p) for p in ins)
            sr = Signal(w_in, reset_less=True)
            m.d.sync += sr.eq(Cat(self.sin, sr[:-1]))
            k = 0
            for port in ins:
                m.d.comb += port.eq(sr[k: k + len(port)])
                k += len(port)
            oreg = Signal(sum(len(p) for p in outs), reset_less=True)
            m.d.sync += [oreg.eq(Cat(*outs)), self.sout.eq(oreg.xor())]
            return m

    h = _Serial(component)
    return verilog.convert(h, name=f"{name}_harness", ports=[h.sin, h.sout], emit_src=False)


def _run(tool, args: list[str], cwd: Path, log: Path) -> None:
    env = dict(os.environ)
    env.update(tool.env)
    r = subprocess.run(tool.argv + args, cwd=cwd, capture_output=True, text=True, env=env)
    log.write_text(r.stdout + r.stderr)
    if r.returncode != 0:
        tail = "\n".join((r.stdout + r.stderr).splitlines()[-15:])
        raise HwsnnError(f"{tool.name} failed (rc={r.returncode}) in {cwd}:\n{tail}")


def _cell_counts(stat_json: Path, top: str) -> dict:
    data = json.loads(stat_json.read_text())
    mods = data.get("modules", {})
    mod = mods.get(f"\\{top}") or mods.get(top) or data.get("design", {})
    cells = mod.get("num_cells_by_type", {})
    ff = sum(n for t, n in cells.items() if t.startswith("SB_DFF"))
    return {
        "lut4": int(cells.get("SB_LUT4", 0)),
        "carry": int(cells.get("SB_CARRY", 0)),
        "ff": int(ff),
        "bram": int(sum(n for t, n in cells.items() if t.startswith("SB_RAM40"))),
        "cells": {k: int(v) for k, v in sorted(cells.items())},
    }


def _fmax(report_json: Path) -> float:
    data = json.loads(report_json.read_text())
    fm = data.get("fmax", {})
    vals = [float(v["achieved"]) for v in fm.values() if "achieved" in v]
    return min(vals) if vals else float("inf")  # a design without clocked paths has no limit


def _lc(report_json: Path) -> int:
    data = json.loads(report_json.read_text())
    return int(data.get("utilization", {}).get("ICESTORM_LC", {}).get("used", 0))


def synth_unit(name: str, params=None, *, seeds=(1,), work_dir: str | Path | None = None, **mutant) -> dict:
    """Synthesise and place one unit; returns its row (see :func:`report`)."""
    from hwsnn.hw.export import build, to_verilog
    from hwsnn.toolchain import nextpnr_ice40, yosys

    ys, pnr = yosys(), nextpnr_ice40()
    for t in (ys, pnr):
        if not t.ok:
            raise ToolMissingError(f"{t.name}: {t.reason} ({t.fix})")
    if not seeds:
        raise ConfigError("seeds", "need at least one nextpnr seed")
    from hwsnn.hw.registry import get

    comp = build(name, params, **mutant)
    unit_v = to_verilog(comp, name)
    wide = get(name).kind == "core"  # more I/O bits than package pins: place the serial harness only
    harness_v = (serial_harness_verilog if wide else harness_verilog)(build(name, params, **mutant), name)
    t0 = time.perf_counter()
    # YoWASP tools see only the working directory: run in it, with relative paths.
    with tempfile.TemporaryDirectory(prefix=f"hwsnn-synth-{name}-", dir=work_dir) as tmp:
        d = Path(tmp)
        (d / f"{name}.v").write_text(unit_v)
        (d / "harness.v").write_text(harness_v)
        script = (
            f"read_verilog {name}.v; synth_ice40 -top {name} -json unit.json; tee -q -o stat.json stat -json; "
            f"design -reset; read_verilog harness.v; synth_ice40 -top {name}_harness -json harness.json"
        )
        _run(ys, ["-q", "-p", script], d, d / "yosys.log")
        row = {"unit": name, **_cell_counts(d / "stat.json", name)}
        common = ["--hx8k", "--package", "ct256", "--pcf-allow-unconstrained", "--freq", str(_FREQ_MHZ), "--timing-allow-fail", "-q"]
        if not wide:
            _run(pnr, [*common, "--json", "unit.json", "--report", "unit_report.json", "--seed", str(seeds[0])],
                 d, d / "pnr_unit.log")
            row["lc"] = _lc(d / "unit_report.json")
        fmaxes = []
        for s in seeds:
            _run(pnr, [*common, "--json", "harness.json", "--report", f"h{s}.json", "--seed", str(s)], d, d / f"pnr_{s}.log")
            fmaxes.append(_fmax(d / f"h{s}.json"))
            if wide and "lc" not in row:
                row["lc"] = _lc(d / f"h{s}.json")  # includes the serial harness
                row["lc_includes_harness"] = True
    row["fmax_mhz"] = round(min(fmaxes), 2)
    row["fmax_mhz_seeds"] = {str(s): round(f, 2) for s, f in zip(seeds, fmaxes)}
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


def report(units=None, params=None, *, seeds=(1, 2, 3), work_dir=None) -> dict:
    """iCE40 HX8K resources and fmax of each unit (all of :data:`hwsnn.hw.export.UNITS` by default).

    Parameters
    ----------
    units : list of str, optional
        Unit names; default every unit.
    params : dict, optional
        Unit name -> parameter dataclass (default parameters otherwise).
    seeds : tuple of int
        nextpnr placement seeds; ``fmax_mhz`` is the worst over them.

    Returns
    -------
    dict
        ``{"device", "tools", "seeds", "rows": [{"unit", "lut4", "carry", "ff", "lc", "fmax_mhz",
        "fmax_mhz_seeds", "cells", "seconds"}, ...]}``.

    Raises
    ------
    ToolMissingError
        When Yosys or nextpnr-ice40 is not available.
    """
    from hwsnn.hw.registry import get
    from hwsnn.hw.registry import names as all_units
    from hwsnn.toolchain import nextpnr_ice40, yosys

    names = list(units or all_units())
    for n in names:
        get(n)
    for t in (yosys(), nextpnr_ice40()):
        if not t.ok:
            raise ToolMissingError(f"{t.name}: {t.reason} ({t.fix})")
    rows = [synth_unit(n, (params or {}).get(n), seeds=tuple(seeds), work_dir=work_dir) for n in names]
    return {
        "device": DEVICE,
        "tools": {"yosys": yosys().version, "nextpnr-ice40": nextpnr_ice40().version},
        "seeds": list(seeds),
        "rows": rows,
    }
