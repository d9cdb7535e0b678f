"""Events kept up to date block by block: a run merges again only the blocks its changes touch.

The events table is stored one partition per country (`partition_key`). Two incidents can only
be one event when they share a country and a merge window (a calendar year) and their date
intervals come within the merge gap (see `groups`): so a country's incidents fall apart into
time segments that no candidate pair crosses. Inside a segment, the events of a connected set
of candidates depend on its incidents alone (the union-find of `reconcile` joins pairs inside
one connected set, in an order that other sets do not change). A run that adds, changes or
removes incidents therefore:

1. takes as touched the incidents it adds (new and rewritten partitions), the remaining
   incidents of every stored event that held an incident it adds or removes, and the news
   incidents in no stored event (their event was invalid, so quarantined);
2. places every incident (`groups.placing`: a few numbers a row), cuts the countries of the
   touched incidents into segments as they are now, reads only the segments holding a
   touched incident, a bounded group of rows at a time, and merges again only the incidents
   that candidate pairs link to a touched one (`reconcile.merge_events` with seeds): in a
   dense country a segment is a whole year of reports, of which a new report reaches a few;
3. keeps every stored event of those countries that holds no incident merged again, as it
   is stored (with the run id of the run that made it): only the events merged again are
   validated and checked by this run.

Memory holds the placing numbers and ids of the incidents, one group of rows and one country's
events, not the touched countries whole. The result equals a full merge (the tests compare
both ways). A full rebuild merges every country, a bounded group of rows at a time
(`groups.merge_events_file`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from casualties.events.groups import (
    GROUP_ROWS,
    Placing,
    batches_of_columns,
    merged_groups,
    placing,
    split_by_group,
    time_segments,
)
from casualties.events.reconcile import max_day_gap
from casualties.fields import EVENTS, INCIDENTS, as_pandas, conform
from casualties.files import iter_batches, read_parquet

NO_COUNTRY = "(no country)"  # the partition key of events without a country
EVENTS_SOURCE = "<events>"  # `source_file` of the quarantine rows of invalid events


def partition_key(country: object) -> str:
    """The events partition of a country (events without one share `NO_COUNTRY`)."""
    return NO_COUNTRY if country is None or pd.isna(country) else f"country:{country}"


def partition_keys(df: pd.DataFrame) -> np.ndarray:
    """The partition key of each row (events or incidents) by its `country`."""
    country = df["country"].astype(object)
    return np.array([partition_key(c) for c in country], dtype=object)


def _read(paths: Iterable[Path], columns: list[str]) -> pd.DataFrame:
    """The `columns` of the incidents files, as pandas."""
    frames = [batch.to_pandas() for batch in iter_batches(list(paths), columns)]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else INCIDENTS.empty()[columns]


def _strings(paths: list[Path], column: str) -> pa.Array:
    """A string column of the files, in row order, as one Arrow array (~20 bytes an id where
    a Python string costs ~70)."""
    chunks = [batch.column(0).cast(pa.string()) for batch in iter_batches(paths, [column])]
    return pa.concat_arrays(chunks) if chunks else pa.array([], pa.string())


def _flags(paths: list[Path], column: str) -> np.ndarray:
    """A boolean column of the files in row order (null, or a file without it: False)."""
    chunks = []
    for batch, columns in batches_of_columns(paths, [column]):
        if column in columns:
            chunks.append(pc.fill_null(batch.column(0), False).to_numpy(zero_copy_only=False))
        else:
            chunks.append(np.zeros(batch.num_rows, dtype=bool))
    return np.concatenate(chunks).astype(bool) if chunks else np.zeros(0, dtype=bool)


def _isin(values: pa.Array, members: pa.Array) -> np.ndarray:
    """Whether each of `values` is one of `members` (both Arrow strings)."""
    return pc.is_in(values, value_set=members).to_numpy(zero_copy_only=False)


_COUNTRY_IN_EXCERPT = re.compile(r"(?:^|; )country=([^;]*)")


def untouched_quarantine(quarantine: pd.DataFrame, touched: set[str]) -> pd.DataFrame:
    """The stored quarantine rows of invalid events in partitions a run does not merge again
    (their events are not made again, so neither are their rows). The partition is read from
    the row's excerpt (`country=...`, see `schemas.validate.EXCERPT_CONTEXT`); a row without
    it (written by an older version) is left out and made again by the next full rebuild."""
    rows = quarantine[quarantine["source_file"] == EVENTS_SOURCE]
    country = (
        rows["excerpt"]
        .astype(object)
        .map(
            lambda e: (
                m.group(1) if isinstance(e, str) and (m := _COUNTRY_IN_EXCERPT.search(e)) else ""
            )
        )
    )
    keys = country.map(lambda c: NO_COUNTRY if c == "null" else f"country:{c}" if c else "")
    return rows[(keys != "") & ~keys.isin(touched)].reset_index(drop=True)


class StoredFiles(Protocol):
    """The stored events file of each partition key (a dict of them will do)."""

    def get(self, key: str, /) -> Path | None: ...


@dataclass
class _Partition:
    """What a run does to one events partition: the incidents it may merge again (row
    positions in the incidents files, a time segment or a few single rows a unit) and the ids
    of those among them it touched (`seeds`: what is merged again is what a candidate pair
    links to them); `path`, its stored file (None: none stored)."""

    key: str
    path: Path | None
    units: list[np.ndarray]
    seeds: pa.Array


def _members(path: Path | None) -> tuple[pa.Array, np.ndarray, int]:
    """The incident ids of a stored events file, the row of the event each belongs to, and
    the number of events."""
    if path is None:
        return pa.array([], pa.string()), np.zeros(0, dtype=np.int64), 0
    col = read_parquet(path, ["incident_ids"]).column(0).combine_chunks()
    owner = pc.list_parent_indices(col).to_numpy(zero_copy_only=False)
    return pc.list_flatten(col).cast(pa.string()), owner, len(col)


def _plan(
    key: str,
    path: Path | None,
    rows: np.ndarray,
    place: Placing,
    ids: pa.Array,
    background: np.ndarray,
    added: pa.Array,
    changed: pa.Array,
) -> _Partition:
    """Which of the partition's incidents (`rows`) the run touches, and the time segments
    that hold them. `added`: ids of the incidents the run writes; `changed`: those and the
    ids of the incidents it replaces or drops."""
    members, owner, n_events = _members(path)
    # A stored event that held an incident the run writes or removes is made again, from the
    # incidents it has left.
    stale = np.zeros(n_events, dtype=bool)
    stale[owner[_isin(members, changed)]] = True
    mine = ids.take(pa.array(rows, pa.int64()))
    touched = _isin(mine, added) | _isin(mine, members.filter(pa.array(stale[owner])))
    # A news incident in no stored event was in an invalid event (quarantined, not stored):
    # it is merged again too, so that event's quarantine row is made again.
    touched |= ~_isin(mine, members) & ~background[rows]
    segments = time_segments(
        place.country[rows],
        place.first_day[rows],
        place.last_day[rows],
        place.ok[rows],
        max_day_gap(),
    )
    units = [rows[seg] for seg in segments if touched[seg].any()]
    # Incidents that merge with nothing (a loose date, no country) are events on their own.
    single = np.flatnonzero(~place.ok[rows] | (place.country[rows] < 0))
    if touched[single].any():
        units.append(rows[single[touched[single]]])
    return _Partition(key, path, units, mine.filter(pa.array(touched)))


def _kept(plan: _Partition, changed: pa.Array, merged: list[pd.DataFrame]) -> np.ndarray:
    """Per stored event of the partition, whether it stays as it is: it holds no incident the
    run writes or removes, and none of the incidents merged again (in `merged` events)."""
    members, owner, n_events = _members(plan.path)
    lists = [pa.array(f["incident_ids"], pa.list_(pa.string())) for f in merged if len(f)]
    remade = pc.list_flatten(pa.concat_arrays(lists)) if lists else pa.array([], pa.string())
    gone = _isin(members, changed) | _isin(members, remade)
    kept = np.ones(n_events, dtype=bool)
    kept[owner[gone]] = False
    return kept


def _rows_of(key: str, place: Placing, codes: Mapping[str, int]) -> np.ndarray:
    """Row positions of the incidents of an events partition."""
    if key == NO_COUNTRY:
        return np.flatnonzero(place.country < 0)
    code = codes.get(key.removeprefix("country:"))
    return np.zeros(0, dtype=np.int64) if code is None else np.flatnonzero(place.country == code)


def _pack(plans: list[_Partition], rows: int, group_rows: int) -> tuple[np.ndarray, list[int]]:
    """Group number of each incidents row merged again (-1: not merged): the plans' units
    packed in order into groups of about `group_rows` (a larger unit stays whole); and per
    plan, the last group that holds its rows (-1: none)."""
    group = np.full(rows, -1, dtype=np.int32)
    g, size, last = 0, 0, []
    for plan in plans:
        for unit in plan.units:
            if size and size + len(unit) > group_rows:
                g, size = g + 1, 0
            group[unit] = g
            size += len(unit)
        last.append(g if plan.units else -1)
    return group, last


@dataclass
class PartitionUpdate:
    """One events partition as a run leaves it: `kept`, its stored events that stay as they
    were (Arrow rows read from the stored file, `run_id` and all: they are not made again, so
    they are neither converted, validated nor checked again); `merged`, its events merged
    again (pandas, without `run_id`, sorted by date then event_id). No rows in either: the
    partition is left without events."""

    key: str
    kept: pa.Table | None
    merged: pd.DataFrame

    def to_pandas(self) -> pd.DataFrame:
        """All its events as one frame without `run_id` (kept first)."""
        frames = [as_pandas(self.kept)] if self.kept is not None else []
        frames = [conform(f, EVENTS).drop(columns="run_id") for f in [*frames, self.merged]]
        return pd.concat(frames, ignore_index=True)


def _partition_update(
    plan: _Partition, changed: pa.Array, merged: list[pd.DataFrame]
) -> PartitionUpdate:
    """The partition's stored events that stay (filtered as Arrow: the others never become
    rows) and its events merged again."""
    kept = None
    if plan.path is not None:
        keep = _kept(plan, changed, merged)
        if keep.any():
            kept = read_parquet(plan.path).filter(pa.array(keep))
    frames = [f for f in merged if len(f)]  # as `merge_events` made them: conformed
    if not frames:
        return PartitionUpdate(plan.key, kept, EVENTS.empty().drop(columns="run_id"))
    part = pd.concat(frames, ignore_index=True)
    del frames, merged
    part = part.sort_values(["date", "event_id"], kind="stable", na_position="last")
    return PartitionUpdate(plan.key, kept, part.reset_index(drop=True))


def update_events(
    next_incidents: list[Path],
    added: list[Path],
    removed: list[Path],
    stored_events: StoredFiles,
    articles: pd.DataFrame | None,
    group_rows: int = GROUP_ROWS,
) -> Iterator[PartitionUpdate]:
    """The events partitions a run changes, one at a time: a `PartitionUpdate` for the
    partition of every incident the run writes or removes. `next_incidents`: every incidents
    file once the run commits; `added`: those the run wrote; `removed`: the stored files they
    replace or drop; `stored_events`: {partition key: file}."""
    cols = ["incident_id", "country"]
    new, old = _read(added, cols), _read(removed, cols)
    keys = sorted(set(partition_keys(new)) | set(partition_keys(old)))
    if not keys:
        return
    ids_added = pa.array(new["incident_id"].astype(object), pa.string())
    changed = pa.concat_arrays(
        [ids_added, pa.array(old["incident_id"].astype(object), pa.string())]
    ).unique()
    del new, old
    paths = list(next_incidents)
    place = placing(paths, articles)
    ids = _strings(paths, "incident_id")
    background = _flags(paths, "is_background")
    codes = {str(name): i for i, name in enumerate(place.names)}
    plans = [
        _plan(
            k,
            stored_events.get(k),
            _rows_of(k, place, codes),
            place,
            ids,
            background,
            ids_added,
            changed,
        )
        for k in keys
    ]
    del ids, background
    group, last = _pack(plans, len(place.country), group_rows)
    # This generator lives until the last partition: let go of the store-wide numbers now.
    del place, codes
    n_groups = max(last) + 1
    with tempfile.TemporaryDirectory(
        prefix=".events-", dir=paths[0].parent if paths else None
    ) as tmp:
        files = split_by_group(paths, group, n_groups, Path(tmp)) if n_groups else []
        del group
        seeds = pa.concat_arrays([plan.seeds for plan in plans]).unique()
        groups = merged_groups(files, articles, seeds)
        pending: dict[str, list[pd.DataFrame]] = {}
        done = -1
        for plan, upto in zip(plans, last, strict=True):
            while done < upto:  # merge the groups up to the partition's last one
                events = next(groups)
                done += 1
                where = partition_keys(events)
                for k in dict.fromkeys(where):
                    pending.setdefault(k, []).append(events[where == k])
            yield _partition_update(plan, changed, pending.pop(plan.key, []))
