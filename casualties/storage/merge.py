"""Merge a run's new rows with the stored rows, on disk, in bounded memory.

A run writes its validated batches as they finish into `parts` files (`RunParts`): the new
articles, the texts it read a second time (`repeats`, not extracted again), figures and
incidents, with the article code of each figure and incident beside them: nothing per row
stays in memory while the run reads. `merge_into` then reads the key columns back as numbers
(`storage.keys`: 34 bytes an article), decides duplicates over the keys of stored + new
articles (`keys.resolve`, the rule of `ingest.resolve_duplicates`) and writes each final table
by walking its rows in canonical order and copying them from the stored file or the part files
with forward-only readers, a chunk at a time. Memory depends on the number of articles (their
keys), not on the size of the texts; figures and incidents that come in order (a full
rebuild) are copied without an array of their rows.

Canonical order (what `store.merge_tables` promised before and still does): articles by
(source_file, line); figures and incidents by their article's position, then as extracted;
quarantine by (source_file, line, stage, reason). A full rebuild and an incremental run over the
same inputs give the same rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa

from casualties.arrays import find_sorted
from casualties.fields import (
    ARTICLES,
    FIGURES,
    INCIDENTS,
    QUARANTINE,
    TABLES,
    Table,
    as_pandas,
    conform,
)
from casualties.files import stored_batches
from casualties.storage import ingest as rawio
from casualties.storage.keys import NO_LINE, ArticleKeys, KeyReader, Resolved, exact_docs, resolve
from casualties.storage.store import (
    ALL,
    TableWriter,
    part_file,
    partition_of,
    read_files,
    read_parquet,
    table_files,
)

CHUNK_ROWS = 20_000  # output rows of figures and incidents assembled at a time
# Articles carry their text (3.3 KB on average in the bench corpus): a chunk is held a few
# times over (read batch, output chunk, Parquet encoding). Measured on the 1 GB corpus: the
# article write peaked ~+90 MB over its steady level at 5,000 rows a chunk, ~+50 at 2,000.
ARTICLE_CHUNK_ROWS = 2_000


def _lookup(index: pd.Index, values: np.ndarray, keys) -> np.ndarray:
    """values[i] for each key found at position i of `index` (distinct ids), else -1."""
    at = index.get_indexer(keys)
    out = np.full(len(at), -1, dtype=np.int32)
    hit = at >= 0
    out[hit] = values[at[hit]]
    return out


def _concat(arrays: list[np.ndarray], dtype) -> np.ndarray:
    """The arrays end to end; a single one as it is (np.concatenate would copy it)."""
    if len(arrays) == 1:
        return arrays[0]
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)


@dataclass
class RunParts:
    """The new rows of a run, written to `folder` batch by batch.

    `add_batch` takes one validated batch (articles, figures, incidents, quarantine);
    `add_repeats` the rows whose text was read earlier in this run. Part files are ordinary
    Parquet files of the final tables' columns; `close` finishes them.
    """

    folder: Path
    metadata: Mapping[str, str]
    _writers: dict = field(default_factory=dict)
    _codes: dict[str, _CodeFile] = field(default_factory=dict)
    quarantine: list[pd.DataFrame] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("new", "repeats"), 0))

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        plan = {"new": ARTICLES, "repeats": ARTICLES, "figures": FIGURES, "incidents": INCIDENTS}
        for name, table in plan.items():
            self._writers[name] = TableWriter(self.path(name), table, self.metadata)
        for name in ("figures", "incidents"):
            self._codes[name] = _CodeFile(self.folder / f"{name}.codes")

    def path(self, name: str) -> Path:
        """The part file `name` ("new", "repeats", "figures", "incidents")."""
        return self.folder / f"{name}.parquet"

    def add_batch(
        self,
        articles: pd.DataFrame,
        figures: pd.DataFrame,
        incidents: pd.DataFrame,
        quarantine: pd.DataFrame,
    ) -> None:
        """Write one validated batch (articles with `n_figures` and `run_id` set).

        The code of a new article is the row of its first copy in the "new" part: a run reads
        each text once (a text read again is a repeat), so a batch's figures are of its own
        articles and their codes are found within the batch."""
        first = ~articles["article_id"].duplicated().to_numpy()
        ids = pd.Index(articles["article_id"][first])
        rows = np.flatnonzero(first) + self.rows["new"]
        for name, df in (("figures", figures), ("incidents", incidents)):
            self._codes[name].write(_lookup(ids, rows, df["article_id"]))
            self._writers[name].write(df)
        self._writers["new"].write(articles)
        self.rows["new"] += len(articles)
        if len(quarantine):
            self.quarantine.append(conform(quarantine, QUARANTINE))

    def add_repeats(self, articles: pd.DataFrame) -> None:
        """Rows whose text this run already read (kept for the duplicate decisions)."""
        self._writers["repeats"].write(articles)
        self.rows["repeats"] += len(articles)

    def add_quarantine(self, quarantine: pd.DataFrame) -> None:
        """Quarantine rows that came with no batch (unreadable files, skipped inputs)."""
        if len(quarantine):
            self.quarantine.append(conform(quarantine, QUARANTINE))

    def counts(self, name: str, n: int) -> np.ndarray:
        """Rows of the figures or incidents part per article code (0 to n - 1), counted a
        chunk of codes at a time."""
        out = np.zeros(n, dtype=np.int64)
        for codes in self._codes[name].chunks():
            out += np.bincount(codes[codes >= 0], minlength=n)
        return out

    def rank_chunks(self, name: str, of_code: np.ndarray) -> Iterator[np.ndarray]:
        """Per row of the figures or incidents part, in row order and a chunk of codes at a
        time: `of_code` at the code of its article, -1 where the article is unknown (code -1)."""
        for codes in self._codes[name].chunks():
            out = np.full(len(codes), -1, dtype=np.int32)
            known = codes >= 0
            out[known] = of_code[codes[known]]
            yield out

    def ranks(self, name: str, of_code: np.ndarray) -> np.ndarray:
        """`rank_chunks` as one int32 array, made without a copy of each chunk kept."""
        out = np.full(self._codes[name].rows, -1, dtype=np.int32)
        at = 0
        for chunk in self.rank_chunks(name, of_code):
            out[at : at + len(chunk)] = chunk
            at += len(chunk)
        return out

    def close(self) -> None:
        """Finish every part file."""
        for w in [*self._writers.values(), *self._codes.values()]:
            w.close()

    def abort(self) -> None:
        """Drop unfinished part files."""
        for w in [*self._writers.values(), *self._codes.values()]:
            w.abort()


class _CodeFile:
    """The article codes of a part's rows (int32, in row order), appended to a file a batch
    at a time and read back in chunks. Why a file: kept in memory they were 4 bytes a figure
    and an incident, the last structure of a run's main process that grew with its input
    (~36 MB at 1 GB of text) while it reads."""

    CHUNK = 1 << 20  # codes read back at a time (4 MB)

    def __init__(self, path: Path):
        self.path = Path(path)
        self.rows = 0
        self._fh: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 - closed in close()

    def write(self, codes: np.ndarray) -> None:
        assert self._fh is not None, "codes written after close"
        np.asarray(codes, dtype=np.int32).tofile(self._fh)
        self.rows += len(codes)

    def chunks(self) -> Iterator[np.ndarray]:
        """The codes in row order, CHUNK at a time (the file must be closed)."""
        if self._fh is not None:
            raise RuntimeError(f"{self.path} is still being written")
        with open(self.path, "rb") as fh:
            while len(chunk := np.fromfile(fh, dtype=np.int32, count=self.CHUNK)):
                yield chunk

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def abort(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


class _Cursor:
    """Rows of one Parquet file by position, read forward a record batch at a time."""

    def __init__(self, path: Path, columns: list[str] | None = None, rows: int = CHUNK_ROWS):
        self._batches = stored_batches(path, rows, columns)  # StoreCorrupt on a damaged page
        self._buf: pa.Table | None = None
        self._start = 0
        self._end = 0

    def take(self, positions: np.ndarray) -> pa.Table:
        """The rows at `positions` (increasing, never before an earlier call's)."""
        out = []
        while len(positions):
            if positions[0] < self._start:
                raise ValueError("positions must only move forward")
            while positions[0] >= self._end:
                batch = next(self._batches)
                self._buf = pa.Table.from_batches([batch])
                self._start, self._end = self._end, self._end + batch.num_rows
            assert self._buf is not None  # read in the loop above: positions[0] < self._end
            n = int(np.searchsorted(positions, self._end))
            rows = positions[:n] - self._start
            if (np.diff(rows) == 1).all():  # consecutive rows (a full rebuild): no copy
                out.append(self._buf.slice(rows[0], n))
            else:
                out.append(self._buf.take(pa.array(rows)))
            positions = positions[n:]
        return pa.concat_tables(out) if out else None


class _Loaded:
    """Random access to a whole file: the fallback when a side's rows are not in file order
    (an older table written in another order); costs the file's size in memory."""

    def __init__(self, path: Path, columns: list[str] | None = None):
        self._table = read_parquet(path, columns=columns)

    def take(self, positions: np.ndarray) -> pa.Table:
        return self._table.take(pa.array(positions))


def _reader(path: Path, positions: np.ndarray, rows: int):
    # compared in place: np.diff would first make a copy of the positions (4-8 bytes a row)
    increasing = bool(np.all(positions[1:] > positions[:-1]))
    return _Cursor(path, rows=rows) if increasing else _Loaded(path)


def _readers(sides: np.ndarray, positions: np.ndarray, paths: list[Path], rows: int) -> dict:
    """A reader for each side with rows ({side: reader}), given the positions read from it.
    Each side's positions are a copy (4 bytes a row) made only when there are several sides,
    and let go once its reader is made."""
    present = np.unique(sides)  # a sorted copy of one byte a row (bincount: 8 bytes a row)
    if len(present) == 1:
        return {int(present[0]): _reader(paths[int(present[0])], positions, rows)}
    return {int(s): _reader(paths[int(s)], positions[sides == s], rows) for s in present}


class _PartWriters:
    """One `TableWriter` per partition file of a table in `folder`, opened on first use; each
    row goes to the partition `parts` names for it (rows keep their order per partition).

    Rows come in the rank of their article. `last_rank` gives, per partition, the rank of its
    last article: `finish_before(rank)` closes the files of partitions that can get no more
    rows. Why: an open Parquet writer holds ~0.5 MB, and a full rebuild writes a partition per
    raw file (600 at 3 GB of text), one after another."""

    def __init__(
        self,
        folder: Path,
        table: Table,
        metadata: Mapping[str, str],
        last_rank: Mapping[str, int] | None = None,
    ):
        self.folder, self.table, self.metadata = Path(folder), table, metadata
        self.writers: dict[str, TableWriter] = {}
        self._open: set[str] = set()
        self._ends = sorted((r, p) for p, r in (last_rank or {}).items())
        self._next_end = 0

    def _writer(self, part: str):
        if part not in self.writers:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.writers[part] = TableWriter(self.folder / part, self.table, self.metadata)
            self._open.add(part)
        elif part not in self._open:
            raise RuntimeError(f"rows for partition {part} after its file was finished")
        return self.writers[part]

    def finish_before(self, rank: int) -> None:
        """Close the partition files whose last article ranks below `rank`."""
        while self._next_end < len(self._ends) and self._ends[self._next_end][0] < rank:
            part = self._ends[self._next_end][1]
            self._next_end += 1
            if part in self._open:
                self._open.discard(part)
                self.writers[part].close()

    def _runs(self, parts: np.ndarray):
        cut = np.flatnonzero(parts[1:] != parts[:-1]) + 1
        return zip(np.r_[0, cut], np.r_[cut, len(parts)], strict=True)

    def write_arrow(self, data: pa.Table, parts: np.ndarray) -> None:
        for a, b in self._runs(parts):
            self._writer(parts[a]).write_arrow(data.slice(a, b - a))

    def write(self, df: pd.DataFrame, parts: np.ndarray) -> None:
        for a, b in self._runs(parts):
            self._writer(parts[a]).write(df.iloc[a:b])

    @property
    def rows(self) -> int:
        return sum(w.rows for w in self.writers.values())

    def __enter__(self) -> _PartWriters:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        for part in self._open:
            self.writers[part].__exit__(exc_type, exc, tb)


def _write_in_order(
    writer: _PartWriters,
    table: Table,
    sides: np.ndarray,
    positions: np.ndarray,
    row_parts: np.ndarray | _RowParts,
    ranks: np.ndarray,
    paths: list[Path],
    fix=None,
    chunk: int = CHUNK_ROWS,
) -> None:
    """Copy rows into `writer` in the order given: row k is row positions[k] of
    paths[sides[k]], written to partition file row_parts[k]; ranks[k] (nondecreasing) is the
    rank of its article (`_PartWriters.finish_before`). `fix(rows, side)` may patch an Arrow
    piece before it is written. `chunk` rows are read and written at a time.

    Rows stay Arrow from reader to writer (`TableWriter.write_arrow`), but for stored rows of
    an older schema (see `_write_chunk`)."""
    readers = _readers(sides, positions, paths, chunk)
    for start in range(0, len(sides), chunk):
        s, p = sides[start : start + chunk], positions[start : start + chunk]
        cut = np.flatnonzero(np.diff(s)) + 1  # runs of rows from one side
        pieces = []
        for a, b in zip(np.r_[0, cut], np.r_[cut, len(s)], strict=True):
            piece = readers[int(s[a])].take(p[a:b])
            pieces.append(fix(piece, int(s[a])) if fix else piece)
        _write_chunk(writer, pieces, table, row_parts[start : start + chunk])
        writer.finish_before(int(ranks[start + len(s) - 1]))


def _write_chunk(writer, pieces: list[pa.Table], table: Table, parts: np.ndarray) -> None:
    """Write the pieces of one chunk. Pieces of one schema (files this version wrote) go as
    Arrow; else (a stored file of an older schema) they are conformed in pandas and written
    from there, without a trip back to Arrow first."""
    if all(t.schema.equals(pieces[0].schema, check_metadata=False) for t in pieces[1:]):
        writer.write_arrow(pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0], parts)
    else:
        frames = [conform(as_pandas(t), table) for t in pieces]
        writer.write(pd.concat(frames, ignore_index=True), parts)


