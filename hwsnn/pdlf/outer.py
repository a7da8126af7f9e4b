"""Outer loops of the learned-rule experiments: PGPE and CMA-ES on a fitness evaluated in parallel.

**PGPE** (:class:`PGPE`), with the settings of the rule-learning literature as defaults
(:class:`PGPESettings`): a population of ``pop_size`` = ``2 n`` genomes ``mu +- eps_k``,
``eps_k ~ N(0, sigma^2)`` per coordinate (antithetic pairs); the fitnesses are turned into
centred ranks in ``[-0.5, 0.5]`` (:func:`centered_ranks`); the mean follows Adam (ascent) on
``g_mu = mean_k eps_k (r_k+ - r_k-) / 2``; the standard deviations move by
``std_lr * g_sigma``, ``g_sigma = mean_k ((r_k+ + r_k-)/2 - mean(r)) (eps_k^2 - sigma^2) / sigma``,
each change clipped to ``+-std_max_change`` of the current value.  The noise comes from the
counter-based generator (:func:`hwsnn.rng.normal_array`, keyed by the seed and the generation).

**CMA-ES** (:func:`cma_es`): the ``cma`` package's ``CMAEvolutionStrategy`` (minimising the
negative fitness) with its own seeded sampler.

**Evaluation** (:func:`evolve`): every generation's genomes are evaluated by
:func:`evaluate_genome` -- the mean fitness over ``episodes`` episodes whose seeds depend only on
(run seed, generation), so all genomes of a generation see the same episodes -- on the sweep
executors (:func:`hwsnn.sweep.work.open_executor`: this process, a local process pool or Dask);
the results are put back in genome order, so a run is the same for any number of workers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Literal

import numpy as np
from pydantic import Field, field_validator

from hwsnn.engine.contract import Params
from hwsnn.errors import ConfigError
from hwsnn.rng import normal_array
from hwsnn.sweep.spec import derive_seed

__all__ = ["PGPESettings", "PGPE", "CMASettings", "centered_ranks", "evolve", "evaluate_genome", "EvolveResult",
           "cma_es", "episode_seeds", "EvolveConfig", "EvaluateConfig", "ExperimentConfig", "load_experiment",
           "run_experiment"]

_STREAM_PGPE = 0x5047_5045


def centered_ranks(f) -> np.ndarray:
    """Ranks of ``f`` scaled to ``[-0.5, 0.5]`` (lowest -0.5, highest +0.5; ties broken by position)."""
    f = np.asarray(f, np.float64).ravel()
    n = f.shape[0]
    if n < 2:
        return np.zeros(n)
    r = np.empty(n)
    r[np.argsort(f, kind="stable")] = np.arange(n)
    return r / (n - 1) - 0.5


class PGPESettings(Params):
    """PGPE settings (defaults: the rule-learning literature's)."""

    pop_size: int = Field(256, ge=2)
    """Genomes per generation (even: ``pop_size / 2`` antithetic pairs)."""
    center_lr: float = Field(0.01, gt=0)
    """Adam step size of the mean."""
    std_lr: float = Field(0.07, ge=0)
    """Step size of the standard deviations."""
    init_std: float = Field(0.04, gt=0)
    """Initial standard deviation of every coordinate."""
    std_max_change: float = Field(0.2, gt=0, le=1)
    """Largest relative change of a standard deviation per generation."""
    beta1: float = Field(0.9, ge=0, lt=1)
    """Adam first-moment decay."""
    beta2: float = Field(0.999, ge=0, lt=1)
    """Adam second-moment decay."""
    eps: float = Field(1e-8, gt=0)
    """Adam epsilon."""
    init_mean: float = 0.0
    """Initial mean of every coordinate."""

    @field_validator("pop_size")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError(f"must be even (antithetic pairs), got {v}")
        return v


class PGPE:
    """Ask/tell PGPE (module docstring) on ``dim`` coordinates, seeded."""

    def __init__(self, dim: int, settings: PGPESettings | None = None, seed: int = 0, x0=None):
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ConfigError("dim", f"must be a positive integer, not {dim!r}")
        self.s = settings or PGPESettings()
        self.dim, self.seed = int(dim), int(seed)
        self.mu = np.full(self.dim, float(self.s.init_mean)) if x0 is None else np.array(x0, np.float64).ravel()
        if self.mu.shape[0] != self.dim:
            raise ConfigError("x0", f"must have {self.dim} values, not {self.mu.shape[0]}")
        self.sigma = np.full(self.dim, float(self.s.init_std))
        self.m = np.zeros(self.dim)
        self.v = np.zeros(self.dim)
        self.t = 0
        self._eps = None

    def ask(self) -> np.ndarray:
        """The generation's genomes, ``(pop_size, dim)``: rows ``2k`` = ``mu + eps_k``, ``2k+1`` =
        ``mu - eps_k``."""
        n = self.s.pop_size // 2
        z = normal_array(self.seed, _STREAM_PGPE, n * self.dim, counter=self.t * n * self.dim).reshape(n, self.dim)
        self._eps = z * self.sigma
        out = np.empty((2 * n, self.dim))
        out[0::2] = self.mu + self._eps
        out[1::2] = self.mu - self._eps
        return out

    def tell(self, fitness) -> None:
        """Update from the fitnesses of :meth:`ask`'s genomes (higher is better)."""
        f = np.asarray(fitness, np.float64).ravel()
        if self._eps is None or f.shape[0] != 2 * self._eps.shape[0]:
            raise ConfigError("fitness", f"needs {self.s.pop_size} values for the last ask(), got {f.shape[0]}")
        if not np.all(np.isfinite(f)):
            raise ConfigError("fitness", "must be finite")
        r = centered_ranks(f)
        rp, rm = r[0::2], r[1::2]
        eps = self._eps
        g_mu = (eps * ((rp - rm) / 2.0)[:, None]).mean(axis=0)
        s = self.s
        self.t += 1
        self.m = s.beta1 * self.m + (1 - s.beta1) * g_mu
        self.v = s.beta2 * self.v + (1 - s.beta2) * g_mu * g_mu
        mh = self.m / (1 - s.beta1 ** self.t)
        vh = self.v / (1 - s.beta2 ** self.t)
        self.mu = self.mu + s.center_lr * mh / (np.sqrt(vh) + s.eps)
        base = r.mean()
        g_sig = ((((rp + rm) / 2.0 - base)[:, None]) * (eps * eps - self.sigma ** 2) / self.sigma).mean(axis=0)
        step = s.std_lr * g_sig
        lim = s.std_max_change * self.sigma
        self.sigma = self.sigma + np.clip(step, -lim, lim)
        self._eps = None


class CMASettings(Params):
    """CMA-ES settings (``cma`` package)."""

    pop_size: int = Field(16, ge=2)
    """Genomes per generation (``popsize``)."""
    sigma0: float = Field(0.3, gt=0)
    """Initial step size."""


def episode_seeds(seed: int, generation: int, episodes: int) -> list[int]:
    """Seeds of a generation's episodes (the same for every genome of the generation)."""
    return [derive_seed(seed, generation, k) for k in range(episodes)]


def evaluate_genome(task: dict) -> dict:
    """Unit of work: ``task`` = ``{"task": task table, "learner": kind, "genome": list, "seeds":
    list, "split", "synapse", "index"}`` -> ``{"index", "fitness", "accuracy"}`` (means over the
    episodes).  Module level and picklable (it runs on the sweep executors)."""
    from hwsnn.pdlf.tasks import run_episode, task_from_dict

    t = task_from_dict(task["task"])
    g = np.asarray(task["genome"], np.float64)
    kind = task["learner"]
    if kind == "weights":
        n_in, n_out = task["shape"]
        value = np.clip(0.5 + g.reshape(n_in, n_out), 0.0, 1.0)
    else:
        value = g
    fit, acc = [], []
    for s in task["seeds"]:
        r = run_episode(t, (kind, value), int(s), split=task.get("split", "train"),
                        synapse=task.get("synapse", "ideal"))
        fit.append(r["fitness"])
        acc.append(r["accuracy"])
    return {"index": task["index"], "fitness": float(np.mean(fit)), "accuracy": float(np.mean(acc))}


@dataclass
class EvolveResult:
    """What :func:`evolve` returns."""

    best: np.ndarray
    """The final mean (PGPE) or the best genome's mean (CMA-ES)."""
    history: list = field(default_factory=list)
    """Per generation: ``{"generation", "fitness_mean", "fitness_max", "accuracy_mean", "center"}``."""
    seconds: float = 0.0


def _map(executor, fn, tasks):
    futs = [executor.submit(fn, t) for t in tasks]
    out = [f.result() for f in futs]
    out.sort(key=lambda r: r["index"])
    return out


def evolve(task, *, learner: Literal["rule", "weights"] = "rule", generations: int = 10, episodes: int = 2,
           seed: int = 0, algo: Literal["pgpe", "cma"] = "pgpe", pgpe: PGPESettings | None = None,
           cma: CMASettings | None = None, workers: int | None = 0, scheduler: str | None = None,
           dask_local: int | None = None, synapse: str = "ideal", x0=None,
           progress: Callable[[dict], None] | None = None) -> EvolveResult:
    """Evolve the rule's coefficients (``learner="rule"``) or the weights themselves
    (``"weights"``) on ``task`` (module docstring); ``x0``: the starting genome (default: PGPE's
    ``init_mean`` on every coordinate, CMA-ES zeros)."""
    from hwsnn.pdlf.tasks import genome_size, make_episode
    from hwsnn.sweep.work import open_executor

    for name, v, lo in (("generations", generations, 1), ("episodes", episodes, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ConfigError(name, f"must be an integer >= {lo}, not {v!r}")
    tdict = task.model_dump(mode="python")
    shape = None
    if learner == "rule":
        dim = genome_size(task)
    elif learner == "weights":
        ep = make_episode(task, 0)
        shape = (ep.test_counts.shape[1], ep.n_out)
        dim = shape[0] * shape[1]
    else:
        raise ConfigError("learner", f"must be 'rule' or 'weights', not {learner!r}")
    if x0 is not None:
        x0 = np.asarray(x0, np.float64).ravel()
        if x0.shape[0] != dim:
            raise ConfigError("x0", f"must have {dim} values, not {x0.shape[0]}")
    t0 = time.perf_counter()
    res = EvolveResult(best=np.zeros(dim))
    if algo == "pgpe":
        opt = PGPE(dim, pgpe, seed, x0=x0)
    elif algo == "cma":
        import cma as cma_pkg

        cs = cma or CMASettings()
        opt = cma_pkg.CMAEvolutionStrategy(np.zeros(dim) if x0 is None else x0, cs.sigma0,
                                           {"seed": int(seed) + 1, "popsize": cs.pop_size, "verbose": -9})
    else:
        raise ConfigError("algo", f"must be 'pgpe' or 'cma', not {algo!r}")
    with open_executor(workers, scheduler=scheduler, dask_local=dask_local, threads=1) as info:
        for gen in range(generations):
            pop = opt.ask() if algo == "pgpe" else np.asarray(opt.ask())
            seeds = episode_seeds(seed, gen, episodes)
            tasks = [{"task": tdict, "learner": learner, "genome": [float(x) for x in g], "seeds": seeds,
                      "synapse": synapse, "index": k, "shape": shape} for k, g in enumerate(pop)]
            rows = _map(info.executor, evaluate_genome, tasks)
            f = np.array([r["fitness"] for r in rows])
            if algo == "pgpe":
                opt.tell(f)
                center = opt.mu.copy()
            else:
                opt.tell(list(pop), list(-f))
                center = np.asarray(opt.mean).copy()
            h = {"generation": gen, "fitness_mean": float(f.mean()), "fitness_max": float(f.max()),
                 "accuracy_mean": float(np.mean([r["accuracy"] for r in rows])),
                 "center": [float(x) for x in center]}
            res.history.append(h)
            if progress is not None:
                progress(h)
    res.best = center
    res.seconds = time.perf_counter() - t0
    return res


def cma_es(task, **kwargs) -> EvolveResult:
    """:func:`evolve` with ``algo="cma"``."""
    return evolve(task, algo="cma", **kwargs)


# ---------------------------------------------------------------------------------------------
# the experiment of `hwsnn pdlf evolve`: evolve per seed, evaluate against the baselines


class EvolveConfig(Params):
    """``[evolve]``: the outer loop."""

    algo: Literal["pgpe", "cma"] = "pgpe"
    """Outer loop: ``"pgpe"`` or ``"cma"`` (CMA-ES)."""
    generations: int = Field(20, ge=1)
    """Generations of the learned rule's evolution."""
    episodes: int = Field(2, ge=1)
    """Episodes per fitness evaluation (the same for every genome of a generation)."""
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    """Seeds of independent evolutions (results are mean +- std over them)."""
    weights_baseline: bool = True
    """Also evolve the weights themselves (no plasticity) as a baseline."""
    weights_generations: int = Field(20, ge=1)
    """Generations of the directly evolved weights."""
    init: Literal["zero", "layer"] = "zero"
    """Start of a per-synapse evolution (``task.coefficient_scope = "synapse"``): ``"zero"``, or
    ``"layer"`` -- first evolve one coefficient set for the layer (``generations`` generations),
    then start the per-synapse search at it on every synapse (``synapse_generations`` more)."""
    synapse_generations: int = Field(20, ge=1)
    """Generations of the per-synapse stage after the per-layer one (``init = "layer"``)."""


class EvaluateConfig(Params):
    """``[evaluate]``: the final evaluation of every learner."""

    episodes: int = Field(20, ge=1)
    """Episodes per learner and seed."""
    split: Literal["train", "test"] = "test"
    """Digits pool of the evaluation episodes (``"test"``: images never seen in evolution)."""
    integer: bool = True
    """Also evaluate the rules on the integer backend (8-bit codes, integer twins)."""


class ExperimentConfig(Params):
    """A whole ``hwsnn pdlf evolve`` config (self-contained TOML: ``[task]``, ``[evolve]``,
    ``[pgpe]``, ``[cma]``, ``[evaluate]``)."""

    task: dict = Field(default_factory=lambda: {"name": "digits"})
    """The inner-loop task table (:class:`hwsnn.pdlf.tasks.DigitsTask` / ``MemoryTask`` fields)."""
    evolve: EvolveConfig = Field(default_factory=EvolveConfig)
    """The outer loop."""
    pgpe: PGPESettings = Field(default_factory=PGPESettings)
    """PGPE settings."""
    cma: CMASettings = Field(default_factory=CMASettings)
    """CMA-ES settings."""
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    """Final evaluation."""
    fastweights: dict | None = None
    """Optional ``[fastweights]`` table (:class:`hwsnn.pdlf.fastweights.MemorySweepConfig`, memory
    task only): after the evolution, recall vs latency with the fast weights on devices."""


def load_experiment(data: dict) -> tuple[ExperimentConfig, object]:
    """Validate a parsed TOML experiment; every error names the dotted field."""
    from hwsnn.pdlf.tasks import params_from_dict, task_from_dict

    known = set(ExperimentConfig.model_fields)
    for k in data:
        if k not in known:
            raise ConfigError(k, f"unknown section (known: {', '.join(sorted(known))})")
    from hwsnn.pdlf.fastweights import MemorySweepConfig
    from hwsnn.pdlf.tasks import MemoryTask

    parts = {k: params_from_dict(cls, data.get(k, {}), k)
             for k, cls in (("evolve", EvolveConfig), ("pgpe", PGPESettings), ("cma", CMASettings),
                            ("evaluate", EvaluateConfig))}
    task = task_from_dict(data.get("task", {"name": "digits"}), "task")
    if parts["evolve"].init == "layer" and task.coefficient_scope != "synapse":
        raise ConfigError("evolve.init", "'layer' starts a per-synapse search; it needs "
                                         "task.coefficient_scope = \"synapse\"")
    fw = None
    if "fastweights" in data:
        fw = params_from_dict(MemorySweepConfig, data["fastweights"], "fastweights").model_dump(mode="python")
        if not isinstance(task, MemoryTask):
            raise ConfigError("fastweights", "needs the memory task (task.name = \"memory\")")
    return ExperimentConfig(task=task.model_dump(mode="python"), fastweights=fw, **parts), task


def _integer_twin(task, genome) -> dict:
    """The learned coefficients as the integer twins' mantissas (8-bit weights and traces)."""
    from hwsnn.engine.contract import IntFormat
    from hwsnn.pdlf.tasks import _learner_rules

    ev, slow = _learner_rules(task, ("rule", genome))
    fmt = IntFormat(8, 8)
    return {"event": ev.to_int(fmt, task.dt, 1.0).model_dump(), "slow": slow.to_int(fmt, task.dt, 1.0).model_dump()}


def _evaluate(executor, tdict, learner, genome, seeds, split, synapse, shape=None) -> dict:
    row = _map(executor, evaluate_genome, [{"task": tdict, "learner": learner, "genome": list(genome),
                                            "seeds": seeds, "split": split, "synapse": synapse, "index": 0,
                                            "shape": shape}])[0]
    return {"accuracy": row["accuracy"], "fitness": row["fitness"]}


def run_experiment(cfg: ExperimentConfig, task, *, workers: int | None = 0, scheduler: str | None = None,
                   dask_local: int | None = None, log: Callable[[str], None] | None = None) -> dict:
    """Evolve the rule (and the weights) for every seed and evaluate the learned rule, the
    hand-designed STDP baseline and the evolved weights on fresh episodes, float and integer.
    Returns a JSON-ready dict (per seed and mean +- std)."""
    from hwsnn.pdlf.tasks import coefficients, genome_size, make_episode, projection_shape
    from hwsnn.sweep.work import open_executor

    log = log or (lambda s: None)
    ev, E = cfg.evolve, cfg.evaluate
    tdict = task.model_dump(mode="python")
    per_seed = []
    for seed in ev.seeds:
        def prog(h, seed=seed, what="rule"):
            log(f"seed {seed} {what} generation {h['generation']}: fitness mean {h['fitness_mean']:.4f} "
                f"max {h['fitness_max']:.4f} accuracy {h['accuracy_mean']:.3f}")

        per_synapse = task.coefficient_scope == "synapse"
        common = dict(learner="rule", episodes=ev.episodes, seed=seed, algo=ev.algo, pgpe=cfg.pgpe, cma=cfg.cma,
                      workers=workers, scheduler=scheduler, dask_local=dask_local)
        stage = None
        if per_synapse and ev.init == "layer":
            # stage 1: one coefficient set for the layer; stage 2 starts every synapse at it
            stage = evolve(task.replace(coefficient_scope="layer"), generations=ev.generations,
                           progress=lambda h, s=seed: prog(h, s, "layer rule"), **common)
            n_syn = int(np.prod(projection_shape(task)))
            r = evolve(task, generations=ev.synapse_generations, x0=np.repeat(stage.best, n_syn),
                       progress=prog, **common)
        else:
            r = evolve(task, generations=ev.generations, progress=prog, **common)
        cshape = projection_shape(task) if per_synapse else None
        row = {"seed": seed, "coefficients": coefficients(r.best, task.variant, cshape),
               "genome": [float(x) for x in r.best], "history": r.history, "seconds": r.seconds,
               "integer_twin": _integer_twin(task, r.best)}
        if stage is not None:
            row.update(layer_stage={"coefficients": coefficients(stage.best, task.variant),
                                    "genome": [float(x) for x in stage.best], "history": stage.history},
                       seconds=r.seconds + stage.seconds)
        if ev.weights_baseline:
            rw = evolve(task, learner="weights", generations=ev.weights_generations, episodes=ev.episodes, seed=seed,
                        algo=ev.algo, pgpe=cfg.pgpe, cma=cfg.cma, workers=workers, scheduler=scheduler,
                        dask_local=dask_local, progress=lambda h, s=seed: prog(h, s, "weights"))
            row["weights_history"] = rw.history
            row["weights_genome"] = [float(x) for x in rw.best]
        per_seed.append(row)
    ep0 = make_episode(task, 0)
    shape = (ep0.test_counts.shape[1], ep0.n_out)
    evals = {}
    with open_executor(workers, scheduler=scheduler, dask_local=dask_local, threads=1) as info:
        for row in per_seed:
            seeds = [derive_seed(1_000_003, row["seed"], k) for k in range(E.episodes)]
            res = {"learned": _evaluate(info.executor, tdict, "rule", row["genome"], seeds, E.split, "ideal"),
                   **({"learned_layer": _evaluate(info.executor, {**tdict, "coefficient_scope": "layer"}, "rule",
                                                  row["layer_stage"]["genome"], seeds, E.split, "ideal")}
                      if "layer_stage" in row else {}),
                   "stdp": _evaluate(info.executor, tdict, "stdp", [], seeds, E.split, "ideal")}
            if E.integer:
                res["learned_int"] = _evaluate(info.executor, tdict, "rule", row["genome"], seeds, E.split, "int")
                res["stdp_int"] = _evaluate(info.executor, tdict, "stdp", [], seeds, E.split, "int")
            if ev.weights_baseline:
                res["weights"] = _evaluate(info.executor, tdict, "weights", row["weights_genome"], seeds, E.split,
                                           "ideal", shape)
            res["untrained"] = _evaluate(info.executor, tdict, "rule", [0.0] * genome_size(task),
                                         seeds, E.split, "ideal")
            row["evaluation"] = res
            evals[row["seed"]] = res
    table = {}
    for name in per_seed[0]["evaluation"]:
        acc = np.array([row["evaluation"][name]["accuracy"] for row in per_seed])
        table[name] = {"accuracy_mean": float(acc.mean()), "accuracy_std": float(acc.std(ddof=0)),
                       "per_seed": [float(a) for a in acc]}
    out = {"task": tdict, "config": cfg.model_dump(mode="json"), "seeds": per_seed, "table": table,
           "chance": 1.0 / ep0.n_out}
    if cfg.fastweights is not None:
        from hwsnn.pdlf.fastweights import MemorySweepConfig, memory_sweep

        fcfg = MemorySweepConfig.model_validate(cfg.fastweights)
        out["fastweights"] = []
        for row in per_seed:
            log(f"seed {row['seed']}: fast-weight memory sweep")
            out["fastweights"].append({"seed": row["seed"], **memory_sweep(task, fcfg, row["seed"],
                                                                            row["coefficients"])})
    return out
