"""Benchmark harness: each suite module exposes ``run(quick: bool, out_dir: Path) -> dict``.

A suite measures hwsnn next to its comparison *in the same run* (NumPy reference, Brian2,
1 vs 2 threads, memory-copy bandwidth) and reports ratios; the returned dict holds a
``"table"`` of row dicts that ``hwsnn bench`` prints and stores as JSON.
"""

SUITES = {
    "devices": "hwsnn.bench.devices",
    "snn": "hwsnn.bench.snn",
    "rtl": "hwsnn.bench.rtl",
    "coldstart": "hwsnn.bench.coldstart",
}
"""Suite name -> module."""
