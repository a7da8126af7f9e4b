"""``learning_core``: time-multiplexed LIF + trace-STDP core driving an external crossbar.

Mirrors :mod:`hwsnn.golden.core` transaction by transaction; the interface contract (ports,
widths, ordering, back-pressure) is ``docs/hardware/learning_core.md``.  One datapath serves
all ``N`` neurons; neuron state, traces and the shadow weights live in
:class:`amaranth.lib.memory.Memory` (block RAM on an FPGA).  The synapse update is the
``stdp_update`` unit itself (:class:`hwsnn.hw.stdp.StdpUpdate`, one instance, one LFSR16),
fed one evaluated synapse at a time in row-major order.
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hwsnn.hw.stdp import StdpUpdate
from hwsnn.spec.core import RULE_GATED, RULE_INSTAR, LearningCoreParams, initial_weights
from hwsnn.spec.fixed import signed_range

__all__ = ["LearningCore", "neuron_layout"]

_D = LearningCoreParams()


def neuron_layout(p: LearningCoreParams) -> data.StructLayout:
    """One word of the neuron memory: the ``lif_stepwise`` registered state."""
    lp = p.lif
    return data.StructLayout({
        "v": signed(lp.V_BITS), "ref": unsigned(lp.ref_bits), "level": unsigned(lp.level_bits),
        "count": unsigned(lp.count_bits), "win": unsigned(lp.win_bits), "spike": unsigned(1),
    })


class LearningCore(wiring.Component):
    """Learning core: ``N`` time-multiplexed ``lif_stepwise`` neurons, ``M`` inputs, trace STDP.

    Per timestep (see the contract): accept ``in_spikes`` -> one read request of those rows ->
    one response with ``N`` ADC codes -> neurons ``0..N-1`` updated -> traces -> synapses with a
    pre or post spike evaluated row-major, each weight change emitted as one program command ->
    one output beat with the spike vector.  After reset the power-up weights are emitted as SET
    commands (row-major) before the first timestep is accepted.

    Parameters
    ----------
    N, M, ADC_BITS, ISYN_MUL, ISYN_SHIFT, INHIB, WTA, LEARN, RULE, GATED_STEP, X_TH, INSTAR_SHIFT, IP_EN, W_INIT_MAX, W_INIT_SEED : int
        Core parameters, validated by :class:`hwsnn.spec.core.LearningCoreParams`.
    lif : LifStepwiseParams
        Neuron parameters.
    trace : StdpTraceParams
        Trace parameters.
    update : StdpUpdateParams
        Weight-update parameters (``W_BITS`` is the width of ``pg_count``).

    Attributes
    ----------
    in_valid, in_ready, in_spikes, in_learn : In(1), Out(1), In(M), In(1)
        Input stream: one beat per timestep, bit ``i`` = input row ``i`` spiked; ``in_learn`` enables
        learning in this timestep (when the core has ``LEARN=1``).
    rd_req_valid, rd_req_ready, rd_req_rows : Out(1), In(1), Out(M)
        Read request: the active rows of this timestep.
    rd_resp_valid, rd_resp_ready, rd_resp_codes : In(1), Out(1), In(N*ADC_BITS)
        Read response: column ``j``'s ADC code at bits ``[j*ADC_BITS +: ADC_BITS]``.
    pg_valid, pg_ready, pg_row, pg_col, pg_set, pg_count : Out(1), In(1), Out, Out, Out(1), Out(W_BITS)
        Program commands: ``pg_count`` SET (``pg_set=1``) or RESET pulses on device ``(pg_row, pg_col)``.
    out_valid, out_ready, out_spikes : Out(1), In(1), Out(N)
        Output stream: one beat per timestep, the neurons' spikes; closes the timestep.
    dbg_addr, dbg_v, dbg_level : In(col_bits), Out(signed(V_BITS)), Out(level_bits)
        Neuron memory read-back while idle (``in_ready=1``); data one cycle after the address.
    """

    def __init__(self, *, N: int = _D.N, M: int = _D.M, ADC_BITS: int = _D.ADC_BITS, ISYN_MUL: int = _D.ISYN_MUL,
                 ISYN_SHIFT: int = _D.ISYN_SHIFT, INHIB: int = _D.INHIB, WTA: int = _D.WTA, LEARN: int = _D.LEARN,
                 RULE: int = _D.RULE, GATED_STEP: int = _D.GATED_STEP, X_TH: int = _D.X_TH, INSTAR_SHIFT: int = _D.INSTAR_SHIFT, IP_EN: int = _D.IP_EN,
                 W_INIT_MAX: int = _D.W_INIT_MAX, W_INIT_SEED: int = _D.W_INIT_SEED, lif=_D.lif, trace=_D.trace,
                 update=_D.update):
        self.params = p = LearningCoreParams(
            N=N, M=M, ADC_BITS=ADC_BITS, ISYN_MUL=ISYN_MUL, ISYN_SHIFT=ISYN_SHIFT, INHIB=INHIB, WTA=WTA, LEARN=LEARN,
            RULE=RULE, GATED_STEP=GATED_STEP, X_TH=X_TH, INSTAR_SHIFT=INSTAR_SHIFT, IP_EN=IP_EN, W_INIT_MAX=W_INIT_MAX,
            W_INIT_SEED=W_INIT_SEED, lif=lif, trace=trace, update=update,
        )
        super().__init__({
            "in_valid": In(1), "in_ready": Out(1), "in_spikes": In(p.M), "in_learn": In(1),
            "rd_req_valid": Out(1), "rd_req_ready": In(1), "rd_req_rows": Out(p.M),
            "rd_resp_valid": In(1), "rd_resp_ready": Out(1), "rd_resp_codes": In(p.codes_bits),
            "pg_valid": Out(1), "pg_ready": In(1), "pg_row": Out(p.row_bits), "pg_col": Out(p.col_bits),
            "pg_set": Out(1), "pg_count": Out(p.update.W_BITS),
            "out_valid": Out(1), "out_ready": In(1), "out_spikes": Out(p.N),
            "dbg_addr": In(p.col_bits), "dbg_v": Out(signed(p.lif.V_BITS)), "dbg_level": Out(p.lif.level_bits),
        })

    # -- combinational pieces (named so tests and mutants can find them) ---------------------
    def isyn(self, m, code, inh):
        """``isyn_of``: ``sat_signed(((code*ISYN_MUL) >> ISYN_SHIFT) - INHIB*inh, V_BITS)``."""
        p = self.params
        lo, hi = signed_range(p.lif.V_BITS)
        raw = Signal(signed(p.ADC_BITS + 14 + p.lif.V_BITS))
        m.d.comb += raw.eq(((code * p.ISYN_MUL) >> p.ISYN_SHIFT) - Mux(inh, p.INHIB, 0))
        out = Signal(signed(p.lif.V_BITS))
        m.d.comb += out.eq(Mux(raw > hi, hi, Mux(raw < lo, lo, raw)))
        return out

    def handshake(self, channel: str, valid, ready):
        """A beat on ``channel`` (``in``, ``rd_req``, ``rd_resp``, ``pg``, ``out``) is taken on an
        edge where ``valid & ready``; ``valid`` is the core's own (1 in the state) or the input."""
        return ready if channel in ("rd_req", "pg", "out") else valid

    def learning_pre_trace(self, before, after):
        """The ``x_pre[i]`` learning sees: the one updated with this timestep's spike."""
        return after

    def trace_next(self, x, spike):
        """``stdp_trace``: full scale on a spike, otherwise ``x - ceil(x / 2**DECAY_SHIFT)``."""
        tp = self.params.trace
        k = tp.DECAY_SHIFT
        low_bits_set = x[: min(k, tp.X_BITS)].any() if k > 0 else 0
        return Mux(spike, tp.x_max, x - (x >> k) - low_bits_set)

    def inhibited(self, inh, seen):
        """Inhibition of the neuron being updated: a spike in the previous timestep, or (``WTA``) a
        spike of a neuron updated before it in this timestep."""
        return (inh | seen) if self.params.WTA else inh

    def ip_enable(self, learn_t):
        """``ip_en`` of this timestep: 1 (``IP_EN = 1``) or ``in_learn`` (``IP_EN = 2``)."""
        return learn_t if self.params.IP_EN == 2 else 1

    def instar_next(self, m, w, x):
        """``instar_of``: ``w + ((W_MAX - w) >> INSTAR_SHIFT)`` if ``x >= X_TH``, else ``w - (w >> INSTAR_SHIFT)``."""
        p = self.params
        k = p.INSTAR_SHIFT
        out = Signal(unsigned(p.update.W_BITS))
        m.d.comb += out.eq(Mux(x >= p.X_TH, w + ((p.update.W_MAX - w) >> k), w - (w >> k)))
        return out

    def learn_flags(self, m, st):
        """``lif_stepwise``'s learning flags of state word ``st``: ``learn_up = v >= theta - LEARN_UP``,
        ``learn_dn = v < theta - LEARN_DN`` with ``theta = THETA_BASE + level * THETA_STEP``."""
        lp = self.params.lif
        theta = Signal(signed(lp.V_BITS + 2))
        up, dn = Signal(), Signal()
        m.d.comb += [
            theta.eq(lp.THETA_BASE + st.level * lp.THETA_STEP),
            up.eq(st.v >= theta - lp.LEARN_UP),
            dn.eq(st.v < theta - lp.LEARN_DN),
        ]
        return up, dn

    def gated_next(self, m, w, up, dn):
        """``gated_of``: ``min(w + GATED_STEP, W_MAX)`` if ``up``, else ``max(w - GATED_STEP, 0)`` if ``dn``."""
        p = self.params
        st, wmax = p.GATED_STEP, p.update.W_MAX
        out = Signal(unsigned(p.update.W_BITS))
        m.d.comb += out.eq(Mux(up, Mux(w > wmax - st, wmax, w + st), Mux(dn, Mux(w < st, 0, w - st), w)))
        return out

    def lif_next(self, m, st, i_syn, ip_en=1):
        """``lif_stepwise`` with ``step=1`` and ``ip_en``: next state word of neuron ``st``."""
        lp = self.params.lif
        lo, hi = signed_range(lp.V_BITS)
        nxt = Signal(neuron_layout(self.params))
        theta = Signal(signed(lp.V_BITS + 1))
        u_raw = Signal(signed(lp.V_BITS + 2))
        u = Signal(signed(lp.V_BITS))
        m.d.comb += [
            theta.eq(lp.THETA_BASE + st.level * lp.THETA_STEP),
            u_raw.eq(st.v - (st.v >> lp.LEAK_SHIFT) + i_syn),
            u.eq(Mux(u_raw > hi, hi, Mux(u_raw < lo, lo, u_raw))),
        ]
        spike = Signal()
        m.d.comb += [nxt.level.eq(st.level), nxt.count.eq(st.count), nxt.win.eq(st.win)]
        with m.If(st.ref != 0):
            m.d.comb += [nxt.v.eq(0), nxt.ref.eq(st.ref - 1), spike.eq(0)]
        with m.Elif(u >= theta):
            m.d.comb += [nxt.v.eq(0), nxt.ref.eq(lp.REFRACTORY), spike.eq(1)]
        with m.Else():
            m.d.comb += [nxt.v.eq(u), nxt.ref.eq(0), spike.eq(0)]
        m.d.comb += nxt.spike.eq(spike)
        if self.params.IP_EN:
            c = Signal(range(lp.WINDOW + 2))
            m.d.comb += c.eq(st.count + spike)

            def windows():
                with m.If(st.win == lp.WINDOW - 1):
                    with m.If(c > lp.RATE_HI):
                        m.d.comb += nxt.level.eq(Mux(st.level == lp.LEVELS - 1, st.level, st.level + 1))
                    with m.Elif(c < lp.RATE_LO):
                        m.d.comb += nxt.level.eq(Mux(st.level == 0, 0, st.level - 1))
                    m.d.comb += [nxt.count.eq(0), nxt.win.eq(0)]
                with m.Else():
                    m.d.comb += [nxt.count.eq(c), nxt.win.eq(st.win + 1)]

            if isinstance(ip_en, int):
                windows()
            else:  # IP_EN = 2: windows count only in learning timesteps
                with m.If(ip_en):
                    windows()
        return nxt

    def elaborate(self, platform) -> Module:
        m = Module()
        p = self.params
        lay = neuron_layout(p)
        w0 = initial_weights(p).reshape(-1).tolist()

        m.submodules.nrn = nrn = Memory(shape=lay, depth=p.N, init=[{"level": p.lif.LEVEL_INIT}] * p.N)
        m.submodules.xpre = xpre = Memory(shape=unsigned(p.trace.X_BITS), depth=p.M, init=[])
        m.submodules.xpost = xpost = Memory(shape=unsigned(p.trace.X_BITS), depth=p.N, init=[])
        m.submodules.wmem = wmem = Memory(shape=unsigned(p.update.W_BITS), depth=p.n_synapses, init=w0)
        nrn_rd, nrn_wr = nrn.read_port(), nrn.write_port()
        xpre_rd, xpre_wr = xpre.read_port(), xpre.write_port()
        xpost_rd, xpost_wr = xpost.read_port(), xpost.write_port()
        w_rd, w_wr = wmem.read_port(), wmem.write_port()

        m.submodules.upd = upd = StdpUpdate(**p.update.as_dict())

        i = Signal(range(p.M))            # row counter
        j = Signal(range(p.N))            # column / neuron counter
        pre = Signal(p.M)                 # input spikes of this timestep (= read request rows)
        post = Signal(p.N)                # spikes of this timestep (shifted in, neuron j at bit j)
        codes = Signal(p.codes_bits)      # read response, shifted out one column per neuron
        inh = Signal()                    # any spike in the previous timestep
        seen = Signal()                   # WTA: a neuron already spiked in this timestep's pass
        learn_t = Signal()                # in_learn of this timestep
        prei = Signal()                   # pre[i] of the current learning row
        xcur = Signal(p.trace.X_BITS)     # updated x_pre[i] of the current learning row
        pg_row = Signal(p.row_bits)
        pg_col = Signal(p.col_bits)
        pg_set = Signal()
        pg_count = Signal(p.update.W_BITS)
        syn = Signal(range(p.n_synapses))
        m.d.comb += [
            syn.eq(i * p.N + j),
            self.pg_row.eq(pg_row), self.pg_col.eq(pg_col), self.pg_set.eq(pg_set), self.pg_count.eq(pg_count),
            self.rd_req_rows.eq(pre), self.out_spikes.eq(post),
            self.dbg_v.eq(nrn_rd.data.v), self.dbg_level.eq(nrn_rd.data.level),
        ]

        # neuron datapath: state word from memory -> lif_stepwise step -> write back
        cur = nrn_rd.data
        i_syn = self.isyn(m, codes[: p.ADC_BITS], self.inhibited(inh, seen))
        nxt = self.lif_next(m, cur, i_syn, self.ip_enable(learn_t))
        instar = p.RULE == RULE_INSTAR
        gated = p.RULE == RULE_GATED
        direct = instar or gated            # rules computed here (not by stdp_update)
        w_ins = Signal(p.update.W_BITS)     # instar / gated: the evaluated synapse's old and new weight
        w_ins_new = Signal(p.update.W_BITS)
        prei_now = pre.bit_select(i, 1)
        xpre_next = self.trace_next(xpre_rd.data, prei_now)
        post_j = post.bit_select(j, 1)

        def next_synapse(row_done_state):
            """Advance ``j`` (and the row when ``j`` wraps)."""
            with m.If(j == p.N - 1):
                m.d.sync += j.eq(0)
                row_done_state()
            with m.Else():
                m.d.sync += j.eq(j + 1)

        def next_row():
            with m.If(i == p.M - 1):
                m.d.sync += i.eq(0)
                m.next = "OUT"
            with m.Else():
                m.d.sync += i.eq(i + 1)
                m.next = "L_RD"

        def init_next():
            def row_done():
                with m.If(i == p.M - 1):
                    m.d.sync += i.eq(0)
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += i.eq(i + 1)
                    m.next = "INIT_RD"

            with m.If(j != p.N - 1):
                m.next = "INIT_RD"
            next_synapse(row_done)

        with m.FSM(init="INIT_RD"):
            # -- after reset: clear neuron/trace memories, emit the power-up weights as SETs ----
            with m.State("INIT_RD"):
                m.d.comb += [
                    w_rd.addr.eq(syn),
                    xpre_wr.addr.eq(i), xpre_wr.data.eq(0), xpre_wr.en.eq(1),
                    xpost_wr.addr.eq(j), xpost_wr.data.eq(0), xpost_wr.en.eq(1),
                    nrn_wr.addr.eq(j), nrn_wr.data.eq(lay.const({"level": p.lif.LEVEL_INIT})), nrn_wr.en.eq(1),
                ]
                m.d.sync += inh.eq(0)
                m.next = "INIT_CHK"
            with m.State("INIT_CHK"):
                with m.If(w_rd.data != 0):
                    m.d.sync += [pg_row.eq(i), pg_col.eq(j), pg_set.eq(1), pg_count.eq(w_rd.data)]
                    m.next = "INIT_PG"
                with m.Else():
                    init_next()
            with m.State("INIT_PG"):
                m.d.comb += self.pg_valid.eq(1)
                with m.If(self.handshake("pg", 1, self.pg_ready)):
                    init_next()

            # -- one timestep ----------------------------------------------------------------
            with m.State("IDLE"):
                m.d.comb += [self.in_ready.eq(1), nrn_rd.addr.eq(self.dbg_addr)]
                with m.If(self.handshake("in", self.in_valid, 1)):
                    m.d.sync += [pre.eq(self.in_spikes), learn_t.eq(self.in_learn), i.eq(0), j.eq(0), seen.eq(0)]
                    m.next = "RDREQ"
            with m.State("RDREQ"):
                m.d.comb += self.rd_req_valid.eq(1)
                with m.If(self.handshake("rd_req", 1, self.rd_req_ready)):
                    m.next = "RDRESP"
            with m.State("RDRESP"):
                m.d.comb += self.rd_resp_ready.eq(1)
                with m.If(self.handshake("rd_resp", self.rd_resp_valid, 1)):
                    m.d.sync += codes.eq(self.rd_resp_codes)
                    m.next = "N_RD"
            with m.State("N_RD"):
                m.d.comb += [nrn_rd.addr.eq(j), xpost_rd.addr.eq(j)]
                m.next = "N_UPD"
            with m.State("N_UPD"):
                m.d.comb += [
                    nrn_wr.addr.eq(j), nrn_wr.data.eq(nxt), nrn_wr.en.eq(1),
                    xpost_wr.addr.eq(j), xpost_wr.data.eq(self.trace_next(xpost_rd.data, nxt.spike)), xpost_wr.en.eq(1),
                ]
                m.d.sync += [post.eq(Cat(post[1:], nxt.spike)), codes.eq(codes >> p.ADC_BITS)]
                with m.If(nxt.spike):
                    m.d.sync += seen.eq(1)
                with m.If(j == p.N - 1):
                    m.d.sync += [j.eq(0), i.eq(0)]
                    m.next = "L_RD"
                with m.Else():
                    m.d.sync += j.eq(j + 1)
                    m.next = "N_RD"
            # learning row i: update x_pre[i], then the row's evaluated synapses
            with m.State("L_RD"):
                m.d.comb += xpre_rd.addr.eq(i)
                m.next = "L_UPD"
            with m.State("L_UPD"):
                m.d.comb += [xpre_wr.addr.eq(i), xpre_wr.data.eq(xpre_next), xpre_wr.en.eq(1)]
                m.d.sync += [xcur.eq(self.learning_pre_trace(xpre_rd.data, xpre_next)), prei.eq(prei_now), j.eq(0)]
                if p.LEARN:
                    with m.If(learn_t & (post.any() if instar else (prei_now if gated else (prei_now | post.any())))):
                        m.next = "S_RD"
                    with m.Else():
                        next_row()
                else:
                    next_row()
            with m.State("S_RD"):
                with m.If(post_j if instar else (prei if gated else (prei | post_j))):
                    m.d.comb += [w_rd.addr.eq(syn), xpost_rd.addr.eq(j)]
                    if gated:
                        m.d.comb += nrn_rd.addr.eq(j)
                    m.next = "S_UPD"
                with m.Else():
                    m.next = "S_RD"
                    next_synapse(next_row)
            with m.State("S_UPD"):
                if instar:
                    m.d.sync += [w_ins.eq(w_rd.data), w_ins_new.eq(self.instar_next(m, w_rd.data, xcur))]
                elif gated:  # neuron j's learning flags from its state word after this timestep's update
                    up, dn = self.learn_flags(m, nrn_rd.data)
                    m.d.sync += [w_ins.eq(w_rd.data), w_ins_new.eq(self.gated_next(m, w_rd.data, up, dn))]
                else:
                    m.d.comb += [
                        upd.valid.eq(1), upd.w.eq(w_rd.data), upd.x_pre.eq(xcur), upd.x_post.eq(xpost_rd.data),
                        upd.pre.eq(prei), upd.post.eq(post_j),
                    ]
                m.next = "S_WB"
            with m.State("S_WB"):
                if direct:
                    w_new, n_set, n_reset = w_ins_new, Signal(p.update.W_BITS), Signal(p.update.W_BITS)
                    m.d.comb += [n_set.eq(Mux(w_ins_new > w_ins, w_ins_new - w_ins, 0)),
                                 n_reset.eq(Mux(w_ins > w_ins_new, w_ins - w_ins_new, 0))]
                else:
                    w_new, n_set, n_reset = upd.w_new, upd.n_set, upd.n_reset
                m.d.comb += [w_wr.addr.eq(syn), w_wr.data.eq(w_new), w_wr.en.eq(1)]
                with m.If((n_set != 0) | (n_reset != 0)):
                    m.d.sync += [pg_row.eq(i), pg_col.eq(j), pg_set.eq(n_set != 0),
                                 pg_count.eq(Mux(n_set != 0, n_set, n_reset))]
                    m.next = "S_PG"
                with m.Else():
                    m.next = "S_RD"
                    next_synapse(next_row)
            with m.State("S_PG"):
                m.d.comb += self.pg_valid.eq(1)
                with m.If(self.handshake("pg", 1, self.pg_ready)):
                    m.next = "S_RD"
                    next_synapse(next_row)
            with m.State("OUT"):
                m.d.comb += self.out_valid.eq(1)
                with m.If(self.handshake("out", 1, self.out_ready)):
                    m.d.sync += inh.eq(post.any())
                    m.next = "IDLE"
        return m
