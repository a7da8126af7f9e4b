"""Bit-exact integer models of every RTL unit.

Each unit is a pure step function ``step(params, state, inputs) -> (outputs, state)`` over
small frozen NamedTuples (norse's functional shape).  The RTL must agree with these on every
output of every cycle; the cocotb benches and Amaranth-simulator tests import them as the
reference model.
"""
