"""``stdp_trace`` and ``stdp_update``: the synapse side of trace STDP (docs/hardware/fixed_point.md).

Mirror :mod:`hwsnn.golden.stdp` one to one.  ``stdp_update`` embeds its own LFSR16 through
:func:`hwsnn.hw.lfsr.lfsr16_next_expr`, so the generated Verilog is self-contained.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsnn.errors import ConfigError
from hwsnn.hw.lfsr import lfsr16_next_expr
from hwsnn.spec.lfsr import LFSR_TAPS, LFSR_WIDTH
from hwsnn.spec.units import StdpTraceParams, StdpUpdateParams

__all__ = ["StdpTrace", "StdpUpdate", "TRACE_MUTANTS", "UPDATE_MUTANTS"]

_T = StdpTraceParams()
_U = StdpUpdateParams()

TRACE_MUTANTS = {
    "no_ceil": "decay rounds down (x - (x >> DECAY_SHIFT)): the trace never reaches 0",
    "spike_value_off_by_one": "a spike sets x to 2**X_BITS - 2",
    "decay_without_step": "the trace decays on edges with step = 0",
}
"""Deliberate single-behaviour mutants of ``stdp_trace`` (tests only)."""

UPDATE_MUTANTS = {
    "r_minus_low_bits": "r_minus taken from LFSR bits 0.. instead of 8..",
    "w_max_off_by_one": "weight saturates at W_MAX - 1",
    "no_zero_clamp": "weight wraps below 0 instead of saturating",
    "lfsr_free_running": "LFSR advances on edges with valid = 0",
    "lfsr_wrong_tap": "LFSR feedback mask has one tap wrong",
    "out_valid_sticky": "out_valid is not cleared by valid = 0",
}
"""Deliberate single-behaviour mutants of ``stdp_update`` (tests only)."""


def _check_mutant(mutant, table):
    if mutant is not None and mutant not in table:
        raise ConfigError("_mutant", f"unknown mutant {mutant!r}; known: {', '.join(table)}")
    return mutant


class StdpTrace(wiring.Component):
    """Nearest-spike synaptic trace with ceil-decay.

    Parameters
    ----------
    X_BITS, DECAY_SHIFT : int
        Contract parameters, validated by :class:`hwsnn.spec.units.StdpTraceParams`
        (kept as ``self.params``).
    _mutant : str or None
        Tests only: one of :data:`TRACE_MUTANTS`.

    Attributes
    ----------
    step : In(1)
        Advance the trace on this edge (it holds otherwise).
    spike : In(1)
        Spike of this step: sets the trace to ``2**X_BITS - 1``.
    x : Out(X_BITS)
        Registered trace; without a spike ``x' = x - ceil(x / 2**DECAY_SHIFT)``.
    """

    def __init__(self, *, X_BITS: int = _T.X_BITS, DECAY_SHIFT: int = _T.DECAY_SHIFT, _mutant: str | None = None):
        self.params = StdpTraceParams(X_BITS=X_BITS, DECAY_SHIFT=DECAY_SHIFT)
        self._mutant = _check_mutant(_mutant, TRACE_MUTANTS)
        super().__init__({"step": In(1), "spike": In(1), "x": Out(self.params.X_BITS)})

    def elaborate(self, platform) -> Module:
        m = Module()
        p, mut = self.params, self._mutant
        x, k = self.x, p.DECAY_SHIFT
        # ceil(x / 2**k) = (x >> k) + (any of the k low bits set): no (X_BITS+k)-bit adder needed.
        low_bits_set = x[: min(k, p.X_BITS)].any() if k > 0 else 0
        decayed = x - (x >> k) if mut == "no_ceil" else x - (x >> k) - low_bits_set
        full = p.x_max - 1 if mut == "spike_value_off_by_one" else p.x_max
        with m.If(self.step):
            m.d.sync += x.eq(Mux(self.spike, full, decayed))
        if mut == "decay_without_step":
            with m.Else():
                m.d.sync += x.eq(decayed)
        return m


class StdpUpdate(wiring.Component):
    """Trace-STDP weight update with LFSR stochastic rounding; emits SET/RESET pulse counts.

    On an edge with ``valid=1``: potentiation ``dp = (x_pre*A_PLUS + r_plus) >> SHIFT_PLUS`` if
    ``post``, depression ``dm = (x_post*A_MINUS + r_minus) >> SHIFT_MINUS`` if ``pre``, with
    ``r_plus``/``r_minus`` bit fields of the LFSR state before it advances;
    ``w_new = clamp(w + dp - dm, 0, W_MAX)``.

    Parameters
    ----------
    W_BITS, W_MAX, X_BITS, A_PLUS, A_MINUS, SHIFT_PLUS, SHIFT_MINUS, LFSR_SEED : int
        Contract parameters, validated by :class:`hwsnn.spec.units.StdpUpdateParams`
        (kept as ``self.params``).
    _mutant : str or None
        Tests only: one of :data:`UPDATE_MUTANTS`.

    Attributes
    ----------
    valid : In(1)
        An update request on this edge.
    w : In(W_BITS)
        Current weight of the synapse.
    x_pre : In(X_BITS)
        Pre-synaptic trace (potentiation on a post spike).
    x_post : In(X_BITS)
        Post-synaptic trace (depression on a pre spike).
    pre : In(1)
        Pre-synaptic spike: apply depression.
    post : In(1)
        Post-synaptic spike: apply potentiation.
    out_valid : Out(1)
        Registered: the other outputs hold the result of the previous edge's request.
    w_new : Out(W_BITS)
        Registered new weight.
    n_set : Out(W_BITS)
        Registered SET pulse count ``max(w_new - w, 0)``.
    n_reset : Out(W_BITS)
        Registered RESET pulse count ``max(w - w_new, 0)``.
    """

    def __init__(
        self,
        *,
        W_BITS: int = _U.W_BITS,
        W_MAX: int = _U.W_MAX,
        X_BITS: int = _U.X_BITS,
        A_PLUS: int = _U.A_PLUS,
        A_MINUS: int = _U.A_MINUS,
        SHIFT_PLUS: int = _U.SHIFT_PLUS,
        SHIFT_MINUS: int = _U.SHIFT_MINUS,
        LFSR_SEED: int = _U.LFSR_SEED,
        _mutant: str | None = None,
    ):
        self.params = p = StdpUpdateParams(
            W_BITS=W_BITS, W_MAX=W_MAX, X_BITS=X_BITS, A_PLUS=A_PLUS, A_MINUS=A_MINUS,
            SHIFT_PLUS=SHIFT_PLUS, SHIFT_MINUS=SHIFT_MINUS, LFSR_SEED=LFSR_SEED,
        )
        self._mutant = _check_mutant(_mutant, UPDATE_MUTANTS)
        super().__init__(
            {
                "valid": In(1),
                "w": In(p.W_BITS),
                "x_pre": In(p.X_BITS),
                "x_post": In(p.X_BITS),
                "pre": In(1),
                "post": In(1),
                "out_valid": Out(1),
                "w_new": Out(p.W_BITS),
                "n_set": Out(p.W_BITS),
                "n_reset": Out(p.W_BITS),
            }
        )

    def elaborate(self, platform) -> Module:
        m = Module()
        p, mut = self.params, self._mutant
        lfsr = Signal(LFSR_WIDTH, init=p.LFSR_SEED)
        taps = LFSR_TAPS ^ 0x0800 if mut == "lfsr_wrong_tap" else LFSR_TAPS

        r_plus = lfsr[: p.SHIFT_PLUS]
        r_off = 0 if mut == "r_minus_low_bits" else p.R_MINUS_OFFSET
        r_minus = lfsr[r_off : r_off + p.SHIFT_MINUS]
        # The products are exact (Amaranth sizes ``x * const + r`` to hold its maximum); dp/dm are
        # sized to the largest shifted value.
        x_max = (1 << p.X_BITS) - 1
        dp = Signal(range(max(2, ((x_max * p.A_PLUS + (1 << p.SHIFT_PLUS) - 1) >> p.SHIFT_PLUS) + 1)))
        dm = Signal(range(max(2, ((x_max * p.A_MINUS + (1 << p.SHIFT_MINUS) - 1) >> p.SHIFT_MINUS) + 1)))
        m.d.comb += [
            dp.eq(Mux(self.post, (self.x_pre * p.A_PLUS + r_plus) >> p.SHIFT_PLUS, 0)),
            dm.eq(Mux(self.pre, (self.x_post * p.A_MINUS + r_minus) >> p.SHIFT_MINUS, 0)),
        ]
        # wn = clamp(w + dd, 0, W_MAX) with dd = dp - dm.  The saturation tests and the pulse
        # counts are taken from dd and the input w in parallel with the sum (no subtraction after
        # the clamp on the critical path):
        #   over  (w + dd > W_MAX): wn = W_MAX, n_set = max(W_MAX - w, 0), n_reset = max(w - W_MAX, 0)
        #   under (w + dd < 0):     wn = 0,     n_set = 0,                 n_reset = w
        #   else:                   wn = w + dd, n_set = max(dd, 0),       n_reset = max(-dd, 0)
        w_hi = p.W_MAX - 1 if mut == "w_max_off_by_one" else p.W_MAX
        dd = Signal(signed(max(len(dp), len(dm)) + 1))
        head = Signal(signed(p.W_BITS + 1))  # room to the upper bound; negative when w > W_MAX
        s = Signal(signed(max(p.W_BITS, len(dd)) + 2))
        over, under = Signal(), Signal()
        m.d.comb += [
            dd.eq(dp - dm),
            head.eq(w_hi - self.w),
            s.eq(self.w + dd),
            over.eq(dd > head),
            under.eq(0 if mut == "no_zero_clamp" else s < 0),
        ]
        wn = Mux(over, w_hi, Mux(under, 0, s))  # no_zero_clamp: negative sums wrap
        n_set = Mux(over, Mux(head > 0, head, 0), Mux(under, 0, Mux(dd > 0, dd, 0)))
        n_reset = Mux(over, Mux(head < 0, -head, 0), Mux(under, self.w, Mux(dd < 0, -dd, 0)))

        with m.If(self.valid):
            m.d.sync += [
                self.out_valid.eq(1),
                self.w_new.eq(wn),
                self.n_set.eq(n_set),
                self.n_reset.eq(n_reset),
                lfsr.eq(lfsr16_next_expr(lfsr, taps)),
            ]
        with m.Else():
            if mut != "out_valid_sticky":
                m.d.sync += self.out_valid.eq(0)
            if mut == "lfsr_free_running":
                m.d.sync += lfsr.eq(lfsr16_next_expr(lfsr, taps))
        return m
