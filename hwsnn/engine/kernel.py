"""The kernel factory: one fused, cached per-sample kernel generated from (neuron, rules, backend).

:func:`layer_kernel` writes the source of a Numba kernel for one presentation of a
winner-take-all layer (inputs -> plastic projection -> population with lateral inhibition) in
which every rule's hooks are called by name, so a rule is compiled into the time-step loop like a
built-in one.  The source goes to a cache folder under a name that hashes the template, the hook
modules' sources and the Numba version, and is compiled with ``cache=True``: a second process
loads the machine code instead of compiling again.

Per time step the order is fixed (one implementation for every backend):

1. ``decay`` -- conductances decay (neuron hook);
2. ``integrate`` -- this step's input spikes are read through the backend's read path
   (ideal: ``efficacy * w[i, :]`` per input spike; integer: the codes times the LSB; crossbar:
   the column sums of the active rows with the devices' exact column-sum read noise and the ADC of
   the crossbar config) and added to the excitatory input; last step's spikes are delivered
   laterally (direct inhibition or the inhibitory population);
3. ``threshold`` and 4. ``reset/refractory`` -- the neuron hook's update;
5. ``plasticity`` -- traces *before* this step's increments.  Float backends are event driven:
   a presynaptic spike of ``i`` calls each rule's ``on_pre`` for the postsynaptic neurons of its
   scope, a postsynaptic spike of ``j`` calls ``on_post`` for the inputs of its scope; ideal
   weights change in place (clipped to ``[0, w_max]``), the crossbar accumulates the changes for
   its write-back.  The integer backend follows the hardware learning core: the synapses
   ``(i, j)`` with ``pre_i`` or ``post_j`` are evaluated in row-major order (``i`` outer, ``j``
   inner), the rules' ``on_synapse`` changes summed and the code clamped to ``[0, 2**w_bits - 1]``,
   with one shared LFSR16 advanced once per evaluated synapse (the value before advancing is
   the rounding value ``r`` of that synapse, as in ``stdp_update``).  An integer rule with
   ``eligibility`` changes its eligibility register instead of the code at those synapses:
   ``c.elig[i, j] = on_synapse(c, c.elig[i, j], pre, post, x..., k)`` with ``k = n_total - t``
   the steps left to the end of the presentation (the rule decays the change to that time itself,
   see :mod:`hwsnn.engine.rules.three_factor`); the LFSR advances as for every evaluated synapse;
6. ``trace increments`` -- nearest-spike traces: the step of each neuron's last spike.  With
   sample rules also the first and last spike step of every input and neuron within the
   presentation (:class:`hwsnn.engine.contract.SpikeTimeSpec`).

A quiescent rest phase is skipped in closed form (neuron hooks ``busy``/``skip``).

After the presentation, on a learning sample, rules with sample hooks (``on_sample`` /
``on_sample_syn``) run once: ``g = on_sample_begin(c, n_pre, n_post, counts)`` (``1.0`` without
one), then every synapse ``(i, j)`` in row-major order gets ``on_sample``'s change, applied like
an event hook's (ideal: in place, clipped; crossbar: accumulated for the write-back, and the
column marked as touched so that the write-back programs it; integer: the summed
``on_sample_syn`` changes of the rules clamped to the code range, one LFSR16 advance per
synapse).  A rule with ``eligibility`` accumulates its event hooks' changes into its eligibility
``c.elig`` instead (decayed to the end of the presentation) and gets ``g * c.elig[i, j]`` in
that sweep (float), or ``on_sample_syn(c, q, g, pre, post, t..., c.elig[i, j], r)`` (integer:
the eligibility is passed before the LFSR value); the eligibility then restarts at 0.  Kernels of
rules without sample hooks or eligibility are generated exactly as before.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numba
import numba.core.caching
import numba.core.event

from hwsnn.engine.contract import NeuronHooks

__all__ = ["LayerSpec", "NeuronHooks", "layer_kernel", "compile_generated", "kernel_cache_dir", "BACKENDS",
           "enable_compile_notice", "COMPILE_NOTICE"]

BACKENDS = ("ideal", "integer", "crossbar")

_TEMPLATE_VERSION = "1"
_LOCK = threading.Lock()
_LOADED: dict[str, object] = {}


COMPILE_NOTICE = "hwsnn: compiling kernels, first run only (Numba caches them for later runs)"


class _CompileNotice(numba.core.event.Listener):
    """Prints :data:`COMPILE_NOTICE` once, when the process first compiles a kernel that Numba
    caches on disk -- i.e. only when that cache is cold (a warm start loads machine code and
    compiles nothing cacheable).  Only when ``$HWSNN_COMPILE_NOTICE`` is ``1`` (the command line
    sets it unless the user set it)."""

    shown = False

    def on_start(self, event):
        if _CompileNotice.shown or os.environ.get("HWSNN_COMPILE_NOTICE", "0") in ("", "0"):
            return
        disp = event.data.get("dispatcher") if isinstance(event.data, dict) else None
        if disp is None or isinstance(getattr(disp, "_cache", None), numba.core.caching.NullCache):
            return
        _CompileNotice.shown = True
        print(COMPILE_NOTICE, file=sys.stderr, flush=True)

    def on_end(self, event):
        pass


_NOTICE_INSTALLED = False


def enable_compile_notice() -> None:
    """Install the one-time "compiling kernels" notice (idempotent; see :class:`_CompileNotice`)."""
    global _NOTICE_INSTALLED
    if not _NOTICE_INSTALLED:
        numba.core.event.register("numba:compile", _CompileNotice())
        _NOTICE_INSTALLED = True


enable_compile_notice()


def kernel_cache_dir() -> Path:
    """Where generated kernels live (``$HWSNN_KERNEL_CACHE`` or ``~/.cache/hwsnn/kernels``)."""
    d = os.environ.get("HWSNN_KERNEL_CACHE")
    return Path(d) if d else Path.home() / ".cache" / "hwsnn" / "kernels"


@dataclass(frozen=True)
class LayerSpec:
    """What a layer kernel is generated from."""

    backend: str
    """One of :data:`BACKENDS`."""
    neuron: NeuronHooks
    rules: tuple
    """Per rule: ``(hooks, n_pre_traces, n_post_traces, pre_trace_rows, post_trace_rows)``; the
    rows index the kernel's shared trace tables."""
    population: bool
    """Lateral inhibition through an explicit inhibitory population (else direct)."""
    components: tuple = ()
    """Synergy with mechanism-specific weights: the component index of each rule (empty: every
    rule changes the shared weights, its change scaled by ``lam[r]``).  With components, rule
    ``r`` changes its own copy ``WC[m]`` (ideal) or accumulates into ``DWC[m]`` (crossbar), and
    the effective weight the neurons see is ``W = sum_m lam[m] WC[m]``."""
    track: bool = False
    """Accumulate each rule's absolute change per sample into ``contrib[r]`` (synergy credit)."""
    structs: tuple = ()
    """``(name, NamedTuple class)`` of the kernel's structured arguments, in call order: ``ec``,
    ``es``, ``ic``, ``ist``, ``net``, ``rd``, ``rec``, then one per rule (``rc0``, ``rc1``, ...)."""
    record: bool = False
    """Also record per-step state (tests, co-simulation probes)."""


