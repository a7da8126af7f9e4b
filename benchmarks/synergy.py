"""Multi-plasticity synergy experiment: plain STDP, each mechanism added alone, synergy with fixed
equal and with adaptive weights, on ideal and STO-crossbar synapses (and the crossbar with 30 %
device-to-device variation), several seeds; writes one JSON line per run.

    python benchmarks/synergy.py --dataset digits --seeds 0,1,2,3,4 --out results/synergy_digits.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from hwsnn.engine.rules import HeteroSTDP, SynapticScaling
from hwsnn.engine.synergy import SynergyConfig
from hwsnn.tasks.datasets import load_dataset
from hwsnn.tasks.wta import WTAConfig, engine_config, train_and_evaluate

VARIANTS = ("stdp", "hetero", "homeo", "equal", "credit", "es", "components")
HETERO = dict(eta=0.002, x_th=0.05)
SCALING = dict(eta=0.005)


def variant_config(variant: str, backend: str, base: WTAConfig):
    cfg = engine_config(base, backend)
    stdp = cfg.rules[0]
    three = [stdp, HeteroSTDP(**HETERO), SynapticScaling(**SCALING)]
    rules, syn = {
        "stdp": ([stdp], None),
        "hetero": ([stdp, HeteroSTDP(**HETERO)], None),
        "homeo": ([stdp, SynapticScaling(**SCALING)], None),
        "equal": (three, SynergyConfig(form="shared")),
        "credit": (three, SynergyConfig(form="shared", adapt="credit")),
        "es": (three, SynergyConfig(form="shared", adapt="es")),
        "components": (three, SynergyConfig(form="components", adapt="es")),
    }[variant]
    cfg.rules, cfg.synergy = rules, syn
    return cfg


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
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for setting in a.settings.split(","):
        backend = setting.split("_")[0]
        opts = {"d2d": 0.3} if setting.endswith("d2d30") else {}
        if a.dataset == "mnist":
            base = WTAConfig(n_exc=a.n_exc, norm_per_input=0.1, nu_post=0.01, crossbar_nu_post=0.075, device_options=opts)
        else:
            base = WTAConfig(n_exc=a.n_exc, device_options=opts)
        for v in a.variants.split(","):
            for seed in (int(s) for s in a.seeds.split(",")):
                ds = load_dataset(a.dataset, seed=seed)
                t0 = time.perf_counter()
                r = train_and_evaluate(variant_config(v, backend, base), ds, backend, seed, a.epochs,
                                       n_train=a.n_train or None, n_test=a.n_test or None)
                lam = r["lambda_history"]
                row = {"dataset": a.dataset, "setting": setting, "variant": v, "seed": seed,
                       "accuracy": r["accuracy"], "seconds": time.perf_counter() - t0,
                       "lambda_final": lam[-1].tolist(), "lambda_mean_last": lam[-200:].mean(axis=0).tolist(),
                       "lambda_trajectory": lam[:: max(1, len(lam) // 200)].tolist()}
                with out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"{setting:16s} {v:10s} seed {seed}: {r['accuracy']:.3f} ({row['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
