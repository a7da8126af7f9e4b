"""`hwsnn pdlf evolve|fastweights [CONFIG.toml] --out DIR`: learned plasticity rules (PDLF-style).

``evolve``: evolve the coefficients of the rule ``lr (A x y - A C x + B y + D)`` (PGPE or CMA-ES,
fitness evaluations on the sweep executors) on an inner-loop task (few-shot digits readout or
cue-recall working memory), for several seeds, and evaluate the learned rule against
hand-designed STDP, directly evolved weights and the untrained rule, float and on the integer
backend.  ``fastweights``: recall accuracy vs latency of the working-memory task with the fast
weights held in the volatile state of STO devices, for several programming biases (relaxation
times).  CONFIG is a TOML file or a shipped config name (``hwsnn pdlf evolve --list``).
"""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("pdlf", help="learned plasticity rules: evolve a rule, fast weights on devices",
                       description=__doc__.split("\n\n")[0])
    s = p.add_subparsers(dest="pdlf_command", metavar="SUBCOMMAND")
    e = s.add_parser("evolve", help="evolve the rule's coefficients and compare with STDP and evolved weights",
                     description="Evolve the learned rule on a task for several seeds; evaluate against the "
                                 "baselines, float and integer.")
    e.add_argument("config", nargs="?", default="digits", metavar="CONFIG.toml",
                   help="experiment config file or shipped config name (default: digits)")
    from hwsnn.cli.common import add_executor_args

    add_executor_args(e, workers_help="local process-pool workers for the fitness evaluations (default 0: this "
                                      "process)")
    _common(e)
    e.set_defaults(func=_evolve)
    f = s.add_parser("fastweights", help="working memory with the fast weights in the devices' volatile state",
                     description="Recall accuracy vs latency with the fast weights on STO devices, per bias.")
    f.add_argument("config", nargs="?", default="fastweights", metavar="CONFIG.toml",
                   help="config file ([task], [fastweights]) or shipped config name (default: fastweights)")
    f.add_argument("--seed", type=_int_ge(0), default=0, help="seed of the episodes (default 0)")
    _common(f)
    f.set_defaults(func=_fastweights)
    p.set_defaults(func=_help(p))


def _int_ge(lo: int):
    from hwsnn.cli.common import int_in

    return int_in(lo, None)


def _common(p) -> None:
    from hwsnn.cli.common import add_output_args, add_progress_arg

    add_output_args(p)
    add_progress_arg(p)
    p.add_argument("--list", action="store_true", help="list the shipped configs and exit")


def _help(p):
    def run(args) -> int:
        p.print_help()
        return 2

    return run


def shipped_configs() -> list[str]:
    """Names of the shipped configs (``hwsnn/configs/pdlf/<name>.toml``)."""
    from importlib import resources

    d = resources.files("hwsnn").joinpath("configs", "pdlf")
    return sorted(q.name[:-5] for q in d.iterdir() if q.name.endswith(".toml"))


def _config_path(name: str) -> Path:
    from importlib import resources

    from hwsnn.errors import ConfigError

    p = Path(name)
    if p.suffix == ".toml" or p.exists():
        return p
    if name in shipped_configs():
        return Path(str(resources.files("hwsnn").joinpath("configs", "pdlf", f"{name}.toml")))
    raise ConfigError("config", f"{name!r} is neither a file nor a shipped config ({', '.join(shipped_configs())})")


def _read(args, sections) -> tuple[dict, Path]:
    from hwsnn.cli.common import read_toml_tables

    path = _config_path(args.config)
    return read_toml_tables(path, "config", sections), path


def _list(args) -> bool:
    if args.list:
        from hwsnn.config import read_toml

        for name in shipped_configs():
            print(f"{name:16s} {read_toml(_config_path(name)).get('description', '')}")
        return True
    return False


def _log(args):
    quiet = args.no_progress

    def log(msg: str) -> None:
        if not quiet:
            print(msg, file=sys.stderr, flush=True)

    return log


