"""Sweep specs: a base config, axes over dotted config fields, a design, repeats, a seed.

A spec is a TOML file::

    name = "d2d"
    base = "default"                 # a shipped config name or a path (relative to the spec file)
    design = "grid"                  # "grid" | "random" | "lhs" (Latin hypercube)
    repeats = 3                      # runs per point, each with its own derived seed
    seed = 0                         # master seed of the design and of the derived seeds

    [set]                            # fixed overrides of the base config
    "task.n_train" = 300

    [[axes]]
    path = "synapse.device.params.d2d"
    values = [0.0, 0.1, 0.2]         # or low / high (+ n for a grid, log = true for log spacing)

Everything is validated before anything runs: the spec itself (errors name the spec field,
``axes[2].path: no field 'synapse.device.nu_mean'``) and every point's resolved config.

**Designs.**  ``grid``: the Cartesian product of the axes' values (``values``, or ``n`` values
from ``low`` to ``high``, geometric with ``log``), first axis slowest.  ``random`` and ``lhs``:
``samples`` points in the unit cube (``numpy.random.default_rng(seed)`` /
``scipy.stats.qmc.LatinHypercube(seed=seed)``), mapped to each axis: ``low + u (high - low)``
(in log space with ``log``; rounded with ``integer``), or, for an axis with ``values``, the value
number ``floor(u * len(values))`` (so a Latin hypercube stratifies a discrete axis too).

**Seeds.**  Repeat ``r`` of point ``i`` runs with ``task.seeds = [s]`` where ``s`` is the first
32-bit word of ``numpy.random.SeedSequence([seed, i, r])`` masked to 31 bits: distinct for every
(point, repeat) with overwhelming probability, stable across runs, machines and executors.  With
``paired = true`` every point uses ``i = 0``: repeat ``r`` has the same seed at every point.  A spec
that sets ``task.seeds`` itself (in ``set`` or as an axis) uses those seeds and must have
``repeats = 1``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import Field, model_validator

from hwsnn.config.types import MODEL_CONFIG, Bool, Float, Int, Str
from hwsnn.errors import ConfigError

__all__ = ["Axis", "SweepSpec", "Unit", "load_spec", "parse_spec", "derive_seed", "design_points", "plan_units",
           "config_hash", "METRIC_NAMES"]

from pydantic import BaseModel

Value = Union[Bool, Int, Float, Str]

METRIC_NAMES = ("accuracy", "train_accuracy", "baseline_accuracy", "kmeans_accuracy", "mean_test_spikes",
                "samples", "reruns", "run_s", "train_s", "ms_per_sample")
"""Metric columns of the results table (floats; NaN for a failed unit or a metric that does not apply)."""


class Axis(BaseModel):
    """One swept config field."""

    model_config = MODEL_CONFIG

    path: Str
    """Dotted config path (``synapse.device.params.d2d``, ``rules[0].nu_post``)."""
    values: list[Value] | None = None
    """Explicit values (any design); for random / lhs a value is picked per point."""
    low: Float | None = None
    """Lower end of a continuous axis."""
    high: Float | None = None
    """Upper end of a continuous axis."""
    n: Int | None = Field(None, ge=1, le=100_000)
    """Grid only: number of values from ``low`` to ``high``."""
    log: Bool = False
    """Geometric spacing / log-uniform sampling (``low`` > 0); plots use a log axis."""
    integer: Bool = False
    """Round sampled values to integers."""
    label: Str = ""
    """Axis label of the plots (default: the field name with its unit)."""

    @model_validator(mode="after")
    def _check(self):
        if self.values is not None:
            if not self.values:
                raise ConfigError("values", "must not be empty")
            if self.low is not None or self.high is not None or self.n is not None:
                raise ConfigError("values", "give either values or low/high, not both")
            return self
        if self.low is None or self.high is None:
            raise ConfigError("values", "is required (or low and high)")
        if self.high < self.low:
            raise ConfigError("high", f"must be >= low ({self.low}), got {self.high}")
        if self.log and self.low <= 0:
            raise ConfigError("low", f"must be > 0 with log = true, got {self.low}")
        return self


class SweepSpec(BaseModel):
    """A sweep: base config + fixed overrides + axes + design + repeats."""

    model_config = MODEL_CONFIG

    name: Str = ""
    """Name of the sweep (plots' titles)."""
    description: Str = ""
    """What the sweep shows."""
    base: Str = "default"
    """Base config: a shipped config name (``default``, ``mnist100``...) or a TOML path."""
    set: dict[Str, Any] = {}
    """Fixed dotted overrides applied to the base config at every point."""
    axes: list[Axis] = Field(min_length=1)
    """Swept fields."""
    design: Literal["grid", "random", "lhs"] = "grid"
    """``grid`` (Cartesian product), ``random`` (uniform) or ``lhs`` (Latin hypercube)."""
    samples: Int | None = Field(None, ge=1, le=1_000_000)
    """Number of points of a random / lhs design."""
    repeats: Int = Field(1, ge=1, le=10_000)
    """Runs per point, each with its own derived seed."""
    seed: Int = Field(0, ge=0, le=2**63 - 1)
    """Master seed (design sampling and derived run seeds)."""
    paired: Bool = False
    """Give repeat ``r`` the same derived seed at every point (common random numbers: the same split,
    initial weights and inputs along the axes, so differences between points are paired and less
    noisy); false = a distinct seed for every (point, repeat)."""
    metrics: list[Str] = Field(default_factory=lambda: ["accuracy"], min_length=1)
    """Metrics shown in the summary and plotted (columns of the results table)."""

    @model_validator(mode="after")
    def _check(self):
        if self.design == "grid":
            if self.samples is not None:
                raise ConfigError("samples", "only for design = \"random\" or \"lhs\" (a grid's size is its axes')")
            for i, a in enumerate(self.axes):
                if a.values is None and a.n is None:
                    raise ConfigError(f"axes[{i}].n", "is required for a grid axis given by low/high")
        else:
            if self.samples is None:
                raise ConfigError("samples", f"is required for design = {self.design!r}")
            for i, a in enumerate(self.axes):
                if a.n is not None:
                    raise ConfigError(f"axes[{i}].n", "only for design = \"grid\"")
        paths = [a.path for a in self.axes]
        for i, p in enumerate(paths):
            if p in paths[:i]:
                raise ConfigError(f"axes[{i}].path", f"{p!r} is swept twice")
            if p in self.set:
                raise ConfigError(f"axes[{i}].path", f"{p!r} is also fixed in set")
        for m in self.metrics:
            if m not in METRIC_NAMES:
                raise ConfigError("metrics", f"unknown metric {m!r} (known: {', '.join(METRIC_NAMES)})")
        return self

    @property
    def own_seeds(self) -> bool:
        """True when the spec sets ``task.seeds`` itself (no derived seeds)."""
        return any(p == "task.seeds" or p.startswith("task.seeds[") for p in [*self.set, *(a.path for a in self.axes)])


# ---------------------------------------------------------------------------------------------- loading
def parse_spec(data: Any, base_dir: str | Path | None = None) -> "ResolvedSpec":
    """Validate a parsed spec document (and every point's config) -> :class:`ResolvedSpec`."""
    from hwsnn.config.errors import validate_into

    if not isinstance(data, dict):
        raise ConfigError("spec", "must be a TOML table")
    spec = validate_into(SweepSpec, data)
    if spec.own_seeds and spec.repeats != 1:
        raise ConfigError("repeats", "must be 1 when the spec sets task.seeds itself (repeats use derived seeds)")
    return ResolvedSpec(spec, _base_path(spec.base, Path(base_dir) if base_dir else None))


def load_spec(path: str | Path) -> "ResolvedSpec":
    """Read and validate a spec file (a path, or the name of a shipped spec in ``hwsnn/configs/sweeps``)."""
    from hwsnn.config import read_toml

    p = Path(path)
    if not p.exists() and "/" not in str(path):
        shipped = builtin_spec_path(str(path))
        if shipped is not None:
            p = shipped
    data = read_toml(p)
    return parse_spec(data, p.resolve().parent)


def builtin_spec_path(name: str) -> Path | None:
    """Path of the shipped spec ``name`` (``hwsnn/configs/sweeps/<name>.toml``), or None."""
    from importlib import resources

    stem = name[:-5] if name.endswith(".toml") else name
    p = resources.files("hwsnn").joinpath("configs", "sweeps", f"{stem}.toml")
    return Path(str(p)) if p.is_file() else None


def _base_path(base: str, base_dir: Path | None) -> Path:
    from hwsnn.config import list_config_presets, preset_path

    stem = base[:-5] if base.endswith(".toml") else base
    p = Path(base)
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    if p.is_file():
        return p.resolve()
    if "/" not in base and stem in list_config_presets():
        return preset_path(stem)
    raise ConfigError("base", f"no config file {base!r} and no shipped config of that name "
                              f"(known: {', '.join(list_config_presets())})")


# ---------------------------------------------------------------------------------------------- designs
def _axis_value(a: Axis, u: float) -> Any:
    if a.values is not None:
        return a.values[min(int(np.floor(u * len(a.values))), len(a.values) - 1)]
    if a.log:
        v = float(np.exp(np.log(a.low) + u * (np.log(a.high) - np.log(a.low))))
    else:
        v = float(a.low + u * (a.high - a.low))
    return int(round(v)) if a.integer else v


def _grid_values(a: Axis) -> list[Any]:
    if a.values is not None:
        return list(a.values)
    xs = np.geomspace(a.low, a.high, a.n) if a.log else np.linspace(a.low, a.high, a.n)
    return [int(round(x)) for x in xs] if a.integer else [float(x) for x in xs]


def unit_cube(design: str, n: int, d: int, seed: int) -> np.ndarray:
    """``n`` points in ``[0, 1)^d``: uniform (``random``) or a Latin hypercube (``lhs``)."""
    if design == "random":
        return np.random.default_rng(seed).random((n, d))
    if design == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=d, seed=seed).random(n)
    raise ValueError(design)