def _set_column(rows: pa.Table, name: str, values: list) -> pa.Table:
    """`rows` with column `name` replaced by `values` (of the column's Arrow type)."""
    i = rows.schema.get_field_index(name)
    field_ = rows.schema.field(i)
    return rows.set_column(i, field_, pa.array(values, type=field_.type))


class _CodeRanks:
    """The rank (or any row number) of each of some distinct article codes; called with
    codes, gives their ranks (int32, -1 for a code not among them). Sorted arrays: 12 bytes
    an article, where an index of the id strings cost ~100."""

    def __init__(self, codes: np.ndarray, ranks: np.ndarray):
        order = np.argsort(codes)
        self.codes, self.ranks = codes[order], ranks[order].astype(np.int32)

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        at, found = find_sorted(self.codes, codes)
        return np.where(found, self.ranks[at] if len(self.ranks) else -1, -1).astype(np.int32)


def _old_ranks(path: Path | None, rank_of: _CodeRanks) -> np.ndarray:
    """Per stored figure or incident row of one partition: the rank of its article if that
    article's winning row is a stored one (else -1: the row goes)."""
    if path is None or not path.exists():
        return np.zeros(0, dtype=np.int32)
    parts = [
        rank_of(rawio.article_codes(batch.column(0).to_pandas()))
        for batch in stored_batches(path, 200_000, ["article_id"])
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)


