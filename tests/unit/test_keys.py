"""The merge's article keys as numbers (`casualties.storage.keys`): read from article files,
and resolved by the same rule as `ingest.resolve_duplicates` on frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from casualties.storage import ingest
from casualties.storage.keys import NO_LINE, KeyReader, doc_hashes, exact_docs, resolve


def _key_file(path, rows, row_group_size=3):
    """An article file with the key columns only: rows of (doc_id, text, source_file, line)."""
    table = pa.table(
        {
            "article_id": [ingest.article_id(t) for _, t, _, _ in rows],
            "doc_id": [d for d, _, _, _ in rows],
            "source_file": [f for _, _, f, _ in rows],
            "line": pa.array([ln for _, _, _, ln in rows], pa.int64()),
        }
    )
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "article_id": [ingest.article_id(t) for _, t, _, _ in rows],
            "doc_id": [d for d, _, _, _ in rows],
            "source_file": [f for _, _, f, _ in rows],
            "line": pd.array([ln for _, _, _, ln in rows], dtype="Int64"),
            "text": [t for _, t, _, _ in rows],
        }
    )


def test_key_reader_gives_each_row_as_numbers_in_file_name_order(tmp_path):
    """Every row of every file added, in order, with its position in its file; file codes
    follow the names' order whatever order the files came in; a null line is NO_LINE; rows of
    files not kept are left out and counted."""
    first = [("d1", "1 killed.", "z.jsonl", 1), ("d2", "2 killed.", "b.txt", None)]
    first += [("d3", "3 killed.", "z.jsonl", 2), ("d4", "4 killed.", "m.jsonl", 7)]
    second = [("d5", "5 killed.", "a.jsonl", 1), ("d1", "1 killed.", "z.jsonl", 9)]
    reader = KeyReader()
    assert (
        reader.add(_key_file(tmp_path / "1.parquet", first), side=3, keep={"z.jsonl", "b.txt"}) == 1
    )
    assert reader.add(_key_file(tmp_path / "2.parquet", second), side=0) == 0
    keys = reader.keys()
    kept = [first[0], first[1], first[2], *second]
    assert keys.files == ["a.jsonl", "b.txt", "z.jsonl"]  # m.jsonl's only row was left out
    assert keys.source_file(np.arange(len(keys))) == [f for _, _, f, _ in kept]
    assert keys.line.tolist() == [1, NO_LINE, 2, 1, 9]
    ids = pd.Series([ingest.article_id(t) for _, t, _, _ in kept])
    assert keys.article.tolist() == ingest.article_codes(ids).tolist()
    assert keys.doc.tolist() == doc_hashes(pa.array([d for d, _, _, _ in kept])).tolist()
    assert keys.doc[0] == keys.doc[4] != keys.doc[1]
    assert keys.side.tolist() == [3, 3, 3, 0, 0]
    assert keys.pos.tolist() == [0, 1, 2, 0, 1]
    assert keys.in_files({"z.jsonl", "nowhere"}).tolist() == [True, False, True, False, True]
    empty = KeyReader().keys()
    assert len(empty) == 0 and empty.article.dtype == np.uint64


def _rows(rng, n):
    """Random rows where doc_ids and texts repeat: duplicates, conflicts, .txt rows."""
    rows = []
    for i in range(n):
        f = f"{rng.integers(4)}.{'txt' if i % 7 == 0 else 'jsonl'}"
        line = None if f.endswith(".txt") else int(rng.integers(1, 1000))
        rows.append((f"id{rng.integers(n // 2)}", f"{rng.integers(n // 2)} killed.", f, line))
    # one row per (file, line), as reading gives; a .txt file is one row
    seen, out = set(), []
    for r in rows:
        if (r[2], r[3]) not in seen:
            seen.add((r[2], r[3]))
            out.append(r)
    return out


def _places(keys, rows) -> list:
    """(source_file, line) of the key entries `rows`."""
    lines = [None if ln == NO_LINE else int(ln) for ln in keys.line[rows]]
    return list(zip(keys.source_file(rows), lines, strict=True))


def _frame_places(df: pd.DataFrame) -> list:
    lines = [None if pd.isna(x) else int(x) for x in df["line"]]
    return list(zip(df["source_file"], lines, strict=True))


def test_resolve_on_numbers_decides_as_the_rule_on_frames(tmp_path):
    """`resolve` keeps, drops and quarantines the rows `ingest.resolve_duplicates` does, in the
    same order, on random rows spread over files added in a shuffled order."""
    rng = np.random.default_rng(7)
    for trial in range(20):
        rows = _rows(rng, 60)
        order = rng.permutation(len(rows))
        shuffled = [rows[i] for i in order]
        reader = KeyReader()
        cut = len(rows) // 2
        reader.add(_key_file(tmp_path / f"{trial}a.parquet", shuffled[:cut]), side=1)
        reader.add(_key_file(tmp_path / f"{trial}b.parquet", shuffled[cut:]), side=0)
        keys = reader.keys()
        found = resolve(keys)
        kept, quarantine = ingest.resolve_duplicates(_frame(shuffled))

        assert _places(keys, found.winners) == _frame_places(kept)
        assert _places(keys, found.conflicts) == _frame_places(quarantine)
        # each conflict lost to an earlier row with its doc_id
        for c, first in zip(found.conflicts, found.first_of_conflict, strict=True):
            assert keys.doc[c] == keys.doc[first] and keys.article[c] != keys.article[first]


def test_exact_docs_undo_a_hash_collision(tmp_path):
    """Two doc_ids with one hash look like one id given to two texts; on exact codes from the
    strings they are two ids again, and only the real conflict is left."""
    rows = [("a", "1 killed.", "f.jsonl", 1), ("b", "2 killed.", "f.jsonl", 2)]
    rows += [("a", "3 killed.", "f.jsonl", 3)]
    reader = KeyReader()
    reader.add(_key_file(tmp_path / "k.parquet", rows), side=0)
    keys = reader.keys()
    keys.doc[:] = 5  # every id on one hash
    assert resolve(keys).conflicts.tolist() == [1, 2]
    exact = exact_docs(keys, lambda k: [rows[p][0] for p in k.pos])
    found = resolve(exact)
    assert found.winners.tolist() == [0, 1] and found.conflicts.tolist() == [2]
    assert found.first_of_conflict.tolist() == [0]


def test_key_reader_names_a_damaged_file_or_one_with_foreign_ids(tmp_path):
    """A stored article file that cannot be read, or whose article ids this pipeline never
    writes, is StoreCorrupt naming the file (the run then says to rebuild), not a bare
    Arrow or value error."""
    import pytest

    from casualties.files import StoreCorrupt

    good = _key_file(tmp_path / "good.parquet", [("d1", "1 killed.", "a.jsonl", 1)])
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(good.read_bytes()[:-20])  # footer cut off
    foreign = tmp_path / "foreign.parquet"
    table = pq.read_table(good)
    pq.write_table(table.set_column(0, "article_id", pa.array(["not-an-id"])), foreign)
    for path in (damaged, foreign):
        with pytest.raises(StoreCorrupt, match=str(path)):
            KeyReader().add(path, side=0)
    assert KeyReader().add(good, side=0) == 0
