"""NIR export and import of STL networks, and their mapping onto the float engine.

NIR graph of an STL network (a chain)::

    input -> fc0 (Linear) -> lif0 (LIF) -> fc1 (Linear) -> lif1 (LIF) -> ... -> output

* ``Linear.weight`` is ``W.T`` (NIR stores ``(n_out, n_in)``).
* ``LIF`` is NIR's continuous neuron ``tau dv/dt = (v_leak - v) + r I`` read with a forward-Euler
  step ``dt`` (the graph's ``metadata["dt"]``): ``v <- (1 - dt/tau) v + (dt r / tau) I``.  The STL
  neuron ``m = decay*v + I`` is therefore ``tau = dt/(1 - decay)``, ``r = tau/dt``, ``v_leak = 0``,
  ``v_reset = 0`` (hard reset).
* NIR fires on ``v > v_threshold``, the STL neuron on ``m >= theta``; the exporter writes
  ``v_threshold = nextafter(theta, -inf)`` (the largest float below ``theta``), for which the two
  comparisons agree for every float ``m``, and the importer inverts it exactly.
* ``metadata``: ``dt``, ``population`` (output neurons per class), ``decay``, ``format``.

Import (:func:`from_nir`) accepts exactly that shape -- ``Affine`` with an all-zero bias counts as
``Linear`` -- and refuses, with a :class:`hwsnn.errors.ConfigError` naming the node, everything the
STL network cannot represent: biases, leak or reset potentials other than 0, an input gain
``dt r / tau`` other than 1, per-neuron or per-layer time constants that differ, synaptic-current
neurons (``CubaLIF``: the STL neuron has delta synapses), non-spiking or non-leaky neurons (``LI``,
``CubaLI``, ``I``, ``IF``), convolutions, pooling, flatten, scale, threshold and delay nodes,
sub-graphs, and any graph that is not a single chain.

Float engine (:func:`to_engine`): each layer becomes a :class:`hwsnn.snn.Network` population of the
engine's current-based LIF (:class:`hwsnn.engine.neurons_extra.LifNeuron`) with delta synapses,
``tau_m`` chosen so that ``exp(-dt/tau_m) == decay`` exactly, ``v_rest = v_reset = 0``, no
refractory period, and the per-neuron threshold carried by the neuron's threshold state
``theta_j`` (``v_thresh + theta_j == theta`` checked exactly); signed weights are an excitatory
projection of ``max(W, 0)`` and an inhibitory one of ``max(-W, 0)`` (``ge - gi``).  The engine
delivers a projection's spikes one step later, so layer ``k`` (1-based) of the engine spikes at
step ``t + k`` where the STL network spikes at ``t``; :func:`engine_forward` runs ``T + L`` steps
and undoes the shift.  The equations are the same; the floating-point sums are the same when the
weights' partial sums are exact (e.g. dyadic weights) and otherwise differ only in summation
order (last-bit differences of the input current).  :func:`from_engine` reads such a network back
and refuses engine networks the STL model cannot represent (conductance-based neurons, refractory
periods, adaptive thresholds, synaptic currents, learning rules are not exported).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from hwsnn.errors import ConfigError
from hwsnn.stl.model import Layer, STLParams, check_params

__all__ = ["FORMAT", "to_nir", "from_nir", "write_nir", "read_nir", "EngineNet", "to_engine", "engine_forward",
           "from_engine"]

FORMAT = "hwsnn.stl/1"
"""``metadata["format"]`` written by :func:`to_nir`."""

_REFUSED = {
    "CubaLIF": "a current-based synapse with its own time constant (the STL neuron has delta synapses)",
    "CubaLI": "a non-spiking neuron with a synaptic current",
    "LI": "a non-spiking leaky integrator",
    "I": "a non-spiking integrator",
    "IF": "a neuron without leak",
    "Conv1d": "a convolution (the STL network is fully connected)",
    "Conv2d": "a convolution (the STL network is fully connected)",
    "SumPool2d": "pooling",
    "AvgPool2d": "pooling",
    "Flatten": "a reshape (the STL network has flat layers)",
    "Scale": "a scaling node",
    "Threshold": "a bare threshold without membrane",
    "Delay": "a synaptic delay",
    "NIRGraph": "a sub-graph",
}


def to_nir(params: STLParams, dt: float = 1e-3):
    """The NIR graph (:class:`nir.NIRGraph`) of ``params`` with Euler step ``dt`` seconds."""
    import nir

    check_params(params)
    if not (isinstance(dt, (int, float)) and dt > 0 and math.isfinite(dt)):
        raise ConfigError("dt", f"must be a positive number of seconds, got {dt!r}")
    if params.decay >= 1.0:
        raise ConfigError("decay", "a neuron without leak (decay 1) has no NIR LIF form")
    tau = dt / (1.0 - params.decay)
    nodes = {"input": nir.Input(input_type={"input": np.array([params.n_in])})}
    edges, prev = [], "input"
    for k, layer in enumerate(params.layers):
        n = layer.w.shape[1]
        nodes[f"fc{k}"] = nir.Linear(weight=np.ascontiguousarray(layer.w.T))
        nodes[f"lif{k}"] = nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / dt), v_leak=np.zeros(n),
                                   v_threshold=np.nextafter(layer.theta, -np.inf), v_reset=np.zeros(n))
        edges += [(prev, f"fc{k}"), (f"fc{k}", f"lif{k}")]
        prev = f"lif{k}"
    n_out = params.layers[-1].w.shape[1]
    nodes["output"] = nir.Output(output_type={"output": np.array([n_out])})
    edges.append((prev, "output"))
    meta = {"format": FORMAT, "dt": float(dt), "population": int(params.population), "decay": float(params.decay)}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def _arr(node_name: str, field: str, v) -> np.ndarray:
    a = np.asarray(v, np.float64)
    if not np.all(np.isfinite(a)):
        raise ConfigError(f"{node_name}.{field}", "must be finite")
    return a


def _chain(graph) -> list[str]:
    """Node names from the input to the output; ConfigError unless the graph is one chain."""
    nodes, edges = graph.nodes, list(graph.edges)
    kinds = {name: type(node).__name__ for name, node in nodes.items()}
    for name, kind in kinds.items():
        if kind in _REFUSED:
            raise ConfigError(f"nodes.{name}", f"{kind} is {_REFUSED[kind]}: not representable by the STL network")
        if kind not in ("Input", "Output", "Linear", "Affine", "LIF"):
            raise ConfigError(f"nodes.{name}", f"node type {kind} is not representable by the STL network")
    inputs = [n for n, k in kinds.items() if k == "Input"]
    outputs = [n for n, k in kinds.items() if k == "Output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise ConfigError("nodes", f"needs exactly one Input and one Output node, got {len(inputs)} and {len(outputs)}")
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    npred = {n: 0 for n in nodes}
    for a, b in edges:
        if a not in nodes or b not in nodes:
            raise ConfigError("edges", f"edge ({a!r}, {b!r}) names a node that does not exist")
        succ[a].append(b)
        npred[b] += 1
    order, cur = [inputs[0]], inputs[0]
    while cur != outputs[0]:
        if len(succ[cur]) != 1:
            raise ConfigError(f"nodes.{cur}", f"has {len(succ[cur])} outgoing edges: the STL network is a single "
                                              f"feed-forward chain (no branches, recurrence or dead ends)")
        cur = succ[cur][0]
        if cur in order:
            raise ConfigError(f"nodes.{cur}", "is on a cycle: recurrent graphs are not representable")
        if npred[cur] != 1:
            raise ConfigError(f"nodes.{cur}", f"has {npred[cur]} incoming edges: the STL network is a single chain")
        order.append(cur)
    if len(order) != len(nodes):
        extra = sorted(set(nodes) - set(order))
        raise ConfigError(f"nodes.{extra[0]}", "is not on the chain from the input to the output")
    return order


def from_nir(graph, dt: float | None = None) -> STLParams:
    """The STL network of a NIR graph (or a path to a ``.nir`` file); refuses what it cannot represent.

    ``dt`` is the Euler step (s); default the graph's ``metadata["dt"]`` (an error if neither).
    """
    if isinstance(graph, (str, os.PathLike)):
        return read_nir(graph, dt)
    import nir

    if not isinstance(graph, nir.NIRGraph):
        raise ConfigError("graph", f"must be a nir.NIRGraph, not {type(graph).__name__}")
    meta = dict(graph.metadata or {})
    if dt is None:
        if "dt" not in meta:
            raise ConfigError("metadata.dt", "the graph does not say its time step; pass dt")
        dt = float(meta["dt"])
    if not (dt > 0 and math.isfinite(dt)):
        raise ConfigError("dt", f"must be a positive number of seconds, got {dt}")
    order = _chain(graph)
    body = order[1:-1]
    kinds = [type(graph.nodes[n]).__name__ for n in body]
    if not body or len(body) % 2 or any(
            (k not in ("Linear", "Affine")) if i % 2 == 0 else (k != "LIF") for i, k in enumerate(kinds)):
        raise ConfigError("nodes", f"expected input -> (Linear|Affine -> LIF)+ -> output, got "
                                   f"{' -> '.join(type(graph.nodes[n]).__name__ for n in order)}")
    layers, decay = [], None
    meta_decay = meta.get("decay")
    for i in range(0, len(body), 2):
        fc_name, lif_name = body[i], body[i + 1]
        fc, lif = graph.nodes[fc_name], graph.nodes[lif_name]
        w = _arr(fc_name, "weight", fc.weight)
        if w.ndim != 2:
            raise ConfigError(f"nodes.{fc_name}.weight", f"must be 2-D (n_out, n_in), got shape {w.shape}")
        if type(fc).__name__ == "Affine" and np.any(_arr(fc_name, "bias", fc.bias) != 0):
            raise ConfigError(f"nodes.{fc_name}.bias", "a non-zero bias is not representable (the STL neuron has "
                                                       "no bias; its threshold is the only offset)")
        n = w.shape[0]
        f = {k: _arr(lif_name, k, getattr(lif, k)).reshape(-1) if getattr(lif, k) is not None else np.zeros(n)
             for k in ("tau", "r", "v_leak", "v_threshold", "v_reset")}
        for k, a in f.items():
            if a.size == 1:
                f[k] = np.full(n, a[0])
            elif a.size != n:
                raise ConfigError(f"nodes.{lif_name}.{k}", f"has {a.size} values for {n} neurons")
        where = f"nodes.{lif_name}"
        if np.any(f["v_leak"] != 0):
            raise ConfigError(f"{where}.v_leak", "must be 0 (the STL neuron leaks towards 0)")
        if np.any(f["v_reset"] != 0):
            raise ConfigError(f"{where}.v_reset", "must be 0 (the STL neuron resets to 0)")
        tau, r = f["tau"], f["r"]
        if np.any(tau != tau[0]) or np.any(r != r[0]):
            raise ConfigError(f"{where}.tau", "per-neuron time constants are not representable (one decay for "
                                              "the whole network)")
        if not tau[0] > dt:
            raise ConfigError(f"{where}.tau", f"must exceed dt = {dt} s for a decay in (0, 1), got {tau[0]}")
        d = 1.0 - dt / tau[0]
        if meta_decay is not None and abs(d - float(meta_decay)) <= 1e-12:
            d = float(meta_decay)
        gain = dt * r[0] / tau[0]
        if abs(gain - 1.0) > 1e-9:
            raise ConfigError(f"{where}.r", f"input gain dt*r/tau = {gain:g}: the STL neuron adds its input "
                                            f"unscaled (fold the gain into the weights)")
        if decay is not None and d != decay:
            raise ConfigError(f"{where}.tau", f"decay {d} differs from the first layer's {decay}: one decay for the "
                                              f"whole network")
        decay = d
        layers.append(Layer(w=np.ascontiguousarray(w.T), theta=np.nextafter(f["v_threshold"], np.inf)))
    pop = meta.get("population", 1)
    try:
        params = STLParams(layers=tuple(layers), decay=float(decay), population=int(pop))
        return check_params(params)
    except ConfigError as exc:
        raise ConfigError(f"graph.{exc.field}", exc.message) from None


def write_nir(params: STLParams, path: str | os.PathLike, dt: float = 1e-3) -> Path:
    """Write ``params`` as a NIR file (HDF5, atomically)."""
    import nir

    from hwsnn.io import atomic_write

    graph = to_nir(params, dt)
    return atomic_write(path, lambda tmp: nir.write(tmp, graph))


def read_nir(path: str | os.PathLike, dt: float | None = None) -> STLParams:
    """Read a NIR file into an STL network (see :func:`from_nir`)."""
    import nir

    p = Path(path)
    if not p.is_file():
        raise ConfigError("nir", f"file not found: {path}")
    try:
        graph = nir.read(str(p))
    except Exception as exc:  # h5py / nir raise many kinds for a file that is not NIR
        raise ConfigError("nir", f"{path} is not a readable NIR file ({type(exc).__name__}: {exc})") from None
    return from_nir(graph, dt)


# ---------------------------------------------------------------------------------------------- engine
class EngineNet:
    """An STL network on the float engine: the :class:`hwsnn.snn.Network` and its group names."""

    def __init__(self, net, layers: list[str], population: int):
        self.net = net
        self.layers = layers
        self.population = population


_V_THRESH = 2.0**-30
"""The engine neuron's fixed threshold part; the per-neuron rest is its threshold state."""


