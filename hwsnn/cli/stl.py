"""`hwsnn stl train|deploy|export`: synapse-threshold synergistic learning (surrogate-gradient BPTT).

``train`` trains SL (weights only), TL (thresholds only) and STL (both) networks for every seed
of a config (a file or a shipped name: ``digits``, ``mnist``), optionally with SSDP
post-optimisation of the last layer (``--ssdp``), the test accuracy after every epoch and under
input jitter / event noise, and writes ``runs.csv``,
``metrics.json`` (per run, the mean ± std per mode, whether STL beat SL and TL), the trained
parameters (``params/<mode>-seed<N>.npz``), ``config.toml`` and, last, ``manifest.json``.
``deploy RUN_DIR`` quantises trained networks to the integer model, programs them into a
crossbar with write-verify and measures the accuracy after programming and after drift.
``export RUN_DIR --nir FILE`` writes a trained network as a NIR graph (read back and checked).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hwsnn.cli.common import (add_output_args, add_progress_arg, emit_json, flag_error, float_in, int_in,
                              open_run_folder, progress, read_text)
from hwsnn.errors import ConfigError

FLAGS = {"train.modes": "--mode", "task.dataset": "--dataset", "task.seeds": "--seed", "train.epochs": "--epochs",
         "task.n_train": "--n-train", "task.n_test": "--n-test", "deploy.n_test": "--n-test",
         "train.ssdp.enabled": "--ssdp", "train.ssdp.warmup": "--ssdp-warmup",
         "train.ssdp.rule.spike_time": "--ssdp-spike-time", "train.ssdp.anneal": "--ssdp-anneal",
         "train.epoch_accuracy": "--epoch-accuracy", "robustness.jitter": "--jitter", "robustness.noise": "--noise"}
"""Config field -> the flag that sets it."""


def register(sub) -> None:
    p = sub.add_parser("stl", help="synapse-threshold synergistic learning: BPTT training (SL/TL/STL), "
                                   "crossbar deployment, NIR export",
                       description=__doc__.split("\n\n")[0])
    ssub = p.add_subparsers(dest="stl_command", metavar="SUBCOMMAND")

    t = ssub.add_parser("train", help="train SL / TL / STL networks for every seed",
                        description="Train spiking networks by surrogate-gradient BPTT: weights only (sl), "
                                    "thresholds only (tl) or both (stl).")
    t.add_argument("config", nargs="?", default="digits", metavar="CONFIG.toml",
                   help="STL config file or shipped name (digits, mnist; default digits)")
    t.add_argument("--mode", action="append", choices=("sl", "tl", "stl"),
                   help="train this mode (repeatable; overrides train.modes)")
    t.add_argument("--dataset", choices=("digits", "mnist"), help="override task.dataset")
    t.add_argument("--seed", type=int_in(0, 2**31 - 1), action="append", metavar="N",
                   help="seed (repeatable; overrides task.seeds)")
    t.add_argument("--epochs", type=int_in(1, 1000), metavar="N", help="override train.epochs")
    t.add_argument("--n-train", type=int_in(0), metavar="N", help="override task.n_train (0 = all)")
    t.add_argument("--n-test", type=int_in(0), metavar="N", help="override task.n_test (0 = all)")
    t.add_argument("--ssdp", action="store_true", default=None,
                   help="SSDP post-optimisation of the last layer after the warm-up (train.ssdp.enabled)")
    t.add_argument("--ssdp-warmup", type=int_in(0, 1000), metavar="EPOCHS",
                   help="epochs before SSDP starts (train.ssdp.warmup, default 10)")
    t.add_argument("--ssdp-spike-time", choices=("first", "last"),
                   help="spike time SSDP reads (train.ssdp.rule.spike_time, default first)")
    t.add_argument("--ssdp-anneal", action="store_true", default=None,
                   help="cosine-anneal a_plus, a_base, sigma after the warm-up (train.ssdp.anneal)")
    t.add_argument("--epoch-accuracy", action="store_true", default=None,
                   help="measure the test accuracy after every epoch (train.epoch_accuracy)")
    t.add_argument("--jitter", type=float_in(0.0), action="append", metavar="STEPS",
                   help="also test under input spike-time jitter of this std in steps (repeatable; "
                        "robustness.jitter)")
    t.add_argument("--noise", type=float_in(0.0, 1.0), action="append", metavar="P",
                   help="also test with extra input spikes at probability P per input and step "
                        "(repeatable; robustness.noise)")
    t.add_argument("--set", action="append", metavar="PATH=VALUE", default=[],
                   help="override any config field by its dotted path, e.g. --set model.n_hidden=64 or "
                        "--set train.ssdp.rule.a_plus=1.5e-3")
    t.add_argument("--print-config", action="store_true", help="print the resolved config as TOML and exit")
    add_output_args(t)
    add_progress_arg(t)
    t.set_defaults(func=_train)

    d = ssub.add_parser("deploy", help="integer model + crossbar with write-verify + drift, from a train folder",
                        description="Quantise trained networks, program them into a memristor crossbar with "
                                    "write-verify, measure the accuracy after programming and after drift.")
    d.add_argument("run_dir", metavar="RUN_DIR", help="folder written by `hwsnn stl train`")
    d.add_argument("--mode", choices=("sl", "tl", "stl"), default="stl", help="which trained mode (default stl)")
    d.add_argument("--seed", type=int_in(0, 2**31 - 1), action="append", metavar="N",
                   help="seed(s) of the run to deploy (default: all)")
    d.add_argument("--n-test", type=int_in(0), metavar="N", help="override deploy.n_test (0 = all)")
    d.add_argument("--set", action="append", metavar="PATH=VALUE", default=[],
                   help="override a deploy field, e.g. --set deploy.w_bits=6")
    add_output_args(d)
    add_progress_arg(d)
    d.set_defaults(func=_deploy)

    e = ssub.add_parser("export", help="write a trained network as a NIR graph",
                        description="Write a trained network as a NIR graph (HDF5); it is read back and "
                                    "compared before the command succeeds.")
    e.add_argument("run_dir", metavar="RUN_DIR", help="folder written by `hwsnn stl train`")
    e.add_argument("--nir", required=True, metavar="FILE", help="NIR file to write")
    e.add_argument("--mode", choices=("sl", "tl", "stl"), default="stl", help="which trained mode (default stl)")
    e.add_argument("--seed", type=int_in(0, 2**31 - 1), metavar="N", help="seed (default: the run's first)")
    e.add_argument("--dt", type=float_in(1e-9, 1.0), default=1e-3, metavar="SECONDS",
                   help="Euler time step written to the graph (default 0.001)")
    e.add_argument("--json", action="store_true", help="print one JSON summary object as the last line of stdout")
    e.set_defaults(func=_export)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


# ---------------------------------------------------------------------------------------------- config
def _config_data(name: str) -> tuple[dict, str]:
    from hwsnn.config import read_toml
    from hwsnn.stl.train import stl_preset_path, stl_presets

    stem = name[:-5] if name.endswith(".toml") else name
    if not Path(name).exists() and "/" not in name and stem in stl_presets():
        return read_toml(stl_preset_path(stem)), stem
    if not Path(name).exists() and "/" not in name and not name.endswith(".toml"):
        raise ConfigError("config", f"{name!r} is neither a file nor a shipped STL config (shipped: "
                                    f"{', '.join(stl_presets())})")
    read_text(name, "config")
    data = read_toml(name)
    return data, Path(name).stem


def _overrides(args) -> tuple[dict, dict]:
    from hwsnn.config import parse_assignment

    ov = {}
    for text in getattr(args, "set", []) or []:
        k, v = parse_assignment(text)
        ov[k] = v
    flags = {}
    for attr, dotted, conv in (("mode", "train.modes", list), ("dataset", "task.dataset", None),
                               ("seed", "task.seeds", list), ("epochs", "train.epochs", None),
                               ("n_train", "task.n_train", None), ("n_test", "task.n_test", None),
                               ("ssdp", "train.ssdp.enabled", None), ("ssdp_warmup", "train.ssdp.warmup", None),
                               ("ssdp_spike_time", "train.ssdp.rule.spike_time", None),
                               ("ssdp_anneal", "train.ssdp.anneal", None),
                               ("epoch_accuracy", "train.epoch_accuracy", None),
                               ("jitter", "robustness.jitter", list), ("noise", "robustness.noise", list)):
        val = getattr(args, attr, None)
        if val is not None:
            ov[dotted] = conv(val) if conv else val
            flags[dotted] = FLAGS[dotted]
    return ov, flags


def _load_run(run_dir: str):
    """(config, folder) of a complete train folder; errors name RUN_DIR."""
    from hwsnn.config import read_toml
    from hwsnn.io import check_run_folder
    from hwsnn.stl.train import parse_stl_config

    folder = Path(run_dir)
    if not folder.is_dir():
        raise ConfigError("RUN_DIR", f"{run_dir} is not a folder")
    if not (folder / "config.toml").is_file() or not (folder / "params").is_dir():
        raise ConfigError("RUN_DIR", f"{run_dir} is not a `hwsnn stl train` folder (no config.toml / params/)")
    problems = check_run_folder(folder)
    if problems:
        raise ConfigError("RUN_DIR", f"{run_dir} is not a complete result: {problems[0]}")
    try:
        cfg = parse_stl_config(read_toml(folder / "config.toml"))
    except ConfigError as exc:
        raise ConfigError("RUN_DIR", f"{folder / 'config.toml'}: {exc}") from None
    return cfg, folder


def _params_file(folder: Path, mode: str, seed: int) -> Path:
    p = folder / "params" / f"{mode}-seed{seed}.npz"
    if not p.is_file():
        have = sorted(q.stem for q in (folder / "params").glob("*.npz"))
        raise ConfigError("--mode/--seed", f"no trained {mode} network of seed {seed} in {folder} "
                                           f"(have: {', '.join(have) or 'none'})")
    return p


# ---------------------------------------------------------------------------------------------- train
def _extra_keys(rows: list[dict]) -> list[str]:
    """The optional per-run figures: robustness accuracies and the epoch-accuracy variance."""
    return [k for k in rows[0] if k.startswith(("jitter_", "noise_")) or k == "epoch_accuracy_var"]


def summarize(rows: list[dict], modes: list[str]) -> dict:
    """Mean ± std (over seeds) of the test accuracy, run time and the optional figures
    (``jitter_*``, ``noise_*``, ``epoch_accuracy_var``) per mode, and the two claims
    (STL > SL, STL > TL: mean difference, seeds where STL won, held = mean difference > 0 and STL won
    on a majority of the paired seeds)."""
    import numpy as np

    out = {}
    for m in modes:
        acc = np.array([r["test_accuracy"] for r in rows if r["mode"] == m])
        sec = np.array([r["seconds"] for r in rows if r["mode"] == m])
        out[m] = {"test_accuracy_mean": float(acc.mean()), "test_accuracy_std": float(acc.std(ddof=1)) if acc.size > 1
                  else 0.0, "seconds_mean": float(sec.mean()), "seeds": int(acc.size)}
        for k in _extra_keys(rows):
            v = np.array([r[k] for r in rows if r["mode"] == m])
            out[m][f"{k}_mean"] = float(v.mean())
            out[m][f"{k}_std"] = float(v.std(ddof=1)) if v.size > 1 else 0.0
    claims = {}
    by = {(r["mode"], r["seed"]): r["test_accuracy"] for r in rows}
    seeds = sorted({r["seed"] for r in rows})
    for other in ("sl", "tl"):
        if "stl" in modes and other in modes:
            d = np.array([by[("stl", s)] - by[(other, s)] for s in seeds])
            wins = int(np.sum(d > 0))
            claims[f"stl_gt_{other}"] = {"mean_difference": float(d.mean()), "stl_wins": wins, "seeds": len(seeds),
                                         "held": bool(d.mean() > 0 and wins > len(seeds) / 2)}
    return {"modes": out, "claims": claims}


def _train(args) -> int:
    from hwsnn.io import provenance, write_json, write_text
    from hwsnn.stl.model import save_params
    import numpy as np

    from hwsnn.stl.train import load_split, parse_stl_config, robustness, stl_config_toml, train

    data, name = _config_data(args.config)
    ov, flags = _overrides(args)
    try:
        cfg = parse_stl_config(data, ov)
    except ConfigError as exc:
        raise flag_error(exc, flags) from None
    if args.print_config:
        sys.stdout.write(stl_config_toml(cfg))
        return 0
    splits = {}
    for s in cfg.task.seeds:  # sizes are checked before any training
        try:
            splits[s] = load_split(cfg.task, s)
        except ConfigError as exc:
            raise flag_error(exc, flags) from None
    rf = open_run_folder(args, time.strftime(f"runs/stl-{name}-%Y%m%d-%H%M%S"))
    rows, curves = [], {}
    t0 = time.perf_counter()
    with rf:
        write_text(rf.path / "config.toml", stl_config_toml(cfg))
        for s in cfg.task.seeds:
            for mode in cfg.train.modes:
                res = train(cfg.model, cfg.train, cfg.task, mode, s, data=splits[s], progress=progress)
                save_params(res.params, rf.path / "params" / f"{mode}-seed{s}.npz")
                th = [float(v) for layer in res.params.layers for v in (layer.theta.min(), layer.theta.max())]
                rows.append({"mode": mode, "seed": s, "train_accuracy": res.train_accuracy,
                             "test_accuracy": res.test_accuracy, "seconds": res.seconds,
                             "final_loss": res.loss[-1], "theta_min": min(th), "theta_max": max(th),
                             "ssdp": cfg.train.ssdp.enabled})
                if res.ssdp_change:
                    rows[-1]["ssdp_change_mean"] = float(np.mean(res.ssdp_change[cfg.train.ssdp.warmup:]))
                if res.epoch_accuracy:  # stability: variance over the epochs from the SSDP warm-up on
                    rows[-1]["epoch_accuracy_var"] = float(np.var(res.epoch_accuracy[cfg.train.ssdp.warmup:]))
                    curves[f"{mode}-seed{s}"] = list(res.epoch_accuracy)
                rows[-1].update(robustness(res.params, splits[s][2], splits[s][3], cfg.model.steps, s,
                                           cfg.robustness))
                extra = "".join(f" {k} {rows[-1][k]:.3f}" for k in rows[-1] if k.startswith(("jitter_", "noise_")))
                print(f"{mode:3s} seed {s}: test {res.test_accuracy:.3f} train {res.train_accuracy:.3f}{extra} "
                      f"({res.seconds:.1f} s)", file=sys.stderr)
        summary = summarize(rows, cfg.train.modes)
        _write_csv(rf.path / "runs.csv", rows)
        write_json(rf.path / "metrics.json", {"provenance": provenance(getattr(args, "_argv", None)),
                                               "dataset": cfg.task.dataset, "runs": rows, **summary,
                                               "epoch_accuracy": curves,
                                               "config": cfg.model_dump(mode="json")})
        rf.extra["stl"] = {"runs": len(rows)}
    for m, v in summary["modes"].items():
        extra = "".join(f", {k[:-5]} {v[k]:.3g} ± {v[k[:-5] + '_std']:.2g}" for k in v
                        if k.endswith("_mean") and k[:-5] in _extra_keys(rows))
        print(f"{m:3s}: test accuracy {v['test_accuracy_mean']:.3f} ± {v['test_accuracy_std']:.3f}{extra} "
              f"({v['seeds']} seeds, {v['seconds_mean']:.1f} s per run)")
    for c, v in summary["claims"].items():
        print(f"{c}: {'held' if v['held'] else 'did not hold'} (mean difference {v['mean_difference']:+.3f}, "
              f"STL won {v['stl_wins']}/{v['seeds']} seeds)")
    print(f"{len(rows)} run(s), {time.perf_counter() - t0:.1f} s -> {rf.path}")
    emit_json(args, {"out": str(rf.path), "dataset": cfg.task.dataset, **summary})
    return 0


def _write_csv(path: Path, rows: list[dict]) -> None:
    import csv
    import io

    from hwsnn.io import write_text

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    write_text(path, buf.getvalue())


# ---------------------------------------------------------------------------------------------- deploy
def _deploy(args) -> int:
    from hwsnn.io import write_json
    from hwsnn.stl.deploy import deploy
    from hwsnn.stl.model import load_params
    from hwsnn.stl.train import load_split, parse_stl_config

    cfg, folder = _load_run(args.run_dir)
    ov = {}
    from hwsnn.config import parse_assignment

    for text in args.set:
        k, v = parse_assignment(text)
        if not k.startswith("deploy."):
            raise ConfigError("--set", f"deploy changes only deploy.* fields, got {k!r}")
        ov[k] = v
    if args.n_test is not None:
        ov["deploy.n_test"] = args.n_test
    try:
        cfg = parse_stl_config(cfg.model_dump(mode="json"), ov)
    except ConfigError as exc:
        raise flag_error(exc, {"deploy.n_test": "--n-test"}) from None
    seeds = args.seed or list(cfg.task.seeds)
    files = {s: _params_file(folder, args.mode, s) for s in seeds}
    splits = {s: load_split(cfg.task, s) for s in seeds}
    for s in seeds:
        if cfg.deploy.n_test > len(splits[s][3]):
            raise ConfigError("--n-test (deploy.n_test)", f"{cfg.deploy.n_test} exceeds the {len(splits[s][3])} "
                                                          f"test samples of the run (0 = all)")
    rf = open_run_folder(args, str(folder / f"deploy-{args.mode}"))
    reps = []
    with rf:
        for s in seeds:
            _, _, x_te, y_te, _ = splits[s]
            rep = deploy(load_params(files[s]), cfg.deploy, x_te, y_te, cfg.model.steps, s, progress=progress)
            rep = {"mode": args.mode, "seed": s, **rep}
            write_json(rf.path / f"deploy-seed{s}.json", rep)
            reps.append(rep)
            drift = ", ".join(f"{d['time_s']:g} s {d['accuracy']:.3f}" for d in rep["drift"])
            print(f"seed {s}: float {rep['float_accuracy']:.3f}, integer {rep['integer_accuracy']:.3f}, "
                  + (f"open loop {rep['open_loop_accuracy']:.3f}, " if "open_loop_accuracy" in rep else "")
                  + f"verified {rep['verified_accuracy']:.3f}; drift {drift}", file=sys.stderr)
        summary = _deploy_summary(reps)
        write_json(rf.path / "metrics.json", {"mode": args.mode, "seeds": seeds, "summary": summary,
                                               "config": cfg.deploy.model_dump(mode="json")})
    for k, v in summary.items():
        print(f"{k}: {v['mean']:.3f} ± {v['std']:.3f}")
    print(f"{len(reps)} deployment(s) -> {rf.path}")
    emit_json(args, {"out": str(rf.path), "mode": args.mode, "summary": summary})
    return 0


def _deploy_summary(reps: list[dict]) -> dict:
    import numpy as np

    keys = ["float_accuracy", "integer_accuracy"] + (["open_loop_accuracy"] if "open_loop_accuracy" in reps[0]
                                                      else []) + ["verified_accuracy"]
    cols = {k: [r[k] for r in reps] for k in keys}
    for i, d in enumerate(reps[0]["drift"]):
        cols[f"drift_{d['time_s']:g}s_accuracy"] = [r["drift"][i]["accuracy"] for r in reps]
    return {k: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0}
            for k, v in cols.items()}


# ---------------------------------------------------------------------------------------------- export
def _export(args) -> int:
    import numpy as np

    from hwsnn.cli.common import prepare_out
    from hwsnn.stl.model import load_params
    from hwsnn.stl.nir_io import read_nir, write_nir

    cfg, folder = _load_run(args.run_dir)
    seed = cfg.task.seeds[0] if args.seed is None else args.seed
    params = load_params(_params_file(folder, args.mode, seed))
    out = Path(args.nir)
    if out.is_dir():
        raise ConfigError("--nir", f"{out} is a folder, not a file")
    prepare_out(out.parent if str(out.parent) else ".", "--nir")
    write_nir(params, out, dt=args.dt)
    back = read_nir(out)
    same = all(np.array_equal(a.w, b.w) and np.array_equal(a.theta, b.theta)
               for a, b in zip(params.layers, back.layers)) and back.decay == params.decay
    if not same:  # pragma: no cover - guarded by tests/stl/test_nir.py
        raise ConfigError("--nir", f"{out}: the graph read back differs from the trained network")
    sizes = [params.n_in] + [l.w.shape[1] for l in params.layers]
    print(f"{args.mode} seed {seed}: {' -> '.join(map(str, sizes))} neurons, dt {args.dt:g} s -> {out}")
    emit_json(args, {"nir": str(out), "mode": args.mode, "seed": seed, "sizes": sizes, "dt": args.dt})
    return 0
