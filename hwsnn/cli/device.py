"""`hwsnn device info|curve|fit`: inspect presets, draw characteristic curves, fit measured data.

Fit CSV format (``hwsnn device fit DATA.csv``): header ``experiment,device,x,g``.
``experiment`` is ``ltp`` (SET pulse train from a fully reset device; ``x`` = pulses applied so far,
``g`` = conductance in S), ``ltd`` (RESET train from a fully set device), ``retention`` (``x`` =
seconds since programming) or ``read`` (``x`` = repeat index of reads of an untouched device).
Any subset may be present.  See :mod:`hwsnn.devices.fit` for the method.
"""

from __future__ import annotations

import argparse
import dataclasses

from hwsnn.cli.common import (add_output_args, add_seed_arg, check_csv, emit_json, float_in, int_in, open_run_folder,
                              read_json)
from hwsnn.errors import ConfigError

MAX_DEVICES = 100_000
"""Largest ``--devices`` of ``device curve`` (about 0.5 ms per device: under a minute)."""

FIT_EPILOG = """CSV format (header experiment,device,x,g):
  ltp        SET pulse train from a fully reset device: x = pulses applied so far (0,1,2..), g = conductance (S)
  ltd        RESET pulse train from a fully set device (same columns)
  retention  device programmed once, left alone: x = seconds since programming
  read       repeated reads of an untouched device: x = repeat index
Any subset of experiments may be given; rows of one (experiment, device) form one curve.
DATA may instead be the device_curve.json of `hwsnn device curve`: the fit then models its protocol
(volatile build-up and decay, drift, cycle-to-cycle noise) and lists what it cannot separate.
Fits g_min, g_max, p_max (p_max_ltd), nl_ltp, nl_ltd, c2c_mult, c2c_add (LTP/LTD),
drift_nu_mean, drift_nu_std (retention) and read_noise (read); other fields come from --base.
"""


def _source(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--preset", default=None, help="preset name (default sto); see `hwsnn device info --list`")
    g.add_argument("--params", metavar="FILE.json", default=None, help="parameter file (e.g. written by `device fit`)")


def _load(args):
    from hwsnn.devices import DeviceParams, get_preset

    if getattr(args, "params", None):
        data = read_json(args.params, "--params")
        try:
            return DeviceParams.from_dict(data), args.params
        except ConfigError as exc:
            raise ConfigError(f"--params {args.params}: {exc.field}", exc.message) from None
    name = args.preset or "sto"
    try:
        return get_preset(name), name
    except ConfigError as exc:
        raise ConfigError("--preset", exc.message) from None


def register(sub) -> None:
    p = sub.add_parser("device", help="device physics: presets, characteristic curves, fitting measured data",
                       description="Memristor device model (STO-v0 and anchors): info, curve, fit.")
    dsub = p.add_subparsers(dest="action", metavar="ACTION")
    pi = dsub.add_parser("info", help="show a preset's or parameter file's parameters and source")
    _source(pi)
    pi.add_argument("--list", action="store_true", help="list preset names")
    pi.add_argument("--json", action="store_true", help="print one JSON summary object as the last line")
    pi.set_defaults(func=_info)
    pc = dsub.add_parser("curve", help="LTP/LTD, drift/relaxation, read-noise histogram, PPF (PNG + JSON)")
    _source(pc)
    add_output_args(pc)
    add_seed_arg(pc)
    pc.add_argument("--devices", type=int_in(1, MAX_DEVICES), default=32,
                    help=f"devices per curve (default 32, at most {MAX_DEVICES:,})")
    pc.add_argument("--interval", type=float_in(0.0, 1e6, lo_open=True), default=0.1,
                    help="seconds between pulses of the LTP/LTD train (default 0.1, at most 1e6)")
    pc.set_defaults(func=_curve)
    pf = dsub.add_parser("fit", help="fit parameters from measured data (CSV)", epilog=FIT_EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    pf.add_argument("data", metavar="DATA.csv", help="measurements, see the CSV format below")
    pf.add_argument("--base", default="sto", help="preset supplying the fields not fitted (default sto)")
    add_output_args(pf)
    pf.set_defaults(func=_fit)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def _info(args) -> int:
    from hwsnn.devices import list_presets, preset_doc

    if args.list:
        for n in list_presets():
            print(f"{n:26s} {preset_doc(n).splitlines()[0]}")
        emit_json(args, {"presets": list_presets()})
        return 0
    params, name = _load(args)
    if not args.params:
        print(f"preset {name}: {preset_doc(name)}\n")
    fields = dataclasses.fields(params)
    for f in fields:
        print(f"  {f.name:16s} = {getattr(params, f.name)!r}")
    emit_json(args, {"source": name, "params": params.as_dict()})
    return 0


def _curve(args) -> int:
    from hwsnn.devices.curves import curve_data, plot_curves
    from hwsnn.io import save_figure, write_json

    params, name = _load(args)
    rf = open_run_folder(args, "results/device")
    dest = rf.path
    with rf:
        data = curve_data(params, seed=args.seed, devices=args.devices, interval=args.interval)
        data["source"] = str(name)
        data["params"] = params.as_dict()
        png = save_figure(plot_curves(data, title=f"device: {name}"), dest / "device_curve.png")
        js = write_json(dest / "device_curve.json", data)
    print(f"wrote {png} and {js}")
    g = data["ltp_ltd"]["g_mean"]
    emit_json(args, {"source": str(name), "png": str(png), "json": str(js), "g_start": g[0],
                     "g_peak": max(g), "read_rel_std": data["read_noise"]["rel_std"], "ppf_first": data["ppf"]["ppf"][0]})
    return 0


def _fit(args) -> int:
    from hwsnn.devices import get_preset
    from hwsnn.devices.fit import fit_device, load_csv
    from hwsnn.io import write_json

    from hwsnn.devices.fit import fit_curve, load_data

    curve = str(args.data).lower().endswith(".json")  # the device_curve.json of `hwsnn device curve`
    if not curve:
        check_csv(args.data, "DATA", ("experiment", "device", "x", "g"))
    try:
        base = get_preset(args.base)
    except ConfigError as exc:
        raise ConfigError("--base", exc.message) from None
    data = load_data(args.data) if curve else load_csv(args.data)
    rf = open_run_folder(args, "results/device_fit")
    dest = rf.path
    with rf:
        params, report = fit_curve(data, base=base) if curve else fit_device(data, base=base)
        pj = write_json(dest / "device_params.json", params.as_dict())
        rj = write_json(dest / "fit_report.json", report)
    for k, v in report["fitted"].items():
        print(f"  {k:16s} = {v:.6g}")
    for k, why in report.get("not_identified", {}).items():
        print(f"  {k:16s}   not identifiable from this data ({base.as_dict()[k]!r} kept from --base): {why}")
    print(f"wrote {pj} (use with --params) and {rj}")
    emit_json(args, {"params_file": str(pj), "report_file": str(rj), "fitted": report["fitted"],
                     "not_identified": sorted(report.get("not_identified", {}))})
    return 0
