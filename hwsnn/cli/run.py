"""`hwsnn run [CONFIG.toml]`: the main job - a WTA network learning on a memristor crossbar.

With no config the embedded default runs (digits, 100 excitatory neurons, STO crossbar with its
default non-idealities, an ideal-synapse baseline alongside).  Results go to ``--out DIR``
(default ``runs/run-<timestamp>``): ``metrics.json``, ``receptive_fields.png``,
``conductance_hist.png``, ``confusion.png``, ``accuracy_curve.png``.  ``--json`` prints
``{"accuracy", "baseline_accuracy", "samples", "seconds"}`` as the last stdout line.
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
                   help="run configuration file, or the name of a shipped one (default, mnist100, mnist400); "
                        "default: the embedded default")
    add_output_args(p)
    p.add_argument("--seed", type=int, action="append", metavar="N",
                   help="seed (repeat for several; overrides run.seeds)")
    p.add_argument("--epochs", type=int, metavar="N", help="override run.epochs")
    p.add_argument("--synapse", choices=("ideal", "int8", "crossbar"), help="override run.synapse")
    p.add_argument("--baseline", choices=("ideal", "int8", "crossbar", "none"), help="override run.baseline")
    p.add_argument("--dataset", choices=("digits", "mnist"), help="override run.dataset")
    p.add_argument("--n-exc", type=int, metavar="N", help="override network.n_exc")
    p.add_argument("--n-train", type=int, metavar="N", help="use only N training samples")
    p.add_argument("--n-test", type=int, metavar="N", help="use only N test samples")
    p.add_argument("--print-config", action="store_true", help="print the embedded default config and exit")
    p.set_defaults(func=_run)


def _shipped(name: str):
    """A config shipped with hwsnn (``hwsnn/configs/<name>.toml``) when ``name`` is not a file."""
    from importlib import resources
    from pathlib import Path

    if Path(name).exists() or "/" in name or "\\" in name:
        return None
    stem = name[:-5] if name.endswith(".toml") else name
    res = resources.files("hwsnn").joinpath("configs", f"{stem}.toml")
    return res if res.is_file() else None


def _run(args) -> int:
    from hwsnn.tasks.run import default_config_text, load_run_config, run_experiment

    if args.print_config:
        sys.stdout.write(default_config_text())
        return 0
    path = None
    if args.config:
        path = _shipped(args.config) or require_file(args.config, "config")
    ov = {}
    if args.seed:
        ov["run.seeds"] = list(args.seed)
    for name, dotted in (("epochs", "run.epochs"), ("synapse", "run.synapse"), ("baseline", "run.baseline"),
                         ("dataset", "run.dataset"), ("n_exc", "network.n_exc"), ("n_train", "run.n_train"),
                         ("n_test", "run.n_test")):
        val = getattr(args, name)
        if val is not None:
            ov[dotted] = val
    cfg = load_run_config(path, ov)
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
        "samples": metrics["samples"],
        "seconds": metrics["seconds"],
    })
    return 0
