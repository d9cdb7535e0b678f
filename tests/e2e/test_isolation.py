"""One bad article never costs its batch or its file: extraction and validation errors and
implausible counts become quarantine rows; a failed reading never replaces stored rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from casualties.extract.article import MAX_PLAUSIBLE_COUNT, extract_article, extract_frame
from casualties.extract.checked import extract_checked
from casualties.runtime.pool import ExtractionPool
from casualties.storage import ingest as io
from casualties.storage import store
from casualties.storage.merge import merge_into, run_parts, stored_paths
from schemas.validate import validate_batch
from tests.storage_helpers import commit_run

TEXTS = [
    "Two people were killed in a blast in Kabul on Monday, police said.",
    "Officials said 12345678901234567890 people were killed, and 4 were wounded.",
    "Gunmen killed 6 villagers in Westmoor on Tuesday, residents said.",
]


def _articles(published=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "article_id": [f"a{i}" for i in range(len(TEXTS))],
            "text": TEXTS,
            "published": published or [pd.Timestamp("2024-03-04", tz="UTC")] * len(TEXTS),
        }
    )


def test_implausible_count_is_left_out_of_figures_incidents_and_totals():
    ex = extract_article(TEXTS[1])
    assert [f.surface for f in ex.implausible] == ["12345678901234567890"]
    assert [(f.category, f.best) for f in ex.figures] == [("injured", 4)]
    assert "killed" not in ex.totals and ex.totals["injured"] == (4, 4, 4)
    assert all(f.best <= MAX_PLAUSIBLE_COUNT for f in ex.figures)


def test_extract_checked_reports_implausible_figures_and_keeps_the_rest():
    figures, incidents, problems = extract_checked(_articles())
    assert problems[["article_id", "reason"]].values.tolist() == [["a1", "implausible_count"]]
    assert "12,345,678,901,234,567,890" in problems["detail"].iloc[0]
    assert set(figures["article_id"]) == {"a0", "a1", "a2"}
    assert figures["best"].max() <= MAX_PLAUSIBLE_COUNT
    # incidents and figures convert to the tables' Int64 columns (a 20-digit count did not)
    assert incidents["killed_best"].max() <= MAX_PLAUSIBLE_COUNT


def _broken_articles() -> pd.DataFrame:
    # extraction raises on an article whose `published` is no date (ValueError from pandas)
    pub = [pd.Timestamp("2024-03-04", tz="UTC"), "not a date", pd.Timestamp("2024-03-05", tz="UTC")]
    return _articles(published=pub)


def _check_broken(result) -> None:
    figures, incidents, problems = result
    assert problems["article_id"].tolist() == ["a1"]
    assert problems["reason"].tolist() == ["extraction_error"]
    assert problems["detail"].iloc[0].startswith(("ValueError", "DateParseError"))
    assert problems["excerpt"].iloc[0] == TEXTS[1]
    good = _broken_articles().iloc[[0, 2]].reset_index(drop=True)
    want_f, want_i = extract_frame(good)
    pd.testing.assert_frame_equal(figures, want_f)
    pd.testing.assert_frame_equal(incidents, want_i)


def test_an_article_extraction_raises_on_is_a_problem_not_a_failed_batch():
    _check_broken(extract_checked(_broken_articles()))


def test_the_same_in_worker_processes():
    with ExtractionPool(2, chunk_size=1, fn=extract_checked) as pool:
        _check_broken(pool.submit(_broken_articles()).result())


def test_validation_that_raises_quarantines_only_that_article():
    texts = ["Two people were killed.", "Three people were killed.", "Four people died."]
    n = len(texts)
    arts = pd.DataFrame(
        {
            "article_id": [f"a{i}" for i in range(n)],
            "doc_id": [f"d{i}" for i in range(n)],
            "title": [None] * n,
            "published": [pd.NaT] * n,
            "source": [None] * n,
            "url": [None] * n,
            "text": texts,
            "source_file": ["f.jsonl"] * n,
            "line": pd.Series([1, 10**30, 3], dtype=object),  # no Int64 holds it: pandas raises
        }
    )
    figures, incidents = extract_frame(arts)
    good_a, good_f, good_i, q = validate_batch(
        arts, figures, incidents, io.quarantine_frame([]), "r"
    )
    assert good_a["doc_id"].tolist() == ["d0", "d2"]
    assert set(good_f["article_id"]) == set(good_i["article_id"]) == {"a0", "a2"}
    assert q[["doc_id", "stage", "reason"]].values.tolist() == [
        ["d1", "validate", "validation_error"]
    ]
    assert q["detail"].iloc[0].startswith("OverflowError")


def test_reasons_are_declared():
    for reason in ("extraction_error", "validation_error", "implausible_count"):
        assert reason in io.REASONS


# ---------------------------------------------------------------- failed reading keeps rows


def test_a_failed_file_keeps_its_stored_rows_and_manifest_entry(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_text(json.dumps({"id": "1", "text": TEXTS[0]}) + "\n")
    inputs, _ = io.discover_inputs(raw)
    old_arts = next(io.iter_articles(inputs[0]))[0].assign(n_figures=0, run_id="old")
    plan = store.plan_inputs(inputs, store.empty_manifest())
    first = store.build_manifest("old", plan, old_arts, store.empty_manifest())
    commit_run(tmp_path / "out", {"articles": old_arts}, first)
    manifest = store.load_manifest(tmp_path / "out")

    # the file changes; this run's reading of it fails part-way (one batch was read)
    (raw / "a.jsonl").write_text(
        json.dumps({"id": "1", "text": TEXTS[2]}) + "\n" + json.dumps({"id": "2", "text": "x"})
    )
    inputs, _ = io.discover_inputs(raw)
    plan = store.plan_inputs(inputs, manifest)
    assert [i.rel for i in plan.to_process] == ["a.jsonl"]
    kept = store.keep_failed(plan, manifest, {"a.jsonl"})
    assert kept.to_process == [] and kept.keep_files == {"a.jsonl"}
    new_arts = next(io.iter_articles(inputs[0]))[0].assign(n_figures=0, run_id="new")
    with run_parts(tmp_path / "parts", {}) as parts:
        parts.add_batch(
            new_arts.head(1),
            extract_frame(new_arts.head(1))[0].assign(run_id="new"),
            extract_frame(new_arts.head(1))[1].assign(run_id="new"),
            io.quarantine_frame([]).assign(run_id="new"),
        )
    old = stored_paths(tmp_path / "out", ["articles"])
    result = merge_into(
        tmp_path / "stage", old, parts, kept.keep_files, "new", {}, drop_files={"a.jsonl"}
    )
    # the stored partition of a.jsonl is neither rewritten nor dropped: its rows stay
    assert result.written["articles"] == set() and not result.dropped["articles"]
    stored = pd.read_parquet(tmp_path / "out" / "articles")
    assert stored["text"].tolist() == [TEXTS[0]] and stored["run_id"].tolist() == ["old"]
    again = store.build_manifest("new", kept, new_arts, manifest, processed=[])
    assert again["files"]["a.jsonl"] == manifest["files"]["a.jsonl"]  # the next run retries


# ---------------------------------------------------------------- end to end


def _run(root: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("casualties")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "casualties.cli"]
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": str(root / ".prefect"),
    }
    args = ["run", "--raw", str(root / "raw"), "--out", str(root / "out")]
    args += ["--report", str(root / "reports")]
    return subprocess.run(
        [*cmd, *args], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_twenty_digit_count_in_a_1000_record_file(tmp_path):
    from tests.e2e.test_reliability import bulk_article

    raw = tmp_path / "raw"
    raw.mkdir()
    big = "A statement said 12345678901234567890 people were killed in the attack on Monday."
    with open(raw / "feed.jsonl", "w") as f:
        for i in range(1000):
            text = big if i == 500 else bulk_article(i)
            f.write(json.dumps({"id": f"b{i}", "text": text}) + "\n")
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    arts = pd.read_parquet(tmp_path / "out" / "articles")
    q = pd.read_parquet(tmp_path / "out" / "quarantine")
    assert len(arts) == 1000  # the 999 and the one whose figure was left out
    assert q[["doc_id", "stage", "reason"]].values.tolist() == [
        ["b500", "extract", "implausible_count"]
    ]
    # appended to the processed file: the file is read again, nothing is lost
    with open(raw / "feed.jsonl", "a") as f:
        f.write(json.dumps({"id": "late", "text": "9223372036854775808 people were killed."}))
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    arts = pd.read_parquet(tmp_path / "out" / "articles")
    q = pd.read_parquet(tmp_path / "out" / "quarantine")
    assert len(arts) == 1001 and {"b0", "b999", "late"} <= set(arts["doc_id"])
    assert sorted(q["doc_id"]) == ["b500", "late"]
    assert set(q["reason"]) == {"implausible_count"}
    figures = pd.read_parquet(tmp_path / "out" / "figures")
    assert figures["best"].max() <= MAX_PLAUSIBLE_COUNT


def test_validate_batch_quarantines_extraction_problems():
    arts = pd.DataFrame(
        {
            "article_id": ["a0", "a1", "a2"],
            "doc_id": ["d0", "d1", "d2"],
            "title": [None] * 3,
            "published": [pd.NaT] * 3,
            "source": [None] * 3,
            "url": [None] * 3,
            "text": TEXTS,
            "source_file": ["f.jsonl"] * 3,
            "line": [1, 2, 3],
        }
    )
    broken = arts.assign(published=[pd.NaT, "not a date", pd.NaT])
    figures, incidents, problems = extract_checked(broken)
    good_a, good_f, _, q = validate_batch(
        arts, figures, incidents, io.quarantine_frame([]), "r", problems
    )
    assert good_a["doc_id"].tolist() == ["d0", "d2"]  # the article extraction failed on is out
    assert q[["source_file", "line", "doc_id", "stage", "reason"]].values.tolist() == [
        ["f.jsonl", 2, "d1", "extract", "extraction_error"]
    ]
    assert q["run_id"].tolist() == ["r"]
