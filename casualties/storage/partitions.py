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
written atomically by `casualties.storage.store`), streaming its row groups; rows of each key are
held back to be written in bigger row groups (`BUFFER_ROWS` rows in all), so memory does not grow
with the table. A folder is built beside its final place and then swapped in by two renames; a crash
between them leaves the folder missing until the next run rebuilds it.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BATCH_ROWS = 50_000  # rows read per step
BUFFER_ROWS = 50_000  # rows held back for all output files together (see _PartitionFiles)


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
    files = _PartitionFiles(tmp, schema)
    try:
        for batch in source.iter_batches(batch_size=BATCH_ROWS):
            keys = key_of(batch)
            for key in pc.unique(keys).to_pylist():
                files.add(key, batch.filter(pc.equal(keys, key)))
        files.flush()
        if not files.writers:
            pq.write_table(schema.empty_table(), tmp / "empty.parquet", compression="zstd")
    finally:
        files.close()
    old = out_dir / f".{name}.dataset-old"
    shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


class _PartitionFiles:
    """One Parquet file per key in `folder`, written in row groups of the rows held per key.

    Each row group costs a fixed amount per column whatever its rows: writing every batch's few
    rows of each key (74 years of incidents) took most of the time and made files bigger. Rows
    are held per key instead, and the key holding the most is written whenever more than
    BUFFER_ROWS rows are held in all, so memory stays bounded. Rows keep their order per key.
    """

    def __init__(self, folder: Path, schema: pa.Schema):
        self.folder = folder
        self.schema = schema
        self.writers: dict[str, pq.ParquetWriter] = {}
        self._held: dict[str, list[pa.RecordBatch]] = {}
        self._rows: dict[str, int] = {}
        self._total = 0

    def add(self, key: str, rows: pa.RecordBatch) -> None:
        """Hold the `rows` of file `key` (written by a later `add` or by `flush`)."""
        self._held.setdefault(key, []).append(rows)
        self._rows[key] = self._rows.get(key, 0) + rows.num_rows
        self._total += rows.num_rows
        while self._total > BUFFER_ROWS:
            self._write(max(self._rows, key=self._rows.__getitem__))

    def flush(self) -> None:
        """Write every row still held."""
        for key in list(self._held):
            self._write(key)

    def close(self) -> None:
        """Finish the files (rows still held are dropped: call `flush` first)."""
        for w in self.writers.values():
            w.close()

    def _write(self, key: str) -> None:
        if key not in self.writers:
            path = self.folder / f"{_safe(key)}.parquet"
            self.writers[key] = pq.ParquetWriter(path, self.schema, compression="zstd")
        rows = pa.Table.from_batches(self._held.pop(key), schema=self.schema)
        self.writers[key].write_table(rows)  # one row group (fewer rows than its maximum)
        self._total -= self._rows.pop(key)


def _safe(key: str) -> str:
    # Keys are categories or years; keep file names plain whatever a future key holds.
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in key) or "none"
