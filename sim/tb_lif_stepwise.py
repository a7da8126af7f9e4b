"""cocotb bench of ``lif_stepwise`` against the golden model (docs/hardware/fixed_point.md).

Driver / monitor / checker come from :mod:`bench_common`; this module supplies the model
wrapper (golden step + reset + coverage counters) and constrained-random stimulus organised in
phases that aim at the corner cases: saturation at both ends, the firing boundary
``u == theta`` (and +-1), the learning-flag boundaries, refractory steps, window closes with the
spike count at ``RATE_HI``/``RATE_LO``, levels pinned at ``0`` and ``LEVELS-1``, ``ip_en``
toggling, long silences, ``step=0`` gaps and resets in the middle of a run.  The stimulus reads
the model state (what the DUT holds now) to aim at the boundaries.

The same model and stimulus drive the Amaranth-simulator test (``tests/hw``).  The coverage
counters are written to the bench report so a test can check every corner was reached.
"""

from __future__ import annotations

from collections import Counter

import cocotb
from sim.bench_common import run_unit_bench

from hwsnn.golden.lif_stepwise import (
    LifStepwiseIn,
    lif_stepwise_outputs,
    lif_stepwise_reset,
    lif_stepwise_step,
    theta_of,
)
from hwsnn.spec.fixed import signed_range
from hwsnn.spec.units import LifStepwiseParams



INPUTS = ["step", "i_syn", "ip_en"]
OUTPUTS = ["spike", "v", "level", "learn_up", "learn_dn"]
SIGNED_OUTPUTS = ["v"]

COVERAGE_BINS = (
    "reset_mid_run", "step_gap", "ip_off_step", "refractory_step", "sat_hi", "sat_lo", "u_eq_theta",
    "u_eq_theta_minus_1", "spike", "learn_up_edge", "learn_dn_edge", "window_close", "count_eq_rate_hi",
    "count_eq_rate_lo", "level_up", "level_down", "level_up_at_max", "level_down_at_0",
)
"""Corner cases the bench must reach (checked by the tests on the default run)."""


class LifModel:
    """Golden model wrapper: one call per clock edge, reset included; counts corner cases."""

    def __init__(self, params: LifStepwiseParams):
        self.p = params
        self.state = lif_stepwise_reset(params)
        self.cov: Counter = Counter()
        self.edges = 0
        self._lo, self._hi = signed_range(params.V_BITS)

    def step(self, vec: dict) -> dict:
        self.edges += 1
        p, s, cov = self.p, self.state, self.cov
        if vec["rst"]:
            if self.edges > 1:
                cov["reset_mid_run"] += 1
            self.state = lif_stepwise_reset(p)
            return lif_stepwise_outputs(p, self.state)._asdict()
        if not vec["step"]:
            cov["step_gap"] += 1
        else:
            theta = theta_of(p, s.level)
            if s.ref > 0:
                cov["refractory_step"] += 1
            else:
                raw = s.v - (s.v >> p.LEAK_SHIFT) + vec["i_syn"]
                cov["sat_hi"] += raw > self._hi
                cov["sat_lo"] += raw < self._lo
                cov["u_eq_theta"] += raw == theta
                cov["u_eq_theta_minus_1"] += raw == theta - 1
            if not vec["ip_en"]:
                cov["ip_off_step"] += 1
        out, new = lif_stepwise_step(p, s, LifStepwiseIn(step=vec["step"], i_syn=vec["i_syn"], ip_en=vec["ip_en"]))
        if vec["step"]:
            cov["spike"] += new.spike
            theta_now = theta_of(p, new.level)
            cov["learn_up_edge"] += new.v == theta_now - p.LEARN_UP
            cov["learn_dn_edge"] += new.v == theta_now - p.LEARN_DN
            if vec["ip_en"] and s.win == p.WINDOW - 1:
                c = s.count + new.spike
                cov["window_close"] += 1
                cov["count_eq_rate_hi"] += c == p.RATE_HI
                cov["count_eq_rate_lo"] += c == p.RATE_LO
                cov["level_up"] += new.level > s.level
                cov["level_down"] += new.level < s.level
                cov["level_up_at_max"] += c > p.RATE_HI and s.level == p.LEVELS - 1
                cov["level_down_at_0"] += c < p.RATE_LO and s.level == 0
        self.state = new
        return out._asdict()


