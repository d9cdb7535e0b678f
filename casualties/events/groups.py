"""Events from a Parquet file of incidents, one bounded group of rows at a time.

Two incidents can only be one event when they share a country and a merge window (a
calendar year, `reconcile.time_windows`) and their date intervals come within
`merge.max_day_gap` of each other (see `reconcile`). So the incidents of a country fall apart
into time segments that no candidate pair crosses: sorted by first day, a new segment starts
at each window and wherever an incident begins after every earlier one of its window has
ended. Segments are packed, in order of country then time, into groups of about `group_rows`
incidents; merging each group on its own gives exactly the events of one merge over all
incidents, while memory holds one group. A dense archive (hundreds of thousands of reports
from one country) is cut by time instead of being read whole: a segment is at most one
country's window.

The incidents may be one file or a table's partition files. They are read twice: once for
the few columns that place each row in its group, then
once to copy each row into its group's temporary file (next to the input), which is then
merged and deleted. Group files are Arrow IPC, not Parquet: every input batch adds a piece
to most group files, and an open Parquet writer keeps the metadata of every row group it has
written (with statistics) until it closes, which cost 1.1 GB at three times the bench's
1 GB store (31,200 pieces); an IPC writer keeps nothing of what it has written.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from casualties.events.reconcile import (
    UNREAD_COLUMNS,
    date_intervals,
    max_day_gap,
    merge_events,
    published,
    time_windows,
)
from casualties.fields import as_pandas
from casualties.files import iter_batches, open_parquet, read_parquet

GROUP_ROWS = 50_000  # incidents merged per call (a time segment larger than this stays whole)
READ_ROWS = 65_536  # rows per batch when the file is scanned
_PLACING = ("article_id", "country", "date", "published", "date_precision", "date_text")


def _paths(path: Path | str | Iterable[Path]) -> list[Path]:
    if isinstance(path, (str, Path)):
        return [Path(path)]
    return [Path(p) for p in path]


def _batches(paths: list[Path], columns: list[str] | None = None):
    """Record batches of the files in order (page checksums verified: they may be stored)."""
    return iter_batches(paths, columns, READ_ROWS)


def _read_all(paths: list[Path]) -> pd.DataFrame:
    """The incidents of the files, the columns `merge_events` reads."""
    tables = [read_parquet(p, [c for c in _columns(p) if c not in UNREAD_COLUMNS]) for p in paths]
    return as_pandas(pa.concat_tables(tables, promote_options="default"))


def _columns(path: Path) -> list[str]:
    """The columns of a stored file (StoreCorrupt if it cannot be opened)."""
    return open_parquet(path).schema_arrow.names


# Group files are compressed: they hold the incidents' columns uncompressed otherwise (~300
# bytes a row on disk, where the stored Parquet takes ~45).
_GROUP_FILE = ipc.IpcWriteOptions(compression="lz4")


def _read_group(path: Path) -> pd.DataFrame:
    """A group file's incidents; the file is deleted."""
    with pa.OSFile(str(path)) as f:
        part = as_pandas(ipc.open_file(f).read_all())
    path.unlink()
    return part


def undated_articles(incidents: Iterable[Path], articles: Iterable[Path]) -> pd.DataFrame:
    """(article_id, published) of the articles whose incidents have no `published` of their
    own: all that `reconcile.published` takes from the articles table. An incident carries
    its article's date, so these are few or none, where every article's id and date would
    grow with the store. Both tables are read a batch at a time, two columns of each."""
    incidents, articles = _paths(incidents), _paths(articles)
    want: set[str] = set()
    # Each file by its own columns: one written before `published` existed has none.
    for batch, columns in batches_of_columns(incidents, ["article_id", "published"]):
        ids = batch.column("article_id")
        if "published" in columns:
            ids = pc.filter(ids, pc.is_null(batch.column("published")))
        want.update(i for i in ids.to_pylist() if i is not None)
    frames = []
    if want:
        wanted = pa.array(sorted(want), pa.string())
        for batch in _batches(articles, ["article_id", "published"]):
            ids = batch.column(0)
            if pa.types.is_dictionary(ids.type):
                ids = ids.cast(pa.string())
            keep = pc.and_(pc.is_in(ids, value_set=wanted), pc.is_valid(batch.column(1)))
            if pc.any(keep).as_py():
                frames.append(batch.filter(keep).to_pandas())
    if not frames:
        return pd.DataFrame(
            {
                "article_id": pd.Series([], dtype=object),
                "published": pd.Series([], dtype="datetime64[ns, UTC]"),
            }
        )
    return pd.concat(frames, ignore_index=True)