def _evolve(args) -> int:
    from hwsnn.cli.common import emit_json, open_run_folder
    from hwsnn.io import write_json, write_text
    from hwsnn.pdlf.outer import load_experiment, run_experiment

    if _list(args):
        return 0
    data, path = _read(args, ("task", "evolve", "pgpe", "cma", "evaluate", "fastweights"))
    data.pop("description", None)
    cfg, task = load_experiment(data)
    with open_run_folder(args, f"runs/pdlf-{path.stem}") as folder:
        res = run_experiment(cfg, task, workers=args.workers or 0, scheduler=args.scheduler,
                             dask_local=args.dask_local, log=_log(args))
        res["config_file"] = str(path)
        write_json(folder.path / "results.json", res)
        write_text(folder.path / "summary.md", summary_markdown(res))
        plot_coefficients(res, folder.path / "coefficients.png")
        if "fastweights" in res:
            plot_memory(res["fastweights"][0], folder.path / "memory.png")
        folder.extra["pdlf"] = {"task": task.name, "seeds": len(res["seeds"])}
    print(summary_markdown(res))
    print(f"-> {folder.path}")
    emit_json(args, {"out": str(folder.path), "table": res["table"], "chance": res["chance"],
                     "coefficients": [_coef_summary(s["coefficients"]) for s in res["seeds"]]})
    return 0


def _fastweights(args) -> int:
    from hwsnn.cli.common import emit_json, open_run_folder
    from hwsnn.errors import ConfigError
    from hwsnn.io import write_json
    from hwsnn.pdlf.fastweights import MemorySweepConfig, memory_sweep
    from hwsnn.pdlf.tasks import params_from_dict, task_from_dict

    if _list(args):
        return 0
    data, path = _read(args, ("task", "fastweights"))
    data.pop("description", None)
    for k in data:
        if k not in ("task", "fastweights"):
            raise ConfigError(k, "unknown section (known: fastweights, task)")
    task = task_from_dict(data.get("task", {"name": "memory"}), "task")
    cfg = params_from_dict(MemorySweepConfig, data.get("fastweights", {}), "fastweights")
    with open_run_folder(args, f"runs/pdlf-{path.stem}") as folder:
        res = memory_sweep(task, cfg, args.seed)
        res.update(task=task.model_dump(mode="python"), config=cfg.model_dump(mode="json"), seed=args.seed)
        write_json(folder.path / "results.json", res)
        plot_memory(res, folder.path / "memory.png")
    print(_memory_table(res))
    print(f"-> {folder.path}")
    emit_json(args, {"out": str(folder.path), "memory_length": res["memory_length"], "chance": res["chance"]})
    return 0


# ---------------------------------------------------------------------------------------------
_NAMES = {"learned": "learned rule (float)", "learned_layer": "per-layer stage of the learned rule (float)",
          "learned_int": "learned rule (integer, 8-bit)",
          "stdp": "hand-designed pair STDP (float)", "stdp_int": "pair STDP (integer, 8-bit)",
          "weights": "directly evolved weights", "untrained": "rule with zero coefficients"}


def summary_markdown(res: dict) -> str:
    t = res["task"]
    lines = [f"# pdlf evolve: {t['name']} (chance {res['chance']:.3f})", "",
             "| learner | accuracy (mean ± std over seeds) | per seed |", "|---|---|---|"]
    for k, v in res["table"].items():
        lines.append(f"| {_NAMES.get(k, k)} | {v['accuracy_mean']:.3f} ± {v['accuracy_std']:.3f} | "
                     f"{', '.join(f'{a:.3f}' for a in v['per_seed'])} |")
    per = t.get("coefficient_scope", "layer") == "synapse"
    if per:
        lines += ["", "Per-synapse coefficients: mean ± std over the synapses (the matrices are in results.json)."]
    lines += ["", "| seed | A | B | C | D |", "|---|---|---|---|---|"]
    for s in res["seeds"]:
        c = s["coefficients"]
        lines.append(f"| {s['seed']} | " + " | ".join(_coef_text(c[k]) for k in "ABCD") + " |")
    for fw in res.get("fastweights", []):
        lines += ["", f"fast weights on devices, seed {fw['seed']}:", "", _memory_table(fw)]
    return "\n".join(lines) + "\n"


