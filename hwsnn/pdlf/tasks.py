"""Inner-loop tasks of the learned-rule (PDLF) experiments: one episode = weights reset to zero,
plasticity on during the episode, a readout at its end.

Both tasks run a teacher-forced readout projection ``x -> y`` in :class:`hwsnn.snn.Network`:
``x`` is an input group of Poisson spikes, ``y`` an input group whose spikes are imposed (the
teacher: regular spikes of the target neuron, every ``teacher_period`` steps while a sample is
shown), so the projection's rule sees forced rasters on both sides.  The readout of a sample is
the input each output neuron would receive, ``s_j = sum_i n_i W_ij`` (``n_i`` the sample's input
spike counts); the prediction is ``argmax_j s_j``, a tie shared (a tie of ``k`` neurons that
includes the target counts ``1/k``), so all-equal weights score exactly chance.

* :class:`DigitsTask` -- few-shot digits: ``shots`` training images per class are shown with the
  teacher, then ``n_test`` other images are classified by the readout.  Images come from the
  project's digits split (training part for evolution, test part for the final evaluation).
* :class:`MemoryTask` -- cue-recall working memory: ``n_items`` random sparse cue patterns, each
  paired with a random target (drawn anew every episode), are shown with the teacher; after
  ``latency`` silent steps every cue is shown alone and its target must be recalled.  The pairing
  changes every episode, so any fixed weight matrix scores chance on average; the weights must
  change during the episode.

The evolved coefficients are per layer (``coefficient_scope = "layer"``: one ``A, B, C, D``
for the projection, a genome of 4 or 2 numbers) or per synapse (``"synapse"``: an ``n_in x
n_out`` matrix of each, as in the authors' ``MetaStdpMLPPolicy``; genome coefficient-major, each
matrix row-major).

A *learner* is what runs in the episode: ``("rule", coefficients)`` -- the learned rule
(:func:`hwsnn.engine.rules.pdlf.pdlf_rules`, with ``lr`` of the task and the genome's ``D``
times ``d_scale``); ``("stdp", None)`` -- hand-designed pair STDP
(:class:`hwsnn.engine.rules.stdp.PairSTDP`) with the same normalisation; ``("weights", W)`` --
fixed weights, no plasticity (directly evolved weights).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError

from hwsnn.engine.contract import Params
from hwsnn.errors import ConfigError
from hwsnn.rng import uniform_array
from hwsnn.snn.encoders import poisson_raster

__all__ = ["DigitsTask", "MemoryTask", "Episode", "run_episode", "make_episode", "readout", "genome_names",
           "genome_size", "projection_shape", "coefficients", "task_from_dict", "params_from_dict", "TASKS"]

_STREAM_PICK = 0x5044_4C01
_STREAM_SPIKES = 0x5044_4C02
_STREAM_CUES = 0x5044_4C03


def genome_names(variant: str) -> tuple[str, ...]:
    """The evolved coefficients of a rule variant, in genome order."""
    return ("A", "B", "C", "D") if variant == "ABCD" else ("B", "D")


def projection_shape(task) -> tuple[int, int]:
    """``(n_in, n_out)`` of the task's readout projection."""
    if isinstance(task, MemoryTask):
        return task.n_in, task.n_out
    x, _ = _digits("train")
    return x.shape[1], task.n_classes


def genome_size(task) -> int:
    """Coordinates of the learned rule's genome: one per evolved coefficient, times the synapses
    for ``coefficient_scope = "synapse"``."""
    n = len(genome_names(task.variant))
    if task.coefficient_scope == "synapse":
        n_in, n_out = projection_shape(task)
        n *= n_in * n_out
    return n


