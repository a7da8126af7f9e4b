"""Formal bounded equivalence of the RTL units against in-HDL transcriptions of Contract 1."""
