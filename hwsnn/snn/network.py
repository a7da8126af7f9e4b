"""A general multi-population spiking network on the engine's neuron models and rules.

Populations are engine :class:`~hwsnn.engine.contract.NeuronModel` objects (``DiehlCookNeuron``,
``InhibitoryNeuron``, ``LifStepwiseNeuron``, ``LifNeuron``, ``LifStepwiseFloatNeuron``, or any
registered model) stepped by their compiled hooks; projections carry engine
:class:`~hwsnn.engine.contract.Rule` objects applied by a generated per-projection kernel
(:mod:`hwsnn.snn.step_kernels`) that calls the same ``on_pre`` / ``on_post`` / ``on_synapse``
hooks as the fused layer kernel of the main job.  Python runs once per step and group; the work
per synapse is compiled.

Per-step order (:data:`STEP_ORDER`):

1. ``decay`` -- every population's ``decay`` hook (conductances, synaptic currents, thresholds);
2. ``integrate`` -- each projection delivers the spikes its source emitted on the *previous* step
   (one-step synaptic delay, the same for every projection) as ``gain * sum_{i spiking} w[i, j]``
   into the target's ``ge`` (``receptor="exc"``) or ``gi`` (``"inh"``) (event driven);
3. ``threshold`` and 4. ``reset_refractory`` -- each population's ``update`` hook (adaptive
   thresholds increment here while learning); input groups emit their raster row;
5. ``plasticity`` -- projection rules see this step's spikes and the traces *before* this step's
   increments (float: pre spikes' ``on_pre`` then post spikes' ``on_post``, each change clipped
   to ``[0, w_max]``; integer: the learning core's row-major sweep with one LFSR16 value per
   synapse); population rules (``homeostatic_ip``, ...) update the thresholds;
6. ``trace_increment`` -- each group's last-spike step is set (nearest-spike traces);
7. ``slow_rules`` -- every ``period`` steps: normalisation, stepwise and rate-based scaling.

Traces are nearest-spike traces kept as "step of the last spike" per group and read from tables
(:func:`hwsnn.snn.step_kernels.trace_tables`), as in the layer kernel; unlike the layer (where they
restart with every sample) they persist across :meth:`Network.run` calls, and are updated also
while learning is off.  Learning off (``run(..., learning=False)``) freezes weights, adaptive
thresholds and intrinsic plasticity.

The synapse backend of every projection comes from one field, :attr:`SynapseConfig.backend`:
``"ideal"`` float weights, ``"int"`` codes with each rule's integer twin (``rule.to_int``), or a
memristor ``"crossbar"`` (reads through its periphery, the rules' changes written as pulses).
Weights lie in ``[0, w_max]``.

Example::

    from hwsnn.engine.neurons_extra import LifNeuron
    from hwsnn.engine.rules import PairSTDP
    from hwsnn.snn import Network, poisson_raster

    net = Network(dt=1e-3, synapse="ideal", seed=0)
    net.add_input("in", 64)
    net.add_population("exc", LifNeuron(), 10)
    net.connect("in", "exc", w=0.2, rule=PairSTDP(), gain=0.25)
    out = net.run(500, inputs={"in": poisson_raster(np.full(64, 20.0), 500, seed=1)})
    out.spikes["exc"].shape   # (500, 10)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwsnn.engine.contract import CompileContext, IntFormat, NeuronModel
from hwsnn.engine.neurons_extra import stepwise_learn_flags
from hwsnn.errors import ConfigError
from hwsnn.snn.encoders import as_raster
from hwsnn.snn.step_kernels import ProjRule, projection_kernel, trace_tables
from hwsnn.snn.synapses import SynapseConfig, accumulate_rows, make_synapses

__all__ = ["STEP_ORDER", "Network", "Population", "Projection", "InputGroup", "RunResult", "NetworkContext"]

STEP_ORDER = ("decay", "integrate", "threshold", "reset_refractory", "plasticity", "trace_increment", "slow_rules")
"""The phases of one simulation step, in execution order (see the module docstring)."""

RECEPTORS = ("exc", "inh")


@dataclass(frozen=True)
class NetworkContext(CompileContext):
    """The compile context of a :class:`Network` projection: also supplies neuron inputs (learning
    flags, thresholds) to the rules that read them."""

    neuron_inputs: bool = True


class InputGroup:
    """Neurons whose spikes are given as a raster at :meth:`Network.run` (may also be targets:
    incoming input is ignored and the raster is imposed, e.g. to force postsynaptic spikes)."""

    integer = False

    def __init__(self, n: int):
        self.n = n

    def reset_state(self) -> None:
        pass


class Population:
    """``n`` neurons of one engine neuron model; the state fields (``v``, ``ge``, ``theta``,
    ``level``...) are readable as attributes."""

    def __init__(self, neuron: NeuronModel, n: int, dt: float, homeostasis=None, rules=()):
        self.neuron, self.n, self.homeostasis = neuron, n, homeostasis
        self.integer = bool(neuron.integer)
        self.hooks = neuron.hooks()
        self.c = neuron.consts(dt, homeostasis)
        self.s = neuron.state(self.c, n, homeostasis)
        self.spk = np.empty(n, np.int64)
        self.rules = []
        for k, r in enumerate(rules):
            if getattr(r, "target", None) != "population":
                raise ConfigError(f"rules[{k}].kind", f"{r.kind!r} is not a population rule")
            theta = getattr(self.s, "theta", None)
            if theta is None or (theta.dtype.kind == "i") != bool(r.integer):
                raise ConfigError(f"rules[{k}].kind", f"{r.kind!r} needs a{'n integer' if r.integer else ' float'} "
                                                      f"adaptive threshold; {neuron.model!r} has none")
            ctx = NetworkContext(dt=dt, w_max=0.0, n_in=0, n_out=n, backend="ideal")
            self.rules.append((r.population_hook(), r.consts(ctx)))

    def __getattr__(self, name):
        s = self.__dict__.get("s")
        if s is not None and name in s._fields:
            return getattr(s, name)
        raise AttributeError(name)

    def learn_flags(self) -> tuple[np.ndarray, np.ndarray]:
        """``(learn_up, learn_dn)`` of a stepwise-threshold population."""
        return stepwise_learn_flags(self.neuron, self.s)

    def reset_state(self) -> None:
        """Membranes, inputs and refractory counts to rest (thresholds and levels are kept)."""
        fresh = self.neuron.state(self.c, self.n, self.homeostasis)
        for name in fresh._fields:
            if name not in ("theta", "level", "count", "win"):
                getattr(self.s, name)[...] = getattr(fresh, name)


@dataclass
class Projection:
    """A connection ``src -> dst`` with its synapse backend and compiled rules."""

    name: str
    src: str
    dst: str
    syn: object
    receptor: str
    gain: float
    w_max: float
    rules: list
    """The rules as given (float rules on an ``int`` backend are compiled as their integer twins)."""
    compiled: list = field(default_factory=list)
    """The rules actually applied (integer twins on the ``int`` backend)."""
    kernel: object = None
    consts: tuple = ()
    pre_tab: np.ndarray = None
    post_tab: np.ndarray = None
    inputs: tuple = ()
    slow: list = field(default_factory=list)
    """``(rule, state)`` of the slow rules."""
    lfsr: np.ndarray = None
    scale: object = 1.0
    """Input per unit of stored weight (``int`` backend: per code)."""
    mask: np.ndarray = None
    """Existing synapses (bool ``(n_src, n_dst)``), ``None`` = all."""

    def weights(self) -> np.ndarray:
        return self.syn.weights()


@dataclass
class RunResult:
    """Output of :meth:`Network.run`: ``spikes[name]`` is a ``(T, n)`` uint8 raster per group."""

    spikes: dict
    n_steps: int

    def counts(self, name: str) -> np.ndarray:
        """Spike count per neuron of group ``name``."""
        return self.spikes[name].sum(axis=0, dtype=np.int64)


def _lfsr_seed(seed: int) -> int:
    from hwsnn.engine.layer import _lfsr_seed as seed16

    return seed16(seed)


class Network:
    """Populations, input groups and projections stepped in :data:`STEP_ORDER`.

    Parameters
    ----------
    dt : float
        Step (s).
    synapse : str or SynapseConfig
        Synapse backend of every projection (``"ideal"``, ``"int"``, ``"crossbar"``).
    seed : int
        Seed of everything random in the network (crossbar devices, LFSR seeds).
    """

    def __init__(self, dt: float = 1e-3, synapse="ideal", seed: int = 0):
        if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not dt > 0:
            raise ConfigError("dt", f"must be a positive number of seconds, not {dt!r}")
        if isinstance(synapse, str):
            synapse = SynapseConfig.checked(backend="int" if synapse == "integer" else synapse)
        if not isinstance(synapse, SynapseConfig):
            raise ConfigError("synapse", f"must be a backend name or SynapseConfig, not {type(synapse).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError("seed", f"must be a non-negative integer, not {seed!r}")
        self.dt = float(dt)
        self.synapse = synapse
        self.seed = int(seed)
        self.groups: dict[str, object] = {}
        self.projections: list[Projection] = []
        self.t = 0
        self._tl: dict[str, np.ndarray] = {}
        self._prev: dict[str, np.ndarray] = {}

    # -- building -----------------------------------------------------------------------------
    def _new_name(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigError("name", f"must be a non-empty string, not {name!r}")
        if name in self.groups:
            raise ConfigError("name", f"group {name!r} already exists")

    @staticmethod
    def _check_n(n) -> int:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError("n", f"must be a positive integer, not {n!r}")
        return int(n)

    def _add(self, name, g):
        self.groups[name] = g
        self._tl[name] = np.full(g.n, -1, np.int64)
        self._prev[name] = np.zeros(0, np.int64)
        return g

    def add_input(self, name: str, n: int) -> InputGroup:
        """An input group of ``n`` neurons driven by a raster given to :meth:`run`."""
        self._new_name(name)
        return self._add(name, InputGroup(self._check_n(n)))

    def add_population(self, name: str, neuron: NeuronModel, n: int, rules=(), homeostasis=None) -> Population:
        """A population of ``n`` neurons of model ``neuron``.

        ``rules`` are population rules (``HomeostaticIP``...); ``homeostasis`` (an object with
        ``theta_init``, ``theta_plus``, ``tau_theta``, e.g. the config's ``homeostasis`` section)
        is passed to the neuron model like in the main job (the Diehl & Cook adaptive threshold),
        and its ``after_sample`` runs at the end of every :meth:`run` (a run is a sample).
        """
        self._new_name(name)
        if not isinstance(neuron, NeuronModel):
            raise ConfigError("neuron", f"must be an engine NeuronModel, not {type(neuron).__name__}")
        return self._add(name, Population(neuron, self._check_n(n), self.dt, homeostasis, rules))

    def connect(self, src: str, dst: str, w, *, receptor: str = "exc", rule=None, rules=(), gain: float = 1.0,
                w_max: float = 1.0, name: str | None = None, mask=None) -> Projection:
        """Connect ``src -> dst`` with initial weights ``w`` (scalar or ``(n_src, n_dst)``) in
        ``[0, w_max]``; ``rule``/``rules`` are engine rules; ``gain`` scales the delivered input
        (an integer for integer neurons, which receive ``gain * neuron.input_scale * codes``).

        ``mask`` (bool ``(n_src, n_dst)``, optional) says which synapses exist (sparse
        connectivity; ``src == dst`` gives a recurrent projection): the others hold weight 0
        (``w`` is zeroed there) and no rule changes them (after every plasticity step and slow
        rule their change is undone; on a crossbar they get no pulses)."""
        for f, g in (("src", src), ("dst", dst)):
            if g not in self.groups:
                raise ConfigError(f, f"unknown group {g!r}; known: {sorted(self.groups)}")
        if receptor not in RECEPTORS:
            raise ConfigError("receptor", f"must be one of {list(RECEPTORS)}, not {receptor!r}")
        if isinstance(gain, bool) or not isinstance(gain, (int, float)) or not np.isfinite(gain):
            raise ConfigError("gain", f"must be a finite number, not {gain!r}")
        if isinstance(w_max, bool) or not isinstance(w_max, (int, float)) or not w_max > 0:
            raise ConfigError("w_max", f"must be a positive number, not {w_max!r}")
        sg, dg = self.groups[src], self.groups[dst]
        k = len(self.projections)
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != (sg.n, dg.n) or mask.dtype.kind not in "bu" or (mask.dtype.kind == "u" and mask.max(
                    initial=0) > 1):
                raise ConfigError("mask", f"must be a boolean array of shape ({sg.n}, {dg.n}), not "
                                          f"{mask.dtype} {mask.shape}")
            mask = np.ascontiguousarray(mask.astype(bool))
            w = np.where(mask, np.broadcast_to(np.asarray(w, dtype=np.float64), mask.shape), 0.0)
        syn = make_synapses(self.synapse, w, sg.n, dg.n, 0.0, float(w_max), seed=self.seed * 1000 + k)
        integer = syn.kind == "int"
        scale = float(gain)
        if getattr(dg, "integer", False):
            if not integer:
                raise ConfigError("synapse.backend", f"integer neurons of {dst!r} need the 'int' synapse backend, "
                                                     f"not {syn.kind!r}")
            if gain != int(gain):
                raise ConfigError("gain", f"must be an integer for integer neurons, not {gain}")
            scale = int(gain) * int(dg.neuron.input_scale(1.0, syn.lsb))
        elif integer:
            scale = float(gain) * syn.lsb
        all_rules = ([rule] if rule is not None else []) + list(rules)
        proj = Projection(name=name or f"{src}->{dst}#{k}", src=src, dst=dst, syn=syn, receptor=receptor,
                          gain=float(gain), w_max=float(w_max), rules=all_rules, scale=scale,
                          lfsr=np.array([_lfsr_seed(self.seed * 1000 + k)], np.int64), mask=mask)
        self._compile(proj, sg, dg)
        self.projections.append(proj)
        return proj

    def _compile(self, p: Projection, sg, dg) -> None:
        integer = p.syn.kind == "int"
        fmt = IntFormat(self.synapse.W_BITS, self.synapse.X_BITS)
        q_max = (1 << fmt.w_bits) - 1
        ctx = NetworkContext(dt=self.dt, w_max=float(q_max) if integer else p.w_max, n_in=sg.n, n_out=dg.n,
                             backend={"int": "integer"}.get(p.syn.kind, p.syn.kind))
        pre_keys, post_keys, inputs, prs, consts = [], [], [], [], []
        for k, r in enumerate(p.rules):
            if getattr(r, "target", None) == "population":
                raise ConfigError(f"rules[{k}].kind", f"{r.kind!r} is a population rule: pass it to add_population")
            if r.kind == "rate_scaling":
                r = r.replace(dt=self.dt)
            rr = r.to_int(fmt, self.dt, p.w_max) if integer and not r.integer else r
            if rr.integer != integer:
                raise ConfigError(f"rules[{k}].kind", f"{r.kind!r} is an integer rule; use it with the 'int' backend")
            p.compiled.append(rr)
            if getattr(rr, "slow", False):
                rr.consts(ctx)
                p.slow.append((rr, rr.init_state(dg.n)))
                continue
            pre_rows, post_rows, in_rows = [], [], []
            for tr in rr.traces():
                keys, rows = (pre_keys, pre_rows) if tr.side == "pre" else (post_keys, post_rows)
                if tr.tau not in keys:
                    keys.append(tr.tau)
                rows.append(keys.index(tr.tau))
            for nm in getattr(rr, "post_inputs", ()):
                if not isinstance(dg, Population):
                    raise ConfigError(f"rules[{k}].kind", f"{r.kind!r} reads {nm!r} of its target neurons: "
                                                          f"{p.dst!r} is an input group")
                if nm not in inputs:
                    inputs.append(nm)
                in_rows.append(inputs.index(nm))
            if inputs:
                dg.learn_flags()  # the target must have learning flags
            consts.append(rr.consts(ctx))
            prs.append(ProjRule(rr.hooks(), tuple(pre_rows), tuple(post_rows), tuple(in_rows)))
        unknown = [nm for nm in inputs if nm not in ("learn_up", "learn_dn")]
        if unknown:
            raise ConfigError("rules", f"unknown neuron inputs {unknown}")
        p.inputs = tuple(inputs)
        p.consts = tuple(consts)
        p.pre_tab = trace_tables(pre_keys, self.dt, integer, fmt.x_bits)
        p.post_tab = trace_tables(post_keys, self.dt, integer, fmt.x_bits)
        if prs:
            p.kernel = projection_kernel(tuple(prs), integer)
        p._postf = np.zeros(dg.n, np.int64)
        p._pin = np.zeros((len(inputs), dg.n), np.int64)
        p._counts = np.zeros(dg.n, np.int64)
        p._qmax = q_max

    def projection(self, name: str) -> Projection:
        for p in self.projections:
            if p.name == name:
                return p
        raise ConfigError("projection", f"unknown projection {name!r}")

    # -- running ------------------------------------------------------------------------------
    def reset_state(self) -> None:
        """Neurons back to rest and no spikes in flight (weights, thresholds, levels, traces kept)."""
        for name, g in self.groups.items():
            g.reset_state()
            self._prev[name] = np.zeros(0, np.int64)

    def _rasters(self, n_steps: int, inputs: dict) -> dict:
        rasters = {}
        for name in inputs:
            if name not in self.groups or not isinstance(self.groups[name], InputGroup):
                raise ConfigError("inputs", f"{name!r} is not an input group")
        for name, g in self.groups.items():
            if isinstance(g, InputGroup):
                if name not in inputs:
                    rasters[name] = np.zeros((n_steps, g.n), dtype=np.uint8)
                    continue
                r = as_raster(inputs[name], g.n, field=f"inputs.{name}")
                if r.shape[0] < n_steps:
                    raise ConfigError(f"inputs.{name}", f"has {r.shape[0]} steps, fewer than n_steps={n_steps}")
                rasters[name] = r
        return rasters

    def _integrate(self, p: Projection, rows: np.ndarray) -> None:
        dst = self.groups[p.dst]
        if rows.shape[0] == 0 or isinstance(dst, InputGroup):
            return
        out = dst.s.ge if p.receptor == "exc" else dst.s.gi
        syn = p.syn
        if syn.kind == "crossbar":
            out += p.scale * syn.xbar.read_currents(rows)
            return
        accumulate_rows(syn.w if syn.kind == "ideal" else syn.q, rows, p.scale, out)

    def _plasticity(self, p: Projection, cur: dict, step: int) -> None:
        pre_idx, post_idx = cur[p.src], cur[p.dst]
        if p.kernel is None or (pre_idx.shape[0] == 0 and post_idx.shape[0] == 0):
            return
        if p.inputs:
            up, dn = self.groups[p.dst].learn_flags()
            for row, nm in enumerate(p.inputs):
                p._pin[row] = up if nm == "learn_up" else dn
        args = (pre_idx, post_idx, self._tl[p.src], self._tl[p.dst], step, p.pre_tab, p.post_tab)
        syn = p.syn
        if syn.kind == "int":
            p.kernel(syn.q, *args, np.int64(p._qmax), p._pin, p.lfsr, p._postf, p.consts)
            self._unmask(p, syn.q, pre_idx, post_idx)
        elif syn.kind == "ideal":
            p.kernel(syn.w, *args, p.w_max, p._pin, p.lfsr, p._postf, p.consts)
            self._unmask(p, syn.w, pre_idx, post_idx)
        else:  # crossbar: the rules' change of the current weight estimate becomes pulses
            w0 = syn.weights()
            w1 = w0.copy()
            p.kernel(w1, *args, p.w_max, p._pin, p.lfsr, p._postf, p.consts)
            if p.mask is not None:
                w1 = np.where(p.mask, w1, w0)
            syn.commit(w0, w1, pre_idx, post_idx)

    @staticmethod
    def _unmask(p: Projection, w: np.ndarray, rows=None, cols=None) -> None:
        """Absent synapses of a masked projection back to 0 (only the touched rows and columns)."""
        if p.mask is None:
            return
        if rows is None:
            w[~p.mask] = 0
            return
        if rows.shape[0]:
            w[rows] *= p.mask[rows]
        if cols.shape[0]:
            w[:, cols] *= p.mask[:, cols]

    def _slow(self, p: Projection, step: int) -> None:
        syn = p.syn
        for rule, state in p.slow:
            if (step + 1) % rule.period:
                continue
            if syn.kind == "int":
                dq = rule.sample_dq(state, syn.q, p._counts, p._qmax, p.lfsr)
                np.clip(syn.q + dq, 0, p._qmax, out=syn.q)
                self._unmask(p, syn.q)
            elif syn.kind == "ideal":
                dw = rule.sample_dw(state, syn.w, p._counts)
                np.clip(syn.w + dw, 0.0, p.w_max, out=syn.w)
                self._unmask(p, syn.w)
            else:
                w0 = syn.weights()
                sums = syn.xbar.read_currents(np.arange(syn.n_pre, dtype=np.int64))
                dw = rule.sample_dw(state, w0, p._counts, sums)
                dw = np.clip(w0 + dw, 0.0, p.w_max) - w0
                if p.mask is not None:
                    dw = np.where(p.mask, dw, 0.0)
                syn.xbar.update(dw)
                syn._cache = None
        if p.slow and all((step + 1) % rule.period == 0 for rule, _ in p.slow):
            p._counts[:] = 0

    def run(self, n_steps: int, inputs: dict | None = None, learning: bool = True) -> RunResult:
        """Run ``n_steps`` steps; ``inputs[name]`` is a ``(n_steps, n)`` raster per input group."""
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
            raise ConfigError("n_steps", f"must be a non-negative integer, not {n_steps!r}")
        rasters = self._rasters(int(n_steps), inputs or {})
        learn = bool(learning)
        names = list(self.groups)
        pops = [(nm, g) for nm, g in self.groups.items() if isinstance(g, Population)]
        rec = {nm: np.zeros((n_steps, self.groups[nm].n), dtype=np.uint8) for nm in names}
        flags = {nm: np.zeros(self.groups[nm].n, np.int64) for nm in names}
        prev = self._prev
        for t in range(n_steps):
            step = self.t
            for _, g in pops:  # 1. decay
                g.hooks.decay(g.c, g.s)
            for p in self.projections:  # 2. integrate last step's spikes
                self._integrate(p, prev[p.src])
            cur = {}
            for nm in names:  # 3./4. threshold, reset, refractory
                g = self.groups[nm]
                if isinstance(g, InputGroup):
                    idx = np.flatnonzero(rasters[nm][t]).astype(np.int64)
                else:
                    k = g.hooks.update(g.c, g.s, learn, g.spk)
                    idx = g.spk[:k].copy()
                cur[nm] = idx
                rec[nm][t, idx] = 1
            if learn:  # 5. plasticity
                for p in self.projections:
                    self._plasticity(p, cur, step)
                for nm, g in pops:
                    if g.rules:
                        f = flags[nm]
                        f[:] = 0
                        f[cur[nm]] = 1
                        for hook, c in g.rules:
                            hook(c, g.s.theta, f, step)
            for nm in names:  # 6. trace increments
                self._tl[nm][cur[nm]] = step
            if learn:  # 7. slow rules
                for p in self.projections:
                    if p.slow:
                        f = flags[p.dst]
                        f[:] = 0
                        f[cur[p.dst]] = 1
                        p._counts += f
                        for rule, state in p.slow:
                            if hasattr(rule, "track"):
                                rule.track(state, f)
                        self._slow(p, step)
            for p in self.projections:
                p.syn.advance(self.dt)
            prev = cur
            self.t += 1
        self._prev = prev
        for _, g in pops:
            if g.homeostasis is not None:
                g.neuron.after_sample(g.s, learn, n_steps * self.dt, g.homeostasis)
        return RunResult(spikes=rec, n_steps=int(n_steps))
