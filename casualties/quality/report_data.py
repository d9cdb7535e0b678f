"""What the maintainers' report shows, read from the stored tables a few columns at a time.

Every function here reads only the columns (and, for article texts, the row groups) it needs,
so the report builds from a store of millions of rows without holding a table in memory:
counts and null shares come from Parquet metadata where it has them, the review queue is
chosen while streaming a handful of figure columns row group by row group, and texts are read
only for the row groups that hold a reviewed article. No Prefect, no HTML (see `report`).
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from casualties.arrays import find_sorted, unique_sorted
from casualties.fields import TABLES, conform
from casualties.files import atomic_file, write_bytes_atomic
from casualties.quality.id_index import files_holding

TABLE_NAMES = ("articles", "figures", "incidents", "events", "quarantine")
SNAPSHOT_DIR = "_report"  # beside index.html: what the previous run looked like
QUARANTINE_SAMPLE = 5  # rows shown per quarantine reason
QUARANTINE_REASONS = 40  # reasons listed (the rest are summed in one line)
QUEUE_PER_KIND = 15  # review-queue entries per kind of concern
QUEUE_ARTICLES = 80  # article views written with the report
CHANGED_EVENTS = 40  # events with changed counts listed
TOLL_CATEGORIES = ("killed", "injured", "casualties")
SNAPSHOT_COUNTS = ("killed_low", "killed_best", "killed_high", "injured_best")


def table_file(out_dir: Path, name: str) -> Path | None:
    """The dataset folder `<out_dir>/<name>/` of a stored table, if it holds a file (pyarrow
    reads a folder as one table)."""
    path = Path(out_dir) / name
    return path if path.is_dir() and any(path.glob("*.parquet")) else None


def _files(path: Path) -> list[Path]:
    """The partition files of a table folder (a single file: itself)."""
    return sorted(path.glob("*.parquet")) if path.is_dir() else [path]


def row_groups(
    path: Path, columns: list[str] | None = None, read_dictionary: list[str] | None = None
) -> Iterator[pa.Table]:
    """The row groups of a stored table in row order, `columns` only, one at a time (the
    columns in `read_dictionary` as dictionaries: a few distinct values, not a string a row).

    Why not `pq.read_table`: it reads every file of the folder at once (with read-ahead), so
    what it holds grows with the store; a row group is bounded by the writer."""
    for pf in (pq.ParquetFile(p, read_dictionary=read_dictionary) for p in _files(path)):
        for g in range(pf.metadata.num_row_groups):
            yield pf.read_row_group(g, columns=columns)


def _rows(path: Path) -> int:
    return sum(pq.read_metadata(p).num_rows for p in _files(path))


def _column_names(path: Path) -> list[str]:
    return pads.dataset(path, format="parquet").schema.names


def read_columns(path: Path | None, columns: Iterable[str], filters=None) -> pd.DataFrame:
    """Only these columns of a stored table (those it has), as pandas."""
    if path is None:
        return pd.DataFrame(columns=list(columns))
    have = set(_column_names(path))
    cols = [c for c in columns if c in have]
    return pq.read_table(path, columns=cols, filters=filters).to_pandas()


def take_rows(
    path: Path | None, key: str, values: Iterable[str], name: str, files: list[Path] | None = None
) -> pd.DataFrame:
    """The rows whose `key` is one of `values`, all columns, typed like the stored table
    (`files`: only these partition files of it).

    Reads the key column of each row group, then the other columns only of the row groups
    that hold a wanted row (one at a time), so a few articles cost a few row groups of text.
    """
    table = TABLES[name]
    wanted = pa.array(sorted(set(values)), pa.string())
    if path is None or len(wanted) == 0:
        return table.empty()
    pieces = []
    for pf in map(pq.ParquetFile, _files(path) if files is None else files):
        for i in range(pf.metadata.num_row_groups):
            keys = pf.read_row_group(i, columns=[key]).column(0)
            if pa.types.is_dictionary(keys.type):
                keys = keys.cast(pa.string())
            mask = pc.is_in(keys, value_set=wanted)
            if pc.any(mask).as_py():
                pieces.append(pf.read_row_group(i).filter(mask))
    if not pieces:
        return table.empty()
    rows = pa.concat_tables(pieces, promote_options="permissive").to_pandas()
    extra = [c for c in rows.columns if c not in table.columns]  # e.g. is_background
    out = conform(rows, table)
    for c in extra:
        out[c] = rows[c].to_numpy()
    return out


def rows_of_articles(out_dir: Path, name: str, article_ids: Iterable[str]) -> pd.DataFrame:
    """`take_rows` of the rows of these articles in table `name`, reading only the partition
    files whose id index says they may hold one (`id_index.files_holding`): a few articles
    of a large store are a few files, not every file's id column."""
    ids = sorted(set(article_ids))
    files = files_holding(out_dir, name, "article_id", ids)
    return take_rows(table_file(out_dir, name), "article_id", ids, name, files=files)


