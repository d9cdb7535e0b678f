"""The real Prefect flow on a copy of raw/: Parquet tables, quarantine, GX report, artifact,
idempotent rerun, incremental run. One Prefect test harness and three flow runs for the module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from casualties.fields import TABLES  # noqa: E402
from casualties.storage import store  # noqa: E402
from tests.paths import REPO

TABLE_NAMES = ("articles", "figures", "incidents", "quarantine")

pytestmark = pytest.mark.slow

NEW_ARTICLE = {
    "id": "wire-2024-0320-herat",
    "title": "Blast in Herat",
    "published": "2024-03-20T08:00:00Z",
    "text": "HERAT, Afghanistan (Wire) - A roadside bomb killed three police officers on "
    "Tuesday, officials said.",
}


def _read_all(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out / name) for name in (*TABLE_NAMES, "events")}


@pytest.fixture(scope="session")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def runs(harness, tmp_path_factory):
    """Four runs on a copy of raw/ (plus two broken lines): a first run, a full rebuild, a run
    after adding one file, and a run with nothing new. Keeps summaries and tables of each."""
    from flows.pipeline import pipeline

    base = tmp_path_factory.mktemp("flow")
    raw, out, report = base / "raw", base / "processed", base / "reports"
    shutil.copytree(REPO / "raw", raw)
    with (raw / "articles.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"id": "truncated", "text": "Two people were\n')
        fh.write('["not", "an", "object"]\n')
    summaries, tables = [], []

    def run(**kw):
        summaries.append(pipeline(raw_dir=raw, out_dir=out, report_dir=report, **kw))
        tables.append(_read_all(out))

    run()
    run(full_refresh=True)
    (raw / "extra.jsonl").write_text(json.dumps(NEW_ARTICLE) + "\n", encoding="utf-8")
    run()
    run()
    return {"raw": raw, "out": out, "report": report, "summaries": summaries, "tables": tables}


def test_tables_come_back_with_declared_dtypes(runs):
    tables = runs["tables"][0]
    for name in TABLE_NAMES:
        df = tables[name]
        assert list(df.columns) == TABLES[name].columns
        # pd.read_parquet alone gives the dtypes the field list declares
        pd.testing.assert_series_equal(df.dtypes, TABLES[name].empty().dtypes, obj=name)
    assert str(tables["figures"]["low"].dtype) == "Int64"
    assert str(tables["incidents"]["killed_best"].dtype) == "Int64"
    assert isinstance(tables["figures"]["category"].dtype, pd.CategoricalDtype)
    assert str(tables["articles"]["published"].dtype) == "datetime64[ns, UTC]"


def test_every_bundled_article_is_stored_and_extracted(runs):
    articles, figures = runs["tables"][0]["articles"], runs["tables"][0]["figures"]
    n_txt = len(list((REPO / "raw").glob("**/*.txt")))
    n_jsonl = sum(1 for p in (REPO / "raw").glob("**/*.jsonl") for line in p.open() if line.strip())
    assert len(articles) == n_txt + n_jsonl
    assert articles["article_id"].is_unique
    assert len(figures) > 0
    assert set(figures["article_id"]) <= set(articles["article_id"])
    # offsets point at the words (validated by pandera before writing)
    texts = dict(zip(articles["article_id"], articles["text"], strict=True))
    for f in figures.itertuples():
        assert texts[f.article_id][f.start : f.end] == f.surface
    assert articles["n_figures"].sum() == len(figures)
    # Each partition records the run that wrote it: after the full rebuild (second run), the
    # third run rewrote only the partition of the file it added.
    manifest = store.load_manifest(runs["out"])
    written = {
        file: store.table_metadata(runs["out"] / "figures" / file)
        for file in manifest["tables"]["figures"]
    }
    assert {m["run_id"] for m in written.values()} == {
        runs["summaries"][1]["run_id"],
        runs["summaries"][2]["run_id"],
    }
    assert all(m["pipeline_version"] for m in written.values())
    new_part = store.part_file(store.partition_of("extra.jsonl"))
    assert written[new_part]["run_id"] == runs["summaries"][2]["run_id"]


def test_broken_input_lines_are_quarantined(runs):
    quarantine = runs["tables"][0]["quarantine"]
    rows = quarantine[quarantine["source_file"] == "articles.jsonl"]
    assert {"invalid_json", "not_an_object"} <= set(rows["reason"])
    assert set(rows.loc[rows["reason"] == "invalid_json", "line"]) == {6}
    assert runs["summaries"][0]["quarantine_reasons"]["invalid_json"] == 1


def test_great_expectations_ran_and_built_data_docs(runs):
    quality = runs["summaries"][0]["quality"]
    assert set(TABLE_NAMES) <= set(quality["tables"])
    for name in TABLE_NAMES:
        assert quality["tables"][name]["evaluated"] > 5
    assert quality["failed"] == 0, quality
    index = runs["report"] / "quality" / "index.html"
    assert index.is_file()
    assert Path(quality["index"]) == index.resolve()
    html = index.read_text(encoding="utf-8")
    assert "figures_suite" in html and "incidents_suite" in html
    assert list((runs["report"] / "quality" / "validations").rglob("*.html"))


def test_run_counts_are_published_as_an_artifact(runs):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["casualties-run"]))
        )
    assert artifacts
    assert any("| figures |" in (a.data or "") for a in artifacts)


def test_full_rebuild_gives_the_same_tables(runs):
    assert runs["summaries"][1]["files_processed"] == runs["summaries"][0]["files_processed"]
    for name in TABLE_NAMES:
        before = runs["tables"][0][name].drop(columns="run_id")
        after = runs["tables"][1][name].drop(columns="run_id")
        pd.testing.assert_frame_equal(before, after, obj=name)


def test_a_run_with_nothing_new_leaves_everything_as_it_is(runs):
    last = runs["summaries"][3]
    assert last["files_processed"] == 0 and last["quality"] is None
    assert last["rows"] == runs["summaries"][2]["rows"]
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(runs["tables"][2][name], runs["tables"][3][name], obj=name)


def test_a_new_file_adds_exactly_its_article(runs):
    third = runs["summaries"][2]
    assert third["files_processed"] == 1 and third["articles_new"] == 1
    before, after = runs["tables"][1], runs["tables"][2]
    assert len(after["articles"]) == len(before["articles"]) + 1
    known = before["articles"]["article_id"]
    added = after["articles"][~after["articles"]["article_id"].isin(known)]
    assert list(added["doc_id"]) == [NEW_ARTICLE["id"]]
    for name in ("figures", "incidents"):
        old_rows = after[name][after[name]["article_id"].isin(known)]
        pd.testing.assert_frame_equal(
            old_rows.reset_index(drop=True), before[name].reset_index(drop=True), obj=name
        )


def test_quality_checks_flag_a_bad_table(tmp_path):
    """GX suites from the field list really check values (not only that they ran)."""
    from casualties.quality import checks as quality

    df = TABLES["figures"].empty()
    row = {c: None for c in df.columns}
    row.update(
        figure_id="x:0-2", article_id="x", start=0, end=2, surface="12", sentence="12 dead",
        category="killed", low=15, best=12, high=None, qualifier="exact", hedged=False,
        claim_by_party=False, is_aggregate=False, is_cumulative=False, is_subset=False, rule="t",
        run_id="r",
    )  # fmt: skip
    from casualties.fields import conform

    bad = conform(pd.DataFrame([row]), TABLES["figures"])
    summary = quality.check_frames({"figures": bad}, tmp_path)
    assert summary["tables"]["figures"]["failed_expectations"] == [
        "expect_column_pair_values_a_to_be_greater_than_b(best, low)"
    ]
    assert (tmp_path / "quality" / "index.html").is_file()
    # The maintainer's page says how many rows failed and shows their values (best 12 < low 15).
    (page,) = (tmp_path / "quality" / "validations").rglob("*.html")
    words = " ".join(re.sub(r"<[^>]+>", " ", page.read_text()).split())
    assert "1 unexpected values found" in words
    assert re.search(r"Unexpected Values? .*\b12 15\b", words)


def test_quality_checks_large_tables_in_chunks_and_ids_across_them(runs, tmp_path, monkeypatch):
    """A table bigger than a chunk is validated chunk by chunk; an id repeated in two chunks
    still fails the uniqueness expectation."""
    from casualties.quality import checks as quality
    from casualties.storage import store

    out = tmp_path / "out"  # tables written directly (no manifest): every file is read
    figures = store.read_table(runs["out"], TABLES["figures"])
    doubled = pd.concat([figures, figures.head(1)], ignore_index=True)  # one id twice
    store.write_table(doubled, out, TABLES["figures"], {})
    articles = store.read_table(runs["out"], TABLES["articles"])
    store.write_table(articles, out, TABLES["articles"], {})
    monkeypatch.setattr(quality, "CHUNK_BYTES", 1)  # the smallest chunk: 1,000 rows
    monkeypatch.setattr(quality, "_MIN_CHUNK_ROWS", 10)
    summary = quality.run_quality(out, tmp_path / "r2", tables=["figures", "articles"])
    fig = summary["tables"]["figures"]
    assert fig["chunks"] == -(-len(doubled) // 10) and fig["rows"] == len(doubled)
    assert fig["failed_expectations"] == [
        "expect_column_values_to_be_unique(figure_id) across the store"
    ]
    assert summary["tables"]["articles"]["failed"] == 0


def test_quality_checks_let_go_of_each_chunk(runs, tmp_path):
    """Great Expectations caches the last batch it validated for as long as its context lives
    (the whole process): the chunks checked are freed once checked, not kept into the report
    stage."""
    import gc
    import weakref

    from casualties.quality import checks as quality
    from casualties.storage import store

    chunks = [store.read_table(runs["out"], TABLES["figures"]) for _ in range(2)]
    alive = [weakref.ref(c) for c in chunks]

    summary = quality.check_frames({"figures": iter(chunks)}, tmp_path / "r3")
    del chunks
    gc.collect()
    assert summary["tables"]["figures"]["chunks"] == 2
    assert [ref() is None for ref in alive] == [True, True]


def test_the_report_checks_the_partitions_of_its_run_and_records_it(runs):
    """GX validates what the run wrote (the third run: the partition of the file it added, and
    the tables rewritten whole); the report records the run it belongs to."""
    from casualties.quality.checks import report_run

    third = runs["summaries"][2]["quality"]
    for name in ("articles", "figures", "incidents"):
        assert third["tables"][name]["partitions"] == 1
    assert third["tables"]["articles"]["rows"] == 1
    assert third["run_id"] == runs["summaries"][2]["run_id"]
    assert report_run(runs["report"]) == runs["summaries"][2]["run_id"]


def test_a_run_keeps_the_stored_events_it_does_not_merge_again(runs):
    """The third run rewrote the events partition of the article it added (Afghanistan): the
    stored event there that none of its incidents touch stays as it was, with the id of the
    run that made it, and Great Expectations checked only the events the third run made."""
    second, third = runs["tables"][1]["events"], runs["tables"][2]["events"]
    made_by = {i: runs["summaries"][i]["run_id"] for i in (1, 2)}
    made = third[third["run_id"] == made_by[2]]
    kept = third[third["run_id"] == made_by[1]]
    assert len(made) and len(kept) == len(third) - len(made)
    # the added article's partition was rewritten, and holds a kept event
    manifest = store.load_manifest(runs["out"])
    rewritten = [f for f, m in manifest["tables"]["events"].items() if m["run_id"] == made_by[2]]
    assert rewritten == [store.part_file("country:Afghanistan")]
    in_rewritten = pd.read_parquet(runs["out"] / "events" / rewritten[0])
    assert set(in_rewritten["run_id"]) == set(made_by.values())
    # kept events are the second run's rows, run id and all
    before = second[second["event_id"].isin(kept["event_id"])]
    pd.testing.assert_frame_equal(
        kept.sort_values("event_id").reset_index(drop=True),
        before.sort_values("event_id").reset_index(drop=True),
    )
    checked = runs["summaries"][2]["quality"]["tables"]["events"]
    assert checked["partitions"] == 1 and checked["rows"] == len(made)


def _copy(runs, tmp_path) -> tuple[Path, Path, Path]:
    raw, out, report = tmp_path / "raw", tmp_path / "processed", tmp_path / "reports"
    for src, dst in ((runs["raw"], raw), (runs["out"], out), (runs["report"], report)):
        shutil.copytree(src, dst)
    return raw, out, report


def test_a_stale_report_is_rebuilt_for_the_stored_tables(runs, tmp_path):
    """A crash after the commit and before the report leaves the previous run's report: the
    next run sees it is not the stored tables' run and checks them again."""
    from casualties.quality.checks import RUN_FILE, SITE, report_run
    from flows.pipeline import pipeline

    raw, out, report = _copy(runs, tmp_path)
    (report / SITE / RUN_FILE).write_text('{"run_id": "an-earlier-run"}')
    summary = pipeline(raw_dir=raw, out_dir=out, report_dir=report)
    manifest = store.load_manifest(out)
    assert summary["files_processed"] == 0 and summary["quality"] is not None
    assert summary["quality"]["failed"] == 0
    assert report_run(report) == manifest["run_id"] == runs["summaries"][2]["run_id"]


