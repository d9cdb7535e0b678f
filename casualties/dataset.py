"""Analyst layout at scale: the figures and incidents tables as partitioned Parquet folders.

    processed/figures/<category>.parquet     one file per category: killed.parquet, injured.parquet
    processed/incidents/<year>.parquet       one file per year of the incident's `date`
                                             (else of the article's `published`; else unknown)

`pd.read_parquet("processed/figures")` reads the whole table with the same columns and dtypes as
`figures.parquet`; `pd.read_parquet("processed/figures", filters=[("category", "==", "killed")])`
reads only what matches: every file holds a single key value, so Parquet statistics let the
reader skip the other files without decoding them. Dask, DuckDB and Spark read the folders too.

Plain files named by key rather than Hive folders (`category=killed/`): a Hive partition column
comes back as a categorical of the values present instead of the table's declared dtype.

The folders are derived copies built from the committed `<table>.parquet` (the source of truth,
written atomically by `casualties.store`), streaming its row groups, so memory does not grow with
the table. A folder is built beside its final place and then swapped in by two renames; a crash
between them leaves the folder missing until the next run rebuilds it.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BATCH_ROWS = 50_000  # rows read per step (one row group of each output file per step at most)


def _by_category(batch: pa.RecordBatch) -> pa.Array:
    return pc.fill_null(pc.cast(batch.column("category"), pa.string()), "none")


def _by_year(batch: pa.RecordBatch) -> pa.Array:
    year = pc.coalesce(pc.year(batch.column("date")), pc.year(batch.column("published")))
    return pc.fill_null(pc.cast(year, pa.string()), "unknown")


#: table name -> function giving each row's partition key (also its file name).
PARTITIONS = {"figures": _by_category, "incidents": _by_year}


def dataset_path(out_dir: Path, name: str) -> Path:
    """The dataset folder of table `name` in `out_dir`."""
    return Path(out_dir) / name


def write_dataset(out_dir: Path, name: str) -> Path:
    """Build `out_dir/<name>/` from `out_dir/<name>.parquet`, partitioned by `PARTITIONS[name]`.

    Returns the folder. Rows keep their table order within each file. An empty table gives one
    empty file, so the folder still reads as an empty frame with the right columns.
    """
    out_dir = Path(out_dir)
    source = pq.ParquetFile(out_dir / f"{name}.parquet")
    schema = source.schema_arrow
    key_of = PARTITIONS[name]
    final = dataset_path(out_dir, name)
    tmp = out_dir / f".{name}.dataset-tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for batch in source.iter_batches(batch_size=BATCH_ROWS):
            keys = key_of(batch)
            for key in pc.unique(keys).to_pylist():
                part = batch.filter(pc.equal(keys, key))
                if key not in writers:
                    writers[key] = pq.ParquetWriter(
                        tmp / f"{_safe(key)}.parquet", schema, compression="zstd"
                    )
                writers[key].write_table(pa.Table.from_batches([part], schema=schema))
        if not writers:
            pq.write_table(schema.empty_table(), tmp / "empty.parquet", compression="zstd")
    finally:
        for w in writers.values():
            w.close()
    old = out_dir / f".{name}.dataset-old"
    shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def _safe(key: str) -> str:
    # Keys are categories or years; keep file names plain whatever a future key holds.
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in key) or "none"