# ---------------------------------------------------------------------------------------------
_HEADER = '''"""Generated by hwsnn.engine.kernel -- do not edit (key {key})."""
import math
import numpy as np
from numba import njit
from hwsnn.rng import bits64
from hwsnn.crossbar.kernels import read_out
from hwsnn.plasticity.fixed import lfsr_advance
'''

_KERNEL = '''
@njit(cache=True, error_model="numpy")
def present(ev_ptr, ev_idx, n_on, n_total, learn,
            W, Q, DW, WC, DWC, contrib, pre_tab, post_tab, key, ctr, lfsr, counts, colgain, WV, rkey, rctr, touched, lam,
            #FLAT#):
    # the NamedTuples are passed field by field (typing a NamedTuple argument at every call costs
    # more than a small presentation) and rebuilt here
#REBUILD#
    n_in = W.shape[0] if BACKEND != 1 else Q.shape[0]
    n_exc = es.v.shape[0]
    n_inh = ist.v.shape[0] if POPULATION else 0
    eff = net.eff
    effq = net.effq
    wmax = net.w_max
    qmax = net.q_max
    w_inh = net.w_inh
    w_ei = net.w_ei
    w_ie = net.w_ie
    noisy = rd.noisy
    out_noise = rd.out_noise
    adc_on = rd.adc_on
    adc_lo = rd.adc_lo
    adc_step = rd.adc_step
    adc_max = rd.adc_max
    adc_sat = rd.adc_sat
    ge = es.ge  # the excitatory/inhibitory input arrays as locals: the integration loops vectorise
    gi = es.gi
    gei = ist.ge

    tl_pre = np.full(n_in, -1, np.int64)
    tl_post = np.full(n_exc, -1, np.int64)
#SAMPLE_INIT#
    act_pre = np.empty(n_in, np.int64)
    n_act_pre = 0
    act_post = np.empty(n_exc, np.int64)
    n_act_post = 0
    spk = np.empty(n_exc, np.int64)
    n_spk = 0
    spk_prev = np.empty(n_exc, np.int64)
    n_spk_prev = 0
    spki = np.empty(max(n_inh, 1), np.int64)
    n_spki = 0
    spki_prev = np.empty(max(n_inh, 1), np.int64)
    n_spki_prev = 0
    postf = np.zeros(n_exc, np.int64)
    col = np.zeros(n_exc)
    col2 = np.zeros(n_exc)
    use_read = noisy or adc_on or out_noise > 0.0
    zcol = np.zeros(n_exc)
    rc_ = rctr[0]
    use_gain = colgain.shape[0] == n_exc
    c = ctr[0]
    r16 = lfsr[0]
    total = 0
    for j in range(n_exc):
        counts[j] = 0

    t = 0
    while t < n_total:
        # ---- 1. decay
        NRN_decay(ec, es)
        if POPULATION:
            NRN_decay(ic, ist)
        # ---- 2. integrate: input events of this step through the backend's read path
        if t < n_on:
            e0 = ev_ptr[t]
            e1 = ev_ptr[t + 1]
            if e1 > e0:
                if BACKEND == 2 and use_read:
                    # the crossbar's column read: cached per-cell weights and read-noise variances
                    # summed over the active rows, then its read_out (column-sum Gaussian, output
                    # noise, ADC), with the crossbar's read key and counter; the input conductance
                    # clips at 0
                    for j in range(n_exc):
                        col[j] = 0.0
                        col2[j] = 0.0
                    for e in range(e0, e1):
                        i = ev_idx[e]
                        for j in range(n_exc):
                            col[j] += W[i, j]
                            col2[j] += WV[i, j]
                    read_out(col, col2, 1.0, noisy, zcol, rkey, rc_, out_noise, adc_on, adc_lo, adc_step, adc_max,
                             adc_sat)
                    rc_ += 1
                    if use_gain:
                        for j in range(n_exc):
                            x = col[j]
                            ge[j] += eff * colgain[j] * (x if x > 0.0 else 0.0)
                    else:
                        for j in range(n_exc):
                            x = col[j]
                            ge[j] += eff * (x if x > 0.0 else 0.0)
                elif BACKEND == 1:
                    for e in range(e0, e1):
                        i = ev_idx[e]
                        for j in range(n_exc):
                            ge[j] += effq * Q[i, j]
                elif use_gain:
                    for e in range(e0, e1):
                        i = ev_idx[e]
                        for j in range(n_exc):
                            ge[j] += eff * colgain[j] * W[i, j]
                else:
                    for e in range(e0, e1):
                        i = ev_idx[e]
                        for j in range(n_exc):
                            ge[j] += eff * W[i, j]
        # lateral effects of last step's spikes
        if POPULATION:
            for s in range(n_spk_prev):
                gei[spk_prev[s]] += w_ei
            if n_spki_prev > 0:
                tot = w_ie * n_spki_prev
                for j in range(n_exc):
                    gi[j] += tot
                for s in range(n_spki_prev):
                    gi[spki_prev[s]] -= w_ie
        elif n_spk_prev > 0:
            tot = w_inh * n_spk_prev
            for j in range(n_exc):
                gi[j] += tot
            for s in range(n_spk_prev):
                gi[spk_prev[s]] -= w_inh
        # ---- 3./4. threshold, reset, refractory
        n_spk = NRN_update(ec, es, learn, spk)
        if POPULATION:
            n_spki = NRN_update(ic, ist, learn, spki)
        if t < n_on:
            for s in range(n_spk):
                counts[spk[s]] += 1
        total += n_spk
        # ---- 5. plasticity (traces before this step's increments)
        if learn:
#PLASTICITY#
        # ---- 6. trace increments
        if t < n_on:
            for e in range(ev_ptr[t], ev_ptr[t + 1]):
                i = ev_idx[e]
                if tl_pre[i] < 0:
                    act_pre[n_act_pre] = i
                    n_act_pre += 1
                tl_pre[i] = t
        for s in range(n_spk):
            j = spk[s]
            if tl_post[j] < 0:
                act_post[n_act_post] = j
                n_act_post += 1
                if learn:
                    touched[j] = 1
            tl_post[j] = t
            spk_prev[s] = j
        n_spk_prev = n_spk
        for s in range(n_spki):
            spki_prev[s] = spki[s]
        n_spki_prev = n_spki
#SAMPLE_TRACK#
#RECORD#
        t += 1
        # ---- quiescent rest: fast-forward exactly (no input, nothing pending)
        if net.fast_forward and t >= n_on and t < n_total and n_spk_prev == 0 and n_spki_prev == 0 and not RECORD:
            busy = NRN_busy(ec, es)
            if POPULATION and not busy:
                busy = NRN_busy(ic, ist)
            if not busy:
                m = n_total - t
                NRN_skip(ec, es, m)
                if POPULATION:
                    NRN_skip(ic, ist, m)
                t = n_total
#SAMPLE#
    ctr[0] = c
    rctr[0] = rc_
    lfsr[0] = r16
    return total
'''

