"""``hwsnn cosim [CONFIG]``: the RTL learning core co-simulated with the memristor crossbar.

Runs ``sim/tb_learning_core.py`` on Verilator or Icarus with the crossbar agent in the loop,
runs the golden co-simulation, compares them exactly, and writes spike rasters, conductance
maps over time, the waveform on request and a summary.  With ``cosim.task = "digits"`` the
core learns 8x8 digits and is evaluated, and the float twin runs on the same data and schedule.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from hwsnn.cli.common import add_output_args, emit_json, flag_error, int_in, open_run_folder, read_toml_tables
from hwsnn.io import atomic_write, write_json

__all__ = ["register", "run_cosim"]

MAX_TIMESTEPS = 1_000_000
"""Largest ``cosim.timesteps`` / ``--timesteps`` (the RTL runs some 10^2-10^3 timesteps/s)."""
SECTIONS = ("cosim", "core", "device", "crossbar", "digits")
FLAGS = {"cosim.sim": "--sim", "cosim.preset": "--preset", "cosim.timesteps": "--timesteps",
         "cosim.task": "--task", "cosim.seed": "--seed"}


def register(sub) -> None:
    p = sub.add_parser(
        "cosim", help="co-simulate the RTL learning core with the memristor crossbar (cocotb) against its golden model",
        description="Co-simulate the RTL learning core with the memristor crossbar model in the loop (cocotb on Verilator or Icarus), compare it exactly with the golden co-simulation, write rasters, conductance maps and a summary.",
    )
    p.add_argument("config", nargs="?", metavar="CONFIG", help="TOML config ([cosim], [core], [device], [crossbar], [digits]); default: built-in")
    p.add_argument("--sim", choices=["verilator", "icarus"], default=None, help="HDL simulator (default: config, verilator)")
    p.add_argument("--preset", default=None, help="device/crossbar preset: ideal, quantised, sto (default: config, sto)")
    p.add_argument("--timesteps", type=int_in(1, MAX_TIMESTEPS), default=None,
                   help=f"timesteps of a random-input run (default: config, 2000; at most {MAX_TIMESTEPS:,})")
    p.add_argument("--task", choices=["random", "digits"], default=None, help="random inputs (equivalence) or the digits task")
    p.add_argument("--seed", type=int_in(0, 2**32 - 1), default=None, help="device seed (default: config, 0)")
    p.add_argument("--wave", choices=["fst", "vcd"], default=None, help="also write the waveform")
    add_output_args(p, default_out=None)
    p.set_defaults(func=_main)


def _plots(out: Path, rec, cfg, sch=None, rf=None) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hwsnn.io import save_figure

    files = []
    T = rec.timesteps
    show = min(T, 2000)
    fig, ax = plt.subplots(figsize=(10, 3))
    t, j = np.nonzero(rec.spikes[:show])
    ax.scatter(t, j, s=2, marker="|")
    ax.set_xlabel("timestep")
    ax.set_ylabel("neuron")
    ax.set_title(f"learning_core spikes (first {show} timesteps), preset {cfg.preset}")
    files.append(str(save_figure(fig, out / "raster.png")))
    if rec.g_snap.shape[0]:
        k = rec.g_snap.shape[0]
        fig, axes = plt.subplots(1, k, figsize=(2.2 * k, 3.2), squeeze=False)
        for a, g, ts in zip(axes[0], rec.g_snap, rec.snap_t):
            im = a.imshow(g * 1e9, aspect="auto", cmap="viridis")
            a.set_title(f"t={int(ts) + 1}")
            a.set_xticks([])
        axes[0][0].set_ylabel("row")
        fig.colorbar(im, ax=axes[0].tolist(), label="G (nS)")
        files.append(str(save_figure(fig, out / "conductance_maps.png")))
    if rf is not None:
        fig, axes = plt.subplots(2, rf[0].shape[0], figsize=(rf[0].shape[0] * 0.8, 2))
        for row, fields, name in ((0, rf[0], "cosim"), (1, rf[1], "float")):
            for j in range(fields.shape[0]):
                axes[row][j].imshow(fields[j], cmap="gray", vmin=0, vmax=1)
                axes[row][j].axis("off")
            axes[row][0].set_title(name, fontsize=7, loc="left")
        files.append(str(save_figure(fig, out / "receptive_fields.png")))
    return files


def run_cosim(cfg, *, waves: str | None = None, out: Path | None = None) -> dict:
    """Run one co-simulation (and the digits evaluation); returns the summary dict."""
    from hwsnn.cosim import digits as D
    from hwsnn.cosim.config import agent_from_job
    from hwsnn.cosim.record import save_record
    from hwsnn.cosim.run import job_from_config, run_rtl

    sch = None
    if cfg.task == "digits":
        sch = D.schedule(cfg.digits, cfg.core.M)
        job = job_from_config(cfg, in_spikes=sch.in_spikes, learn=sch.learn)
    else:
        job = job_from_config(cfg)
    res = run_rtl(job, cfg.sim, waves=waves)
    rep = res.report
    rec = res.record
    T = job.timesteps
    secs = float(rep.get("seconds", 0.0))
    agent_s = float(rep.get("agent_seconds", 0.0))
    rtl_rate = float(rep.get("rtl_cycles_per_s", 0.0))
    # simulator time from the free-running calibration (a busier mix of cycles than the run), capped
    # at what the run leaves after the device model
    rtl_s = min(max(secs - agent_s, 0.0), res.cycles / rtl_rate) if rtl_rate > 0 else None
    summary = {
        "equivalent": bool(rep.get("equivalent", False)),
        "passed": res.passed,
        "sim": cfg.sim,
        "preset": cfg.preset,
        "task": cfg.task,
        "timesteps": T,
        "cycles": res.cycles,
        "commands": int(rep.get("commands", 0)),
        "throughput": {
            "timesteps_per_s": round(float(rep.get("timesteps_per_s", 0.0)), 1),
            "cycles_per_s": round(res.cycles / secs) if secs else 0,
            "golden_timesteps_per_s": round(T / rep["golden_seconds"], 1) if rep.get("golden_seconds") else None,
        },
        "breakdown_s": {
            "total": round(secs, 3),
            "rtl_simulation": round(rtl_s, 3) if rtl_s is not None else None,
            "device_model_and_agent": round(agent_s, 3),
            "python_cocotb_glue": round(max(0.0, secs - agent_s - (rtl_s or 0.0)), 3),
            "golden_run": round(float(rep.get("golden_seconds", 0.0)), 3),
        },
        "first_mismatch": rep.get("first_mismatch"),
        "build_seconds": round(res.build_seconds, 2),
        "config": cfg.summary(),
    }
    if rec is not None:
        summary["spikes"] = int(rec.spikes.sum())
    rf = None
    if sch is not None and rec is not None:
        ag = agent_from_job(job)
        lo, hi = ag.xbar.adc_range
        adc_step = (hi - lo) / (2**cfg.core.ADC_BITS - 1)
        fl = D.run_float(cfg.core, adc_step, sch)
        ev_c = D.evaluate(rec.spikes.astype(np.int64), sch)
        ev_f = D.evaluate(fl["spikes"].astype(np.int64), sch)
        ev_e = {r: D.evaluate(D.run_engine(cfg.core, adc_step, sch, rule=r, seed=cfg.seed)["spikes"].astype(np.int64),
                              sch) for r in D.ENGINE_RULES}
        w_dev = _device_weights(rec, job)
        rf = (D.receptive_fields(w_dev, 1.0), D.receptive_fields(fl["w"], cfg.core.update.W_MAX))
        summary["digits"] = {
            "train_samples": sch.n_train, "test_samples": sch.n_test,
            "accuracy_cosim": ev_c["accuracy"], "accuracy_float": ev_f["accuracy"],
            "accuracy_engine": {r: e["accuracy"] for r, e in ev_e.items()},
            "classes_covered_cosim": ev_c["classes_covered"], "classes_covered_float": ev_f["classes_covered"],
            "receptive_fields": D.compare_fields(rf[0], rf[1]),
            "cosim": ev_c, "float": ev_f,
        }
    if out is not None:
        if rec is not None:
            save_record(out / "record.npz", rec)

            def _w(tmp):
                with open(tmp, "wb") as fh:
                    np.savez_compressed(fh, spikes=rec.spikes, codes=rec.codes, commands=rec.commands)

            atomic_write(out / "raster.npz", _w)

            def _g(tmp):
                with open(tmp, "wb") as fh:
                    np.savez_compressed(fh, g_snap=rec.g_snap, snap_t=rec.snap_t, g=rec.g)

            atomic_write(out / "conductances.npz", _g)
            summary["plots"] = _plots(out, rec, cfg, sch, rf)
        wf = res.extra.get("wave_file")
        if waves and wf and Path(wf).exists():
            dst = out / f"learning_core.{waves}"
            shutil.copyfile(wf, dst)
            summary["wave"] = str(dst)
        write_json(out / "summary.json", summary)
    return summary


def _device_weights(rec, job) -> np.ndarray:
    """Crossbar weights (M, N) of the recorded final conductances (the crossbar's own mapping)."""
    from hwsnn.cosim.config import agent_from_job

    return agent_from_job(job).xbar._weights_from(rec.g)


def _main(args) -> int:
    from hwsnn.cosim.config import config_from_dict
    from hwsnn.errors import ConfigError

    doc = read_toml_tables(args.config, "CONFIG", SECTIONS) if args.config else {}
    cli = dict(sim=args.sim, preset=args.preset, timesteps=args.timesteps, task=args.task, seed=args.seed)
    flags = {k: v for k, v in FLAGS.items() if cli[k.split(".")[1]] is not None}
    try:
        cfg = config_from_dict(doc, **cli)
    except ConfigError as exc:
        raise flag_error(exc, flags) from None
    if cfg.timesteps > MAX_TIMESTEPS:
        raise ConfigError("cosim.timesteps", f"must be <= {MAX_TIMESTEPS:,}, got {cfg.timesteps}")
    rf = open_run_folder(args, args.out) if args.out is not None else None
    if rf is None:
        return _cosim(args, cfg, None)
    with rf:
        return _cosim(args, cfg, rf.path)


def _cosim(args, cfg, out) -> int:
    print(f"hwsnn cosim: {cfg.task} task, preset {cfg.preset}, {cfg.sim}, "
          f"{'digits schedule' if cfg.task == 'digits' else f'{cfg.timesteps} timesteps'}", flush=True)
    s = run_cosim(cfg, waves=args.wave, out=out)
    tp, bd = s["throughput"], s["breakdown_s"]
    print(f"equivalent: {s['equivalent']}  timesteps: {s['timesteps']}  cycles: {s['cycles']}  "
          f"commands: {s['commands']}")
    print(f"throughput: {tp['timesteps_per_s']} timesteps/s ({tp['cycles_per_s']} cycles/s); golden-only "
          f"{tp['golden_timesteps_per_s']} timesteps/s")
    print(f"time: total {bd['total']} s = RTL {bd['rtl_simulation']} + device/agent {bd['device_model_and_agent']} "
          f"+ Python/cocotb glue {bd['python_cocotb_glue']} s; golden run {bd['golden_run']} s")
    if "digits" in s:
        d = s["digits"]
        eng = ", ".join(f"{k} {v:.3f}" for k, v in d["accuracy_engine"].items())
        print(f"digits: accuracy cosim {d['accuracy_cosim']:.3f} vs float twin {d['accuracy_float']:.3f}, engine {eng} "
              f"({d['train_samples']} training, {d['test_samples']} test samples); receptive fields matched "
              f"correlation {d['receptive_fields']['matched_corr']:.3f}")
    if not s["equivalent"]:
        print(f"first mismatch: {s['first_mismatch']}")
    if out is not None:
        print(f"results in {out}")
    emit_json(args, s)
    return 0 if s["equivalent"] else 1