def design_points(spec: SweepSpec) -> list[tuple[Any, ...]]:
    """The points of the design, each a tuple of axis values (in axis order)."""
    if spec.design == "grid":
        return [tuple(p) for p in itertools.product(*(_grid_values(a) for a in spec.axes))]
    u = unit_cube(spec.design, spec.samples, len(spec.axes), spec.seed)
    return [tuple(_axis_value(a, float(x)) for a, x in zip(spec.axes, row)) for row in u]


def derive_seed(seed: int, point: int, repeat: int) -> int:
    """Run seed of repeat ``repeat`` of point ``point``: ``SeedSequence([seed, point, repeat])``'s first
    32-bit word, masked to 31 bits (``task.seeds`` takes 0 .. 2**31 - 1)."""
    word = np.random.SeedSequence([int(seed), int(point), int(repeat)]).generate_state(1, np.uint32)[0]
    return int(word) & 0x7FFFFFFF


def config_hash(plain: dict) -> str:
    """SHA-256 (16 hex digits) of a resolved config's canonical JSON."""
    return hashlib.sha256(json.dumps(plain, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Unit:
    """One unit of work: repeat ``repeat`` of point ``point`` with its resolved config."""

    point: int
    repeat: int
    seed: int
    values: tuple
    config: dict
    """The resolved config as plain data (what :func:`hwsnn.config.parse_config` accepts)."""
    config_hash: str

    @property
    def key(self) -> tuple[int, int]:
        return (self.point, self.repeat)


@dataclass
class ResolvedSpec:
    """A validated spec with its base config's path."""

    spec: SweepSpec
    base_path: Path

    @property
    def axes(self) -> list[Axis]:
        return list(self.spec.axes)

    def base_config(self):
        from hwsnn.config import load_config

        return load_config(self.base_path, dict(self.spec.set))

    def canonical(self) -> dict:
        """The spec as plain data with the base resolved (what a results folder records)."""
        d = self.spec.model_dump(mode="json")
        d["base"] = str(self.base_path)
        return d


def plan_units(rs: ResolvedSpec) -> list[Unit]:
    """Every (point, repeat) unit, each config validated; errors name the spec field or the point."""
    from hwsnn.config import load_config, to_plain

    spec = rs.spec
    try:
        base = rs.base_config()
    except ConfigError as exc:
        where = next((f"set.{k}" for k in spec.set if exc.field == k or exc.field.startswith(k + ".")), "base")
        raise ConfigError(where if where != "base" else f"base ({rs.base_path.name})", str(exc)) from None
    del base
    points = design_points(spec)
    # an axis path that is not a config field is reported against the axis, before any point
    for i, a in enumerate(spec.axes):
        probe = points[0][i]
        try:
            load_config(rs.base_path, {**spec.set, a.path: probe})
        except ConfigError as exc:
            if (exc.field == a.path or a.path.startswith(exc.field)) and exc.message.startswith(("unknown", "no such")):
                raise ConfigError(f"axes[{i}].path", f"no field {a.path!r} ({exc.field}: {exc.message})") from None
    units: list[Unit] = []
    for i, vals in enumerate(points):
        ov = {**spec.set, **{a.path: v for a, v in zip(spec.axes, vals)}}
        try:
            cfg = load_config(rs.base_path, ov)
        except ConfigError as exc:
            axis = next((k for k, a in enumerate(spec.axes)
                         if exc.field == a.path or exc.field.startswith(a.path + ".")), None)
            what = ", ".join(f"{a.path}={v!r}" for a, v in zip(spec.axes, vals))
            if axis is not None:
                a = spec.axes[axis]
                j = next((k for k, v in enumerate(a.values or []) if v == vals[axis]), None)
                where = f"axes[{axis}].values" + (f"[{j}]" if j is not None else "")
            else:
                where = f"points[{i}]"
            raise ConfigError(where, f"point {i} ({what}): {exc}") from None
        plain = to_plain(cfg)
        for r in range(spec.repeats):
            c = json.loads(json.dumps(plain))
            seed = int(c["task"]["seeds"][0]) if spec.own_seeds else derive_seed(spec.seed, 0 if spec.paired else i, r)
            if not spec.own_seeds:
                c["task"]["seeds"] = [seed]
            units.append(Unit(i, r, seed, tuple(vals), c, config_hash(c)))
    return units