_RECORD = '''        if RECORD:
            for j in range(n_exc):
                rec.v[t, j] = es.v[j]
                rec.ge[t, j] = ge[j]
                rec.spikes[t, j] = 0
            for s in range(n_spk):
                rec.spikes[t, spk[s]] = 1
            if BACKEND == 1:
                for i in range(n_in):
                    for j in range(n_exc):
                        rec.w[t, i, j] = Q[i, j]
            else:
                for i in range(n_in):
                    for j in range(n_exc):
                        rec.w[t, i, j] = W[i, j]
'''


def _trace_expr(side: str, row: int, idx: str, integer: bool) -> str:
    tl = "tl_pre" if side == "pre" else "tl_post"
    tab = "pre_tab" if side == "pre" else "post_tab"
    zero = "0" if integer else "0.0"
    return f"({tab}[{row}, t - {tl}[{idx}]] if {tl}[{idx}] >= 0 else {zero})"


def _apply(spec: LayerSpec, r: int, dw: str) -> list[str]:
    out = [f"contrib[{r}] += abs({dw})"] if spec.track else []
    if spec.components:
        m = spec.components[r]
        if spec.backend == "crossbar":
            return out + [f"DWC[{m}, i, j] += {dw}"]
        eff = " + ".join(f"lam[{k}] * WC[{k}, i, j]" for k in range(len(spec.components)))
        return out + [f"x = WC[{m}, i, j] + {dw}",
                      f"WC[{m}, i, j] = 0.0 if x < 0.0 else (wmax if x > wmax else x)",
                      f"W[i, j] = {eff}"]
    if spec.backend == "crossbar":
        return out + [f"DW[i, j] += {dw}"]
    return out + [f"x = W[i, j] + {dw}",
                  "W[i, j] = 0.0 if x < 0.0 else (wmax if x > wmax else x)"]


