"""The learned rule family (hwsnn.engine.rules.pdlf) through the engine: fused hooks vs a direct
NumPy transcription of the update on forced rasters, zero coefficients, the normalisation
invariant and the integer twin."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.engine.contract import IntFormat, rule_class
from hwsnn.engine.rules.pdlf import INT_SHIFT, PDLF, PDLFInt, PDLFNorm, max_normalize_int, pdlf_rules
from hwsnn.snn import Network

DT = 1e-3
TAU = 0.005


def _rasters(seed, T=300, n_in=7, n_out=4, p_pre=0.08, p_post=0.06):
    rng = np.random.default_rng(seed)
    return ((rng.random((T, n_in)) < p_pre).astype(np.uint8), (rng.random((T, n_out)) < p_post).astype(np.uint8))


def _engine(pre, post, rules, w0, synapse="ideal"):
    net = Network(dt=DT, synapse=synapse, seed=3)
    net.add_input("x", pre.shape[1])
    net.add_input("y", post.shape[1])
    p = net.connect("x", "y", w=w0, rules=rules)
    net.run(pre.shape[0], inputs={"x": pre, "y": post})
    return p.weights()


def _reference(pre, post, w0, lr, A, B, C, D, variant, normalize, w_max=1.0):
    """Per step: presynaptic spikes (each: its row gets lr (A y - A C), clipped), then
    postsynaptic spikes (each: its column gets lr (A x + B), clipped); then + lr D and
    w / max(w); traces exp(-(t - t_last) dt / tau) of the last spike before this step."""
    a = lr * (A if variant == "ABCD" else 0.0)
    W = np.array(w0, float) * np.ones((pre.shape[1], post.shape[1]))
    last_x = np.full(pre.shape[1], -np.inf)
    last_y = np.full(post.shape[1], -np.inf)
    for t in range(pre.shape[0]):
        x = np.exp(-(t - last_x) * DT / TAU)
        y = np.exp(-(t - last_y) * DT / TAU)
        for i in np.flatnonzero(pre[t]):
            W[i, :] = np.clip(W[i, :] + a * y - a * C, 0.0, w_max)
        for j in np.flatnonzero(post[t]):
            W[:, j] = np.clip(W[:, j] + a * x + lr * B, 0.0, w_max)
        W = np.clip(W + lr * D, 0.0, w_max)
        if normalize and W.max() > 0:
            W = W * (w_max / W.max())
        last_x[pre[t] > 0] = t
        last_y[post[t] > 0] = t
    return W


@pytest.mark.parametrize("variant", ["ABCD", "BD"])
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("coefs", [(0.05, 1.0, 0.3, 0.4, 0.01), (0.02, -0.5, 0.8, -0.2, -0.02)])
def test_fused_rule_equals_reference(variant, normalize, coefs):
    pre, post = _rasters(1)
    lr, A, B, C, D = coefs
    w0 = 0.3 + 0.4 * np.random.default_rng(2).random((pre.shape[1], post.shape[1]))
    rules = pdlf_rules(lr, A, B, C, D, variant=variant, tau_pre=TAU, tau_post=TAU, normalize=normalize)
    got = _engine(pre, post, list(rules), w0)
    want = _reference(pre, post, w0, lr, A, B, C, D, variant, normalize)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert not np.allclose(got, w0)  # the rasters exercise the rule


def test_zero_coefficients_leave_weights():
    pre, post = _rasters(4)
    w0 = np.random.default_rng(5).random((pre.shape[1], post.shape[1]))
    w0 /= w0.max()
    for synapse in ("ideal", "int"):
        w_start = _engine(pre[:0], post[:0], [], w0, synapse)  # the backend's representation of w0
        got = _engine(pre, post, list(pdlf_rules(0.05, 0.0, 0.0, 0.0, 0.0)), w0, synapse)
        np.testing.assert_array_equal(got, w_start)


def test_normalisation_invariant():
    pre, post = _rasters(6, T=200)
    for T in (1, 17, 200):
        w = _engine(pre[:T], post[:T], list(pdlf_rules(0.05, 1.0, 0.2, 0.1, 0.005, w_max=0.8)), 0.1)
        # the network's weights live in [0, w_max=1]; the rule normalises to its own bound 0.8
        assert w.max() == pytest.approx(0.8, abs=1e-12)
        assert w.min() >= 0.0


def test_integer_norm_rounding():
    q = np.array([[0, 3, 7], [10, 1, 2]])
    np.testing.assert_array_equal(max_normalize_int(q, 255), np.floor(q * 255 / 10 + 0.5).astype(int))
    np.testing.assert_array_equal(max_normalize_int(np.zeros((2, 2), int), 255), 0)


def test_integer_twin_mantissas():
    r = PDLF(lr=0.01, A=0.7, B=-0.3, C=0.5, D=0.0, tau_pre=0.004, tau_post=0.004)
    t = r.to_int(IntFormat(8, 8), DT, 1.0)
    assert isinstance(t, PDLFInt)
    k = 255 * 2**INT_SHIFT
    assert t.M_B == round(-0.3 * 0.01 * k) and t.M_AC == round(0.7 * 0.5 * 0.01 * k)


@pytest.mark.parametrize("B", [1.0, -0.5])
def test_integer_twin_matches_float_postsynaptic_term(B):
    """The postsynaptic term has no trace: the twin's code change is a sum of unbiased stochastic
    roundings of the float change, within 4 standard deviations (at most ``sqrt(n) / 2`` codes
    for ``n`` postsynaptic spikes) of it, and unbiased over the synapses."""
    pre, post = _rasters(8, T=1500, p_pre=0.05, p_post=0.05)
    rules = list(pdlf_rules(0.004, 0.0, B, 0.0, 0.0, normalize=False))
    dwf = _engine(pre, post, rules, 0.5) - 0.5
    dwi = _engine(pre, post, rules, 0.5, "int") - _engine(pre[:0], post[:0], [], 0.5, "int")
    assert 0.02 < np.abs(dwf).min() and np.abs(dwf).max() < 0.45  # no clipping
    lsb = 1.0 / 255
    n_post = post.sum(axis=0)[None, :]
    assert np.all(np.abs(dwi - dwf) <= lsb * 4 * 0.5 * np.sqrt(n_post))
    assert abs((dwi - dwf).mean()) <= lsb * 4 * 0.5 * np.sqrt(n_post.max() / dwf.size)


def test_integer_twin_hebbian_term_mean():
    """The Hebbian term of the twin (stdp_trace traces, trace gain folded into M_A) changes the
    weights on average as the float rule does, within 10 %."""
    pre, post = _rasters(9, T=3000, n_in=10, n_out=6, p_pre=0.05, p_post=0.05)
    rules = list(pdlf_rules(0.003, 1.0, 0.0, 0.0, 0.0, tau_pre=0.004, tau_post=0.004, normalize=False))
    wf = _engine(pre, post, rules, 0.2) - 0.2
    wi = _engine(pre, post, rules, 0.2, "int") - _engine(pre[:0], post[:0], [], 0.2, "int")
    assert 0.05 < wf.mean() and (wf + 0.2).max() < 0.95
    assert abs(wi.mean() - wf.mean()) <= 0.1 * wf.mean()


def test_registered_and_refused_in_layer():
    assert rule_class("pdlf") is PDLF and rule_class("pdlf_norm") is PDLFNorm
    from hwsnn.engine.contract import CompileContext
    from hwsnn.errors import ConfigError

    with pytest.raises(ConfigError, match="rules.pdlf_norm"):
        PDLFNorm().consts(CompileContext(dt=DT, w_max=1.0, n_in=2, n_out=2, backend="ideal"))


def test_bad_coefficients_name_the_field():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="lr"):
        PDLF(lr=-1.0)
    with pytest.raises(ValidationError, match="variant"):
        PDLF(variant="XY")
