"""cocotb bench of ``lfsr16`` against the golden model (docs/hardware/fixed_point.md)."""

from __future__ import annotations

import cocotb
from sim.bench_common import bench_config, run_cycle_bench

from hwsnn.golden.lfsr import Lfsr16In, lfsr16_reset, lfsr16_step
from hwsnn.spec.units import Lfsr16Params


class Lfsr16Model:
    """Golden model wrapper: one call per clock edge, reset included."""

    def __init__(self, params: Lfsr16Params):
        self.params = params
        self.state = lfsr16_reset(params)

    def step(self, vec: dict) -> dict:
        if vec["rst"]:
            self.state = lfsr16_reset(self.params)
            return {"state": self.state.state}
        out, self.state = lfsr16_step(self.params, self.state, Lfsr16In(en=vec["en"]))
        return out._asdict()


def stimulus(rng, cycle: int) -> dict:
    # Mostly enabled so the whole period is walked; holds and occasional resets in between.
    return {"rst": int(rng.random() < 0.002), "en": int(rng.random() < 0.9)}


@cocotb.test()
async def lfsr16_matches_golden(dut):
    params, cycles, seed = bench_config()
    model = Lfsr16Model(Lfsr16Params.from_dict(params))
    await run_cycle_bench(
        dut,
        unit="lfsr16",
        inputs=["en"],
        outputs=["state"],
        model_step=model.step,
        stimulus=stimulus,
        cycles=cycles,
        seed=seed,
    )