def merge_events_file(
    path: Path | str | Iterable[Path],
    articles: pd.DataFrame | None = None,
    group_rows: int = GROUP_ROWS,
) -> Iterator[pd.DataFrame]:
    """`events.merge_events` over the incidents of a Parquet file (or of several: a table's
    partitions), one group at a time.

    Yields event frames, one per group (groups in order of country, then time; incidents that
    can merge with nothing last), each sorted by date then event_id. The union of the frames
    equals `merge_events` of all the incidents; deterministic for the same incidents.
    """
    paths = _paths(path)
    group = group_of_rows(paths, articles, group_rows)
    n_groups = int(group.max()) + 1 if len(group) else 0
    if n_groups <= 1:
        if len(group):
            yield merge_events(_read_all(paths), articles)
        return
    with tempfile.TemporaryDirectory(prefix=".events-", dir=paths[0].parent) as tmp:
        yield from merged_groups(split_by_group(paths, group, n_groups, Path(tmp)), articles)


def merged_groups(
    files: list[Path], articles: pd.DataFrame | None, seeds: pa.Array | None = None
) -> Iterator[pd.DataFrame]:
    """`merge_events` of each group file in turn (deleted once read); with `seeds` (incident
    ids), of the group's incidents linked to a seed only (see `reconcile.merge_events`)."""
    for f in files:
        # Not bound to a name here: merge_events lets go of the frame once it has a copy.
        yield merge_events(_read_group(f), articles, seeds)


def group_of_rows(
    path: Path | Iterable[Path], articles: pd.DataFrame | None, group_rows: int = GROUP_ROWS
) -> np.ndarray:
    """Group number of every row of the incidents file (int32, 0-based, in row order)."""
    place = placing(_paths(path), articles)
    country, ok = place.country, place.ok
    units = time_segments(country, place.first_day, place.last_day, ok, max_day_gap())
    # Incidents that merge with nothing (no usable date or no country) are single events
    # wherever they go: they fill groups in pieces, after the segments.
    loose = np.flatnonzero(~ok | (country < 0))
    units += [loose[i : i + group_rows] for i in range(0, len(loose), group_rows)]
    group = np.zeros(len(country), dtype=np.int32)
    g, size = 0, 0
    for rows in units:
        if size and size + len(rows) > group_rows:
            g, size = g + 1, 0
        group[rows] = g
        size += len(rows)
    return group


@dataclass
class Placing:
    """What places each incident row (in file order) in its country's time segments."""

    country: np.ndarray  # code of the row's country in `names`; -1 when it has none
    names: np.ndarray  # country names, sorted
    first_day: np.ndarray  # first and last day its date allows (`reconcile.date_intervals`)
    last_day: np.ndarray
    ok: np.ndarray  # whether its date is tight enough to merge at all


def placing(paths: list[Path], articles: pd.DataFrame | None) -> Placing:
    """The `Placing` of every row of the files, read a batch at a time from the columns that
    decide it (a few numbers a row: the whole table's fit in memory)."""
    countries: dict[str, int] = {}  # country name -> code in order of first appearance
    codes, d0s, d1s, oks = [], [], [], []
    for batch, columns in batches_of_columns(paths, _PLACING):
        country = batch.column("country") if "country" in columns else pa.nulls(batch.num_rows)
        codes.append(_country_codes(country, countries))
        df = batch.to_pandas()
        for c in _PLACING:
            if c not in df.columns:
                df[c] = None
        df["published"] = published(df, articles)
        d0, d1, ok = date_intervals(df)
        # Days since 1970 fit in int32: 13 bytes a row instead of 25 (3.9 M rows at 3 GB).
        d0s.append(d0.astype(np.int32))
        d1s.append(d1.astype(np.int32))
        oks.append(ok)
    if not codes:
        empty = np.zeros(0, dtype=np.int32)
        return Placing(empty, np.zeros(0, dtype=object), empty, empty, np.zeros(0, dtype=bool))
    # Codes by name order (segments and groups come in that order).
    by_name = np.array(sorted(countries), dtype=object)
    rank = np.empty(len(countries) + 1, dtype=np.int32)
    rank[[countries[n] for n in by_name]] = np.arange(len(by_name))
    rank[-1] = -1  # no country
    code = rank[np.concatenate(codes)]
    return Placing(code, by_name, np.concatenate(d0s), np.concatenate(d1s), np.concatenate(oks))