def take_positions(path: Path, columns: list[str], positions: Iterable[int]) -> pa.Table:
    """The rows at these positions (row numbers of the whole table) in the order given,
    `columns` only, reading only the row groups that hold one."""
    wanted = np.asarray(positions, dtype=np.int64)
    pieces, order, offset = [], [], 0
    for pf in map(pq.ParquetFile, _files(path)):
        for g in range(pf.metadata.num_row_groups):
            n = pf.metadata.row_group(g).num_rows
            mine = np.flatnonzero((wanted >= offset) & (wanted < offset + n))
            if len(mine):
                group = pf.read_row_group(g, columns=columns)
                pieces.append(group.take(pa.array(wanted[mine] - offset)))
                order.append(mine)
            offset += n
    if not pieces:
        return pa.table({c: pa.array([], pa.null()) for c in columns})
    rows = pa.concat_tables(pieces, promote_options="permissive")
    return rows.take(pa.array(np.argsort(np.concatenate(order))))


# ---------------------------------------------------------------------------------- the run


def row_counts(out_dir: Path) -> dict[str, int]:
    """Rows per stored table (from the Parquet footers)."""
    return {
        name: _rows(path) for name in TABLE_NAMES if (path := table_file(out_dir, name)) is not None
    }


def stored_run_id(out_dir: Path) -> str | None:
    """Run id of the last completed run (the manifest's)."""
    try:
        return json.loads((Path(out_dir) / "_manifest.json").read_text()).get("run_id")
    except (OSError, ValueError):
        return None


def run_stats(out_dir: Path) -> dict:
    """`_run_stats.json` the flow writes (stage seconds, input counts), or {}."""
    try:
        return json.loads((Path(out_dir) / "_run_stats.json").read_text())
    except (OSError, ValueError):
        return {}


# ------------------------------------------------------------------------------- quarantine


def quarantine_by_reason(out_dir: Path) -> list[dict]:
    """Per reason (most rows first): count, stage and a sample of rows with file, line,
    detail and excerpt."""
    path = table_file(out_dir, "quarantine")
    if path is None:
        return []
    cols = ["reason", "stage", "source_file", "line", "doc_id", "detail", "excerpt"]
    q = read_columns(path, cols)
    if q.empty:
        return []
    q["reason"] = q["reason"].astype(str)
    counts = q["reason"].value_counts()
    out = []
    for reason, n in counts.head(QUARANTINE_REASONS).items():
        rows = q[q["reason"] == reason].head(QUARANTINE_SAMPLE)
        out.append(
            {
                "reason": reason,
                "rows": int(n),
                "stage": str(rows["stage"].iloc[0]),
                "sample": rows.drop(columns=["reason", "stage"]).to_dict("records"),
            }
        )
    if len(counts) > QUARANTINE_REASONS:
        rest = counts.iloc[QUARANTINE_REASONS:]
        out.append({"reason": f"({len(rest)} more reasons)", "rows": int(rest.sum()), "sample": []})
    return out


# --------------------------------------------------------------------------------- coverage


