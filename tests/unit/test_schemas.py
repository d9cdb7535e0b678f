"""pandera validation splits good rows from bad ones, and bad ones become quarantine rows that
name the check they broke. Frames are built from our own wire-style sentences."""

from __future__ import annotations

import pandas as pd
import pytest

from casualties.fields import TABLES, conform
from schemas.models import MODELS
from schemas.validate import validate
from tests.factories import figure_row

TEXT = (
    "KABUL, Afghanistan (Wire) - A car bomb killed at least 14 people and wounded about 40 "
    "others near a market, officials said."
)
OTHER = "ADEN, Yemen (Wire) - Shelling killed nine people on Saturday, medics said."


def _span(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


def articles() -> pd.DataFrame:
    rows = [
        {
            "article_id": "a" * 16,
            "doc_id": "kabul.txt",
            "title": "Car bomb in Kabul",
            "published": "2024-03-02T10:00:00Z",
            "text": TEXT,
            "source_file": "kabul.txt",
            "line": None,
            "n_figures": 2,
            "run_id": "r1",
        },
        {
            "article_id": "b" * 16,
            "doc_id": "wire-7",
            "title": "Shelling in Aden",
            "published": "2024-03-03T09:15:00+03:00",
            "source": "Example Wire",
            "url": "https://example.org/7",
            "text": OTHER,
            "source_file": "feed.jsonl",
            "line": 7,
            "n_figures": 1,
            "run_id": "r1",
        },
    ]
    return pd.DataFrame(rows)


def figure(text: str, article_id: str, words: str, **kw) -> dict:
    return figure_row(text, article_id, words, **kw)


def good_figures() -> list[dict]:
    return [
        figure(TEXT, "a" * 16, "at least 14 people"),
        figure(
            TEXT,
            "a" * 16,
            "about 40",
            category="injured",
            low=40,
            best=40,
            high=40,
            qualifier="approximately",
        ),
        figure(OTHER, "b" * 16, "nine people", low=9, best=9, high=9, qualifier="exact"),
    ]


def incident(**kw) -> dict:
    row = {
        "incident_id": "b" * 16 + ":i0",
        "article_id": "b" * 16,
        "published": pd.Timestamp("2024-03-03T06:15:00Z"),
        "date": pd.Timestamp("2024-03-02", tz="UTC"),
        "date_precision": "day",
        "place": "Aden",
        "country": "Yemen",
        "latitude": 12.78,
        "longitude": 45.04,
        "geo_precision": "exact",
        "event_type": "shelling_or_artillery",
        "perpetrator_hedged": False,
        "claim_by_party": False,
        "n_figures": 1,
        "killed_low": 9,
        "killed_best": 9,
        "killed_high": 9,
        "run_id": "r1",
    }
    row.update(kw)
    return row


@pytest.fixture(scope="module")
def valid_articles() -> pd.DataFrame:
    good, quarantine = validate(articles(), "articles", run_id="r1")
    assert quarantine.empty
    return good


def test_models_are_generated_from_the_field_list():
    for name, table in TABLES.items():
        schema = MODELS[name].to_schema()
        assert list(schema.columns) == table.columns
        for f in table.fields:
            assert schema.columns[f.name].nullable == f.nullable


def test_good_rows_pass_with_declared_dtypes(valid_articles):
    figures, quarantine = validate(
        pd.DataFrame(good_figures()), "figures", articles=valid_articles, run_id="r1"
    )
    assert quarantine.empty
    assert len(figures) == 3
    expected = TABLES["figures"].empty().dtypes
    pd.testing.assert_series_equal(figures.dtypes, expected)
    assert str(valid_articles["published"].dtype) == "datetime64[ns, UTC]"
    assert valid_articles.loc[1, "published"] == pd.Timestamp("2024-03-03T06:15:00Z")


BAD_FIGURES = [
    ("low above best", {"low": 20, "best": 14}, "schema:figures.low_le_best", "low"),
    ("best above high", {"best": 14, "high": 10}, "schema:figures.best_le_high", "high"),
    ("negative count", {"low": -1}, "schema:figures.low_ge", "low"),
    ("unknown category", {"category": "hurt"}, "schema:figures.category_in_set", "category"),
    ("unknown qualifier", {"qualifier": "roughly"}, "schema:figures.qualifier_in_set", "qualifier"),
    ("missing category", {"category": None}, "schema:figures.category_not_null", "category"),
    ("count not a number", {"best": "many"}, "schema:figures.best_dtype", "best"),
    (
        "surface is not the text",
        {"surface": "at most 14"},
        "schema:figures.surface_matches_text",
        "surface",
    ),
    ("offset past the text", {"end": 10_000}, "schema:figures.offsets_in_text", "end"),
    ("empty span", {"end": 27, "start": 27}, "schema:figures.start_lt_end", "start"),
    ("article not stored", {"article_id": "c" * 16}, "schema:figures.article_exists", "article_id"),
]


@pytest.mark.parametrize(
    "change,reason,field", [c[1:] for c in BAD_FIGURES], ids=[c[0] for c in BAD_FIGURES]
)
def test_a_bad_figure_goes_to_quarantine_with_its_check(valid_articles, change, reason, field):
    rows = good_figures()
    rows.append(dict(figure(TEXT, "a" * 16, "A car bomb"), figure_id="bad-one", **change))
    figures, quarantine = validate(
        pd.DataFrame(rows), "figures", articles=valid_articles, run_id="r2"
    )
    assert list(figures["figure_id"]) == [r["figure_id"] for r in rows[:3]]
    assert len(quarantine) == 1
    q = quarantine.iloc[0]
    assert q["reason"] == reason
    assert q["stage"] == "validate"
    assert field in q["detail"]
    assert "bad-one" in q["excerpt"]
    assert q["run_id"] == "r2"
    if "article_id" not in change:  # provenance comes from the figure's article
        assert q["source_file"] == "kabul.txt"


def test_duplicate_ids_keep_the_first_row(valid_articles):
    rows = good_figures()
    rows.append(dict(rows[0], low=13, best=13))
    figures, quarantine = validate(
        pd.DataFrame(rows), "figures", articles=valid_articles, run_id="r1"
    )
    assert len(figures) == 3 and figures.loc[0, "low"] == 14
    assert list(quarantine["reason"]) == ["schema:figures.figure_id_unique"]


def test_every_failure_of_a_row_is_named_once():
    rows = good_figures()
    rows[0].update(low=20, best=14, high=10, category="hurt")
    figures, quarantine = validate(pd.DataFrame(rows), "figures", run_id="r1")
    assert len(figures) == 2
    assert len(quarantine) == 1  # one quarantine row per rejected row
    # enums are checked on the raw value first; casting it would silently make it null
    assert quarantine.iloc[0]["reason"] == "schema:figures.category_in_set"


def test_incident_checks(valid_articles):
    rows = [
        incident(),
        incident(incident_id="x:i1", killed_low=12, killed_best=9),
        incident(incident_id="x:i2", date=pd.Timestamp("2024-03-09", tz="UTC")),
        incident(incident_id="x:i3", latitude=123.0),
        incident(incident_id="x:i4", event_type="riot"),
    ]
    good, quarantine = validate(
        pd.DataFrame(rows), "incidents", articles=valid_articles, run_id="r1"
    )
    assert list(good["incident_id"]) == ["b" * 16 + ":i0"]
    assert list(quarantine["reason"]) == [
        "schema:incidents.killed_low_le_killed_best",
        "schema:incidents.date_not_after_published",
        "schema:incidents.latitude_le",
        "schema:incidents.event_type_in_set",
    ]
    # provenance of the article: JSONL file and line
    assert set(quarantine["source_file"]) == {"feed.jsonl"}
    assert set(quarantine["line"]) == {7}


def test_articles_with_bad_values():
    df = articles()
    df.loc[1, "published"] = "the day before yesterday"
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True)  # same text twice
    good, quarantine = validate(df, "articles", run_id="r1")
    assert list(good["doc_id"]) == ["kabul.txt"]
    assert sorted(quarantine["reason"]) == [
        "schema:articles.article_id_unique",
        "schema:articles.published_dtype",
    ]
    assert quarantine.set_index("reason").loc["schema:articles.published_dtype", "line"] == 7


