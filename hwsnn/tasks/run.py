"""The main job behind ``hwsnn run``: train the WTA network on a crossbar (and a baseline), report.

A run config is TOML with two tables, ``[run]`` (:class:`RunSection`) and ``[network]``
(:class:`hwsnn.tasks.wta.WTAConfig` fields).  With no file the embedded default
``hwsnn/configs/default.toml`` is used.  :func:`run_experiment` trains one network per seed for
the main synapse backend and for the baseline backend, evaluates them, and writes

``metrics.json``, ``receptive_fields.png``, ``conductance_hist.png``, ``confusion.png`` and
``accuracy_curve.png`` into the output folder.
"""

from __future__ import annotations

import dataclasses
import time
try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hwsnn.errors import ConfigError
from hwsnn.io import save_figure, write_json
from hwsnn.tasks._config import check_choice, check_range, from_dict
from hwsnn.tasks.wta import SYNAPSES, WTAConfig, train_and_evaluate

__all__ = [
    "RunSection",
    "RunConfig",
    "default_config_text",
    "load_run_config",
    "parse_run_config",
    "run_experiment",
]


@dataclass
class RunSection:
    """The ``[run]`` table: what to train, on which backend, how long, with which seeds."""

    dataset: str = "digits"
    """``"digits"`` (sklearn 8x8, 1,297/500 split) or ``"mnist"`` (8,000/2,000 split of the MNIST test set)."""
    synapse: str = "crossbar"
    """Synapse backend of the main network: ``"ideal"``, ``"int8"`` or ``"crossbar"``."""
    baseline: str = "ideal"
    """Backend trained alongside for comparison (``"none"`` to skip)."""
    seeds: list[int] = field(default_factory=lambda: [0])
    """Seeds; each seed gives its own split, initial weights, inputs and devices."""
    epochs: int = 3
    """Passes over the training set."""
    curve: str = "online"
    """Accuracy curve: ``"online"`` (free, from the training responses, ``curve_points`` points per
    epoch) or ``"test"`` (``curve_points`` full labelling + test passes during training)."""
    curve_points: int = 4
    """Points of the accuracy curve (per epoch for ``"online"``, in total for ``"test"``)."""
    n_train: int = 0
    """Use only the first ``n_train`` training samples (0 = all)."""
    n_test: int = 0
    """Use only the first ``n_test`` test samples (0 = all)."""
    kmeans: bool = True
    """Also report the k-means (``n_exc`` clusters) + label vote reference."""

    def validate(self, prefix: str = "run") -> None:
        p = f"{prefix}." if prefix else ""
        check_choice(self.dataset, p + "dataset", ("digits", "mnist"))
        check_choice(self.synapse, p + "synapse", SYNAPSES + ("int8",))
        check_choice(self.baseline, p + "baseline", SYNAPSES + ("int8", "none"))
        if not self.seeds:
            raise ConfigError(p + "seeds", "must list at least one seed")
        for k, s in enumerate(self.seeds):
            check_range(s, f"{p}seeds[{k}]", 0, 2**31 - 1)
        if len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(p + "seeds", f"must not repeat a seed: {self.seeds}")
        check_range(self.epochs, p + "epochs", 0, 1000)
        check_range(self.curve_points, p + "curve_points", 1, 100)
        check_choice(self.curve, p + "curve", ("online", "test"))
        check_range(self.n_train, p + "n_train", 0, None)
        check_range(self.n_test, p + "n_test", 0, None)


@dataclass
class RunConfig:
    """A full run configuration: ``run`` and ``network`` tables."""

    run: RunSection = field(default_factory=RunSection)
    """The ``[run]`` table."""
    network: WTAConfig = field(default_factory=WTAConfig)
    """The ``[network]`` table (``n_in`` follows the dataset)."""


def default_config_text() -> str:
    """The embedded default config (TOML text)."""
    return resources.files("hwsnn").joinpath("configs", "default.toml").read_text(encoding="utf-8")


def parse_run_config(data: dict[str, Any]) -> RunConfig:
    """Validate a parsed TOML document into a :class:`RunConfig` (errors name the dotted field)."""
    if not isinstance(data, dict):
        raise ConfigError("config", "must be a TOML table")
    for key in data:
        if key not in ("run", "network"):
            raise ConfigError(key, "unknown table (known: network, run)")
    run = from_dict(RunSection, data.get("run", {}), "run")
    net_data = dict(data.get("network", {}))
    if not isinstance(data.get("network", {}), dict):
        raise ConfigError("network", "must be a table")
    net = from_dict(WTAConfig, net_data, "network")
    return RunConfig(run=run, network=net)


