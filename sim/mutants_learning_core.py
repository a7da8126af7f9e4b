"""Deliberate mutants of ``learning_core`` (tests only): subclasses of the production component
that override one of its named pieces.  The production class has no mutant switch.

Each mutant breaks one documented property; the co-simulation scoreboard must catch every one
(tests/cosim/test_cosim_rtl.py).
"""

from __future__ import annotations

from amaranth import Mux, Signal, unsigned

from hwsnn.hw.learning_core import LearningCore


class LearnBeforeTrace(LearningCore):
    """Scheduling order: learning sees ``x_pre[i]`` from before this timestep's trace update."""

    def learning_pre_trace(self, before, after):
        return before


class PgIgnoresReady(LearningCore):
    """Handshake: a program command counts as taken without ``pg_ready`` (lost under back-pressure)."""

    def handshake(self, channel, valid, ready):
        return 1 if channel == "pg" else super().handshake(channel, valid, ready)


class RespIgnoresValid(LearningCore):
    """Handshake: the read response is latched without waiting for ``rd_resp_valid``."""

    def handshake(self, channel, valid, ready):
        return 1 if channel == "rd_resp" else super().handshake(channel, valid, ready)


class TraceFloorDecay(LearningCore):
    """Rounding: the traces decay with ``x - (x >> k)`` (floor) instead of the ceil-decay."""

    def trace_next(self, x, spike):
        tp = self.params.trace
        return Mux(spike, tp.x_max, x - (x >> tp.DECAY_SHIFT))


class IsynRoundNearest(LearningCore):
    """Rounding: ``i_syn`` scaling rounds to nearest (``+ 2**(ISYN_SHIFT-1)``) instead of floor."""

    def isyn(self, m, code, inh):
        p = self.params
        half = (1 << (p.ISYN_SHIFT - 1)) if p.ISYN_SHIFT else 0
        return super().isyn(m, code + half, inh)


class WtaOff(LearningCore):
    """Scheduling order: a spike inhibits only the next timestep, not the neurons after it in this one."""

    def inhibited(self, inh, seen):
        return inh


class InstarRoundUp(LearningCore):
    """Rounding: the instar step rounds up (``ceil``) instead of the floor shift."""

    def instar_next(self, m, w, x):
        p = self.params
        k = p.INSTAR_SHIFT
        out = Signal(unsigned(p.update.W_BITS))
        r = (1 << k) - 1
        m.d.comb += out.eq(Mux(x >= p.X_TH, w + ((p.update.W_MAX - w + r) >> k), w - ((w + r) >> k)))
        return out


class IpUngated(LearningCore):
    """Scheduling: threshold windows keep counting in timesteps without ``in_learn`` (``IP_EN = 2``)."""

    def ip_enable(self, learn_t):
        return 1


class GatedNoFloor(LearningCore):
    """Saturation: the gated rule's depression step wraps below 0 instead of stopping at 0."""

    def gated_next(self, m, w, up, dn):
        p = self.params
        st, wmax = p.GATED_STEP, p.update.W_MAX
        out = Signal(unsigned(p.update.W_BITS))
        m.d.comb += out.eq(Mux(up, Mux(w > wmax - st, wmax, w + st), Mux(dn, w - st, w)))
        return out


MUTANTS = {
    "learn_before_trace": (LearnBeforeTrace, "scheduling order: learning uses x_pre before this timestep's update"),
    "pg_ignores_ready": (PgIgnoresReady, "handshake: program command dropped when pg_ready is low"),
    "resp_ignores_valid": (RespIgnoresValid, "handshake: read response latched before rd_resp_valid"),
    "trace_floor_decay": (TraceFloorDecay, "rounding: trace decay floors instead of ceil"),
    "isyn_round_nearest": (IsynRoundNearest, "rounding: i_syn scaling rounds to nearest instead of floor"),
    "wta_off": (WtaOff, "scheduling order: no inhibition of the neurons after a spike in the same timestep"),
    "instar_round_up": (InstarRoundUp, "rounding: instar step rounds up instead of floor"),
    "ip_ungated": (IpUngated, "scheduling: threshold windows count in timesteps without in_learn"),
    "gated_no_floor": (GatedNoFloor, "saturation: the gated rule's depression wraps below 0"),
}
"""Mutant name -> (component class, what it breaks)."""

COMPETITIVE = frozenset({"wta_off", "instar_round_up", "ip_ungated"})
"""Mutants that break a feature of the competitive core (``WTA = 1``, ``RULE = 1``, ``IP_EN = 2``): a
scoreboard sees them only on such a core with timesteps both with and without ``in_learn``."""

GATED = frozenset({"gated_no_floor"})
"""Mutants of the gated stepwise rule (``RULE = 2``): seen only on a core that runs it."""
