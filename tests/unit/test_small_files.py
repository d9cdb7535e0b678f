"""Many small files are read and extracted in batches of many files, not one task per file."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from casualties.runtime.batches import ReadLog, iter_batches
from casualties.storage import ingest, store
from casualties.storage.merge import run_parts


def _raw(tmp_path, n_txt: int):
    raw = tmp_path / "raw"
    (raw / "a").mkdir(parents=True)
    for i in range(n_txt):
        (raw / "a" / f"{i:03d}.txt").write_text(f"Report {i}\n\n{i + 2} people were killed.\n")
    (raw / "a" / "empty.txt").write_text("  \n")  # a quarantine row among them
    recs = [{"id": f"j{i}", "text": f"{i + 1} soldiers were wounded."} for i in range(30)]
    (raw / "b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    (raw / "c").mkdir()
    (raw / "c" / "last.txt").write_text("Three people died.\n")
    return raw


def test_small_files_share_batches(tmp_path):
    raw = _raw(tmp_path, 45)
    inputs, _ = ingest.discover_inputs(raw)
    plan = store.plan_inputs(inputs, store.empty_manifest())
    log = ReadLog(tmp_path / "read.parquet")
    with run_parts(tmp_path / "parts", {}) as parts:
        batches = list(iter_batches(plan, 20, log, parts, "r"))
    sizes = [len(b.articles) for b in batches]
    assert sum(sizes) == 45 + 30 + 1 and max(sizes) <= 20
    assert len(batches) <= 6  # not 48: one per file
    assert batches[0].files == [f"a/{i:03d}.txt" for i in range(20)]
    assert batches[0].source_file == "a/000.txt (+19 files)"
    every = [f for b in batches for f in b.files]
    assert set(every) == {i.rel for i in inputs}
    q = pd.concat([b.quarantine for b in batches])
    assert q[["source_file", "reason"]].values.tolist() == [["a/empty.txt", "empty_file"]]
    log.close()
    keys = pq.read_table(log.path).to_pandas()
    assert len(keys) == 45 + 30 + 1 and keys["article_id"].is_unique


def test_reading_txt_files_together_equals_one_by_one(tmp_path):
    raw = _raw(tmp_path, 5)
    inputs = [i for i in ingest.discover_inputs(raw)[0] if i.kind == "txt"]
    together = ingest.read_txt_files(inputs)
    one_by_one = [next(ingest.iter_articles(i)) for i in inputs]
    for k in (0, 1):
        want = pd.concat([f[k] for f in one_by_one if len(f[k])], ignore_index=True)
        pd.testing.assert_frame_equal(together[k], want)


def test_a_text_read_again_is_a_repeat_not_extracted_again(tmp_path):
    """Texts repeated within a file, across files and across batches go to the repeats part;
    every text reaches a batch once, at its first reading."""
    raw = tmp_path / "raw"
    raw.mkdir()
    texts = [f"{i + 2} people were killed in raid {i}." for i in range(12)]
    first = [texts[i % 12] for i in range(15)]  # texts 0-2 twice in the first file
    second = [texts[i] for i in (11, 3, 3, 7)] + ["A new text: 9 people died."]
    for name, rows in (("a.jsonl", first), ("b.jsonl", second)):
        recs = [{"id": f"{name}-{k}", "text": t} for k, t in enumerate(rows)]
        (raw / name).write_text("".join(json.dumps(r) + "\n" for r in recs))
    inputs, _ = ingest.discover_inputs(raw)
    plan = store.plan_inputs(inputs, store.empty_manifest())
    with run_parts(tmp_path / "parts", {}) as parts:
        batches = list(iter_batches(plan, 5, ReadLog(tmp_path / "read.parquet"), parts, "r"))
    read = pd.concat([b.articles for b in batches], ignore_index=True)
    assert len(batches) >= 3 and read["article_id"].is_unique
    assert read["text"].tolist() == [*texts, "A new text: 9 people died."]
    assert parts.rows == {"new": 0, "repeats": 3 + 4}  # "new" rows come from staged batches
    repeats = pd.read_parquet(parts.path("repeats"))
    want = [f"a.jsonl-{k}" for k in (12, 13, 14)] + [f"b.jsonl-{k}" for k in range(4)]
    assert repeats["doc_id"].tolist() == want


def test_article_codes_are_the_ids_numbers():
    ids = pd.Series([ingest.article_id(t) for t in ("one", "two", "three")])
    assert ingest.article_codes(ids).tolist() == [int(i, 16) for i in ids]
    with pytest.raises(ValueError, match="16 hex"):
        ingest.article_codes(pd.Series(["abc"]))
