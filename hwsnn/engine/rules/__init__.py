"""Built-in plasticity rules (each registers itself under its ``kind``)."""

from hwsnn.engine.rules.stdp import TripletSTDP  # noqa: F401

__all__ = ["TripletSTDP"]
