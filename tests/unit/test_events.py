"""Merging incidents across articles into events.

Golden stories (tests/golden/incidents/events.yaml) go through the whole extraction: several
short articles in different words about one event must become one event with reconciled
counts; events that differ in place or date stay apart. Smaller tests build incident rows by
hand to pin each reconciliation rule.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from casualties.events.reconcile import merge_events
from casualties.extract.article import extract_frame
from casualties.fields import EVENTS, INCIDENTS, conform
from tests.paths import GOLDEN

STORIES = yaml.safe_load((GOLDEN / "incidents" / "events.yaml").read_text("utf-8"))["stories"]


@pytest.fixture(scope="module")
def golden_events():
    rows = [
        {"article_id": a["id"], "text": a["text"], "published": pd.Timestamp(a["published"])}
        for story in STORIES
        for a in story["articles"]
    ]
    articles = pd.DataFrame(rows)
    _, incidents = extract_frame(articles)
    return incidents, merge_events(incidents, articles)


def _event_of(events: pd.DataFrame, article_ids: list[str]) -> list[pd.Series]:
    """Events holding an incident of any of these articles."""
    hit = events["incident_ids"].map(lambda ids: any(i.split(":")[0] in article_ids for i in ids))
    return [row for _, row in events[hit].iterrows()]


@pytest.mark.parametrize("story", STORIES, ids=[s["name"] for s in STORIES])
def test_golden_story_is_one_event(golden_events, story):
    _, events = golden_events
    ids = [a["id"] for a in story["articles"]]
    found = _event_of(events, ids)
    assert len(found) == 1, [list(r["incident_ids"]) for r in found]
    ev, want = found[0], story["event"]
    assert {i.split(":")[0] for i in ev["incident_ids"]} == set(ids)
    assert ev["n_sources"] == want["n_sources"]
    for key in ("country", "place", "event_type", "date_precision"):
        if key in want:
            assert ev[key] == want[key], key
    if "date" in want:
        assert ev["date"] == pd.Timestamp(want["date"], tz="UTC")
    if "disputed" in want:
        assert bool(ev["disputed"]) is want["disputed"]
    for cat in ("killed", "injured", "kidnapped"):
        if cat in want:
            got = [ev[f"{cat}_{k}"] for k in ("low", "best", "high")]
            got = [None if pd.isna(v) else int(v) for v in got]
            assert got == want[cat], cat


def test_golden_events_conform_and_cover_every_incident(golden_events):
    incidents, events = golden_events
    assert list(events.columns) == [c for c in EVENTS.columns if c != "run_id"]
    assert events["event_id"].is_unique
    members = [i for ids in events["incident_ids"] for i in ids]
    news = incidents[~incidents["is_background"]]
    assert sorted(members) == sorted(news["incident_id"])


# --- reconciliation rules on incident rows built by hand ------------------------------------

KABUL = {"place": "Kabul", "country": "Afghanistan", "latitude": 34.53, "longitude": 69.17}


def _utc(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _incidents(*rows: dict) -> pd.DataFrame:
    base = {
        "date_precision": "day",
        "geo_precision": "exact",
        "event_type": "remote_explosive",
        "claim_by_party": False,
        "is_cumulative": False,
        "is_background": False,
        "n_figures": 1,
        **KABUL,
    }
    out = []
    for i, r in enumerate(rows):
        row = {**base, **r}
        row.setdefault("incident_id", f"{row['article_id']}:i{i}")
        row["published"] = _utc(row.get("published", row["date"]))
        row["date"] = _utc(row["date"])
        for cat in ("killed", "injured"):
            if cat in row:
                row[f"{cat}_low"], row[f"{cat}_best"], row[f"{cat}_high"] = row.pop(cat)
        out.append(row)
    return conform(pd.DataFrame(out), INCIDENTS)


def _triple(ev: pd.Series, cat: str) -> list:
    return [
        None if pd.isna(ev[f"{cat}_{k}"]) else int(ev[f"{cat}_{k}"])
        for k in ("low", "best", "high")
    ]


def test_party_claim_does_not_set_best_and_unbounded_high_is_null():
    inc = _incidents(
        {"article_id": "a", "date": "2021-03-12", "killed": (12, 12, None)},
        {"article_id": "b", "date": "2021-03-12", "killed": (15, 15, 15)},
        {"article_id": "c", "date": "2021-03-12", "killed": (9, 9, 9), "claim_by_party": True},
    )
    ev = merge_events(inc)
    assert len(ev) == 1 and ev.loc[0, "n_sources"] == 3
    # lowest low over all; lowest best among non-party sources; a source without upper bound.
    assert _triple(ev.loc[0], "killed") == [9, 12, None]
    assert bool(ev.loc[0, "disputed"]) is True  # 9 and 15 cannot both be right


def test_later_running_toll_supersedes_earlier_reports():
    inc = _incidents(
        {"article_id": "a", "date": "2021-03-12", "killed": (5, 5, 5), "injured": (20, 20, 20)},
        {"article_id": "b", "date": "2021-03-12", "published": "2021-03-13", "killed": (7, 7, 7)},
        {
            "article_id": "c",
            "date": "2021-03-12",
            "published": "2021-03-14",
            "killed": (41, 41, 41),
            "is_cumulative": True,
        },
    )
    ev = merge_events(inc)
    assert len(ev) == 1
    assert _triple(ev.loc[0], "killed") == [41, 41, 41]  # replaces, never adds
    assert _triple(ev.loc[0], "injured") == [20, 20, 20]  # the update said nothing of injured


def test_apart_by_place_date_type_or_count():
    inc = _incidents(
        {"article_id": "a", "date": "2021-03-12", "killed": (12, 12, 12)},
        # another city the same day
        {
            "article_id": "b",
            "date": "2021-03-12",
            "killed": (12, 12, 12),
            "place": "Mosul",
            "country": "Iraq",
            "latitude": 36.34,
            "longitude": 43.13,
        },
        # same city three days later
        {"article_id": "c", "date": "2021-03-15", "killed": (12, 12, 12)},
        # same city and day, an air strike
        {
            "article_id": "d",
            "date": "2021-03-12",
            "killed": (12, 12, 12),
            "event_type": "air_or_drone_strike",
        },
        # same city and day, a far larger toll
        {"article_id": "e", "date": "2021-03-12", "killed": (150, 150, 150)},
    )
    ev = merge_events(inc)
    assert len(ev) == 5 and set(ev["n_sources"]) == {1}


def test_one_article_is_never_merged_with_itself():
    inc = _incidents(
        {"article_id": "a", "incident_id": "a:i0", "date": "2021-03-12", "killed": (3, 3, 3)},
        {"article_id": "a", "incident_id": "a:i1", "date": "2021-03-12", "killed": (3, 3, 3)},
        {"article_id": "b", "incident_id": "b:i0", "date": "2021-03-12", "killed": (3, 3, 3)},
    )
    ev = merge_events(inc)
    assert sorted(ev["n_sources"]) == [1, 2]
    for ids in ev["incident_ids"]:
        assert len({i.split(":")[0] for i in ids}) == len(ids)


def test_no_chaining_into_one_snowball():
    # 5 ~ 9 ~ 16 ~ 30: each close to the next, the ends far apart.
    inc = _incidents(
        *[
            {"article_id": a, "date": "2021-03-12", "killed": (k, k, k)}
            for a, k in zip("abcd", (5, 9, 16, 30), strict=True)
        ]
    )
    ev = merge_events(inc)
    assert len(ev) >= 2


def test_loose_dates_do_not_merge_but_incidents_without_figures_make_events():
    inc = _incidents(
        {"article_id": "a", "date": "2021-01-01", "date_precision": "year", "killed": (3, 3, 3)},
        {"article_id": "b", "date": "2021-01-01", "date_precision": "year", "killed": (3, 3, 3)},
        {"article_id": "c", "date": "2021-03-12"},
    )
    ev = merge_events(inc)
    assert len(ev) == 3
    assert ev["killed_low"].isna().sum() == 1


def test_deterministic_whatever_the_order():
    inc = _incidents(
        *[
            {"article_id": f"x{i}", "date": f"2021-03-{10 + i % 5:02d}", "killed": (k, k, k)}
            for i, k in enumerate([3, 3, 4, 10, 11, 12, 3, 40, 41, 5])
        ]
    )
    first = merge_events(inc)
    again = merge_events(inc.sample(frac=1, random_state=7))
    pd.testing.assert_frame_equal(first, again)
    assert first["event_id"].is_unique


def test_month_precision_merges_with_a_day_inside_it():
    inc = _incidents(
        {"article_id": "a", "date": "2021-03-12", "killed": (12, 12, 12)},
        {
            "article_id": "b",
            "date": "2021-03-01",
            "date_precision": "month",
            "killed": (12, 12, None),
        },
    )
    ev = merge_events(inc)
    assert len(ev) == 1
    assert ev.loc[0, "date_precision"] == "day"
    assert ev.loc[0, "date"] == pd.Timestamp("2021-03-12", tz="UTC")


def test_empty_input():
    ev = merge_events(INCIDENTS.empty())
    assert ev.empty and list(ev.columns) == [c for c in EVENTS.columns if c != "run_id"]


def test_country_only_report_joins_the_located_one_but_bridges_no_towns():
    country_only = {"place": None, "latitude": None, "longitude": None, "geo_precision": "country"}
    kandahar = {"place": "Kandahar", "latitude": 31.61, "longitude": 65.71}
    inc = _incidents(
        {"article_id": "a", "date": "2021-03-12", "killed": (12, 12, 12)},
        {"article_id": "b", "date": "2021-03-12", "killed": (12, 12, 12), **country_only},
        {"article_id": "c", "date": "2021-03-12", "killed": (12, 12, 12), **kandahar},
    )
    ev = merge_events(inc)
    assert sorted(ev["n_sources"]) == [1, 2]  # b joins a or c, never both
    merged = ev[ev["n_sources"] == 2].iloc[0]
    assert merged["geo_precision"] == "exact" and merged["place"] in ("Kabul", "Kandahar")


@pytest.mark.parametrize(
    "country, town_a, town_c",
    [
        # South of the equator (negative latitude) and west of Greenwich (negative longitude)
        ("Mozambique", ("Palma", -10.78, 40.47), ("Mocimboa da Praia", -11.35, 40.35)),
        ("Colombia", ("Tumaco", 1.81, -78.76), ("Cali", 3.44, -76.52)),
    ],
)
def test_country_only_report_joins_a_located_one_on_every_side_of_the_globe(
    country, town_a, town_c
):
    def town(place, lat, lon):
        return {"place": place, "country": country, "latitude": lat, "longitude": lon}

    country_only = {"place": None, "latitude": None, "longitude": None, "geo_precision": "country"}
    inc = _incidents(
        {"article_id": "a", "date": "2021-03-12", "killed": (12, 12, 12), **town(*town_a)},
        {"article_id": "b", "date": "2021-03-12", "killed": (12, 12, 12), "country": country,
         **country_only},
        {"article_id": "c", "date": "2021-03-12", "killed": (12, 12, 12), **town(*town_c)},
    )  # fmt: skip
    ev = merge_events(inc)
    assert sorted(ev["n_sources"]) == [1, 2]  # b joins a or c, never both
    merged = ev[ev["n_sources"] == 2].iloc[0]
    assert merged["geo_precision"] == "exact" and merged["place"] in (town_a[0], town_c[0])


def test_country_only_report_needs_a_type_and_a_shared_count():
    inc = _incidents(
        {"article_id": "a", "date": "2021-03-12", "killed": (12, 12, 12)},
        {
            "article_id": "b",
            "date": "2021-03-12",
            "place": None,
            "latitude": None,
            "longitude": None,
            "geo_precision": "country",
            "event_type": None,
        },
    )
    assert len(merge_events(inc)) == 2


def test_old_tables_without_new_columns_still_merge():
    inc = _incidents(
        {"article_id": "a", "date": "2021-03-12", "killed": (12, 12, 12)},
        {"article_id": "b", "date": "2021-03-12", "killed": (12, 12, 12)},
    ).drop(columns=["is_cumulative", "published", "injured_low", "injured_best", "injured_high"])
    articles = pd.DataFrame(
        {
            "article_id": ["a", "b"],
            "published": pd.to_datetime(["2021-03-12", "2021-03-13"], utc=True),
        }
    )
    ev = merge_events(inc, articles)
    assert len(ev) == 1 and ev.loc[0, "n_sources"] == 2


def test_a_file_of_an_older_version_merges_with_newer_ones_in_groups(tmp_path):
    """Partition files written by different versions (one without columns added later) are
    merged a group at a time like one table: the older file's rows get the missing columns
    empty, and the newer file's columns are all kept."""
    from casualties.events.groups import merge_events_file

    inc = _stories(n_loose=0)
    older = inc["country"] == "Iraq"
    paths = [tmp_path / "old.parquet", tmp_path / "new.parquet"]
    inc[older].drop(columns=["is_background", "date_text"]).to_parquet(paths[0], index=False)
    background = inc[~older].assign(is_background=inc["article_id"][~older].str.endswith("r1"))
    background.to_parquet(paths[1], index=False)
    frames = list(merge_events_file(paths, group_rows=40))
    assert len(frames) > 2
    whole = merge_events(pd.concat([inc[older].assign(date_text=""), background]))
    pd.testing.assert_frame_equal(_by_id(pd.concat(frames, ignore_index=True)), _by_id(whole))
    # the newer file's background reports made no event
    recalled = set(background.loc[background["is_background"], "incident_id"])
    assert recalled and not recalled & {i for ids in whole["incident_ids"] for i in ids}


