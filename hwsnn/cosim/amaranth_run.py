"""Co-simulation of the learning core in Amaranth's own simulator (no external tools).

The fast inner loop of RTL development and the tests' third simulator: the same protocol as
the cocotb agent (``sim/tb_learning_core.py``), the same :class:`~hwsnn.cosim.agent.CrossbarAgent`
handlers, the same :class:`~hwsnn.cosim.record.Record`.  Slow (pure Python), so used for short
runs.
"""

from __future__ import annotations

import random
import time

import numpy as np

from hwsnn.cosim.agent import CrossbarAgent
from hwsnn.cosim.record import Record, Recorder

__all__ = ["run_amaranth"]


def run_amaranth(core, agent: CrossbarAgent, in_spikes: np.ndarray, *, learn=None, read_latency: int = 0,
                 backpressure: float = 0.0, seed: int = 1, snapshot_every: int = 0,
                 max_cycles: int = 50_000_000) -> Record:
    """Run ``core`` (a :class:`~hwsnn.hw.learning_core.LearningCore` or a mutant of it) for
    ``len(in_spikes)`` timesteps against ``agent``; ``backpressure`` is the probability that a
    ready the agent drives is held low on a cycle."""
    from amaranth.sim import Simulator

    p = core.params
    T = in_spikes.shape[0]
    learn = [1] * T if learn is None else [int(x) for x in learn]
    rec = Recorder(p, T, snapshot_every)
    sim = Simulator(core)
    sim.add_clock(1e-8)
    ab = p.ADC_BITS
    state = {"cycles": 0}

    async def bench(ctx):
        rng = random.Random(seed)

        def ready():
            return int(rng.random() >= backpressure)

        async def tick():
            await ctx.tick()
            state["cycles"] += 1
            if state["cycles"] > max_cycles:
                raise RuntimeError("cycle budget exceeded")

        t = -1  # power-up SETs until the first input beat is accepted
        mask = (1 << p.M) - 1
        spikes_int = [int(sum(int(b) << i for i, b in enumerate(row))) & mask for row in in_spikes]
        pending_in = True
        while True:
            # inputs: offer the next timestep as soon as the previous one closed
            if pending_in and t + 1 < T:
                ctx.set(core.in_valid, 1)
                ctx.set(core.in_spikes, spikes_int[t + 1])
                ctx.set(core.in_learn, learn[t + 1])
            else:
                ctx.set(core.in_valid, 0)
            r_pg, r_rd, r_out = ready(), ready(), ready()
            ctx.set(core.pg_ready, r_pg)
            ctx.set(core.rd_req_ready, r_rd)
            ctx.set(core.out_ready, r_out)
            # sample handshakes of this cycle (outputs are functions of registered state)
            in_fire = ctx.get(core.in_valid) and ctx.get(core.in_ready)
            pg_fire = ctx.get(core.pg_valid) and r_pg
            rd_fire = ctx.get(core.rd_req_valid) and r_rd
            out_fire = ctx.get(core.out_valid) and r_out
            resp_fire = ctx.get(core.rd_resp_valid) and ctx.get(core.rd_resp_ready)
            if pg_fire:
                row, col, s, n = (ctx.get(core.pg_row), ctx.get(core.pg_col), ctx.get(core.pg_set), ctx.get(core.pg_count))
                rec.command(t, row, col, s, n)
                agent.program(row, col, s, n)
            if rd_fire:
                rows = ctx.get(core.rd_req_rows)
                codes = agent.read(rows)
                rec.rows[t] = [(rows >> i) & 1 for i in range(p.M)]
                rec.codes[t] = codes
                word = 0
                for jj, c in enumerate(codes):
                    word |= int(c) << (jj * ab)
                state["resp"] = (word, read_latency)
            if in_fire:
                t += 1
                pending_in = False
            if out_fire:
                sp = ctx.get(core.out_spikes)
                rec.spikes[t] = [(sp >> j) & 1 for j in range(p.N)]
                agent.end_timestep()
                rec.end_timestep(t, agent)
                pending_in = True
                if t == T - 1:
                    state["closed"] = True
            await tick()
            # read response after the requested latency
            if "resp" in state:
                word, lat = state["resp"]
                if lat <= 0:
                    ctx.set(core.rd_resp_codes, word)
                    ctx.set(core.rd_resp_valid, 1)
                    del state["resp"]
                else:
                    state["resp"] = (word, lat - 1)
            elif resp_fire:
                ctx.set(core.rd_resp_valid, 0)
            if state.get("closed"):
                break
        # read the neuron memory back through the debug port (core idle)
        ctx.set(core.in_valid, 0)
        v, lv = [], []
        for jj in range(p.N):
            ctx.set(core.dbg_addr, jj)
            await tick()
            v.append(ctx.get(core.dbg_v))
            lv.append(ctx.get(core.dbg_level))
        state["v"], state["level"] = v, lv

    t0 = time.perf_counter()
    sim.add_testbench(bench)
    sim.run()
    return rec.finish(state["v"], state["level"], agent, seconds=time.perf_counter() - t0, cycles=state["cycles"])