def _engine_tau(decay: float, dt: float) -> float:
    """``tau_m`` with ``exp(-dt/tau_m) == decay`` exactly (a few neighbouring floats are tried)."""
    tau = -dt / math.log(decay)
    cands = [tau]
    lo = hi = tau
    for _ in range(64):
        lo, hi = math.nextafter(lo, 0.0), math.nextafter(hi, math.inf)
        cands += [lo, hi]
    for c in cands:
        if math.exp(-dt / c) == decay:
            return c
    raise ConfigError("decay", f"no engine time constant gives the decay {decay!r} exactly at dt = {dt} s")


def to_engine(params: STLParams, dt: float = 1e-3) -> EngineNet:
    """Build the float engine's network of ``params`` (see the module docstring)."""
    from hwsnn.engine.neurons_extra import LifNeuron
    from hwsnn.snn import Network

    check_params(params)
    if params.decay >= 1.0:
        raise ConfigError("decay", "the engine LIF needs a leak (decay < 1)")
    tau = _engine_tau(params.decay, dt)
    neuron = LifNeuron(tau_m=tau, v_rest=0.0, v_reset=0.0, v_thresh=_V_THRESH, refractory=0.0, tau_syn=0.0,
                       theta_plus=0.0, tau_theta=0.0, theta_init=0.0)
    net = Network(dt=dt, synapse="ideal", seed=0)
    net.add_input("in", params.n_in)
    prev, names = "in", []
    for k, layer in enumerate(params.layers):
        th = np.asarray(layer.theta, np.float64)
        if np.any(th <= 0):
            raise ConfigError(f"layers[{k}].theta", "thresholds must be > 0 on the engine (its neurons are stepped "
                                                    "before their first input arrives)")
        rest = th - _V_THRESH
        if np.any(_V_THRESH + rest != th):
            raise ConfigError(f"layers[{k}].theta", "a threshold is not exactly representable as v_thresh + theta")
        name = f"l{k}"
        pop = net.add_population(name, neuron, layer.w.shape[1])
        if pop.c.dm != params.decay:
            raise ConfigError("decay", f"the engine's decay {pop.c.dm!r} differs from {params.decay!r}")
        pop.s.theta[:] = rest
        w = np.asarray(layer.w, np.float64)
        w_max = float(np.max(np.abs(w))) or 1.0
        net.connect(prev, name, np.maximum(w, 0.0), receptor="exc", w_max=w_max, name=f"{name}+")
        net.connect(prev, name, np.maximum(-w, 0.0), receptor="inh", w_max=w_max, name=f"{name}-")
        prev = name
        names.append(name)
    return EngineNet(net, names, params.population)


