"""``lif_stepwise``: LIF neuron with a stepwise firing threshold and learning thresholds.

Mirrors :func:`hwsnn.golden.lif_stepwise.lif_stepwise_step` (contract: docs/hardware/fixed_point.md) one to one.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsnn.errors import ConfigError
from hwsnn.spec.fixed import signed_range
from hwsnn.spec.units import LifStepwiseParams

__all__ = ["LifStepwise", "LIF_MUTANTS"]

_D = LifStepwiseParams()

LIF_MUTANTS = {
    "no_sat": "membrane sum wraps instead of saturating",
    "sat_lo_off_by_one": "negative saturation bound is -2**(V_BITS-1) + 1",
    "no_refractory": "refractory period not applied after a spike",
    "theta_gt": "fires on u > theta instead of u >= theta",
    "window_off_by_one": "window closes at win == WINDOW - 2",
    "level_no_cap": "level increments past LEVELS - 1 (wraps)",
    "rate_hi_ge": "level goes up on c >= RATE_HI instead of c > RATE_HI",
    "ip_ignores_en": "window/level logic runs while ip_en = 0",
    "learn_up_gt": "learn_up on v > theta - LEARN_UP instead of >=",
}
"""Deliberate single-behaviour mutants (tests only) -> what each breaks."""


class LifStepwise(wiring.Component):
    """Leaky integrate-and-fire neuron whose threshold moves in steps (intrinsic plasticity).

    On each clock edge with ``step=1`` the membrane leaks by ``v >> LEAK_SHIFT``, integrates
    ``i_syn`` with saturation, fires at ``theta = THETA_BASE + level*THETA_STEP`` and is held at
    0 for ``REFRACTORY`` steps.  While ``ip_en=1`` it counts its spikes in windows of ``WINDOW``
    steps and moves ``level`` up (more than ``RATE_HI`` spikes) or down (fewer than ``RATE_LO``).

    Parameters
    ----------
    V_BITS, LEAK_SHIFT, REFRACTORY, THETA_BASE, THETA_STEP, LEVELS, LEVEL_INIT, WINDOW, RATE_HI, RATE_LO, LEARN_UP, LEARN_DN : int
        Contract parameters, validated by :class:`hwsnn.spec.units.LifStepwiseParams`
        (kept as ``self.params``).
    _mutant : str or None
        Tests only: one of :data:`LIF_MUTANTS`, altering one behaviour on purpose.

    Attributes
    ----------
    step : In(1)
        Advance the neuron on this edge (nothing changes otherwise).
    i_syn : In(signed(V_BITS))
        Synaptic input current of this step.
    ip_en : In(1)
        Intrinsic plasticity enable (window counting and level updates).
    spike : Out(1)
        Registered: the neuron fired on the last step.
    v : Out(signed(V_BITS))
        Registered membrane potential.
    level : Out(level_bits)
        Registered threshold level, ``0 .. LEVELS-1``.
    learn_up : Out(1)
        Combinational from registered state: ``v >= theta_now - LEARN_UP``.
    learn_dn : Out(1)
        Combinational from registered state: ``v < theta_now - LEARN_DN``.
    """

    def __init__(
        self,
        *,
        V_BITS: int = _D.V_BITS,
        LEAK_SHIFT: int = _D.LEAK_SHIFT,
        REFRACTORY: int = _D.REFRACTORY,
        THETA_BASE: int = _D.THETA_BASE,
        THETA_STEP: int = _D.THETA_STEP,
        LEVELS: int = _D.LEVELS,
        LEVEL_INIT: int = _D.LEVEL_INIT,
        WINDOW: int = _D.WINDOW,
        RATE_HI: int = _D.RATE_HI,
        RATE_LO: int = _D.RATE_LO,
        LEARN_UP: int = _D.LEARN_UP,
        LEARN_DN: int = _D.LEARN_DN,
        _mutant: str | None = None,
    ):
        self.params = p = LifStepwiseParams(
            V_BITS=V_BITS, LEAK_SHIFT=LEAK_SHIFT, REFRACTORY=REFRACTORY, THETA_BASE=THETA_BASE,
            THETA_STEP=THETA_STEP, LEVELS=LEVELS, LEVEL_INIT=LEVEL_INIT, WINDOW=WINDOW, RATE_HI=RATE_HI,
            RATE_LO=RATE_LO, LEARN_UP=LEARN_UP, LEARN_DN=LEARN_DN,
        )
        if _mutant is not None and _mutant not in LIF_MUTANTS:
            raise ConfigError("_mutant", f"unknown mutant {_mutant!r}; known: {', '.join(LIF_MUTANTS)}")
        self._mutant = _mutant
        super().__init__(
            {
                "step": In(1),
                "i_syn": In(signed(p.V_BITS)),
                "ip_en": In(1),
                "spike": Out(1),
                "v": Out(signed(p.V_BITS)),
                "level": Out(p.level_bits, init=p.LEVEL_INIT),
                "learn_up": Out(1),
                "learn_dn": Out(1),
            }
        )

    def elaborate(self, platform) -> Module:
        m = Module()
        p, mut = self.params, self._mutant
        lo, hi = signed_range(p.V_BITS)
        if mut == "sat_lo_off_by_one":
            lo += 1

        ref = Signal(p.ref_bits)
        count = Signal(p.count_bits)
        win = Signal(p.win_bits)

        # Threshold of the registered level; the learning thresholds move with it.
        theta = Signal(signed(p.V_BITS + 1))
        m.d.comb += theta.eq(p.THETA_BASE + self.level * p.THETA_STEP)
        up_cmp = (self.v > theta - p.LEARN_UP) if mut == "learn_up_gt" else (self.v >= theta - p.LEARN_UP)
        m.d.comb += [self.learn_up.eq(up_cmp), self.learn_dn.eq(self.v < theta - p.LEARN_DN)]

        # u = clamp(v - (v >> LEAK_SHIFT) + i_syn): V_BITS + 2 bits hold the exact sum.  The firing
        # test u >= theta is the sign of (v - (v >> LEAK_SHIFT)) + (i_syn - theta), whose two
        # halves are computed side by side, so it does not wait for the sum.  theta lies in
        # [1, 2**(V_BITS-1) - 1], so the unsaturated sum gives the same decision as the saturated one.
        leaked = Signal(signed(p.V_BITS + 1))
        drive = Signal(signed(p.V_BITS + 2))
        u_raw = Signal(signed(p.V_BITS + 2))
        margin = Signal(signed(p.V_BITS + 3))
        m.d.comb += [
            leaked.eq(self.v - (self.v >> p.LEAK_SHIFT)),
            drive.eq(self.i_syn - theta - (1 if mut == "theta_gt" else 0)),
            u_raw.eq(leaked + self.i_syn),
            margin.eq(leaked + drive),
        ]
        u = Signal(signed(p.V_BITS))
        fire = Signal()
        if mut == "no_sat":
            m.d.comb += u.eq(u_raw[: p.V_BITS])  # wraps
            m.d.comb += fire.eq(u >= theta)
        else:
            m.d.comb += u.eq(Mux(u_raw > hi, hi, Mux(u_raw < lo, lo, u_raw)))
            m.d.comb += fire.eq(margin >= 0)

        spike_n = Signal()  # spike' of this step
        m.d.comb += spike_n.eq((ref == 0) & fire)

        with m.If(self.step):
            with m.If(ref != 0):
                m.d.sync += [self.v.eq(0), ref.eq(ref - 1), self.spike.eq(0)]
            with m.Elif(fire):
                m.d.sync += [self.v.eq(0), ref.eq(0 if mut == "no_refractory" else p.REFRACTORY), self.spike.eq(1)]
            with m.Else():
                m.d.sync += [self.v.eq(u), ref.eq(0), self.spike.eq(0)]

            ip = 1 if mut == "ip_ignores_en" else self.ip_en
            with m.If(ip):
                # c = count + spike' compared with RATE_HI/RATE_LO, rewritten so that only the last
                # LUT level waits for spike' (the comparisons of count are ready early).
                if mut == "rate_hi_ge":
                    up = (count >= p.RATE_HI) | ((count == p.RATE_HI - 1) & spike_n)
                else:
                    up = (count > p.RATE_HI) | ((count == p.RATE_HI) & spike_n)
                down = (count < p.RATE_LO - 1) | ((count == p.RATE_LO - 1) & ~spike_n)
                last = p.WINDOW - 2 if (mut == "window_off_by_one" and p.WINDOW >= 2) else p.WINDOW - 1
                with m.If(win == last):
                    with m.If(up):
                        if mut == "level_no_cap":
                            m.d.sync += self.level.eq(self.level + 1)
                        else:
                            with m.If(self.level != p.LEVELS - 1):
                                m.d.sync += self.level.eq(self.level + 1)
                    with m.Elif(down):
                        with m.If(self.level != 0):
                            m.d.sync += self.level.eq(self.level - 1)
                    m.d.sync += [count.eq(0), win.eq(0)]
                with m.Else():
                    m.d.sync += [count.eq(Mux(spike_n, count + 1, count)), win.eq(win + 1)]
        return m
