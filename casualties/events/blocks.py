"""Events kept up to date block by block: a run merges again only the blocks its changes touch.

The events table is stored one partition per country (`partition_key`). Two incidents can only
be one event when they share a country and their date intervals come within the merge gap
(see `groups`): so a country's incidents fall apart into time segments that no candidate pair
crosses, and the events of a segment depend on its incidents alone (the union-find of
`reconcile` joins pairs inside one connected set of candidates, in an order that other sets do
not change). A run that adds, changes or removes incidents therefore:

1. takes as touched the incidents it adds (new and rewritten partitions) and the remaining
   incidents of every stored event that held an incident it removes;
2. reads the incidents of the countries those belong to, cuts each country into segments
   as they are now, and merges again only the segments holding a touched incident;
3. keeps every stored event of those countries that holds no touched or removed incident.

The result equals a full merge (the tests compare both ways). A full rebuild merges every
country, a bounded group of rows at a time (`groups.merge_events_file`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from casualties.events.groups import GROUP_ROWS
from casualties.events.reconcile import date_intervals, max_day_gap, merge_events, published
from casualties.fields import EVENTS, INCIDENTS, conform
from casualties.files import iter_batches

NO_COUNTRY = "(no country)"  # the partition key of events without a country
EVENTS_SOURCE = "<events>"  # `source_file` of the quarantine rows of invalid events


def partition_key(country: object) -> str:
    """The events partition of a country (events without one share `NO_COUNTRY`)."""
    return NO_COUNTRY if country is None or pd.isna(country) else f"country:{country}"


def partition_keys(df: pd.DataFrame) -> np.ndarray:
    """The partition key of each row (events or incidents) by its `country`."""
    country = df["country"].astype(object)
    return np.array([partition_key(c) for c in country], dtype=object)


def _read(paths: Iterable[Path], columns: list[str] | None = None, keys=None) -> pd.DataFrame:
    """Rows of the files (only those of the partitions `keys`, if given), as pandas."""
    frames = []
    for batch in iter_batches(list(paths), columns):
        df = batch.to_pandas()
        if keys is not None:
            df = df[np.isin(partition_keys(df), list(keys))]
        if len(df):
            frames.append(df)
    if not frames:
        empty = INCIDENTS.empty() if columns is None else INCIDENTS.empty()[columns]
        return empty
    return pd.concat(frames, ignore_index=True)


def _segments(df: pd.DataFrame, articles: pd.DataFrame | None) -> np.ndarray:
    """A segment number per incident of one country (incidents that merge with nothing are a
    segment each)."""
    d0, d1, ok = date_intervals(df.assign(published=published(df, articles)))
    seg = np.full(len(df), -1, dtype=np.int64)
    rows = np.flatnonzero(ok)
    if len(rows):
        rows = rows[np.argsort(d0[rows], kind="stable")]
        reach = np.maximum.accumulate(d1[rows] + max_day_gap())
        new = np.ones(len(rows), dtype=bool)
        new[1:] = d0[rows][1:] > reach[:-1]
        seg[rows] = np.cumsum(new) - 1
    loose = np.flatnonzero(seg < 0)
    seg[loose] = (seg.max() + 1 if len(rows) else 0) + np.arange(len(loose))
    return seg


def touched_partitions(added: list[Path], removed: list[Path]) -> set[str]:
    """The events partitions a run merges again: those of the incidents it writes (`added`)
    and of those it replaces or drops (`removed`)."""
    cols = ["incident_id", "country"]
    return set(partition_keys(_read(added, cols))) | set(partition_keys(_read(removed, cols)))


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


def update_events(
    next_incidents: list[Path],
    added: list[Path],
    removed: list[Path],
    stored_events: dict[str, Path],
    articles: pd.DataFrame | None,
    group_rows: int = GROUP_ROWS,
) -> tuple[dict[str, pd.DataFrame], set[str]]:
    """The events partitions that change: ({partition key: events}, keys of partitions to
    drop). `next_incidents`: every incidents file once the run commits; `added`: those the run
    wrote; `removed`: the stored files they replace or drop; `stored_events`: {partition key:
    file}. Events come without `run_id`, each partition sorted by date then event_id."""
    cols = ["incident_id", "country"]
    new = _read(added, cols)
    old = _read(removed, cols)
    gone = set(old["incident_id"]) - set(new["incident_id"])
    keys = set(partition_keys(new)) | set(partition_keys(old))
    if not keys:
        return {}, set()
    # Stored events of those partitions; those holding a removed incident go, and their other
    # incidents are merged again.
    stored = [stored_events[k] for k in sorted(keys) if k in stored_events]
    events = _read(stored) if stored else EVENTS.empty().drop(columns="run_id")
    members = events["incident_ids"].map(list) if len(events) else pd.Series([], dtype=object)
    hit = members.map(lambda ids: any(i in gone for i in ids)).to_numpy(dtype=bool)
    touched = set(new["incident_id"]) | {i for ids in members[hit] for i in ids}
    touched -= gone
    incidents = conform(_read(next_incidents, keys=keys), INCIDENTS)
    # A news incident in no stored event was in an invalid event (quarantined, not stored):
    # its segment is merged again too, so that event's quarantine row is made again.
    stored_members = {i for ids in members for i in ids}
    orphan = ~incidents["incident_id"].isin(stored_members).to_numpy(bool)
    orphan &= ~incidents["is_background"].fillna(False).to_numpy(dtype=bool)
    redo = np.zeros(len(incidents), dtype=bool)
    country_key = partition_keys(incidents)
    for key in keys:
        mine = np.flatnonzero(country_key == key)
        if not len(mine):
            continue
        seg = _segments(incidents.iloc[mine], articles)
        hit = incidents["incident_id"].iloc[mine].isin(touched).to_numpy() | orphan[mine]
        hot = np.unique(seg[hit])
        redo[mine[np.isin(seg, hot)]] = True
    redone = set(incidents.loc[redo, "incident_id"])
    keep = ~members.map(lambda ids: any(i in redone or i in gone for i in ids)).to_numpy(bool)
    merged = _merge_in_groups(incidents[redo].reset_index(drop=True), articles, group_rows)
    out: dict[str, pd.DataFrame] = {}
    for key in keys:
        frames = [
            f[partition_keys(f) == key]
            for f in (events[keep] if len(events) else events, merged)
            if len(f)
        ]
        frames = [conform(f, EVENTS).drop(columns="run_id") for f in frames if len(f)]
        if frames:
            part = pd.concat(frames, ignore_index=True)
            out[key] = part.sort_values(
                ["date", "event_id"], kind="stable", na_position="last"
            ).reset_index(drop=True)
    dropped = {k for k in keys if k not in out and k in stored_events}
    return out, dropped


def _merge_in_groups(
    incidents: pd.DataFrame, articles: pd.DataFrame | None, group_rows: int
) -> pd.DataFrame:
    """`merge_events` over whole countries' segments packed into groups of about `group_rows`
    incidents (bounded memory when a run touches much)."""
    if not len(incidents):
        return EVENTS.empty().drop(columns="run_id")
    key = partition_keys(incidents)
    seg = np.zeros(len(incidents), dtype=np.int64)
    base = 0
    for k in np.unique(key):
        mine = np.flatnonzero(key == k)
        s = _segments(incidents.iloc[mine], articles)
        seg[mine] = s + base
        base += int(s.max()) + 1
    sizes = np.bincount(seg)
    group = np.zeros(len(sizes), dtype=np.int64)
    g = size = 0
    for i, n in enumerate(sizes.tolist()):
        if size and size + n > group_rows:
            g, size = g + 1, 0
        group[i] = g
        size += n
    row_group = group[seg]
    frames = [
        merge_events(incidents[row_group == i].reset_index(drop=True), articles)
        for i in range(int(row_group.max()) + 1)
    ]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else EVENTS.empty().drop(columns="run_id")