def test_background_incidents_make_no_event_and_join_none(tmp_path):
    """Two reports of a Kabul bombing, and background incidents recalled by both articles: a
    bombing of the same day and toll (it would merge with the reports if it were news) and last
    year's attack. Only the reports become an event, in memory and from a file."""
    from casualties.events.groups import merge_events_file

    inc = _incidents(
        {"article_id": "a", "date": "2021-03-12", "killed": (12, 12, 12)},
        {"article_id": "b", "date": "2021-03-12", "killed": (12, 12, 12)},
        {
            "article_id": "c",
            "date": "2021-03-12",
            "killed": (12, 12, 12),
            "is_background": True,
        },
        {
            "article_id": "a",
            "date": "2020-05-01",
            "killed": (51, 51, 51),
            "is_background": True,
        },
        {
            "article_id": "b",
            "date": "2020-05-01",
            "killed": (51, 51, 51),
            "is_background": True,
        },
    )
    assert inc["is_background"].tolist() == [False, False, True, True, True]
    ev = merge_events(inc)
    assert len(ev) == 1
    assert sorted(ev.loc[0, "incident_ids"]) == ["a:i0", "b:i1"]
    assert ev.loc[0, "n_sources"] == 2 and _triple(ev.loc[0], "killed") == [12, 12, 12]

    path = tmp_path / "incidents.parquet"
    inc.to_parquet(path)
    from_file = pd.concat(list(merge_events_file(path, group_rows=2)), ignore_index=True)
    assert [sorted(ids) for ids in from_file["incident_ids"]] == [["a:i0", "b:i1"]]
    assert merge_events(inc[inc["is_background"]]).empty


