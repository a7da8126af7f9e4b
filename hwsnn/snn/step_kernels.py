"""Generated per-projection plasticity kernels of :class:`hwsnn.snn.Network`.

For each projection the network generates (once per rule combination, cached on disk like the
layer kernel of :mod:`hwsnn.engine.kernel`, whose cache folder and source hashing it uses) one
Numba function that applies the engine rules' hooks to this step's spikes:

* float weights (``ideal``; ``crossbar`` on the weight estimate whose change is then written as
  pulses): for each presynaptic spike ``i`` every rule's ``on_pre`` is called for the
  postsynaptic neurons of its scope, then for each postsynaptic spike ``j`` every ``on_post`` for
  the presynaptic neurons of its scope; each change is clipped to ``[0, w_max]`` at once (the
  layer kernel's order and clipping);
* integer codes: the synapses ``(i, j)`` with ``pre_i`` or ``post_j`` are visited row-major
  (``i`` outer, ``j`` inner), the rules' ``on_synapse`` changes summed and the code clamped, one
  LFSR16 advance per visited synapse (its value before advancing is the synapse's ``r``): the
  hardware learning core's convention (``stdp_update`` bit for bit with ``pair_stdp_int``).

Traces are nearest-spike traces stored as the step of each neuron's last spike and read from a
table ``tab[row, k]`` (``k`` steps after the spike; column 0 is 0 and stands for "no spike" and
for spikes older than the table).  Arguments of a hook: the rule's traces in
:meth:`~hwsnn.engine.contract.Rule.traces` order, then its ``post_inputs`` (per-postsynaptic-neuron
values such as the learning flags of a stepwise-threshold neuron), then (integer) ``r``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from hwsnn.engine.kernel import compile_generated

__all__ = ["ProjRule", "projection_kernel", "trace_at", "trace_tables"]

_VERSION = "1"


@njit(cache=True, inline="always")
def trace_at(tab, row, tl, idx, t):
    """Trace ``row`` of neuron ``idx`` at step ``t`` (``tl[idx]``: its last spike step, -1 = none)."""
    s = tl[idx]
    k = t - s
    if s < 0 or k >= tab.shape[1]:
        k = 0
    return tab[row, k]


def trace_tables(keys, dt: float, integer: bool, x_bits: int = 8, min_len: int = 0) -> np.ndarray:
    """Rows of nearest-spike trace values ``k`` steps after a spike, read before step ``k``'s
    increments: float ``exp(-k dt / tau)`` until it falls below 1e-20 (then 0); integer the
    ``stdp_trace`` register, ``2**x_bits - 1`` at ``k = 1`` and ceil-decayed by ``2**-shift`` per
    step until it reaches 0.  Column 0 is 0 (the "no trace" entry :func:`trace_at` falls back to).

    The one table builder of the engine: :class:`hwsnn.snn.Network`'s projection kernels and
    the layer kernel (:mod:`hwsnn.engine.layer`, which indexes ``t - t_last`` without a bound and
    so asks for ``min_len`` columns, zero-padded) read the same values."""
    if integer:
        xmax = (1 << x_bits) - 1
        rows = []
        for shift in keys:
            vals = [0]
            x = xmax
            while x > 0:
                vals.append(x)
                x = x - ((x + (1 << shift) - 1) >> shift)
            rows.append(vals)
        n = max([len(r) for r in rows] + [1, min_len - 1]) + 1
        out = np.zeros((max(1, len(rows)), n), np.int64)
        for r, vals in enumerate(rows):
            out[r, :len(vals)] = vals
        return out
    n = max([int(np.ceil(46.1 * tau / dt)) + 2 for tau in keys] + [1])
    out = np.zeros((max(1, len(keys)), max(n, min_len)))
    k = np.arange(n)
    for r, tau in enumerate(keys):
        out[r, :n] = np.exp(-k * dt / tau)
        out[r, 0] = 0.0
    return out


@dataclass(frozen=True)
class ProjRule:
    """One rule of a projection kernel: its hooks, trace rows and post-input rows."""

    hooks: object
    pre_rows: tuple
    post_rows: tuple
    input_rows: tuple = ()
    """Rows of the per-postsynaptic-neuron input array ``pin`` passed after the traces."""


def _args(rule: ProjRule) -> list[str]:
    return ([f"xp{a}" for a in range(len(rule.pre_rows))] + [f"xq{b}" for b in range(len(rule.post_rows))]
            + [f"pv{c}" for c in range(len(rule.input_rows))])


def _pre_traces(rule: ProjRule, idx: str, ind: str) -> list[str]:
    return [f"{ind}xp{a} = trace_at(pre_tab, {row}, tl_pre, {idx}, t)" for a, row in enumerate(rule.pre_rows)]


def _post_traces(rule: ProjRule, idx: str, ind: str) -> list[str]:
    out = [f"{ind}xq{b} = trace_at(post_tab, {row}, tl_post, {idx}, t)" for b, row in enumerate(rule.post_rows)]
    out += [f"{ind}pv{c} = pin[{row}, {idx}]" for c, row in enumerate(rule.input_rows)]
    return out


_CLIP = ["x = W[i, j] + dw", "W[i, j] = 0.0 if x < 0.0 else (wmax if x > wmax else x)"]


def _float_source(rules: tuple) -> str:
    out = ["@njit(cache=True)",
           "def plasticity(W, pre_idx, post_idx, tl_pre, tl_post, t, pre_tab, post_tab, wmax, pin, lfsr, postf, rc):",
           "    n_pre = W.shape[0]",
           "    n_post = W.shape[1]"]
    for r, rule in enumerate(rules):
        h = rule.hooks
        args = ", ".join(_args(rule))
        ij = "i, j, " if getattr(h, "indexed", False) else ""
        call = lambda kind: f"dw = R{r}_{kind}(rc[{r}], {ij}W[i, j]{', ' + args if args else ''})"  # noqa: E731
        if h.on_pre is not None:
            out += ["    for a in range(pre_idx.shape[0]):", "        i = pre_idx[a]"]
            out += _pre_traces(rule, "i", "        ")
            out += ["        for j in range(n_post):"]
            if h.pre_scope != "all":
                out += ["            if tl_post[j] < 0:", "                continue"]
            out += _post_traces(rule, "j", "            ")
            out += ["            " + call("pre")] + ["            " + s for s in _CLIP]
        if h.on_post is not None:
            out += ["    for b in range(post_idx.shape[0]):", "        j = post_idx[b]"]
            out += _post_traces(rule, "j", "        ")
            out += ["        for i in range(n_pre):"]
            if h.post_scope != "all":
                out += ["            if tl_pre[i] < 0:", "                continue"]
            out += _pre_traces(rule, "i", "            ")
            out += ["            " + call("post")] + ["            " + s for s in _CLIP]
    out.append("    return 0")
    return "\n".join(out) + "\n"


def _int_source(rules: tuple) -> str:
    out = ["@njit(cache=True)",
           "def plasticity(W, pre_idx, post_idx, tl_pre, tl_post, t, pre_tab, post_tab, wmax, pin, lfsr, postf, rc):",
           "    n_pre = W.shape[0]",
           "    n_post = W.shape[1]",
           "    n_spk = post_idx.shape[0]",
           "    e1 = pre_idx.shape[0]",
           "    if e1 == 0 and n_spk == 0:",
           "        return 0",
           "    for s in range(n_spk):",
           "        postf[post_idx[s]] = 1",
           "    r16 = lfsr[0]",
           "    e = 0",
           "    i_next = pre_idx[0] if e1 > 0 else n_pre",
           "    i = 0 if n_spk > 0 else i_next",
           "    while i < n_pre:",
           "        pre = 0",
           "        if i == i_next:",
           "            pre = 1",
           "            e += 1",
           "            i_next = pre_idx[e] if e < e1 else n_pre",
           "        n_j = n_post if pre == 1 else n_spk",
           "        for jj in range(n_j):",
           "            j = jj if pre == 1 else post_idx[jj]",
           "            post = postf[j]",
           "            r = r16",
           "            r16 = lfsr_advance(r16)",
           "            dq = 0"]
    for r, rule in enumerate(rules):
        if rule.hooks.on_synapse is None:
            continue
        out += _pre_traces(rule, "i", "            ") + _post_traces(rule, "j", "            ")
        args = ", ".join(_args(rule))
        ij = "i, j, " if getattr(rule.hooks, "indexed", False) else ""
        out.append(f"            dq += R{r}_syn(rc[{r}], {ij}W[i, j], pre, post{', ' + args if args else ''}, r)")
    out += ["            x = W[i, j] + dq",
            "            W[i, j] = 0 if x < 0 else (wmax if x > wmax else x)",
            "        i = i + 1 if n_spk > 0 else i_next",
            "    for s in range(n_spk):",
            "        postf[post_idx[s]] = 0",
            "    lfsr[0] = r16",
            "    return 0"]
    return "\n".join(out) + "\n"


_HEADER = '''"""Generated by hwsnn.snn.step_kernels -- do not edit (key {key})."""
import numpy as np
from numba import njit
from hwsnn.plasticity.fixed import lfsr_advance
from hwsnn.snn.step_kernels import trace_at

'''


def projection_kernel(rules: tuple, integer: bool):
    """The compiled plasticity function for ``rules`` (a tuple of :class:`ProjRule`)."""
    src = _int_source(rules) if integer else _float_source(rules)
    names = {}
    for r, rule in enumerate(rules):
        h = rule.hooks
        for kind, fn in (("pre", h.on_pre), ("post", h.on_post), ("syn", h.on_synapse)):
            if fn is not None:
                names[f"R{r}_{kind}"] = fn
    return compile_generated("proj", _VERSION, src, _HEADER, names, "plasticity",
                             deps=("hwsnn.plasticity.fixed", "hwsnn.snn.step_kernels"))
