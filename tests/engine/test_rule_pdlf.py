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
    shape = (pre.shape[1], post.shape[1])
    # every coefficient as an (n_in, n_out) matrix: a number is the same on every synapse
    A, B, C, D = (np.broadcast_to(np.asarray(v, float), shape) for v in (A, B, C, D))
    a = lr * (A if variant == "ABCD" else 0.0) * np.ones(shape)
    W = np.array(w0, float) * np.ones(shape)
    last_x = np.full(pre.shape[1], -np.inf)
    last_y = np.full(post.shape[1], -np.inf)
    for t in range(pre.shape[0]):
        x = np.exp(-(t - last_x) * DT / TAU)
        y = np.exp(-(t - last_y) * DT / TAU)
        for i in np.flatnonzero(pre[t]):
            W[i, :] = np.clip(W[i, :] + a[i] * y - a[i] * C[i], 0.0, w_max)
        for j in np.flatnonzero(post[t]):
            W[:, j] = np.clip(W[:, j] + a[:, j] * x + lr * B[:, j], 0.0, w_max)
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


def _synapse_coefs(seed, shape):
    """Distinct per-synapse coefficients of both signs (A, B, C, D)."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(-0.5, 1.5, shape), rng.uniform(-0.6, 0.8, shape), rng.uniform(-0.3, 0.6, shape),
            rng.uniform(-0.02, 0.01, shape))


@pytest.mark.parametrize("variant", ["ABCD", "BD"])
@pytest.mark.parametrize("normalize", [False, True])
def test_per_synapse_rule_equals_reference(variant, normalize):
    # the indexed hooks read each synapse's own coefficients, on a projection that is not square
    pre, post = _rasters(11)
    shape = (pre.shape[1], post.shape[1])
    A, B, C, D = _synapse_coefs(12, shape)
    w0 = 0.3 + 0.4 * np.random.default_rng(13).random(shape)
    rules = pdlf_rules(0.05, A, B, C, D, variant=variant, tau_pre=TAU, tau_post=TAU, normalize=normalize)
    assert rules[0].per_synapse and rules[0].hooks().indexed
    got = _engine(pre, post, list(rules), w0)
    want = _reference(pre, post, w0, 0.05, A, B, C, D, variant, normalize)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    # per-synapse coefficients matter: the transposed-in-place matrices give other weights
    other = _engine(pre, post, list(pdlf_rules(0.05, A[::-1], B[::-1], C[::-1], D[::-1], variant=variant,
                                               tau_pre=TAU, tau_post=TAU, normalize=normalize)), w0)
    assert np.abs(other - got).max() > 1e-3


@pytest.mark.parametrize("synapse", ["ideal", "int"])
def test_uniform_matrices_equal_layer_coefficients(synapse):
    # a matrix whose entries are all equal is the per-layer rule, bit for bit (integer: same
    # mantissas, same LFSR sequence)
    pre, post = _rasters(14, T=400)
    shape = (pre.shape[1], post.shape[1])
    co = (0.8, -0.3, 0.25, 0.004)
    layer = _engine(pre, post, list(pdlf_rules(0.05, *co)), 0.4, synapse)
    mats = [np.full(shape, v) for v in co]
    syn = _engine(pre, post, list(pdlf_rules(0.05, *mats)), 0.4, synapse)
    np.testing.assert_array_equal(syn, layer)
    assert not np.allclose(layer, _engine(pre[:0], post[:0], [], 0.4, synapse))


@pytest.mark.parametrize("synapse", ["ideal", "int"])
def test_per_synapse_is_layer_rules_assembled(synapse):
    # without the normalisation (which couples synapses) a synapse's change depends only on its own
    # coefficients and, integer, on the LFSR values at its positions in the sweep -- the same for
    # every coefficient set on the same rasters; so each synapse picks one of three coefficient
    # sets and must end where the per-layer rule of that set puts it
    pre, post = _rasters(17, T=500)
    shape = (pre.shape[1], post.shape[1])
    sets = [(1.2, -0.4, 0.3, 0.0), (-0.6, 0.7, 0.1, 0.0), (0.4, 0.2, -0.5, 0.0)]
    pick = np.random.default_rng(18).integers(0, 3, shape)
    mats = [np.choose(pick, [s_[k] for s_ in sets]) for k in range(4)]
    got = _engine(pre, post, list(pdlf_rules(0.02, *mats, normalize=False)), 0.4, synapse)
    want = np.zeros(shape, got.dtype)
    for k, co in enumerate(sets):
        layer = _engine(pre, post, list(pdlf_rules(0.02, *co, normalize=False)), 0.4, synapse)
        want[pick == k] = layer[pick == k]
    np.testing.assert_array_equal(got, want)
    assert len(np.unique(got)) > 10


def test_per_synapse_integer_twin_mantissas_and_reference():
    # the twin's mantissa matrices are the per-layer twin's rounding applied to each synapse
    shape = (3, 2)
    A, B, C, D = _synapse_coefs(15, shape)
    ev, slow = pdlf_rules(0.01, A, B, C, D, tau_pre=0.004, tau_post=0.004)
    fmt = IntFormat(8, 8)
    ti, si = ev.to_int(fmt, DT, 1.0), slow.to_int(fmt, DT, 1.0)
    assert ti.per_synapse and ti.hooks().indexed
    for i in range(shape[0]):
        for j in range(shape[1]):
            t1 = PDLF(lr=0.01, A=A[i, j], B=B[i, j], C=C[i, j], tau_pre=0.004, tau_post=0.004).to_int(fmt, DT, 1.0)
            for m in ("M_AX", "M_AY", "M_AC", "M_B"):
                assert getattr(ti, m)[i][j] == getattr(t1, m), (m, i, j)
            assert si.M_D[i][j] == PDLFNorm(lr=0.01, D=D[i, j]).to_int(fmt, DT, 1.0).M_D


def test_per_synapse_shape_mismatch_names_the_field():
    from hwsnn.errors import ConfigError

    pre, post = _rasters(16, T=20)
    bad = np.zeros((post.shape[1], pre.shape[1]))  # transposed
    with pytest.raises(ConfigError, match=r"rules\.pdlf\.B.*\(7, 4\)"):
        _engine(pre, post, list(pdlf_rules(0.05, 0.0, bad, 0.0, 0.0)), 0.4)
    with pytest.raises(ConfigError, match=r"rules\.pdlf\.D"):  # the event rule carries the set too
        _engine(pre, post, list(pdlf_rules(0.05, 0.0, 0.0, 0.0, bad)), 0.4)
    with pytest.raises(ConfigError, match=r"rules\.pdlf_norm\.D"):
        PDLFNorm(D=bad).sample_dw({}, np.zeros((7, 4)), None)
    with pytest.raises(ConfigError, match=r"rules\.pdlf_norm_int\.M_D"):
        PDLFNorm(D=bad).to_int(IntFormat(8, 8), DT, 1.0).sample_dq({}, np.zeros((7, 4), int), None, 255,
                                                                  np.ones(1, np.int64))
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="equal length"):
        PDLF(A=[[1.0, 2.0], [3.0]])
    with pytest.raises(ValidationError):
        PDLF(A=[[1.0, float("nan")]])


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


@pytest.mark.parametrize("backend", ["ideal", "integer", "crossbar"])
def test_per_synapse_hooks_in_the_fused_layer_kernel(backend):
    # the main job's kernel generator passes the indices too: uniform matrices give the per-layer
    # rule's weights on every synapse backend; a matrix that differs on one neuron's column moves
    # only that column
    import tomllib

    from hwsnn.config import parse_config
    from hwsnn.engine.layer import LayerNetwork

    n_in, n_exc = 64, 6
    co = {"lr": 0.02, "A": 0.8, "B": 0.3, "C": 0.2}

    def run(rule):
        text = (f'[network]\nn_exc = {n_exc}\nefficacy = 20.0\n[homeostasis]\nnorm_per_input = 0.0\n'
                f'[synapse]\nbackend = "{backend}"\n')
        cfg = parse_config({**tomllib.loads(text), "rules": [{"kind": "pdlf", **rule}]})
        net = LayerNetwork(cfg, n_in, seed=1)
        w0 = net.weights()
        r = np.zeros((60, n_in), bool)
        r[5:40:3, :20] = True
        r[10:50:4, 30:45] = True
        counts = net.present_raster(r, learn=True)
        return net.weights() - w0, counts

    d_layer, counts = run(co)
    mats = {k: (np.full((n_in, n_exc), v).tolist() if k != "lr" else v) for k, v in co.items()}
    d_syn, _ = run(mats)
    assert counts.sum() > 0 and np.abs(d_layer).max() > 0
    np.testing.assert_array_equal(d_syn, d_layer)
    j = int(np.argmax(counts))
    mats["B"] = np.full((n_in, n_exc), co["B"])
    mats["B"][:, j] = 3 * co["B"]
    d_one, _ = run({**mats, "B": mats["B"].tolist()})
    others = np.arange(n_exc) != j
    np.testing.assert_array_equal(d_one[:, others], d_layer[:, others])
    assert d_one[:, j].sum() > d_layer[:, j].sum()
