"""The keys of every record read from each input file, kept beside the manifest.

An incremental run must know which stored files share a `doc_id` or `article_id` with a
changed or removed file (their duplicate decisions are made again: `store.plan_inputs`). So
every committed run keeps, for each input file it stored, the keys of the records it read
from it, losers of duplicate decisions included: (source_file, line, doc_id, article_id).

They live in one Parquet file, `<out_dir>/_records.parquet`, that the manifest names with its
size, sha256 and rows, and that the commit protocol publishes with it (staged, renamed before
the manifest). Why not in the manifest's JSON, as they were: there they were Python lists and
strings, ~280 bytes a record, held by every step that read the manifest (89 MiB at 1 GB of
text, and three times that at 3 GB); in Parquet they are a few bytes a record on disk, and a
run reads them a batch at a time, only when a file changed or went.

The order of the rows is not meaningful: the kept files' rows, then those of the files the
run read, in the order read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from casualties.files import atomic_file, iter_batches

RECORDS_NAME = "_records.parquet"
KEYS = ["source_file", "line", "doc_id", "article_id"]  # what is kept of every record read
SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("line", pa.int64()),  # None for a .txt file (one record, no line)
        ("doc_id", pa.string()),
        ("article_id", pa.string()),
    ]
)
_READ_ROWS = 100_000  # records read at a time


def as_keys(rows: pd.DataFrame | pa.Table) -> pa.Table:
    """The KEYS columns of `rows` as an Arrow table of `SCHEMA`."""
    if isinstance(rows, pd.DataFrame):
        return pa.Table.from_pandas(rows[KEYS], schema=SCHEMA, preserve_index=False)
    return rows.select(KEYS).cast(SCHEMA)


@dataclass
class PendingRecords:
    """The records file a run will commit, not written yet: the stored records of the files
    it keeps (`previous`, filtered on `keep`) and the records it read from `processed` files
    (`new`: a table, or the Parquet file its reading wrote them to). `store.commit` writes it
    into staging, a batch at a time, before the commit point."""

    previous: pa.Table | Path | None
    keep: set[str]
    new: pd.DataFrame | pa.Table | Path | None
    processed: set[str]

    def batches(self) -> Iterator[pa.Table]:
        """The records to keep, in order, filtered a batch at a time."""
        for source, wanted in ((self.previous, self.keep), (self.new, self.processed)):
            if source is None or not wanted:
                continue
            value_set = pa.array(sorted(wanted), pa.string())
            for batch in _batches(source):
                batch = batch.filter(pc.is_in(batch.column("source_file"), value_set=value_set))
                if batch.num_rows:
                    yield batch

    def write(self, path: Path) -> int:
        """Write the records to `path` atomically (`files.atomic_file`); the number of rows."""
        n = 0
        with atomic_file(path) as fh, pq.ParquetWriter(fh, SCHEMA, compression="zstd") as writer:
            for batch in self.batches():
                writer.write_table(batch)
                n += batch.num_rows
        return n


def _batches(source: pa.Table | pd.DataFrame | Path) -> Iterator[pa.Table]:
    if isinstance(source, (pa.Table, pd.DataFrame)):
        table = as_keys(source)
        for a in range(0, max(table.num_rows, 1), _READ_ROWS):
            yield table.slice(a, _READ_ROWS)
        return
    if not Path(source).exists():  # a run that read no record writes no keys file
        return
    for batch in iter_batches([Path(source)], KEYS, _READ_ROWS):  # StoreCorrupt if damaged
        yield as_keys(pa.Table.from_batches([batch]))


def sharing_files(source: pa.Table | Path, files: Iterable[str]) -> set[str]:
    """The files (other than `files`) that hold a record sharing a doc_id or article_id with a
    record of `files`. Two passes over the records, a batch at a time."""
    mine = pa.array(sorted(set(files)), pa.string())
    if not len(mine):
        return set()
    docs: set[str] = set()
    arts: set[str] = set()
    for batch in _batches(source):
        rows = batch.filter(pc.is_in(batch.column("source_file"), value_set=mine))
        docs.update(d for d in rows.column("doc_id").to_pylist() if d is not None)
        arts.update(rows.column("article_id").to_pylist())
    doc_set, art_set = pa.array(sorted(docs), pa.string()), pa.array(sorted(arts), pa.string())
    out: set[str] = set()
    for batch in _batches(source):
        hit = pc.or_(
            pc.is_in(batch.column("doc_id"), value_set=doc_set),
            pc.is_in(batch.column("article_id"), value_set=art_set),
        )
        out.update(batch.filter(pc.fill_null(hit, False)).column("source_file").to_pylist())
    return out - set(mine.to_pylist())