def _non_null(path: Path, column: str) -> int:
    """Non-null values of a column (of every partition file of a table folder)."""
    return sum(_non_null_file(p, column) for p in _files(path))


def _non_null_file(path: Path, column: str) -> int:
    """Non-null values of a column: from row group statistics, else by reading it."""
    pf = pq.ParquetFile(path)
    idx = pf.schema_arrow.get_field_index(column)
    if idx < 0:
        return 0
    meta = pf.metadata
    leaf = [meta.schema.column(i).path for i in range(meta.num_columns)].index(column)
    nulls = 0
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(leaf).statistics
        if stats is None or not stats.has_null_count:
            col = pf.read(columns=[column]).column(0)
            return len(col) - col.null_count
        nulls += stats.null_count
    return meta.num_rows - nulls


def coverage(out_dir: Path) -> dict:
    """Shares a maintainer watches: articles with a figure; incidents with a date, a place,
    coordinates, an event type, a perpetrator; background incidents (if that column exists)."""
    out: dict = {"articles": {}, "incidents": {}}
    arts = table_file(out_dir, "articles")
    if arts is not None:
        n = _rows(arts)
        with_fig = int((read_columns(arts, ["n_figures"])["n_figures"].fillna(0) > 0).sum())
        out["articles"] = {"rows": n, "with a figure": with_fig}
    inc = table_file(out_dir, "incidents")
    if inc is not None:
        n = _rows(inc)
        shares = {"rows": n}
        for label, column in (
            ("with a date", "date"),
            ("with a place", "place"),
            ("with coordinates", "latitude"),
            ("with an event type", "event_type"),
            ("with a perpetrator", "perpetrator"),
        ):
            shares[label] = _non_null(inc, column)
        if "is_background" in _column_names(inc):
            bg = read_columns(inc, ["is_background"])["is_background"]
            shares["background"] = int(bg.fillna(False).astype(bool).sum())
        out["incidents"] = shares
    return out


# ----------------------------------------------------------------------------------- charts


def _add_counts(totals: dict[str, int], column: pa.ChunkedArray | pa.Array) -> dict[str, int]:
    """`totals` plus the value counts of `column` (nulls as "(unknown)"), in order of first
    appearance."""
    vc = pc.value_counts(pc.fill_null(column.cast(pa.string()), "(unknown)"))
    for value, n in zip(
        vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True
    ):
        totals[value] = totals.get(value, 0) + n
    return totals


def _most_first(totals: dict[str, int], top: int | None = None) -> pd.Series:
    out = pd.Series(totals, dtype="int64").sort_values(ascending=False, kind="stable")
    return out.head(top) if top else out


def _column_counts(path: Path, columns: list[str]) -> dict[str, pd.Series]:
    """Value counts of each of `columns` of a stored table, read a row group at a time (the
    figures table has millions of rows: read whole, its strings alone take hundreds of MB)."""
    totals: dict[str, dict[str, int]] = {c: {} for c in columns}
    for group in row_groups(path, columns):
        for c in columns:
            _add_counts(totals[c], group.column(c))
    return {c: _most_first(t) for c, t in totals.items()}


def chart_data(out_dir: Path) -> dict:
    """Small series for the charts: killed per month (events), events per country, incidents
    per killed_best value, figures per category and per qualifier.

    Every table is read a row group at a time into sums and counts (Arrow kernels and numpy:
    no Python rows), so what is held grows with the distinct values, not with the rows."""
    data: dict = {}
    events = table_file(out_dir, "events")
    if events is not None:
        per_month: dict[int, float] = {}
        countries: dict[str, int] = {}
        for ev in row_groups(events, ["date", "killed_best", "country"]):
            _add_killed_per_month(per_month, ev)
            _add_counts(countries, ev.column("country"))
        if per_month:
            first, last = min(per_month), max(per_month)
            sums = np.zeros(last - first + 1)
            sums[np.array(list(per_month)) - first] = list(per_month.values())
            index = pd.period_range(
                pd.Timestamp(np.datetime64(first, "M")), periods=len(sums), freq="M"
            )
            data["killed_per_month"] = pd.Series(sums, index=index)
        data["events_per_country"] = _most_first(countries, 15)
    incidents = table_file(out_dir, "incidents")
    if incidents is not None:
        data["killed_per_incident"] = _value_counts(incidents, "killed_best")
    figures = table_file(out_dir, "figures")
    if figures is not None:
        counts = _column_counts(figures, ["category", "qualifier"])
        data["categories"], data["qualifiers"] = counts["category"], counts["qualifier"]
    return data


