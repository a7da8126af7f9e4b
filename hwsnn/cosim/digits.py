"""End to end: the learning core learns 8x8 digits in co-simulation, against a float twin.

Schedule (:func:`schedule`), identical for every run: ``train_samples`` digits shown with
learning on (``in_learn = 1``), then the same digits again with learning off (labelling: each
neuron takes the class it responds to most), then ``test_samples`` other digits with learning
off (evaluation: the class whose neurons spike most, per neuron of that class).  Each digit is
``steps_per_sample`` timesteps of Bernoulli spikes (pixel / 16 * ``max_rate``) followed by
``rest_steps`` silent timesteps.  The spike trains are drawn once, so the co-simulation, its
golden twin and the float twin see the same input spikes.

:func:`run_float` is the float twin of the core's algorithm: the same schedule of operations
in float64 without any quantisation or device -- ``i_syn`` from the exact weight sums, leak as a
multiplication, traces decaying by ``1 - 2**-DECAY_SHIFT``, the same lateral inhibition (and
winner-take-all order), STDP increments as their expectation ``x*A/2**SHIFT`` (what the LFSR
stochastic rounding is unbiased to) or the instar step without the floor, weights in
``[0, W_MAX]``; the integer-valued intrinsic-plasticity counters are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsnn.cosim.config import CosimConfig, DigitsConfig
from hwsnn.spec.core import RULE_INSTAR, LearningCoreParams, initial_weights, ip_enable

__all__ = ["DigitsSchedule", "schedule", "evaluate", "run_float", "run_engine", "ENGINE_RULES", "receptive_fields", "compare_fields"]


@dataclass
class DigitsSchedule:
    in_spikes: np.ndarray
    """``(T, 64)`` input spikes."""
    learn: np.ndarray
    """``(T,)`` in_learn."""
    sample: np.ndarray
    """``(T,)`` index into ``labels`` of the digit shown (-1 during rests)."""
    phase: np.ndarray
    """``(T,)`` 0 train, 1 labelling, 2 test (rests carry the phase of their digit)."""
    labels: np.ndarray
    """Labels of the presentations (train, then labelling = train again, then test)."""
    n_train: int
    n_test: int


def _load_digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data.astype(np.float64) / 16.0, d.target.astype(np.int64)


def schedule(dc: DigitsConfig, M: int = 64) -> DigitsSchedule:
    """The input spikes and phases of a digits run."""
    if M != 64:
        from hwsnn.errors import ConfigError

        raise ConfigError("core.M", f"the digits task needs M = 64 inputs (8x8 pixels), not {M}")
    x, y = _load_digits()
    rng = np.random.default_rng(dc.seed)
    order = rng.permutation(len(y))
    tr, te = order[: dc.train_samples], order[dc.train_samples: dc.train_samples + dc.test_samples]
    pres = np.concatenate([tr, tr, te])
    phases = np.concatenate([np.zeros(len(tr)), np.ones(len(tr)), np.full(len(te), 2)]).astype(np.int64)
    L = dc.steps_per_sample + dc.rest_steps
    T = len(pres) * L
    spikes = np.zeros((T, 64), np.int8)
    learn = np.zeros(T, np.int8)
    sample = np.full(T, -1, np.int64)
    phase = np.repeat(phases, L)
    for k, idx in enumerate(pres):
        t0 = k * L
        p = x[idx] * dc.max_rate
        spikes[t0: t0 + dc.steps_per_sample] = rng.random((dc.steps_per_sample, 64)) < p
        sample[t0: t0 + dc.steps_per_sample] = k
        if phases[k] == 0:
            learn[t0: t0 + L] = 1
    return DigitsSchedule(in_spikes=spikes, learn=learn, sample=sample, phase=phase, labels=y[pres],
                          n_train=len(tr), n_test=len(te))


def evaluate(spikes: np.ndarray, sch: DigitsSchedule, n_classes: int = 10) -> dict:
    """Label neurons on the labelling phase, classify the test phase; accuracy and details."""
    N = spikes.shape[1]
    K = len(sch.labels)
    counts = np.zeros((K, N))
    m = sch.sample >= 0
    np.add.at(counts, sch.sample[m], spikes[m])
    lab = np.arange(sch.n_train, 2 * sch.n_train)
    resp = np.zeros((n_classes, N))
    for c in range(n_classes):
        sel = lab[sch.labels[lab] == c]
        if sel.size:
            resp[c] = counts[sel].mean(axis=0)
    neuron_label = np.where(resp.max(axis=0) > 0, resp.argmax(axis=0), -1)
    test = np.arange(2 * sch.n_train, K)
    pred = np.full(test.size, -1)
    for k, s in enumerate(test):
        score = np.full(n_classes, -1.0)
        for c in range(n_classes):
            sel = neuron_label == c
            if sel.any():
                score[c] = counts[s, sel].mean()
        if score.max() > 0:
            pred[k] = int(score.argmax())
    acc = float(np.mean(pred == sch.labels[test])) if test.size else 0.0
    return {"accuracy": acc, "neuron_label": neuron_label.tolist(), "classes_covered": int(len(set(neuron_label.tolist()) - {-1})),
            "silent_test_samples": int(np.sum(pred < 0)), "train_spikes": int(spikes[sch.phase == 0].sum()),
            "test_spikes": int(spikes[sch.phase == 2].sum())}


def run_float(p: LearningCoreParams, adc_step: float, sch: DigitsSchedule) -> dict:
    """Float twin of the core on the schedule; returns spikes and final weights (LSB units).

    ``adc_step`` is the crossbar ADC's step in weight units (``(hi - lo)/(2**ADC_BITS - 1)``); the
    float twin divides the exact column sums by it without rounding or clipping.
    """
    lp, tp, up = p.lif, p.trace, p.update
    T, M = sch.in_spikes.shape
    N = p.N
    w = initial_weights(p).astype(np.float64)
    v = np.zeros(N)
    ref = np.zeros(N, np.int64)
    level = np.full(N, lp.LEVEL_INIT, np.int64)
    count = np.zeros(N, np.int64)
    win = np.zeros(N, np.int64)
    xpre = np.zeros(M)
    xpost = np.zeros(N)
    inh = 0
    spikes = np.zeros((T, N), np.int8)
    lo, hi = -(2.0 ** (lp.V_BITS - 1)), 2.0 ** (lp.V_BITS - 1) - 1
    decay = 1.0 - 2.0 ** -tp.DECAY_SHIFT
    a_plus = up.A_PLUS / 2.0 ** up.SHIFT_PLUS
    a_minus = up.A_MINUS / 2.0 ** up.SHIFT_MINUS
    instar = p.RULE == RULE_INSTAR
    k_ins = 2.0 ** -p.INSTAR_SHIFT
    for t in range(T):
        pre = sch.in_spikes[t].astype(bool)
        y = w[pre].sum(axis=0) / up.W_MAX
        drive = (y / adc_step) * p.ISYN_MUL / 2.0 ** p.ISYN_SHIFT
        theta = lp.THETA_BASE + level * lp.THETA_STEP
        in_ref = ref > 0
        inh_j = np.full(N, float(inh))
        u = np.clip(v - v / 2.0 ** lp.LEAK_SHIFT + np.clip(drive - p.INHIB * inh_j, lo, hi), lo, hi)
        fire = (~in_ref) & (u >= theta)
        if p.WTA and not inh and p.INHIB and fire.any():
            # the first spiking neuron inhibits the ones updated after it in this timestep
            inh_j = (np.arange(N) > np.flatnonzero(fire)[0]).astype(np.float64)
            u = np.clip(v - v / 2.0 ** lp.LEAK_SHIFT + np.clip(drive - p.INHIB * inh_j, lo, hi), lo, hi)
            fire = (~in_ref) & (u >= theta)
        v = np.where(in_ref | fire, 0.0, u)
        ref = np.where(in_ref, ref - 1, np.where(fire, lp.REFRACTORY, 0))
        post = fire.astype(np.int64)
        if ip_enable(p, int(sch.learn[t])):
            c = count + post
            close = win == lp.WINDOW - 1
            up_ = close & (c > lp.RATE_HI)
            dn_ = close & ~up_ & (c < lp.RATE_LO)
            level = np.where(up_, np.minimum(level + 1, lp.LEVELS - 1), np.where(dn_, np.maximum(level - 1, 0), level))
            count = np.where(close, 0, c)
            win = np.where(close, 0, win + 1)
        xpost = np.where(fire, tp.x_max, xpost * decay)
        xpre = np.where(pre, tp.x_max, xpre * decay)
        if p.LEARN and sch.learn[t]:
            if instar:
                if fire.any():
                    act = (xpre >= p.X_TH)[:, None]
                    target = np.where(act, float(up.W_MAX), 0.0)
                    w = np.where(fire[None, :], w + (target - w) * k_ins, w)
            else:
                dw = a_plus * np.outer(xpre, post) - a_minus * np.outer(pre, xpost)
                w = np.clip(w + dw, 0.0, up.W_MAX)
        inh = int(fire.any())
        spikes[t] = post
    return {"spikes": spikes, "w": w}


def receptive_fields(w: np.ndarray, w_max: float) -> np.ndarray:
    """``(N, 8, 8)`` receptive fields in [0, 1] from ``(64, N)`` weights."""
    return (np.asarray(w, np.float64) / w_max).T.reshape(-1, 8, 8)


def compare_fields(a: np.ndarray, b: np.ndarray) -> dict:
    """Similarity of two sets of receptive fields: mean correlation of neuron ``j`` with neuron
    ``j`` and after the best one-to-one matching (Hungarian)."""
    from scipy.optimize import linear_sum_assignment

    A = a.reshape(a.shape[0], -1)
    B = b.reshape(b.shape[0], -1)
    A = A - A.mean(axis=1, keepdims=True)
    B = B - B.mean(axis=1, keepdims=True)
    na = np.linalg.norm(A, axis=1)
    nb = np.linalg.norm(B, axis=1)
    C = (A @ B.T) / np.maximum(np.outer(na, nb), 1e-12)
    r, c = linear_sum_assignment(-C)
    return {"same_index_corr": float(np.mean(np.diag(C))), "matched_corr": float(np.mean(C[r, c])),
            "mean_abs_diff": float(np.mean(np.abs(a - b)))}


_ = CosimConfig


ENGINE_RULES = ("instar_like", "pair_stdp")
"""Learning rules of :func:`run_engine`."""


def run_engine(p: LearningCoreParams, adc_step: float, sch: DigitsSchedule, rule: str = "instar_like",
               seed: int = 0) -> dict:
    """The same network in the engine's float model (:class:`hwsnn.snn.Network`), on the schedule.

    64 inputs -> 16 ``lif_stepwise_float`` neurons (the core's ``lif`` parameters; threshold
    windows count while learning, as ``IP_EN = 2``), input gain ``ISYN_MUL / 2**ISYN_SHIFT /
    adc_step`` per unit weight (weights ``w / W_MAX`` in ``[0, 1]``, the core's power-up pattern),
    lateral inhibition as an all-to-all inhibitory projection of weight ``INHIB`` (the engine
    delivers it one step later: the core's inhibition from the previous timestep; the core's
    in-timestep winner-take-all order has no engine counterpart).  ``rule``:

    - ``instar_like`` -- the engine's closest match of the instar rule: soft-bound pair STDP
      without depression term (``pair_stdp_wd``, ``a_plus = 2**-INSTAR_SHIFT``: active afferents
      move toward 1 in proportion to their trace) plus heterosynaptic depression of the
      afferents whose trace is below ``X_TH`` (``hetero_stdp``, ``eta = 2**-INSTAR_SHIFT``,
      ``w_ref = 0``);
    - ``pair_stdp`` -- additive pair STDP with the core's ``stdp_update`` coefficients.

    Traces: time constant ``-dt / ln(1 - 2**-DECAY_SHIFT)``, ``dt = 1 ms``.  Returns spikes
    ``(T, N)`` and final weights in core LSB units.
    """
    import math

    from hwsnn.engine.neurons_extra import LifStepwiseFloatNeuron
    from hwsnn.engine.rules import HeteroSTDP, PairSTDP, PairSTDPWD
    from hwsnn.errors import ConfigError
    from hwsnn.snn import Network

    if rule not in ENGINE_RULES:
        raise ConfigError("rule", f"must be one of {ENGINE_RULES}, not {rule!r}")
    dt = 1e-3
    tp, up = p.trace, p.update
    tau = -dt / math.log(1.0 - 2.0 ** -tp.DECAY_SHIFT)
    lp = p.lif.as_dict()
    neuron = LifStepwiseFloatNeuron(**{k: lp[k] for k in ("V_BITS", "LEAK_SHIFT", "REFRACTORY", "THETA_BASE",
                                                            "THETA_STEP", "LEVELS", "LEVEL_INIT", "WINDOW", "RATE_HI",
                                                            "RATE_LO", "LEARN_UP", "LEARN_DN")})
    if rule == "instar_like":
        eta = 2.0 ** -p.INSTAR_SHIFT
        rules = [PairSTDPWD(weight_dependence="softbound", a_plus=eta, a_minus=0.0, tau_pre=tau, tau_post=tau),
                 HeteroSTDP(eta=eta, w_ref=0.0, x_th=p.X_TH / tp.x_max, tau_pre=tau)]
    else:
        x = tp.x_max / up.W_MAX
        rules = [PairSTDP(a_plus=up.A_PLUS / 2.0**up.SHIFT_PLUS * x, a_minus=up.A_MINUS / 2.0**up.SHIFT_MINUS * x,
                          tau_pre=tau, tau_post=tau)]
    net = Network(dt=dt, synapse="ideal", seed=seed)
    net.add_input("in", p.M)
    net.add_population("exc", neuron, p.N)
    gain = p.ISYN_MUL / 2.0**p.ISYN_SHIFT / adc_step
    proj = net.connect("in", "exc", w=initial_weights(p) / up.W_MAX, rules=rules, gain=gain)
    if p.INHIB:
        net.connect("exc", "exc", w=1.0, receptor="inh", gain=float(p.INHIB))
    T = sch.in_spikes.shape[0]
    spikes = np.zeros((T, p.N), np.int8)
    # one run per stretch of constant learning flag
    edges = np.flatnonzero(np.diff(sch.learn.astype(np.int64))) + 1
    for a, b in zip(np.r_[0, edges], np.r_[edges, T]):
        out = net.run(int(b - a), inputs={"in": sch.in_spikes[a:b]}, learning=bool(sch.learn[a]))
        spikes[a:b] = out.spikes["exc"]
    return {"spikes": spikes, "w": np.asarray(proj.weights()) * up.W_MAX}
