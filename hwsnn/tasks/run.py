"""The main job behind ``hwsnn run``: train the WTA network on a crossbar (and a baseline), report.

A run config is a :class:`hwsnn.config.RunConfig` (TOML sections ``task``, ``network``,
``neuron``, ``homeostasis``, ``schedule``, ``rules``, ``synapse``, ``synergy``; see
:func:`hwsnn.config.load_config`).  :func:`run_experiment` trains one network per seed for the
main synapse backend (``synapse.backend``) and for the baseline backend (``task.baseline``),
evaluates them, and writes ``metrics.json``, ``receptive_fields.png``, ``conductance_hist.png``,
``confusion.png``, ``accuracy_curve.png`` (and ``lambda.png`` with synergy) into the output folder.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from hwsnn.io import save_figure, write_json
from hwsnn.tasks.wta import train_and_evaluate

if TYPE_CHECKING:
    from hwsnn.config import RunConfig

__all__ = ["run_experiment"]


# ----------------------------------------------------------------------------------------------
def _kmeans(dataset, n_clusters: int, seed: int) -> float | None:
    try:
        from hwsnn.tasks.baselines import kmeans_baseline
    except ImportError:  # pragma: no cover
        return None
    return float(kmeans_baseline(dataset, n_clusters=n_clusters, seed=seed).accuracy)


def _mean(xs):
    return float(np.mean(xs)) if xs else None


def precompile_in_background(cfg: RunConfig, backends) -> list:
    """On a first run (no generated layer kernel cached yet), compile the layer kernels of the
    networks ``backends`` in background processes, one each, while this process compiles and
    trains the first network: on a cold cache the two kernels of the default run (crossbar and
    its ideal baseline) then compile side by side on two cores.  The processes only fill the
    on-disk caches (Numba writes them atomically); any error there is left for the main process
    to meet and report when it builds that network itself.  Returns the started processes."""
    import multiprocessing

    from hwsnn.config import to_plain
    from hwsnn.engine.kernel import kernel_cache_dir

    d = kernel_cache_dir()
    if not backends or (d.is_dir() and any(d.glob("layer_*.py"))):
        return []
    ctx = multiprocessing.get_context("spawn")
    procs = []
    for syn in backends:
        p = ctx.Process(target=_compile_layer, args=(to_plain(cfg), syn), daemon=True, name=f"hwsnn-compile-{syn}")
        p.start()
        procs.append(p)
    return procs


def _compile_layer(doc: dict, backend: str) -> None:
    import os

    os.environ["HWSNN_COMPILE_NOTICE"] = "0"  # the main process says it
    try:
        from hwsnn.config import parse_config
        from hwsnn.engine.layer import LayerNetwork

        cfg = parse_config(doc)
        net = LayerNetwork(cfg, 4, 0, backend=backend)  # the kernel depends on the types, not the sizes
        net.present(np.full(4, 0.5), learn=True)
    except (Exception, KeyboardInterrupt):  # noqa: BLE001 - the main process builds this network too and
        pass                                 # reports its errors; a Ctrl-C reaches the whole process group


def run_experiment(
    cfg: RunConfig,
    out: str | Path,
    progress: Callable[..., Any] | None = None,
    log: Callable[[str], None] | None = None,
    extra: dict[str, Any] | None = None,
    figures: bool = True,
    precompile: bool = False,
) -> dict[str, Any]:
    """Train and evaluate per ``cfg``; write results to ``out``; return the metrics dict.

    ``extra`` (e.g. ``{"provenance": hwsnn.io.provenance()}``: version, git commit, command line)
    is recorded in ``metrics.json`` next to the fully resolved config (``"config"``, the document
    ``hwsnn run --print-config`` prints).  ``figures=False`` writes ``metrics.json`` only (sweeps:
    no per-point figures, and no Matplotlib, which is not thread-safe, in worker threads).
    ``precompile=True`` (the command line) compiles the kernels of the baseline network in a
    background process while the main network trains (:func:`precompile_in_background`).
    """
    from hwsnn.tasks.datasets import load_dataset

    from hwsnn.config import to_plain

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rs = cfg.task
    main_backend = cfg.synapse.backend
    t0 = time.perf_counter()
    backends = [main_backend] + ([rs.baseline] if rs.baseline not in ("none", main_backend) else [])
    _compilers = precompile_in_background(cfg, backends[1:]) if precompile else []  # noqa: F841 (run alongside)
    runs: list[dict[str, Any]] = []
    lam_hist: list = []
    kmeans = []
    kmeans_skipped = None
    first: dict[str, dict] = {}
    image_shape = None
    for seed in rs.seeds:
        ds = load_dataset(rs.dataset, seed=seed, events=rs.events)
        image_shape = ds.image_shape
        n_train = min(rs.n_train or ds.n_train, ds.n_train)
        do_kmeans = rs.kmeans and cfg.network.n_exc <= n_train
        if rs.kmeans and not do_kmeans and kmeans_skipped is None:
            kmeans_skipped = (f"{cfg.network.n_exc} clusters (network.n_exc) need at least as many training samples, "
                              f"got {n_train} (task.n_train)")
            if log:
                log(f"k-means reference skipped: {kmeans_skipped}")
        for syn in backends:
            r = train_and_evaluate(
                cfg, ds, syn, seed, rs.epochs, progress,
                curve_points=rs.curve_points,
                curve=rs.curve,
                test_delay=rs.test_delay,
                n_train=rs.n_train or None,
                n_test=rs.n_test or None,
                desc=f"{syn} seed {seed}",
            )
            if log:
                log(f"{syn:8s} seed {seed}: test accuracy {r['accuracy']:.3f} ({r['seconds']:.1f} s)")
            if syn not in first:
                first[syn] = r
            row = {k: r[k] for k in ("synapse", "seed", "epochs", "accuracy", "train_accuracy", "curve", "samples",
                                     "seconds", "train_seconds", "ms_per_sample", "reruns", "mean_test_spikes")}
            row["lambda_final"] = r["lambda_history"][-1].tolist()
            runs.append(row)
            if cfg.synergy.form != "none" and syn == main_backend:
                lam_hist.append((seed, r["lambda_history"]))
        if do_kmeans:
            acc = _kmeans(ds, cfg.network.n_exc, seed)
            if acc is not None:
                kmeans.append(acc)
                if log:
                    log(f"k-means  seed {seed}: test accuracy {acc:.3f}")
    main = [r["accuracy"] for r in runs if r["synapse"] == main_backend]
    base = [r["accuracy"] for r in runs if r["synapse"] == rs.baseline and rs.baseline != main_backend]
    seconds = time.perf_counter() - t0
    metrics = {
        **(extra or {}),
        "accuracy": _mean(main),
        "accuracy_std": float(np.std(main)) if main else None,
        "baseline_accuracy": _mean(base),
        "kmeans_accuracy": _mean(kmeans),
        "kmeans_skipped": kmeans_skipped,
        "synapse": main_backend,
        "baseline": rs.baseline,
        "dataset": rs.dataset,
        "seeds": list(rs.seeds),
        "samples": int(sum(r["samples"] for r in runs if r["synapse"] == main_backend)),
        "seconds": seconds,
        "runs": runs,
        "kmeans": [{"seed": s, "accuracy": a} for s, a in zip(rs.seeds, kmeans)],
        "config": to_plain(cfg),
    }
    main_r = first[main_backend]
    if cfg.synergy.form != "none":
        metrics["lambda_final"] = {str(seed_r["seed"]): lam for seed_r, lam in
                                   ((r, r["lambda_final"]) for r in runs if r["synapse"] == main_backend)}
    if main_r["network"].xb is not None:
        metrics["crossbar"] = _crossbar_summary(main_r["network"].xb)
    write_json(out / "metrics.json", metrics)
    if not figures:
        return metrics
    _plot_receptive_fields(main_r["weights"], image_shape, out / "receptive_fields.png",
                           f"{main_backend} synapses, seed {rs.seeds[0]}")
    _plot_conductances(first, out / "conductance_hist.png", cfg)
    _plot_confusion(main_r["confusion"], out / "confusion.png",
                    f"Test confusion, {main_backend} synapses, seed {main_r['seed']} (of {len(rs.seeds)}): "
                    f"accuracy {main_r['accuracy']:.3f}")
    if lam_hist:
        _plot_lambda(lam_hist, [r.kind for r in cfg.rules], out / "lambda.png")
    _plot_curves(runs, out / "accuracy_curve.png", metrics["kmeans"])
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
    im = ax.imshow(canvas, cmap="hot", interpolation="nearest", vmin=0, vmax=1)
    ax.set_axis_off()
    fig.colorbar(im, ax=ax, shrink=0.6, label="weight / the neuron's largest weight")
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
    return np.asarray(r["weights"]).ravel(), "weight (dimensionless)"


def _plot_conductances(first: dict[str, dict], path: Path, cfg=None) -> None:
    """Histogram per backend (first seed); device conductances with the device's g_min / g_max marked."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(first), figsize=(5 * len(first), 3.6), squeeze=False)
    for ax, (syn, r) in zip(axes[0], first.items()):
        vals, label = _conductances(r)
        ax.hist(vals, bins=60, color="tab:blue" if syn == "crossbar" else "tab:gray",
                label="devices" if label.startswith("device") else "synapses")
        if label.startswith("device") and cfg is not None:
            dev = cfg.synapse.device.resolve()
            ax.axvline(dev.g_min * 1e9, color="tab:red", ls="--", lw=1, label=f"g_min = {dev.g_min * 1e9:.3g} nS")
            ax.axvline(dev.g_max * 1e9, color="tab:red", ls=":", lw=1.2, label=f"g_max = {dev.g_max * 1e9:.3g} nS")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("devices" if label.startswith("device") else "synapses")
        ax.set_title(f"{syn} synapses after training (seed {r['seed']})")
        ax.legend(fontsize=7)
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
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.8, label="test samples")
    fig.tight_layout()
    save_figure(fig, path)