def load_run_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Load a TOML run config (or the embedded default) with optional dotted overrides.

    ``overrides`` maps dotted names to values, e.g. ``{"run.epochs": 1, "network.n_exc": 25}``.
    """
    if path is None:
        text, where = default_config_text(), "default config"
    else:
        p = Path(path)
        if not p.is_file():
            raise ConfigError("config", f"file not found: {path}")
        text, where = p.read_text(encoding="utf-8"), str(p)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"{where} is not valid TOML: {exc}") from None
    for dotted, value in (overrides or {}).items():
        table, _, name = dotted.partition(".")
        data.setdefault(table, {})
        if not isinstance(data[table], dict):
            raise ConfigError(table, "must be a table")
        data[table][name] = value
    return parse_run_config(data)


# ----------------------------------------------------------------------------------------------
def _kmeans(dataset, n_clusters: int, seed: int) -> float | None:
    try:
        from hwsnn.tasks.baselines import kmeans_baseline
    except ImportError:  # pragma: no cover
        return None
    return float(kmeans_baseline(dataset, n_clusters=n_clusters, seed=seed).accuracy)


def _mean(xs):
    return float(np.mean(xs)) if xs else None


def run_experiment(
    cfg: RunConfig,
    out: str | Path,
    progress: Callable[..., Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train and evaluate per ``cfg``; write results to ``out``; return the metrics dict."""
    from hwsnn.tasks.datasets import load_dataset

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rs = cfg.run
    t0 = time.perf_counter()
    backends = [rs.synapse] + ([rs.baseline] if rs.baseline not in ("none", rs.synapse) else [])
    runs: list[dict[str, Any]] = []
    kmeans = []
    first: dict[str, dict] = {}
    image_shape = None
    for seed in rs.seeds:
        ds = load_dataset(rs.dataset, seed=seed)
        image_shape = ds.image_shape
        net_cfg = cfg.network
        if net_cfg.n_in != ds.n_in:
            if net_cfg.n_in not in (WTAConfig.n_in, ds.n_in):
                raise ConfigError("network.n_in", f"must equal the dataset's {ds.n_in} inputs, got {net_cfg.n_in}")
            net_cfg = net_cfg.replace(n_in=ds.n_in)
        for syn in backends:
            r = train_and_evaluate(
                net_cfg, ds, syn, seed, rs.epochs, progress,
                curve_points=rs.curve_points,
                curve=rs.curve,
                n_train=rs.n_train or None,
                n_test=rs.n_test or None,
                desc=f"{syn} seed {seed}",
            )
            if log:
                log(f"{syn:8s} seed {seed}: test accuracy {r['accuracy']:.3f} ({r['seconds']:.1f} s)")
            if syn not in first:
                first[syn] = r
            runs.append({k: r[k] for k in ("synapse", "seed", "epochs", "accuracy", "train_accuracy", "curve", "samples",
                                           "seconds", "train_seconds", "ms_per_sample", "reruns",
                                           "mean_test_spikes")})
        if rs.kmeans:
            acc = _kmeans(ds, net_cfg.n_exc, seed)
            if acc is not None:
                kmeans.append(acc)
                if log:
                    log(f"k-means  seed {seed}: test accuracy {acc:.3f}")
    main = [r["accuracy"] for r in runs if r["synapse"] == rs.synapse]
    base = [r["accuracy"] for r in runs if r["synapse"] == rs.baseline and rs.baseline != rs.synapse]
    seconds = time.perf_counter() - t0
    metrics = {
        "accuracy": _mean(main),
        "accuracy_std": float(np.std(main)) if main else None,
        "baseline_accuracy": _mean(base),
        "kmeans_accuracy": _mean(kmeans),
        "synapse": rs.synapse,
        "baseline": rs.baseline,
        "dataset": rs.dataset,
        "seeds": list(rs.seeds),
        "samples": int(sum(r["samples"] for r in runs if r["synapse"] == rs.synapse)),
        "seconds": seconds,
        "runs": runs,
        "kmeans": [{"seed": s, "accuracy": a} for s, a in zip(rs.seeds, kmeans)],
        "config": dataclasses.asdict(cfg),
    }
    main_r = first[rs.synapse]
    if main_r["network"].xb is not None:
        metrics["crossbar"] = _crossbar_summary(main_r["network"].xb)
    write_json(out / "metrics.json", metrics)
    _plot_receptive_fields(main_r["weights"], image_shape, out / "receptive_fields.png",
                           f"{rs.synapse} synapses, seed {rs.seeds[0]}")
    _plot_conductances(first, out / "conductance_hist.png")
    _plot_confusion(main_r["confusion"], out / "confusion.png", f"{rs.synapse}: accuracy {main_r['accuracy']:.3f}")
    _plot_curves(runs, out / "accuracy_curve.png", metrics["kmeans_accuracy"])
    return metrics


