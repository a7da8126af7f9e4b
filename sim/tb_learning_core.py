"""cocotb co-simulation bench of ``learning_core`` with the crossbar model in the loop.

Parts (coroutines; all sampling on the falling clock edge, where registered outputs are settled):

- **input driver** -- offers timestep ``t``'s input spike vector on ``in_*`` as soon as the core
  can take it;
- **crossbar agent** -- two coroutines on the core's crossbar interface: the read side accepts a
  read request, answers it after ``read_latency`` cycles with the ADC codes of
  :meth:`hwsnn.cosim.agent.CrossbarAgent.read`; the program side accepts program commands into
  :meth:`~hwsnn.cosim.agent.CrossbarAgent.program`.  Ready signals are held low at random
  (probability ``backpressure`` per offered beat, seeded) so the handshakes are exercised;
- **output monitor** -- accepts the output beat (spike vector), closes the timestep
  (:meth:`~hwsnn.cosim.agent.CrossbarAgent.end_timestep`: pending pulses applied, array clock
  advanced);
- **model + scoreboard** -- after the RTL run, the golden co-simulation
  (:func:`hwsnn.cosim.record.run_golden`, same agent handlers, fresh crossbar with the same
  seed) and an exact comparison of every observable (:func:`hwsnn.cosim.record.compare`); the
  first mismatch is logged and fails the test.

Everything the run needs comes in a job file named by ``HWSNN_COSIM_JOB`` (written by
:func:`hwsnn.cosim.run.run_rtl`): core parameters, device, crossbar, seeds, input spikes.
Coroutines wake only on edges of the handshake signals and on the falling edge right after, so
Python runs a few times per transaction, not once per clock cycle.
"""

from __future__ import annotations

import json
import os
import random
import time

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.utils import get_sim_time
from cocotb.triggers import ClockCycles, Event, FallingEdge, RisingEdge

from hwsnn.cosim.config import agent_from_job, load_job
from hwsnn.cosim.record import Recorder, compare, run_golden, save_record


def _write_report(report: dict) -> None:
    path = os.environ.get("HWSNN_REPORT")
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(report, fh)
        os.replace(tmp, path)


