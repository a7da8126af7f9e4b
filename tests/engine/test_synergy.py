"""Multi-plasticity synergy and its mechanisms: heterosynaptic STDP, synaptic scaling, lambda."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.engine.layer import LayerNetwork
from hwsnn.engine.rules import HeteroSTDP, SynapticScaling, TripletSTDP
from hwsnn.engine.synergy import SynergyConfig, SynergyState
from hwsnn.config import RunConfig

TINY = {"network.n_exc": 5, "schedule.t_present": 0.040, "schedule.t_rest": 0.010, "schedule.max_rate": 400.0,
        "schedule.fast_forward": False, "rules[0].nu_post": 0.05, "rules[0].nu_pre": 0.01,
        "homeostasis.theta_plus": 5e-4, "homeostasis.norm_per_input": 0.3, "schedule.rerun_min_spikes": 0,
        "synapse.device.preset": "sto"}
"""A tiny, fast-firing 12-input network (dotted overrides of the RunConfig defaults, SI units)."""


def _cfg(backend="ideal", rules=None, synergy=None, overrides=None):
    cfg = RunConfig().with_overrides({**TINY, "synapse.backend": backend, **(overrides or {})})
    changes = {"synergy": synergy or SynergyConfig()}
    if rules is not None:
        changes["rules"] = list(rules)
    return cfg.replace(**changes)


def _rasters(n=8, seed=0, p=0.2):
    rng = np.random.default_rng(seed)
    return [rng.random((80, 12)) < p for _ in range(n)]


def _run(cfg, seed=3, rasters=None):
    net = LayerNetwork(cfg, 12, seed=seed)
    counts = [net.present_raster(r) for r in (rasters or _rasters())]
    return net, np.array(counts)


@pytest.mark.parametrize("backend", ["ideal", "crossbar"])
@pytest.mark.parametrize("form", ["shared", "components"])
def test_synergy_with_one_lambda_equals_the_single_mechanism(backend, form):
    stdp = TripletSTDP(nu_pre=0.01, nu_post=0.05, nu_post_crossbar=0.05)
    plain, c_plain = _run(_cfg(backend, rules=[stdp]))
    mech = [stdp, HeteroSTDP(eta=0.2, x_th=0.5), SynapticScaling(eta=0.3)]
    syn, c_syn = _run(_cfg(backend, rules=mech, synergy=SynergyConfig(form=form, lambdas=[1.0, 0.0, 0.0])))
    assert c_plain.sum() > 10
    np.testing.assert_array_equal(c_syn, c_plain)
    np.testing.assert_array_equal(syn.weights(), plain.weights())
    # and the other mechanisms are live: equal lambdas change the outcome
    other, _ = _run(_cfg(backend, rules=mech, synergy=SynergyConfig(form=form)))
    assert not np.array_equal(other.weights(), plain.weights())


def test_hetero_stdp_depresses_only_unstimulated_afferents_toward_w_ref():
    # forced raster: inputs 0-5 spike at step 10, neuron spikes are driven strongly at step 11
    rule = HeteroSTDP(eta=0.25, w_ref=0.05, x_th=0.5)
    cfg = _cfg(rules=[rule], overrides={"homeostasis.norm_per_input": 0.0, "homeostasis.theta_plus": 0.0,
                                        "schedule.t_rest": 0.0, "network.efficacy": 20.0})
    net = LayerNetwork(cfg, 12, seed=1)
    w0 = net.weights()
    r = np.zeros((80, 12), bool)
    r[10:14, :6] = True
    counts = net.present_raster(r, learn=True)
    assert counts.sum() > 0
    w1 = net.weights()
    fired = counts > 0
    # reference: every post spike of j scales (w - w_ref) of the unstimulated rows by (1 - eta)
    expect = w0.copy()
    for j in np.flatnonzero(fired):
        expect[6:, j] = rule.w_ref + (w0[6:, j] - rule.w_ref) * (1 - rule.eta) ** counts[j]
    np.testing.assert_allclose(w1[:, fired], expect[:, fired], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(w1[:, ~fired], w0[:, ~fired])  # silent neurons untouched
    np.testing.assert_array_equal(w1[:6], w0[:6])  # stimulated rows untouched


def test_synaptic_scaling_moves_toward_equal_share():
    rule = SynapticScaling(eta=0.5, beta=1.0)
    st = rule.init_state(3)
    w = np.ones((4, 3))
    dw = rule.sample_dw(st, w, np.array([6, 3, 0]))
    # layer mean 3: the busy neuron shrinks by eta * (3 - 6) / 3 = -0.5, the silent grows by +0.5
    np.testing.assert_allclose(dw[0], [-0.5, 0.0, 0.5])


def test_credit_rule_raises_the_lambda_of_the_mechanism_that_covaries_with_margin():
    cfg = SynergyConfig(form="shared", adapt="credit", eta=1.0, beta=0.5, lam_min=0.0)
    lam = cfg.initial(2)
    st = SynergyState(cfg, lam)
    rng = np.random.default_rng(0)
    for _ in range(200):
        good = rng.random() < 0.5  # samples where mechanism 0 dominates have decisive winners
        counts = np.array([10, 1, 0]) if good else np.array([5, 4, 4])
        contrib = np.array([3.0, 1.0]) if good else np.array([1.0, 3.0])
        st.update(lam, counts, contrib)
    assert lam[0] > 1.5 > lam[1]
    assert lam.sum() == pytest.approx(2.0)  # the initial total is kept
    assert len(st.history) == 201


def test_synergy_config_errors():
    from hwsnn.errors import ConfigError

    with pytest.raises(ConfigError, match="synergy.lambdas"):
        SynergyConfig(form="shared", lambdas=[1.0, 2.0]).initial(3)
    with pytest.raises(ConfigError, match="synergy.form"):
        LayerNetwork(_cfg("integer", synergy=SynergyConfig(form="components")), 12, seed=0)