def test_named_days_apart_are_two_events_but_overnight_may_be_either_day():
    inc = _incidents(
        {"article_id": "a", "date": "2021-03-15", "date_text": "on Monday", "killed": (5, 5, 5)},
        {"article_id": "b", "date": "2021-03-16", "date_text": "on Tuesday", "killed": (5, 5, 5)},
    )
    assert len(merge_events(inc)) == 2
    inc = _incidents(
        {
            "article_id": "a",
            "date": "2017-06-10",
            "date_text": "on Saturday",
            "killed": (33, 33, 33),
        },
        {"article_id": "b", "date": "2017-06-11", "date_text": "overnight", "killed": (33, 33, 33)},
    )
    ev = merge_events(inc)
    assert len(ev) == 1 and ev.loc[0, "date"] == pd.Timestamp("2017-06-10", tz="UTC")


def test_reports_merge_within_a_calendar_window_of_their_first_day(monkeypatch):
    """A report "overnight" on New Year's Day may be of the night before: its first day falls
    in the old year, so it stays apart from a report dated January 1 (merge windows are
    calendar years, cut at the first day a report's date allows); with windows of three
    years both fall in one and merge. Inside a year the same two reports merge."""
    import casualties.events.reconcile as events_mod

    def pair(day: str, next_day: str) -> pd.DataFrame:
        return _incidents(
            {"article_id": "a", "date": day, "date_text": "on Wednesday", "killed": (7, 7, 7)},
            {"article_id": "b", "date": next_day, "date_text": "overnight", "killed": (7, 7, 7)},
        )

    assert len(merge_events(pair("2020-01-01", "2019-12-31"))) == 2
    assert len(merge_events(pair("2020-06-03", "2020-06-02"))) == 1
    monkeypatch.setitem(events_mod._settings(), "window_months", 36)
    assert len(merge_events(pair("2020-01-01", "2019-12-31"))) == 1


