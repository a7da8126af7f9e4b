"""`hwsnn plot DIR`: figures of a sweep results folder (one PNG and SVG per metric).

One swept axis: the metric against it with error bars across repeats; two axes: a heatmap;
more: one panel per axis.  Files go to ``DIR/_plots`` unless ``--out`` says otherwise.
"""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("plot", help="plot a sweep results folder (metric vs axis, heatmaps; PNG + SVG)",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("dir", metavar="DIR", help="results folder written by hwsnn sweep")
    p.add_argument("--metric", action="append", metavar="NAME",
                   help="metric column to plot (repeatable; default: the spec's metrics)")
    p.add_argument("--out", metavar="DIR", help="folder of the figures (default DIR/_plots)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from hwsnn.sweep.plot import plot_results

    files = plot_results(args.dir, args.out, args.metric)
    for f in files:
        print(f)
    return 0