class Bench:
    """Shared state of the coroutines."""

    def __init__(self, dut, job):
        self.dut = dut
        self.job = job
        self.p = job.core
        self.T = job.timesteps
        self.agent = agent_from_job(job)
        self.rec = Recorder(self.p, self.T, job.snapshot_every)
        self.rng = random.Random(job.bench_seed)
        self.bp = job.backpressure
        self.lat = job.read_latency
        self.t = -1  # timestep of the transactions seen so far (-1: power-up SETs)
        self.done = Event()
        self.deadlock = False
        self.outputs = 0
        self.verilator = cocotb.SIM_NAME.lower().startswith("verilator")
        self.t_agent = 0.0
        self.commands = 0

    async def wait_high(self, sig) -> None:
        """Return at a falling edge where ``sig`` is 1."""
        clk = self.dut.clk
        while not sig.value:
            await RisingEdge(sig)
            await FallingEdge(clk)

    async def settle(self) -> None:
        """After an edge trigger of an output: wait until the outputs are settled.  Verilator runs
        value-change callbacks after a complete evaluation, so they are settled already; Icarus
        may call back mid-update, so its samples are taken on the next falling clock edge."""
        if not self.verilator:
            await FallingEdge(self.dut.clk)

    async def stall(self) -> None:
        """Back-pressure: with probability ``bp`` keep ready low for 1..3 cycles."""
        if self.bp and self.rng.random() < self.bp:
            await ClockCycles(self.dut.clk, self.rng.randint(1, 3), rising=False)

    # -- input driver ------------------------------------------------------------------------
    async def input_driver(self):
        dut = self.dut
        rows = self.job.in_spikes
        words = [int(sum(1 << int(i) for i in np.flatnonzero(r))) for r in rows]
        learn = self.job.learn_array().tolist()
        in_ready = dut.in_ready
        for t in range(self.T):
            dut.in_spikes.value = words[t]
            dut.in_learn.value = learn[t]
            dut.in_valid.value = 1
            # in_ready falls on the edge that takes the beat (the core leaves IDLE)
            if not in_ready.value:
                await RisingEdge(in_ready)
            await FallingEdge(in_ready)
        dut.in_valid.value = 0

    # -- crossbar agent: read side -------------------------------------------------------------
    async def read_agent(self):
        dut, p = self.dut, self.p
        ab, M = p.ADC_BITS, p.M
        req_valid, req_rows, resp_ready = dut.rd_req_valid, dut.rd_req_rows, dut.rd_resp_ready
        fast = not self.bp
        if fast:
            dut.rd_req_ready.value = 1  # always ready: the request is taken on the edge after it rises
        while True:
            if fast:
                await RisingEdge(req_valid)
                await self.settle()
                rows = int(req_rows.value)
            else:
                await self.wait_high(req_valid)
                await self.stall()
                dut.rd_req_ready.value = 1
                rows = int(req_rows.value)
                await FallingEdge(dut.clk)
                dut.rd_req_ready.value = 0
            self.t += 1
            t = self.t
            t0 = time.perf_counter()
            codes = self.agent.read(rows)
            self.t_agent += time.perf_counter() - t0
            self.rec.rows[t] = [(rows >> i) & 1 for i in range(M)]
            self.rec.codes[t] = codes
            word = 0
            for j, c in enumerate(codes.tolist()):
                word |= c << (j * ab)
            if self.lat:
                await ClockCycles(dut.clk, self.lat, rising=False)
            dut.rd_resp_codes.value = word
            dut.rd_resp_valid.value = 1
            # rd_resp_ready falls on the edge that takes the response
            if not resp_ready.value:
                await RisingEdge(resp_ready)
            await FallingEdge(resp_ready)
            dut.rd_resp_valid.value = 0

    # -- crossbar agent: program side ----------------------------------------------------------
    async def program_agent(self):
        dut = self.dut
        clk = dut.clk
        valid, row_h, col_h, set_h, cnt_h = dut.pg_valid, dut.pg_row, dut.pg_col, dut.pg_set, dut.pg_count
        agent, rec = self.agent, self.rec
        if not self.bp:
            # always ready: every cycle with pg_valid = 1 is one command; this core drops pg_valid
            # for >= 2 cycles after each beat (contract), so each command is one rising edge
            dut.pg_ready.value = 1
            last = -1
            pending = bool(valid.value)  # a beat may be waiting already (we start on a falling edge)
            while True:
                if not pending:
                    await RisingEdge(valid)
                    await self.settle()
                pending = False
                now = get_sim_time("ps")
                if now == last or not valid.value:
                    continue  # a glitch of the combinational valid within one time step
                last = now
                row, col, s, n = int(row_h.value), int(col_h.value), int(set_h.value), int(cnt_h.value)
                agent.program(row, col, s, n)
                rec.command(self.t, row, col, s, n)
                self.commands += 1
        dut.pg_ready.value = 0
        while True:
            await self.wait_high(valid)
            while valid.value:
                await self.stall()
                dut.pg_ready.value = 1
                row, col, s, n = int(row_h.value), int(col_h.value), int(set_h.value), int(cnt_h.value)
                await FallingEdge(clk)  # taken on the rising edge in between
                dut.pg_ready.value = 0
                agent.program(row, col, s, n)
                rec.command(self.t, row, col, s, n)
                self.commands += 1

    async def watchdog(self, cycles: int):
        """End the run as a deadlock when no output beat arrives for ``cycles`` cycles."""
        last = -1
        while not self.done.is_set():
            await ClockCycles(self.dut.clk, cycles, rising=False)
            if self.outputs == last and not self.done.is_set():
                self.deadlock = True
                self.done.set()
            last = self.outputs

    # -- output monitor ------------------------------------------------------------------------
    async def output_monitor(self):
        dut = self.dut
        N = self.p.N
        out_valid, out_spikes = dut.out_valid, dut.out_spikes
        fast = not self.bp
        if fast:
            dut.out_ready.value = 1
        for t in range(self.T):
            if fast:
                await RisingEdge(out_valid)
                await self.settle()
                sp = int(out_spikes.value)
            else:
                await self.wait_high(out_valid)
                await self.stall()
                dut.out_ready.value = 1
                sp = int(out_spikes.value)
                await FallingEdge(dut.clk)
                dut.out_ready.value = 0
            self.rec.spikes[t] = [(sp >> j) & 1 for j in range(N)]
            self.outputs += 1
            t0 = time.perf_counter()
            self.agent.end_timestep()
            self.rec.end_timestep(t, self.agent)
            self.t_agent += time.perf_counter() - t0
        if fast:
            await FallingEdge(dut.clk)
        self.done.set()

    async def read_neurons(self):
        """Neuron memory through the debug port (the core is idle after the last output beat)."""
        dut = self.dut
        v, level = [], []
        await FallingEdge(dut.clk)
        for j in range(self.p.N + 1):
            if j:
                v.append(dut.dbg_v.value.to_signed())
                level.append(int(dut.dbg_level.value))
            if j < self.p.N:
                dut.dbg_addr.value = j
                await FallingEdge(dut.clk)
        return v, level


def p_cycles_per_timestep_bound(job) -> int:
    """Generous upper bound of one timestep's cycles (every synapse evaluated and programmed)."""
    p = job.core
    return 8 + 2 * p.N + 2 * p.M + 6 * p.n_synapses + job.read_latency