def test_a_country_reported_every_day_is_cut_into_segments_at_each_window():
    """Reports every day for three years chain into one stretch of overlapping dates; the
    segments (the units merged and stored together) stop at each calendar year."""
    import numpy as np

    from casualties.events.groups import time_segments

    days = np.arange(
        np.datetime64("2018-03-01", "D").astype(np.int64),
        np.datetime64("2021-03-01", "D").astype(np.int64),
    )
    country = np.r_[np.zeros(len(days), dtype=np.int64), np.ones(len(days), dtype=np.int64)]
    first = np.r_[days, days] - 1  # each report spans two days: every day meets the next
    segments = time_segments(country, first, first + 2, np.ones(len(first), bool), 0)
    years = [
        {str(d)[:4] for d in first[seg].astype("datetime64[D]")} | {str(int(country[seg[0]]))}
        for seg in segments
    ]
    assert years == [{y, c} for c in ("0", "1") for y in ("2018", "2019", "2020", "2021")]
    assert sorted(np.concatenate(segments)) == list(range(len(first)))


def test_many_reports_of_many_events_group_exactly():
    # 2,000 events (50 towns a degree apart x 40 days), each reported by 2 or 3 articles
    # with slightly different counts and loose or exact dates: each becomes one event.
    rows = []
    for e in range(2000):
        town, day = divmod(e, 40)
        for r in range(2 + e % 2):
            killed = 10 + e % 30 + r
            rows.append(
                {
                    "article_id": f"e{e}r{r}",
                    "incident_id": f"e{e}r{r}:i0",
                    "date": pd.Timestamp("2020-01-01") + pd.Timedelta(days=day),
                    "date_text": "overnight" if r == 2 else "on Friday",
                    "place": f"town{town}",
                    "latitude": 10.0 + town,
                    "longitude": 40.0,
                    "killed": (killed, killed, None if r else killed),
                }
            )
    inc = _incidents(*rows)
    ev = merge_events(inc)
    assert len(ev) == 2000
    assert ev["n_sources"].sum() == len(inc)
    assert set(ev["n_sources"]) == {2, 3}


