"""Network.connect(mask=...): sparse (and recurrent) projections whose absent synapses no rule touches."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.engine.neurons import LifStepwiseNeuron
from hwsnn.engine.neurons_extra import LifStepwiseFloatNeuron
from hwsnn.engine.rules import StepwiseGated
from hwsnn.errors import ConfigError
from hwsnn.snn import Network, poisson_raster
from hwsnn.spec.units import LifStepwiseParams

P = LifStepwiseParams(THETA_BASE=100, THETA_STEP=20, LEVELS=1, LEARN_UP=90, LEARN_DN=100)  # up when v >= 10


@pytest.mark.parametrize("backend", ["int", "ideal"])
def test_masked_recurrent_projection(backend):
    rng = np.random.default_rng(0)
    n = 12
    neuron = LifStepwiseNeuron(unit=P) if backend == "int" else LifStepwiseFloatNeuron(**P.as_dict())
    net = Network(synapse=backend, seed=1)
    net.add_input("in", 8)
    net.add_population("pop", neuron, n)
    gain = 4 if backend == "int" else 4.0 * 255
    net.connect("in", "pop", w=rng.integers(5, 40, (8, n)) / 255, gain=gain)  # neurons out of sync
    mask = rng.random((n, n)) < 0.3
    np.fill_diagonal(mask, False)
    w0 = rng.integers(1, 30, (n, n)) / 255
    rec = net.connect("pop", "pop", w=w0, mask=mask, rule=StepwiseGated(w_step=1 / 255), gain=gain)
    w_start = rec.syn.weights()
    assert np.all(w_start[~mask] == 0) and np.allclose(w_start[mask], np.rint(w0[mask] * 255) / 255)
    out = net.run(400, {"in": poisson_raster(np.full(8, 60.0), 400, seed=2)})
    w = rec.syn.weights()
    assert out.counts("pop").sum() > 50
    assert np.all(w[~mask] == 0)  # absent synapses never learn
    assert np.any((w - w_start)[mask] > 0)  # existing ones do (and are potentiated)


def test_recurrent_delivery_has_one_step_delay():
    net = Network(synapse="int")
    net.add_input("kick", 1)
    pop = net.add_population("pop", LifStepwiseNeuron(unit=LifStepwiseParams(THETA_BASE=50, REFRACTORY=0)), 2)
    net.connect("kick", "pop", w=np.array([[1.0, 0.0]]), gain=1)  # 255 codes: neuron 0 fires
    mask = np.array([[False, True], [False, False]])
    net.connect("pop", "pop", w=1.0, mask=mask, gain=1)  # 0 -> 1 only
    kick = np.zeros((4, 1), np.uint8)
    kick[0, 0] = 1
    spk = net.run(4, {"kick": kick}).spikes["pop"]
    np.testing.assert_array_equal(spk[:, 0], [0, 1, 0, 0])
    np.testing.assert_array_equal(spk[:, 1], [0, 0, 1, 0])
    assert pop.v[1] == 0


def test_bad_mask():
    net = Network()
    net.add_input("in", 3)
    net.add_input("out", 2)
    with pytest.raises(ConfigError) as e:
        net.connect("in", "out", w=0.1, mask=np.ones((2, 3), bool))
    assert e.value.field == "mask"
    with pytest.raises(ConfigError) as e:
        net.connect("in", "out", w=0.1, mask=np.full((3, 2), 0.5))
    assert e.value.field == "mask"


@pytest.mark.parametrize("backend", ["int", "ideal"])
def test_masked_projection_with_a_slow_rule(backend):
    """Stepwise scaling, whose up-step adds one code even to a zero weight, leaves the absent
    synapses at 0 and scales the existing ones up."""
    from hwsnn.engine.rules import StepwiseScaling

    rng = np.random.default_rng(5)
    net = Network(synapse=backend, seed=0)
    net.add_input("in", 10)
    net.add_input("out", 4)
    mask = rng.random((10, 4)) < 0.5
    w0 = np.rint(rng.uniform(0.05, 0.1, (10, 4)) * 255) / 255
    proj = net.connect("in", "out", w=w0, mask=mask, rules=[StepwiseScaling(target=5.0, delta=0.1, period=20)])
    net.run(60, {"in": poisson_raster(np.full(10, 40.0), 60, seed=1)})
    w = proj.syn.weights()
    assert np.all(w[~mask] == 0)
    assert np.all(w[mask] > w0[mask])  # three up-steps happened
