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
multiplication, traces decaying by ``1 - 2**-DECAY_SHIFT``, STDP increments as their
expectation ``x*A/2**SHIFT`` (what the LFSR stochastic rounding is unbiased to), weights clipped
to ``[0, W_MAX]``; the integer-valued intrinsic-plasticity counters are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsnn.cosim.config import CosimConfig, DigitsConfig
from hwsnn.spec.core import LearningCoreParams, initial_weights

__all__ = ["DigitsSchedule", "schedule", "evaluate", "run_float", "receptive_fields", "compare_fields"]


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
    for t in range(T):
        pre = sch.in_spikes[t].astype(bool)
        y = w[pre].sum(axis=0) / up.W_MAX
        i_syn = np.clip((y / adc_step) * p.ISYN_MUL / 2.0 ** p.ISYN_SHIFT - p.INHIB * inh, lo, hi)
        theta = lp.THETA_BASE + level * lp.THETA_STEP
        u = np.clip(v - v / 2.0 ** lp.LEAK_SHIFT + i_syn, lo, hi)
        in_ref = ref > 0
        fire = (~in_ref) & (u >= theta)
        v = np.where(in_ref | fire, 0.0, u)
        ref = np.where(in_ref, ref - 1, np.where(fire, lp.REFRACTORY, 0))
        post = fire.astype(np.int64)
        if p.IP_EN:
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
