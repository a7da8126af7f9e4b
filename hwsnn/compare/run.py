"""Run a comparison (one sweep per mechanism and axis) and write its table, figures and claim verdicts.

Layout of the results folder::

    DIR/cells/<mechanism>/<dataset>/nominal/       sweep over synapse.backend (x seeds)
    DIR/cells/<mechanism>/<dataset>/r<k>-<field>/   the same x robustness axis k
    DIR/results.parquet, results.csv        every unit of every sweep, with mechanism and axis columns
    DIR/table.csv, DIR/summary.md           mean ± std accuracy and run time per cell, k-means, claims
    DIR/robustness_<k>_<field>.png/.svg     accuracy vs each robustness axis, one line per mechanism

The cell sweeps are ordinary sweep folders (``hwsnn plot`` reads them; re-running resumes them).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hwsnn.compare.spec import CompareSpec, Robustness
from hwsnn.errors import HwsnnError

__all__ = ["plan_sweeps", "run_compare", "summarise", "summarise_robustness", "evaluate_claims", "CompareReport"]

NOMINAL = "nominal"
"""Folder (and ``axis`` column value) of a mechanism's sweep without a robustness axis."""


@dataclass
class CompareReport:
    """What :func:`run_compare` did and found."""

    out: Path
    units: int = 0
    ran: int = 0
    failed: int = 0
    seconds: float = 0.0
    table: Any = None
    claims: list[dict] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    robustness: Any = None
    """:func:`summarise_robustness` of the run (a DataFrame, empty without robustness axes)."""


def _axis_dir(k: int, r: Robustness) -> str:
    return f"r{k}-{r.path.replace('[', '_').replace(']', '').replace('.', '_')}"


def plan_sweeps(spec: CompareSpec, base_dir: Path | None = None) -> list[tuple[str, str, str, Any]]:
    """``(mechanism, dataset, axis folder, ResolvedSpec)`` of every cell sweep -- per mechanism and
    dataset, one sweep over ``synapse.backend`` (x a robustness axis) -- each validated (errors name
    the mechanism or robustness entry of the comparison spec)."""
    from hwsnn.errors import ConfigError
    from hwsnn.sweep.spec import ResolvedSpec, SweepSpec, _base_path, plan_units

    out = []
    for i, m in enumerate(spec.mechanisms):
        try:
            base = _base_path(m.base, base_dir)
        except ConfigError as exc:
            raise ConfigError(f"mechanisms[{i}].base", exc.message) from None
        for ds in spec.datasets:
            common = {**spec.set, **spec.dataset_set.get(ds, {}), **m.set, "task.dataset": ds,
                      "task.baseline": "none"}
            jobs = [(NOMINAL, spec.backends, None, -1)]
            jobs += [(_axis_dir(k, r), r.backends or spec.backends, r, k) for k, r in enumerate(spec.robustness)
                     if ds in (r.datasets or spec.datasets)]
            for name, backends, r, k in jobs:
                axes = [{"path": "synapse.backend", "values": list(backends)}]
                if r is not None:
                    axes.append({"path": r.path, "values": list(r.values), "label": r.label})
                # the k-means reference depends on the dataset and seed only: computed once
                kmeans = bool(spec.kmeans and i == 0 and r is None)
                sw = SweepSpec(name=f"{spec.name or 'compare'}: {m.name} {ds} {name}", base=str(base),
                               set={**common, "task.kmeans": kmeans}, axes=axes, design="grid",
                               repeats=spec.repeats, seed=spec.seed, paired=True,
                               metrics=["accuracy", "kmeans_accuracy"] if kmeans else ["accuracy"])
                rs = ResolvedSpec(sw, base)
                try:
                    plan_units(rs)
                except ConfigError as exc:
                    where = f"mechanisms[{i}]" if r is None else f"robustness[{k}]"
                    raise ConfigError(where, f"{m.name} on {ds}: {exc}") from None
                out.append((m.name, ds, name, rs))
    return out