def _add_killed_per_month(totals: dict[int, float], ev: pa.Table) -> None:
    """Add the killed_best (null as 0) of the dated events of `ev` to `totals` (month number
    since 1970 -> sum). Whole numbers as floats: exact in any order of summing."""
    dated = ev.filter(pc.is_valid(ev.column("date")))
    if not dated.num_rows:
        return
    days = dated.column("date").cast(pa.timestamp("ns")).to_numpy()
    months = days.astype("datetime64[M]").astype(np.int64)
    killed = pc.fill_null(dated.column("killed_best"), 0).to_numpy().astype(float)
    present, at = np.unique(months, return_inverse=True)
    for month, total in zip(present.tolist(), np.bincount(at, weights=killed), strict=True):
        totals[month] = totals.get(month, 0.0) + float(total)


def _value_counts(path: Path, column: str) -> pd.Series:
    """Rows per non-null value of an integer column, by value (read a row group at a time:
    the values of every incident took 8 bytes a row)."""
    totals: dict[int, int] = {}
    for group in row_groups(path, [column]):
        vc = pc.value_counts(pc.drop_null(group.column(0)))
        for value, n in zip(
            vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True
        ):
            totals[value] = totals.get(value, 0) + n
    return pd.Series(totals, dtype="int64").sort_index()


# ---------------------------------------------------------------------- changes and snapshot


def _hash_ids(ids: pd.Series) -> np.ndarray:
    return pd.util.hash_pandas_object(ids.astype(str), index=False).to_numpy(dtype=np.uint64)


def _event_snapshot(out_dir: Path) -> Iterator[pa.Table]:
    """One row per incident of an event: a 32-bit hash of the incident id, the event's row
    number and its counts (7-8 bytes a row on disk), a batch of events at a time. Events are
    matched across runs by their incidents: an event's id changes when a new report joins it,
    its incidents stay. (A 32-bit hash may pair two incidents of millions by chance: a rare
    spurious match.)

    A batch at a time: the ids become Python strings to be hashed, which for every incident
    of the store at once cost more than the rest of the report."""
    path = table_file(out_dir, "events")
    if path is None:
        return
    offset = 0
    for f in pads.dataset(path, format="parquet").files:  # the table's row order
        for batch in pq.ParquetFile(f).iter_batches(
            batch_size=SNAPSHOT_ROWS, columns=["incident_ids", *SNAPSHOT_COUNTS]
        ):
            ids = batch.column(0)
            e = pc.list_parent_indices(ids)
            flat = pc.list_flatten(ids).to_pandas()
            columns = {
                "h": pa.array((_hash_ids(flat) & np.uint64(0xFFFFFFFF)).astype(np.uint32)),
                "e": pa.array(e.to_numpy().astype(np.int64) + offset),
            }
            for c in SNAPSHOT_COUNTS:  # as Arrow: through pandas Int64 they cost 0.7 s at 1 GB
                column = batch.column(batch.schema.get_field_index(c))
                columns[c] = column.take(e).cast(pa.int64())
            yield pa.table(columns)
            offset += batch.num_rows