def test_a_damaged_stored_partition_makes_the_next_run_rebuild(runs, tmp_path):
    """A flipped byte in a stored partition (same size) is caught before any run reads it: the
    next run rebuilds every table from raw/ (never exit 0 with an unreadable table)."""
    from flows.pipeline import pipeline

    raw, out, report = _copy(runs, tmp_path)
    path = sorted((out / "articles").glob("*.parquet"))[0]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    summary = pipeline(raw_dir=raw, out_dir=out, report_dir=report)
    assert summary["full_refresh"] and "is damaged" in summary["plan"]
    for name in TABLE_NAMES:
        rebuilt = store.read_table(out, TABLES[name]).drop(columns="run_id")
        expected = runs["tables"][2][name].drop(columns="run_id")
        pd.testing.assert_frame_equal(
            rebuilt.reset_index(drop=True), expected.reset_index(drop=True), obj=name
        )


def test_whole_store_checks_see_the_partitions_not_validated(tmp_path):
    """The run validates only its own partition; an id it repeats from an older partition, and
    a figure whose article is not stored, still fail (read from the id columns)."""
    from casualties.fields import conform
    from casualties.quality import checks as quality
    from tests.factories import figure_row

    text = "At least 14 people were killed."
    out = tmp_path / "out"
    for run_id, part in (("r1", "a.jsonl"), ("r2", "b.jsonl")):
        row = figure_row(text, "art-1", "At least 14", run_id=run_id)
        figures = conform(pd.DataFrame([row]), TABLES["figures"])
        stage = store.staging_dir(out, run_id)
        store.write_table(figures, stage, TABLES["figures"], {"run_id": run_id}, part)
        store.commit(out, {**store.committed_manifest(out), "run_id": run_id, "files": {}})
    summary = quality.run_quality(out, tmp_path / "report", tables=["figures"], run_id="r2")
    figures = summary["tables"]["figures"]
    assert figures["partitions"] == 1 and figures["rows"] == 1
    assert figures["failed_expectations"] == [
        "expect_column_values_to_be_unique(figure_id) across the store",
    ]
    assert quality.report_run(tmp_path / "report") == "r2"


