"""Typed, validated configuration of ``hwsnn cosim`` (TOML), presets, and the bench job file.

A config file has a ``[cosim]`` section and optional ``[core]`` (``LearningCoreParams`` fields,
with ``[core.lif]``/``[core.trace]``/``[core.update]``), ``[device]`` (``DeviceParams`` fields
overriding the preset's device), ``[crossbar]`` (``mapping``/``io``/``update`` sections,
overriding the preset's) and ``[digits]`` (end-to-end task).  Every error is a
:class:`~hwsnn.errors.ConfigError` naming the dotted field (``cosim.timesteps``,
``core.lif.THETA_BASE``, ``crossbar.io.adc_bits``, ...).

Presets (``cosim.preset``) fix device, crossbar and core adjustments:

- ``ideal`` -- the ideal device (linear, no noise, no spread, no drift), 8-bit ADC;
- ``quantised`` -- the ideal device with only 32 pulses across its window, 32-level shadow weights
  (``update.W_MAX = 32``) and a 6-bit ADC: coarse weights and coarse reads;
- ``sto`` -- the STO-v0 device with every non-ideality on (nonlinear response, cycle-to-cycle and
  device-to-device variation, 1 % read noise, drift, volatile state), 8-bit ADC.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from hwsnn.crossbar import CrossbarConfig
from hwsnn.devices import DeviceParams, get_preset
from hwsnn.errors import ConfigError
from hwsnn.spec.core import LearningCoreParams

__all__ = ["PRESETS", "DIGITS_CORE", "CosimConfig", "DigitsConfig", "Job", "load_config", "config_from_dict", "make_core",
           "make_device", "make_crossbar", "agent_from_job", "load_job", "write_job", "random_inputs"]

SIMS = ("verilator", "icarus")
TASKS = ("random", "digits")

_CORE = {"W_INIT_MAX": 40, "INHIB": 400,
         "lif": {"THETA_STEP": 128, "LEVELS": 8, "RATE_HI": 1, "RATE_LO": 1, "WINDOW": 40}}
_IO8 = {"io": {"adc_bits": 8, "adc_range": (0.0, 8.0)}}

PRESETS: dict[str, dict] = {
    "ideal": {"device": ("ideal", {}), "crossbar": _IO8, "core": _CORE},
    "quantised": {
        "device": ("ideal", {"p_max": 32.0}),
        "crossbar": {"io": {"adc_bits": 6, "adc_range": (0.0, 8.0)}},
        "core": {**_CORE, "ADC_BITS": 6, "ISYN_MUL": 6, "ISYN_SHIFT": 0, "W_INIT_MAX": 12, "update": {"W_MAX": 32}},
    },
    "sto": {"device": ("sto", {}), "crossbar": _IO8, "core": _CORE},
}
"""Preset name -> ``device`` (base preset, overrides), ``crossbar`` sections, ``core`` overrides."""

_DIGITS_CORE = {"INHIB": 400, "WTA": 1, "RULE": 1, "X_TH": 160, "INSTAR_SHIFT": 2, "IP_EN": 2, "W_INIT_MAX": 60,
                "ISYN_MUL": 3, "ISYN_SHIFT": 2,
                "lif": {"THETA_BASE": 128, "THETA_STEP": 64, "LEVELS": 8, "WINDOW": 40, "RATE_HI": 2, "RATE_LO": 0}}
DIGITS_CORE: dict[str, dict] = {
    "ideal": _DIGITS_CORE,
    "quantised": {**_DIGITS_CORE, "ISYN_MUL": 3, "ISYN_SHIFT": 0, "W_INIT_MAX": 19},
    "sto": {**_DIGITS_CORE, "ISYN_MUL": 5, "ISYN_SHIFT": 3},  # its nonlinear SETs overshoot: lower gain
}
"""Core adjustments of ``cosim.task = "digits"`` per preset, applied over the preset's and under the
config's ``[core]``: competitive learning -- winner-take-all inhibition (``WTA``), the instar rule,
threshold levels that rise with a neuron's wins and are frozen while evaluating (``IP_EN = 2``)."""


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _prefixed(prefix: str, fn, *a, **kw):
    try:
        return fn(*a, **kw)
    except ConfigError as exc:
        f = exc.field
        raise ConfigError(f"{prefix}.{f}" if not f.startswith(prefix + ".") else f, exc.message) from None
    except TypeError as exc:
        raise ConfigError(prefix, str(exc)) from None


def make_core(preset: str, overrides: dict | None = None, task: str = "random") -> LearningCoreParams:
    base = PRESETS[preset]["core"]
    if task == "digits":
        base = _merge(base, DIGITS_CORE[preset])
    d = _merge(base, overrides or {})
    return _prefixed("core", LearningCoreParams.from_dict, d)


def make_device(preset: str, overrides: dict | None = None) -> DeviceParams:
    base, over = PRESETS[preset]["device"]
    return _prefixed("device", DeviceParams.from_dict, {**over, **(overrides or {})}, base=get_preset(base))