def _coef_summary(c: dict) -> dict:
    """Learned coefficients for the one-line JSON: numbers as they are, per-synapse matrices as
    their mean and std over the synapses (the matrices are in results.json)."""
    import numpy as np

    out = {}
    for k, v in c.items():
        a = np.asarray(v, np.float64)
        out[k] = float(a) if a.ndim == 0 else {"mean": float(a.mean()), "std": float(a.std()), "shape": list(a.shape)}
    return out


def _coef_text(v) -> str:
    """A learned coefficient: the number, or mean ± std of a per-synapse matrix."""
    import numpy as np

    a = np.asarray(v, np.float64)
    return f"{float(a):.3f}" if a.ndim == 0 else f"{a.mean():.3f} ± {a.std():.3f}"


def _memory_table(res: dict) -> str:
    lines = ["| bias (V) | relaxation time (s) | memory length (s) |", "|---|---|---|"]
    for m in res["memory_length"]:
        lines.append(f"| {m['bias']:g} | {m['tau']:.3g} | {m['memory_length']:.3g} |")
    return "\n".join(lines)


def plot_coefficients(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from hwsnn.io import save_figure

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    names = ["A", "B", "C", "D"]
    n = len(res["seeds"])
    per = res["task"].get("coefficient_scope", "layer") == "synapse"
    for k, s in enumerate(res["seeds"]):
        # per-synapse coefficients: the mean over the synapses, the bar's whisker their std
        vals = [np.asarray(s["coefficients"][c], np.float64) for c in names]
        a1.bar(np.arange(4) + (k - (n - 1) / 2) * 0.8 / n, [v.mean() for v in vals], 0.8 / n,
               yerr=[v.std() for v in vals] if per else None, capsize=2, label=f"seed {s['seed']}")
        a2.plot([h["fitness_mean"] for h in s["history"]], label=f"seed {s['seed']}")
    a1.set_xticks(range(4), names)
    a1.axhline(0, color="k", lw=0.5)
    a1.set_title(f"learned coefficients ({res['task']['variant']}{', per synapse' if per else ''}, "
                 f"D x {res['task']['d_scale']:g})")
    a1.legend(fontsize=7)
    a2.set_xlabel("generation")
    a2.set_ylabel("population mean fitness")
    a2.set_title(f"{res['task']['name']}: outer loop")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_memory(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hwsnn.io import save_figure

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    taus = sorted({r["tau"] for r in res["rows"]})
    for tau in taus:
        rows = [r for r in res["rows"] if r["tau"] == tau]
        x = [max(r["latency"], 1e-3) for r in rows]
        a1.errorbar(x, [r["accuracy_mean"] for r in rows], yerr=[r["accuracy_std"] for r in rows], capsize=2,
                    label=f"tau {tau:.3g} s")
    a1.axhline(res["chance"], color="k", ls=":", lw=0.8)
    a1.set_xscale("log")
    a1.set_xlabel("latency (s)")
    a1.set_ylabel("recall accuracy")
    a1.legend(fontsize=7)
    m = res["memory_length"]
    a2.loglog([r["tau"] for r in m], [max(r["memory_length"], 1e-3) for r in m], "o-")
    from matplotlib.ticker import NullFormatter

    a2.xaxis.set_minor_formatter(NullFormatter())
    a2.yaxis.set_minor_formatter(NullFormatter())
    a2.set_xlabel("device relaxation time (s)")
    a2.set_ylabel("memory length (s)")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