def test_whole_store_checks_use_the_id_index_of_unchanged_partitions(tmp_path):
    """The id hashes of each partition are kept by content: a later run reads them instead of
    the partition and still finds an id repeated from it; replaced partitions lose theirs."""
    from casualties.fields import conform
    from casualties.quality import checks as quality
    from tests.factories import figure_row

    text = "At least 14 people were killed."
    out, report = tmp_path / "out", tmp_path / "report"

    def commit(run_id: str, part: str, article: str, drop=()) -> None:
        row = figure_row(text, article, "At least 14", run_id=run_id)
        figures = conform(pd.DataFrame([row]), TABLES["figures"])
        stage = store.staging_dir(out, run_id)
        store.write_table(figures, stage, TABLES["figures"], {"run_id": run_id}, part)
        manifest = {**store.committed_manifest(out), "run_id": run_id, "files": {}}
        store.commit(out, manifest, {"figures": set(drop)} if drop else None)

    commit("r1", "a.jsonl", "art-1")
    commit("r2", "b.jsonl", "art-2")
    summary = quality.run_quality(out, report, tables=["figures"], run_id="r2")
    assert summary["tables"]["figures"]["failed_expectations"] == []
    index = sorted(p.name for p in (out / quality.ID_INDEX).iterdir())
    assert len(index) == 2  # figure_id of both partitions
    commit("r3", "c.jsonl", "art-1")  # the figure id of a.jsonl's row again
    summary = quality.run_quality(out, report, tables=["figures"], run_id="r3")
    assert summary["tables"]["figures"]["failed_expectations"] == [
        "expect_column_values_to_be_unique(figure_id) across the store",
    ]
    assert set(index) < {p.name for p in (out / quality.ID_INDEX).iterdir()}
    a_file = next(p.name for p in store.table_files(out, TABLES["figures"]) if "a.jsonl" in p.name)
    commit("r4", "d.jsonl", "art-4", drop=[a_file])
    summary = quality.run_quality(out, report, tables=["figures"], run_id="r4")
    assert summary["tables"]["figures"]["failed_expectations"] == []
    assert len(list((out / quality.ID_INDEX).iterdir())) == 3  # a.jsonl's index is gone


