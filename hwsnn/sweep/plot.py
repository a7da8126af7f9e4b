"""Figures of a sweep's results folder: one PNG and one SVG per metric.

One axis: the metric against the axis, mean over repeats with error bars of one standard
deviation.  Two axes: a heatmap of the mean (grid designs) or a scatter coloured by the metric
(random / lhs designs).  More axes: one panel per axis, the metric against that axis averaged over
the others.  Axis labels carry the field's unit, read from the field's documentation
(``(s)``, ``(V)``, ``in siemens``...) or from a small table keyed by the field name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from hwsnn.errors import HwsnnError

__all__ = ["plot_results", "field_unit", "axis_label"]

_DOC_UNITS = [
    (r"\(s\)|\bseconds\b|\(s;", "s"), (r"\(V\)|\bvolts\b|\(V;", "V"), (r"\(Hz\)|\(Hz;|\bhertz\b", "Hz"),
    (r"\bsiemens\b|\(S\)", "S"), (r"\bfarads\b", "F"), (r"\bohms\b", "Ω"), (r"1/V\b", "1/V"),
]
_NAME_UNITS = {  # field name suffix -> unit, when the documentation names none
    "g_min": "S", "g_max": "S", "_tau": "s", "tau": "s", "_t0": "s", "t_read": "s", "pulse_width": "s",
    "dt": "s", "t_present": "s", "t_rest": "s", "verify_wait": "s", "max_rate": "Hz", "voltage": "V",
    "v_read": "V", "line_cap": "F", "r_wire": "Ω", "p_stuck_min": "probability", "p_stuck_max": "probability",
    "p_stuck_random": "probability", "levels": "levels", "bits": "bits",
}


def _field_doc(path: str) -> str:
    """The documentation of a dotted config field ('' when it cannot be found)."""
    from hwsnn.config import load_config
    from hwsnn.config.legacy import split_path

    try:
        parts = split_path(path)
    except Exception:  # noqa: BLE001
        return ""
    if len(parts) >= 3 and parts[:3] == ["synapse", "device", "params"] and len(parts) == 4:
        from hwsnn.config.reference import _attribute_docs
        from hwsnn.devices.params import DeviceParams

        return _attribute_docs(DeviceParams).get(str(parts[3]), "")
    obj: Any = load_config(None)
    for part in parts[:-1]:
        try:
            obj = obj[part] if isinstance(part, int) else getattr(obj, part)
        except (AttributeError, IndexError, KeyError, TypeError):
            return ""
    fields = getattr(type(obj), "model_fields", None)
    if fields and parts[-1] in fields:
        return fields[parts[-1]].description or ""
    return ""


def field_unit(path: str) -> str:
    """Unit of a config field from its documentation or name ('' when dimensionless / unknown)."""
    doc = _field_doc(path)
    for pat, unit in _DOC_UNITS:
        if re.search(pat, doc):
            return unit
    name = path.rsplit(".", 1)[-1]
    for suffix, unit in _NAME_UNITS.items():
        if name == suffix or name.endswith(suffix):
            return unit
    return ""


def axis_label(path: str, label: str = "") -> str:
    """``label`` or ``name (unit)``."""
    if label:
        return label
    unit = field_unit(path)
    name = path.rsplit(".", 1)[-1]
    return f"{name} ({unit})" if unit else name


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, base: Path) -> list[Path]:
    out = []
    for ext in ("png", "svg"):
        p = base.with_suffix(f".{ext}")
        fig.savefig(p, dpi=130, bbox_inches="tight")
        out.append(p)
    _plt().close(fig)
    return out


def plot_results(root: str | Path, out: str | Path | None = None, metrics: list[str] | None = None) -> list[Path]:
    """Write the figures of results folder ``root`` into ``out`` (default ``root/_plots``); returns the files."""
    from hwsnn.sweep.store import read_results

    root = Path(root)
    spec_file = root / "_spec.json"
    if not spec_file.exists():
        raise HwsnnError(f"{root}: not a sweep results folder (no _spec.json)")
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    df = read_results(root)
    ok = df[df["status"] == "ok"]
    if ok.empty:
        raise HwsnnError(f"{root}: no successful unit to plot")
    metrics = metrics or spec.get("metrics") or ["accuracy"]
    for m in metrics:
        if m not in df.columns:
            raise HwsnnError(f"--metric: no column {m!r} in {root} (columns: {', '.join(df.columns)})")
    axes = spec["axes"]
    paths = [a["path"] for a in axes]
    outdir = Path(out) if out else root / "_plots"
    outdir.mkdir(parents=True, exist_ok=True)
    plt = _plt()
    title = spec.get("name") or root.name
    files: list[Path] = []
    for m in metrics:
        if len(axes) == 2 and spec.get("design") == "grid":
            fig, ax = plt.subplots(figsize=(6, 4.6))
            piv = ok.groupby(paths)[m].mean().unstack(paths[1])
            im = ax.imshow(piv.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(piv.shape[1]), [f"{v:.3g}" if isinstance(v, float) else str(v) for v in piv.columns],
                          rotation=45)
            ax.set_yticks(range(piv.shape[0]), [f"{v:.3g}" if isinstance(v, float) else str(v) for v in piv.index])
            for (i, j), v in np.ndenumerate(piv.to_numpy(float)):
                if np.isfinite(v):
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="w")
            ax.set_xlabel(axis_label(paths[1], axes[1].get("label", "")))
            ax.set_ylabel(axis_label(paths[0], axes[0].get("label", "")))
            fig.colorbar(im, ax=ax, label=f"{m} (mean of repeats)")
        elif len(axes) == 2:
            fig, ax = plt.subplots(figsize=(6, 4.6))
            g = ok.groupby("point")
            sc = ax.scatter(g[paths[1]].first(), g[paths[0]].first(), c=g[m].mean(), cmap="viridis")
            for k, a in enumerate(axes):
                if a.get("log"):
                    (ax.set_yscale if k == 0 else ax.set_xscale)("log")
            ax.set_xlabel(axis_label(paths[1], axes[1].get("label", "")))
            ax.set_ylabel(axis_label(paths[0], axes[0].get("label", "")))
            fig.colorbar(sc, ax=ax, label=f"{m} (mean of repeats)")
        else:
            fig, axs = plt.subplots(1, len(axes), figsize=(5.2 * len(axes), 4), squeeze=False)
            for ax, a in zip(axs[0], axes):
                p = a["path"]
                g = ok.groupby(p)[m]
                mean, std = g.mean(), g.std(ddof=0).fillna(0.0)
                ax.errorbar(mean.index, mean.to_numpy(), yerr=std.to_numpy(), fmt="o-", capsize=3)
                if a.get("log"):
                    ax.set_xscale("log")
                ax.set_xlabel(axis_label(p, a.get("label", "")))
                ax.set_ylabel(f"{m} (mean ± std over repeats)" if len(axes) == 1 else f"{m} (mean over the rest)")
                ax.grid(alpha=0.3)
        fig.suptitle(title)
        files += _save(fig, outdir / m)
    return files