def _apply_event(spec: LayerSpec, r: int, dw: str, hooks) -> list[str]:
    """An event hook's change: to the weights, or to the rule's eligibility (decayed to the end of
    the presentation)."""
    if getattr(hooks, "eligibility", False):
        return [f"rc[{r}].elig[i, j] += {dw} * math.exp((t - n_total) * rc[{r}].k_e)"]
    return _apply(spec, r, dw)


def _w(spec: LayerSpec, r: int) -> str:
    """The weight a rule's hook sees: its own component (synergy form b) or the shared weight."""
    return f"WC[{spec.components[r]}, i, j]" if spec.components else "W[i, j]"


def _ij(hooks) -> str:
    """The synapse indices an indexed rule's hooks receive after their constants."""
    return "i, j, " if getattr(hooks, "indexed", False) else ""


def _gain(spec: LayerSpec, r: int) -> str:
    return "" if spec.components else f"lam[{r}] * "


def _float_plasticity(spec: LayerSpec) -> list[str]:
    out: list[str] = []
    for r, (hooks, _npre, _npost, pre_rows, post_rows) in enumerate(spec.rules):
        if hooks.on_pre is not None:
            pre_args = ", ".join(f"xp{a}" for a in range(len(pre_rows)))
            post_args = ", ".join(f"xq{b}" for b in range(len(post_rows)))
            args = ", ".join(a for a in (pre_args, post_args) if a)
            out.append("if t < n_on:")
            out.append("    for e in range(ev_ptr[t], ev_ptr[t + 1]):")
            out.append("        i = ev_idx[e]")
            for a, row in enumerate(pre_rows):
                out.append(f"        xp{a} = {_trace_expr('pre', row, 'i', False)}")
            if hooks.pre_scope == "all":
                out.append("        for j in range(n_exc):")
            else:
                out.append("        for a_ in range(n_act_post):")
                out.append("            j = act_post[a_]")
            for b, row in enumerate(post_rows):
                out.append(f"            xq{b} = {_trace_expr('post', row, 'j', False)}")
            out.append(f"            dw = {_gain(spec, r)}R{r}_pre(rc[{r}], {_ij(hooks)}{_w(spec, r)}{', ' + args if args else ''})")
            out.extend("            " + s for s in _apply_event(spec, r, "dw", hooks))
        if hooks.on_post is not None:
            pre_args = ", ".join(f"xp{a}" for a in range(len(pre_rows)))
            post_args = ", ".join(f"xq{b}" for b in range(len(post_rows)))
            args = ", ".join(a for a in (pre_args, post_args) if a)
            out.append("for s in range(n_spk):")
            out.append("    j = spk[s]")
            for b, row in enumerate(post_rows):
                out.append(f"    xq{b} = {_trace_expr('post', row, 'j', False)}")
            if hooks.post_scope == "all":
                out.append("    for i in range(n_in):")
            else:
                out.append("    for a_ in range(n_act_pre):")
                out.append("        i = act_pre[a_]")
            for a, row in enumerate(pre_rows):
                out.append(f"        xp{a} = {_trace_expr('pre', row, 'i', False)}")
            out.append(f"        dw = {_gain(spec, r)}R{r}_post(rc[{r}], {_ij(hooks)}{_w(spec, r)}{', ' + args if args else ''})")
            out.extend("        " + s for s in _apply_event(spec, r, "dw", hooks))
    return out or ["pass"]