class LifStimulus:
    """Constrained-random inputs in phases; ``__call__(rng, cycle)`` is the bench's stimulus."""

    PHASES = (
        ("random", 3), ("drive_hi", 1), ("drive_lo", 1), ("boundary", 3), ("rate", 4), ("silence", 1),
        ("gaps", 1), ("ip_toggle", 1),
    )

    def __init__(self, params: LifStepwiseParams, model: LifModel, p_reset: float = 0.0015):
        self.p, self.model, self.p_reset = params, model, p_reset
        self.lo, self.hi = signed_range(params.V_BITS)
        self.phase, self.left = "random", 0
        self.q = 0.1
        self.names = [n for n, w in self.PHASES for _ in range(w)]

    def _new_phase(self, rng) -> None:
        self.phase = rng.choice(self.names)
        p = self.p
        # long enough to close several windows
        if self.phase == "silence":
            self.left = rng.randint(200, 1500)
        elif self.phase in ("drive_hi", "drive_lo"):  # long enough to walk every level
            self.left = rng.randint(2 * p.WINDOW, (p.LEVELS + 2) * p.WINDOW * 2)
        else:
            self.left = rng.randint(p.WINDOW, 6 * p.WINDOW + 200)
        if self.phase == "rate":
            # spike probability per step around the level-change boundaries
            k = rng.choice([p.RATE_LO - 1, p.RATE_LO, p.RATE_LO + 1, p.RATE_HI, p.RATE_HI + 1, p.RATE_HI + 2])
            self.q = min(1.0, max(0.0, k / p.WINDOW))
        self.ip_base = rng.random() < 0.85

    def _to_hit(self, target: int) -> int:
        """``i_syn`` that makes the (unsaturated) membrane sum equal ``target`` now."""
        v = self.model.state.v
        need = target - (v - (v >> self.p.LEAK_SHIFT))
        return min(self.hi, max(self.lo, need))

    def __call__(self, rng, cycle: int) -> dict:
        if self.left <= 0:
            self._new_phase(rng)
        self.left -= 1
        p, ph = self.p, self.phase
        rst = int(rng.random() < self.p_reset)
        step, ip_en = int(rng.random() < 0.93), int(self.ip_base)
        theta = theta_of(p, self.model.state.level)
        if ph == "random":
            if rng.random() < 0.1:
                i_syn = rng.randint(self.lo, self.hi)
            else:
                i_syn = rng.randint(-theta, theta)
            ip_en = int(rng.random() < 0.8)
        elif ph == "drive_hi":
            st = self.model.state
            if st.ref == 0 and st.v > 0 and rng.random() < 0.7:
                # charged: overshoot the positive bound
                i_syn = rng.randint(min(self.hi, self.hi - (st.v - (st.v >> p.LEAK_SHIFT)) + 1), self.hi)
            elif st.ref == 0 and rng.random() < 0.5:
                i_syn = self._to_hit(theta - rng.randint(1, 64))  # charge just below threshold
            else:
                i_syn = rng.randint(self.hi - theta, self.hi)
        elif ph == "drive_lo":
            i_syn = rng.randint(self.lo, self.lo + theta)
            step = 1
        elif ph == "boundary":
            target = theta + rng.choice(
                [0, 0, -1, -1, 1, -p.LEARN_UP, -p.LEARN_UP - 1, -p.LEARN_UP + 1, -p.LEARN_DN, -p.LEARN_DN - 1,
                 -p.LEARN_DN + 1]
            )
            i_syn = self._to_hit(target)
        elif ph == "rate":
            step = 1
            i_syn = self._to_hit(theta + rng.randint(0, 3)) if rng.random() < self.q else self._to_hit(rng.randint(-8, 8))
        elif ph == "silence":
            step, i_syn = 1, 0
        elif ph == "gaps":
            step = int(rng.random() < 0.2)
            i_syn = rng.randint(-theta, 2 * theta)
        else:  # ip_toggle
            ip_en = cycle & 1 if rng.random() < 0.5 else int(rng.random() < 0.5)
            i_syn = self._to_hit(theta) if rng.random() < 0.3 else rng.randint(-theta, theta)
        return {"rst": rst, "step": step, "i_syn": min(self.hi, max(self.lo, i_syn)), "ip_en": ip_en}



def make(params: LifStepwiseParams):
    """``(model, stimulus)`` pair for a bench or the Amaranth-simulator test."""
    model = LifModel(params)
    return model, LifStimulus(params, model)


@cocotb.test()
async def lif_stepwise_matches_golden(dut):
    await run_unit_bench(dut, unit="lif_stepwise", params_cls=LifStepwiseParams, make=make, inputs=INPUTS, outputs=OUTPUTS,
                         coverage_bins=COVERAGE_BINS, signed_outputs=SIGNED_OUTPUTS)
