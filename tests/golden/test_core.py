"""Golden learning core against an independent direct reference written from the contract text
(docs/hardware/learning_core.md) with plain Python ints, on small cases; schedule properties;
parameter validation."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.errors import ConfigError
from hwsnn.golden.core import CoreIn, core_init_commands, core_read_rows, core_reset, core_step
from hwsnn.spec.core import OP_RESET, OP_SET, LearningCoreParams, initial_weights, isyn_of
from hwsnn.spec.units import LifStepwiseParams, StdpTraceParams, StdpUpdateParams


class DirectCore:
    """Contract, transcribed line by line (no golden unit function, no spec helper)."""

    def __init__(self, p: LearningCoreParams):
        self.p = p
        lp = p.lif
        self.v = [0] * p.N
        self.ref = [0] * p.N
        self.level = [lp.LEVEL_INIT] * p.N
        self.count = [0] * p.N
        self.win = [0] * p.N
        self.xpre = [0] * p.M
        self.xpost = [0] * p.N
        s = p.W_INIT_SEED
        self.w = []
        for _ in range(p.M * p.N):
            self.w.append((s * (p.W_INIT_MAX + 1)) >> 16)
            s = (s >> 1) ^ (0xB400 if s & 1 else 0)
        self.lfsr = p.update.LFSR_SEED
        self.inh = 0

    def step(self, pre, codes, learn=1):
        p, lp, tp, up = self.p, self.p.lif, self.p.trace, self.p.update
        lo, hi = -(1 << (lp.V_BITS - 1)), (1 << (lp.V_BITS - 1)) - 1
        post = []
        for j in range(p.N):
            raw = ((codes[j] * p.ISYN_MUL) >> p.ISYN_SHIFT) - p.INHIB * self.inh
            isyn = min(max(raw, lo), hi)
            theta = lp.THETA_BASE + self.level[j] * lp.THETA_STEP
            if self.ref[j] > 0:
                self.v[j], self.ref[j], sp = 0, self.ref[j] - 1, 0
            else:
                u = min(max(self.v[j] - (self.v[j] >> lp.LEAK_SHIFT) + isyn, lo), hi)
                if u >= theta:
                    self.v[j], self.ref[j], sp = 0, lp.REFRACTORY, 1
                else:
                    self.v[j], self.ref[j], sp = u, 0, 0
            if p.IP_EN:
                c = self.count[j] + sp
                if self.win[j] == lp.WINDOW - 1:
                    if c > lp.RATE_HI:
                        self.level[j] = min(self.level[j] + 1, lp.LEVELS - 1)
                    elif c < lp.RATE_LO:
                        self.level[j] = max(self.level[j] - 1, 0)
                    self.count[j], self.win[j] = 0, 0
                else:
                    self.count[j], self.win[j] = c, self.win[j] + 1
            post.append(sp)
        k = tp.DECAY_SHIFT
        xm = (1 << tp.X_BITS) - 1
        dec = lambda x: x - ((x + (1 << k) - 1) >> k)  # noqa: E731
        self.xpost = [xm if post[j] else dec(self.xpost[j]) for j in range(p.N)]
        self.xpre = [xm if pre[i] else dec(self.xpre[i]) for i in range(p.M)]
        cmds = []
        if p.LEARN and learn:
            for i in range(p.M):
                for j in range(p.N):
                    if p.RULE == 2:  # gated stepwise: every synapse of a spiking input, flags after the update
                        if not pre[i]:
                            continue
                        w = self.w[i * p.N + j]
                        theta = lp.THETA_BASE + self.level[j] * lp.THETA_STEP
                        if self.v[j] >= theta - lp.LEARN_UP:
                            wn = min(w + p.GATED_STEP, up.W_MAX)
                        elif self.v[j] < theta - lp.LEARN_DN:
                            wn = max(w - p.GATED_STEP, 0)
                        else:
                            wn = w
                        if wn != w:
                            cmds.append((i, j, int(wn > w), abs(wn - w)))
                        self.w[i * p.N + j] = wn
                        continue
                    if not (pre[i] or post[j]):
                        continue
                    r = self.lfsr
                    w = self.w[i * p.N + j]
                    dp = (self.xpre[i] * up.A_PLUS + (r & ((1 << up.SHIFT_PLUS) - 1))) >> up.SHIFT_PLUS if post[j] else 0
                    dm = (self.xpost[j] * up.A_MINUS + ((r >> 8) & ((1 << up.SHIFT_MINUS) - 1))) >> up.SHIFT_MINUS if pre[i] else 0
                    wn = min(max(w + dp - dm, 0), up.W_MAX)
                    if wn > w:
                        cmds.append((i, j, 1, wn - w))
                    elif wn < w:
                        cmds.append((i, j, 0, w - wn))
                    self.w[i * p.N + j] = wn
                    self.lfsr = (r >> 1) ^ (0xB400 if r & 1 else 0)
        self.inh = int(any(post))
        return post, cmds


CASES = [
    LearningCoreParams(N=3, M=5),
    LearningCoreParams(N=4, M=6, INHIB=40, ISYN_MUL=7, ISYN_SHIFT=2, W_INIT_MAX=60,
                       lif=LifStepwiseParams(WINDOW=6, RATE_HI=1, RATE_LO=1, REFRACTORY=1, THETA_BASE=200),
                       update=StdpUpdateParams(W_MAX=80, A_PLUS=40, A_MINUS=30, SHIFT_PLUS=5, SHIFT_MINUS=6)),
    LearningCoreParams(N=2, M=3, IP_EN=0, X_TH=40, trace=StdpTraceParams(X_BITS=6, DECAY_SHIFT=2),
                       update=StdpUpdateParams(X_BITS=6, W_BITS=6, W_MAX=63, LFSR_SEED=0x1D2B)),
    LearningCoreParams(N=3, M=4, LEARN=0),
    LearningCoreParams(N=4, M=6, INHIB=40, RULE=2, GATED_STEP=3, W_INIT_MAX=50,
                       lif=LifStepwiseParams(WINDOW=6, RATE_HI=1, RATE_LO=1, LEARN_UP=60, LEARN_DN=150)),
]


@pytest.mark.parametrize("p", CASES, ids=["small", "inhib_ip", "x6_noip", "nolearn", "gated"])
def test_golden_core_equals_direct_reference(p):
    rng = np.random.default_rng(7)
    ref = DirectCore(p)
    st = core_reset(p)
    init = core_init_commands(p, st)
    assert [tuple(c) for c in init.tolist()] == [(k // p.N, k % p.N, 1, w) for k, w in enumerate(ref.w) if w > 0]
    n_cmd = n_spk = n_reset = 0
    for t in range(400):
        pre = (rng.random(p.M) < 0.4).astype(np.int64)
        codes = rng.integers(0, 2**p.ADC_BITS, p.N) if t % 50 < 40 else np.zeros(p.N, np.int64)
        learn = int(t % 7 != 3)
        out, st = core_step(p, st, CoreIn(pre, codes, learn))
        post, cmds = ref.step(pre.tolist(), codes.tolist(), learn)
        assert out.spikes.tolist() == post, t
        assert [tuple(c) for c in out.commands.tolist()] == cmds, t
        assert st.lif.v.tolist() == ref.v
        assert st.lif.level.tolist() == ref.level and st.lif.ref.tolist() == ref.ref
        assert st.x_pre.tolist() == ref.xpre and st.x_post.tolist() == ref.xpost
        assert st.w.reshape(-1).tolist() == ref.w and st.lfsr == ref.lfsr and st.inh == ref.inh
        n_cmd += len(cmds)
        n_spk += sum(post)
        n_reset += sum(1 for c in cmds if c[2] == 0)
    assert n_spk > 0
    if p.LEARN:
        assert n_cmd > 0 and n_reset > 0
    else:
        assert n_cmd == 0


def test_schedule_row_major_and_one_lfsr_advance_per_evaluated_synapse():
    p = LearningCoreParams(N=4, M=5, LEARN=1)
    st = core_reset(p)
    # drive neuron 2 over threshold (code 255 * 3 >> 1 = 382 >= 256)
    pre = np.array([1, 0, 0, 1, 0])
    codes = np.array([0, 0, 255, 0])
    out, st2 = core_step(p, st, CoreIn(pre, codes))
    assert out.spikes.tolist() == [0, 0, 1, 0]
    evaluated = [(i, j) for i in range(5) for j in range(4) if pre[i] or j == 2]
    s = p.update.LFSR_SEED
    for _ in evaluated:
        s = (s >> 1) ^ (0xB400 if s & 1 else 0)
    assert st2.lfsr == s
    rows_cols = [tuple(c[:2]) for c in out.commands.tolist()]
    assert rows_cols == sorted(rows_cols) and set(rows_cols) <= set(evaluated)
    assert core_read_rows(p, pre).tolist() == pre.tolist()
    assert {c[2] for c in out.commands.tolist()} <= {OP_SET, OP_RESET}


def test_learning_off_emits_nothing_but_traces_move():
    p = LearningCoreParams(N=2, M=3)
    st = core_reset(p)
    out, st2 = core_step(p, st, CoreIn(np.array([1, 0, 1]), np.array([255, 255]), learn=0))
    assert len(out.commands) == 0 and np.array_equal(st2.w, st.w)
    assert st2.x_pre.tolist() == [255, 0, 255]


def test_isyn_and_initial_weights():
    p = LearningCoreParams(INHIB=100, ISYN_MUL=3, ISYN_SHIFT=1)
    assert isyn_of(p, 255, 0) == 382 and isyn_of(p, 255, 1) == 282 and isyn_of(p, 0, 1) == -100
    assert isyn_of(p, np.array([255, 0]), 1).tolist() == [282, -100]
    big = LearningCoreParams(ISYN_MUL=4096, lif=LifStepwiseParams(V_BITS=8, THETA_BASE=100, THETA_STEP=5, LEARN_DN=100))
    assert isyn_of(big, 255, 0) == 127  # saturates at the signed V_BITS maximum
    w0 = initial_weights(p)
    assert w0.shape == (64, 16) and w0.min() >= 0 and w0.max() <= p.W_INIT_MAX and len(np.unique(w0)) > 10


@pytest.mark.parametrize("kw, field", [
    ({"N": 0}, "N"), ({"M": 2000}, "M"), ({"ADC_BITS": 0}, "ADC_BITS"), ({"LEARN": 2}, "LEARN"),
    ({"W_INIT_MAX": 101}, "W_INIT_MAX"), ({"W_INIT_SEED": 0}, "W_INIT_SEED"), ({"INHIB": -1}, "INHIB"),
    ({"update": StdpUpdateParams(X_BITS=6)}, "update.X_BITS"), ({"lif": {"THETA_BASE": 0}}, "lif.THETA_BASE"),
    ({"N": True}, "N"), ({"RULE": 3}, "RULE"), ({"GATED_STEP": 0}, "GATED_STEP"), ({"GATED_STEP": 101}, "GATED_STEP"),
])
def test_params_validated_with_field_names(kw, field):
    with pytest.raises(ConfigError) as exc:
        LearningCoreParams(**kw)
    assert exc.value.field == field


def test_params_round_trip_and_widths():
    p = LearningCoreParams(N=5, M=33, ADC_BITS=6, update=StdpUpdateParams(W_BITS=7, W_MAX=90))
    assert LearningCoreParams.from_dict(p.to_dict()) == p
    assert (p.row_bits, p.col_bits, p.codes_bits) == (6, 3, 30)
    with pytest.raises(ConfigError, match="nope"):
        LearningCoreParams.from_dict({"nope": 1})