def make_crossbar(preset: str, overrides: dict | None = None) -> CrossbarConfig:
    d = _merge(PRESETS[preset]["crossbar"], overrides or {})
    return _prefixed("crossbar", CrossbarConfig.from_dict, d)


def _check(section: str, name: str, v, kind, lo=None, hi=None):
    f = f"{section}.{name}"
    if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
        raise ConfigError(f, f"must be an integer, not {v!r}")
    if kind is float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f, f"must be a finite number, not {v!r}")
    if kind is bool and not isinstance(v, bool):
        raise ConfigError(f, f"must be true or false, not {v!r}")
    if lo is not None and v < lo:
        raise ConfigError(f, f"must be >= {lo}, not {v}")
    if hi is not None and v > hi:
        raise ConfigError(f, f"must be <= {hi}, not {v}")


@dataclass(frozen=True, kw_only=True)
class DigitsConfig:
    """End-to-end 8x8 digits task (``cosim.task = "digits"``)."""

    train_samples: int = 100
    """Training presentations (learning on)."""
    test_samples: int = 100
    """Evaluation presentations (learning off; labels assigned from the training responses)."""
    steps_per_sample: int = 30
    """Timesteps each digit is shown."""
    rest_steps: int = 10
    """Silent timesteps after each digit (traces and membranes relax)."""
    max_rate: float = 0.3
    """Spike probability per timestep of a full-intensity pixel (Bernoulli rate coding)."""
    seed: int = 0
    """Sample order and spike trains."""

    def __post_init__(self):
        s = "digits"
        _check(s, "train_samples", self.train_samples, int, 1, 1797)
        _check(s, "test_samples", self.test_samples, int, 1, 1797)
        _check(s, "steps_per_sample", self.steps_per_sample, int, 1)
        _check(s, "rest_steps", self.rest_steps, int, 0)
        _check(s, "max_rate", self.max_rate, float, 0.0, 1.0)
        _check(s, "seed", self.seed, int, 0)
        if self.train_samples + self.test_samples > 1797:
            raise ConfigError("digits.test_samples", "train_samples + test_samples must be <= 1797")


@dataclass(frozen=True, kw_only=True)
class CosimConfig:
    """The whole ``hwsnn cosim`` configuration."""

    preset: str = "sto"
    """One of :data:`PRESETS`."""
    task: str = "random"
    """``random`` (Bernoulli input spikes, equivalence run) or ``digits`` (end-to-end learning)."""
    timesteps: int = 2000
    """Timesteps of a ``random`` run."""
    input_rate: float = 0.05
    """Spike probability per input row per timestep (``random``)."""
    input_seed: int = 1
    """Seed of the random input spikes."""
    seed: int = 0
    """Seed of the device array and crossbar draws."""
    dt: float = 1e-3
    """Array time per timestep (s)."""
    read_latency: int = 2
    """Cycles between accepting a read request and offering its response."""
    backpressure: float = 0.0
    """Probability that the agent holds a ready low (1-3 cycles) when a beat is offered (0: the
    agent is always ready and takes the fast path, one wake-up per beat)."""
    bench_seed: int = 1
    """Seed of the back-pressure pattern."""
    snapshot_every: int = 500
    """Conductance snapshot period in timesteps (0 = final only)."""
    sim: str = "verilator"
    """``verilator`` or ``icarus``."""
    check: bool = True
    """Run the golden co-simulation and compare exactly."""
    core: LearningCoreParams = field(default_factory=LearningCoreParams)
    device: DeviceParams = field(default_factory=DeviceParams)
    crossbar: CrossbarConfig = field(default_factory=CrossbarConfig)
    digits: DigitsConfig = field(default_factory=DigitsConfig)

    def __post_init__(self):
        s = "cosim"
        if self.preset not in PRESETS:
            raise ConfigError("cosim.preset", f"unknown preset {self.preset!r}; known: {', '.join(PRESETS)}")
        if self.task not in TASKS:
            raise ConfigError("cosim.task", f"must be one of {TASKS}, not {self.task!r}")
        if self.sim not in SIMS:
            raise ConfigError("cosim.sim", f"must be one of {SIMS}, not {self.sim!r}")
        _check(s, "timesteps", self.timesteps, int, 1)
        _check(s, "input_rate", self.input_rate, float, 0.0, 1.0)
        _check(s, "input_seed", self.input_seed, int, 0)
        _check(s, "seed", self.seed, int, 0)
        _check(s, "dt", self.dt, float, 0.0)
        _check(s, "read_latency", self.read_latency, int, 0, 1000)
        _check(s, "backpressure", self.backpressure, float, 0.0, 0.95)
        _check(s, "bench_seed", self.bench_seed, int, 0)
        _check(s, "snapshot_every", self.snapshot_every, int, 0)
        _check(s, "check", self.check, bool)
        if self.crossbar.io.adc_bits != self.core.ADC_BITS:
            raise ConfigError("crossbar.io.adc_bits", f"must equal core.ADC_BITS={self.core.ADC_BITS}, not {self.crossbar.io.adc_bits}")

    def summary(self) -> dict:
        return {k: getattr(self, k) for k in ("preset", "task", "timesteps", "input_rate", "input_seed", "seed", "dt",
                                              "read_latency", "backpressure", "sim")}


