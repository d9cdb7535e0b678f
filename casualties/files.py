"""Atomic file writes: a reader sees the old file or the whole new one, never a part. And
verified reads of stored Parquet files: a damaged file is one `StoreCorrupt` error."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq


def temp_path(final: Path) -> Path:
    """A hidden, unique temporary name beside `final` (same folder, so the rename is atomic)."""
    return final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def fsync_dir(path: Path) -> None:
    """Make the folder's entries (a rename into it) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: Path, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file to write that appears as `path` only when the block ends without error:
    it is a temporary file beside `path`, fsynced, renamed over `path`, and the folder is
    fsynced. On any error the temporary file is removed and `path` is untouched. `durable=False`
    skips the fsyncs (still atomic)."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:
        fsync_dir(path.parent)


def write_bytes_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Write `data` to `path` atomically (`atomic_file`). `durable=False` skips the fsyncs:
    for pages rebuilt from the tables anyway, where a hundred fsyncs would cost more than the
    pages."""
    with atomic_file(path, durable) as f:
        f.write(data)


class StoreCorrupt(RuntimeError):
    """A stored table file cannot be read (bad page checksum, truncated, not Parquet).

    The message is one line: which file, why, and what to run.
    """

    def __init__(self, path: Path, reason: object):
        self.path = Path(path)
        why = " ".join(str(reason).split())[:200]
        super().__init__(
            f"stored table file {self.path} is unreadable ({why}); "
            "run `casualties run --full-refresh` to rebuild the tables"
        )


#: Errors reading a Parquet file that mean the file is damaged, not that the code is wrong.
READ_ERRORS = (OSError, pa.ArrowException, ValueError)


def open_parquet(path: Path) -> pq.ParquetFile:
    """A stored Parquet file whose data pages are verified against their checksums on read;
    StoreCorrupt if it cannot even be opened."""
    try:
        return pq.ParquetFile(path, page_checksum_verification=True)
    except READ_ERRORS as e:
        raise StoreCorrupt(path, e) from None


def read_parquet(path: Path, columns: list[str] | None = None) -> pa.Table:
    """The whole file `path` as Arrow, page checksums verified; StoreCorrupt if damaged."""
    try:
        return pq.read_table(path, columns=columns, page_checksum_verification=True)
    except READ_ERRORS as e:
        raise StoreCorrupt(path, e) from None


def row_group_batches(
    pf: pq.ParquetFile, rows: int, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """Record batches of an open file, read with a reader per row group (batches never span
    two row groups).

    Why: one `iter_batches` reader over a whole file keeps the raw bytes of every row group it
    has read until the reader is dropped (pyarrow 26: the 180 MiB figures part file of the 1 GB
    benchmark corpus cost +217 MiB by its end, +34 MiB read this way)."""
    for group in range(pf.num_row_groups):
        yield from pf.iter_batches(batch_size=rows, row_groups=[group], columns=columns)


def stored_batches(
    path: Path, rows: int, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """`row_group_batches` of a stored file, page checksums verified; StoreCorrupt if it is
    damaged."""
    try:
        yield from row_group_batches(open_parquet(path), rows, columns)
    except READ_ERRORS as e:
        raise StoreCorrupt(path, e) from None


def iter_batches(
    paths: Iterable[Path], columns: list[str] | None = None, rows: int = 65_536
) -> Iterator[pa.RecordBatch]:
    """Record batches of the files in order, page checksums verified; StoreCorrupt names a
    damaged file."""
    for p in paths:
        try:
            yield from open_parquet(p).iter_batches(batch_size=rows, columns=columns)
        except READ_ERRORS as e:
            raise StoreCorrupt(p, e) from None
