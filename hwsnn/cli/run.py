"""`hwsnn run [CONFIG.toml]`: the main job - a WTA network learning on a memristor crossbar.

With no config the embedded default runs (digits, 100 excitatory neurons, STO crossbar with its
default non-idealities, an ideal-synapse baseline alongside).  Results go to ``--out DIR``
(default ``runs/run-<timestamp>``): ``metrics.json``, ``receptive_fields.png``,
``conductance_hist.png``, ``confusion.png``, ``accuracy_curve.png``.  ``--json`` prints
``{"accuracy", "baseline_accuracy", "kmeans_accuracy", "samples", "seconds"}`` as the last stdout line.
"""

from __future__ import annotations

import sys
import time

from hwsnn.cli.common import add_output_args, emit_json, out_dir, progress, require_file


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
    p.add_argument("--seed", type=int, action="append", metavar="N",
                   help="seed (repeat for several; overrides task.seeds)")
    p.add_argument("--epochs", type=int, metavar="N", help="override task.epochs")
    p.add_argument("--synapse", choices=("ideal", "integer", "int8", "crossbar"),
                   help="override synapse.backend ('int8' is the old name of 'integer')")
    p.add_argument("--baseline", choices=("ideal", "integer", "int8", "crossbar", "none"), help="override task.baseline")
    p.add_argument("--dataset", choices=("digits", "mnist"), help="override task.dataset")
    p.add_argument("--n-exc", type=int, metavar="N", help="override network.n_exc")
    p.add_argument("--n-train", type=int, metavar="N", help="use only N training samples")
    p.add_argument("--n-test", type=int, metavar="N", help="use only N test samples")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", default=[],
                   help="override any config field by its dotted path, e.g. --set synapse.crossbar.io.adc_bits=8 "
                        "(repeatable; VALUE is TOML)")
    p.add_argument("--print-config", action="store_true",
                   help="print the fully resolved config (CONFIG + overrides) as TOML that run accepts, and exit")
    p.set_defaults(func=_run)


def _config_path(name: str):
    """A file, or the name of a config shipped with hwsnn."""
    from pathlib import Path

    from hwsnn.config import list_config_presets, preset_path

    stem = name[:-5] if name.endswith(".toml") else name
    if not Path(name).exists() and "/" not in name and stem in list_config_presets():
        return preset_path(stem)
    return require_file(name, "config")


def _run(args) -> int:
    from hwsnn.config import dump_toml, load_config_with_notes, parse_assignment
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
    cfg, notes = load_config_with_notes(path, ov)
    for n in notes:
        print(f"hwsnn run: note: {n}", file=sys.stderr)
    if args.print_config:
        sys.stdout.write(dump_toml(cfg))
        return 0
    folder = out_dir(args, time.strftime("runs/run-%Y%m%d-%H%M%S"))

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    metrics = run_experiment(cfg, folder, progress=progress, log=log)
    acc, base = metrics["accuracy"], metrics["baseline_accuracy"]
    line = f"{metrics['synapse']} accuracy {acc:.3f}"
    if base is not None:
        line += f", {metrics['baseline']} baseline {base:.3f}"
    if metrics.get("kmeans_accuracy") is not None:
        line += f", k-means {metrics['kmeans_accuracy']:.3f}"
    print(f"{line} ({metrics['samples']} samples, {metrics['seconds']:.1f} s) -> {folder}")
    emit_json(args, {
        "accuracy": acc,
        "baseline_accuracy": base,
        "kmeans_accuracy": metrics.get("kmeans_accuracy"),
        "samples": metrics["samples"],
        "seconds": metrics["seconds"],
    })
    return 0