def _int_plasticity(spec: LayerSpec) -> list[str]:
    """Row-major sweep over the synapses with a pre or post spike; one LFSR16 value each."""
    out = [
        "e0 = ev_ptr[t] if t < n_on else 0",
        "e1 = ev_ptr[t + 1] if t < n_on else 0",
        "if e1 > e0 or n_spk > 0:",
        "    for s in range(n_spk):",
        "        postf[spk[s]] = 1",
        "    e = e0",
        "    i_next = ev_idx[e] if e < e1 else n_in",
        "    i = 0 if n_spk > 0 else i_next",
        "    while i < n_in:",
        "        pre = 0",
        "        if i == i_next:",
        "            pre = 1",
        "            e += 1",
        "            while e < e1 and ev_idx[e] == i:",
        "                e += 1",
        "            i_next = ev_idx[e] if e < e1 else n_in",
        "        n_j = n_exc if pre == 1 else n_spk",
        "        for jj in range(n_j):",
        "            j = jj if pre == 1 else spk[jj]",
        "            post = postf[j]",
        "            r = r16",
        "            r16 = lfsr_advance(r16)",
        "            dq = 0",
    ]
    for r, (hooks, _npre, _npost, pre_rows, post_rows) in enumerate(spec.rules):
        if hooks.on_synapse is None:
            continue
        for a, row in enumerate(pre_rows):
            out.append(f"            xp{a} = {_trace_expr('pre', row, 'i', True)}")
        for b, row in enumerate(post_rows):
            out.append(f"            xq{b} = {_trace_expr('post', row, 'j', True)}")
        args = ", ".join([f"xp{a}" for a in range(len(pre_rows))] + [f"xq{b}" for b in range(len(post_rows))])
        if getattr(hooks, "eligibility", False):
            # the synapse's eligibility register in, the new one out; k = n_total - t steps to the reward
            out.append(f"            rc[{r}].elig[i, j] = R{r}_syn(rc[{r}], {_ij(hooks)}rc[{r}].elig[i, j], pre, post"
                       f"{', ' + args if args else ''}, n_total - t)")
        else:
            out.append(f"            dq += R{r}_syn(rc[{r}], {_ij(hooks)}Q[i, j], pre, post{', ' + args if args else ''}, r)")
    out += [
        "            x = Q[i, j] + dq",
        "            Q[i, j] = 0 if x < 0 else (qmax if x > qmax else x)",
        "        i = i + 1 if n_spk > 0 else i_next",
        "    for s in range(n_spk):",
        "        postf[spk[s]] = 0",
    ]
    return out