def _write_event_snapshot(out_dir: Path, dest: Path) -> None:
    """Write the event snapshot of the store to `dest` (atomically), a batch at a time: held
    whole (then as Arrow, then as Parquet bytes) it took +110 MiB on the 1 GB bench store."""
    empty = pd.DataFrame(
        {"h": np.array([], np.uint32), "e": np.array([], np.int64)}
        | {c: pd.array([], dtype="Int64") for c in SNAPSHOT_COUNTS}
    )
    schema = pa.Table.from_pandas(empty, preserve_index=False).schema
    with (
        atomic_file(dest) as f,
        pq.ParquetWriter(
            f,
            schema,
            compression="zstd",
            # hashes are random: delta-packed, not a dictionary (7-8 bytes an incident in all)
            use_dictionary=list(SNAPSHOT_COUNTS),
            column_encoding={"h": "DELTA_BINARY_PACKED", "e": "DELTA_BINARY_PACKED"},
        ) as writer,
    ):
        for part in _event_snapshot(out_dir):
            writer.write_table(part.cast(schema))


SNAPSHOT_ROWS = 50_000  # events read at a time for the snapshot


def _quarantine_reasons(out_dir: Path) -> dict[str, int]:
    q = read_columns(table_file(out_dir, "quarantine"), ["reason"])
    return {str(k): int(v) for k, v in q["reason"].astype(str).value_counts().items()}


def _rows_of_run(out_dir: Path, run_id: str | None) -> dict[str, int]:
    """Rows written by run `run_id` per merged table (stored rows keep their run id)."""
    out = {}
    for name in ("articles", "figures", "incidents", "quarantine"):
        path = table_file(out_dir, name)
        if path is not None and run_id:
            out[name] = _count_equal(path, "run_id", run_id)
    return out


def _count_equal(path: Path, column: str, value: str) -> int:
    """Rows whose string `column` is `value`, read a row group at a time as a dictionary (a
    few distinct values, not a string a row; whole, the figures' run ids took 4 bytes a row)."""
    n = 0
    for group in row_groups(path, [column], read_dictionary=[column]):
        for chunk in group.column(0).chunks:
            for i, v in enumerate(chunk.dictionary.to_pylist()):
                if v == value:
                    n += int(pc.sum(pc.equal(chunk.indices, i)).as_py() or 0)
    return n


@dataclass
class Changes:
    """What changed since the previous report's run."""

    previous_run: str | None = None
    rows: dict[str, dict] = field(default_factory=dict)  # table -> before, after, added, removed
    changed_events: list[dict] = field(default_factory=list)
    n_changed_events: int = 0
    new_reasons: dict[str, int] = field(default_factory=dict)


def changes_since_previous(out_dir: Path, report_dir: Path, run_id: str | None) -> Changes:
    """Compare the store with the snapshot of the previous run kept in `<report>/_report/`,
    then make the current state the snapshot (the one before stays while the run id is the
    same, so rebuilding the report shows the same changes)."""
    snap = Path(report_dir) / SNAPSHOT_DIR
    snap.mkdir(parents=True, exist_ok=True)
    current_meta = snap / "current.json"
    try:
        current = json.loads(current_meta.read_text())
    except (OSError, ValueError):
        current = None
    if current and current.get("run_id") != run_id:
        for suffix in ("parquet", "json"):
            if (snap / f"current.{suffix}").exists():
                os.replace(snap / f"current.{suffix}", snap / f"previous.{suffix}")
    rows_now = row_counts(out_dir)
    reasons_now = _quarantine_reasons(out_dir)
    _write_event_snapshot(out_dir, snap / "current.parquet")
    # The json last: it names the run the parquet beside it belongs to.
    state = {"run_id": run_id, "rows": rows_now, "reasons": reasons_now}
    write_bytes_atomic(current_meta, json.dumps(state).encode())

    try:
        prev = json.loads((snap / "previous.json").read_text())
    except (OSError, ValueError):
        return Changes()
    out = Changes(previous_run=prev.get("run_id"))
    written = _rows_of_run(out_dir, run_id)
    for name, after in rows_now.items():
        before = prev.get("rows", {}).get(name, 0)
        if name in written:
            added = written[name]
            out.rows[name] = {
                "before": before,
                "after": after,
                "added": added,
                "removed": max(0, before - (after - added)),
            }
        else:
            out.rows[name] = {"before": before, "after": after}
    out.new_reasons = {r: n for r, n in reasons_now.items() if r not in prev.get("reasons", {})}
    prev_path = snap / "previous.parquet"
    if prev_path.is_file():
        _event_changes(out, out_dir, snap / "current.parquet", prev_path)
    return out


