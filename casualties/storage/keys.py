"""The keys a merge decides duplicates over, held as numbers.

A merge holds the key of every stored and new article at once: (source_file, line) to order
them, `article_id` for the same text read twice, `doc_id` for an id given to two texts, and
where the row is (its side: a file; its position in it). As Arrow strings in a DataFrame they
cost ~150 bytes an article, plus the copies the frame rule (`ingest.resolve_duplicates`)
makes, and that was the part of a merge that grew with the store (hundreds of MB at 3 GB of
text). Here a key is 34 bytes: a file code, the line, the article id's own 64 bits
(`ingest.article_codes`), a 64-bit hash of the doc_id, the side and the position.

`resolve` applies the same rule as `ingest.resolve_duplicates` to these arrays. A doc_id hash
could collide (two ids, one hash: about 3 in 10^8 for a million ids); a collision can only
show as a `duplicate_id` conflict, so the merge checks the conflicts against the ids' strings
(`merge._resolve_exactly`) and, on a collision, decides again on exact codes (`exact_docs`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from casualties.files import StoreCorrupt, stored_batches
from casualties.storage import ingest

KEY_COLUMNS = ["article_id", "doc_id", "source_file", "line"]
NO_LINE = -1  # `line` of a .txt row (null): sorts first, as the frame rule puts nulls first


@dataclass
class ArticleKeys:
    """One entry per article row: `file` indexes `files` (sorted names, so codes sort as the
    names do); `line` is NO_LINE where null; `side` and `pos` say where the row is."""

    files: list[str]
    file: np.ndarray  # int32
    line: np.ndarray  # int64
    article: np.ndarray  # uint64
    doc: np.ndarray  # uint64
    side: np.ndarray  # int16
    pos: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.file)

    def take(self, rows: np.ndarray) -> ArticleKeys:
        """The entries at `rows` (indices or a boolean mask)."""
        return ArticleKeys(self.files, *(getattr(self, a)[rows] for a in _DTYPES))

    def file_codes(self, names: Iterable[str]) -> np.ndarray:
        """The codes of those of `names` that are among `files`."""
        at = {name: i for i, name in enumerate(self.files)}
        return np.array(sorted(at[n] for n in set(names) if n in at), dtype=np.int32)

    def in_files(self, names: Iterable[str]) -> np.ndarray:
        """True for each entry whose source_file is one of `names`."""
        return np.isin(self.file, self.file_codes(names))

    def source_file(self, rows: np.ndarray) -> list[str]:
        """The source_file names of the entries `rows`."""
        return [self.files[c] for c in self.file[rows]]


def doc_hashes(doc_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """64-bit hashes of doc_id strings (nulls hash alike)."""
    return pd.util.hash_array(np.asarray(doc_ids.to_numpy(zero_copy_only=False), dtype=object))


class KeyReader:
    """Reads the key columns of article files, a batch at a time; `keys` gives those of every
    file added, with one set of file codes that follows name order."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self._parts: list[dict[str, np.ndarray]] = []

    def add(self, path: Path, side: int, keep: Iterable[str] | None = None) -> int:
        """Add the keys of the rows of `path` (all, or those of the source files `keep`);
        returns how many rows were left out."""
        wanted = None if keep is None else pa.array(sorted(set(keep)), pa.string())
        start = left_out = 0
        for batch in stored_batches(path, 200_000, KEY_COLUMNS):
            rows = pa.Table.from_batches([batch])
            pos = np.arange(start, start + rows.num_rows, dtype=np.int64)
            start += rows.num_rows
            if wanted is not None:
                kept = pc.is_in(rows.column("source_file"), value_set=wanted)
                rows = rows.filter(kept)
                pos = pos[kept.to_numpy(zero_copy_only=False)]
                left_out += len(kept) - rows.num_rows
            try:
                article = ingest.article_codes(rows.column("article_id").to_pandas())
            except ValueError as e:  # not an id this pipeline wrote: the file is not ours
                raise StoreCorrupt(path, e) from None
            self._parts.append(
                {
                    "file": self._file_codes(rows.column("source_file")),
                    "line": rows.column("line").fill_null(NO_LINE).to_numpy(),
                    "article": article,
                    "doc": doc_hashes(rows.column("doc_id")),
                    "side": np.full(rows.num_rows, side, dtype=np.int16),
                    "pos": pos,
                }
            )
        return left_out

    def _file_codes(self, names: pa.ChunkedArray) -> np.ndarray:
        encoded = names.combine_chunks().dictionary_encode()
        codes = [
            self._codes.setdefault(n, len(self._codes)) for n in encoded.dictionary.to_pylist()
        ]
        return np.asarray(codes, dtype=np.int32)[encoded.indices.to_numpy(zero_copy_only=False)]

    def keys(self) -> ArticleKeys:
        """The keys of every file added, in the order added."""
        names = sorted(self._codes)
        rank = np.zeros(len(names), dtype=np.int32)
        for i, name in enumerate(names):
            rank[self._codes[name]] = i
        arrays = {
            a: np.concatenate([p[a] for p in self._parts]).astype(t, copy=False)
            if self._parts
            else np.zeros(0, dtype=t)
            for a, t in _DTYPES.items()
        }
        arrays["file"] = rank[arrays["file"]]
        return ArticleKeys(names, **arrays)


_DTYPES = {
    "file": np.int32,
    "line": np.int64,
    "article": np.uint64,
    "doc": np.uint64,
    "side": np.int16,
    "pos": np.int64,
}


@dataclass
class Resolved:
    """What `resolve` decided: `winners`, the rows kept (one per text), and `conflicts`, the
    rows whose doc_id an earlier row used with another text; both indices into the keys, in
    (source_file, line) order. `first_of_conflict[i]` is the earlier row conflicts[i] lost to."""

    winners: np.ndarray
    conflicts: np.ndarray
    first_of_conflict: np.ndarray


def resolve(keys: ArticleKeys) -> Resolved:
    """`ingest.resolve_duplicates` on key arrays: rows in (source_file, line) order, the first
    wins; a later row whose doc_id was used with a different text is a conflict; then a later
    row with a text already kept is dropped."""
    order = np.lexsort((keys.line, keys.file))  # stable: equal keys keep their order
    article = keys.article[order]
    _, first, group = np.unique(keys.doc[order], return_index=True, return_inverse=True)
    conflict = article != article[first][group]
    kept = np.flatnonzero(~conflict)
    _, first_copy = np.unique(article[kept], return_index=True)
    winners = order[kept[np.sort(first_copy)]]
    lost = np.flatnonzero(conflict)
    return Resolved(winners, order[lost], order[first[group[lost]]])


def exact_docs(keys: ArticleKeys, doc_ids: Callable[[ArticleKeys], list[str]]) -> ArticleKeys:
    """`keys` with doc codes that are exact (dense codes of the doc_id strings `doc_ids` reads
    for every entry): what `resolve` is given again after a hash collision."""
    codes, _ = pd.factorize(pd.Series(doc_ids(keys), dtype=object), use_na_sentinel=False)
    return dataclasses.replace(keys, doc=codes.astype(np.uint64))