def run_compare(spec: CompareSpec, out: str | Path, *, base_dir: Path | None = None, workers: int | None = None,
                scheduler: str | None = None, dask_local: int | None = None, threads: int | None = None,
                retry_failed: bool = False, progress: bool = True, log: Callable[[str], None] | None = None,
                unit=None, figures: bool = True) -> CompareReport:
    """Run every cell sweep of ``spec`` into ``out`` (resuming), then summarise (see the module doc)."""
    import time

    from hwsnn.sweep import read_results, run_sweep
    from hwsnn.sweep.work import open_executor, run_unit

    log = log or (lambda msg: print(msg, file=sys.stderr))
    out = Path(out)
    t0 = time.perf_counter()
    rep = CompareReport(out)
    frames = []
    cells = plan_sweeps(spec, base_dir)
    # one executor for every cell: a process pool or Dask cluster is started once, not per cell
    with open_executor(workers, scheduler=scheduler, dask_local=dask_local, threads=threads) as info:
        for mech, ds, axis, rs in cells:
            folder = out / "cells" / mech / ds / axis
            log(f"{mech} / {ds} / {axis}")
            r = run_sweep(rs, folder, workers=workers, scheduler=scheduler, dask_local=dask_local, threads=threads,
                          retry_failed=retry_failed, progress=progress, log=log, unit=unit or run_unit,
                          executor=info)
            rep.units += r.total
            rep.ran += r.ran
            df = read_results(folder)
            rep.failed += int((df["status"] != "ok").sum())
            df.insert(0, "task.dataset", ds)
            df.insert(0, "axis", axis)
            df.insert(0, "mechanism", mech)
            frames.append(df)
    import pandas as pd

    from hwsnn.io import atomic_write

    allrows = pd.concat(frames, ignore_index=True)
    atomic_write(out / "results.parquet", lambda tmp: allrows.to_parquet(tmp, index=False))
    atomic_write(out / "results.csv", lambda tmp: allrows.to_csv(tmp, index=False))
    rep.table = summarise(spec, allrows)
    atomic_write(out / "table.csv", lambda tmp: rep.table.to_csv(tmp, index=False))
    rep.claims = evaluate_claims(spec, allrows)
    rep.robustness = summarise_robustness(spec, allrows)
    atomic_write(out / "robustness.csv", lambda tmp: rep.robustness.to_csv(tmp, index=False))
    if figures:
        rep.figures = robustness_figures(spec, rep.robustness, out)
    from hwsnn.io import write_text

    write_text(out / "summary.md", summary_markdown(spec, rep))
    rep.seconds = time.perf_counter() - t0
    return rep


def _ok(df):
    return df[df["status"] == "ok"]


def summarise(spec: CompareSpec, df) -> Any:
    """Nominal cells: mechanism, dataset, backend, seeds, mean / std accuracy, mean run time; plus one
    k-means row per dataset (mechanism ``k-means``)."""
    import pandas as pd

    nom = df[df["axis"] == NOMINAL]
    rows = []
    order = {m.name: i for i, m in enumerate(spec.mechanisms)}
    for (mech, ds, be), g in nom.groupby(["mechanism", "task.dataset", "synapse.backend"], sort=False):
        ok = _ok(g)
        rows.append({"mechanism": mech, "dataset": ds, "backend": be, "seeds": int(len(ok)),
                     "failed": int(len(g) - len(ok)), "accuracy_mean": float(ok["accuracy"].mean()),
                     "accuracy_std": float(ok["accuracy"].std(ddof=1)) if len(ok) > 1 else float("nan"),
                     "run_s_mean": float(ok["wall_s"].mean()), "_o": (order[mech], ds, be)})
    if spec.kmeans and "kmeans_accuracy" in nom.columns:
        km = _ok(nom[nom["mechanism"] == spec.mechanisms[0].name])
        for ds, g in km.groupby("task.dataset", sort=False):
            per_seed = g.groupby("seed")["kmeans_accuracy"].first().dropna()
            if len(per_seed):
                rows.append({"mechanism": "k-means", "dataset": ds, "backend": "-", "seeds": int(len(per_seed)),
                             "failed": 0, "accuracy_mean": float(per_seed.mean()),
                             "accuracy_std": float(per_seed.std(ddof=1)) if len(per_seed) > 1 else float("nan"),
                             "run_s_mean": float("nan"), "_o": (len(order), ds, "-")})
    t = pd.DataFrame(rows)
    if t.empty:
        return t
    return t.sort_values("_o", key=lambda s: s.map(str)).drop(columns="_o").reset_index(drop=True)


