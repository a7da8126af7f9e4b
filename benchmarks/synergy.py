"""Multi-plasticity synergy experiment: plain STDP, each mechanism added alone, synergy with fixed
equal and with adaptive weights, on ideal and STO-crossbar synapses (and the crossbar with 30 %
device-to-device variation), several seeds; writes one JSON line per run.

    python benchmarks/synergy.py --dataset digits --seeds 0,1,2,3,4 --out results/synergy_digits.jsonl
    python benchmarks/synergy.py summary results/synergy_digits.jsonl results/synergy_lambda.png
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from hwsnn.config import load_config, preset_path
from hwsnn.tasks.datasets import load_dataset
from hwsnn.tasks.wta import train_and_evaluate

VARIANTS = ("stdp", "hetero", "homeo", "equal", "credit", "es", "components")
STDP = {"kind": "triplet_stdp"}
HETERO = {"kind": "hetero_stdp", "eta": 0.002, "x_th": 0.05}
SCALING = {"kind": "synaptic_scaling", "eta": 0.005}


def variant_config(variant: str, backend: str, dataset: str, n_exc: int, d2d: float | None, norm: bool = True,
                   scaling_eta: float | None = None):
    """The ``hwsnn run`` config of one variant (the shipped synergy presets are these).  ``norm=False``
    switches the per-sample column normalisation off (``homeostasis.norm_per_input = 0``): with it on,
    normalisation restores every column's sum before the next sample, which cancels any per-column
    multiplicative scaling."""
    preset = "mnist100" if dataset == "mnist" else "default"
    stdp = dict(load_config(preset_path(preset)).rules[0].model_dump())
    scaling = SCALING if scaling_eta is None else {**SCALING, "eta": scaling_eta}
    three = [stdp, HETERO, scaling]
    rules, syn = {
        "stdp": ([stdp], {}),
        "hetero": ([stdp, HETERO], {}),
        "homeo": ([stdp, scaling], {}),
        "equal": (three, {"form": "shared"}),
        "credit": (three, {"form": "shared", "adapt": "credit"}),
        "es": (three, {"form": "shared", "adapt": "es"}),
        "components": (three, {"form": "components", "adapt": "es"}),
    }[variant]
    ov = {"rules": rules, "synergy": syn, "synapse.backend": backend, "network.n_exc": n_exc}
    if d2d is not None:
        ov["synapse.device.params"] = {"d2d": d2d}
    if not norm:
        ov["homeostasis.norm_per_input"] = 0.0
    return load_config(preset_path(preset), ov)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--settings", default="ideal,crossbar,crossbar_d2d30")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--n-exc", type=int, default=100)
    ap.add_argument("--n-train", type=int, default=0)
    ap.add_argument("--n-test", type=int, default=0)
    ap.add_argument("--scaling-eta", type=float, default=None, help="synaptic scaling's eta (default 0.005)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for setting in a.settings.split(","):
        backend = setting.split("_")[0]
        d2d = 0.3 if "d2d30" in setting else None
        norm = "nonorm" not in setting  # e.g. ideal_nonorm: no per-sample column normalisation
        for v in a.variants.split(","):
            for seed in (int(s) for s in a.seeds.split(",")):
                ds = load_dataset(a.dataset, seed=seed)
                t0 = time.perf_counter()
                cfg = variant_config(v, backend, a.dataset, a.n_exc, d2d, norm, a.scaling_eta)
                r = train_and_evaluate(cfg, ds, backend, seed, a.epochs,
                                       n_train=a.n_train or None, n_test=a.n_test or None)
                lam = r["lambda_history"]
                row = {"dataset": a.dataset, "setting": setting, "variant": v, "seed": seed,
                       **({"scaling_eta": a.scaling_eta} if a.scaling_eta is not None else {}),
                       "accuracy": r["accuracy"], "seconds": time.perf_counter() - t0,
                       "lambda_final": lam[-1].tolist(), "lambda_mean_last": lam[-200:].mean(axis=0).tolist(),
                       "lambda_trajectory": lam[:: max(1, len(lam) // 200)].tolist()}
                with out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"{setting:16s} {v:10s} seed {seed}: {r['accuracy']:.3f} ({row['seconds']:.0f} s)", flush=True)




def summarise(path: Path, png: Path | None = None) -> str:
    """Markdown table (mean +- std per setting and variant) and, with ``png``, the lambda trajectories."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["setting"], r["variant"]), []).append(r)
    out = ["| dataset | synapses | variant | accuracy (mean ± std) | seeds | per seed | s / run |", "|---|---|---|---|---|---|---|"]
    for (ds, setting, v), rs in groups.items():
        acc = np.array([r["accuracy"] for r in rs]) * 100
        per = " / ".join(f"{a:.1f}" for a in acc)
        secs = np.mean([r["seconds"] for r in rs])
        out.append(f"| {ds} | {setting} | {v} | {acc.mean():.1f} ± {acc.std():.1f} | {len(rs)} | {per} | {secs:.0f} |")
    if png is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        adaptive = [(k, rs) for k, rs in groups.items() if k[2] in ("credit", "es", "components")]
        if adaptive:
            fig, axes = plt.subplots(1, len(adaptive), figsize=(4 * len(adaptive), 3.4), squeeze=False, sharey=True)
            names = ["triplet STDP", "hetero STDP", "synaptic scaling"]
            for ax, ((ds, setting, v), rs) in zip(axes[0], adaptive):
                for k, r in enumerate(rs):
                    lam = np.array(r["lambda_trajectory"])
                    x = np.linspace(0, 1, lam.shape[0])
                    for m in range(lam.shape[1]):
                        ax.plot(x, lam[:, m], color=f"C{m}", alpha=0.6, lw=1, label=names[m] if k == 0 else None)
                ax.set_title(f"{ds}, {setting}, {v}", fontsize=9)
                ax.set_xlabel("fraction of training")
                ax.grid(alpha=0.3)
            axes[0][0].set_ylabel("mechanism weight lambda")
            axes[0][0].legend(fontsize=7)
            fig.suptitle("Adaptive mechanism weights over training (one line per seed)", fontsize=10)
            fig.tight_layout()
            fig.savefig(png, dpi=110)
    return "\n".join(out)


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "summary":  # python benchmarks/synergy.py summary RESULTS.jsonl [PLOT.png]
        print(summarise(Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None))
    else:
        main()