def test_the_id_index_names_the_partitions_that_hold_an_article(runs):
    """The report reads a few articles of a large store from the partitions the id index
    says hold them, not every partition: the added article's rows are in its file alone."""
    from casualties.quality.id_index import files_holding
    from casualties.quality.report_data import rows_of_articles

    out = runs["out"]
    articles = runs["tables"][2]["articles"]
    added = articles.loc[articles["doc_id"] == NEW_ARTICLE["id"], "article_id"].iloc[0]
    part = store.part_file(store.partition_of("extra.jsonl"))
    for name in ("articles", "figures", "incidents"):
        assert [p.name for p in files_holding(out, name, "article_id", [added])] == [part]
    assert files_holding(out, "figures", "article_id", ["no-such-article"]) == []
    figures = rows_of_articles(out, "figures", [added])
    expected = runs["tables"][2]["figures"]
    expected = expected[expected["article_id"] == added].reset_index(drop=True)
    pd.testing.assert_frame_equal(figures.reset_index(drop=True), expected)
    # every article of the store, from the files that hold them: all of its rows
    assert len(rows_of_articles(out, "figures", articles["article_id"])) == len(
        runs["tables"][2]["figures"]
    )


def test_store_checks_find_an_event_whose_incident_is_not_stored(tmp_path):
    """Events list their incidents by id: an event whose incident is gone from the incidents
    table (a partition lost, a merge that went wrong) fails the whole-store check, read from
    the id columns; with every incident stored it passes."""
    from casualties.events.reconcile import merge_events
    from casualties.extract.article import extract_frame
    from casualties.quality import checks as quality

    articles = pd.DataFrame(
        {
            "article_id": ["a1", "a2"],
            "text": [
                "KABUL - A car bomb killed 5 people at a market in Kabul on Tuesday.",
                "LAGOS - Gunmen killed 12 villagers in Lagos on Monday, police said.",
            ],
            "published": pd.to_datetime(["2024-03-07", "2024-05-07"], utc=True),
        }
    )
    _, incidents = extract_frame(articles)
    events = merge_events(incidents, articles[["article_id", "published"]])
    assert len(incidents) == 2 and len(events) == 2
    out = tmp_path / "out"
    stage = store.staging_dir(out, "r1")
    tables = {"incidents": incidents, "events": events}
    for name, df in tables.items():
        table = TABLES[name]
        store.write_table(df.assign(run_id="r1"), stage, table, {"run_id": "r1"}, "a.jsonl")
    store.commit(out, {**store.committed_manifest(out), "run_id": "r1", "files": {}})
    label = "expect_column_values_to_be_in_set(incident_ids) of events: incidents"
    every = {n: store.table_files(out, TABLES[n]) for n in tables}
    assert quality.store_checks({"events": every["events"]}, every) == {"events": []}

    stage = store.staging_dir(out, "r2")  # the second incident's partition replaced: one left
    store.write_table(
        incidents.iloc[:1].assign(run_id="r2"), stage, TABLES["incidents"], {}, "a.jsonl"
    )
    store.commit(out, {**store.committed_manifest(out), "run_id": "r2", "files": {}})
    every = {n: store.table_files(out, TABLES[n]) for n in tables}
    assert quality.store_checks({"events": every["events"]}, every) == {"events": [label]}


