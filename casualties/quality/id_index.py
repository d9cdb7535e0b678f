"""64-bit hashes of a stored table's id columns, kept per partition content.

The whole-store checks (`checks.store_checks`) and the report's lookups by article id read
these instead of the tables: 8 bytes an id, one small file a partition, made once per
partition content (its sha256 in the manifest).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from casualties.arrays import find_sorted, unique_sorted
from casualties.fields import TABLES
from casualties.files import iter_batches, write_bytes_atomic
from casualties.storage import store

ID_INDEX = "_ids"  # beside the tables: the id hashes of each partition, by its sha256


class IdIndex:
    """64-bit hashes of a partition's id column, kept per partition content (the sha256 the
    manifest lists) in `<out_dir>/_ids/` (a cache beside the tables, not part of the report),
    so the whole-store checks read 8 bytes an id of the partitions this run wrote and a small
    file for each other one, not their Parquet.

    A partition the manifest does not list (no sha256), or whose file is missing, is read.
    `prune()` removes the files of partitions the manifest no longer lists."""

    def __init__(self, folder: Path | None, manifest: Mapping | None):
        self.folder = folder
        self._sha: dict[str, str] = {}
        for name in TABLES:
            for file, entry in (store.table_listing(manifest, name) or {}).items():
                if isinstance(entry, dict) and entry.get("sha256"):
                    self._sha[f"{name}/{file}"] = str(entry["sha256"])

    def _file(self, path: Path, column: str) -> Path | None:
        sha = self._sha.get(f"{path.parent.name}/{path.name}")
        return None if sha is None or self.folder is None else self.folder / f"{sha}-{column}.npy"

    def hashes(self, files: list[Path], column: str) -> np.ndarray:
        """The hashes of `column` over `files` (in file order).

        Each file's hashes are copied into one array made first (an index file is mapped,
        not read, to learn its length): a list of the parts and their concatenation would
        hold them twice (8.3 million figure ids: 66 MB a copy)."""
        parts = [self._of(p, column, mapped=True) for p in files]
        out = np.empty(sum(len(p) for p in parts), dtype=np.uint64)
        at = 0
        parts.reverse()
        while parts:
            part = parts.pop()  # its pages go once copied
            out[at : at + len(part)] = part
            at += len(part)
        return out

    def each(self, files: list[Path], column: str, mapped: bool = False) -> Iterator[np.ndarray]:
        """The hashes of `column` file by file (`mapped`: index files mapped, not read)."""
        for p in files:
            yield self._of(p, column, mapped)

    def _of(self, path: Path, column: str, mapped: bool = False) -> np.ndarray:
        kept = self._file(path, column)
        if kept is not None:
            try:
                return np.load(kept, allow_pickle=False, mmap_mode="r" if mapped else None)
            except (OSError, ValueError):
                pass  # not indexed yet (or a damaged index file): read the partition
        h = _read_hashes(path, column)
        if kept is not None:
            buf = io.BytesIO()
            np.save(buf, h, allow_pickle=False)
            kept.parent.mkdir(parents=True, exist_ok=True)
            # Rebuilt from the table whenever it is missing: no fsync needed.
            write_bytes_atomic(kept, buf.getvalue(), durable=False)
        return h

    def prune(self) -> None:
        """Remove the index files of partitions the manifest no longer lists (replaced)."""
        if self.folder is None or not self.folder.is_dir():
            return
        stored = set(self._sha.values())
        for path in self.folder.glob("*.npy"):
            if path.name.split("-", 1)[0] not in stored:
                path.unlink(missing_ok=True)


def hash_ids(ids: pd.Series) -> np.ndarray:
    """The 64-bit hash of each id: what the index files keep, so every id looked up in them
    (an article of the report, an incident an event lists) must be hashed here too."""
    return pd.util.hash_pandas_object(ids, index=False).to_numpy()


def _read_hashes(path: Path, column: str) -> np.ndarray:
    parts = [
        hash_ids(b.column(0).to_pandas()) for b in iter_batches([path], [column], rows=500_000)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


def files_holding(out_dir: Path, table: str, column: str, values: Iterable[str]) -> list[Path]:
    """The partition files of `table` in `out_dir` whose `column` may hold one of `values`
    (by the index: a 64-bit hash that matches by chance only adds a file to read)."""
    wanted = unique_sorted(hash_ids(pd.Series(list(values), dtype=object)))
    index = IdIndex(Path(out_dir) / ID_INDEX, store.committed_manifest(out_dir))
    files = store.table_files(out_dir, TABLES[table]) if len(wanted) else []
    return [
        path
        for path, hashes in zip(files, index.each(files, column, mapped=True), strict=True)
        if find_sorted(wanted, np.asarray(hashes))[1].any()
    ]
