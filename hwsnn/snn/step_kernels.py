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

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import threading
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit

from hwsnn.engine.kernel import _module_text, kernel_cache_dir

__all__ = ["ProjRule", "projection_kernel", "trace_at", "trace_tables"]

_VERSION = "1"
_LOCK = threading.Lock()
_LOADED: dict[str, object] = {}


@njit(cache=True, inline="always")
def trace_at(tab, row, tl, idx, t):
    """Trace ``row`` of neuron ``idx`` at step ``t`` (``tl[idx]``: its last spike step, -1 = none)."""
    s = tl[idx]
    k = t - s
    if s < 0 or k >= tab.shape[1]:
        k = 0
    return tab[row, k]


def trace_tables(keys, dt: float, integer: bool, x_bits: int = 8) -> np.ndarray:
    """Rows of nearest-spike trace values ``k`` steps after a spike, read before step ``k``'s
    increments: float ``exp(-k dt / tau)`` until it falls below 1e-20 (then 0); integer the
    ``stdp_trace`` register, ``2**x_bits - 1`` at ``k = 1`` and ceil-decayed by ``2**-shift`` per
    step until it reaches 0.  Column 0 is 0."""
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
        n = max([len(r) for r in rows] + [1]) + 1
        out = np.zeros((max(1, len(rows)), n), np.int64)
        for r, vals in enumerate(rows):
            out[r, :len(vals)] = vals
        return out
    n = max([int(np.ceil(46.1 * tau / dt)) + 2 for tau in keys] + [1])
    out = np.zeros((max(1, len(keys)), n))
    k = np.arange(n)
    for r, tau in enumerate(keys):
        out[r] = np.exp(-k * dt / tau)
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
        call = lambda kind: f"dw = R{r}_{kind}(rc[{r}], W[i, j]{', ' + args if args else ''})"  # noqa: E731
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
        out.append(f"            dq += R{r}_syn(rc[{r}], W[i, j], pre, post{', ' + args if args else ''}, r)")
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
    h = hashlib.sha256()
    h.update(f"{_VERSION} numba {numba.__version__} py {sys.version_info[:2]}\n".encode())
    h.update(src.encode())
    for name in sorted(names):
        fn = getattr(names[name], "py_func", names[name])
        h.update(f"{name}={fn.__module__}.{fn.__qualname__}\n".encode())
        h.update(_module_text(names[name]).encode())
    for mod in ("hwsnn.plasticity.fixed", "hwsnn.snn.step_kernels"):
        h.update(inspect.getsource(importlib.import_module(mod)).encode())
    key = h.hexdigest()[:20]
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        d = kernel_cache_dir()
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"proj_{key}.py"
        text = _HEADER.format(key=key) + src
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        modname = f"hwsnn_proj_{key}"
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod  # Numba's cache rebuilds the kernel's environment by module name
        spec.loader.exec_module(mod)
        for name, fn in names.items():
            setattr(mod, name, fn)
        _LOADED[key] = mod.plasticity
        return mod.plasticity