def _plot_curves(runs: list[dict], path: Path, kmeans: list[dict]) -> None:
    """Accuracy during training: one colour per backend, one line style and marker per seed, the final
    test accuracy as a star, the k-means reference per seed as a dashed green line."""
    plt = _plt()
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    colors = {"crossbar": "tab:blue", "ideal": "tab:gray", "integer": "tab:orange"}
    seeds = list(dict.fromkeys(r["seed"] for r in runs))
    styles = ["-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1))]
    markers = ["o", "s", "^", "D", "v", "P", "X", "h"]
    for r in runs:
        k = seeds.index(r["seed"])
        xs = [p["epoch"] for p in r["curve"]]
        ys = [p["accuracy"] for p in r["curve"]]
        c = colors.get(r["synapse"], None)
        ax.plot(xs, ys, ls=styles[k % len(styles)], marker=markers[k % len(markers)], ms=4, color=c, alpha=0.85,
                label=f"{r['synapse']} seed {r['seed']}")
        ax.plot([r["epochs"]], [r["accuracy"]], "*", ms=12, color=c, markeredgecolor="black", markeredgewidth=0.5)
    for row in kmeans:
        ax.axhline(row["accuracy"], ls=styles[seeds.index(row["seed"]) % len(styles)] if row["seed"] in seeds else "--",
                   color="tab:green", lw=1, label=f"k-means + vote, seed {row['seed']}")
    ax.set_xlabel("epochs of training")
    kinds = {p.get("kind", "test") for r in runs for p in r["curve"]}
    ax.set_ylabel("online training accuracy (previous-window labels)" if kinds == {"online"} else "accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], ls="none", marker="*", ms=10, color="white", markeredgecolor="black"))
    labels.append("final test accuracy (star, colour = synapses)")
    ax.legend(handles, labels, fontsize=7)
    ax.set_title("Accuracy during training" + (" (online: labels from the previous window)"
                                                if kinds == {"online"} else ""), fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def _plot_lambda(hist: list, names: list[str], path: Path) -> None:
    """Mechanism weights over training, one line style per seed, one colour per mechanism."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    styles = ["-", "--", ":", "-.", (0, (1, 3))]
    for k, (seed, lam) in enumerate(hist):
        for m in range(lam.shape[1]):
            ax.plot(lam[:, m], color=f"C{m}", ls=styles[k % len(styles)], lw=1.2,
                    label=f"{names[m]} (seed {seed})")
    ax.set_xlabel("learning samples")
    ax.set_ylabel("mechanism weight lambda")
    ax.set_title("Adaptive mechanism weights during training")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)
