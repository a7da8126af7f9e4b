"""`hwsnn ecg`: ECG anomaly detection with stepwise intrinsic and gated synaptic plasticity.

``hwsnn ecg run [CONFIG.toml] --out DIR`` trains, calibrates and tests the spiking network of the
config for every plasticity condition and seed, and writes ``results.json`` (every run: ROC
points, AUC, rates, levels), ``summary.json`` and ``summary.md`` (the ROC table) and
``config.toml`` (the resolved config); ``--print-config`` prints the resolved config instead.
CONFIG is a file or a shipped preset (``--list``).  ``hwsnn ecg record --out FILE`` writes a
synthetic record (with its beat annotations) in the WFDB format.
"""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("ecg", help="ECG anomaly detection with stepwise IP and gated SP (run, record)",
                       description=__doc__.split("\n\n")[0])
    s = p.add_subparsers(dest="ecg_command", metavar="ACTION")
    r = s.add_parser("run", help="train/test the detector for every condition and seed; ROC table",
                     description="Train, calibrate and test the detector of CONFIG for every plasticity condition "
                                 "and seed; write the ROC table.")
    r.add_argument("config", nargs="?", default="integer", metavar="CONFIG.toml",
                   help="config file or shipped preset name (default: integer)")
    r.add_argument("--out", metavar="DIR", help="results folder (default runs/ecg-<preset or file name>)")
    r.add_argument("--set", action="append", metavar="PATH=VALUE", default=[],
                   help="override a config field by its dotted path, e.g. --set network.form=float")
    r.add_argument("--print-config", action="store_true", help="print the resolved config as TOML and exit")
    r.add_argument("--list", action="store_true", help="list the shipped presets and exit")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--json", action="store_true", help="print one JSON summary object as the last line of stdout")
    r.set_defaults(func=_run)
    w = s.add_parser("record", help="write a synthetic ECG record (WFDB format, with beat annotations)",
                     description="Write a synthetic ECG record with labelled anomalies in the WFDB format.")
    w.add_argument("--out", metavar="FILE", required=True, help="record path without extension (writes .hea/.dat/.atr)")
    w.add_argument("config", nargs="?", default="integer", metavar="CONFIG.toml",
                   help="config whose data.synthetic section is used (file or preset; default: integer)")
    w.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    w.add_argument("--json", action="store_true", help="print one JSON summary object as the last line of stdout")
    w.set_defaults(func=_record)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _load(args):
    from pathlib import Path

    from hwsnn.cli.common import read_toml_tables
    from hwsnn.config import apply_overrides, parse_assignment
    from hwsnn.ecg.detector import load_ecg_config, preset_dir

    name = args.config
    path = Path(name)
    if not path.is_file():
        cand = preset_dir() / f"{name.removesuffix('.toml')}.toml"
        if not cand.is_file() or "/" in name:
            from hwsnn.errors import ConfigError

            known = ", ".join(sorted(q.stem for q in preset_dir().glob("*.toml")))
            raise ConfigError("config", f"no file or shipped ECG preset {name!r} (presets: {known})")
        path = cand
    data = read_toml_tables(path, "config", ["data", "split", "encoder", "network", "readout"])
    data.pop("description", None)
    overrides = dict(parse_assignment(t) for t in getattr(args, "set", []))
    if overrides:
        data = apply_overrides(data, overrides)
    return load_ecg_config(data), path


def _toml(cfg) -> str:
    import tomli_w

    from hwsnn.config.loader import to_plain

    return ("# hwsnn ecg configuration, fully resolved.  Units: seconds, hertz, millivolts; weights in codes.\n"
            "# Run it with `hwsnn ecg run FILE`.\n\n" + tomli_w.dumps(to_plain(cfg)))


def _run(args) -> int:
    from hwsnn.cli.common import emit_json, open_run_folder, progress
    from hwsnn.ecg.detector import preset_dir, run_all, summary_table, table_markdown
    from hwsnn.io import write_json, write_text

    if args.list:
        from hwsnn.config import read_toml

        for q in sorted(preset_dir().glob("*.toml")):
            print(f"{q.stem:16s} {read_toml(q).get('description', '')}")
        return 0
    cfg, path = _load(args)
    if args.print_config:
        sys.stdout.write(_toml(cfg))
        return 0
    if cfg.data.source == "wfdb":  # a missing or unreadable record fails before the results folder exists
        from hwsnn.ecg.detector import load_record

        load_record(cfg.data, 0)
    with open_run_folder(args, f"runs/ecg-{path.stem}") as folder:
        write_text(folder.path / "config.toml", _toml(cfg))
        bar = (lambda it: progress(it, desc="ecg", unit="run")) if not args.no_progress else None
        outs = run_all(cfg, progress=bar)
        rows = summary_table(outs)
        write_json(folder.path / "results.json", [o.summary() for o in outs])
        write_json(folder.path / "summary.json", rows)
        write_text(folder.path / "summary.md", table_markdown(rows))
        folder.extra["ecg"] = {"runs": len(outs)}
    print(table_markdown(rows), end="")
    print(f"{len(outs)} run(s) -> {folder.path}")
    emit_json(args, {"runs": len(outs), "out": str(folder.path), "table": rows})
    return 0


def _record(args) -> int:
    from pathlib import Path

    from hwsnn.cli.common import emit_json, prepare_out
    from hwsnn.errors import ConfigError
    from hwsnn.tasks.ecg import KINDS, synthesize, write_wfdb

    if args.seed < 0:
        raise ConfigError("--seed", f"must be >= 0, got {args.seed}")
    cfg, _ = _load(args)
    out = Path(args.out)
    if out.is_dir():
        raise ConfigError("--out", f"{out} is a folder; give a record path such as {out}/rec1")
    prepare_out(out.parent if str(out.parent) else ".", "--out")
    rec = synthesize(cfg.data.synthetic, seed=args.seed)
    hea = write_wfdb(rec, out)
    counts = {KINDS[k]: int((rec.labels == k).sum()) for k in range(len(KINDS)) if (rec.labels == k).any()}
    print(f"{hea}: {rec.duration:.1f} s at {rec.fs:g} Hz, {rec.r_peaks.shape[0]} beats {counts}")
    emit_json(args, {"header": str(hea), "beats": int(rec.r_peaks.shape[0]), "labels": counts})
    return 0