@dataclass
class _RowParts:
    """The partition file of each row, made a slice at a time (an array of names for every
    row would cost 8 bytes a row): row k goes to names[code[rank[k]]]."""

    names: np.ndarray
    code: np.ndarray
    rank: np.ndarray

    def __getitem__(self, rows: slice) -> np.ndarray:
        return self.names[self.code[self.rank[rows]]]


def _kept_rows(rank: np.ndarray, step: int = 1 << 20) -> np.ndarray:
    """Positions (int32) of the rows with rank >= 0. Not one np.flatnonzero: that makes int64
    positions (8 bytes for each of millions of figure rows) before the int32 copy; and when
    every row is kept (a full rebuild) there is nothing to search."""
    keep = rank >= 0
    if keep.all():
        return np.arange(len(rank), dtype=np.int32)
    found = [
        np.flatnonzero(keep[a : a + step]).astype(np.int32) + a for a in range(0, len(keep), step)
    ]
    return _concat(found, np.int32)


def _in_rank_order(side_rank: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(side, position, rank) of the kept rows (rank >= 0) of every side, ordered by rank and
    then position. Ranks of different sides never tie (an article's rows come from the side
    its winning row is on); rows already in that order (a full rebuild) are not sorted."""
    kept = [_kept_rows(r) for r in side_rank]
    # sides as small as their number allows: one byte a row for up to 256 sides
    side_type = np.min_scalar_type(max(len(side_rank) - 1, 0))
    tsides = _concat([np.full(len(k), s, dtype=side_type) for s, k in enumerate(kept)], side_type)
    positions = _concat(kept, np.int32)
    row_rank = _concat(
        [r if len(k) == len(r) else r[k] for r, k in zip(side_rank, kept, strict=True)], np.int32
    )
    if len(row_rank) > 1 and not bool(np.all(row_rank[1:] >= row_rank[:-1])):
        order = np.lexsort((positions, row_rank))
        tsides, positions, row_rank = tsides[order], positions[order], row_rank[order]
    return tsides, positions, row_rank


def _repeats_fixer(parts: RunParts, new_ids: np.ndarray, repeats_side: int, run_id: str | None):
    """`fix(piece, side)` for `_write_in_order` of the articles: rows of the repeats side were
    never extracted, so they get the figure count of their first copy and this run's id.
    `new_ids`: the article code (`ingest.article_codes`) of each row of the "new" part."""
    first_row = _CodeRanks(*np.unique(new_ids, return_index=True))
    counts = parts.counts("figures", len(new_ids))

    def fix(piece: pa.Table, side: int) -> pa.Table:
        if side != repeats_side:
            return piece
        codes = first_row(rawio.article_codes(piece.column("article_id").to_pandas()))
        piece = _set_column(piece, "n_figures", [int(counts[c]) if c >= 0 else 0 for c in codes])
        return _set_column(piece, "run_id", [run_id] * piece.num_rows)

    return fix


def _values_at(
    paths: list[Path], sides: np.ndarray, positions: np.ndarray, columns: list[str]
) -> dict[str, list]:
    """{column: its values at (sides[i], positions[i]) of `paths`}, each file read forward
    once for all the columns."""
    out: dict[str, list] = {c: [None] * len(sides) for c in columns}
    for side in np.unique(sides):
        rows = np.flatnonzero(sides == side)
        wanted, back = np.unique(positions[rows], return_inverse=True)
        cursor = _Cursor(paths[int(side)], columns, ARTICLE_CHUNK_ROWS)  # texts: small batches
        found = cursor.take(wanted)
        for c in columns:
            values = found.column(c).to_pylist()
            for i, v in zip(rows, back, strict=True):
                out[c][i] = values[v]
    return out


def _resolve_exactly(keys: ArticleKeys, paths: list[Path]) -> Resolved:
    """`keys.resolve`, with its conflicts checked against the doc_id strings (`keys` hold
    hashes of them): on a collision (two ids, one hash) it decides again on exact codes."""
    found = resolve(keys)
    if not len(found.conflicts):
        return found
    rows = np.concatenate([found.conflicts, found.first_of_conflict])
    ids = _values_at(paths, keys.side[rows], keys.pos[rows], ["doc_id"])["doc_id"]
    n = len(found.conflicts)
    if ids[:n] == ids[n:]:
        return found
    return resolve(
        exact_docs(keys, lambda k: _values_at(paths, k.side, k.pos, ["doc_id"])["doc_id"])
    )


def _duplicate_id_rows(keys: ArticleKeys, found: Resolved, paths: list[Path]) -> pd.DataFrame:
    """Quarantine rows of the conflicts `found` (their doc_id and excerpt read from where each
    row is: the keys hold neither)."""
    rows = found.conflicts
    at = _values_at(paths, keys.side[rows], keys.pos[rows], ["doc_id", "text"])
    return rawio.quarantine_frame(
        [
            rawio.duplicate_id_row(f, None if line == NO_LINE else int(line), doc, text)
            for f, line, doc, text in zip(
                keys.source_file(rows), keys.line[rows], at["doc_id"], at["text"], strict=True
            )
        ]
    )


def _in_rank_order_already(rank_chunks: Iterable[np.ndarray]) -> bool:
    """Whether the kept rows (rank >= 0) of the chunks come in nondecreasing rank."""
    last = -1
    for rank in rank_chunks:
        kept = rank[rank >= 0]
        if not len(kept):
            continue
        if kept[0] < last or bool((kept[1:] < kept[:-1]).any()):
            return False
        last = int(kept[-1])
    return True


def _write_part_in_order(
    writer: _PartWriters,
    table: Table,
    path: Path,
    rank_chunks: Iterable[np.ndarray],
    parts_of: Callable[[np.ndarray], np.ndarray],
    chunk: int = CHUNK_ROWS,
) -> None:
    """Copy the kept rows (rank >= 0) of `path`, whose ranks come in order, into `writer`:
    what `_write_in_order` does, a chunk of ranks at a time instead of arrays of every row."""
    cursor = _Cursor(path, rows=chunk)
    start = 0
    for rank in rank_chunks:
        kept = np.flatnonzero(rank >= 0)
        for a in range(0, len(kept), chunk):
            rows = kept[a : a + chunk]
            _write_chunk(writer, [cursor.take(rows + start)], table, parts_of(rank[rows]))
            writer.finish_before(int(rank[rows[-1]]))
        start += len(rank)


@dataclass
class MergeResult:
    """What `merge_into` staged: rows written and partition files written or dropped per
    table, and the next quarantine table (small; the caller adds to it and writes it)."""

    rows: dict[str, int]
    written: dict[str, set[str]]
    dropped: dict[str, set[str]]
    quarantine: pd.DataFrame


def merge_into(
    stage: Path,
    old: Mapping[str, Mapping[str, Path]],
    parts: RunParts,
    keep_files: Iterable[str],
    run_id: str | None,
    metadata: Mapping[str, str],
    drop_files: Iterable[str] = (),
) -> MergeResult:
    """Write the partitions of articles, figures and incidents that change into
    `stage/<table>/`; return what was written and dropped (see `MergeResult`).

    `old` maps table names to the stored partition files ({file name: path}; empty: nothing
    stored). Stored rows stay only if their `source_file` is in `keep_files` (figures and
    incidents follow their article). Duplicates are decided over stored + new articles
    (`io.resolve_duplicates`: first by (source_file, line) wins), and each article's figures
    and incidents come from the side its winning row came from. A partition is rewritten
    (whole) when it has rows of a file not kept, new rows, or a stored article that lost to a
    new one; the others are not read beyond their key columns. A rewritten partition left
    with no rows is dropped. Quarantine rows without a run_id get `run_id`. The new rows of
    `drop_files` (files whose reading failed part-way: their stored rows stay, via
    `keep_files`) are left out, but for their `unreadable_file` rows.
    """
    stage = Path(stage)
    keep, drop = set(keep_files), set(drop_files)
    old_articles = dict(old.get("articles") or {})
    old_names = sorted(old_articles)
    old_paths = [old_articles[n] for n in old_names]
    n_old = len(old_paths)
    NEW, REPEATS = n_old, n_old + 1  # side codes after the stored partition files
    paths = [*old_paths, parts.path("new"), parts.path("repeats")]
    reader = KeyReader()
    not_kept = np.array(
        [reader.add(p, side, keep) for side, p in enumerate(old_paths)], dtype=np.int64
    )
    reader.add(paths[NEW], NEW)
    reader.add(paths[REPEATS], REPEATS)
    keys = reader.keys()
    del reader
    # article code of each new row, by row (see `RunParts.add_batch`; a copy's is its first's)
    new_ids = keys.article[keys.side == NEW]
    # New rows of files whose reading failed are left out, and a repeat counts only if its
    # first copy was extracted and passed validation.
    gone = (keys.side >= NEW) & keys.in_files(drop)
    gone |= (keys.side == REPEATS) & ~np.isin(keys.article, new_ids)
    keys = keys.take(~gone)
    del gone
    found = _resolve_exactly(keys, paths)
    dup_q = _duplicate_id_rows(keys, found, paths)
    old_had = np.bincount(keys.side[keys.side < NEW], minlength=n_old)
    keys = keys.take(found.winners)  # the winners, in (source_file, line) order
    del found
    side_code = keys.side.astype(np.int64)
    file_part = np.array([part_file(partition_of(f)) for f in keys.files], dtype=object)
    win_part = file_part[keys.file]

    # Partitions to rewrite: rows of files not kept, new rows, stored articles that lost.
    dirty = {old_names[i] for i in np.flatnonzero(not_kept)}
    dirty |= set(win_part[side_code >= NEW])
    old_won = np.bincount(side_code[side_code < NEW], minlength=n_old)
    dirty |= {old_names[i] for i in np.flatnonzero(old_won < old_had)}
    redo = np.isin(win_part, list(dirty)) if dirty else np.zeros(len(win_part), dtype=bool)

    rows: dict[str, int] = {}
    written: dict[str, set[str]] = {}
    dropped: dict[str, set[str]] = {}

    # Partitions in rank order (a winner's rank is its row among the winners): where each
    # partition's rows end, so that its files can be finished there.
    ranks = np.arange(len(keys), dtype=np.int32)
    part_names, part_code = np.unique(win_part, return_inverse=True)
    part_code = part_code.astype(np.int32)
    part_end = np.full(len(part_names), -1, dtype=np.int64)
    np.maximum.at(part_end, part_code, ranks)
    last_rank = dict(zip(part_names, part_end.tolist(), strict=True))

    # Articles: the winners in (source_file, line) order, copied from their side.
    with _PartWriters(stage / ARTICLES.name, ARTICLES, metadata, last_rank) as w:
        _write_in_order(
            w,
            ARTICLES,
            side_code[redo],
            keys.pos[redo],
            win_part[redo],
            ranks[redo],
            paths,
            _repeats_fixer(parts, new_ids, REPEATS, run_id),
            ARTICLE_CHUNK_ROWS,
        )
    rows["articles"], written["articles"] = w.rows, set(w.writers)

    # Figures and incidents of the rewritten partitions: rank of the winning article, then
    # their order on their side; stored rows from the same partition's file, new rows from
    # the part file.
    from_old = side_code < NEW
    old_rank = _CodeRanks(keys.article[from_old & redo], ranks[from_old & redo])
    new_rank = _CodeRanks(keys.article[~from_old], ranks[~from_old])(new_ids)  # by code
    del new_ids, keys, ranks
    for name, table in (("figures", FIGURES), ("incidents", INCIDENTS)):
        stored = dict(old.get(name) or {})
        names = sorted(f for f in stored if f in dirty)
        with _PartWriters(stage / table.name, table, metadata, last_rank) as w:
            if not names and _in_rank_order_already(parts.rank_chunks(name, new_rank)):
                # the new rows alone, in order (a full rebuild): streamed, no array per row
                _write_part_in_order(
                    w,
                    table,
                    parts.path(name),
                    parts.rank_chunks(name, new_rank),
                    lambda rank: part_names[part_code[rank]],
                )
            else:
                side_rank = [_old_ranks(stored[f], old_rank) for f in names]
                side_rank.append(parts.ranks(name, new_rank))
                tsides, positions, row_rank = _in_rank_order(side_rank)
                del side_rank
                _write_in_order(
                    w,
                    table,
                    tsides,
                    positions,
                    _RowParts(part_names, part_code, row_rank),
                    row_rank,
                    [*(stored[f] for f in names), parts.path(name)],
                )
                del tsides, positions, row_rank
        rows[name], written[name] = w.rows, set(w.writers)
        dropped[name] = (dirty & set(stored)) - written[name]
    dropped["articles"] = (dirty & set(old_articles)) - written["articles"]
    for name in ("articles", "figures", "incidents"):
        # the empty file an empty table is given (`store.ALL`) goes once the table has rows
        if part_file(ALL) in (old.get(name) or {}) and written[name]:
            dropped[name].add(part_file(ALL))

    # Quarantine (small): stored rows of kept files, this run's rows, duplicate_id rows.
    frames = [conform(dup_q, QUARANTINE), *(_without(q, drop) for q in parts.quarantine)]
    for path in (old.get("quarantine") or {}).values():
        q = read_files([path], QUARANTINE)
        frames.insert(0, q[q["source_file"].isin(keep)])
    quarantine = sort_quarantine(pd.concat(frames, ignore_index=True), run_id)
    return MergeResult(rows, written, dropped, quarantine)


def _without(quarantine: pd.DataFrame, drop: set[str]) -> pd.DataFrame:
    """`quarantine` without the rows of `drop` files, but for `unreadable_file` rows."""
    if not drop:
        return quarantine
    gone = quarantine["source_file"].isin(drop) & (quarantine["reason"] != "unreadable_file")
    return quarantine[~gone]


def sort_quarantine(quarantine: pd.DataFrame, run_id: str | None = None) -> pd.DataFrame:
    """Quarantine rows in canonical order; rows without a run_id get `run_id`."""
    quarantine = conform(quarantine, QUARANTINE)
    if run_id is not None:
        quarantine["run_id"] = quarantine["run_id"].fillna(run_id)
    return quarantine.sort_values(
        ["source_file", "line", "stage", "reason"], kind="stable", na_position="first"
    ).reset_index(drop=True)


def stored_paths(out_dir: Path, names: Iterable[str]) -> dict[str, dict[str, Path]]:
    """The stored partition files of each table ({name: {file name: path}}; empty if none)."""
    return {name: {p.name: p for p in table_files(out_dir, TABLES[name])} for name in names}


@contextlib.contextmanager
def run_parts(folder: Path, metadata: Mapping[str, str]):
    """`RunParts` that are closed on success and dropped on failure."""
    parts = RunParts(folder, metadata)
    try:
        yield parts
    except BaseException:
        parts.abort()
        raise
    parts.close()