async def free_run(dut, job, b) -> float:
    """Calibration for the time breakdown: the simulator alone, every ready and valid held high
    (no Python per transaction), for a fixed number of cycles; returns cycles per second."""
    p = job.core
    n = 200_000 if b.verilator else 20_000
    rows = job.in_spikes.sum(axis=0)
    dut.in_spikes.value = int(sum(1 << int(i) for i in np.argsort(-rows)[: max(1, p.M // 16)]))
    dut.in_learn.value = 1
    dut.rd_resp_codes.value = int(sum((2 ** (p.ADC_BITS - 2)) << (j * p.ADC_BITS) for j in range(p.N)))
    for name in ("in_valid", "rd_req_ready", "rd_resp_valid", "pg_ready", "out_ready"):
        getattr(dut, name).value = 1
    t0 = time.perf_counter()
    await ClockCycles(dut.clk, n, rising=False)
    return n / (time.perf_counter() - t0)


@cocotb.test()
async def learning_core_cosim(dut):
    job = load_job(os.environ["HWSNN_COSIM_JOB"])
    b = Bench(dut, job)
    log = dut._log
    log.info("cosim: T=%d seed=%d preset=%s read_latency=%d backpressure=%.2f", job.timesteps, job.seed,
             job.preset, job.read_latency, job.backpressure)
    for name in ("in_valid", "in_learn", "rd_req_ready", "rd_resp_valid", "pg_ready", "out_ready", "in_spikes", "rd_resp_codes",
                 "dbg_addr"):
        getattr(dut, name).value = 0
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2, rising=False)
    dut.rst.value = 0
    # Icarus evaluates Yosys's combinational always-blocks only once an input of theirs changes:
    # let the FSM leave its reset state before the first output is sampled
    await ClockCycles(dut.clk, 2, rising=False)
    prof = None
    if os.environ.get("HWSNN_PROFILE"):
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t0 = time.perf_counter()
    ns0 = cocotb.utils.get_sim_time("ns")
    tasks = [cocotb.start_soon(c) for c in (b.read_agent(), b.program_agent(), b.output_monitor(), b.input_driver())]
    # watchdog: a core that breaks the protocol can leave a channel waiting forever
    cocotb.start_soon(b.watchdog(2 * p_cycles_per_timestep_bound(job) + 10 * job.core.n_synapses))
    await b.done.wait()
    if b.deadlock:
        report = {"timesteps": job.timesteps, "cycles": 0, "equivalent": False, "cycles_checked": 0,
                  "first_mismatch": {"field": "deadlock", "timestep": b.t, "outputs": b.outputs, "commands": b.commands}}
        _write_report(report)
        log.error("MISMATCH rtl vs golden: %s", report["first_mismatch"])
        raise AssertionError(f"MISMATCH rtl vs golden: {report['first_mismatch']}")
    t_rtl = time.perf_counter() - t0
    if prof is not None:
        prof.disable()
        prof.dump_stats(os.environ["HWSNN_PROFILE"])
    cycles = int((cocotb.utils.get_sim_time("ns") - ns0) // 10)
    v, level = await b.read_neurons()
    rec = b.rec.finish(v, level, b.agent)
    if job.record:
        save_record(job.record, rec)
    report = {
        "timesteps": job.timesteps, "cycles": cycles, "commands": b.commands, "seconds": t_rtl,
        "agent_seconds": b.t_agent, "timesteps_per_s": job.timesteps / t_rtl if t_rtl > 0 else 0.0,
        "cycles_checked": 0,
    }
    for task in tasks:
        task.cancel()
    report["rtl_cycles_per_s"] = await free_run(dut, job, b)
    if job.check:
        t1 = time.perf_counter()
        gold = run_golden(job.core, agent_from_job(job), job.in_spikes, job.snapshot_every, job.learn_array())
        report["golden_seconds"] = time.perf_counter() - t1
        report["golden_device_seconds"] = gold.extra["device_seconds"]
        cmp = compare(rec, gold)
        report.update(cmp)
        report["cycles_checked"] = cycles if cmp["equivalent"] else 0
        _write_report(report)
        if not cmp["equivalent"]:
            log.error("MISMATCH rtl vs golden: %s", cmp["first_mismatch"])
            raise AssertionError(f"MISMATCH rtl vs golden: {cmp['first_mismatch']}")
        log.info("equivalent: %d timesteps, %d cycles, %d items compared", job.timesteps, cycles, cmp["checked"])
    else:
        _write_report(report)
    log.info("rtl loop %.2f s (%.0f timesteps/s), agent %.2f s", t_rtl, report["timesteps_per_s"], b.t_agent)
