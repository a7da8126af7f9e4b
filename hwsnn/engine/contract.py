"""The learning engine's contract: typed parameter models, neuron models and plasticity rules.

Everything the engine compiles is described by a frozen, validated parameter model
(:class:`Params`, a pydantic v2 model whose field docstrings are the field documentation, in SI
units).  Two families plug into the engine through registries:

* a **neuron model** (:class:`NeuronModel`, registered with :func:`register_neuron` under its
  ``model`` name) supplies the per-step state update of a population;
* a **plasticity rule** (:class:`Rule`, registered with :func:`register_rule` under its ``kind``)
  supplies the traces it needs (:class:`TraceSpec`), compiled hooks (on a presynaptic spike, on a
  postsynaptic spike, once per synapse at the end of a presentation reading the per-sample spike
  times of :class:`SpikeTimeSpec`) and an integer twin (:meth:`Rule.to_int`).

The kernel factory (:mod:`hwsnn.engine.kernel`) generates one fused, cached per-sample kernel from
(neuron, rules, synapse backend, read path) by calling the hooks by name, so a rule written once
runs on ideal, integer and crossbar synapses without Python in the time-step loop.  A rule
defined anywhere -- a test module, a user's script -- becomes available to configs as soon as its
module is imported and the class is registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict

from hwsnn.errors import ConfigError

__all__ = [
    "Params",
    "NeuronModel",
    "Rule",
    "TraceSpec",
    "SpikeTimeSpec",
    "RuleHooks",
    "register_neuron",
    "register_rule",
    "neuron_class",
    "rule_class",
    "neuron_models",
    "rule_kinds",
]


class Params(BaseModel):
    """Base of every typed parameter section: frozen, unknown fields rejected, field docstrings
    kept as descriptions (they generate the config reference)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True,
                              validate_default=True, allow_inf_nan=False)

    def replace(self, **changes: Any):
        """A validated copy with ``changes`` applied."""
        return type(self).model_validate({**self.model_dump(), **changes})


@dataclass(frozen=True)
class TraceSpec:
    """A nearest-spike synaptic trace a rule reads.

    The engine keeps, per neuron, the step of its last spike in the current sample; a trace's value
    ``k`` steps after the spike is ``table[k]`` (float: ``exp(-k dt / tau)``; integer: the
    ``stdp_trace`` unit's ceil-decay from ``2**X_BITS - 1``).  Traces restart at every sample.
    """

    side: str
    """``"pre"`` or ``"post"``."""
    tau: float
    """Time constant (s); for integer twins the ``stdp_trace`` ``DECAY_SHIFT`` instead."""


@dataclass(frozen=True)
class SpikeTimeSpec:
    """A per-sample spike time a rule's sample hooks read (``RuleHooks.spike_times``).

    The engine keeps, per neuron, the step of its first and of its last spike within the
    presentation (steps ``0 .. T-1``, ``T`` = the presentation's steps, ``schedule.t_present /
    schedule.dt``; spikes in the rest phase do not count); a neuron that did not spike in the
    presentation reads ``T``.
    """

    side: str
    """``"pre"`` or ``"post"``."""
    which: str
    """``"first"`` or ``"last"``."""

    def __post_init__(self):
        if self.side not in ("pre", "post"):
            raise ValueError(f"SpikeTimeSpec.side must be 'pre' or 'post', not {self.side!r}")
        if self.which not in ("first", "last"):
            raise ValueError(f"SpikeTimeSpec.which must be 'first' or 'last', not {self.which!r}")