def test_quarantine_rows_are_themselves_valid(valid_articles):
    rows = good_figures()
    rows[1]["low"] = 99
    _, quarantine = validate(pd.DataFrame(rows), "figures", articles=valid_articles, run_id="r1")
    pd.testing.assert_frame_equal(quarantine, conform(quarantine, TABLES["quarantine"]))
    again, nothing = validate(quarantine, "quarantine", run_id="r1")
    assert len(again) == 1 and nothing.empty


def test_empty_frames_validate():
    for name, table in TABLES.items():
        good, quarantine = validate(table.empty(), name)
        assert good.empty and quarantine.empty


def test_stored_rows_read_back_share_equal_strings_and_keep_their_dtypes(tmp_path):
    """`as_pandas` (how large stored tables are read) gives every table the same typed frame
    as pyarrow's own conversion once conformed, with one Python string per distinct value of
    a string column (so a large group of incidents holds each country name once, not once a
    row)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from casualties.fields import as_pandas

    frames = {
        "articles": articles(),
        "figures": pd.DataFrame(good_figures()),
        "incidents": pd.DataFrame(
            [{"incident_id": f"i{k}", "article_id": "a" * 16, "country": "Yemen"} for k in range(3)]
        ).assign(killed_best=[4, None, 7], is_background=[True, None, False], run_id="r1"),
    }
    for name, frame in frames.items():
        table = TABLES[name]
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.Table.from_pandas(conform(frame, table)), path)
        stored = pq.read_table(path)
        read = as_pandas(stored)
        assert read["run_id"].iloc[0] is read["run_id"].iloc[1]  # one "r1" for every row
        pd.testing.assert_frame_equal(conform(read, table), conform(stored.to_pandas(), table))
