"""Events: incidents from different articles that report the same event, merged and reconciled.

GDELT's best-known failure is counting one kidnapping as hundreds of events because every
article that reports it counts again. Here reports of one event become one row (background
incidents, which an article only recalls, are left out):

1. Candidate pairs come from a hash join on blocking keys, never from all pairs: the country
   and the merge window (`time_windows`: the calendar year of the first day a report's date
   allows), a coordinate cell of about 55 km or, without coordinates, the admin area or place
   words, each day the incident's date may fall on (by its precision; loose words such as
   "overnight" widen it), and neighbouring log2 buckets of the killed count.
2. A pair is compatible when both come from different articles, the places are within
   `merge.max_km`, the event types may name one event, and their counts can be accounts of one
   number (or the later one is a running toll that updates the earlier).
3. Compatible pairs are joined (union-find), never putting two incidents of one article into
   one event: the article itself told them apart.
4. Each event is reconciled per CONVENTIONS: a later running toll supersedes the reports
   published before it (for the categories the toll gives); then lowest low, lowest best
   among sources that are not a party's own claim, highest high (null when any source is
   unbounded).
"""

from __future__ import annotations

import hashlib
import math
import re
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from casualties import rules
from casualties.arrays import unique_sorted
from casualties.extract.dates import PRECISION_RANK
from casualties.fields import CATEGORIES, EVENT_TYPES, EVENTS, INCIDENTS, conform

_DAY_NS = 86_400 * 10**9
JOIN_ROWS = 5_000  # incident-days per window of the candidate join (bounds its memory)
PAIR_ROWS = 1_000_000  # candidate pairs joined at once within a window (bounds a crowded day)
# Coordinate cells of about 55 km: one town's reports share a cell. Two places a few km apart
# on either side of a cell border are not compared (a rare miss, traded for speed).
_CELL_DEG = 0.5
_GEO_RANK = {"exact": 0, "nearby": 1, "admin": 2, "country": 3, "unknown": 4}
# The incidents columns `merge_events` does not read: a reader may leave them out (they come
# back as nulls), which saves a Python string per row and column of a large group.
UNREAD_COLUMNS = frozenset({"place_text", "weapon", "target", "n_figures", "run_id"})
_ATTRS = (
    "date",
    "date_precision",
    "place",
    "country",
    "admin1",
    "latitude",
    "longitude",
    "geo_precision",
)


@lru_cache(maxsize=1)
def _settings() -> dict:
    return rules.load("events")["merge"]


@lru_cache(maxsize=1)
def _fuzzy_re() -> str:
    return _settings()["fuzzy_date_words"]


@lru_cache(maxsize=1)
def _type_matrix() -> np.ndarray:
    """compat[i, j]: event types i and j (index in EVENT_TYPES, last index = missing) may name
    one event."""
    s = _settings()
    n = len(EVENT_TYPES) + 1
    m = np.eye(n, dtype=bool)
    m[n - 1, :] = m[:, n - 1] = True
    idx = {t: i for i, t in enumerate(EVENT_TYPES)}
    for g in s["generic_types"]:
        m[idx[g], :] = m[:, idx[g]] = True
    for a, b in s["compatible_types"]:
        m[idx[a], idx[b]] = m[idx[b], idx[a]] = True
    return m


def _utc(ts: pd.Series) -> pd.Series:
    """`ts` as UTC timestamps (unparseable values missing).

    A column that already holds zoned timestamps (as read from Parquet) is only converted:
    `pd.to_datetime` would first look at its values one by one to decide whether to cache
    parsed strings, which costs more than the conversion itself."""
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        return ts.dt.tz_convert("UTC")
    return pd.to_datetime(ts, utc=True, errors="coerce")


