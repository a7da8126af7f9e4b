"""Fast inner loop: check a component against its golden model in Amaranth's own simulator.

Same protocol as the cocotb benches (``sim/bench_common.py``): one input vector per clock
edge, registered outputs compared after the edge, first mismatch reported with cycle, inputs,
expected and actual values.  No external simulator is needed.
"""

from __future__ import annotations

import random
from typing import Callable

__all__ = ["Mismatch", "check_cycles"]


class Mismatch(AssertionError):
    """Raised on the first cycle where the component and the model disagree."""

    def __init__(self, cycle: int, inputs: dict, expected: dict, actual: dict):
        self.cycle, self.inputs, self.expected, self.actual = cycle, inputs, expected, actual
        super().__init__(f"cycle {cycle}: inputs={inputs} expected={expected} actual={actual}")


def check_cycles(
    component,
    *,
    inputs: list[str],
    outputs: list[str],
    model_step: Callable[[dict], dict],
    stimulus: Callable[[random.Random, int], dict],
    cycles: int,
    seed: int = 1,
) -> int:
    """Simulate ``cycles`` edges; ``stimulus(rng, cycle)`` returns inputs including ``rst``.

    ``rst`` drives the component's synchronous reset (Amaranth's ``ResetSignal``).  Returns the
    number of cycles checked; raises :class:`Mismatch` on the first disagreement.
    """
    from amaranth.hdl import ResetInserter, Signal
    from amaranth.sim import Simulator

    # The sync domain's reset cannot be driven from a testbench; ResetInserter adds a
    # signal that resets the domain synchronously, exactly like the ``rst`` port does.
    rst = Signal()
    sim = Simulator(ResetInserter(rst)(component))
    sim.add_clock(1e-8)
    ports = {name: getattr(component, name) for name in inputs}
    outs = {name: getattr(component, name) for name in outputs}
    checked = 0

    async def bench(ctx):
        nonlocal checked
        rng = random.Random(seed)
        vec = {"rst": 1, **{p: 0 for p in inputs}}
        for cycle in range(cycles):
            ctx.set(rst, vec["rst"])
            for name, sig in ports.items():
                ctx.set(sig, vec[name])
            expected = model_step(vec)
            await ctx.tick()
            actual = {name: ctx.get(sig) for name, sig in outs.items()}
            if actual != expected:
                raise Mismatch(cycle, vec, expected, actual)
            checked += 1
            vec = stimulus(rng, cycle)

    sim.add_testbench(bench)
    sim.run()
    return checked
