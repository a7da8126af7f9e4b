"""The results store of a sweep: one Parquet file per completed unit plus a compacted table.

Layout of a results folder ``DIR``::

    DIR/results.parquet        compacted table, one row per (point, repeat)  <- pandas.read_parquet(DIR)
    DIR/_points/pPPPPP-rRRR.parquet   one file per completed unit (the source of truth)
    DIR/_spec.json             the spec the folder belongs to (canonical form)
    DIR/_lock                  held while a sweep writes the folder
    DIR/_plots/                hwsnn plot's figures

Names starting with ``_`` or ``.`` are skipped by Parquet dataset readers, so
``pandas.read_parquet(DIR)`` reads exactly the compacted table.

**Atomicity.**  Every file is written by :func:`hwsnn.io.atomic_write` to a temporary name in the
same folder, flushed to disk (``fsync``), then renamed over its final name with
:func:`os.replace` (atomic on POSIX), so a reader or a
``kill -9`` sees either the old or the new file, never a partial one.  Only the driver process
writes (workers return rows), under a :class:`filelock.FileLock`.  The compacted table is
rewritten after completions (at most once per ``compact_every`` seconds) and at the end; if the
driver is killed in between, the next run re-compacts from ``_points`` first, and
:func:`read_results` always merges the point files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from hwsnn.errors import HwsnnError
from hwsnn.io import atomic_write

__all__ = ["ResultStore", "read_results", "row_schema"]

BASE_COLUMNS = [
    ("point", pa.int64()), ("repeat", pa.int64()), ("seed", pa.int64()), ("config_hash", pa.string()),
    ("status", pa.string()), ("error", pa.string()), ("host", pa.string()), ("pid", pa.int64()),
    ("started", pa.float64()), ("wall_s", pa.float64()),
]


def _arrow_type(values: Iterable[Any]) -> pa.DataType:
    vals = list(values)
    if all(isinstance(v, bool) for v in vals):
        return pa.bool_()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return pa.int64()
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return pa.float64()
    return pa.string()


def row_schema(axis_paths: list[str], axis_values: list[list[Any]], metrics: Iterable[str]) -> pa.Schema:
    """The fixed schema of a sweep's rows: bookkeeping, one column per axis (named by its path), metrics."""
    fields = [pa.field(n, t) for n, t in BASE_COLUMNS]
    fields += [pa.field(p, _arrow_type(v)) for p, v in zip(axis_paths, axis_values)]
    fields += [pa.field(m, pa.float64()) for m in metrics]
    return pa.schema(fields)


def _atomic_write_table(table: pa.Table, path: Path) -> None:
    atomic_write(path, lambda tmp: pq.write_table(table, tmp), fsync=True)


def _atomic_write_text(text: str, path: Path) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), fsync=True)


class ResultStore:
    """A sweep's results folder (see the module docstring); use as a context manager (takes the lock)."""

    def __init__(self, root: str | Path, schema: pa.Schema, spec: dict | None = None):
        self.root = Path(root)
        self.points_dir = self.root / "_points"
        self.schema = schema
        self.spec = spec
        self.rows: dict[tuple[int, int], dict] = {}
        self._lock = None

    # ------------------------------------------------------------------ lifetime
    def __enter__(self) -> "ResultStore":
        from filelock import FileLock, Timeout

        self.points_dir.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.root / "_lock"))
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise HwsnnError(f"{self.root}: another sweep is writing this folder (lock {self.root / '_lock'})") \
                from None
        self._check_spec()
        self._load()
        return self

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _check_spec(self) -> None:
        if self.spec is None:
            return
        f = self.root / "_spec.json"
        text = json.dumps(self.spec, sort_keys=True, indent=1)
        if f.exists():
            old = json.loads(f.read_text(encoding="utf-8"))
            if old != json.loads(text):
                diff = sorted(k for k in set(old) | set(self.spec) if old.get(k) != self.spec.get(k))
                raise HwsnnError(f"{self.root} holds results of a different sweep spec (differs in: "
                                 f"{', '.join(diff)}); use another --out folder")
        else:
            _atomic_write_text(text, f)

    def _load(self) -> None:
        for f in sorted(self.points_dir.glob("p*.parquet")):
            try:
                t = pq.read_table(f)
            except Exception:  # noqa: BLE001 - cannot happen with atomic writes; rerun the unit
                continue
            for row in t.to_pylist():
                self.rows[(int(row["point"]), int(row["repeat"]))] = row

    # ------------------------------------------------------------------ writing
    def point_path(self, point: int, repeat: int) -> Path:
        return self.points_dir / f"p{point:05d}-r{repeat:03d}.parquet"

    def write(self, row: dict) -> None:
        """Store one unit's row (atomically replaces an earlier row of the same unit)."""
        t = pa.Table.from_pylist([{n: row.get(n) for n in self.schema.names}], schema=self.schema)
        p = self.point_path(int(row["point"]), int(row["repeat"]))
        _atomic_write_table(t, p)
        self.rows[(int(row["point"]), int(row["repeat"]))] = t.to_pylist()[0]

    def compact(self) -> Path:
        """Rewrite ``results.parquet`` from every stored row (sorted by point, repeat)."""
        rows = [self.rows[k] for k in sorted(self.rows)]
        t = pa.Table.from_pylist([{n: r.get(n) for n in self.schema.names} for r in rows], schema=self.schema)
        out = self.root / "results.parquet"
        _atomic_write_table(t, out)
        return out


def read_results(root: str | Path):
    """All rows of a results folder as a pandas DataFrame, merged from the point files (complete even
    right after a ``kill -9``), sorted by point and repeat."""
    import pandas as pd

    root = Path(root)
    files = sorted((root / "_points").glob("p*.parquet"))
    if not files:
        if (root / "results.parquet").exists():
            return pd.read_parquet(root / "results.parquet")
        raise HwsnnError(f"{root}: no sweep results here (expected {root / '_points'})")
    df = pa.concat_tables([pq.read_table(f) for f in files], promote_options="default").to_pandas()
    return df.sort_values(["point", "repeat"]).reset_index(drop=True)
