"""Comparison specs: mechanisms x datasets x backends x seeds, robustness axes, and the claims to test.

A spec is a TOML file::

    name = "mechanisms"
    repeats = 5                          # seeds per cell (the same seeds for every mechanism)
    seed = 0
    datasets = ["digits", "event_digits"]
    backends = ["ideal", "crossbar"]

    [set]                                # overrides of every mechanism's config
    "task.epochs" = 1

    [[mechanisms]]
    name = "stdp"
    base = "default"                     # a shipped config name or a TOML path
    [[mechanisms]]
    name = "hetero"
    base = "default"
    set = { "rules[1]" = { kind = "hetero_stdp" } }

    [[robustness]]                       # accuracy vs this field, per mechanism
    path = "synapse.device.params.d2d"
    values = [0.0, 0.3]
    backends = ["crossbar"]              # where it applies (default: all)

    [[claims]]                           # a claim of a paper, tested on the results
    text = "hetero STDP beats plain STDP on the crossbar"
    better = "hetero"
    than = "stdp"
    dataset = "digits"
    backend = "crossbar"

Every cell runs as a sweep (:mod:`hwsnn.sweep`: the same executors, resumable Parquet store and
derived seeds, ``paired``): repeat ``r`` has the same seed in every cell -- every mechanism,
dataset, backend and robustness value -- so mechanisms are compared on the same splits, initial
weights and input trains, and a robustness curve follows the same networks along its axis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

from hwsnn.config.types import MODEL_CONFIG, Float, Int, Str
from hwsnn.errors import ConfigError
from hwsnn.sweep.spec import METRIC_NAMES, Value

__all__ = ["Mechanism", "Robustness", "Claim", "CompareSpec", "load_compare_spec", "parse_compare_spec",
           "builtin_compare_path", "list_builtin_compare_specs", "DATASETS", "BACKENDS"]

DATASETS = ("digits", "mnist", "event_digits", "event_mnist")
"""Values of ``task.dataset`` a spec may list."""
BACKENDS = ("ideal", "integer", "crossbar")
"""Values of ``synapse.backend`` a spec may list."""


class Mechanism(BaseModel):
    """One learning mechanism (or combination): a config and overrides."""

    model_config = MODEL_CONFIG

    name: Str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.+-]+$")
    """Name in tables, figures and folder names (letters, digits, ``_ . + -``)."""
    base: Str = "default"
    """Config of the mechanism: a shipped config name (``hwsnn run --list-configs``) or a TOML path
    (relative to the spec file)."""
    set: dict[Str, Any] = {}
    """Dotted overrides of that config (applied after the spec's ``set``)."""


class Robustness(BaseModel):
    """A robustness axis: accuracy against the values of one config field."""

    model_config = MODEL_CONFIG

    path: Str
    """Dotted config path (``synapse.device.params.d2d``, ``task.events.jitter``)."""
    values: list[Value] = Field(min_length=2)
    """Values of the field, the nominal one included."""
    label: Str = ""
    """Axis label of the figure (default: the field name with its unit)."""
    datasets: list[Str] | None = None
    """Datasets it applies to (default: all of the spec's)."""
    backends: list[Str] | None = None
    """Backends it applies to (default: all of the spec's)."""


class Claim(BaseModel):
    """A claim to test: mechanism ``better`` has a higher mean accuracy than ``than`` in one cell."""

    model_config = MODEL_CONFIG

    text: Str = Field(min_length=1)
    """The claim in words (and where it comes from)."""
    better: Str
    """Mechanism claimed to be better."""
    than: Str
    """Mechanism it is compared with."""
    dataset: Str
    """Dataset of the cell."""
    backend: Str
    """Backend of the cell."""
    path: Str = ""
    """With a robustness axis: compare at ``value`` of this field (empty: the nominal cell)."""
    value: Value | None = None
    """The robustness value of the comparison."""
    alpha: Float = Field(0.05, gt=0, lt=1)
    """Significance level of the one-sided paired t-test over seeds."""


class CompareSpec(BaseModel):
    """Mechanisms x datasets x backends x repeats, robustness axes and claims."""

    model_config = MODEL_CONFIG

    name: Str = ""
    """Name of the comparison (titles)."""
    description: Str = ""
    """What it shows."""
    mechanisms: list[Mechanism] = Field(min_length=1)
    """The mechanisms compared."""
    datasets: list[Str] = Field(default_factory=lambda: ["digits"], min_length=1)
    """Datasets (``task.dataset`` values)."""
    backends: list[Str] = Field(default_factory=lambda: ["ideal"], min_length=1)
    """Synapse backends (``synapse.backend`` values)."""
    set: dict[Str, Any] = {}
    """Overrides of every mechanism's config."""
    dataset_set: dict[Str, dict[Str, Any]] = {}
    """Overrides per dataset, applied after ``set`` and before the mechanism's own (e.g. a higher
    ``network.efficacy`` for the sparser event recordings)."""
    robustness: list[Robustness] = []
    """Robustness axes."""
    claims: list[Claim] = []
    """Claims tested on the results."""
    repeats: Int = Field(5, ge=1, le=1000)
    """Seeds per cell."""
    seed: Int = Field(0, ge=0, le=2**63 - 1)
    """Master seed of the derived run seeds."""
    kmeans: bool = True
    """Also report the k-means (as many clusters as neurons) + label-vote reference per dataset."""

    @model_validator(mode="after")
    def _check(self):
        names = [m.name for m in self.mechanisms]
        for i, n in enumerate(names):
            if n in names[:i]:
                raise ConfigError(f"mechanisms[{i}].name", f"{n!r} is used twice")
        for field, values, known in (("datasets", self.datasets, DATASETS), ("backends", self.backends, BACKENDS)):
            for i, v in enumerate(values):
                if v not in known:
                    raise ConfigError(f"{field}[{i}]", f"must be one of {', '.join(known)}, got {v!r}")
            if len(set(values)) != len(values):
                raise ConfigError(field, f"must not repeat a value, got {values}")
        for i, r in enumerate(self.robustness):
            for field, values, known in (("datasets", r.datasets, self.datasets), ("backends", r.backends,
                                                                                    self.backends)):
                for j, v in enumerate(values or []):
                    if v not in known:
                        raise ConfigError(f"robustness[{i}].{field}[{j}]", f"{v!r} is not one of the spec's {field}")
            if r.path in ("task.dataset", "synapse.backend", "task.seeds"):
                raise ConfigError(f"robustness[{i}].path", f"{r.path!r} is a dimension of the comparison itself")
        paths = [r.path for r in self.robustness]
        for i, p in enumerate(paths):
            if p in paths[:i]:
                raise ConfigError(f"robustness[{i}].path", f"{p!r} is listed twice")
        for i, c in enumerate(self.claims):
            for field in ("better", "than"):
                if getattr(c, field) not in names:
                    raise ConfigError(f"claims[{i}].{field}", f"no mechanism named {getattr(c, field)!r}")
            if c.better == c.than:
                raise ConfigError(f"claims[{i}].than", "must name another mechanism than better")
            if c.dataset not in self.datasets:
                raise ConfigError(f"claims[{i}].dataset", f"{c.dataset!r} is not one of the spec's datasets")
            if c.backend not in self.backends:
                raise ConfigError(f"claims[{i}].backend", f"{c.backend!r} is not one of the spec's backends")
            if c.path:
                r = next((r for r in self.robustness if r.path == c.path), None)
                if r is None:
                    raise ConfigError(f"claims[{i}].path", f"{c.path!r} is not a robustness axis of the spec")
                if c.value not in r.values:
                    raise ConfigError(f"claims[{i}].value", f"must be one of {r.values}, got {c.value!r}")
        for key in self.set:
            if key in ("task.dataset", "synapse.backend", "task.seeds"):
                raise ConfigError(f"set.{key}", "is a dimension of the comparison itself")
        for d, over in self.dataset_set.items():
            if d not in self.datasets:
                raise ConfigError(f"dataset_set.{d}", f"{d!r} is not one of the spec's datasets")
            for key in over:
                if key in ("task.dataset", "synapse.backend", "task.seeds"):
                    raise ConfigError(f"dataset_set.{d}.{key}", "is a dimension of the comparison itself")
        return self

    def mechanism(self, name: str) -> Mechanism:
        return next(m for m in self.mechanisms if m.name == name)


def parse_compare_spec(data: Any, base_dir: str | Path | None = None) -> tuple[CompareSpec, Path | None]:
    """Validate a parsed spec document -> (spec, folder relative base paths are resolved against)."""
    from hwsnn.config.errors import validate_into

    if not isinstance(data, dict):
        raise ConfigError("spec", "must be a TOML table")
    return validate_into(CompareSpec, data), (Path(base_dir) if base_dir else None)


def builtin_compare_path(name: str) -> Path | None:
    """Path of the shipped comparison ``name`` (``hwsnn/configs/compare/<name>.toml``), or None."""
    from importlib import resources

    stem = name[:-5] if name.endswith(".toml") else name
    p = resources.files("hwsnn").joinpath("configs", "compare", f"{stem}.toml")
    return Path(str(p)) if p.is_file() else None


def list_builtin_compare_specs() -> list[str]:
    """Names of the shipped comparison specs."""
    from importlib import resources

    d = resources.files("hwsnn").joinpath("configs", "compare")
    return sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".toml")) if d.is_dir() else []


def load_compare_spec(path: str | Path) -> tuple[CompareSpec, Path]:
    """Read and validate a comparison spec (a path, or the name of a shipped one)."""
    from hwsnn.config import read_toml

    p = Path(path)
    if not p.exists() and "/" not in str(path):
        shipped = builtin_compare_path(str(path))
        if shipped is not None:
            p = shipped
    spec, _ = parse_compare_spec(read_toml(p), p.resolve().parent)
    return spec, p.resolve().parent
