"""Example figure of the simulated event camera: one 8x8 digit recorded in three saccades.

Left: the static image.  Middle: every event in the sensor plane, ON (log intensity rising) and
OFF (falling) in two panels, each event drawn at its pixel with a small offset by its time so the
pixels' event trains are visible.  Right: ON and OFF events per 5 ms bin over the recording, the
saccade boundaries marked.  Parameters are the shipped ``event_digits`` preset's ``task.events``.

    python benchmarks/event_digits_example.py [--index 0] [--seed 0] [--out results/event_digits_example.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from hwsnn.config import load_config, preset_path
from hwsnn.io import save_figure
from hwsnn.tasks.datasets import load_dataset
from hwsnn.tasks.events import event_counts


def main(argv=None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=int, default=0, help="training sample to record (default 0)")
    ap.add_argument("--seed", type=int, default=0, help="dataset / sensor seed (default 0)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "event_digits_example.png"))
    args = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cfg = load_config(preset_path("event_digits"))
    p = cfg.task.events
    ds = load_dataset("event_digits", seed=args.seed, events=p)
    img = ds.images_train[args.index]
    ev = ds.events("train", args.index)
    label = int(ds.y_train[args.index])
    h, w = ds.sensor_shape
    dur = p.duration
    on, off = ev[ev["p"] == 1], ev[ev["p"] == 0]
    c = event_counts(ev, (h, w))

    fig, axes = plt.subplots(1, 4, figsize=(15, 3.9), gridspec_kw={"width_ratios": [1, 1, 1, 1.6]})
    ax = axes[0]
    ax.imshow(img, cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"image (label {label})")
    ax.set_xlabel("x (pixel column)")
    ax.set_ylabel("y (pixel row)")
    for ax, sub, name, color in ((axes[1], on, "ON", "tab:red"), (axes[2], off, "OFF", "tab:blue")):
        # each pixel is a cell; its events are spread along the cell's diagonal by time
        frac = sub["t"] / dur - 0.5
        ax.scatter(sub["x"] + 0.8 * frac, sub["y"] + 0.8 * frac, s=5, color=color, alpha=0.6, lw=0)
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        ax.set_aspect("equal")
        ax.set_xticks(range(w))
        ax.set_yticks(range(h))
        ax.grid(alpha=0.2)
        ax.set_title(f"{name} events ({sub.size}); along a cell: time")
        ax.set_xlabel("x (pixel column)")
        ax.set_ylabel("y (pixel row)")
    ax = axes[3]
    bins = np.arange(0.0, dur + 1e-9, 0.005)
    ax.hist(on["t"] * 1e3, bins=bins * 1e3, histtype="step", color="tab:red", lw=1.4, label=f"ON ({on.size})")
    ax.hist(off["t"] * 1e3, bins=bins * 1e3, histtype="step", color="tab:blue", lw=1.4, label=f"OFF ({off.size})")
    for k in (1, 2):
        ax.axvline(k * p.saccade_duration * 1e3, color="gray", ls="--", lw=1)
    ax.set_xlabel("time in the recording (ms); dashed: saccade boundaries")
    ax.set_ylabel("events per 5 ms bin")
    ax.set_title("event counts over time")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.suptitle(f"Simulated event camera, three saccades of {p.amplitude:g} px and {p.saccade_duration * 1e3:g} ms; "
                 f"thresholds {p.threshold_on:g} / {p.threshold_off:g} (ln units), noise {p.noise_rate:g} Hz/pixel, "
                 f"jitter {p.jitter * 1e6:g} us; {ev.size} events, ON/OFF balance per pixel "
                 f"max |ON - OFF| = {int(np.abs(c[1] - c[0]).max())}", fontsize=9)
    fig.tight_layout()
    out = Path(args.out)
    save_figure(fig, out)
    print(out)
    return out


if __name__ == "__main__":
    main()
