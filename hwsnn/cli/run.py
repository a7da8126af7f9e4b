"""`hwsnn run [CONFIG.toml]`: the main job - a WTA network learning on a memristor crossbar.

With no config the embedded default runs (digits, 100 excitatory neurons, STO crossbar with its
default non-idealities, an ideal-synapse baseline alongside).  Results go to ``--out DIR``
(default ``runs/run-<timestamp>``): ``metrics.json``, ``receptive_fields.png``,
``conductance_hist.png``, ``confusion.png``, ``accuracy_curve.png``, ``config.toml`` (the resolved
config) and, written last, ``manifest.json`` (every file with size and SHA-256); a folder holding
``INCOMPLETE`` is from an interrupted or running run.  ``--json`` prints the headline figures
(accuracy, per-seed accuracies, baseline, k-means reference, samples, seconds, folder) as the
last stdout line.  Everything is validated before training starts: sizes against the dataset
(``--n-train``, ``--n-test``, ``--n-exc``), the output folder, the config file.
"""

from __future__ import annotations

import sys
import time

from hwsnn.cli.common import (add_output_args, add_progress_arg, emit_json, flag_error, int_in, open_run_folder,
                              progress, require_file)
from hwsnn.errors import ConfigError

FLAGS = {"task.seeds": "--seed", "task.epochs": "--epochs", "synapse.backend": "--synapse",
         "task.baseline": "--baseline", "task.dataset": "--dataset", "network.n_exc": "--n-exc",
         "task.n_train": "--n-train", "task.n_test": "--n-test"}
"""Config field -> the flag that overrides it (errors on a field set by a flag name the flag)."""

MAX_SYNAPSES = 25_000_000
"""Largest inputs x neurons a run accepts (about 200 MB per weight matrix; MNIST x 400 neurons is 313,600)."""


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="train a spiking WTA network on a simulated memristor crossbar (embedded default config)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("config", nargs="?", metavar="CONFIG.toml",
                   help="run configuration file, or the name of a shipped one (default, mnist100, mnist400, "
                        "synergy_digits, ...); default: the embedded default")
    add_output_args(p)
    p.add_argument("--seed", type=int_in(0), action="append", metavar="N",
                   help="seed (repeat for several; overrides task.seeds)")
    p.add_argument("--epochs", type=int_in(0), metavar="N", help="override task.epochs (at most 1000)")
    p.add_argument("--synapse", choices=("ideal", "integer", "int8", "crossbar"),
                   help="override synapse.backend ('int8' is the old name of 'integer')")
    p.add_argument("--baseline", choices=("ideal", "integer", "int8", "crossbar", "none"), help="override task.baseline")
    p.add_argument("--dataset", choices=("digits", "mnist", "event_digits", "event_mnist"),
                   help="override task.dataset")
    p.add_argument("--n-exc", type=int_in(1), metavar="N",
                   help="override network.n_exc (at most the training samples used, with the k-means reference)")
    p.add_argument("--n-train", type=int_in(0), metavar="N",
                   help="use only N training samples (0 = all; more than the dataset has is an error)")
    p.add_argument("--n-test", type=int_in(0), metavar="N",
                   help="use only N test samples (0 = all; more than the dataset has is an error)")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", default=[],
                   help="override any config field by its dotted path, e.g. --set synapse.crossbar.io.adc_bits=8 "
                        "(repeatable; VALUE is TOML)")
    p.add_argument("--print-config", action="store_true",
                   help="print the fully resolved config (CONFIG + overrides) as TOML that run accepts, and exit")
    add_progress_arg(p)
    p.set_defaults(func=_run)


def _config_path(name: str):
    """A file, or the name of a config shipped with hwsnn."""
    from pathlib import Path

    from hwsnn.config import list_config_presets, preset_path

    stem = name[:-5] if name.endswith(".toml") else name
    if not Path(name).exists() and "/" not in name and stem in list_config_presets():
        return preset_path(stem)
    if not Path(name).exists() and "/" not in name and not name.endswith(".toml"):
        raise ConfigError("config", f"{name!r} is neither a file nor a shipped config (shipped: "
                                    f"{', '.join(list_config_presets())})")
    return require_file(name, "config")


