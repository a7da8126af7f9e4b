"""Golden model of the ``lfsr16`` unit (docs/hardware/fixed_point.md)."""

from __future__ import annotations

from typing import NamedTuple

from hwsnn.spec.lfsr import LFSR_TAPS, lfsr16_next
from hwsnn.spec.units import Lfsr16Params

__all__ = ["Lfsr16State", "Lfsr16In", "Lfsr16Out", "lfsr16_reset", "lfsr16_step"]


class Lfsr16State(NamedTuple):
    state: int


class Lfsr16In(NamedTuple):
    en: int


class Lfsr16Out(NamedTuple):
    state: int


def lfsr16_reset(params: Lfsr16Params) -> Lfsr16State:
    """State after a synchronous reset."""
    return Lfsr16State(state=params.LFSR_SEED)


def lfsr16_step(params: Lfsr16Params, state: Lfsr16State, inputs: Lfsr16In, taps: int = LFSR_TAPS):
    """One clock edge: advance when ``en``, otherwise hold.  Output is the registered state."""
    s = lfsr16_next(state.state, taps) if inputs.en else state.state
    return Lfsr16Out(state=s), Lfsr16State(state=s)
