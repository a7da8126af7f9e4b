"""Formal bounded equivalence of the RTL units against in-HDL transcriptions of their
contracts (docs/hardware/fixed_point.md)."""