def coefficients(genome, variant: str, shape: tuple[int, int] | None = None) -> dict:
    """Genome -> ``{"A", "B", "C", "D"}`` (the coefficients a variant does not evolve are 0):
    numbers, or with ``shape = (n_in, n_out)`` matrices (per-synapse genome, coefficient-major)."""
    names = genome_names(variant)
    g = np.asarray(genome, np.float64).ravel()
    per = 1 if shape is None else int(shape[0]) * int(shape[1])
    if g.shape[0] != len(names) * per:
        what = f"{len(names)} coefficients {names}" + ("" if shape is None else f" x {shape[0]} x {shape[1]} synapses")
        raise ConfigError("genome", f"variant {variant} has {what}, got {g.shape[0]} values")
    if shape is None:
        out = {"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}
        out.update({k: float(v) for k, v in zip(names, g)})
        return out
    out = {k: np.zeros(shape) for k in ("A", "B", "C", "D")}
    out.update({k: g[n * per:(n + 1) * per].reshape(shape).copy() for n, k in enumerate(names)})
    return out


class _Task(Params):
    dt: float = Field(1e-3, gt=0)
    """Time step (s)."""
    steps: int = Field(20, ge=1)
    """Steps a sample (image or cue) is shown."""
    gap: int = Field(5, ge=0)
    """Silent steps after each sample (the traces fall back before the next one)."""
    rate: float = Field(100.0, gt=0)
    """Poisson rate of a fully active input (Hz)."""
    teacher_period: int = Field(2, ge=1)
    """The target neuron is forced to spike every ``teacher_period`` steps while a sample is shown."""
    lr: float = Field(0.05, ge=0)
    """Learning rate of the learned rule (its ``lr``; the evolved coefficients scale it)."""
    tau: float = Field(0.005, gt=0)
    """Activity trace time constant of the learned rule and of the STDP baseline (s)."""
    d_scale: float = Field(0.01, gt=0)
    """The rule's ``D`` is the genome's ``D`` times ``d_scale`` (``D`` acts on every synapse at
    every step, the other terms only at spikes: this puts the genome's coordinates on one scale)."""
    variant: Literal["ABCD", "BD"] = "ABCD"
    """Rule variant evolved: ``"ABCD"`` (A, B, C, D) or ``"BD"`` (B, D)."""
    coefficient_scope: Literal["layer", "synapse"] = "layer"
    """``"layer"``: one value of each evolved coefficient for the projection; ``"synapse"``: one
    per synapse (``n_in x n_out`` of each, the genome grows by that factor)."""
    stdp_a_plus: float = Field(0.05, ge=0)
    """Hand-designed STDP baseline: potentiation per post spike at full pre trace."""
    stdp_a_minus: float = Field(0.02, ge=0)
    """Hand-designed STDP baseline: depression per pre spike at full post trace."""
    fitness_beta: float = Field(20.0, gt=0)
    """Fitness = mean softmax probability of the target, ``softmax(beta * s / S)``, ``S`` the
    sample's input spike count (a smooth stand-in for the accuracy)."""


class DigitsTask(_Task):
    """Few-shot digits classification with a teacher-forced readout (module docstring)."""

    name: Literal["digits"] = "digits"
    n_classes: int = Field(10, ge=2, le=10)
    """Classes used (digits ``0 .. n_classes-1``)."""
    shots: int = Field(3, ge=1)
    """Training images per class shown in an episode."""
    n_test: int = Field(40, ge=1)
    """Images classified at the end of an episode."""
    threshold: float = Field(0.25, ge=0, le=1)
    """Pixels (in ``[0, 1]``) at or below this value do not spike."""


class MemoryTask(_Task):
    """Cue-recall working memory with a latency (module docstring)."""

    name: Literal["memory"] = "memory"
    n_items: int = Field(4, ge=2)
    """Cue-target pairs shown per episode (sequence length)."""
    n_out: int = Field(4, ge=2)
    """Output neurons (possible targets); chance is ``1 / n_out``."""
    n_in: int = Field(32, ge=2)
    """Input neurons."""
    n_active: int = Field(6, ge=1)
    """Active inputs per cue pattern."""
    latency: int = Field(50, ge=0)
    """Silent steps between the last studied pair and the recall."""


TASKS = {"digits": DigitsTask, "memory": MemoryTask}


def params_from_dict(cls, data, field: str):
    """``cls`` (a :class:`~hwsnn.engine.contract.Params`) validated from a TOML table; the first
    error becomes a :class:`~hwsnn.errors.ConfigError` naming ``field.<name>``."""
    if not isinstance(data, dict):
        raise ConfigError(field, f"must be a table, not {type(data).__name__}")
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(".".join([field] + [str(x) for x in err["loc"]]), msg) from None


def task_from_dict(data: dict, field: str = "task"):
    """A validated task from a TOML table (``name = "digits" | "memory"``); errors name the field."""
    if not isinstance(data, dict):
        raise ConfigError(field, f"must be a table, not {type(data).__name__}")
    name = data.get("name", "digits")
    if name not in TASKS:
        raise ConfigError(f"{field}.name", f"unknown task {name!r} (known: {', '.join(TASKS)})")
    return params_from_dict(TASKS[name], data, field)


# ---------------------------------------------------------------------------------------------
class Episode:
    """The rasters of one episode: study phase (``x``, ``y``: ``(T, n)`` uint8), latency, and the
    recall/test inputs (``test_counts``: ``(n_test, n_in)`` spike counts, ``test_labels``)."""

    def __init__(self, x, y, latency, test_counts, test_labels, n_out):
        self.x, self.y, self.latency = x, y, int(latency)
        self.test_counts, self.test_labels, self.n_out = test_counts, test_labels, int(n_out)


def _perm(seed: int, stream: int, n: int, counter: int = 0) -> np.ndarray:
    return np.argsort(uniform_array(int(seed), stream, n, counter), kind="stable")


@lru_cache(maxsize=2)
def _digits(split: str):
    from hwsnn.tasks.datasets import load_dataset

    ds = load_dataset("digits", seed=0)
    return (ds.x_train, ds.y_train) if split == "train" else (ds.x_test, ds.y_test)


def _teacher(n_steps: int, n_out: int, target: int, period: int) -> np.ndarray:
    y = np.zeros((n_steps, n_out), np.uint8)
    y[period - 1::period, target] = 1
    return y


def _study(task, patterns, targets, n_out, seed) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated study rasters: each pattern's Poisson spikes with the teacher, then a gap."""
    xs, ys = [], []
    for k, (p, t) in enumerate(zip(patterns, targets)):
        x = poisson_raster(p * task.rate, task.steps + task.gap, task.dt, seed, stream=_STREAM_SPIKES,
                           counter0=k * (task.steps + task.gap))
        x[task.steps:] = 0
        y = np.zeros((task.steps + task.gap, n_out), np.uint8)
        y[:task.steps] = _teacher(task.steps, n_out, int(t), task.teacher_period)
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def _counts(task, patterns, seed, counter0) -> np.ndarray:
    out = np.zeros((len(patterns), patterns[0].shape[0]), np.int64)
    for k, p in enumerate(patterns):
        out[k] = poisson_raster(p * task.rate, task.steps, task.dt, seed, stream=_STREAM_SPIKES,
                                counter0=counter0 + k * task.steps).sum(axis=0)
    return out


def make_episode(task, seed: int, split: str = "train") -> Episode:
    """The episode of ``task`` for ``seed`` (a pure function of both); ``split`` picks the digits
    pool (``"train"`` for evolution, ``"test"`` for the final evaluation)."""
    if isinstance(task, DigitsTask):
        if split not in ("train", "test"):
            raise ConfigError("split", f"must be 'train' or 'test', not {split!r}")
        x, y = _digits(split)
        keep = np.flatnonzero(y < task.n_classes)
        order = keep[_perm(seed, _STREAM_PICK, keep.shape[0])]
        train = []
        for c in range(task.n_classes):
            idx = order[y[order] == c]
            if idx.shape[0] < task.shots:
                raise ConfigError("task.shots", f"class {c} has only {idx.shape[0]} images in the {split} split")
            train.extend(int(i) for i in idx[:task.shots])
        shown = train[:]
        train = [train[k] for k in _perm(seed, _STREAM_PICK + 1, len(train))]
        rest = [int(i) for i in order if int(i) not in set(shown)]
        if len(rest) < task.n_test:
            raise ConfigError("task.n_test", f"only {len(rest)} images remain in the {split} split")
        test = rest[:task.n_test]
        pats = [np.where(x[i] > task.threshold, x[i], 0.0) for i in train]
        xs, ys = _study(task, pats, [y[i] for i in train], task.n_classes, seed)
        tp = [np.where(x[i] > task.threshold, x[i], 0.0) for i in test]
        counts = _counts(task, tp, seed, xs.shape[0] + 1_000_000)
        return Episode(xs, ys, 0, counts, np.array([y[i] for i in test], np.int64), task.n_classes)
    if isinstance(task, MemoryTask):
        if task.n_active > task.n_in:
            raise ConfigError("task.n_active", f"must be <= task.n_in ({task.n_in}), not {task.n_active}")
        pats = []
        for k in range(task.n_items):
            p = np.zeros(task.n_in)
            p[_perm(seed, _STREAM_CUES, task.n_in, counter=k * task.n_in)[:task.n_active]] = 1.0
            pats.append(p)
        u = uniform_array(int(seed), _STREAM_CUES + 1, task.n_items)
        targets = np.minimum((u * task.n_out).astype(np.int64), task.n_out - 1)
        xs, ys = _study(task, pats, targets, task.n_out, seed)
        counts = _counts(task, pats, seed, xs.shape[0] + task.latency + 1_000_000)
        return Episode(xs, ys, task.latency, counts, targets, task.n_out)
    raise ConfigError("task", f"unknown task {type(task).__name__}")


def readout(w: np.ndarray, counts: np.ndarray, labels: np.ndarray, beta: float) -> tuple[float, float]:
    """``(accuracy, fitness)`` of weights ``w`` (``n_in x n_out``) on the recall/test counts (module
    docstring: ties shared; fitness = mean softmax probability of the target)."""
    s = counts @ w
    tot = np.maximum(counts.sum(axis=1, keepdims=True), 1)
    z = beta * s / tot
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    rows = np.arange(labels.shape[0])
    top = s == s.max(axis=1, keepdims=True)
    acc = np.where(top[rows, labels], 1.0 / top.sum(axis=1), 0.0)
    return float(acc.mean()), float(p[rows, labels].mean())


def _learner_rules(task, learner):
    from hwsnn.engine.rules.pdlf import PDLFNorm, pdlf_rules
    from hwsnn.engine.rules.stdp import PairSTDP

    kind, value = learner
    if kind == "rule":
        if isinstance(value, dict):
            c = value
        else:
            shape = projection_shape(task) if task.coefficient_scope == "synapse" else None
            c = coefficients(value, task.variant, shape)
        return list(pdlf_rules(task.lr, c["A"], c["B"], c["C"], np.asarray(c["D"], np.float64) * task.d_scale,
                               variant=task.variant, tau_pre=task.tau, tau_post=task.tau))
    if kind == "stdp":
        return [PairSTDP(a_plus=task.stdp_a_plus, a_minus=task.stdp_a_minus, tau_pre=task.tau, tau_post=task.tau),
                PDLFNorm()]
    raise ConfigError("learner", f"unknown learner {kind!r} (rule, stdp, weights)")


def run_episode(task, learner, seed: int, *, split: str = "train", synapse="ideal", fast=None) -> dict:
    """One episode; returns ``{"accuracy", "fitness", "w"}`` (``w`` the weights read out).

    ``learner``: ``("rule", genome or coefficient dict)``, ``("stdp", None)`` or ``("weights",
    W)``; ``synapse``: the network's synapse backend (``"ideal"``, ``"int"``); ``fast``: a
    :class:`hwsnn.pdlf.fastweights.FastWeights` that holds the weights in the devices' volatile
    state instead (:mod:`hwsnn.pdlf.fastweights`).
    """
    ep = make_episode(task, seed, split)
    kind = learner[0]
    if kind == "weights":
        w = np.asarray(learner[1], np.float64)
        n_in = ep.test_counts.shape[1]
        if w.shape != (n_in, ep.n_out):
            raise ConfigError("weights", f"must have shape ({n_in}, {ep.n_out}), not {w.shape}")
    elif fast is not None:
        w = fast.run(task, ep, _learner_rules(task, learner), seed)
    else:
        from hwsnn.snn import Network

        net = Network(dt=task.dt, synapse=synapse, seed=int(seed) & 0x7FFFFFFF)
        net.add_input("x", ep.x.shape[1])
        net.add_input("y", ep.n_out)
        proj = net.connect("x", "y", w=0.0, rules=_learner_rules(task, learner))
        net.run(ep.x.shape[0], inputs={"x": ep.x, "y": ep.y})
        if ep.latency:
            net.run(ep.latency)
        w = proj.weights()
    acc, fit = readout(w, ep.test_counts, ep.test_labels, task.fitness_beta)
    return {"accuracy": acc, "fitness": fit, "w": w}
