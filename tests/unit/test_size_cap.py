"""The article size cap: an outsized text is a quarantine row, not an extraction."""

from __future__ import annotations

import json

from casualties.storage import ingest as io
from tests.unit.test_io import read_all


def test_articles_above_the_cap_are_quarantined_with_their_own_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "MAX_ARTICLE_CHARS", 100)  # the cap is 1,000,000; same code path
    raw = tmp_path / "raw"
    raw.mkdir()
    big = "Over 10 people were killed. " * 4  # 112 characters
    lines = [
        json.dumps({"id": "a", "text": "3 killed."}),
        json.dumps({"id": "big", "text": big}),
        json.dumps({"id": "at-cap", "text": "x" * 100}),  # exactly at the cap: kept
    ]
    (raw / "f.jsonl").write_text("\n".join(lines) + "\n")
    (raw / "big.txt").write_text(big)
    (raw / "ok.txt").write_text("Two were hurt.")
    _, _, kept, q = read_all(raw)
    assert sorted(kept["doc_id"]) == ["a", "at-cap", "ok.txt"]
    rows = q[q["reason"] == "article_too_large"].sort_values("source_file")
    assert rows["source_file"].tolist() == ["big.txt", "f.jsonl"]
    assert rows["doc_id"].tolist() == ["big.txt", "big"]
    assert rows["line"].isna().tolist() == [True, False] and rows["line"].iloc[1] == 2
    assert rows["excerpt"].str.startswith(("Over 10 people", '{"id": "big"')).all()
    assert set(rows["stage"]) == {"read"}
    assert rows["detail"].tolist() == ["text has 112 characters (cap 100); not extracted"] * 2
    assert "article_too_large" in io.REASONS