_SAMPLE_INIT = """    sf_pre = np.full(n_in, -1, np.int64)
    sl_pre = np.full(n_in, -1, np.int64)
    sf_post = np.full(n_exc, -1, np.int64)
    sl_post = np.full(n_exc, -1, np.int64)
"""

_SAMPLE_TRACK = """        # per-sample spike times: first and last spike step within the presentation
        if t < n_on:
            for e in range(ev_ptr[t], ev_ptr[t + 1]):
                i = ev_idx[e]
                if sf_pre[i] < 0:
                    sf_pre[i] = t
                sl_pre[i] = t
            for s in range(n_spk):
                j = spk[s]
                if sf_post[j] < 0:
                    sf_post[j] = t
                sl_post[j] = t
"""


def _has_sample(spec: LayerSpec) -> bool:
    return any(getattr(h, "on_sample", None) is not None or getattr(h, "on_sample_syn", None) is not None
               or getattr(h, "eligibility", False) for h, *_rest in spec.rules)


def _time_expr(ts, idx: str) -> str:
    arr = ("sf_" if ts.which == "first" else "sl_") + ts.side
    return f"({arr}[{idx}] if {arr}[{idx}] >= 0 else n_on)"


def _sample_phase(spec: LayerSpec) -> list[str]:
    """Phase 7: the rules' sample hooks over every synapse after a learning presentation."""
    integer = spec.backend == "integer"
    key = "on_sample_syn" if integer else "on_sample"
    live = [(r, h) for r, (h, *_rest) in enumerate(spec.rules) if getattr(h, key, None) is not None
            or (not integer and getattr(h, "eligibility", False))]
    if not live:
        return []
    out = ["# ---- 7. per-sample rules: every synapse after a learning presentation (row-major)",
           "if learn:",
           "    sn_pre = 0",
           "    for i in range(n_in):",
           "        if sl_pre[i] >= 0:",
           "            sn_pre += 1",
           "    sn_post = 0",
           "    for j in range(n_exc):",
           "        if sl_post[j] >= 0:",
           "            sn_post += 1"]
    for r, h in live:
        one = "1" if integer else "1.0"
        out.append(f"    sg{r} = R{r}_begin(rc[{r}], sn_pre, sn_post, counts)" if h.on_sample_begin is not None
                   else f"    sg{r} = {one}")
    out += ["    for i in range(n_in):",
            "        sp = 1 if sl_pre[i] >= 0 else 0"]
    for r, h in live:
        for a, ts in enumerate(h.spike_times):
            if ts.side == "pre":
                out.append(f"        st{r}_{a} = {_time_expr(ts, 'i')}")
    out += ["        for j in range(n_exc):",
            "            sq = 1 if sl_post[j] >= 0 else 0"]
    for r, h in live:
        for a, ts in enumerate(h.spike_times):
            if ts.side == "post":
                out.append(f"            st{r}_{a} = {_time_expr(ts, 'j')}")
    if integer:
        out += ["            r = r16",
                "            r16 = lfsr_advance(r16)",
                "            dq = 0"]
        for r, h in live:
            targs = "".join(f", st{r}_{a}" for a in range(len(h.spike_times)))
            if getattr(h, "eligibility", False):
                out.append(f"            dq += R{r}_ssyn(rc[{r}], Q[i, j], sg{r}, sp, sq{targs}, rc[{r}].elig[i, j], r)")
                out.append(f"            rc[{r}].elig[i, j] = 0")
            else:
                out.append(f"            dq += R{r}_ssyn(rc[{r}], Q[i, j], sg{r}, sp, sq{targs}, r)")
        out += ["            if dq != 0:",
                "                touched[j] = 1",
                "                x = Q[i, j] + dq",
                "                Q[i, j] = 0 if x < 0 else (qmax if x > qmax else x)"]
        return out
    for r, h in live:
        targs = "".join(f", st{r}_{a}" for a in range(len(h.spike_times)))
        if getattr(h, "eligibility", False):
            out.append(f"            dw = sg{r} * rc[{r}].elig[i, j]")
            out.append(f"            rc[{r}].elig[i, j] = 0.0")
        else:
            out.append(f"            dw = {_gain(spec, r)}R{r}_sample(rc[{r}], {_w(spec, r)}, sg{r}, sp, sq{targs})")
        out.append("            if dw != 0.0:")
        out.append("                touched[j] = 1")
        out.extend("                " + s for s in _apply(spec, r, "dw"))
    return out