def _crossbar_summary(xb) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": int(xb.n_in), "cols": int(xb.n_out)}
    for name in ("pulse_count", "time"):
        v = getattr(xb, name, None)
        if isinstance(v, (int, float, np.number)):
            out[name if name != "time" else "device_time_s"] = v
    energy = getattr(xb, "energy", None)
    if energy is not None:
        if isinstance(energy, dict):
            out["energy"] = {k: v for k, v in energy.items() if isinstance(v, (int, float, np.number))}
        elif isinstance(energy, (int, float, np.number)):
            out["energy_j"] = float(energy)
        elif dataclasses.is_dataclass(energy):
            out["energy"] = {k: v for k, v in dataclasses.asdict(energy).items()
                             if isinstance(v, (int, float, np.number))}
    return out


# ---------------------------------------------------------------------------------------------- plots
def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _plot_receptive_fields(w: np.ndarray, shape, path: Path, title: str) -> None:
    plt = _plt()
    n_in, n = w.shape
    if shape is None or shape[0] * shape[1] != n_in:
        shape = (1, n_in)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    h, wd = shape
    canvas = np.full((rows * (h + 1) + 1, cols * (wd + 1) + 1), np.nan)
    for j in range(n):
        r, c = divmod(j, cols)
        img = w[:, j].reshape(shape)
        m = img.max()
        canvas[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (wd + 1): 1 + c * (wd + 1) + wd] = img / m if m > 0 else img
    fig, ax = plt.subplots(figsize=(7, 7 * canvas.shape[0] / canvas.shape[1] + 0.4))
    ax.imshow(canvas, cmap="hot", interpolation="nearest", vmin=0, vmax=1)
    ax.set_axis_off()
    ax.set_title(f"Receptive fields ({title}; each normalised to its max)")
    save_figure(fig, path)


def _conductances(r: dict) -> tuple[np.ndarray, str]:
    net = r["network"]
    xb = net.xb
    if xb is not None:
        arr = getattr(xb, "array", None)
        f = getattr(arr, "conductance", None)
        if callable(f):
            g = np.asarray(f(), np.float64)
            return g.ravel() * 1e9, "device conductance (nS), both devices of each pair"
    return np.asarray(r["weights"]).ravel(), "weight"


def _plot_conductances(first: dict[str, dict], path: Path) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, len(first), figsize=(5 * len(first), 3.6), squeeze=False)
    for ax, (syn, r) in zip(axes[0], first.items()):
        vals, label = _conductances(r)
        ax.hist(vals, bins=60, color="tab:blue" if syn == "crossbar" else "tab:gray")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("devices" if label.startswith("device") else "synapses")
        ax.set_title(f"{syn} (seed {r['seed']})")
    fig.tight_layout()
    save_figure(fig, path)


def _plot_confusion(cm: np.ndarray, path: Path, title: str) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    im = ax.imshow(cm, cmap="Blues")
    n = cm.shape[0]
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    save_figure(fig, path)


def _plot_curves(runs: list[dict], path: Path, kmeans: float | None) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    colors = {"crossbar": "tab:blue", "ideal": "tab:gray", "int8": "tab:orange"}
    for r in runs:
        xs = [p["epoch"] for p in r["curve"]]
        ys = [p["accuracy"] for p in r["curve"]]
        ax.plot(xs, ys, "o-", color=colors.get(r["synapse"], None), alpha=0.8,
                label=f"{r['synapse']} seed {r['seed']}")
    if kmeans is not None:
        ax.axhline(kmeans, ls="--", color="tab:green", label="k-means + vote")
    ax.set_xlabel("epochs of training")
    kinds = {p.get("kind", "test") for r in runs for p in r["curve"]}
    ax.set_ylabel("online training accuracy (previous-window labels)" if kinds == {"online"} else "accuracy")
    for r in runs:  # final test accuracy as a star
        ax.plot([r["epochs"]], [r["accuracy"]], "*", ms=12,
                color=colors.get(r["synapse"], None))
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)
