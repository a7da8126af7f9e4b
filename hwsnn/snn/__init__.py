"""Spiking networks: encoders, pluggable synapses and the general multi-population network.

Neuron models and plasticity rules are the engine's (:mod:`hwsnn.engine.neurons`,
:mod:`hwsnn.engine.neurons_extra`, :mod:`hwsnn.engine.rules`); the per-step order is
:data:`~hwsnn.snn.network.STEP_ORDER` (documented in :mod:`hwsnn.snn.network`).
"""

from hwsnn.snn.encoders import *  # noqa: F401,F403
from hwsnn.snn.network import *  # noqa: F401,F403
from hwsnn.snn.synapses import *  # noqa: F401,F403
