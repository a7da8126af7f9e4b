"""Float neuron kernels against analytic solutions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hwsnn.errors import ConfigError
from hwsnn.snn import CondLIFParams, DiehlCookParams, LIFParams, make_population


def test_lif_delta_constant_input_spike_times():
    """Constant input I per step from reset: v_k = I (1 - d^k)/(1 - d); first k with v_k >= v_th,
    then REF steps held at reset -> period k* + REF."""
    p = LIFParams(tau_m=20e-3, v_th=1.0, t_ref=3e-3)
    dt, I = 1e-3, 0.08
    d = math.exp(-dt / p.tau_m)
    k_star = next(k for k in range(1, 1000) if I * (1 - d ** k) / (1 - d) >= p.v_th)
    pop = make_population(p, 1, dt)
    times = [t for t in range(300) if pop.step(np.array([I]), np.zeros(1))[0]]
    assert times[0] == k_star - 1  # step index 0 is the first integration
    assert np.all(np.diff(times) == k_star + 3)


def test_lif_exponential_synapse_steady_state():
    p = LIFParams(tau_m=10e-3, tau_syn=5e-3, v_th=100.0)
    pop = make_population(p, 1, 1e-3)
    d_s = math.exp(-1e-3 / 5e-3)
    for _ in range(500):
        pop.step(np.array([0.2]), np.zeros(1))
    # synaptic current converges to 0.2 / (1 - d_s), and v to it
    assert pop.isyn[0] == pytest.approx(0.2 / (1 - d_s))
    assert pop.v[0] == pytest.approx(0.2 / (1 - d_s), rel=1e-6)


def test_cond_lif_matches_ode_with_held_conductances():
    p = CondLIFParams(v_th=100.0, t_ref=0.0, tau_ge=1e-3, tau_gi=2e-3)
    dt = 1e-3
    pop = make_population(p, 1, dt)
    rng = np.random.default_rng(0)
    v = p.v_rest
    ge = gi = 0.0
    for _ in range(50):
        ie, ii = rng.random() * 2, rng.random() * 2
        ge = ge * math.exp(-dt / p.tau_ge) + ie
        gi = gi * math.exp(-dt / p.tau_gi) + ii
        sol = solve_ivp(lambda t, y: [((p.v_rest - y[0]) + ge * (p.e_exc - y[0]) + gi * (p.e_inh - y[0])) / p.tau_m],
                        (0, dt), [v], rtol=1e-10, atol=1e-12)
        v = sol.y[0, -1]
        pop.step(np.array([ie]), np.array([ii]))
        assert pop.v[0] == pytest.approx(v, abs=1e-7)


def test_cond_lif_no_overshoot_with_huge_conductance():
    p = CondLIFParams(v_th=100.0)
    pop = make_population(p, 1, 1e-3)
    pop.step(np.zeros(1), np.array([1e6]))
    assert p.e_inh <= pop.v[0] <= p.v_rest


def test_diehl_cook_theta_adapts_and_decays():
    p = DiehlCookParams(tau_theta=0.1)  # short decay to see it
    dt = 1e-3
    pop = make_population(p, 2, dt)
    spikes = 0
    for _ in range(200):
        spikes += pop.step(np.array([5.0, 0.0]), np.zeros(2))[0]
    assert spikes > 0 and pop.theta[1] == 0.0
    theta = pop.theta[0]
    for _ in range(100):
        pop.step(np.zeros(2), np.zeros(2))
    assert pop.theta[0] == pytest.approx(theta * math.exp(-100 * dt / 0.1))
    # frozen while not learning
    pop2 = make_population(p, 1, dt)
    for _ in range(200):
        pop2.step(np.array([5.0]), np.zeros(1), learning=False)
    assert pop2.theta[0] == 0.0


@pytest.mark.parametrize("cls,field,value", [
    (LIFParams, "tau_m", 0.0),
    (LIFParams, "v_reset", 2.0),
    (CondLIFParams, "e_inh", 10.0),
    (CondLIFParams, "tau_ge", -1.0),
    (DiehlCookParams, "theta_plus", -0.1),
])
def test_bad_neuron_config(cls, field, value):
    with pytest.raises(ConfigError) as e:
        cls(**{field: value})
    assert e.value.field == field


def test_bad_population_size():
    with pytest.raises(ConfigError) as e:
        make_population(LIFParams(), 0, 1e-3)
    assert e.value.field == "n"