class RuleHooks(NamedTuple):
    """Compiled hooks of a rule (Numba ``njit(inline="always")`` functions or ``None``).

    ``on_pre(c, w, x_pre..., x_post...) -> dw``: weight change of synapse ``(i, j)`` when input
    ``i`` spikes (called for the postsynaptic neurons in ``pre_scope``); the trace arguments are the
    rule's :meth:`Rule.traces` in order, read *before* this step's increments.
    ``on_post(c, w, x_pre..., x_post...) -> dw``: likewise when neuron ``j`` spikes.
    Integer twins provide ``on_synapse`` instead (below).
    """

    on_pre: Any = None
    on_post: Any = None
    on_synapse: Any = None
    """Integer backend: ``on_synapse(c, q, pre, post, x_pre..., x_post..., r) -> dq``, the integer
    change of synapse ``(i, j)`` evaluated at a step where ``pre_i`` or ``post_j`` (flags 0/1)."""
    pre_scope: str = "active"
    """``"active"``: only postsynaptic neurons that spiked in this sample (their traces are non-zero);
    ``"all"``: every postsynaptic neuron."""
    post_scope: str = "active"
    """Likewise for the presynaptic side of ``on_post``."""
    on_sample: Any = None
    """Float backends, once per synapse after a learning presentation (every synapse, row-major):
    ``on_sample(c, w, g, pre, post, t...) -> dw``.  ``pre``/``post`` (0/1): input ``i`` / neuron
    ``j`` spiked at least once in the presentation; ``t...``: the spike times of
    ``spike_times`` in order (steps, ``T`` if silent); ``g``: this sample's value of
    ``on_sample_begin`` (``1.0`` without one).  The change is applied like an event hook's."""
    on_sample_syn: Any = None
    """Integer backend: ``on_sample_syn(c, q, g, pre, post, t..., r) -> dq`` likewise, ``r`` the
    synapse's LFSR16 value (the shared LFSR advances once per synapse of the sweep)."""
    on_sample_begin: Any = None
    """``on_sample_begin(c, n_pre, n_post, counts) -> g``, once per learning presentation before the
    sweep: ``n_pre``/``n_post`` are the numbers of inputs / neurons that spiked in the presentation,
    ``counts`` the neurons' spike counts; its result is passed to every ``on_sample`` /
    ``on_sample_syn`` call of the sweep (e.g. a gate), or scales the eligibility (below)."""
    spike_times: tuple = ()
    """The :class:`SpikeTimeSpec` the sample hooks read, in argument order."""
    eligibility: bool = False
    """Float backends: ``on_pre``/``on_post`` changes do not touch the weights but accumulate into
    the rule's eligibility ``c.elig[i, j]`` (a float array ``(n_in, n_out)`` in its constants),
    each decayed to the end of the presentation by ``exp(-(n_total - t) * c.k_e)`` (``c.k_e =
    dt / tau_e``); after a learning presentation every synapse gets ``dw = g * c.elig[i, j]`` with
    ``g`` from ``on_sample_begin`` (e.g. a learning rate times a reward), applied like an event
    hook's change, and the eligibility restarts (three-factor rules)."""
    indexed: bool = False
    """The event hooks also receive the synapse's indices right after the constants:
    ``on_pre(c, i, j, w, ...)``, ``on_post(c, i, j, w, ...)``, ``on_synapse(c, i, j, q, pre, post,
    ..., r)`` -- for per-synapse parameters held in ``c`` as ``(n_in, n_out)`` arrays."""


@dataclass(frozen=True)
class NeuronHooks:
    """Compiled hooks of a neuron model (Numba ``njit(inline="always")`` functions).

    The state NamedTuple has at least ``v`` (membranes), ``ge`` (excitatory input accumulated by
    the kernel this step) and ``gi`` (inhibitory input).  ``decay(c, s)``: phase 1;
    ``update(c, s, learn, spk) -> n_spk``: phases 3-4, writes the spiking indices to ``spk``;
    ``busy(c, s) -> bool``: not quiescent; ``skip(c, s, m)``: advance a quiescent population ``m``
    steps in closed form.
    """

    decay: Any
    update: Any
    busy: Any
    skip: Any


class NeuronModel(Params):
    """Base of neuron models; subclasses set ``model: Literal["name"]``."""

    model: str

    integer: ClassVar[bool] = False
    """True for integer neurons (input and state in integer codes; integer backend only)."""

    def hooks(self) -> NeuronHooks:
        raise NotImplementedError

    def consts(self, dt: float, homeostasis) -> NamedTuple:
        """Per-step constants for time step ``dt`` (s)."""
        raise NotImplementedError

    def state(self, consts, n: int, homeostasis) -> NamedTuple:
        """Resting state of ``n`` neurons."""
        raise NotImplementedError

    def input_scale(self, efficacy: float, w_lsb: float):
        """Neuron input per unit of integer weight code (integer backend)."""
        return efficacy * w_lsb

    def after_sample(self, state, learn: bool, seconds: float, homeostasis) -> None:
        """Per-sample update between presentations (e.g. threshold decay)."""


