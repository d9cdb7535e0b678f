"""Reading raw/: a real folder with every bad case of issue 5; nothing raises, nothing is lost."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casualties.fields import UTC_TS
from casualties.storage import ingest as io
from tests.mixed_raw import (
    EXPECTED_QUARANTINE,
    KEPT_DOC_IDS,
    LATIN1_TXT,
    W1_TEXT,
    W7_TEXT,
    build_mixed_raw,
    quarantine_keys,
)


def read_all(raw_dir, batch_size=2000):
    """discover + iter_articles + resolve_duplicates, as the flow does."""
    inputs, disc_q = io.discover_inputs(raw_dir)
    arts, qs = [], [disc_q]
    for raw in inputs:
        for a, q in io.iter_articles(raw, batch_size=batch_size):
            assert len(a) <= batch_size
            arts.append(a)
            qs.append(q)
    articles = pd.concat(arts, ignore_index=True)
    kept, dup_q = io.resolve_duplicates(articles)
    return inputs, articles, kept, pd.concat([*qs, dup_q], ignore_index=True)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    raw = build_mixed_raw(tmp_path_factory.mktemp("mixed"))
    return (raw, *read_all(raw))


def test_discover_lists_txt_and_jsonl_sorted_and_skips_the_rest(mixed):
    raw, inputs, *_ = mixed
    rels = [i.rel for i in inputs]
    assert rels == sorted(rels)
    assert set(rels) == {
        "blank.txt",
        "empty.txt",
        "feed/big.jsonl",
        "feed/wire.jsonl",
        "good.txt",
        "image.txt",
        "latin1.txt",
        "mirror/good.txt",
    }
    good = next(i for i in inputs if i.rel == "good.txt")
    assert good.kind == "txt" and good.size == (raw / "good.txt").stat().st_size
    assert len(good.sha256) == 64


def test_kept_articles(mixed):
    _, _, _, kept, _ = mixed
    assert set(kept["doc_id"]) == KEPT_DOC_IDS
    assert kept["article_id"].is_unique
    by_id = kept.set_index("doc_id")
    # .txt: title is the first non-empty line, doc_id the relative path, no line number
    assert by_id.loc["good.txt", "title"] == "Market blast kills 12 in Northtown"
    assert pd.isna(by_id.loc["good.txt", "line"])
    # Latin-1 decoded, not dropped
    assert by_id.loc["latin1.txt", "text"] == LATIN1_TXT
    assert by_id.loc["w-7", "text"] == W7_TEXT
    # JSONL fields and UTC publication time
    w1 = by_id.loc["w-1"]
    assert (w1["text"], w1["source"], w1["url"], w1["line"]) == (
        W1_TEXT,
        "Wire",
        "https://example.org/w-1",
        1,
    )
    assert w1["published"] == pd.Timestamp("2024-03-05T08:00:00Z")
    assert by_id.loc["feed/wire.jsonl:13", "published"] == pd.Timestamp("2024-03-07 08:30Z")
    assert pd.isna(by_id.loc["w-5", "published"])  # unparseable date: kept, null
    assert kept["article_id"].tolist() == [io.article_id(t) for t in kept["text"]]


def test_dtypes_are_the_table_dtypes(mixed):
    _, _, articles, kept, quarantine = mixed
    for df, table in ((articles, io.READ_ARTICLES), (quarantine, io.READ_QUARANTINE)):
        assert list(df.columns) == table.columns
        assert df.dtypes.to_dict() == table.empty().dtypes.to_dict()
    assert str(kept["published"].dtype) == UTC_TS


def test_every_quarantine_reason_line_and_doc_id(mixed):
    _, _, _, _, quarantine = mixed
    assert quarantine_keys(quarantine) == EXPECTED_QUARANTINE
    assert len(quarantine) == len(EXPECTED_QUARANTINE)  # one row per problem
    assert (quarantine["stage"] == "read").all()
    assert set(quarantine["reason"]) <= set(io.REASONS)
    assert quarantine["detail"].notna().all()


def test_details_name_the_field_and_excerpts_are_short(mixed):
    _, _, _, _, q = mixed
    detail = dict(zip(q["reason"], q["detail"], strict=False))
    assert "`text`" in detail["text_not_string"] and "int" in detail["text_not_string"]
    assert "`published`" in detail["bad_published"]
    assert detail["article_too_large"].startswith("text has 5,")  # the 5 MB line, parsed
    assert "cp1252" in detail["decoded_legacy_encoding"]
    exc = q.set_index("reason")["excerpt"]
    assert exc["invalid_json"] == '{"id": "w-2", "text": "Two soldiers were'
    assert q["excerpt"].dropna().str.len().max() <= io.EXCERPT_CHARS
    assert "\x00" not in "".join(q["excerpt"].dropna())


def test_same_text_is_stored_once_keeping_the_first(mixed):
    _, _, articles, kept, _ = mixed
    # good.txt and its symlinked mirror, w-1 and w-6 (line 9), w-1 again (line 14)
    assert (articles["text"] == W1_TEXT).sum() == 3
    row = kept[kept["text"] == W1_TEXT].iloc[0]
    assert (row["doc_id"], row["line"]) == ("w-1", 1)
    assert "mirror/good.txt" not in set(kept["source_file"])


def test_small_batches_stream_and_give_the_same_rows(tmp_path):
    raw = build_mixed_raw(tmp_path, big_line_mb=0.01)
    _, _, kept_1, q_1 = read_all(raw, batch_size=1)
    _, _, kept_big, q_big = read_all(raw, batch_size=5000)
    pd.testing.assert_frame_equal(kept_1, kept_big)
    assert quarantine_keys(q_1) == quarantine_keys(q_big)


def test_jsonl_batches_are_bounded(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = [json.dumps({"id": str(i), "text": f"{i} people were killed."}) for i in range(25)]
    (raw / "many.jsonl").write_text("\n".join(lines) + "\nnot json\n")
    inputs, _ = io.discover_inputs(raw)
    batches = list(io.iter_articles(inputs[0], batch_size=10))
    assert [len(a) for a, _ in batches] == [10, 10, 5]
    assert sum(len(q) for _, q in batches) == 1


def test_odd_inputs_never_raise(tmp_path):
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    (raw / "bom.txt").write_bytes(b"\xef\xbb\xbfTitle with BOM\r\nBody: 3 killed.\r\n")
    (raw / "utf16.txt").write_bytes("Title\nTwo killed.\n".encode("utf-16"))
    (raw / "controls.txt").write_bytes(bytes(range(1, 32)) * 20)
    (raw / "nul.jsonl").write_bytes(b'{"id": "1"}\x00\x00\x00')
    (raw / "sub" / "odd.jsonl").write_bytes(
        b"\xef\xbb\xbf"
        + json.dumps({"id": 5, "text": "Lone \ud800 surrogate, 3 dead.", "title": 7}).encode()
        + b"\n"
        + b"[" * 100000
        + b"\n"
        + json.dumps({"id": "x", "text": "Ok, 2 dead.", "published": 1700000000}).encode()
        + b"\n"
        + json.dumps({"id": "y", "text": "Ok, 4 dead.", "source": {"a": 1}}).encode()
        + b"\n"
    )
    (raw / "sub" / "empty.jsonl").write_bytes(b"\n\n  \n")
    (raw / "sub" / "link").symlink_to(tmp_path)  # folder link leaving raw/
    (raw / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    _, _, kept, q = read_all(raw)
    by_id = kept.set_index("doc_id")
    assert by_id.loc["bom.txt", "title"] == "Title with BOM"
    assert by_id.loc["bom.txt", "text"] == "Title with BOM\nBody: 3 killed.\n"
    assert by_id.loc["utf16.txt", "text"] == "Title\nTwo killed.\n"
    assert by_id.loc["5", "text"] == "Lone \ufffd surrogate, 3 dead."
    assert by_id.loc["5", "title"] == "7"
    assert set(by_id.index) == {"bom.txt", "utf16.txt", "5", "x", "y"}
    assert quarantine_keys(q) == {
        ("controls.txt", None, "binary_content", "controls.txt"),
        ("nul.jsonl", None, "binary_content", None),
        ("sub/odd.jsonl", 2, "invalid_json", None),
        ("sub/odd.jsonl", 3, "bad_published", "x"),
        ("sub/odd.jsonl", 4, "bad_field", "y"),
        ("sub/empty.jsonl", None, "empty_file", None),
        ("sub/link", None, "symlink_outside_raw", None),
        ("dangling.txt", None, "unreadable_file", None),
    }


def test_published_parsing_to_utc():
    ts, bad = io._parse_published(
        [
            "2024-01-02",
            "2024-01-02T03:04:05+05:00",
            "March 5, 2024",
            None,
            "",
            "soon",
            12,
            "0001-01-01",
        ]
    )
    assert ts[0] == pd.Timestamp("2024-01-02", tz="UTC")
    assert ts[1] == pd.Timestamp("2024-01-01T22:04:05Z")
    assert ts[2] == pd.Timestamp("2024-03-05", tz="UTC")
    assert bad == [False, False, False, False, False, True, True, True]


def test_relative_and_out_of_range_published_are_notes_that_say_so(tmp_path):
    values = ["now", "Today", "yesterday", "0001-01-01", "2999-12-31", "2024-03-02"]
    (tmp_path / "f.jsonl").write_text(
        "".join(
            json.dumps({"id": f"r{i}", "text": "Two people died.", "published": v}) + "\n"
            for i, v in enumerate(values)
        )
    )
    inputs, _ = io.discover_inputs(tmp_path)
    arts, q = next(io.iter_articles(inputs[0]))
    assert arts["published"].isna().tolist() == [True] * 5 + [False]  # never the run's clock
    reasons = dict(zip(q["doc_id"], q["reason"], strict=True))
    assert reasons == {
        "r0": "bad_published",
        "r1": "bad_published",
        "r2": "bad_published",
        "r3": "published_out_of_range",
        "r4": "published_out_of_range",
    }
    detail = dict(zip(q["doc_id"], q["detail"], strict=True))
    assert "relative word" in detail["r0"]
    assert "year 0001" in detail["r3"] and "year 2999" in detail["r4"]
    assert "2262-04-11" in detail["r4"]
    assert set(q["reason"]) <= io.NOTE_REASONS


def test_resolve_duplicates_first_by_file_and_line():
    rows = pd.DataFrame(
        {
            "article_id": ["t2", "t1", "t1", "t3"],
            "doc_id": ["X", "X", "Y", "Z"],
            "source_file": ["b.jsonl", "a.jsonl", "a.jsonl", "a.jsonl"],
            "line": pd.array([1, 1, 2, 3], dtype="Int64"),
            "text": ["two", "one", "one", "three"],
        }
    )
    kept, q = io.resolve_duplicates(rows)
    assert kept["doc_id"].tolist() == ["X", "Z"]  # X (a.jsonl:1) wins; Y is the same text
    assert quarantine_keys(q) == {("b.jsonl", 1, "duplicate_id", "X")}


# ------------------------------------------------------------------------------- properties

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
records = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=10), st.integers(), json_values),
        "text": st.one_of(st.text(max_size=60), json_values),
        "title": json_values,
        "published": st.one_of(st.text(max_size=25), st.datetimes().map(str), json_values),
    },
)
jsonl_line = st.one_of(
    records.map(lambda r: json.dumps(r).encode()),
    records.map(lambda r: json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=80).filter(lambda b: b"\n" not in b and b"\x00" not in b),
)


def _read_bytes(suffix: str, data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        (raw / f"f{suffix}").write_bytes(data)
        inputs, disc_q = io.discover_inputs(raw)
        batches = [b for i in inputs for b in io.iter_articles(i, batch_size=3)]
    arts = pd.concat([a for a, _ in batches], ignore_index=True)
    q = pd.concat([disc_q] + [q for _, q in batches], ignore_index=True)
    return arts, q


@settings(max_examples=40, deadline=None)
@given(st.lists(jsonl_line, max_size=12))
def test_any_jsonl_never_raises_and_every_line_is_accounted_for(lines):
    arts, q = _read_bytes(".jsonl", b"\n".join(lines))
    assert set(q["reason"]) <= set(io.REASONS)
    assert (arts["text"].str.strip().str.len() > 0).all()
    assert arts["article_id"].tolist() == [io.article_id(t) for t in arts["text"]]
    rejected = q[~q["reason"].isin(io.NOTE_REASONS) & q["line"].notna()]
    non_blank = [n for n, line in enumerate(lines, 1) if line.strip()]
    # each non-blank line is exactly one article or one rejection
    assert sorted(arts["line"].tolist() + rejected["line"].tolist()) == non_blank
    io.resolve_duplicates(arts)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([".txt", ".jsonl"]))
def test_any_bytes_never_raise(data, suffix):
    arts, q = _read_bytes(suffix, data)
    assert len(arts) <= max(1, data.count(b"\n") + 1)
    assert set(q["reason"]) <= set(io.REASONS)


def test_an_enormous_line_is_skipped_not_loaded(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "MAX_LINE_BYTES", 1000)  # the limit is 64 MiB; same code path
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = [
        json.dumps({"id": "a", "text": "3 killed."}),
        json.dumps({"id": "huge", "text": "x" * 5000}),
        json.dumps({"id": "b", "text": "x" * 990})[:1000],  # exactly at the limit: read
        json.dumps({"id": "c", "text": "4 killed."}),
    ]
    (raw / "f.jsonl").write_text("\n".join(lines))
    _, _, kept, q = read_all(raw)
    assert kept["doc_id"].tolist() == ["a", "c"]
    assert quarantine_keys(q) == {
        ("f.jsonl", 2, "line_too_long", None),
        ("f.jsonl", 3, "invalid_json", "b"),
    }