def batches_of_columns(paths: list[Path], wanted: Iterable[str]):
    """(record batch, its columns) of the files in order: those of `wanted` each file has (an
    older file may lack a column added later)."""
    for p in paths:
        have = set(_columns(p))
        columns = [c for c in wanted if c in have]
        for batch in _batches([p], columns):
            yield batch, columns


def _country_codes(column: pa.Array, countries: dict[str, int]) -> np.ndarray:
    """The code (int32) of each row's country in `countries` (added there when new; -1:
    none), from Arrow's dictionary encoding: no Python string a row (a Python string per
    incident of a large table cost hundreds of MB at once)."""
    if pa.types.is_null(column.type):
        return np.full(len(column), -1, dtype=np.int32)
    enc = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
    values = enc.dictionary.cast(pa.string()).to_pylist()
    lookup = np.array(
        [countries.setdefault(v, len(countries)) for v in values] + [-1], dtype=np.int32
    )
    indices = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return lookup[indices]


def time_segments(country, d0, d1, ok, gap: int) -> list[np.ndarray]:
    """Row positions of each time segment of each country, in order of country then time."""
    rows = np.flatnonzero(ok & (country >= 0))
    if not len(rows):
        return []
    window = time_windows(d0[rows])
    order = np.lexsort((d0[rows], window, country[rows]))
    rows, window = rows[order], window[order]
    c, start, end = country[rows], d0[rows], d1[rows] + gap
    # A segment ends where the country or the merge window changes, or where an incident
    # starts after every earlier one of its window has ended (the running maximum of the ends
    # restarts at each window).
    block = np.ones(len(rows), dtype=bool)
    block[1:] = (c[1:] != c[:-1]) | (window[1:] != window[:-1])
    first = np.flatnonzero(block)
    last = np.r_[first[1:], len(rows)]
    reach = np.concatenate(
        [np.maximum.accumulate(end[a:b]) for a, b in zip(first, last, strict=True)]
    )
    new = block.copy()
    new[1:] |= start[1:] > reach[:-1]
    return np.split(rows, np.flatnonzero(new)[1:])


def split_by_group(paths: list[Path], group: np.ndarray, n_groups: int, tmp: Path) -> list[Path]:
    """Copy each row of `paths` into the temporary file of its group (rows of group -1 into
    none); the group files, in group order."""
    schema = _union_schema(paths, leave_out=UNREAD_COLUMNS)
    files = [tmp / f"group-{g:05d}.arrow" for g in range(n_groups)]
    writers: dict[int, ipc.RecordBatchFileWriter] = {}
    offset = 0
    try:
        for batch, _ in batches_of_columns(paths, schema.names):
            g = group[offset : offset + batch.num_rows]
            offset += batch.num_rows
            if not len(g) or g.max() < 0:  # none of the batch's rows is wanted
                continue
            order = np.argsort(g, kind="stable")
            bounds = np.flatnonzero(np.diff(g[order])) + 1
            for rows in np.split(order, bounds):
                k = int(g[rows[0]])
                if k < 0:
                    continue
                if k not in writers:
                    writers[k] = ipc.new_file(str(files[k]), schema, options=_GROUP_FILE)
                writers[k].write_table(
                    _to_schema(pa.Table.from_batches([batch]).take(rows), schema)
                )
    finally:
        for w in writers.values():
            w.close()
    return [f for k, f in enumerate(files) if k in writers]


def _union_schema(paths: list[Path], leave_out: Iterable[str] = ()) -> pa.Schema:
    """The columns of every file but those in `leave_out` (the first file's type where they
    differ), without a pandas index column or metadata: files written by other versions may
    have fewer."""
    fields: dict[str, pa.Field] = {}
    for p in paths:
        for f in open_parquet(p).schema_arrow:
            if not f.name.startswith("__index_level_") and f.name not in leave_out:
                fields.setdefault(f.name, f)
    return pa.schema(list(fields.values()))


def _to_schema(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with the columns of `schema`: missing ones null, every one cast to its type."""
    if table.schema.equals(schema, check_metadata=False):
        return table
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)
