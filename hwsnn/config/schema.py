"""The run config: typed, composed sections in SI units (seconds, volts, hertz).

:class:`RunConfig` is a frozen pydantic model with the sections ``task``, ``network``, ``neuron``
(a registered neuron model, selected by ``model``), ``homeostasis``, ``schedule``, ``rules`` (a
list of registered plasticity rules, each selected by ``kind``) and ``synapse`` (backend, integer
formats, device, crossbar periphery and the crossbar write-back).  Every field's docstring is its
documentation (:func:`hwsnn.config.config_reference_markdown` renders them).

Validation is pydantic's; its first error becomes one :class:`hwsnn.errors.ConfigError` naming the
dotted path (:mod:`hwsnn.config.errors`), whether the config comes from a document
(:func:`hwsnn.config.parse_config`) or is built in Python (``RunConfig(network={"n_exc": 25})``;
a section built on its own reports paths relative to itself).

Accessors: ``cfg.synapse.device.resolve()`` (or ``cfg.device``) is the resolved
:class:`hwsnn.devices.DeviceParams`; ``cfg.synapse.crossbar`` (or ``cfg.crossbar``) is the
:class:`hwsnn.crossbar.CrossbarConfig`; ``cfg.synapse.integer.format()`` the engine's ``IntFormat``;
``cfg.with_overrides({...})`` a copy with dotted overrides.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (BeforeValidator, Field, PrivateAttr, SerializeAsAny, ValidationError, field_validator,
                      model_validator)

from hwsnn.config.errors import config_error, show_value
from hwsnn.config.types import Bool, Float, Int, Str
from hwsnn.crossbar.config import CrossbarConfig
from hwsnn.engine.contract import IntFormat, NeuronModel, Params, Rule, neuron_class, rule_class
from hwsnn.engine.neurons import DiehlCookNeuron
from hwsnn.engine.rules.stdp import TripletSTDP
from hwsnn.engine.synergy import SynergyConfig
from hwsnn.errors import ConfigError
from hwsnn.tasks.events import EventParams

__all__ = [
    "Section", "TaskSection", "NetworkSection", "HomeostasisSection", "ScheduleSection", "IntegerSection",
    "DeviceSection", "WriteBackSection", "SynapseSection", "RunConfig", "BACKENDS", "BACKEND_ALIASES",
]

BACKENDS = ("ideal", "integer", "crossbar")
"""Synapse backends."""
BACKEND_ALIASES = {"int8": "integer"}
"""Old backend names still accepted (with a deprecation note)."""


def _backend_alias(v: Any) -> Any:
    """Old backend names -> new (the loader reports each as a deprecation note)."""
    return BACKEND_ALIASES.get(v, v) if isinstance(v, str) else v


class Section(Params):
    """Base of the config sections (frozen, unknown fields rejected, docstrings = documentation).

    Constructing a section in Python with a bad value raises :class:`ConfigError` whose path is
    relative to that section (``NetworkSection(n_exc=0)`` -> ``n_exc``; ``RunConfig(...)`` gives
    full paths), like :func:`hwsnn.config.parse_config` does for documents.  (Pydantic calls a
    custom ``__init__`` for nested sections too, so the relative paths compose.)
    """

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise config_error(exc, type(self), top=False) from None

    def replace(self, **changes: Any):
        """A validated copy with ``changes`` (whole fields) applied; errors are a :class:`ConfigError`."""
        try:
            return type(self).model_validate({**dict(self), **changes})
        except ValidationError as exc:
            raise config_error(exc, type(self)) from None


# ---------------------------------------------------------------------------------------------- task
class TaskSection(Section):
    """What to train and evaluate, how long, with which seeds."""

    dataset: Literal["digits", "mnist", "event_digits", "event_mnist"] = "digits"
    """``"digits"`` (scikit-learn 8x8, seeded stratified 1,297 / 500 split) or ``"mnist"`` (8,000 / 2,000
    split of the shipped MNIST test set), presented as Poisson rates; ``"event_digits"`` /
    ``"event_mnist"``: the same images and splits recorded by the simulated event camera of
    ``task.events`` (three saccades, an ON and an OFF input per pixel), presented as event rasters
    (each recording scaled onto ``schedule.t_present``; no re-presentation).  The number of inputs
    follows the dataset (64, 784, 128 or 1,568)."""
    events: EventParams = EventParams()
    """The simulated event camera of the event datasets (ignored by ``"digits"`` and ``"mnist"``)."""
    seeds: Annotated[tuple[Annotated[Int, Field(ge=0, le=2**31 - 1)], ...], Field(min_length=1)] = (0,)
    """Seeds; each seed gives its own split, initial weights, Poisson inputs and devices (one network
    per seed and backend)."""
    epochs: Annotated[Int, Field(ge=0, le=1000)] = 3
    """Passes over the training set."""
    n_train: Annotated[Int, Field(ge=0)] = 0
    """Use only the first ``n_train`` training samples (0 = all)."""
    n_test: Annotated[Int, Field(ge=0)] = 0
    """Use only the first ``n_test`` test samples (0 = all)."""
    curve: Literal["online", "test"] = "online"
    """Accuracy curve: ``"online"`` (free, from the training responses, ``curve_points`` points per
    epoch) or ``"test"`` (``curve_points`` full labelling + test passes during training)."""
    curve_points: Annotated[Int, Field(ge=1, le=100)] = 4
    """Points of the accuracy curve (per epoch for ``"online"``, in total for ``"test"``)."""
    kmeans: Bool = True
    """Also report the k-means (``network.n_exc`` clusters) + label-vote reference."""
    baseline: Literal["ideal", "integer", "crossbar", "none"] = "ideal"
    """Backend trained alongside the main one (``synapse.backend``) for comparison; ``"none"`` to skip."""
    test_delay: Annotated[Float, Field(ge=0)] = 0.0
    """Time between the end of training and the test, labelling and test passes (s).  On the
    crossbar backend the devices' clock advances by this much (drift, volatile relaxation) and
    every weight is re-read (and the column gain re-measured when
    ``synapse.write_back.column_gain``) before the test; the ideal and integer backends have no
    clock, so it has no effect on them."""

    @field_validator("baseline", mode="before")
    @classmethod
    def _baseline_alias(cls, v):
        return _backend_alias(v)

    @field_validator("seeds")
    @classmethod
    def _unique(cls, v):
        if len(set(v)) != len(v):
            raise ValueError(f"must not repeat a seed, got {list(v)}")
        return v


# ---------------------------------------------------------------------------------------------- network
class NetworkSection(Section):
    """Size and wiring of the winner-take-all layer (conductances in units of the leak)."""

    n_exc: Annotated[Int, Field(ge=1, le=100_000)] = 100
    """Number of excitatory neurons."""
    inhibition: Literal["direct", "population"] = "direct"
    """``"population"`` (Diehl & Cook: exc -> inh one-to-one, inh -> all other exc) or ``"direct"`` (each
    exc spike adds ``w_inh_total / n_exc`` to the inhibitory conductance of all other exc neurons)."""
    w_inh_total: Annotated[Float, Field(ge=0)] = 3000.0
    """Direct inhibition summed over the layer (the per-spike conductance is ``w_inh_total / n_exc``)."""
    w_ei: Annotated[Float, Field(ge=0)] = 10.4
    """Population inhibition: exc -> inh weight (Diehl & Cook: 10.4)."""
    w_ie: Annotated[Float, Field(ge=0)] = 17.0
    """Population inhibition: inh -> exc weight (Diehl & Cook: 17)."""
    efficacy: Annotated[Float, Field(ge=0)] = 2.0
    """Conductance added per input spike per unit weight (Diehl & Cook: 1)."""
    w_max: Annotated[Float, Field(gt=0)] = 1.0
    """Upper weight bound; weights are in ``[0, w_max]`` (dimensionless)."""
    w_init_max: Annotated[Float, Field(ge=0)] = 0.3
    """Initial weights are uniform in ``[0, w_init_max]`` before normalisation; must be <= ``w_max``."""

    @model_validator(mode="after")
    def _init_below_max(self):
        if self.w_init_max > self.w_max:
            raise ConfigError("w_init_max", f"must be <= w_max ({self.w_max}), got {self.w_init_max}")
        return self


# ---------------------------------------------------------------------------------------------- homeostasis
class HomeostasisSection(Section):
    """Adaptive threshold and weight normalisation."""

    theta_init: Annotated[Float, Field(ge=0)] = 0.020
    """Initial adaptive threshold theta (V; Diehl & Cook: 20 mV)."""
    theta_plus: Annotated[Float, Field(ge=0)] = 5e-5
    """Theta increment per spike while learning (V; 0.05 mV)."""
    tau_theta: Annotated[Float, Field(gt=0)] = 1e4
    """Theta decay time constant while learning (s); theta is frozen at test time."""
    norm_per_input: Annotated[Float, Field(ge=0)] = 0.3
    """Weight-normalisation target per input: each neuron's input weights sum to
    ``norm_per_input * n_in`` before every learning presentation (Diehl & Cook: 78/784; 0 = off);
    must be <= ``network.w_max``."""


# ---------------------------------------------------------------------------------------------- schedule
class ScheduleSection(Section):
    """Time step, presentation timing and input rates."""

    dt: Annotated[Float, Field(gt=0, le=0.01)] = 5e-4
    """Time step (s)."""
    t_present: Annotated[Float, Field(ge=0, le=100)] = 0.35
    """Presentation time per sample (s); at least one step."""
    t_rest: Annotated[Float, Field(ge=0, le=100)] = 0.15
    """Rest time after each presentation, inputs off (s)."""
    max_rate: Annotated[Float, Field(ge=0)] = 127.5
    """Input rate of a pixel of value 1 (Hz; Diehl & Cook: 63.75); at most ``1 / dt``."""
    rerun_min_spikes: Annotated[Int, Field(ge=0, le=10_000)] = 5
    """Re-present a sample with a higher rate when the layer fires fewer spikes than this (0 = never)."""
    rerun_rate_step: Annotated[Float, Field(ge=0, le=1000)] = 31.875
    """Rate added to ``max_rate`` at each re-presentation (Hz; Diehl & Cook: 31.875)."""
    rerun_max: Annotated[Int, Field(ge=0, le=1000)] = 10
    """Maximum number of re-presentations of one sample."""
    fast_forward: Bool = True
    """Skip the quiescent tail of the rest phase exactly (closed-form decay)."""

    @model_validator(mode="after")
    def _steps(self):
        if self.t_present < self.dt:
            raise ConfigError("t_present", f"must be >= dt ({self.dt} s), got {self.t_present}")
        if self.max_rate > 1.0 / self.dt:
            raise ConfigError("max_rate", f"must be <= 1/dt ({1.0 / self.dt:g} Hz), got {self.max_rate}")
        return self

    @property
    def n_on(self) -> int:
        """Presentation steps."""
        return int(round(self.t_present / self.dt))

    @property
    def n_total(self) -> int:
        """Presentation + rest steps."""
        return self.n_on + int(round(self.t_rest / self.dt))


# ---------------------------------------------------------------------------------------------- neuron / rules
# Neuron models and rules are the engine's models (plain ``float`` fields); a document's tables are
# validated against them in pydantic's strict mode, so ``nu_pre = true`` or ``tau_m = "0.1"`` is an
# error as in every other section (an integer is still a valid float).
def _neuron(v: Any) -> Any:
    if not isinstance(v, dict):
        return v  # an instance passes; anything else fails as "must be a table"
    model = v.get("model", "diehl_cook")
    if not isinstance(model, str):
        raise ConfigError("model", f"must be a string, got {show_value(model)}")
    cls = neuron_class(model, field="model")
    try:
        return cls.model_validate(v, strict=True)
    except ValidationError as exc:
        raise config_error(exc, cls, top=False) from None


def _rules(v: Any) -> Any:
    if not isinstance(v, (list, tuple)):
        return v  # fails as "must be a list"
    out = []
    for i, item in enumerate(v):
        if isinstance(item, Rule):
            out.append(item)
            continue
        if not isinstance(item, dict):
            raise ConfigError(f"[{i}]", f"must be a table ([[rules]] with a kind), got {show_value(item)}")
        if "kind" not in item:
            raise ConfigError(f"[{i}].kind", "is required (known: " + ", ".join(_rule_kinds()) + ")")
        if not isinstance(item["kind"], str):
            raise ConfigError(f"[{i}].kind", f"must be a string, got {show_value(item['kind'])}")
        cls = rule_class(item["kind"], field=f"[{i}].kind")
        try:
            out.append(cls.model_validate(item, strict=True))
        except ValidationError as exc:
            raise config_error(exc, cls, f"[{i}]", top=False) from None
    return tuple(out)


def _rule_kinds() -> list[str]:
    from hwsnn.engine.contract import rule_kinds

    return rule_kinds()


# ---------------------------------------------------------------------------------------------- synapse
class IntegerSection(Section):
    """Number formats of the integer backend."""

    w_bits: Annotated[Int, Field(ge=2, le=16)] = 8
    """Weight code bits; codes ``0 .. 2**w_bits - 1`` stand for weights ``0 .. network.w_max``."""
    x_bits: Annotated[Int, Field(ge=2, le=16)] = 8
    """Trace bits (the ``stdp_trace`` unit's ``X_BITS``)."""

    def format(self) -> IntFormat:
        """The engine's :class:`hwsnn.engine.contract.IntFormat`."""
        return IntFormat(w_bits=self.w_bits, x_bits=self.x_bits)


def _device_fields() -> list[str]:
    from hwsnn.devices.params import DeviceParams

    return [f.name for f in dataclasses.fields(DeviceParams)]


class DeviceSection(Section):
    """The memristor device of the crossbar backend: a preset or a parameter file, plus overrides."""

    preset: Str = "sto"
    """Device preset (``hwsnn device info --list``); ignored in favour of ``file`` when that is set, so a
    non-default preset together with ``file`` is an error."""
    file: Str = ""
    """A parameter file written by ``hwsnn device fit`` (``device_params.json``), or empty for the preset.
    A relative path in a config file is relative to that file's folder."""
    params: dict[Str, Any] = {}
    """Overrides of :class:`hwsnn.devices.DeviceParams` fields (SI units: siemens, seconds, volts),
    applied on top of the preset or file."""

    _resolved: Any = PrivateAttr(default=None)

    @field_validator("file", mode="before")
    @classmethod
    def _file_str(cls, v):
        return str(v) if isinstance(v, Path) else v

    @model_validator(mode="after")
    def _resolve_now(self):
        from hwsnn.devices.params import DeviceParams
        from hwsnn.devices.presets import get_preset, list_presets

        presets = list_presets()
        if self.preset not in presets:
            raise ConfigError("preset", f"unknown preset {self.preset!r} (known: {', '.join(presets)})")
        if self.file:
            if self.preset != "sto":
                raise ConfigError("file", f"give either a parameter file or a non-default preset, not both "
                                          f"(preset = {self.preset!r})")
            try:
                base = DeviceParams.from_json(self.file)
            except ConfigError as exc:
                detail = exc.message if exc.field == "params" else f"{exc.field}: {exc.message}"
                raise ConfigError("file", detail if self.file in detail else f"{self.file}: {detail}") from None
        else:
            base = get_preset(self.preset)
        known = _device_fields()
        for k in self.params:
            if k not in known:
                raise ConfigError(f"params.{k}", f"unknown field {k!r} (known: {', '.join(known)})")
        try:
            resolved = dataclasses.replace(base, **self.params) if self.params else base
        except ConfigError as exc:
            raise ConfigError(f"params.{exc.field}", exc.message) from None
        self._resolved = resolved
        return self

    def resolve(self):
        """The :class:`hwsnn.devices.DeviceParams` this section describes."""
        return self._resolved

    def __hash__(self) -> int:  # params is a dict: hash its items
        return hash((type(self), self.preset, self.file, tuple(sorted((k, repr(v)) for k, v in self.params.items()))))


class WriteBackSection(Section):
    """Crossbar backend: how the rules' weight changes are written back to the devices."""

    every: Annotated[Int, Field(ge=1, le=1_000_000)] = 1
    """Write the accumulated rule changes back every this many learning presentations (1 = after
    every presentation).  Fewer, larger writes limit the drift restarted by each write."""
    renorm_every: Annotated[Int, Field(ge=0, le=1_000_000)] = 50
    """Every this many learning presentations all columns are renormalised (not only the ones
    plasticity wrote), restoring columns that drift while their neuron is silent (0 = never)."""
    norm: Literal["down", "both"] = "down"
    """How the write-back normalises a written column: ``"down"`` only scales a column down when its
    sum exceeds the target (a column that lost conductance to drift is compensated by
    ``column_gain`` instead of SET pulses on every synapse), ``"both"`` scales up and down like the
    ideal model."""
    long_term: Bool = True
    """Compute the write-back (rule change + normalisation) from the consolidated long-term weights of
    the written columns (read after their volatile part has relaxed); false = from the weights the
    network sees."""
    refresh: Annotated[Int, Field(ge=1, le=1_000_000)] = 10
    """Re-read every column every this many presentations (drift / volatile decay of untouched
    columns); the columns written by plasticity are re-read after every presentation regardless."""
    column_gain: Bool = True
    """A digital per-column input gain ``norm_target / sum_i w_ij``, measured at every weight refresh,
    compensates the slow loss of a column's total conductance (drift), in training and at test time."""


class SynapseSection(Section):
    """Synapse backend and its hardware: integer formats, device, crossbar periphery, write-back."""

    backend: Literal["ideal", "integer", "crossbar"] = "crossbar"
    """``"ideal"`` (float weights), ``"integer"`` (fixed-point weights and traces, the RTL's
    arithmetic) or ``"crossbar"`` (memristor crossbar: device physics + periphery)."""
    integer: IntegerSection = IntegerSection()
    """Integer backend number formats."""
    device: DeviceSection = DeviceSection()
    """Crossbar backend: the device."""
    crossbar: CrossbarConfig = CrossbarConfig()
    """Crossbar backend: weight mapping (``mapping``), read periphery (``io``: DAC, ADC, noise, IR
    drop) and programming (``update``), see :class:`hwsnn.crossbar.CrossbarConfig`."""
    write_back: WriteBackSection = WriteBackSection()
    """Crossbar backend: write-back of the learned changes."""

    @field_validator("backend", mode="before")
    @classmethod
    def _backend_alias(cls, v):
        return _backend_alias(v)


# ---------------------------------------------------------------------------------------------- run config
def _strict(cls):
    """A before-validator validating a table strictly against the engine model ``cls``."""

    def check(v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        try:
            return cls.model_validate(v, strict=True)
        except ValidationError as exc:
            raise config_error(exc, cls, top=False) from None

    return BeforeValidator(check)


NeuronField = Annotated[SerializeAsAny[NeuronModel], BeforeValidator(_neuron)]
RulesField = Annotated[tuple[SerializeAsAny[Rule], ...], BeforeValidator(_rules)]


class RunConfig(Section):
    """A complete ``hwsnn run`` configuration (SI units throughout)."""

    task: TaskSection = TaskSection()
    """What to train and evaluate."""
    network: NetworkSection = NetworkSection()
    """Layer size and wiring."""
    neuron: NeuronField = DiehlCookNeuron()
    """Excitatory neuron model, selected by ``model`` (registered neuron models, see below)."""
    homeostasis: HomeostasisSection = HomeostasisSection()
    """Adaptive threshold and weight normalisation."""
    schedule: ScheduleSection = ScheduleSection()
    """Timing and input rates."""
    rules: RulesField = (TripletSTDP(),)
    """Plasticity rules, applied in order (TOML ``[[rules]]`` tables, each selected by ``kind``)."""
    synapse: SynapseSection = SynapseSection()
    """Synapse backend and hardware."""
    synergy: Annotated[SynergyConfig, _strict(SynergyConfig)] = SynergyConfig()
    """How several rules combine (multi-plasticity synergy with adaptive mechanism weights)."""

    @model_validator(mode="after")
    def _cross_section(self):
        if self.synergy.lambdas and len(self.synergy.lambdas) != len(self.rules):
            raise ConfigError("synergy.lambdas", f"needs one value per rule ({len(self.rules)}), "
                                                 f"got {len(self.synergy.lambdas)}")
        if self.homeostasis.norm_per_input > self.network.w_max:
            raise ConfigError("homeostasis.norm_per_input", f"must be <= network.w_max ({self.network.w_max}), "
                                                            f"got {self.homeostasis.norm_per_input}")
        return self

    def __hash__(self) -> int:  # sections may hold lists (synergy.lambdas): hash the plain data
        from hwsnn.config.loader import to_plain

        return hash(repr(to_plain(self)))

    def with_overrides(self, overrides: dict[str, Any]) -> "RunConfig":
        """A copy with dotted overrides (``{"network.n_exc": 25, "rules[0].nu_post": 0.1}``) applied,
        validated like a file; errors are a :class:`ConfigError` naming the path."""
        from hwsnn.config.loader import parse_config, to_plain

        return parse_config(to_plain(self), overrides)

    @property
    def device(self):
        """Shortcut: the resolved :class:`hwsnn.devices.DeviceParams` (``synapse.device.resolve()``)."""
        return self.synapse.device.resolve()

    @property
    def crossbar(self) -> CrossbarConfig:
        """Shortcut: the :class:`hwsnn.crossbar.CrossbarConfig` (``synapse.crossbar``)."""
        return self.synapse.crossbar