def test_merging_from_a_file_by_country_and_day_windows_gives_the_same_events(
    tmp_path, monkeypatch
):
    """The flow merges a file of incidents a group at a time (countries, cut by time where no
    pair can cross), joining candidates over windows of days; with tiny groups and windows
    the events equal one in-memory merge."""
    import casualties.events.reconcile as events_mod
    from casualties.events.groups import merge_events_file

    inc = _stories(n_loose=50, weekly=True)
    whole = merge_events(inc)
    path = tmp_path / "incidents.parquet"
    inc.to_parquet(path)
    monkeypatch.setattr(events_mod, "JOIN_ROWS", 20)  # windows of a few days
    monkeypatch.setattr(events_mod, "PAIR_ROWS", 3)  # each window joined in slices
    # Groups of ~40 incidents: each country (~200) is cut by time into several groups.
    frames = list(merge_events_file(path, group_rows=40))
    parts = pd.concat(frames, ignore_index=True)
    assert len(frames) >= 3 * 4
    assert len(whole) < len(inc)  # reports really merged
    assert (parts["n_sources"] > 1).sum() == (whole["n_sources"] > 1).sum()
    key = ["event_id", "n_sources", "killed_low", "killed_best", "killed_high", "date"]
    pd.testing.assert_frame_equal(
        parts[key].sort_values("event_id").reset_index(drop=True),
        whole[key].sort_values("event_id").reset_index(drop=True),
    )


STORIES_START = pd.Timestamp("2019-11-15")


def _stories(n_loose: int = 20, weekly: bool = False) -> pd.DataFrame:
    """300 events in 3 countries over 100 days across New Year (two merge windows), each told
    by 1-3 articles, and `n_loose` loose reports (no country, or only a year; single events).
    `weekly`: every 7th event is dated to the week only."""
    rows = []
    for e in range(300):
        town, day = divmod(e, 100)
        for r in range(1 + e % 3):
            row = {
                "article_id": f"e{e}r{r}",
                "incident_id": f"e{e}r{r}:i0",
                "date": STORIES_START + pd.Timedelta(days=day),
                "date_text": "overnight" if r == 2 else "on Friday",
                "country": ["Syria", "Iraq", "Yemen"][town],
                "place": f"town{town}",
                "latitude": 10.0 + town,
                "longitude": 40.0,
                "killed": (10 + e % 20 + r, 10 + e % 20 + r, None),
            }
            if weekly:
                row["date_precision"] = "week" if e % 7 == 0 else "day"
            rows.append(row)
    for k in range(n_loose):
        rows.append(
            {
                "article_id": f"loose{k}",
                "incident_id": f"loose{k}:i0",
                "date": pd.Timestamp("2020-01-01"),
                "date_text": "in 2020",
                "date_precision": "year" if k % 2 else "day",
                "country": "Syria" if k % 2 else None,
                "killed": (5, 5, None),
            }
        )
    return _incidents(*rows)


