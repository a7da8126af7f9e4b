"""cocotb bench of ``stdp_trace`` against the golden model (docs/hardware/fixed_point.md).

Phased constrained-random stimulus: random spike trains of several rates, long silences (the
ceil-decay must reach 0 and stay there), bursts (spike while at full scale), ``step=0`` gaps,
spikes during gaps (must be ignored) and resets mid-run.  Coverage counters go into the report.
"""

from __future__ import annotations

from collections import Counter

import cocotb
from sim.bench_common import run_unit_bench

from hwsnn.golden.stdp import StdpTraceIn, stdp_trace_reset, stdp_trace_step
from hwsnn.spec.units import StdpTraceParams



INPUTS = ["step", "spike"]
OUTPUTS = ["x"]

COVERAGE_BINS = (
    "reset_mid_run", "step_gap", "spike_in_gap", "spike_at_full_scale", "decay_to_zero", "hold_at_zero",
    "decay_by_one", "spike",
)


class TraceModel:
    """Golden model wrapper: one call per clock edge, reset included; counts corner cases."""

    def __init__(self, params: StdpTraceParams):
        self.p = params
        self.state = stdp_trace_reset(params)
        self.cov: Counter = Counter()
        self.edges = 0

    def step(self, vec: dict) -> dict:
        self.edges += 1
        cov, x = self.cov, self.state.x
        if vec["rst"]:
            cov["reset_mid_run"] += self.edges > 1
            self.state = stdp_trace_reset(self.p)
            return {"x": self.state.x}
        out, self.state = stdp_trace_step(self.p, self.state, StdpTraceIn(step=vec["step"], spike=vec["spike"]))
        if not vec["step"]:
            cov["step_gap"] += 1
            cov["spike_in_gap"] += vec["spike"]
        elif vec["spike"]:
            cov["spike"] += 1
            cov["spike_at_full_scale"] += x == self.p.x_max
        else:
            cov["decay_to_zero"] += x > 0 and out.x == 0
            cov["hold_at_zero"] += x == 0
            cov["decay_by_one"] += x - out.x == 1
        return out._asdict()


class TraceStimulus:
    """Constrained-random spikes in phases; ``__call__(rng, cycle)`` is the bench's stimulus."""

    PHASES = (("random", 3), ("silence", 2), ("burst", 1), ("gaps", 1), ("sparse", 2))

    def __init__(self, params: StdpTraceParams, p_reset: float = 0.002):
        self.p, self.p_reset = params, p_reset
        self.names = [n for n, w in self.PHASES for _ in range(w)]
        self.phase, self.left, self.rate = "random", 0, 0.1

    def __call__(self, rng, cycle: int) -> dict:
        if self.left <= 0:
            self.phase = rng.choice(self.names)
            self.left = rng.randint(20, 400) if self.phase != "silence" else rng.randint(100, 2000)
            self.rate = rng.choice([0.01, 0.05, 0.1, 0.3])
        self.left -= 1
        ph = self.phase
        step, spike = int(rng.random() < 0.95), 0
        if ph == "random":
            spike = int(rng.random() < self.rate)
        elif ph == "silence":
            step = 1
        elif ph == "burst":
            spike = int(rng.random() < 0.8)
        elif ph == "gaps":
            step, spike = int(rng.random() < 0.3), int(rng.random() < 0.3)
        else:  # sparse: isolated spikes then full decays
            spike = int(rng.random() < 0.005)
        return {"rst": int(rng.random() < self.p_reset), "step": step, "spike": spike}


def make(params: StdpTraceParams):
    """``(model, stimulus)`` pair for a bench or the Amaranth-simulator test."""
    return TraceModel(params), TraceStimulus(params)



@cocotb.test()
async def stdp_trace_matches_golden(dut):
    await run_unit_bench(dut, unit="stdp_trace", params_cls=StdpTraceParams, make=make, inputs=INPUTS, outputs=OUTPUTS,
                         coverage_bins=COVERAGE_BINS)
