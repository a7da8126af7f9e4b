"""Multi-plasticity synergy and its mechanisms: heterosynaptic STDP, synaptic scaling, lambda."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from hwsnn.engine.layer import LayerNetwork
from hwsnn.engine.rules import HeteroSTDP, SynapticScaling, SynapticScalingInt, TripletSTDP
from hwsnn.engine.synergy import SynergyConfig, SynergyState
from hwsnn.config import RunConfig
from hwsnn.errors import ConfigError
from hwsnn.spec.lfsr import lfsr16_next

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


def test_column_normalisation_cancels_synaptic_scaling_on_ideal_synapses():
    # why synaptic scaling alone cannot change the main job on ideal synapses: the normalisation
    # before every learning sample restores each column's sum, undoing any per-column factor
    plain, c_plain = _run(_cfg(rules=[TripletSTDP(nu_pre=0.01, nu_post=0.05)]), rasters=_rasters(12))
    mech = [TripletSTDP(nu_pre=0.01, nu_post=0.05), SynapticScaling(eta=0.3)]
    scaled, c_scaled = _run(_cfg(rules=mech, synergy=SynergyConfig(form="shared")), rasters=_rasters(12))
    assert c_plain.sum() > 10 and c_plain.sum(axis=0).std() > 0  # unequal shares: scaling acts
    np.testing.assert_array_equal(c_scaled, c_plain)
    w_p, w_s = plain.weights(), scaled.weights()
    assert np.abs(w_s - w_p).max() > 1e-3  # the last sample's scaling, not yet normalised away
    scaled._before(True), plain._before(True)
    np.testing.assert_allclose(scaled.weights(), plain.weights(), rtol=1e-12, atol=1e-15)


def test_integer_synaptic_scaling_is_the_float_change_rounded_with_the_lfsr16():
    # reference: the float rule's relative change per column as 16-fraction-bit codes, and a plain
    # loop of stochastic rounding with the LFSR16 of hwsnn.spec (row-major, one advance per synapse)
    rule = SynapticScaling(eta=0.3, beta=0.5)
    twin = rule.to_int(None, 5e-4, 1.0)
    assert isinstance(twin, SynapticScalingInt) and twin.integer
    q = np.random.default_rng(2).integers(0, 256, size=(7, 5)).astype(np.int64)
    q[0, 2] = 250  # the silent neuron's column grows by 15 %: saturates
    st_i, st_f = rule.init_state(5), rule.init_state(5)
    lfsr = np.array([0xACE1], np.int64)
    r = 0xACE1
    for counts in (np.array([6, 3, 0, 1, 2]), np.array([0, 4, 4, 1, 9]), np.array([3, 3, 0, 8, 2])):
        dq = twin.sample_dq(st_i, q, counts, 255, lfsr, gain=0.5)
        rel = 0.5 * rule.sample_dw(st_f, np.ones((1, 5)), counts)[0]
        e = [round(x * 2**16) for x in rel]
        expect = q.copy()
        for i in range(7):
            for j in range(5):
                expect[i, j] = min(max(int(q[i, j]) + ((int(q[i, j]) * e[j] + (r & 0xFFFF)) >> 16), 0), 255)
                r = lfsr16_next(r)
        assert any(x < 0 for x in e) and any(x > 0 for x in e)
        np.testing.assert_array_equal(q + dq, expect)
        assert int(lfsr[0]) == r
        q = q + dq
    assert q.max() == 255


def test_integer_synaptic_scaling_is_unbiased():
    # 1.23 % of 100 codes = 1.23 codes per synapse on average; rounding to nearest or down would give 1
    rule = SynapticScalingInt(eta=0.0123, beta=1.0, target=1.0)
    st = rule.init_state(50)
    q = np.full((400, 50), 100, np.int64)
    dq = rule.sample_dq(st, q, np.zeros(50), 255, np.array([0x1234], np.int64))
    assert dq.mean() == pytest.approx(1.23, abs=0.02)


def test_integer_layer_scaling_uses_the_shared_lfsr_and_a_zero_lambda_is_no_step():
    mech = [TripletSTDP(nu_pre=0.01, nu_post=0.05), SynapticScaling(eta=0.3)]
    plain, c_plain = _run(_cfg("integer", rules=mech[:1]))
    off, c_off = _run(_cfg("integer", rules=mech, synergy=SynergyConfig(form="shared", lambdas=[1.0, 0.0])))
    assert c_plain.sum() > 10
    np.testing.assert_array_equal(off.wq, plain.wq)
    np.testing.assert_array_equal(c_off, c_plain)
    on1, _ = _run(_cfg("integer", rules=mech))
    on2, _ = _run(_cfg("integer", rules=mech))
    np.testing.assert_array_equal(on1.wq, on2.wq)  # deterministic
    assert not np.array_equal(on1.wq, plain.wq)  # and live
    assert on1._lfsr[0] != plain._lfsr[0]  # the scaling steps drew from the layer's LFSR16


def test_per_sample_rule_without_integer_twin_is_refused_on_the_integer_backend():
    class NoTwin(SynapticScalingInt):
        sample_dq: ClassVar = None

    with pytest.raises(ConfigError, match=r"rules\[1\].kind"):
        LayerNetwork(_cfg("integer", rules=[TripletSTDP(), NoTwin()]), 12, seed=0)


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
    with pytest.raises(ConfigError, match="synergy.lambdas"):
        SynergyConfig(form="shared", lambdas=[1.0, 2.0]).initial(3)
    with pytest.raises(ConfigError, match="synergy.form"):
        LayerNetwork(_cfg("integer", synergy=SynergyConfig(form="components")), 12, seed=0)