def _snapshot_column(path: Path, column: str) -> pa.ChunkedArray:
    """One column of an event snapshot (a fixed-width value an incident)."""
    return pq.read_table(path, columns=[column]).column(0)


def _taken(column: pa.ChunkedArray, rows: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """The values at `rows` of a count column, as pandas Int64."""
    return column.take(pa.array(rows)).to_pandas().astype("Int64").array


def _event_changes(out: Changes, out_dir: Path, now_path: Path, before_path: Path) -> None:
    """Events new (none of their incidents stored before) and gone (none of their incidents
    stored now), and events whose counts differ from those of the previous event that held one
    of their incidents (largest changes of killed_best first).

    The snapshots are read a column at a time as numpy: as two pandas frames of every
    incident they held ~40 MB each on the 1 GB bench store."""
    now_h, before_h = (_snapshot_column(p, "h").to_numpy() for p in (now_path, before_path))
    now_e, before_e = (_snapshot_column(p, "e").to_numpy() for p in (now_path, before_path))
    # A lookup in sorted hashes (np.isin sorts by way of numpy's slow hash-based unique).
    seen_before = find_sorted(unique_sorted(before_h), now_h)[1]
    kept = find_sorted(unique_sorted(now_h), before_h)[1]
    out.rows.setdefault("events", {}).update(
        added=len(unique_sorted(now_e)) - len(unique_sorted(now_e[seen_before])),
        removed=len(unique_sorted(before_e)) - len(unique_sorted(before_e[kept])),
    )
    # Per current event, the counts of the previous event of its first incident seen before
    # (numpy on the hashes: a pandas merge of two snapshots of every incident cost ~400 MB).
    rows, before_rows = _first_seen_before(now_h, before_h)
    del now_h, before_h, seen_before, kept
    _, first = np.unique(now_e[rows], return_index=True)
    first.sort()  # the current event's first incident seen before, in snapshot order
    rows, before_rows = rows[first], before_rows[first]
    diff = np.zeros(len(rows), dtype=bool)
    counts = {}
    for c in SNAPSHOT_COUNTS:
        now_c, before_c = _snapshot_column(now_path, c), _snapshot_column(before_path, c)
        counts[c], counts[f"{c}_before"] = _taken(now_c, rows), _taken(before_c, before_rows)
        a = counts[c].to_numpy(dtype="float64", na_value=np.nan)
        b = counts[f"{c}_before"].to_numpy(dtype="float64", na_value=np.nan)
        diff |= ~((a == b) | (np.isnan(a) & np.isnan(b)))
    out.n_changed_events = int(diff.sum())
    if not out.n_changed_events:
        return
    changed = pd.DataFrame({"e": now_e[rows[diff]]})
    for c in SNAPSHOT_COUNTS:
        changed[c] = counts[c][diff]
        changed[f"{c}_before"] = counts[f"{c}_before"][diff]
    changed["delta"] = (
        changed["killed_best"].astype("float64").fillna(0)
        - changed["killed_best_before"].astype("float64").fillna(0)
    ).abs()
    top = changed.nlargest(CHANGED_EVENTS, "delta")
    # Their ids and places: the rows of the events table at those positions.
    events = table_file(out_dir, "events")
    if events is None:  # removed since the snapshot was taken
        return
    where = take_positions(events, ["event_id", "date", "place", "country"], top["e"])
    for r, w in zip(top.to_dict("records"), where.to_pylist(), strict=True):
        out.changed_events.append(
            {
                "event_id": w["event_id"],
                "date": w["date"],
                "place": w["place"],
                "country": w["country"],
                **{c: (r[f"{c}_before"], r[c]) for c in SNAPSHOT_COUNTS},
            }
        )


def _first_seen_before(now: np.ndarray, before: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `now` whose hash is in `before`, and for each the first row of `before` with
    that hash."""
    hashes, first = np.unique(before, return_index=True)
    at, found = find_sorted(hashes, now)
    rows = np.flatnonzero(found)
    return rows, first[at[rows]]


# ------------------------------------------------------------------------------ review queue

QUEUE_KINDS = {
    "largest": "largest tolls",
    "party_claim": "a party's own claim",
    "hedged": "hedged figure",
    "wide_range": "wide range",
    "disagree": "accounts disagree within the incident",
    "disputed": "disputed event (sources disagree)",
}
_SCAN_COLUMNS = [
    "figure_id",
    "article_id",
    "incident_id",
    "category",
    "low",
    "best",
    "high",
    "hedged",
    "claim_by_party",
    "is_subset",
    "is_aggregate",
    "is_cumulative",
]


def _int(a, fill: int = 0) -> np.ndarray:
    return pc.fill_null(a, fill).to_numpy().astype(np.int64)


def _bool(a) -> np.ndarray:
    return pc.fill_null(a, False).to_numpy(zero_copy_only=False).astype(bool)


def _codes(a: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Integer codes of a string or dictionary column (-1 for null) and the values."""
    enc = a.combine_chunks()
    if not pa.types.is_dictionary(enc.type):
        enc = pc.dictionary_encode(enc)
    return pc.fill_null(enc.indices, -1).to_numpy().astype(np.int64), enc.dictionary.to_pylist()


class _TopK:
    """The k largest (score, figure_id, article_id) seen, over all row groups."""

    def __init__(self, k: int) -> None:
        self.k, self.n = k, 0
        self.heap: list[tuple[float, int, str, str]] = []

    def offer(self, scores: np.ndarray, rows: np.ndarray, t: pa.Table) -> None:
        """Offer rows of `t` (positions `rows`) with their scores; ids are read for the few
        that can enter the top k only."""
        if not len(rows):
            return
        if len(rows) > self.k:
            keep = np.argpartition(-scores, self.k - 1)[: self.k]
            scores, rows = scores[keep], rows[keep]
        take = pa.array(rows)
        ids = t.column("figure_id").take(take).to_pylist()
        arts = t.column("article_id").take(take).to_pylist()
        for score, fid, aid in zip(scores.tolist(), ids, arts, strict=True):
            self.offer_one(score, fid, aid)

    def offer_one(self, score: float, fid: str, aid: str) -> None:
        item = (score, -self.n, fid, aid)
        self.n += 1
        if len(self.heap) < self.k:
            heapq.heappush(self.heap, item)
        elif item > self.heap[0]:
            heapq.heapreplace(self.heap, item)

    def items(self) -> list[tuple[float, str, str]]:
        return [(s, f, a) for s, _, f, a in sorted(self.heap, reverse=True)]


def select_queue(out_dir: Path) -> dict[str, list[tuple[float, str, str]]]:
    """Figures most worth a human's eye, per kind: (score, figure_id, article_id), best first.

    Streams a few figure columns a row group at a time (numpy on Arrow buffers; ids are read
    only for candidates). `disagree`: an incident whose figures of one category (neither
    subsets, window totals nor running tolls) give different numbers, looked for within a row
    group (an incident split across two is not seen). `disputed`: the incidents of the largest
    disputed events (events table).
    """
    # Three times the entries shown: the report drops repeats of a sentence it already shows.
    kinds = {k: _TopK(3 * QUEUE_PER_KIND) for k in QUEUE_KINDS}
    path = table_file(out_dir, "figures")
    if path is not None:
        for group in row_groups(path, _SCAN_COLUMNS):
            _scan_group(group, kinds)
    events = table_file(out_dir, "events")
    if events is not None:
        for killed, first in _largest_disputed(events, 3 * QUEUE_PER_KIND):
            kinds["disputed"].offer_one(killed, first, first.split(":")[0])
    return {k: top.items() for k, top in kinds.items()}


def _largest_disputed(events: Path, k: int) -> list[tuple[float, str]]:
    """The `k` disputed events with the largest killed_best (null as 0; ties in row order),
    largest first: (killed_best, first of their incident ids in sorted order).

    Read a row group at a time, keeping the k best so far: read whole with a filter, the
    events' incident_ids took ~100 MiB on the 1 GB bench store (90 k events)."""
    best: list[tuple[float, int, str]] = []  # (-killed, disputed event's rank, incident id)
    seen = 0
    for group in row_groups(events, ["killed_best", "incident_ids", "disputed"]):
        ev = group.filter(pc.equal(group.column("disputed"), True))
        killed = _int(ev.column("killed_best")).astype(float)
        for i in np.argsort(-killed, kind="stable")[:k]:
            first = sorted(ev.column("incident_ids")[int(i)].as_py())[0]
            best.append((-float(killed[i]), seen + int(i), first))
        best = sorted(best)[:k]
        seen += ev.num_rows
    return [(-negative, first) for negative, _, first in best]


def _scan_group(t: pa.Table, kinds: dict[str, _TopK]) -> None:
    cat, cat_values = _codes(t.column("category"))
    toll = np.isin(cat, [i for i, v in enumerate(cat_values) if v in TOLL_CATEGORIES])
    low, best = _int(t.column("low")), _int(t.column("best"))
    high = _int(t.column("high"), -1)
    hedged, party = _bool(t.column("hedged")), _bool(t.column("claim_by_party"))
    plain = ~(
        _bool(t.column("is_subset"))
        | _bool(t.column("is_aggregate"))
        | _bool(t.column("is_cumulative"))
    )

    def offer(kind: str, mask: np.ndarray, score: np.ndarray) -> None:
        rows = np.flatnonzero(mask)
        kinds[kind].offer(score[rows].astype(float), rows, t)

    offer("largest", toll, best)
    offer("party_claim", party, best)
    offer("hedged", hedged, best)
    ratio = (high + 1) / (low + 1)
    offer("wide_range", (high >= 0) & (high >= 2 * np.maximum(low, 1)), ratio + best / 1e9)
    # Disagreement: sort plain rows by (incident, category); per run of equal keys, min and max.
    inc, _ = _codes(t.column("incident_id"))
    rows = np.flatnonzero(plain & (inc >= 0) & (cat >= 0))
    if len(rows) < 2:
        return
    key = inc[rows] * (len(cat_values) + 1) + cat[rows]
    order = np.argsort(key, kind="stable")
    rows, key = rows[order], key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    vals = best[rows]
    hi, lo = np.maximum.reduceat(vals, starts), np.minimum.reduceat(vals, starts)
    split = np.flatnonzero(hi > lo)
    if not len(split):
        return
    # The row holding the group's largest number stands for the group.
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(rows)]))
    is_top = (vals == hi[group]) & np.isin(group, split)
    first_top = np.flatnonzero(is_top)
    first_top = first_top[np.r_[True, group[first_top][1:] != group[first_top][:-1]]]
    picked = rows[first_top]
    score = np.zeros(t.num_rows)
    score[picked] = (hi - lo)[group[first_top]]
    mask = np.zeros(t.num_rows, dtype=bool)
    mask[picked] = True
    offer("disagree", mask, score)


def load_article(out_dir: Path, key: str) -> tuple[dict, pd.DataFrame, pd.DataFrame] | None:
    """One stored article (by article_id, else by doc_id) with its figures and incidents;
    None when no article has that id."""
    arts = rows_of_articles(out_dir, "articles", [key])
    if arts.empty:
        arts = take_rows(table_file(out_dir, "articles"), "doc_id", [key], "articles")
    if arts.empty:
        return None
    article = arts.iloc[0].to_dict()
    aid = [article["article_id"]]
    figures = rows_of_articles(out_dir, "figures", aid)
    incidents = rows_of_articles(out_dir, "incidents", aid)
    return article, figures, incidents
