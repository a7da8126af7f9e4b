"""The integer backend is the golden models' arithmetic: an engine network of lif_stepwise neurons
with stdp_update STDP equals, at every step, a per-neuron and per-synapse loop of the golden step
functions on the same input spikes (the co-simulation's golden core reuses this)."""

from __future__ import annotations

from types import SimpleNamespace as ns

import numpy as np
import pytest

from hwsnn.engine.layer import LayerNetwork
from hwsnn.engine.neurons import LifStepwiseNeuron
from hwsnn.engine.rules import PairSTDPInt
from hwsnn.golden.lif_stepwise import LifStepwiseIn, lif_stepwise_reset, lif_stepwise_step
from hwsnn.golden.stdp import (StdpTraceIn, StdpUpdateIn, stdp_trace_reset, stdp_trace_step, stdp_update_reset,
                               stdp_update_step)
from hwsnn.spec.units import StdpTraceParams, StdpUpdateParams

N_IN, N_OUT, T = 10, 6, 300


def _config(neuron, rule):
    return ns(
        network=ns(n_exc=N_OUT, inhibition="direct", w_inh_total=0.0, w_ei=0.0, w_ie=0.0, efficacy=1.0, w_max=1.0,
                   w_init_max=1.0),
        neuron=neuron,
        homeostasis=ns(theta_init=0.0, theta_plus=0.0, tau_theta=1.0, norm_per_input=0.0),
        schedule=ns(dt=1e-3, t_present=T * 1e-3, t_rest=0.0, max_rate=0.0, rerun_min_spikes=0, rerun_rate_step=0.0,
                    rerun_max=0, fast_forward=False),
        rules=[rule],
        synapse=ns(backend="integer", integer=ns(w_bits=8, x_bits=8)),
    )


def golden_loop(neuron: LifStepwiseNeuron, rule: PairSTDPInt, lfsr_seed: int, w0, raster, order="row"):
    """Per-neuron lif_stepwise_step, per-synapse stdp_update_step (one shared LFSR, row-major over the
    synapses with a pre or post spike), per-neuron stdp_trace_step; traces read before their step."""
    np_ = neuron.unit
    up = StdpUpdateParams(W_BITS=8, W_MAX=255, X_BITS=8, A_PLUS=rule.A_PLUS, A_MINUS=rule.A_MINUS,
                          SHIFT_PLUS=rule.SHIFT_PLUS, SHIFT_MINUS=rule.SHIFT_MINUS, LFSR_SEED=lfsr_seed)
    tp_pre = StdpTraceParams(X_BITS=8, DECAY_SHIFT=rule.SHIFT_PRE)
    tp_post = StdpTraceParams(X_BITS=8, DECAY_SHIFT=rule.SHIFT_POST)
    neurons = [lif_stepwise_reset(np_) for _ in range(N_OUT)]
    xpre = [stdp_trace_reset(tp_pre) for _ in range(N_IN)]
    xpost = [stdp_trace_reset(tp_post) for _ in range(N_OUT)]
    upd = stdp_update_reset(up)
    w = w0.copy()
    lo, hi = -(1 << (np_.V_BITS - 1)), (1 << (np_.V_BITS - 1)) - 1
    vs, spikes, ws = [], [], []
    for t in range(raster.shape[0]):
        pre = raster[t].astype(int)
        isyn = neuron.gain * (pre @ w)
        post = np.zeros(N_OUT, int)
        for j in range(N_OUT):
            out, neurons[j] = lif_stepwise_step(np_, neurons[j], LifStepwiseIn(step=1, i_syn=int(min(max(isyn[j], lo), hi)),
                                                                              ip_en=1))
            post[j] = out.spike
        pairs = [(i, j) for i in range(N_IN) for j in range(N_OUT)]
        if order == "col":  # deliberate mutant: column-major evaluation order
            pairs = [(i, j) for j in range(N_OUT) for i in range(N_IN)]
        for i, j in pairs:
            if pre[i] or post[j]:
                out, upd = stdp_update_step(up, upd, StdpUpdateIn(valid=1, w=int(w[i, j]), x_pre=xpre[i].x,
                                                                  x_post=xpost[j].x, pre=int(pre[i]), post=int(post[j])))
                w[i, j] = out.w_new
        for i in range(N_IN):
            _, xpre[i] = stdp_trace_step(tp_pre, xpre[i], StdpTraceIn(step=1, spike=int(pre[i])))
        for j in range(N_OUT):
            _, xpost[j] = stdp_trace_step(tp_post, xpost[j], StdpTraceIn(step=1, spike=int(post[j])))
        vs.append([n.v for n in neurons])
        spikes.append(post.copy())
        ws.append(w.copy())
    return np.array(vs), np.array(spikes), np.array(ws)


@pytest.mark.parametrize("seed", [0, 1])
def test_integer_network_equals_golden_loop_every_step(seed):
    neuron = LifStepwiseNeuron(unit=dict(THETA_BASE=300, THETA_STEP=40, WINDOW=16, RATE_HI=2, RATE_LO=1), gain=2)
    rule = PairSTDPInt(A_PLUS=24, SHIFT_PLUS=6, A_MINUS=20, SHIFT_MINUS=6, SHIFT_PRE=3, SHIFT_POST=2)
    net = LayerNetwork(_config(neuron, rule), N_IN, seed=seed, record=True)
    raster = np.random.default_rng(seed + 10).random((T, N_IN)) < 0.25
    w0 = net.wq.copy()
    lfsr0 = int(net._lfsr[0])
    net.present_raster(raster, learn=True)
    rec = net.record
    v, spikes, w = golden_loop(neuron, rule, lfsr0, w0, raster)
    assert spikes.sum() > 20 and np.abs(w[-1] - w0).sum() > 50, "the case must spike and learn to mean anything"
    assert (np.diff(w[:, 0, 0]) != 0).any()
    for t in range(T):  # every state at every step
        np.testing.assert_array_equal(rec.spikes[t], spikes[t], err_msg=f"spikes at step {t}")
        np.testing.assert_array_equal(rec.v[t], v[t], err_msg=f"membranes at step {t}")
        np.testing.assert_array_equal(rec.w[t], w[t], err_msg=f"weights at step {t}")
    # the checker has teeth: the golden loop in column-major order (one LFSR, other order) differs
    _, _, w_col = golden_loop(neuron, rule, lfsr0, w0, raster, order="col")
    assert not np.array_equal(w_col[-1], rec.w[-1])


def test_integer_rule_on_a_float_backend_is_refused():
    from hwsnn.errors import ConfigError

    cfg = _config(LifStepwiseNeuron(), PairSTDPInt())
    cfg.synapse.backend = "ideal"
    with pytest.raises(ConfigError, match="neuron.model"):
        LayerNetwork(cfg, N_IN, seed=0)