class Rule(Params):
    """Base of plasticity rules; subclasses set ``kind: Literal["name"]``."""

    kind: str

    integer: ClassVar[bool] = False
    """True for integer twins (hooks take the LFSR value and return integer changes)."""

    def traces(self) -> tuple[TraceSpec, ...]:
        """The traces the hooks read, in argument order."""
        return ()

    def hooks(self) -> RuleHooks:
        """The compiled hooks."""
        return RuleHooks()

    def consts(self, ctx: "CompileContext") -> NamedTuple:
        """Per-network constants passed to the hooks as ``c`` (a NamedTuple of numbers)."""
        raise NotImplementedError

    def to_int(self, fmt: "IntFormat", dt: float, w_max: float) -> "Rule":
        """The integer twin for the integer backend's number formats, time step ``dt`` (s) and
        weight bound ``w_max`` (weight units)."""
        raise ConfigError(f"rules.{self.kind}", "has no integer twin")

    def after_presentation(self, consts, counts) -> None:
        """Host step after each learning presentation of a fused layer (e.g. per-sample
        statistics written into the arrays of ``consts``, the NamedTuple the hooks receive);
        ``counts`` are the neurons' spike counts of the presentation.  Default: nothing."""


@dataclass(frozen=True)
class IntFormat:
    """Number formats of the integer backend (one source: :class:`hwsnn.engine.config` fills it)."""

    w_bits: int
    """Weight code bits; codes are ``0 .. 2**w_bits - 1`` for weights ``0 .. w_max``."""
    x_bits: int
    """Trace bits (``stdp_trace``'s ``X_BITS``)."""


@dataclass(frozen=True)
class CompileContext:
    """What a rule may know about the network it is compiled into."""

    dt: float
    """Time step (s)."""
    w_max: float
    """Weight bound in weight units (integer backend: ``2**w_bits - 1``)."""
    n_in: int
    n_out: int
    backend: str
    """``"ideal"``, ``"integer"`` or ``"crossbar"``."""


_NEURONS: dict[str, type[NeuronModel]] = {}
_RULES: dict[str, type[Rule]] = {}


def _default_of(cls, name: str) -> str:
    f = cls.model_fields.get(name)
    if f is None or not isinstance(f.default, str):
        raise TypeError(f"{cls.__name__} needs a string default for {name!r} (its registry name)")
    return f.default


def register_neuron(cls: type[NeuronModel]) -> type[NeuronModel]:
    """Class decorator: make a neuron model selectable as ``neuron.model = "<name>"``."""
    _NEURONS[_default_of(cls, "model")] = cls
    return cls


def register_rule(cls: type[Rule]) -> type[Rule]:
    """Class decorator: make a rule selectable as ``[[rules]] kind = "<name>"``."""
    _RULES[_default_of(cls, "kind")] = cls
    return cls


def neuron_class(model: str, field: str = "neuron.model") -> type[NeuronModel]:
    _load_builtins()
    try:
        return _NEURONS[model]
    except KeyError:
        raise ConfigError(field, f"unknown neuron model {model!r} (known: {', '.join(sorted(_NEURONS))})") from None


def rule_class(kind: str, field: str = "rules.kind") -> type[Rule]:
    _load_builtins()
    try:
        return _RULES[kind]
    except KeyError:
        raise ConfigError(field, f"unknown rule {kind!r} (known: {', '.join(sorted(_RULES))})") from None


def neuron_models() -> list[str]:
    _load_builtins()
    return sorted(_NEURONS)


def rule_kinds() -> list[str]:
    _load_builtins()
    return sorted(_RULES)


def _load_builtins() -> None:
    # the built-in models register themselves on import
    import hwsnn.engine.neurons  # noqa: F401
    import hwsnn.engine.rules  # noqa: F401
