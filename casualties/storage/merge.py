"""Merge a run's new rows with the stored rows, on disk, in bounded memory.

A run writes its validated batches as they finish into `parts` files (`RunParts`): the new
articles, the texts it read a second time (`repeats`, not extracted again), figures and
incidents. Only small key columns stay in memory. `merge_into` then decides duplicates over the
keys of stored + new articles (`io.resolve_duplicates`) and writes each final table by walking
its rows in canonical order and copying them from the stored file or the part files with
forward-only readers, a chunk at a time. Memory depends on the number of articles (their keys),
not on the size of the texts.

Canonical order (what `store.merge_tables` promised before and still does): articles by
(source_file, line); figures and incidents by their article's position, then as extracted;
quarantine by (source_file, line, stage, reason). A full rebuild and an incremental run over the
same inputs give the same rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from casualties.fields import ARTICLES, FIGURES, INCIDENTS, QUARANTINE, TABLES, Table, conform
from casualties.storage import ingest as rawio
from casualties.storage.store import TableWriter, table_path

CHUNK_ROWS = 20_000  # output rows assembled at a time (articles: ~40 MB of text)
_KEY_COLUMNS = ["article_id", "doc_id", "source_file", "line"]
_SIDES = ("old", "new", "repeats")  # where a row of a final table is copied from


@dataclass
class RunParts:
    """The new rows of a run, written to `folder` batch by batch; keys kept in memory.

    `add_batch` takes one validated batch (articles, figures, incidents, quarantine);
    `add_repeats` the rows whose text was read earlier in this run. Part files are ordinary
    Parquet files of the final tables' columns; `close` finishes them.
    """

    folder: Path
    metadata: Mapping[str, str]
    _writers: dict = field(default_factory=dict)
    _keys: dict[str, list[pd.DataFrame]] = field(default_factory=lambda: {"new": [], "repeats": []})
    _codes: dict[str, list[np.ndarray]] = field(
        default_factory=lambda: {"figures": [], "incidents": []}
    )
    _code_of: dict[str, int] = field(default_factory=dict)
    quarantine: list[pd.DataFrame] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("new", "repeats"), 0))

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        plan = {"new": ARTICLES, "repeats": ARTICLES, "figures": FIGURES, "incidents": INCIDENTS}
        for name, table in plan.items():
            self._writers[name] = TableWriter(self.path(name), table, self.metadata)

    def path(self, name: str) -> Path:
        """The part file `name` ("new", "repeats", "figures", "incidents")."""
        return self.folder / f"{name}.parquet"

    def _keys_of(self, articles: pd.DataFrame, side: str) -> pd.DataFrame:
        keys = articles[_KEY_COLUMNS].copy()
        keys["_side"] = side
        keys["_pos"] = np.arange(self.rows[side], self.rows[side] + len(articles))
        return keys

    def add_batch(
        self,
        articles: pd.DataFrame,
        figures: pd.DataFrame,
        incidents: pd.DataFrame,
        quarantine: pd.DataFrame,
    ) -> None:
        """Write one validated batch (articles with `n_figures` and `run_id` set)."""
        self._keys["new"].append(self._keys_of(articles, "new"))
        for article_id in articles["article_id"]:
            self._code_of.setdefault(article_id, len(self._code_of))
        for name, df in (("figures", figures), ("incidents", incidents)):
            codes = df["article_id"].map(self._code_of).fillna(-1).to_numpy(dtype=np.int64)
            self._codes[name].append(codes)
            self._writers[name].write(df)
        self._writers["new"].write(articles)
        self.rows["new"] += len(articles)
        if len(quarantine):
            self.quarantine.append(conform(quarantine, QUARANTINE))

    def add_repeats(self, articles: pd.DataFrame) -> None:
        """Rows whose text this run already read (kept for the duplicate decisions)."""
        self._keys["repeats"].append(self._keys_of(articles, "repeats"))
        self._writers["repeats"].write(articles)
        self.rows["repeats"] += len(articles)

    def add_quarantine(self, quarantine: pd.DataFrame) -> None:
        """Quarantine rows that came with no batch (unreadable files, skipped inputs)."""
        if len(quarantine):
            self.quarantine.append(conform(quarantine, QUARANTINE))

    def keys(self, side: str) -> pd.DataFrame:
        """Key columns (+ `_side`, `_pos`: where the row is) of the "new" or "repeats" rows."""
        frames = self._keys[side]
        if not frames:
            empty = conform(ARTICLES.empty(), ARTICLES)[_KEY_COLUMNS]
            return empty.assign(_side=side, _pos=np.zeros(0, dtype=np.int64))
        return pd.concat(frames, ignore_index=True)

    def codes(self, name: str) -> np.ndarray:
        """Per row of the figures or incidents part: the code of its article (-1: unknown)."""
        parts = self._codes[name]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    @property
    def code_of(self) -> Mapping[str, int]:
        """article_id → code of the new articles (see `codes`)."""
        return self._code_of

    def close(self) -> None:
        """Finish every part file."""
        for w in self._writers.values():
            w.close()

    def abort(self) -> None:
        """Drop unfinished part files."""
        for w in self._writers.values():
            w.abort()


class _Cursor:
    """Rows of one Parquet file by position, read forward a record batch at a time."""

    def __init__(self, path: Path, columns: list[str] | None = None):
        self._batches = pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS, columns=columns)
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
        self._table = pq.read_table(path, columns=columns)

    def take(self, positions: np.ndarray) -> pa.Table:
        return self._table.take(pa.array(positions))


def _reader(path: Path, positions: np.ndarray):
    increasing = len(positions) < 2 or bool(np.all(np.diff(positions) > 0))
    return _Cursor(path) if increasing else _Loaded(path)


def _write_in_order(
    writer,
    table,
    sides: np.ndarray,
    positions: np.ndarray,
    paths: Mapping[str, Path | None],
    fix=None,
) -> None:
    """Copy rows into `writer` in the order given: row k is row positions[k] of
    paths[_SIDES[sides[k]]]. `fix(rows, side)` may patch an Arrow piece before it is written.

    Rows stay Arrow from reader to writer (`TableWriter.write_arrow`), but for stored rows of
    an older schema (see `_write_chunk`)."""
    readers = {}
    for code, side in enumerate(_SIDES):
        mine = positions[sides == code]
        if len(mine):
            path = paths[side]
            assert path is not None  # a side with rows has its file
            readers[code] = _reader(path, mine)
    for start in range(0, len(sides), CHUNK_ROWS):
        s, p = sides[start : start + CHUNK_ROWS], positions[start : start + CHUNK_ROWS]
        cut = np.flatnonzero(np.diff(s)) + 1  # runs of rows from one side
        pieces = []
        for a, b in zip(np.r_[0, cut], np.r_[cut, len(s)], strict=True):
            piece = readers[int(s[a])].take(p[a:b])
            pieces.append(fix(piece, _SIDES[int(s[a])]) if fix else piece)
        _write_chunk(writer, pieces, table)


def _write_chunk(writer, pieces: list[pa.Table], table: Table) -> None:
    """Write the pieces of one chunk. Pieces of one schema (files this version wrote) go as
    Arrow; else (a stored file of an older schema) they are conformed in pandas and written
    from there, without a trip back to Arrow first."""
    if all(t.schema.equals(pieces[0].schema, check_metadata=False) for t in pieces[1:]):
        writer.write_arrow(pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0])
    else:
        writer.write(pd.concat([conform(t.to_pandas(), table) for t in pieces], ignore_index=True))


def _set_column(rows: pa.Table, name: str, values: list) -> pa.Table:
    """`rows` with column `name` replaced by `values` (of the column's Arrow type)."""
    i = rows.schema.get_field_index(name)
    field_ = rows.schema.field(i)
    return rows.set_column(i, field_, pa.array(values, type=field_.type))


def _old_keys(old_articles: Path | None, keep: set[str]) -> pd.DataFrame:
    """Key columns of the stored articles of the kept files, with their row positions."""
    if old_articles is None or not old_articles.exists():
        return pd.DataFrame(columns=[*_KEY_COLUMNS, "_side", "_pos"])
    frames = []
    pos = 0
    pf = pq.ParquetFile(old_articles)
    for batch in pf.iter_batches(batch_size=200_000, columns=_KEY_COLUMNS):
        df = batch.to_pandas()
        df["_side"] = "old"
        df["_pos"] = np.arange(pos, pos + len(df))
        pos += len(df)
        frames.append(df[df["source_file"].isin(keep)])
    return pd.concat(frames, ignore_index=True) if frames else _old_keys(None, keep)


def _with_excerpts(
    quarantine: pd.DataFrame, keys: pd.DataFrame, paths: Mapping[str, Path | None]
) -> pd.DataFrame:
    """Duplicate-id rows with the excerpt of their text, read from where each row is (the
    keys carry no text: holding every text's excerpt for a few rejected rows costs too much)."""
    if quarantine.empty:
        return quarantine

    def row_key(df: pd.DataFrame) -> pd.Index:  # (source_file, line); .txt rows have no line
        return pd.Index(df["source_file"].astype(str) + "\0" + df["line"].astype(str))

    at = keys[["_side", "_pos"]].set_axis(row_key(keys)).reindex(row_key(quarantine))
    excerpts = pd.Series(None, index=quarantine.index, dtype=object)
    for side, rows in at.reset_index(drop=True).groupby("_side"):
        order = rows["_pos"].to_numpy(dtype=np.int64).argsort()
        positions = rows["_pos"].to_numpy(dtype=np.int64)[order]
        path = paths[side]
        assert path is not None  # a side with rows has its file
        texts = _Cursor(path, ["text"]).take(positions).column("text").to_pylist()
        excerpts.iloc[rows.index.to_numpy()[order]] = [rawio.excerpt_of(t) for t in texts]
    return quarantine.assign(excerpt=excerpts.to_numpy())


def _old_codes(path: Path | None, code_of: Mapping[str, int]) -> np.ndarray:
    """Per stored figure or incident row: its article's code (-1: article not kept)."""
    if path is None or not path.exists():
        return np.zeros(0, dtype=np.int64)
    parts = []
    for batch in pq.ParquetFile(path).iter_batches(batch_size=200_000, columns=["article_id"]):
        ids = batch.column(0).to_pandas()
        parts.append(ids.map(code_of).fillna(-1).to_numpy(dtype=np.int64))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def merge_into(
    stage: Path,
    old: Mapping[str, Path | None],
    parts: RunParts,
    keep_files: Iterable[str],
    run_id: str | None,
    metadata: Mapping[str, str],
    drop_files: Iterable[str] = (),
) -> tuple[dict[str, int], pd.DataFrame]:
    """Write the next articles, figures and incidents tables into `stage`; return the rows
    written per table and the next quarantine table (small; the caller adds to it and writes it).

    `old` maps table names to the stored Parquet files (None or missing: nothing stored);
    stored rows stay only if their `source_file` is in `keep_files` (figures and incidents
    follow their article). Duplicates are decided over stored + new articles
    (`io.resolve_duplicates`: first by (source_file, line) wins), and each article's figures and
    incidents come from the side its winning row came from. Quarantine rows without a run_id
    get `run_id`. The new rows of `drop_files` (files whose reading failed part-way: their
    stored rows stay, via `keep_files`) are left out, but for their `unreadable_file` rows.
    """
    stage = Path(stage)
    stage.mkdir(parents=True, exist_ok=True)
    keep, drop = set(keep_files), set(drop_files)
    new = parts.keys("new")
    new = new[~new["source_file"].isin(drop)]
    repeats = parts.keys("repeats")
    repeats = repeats[~repeats["source_file"].isin(drop)]
    # A repeat counts only if its first copy was extracted and passed validation.
    repeats = repeats[repeats["article_id"].isin(parts.code_of.keys())]
    sides = [_old_keys(old.get("articles"), keep), new, repeats]
    keys = pd.concat([f for f in sides if len(f)] or sides[1:2], ignore_index=True)
    winners, dup_q = rawio.resolve_duplicates(keys.assign(text=None))
    paths = {"old": old.get("articles"), "new": parts.path("new"), "repeats": parts.path("repeats")}
    dup_q = _with_excerpts(dup_q, keys, paths)
    side_code = winners["_side"].map({s: i for i, s in enumerate(_SIDES)}).to_numpy(dtype=np.int64)
    out: dict[str, int] = {}

    # Articles: the winners in (source_file, line) order, copied from their side.
    old_code_of = {a: i for i, a in enumerate(keys.loc[keys["_side"] == "old", "article_id"])}
    new_figures = parts.codes("figures")
    counts = np.bincount(new_figures[new_figures >= 0], minlength=len(parts.code_of))

    def fix_articles(rows: pa.Table, side: str) -> pa.Table:
        if side == "repeats":  # never extracted: its figures are those of the first copy
            ids = rows.column("article_id").to_pandas()
            codes = ids.map(parts.code_of).fillna(-1).astype(int)
            rows = _set_column(rows, "n_figures", [int(counts[c]) if c >= 0 else 0 for c in codes])
            rows = _set_column(rows, "run_id", [run_id] * rows.num_rows)
        return rows

    with TableWriter(table_path(stage, ARTICLES), ARTICLES, metadata) as w:
        _write_in_order(
            w, ARTICLES, side_code, winners["_pos"].to_numpy(dtype=np.int64), paths, fix_articles
        )
    out["articles"] = w.rows

    # Figures and incidents: rank of the winning article, then their order on their side.
    # Per article code of a side: the rank of its article if the winner came from that side
    # (else -1: the rows of that side are dropped).
    from_old = (side_code == 0).tolist()
    won = {a: (r, o) for r, (a, o) in enumerate(zip(winners["article_id"], from_old, strict=True))}

    def ranks_by_code(ids: Iterable[str], from_old: bool) -> np.ndarray:
        out = [r if o == from_old else -1 for r, o in (won.get(a, (-1, from_old)) for a in ids)]
        return np.array(out, dtype=np.int64)

    old_rank = ranks_by_code(old_code_of, True)
    new_rank = ranks_by_code(parts.code_of, False)
    for name, table in (("figures", FIGURES), ("incidents", INCIDENTS)):
        ranks = []
        for side, codes, by_code in (
            (0, _old_codes(old.get(name), old_code_of), old_rank),
            (1, parts.codes(name), new_rank),
        ):
            r = np.where(codes >= 0, by_code[np.maximum(codes, 0)] if len(by_code) else -1, -1)
            ranks.append((side, r))
        row_sides = np.concatenate([np.full(len(r), s, dtype=np.int64) for s, r in ranks])
        positions = np.concatenate([np.arange(len(r), dtype=np.int64) for _, r in ranks])
        row_rank = np.concatenate([r for _, r in ranks])
        kept = row_rank >= 0
        order = np.lexsort((positions[kept], row_rank[kept]))
        with TableWriter(table_path(stage, table), table, metadata) as w:
            _write_in_order(
                w,
                table,
                row_sides[kept][order],
                positions[kept][order],
                {"old": old.get(name), "new": parts.path(name)},
            )
        out[name] = w.rows

    # Quarantine (small): stored rows of kept files, this run's rows, duplicate_id rows.
    frames = [conform(dup_q, QUARANTINE), *(_without(q, drop) for q in parts.quarantine)]
    stored = old.get("quarantine")
    if stored is not None and stored.exists():
        q = conform(pd.read_parquet(stored), QUARANTINE)
        frames.insert(0, q[q["source_file"].isin(keep)])
    return out, sort_quarantine(pd.concat(frames, ignore_index=True), run_id)


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


def stored_paths(out_dir: Path, names: Iterable[str]) -> dict[str, Path | None]:
    """The stored Parquet file of each table (None if there is none)."""
    paths = {}
    for name in names:
        path = table_path(out_dir, TABLES[name])
        paths[name] = path if path.exists() else None
    return paths


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