def _cell(df, mech: str, ds: str, be: str, path: str, value):
    sel = df[(df["mechanism"] == mech) & (df["task.dataset"] == ds) & (df["synapse.backend"] == be)]
    if path:
        sel = sel[(sel["axis"] != NOMINAL) & (sel[path] == value)] if path in sel.columns else sel.iloc[0:0]
    else:
        sel = sel[sel["axis"] == NOMINAL]
    return _ok(sel).groupby("seed")["accuracy"].first()


def evaluate_claims(spec: CompareSpec, df) -> list[dict]:
    """Verdict of every claim: paired (same seeds) one-sided t-test of ``better - than`` > 0.

    ``reproduced`` when the mean difference is positive with p < alpha; ``not reproduced`` otherwise;
    ``not testable`` with fewer than two paired seeds.
    """
    from scipy import stats

    out = []
    for c in spec.claims:
        a = _cell(df, c.better, c.dataset, c.backend, c.path, c.value)
        b = _cell(df, c.than, c.dataset, c.backend, c.path, c.value)
        seeds = sorted(set(a.index) & set(b.index))
        d = np.array([a[s] - b[s] for s in seeds], float)
        res = {"text": c.text, "better": c.better, "than": c.than, "dataset": c.dataset, "backend": c.backend,
               "where": f"{c.path} = {c.value}" if c.path else "nominal", "seeds": len(seeds),
               "better_mean": float(a[seeds].mean()) if seeds else float("nan"),
               "than_mean": float(b[seeds].mean()) if seeds else float("nan"),
               "diff_mean": float(d.mean()) if d.size else float("nan"), "p": float("nan")}
        if d.size < 2:
            res["verdict"] = "not testable (fewer than 2 paired seeds)"
        elif np.all(d == d[0]):  # no spread: the t-test is undefined; a constant positive gain is a gain
            res["p"] = 0.0 if d[0] > 0 else 1.0
            res["verdict"] = "reproduced" if d[0] > 0 else "not reproduced"
        else:
            p = float(stats.ttest_rel(a[seeds], b[seeds], alternative="greater").pvalue)
            res["p"] = p
            res["verdict"] = "reproduced" if (d.mean() > 0 and p < c.alpha) else "not reproduced"
        out.append(res)
    return out