def engine_forward(eng: EngineNet, raster: np.ndarray) -> list[np.ndarray]:
    """Spikes ``(T, batch, n)`` of every layer for a ``(T, batch, n_in)`` raster, on the engine (one
    sample at a time from rest, learning off), aligned to the STL network's time steps."""
    raster = np.asarray(raster)
    n_t, batch, n_in = raster.shape
    n_l = len(eng.layers)
    out = [np.zeros((n_t, batch, eng.net.groups[nm].n)) for nm in eng.layers]
    pad = np.zeros((n_t + n_l, n_in), np.uint8)
    for b in range(batch):
        eng.net.reset_state()
        pad[:n_t] = raster[:, b, :]
        res = eng.net.run(n_t + n_l, inputs={"in": pad}, learning=False)
        for k, nm in enumerate(eng.layers):
            sp = res.spikes[nm]
            if sp[:k + 1].any() or sp[n_t + k + 1:].any():
                raise AssertionError(f"engine layer {nm} spiked outside its delayed window")  # pragma: no cover
            out[k][:, b, :] = sp[k + 1:n_t + k + 1]
    return out


def from_engine(eng) -> STLParams:
    """The STL network of an engine network built like :func:`to_engine` (an :class:`EngineNet` or a
    :class:`hwsnn.snn.Network` whose populations chain ``in -> l0 -> l1 ...``); refuses neurons and
    projections the STL model cannot represent."""
    from hwsnn.engine.neurons_extra import LifNeuron
    from hwsnn.snn import Network
    from hwsnn.snn.network import InputGroup

    if isinstance(eng, EngineNet):
        net, population = eng.net, eng.population
    elif isinstance(eng, Network):
        net, population = eng, 1
    else:
        raise ConfigError("network", f"must be an EngineNet or hwsnn.snn.Network, not {type(eng).__name__}")
    inputs = [n for n, g in net.groups.items() if isinstance(g, InputGroup)]
    if len(inputs) != 1:
        raise ConfigError("network", f"needs exactly one input group, got {len(inputs)}")
    by_dst: dict[str, list] = {}
    for p in net.projections:
        by_dst.setdefault(p.dst, []).append(p)
    layers, prev, decay = [], inputs[0], None
    pops = [n for n in net.groups if n != inputs[0]]
    for name in pops:
        g = net.groups[name]
        nm = g.neuron
        if not isinstance(nm, LifNeuron):
            why = ("a conductance-based neuron (excitatory/inhibitory conductances with reversal potentials): "
                   "NIR and the STL network have current (delta) synapses only"
                   if nm.model in ("diehl_cook", "inhibitory") else f"neuron model {nm.model!r}")
            raise ConfigError(f"groups.{name}.neuron", f"{why} is not representable")
        for field, ok in (("v_rest", nm.v_rest == 0), ("v_reset", nm.v_reset == 0),
                          ("refractory", g.c.ref_steps == 0), ("tau_syn", nm.tau_syn == 0),
                          ("theta_plus", nm.theta_plus == 0)):
            if not ok:
                raise ConfigError(f"groups.{name}.neuron.{field}", "must be 0: the STL neuron has no "
                                  + {"v_rest": "resting offset", "v_reset": "reset potential other than 0",
                                     "refractory": "refractory period", "tau_syn": "synaptic current",
                                     "theta_plus": "adaptive threshold"}[field])
        projs = by_dst.get(name, [])
        if not projs or any(p.src != prev for p in projs) or sorted(p.receptor for p in projs) not in (
                ["exc"], ["exc", "inh"]):
            raise ConfigError(f"groups.{name}", f"must receive one excitatory (and optionally one inhibitory) "
                                                f"projection from {prev!r} only: the STL network is a chain")
        w = np.zeros((net.groups[prev].n, g.n))
        for p in projs:
            if p.syn.kind != "ideal" or p.gain != 1.0:
                raise ConfigError(f"projections.{p.name}", "needs ideal synapses with gain 1")
            w += p.syn.weights() if p.receptor == "exc" else -p.syn.weights()
        if decay is not None and g.c.dm != decay:
            raise ConfigError(f"groups.{name}.neuron.tau_m", "one membrane decay for the whole network")
        decay = g.c.dm
        layers.append(Layer(w=w, theta=nm.v_thresh + np.asarray(g.s.theta, np.float64)))
        prev = name
    if not layers:
        raise ConfigError("network", "has no population")
    return check_params(STLParams(layers=tuple(layers), decay=float(decay), population=int(population)))
