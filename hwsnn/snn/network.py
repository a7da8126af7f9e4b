"""A general spiking-network engine with one documented per-step order.

Per-step order (:data:`STEP_ORDER`), shared by the float models and their integer twins and by
every rule in :mod:`hwsnn.plasticity` (reference ``plasticity.md`` 5.0):

1. ``decay`` -- every learner decays its traces; neuron kernels leak the membrane and decay
   synaptic currents / conductances / adaptive thresholds at the start of their step;
2. ``integrate`` -- each projection delivers the spikes its source emitted on the *previous* step
   (one-step synaptic delay, the same for every projection) as ``sum_{i spiking} w[i, j] * gain``
   into the excitatory or inhibitory input of its target (event driven: work per spike);
3. ``threshold`` -- neurons compare with their threshold; input groups emit their raster row;
4. ``reset_refractory`` -- spiking neurons reset and start their refractory count (adaptive
   thresholds increment here while learning);
5. ``plasticity`` -- weight rules use this step's spikes and the traces *before* this step's
   increments: a presynaptic spike updates its row, a postsynaptic spike its column (event
   driven), a synapse touched by both gets both terms from its old weight;
6. ``trace_increment`` -- traces of this step's spikes are set (nearest) or incremented;
7. ``slow_rules`` -- per-window / per-sample rules: normalisation, stepwise and rate-based
   scaling, threshold rules.  (A ``lif_stepwise`` neuron's window counter and level step are
   part of its Contract 1 edge; they use only this step's spike, so they commute with 5-6.)

Everything a rule needs is exchanged through the :class:`hwsnn.plasticity.base.Learner`
protocol (``decay``, ``plasticity``, ``increment``, ``slow``); this module imports no rule.

The synapse backend of every projection comes from one field, :attr:`SynapseConfig.backend`:
the same network and rule objects run on ideal float weights, integer codes with the rule's
integer twin, or a memristor crossbar, by changing that field only.

Example (``synapse="int"`` or ``SynapseConfig(backend="crossbar", device="sto")`` runs the same
network on integer weights with the rule's integer twin, or on a memristor crossbar)::

    from hwsnn.plasticity import PairSTDP
    from hwsnn.snn import LIFParams, Network, poisson_raster

    net = Network(dt=1e-3, synapse="ideal", seed=0)
    net.add_input("in", 64)
    net.add_population("exc", LIFParams(), 10)
    net.connect("in", "exc", w=0.2, rule=PairSTDP(), gain=0.25)
    out = net.run(500, inputs={"in": poisson_raster(np.full(64, 20.0), 500, seed=1)})
    out.spikes["exc"].shape   # (500, 10)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsnn.errors import ConfigError
from hwsnn.snn.encoders import as_raster
from hwsnn.snn.neurons import Population, make_population
from hwsnn.snn.synapses import SynapseConfig, make_synapses

__all__ = ["STEP_ORDER", "Network", "Projection", "InputGroup", "RunResult"]

STEP_ORDER = ("decay", "integrate", "threshold", "reset_refractory", "plasticity", "trace_increment", "slow_rules")
"""The phases of one simulation step, in execution order (see the module docstring)."""

RECEPTORS = ("exc", "inh")


class InputGroup:
    """Neurons whose spikes are given as a raster at :meth:`Network.run` (may also be targets:
    incoming input is ignored and the raster is imposed, e.g. to force postsynaptic spikes)."""

    integer = False

    def __init__(self, n: int):
        self.n = n
        self.spk = np.zeros(n, dtype=np.uint8)

    def reset_state(self) -> None:
        self.spk[:] = 0


@dataclass
class Projection:
    """A connection ``src -> dst`` with its synapse backend and bound learners."""

    name: str
    src: str
    dst: str
    syn: object
    receptor: str
    gain: float
    learners: list
    codes: bool
    """Deliver integer codes (``int`` backend into an integer neuron population)."""


@dataclass
class RunResult:
    """Output of :meth:`Network.run`: ``spikes[name]`` is a ``(T, n)`` uint8 raster per group."""

    spikes: dict
    n_steps: int

    def counts(self, name: str) -> np.ndarray:
        """Spike count per neuron of group ``name``."""
        return self.spikes[name].sum(axis=0, dtype=np.int64)


class Network:
    """Populations, input groups and projections stepped in :data:`STEP_ORDER`.

    Parameters
    ----------
    dt : float
        Step (s).
    synapse : str or SynapseConfig
        Synapse backend of every projection (``"ideal"``, ``"int"``, ``"crossbar"``).
    seed : int
        Seed of everything random in the network (crossbar devices, LFSR seeds of rules).
    """

    def __init__(self, dt: float = 1e-3, synapse="ideal", seed: int = 0):
        if not (isinstance(dt, (int, float)) and dt > 0):
            raise ConfigError("dt", f"must be a positive number of seconds, not {dt!r}")
        if isinstance(synapse, str):
            synapse = SynapseConfig(backend=synapse)
        if not isinstance(synapse, SynapseConfig):
            raise ConfigError("synapse", f"must be a backend name or SynapseConfig, not {type(synapse).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError("seed", f"must be a non-negative integer, not {seed!r}")
        self.dt = float(dt)
        self.synapse = synapse
        self.seed = int(seed)
        self.groups: dict[str, object] = {}
        self.projections: list[Projection] = []
        self.pop_rules: dict[str, list] = {}
        self.t = 0

    # -- building -----------------------------------------------------------------------------
    def _new_name(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigError("name", f"must be a non-empty string, not {name!r}")
        if name in self.groups:
            raise ConfigError("name", f"group {name!r} already exists")

    def add_input(self, name: str, n: int) -> InputGroup:
        """An input group of ``n`` neurons driven by a raster given to :meth:`run`."""
        self._new_name(name)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError("n", f"must be a positive integer, not {n!r}")
        g = InputGroup(int(n))
        self.groups[name] = g
        return g

    def add_population(self, name: str, neuron, n: int, rules=()) -> Population:
        """A population of ``n`` neurons of model ``neuron``; ``rules`` are neuron rules (R5b)
        bound with ``rule.bind_population(pop, dt)``."""
        self._new_name(name)
        pop = make_population(neuron, n, self.dt)
        self.groups[name] = pop
        self.pop_rules[name] = [r.bind_population(pop, self.dt) for r in rules]
        return pop

    def connect(self, src: str, dst: str, w, *, receptor: str = "exc", rule=None, rules=(), gain: float = 1.0,
                w_min: float | None = None, w_max: float | None = None, name: str | None = None) -> Projection:
        """Connect ``src -> dst`` with initial weights ``w`` (scalar or ``(n_src, n_dst)``).

        ``rule``/``rules`` are plasticity rules (``rule.bind(syn, dt, seed)``); weight bounds
        default to the first rule's ``w_min``/``w_max`` (else ``[0, 1]``).  ``gain`` scales the
        delivered input (synaptic efficacy).
        """
        for f, g in (("src", src), ("dst", dst)):
            if g not in self.groups:
                raise ConfigError(f, f"unknown group {g!r}; known: {sorted(self.groups)}")
        if receptor not in RECEPTORS:
            raise ConfigError("receptor", f"must be one of {list(RECEPTORS)}, not {receptor!r}")
        if not isinstance(gain, (int, float)) or not np.isfinite(gain):
            raise ConfigError("gain", f"must be a finite number, not {gain!r}")
        all_rules = ([rule] if rule is not None else []) + list(rules)
        first = all_rules[0] if all_rules else None
        w_min = float(getattr(first, "w_min", 0.0) if w_min is None else w_min)
        w_max = float(getattr(first, "w_max", 1.0) if w_max is None else w_max)
        if not w_max > w_min:
            raise ConfigError("w_max", f"must be > w_min={w_min}, not {w_max}")
        n_pre, n_post = self.groups[src].n, self.groups[dst].n
        k = len(self.projections)
        syn = make_synapses(self.synapse, w, n_pre, n_post, w_min, w_max, seed=self.seed * 1000 + k)
        dst_g = self.groups[dst]
        codes = bool(getattr(dst_g, "integer", False))
        if codes:
            if syn.kind != "int":
                raise ConfigError("synapse.backend", f"integer neurons of {dst!r} need the 'int' synapse backend, "
                                                     f"not {syn.kind!r}")
            if gain != int(gain):
                raise ConfigError("gain", f"must be an integer for integer neurons, not {gain}")
        learners = [r.bind(syn, self.dt, self.seed * 1000 + k) for r in all_rules]
        proj = Projection(name=name or f"{src}->{dst}#{k}", src=src, dst=dst, syn=syn, receptor=receptor,
                          gain=float(gain), learners=learners, codes=codes)
        self.projections.append(proj)
        return proj

    def projection(self, name: str) -> Projection:
        for p in self.projections:
            if p.name == name:
                return p
        raise ConfigError("projection", f"unknown projection {name!r}")

    # -- running ------------------------------------------------------------------------------
    def reset_state(self) -> None:
        """Neurons back to rest and no spikes in flight (weights, thresholds, traces are kept)."""
        for g in self.groups.values():
            g.reset_state()
            g.spk[:] = 0

    def run(self, n_steps: int, inputs: dict | None = None, learning: bool = True) -> RunResult:
        """Run ``n_steps`` steps; ``inputs[name]`` is a ``(n_steps, n)`` raster per input group."""
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
            raise ConfigError("n_steps", f"must be a non-negative integer, not {n_steps!r}")
        inputs = inputs or {}
        rasters = {}
        for name, g in self.groups.items():
            if isinstance(g, InputGroup):
                if name not in inputs:
                    rasters[name] = np.zeros((n_steps, g.n), dtype=np.uint8)
                    continue
                r = as_raster(inputs[name], g.n, field=f"inputs.{name}")
                if r.shape[0] < n_steps:
                    raise ConfigError(f"inputs.{name}", f"has {r.shape[0]} steps, fewer than n_steps={n_steps}")
                rasters[name] = r
        for name in inputs:
            if name not in self.groups or not isinstance(self.groups[name], InputGroup):
                raise ConfigError("inputs", f"{name!r} is not an input group")
        names = list(self.groups)
        rec = {name: np.zeros((n_steps, self.groups[name].n), dtype=np.uint8) for name in names}
        buf = {name: (np.zeros(self.groups[name].n), np.zeros(self.groups[name].n)) for name in names}
        prev_idx = {name: np.flatnonzero(self.groups[name].spk).astype(np.int64) for name in names}
        for t in range(n_steps):
            step = self.t
            # 1. decay
            for p in self.projections:
                for lrn in p.learners:
                    lrn.decay()
            # 2. integrate (spikes of the previous step)
            for name in names:
                buf[name][0][:] = 0.0
                buf[name][1][:] = 0.0
            for p in self.projections:
                rows = prev_idx[p.src]
                if rows.shape[0] == 0:
                    continue
                out = buf[p.dst][0 if p.receptor == "exc" else 1]
                if p.gain == 1.0 and not p.codes:
                    p.syn.propagate(rows, out)
                else:
                    tmp = np.zeros_like(out) if not p.codes else np.zeros(out.shape[0], dtype=np.int64)
                    (p.syn.propagate_codes if p.codes else p.syn.propagate)(rows, tmp)
                    out += p.gain * tmp
            # 3. threshold, 4. reset / refractory
            cur_idx = {}
            for name in names:
                g = self.groups[name]
                if isinstance(g, InputGroup):
                    g.spk[:] = rasters[name][t]
                else:
                    g.step(buf[name][0], buf[name][1], learning)
                cur_idx[name] = np.flatnonzero(g.spk).astype(np.int64)
                rec[name][t] = g.spk
            if learning:
                # 5. plasticity, 6. trace increments
                for p in self.projections:
                    if not p.learners:
                        continue
                    sg, dg = self.groups[p.src], self.groups[p.dst]
                    for lrn in p.learners:
                        lrn.plasticity(sg.spk, cur_idx[p.src], dg.spk, cur_idx[p.dst], dg, step)
                for p in self.projections:
                    sg, dg = self.groups[p.src], self.groups[p.dst]
                    for lrn in p.learners:
                        lrn.increment(sg.spk, cur_idx[p.src], dg.spk, cur_idx[p.dst], dg, step)
                for name, lrns in self.pop_rules.items():
                    g = self.groups[name]
                    for lrn in lrns:
                        lrn.plasticity(None, None, g.spk, cur_idx[name], g, step)
                # 7. slow rules
                for p in self.projections:
                    dg = self.groups[p.dst]
                    for lrn in p.learners:
                        lrn.slow(step, dg)
                for name, lrns in self.pop_rules.items():
                    for lrn in lrns:
                        lrn.slow(step, self.groups[name])
            for p in self.projections:
                p.syn.advance(self.dt)
            prev_idx = cur_idx
            self.t += 1
        return RunResult(spikes=rec, n_steps=n_steps)