def _by_id(events: pd.DataFrame) -> pd.DataFrame:
    out = events.drop(columns=[c for c in ("run_id",) if c in events.columns]).copy()
    out["incident_ids"] = out["incident_ids"].map(lambda ids: ",".join(ids))
    return out.sort_values("event_id").reset_index(drop=True)


def _rows_merged_by_groups(monkeypatch) -> list[int]:
    """The rows each `merge_events` call of the group merge is given (filled as it runs)."""
    import casualties.events.groups as groups

    rows: list[int] = []
    real_merge = groups.merge_events
    monkeypatch.setattr(
        groups, "merge_events", lambda df, *args: rows.append(len(df)) or real_merge(df, *args)
    )
    return rows


def _update(blocks, *args, **kwargs) -> tuple[dict, set]:
    """`update_events`' partitions as ({key: events} of those with events, keys left empty)."""
    changes = {u.key: u.to_pandas() for u in blocks.update_events(*args, **kwargs)}
    return {k: e for k, e in changes.items() if len(e)}, {
        k for k, e in changes.items() if not len(e)
    }


def test_incremental_events_equal_a_full_merge_both_ways(tmp_path, monkeypatch):
    """Events updated block by block (only the country/time segments that added or removed
    incidents touch) equal one merge of all incidents: from nothing, and after a file is
    removed and another adds a running toll that supersedes earlier reports."""
    import casualties.events.blocks as blocks

    inc = _stories()
    files = {}
    for name, mask in (
        ("a", inc["article_id"].str.match(r"e(\d|[1-9]\d|1[0-4]\d)r")),  # events 0-149
        ("b", inc["article_id"].str.match(r"e(1[5-9]\d|2\d\d)r")),  # events 150-299
        ("loose", inc["article_id"].str.startswith("loose")),
    ):
        files[name] = tmp_path / "incidents" / f"{name}.parquet"
        files[name].parent.mkdir(exist_ok=True)
        inc[mask].to_parquet(files[name])
    assert sum(len(pd.read_parquet(f)) for f in files.values()) == len(inc)

    # 1. from nothing: every block is new
    changes, dropped = _update(blocks, list(files.values()), list(files.values()), [], {}, None)
    assert not dropped and {k for k in changes} >= {"country:Syria", "country:Iraq"}
    pd.testing.assert_frame_equal(
        _by_id(pd.concat(changes.values(), ignore_index=True)), _by_id(merge_events(inc))
    )
    stored = {}
    for key, events in changes.items():
        stored[key] = tmp_path / "events" / f"{len(stored)}.parquet"
        stored[key].parent.mkdir(exist_ok=True)
        events.to_parquet(stored[key])

    # 2. b.parquet removed (Iraq's events 100-149 stay, 150-199 and Yemen go); c.parquet adds
    # a running toll for event 120 (Iraq, published later: supersedes) and a new Syrian event
    toll = _incidents(
        {
            "article_id": "toll",
            "incident_id": "toll:i0",
            "date": STORIES_START + pd.Timedelta(days=20),
            "published": STORIES_START + pd.Timedelta(days=23),
            "country": "Iraq",
            "place": "town1",
            "latitude": 11.0,
            "longitude": 40.0,
            "killed": (90, 90, 90),
            "is_cumulative": True,
        },
        {
            "article_id": "new",
            "incident_id": "new:i0",
            "date": pd.Timestamp("2020-03-01"),
            "country": "Syria",
            "place": "town0",
            "latitude": 10.0,
            "longitude": 40.0,
            "killed": (3, 3, 3),
        },
    )
    files["c"] = tmp_path / "incidents" / "c.parquet"
    toll.to_parquet(files["c"])
    merged_rows = _rows_merged_by_groups(monkeypatch)
    after = [files["a"], files["loose"], files["c"]]
    changes, dropped = _update(blocks, after, [files["c"]], [files["b"]], stored, None)
    assert dropped == {"country:Yemen"}  # all its incidents were in b.parquet
    untouched = [pd.read_parquet(p) for k, p in stored.items() if k not in set(changes) | dropped]
    incremental = pd.concat([*untouched, *changes.values()], ignore_index=True)
    full = merge_events(pd.concat([pd.read_parquet(f) for f in after], ignore_index=True))
    pd.testing.assert_frame_equal(_by_id(incremental), _by_id(full))
    # the toll superseded the reports of event 120 published before it
    (ev,) = [r for _, r in full.iterrows() if "toll:i0" in list(r["incident_ids"])]
    assert ev["n_sources"] > 1 and _triple(ev, "killed") == [90, 90, 90]
    # only the touched blocks were merged again, not every incident
    assert 0 < sum(merged_rows) < len(full["incident_ids"].explode()) / 2


