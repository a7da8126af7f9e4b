"""Engine neuron models stepped through their hooks (as hwsnn.snn.Network does) against analytic
solutions: current LIF (delta / exponential synapse, adaptive threshold), the conductance LIF of
Diehl & Cook against an ODE solver, no overshoot, config validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError
from scipy.integrate import solve_ivp

from hwsnn.engine.neurons import DiehlCookNeuron, InhibitoryNeuron
from hwsnn.engine.neurons_extra import LifNeuron, LifStepwiseFloatNeuron
from hwsnn.snn import Population


def _step(pop: Population, ie, ii=0.0, learn=True) -> np.ndarray:
    """decay, integrate ``ie``/``ii`` into ``ge``/``gi``, update; returns the 0/1 spike vector."""
    pop.hooks.decay(pop.c, pop.s)
    pop.s.ge[:] += ie
    pop.s.gi[:] += ii
    k = pop.hooks.update(pop.c, pop.s, learn, pop.spk)
    out = np.zeros(pop.n, np.int64)
    out[pop.spk[:k]] = 1
    return out


def test_lif_delta_constant_input_spike_times():
    """Constant input I per step from reset: v_k = I (1 - d^k)/(1 - d); first k with v_k >= v_th,
    then REF steps held at reset -> period k* + REF."""
    p = LifNeuron(tau_m=20e-3, v_thresh=1.0, refractory=3e-3)
    dt, I = 1e-3, 0.08
    d = math.exp(-dt / p.tau_m)
    k_star = next(k for k in range(1, 1000) if I * (1 - d ** k) / (1 - d) >= p.v_thresh)
    pop = Population(p, 1, dt)
    times = [t for t in range(300) if _step(pop, I)[0]]
    assert times[0] == k_star - 1  # step index 0 is the first integration
    assert np.all(np.diff(times) == k_star + 3)


def test_lif_exponential_synapse_steady_state():
    p = LifNeuron(tau_m=10e-3, tau_syn=5e-3, v_thresh=100.0)
    pop = Population(p, 1, 1e-3)
    d_s = math.exp(-1e-3 / 5e-3)
    for _ in range(500):
        _step(pop, 0.2)
    # synaptic current converges to 0.2 / (1 - d_s), and v to it
    assert pop.isyn[0] == pytest.approx(0.2 / (1 - d_s))
    assert pop.v[0] == pytest.approx(0.2 / (1 - d_s), rel=1e-6)


def test_lif_adaptive_threshold_closed_form():
    """theta: +theta_plus per spike while learning, times exp(-dt/tau_theta) per step; frozen
    increments while not learning."""
    p = LifNeuron(tau_m=20e-3, v_thresh=1.0, refractory=0.0, theta_plus=0.1, tau_theta=0.05)
    dt = 1e-3
    pop = Population(p, 2, dt)
    d = math.exp(-dt / p.tau_theta)
    theta = np.zeros(2)
    for t in range(300):
        s = _step(pop, np.array([0.3, 0.0]), learn=t < 200)
        theta = theta * d + (p.theta_plus * s if t < 200 else 0.0)
    np.testing.assert_allclose(pop.theta, theta, rtol=1e-12)
    assert pop.theta[0] > 0 and pop.theta[1] == 0.0


def test_lif_skip_equals_steps():
    """The closed-form fast-forward of a quiescent population equals stepping it."""
    p = LifNeuron(tau_m=10e-3, v_thresh=100.0, theta_plus=0.0, tau_theta=0.2, theta_init=1.5)
    a, b = Population(p, 3, 1e-3), Population(p, 3, 1e-3)
    for pop in (a, b):
        pop.s.v[:] = [0.5, -0.2, 3.0]
    for _ in range(37):
        _step(a, 0.0)
    assert not b.hooks.busy(b.c, b.s)
    b.hooks.skip(b.c, b.s, 37)
    np.testing.assert_allclose(b.v, a.v, rtol=1e-12)
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-12)


@pytest.mark.parametrize("cls", [DiehlCookNeuron, InhibitoryNeuron])
def test_cond_lif_matches_ode_with_held_conductances(cls):
    p = cls(v_thresh=1.0, refractory=0.0)  # never fires (mV inside: v stays below 1000 mV)
    dt = 1e-3
    pop = Population(p, 1, dt)
    rng = np.random.default_rng(0)
    ms = 1e3
    v = p.v_rest * ms
    ge = gi = 0.0
    e_inh = p.e_inh * ms if cls is DiehlCookNeuron else 0.0
    tau_gi = p.tau_gi if cls is DiehlCookNeuron else math.inf
    for _ in range(50):
        ie = rng.random() * 2
        ii = rng.random() * 2 if cls is DiehlCookNeuron else 0.0
        ge = ge * math.exp(-dt / p.tau_ge) + ie
        gi = gi * math.exp(-dt / tau_gi) + ii
        sol = solve_ivp(lambda t, y: [((p.v_rest * ms - y[0]) + ge * (p.e_exc * ms - y[0]) + gi * (e_inh - y[0]))
                                      / (p.tau_m * ms)], (0, dt * ms), [v], rtol=1e-10, atol=1e-12)
        v = sol.y[0, -1]
        _step(pop, ie, ii)
        assert pop.v[0] == pytest.approx(v, abs=1e-7)


def test_cond_lif_no_overshoot_with_huge_conductance():
    p = DiehlCookNeuron(v_thresh=1.0)
    pop = Population(p, 1, 1e-3)
    _step(pop, 0.0, 1e6)
    assert p.e_inh * 1e3 <= pop.v[0] <= p.v_rest * 1e3


def test_stepwise_float_twin_learn_flags():
    p = LifStepwiseFloatNeuron(THETA_BASE=100.0, THETA_STEP=20.0, LEARN_UP=30.0, LEARN_DN=60.0, LEVEL_INIT=1)
    pop = Population(p, 4, 1e-3)
    pop.s.v[:] = [95.0, 90.0, 59.9, 60.0]  # theta = 120
    up, dn = pop.learn_flags()
    np.testing.assert_array_equal(up, [True, True, False, False])
    np.testing.assert_array_equal(dn, [False, False, True, False])


@pytest.mark.parametrize("cls,field,value", [
    (LifNeuron, "tau_m", 0.0),
    (LifNeuron, "v_reset", 2.0),
    (LifNeuron, "tau_syn", -1.0),
    (DiehlCookNeuron, "tau_ge", -1.0),
    (LifStepwiseFloatNeuron, "LEVELS", 0),
])
def test_bad_neuron_config(cls, field, value):
    with pytest.raises(ValidationError) as e:
        cls(**{field: value})
    assert field in str(e.value) or "v_reset" in str(e.value)


def test_stepwise_float_twin_closed_form():
    """Below threshold the float twin is linear: constant input I gives
    ``v_k = I (1 - (1 - 2**-s)**k) / 2**-s`` (no floor in the leak, no rounding of the input)."""
    p = LifStepwiseFloatNeuron(LEAK_SHIFT=3, THETA_BASE=1e4)
    pop = Population(p, 1, 1e-3)
    a = 2.0 ** -3
    for k in range(1, 40):
        _step(pop, 7.3)
        assert pop.v[0] == pytest.approx(7.3 * (1 - (1 - a) ** k) / a, rel=1e-12)


@pytest.mark.parametrize("neuron", [LifNeuron(v_thresh=3.0, tau_m=0.02, refractory=2e-3),
                                    LifStepwiseFloatNeuron(THETA_BASE=6.0, THETA_STEP=1.0, WINDOW=8, RATE_HI=1)])
def test_new_neurons_run_in_the_layer_kernel_as_in_network(neuron):
    """The same hooks in the main job's fused layer kernel and in Network: with no inhibition and no
    learning, the layer (input integrated in the same step) spikes like a Network fed the raster one
    step earlier (its one-step synaptic delay)."""
    from hwsnn.config import parse_config
    from hwsnn.engine.layer import LayerNetwork
    from hwsnn.snn import Network

    cfg = parse_config({"network": {"n_exc": 8, "efficacy": 4.0, "inhibition": "direct", "w_inh_total": 0.0},
                        "homeostasis": {"norm_per_input": 0.0}, "rules": [], "neuron": neuron.model_dump(),
                        "synapse": {"backend": "ideal"}})
    layer = LayerNetwork(cfg, 50, seed=3, record=True)
    n_on = layer.n_on
    raster = np.random.default_rng(4).random((n_on, 50)) < 0.05
    np.clip(layer.w, 0.0, None, out=layer.w)  # the layer's initial weights may dip below 0
    w = layer.weights()
    counts = layer.present_raster(raster, learn=False)
    net = Network(dt=layer.dt)
    net.add_input("in", 50)
    pop = net.add_population("exc", neuron, 8)
    net.connect("in", "exc", w=w, gain=4.0, w_max=float(w.max()) + 1e-9)
    out = net.run(n_on + 1, {"in": np.vstack([raster, np.zeros((1, 50), bool)])}, learning=False)
    assert counts.sum() > 5
    np.testing.assert_array_equal(out.spikes["exc"][1:].sum(0), counts)
    np.testing.assert_array_equal(out.spikes["exc"][1:], layer.record.spikes[:n_on])
    np.testing.assert_allclose(pop.v, layer.record.v[n_on - 1], rtol=1e-13, atol=1e-13)