def summarise_robustness(spec: CompareSpec, df) -> Any:
    """Every robustness cell: ``axis`` (its index in the spec), ``path``, ``value``, mechanism,
    dataset, backend, seeds and mean / std accuracy over the seeds, in spec order."""
    import pandas as pd

    rows = []
    for k, r in enumerate(spec.robustness):
        sub = _ok(df[df["axis"] == _axis_dir(k, r)])
        for ds in r.datasets or spec.datasets:
            for be in r.backends or spec.backends:
                for m in spec.mechanisms:
                    g = sub[(sub["mechanism"] == m.name) & (sub["task.dataset"] == ds) & (sub["synapse.backend"] == be)]
                    for v, gv in (g.groupby(r.path, sort=True) if not g.empty else ()):
                        acc = gv["accuracy"]
                        rows.append({"axis": k, "path": r.path, "value": v, "mechanism": m.name, "dataset": ds,
                                     "backend": be, "seeds": int(len(acc)), "accuracy_mean": float(acc.mean()),
                                     "accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else float("nan")})
    cols = ["axis", "path", "value", "mechanism", "dataset", "backend", "seeds", "accuracy_mean", "accuracy_std"]
    return pd.DataFrame(rows, columns=cols)


def robustness_figures(spec: CompareSpec, rob, out: Path) -> list[Path]:
    """Accuracy (mean ± std over seeds) vs each robustness axis, one line per mechanism, one panel per
    (dataset, backend); ``rob`` is :func:`summarise_robustness`'s table."""
    from hwsnn.sweep.plot import _plt, _save, axis_label

    files: list[Path] = []
    if not spec.robustness:
        return files
    plt = _plt()
    for k, r in enumerate(spec.robustness):
        sub = rob[rob["axis"] == k]
        cells = [(d, b) for d in (r.datasets or spec.datasets) for b in (r.backends or spec.backends)]
        fig, axs = plt.subplots(1, len(cells), figsize=(4.6 * len(cells), 3.8), squeeze=False)
        for ax, (ds, be) in zip(axs[0], cells):
            for m in spec.mechanisms:
                g = sub[(sub["mechanism"] == m.name) & (sub["dataset"] == ds) & (sub["backend"] == be)]
                if g.empty:
                    continue
                ax.errorbar(g["value"].tolist(), g["accuracy_mean"].to_numpy(),
                            yerr=g["accuracy_std"].fillna(0.0).to_numpy(), fmt="o-", capsize=3, label=m.name)
            ax.set_xlabel(axis_label(r.path, r.label))
            ax.set_ylabel("test accuracy (mean ± std over seeds)")
            ax.set_title(f"{ds}, {be}")
            ax.grid(alpha=0.3)
        axs[0][0].legend(fontsize=8)
        fig.suptitle(f"{spec.name or 'comparison'}: accuracy vs {axis_label(r.path, r.label)}")
        files += _save(fig, out / f"robustness_{k}_{r.path.replace('.', '_')}")
    return files


def _fmt(v: float, pct: bool = True) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{100 * v:.1f}" if pct else f"{v:.3g}"


def summary_markdown(spec: CompareSpec, rep: CompareReport) -> str:
    """The table and the claim verdicts as Markdown."""
    lines = [f"# {spec.name or 'Comparison'}", "", spec.description, "",
             f"{rep.units} unit(s), {rep.failed} failed; accuracy in %, mean ± std over seeds (paired: the same "
             "seeds for every mechanism).", "",
             "| mechanism | dataset | backend | accuracy | seeds | s / run |", "|---|---|---|---|---|---|"]
    t = rep.table
    if t is not None and len(t):
        for row in t.itertuples(index=False):
            lines.append(f"| {row.mechanism} | {row.dataset} | {row.backend} | {_fmt(row.accuracy_mean)} ± "
                         f"{_fmt(row.accuracy_std)} | {row.seeds}{f' ({row.failed} failed)' if row.failed else ''} | "
                         f"{_fmt(row.run_s_mean, False)} |")
    if rep.claims:
        lines += ["", "## Claims", "", "| claim | cell | better | than | difference | p (paired, one-sided) | verdict |",
                  "|---|---|---|---|---|---|---|"]
        for c in rep.claims:
            lines.append(f"| {c['text']} | {c['dataset']}, {c['backend']}, {c['where']} | {c['better']} "
                         f"{_fmt(c['better_mean'])} | {c['than']} {_fmt(c['than_mean'])} | "
                         f"{_fmt(c['diff_mean'])} points | {_fmt(c['p'], False)} | {c['verdict']} |")
    rob = rep.robustness
    if rob is not None and len(rob):
        lines += ["", "## Robustness", "", "Accuracy in %, mean ± std over the paired seeds, per value of each axis."]
        for k, r in enumerate(spec.robustness):
            sub = rob[rob["axis"] == k]
            values = sorted(sub["value"].unique())
            for (ds, be), g in sub.groupby(["dataset", "backend"], sort=False):
                lines += ["", f"**{axis_label_text(r)}** — {ds}, {be}", "",
                          "| mechanism | " + " | ".join(f"{v:g}" for v in values) + " |",
                          "|---|" + "---|" * len(values)]
                for mech, gm in g.groupby("mechanism", sort=False):
                    by = dict(zip(gm["value"], zip(gm["accuracy_mean"], gm["accuracy_std"])))
                    cells = [f"{_fmt(by[v][0])} ± {_fmt(by[v][1])}" if v in by else "-" for v in values]
                    lines.append(f"| {mech} | " + " | ".join(cells) + " |")
    if rep.figures:
        lines += ["", "Figures: " + ", ".join(p.name for p in rep.figures if p.suffix == ".png")]
    return "\n".join(lines) + "\n"


def axis_label_text(r: Robustness) -> str:
    """A robustness axis as its label and path, e.g. ``event time jitter (s) (task.events.jitter)``."""
    return f"{r.label} (`{r.path}`)" if r.label else f"`{r.path}`"
