"""Built-in plasticity rules (each registers itself under its ``kind``)."""

from hwsnn.engine.rules.hetero import HeteroSTDP, HeteroSTDPInt
from hwsnn.engine.rules.scaling import SynapticScaling
from hwsnn.engine.rules.stdp import PairSTDP, PairSTDPInt, TripletSTDP, TripletSTDPInt

__all__ = ["TripletSTDP", "TripletSTDPInt", "PairSTDP", "PairSTDPInt", "HeteroSTDP", "HeteroSTDPInt",
           "SynapticScaling"]