def check_run(cfg, flags: dict[str, str] | None = None, warn=None) -> dict[str, int]:
    """Check a run config against its dataset before any training: ``task.n_train`` and
    ``task.n_test`` must not exceed the dataset's split (no silent clipping), ``network.n_exc``
    must not exceed the dataset's training samples when the k-means reference is on (k-means
    needs as many samples as clusters; a short run with fewer training samples than neurons skips
    the reference and says so, :func:`hwsnn.tasks.run.run_experiment`; with the reference off it
    is a warning), and inputs x neurons must stay below :data:`MAX_SYNAPSES`.  Errors name the flag that
    set the field (``flags``: dotted path -> flag), else the field.  Returns the sizes used
    ``{"n_train", "n_test", "n_in", "dataset_train", "dataset_test"}``."""
    from hwsnn.tasks.datasets import load_dataset

    flags = FLAGS if flags is None else flags

    def name(dotted: str) -> str:
        return f"{flags[dotted]} ({dotted})" if dotted in flags else dotted

    rs = cfg.task
    # sizes only: an event dataset records its samples on first use of x_train / x_test
    ds = load_dataset(rs.dataset, seed=rs.seeds[0], events=rs.events)
    tr, te = ds.n_train, ds.n_test
    if rs.n_train > tr:
        raise ConfigError(name("task.n_train"), f"{rs.n_train} exceeds the {tr} training samples of {rs.dataset} "
                                                f"(0 = all)")
    if rs.n_test > te:
        raise ConfigError(name("task.n_test"), f"{rs.n_test} exceeds the {te} test samples of {rs.dataset} (0 = all)")
    n_train = rs.n_train or tr
    n_exc = cfg.network.n_exc
    if rs.kmeans and n_exc > tr:
        raise ConfigError(name("network.n_exc"), f"{n_exc} neurons exceed the {tr} training samples of "
                                                 f"{rs.dataset}: the k-means reference needs at least as many "
                                                 f"samples as clusters; lower it, or set task.kmeans = false")
    if n_exc > n_train and not rs.kmeans and warn:
        warn(f"{name('network.n_exc')}: {n_exc} neurons exceed the {n_train} training samples used "
             f"({name('task.n_train')} / the dataset); most neurons will never be trained")
    n_in = ds.n_in
    if n_in * n_exc > MAX_SYNAPSES:
        raise ConfigError(name("network.n_exc"), f"{n_exc} neurons x {n_in} inputs = {n_in * n_exc:,} synapses, "
                                                 f"more than the {MAX_SYNAPSES:,} a run supports")
    return {"n_train": n_train, "n_test": rs.n_test or te, "n_in": n_in, "dataset_train": tr, "dataset_test": te}


def _run(args) -> int:
    from hwsnn.config import dump_toml, load_config_with_notes, parse_assignment
    from hwsnn.io import provenance, write_text
    from hwsnn.tasks.run import run_experiment

    path = _config_path(args.config) if args.config else None
    ov = {}
    for text in args.set:
        k, v = parse_assignment(text)
        ov[k] = v
    if args.seed:
        ov["task.seeds"] = list(args.seed)
    for name, dotted in (("epochs", "task.epochs"), ("synapse", "synapse.backend"), ("baseline", "task.baseline"),
                         ("dataset", "task.dataset"), ("n_exc", "network.n_exc"), ("n_train", "task.n_train"),
                         ("n_test", "task.n_test")):
        val = getattr(args, name)
        if val is not None:
            ov[dotted] = val
    flags = {dotted: flag for dotted, flag in FLAGS.items()
             if getattr(args, flag[2:].replace("-", "_"), None) is not None}
    try:
        cfg, notes = load_config_with_notes(path, ov)
    except ConfigError as exc:
        raise flag_error(exc, flags) from None
    for n in notes:
        print(f"hwsnn run: note: {n}", file=sys.stderr)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    sizes = check_run(cfg, flags, warn=lambda m: log(f"hwsnn run: warning: {m}"))
    if args.print_config:
        sys.stdout.write(dump_toml(cfg))
        return 0
    rf = open_run_folder(args, time.strftime("runs/run-%Y%m%d-%H%M%S"))
    folder = rf.path
    with rf:
        if rf.cleaned:
            log(f"hwsnn run: removed {len(rf.cleaned)} temporary file(s) left by an interrupted run in {folder}")
        write_text(folder / "config.toml", dump_toml(cfg))
        metrics = run_experiment(cfg, folder, progress=progress, log=log, precompile=True,
                                 extra={"provenance": provenance(getattr(args, "_argv", None)), "sizes": sizes})
    acc, base = metrics["accuracy"], metrics["baseline_accuracy"]
    line = f"{metrics['synapse']} accuracy {acc:.3f}"
    if base is not None:
        line += f", {metrics['baseline']} baseline {base:.3f}"
    if metrics.get("kmeans_accuracy") is not None:
        line += f", k-means {metrics['kmeans_accuracy']:.3f}"
    print(f"{line} ({metrics['samples']} samples, {metrics['seconds']:.1f} s) -> {folder}")
    emit_json(args, headline(metrics, folder))
    return 0


def headline(metrics: dict, folder) -> dict:
    """The ``--json`` line of a run: every headline figure of ``metrics.json``."""
    per_seed = {}
    for r in metrics["runs"]:
        per_seed.setdefault(r["synapse"], {})[str(r["seed"])] = r["accuracy"]
    return {
        "accuracy": metrics["accuracy"],
        "accuracy_std": metrics.get("accuracy_std"),
        "synapse": metrics["synapse"],
        "baseline": metrics["baseline"],
        "baseline_accuracy": metrics["baseline_accuracy"],
        "kmeans_accuracy": metrics.get("kmeans_accuracy"),
        "kmeans_skipped": metrics.get("kmeans_skipped"),
        "kmeans": {str(k["seed"]): k["accuracy"] for k in metrics.get("kmeans", [])},
        "per_seed": per_seed,
        "dataset": metrics["dataset"],
        "seeds": metrics["seeds"],
        "samples": metrics["samples"],
        "seconds": metrics["seconds"],
        "out": str(folder),
    }
