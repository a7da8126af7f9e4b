"""Synapse-threshold synergistic learning (STL): spiking layers whose weights *and* per-neuron
thresholds are trained by surrogate-gradient backpropagation through time (NumPy, no deep-learning
framework), then deployed to the integer model and a memristor crossbar, and exchanged as NIR graphs.

* :mod:`hwsnn.stl.model` -- the network as a pure step function, Bernoulli input, population readout;
* :mod:`hwsnn.stl.train` -- BPTT with the arctan surrogate, Adam, the SL / TL / STL modes, the config;
* :mod:`hwsnn.stl.deploy` -- quantisation, the integer neuron, crossbar programming with write-verify,
  drift;
* :mod:`hwsnn.stl.nir_io` -- NIR export / import and the mapping onto the float engine.
* :mod:`hwsnn.stl.ssdp_post` -- SSDP post-optimisation of the last layer, input jitter and event noise.

The functions ``hwsnn.stl.train.train`` and ``hwsnn.stl.deploy.deploy`` are not re-exported here
(their names are those of their modules).  The method and the measured results are in
``docs/methods/stl.md``; the command is ``hwsnn stl``.
"""

from hwsnn.stl.model import (Layer, ModelParams, STLParams, STLState, StepOut, encode, forward, init_params,
                             initial_state, load_params, predict, readout, save_params, step)
from hwsnn.stl.train import (MODES, STLConfig, TaskParams, TrainParams, TrainResult, evaluate, loss_and_grads,
                             parse_stl_config)
from hwsnn.stl.deploy import DeployParams, IntNetwork, int_forward, quantize

__all__ = ["Layer", "ModelParams", "STLParams", "STLState", "StepOut", "encode", "forward", "init_params",
           "initial_state", "load_params", "predict", "readout", "save_params", "step", "MODES", "STLConfig",
           "TaskParams", "TrainParams", "TrainResult", "evaluate", "loss_and_grads", "parse_stl_config",
           "DeployParams", "IntNetwork", "int_forward", "quantize"]
