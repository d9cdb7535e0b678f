"""The benchmark's corpus and measurements are correct (structure and counts, never timings)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from casualties.runtime import clock
from casualties.tools import bench

# Our own wire-style sentences (no published text in the repo).
TEXTS = [
    "Two people were killed and five injured when a bus hit a roadside bomb near the market.",
    "Police said at least 12 protesters were arrested on Monday. Three officers were hurt.",
    "An air strike killed 7 fighters, a spokesman said. Residents reported dozens displaced.",
    "Gunmen abducted four aid workers on the highway. Their families have not been contacted.",
    "Shelling wounded 30 civilians, including 9 children, the health ministry said on Tuesday.",
    "Rescuers found the bodies of 3 fishermen. Two more remain missing after the storm hit.",
]


def _shape(text: str) -> str:
    return re.sub(r"\d[\d,]*", "#", text)


def _records(corpus: bench.Corpus) -> list[dict]:
    return [json.loads(line) for p in corpus.files for line in p.read_text().splitlines()]


def test_corpus_is_reproducible_distinct_and_sized(tmp_path):
    a = bench.build_corpus(tmp_path / "a", 0.05, seed=3, file_mb=0.01, texts=TEXTS)
    b = bench.build_corpus(tmp_path / "b", 0.05, seed=3, file_mb=0.01, texts=TEXTS)
    c = bench.build_corpus(tmp_path / "c", 0.05, seed=4, file_mb=0.01, texts=TEXTS)

    assert [p.read_bytes() for p in a.files] == [p.read_bytes() for p in b.files]
    assert [p.read_bytes() for p in a.files] != [p.read_bytes() for p in c.files]

    recs = _records(a)
    assert len(recs) == a.articles
    assert len(a.files) >= 2  # several files, so per-file streaming is exercised
    texts = [r["text"] for r in recs]
    assert len(set(texts)) == len(texts)  # content-hash dedup will not collapse it
    assert len({r["id"] for r in recs}) == len(recs)
    assert a.text_bytes == sum(len(t.encode()) for t in texts)
    assert 0.05 * bench.MB <= a.text_bytes < 0.05 * bench.MB + 2000  # overshoot < one article
    for r in recs:
        assert set(r) == {"id", "title", "text", "published", "source", "url"}
        assert pd.Timestamp(r["published"]).tzinfo is not None
        # every sentence comes from the source texts, numbers aside
        sentences = [s for para in r["text"].split("\n\n") for s in bench._SENTENCE_END.split(para)]
        assert all(any(_shape(s) in _shape(t) for t in TEXTS) for s in sentences)


def test_numbers_vary_but_keep_their_kind():
    import random

    text = "On 19 March 2020, 30 militants and 2 soldiers were killed; 1,200 fled. Ages 0 to 1."
    varied = {bench._vary_numbers(random.Random(seed), text) for seed in range(20)}
    assert len(varied) > 5
    for v in varied:
        day, year = re.match(r"On (\d+) March (\d{4}),", v).groups()
        assert 1 <= int(day) <= 28 and 2014 <= int(year) <= 2023
        fled = re.search(r"([\d,]+) fled", v).group(1)
        n = int(fled.replace(",", ""))
        assert 840 <= n <= 1680 and ("," in fled) == (n >= 1000)
        assert v.endswith("Ages 0 to 1.")  # 0 and 1 stay (a count of one is still one)


def test_corpus_from_dev_texts(tmp_path):
    try:
        texts = bench.source_texts()
    except FileNotFoundError:
        pytest.skip("no dev data (../shared) and no raw/ sample")
    corpus = bench.build_corpus(tmp_path, 0.2, seed=0, texts=texts)
    assert corpus.mb >= 0.2 and corpus.articles > 10


@pytest.mark.slow
def test_extraction_in_pool_equals_in_process(tmp_path):
    # Worker processes get other hash seeds: this also catches set-order dependent output.
    corpus = bench.build_corpus(tmp_path, 0.02, seed=1, file_mb=0.01, texts=TEXTS)
    one, f1, i1 = bench.measure_extraction(corpus.path, workers=1, batch_size=20)
    two, f2, i2 = bench.measure_extraction(corpus.path, workers=2, batch_size=20)

    for r in (one, two):
        assert r.articles == corpus.articles
        assert r.text_bytes == corpus.text_bytes
        assert r.seconds > 0
    assert (one.figures, one.incidents) == (len(f1), len(i1))
    pd.testing.assert_frame_equal(f1, f2)
    pd.testing.assert_frame_equal(i1, i2)
    # the article ids are the content hash the pipeline uses
    ids = {hashlib.sha256(r["text"].encode()).hexdigest()[:16] for r in _records(corpus)}
    assert set(f1["article_id"]) <= ids


def test_stage_clock_round_trip(tmp_path):
    timer = clock.StageClock()
    with timer.stage("extract"):
        pass
    with timer.stage("extract"):
        pass
    timer.add("write", 1.5)
    timer.write(tmp_path, articles=3)
    stats = clock.read_run_stats(tmp_path)
    assert set(stats["stages"]) == {"extract", "write"}
    assert stats["stages"]["write"] == 1.5
    assert stats["articles"] == 3
    assert stats["flow_seconds"] >= 0
    assert clock.read_run_stats(tmp_path / "nothing") == {}


def test_stage_clock_records_cpu_of_stages_and_before_the_flow(tmp_path):
    from casualties.tools.incremental_bench import cpu_split

    timer = clock.StageClock()
    with timer.stage("quality"):
        sum(i * i for i in range(2_000_000))  # CPU work the clock must see
    with timer.stage("batches", wall=False):
        pass
    timer.write(tmp_path)
    stats = clock.read_run_stats(tmp_path)
    assert set(stats["stages"]) == {"quality"}  # `batches` adds no wall time
    assert set(stats["stage_cpu"]) == {"quality", "batches"}
    assert stats["stage_cpu"]["quality"] > 0.01
    assert stats["flow_cpu"] >= stats["stage_cpu"]["quality"]
    assert stats["startup_cpu"] > 0  # this process imported pandas before the clock
    row = {"step": "+1 article", "cpu_s": 10.0}
    run = {"startup_cpu": 3.0, "flow_cpu": 4.0, "stage_cpu": {"quality": 2.5, "report": 1.0}}
    assert cpu_split(row, run) == {
        "step": "+1 article",
        "cpu_s": 10.0,
        "startup": 3.0,
        "quality": 2.5,
        "report": 1.0,
        "flow other": 0.5,
        "other": 3.0,
    }


def test_table_lists_every_column():
    rows = [{"MB": 10, "e2e_s": 4.0}, {"MB": 30, "e2e_s": None, "x1_MB/s": 5.5}]
    lines = bench.format_table(rows).splitlines()
    assert lines[0].split() == ["MB", "e2e_s", "x1_MB/s"]
    assert lines[2].split() == ["30", "-", "5.5"]
    assert len({len(line) for line in lines}) == 1  # aligned


def test_bench_point_row_from_measurements(tmp_path):
    corpus = bench.Corpus(
        Path(tmp_path), [], articles=100, text_bytes=10 * bench.MB, file_bytes=0, seed=0
    )
    run = bench.RunResult(
        seconds=5.0,
        peak_rss_mb=300.0,
        max_child_rss_mb=200.0,
        returncode=0,
        stats={"stages": {"extract": 2.0, "write": 0.5}, "flow_seconds": 4.0},
    )
    row = bench.BenchPoint(corpus, run=run).row()
    assert row["e2e_MB/s"] == 2.0
    assert row["art/s"] == 20
    assert row["extract"] == 2.0 and row["parse"] is None
    assert row["startup"] == 1.0


def test_traced_run_records_each_process_and_names_the_peak(tmp_path):
    """`measure_run(trace=True)` samples each process of the run's tree by role; the trace's
    largest sum is the peak the run reports, and the summary starts from it."""
    corpus = bench.build_corpus(tmp_path / "raw", 0.01, texts=TEXTS)
    run = bench.measure_run(corpus.path, tmp_path / "run", trace=True)
    assert run.returncode == 0, run.stderr_tail

    samples = [json.loads(line) for line in (tmp_path / "run" / "memory_trace.jsonl").open()]
    roles = {key.split(":")[0] for s in samples for key in s["rss"]}
    assert {"flow", "server"} <= roles
    top = max(sum(s["rss"].values()) for s in samples)
    assert top / 2**20 == pytest.approx(run.peak_rss_mb)

    summary = bench.memory_trace_summary(tmp_path / "run")
    assert summary.startswith(f"tree peak {top / 2**20:.0f} MiB")
    assert "flow:" in summary.splitlines()[0]