def _hook_names(spec: LayerSpec) -> dict[str, object]:
    names = {
        "NRN_decay": spec.neuron.decay,
        "NRN_update": spec.neuron.update,
        "NRN_busy": spec.neuron.busy,
        "NRN_skip": spec.neuron.skip,
    }
    for name, cls in spec.structs:
        names[f"NT_{name}"] = cls
    for r, (hooks, *_rest) in enumerate(spec.rules):
        if hooks.on_pre is not None:
            names[f"R{r}_pre"] = hooks.on_pre
        if hooks.on_post is not None:
            names[f"R{r}_post"] = hooks.on_post
        if getattr(hooks, "on_synapse", None) is not None:
            names[f"R{r}_syn"] = hooks.on_synapse
        if getattr(hooks, "on_sample", None) is not None and spec.backend != "integer":
            names[f"R{r}_sample"] = hooks.on_sample
        if getattr(hooks, "on_sample_syn", None) is not None and spec.backend == "integer":
            names[f"R{r}_ssyn"] = hooks.on_sample_syn
        if getattr(hooks, "on_sample_begin", None) is not None and (
                getattr(hooks, "on_sample_syn" if spec.backend == "integer" else "on_sample", None) is not None
                or (spec.backend != "integer" and getattr(hooks, "eligibility", False))):
            names[f"R{r}_begin"] = hooks.on_sample_begin
    return names


