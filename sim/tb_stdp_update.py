"""cocotb bench of ``stdp_update`` against the golden model (docs/hardware/fixed_point.md).

Phased constrained-random stimulus: random requests, weights at and near both bounds with
traces at full scale (saturation at 0 and ``W_MAX``; weights above ``W_MAX`` when the port can
hold them), pre and post together, no spike at all, traces at 0, ``valid`` gaps (outputs and
the LFSR must hold) and resets mid-run.  Every output of every cycle is compared, so the
LFSR sequence and its advance-only-on-valid rule are checked through the stochastic rounding.
"""

from __future__ import annotations

from collections import Counter

import cocotb
from sim.bench_common import run_unit_bench

from hwsnn.golden.stdp import StdpUpdateIn, stdp_update_reset, stdp_update_step
from hwsnn.spec.units import StdpUpdateParams



INPUTS = ["valid", "w", "x_pre", "x_post", "pre", "post"]
OUTPUTS = ["out_valid", "w_new", "n_set", "n_reset"]

COVERAGE_BINS = (
    "reset_mid_run", "valid_gap", "clamp_hi", "clamp_lo", "pre_and_post", "no_spike", "n_set", "n_reset",
    "w_above_w_max", "rounded_up_plus", "rounded_up_minus",
)


class UpdateModel:
    """Golden model wrapper: one call per clock edge, reset included; counts corner cases."""

    def __init__(self, params: StdpUpdateParams):
        self.p = params
        self.state = stdp_update_reset(params)
        self.cov: Counter = Counter()
        self.edges = 0

    def step(self, vec: dict) -> dict:
        self.edges += 1
        p, cov = self.p, self.cov
        if vec["rst"]:
            cov["reset_mid_run"] += self.edges > 1
            self.state = stdp_update_reset(p)
            s = self.state
            return {"out_valid": s.out_valid, "w_new": s.w_new, "n_set": s.n_set, "n_reset": s.n_reset}
        ins = StdpUpdateIn(vec["valid"], vec["w"], vec["x_pre"], vec["x_post"], vec["pre"], vec["post"])
        r = self.state.lfsr
        out, self.state = stdp_update_step(p, self.state, ins)
        if not ins.valid:
            cov["valid_gap"] += 1
        else:
            w = ins.w
            dp = (ins.x_pre * p.A_PLUS + (r & ((1 << p.SHIFT_PLUS) - 1))) >> p.SHIFT_PLUS if ins.post else 0
            dm = (ins.x_post * p.A_MINUS + ((r >> p.R_MINUS_OFFSET) & ((1 << p.SHIFT_MINUS) - 1))) >> p.SHIFT_MINUS if ins.pre else 0
            cov["clamp_hi"] += w + dp - dm > p.W_MAX
            cov["clamp_lo"] += w + dp - dm < 0
            cov["pre_and_post"] += ins.pre and ins.post
            cov["no_spike"] += not (ins.pre or ins.post)
            cov["n_set"] += out.n_set > 0
            cov["n_reset"] += out.n_reset > 0
            cov["w_above_w_max"] += w > p.W_MAX
            cov["rounded_up_plus"] += ins.post and dp > (ins.x_pre * p.A_PLUS) >> p.SHIFT_PLUS
            cov["rounded_up_minus"] += ins.pre and dm > (ins.x_post * p.A_MINUS) >> p.SHIFT_MINUS
        return out._asdict()


class UpdateStimulus:
    """Constrained-random requests in phases; ``__call__(rng, cycle)`` is the bench's stimulus."""

    PHASES = (("random", 4), ("near_max", 2), ("near_zero", 2), ("gaps", 1), ("small_traces", 1))

    def __init__(self, params: StdpUpdateParams, p_reset: float = 0.002):
        self.p, self.p_reset = params, p_reset
        self.w_top = (1 << params.W_BITS) - 1
        self.x_top = (1 << params.X_BITS) - 1
        self.names = [n for n, w in self.PHASES for _ in range(w)]
        self.phase, self.left = "random", 0

    def __call__(self, rng, cycle: int) -> dict:
        if self.left <= 0:
            self.phase = rng.choice(self.names)
            self.left = rng.randint(20, 300)
        self.left -= 1
        p, ph = self.p, self.phase
        bits = rng.getrandbits
        valid = int(rng.random() < 0.85)
        w = bits(p.W_BITS)
        x_pre, x_post = bits(p.X_BITS), bits(p.X_BITS)
        pre, post = bits(1), bits(1)
        if ph == "near_max":
            w = min(self.w_top, p.W_MAX - rng.randint(-2, 3)) if rng.random() < 0.9 else rng.randint(p.W_MAX, self.w_top)
            w = max(0, w)
            x_pre = self.x_top - rng.randint(0, 2)
            post = 1
        elif ph == "near_zero":
            w = rng.randint(0, 3)
            x_post = self.x_top - rng.randint(0, 2)
            pre = 1
        elif ph == "gaps":
            valid = int(rng.random() < 0.3)
        elif ph == "small_traces":
            x_pre, x_post = rng.randint(0, 3), rng.randint(0, 3)
        if rng.random() < 0.05:
            x_pre, x_post = rng.choice([0, self.x_top]), rng.choice([0, self.x_top])
        return {"rst": int(rng.random() < self.p_reset), "valid": valid, "w": w, "x_pre": x_pre,
                "x_post": x_post, "pre": pre, "post": post}


def make(params: StdpUpdateParams):
    """``(model, stimulus)`` pair for a bench or the Amaranth-simulator test."""
    return UpdateModel(params), UpdateStimulus(params)



@cocotb.test()
async def stdp_update_matches_golden(dut):
    await run_unit_bench(dut, unit="stdp_update", params_cls=StdpUpdateParams, make=make, inputs=INPUTS, outputs=OUTPUTS,
                         coverage_bins=COVERAGE_BINS)