def test_a_report_rewritten_apart_from_its_event_leaves_the_rest_of_it_whole(tmp_path):
    """A file rewritten in place keeps an incident's id but moves its date (the article's
    date was corrected): the stored event it was in is made again from the reports it has
    left, whose segment the new report no longer reaches; events equal a full merge."""
    import casualties.events.blocks as blocks

    day = pd.Timestamp("2020-01-03")
    report = {"country": "Syria", "place": "town0", "latitude": 10.0, "longitude": 40.0}
    first = _incidents(
        {**report, "article_id": "a1", "date": day, "killed": (7, 7, 7)},
        {**report, "article_id": "far", "date": day + pd.Timedelta(days=200), "killed": (2, 2, 2)},
    )
    second = _incidents({**report, "article_id": "a2", "date": day, "killed": (7, 7, 7)})
    paths = {"a": tmp_path / "a.parquet", "b": tmp_path / "b.parquet"}
    first.to_parquet(paths["a"])
    second.to_parquet(paths["b"])
    before = merge_events(pd.concat([first, second], ignore_index=True))
    assert (before["n_sources"] == 2).sum() == 1  # a1 and a2 are one event
    stored = {"country:Syria": tmp_path / "events.parquet"}
    before.to_parquet(stored["country:Syria"])
    moved = second.assign(date=_utc(day + pd.Timedelta(days=90)))
    paths["b2"] = tmp_path / "b2.parquet"
    moved.to_parquet(paths["b2"])

    changes, dropped = _update(
        blocks, [paths["a"], paths["b2"]], [paths["b2"]], [paths["b"]], stored, None
    )
    assert not dropped
    after = merge_events(pd.concat([first, moved], ignore_index=True))
    assert len(after) == 3  # a1, a2 and far: each an event of its own now
    pd.testing.assert_frame_equal(_by_id(changes["country:Syria"]), _by_id(after))


def test_a_run_merges_again_only_the_reports_linked_to_what_it_touches(tmp_path, monkeypatch):
    """In one time segment (one country, the same day), only the incidents candidate pairs
    link to a touched one are merged again, and that is exact: x and z (5 and 20 killed) are
    too far apart to be one event, so x's event with y held z out; once x's file is removed,
    y and z are one event although z's stored event held nothing that changed. A town far
    away reported that day is not linked: its stored event stays as it was."""
    import casualties.events.blocks as blocks

    day = pd.Timestamp("2021-05-04")
    far = {"place": "Herat", "latitude": 34.35, "longitude": 62.20}
    kept = _incidents(
        {"article_id": "y", "date": day, "killed": (9, 9, 9)},
        {"article_id": "z", "date": day, "killed": (20, 20, 20)},
        {**far, "article_id": "w1", "date": day, "killed": (7, 7, 7)},
        {**far, "article_id": "w2", "date": day, "killed": (8, 8, 8)},
    )
    gone = _incidents({"article_id": "x", "date": day, "killed": (5, 5, 5)})
    paths = {"kept": tmp_path / "kept.parquet", "gone": tmp_path / "gone.parquet"}
    kept.to_parquet(paths["kept"])
    gone.to_parquet(paths["gone"])
    before = merge_events(pd.concat([kept, gone], ignore_index=True))
    sources = {tuple(sorted(ids)) for ids in before["incident_ids"]}
    assert sources == {("x:i0", "y:i0"), ("z:i1",), ("w1:i2", "w2:i3")}
    stored = {"country:Afghanistan": tmp_path / "events.parquet"}
    before.to_parquet(stored["country:Afghanistan"])

    merged_rows = _rows_merged_by_groups(monkeypatch)
    (update,) = blocks.update_events([paths["kept"]], [], [paths["gone"]], stored, None)
    after = merge_events(kept)
    assert {tuple(sorted(ids)) for ids in after["incident_ids"]} == {
        ("y:i0", "z:i1"),
        ("w1:i2", "w2:i3"),
    }
    pd.testing.assert_frame_equal(_by_id(update.to_pandas()), _by_id(after))
    # the segment read (all four reports of the day), but only y and z merged again: Herat's
    # event is the stored row
    assert merged_rows == [4]
    assert [sorted(ids) for ids in update.merged["incident_ids"]] == [["y:i0", "z:i1"]]
    assert update.kept.column("incident_ids").to_pylist() == [["w1:i2", "w2:i3"]]