def _source(spec: LayerSpec) -> str:
    plast = _int_plasticity(spec) if spec.backend == "integer" else _float_plasticity(spec)
    body = _KERNEL.replace("#PLASTICITY#", "\n".join("            " + s for s in plast))
    body = body.replace("#RECORD#", _RECORD if spec.record else "")
    sample = _sample_phase(spec)
    if _has_sample(spec):
        body = body.replace("#SAMPLE_INIT#\n", _SAMPLE_INIT).replace("#SAMPLE_TRACK#\n", _SAMPLE_TRACK)
    else:  # no sample rule: the kernel is generated exactly as without this phase
        body = body.replace("#SAMPLE_INIT#\n", "").replace("#SAMPLE_TRACK#\n", "")
    body = body.replace("#SAMPLE#\n", "".join("    " + s + "\n" for s in sample))
    flat, rebuild = [], []
    for name, cls in spec.structs:
        fields = [f"{name}_{f}" for f in cls._fields]
        flat.extend(fields)
        rebuild.append(f"    {name} = NT_{name}({', '.join(fields)})")
    n_rules = len(spec.rules)
    rebuild.append("    rc = (" + "".join(f"rc{k}, " for k in range(n_rules)) + ")")
    body = body.replace("#FLAT#", ", ".join(flat)).replace("#REBUILD#", "\n".join(rebuild))
    # BACKEND: ideal = 0, integer = 1, crossbar = 2 (the order of BACKENDS)
    consts = (f"BACKEND = {BACKENDS.index(spec.backend)}\n"
              f"POPULATION = {spec.population}\nRECORD = {spec.record}\n")
    return consts + body


def _module_text(obj) -> str:
    fn = getattr(obj, "py_func", obj)
    mod = sys.modules.get(getattr(fn, "__module__", ""), None)
    try:
        return inspect.getsource(mod) if mod is not None else inspect.getsource(fn)
    except (OSError, TypeError):
        return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"


def compile_generated(prefix: str, version: str, src: str, header: str, names: dict, entry: str,
                      deps: tuple = ()):
    """Load (writing it first if needed) the generated kernel module ``src`` and return ``entry``.

    The module file ``<prefix>_<key>.py`` lives in :func:`kernel_cache_dir`; ``key`` hashes
    ``version``, the Numba and Python versions, the source, the names and modules of the injected
    globals ``names`` (hooks and NamedTuple classes, set on the module before first compilation)
    and the sources of the modules ``deps``, so a change to any of them makes a new kernel (Numba's
    own cache does not track functions called from other modules).  ``header`` is formatted with
    ``key``.  Shared by every code generator (layer kernels here, projection kernels in
    :mod:`hwsnn.snn.step_kernels`).
    """
    h = hashlib.sha256()
    h.update(f"{version} numba {numba.__version__} py {sys.version_info[:2]}\n".encode())
    h.update(src.encode())
    for name in sorted(names):
        fn = getattr(names[name], "py_func", names[name])
        h.update(f"{name}={fn.__module__}.{fn.__qualname__} {getattr(fn, '_fields', '')}\n".encode())
        h.update(_module_text(names[name]).encode())
    for mod in deps:
        h.update(inspect.getsource(importlib.import_module(mod)).encode())
    key = h.hexdigest()[:20]
    cache_key = f"{prefix}_{key}"
    with _LOCK:
        if cache_key in _LOADED:
            return _LOADED[cache_key]
        d = kernel_cache_dir()
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"{cache_key}.py"
        text = header.format(key=key) + src
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        modname = f"hwsnn_{cache_key}"
        specm = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(specm)
        sys.modules[modname] = mod  # Numba's cache rebuilds the kernel's environment by module name
        specm.loader.exec_module(mod)
        for name, fn in names.items():
            setattr(mod, name, fn)
        _LOADED[cache_key] = getattr(mod, entry)
        return _LOADED[cache_key]


def layer_kernel(spec: LayerSpec):
    """The compiled per-presentation kernel for ``spec`` (generated and cached on first use)."""
    if spec.backend not in BACKENDS:
        raise ValueError(f"unknown backend {spec.backend!r}")
    return compile_generated("layer", _TEMPLATE_VERSION, _source(spec), _HEADER, _hook_names(spec), "present",
                             deps=("hwsnn.rng", "hwsnn.plasticity.fixed", "hwsnn.engine.fastmath", "hwsnn.crossbar.kernels"))
