"""Shared cocotb bench parts, in the shape of cocotb's ``examples/matrix_multiplier``.

A unit that takes one transaction per clock edge is checked by four cooperating parts:

- :class:`Driver` applies one input vector per cycle on the falling edge (inputs are stable
  well before the rising edge that samples them);
- :class:`Monitor` samples the registered outputs on the next falling edge (settled values of
  the rising edge in between), so a whole cycle costs a single simulator wake-up;
- the *model* is the golden step function, wrapped by the bench;
- :class:`InOrderChecker` compares model and monitor for every output of every cycle and, on
  the first mismatch, logs the cycle, inputs, expected and actual values and fails the test.

Parameters come from the runner through the environment (see ``sim/runner.py``).
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Callable, Iterable

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

__all__ = ["add_to_report", "bench_config", "Driver", "Monitor", "InOrderChecker", "run_cycle_bench", "write_report"]


def bench_config() -> tuple[dict, int, int]:
    """``(params, cycles, seed)`` passed by the runner."""
    params = json.loads(os.environ.get("HWSNN_PARAMS", "{}") or "{}")
    cycles = int(os.environ.get("HWSNN_CYCLES", "20000"))
    seed = int(os.environ.get("HWSNN_SEED", "1"))
    return params, cycles, seed


def write_report(report: dict) -> None:
    path = os.environ.get("HWSNN_REPORT")
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(report, fh)
        os.replace(tmp, path)


def add_to_report(extra: dict) -> None:
    """Merge ``extra`` (e.g. coverage counts) into the JSON report written by ``run_cycle_bench``."""
    report = {}
    path = os.environ.get("HWSNN_REPORT")
    if path and os.path.exists(path):
        with open(path) as fh:
            report = json.load(fh)
    report.update(extra)
    write_report(report)


class Driver:
    """Drives an input vector (dict port -> int) onto the DUT."""

    def __init__(self, dut, ports: Iterable[str]):
        self._handles = {p: getattr(dut, p) for p in ports}

    def drive(self, vector: dict) -> None:
        for name, h in self._handles.items():
            h.value = int(vector[name])


class Monitor:
    """Samples output ports (dict port -> int), reading signed ports as two's complement."""

    def __init__(self, dut, ports: Iterable[str], signed: Iterable[str] = ()):
        signed = set(signed)
        self._handles = [(p, getattr(dut, p), p in signed) for p in ports]

    def sample(self) -> dict:
        out = {}
        for name, h, is_signed in self._handles:
            v = h.value
            # 1-bit ports come back as Logic (no to_unsigned); int() works for every width
            out[name] = v.to_signed() if is_signed else int(v)
        return out


class InOrderChecker:
    """Compares expected and actual output vectors cycle by cycle; fails on the first mismatch."""

    def __init__(self, log):
        self.log = log
        self.checked = 0

    def check(self, cycle: int, inputs: dict, expected: dict, actual: dict) -> None:
        if expected != actual:
            diff = {k: (expected[k], actual.get(k)) for k in expected if expected[k] != actual.get(k)}
            msg = (
                f"MISMATCH at cycle {cycle}: inputs={inputs} expected={expected} actual={actual} "
                f"(port: (expected, actual)) {diff}"
            )
            self.log.error(msg)
            write_report(
                {"cycles_checked": self.checked, "mismatch": {"cycle": cycle, "inputs": inputs, "expected": expected, "actual": actual}}
            )
            raise AssertionError(msg)
        self.checked += 1


async def run_cycle_bench(
    dut,
    *,
    unit: str,
    inputs: list[str],
    outputs: list[str],
    signed_outputs: Iterable[str] = (),
    model_step: Callable[[dict], dict],
    stimulus: Callable[[random.Random, int], dict],
    cycles: int,
    seed: int,
) -> int:
    """Run ``cycles`` checked cycles; ``stimulus(rng, cycle)`` returns inputs incl. ``rst``.

    ``model_step(inputs)`` advances the golden model by one edge and returns the expected
    registered outputs after it.  Returns the number of checked cycles.
    """
    log = dut._log
    rng = random.Random(seed)
    log.info("bench %s: seed=%d cycles=%d", unit, seed, cycles)
    Clock(dut.clk, 10, unit="ns").start()
    driver = Driver(dut, ["rst", *inputs])
    monitor = Monitor(dut, outputs, signed_outputs)
    checker = InOrderChecker(log)
    # Behaviour before the first reset is unspecified: start with one reset cycle.
    vec = {"rst": 1, **{p: 0 for p in inputs}}
    await FallingEdge(dut.clk)
    driver.drive(vec)
    t0 = time.perf_counter()
    for cycle in range(cycles):
        expected = model_step(vec)
        await FallingEdge(dut.clk)
        checker.check(cycle, vec, expected, monitor.sample())
        vec = stimulus(rng, cycle)
        driver.drive(vec)
    dt = time.perf_counter() - t0
    log.info("bench %s: %d cycles checked in %.2f s (%.0f cycles/s)", unit, checker.checked, dt, checker.checked / dt)
    write_report({"unit": unit, "seed": seed, "cycles_checked": checker.checked, "sim_seconds": dt})
    return checker.checked


__all__.append("cocotb")


async def run_unit_bench(dut, *, unit: str, params_cls, make: Callable, inputs: list[str], outputs: list[str],
                         coverage_bins: Iterable[str], signed_outputs: Iterable[str] = ()) -> int:
    """The body of a unit's cocotb test: parameters from the runner, ``make(params)`` ->
    ``(model, stimulus)``, the checked run, then coverage and cycle count into the report."""
    params_d, cycles, seed = bench_config()
    model, stim = make(params_cls.from_dict(params_d))
    checked = await run_cycle_bench(
        dut, unit=unit, inputs=inputs, outputs=outputs, signed_outputs=signed_outputs, model_step=model.step,
        stimulus=stim, cycles=cycles, seed=seed,
    )
    add_to_report({"coverage": {k: int(model.cov.get(k, 0)) for k in coverage_bins}, "cycles_checked": checked})
    return checked