def test_only_the_dates_incidents_lack_are_read_from_the_articles(golden_events, tmp_path):
    """The flow reads from the articles table only the dates of articles whose incidents have
    none of their own (an older table, a copy of a text stored without its date); the events
    equal those of a merge given every article."""
    from casualties.events.groups import undated_articles

    incidents, _ = golden_events
    articles = pd.DataFrame(
        [
            {"article_id": a["id"], "published": pd.Timestamp(a["published"])}
            for story in STORIES
            for a in story["articles"]
        ]
    )
    undated = incidents["article_id"].iloc[0]
    incidents = incidents.assign(
        published=incidents["published"].where(incidents["article_id"] != undated)
    )
    inc_path, art_path = tmp_path / "incidents.parquet", tmp_path / "articles.parquet"
    incidents.to_parquet(inc_path)
    articles.to_parquet(art_path)
    lookup = undated_articles([inc_path], [art_path])
    assert lookup["article_id"].tolist() == [undated]
    assert lookup["published"].iloc[0] == articles.set_index("article_id").loc[undated].iloc[0]
    pd.testing.assert_frame_equal(
        merge_events(incidents, lookup), merge_events(incidents, articles)
    )
    dated = golden_events[0]
    dated.to_parquet(inc_path)
    assert undated_articles([inc_path], [art_path]).empty

    # Partition files of two versions: the first written before incidents had `published`.
    # Each file is read by its own columns: only the older file's articles and the one
    # undated article of the newer file are looked up, not every article of the store.
    older, newer = tmp_path / "older.parquet", tmp_path / "newer.parquet"
    first = incidents["article_id"] == incidents["article_id"].iloc[-1]
    incidents[first].drop(columns=["published"]).to_parquet(older)
    incidents[~first].to_parquet(newer)
    lookup = undated_articles([older, newer], [art_path])
    assert sorted(lookup["article_id"]) == sorted({undated, incidents["article_id"].iloc[-1]})


def test_an_invalid_event_is_made_again_when_its_country_is_merged_again(tmp_path):
    """An event that failed validation is quarantined, not stored. A later run that touches
    another time segment of its country merges its segment again too (its incidents are in no
    stored event), so its quarantine row is made again; the rows of invalid events of
    countries the run does not touch are kept from the stored quarantine."""
    import casualties.events.blocks as blocks
    from schemas.validate import validate

    inc = _stories(n_loose=0)
    path = tmp_path / "incidents" / "a.parquet"
    path.parent.mkdir()
    inc.to_parquet(path)
    full = merge_events(inc)
    iraq = full[full["country"] == "Iraq"]
    invalid = iraq.iloc[5]  # stands for an event that failed validation: not stored
    stored = {}
    for key, events in (
        ("country:Iraq", iraq.drop(index=invalid.name)),
        ("country:Syria", full[full["country"] == "Syria"]),
        ("country:Yemen", full[full["country"] == "Yemen"]),
    ):
        stored[key] = tmp_path / "events" / f"{len(stored)}.parquet"
        stored[key].parent.mkdir(exist_ok=True)
        events.to_parquet(stored[key])
    later = _incidents(  # an Iraqi report a year on: a time segment of its own
        {
            "article_id": "later",
            "incident_id": "later:i0",
            "date": pd.Timestamp("2021-06-01"),
            "country": "Iraq",
            "place": "town1",
            "latitude": 11.0,
            "longitude": 40.0,
            "killed": (4, 4, 4),
        }
    )
    new = tmp_path / "incidents" / "b.parquet"
    later.to_parquet(new)
    changes, dropped = _update(blocks, [path, new], [new], [], stored, None)
    assert set(changes) == {"country:Iraq"} and not dropped  # the partitions the run touched
    assert invalid["event_id"] in set(changes["country:Iraq"]["event_id"])
    everything = pd.concat([inc, later], ignore_index=True)
    pd.testing.assert_frame_equal(
        _by_id(changes["country:Iraq"]),
        _by_id(merge_events(everything).query("country == 'Iraq'")),
    )

    # The quarantine row of an invalid event names its country; it stays while the run
    # merges other countries only.
    broken = conform(full.iloc[[0]], EVENTS).assign(killed_low=10**6, run_id="r1")
    _, quarantine = validate(broken, "events", run_id="r1")
    country = full.iloc[0]["country"]
    assert len(quarantine) == 1 and f"country={country}" in quarantine["excerpt"].iloc[0]
    assert len(blocks.untouched_quarantine(quarantine, {"country:Iraq"})) == int(country != "Iraq")
    assert blocks.untouched_quarantine(quarantine, {f"country:{country}"}).empty
