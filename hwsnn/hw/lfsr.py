"""``lfsr16``: 16-bit Galois LFSR (docs/hardware/fixed_point.md), also embedded by every unit that rounds."""

from __future__ import annotations

from amaranth import Elaboratable, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsnn.spec.lfsr import LFSR_TAPS, LFSR_WIDTH
from hwsnn.spec.units import Lfsr16Params

__all__ = ["Lfsr16", "lfsr16_next_expr", "LFSR_MUTANTS"]

LFSR_MUTANTS = {"taps": "feedback mask with one tap wrong (constructor taps=LFSR_TAPS ^ 0x0800)"}
"""Deliberate mutants of ``lfsr16`` (tests only; built through the ``taps`` constructor argument)."""


def lfsr16_next_expr(s, taps: int = LFSR_TAPS):
    """Amaranth expression for one Galois advance of ``s`` (``Value`` of width 16).

    Shared by every component that embeds an LFSR, so the feedback is written once.
    """
    return (s >> 1) ^ (s[0].replicate(LFSR_WIDTH) & taps)


class Lfsr16(wiring.Component):
    """16-bit Galois LFSR with enable.

    Parameters
    ----------
    LFSR_SEED : int
        Reset state (non-zero).
    taps : int
        Feedback mask; only for building deliberate mutants in tests (the contract fixes it).

    Attributes
    ----------
    en : In(1)
        Advance once on this clock edge.
    state : Out(16)
        Registered LFSR state.
    """

    def __init__(self, *, LFSR_SEED: int = Lfsr16Params.LFSR_SEED, taps: int = LFSR_TAPS):
        self.params = Lfsr16Params(LFSR_SEED=LFSR_SEED)
        self._taps = taps
        super().__init__({"en": In(1), "state": Out(LFSR_WIDTH, init=self.params.LFSR_SEED)})

    def elaborate(self, platform) -> Module:
        m = Module()
        with m.If(self.en):
            m.d.sync += self.state.eq(lfsr16_next_expr(self.state, self._taps))
        return m