BACKGROUND_ARTICLES = [
    {
        "id": "kabul-market-tuesday",
        "published": "2024-03-07T10:00:00Z",
        "text": "KABUL (Wire) - A car bomb killed 5 people at a market in Kabul on Tuesday, police "
        "said.\n\nIn March 2023, another bombing at the same market killed 51 people.",
    },
    {
        "id": "kabul-market-tuesday-2",
        "published": "2024-03-07T12:00:00Z",
        "text": "Five people died when a car bomb exploded at a market in Kabul on Tuesday, "
        "officials said.",
    },
    {
        "id": "kabul-market-2023",
        "published": "2023-03-07T09:00:00Z",
        "text": "A bombing at a market in Kabul killed 51 people on Monday, officials said.",
    },
]


def test_background_incidents_are_stored_flagged_and_make_no_event(harness, tmp_path):
    """The first article recalls the 2023 bombing, which the third reports as news. Extraction
    marks the recalled bombing as background; the flow stores the flag, and the recalled
    bombing does not join the 2023 report's event (without the flag they merge: the past
    counted again)."""
    from flows.pipeline import pipeline

    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    lines = [json.dumps(a) for a in BACKGROUND_ARTICLES]
    (raw / "kabul.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = pipeline(raw_dir=raw, out_dir=out, report_dir=tmp_path / "reports")
    assert summary["quality"]["failed"] == 0

    incidents = pd.read_parquet(out / "incidents")
    assert str(incidents["is_background"].dtype) == "boolean"
    doc = pd.read_parquet(out / "articles").set_index("article_id")["doc_id"]
    incidents["doc"] = incidents["article_id"].map(doc)
    flagged = incidents[incidents["is_background"]]
    assert flagged[["doc", "killed_best"]].values.tolist() == [["kabul-market-tuesday", 51]]
    background_id = flagged["incident_id"].iloc[0]

    events = pd.read_parquet(out / "events")
    members = [i for ids in events["incident_ids"] for i in ids]
    assert background_id not in members
    assert sorted(members) == sorted(incidents.loc[~incidents["is_background"], "incident_id"])
    by_doc = incidents.set_index("incident_id")["doc"]
    assert sorted(
        (sorted(by_doc[i] for i in ids), int(k))
        for ids, k in zip(events["incident_ids"], events["killed_best"], strict=True)
    ) == [
        (["kabul-market-2023"], 51),
        (["kabul-market-tuesday", "kabul-market-tuesday-2"], 5),
    ]