_COSIM_FIELDS = {f.name for f in fields(CosimConfig)} - {"core", "device", "crossbar", "digits"}


def config_from_dict(d: dict, **cli) -> CosimConfig:
    """Build a :class:`CosimConfig` from parsed TOML (plus CLI overrides of ``cosim`` fields)."""
    if not isinstance(d, dict):
        raise ConfigError("config", "must be a table")
    for k in d:
        if k not in ("cosim", "core", "device", "crossbar", "digits"):
            raise ConfigError(k, "unknown section; known: cosim, core, device, crossbar, digits")
    top = dict(d.get("cosim", {}))
    for k in top:
        if k not in _COSIM_FIELDS:
            raise ConfigError(f"cosim.{k}", f"unknown field; known: {', '.join(sorted(_COSIM_FIELDS))}")
    top.update({k: v for k, v in cli.items() if v is not None})
    preset = top.get("preset", "sto")
    if preset not in PRESETS:
        raise ConfigError("cosim.preset", f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    dg = d.get("digits", {})
    known = {f.name for f in fields(DigitsConfig)}
    for k in dg:
        if k not in known:
            raise ConfigError(f"digits.{k}", f"unknown field; known: {', '.join(sorted(known))}")
    core = make_core(preset, d.get("core"), top.get("task", "random"))
    return CosimConfig(**top, core=core, device=make_device(preset, d.get("device")),
                       crossbar=make_crossbar(preset, d.get("crossbar")), digits=DigitsConfig(**dg))


def load_config(path: str | None, **cli) -> CosimConfig:
    """Read a TOML config (None = all defaults); errors name the field."""
    if path is None:
        return config_from_dict({}, **cli)
    p = Path(path)
    if not p.is_file():
        raise ConfigError("CONFIG", f"file not found: {path}")
    try:
        d = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("CONFIG", f"{path} is not valid TOML ({exc})") from None
    return config_from_dict(d, **cli)


def random_inputs(cfg: CosimConfig) -> np.ndarray:
    """``(timesteps, M)`` Bernoulli input spikes of a ``random`` run."""
    rng = np.random.default_rng(cfg.input_seed)
    return (rng.random((cfg.timesteps, cfg.core.M)) < cfg.input_rate).astype(np.int8)


# -- the bench job (what the cocotb process needs) ---------------------------------------------
@dataclass
class Job:
    core: LearningCoreParams
    preset: str
    device: DeviceParams
    crossbar: CrossbarConfig
    seed: int
    dt: float
    in_spikes: np.ndarray
    read_latency: int = 0
    backpressure: float = 0.0
    bench_seed: int = 1
    snapshot_every: int = 0
    check: bool = True
    record: str | None = None
    learn: np.ndarray | None = None
    """Per-timestep ``in_learn`` (None = all 1)."""

    def learn_array(self) -> np.ndarray:
        return np.ones(self.timesteps, np.int8) if self.learn is None else np.asarray(self.learn, np.int8)

    @property
    def timesteps(self) -> int:
        return int(self.in_spikes.shape[0])


def write_job(path: Path, job: Job) -> Path:
    path = Path(path)
    np.save(path.with_suffix(".spikes.npy"), np.asarray(job.in_spikes, np.int8))
    np.save(path.with_suffix(".learn.npy"), job.learn_array())
    d = {
        "core": job.core.to_dict(), "preset": job.preset, "device": job.device.as_dict(),
        "crossbar": job.crossbar.as_dict(), "seed": job.seed, "dt": job.dt, "read_latency": job.read_latency,
        "backpressure": job.backpressure, "bench_seed": job.bench_seed, "snapshot_every": job.snapshot_every,
        "check": job.check, "record": job.record, "spikes": str(path.with_suffix(".spikes.npy")),
        "learn": str(path.with_suffix(".learn.npy")),
    }
    path.write_text(json.dumps(d))
    return path


def load_job(path) -> Job:
    d = json.loads(Path(path).read_text())
    xb = d["crossbar"]
    if xb["io"].get("adc_range") is not None:
        xb["io"]["adc_range"] = tuple(xb["io"]["adc_range"])
    return Job(core=LearningCoreParams.from_dict(d["core"]), preset=d["preset"], device=DeviceParams.from_dict(d["device"]),
               crossbar=CrossbarConfig.from_dict(xb), seed=d["seed"], dt=d["dt"],
               in_spikes=np.load(d["spikes"]).astype(np.int64), read_latency=d["read_latency"],
               backpressure=d["backpressure"], bench_seed=d["bench_seed"], snapshot_every=d["snapshot_every"],
               check=d["check"], record=d["record"], learn=np.load(d["learn"]).astype(np.int64))


def agent_from_job(job: Job):
    from hwsnn.cosim.agent import CrossbarAgent

    return CrossbarAgent(job.core, job.device, job.crossbar, seed=job.seed, dt=job.dt)


_ = dataclasses