def _day_numbers(ts: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 (UTC) as int64; -1 for missing."""
    v = _utc(ts)
    out = v.dt.floor("D").astype("int64") // _DAY_NS
    return np.where(v.isna(), -1, out).astype(np.int64)


def max_day_gap() -> int:
    """Days two reports' date intervals may lie apart and still be one event."""
    return int(_settings()["max_day_gap"])


def time_windows(first_day: np.ndarray) -> np.ndarray:
    """The merge window of each report from the first day its date allows (days since
    1970-01-01): calendar periods of `merge.window_months` months counted from January 1970
    (12: calendar years). Reports in different windows are never one event, so a country
    reported every day falls apart into windows that can be merged one at a time."""
    months = np.asarray(first_day, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months // int(_settings()["window_months"])


def date_intervals(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and last day (inclusive) each incident's date allows, and whether it may merge.

    day: that day, widened by `merge.fuzzy_days` when its words are loose about the day
    ("overnight", "last night", "yesterday": the night spans two dates and time zones
    differ); week: 7 days; month: the calendar month; unknown: the publication day and the
    two days before (an article that gives no date reports something recent); year or
    nothing: never merged (too loose to say two reports are one event). Two reports that
    name different days ("on Monday", "on Tuesday") are different events.
    """
    d0 = _day_numbers(df["date"])
    pub = _day_numbers(df["published"])
    prec = df["date_precision"].astype(object).fillna("unknown").to_numpy()
    d1 = d0.copy()
    week = prec == "week"
    d1[week] = d0[week] + 6
    month = prec == "month"
    if month.any():
        starts = _utc(df["date"])
        ends = starts + pd.offsets.MonthEnd(0)
        d1[month] = _day_numbers(ends)[month]
    fuzzy = (prec == "day") & _loose_day_words(df["date_text"])
    widen = int(_settings()["fuzzy_days"])
    d0 = np.where(fuzzy & (d0 >= 0), d0 - widen, d0)
    d1 = np.where(fuzzy & (d1 >= 0), d1 + widen, d1)
    unknown = (prec == "unknown") | (d0 < 0)
    d0 = np.where(unknown, pub - 2, d0)
    d1 = np.where(unknown, pub, d1)
    ok = ~((prec == "year") | (unknown & (pub < 0)))
    return d0, d1, ok


def _loose_day_words(date_text: pd.Series) -> np.ndarray:
    """Whether each date's words are loose about the day (`merge.fuzzy_date_words`). Each
    distinct text is matched once: a few hundred phrases recur over millions of incidents."""
    codes, texts = pd.factorize(date_text.astype(object), use_na_sentinel=True)
    loose = re.compile(_fuzzy_re())
    hit = np.array([bool(loose.search(str(t))) for t in texts] + [False], dtype=bool)
    return hit[codes]  # a missing text (code -1) takes the last entry: not loose


def _place_keys(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell of each incident with coordinates (else -1) and a text key for those without."""
    lat = pd.to_numeric(df["latitude"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(df["longitude"], errors="coerce").to_numpy(dtype=float)
    has = ~(np.isnan(lat) | np.isnan(lon))
    cx = np.where(has, np.floor(np.nan_to_num(lat) / _CELL_DEG), -1).astype(np.int64)
    cy = np.where(has, np.floor(np.nan_to_num(lon) / _CELL_DEG), -1).astype(np.int64)
    words = df["admin1"].astype(object).where(df["admin1"].notna(), df["place"].astype(object))
    words = words.fillna("").astype(str).str.casefold().str.strip()
    key = np.where(has, "", "t:" + words.to_numpy(dtype=object))
    return cx, cy, key


def _count_buckets(df: pd.DataFrame) -> np.ndarray:
    """log2 bucket of the killed count (best), -1 when the incident has none: reports of one
    event give killed counts within a factor of about two, so only neighbouring buckets pair."""
    best = df["killed_best"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(best), -1, np.floor(np.log2(np.nan_to_num(best) + 1))).astype(np.int64)


def _candidate_pairs(df: pd.DataFrame, intervals, compatible_only: bool = False) -> pd.DataFrame:
    """(a, b) row positions, a < b, sharing a blocking key: same country and merge window, same
    coordinate cell (or the same place words), overlapping widened dates (`intervals`:
    `date_intervals(df)`), neighbouring killed-count buckets.

    With `compatible_only`, each window's pairs are filtered with `_compatible` as they are
    found: a dense place and time (hundreds of reports a day from one city) gives many more
    candidates than matches, and only the matches are kept in memory."""
    gap = max_day_gap()
    d0, d1, ok = intervals
    country = df["country"].astype(object).to_numpy()
    keep = np.flatnonzero(ok & pd.notna(country))
    if not len(keep):
        return pd.DataFrame({"a": [], "b": []}, dtype=np.int32)
    cx, cy, key = (v[keep] for v in _place_keys(df))
    own, shared_c, shared_t = _block_ids(country[keep], time_windows(d0[keep]), cx, cy, key)
    cum = df["is_cumulative"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    kb = _count_buckets(df)[keep]
    base = pd.DataFrame(
        {
            "i": keep,
            "d0": d0[keep],
            "d1": d1[keep],
            "kb": kb,
            # A running toll ("rose to 41") may update any smaller earlier count.
            "updates": cum[keep] & (kb >= 0),
            "own": own,
            "shared_c": shared_c,
            "shared_t": shared_t,
            # Rows that count as located for meeting country-only reports (they have
            # coordinates: an empty text key; not `cx >= 0`, which left out every place south
            # of the equator), and country-only reports (no coordinates, no place words).
            "located": key == "",
            "bare": key == "t:",
        }
    )
    # The join needs equal days, so it runs over windows of days, each side cut to the days of
    # the window: memory holds one window's rows, not every day of every incident. Only
    # windows some interval touches are visited, each with the rows that can reach it.
    base = base.sort_values("d0", kind="stable").reset_index(drop=True)
    starts, ends = base["d0"].to_numpy(), base["d1"].to_numpy()
    longest = int((ends - starts).max())
    # Days per window: about JOIN_ROWS incident-days on the left side (few windows when the
    # reports are sparse; more when they are dense).
    span = int(ends.max() - starts.min()) + 1
    days = int(np.clip(JOIN_ROWS * span // max(int((ends - starts + 1).sum()), 1), 1, span))
    first_w, last_w = starts // days, ends // days
    windows = unique_sorted(np.repeat(first_w, last_w - first_w + 1) + _ranks(last_w - first_w + 1))
    top = int(base["kb"].max()) + 1
    ok = _compatibility(df) if compatible_only else None
    found = []
    for w in windows:
        w0, w1 = int(w) * days, int(w) * days + days - 1
        lo = np.searchsorted(starts, w0 - longest - gap, side="left")
        hi = np.searchsorted(starts, w1 + gap, side="right")
        found.append(_window_pairs(base.iloc[lo:hi], gap, top, w0, w1, len(df), ok))
    # A pair found in two windows once: sorted in place, not by np.unique, which sorts a copy
    # (a dense group of ~100,000 reports has ~13 million codes, 100 MB a copy).
    code = np.concatenate(found)
    del found
    code.sort()
    code = code[np.r_[True, code[1:] != code[:-1]]] if len(code) else code
    # Row positions fit 32 bits: half the memory of millions of pairs.
    return pd.DataFrame(
        {"a": (code // len(df)).astype(np.int32), "b": (code % len(df)).astype(np.int32)}
    )


def _dense_ids(*columns: np.ndarray) -> np.ndarray:
    """One id (0, 1, ...) per distinct combination of the columns' values, row by row.

    Combined a column at a time, so each step multiplies two ids below the row count and
    never overflows int64."""
    ids = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        codes = pd.factorize(col)[0].astype(np.int64)
        ids = pd.factorize(ids * (int(codes.max()) + 1) + codes)[0].astype(np.int64)
    return ids


def _block_ids(country, window, cx, cy, key) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer ids of the places rows are blocked on, each within the row's country and merge
    window: its own place (cell or place words), and its country's two shared keys, "C"
    (located rows meet country-only reports there) and "t:" (country-only rows meet located
    rows there).

    Integers instead of the country and place strings: the windows join on them many times.
    """
    n = len(country)
    shared = np.full(n, -1, dtype=np.int64)
    ids = _dense_ids(
        np.concatenate([country, country, country]),
        np.concatenate([window, window, window]),
        np.concatenate([cx, shared, shared]),
        np.concatenate([cy, shared, shared]),
        np.concatenate([key, np.full(n, "C", dtype=object), np.full(n, "t:", dtype=object)]),
    )
    return ids[:n], ids[n : 2 * n], ids[2 * n :]


def _days(lo: np.ndarray, hi: np.ndarray, w0: int, w1: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, day) for each day of each row's [lo, hi] that lies in the window [w0, w1]."""
    meet = np.flatnonzero((lo <= w1) & (hi >= w0))
    first, last = np.maximum(lo[meet], w0), np.minimum(hi[meet], w1)
    n = last - first + 1
    return np.repeat(meet, n), np.repeat(first, n) + _ranks(n)


def _right_buckets(kb: np.ndarray, updates: np.ndarray, top: int):
    """(entry, bucket) for each count bucket a right-side entry meets: a killed count its own
    and the neighbouring buckets and the "no count" bucket (-1); no killed count, every
    bucket; a running toll, also every smaller bucket than its neighbours."""
    counted = np.flatnonzero(kb >= 0)
    bare = np.flatnonzero(kb < 0)
    entries = [np.repeat(bare, top + 2)]
    buckets = [np.tile(np.arange(-1, top + 1), len(bare))]
    for d in (-1, 0, 1):
        entries.append(counted)
        buckets.append(kb[counted] + d)
    entries.append(counted)
    buckets.append(np.full(len(counted), -1))
    for b in range(top):
        rows = np.flatnonzero(updates & (kb > b + 1))
        entries.append(rows)
        buckets.append(np.full(len(rows), b))
    return np.concatenate(entries), np.concatenate(buckets)


def _window_pairs(
    base: pd.DataFrame, gap: int, top: int, w0: int, w1: int, n: int, ok=None
) -> np.ndarray:
    """Candidate pairs, as a * n + b, that share a blocking key on a day of [w0, w1] (and pass
    `ok`, the compatibility test, when given)."""
    col = {c: base[c].to_numpy() for c in base.columns}
    d0, d1 = col["d0"], col["d1"]
    # Left: every day of the interval, in its own count bucket. Right: every day widened by
    # the gap, in the buckets it meets (see `_right_buckets`).
    l_row, l_day = _days(d0, d1, w0, w1)
    r_row, r_day = _days(d0 - gap, d1 + gap, w0, w1)
    if not len(l_row) or not len(r_row):
        return np.zeros(0, dtype=np.int64)
    entry, r_kb = _right_buckets(col["kb"][r_row], col["updates"][r_row], top)
    r_row, r_day = r_row[entry], r_day[entry]
    # A report that names only the country ("12 killed in Syria") may be the same event as
    # one that names the town: located rows meet their country's country-only rows under the
    # extra key "C" (left: located rows; right: country-only rows), and the other way round
    # under "t:" (left: country-only rows already use it; right: located rows).
    located_l = col["located"][l_row]
    bare_r, located_r = col["bare"][r_row], col["located"][r_row]
    left = (
        np.concatenate([l_row, l_row[located_l]]),
        np.concatenate([col["own"][l_row], col["shared_c"][l_row[located_l]]]),
        np.concatenate([l_day, l_day[located_l]]),
        np.concatenate([col["kb"][l_row], col["kb"][l_row[located_l]]]),
    )
    right = (
        np.concatenate([r_row, r_row[bare_r], r_row[located_r]]),
        np.concatenate(
            [col["own"][r_row], col["shared_c"][r_row[bare_r]], col["shared_t"][r_row[located_r]]]
        ),
        np.concatenate([r_day, r_day[bare_r], r_day[located_r]]),
        np.concatenate([r_kb, r_kb[bare_r], r_kb[located_r]]),
    )
    # One number per blocking key (place id, day in the window, bucket -1..top); place ids are
    # below 3 * rows, so it stays far inside int64.
    width, depth = w1 - w0 + 1, top + 2

    def keys(side) -> np.ndarray:
        _, place, day, bucket = side
        return (place * width + (day - w0)) * depth + (bucket + 1)

    i = col["i"]
    return _join(i[left[0]], keys(left), i[right[0]], keys(right), n, ok)


def _join(a: np.ndarray, ka: np.ndarray, b: np.ndarray, kb: np.ndarray, n: int, ok) -> np.ndarray:
    """Distinct pairs a * n + b with a < b of left rows `a` and right rows `b` of equal keys
    (`ka`, `kb`) that pass `ok`. One crowded day in one city pairs every report with every
    other: the left side is joined in slices of about PAIR_ROWS pairs, each filtered before
    the next."""
    order = np.argsort(kb, kind="stable")
    kb, b = kb[order], b[order]
    first = np.searchsorted(kb, ka, side="left")
    fanout = np.searchsorted(kb, ka, side="right") - first
    slice_of = np.cumsum(fanout) // PAIR_ROWS
    found = []
    for rows in np.split(np.arange(len(a)), np.flatnonzero(np.diff(slice_of)) + 1):
        f = fanout[rows]
        left = np.repeat(a[rows], f)
        right = b[np.repeat(first[rows], f) + _ranks(f)]
        less = left < right
        code = unique_sorted(left[less] * n + right[less])
        if len(code) and ok is not None:
            code = code[ok(code // n, code % n)]
        found.append(code)
    return np.concatenate(found)


def _ranks(span: np.ndarray) -> np.ndarray:
    """0, 1, ..., n-1 for each n in `span`, concatenated."""
    total = int(span.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(span) - span, span)
    return np.arange(total, dtype=np.int64) - starts


def _haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def _compatibility(df: pd.DataFrame):
    """`ok(a, b)`: which pairs of row positions may be one event; the per-row arrays are read
    from `df` once, so calling it window after window costs only the pairs' work."""
    s = _settings()
    arts = df["article_id"].astype(object).to_numpy()
    lat = pd.to_numeric(df["latitude"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(df["longitude"], errors="coerce").to_numpy(dtype=float)
    et = _type_codes(df)
    types = _type_matrix()
    named = et != len(EVENT_TYPES)
    ratio, slack = float(s["count_ratio"]), float(s["count_slack"])
    pub = _day_numbers(df["published"])
    cum = df["is_cumulative"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    counts = []
    for cat in CATEGORIES:
        lo = df[f"{cat}_low"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        be = df[f"{cat}_best"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        hi = df[f"{cat}_high"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        hi = np.where(np.isnan(hi) & ~np.isnan(lo), np.inf, hi)
        counts.append((lo, be, hi))

    def ok(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        good = arts[a] != arts[b]
        both = ~(np.isnan(lat[a]) | np.isnan(lat[b]))
        km = np.where(both, _haversine_km(lat[a], lon[a], lat[b], lon[b]), 0.0)
        good &= km <= float(s["max_km"])
        # A located report and a country-only one: only on firmer ground, a named event type
        # on both sides and a count they share (checked below).
        mixed = np.isnan(lat[a]) != np.isnan(lat[b])
        shared = np.zeros(len(a), dtype=bool)
        good &= types[et[a], et[b]]
        for lo, be, hi in counts:
            present = ~(np.isnan(lo[a]) | np.isnan(lo[b]))
            shared |= present
            agree = np.maximum(lo[a], lo[b]) <= ratio * np.minimum(hi[a], hi[b]) + slack
            # A running toll published later may have grown: "rose to 41" updates "5 killed".
            grew = (cum[b] & (pub[b] >= pub[a]) & (be[b] >= be[a])) | (
                cum[a] & (pub[a] >= pub[b]) & (be[a] >= be[b])
            )
            good &= ~present | agree | grew
        good &= ~mixed | (shared & named[a] & named[b])
        return good

    return ok


def _km(p: tuple[float, float], q: tuple[float, float]) -> float:
    """Great-circle distance of two (lat, lon) points in km (scalar: used in a Python loop)."""
    p1, p2 = math.radians(p[0]), math.radians(q[0])
    dp, dl = p2 - p1, math.radians(q[1] - p[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, max(0.0, h))))


class _Summary:
    """What one growing cluster spans: its articles, dates, killed/injured bounds and types.
    A pair joins two clusters only if the union still fits, so that chains of each-close
    reports (5 ~ 9 ~ 16 ~ 30) never snowball into one event."""

    __slots__ = ("arts", "d0", "d1", "lo", "hi", "types", "cum", "where")

    def __init__(self, art, d0, d1, lo, hi, etype, cum, where):
        self.where = where  # (lat, lon) of a located member, or None
        self.arts = {art}
        self.d0, self.d1 = d0, d1  # latest first day, earliest last day
        self.lo, self.hi = list(lo), list(hi)  # per checked category: max low, min high
        self.types = {etype}
        self.cum = cum

    def fits(self, other: _Summary, gap, ratio, slack, types, max_km) -> bool:
        if self.arts & other.arts:
            return False
        if max(self.d0, other.d0) - min(self.d1, other.d1) > gap:
            return False
        # A country-only report must not bridge two towns far apart.
        if (
            self.where is not None
            and other.where is not None
            and self.where != other.where
            and _km(self.where, other.where) > max_km
        ):
            return False
        if not (self.cum or other.cum):
            for k in range(len(self.lo)):
                lo = max(self.lo[k], other.lo[k])
                hi = min(self.hi[k], other.hi[k])
                if lo > ratio * hi + slack:
                    return False
        return all(types[a][b] for a in self.types for b in other.types)

    def absorb(self, other: _Summary) -> None:
        self.arts |= other.arts
        self.d0, self.d1 = max(self.d0, other.d0), min(self.d1, other.d1)
        self.lo = [max(a, b) for a, b in zip(self.lo, other.lo, strict=True)]
        self.hi = [min(a, b) for a, b in zip(self.hi, other.hi, strict=True)]
        self.types |= other.types
        self.cum = self.cum or other.cum
        if self.where is None:
            self.where = other.where


_CHECKED = ("killed", "injured")
_LOOP_ROWS = 100_000


def _clusters(df: pd.DataFrame, pairs: pd.DataFrame, intervals) -> np.ndarray:
    """Union-find over compatible pairs, closest pairs first; a cluster label per row
    (`intervals`: `date_intervals(df)`)."""
    n = len(df)
    parent = list(range(n))
    if len(pairs) == 0:
        return np.arange(n)
    s = _settings()
    gap, ratio, slack = int(s["max_day_gap"]), float(s["count_ratio"]), float(s["count_slack"])
    max_km = float(s["max_km"])
    types = _type_matrix().tolist()
    d0a, d1a, _ = intervals
    d0, d1 = d0a.tolist(), d1a.tolist()  # plain Python numbers: this loop is scalar work
    arts = df["article_id"].astype(object).tolist()
    cum = df["is_cumulative"].astype("boolean").fillna(False).to_numpy(dtype=bool).tolist()
    et = _type_codes(df).tolist()
    bounds = []
    for cat in _CHECKED:
        lo = df[f"{cat}_low"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        hi = df[f"{cat}_high"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        hi = np.where(np.isnan(hi) & ~np.isnan(lo), np.inf, hi)
        # No count: no constraint.
        bounds.append(
            (np.nan_to_num(lo, nan=-np.inf).tolist(), np.nan_to_num(hi, nan=np.inf).tolist())
        )
    lat = pd.to_numeric(df["latitude"], errors="coerce").tolist()
    lon = pd.to_numeric(df["longitude"], errors="coerce").tolist()
    summary: dict[int, _Summary] = {}

    def get(i: int) -> _Summary:
        got = summary.get(i)
        if got is None:
            got = _Summary(
                arts[i],
                d0[i],
                d1[i],
                [b[0][i] for b in bounds],
                [b[1][i] for b in bounds],
                et[i],
                cum[i],
                None if lat[i] != lat[i] or lon[i] != lon[i] else (lat[i], lon[i]),
            )
            summary[i] = got
        return got

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    # Closest pairs first: same day before a day apart, equal counts before different ones.
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    best = df["killed_best"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    score = np.empty(len(a))
    for at in range(0, len(a), _LOOP_ROWS):  # a slice at a time: no pair-sized temporaries
        x, y = a[at : at + _LOOP_ROWS], b[at : at + _LOOP_ROWS]
        diff = np.abs(best[x] - best[y]) / (np.fmax(best[x], best[y]) + 1)
        score[at : at + _LOOP_ROWS] = np.abs(d0a[x] - d0a[y]) + np.nan_to_num(diff, nan=0.5)
    order = np.lexsort((b, a, score))
    del score
    # Pairs become Python numbers a slice at a time (millions of them as lists would not fit).
    for at in range(0, len(order), _LOOP_ROWS):
        take = order[at : at + _LOOP_ROWS]
        for x, y in zip(a[take].tolist(), b[take].tolist(), strict=True):
            ra, rb = find(x), find(y)
            if ra == rb:
                continue
            sa, sb = get(ra), get(rb)
            if not sa.fits(sb, gap, ratio, slack, types, max_km):
                continue
            if len(sa.arts) < len(sb.arts):
                ra, rb, sa, sb = rb, ra, sb, sa
            parent[rb] = ra
            sa.absorb(sb)
            summary.pop(rb, None)
    return np.array([find(i) for i in range(n)])


def _type_codes(df: pd.DataFrame) -> np.ndarray:
    codes = {t: i for i, t in enumerate(EVENT_TYPES)}
    et = df["event_type"].astype(object).map(codes).fillna(len(EVENT_TYPES))
    return et.astype(int).to_numpy()


def _event_id(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()[:16]


def _mode(values: list, order) -> object:
    """Most frequent value; ties go to the one first in `order`."""
    return max(set(values), key=lambda v: (values.count(v), -order(v)))


def _who_and_what(m: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Per cluster: incident ids, sources, event type and perpetrator (small lists, plain
    Python: a few items per event)."""
    generic = set(_settings()["generic_types"])
    ids = m["incident_id"].astype(str).tolist()
    arts = m["article_id"].astype(str).tolist()
    etypes = [None if pd.isna(t) else str(t) for t in m["event_type"].astype(object)]
    perps = [None if pd.isna(p) else str(p) for p in m["perpetrator"].astype(object)]
    hedged = m["perpetrator_hedged"].astype("boolean").fillna(False).tolist()
    by: dict[int, list[int]] = {}
    for k, lab in enumerate(labels.tolist()):
        by.setdefault(lab, []).append(k)
    rows = []
    for lab, ks in by.items():
        member_ids = sorted(ids[k] for k in ks)
        types = [etypes[k] for k in ks if etypes[k]]
        specific = [t for t in types if t not in generic] or types
        named = [k for k in ks if perps[k]]
        if named:
            names = [perps[k] for k in named]
            top = _mode(names, names.index)
            top_hedged = all(hedged[k] for k in named if perps[k] == top)
        else:
            top, top_hedged = None, None
        rows.append(
            {
                "_cluster": lab,
                "event_id": _event_id(member_ids),
                "incident_ids": member_ids,
                "n_sources": len({arts[k] for k in ks}),
                # The most specific type named (generic "attack" only if nothing else is).
                "event_type": _mode(specific, EVENT_TYPES.index) if specific else None,
                # The perpetrator most sources name; hedged unless one source states it plainly.
                "perpetrator": top,
                "perpetrator_hedged": top_hedged,
            }
        )
    return pd.DataFrame(rows).set_index("_cluster")


def _first_by(m: pd.DataFrame, rank: pd.Series, then: list[str], cols: list[str]) -> pd.DataFrame:
    """Per cluster, `cols` of the member with the lowest rank (then by `then`)."""
    # Only the columns needed are sorted, not every incident column.
    order = m[list(dict.fromkeys(["_cluster", *then, *cols]))].assign(_rank=rank)
    order = order.sort_values(["_cluster", "_rank", *then], kind="stable")
    return order.drop_duplicates("_cluster").set_index("_cluster")[cols]


def _reconcile_all(m: pd.DataFrame) -> pd.DataFrame:
    """One row per cluster of `m` (incidents of merged events, column `_cluster`)."""
    labels = m["_cluster"].to_numpy()
    out = _who_and_what(m, labels)
    # When: the most precise date (earliest among equals); where: the most precise place.
    date_rank = (
        m["date_precision"].astype(object).map(PRECISION_RANK).fillna(PRECISION_RANK["unknown"])
    )
    out = out.join(_first_by(m, date_rank, ["date"], ["date", "date_precision"]))
    geo_rank = m["geo_precision"].astype(object).map(_GEO_RANK).fillna(4)
    where = ["place", "country", "admin1", "latitude", "longitude", "geo_precision"]
    out = out.join(_first_by(m, geo_rank, ["incident_id"], where))

    agg = _count_aggregates(m)
    disputed = pd.Series(False, index=out.index)
    for cat in CATEGORIES:
        low, best_all = agg["min"][f"{cat}_low"], agg["min"][f"{cat}_best"]
        best_neutral = agg["min"][f"{cat}_neutral"]
        best = best_neutral.reindex(low.index).fillna(best_all)
        best = np.fmax(best, low)
        unbounded = agg["any"][f"{cat}_unbounded"]
        high = np.fmax(agg["max"][f"{cat}_high"], best).mask(unbounded)
        # Sources disagree when no one number fits every account.
        split = agg["max"][f"{cat}_low"] > agg["min"][f"{cat}_high"]
        disputed |= split.reindex(out.index).fillna(False).astype(bool)
        out[f"{cat}_low"] = low.reindex(out.index)
        out[f"{cat}_best"] = best.reindex(out.index)
        out[f"{cat}_high"] = high.reindex(out.index)
    out["disputed"] = disputed
    return out.reset_index(drop=True)


def _count_aggregates(m: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per cluster of `m`, the min, max and any of each category's counts, over the reports
    that are not superseded: a running toll supersedes the reports of its event published
    before it, for the counts it gives ("the death toll rose to 18" replaces earlier killed
    counts; the injured counts of those reports stand).

    Superseded reports are masked (null) rather than dropped, so that every category is
    aggregated in one groupby: min and max skip nulls, and every cluster keeps at least its
    latest toll. `<cat>_neutral` is the best count of sources that are not a party's own
    claim; `<cat>_unbounded`, a low count without a high one."""
    cum = m["is_cumulative"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    party = m["claim_by_party"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    pub = m["_pub"]
    updates = {cat: cum & m[f"{cat}_low"].notna().to_numpy() for cat in CATEGORIES}
    last_update = (
        pd.DataFrame({cat: pub.where(updates[cat]) for cat in CATEGORIES})
        .groupby(m["_cluster"])
        .transform("max")
    )
    counts, flags = {}, {}
    for cat in CATEGORIES:
        last = last_update[cat]
        kept = last.isna().to_numpy() | (pub >= last).to_numpy()
        lo = m[f"{cat}_low"].astype("Float64").where(kept)
        be = m[f"{cat}_best"].astype("Float64").where(kept)
        hi = m[f"{cat}_high"].astype("Float64").where(kept)
        counts[f"{cat}_low"], counts[f"{cat}_best"], counts[f"{cat}_high"] = lo, be, hi
        counts[f"{cat}_neutral"] = be.where(~party)
        flags[f"{cat}_unbounded"] = lo.notna() & hi.isna()
    by = m["_cluster"]
    grouped = pd.DataFrame(counts).groupby(by)
    return {
        "min": grouped.min(),
        "max": grouped.max(),
        "any": pd.DataFrame(flags).groupby(by).any(),
    }


def published(incidents: pd.DataFrame, articles: pd.DataFrame | None) -> pd.Series:
    """Publication time of each incident: its own, else its article's (from `articles`)."""
    out = _utc(incidents["published"])
    if articles is not None and len(articles) and "published" in articles.columns:
        pub = articles.drop_duplicates("article_id").set_index("article_id")["published"]
        fill = _utc(incidents["article_id"].map(pub))
        out = out.fillna(fill)
    return out


def _news(incidents: pd.DataFrame | None, articles: pd.DataFrame | None) -> pd.DataFrame:
    """The incidents reported as news (not background), every INCIDENTS column typed (a table
    written before a column existed still merges), `published` filled from `articles`, `_pub`
    added, in order of incident_id: the same incidents in any order give the same events.

    Why the caller should let go of `incidents` at once: a group of a dense archive is
    ~200,000 incidents; each copy of it alive at once costs ~75-185 MiB."""
    if incidents is None or len(incidents) == 0:
        return INCIDENTS.empty()
    df = conform(incidents, INCIDENTS)
    df = df[~df["is_background"].fillna(False).to_numpy(dtype=bool)]
    if len(df) == 0:
        return df
    df["published"] = published(df, articles)
    df["_pub"] = df["published"].fillna(pd.Timestamp(0, tz="UTC"))
    return df.sort_values(["incident_id"], kind="stable").reset_index(drop=True)


def merge_events(
    incidents: pd.DataFrame, articles: pd.DataFrame | None = None, seeds: pa.Array | None = None
) -> pd.DataFrame:
    """Merge incidents that report the same event across articles; rows conform to
    `fields.EVENTS` (without `run_id`).

    `incidents` has the INCIDENTS columns; `articles` (article_id, published) fills
    `published` where the incidents lack it. Every incident reported as news belongs to
    exactly one event; incidents without figures make events too. Background incidents
    (`is_background`: an earlier attack the article recalls) make none: the article is not a
    report of them, and counting them would count past events again with every article that
    mentions them. Deterministic: `event_id` is a hash of the sorted incident ids, and rows are
    sorted by date then event_id.

    With `seeds` (incident ids), only the events of the incidents that a chain of candidate
    pairs links to a seed: the only events a change to the seeds can alter. They are exactly
    the events a merge of all `incidents` makes of those incidents, because union-find
    (`_clusters`) joins incidents only along candidate pairs, which are decided pair by pair,
    and takes the pairs of one connected set in the same order whatever other rows are present.
    """
    df = _news(incidents, articles)
    del incidents  # see `_news`
    if len(df) == 0:
        return EVENTS.empty().drop(columns=["run_id"])
    # Worked out once: both the candidate join and the clustering need them.
    intervals = date_intervals(df)
    pairs = _candidate_pairs(df, intervals, compatible_only=True)
    if seeds is not None:
        df, pairs, intervals = _linked(df, pairs, intervals, seeds)
        if len(df) == 0:
            return EVENTS.empty().drop(columns=["run_id"])
    labels = _clusters(df, pairs, intervals)
    sizes = np.bincount(labels, minlength=len(df))[labels]

    # Single-source events (most of them) are copied column by column; only merged ones go
    # through the per-event reconciliation.
    multi = df[sizes > 1].assign(_cluster=labels[sizes > 1])
    single = df[sizes == 1].copy()
    del df, pairs, labels
    # A plain list: iterating the string column goes through pandas element by element.
    ids = [str(i) for i in single["incident_id"].astype(object).tolist()]
    single["incident_ids"] = [[i] for i in ids]
    single["event_id"] = [_event_id([i]) for i in ids]
    single["n_sources"] = 1
    single["disputed"] = False
    merged = _reconcile_all(multi) if len(multi) else pd.DataFrame()
    del multi
    # Both parts typed alike before they are stacked (no guessing of dtypes from nulls).
    frames = [conform(f, EVENTS) for f in (single, merged) if len(f)]
    del single, merged
    events = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    del frames
    events = events.drop(columns=["run_id"])
    events = events.sort_values(["date", "event_id"], kind="stable", na_position="last")
    return events.reset_index(drop=True)


def _linked(df: pd.DataFrame, pairs: pd.DataFrame, intervals, seeds: pa.Array):
    """The rows of `df` in a connected set of candidate `pairs` that holds a seed (incident
    id), with their pairs (renumbered) and `intervals`; rows keep their order."""
    n = len(df)
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, part = connected_components(graph, directed=False)
    ids = pa.array(df["incident_id"].astype(object), pa.string())
    seeded = pc.is_in(ids, value_set=seeds).to_numpy(zero_copy_only=False)
    keep = np.isin(part, part[seeded])
    # Both rows of a pair are in one connected set: kept or dropped together.
    at = (np.cumsum(keep) - 1).astype(np.int32)
    mine = keep[a]
    pairs = pd.DataFrame({"a": at[a[mine]], "b": at[b[mine]]})
    return df[keep].reset_index(drop=True), pairs, tuple(v[keep] for v in intervals)
