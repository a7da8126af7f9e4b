"""Spiking networks: neuron models, encoders, pluggable synapses and the network engine.

The per-step order shared by every float model, integer twin and rule is
:data:`~hwsnn.snn.network.STEP_ORDER` (documented in :mod:`hwsnn.snn.network`).
"""

from hwsnn.snn.encoders import *  # noqa: F401,F403
from hwsnn.snn.network import *  # noqa: F401,F403
from hwsnn.snn.neurons import *  # noqa: F401,F403
from hwsnn.snn.synapses import *  # noqa: F401,F403
