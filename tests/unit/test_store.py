"""The store with real Parquet files: dtypes, atomic writes, crash recovery, incremental merge."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from casualties import __version__
from casualties.fields import ARTICLES, EVENTS, FIGURES, INCIDENTS, QUARANTINE, TABLES, conform
from casualties.storage import ingest as io
from casualties.storage import store
from tests.factories import figure_row
from tests.mixed_raw import build_mixed_raw, quarantine_keys
from tests.storage_helpers import commit_run, merge_tables

META = {"run_id": "run-1", "pipeline_version": __version__}


def article_rows(specs, run_id="run-1"):
    """specs: (doc_id, text, source_file, line) -> ARTICLES rows."""
    return pd.DataFrame(
        [
            {
                "article_id": io.article_id(text),
                "doc_id": doc,
                "title": doc.upper(),
                "published": "2024-03-05T10:00:00Z",
                "text": text,
                "source_file": sf,
                "line": line,
                "n_figures": 1,
                "run_id": run_id,
            }
            for doc, text, sf, line in specs
        ]
    )


def figure_rows(articles, run_id="run-1"):
    """One figure per article ('N killed' at the start of its text)."""
    rows = []
    for aid, text in zip(articles["article_id"], articles["text"], strict=True):
        surface = text.split(" killed")[0] + " killed"
        rows.append(
            figure_row(
                text, aid, surface, 0, low=3, best=3, high=3, qualifier="exact", run_id=run_id
            )
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("name", list(TABLES))
def test_empty_tables_round_trip_with_their_dtypes(tmp_path, name):
    table = TABLES[name]
    path = store.write_table(table.empty(), tmp_path, table, META)
    back = pd.read_parquet(path)
    assert list(back.columns) == table.columns
    # zero rows: Parquet stores no dictionary, so categoricals come back without categories
    assert back.dtypes.astype(str).to_dict() == table.empty().dtypes.astype(str).to_dict()
    exact = store.read_table(tmp_path, table)
    assert exact.dtypes.to_dict() == table.empty().dtypes.to_dict()


def test_values_round_trip_with_plain_read_parquet(tmp_path):
    arts = article_rows([("a", "3 killed in a blast.", "a.txt", None)])
    figs = figure_rows(arts)
    figs.loc[0, "high"] = None
    store.write_table(arts, tmp_path, ARTICLES, META)
    path = store.write_table(figs, tmp_path, FIGURES, META)
    back = pd.read_parquet(path)  # no post-processing
    assert back.dtypes.to_dict() == FIGURES.empty().dtypes.to_dict()
    assert str(back["low"].dtype) == "Int64" and back["high"].isna().all()
    assert list(back["category"].cat.categories) == list(FIGURES.field("category").categories)
    assert back["qualifier"].tolist() == ["exact"]
    a = pd.read_parquet(tmp_path / "articles")  # the table's folder
    assert a.loc[0, "published"] == pd.Timestamp("2024-03-05T10:00:00Z")
    assert str(a["text"].dtype) == "string" and pd.isna(a.loc[0, "line"])
    meta = store.table_metadata(path)
    assert meta["run_id"] == "run-1" and meta["pipeline_version"] == __version__
    assert meta["table"] == "figures"
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_damaged_page_is_caught_when_read(tmp_path):
    """Pages carry checksums: a flipped byte inside a data page is an error on read (one-line
    StoreCorrupt naming the file and what to run), never silently different values."""
    arts = article_rows(
        [(f"d{i}", f"{i} killed in town {i}. " * 20, "f.jsonl", i) for i in range(50)]
    )
    path = store.write_table(arts, tmp_path, ARTICLES, META)
    meta = pq.ParquetFile(path).metadata.row_group(0).column(ARTICLES.columns.index("text"))
    data = bytearray(path.read_bytes())
    # inside the body of the text column's dictionary page (a page header is not checksummed)
    at = (
        meta.dictionary_page_offset + (meta.data_page_offset - meta.dictionary_page_offset) * 3 // 4
    )
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(store.StoreCorrupt) as err:
        store.read_table(tmp_path, ARTICLES)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and "--full-refresh" in message


def test_events_list_column_round_trips(tmp_path):
    ev = pd.DataFrame(
        {"event_id": ["e1"], "n_sources": [2], "disputed": [False], "incident_ids": [["a:i0"]]}
    )
    back = pd.read_parquet(store.write_table(ev, tmp_path, EVENTS, META))
    assert list(back.loc[0, "incident_ids"]) == ["a:i0"]


def test_streaming_writer_writes_row_groups(tmp_path):
    arts = article_rows([(f"d{i}", f"{i} killed.", "f.jsonl", i) for i in range(1, 31)])
    path = tmp_path / "articles.parquet"
    with store.TableWriter(path, ARTICLES, META) as w:
        for start in range(0, 30, 10):
            w.write(arts.iloc[start : start + 10])
        assert not path.exists()  # nothing visible under the final name before close
    assert pq.ParquetFile(path).num_row_groups == 3
    assert pd.read_parquet(path)["doc_id"].tolist() == arts["doc_id"].tolist()


# ------------------------------------------------------------------------------- atomicity


def test_failed_write_leaves_the_previous_table(tmp_path):
    arts = article_rows([("a", "3 killed.", "a.txt", None)])
    store.write_table(arts, tmp_path, ARTICLES, META)
    bad = article_rows([("b", "4 killed.", "b.txt", None)])
    bad["line"] = "not a number"  # conform cannot cast: the write fails part-way
    path = store.table_path(tmp_path, ARTICLES)
    with pytest.raises((ValueError, TypeError)), store.TableWriter(path, ARTICLES, META) as w:
        w.write(arts)
        w.write(bad)
    assert store.read_table(tmp_path, ARTICLES)["doc_id"].tolist() == ["a"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_crash_leftovers_are_not_read_and_are_cleaned(tmp_path):
    arts = article_rows([("a", "3 killed.", "a.txt", None)])
    commit_run(tmp_path, {"articles": arts}, {**store.empty_manifest(), **META})
    # a 'crash' left a half-written temp file and an uncommitted staging folder
    (tmp_path / ".articles.parquet.999.dead.tmp").write_bytes(b"PAR1 half a file")
    stage = store.staging_dir(tmp_path, "run-2")
    (stage / "articles.parquet").write_bytes(b"PAR1 half a file")
    assert store.read_table(tmp_path, ARTICLES)["doc_id"].tolist() == ["a"]
    manifest = store.load_manifest(tmp_path)  # only rolls committed runs forward
    assert manifest["run_id"] == "run-1" and "stale" not in manifest
    assert stage.exists()  # might belong to a live run: kept
    messages = store.recover(tmp_path)  # under run_lock: leftovers of dead runs go
    assert "discarded the unfinished run run-2" in messages
    assert not (tmp_path / store.STAGING_NAME).exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_kill_between_renames_is_rolled_forward(tmp_path, monkeypatch):
    old = article_rows([("a", "3 killed.", "a.jsonl", 1), ("b", "4 killed.", "b.jsonl", 1)])
    commit_run(
        tmp_path,
        {"articles": old, "figures": figure_rows(old)},
        {**store.empty_manifest(), **META},
    )
    assert sorted(p.name for p in (tmp_path / "articles").iterdir()) == [
        store.part_file("a.jsonl"),
        store.part_file("b.jsonl"),
    ]
    # run-2 rewrote b.jsonl's partitions and reached its commit point, then died after one
    # rename
    new = article_rows([("c", "5 killed.", "b.jsonl", 1)], run_id="run-2")
    stage = store.staging_dir(tmp_path, "run-2")
    meta2 = {**META, "run_id": "run-2"}
    store.write_partitioned(new, stage, ARTICLES, meta2)
    store.write_partitioned(figure_rows(new, "run-2"), stage, FIGURES, meta2, new)
    manifest = {**store.load_manifest(tmp_path), "run_id": "run-2"}
    b_part = store.part_file("b.jsonl")
    replace = os.replace

    def die_after_first_rename(src, dst):
        replace(src, dst)
        if str(dst).endswith(f"articles/{b_part}"):
            raise KeyboardInterrupt  # the process dies here, after the commit point

    monkeypatch.setattr(os, "replace", die_after_first_rename)
    with pytest.raises(KeyboardInterrupt):
        store.commit(tmp_path, manifest)
    monkeypatch.undo()
    assert (tmp_path / store.STAGING_NAME / "run-2" / store.MANIFEST_NAME).exists()
    # readers see one consistent run even before recovery
    assert store.read_table(tmp_path, ARTICLES)["doc_id"].tolist() == ["a", "c"]
    figs = store.read_table(tmp_path, FIGURES)
    assert (
        figs["article_id"].tolist() == store.read_table(tmp_path, ARTICLES)["article_id"].tolist()
    )
    manifest = store.load_manifest(tmp_path)  # rolls forward
    assert manifest["run_id"] == "run-2" and "stale" not in manifest
    for name in ("articles", "figures"):
        assert store.table_metadata(tmp_path / name / b_part)["run_id"] == "run-2"
        assert manifest["tables"][name][b_part]["run_id"] == "run-2"
        assert manifest["tables"][name][store.part_file("a.jsonl")]["run_id"] == "run-1"
    assert not (tmp_path / store.STAGING_NAME).exists()


def test_tables_not_matching_the_manifest_force_a_full_rebuild(tmp_path):
    arts = article_rows([("a", "3 killed.", "a.txt", None)])
    commit_run(tmp_path, {"articles": arts}, {**store.empty_manifest(), **META})
    part = store.part_file(store.partition_of("a.txt"))
    # a table written outside the protocol (another run_id) under the final name
    store.write_table(arts, tmp_path, ARTICLES, {**META, "run_id": "rogue"}, "./")
    manifest = store.load_manifest(tmp_path)
    assert manifest["files"] == {} and f"articles/{part}" in manifest["stale"]
    assert store.plan_inputs([], manifest).full


def test_damaged_partition_forces_a_full_rebuild(tmp_path):
    """A stored partition whose bytes changed since its commit (a damaged page anywhere in
    it) is seen before any run reads it: the manifest is stale, the next run rebuilds."""
    arts = article_rows([("a", "3 killed.", "a.jsonl", 1)])
    commit_run(tmp_path, {"articles": arts}, {**store.empty_manifest(), **META})
    assert "stale" not in store.load_manifest(tmp_path)
    path = tmp_path / "articles" / store.part_file("a.jsonl")
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01  # same size, one bit
    path.write_bytes(bytes(data))
    manifest = store.load_manifest(tmp_path)
    assert manifest["stale"].startswith(f"articles/{path.name} is damaged")
    assert store.plan_inputs([], manifest).full


def test_older_layout_is_replaced_by_the_folders(tmp_path):
    """A store of the single-file layout (and its derived copies) is rebuilt as folders; the
    old files go at the commit."""
    arts = article_rows([("a", "3 killed.", "a.jsonl", 1)])
    (tmp_path / "figures").mkdir()
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "figures" / "killed.parquet")
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "articles.parquet")
    (tmp_path / store.MANIFEST_NAME).write_text(json.dumps({"format": 1, "run_id": "old"}))
    manifest = store.load_manifest(tmp_path)
    assert manifest["stale"] == "tables stored in an older layout"
    commit_run(
        tmp_path,
        {"articles": arts, "figures": figure_rows(arts)},
        {**store.empty_manifest(), **META},
    )
    assert not (tmp_path / "articles.parquet").exists()
    assert [p.name for p in (tmp_path / "figures").iterdir()] == [store.part_file("a.jsonl")]
    assert len(pd.read_parquet(tmp_path / "figures")) == 1


def test_unreadable_manifest_means_full_rebuild(tmp_path):
    (tmp_path / store.MANIFEST_NAME).write_text("{ truncated")
    manifest = store.load_manifest(tmp_path)
    assert manifest["run_id"] is None and manifest["stale"] == "manifest unreadable"


def test_run_lock_excludes_a_second_run(tmp_path):
    with store.run_lock(tmp_path), pytest.raises(store.StoreBusy), store.run_lock(tmp_path):
        pass
    with store.run_lock(tmp_path):  # released
        pass


# ------------------------------------------------------------------------------- planning


def _inputs(tmp_path, files: dict[str, str]):
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    for rel, content in files.items():
        (raw / rel).write_text(content)
    return io.discover_inputs(raw)[0]


def test_plan_inputs_new_changed_removed_and_sharing(tmp_path):
    inputs = _inputs(
        tmp_path, {"a.txt": "A\n1 killed.", "b.txt": "B\n2 killed.", "c.txt": "C\n3 killed."}
    )
    sha = {i.rel: i.sha256 for i in inputs}
    manifest = {
        **store.empty_manifest(),
        **META,
        "files": {
            "a.txt": {"sha256": sha["a.txt"]},
            "b.txt": {"sha256": "old"},
            "gone.jsonl": {"sha256": "x"},
            "c.txt": {"sha256": sha["c.txt"]},
        },
        # c.txt shares an article with the removed file: its duplicate must be re-decided
        "records": pa.table(
            {
                "source_file": ["a.txt", "b.txt", "gone.jsonl", "c.txt"],
                "line": pa.array([None, None, 1, None], pa.int64()),
                "doc_id": ["a.txt", "b.txt", "X", "c.txt"],
                "article_id": ["ida", "idb", "idx", "idx"],
            }
        ),
    }
    plan = store.plan_inputs(inputs, manifest)
    assert not plan.full
    assert [i.rel for i in plan.to_process] == ["b.txt", "c.txt"]
    assert plan.keep_files == {"a.txt"}
    assert plan.removed == ["gone.jsonl"] and plan.changed == ["b.txt"]
    assert store.plan_inputs(inputs, manifest, full=True).full
    other = store.plan_inputs(inputs, {**manifest, "pipeline_version": "0.0.0"})
    assert other.full and "pipeline version" in other.reason


# ------------------------------------------------------------------------------- merging


def run_once(raw_dir, out_dir, run_id, full=False):
    """A miniature run over the real mixed folder: read, 'extract', merge, commit."""
    manifest = store.load_manifest(out_dir)
    inputs, disc_q = io.discover_inputs(raw_dir)
    plan = store.plan_inputs(inputs, manifest, full=full)
    arts, qs = [], [disc_q]
    for raw in plan.to_process:
        for a, q in io.iter_articles(raw):
            arts.append(a)
            qs.append(q)
    read = pd.concat(arts, ignore_index=True) if arts else io.READ_ARTICLES.empty()
    read = read.assign(run_id=run_id, n_figures=1)
    new = {
        "articles": read,
        "figures": figure_rows(read.drop_duplicates("article_id"), run_id),
        "quarantine": pd.concat(qs, ignore_index=True).assign(run_id=run_id),
    }
    old = {} if plan.full else {n: store.read_table(out_dir, TABLES[n]) for n in new}
    tables = merge_tables(old, new, plan.keep_files, run_id)
    commit_run(out_dir, tables, store.build_manifest(run_id, plan, read, manifest))
    return plan, tables


def without_run_id(df):
    return df.drop(columns="run_id").reset_index(drop=True)


def test_rerun_is_idempotent_and_processes_nothing(tmp_path):
    raw = build_mixed_raw(tmp_path, big_line_mb=0.01)
    out = tmp_path / "out"
    run_once(raw, out, "r1")
    first = {n: store.read_table(out, TABLES[n]) for n in ("articles", "figures", "quarantine")}
    plan, _ = run_once(raw, out, "r2")
    assert plan.to_process == [] and not plan.full
    for name, df in first.items():
        pd.testing.assert_frame_equal(
            without_run_id(store.read_table(out, TABLES[name])), without_run_id(df)
        )
    assert store.load_manifest(out)["run_id"] == "r2"


def test_incremental_equals_full_rebuild(tmp_path):
    raw = build_mixed_raw(tmp_path, big_line_mb=0.01)
    out = tmp_path / "out"
    run_once(raw, out, "r1")
    n_before = len(store.read_table(out, ARTICLES))
    # add a file, change one, remove one
    (raw / "feed" / "more.jsonl").write_text(
        json.dumps({"id": "m-1", "text": "7 killed in a new report."})
        + "\n"
        + json.dumps({"id": "w-5", "text": "A clash with w-5's id, 9 killed."})
        + "\n"
    )
    (raw / "good.txt").write_text("Market blast\n\n13 killed at the market, police said.\n")
    (raw / "latin1.txt").unlink()
    plan, _ = run_once(raw, out, "r2")
    assert not plan.full
    # the mirror link to good.txt shares its text: it is redone with it
    assert [i.rel for i in plan.to_process] == ["feed/more.jsonl", "good.txt", "mirror/good.txt"]
    inc = {n: store.read_table(out, TABLES[n]) for n in ("articles", "figures", "quarantine")}
    assert len(inc["articles"]) == n_before  # +1 m-1, -1 latin1, good.txt replaced
    docs = set(inc["articles"]["doc_id"])
    assert "m-1" in docs and "latin1.txt" not in docs
    assert "13 killed" in inc["articles"].set_index("doc_id").loc["good.txt", "text"]
    assert set(inc["figures"]["article_id"]) == set(inc["articles"]["article_id"])
    q = quarantine_keys(inc["quarantine"])
    # more.jsonl sorts before wire.jsonl: its w-5 wins, the stored w-5 becomes the duplicate
    assert ("feed/wire.jsonl", 7, "duplicate_id", "w-5") in q
    assert not any(k[0] == "latin1.txt" for k in q)

    full_out = tmp_path / "full"
    run_once(raw, full_out, "f1", full=True)
    for name, df in inc.items():
        full = store.read_table(full_out, TABLES[name])
        pd.testing.assert_frame_equal(without_run_id(df), without_run_id(full))


def test_records_of_every_row_read_are_kept_beside_the_manifest(tmp_path):
    """The keys of every record read (duplicates that lost included) are kept in
    `_records.parquet`, which the manifest names; its JSON holds no record. An incremental run
    keeps the records of the files it did not read and replaces those of the files it read. A
    records file that is not the one the manifest names makes the next run a full rebuild."""
    raw = build_mixed_raw(tmp_path, big_line_mb=0.01)
    out = tmp_path / "out"
    _, tables = run_once(raw, out, "r1")
    manifest = json.loads((out / store.MANIFEST_NAME).read_text())
    assert all(set(entry) == {"sha256", "size"} for entry in manifest["files"].values())
    path = out / store.RECORDS_NAME
    first = pq.read_table(path).to_pandas()
    assert manifest["records"]["rows"] == len(first) and manifest["records"]["file"] == path.name
    # one row per record read: the stored articles and the records that lost to them (a
    # duplicate doc_id, a text read before)
    assert ("feed/wire.jsonl", 8, "duplicate_id", "w-1") in quarantine_keys(tables["quarantine"])
    assert first[["source_file", "line"]].value_counts().max() == 1
    losers = first[~first["article_id"].isin(tables["articles"]["article_id"])]
    assert ("feed/wire.jsonl", 8, "w-1") in set(
        losers[["source_file", "line", "doc_id"]].itertuples(index=False, name=None)
    )
    stored = set(zip(tables["articles"]["source_file"], tables["articles"]["doc_id"], strict=True))
    assert stored < set(zip(first["source_file"], first["doc_id"], strict=True))
    assert ("mirror/good.txt", "mirror/good.txt") in set(
        zip(first["source_file"], first["doc_id"], strict=True)
    ) - stored

    (raw / "good.txt").write_text("Market blast\n\n13 killed at the market, police said.\n")
    plan, _ = run_once(raw, out, "r2")
    again = pq.read_table(path).to_pandas()
    redone = {i.rel for i in plan.to_process}
    assert redone == {"good.txt", "mirror/good.txt"}
    key = ["source_file", "line", "doc_id"]
    kept = first[~first["source_file"].isin(redone)]
    pd.testing.assert_frame_equal(
        again[~again["source_file"].isin(redone)][key].reset_index(drop=True),
        kept[key].reset_index(drop=True),
    )
    arts = store.read_table(out, ARTICLES).set_index("doc_id")
    good = again[again["source_file"] == "good.txt"]["article_id"].tolist()
    assert good == [arts.loc["good.txt", "article_id"]]
    assert good != first[first["source_file"] == "good.txt"]["article_id"].tolist()

    path.write_bytes(path.read_bytes()[:-8] + b"\0" * 8)  # same size, other bytes
    stale = store.load_manifest(out)
    assert stale["stale"].startswith(store.RECORDS_NAME) and store.plan_inputs([], stale).full


def test_merge_keeps_the_earliest_row_and_its_figures():
    old_arts = article_rows([("X", "3 killed here.", "b.jsonl", 1)], run_id="r1")
    new_arts = article_rows(
        [("Y", "3 killed here.", "a.jsonl", 1), ("X", "5 killed there.", "a.jsonl", 2)], "r2"
    )
    old = {"articles": old_arts, "figures": figure_rows(old_arts, "r1")}
    new = {"articles": new_arts, "figures": figure_rows(new_arts, "r2")}
    out = merge_tables(old, new, keep_files={"b.jsonl"}, run_id="r2")
    # a.jsonl sorts first: its rows win; old X (b.jsonl:1) now clashes with a.jsonl:2's X
    assert out["articles"]["doc_id"].tolist() == ["Y", "X"]
    assert out["articles"]["source_file"].tolist() == ["a.jsonl", "a.jsonl"]
    assert out["figures"]["run_id"].tolist() == ["r2", "r2"]
    assert quarantine_keys(out["quarantine"]) == {("b.jsonl", 1, "duplicate_id", "X")}
    assert out["quarantine"]["excerpt"].tolist() == ["3 killed here."]  # the rejected row's text
    assert out["quarantine"]["run_id"].tolist() == ["r2"]
    assert out["quarantine"].dtypes.to_dict() == QUARANTINE.empty().dtypes.to_dict()


def test_merge_with_colliding_doc_id_hashes_quarantines_only_real_conflicts(monkeypatch):
    """The merge keeps doc_ids as 64-bit hashes; were two ids to share one, the rows would look
    like one id given to two texts. The merge checks its conflicts against the strings: with
    every id hashed alike it gives the tables it gives without."""
    from casualties.storage import keys

    old_arts = article_rows([("X", "3 killed here.", "b.jsonl", 1)], run_id="r1")
    old_arts = pd.concat([old_arts, article_rows([("Z", "9 killed.", "b.jsonl", 2)], "r1")])
    new_arts = article_rows(
        [("Y", "3 killed here.", "a.jsonl", 1), ("X", "5 killed there.", "a.jsonl", 2)], "r2"
    )
    new_arts = pd.concat([new_arts, article_rows([("W", "7 killed.", "a.jsonl", 3)], "r2")])
    old = {"articles": old_arts, "figures": figure_rows(old_arts, "r1")}
    new = {"articles": new_arts, "figures": figure_rows(new_arts, "r2")}
    want = merge_tables(old, new, keep_files={"b.jsonl"}, run_id="r2")
    monkeypatch.setattr(keys, "doc_hashes", lambda ids: np.zeros(len(ids), dtype=np.uint64))
    got = merge_tables(old, new, keep_files={"b.jsonl"}, run_id="r2")
    assert got["articles"]["doc_id"].tolist() == ["Y", "X", "W", "Z"]
    assert quarantine_keys(got["quarantine"]) == {("b.jsonl", 1, "duplicate_id", "X")}
    for name in ("articles", "figures", "quarantine"):
        pd.testing.assert_frame_equal(got[name], want[name])


def test_merge_gives_canonical_order_whatever_the_order_of_the_stored_rows(monkeypatch):
    """The on-disk merge copies rows forward through each file; stored rows in another order
    (a table from older code) take the random-access path and give the same tables. Small
    chunks make the forward path cross many record batches. One-article files of one folder
    share a partition: rewriting it copies the stored rows of the kept files."""
    from casualties.storage import merge

    monkeypatch.setattr(merge, "CHUNK_ROWS", 3)
    specs = [
        (f"d/{i:02d}.txt", f"{i} killed in town {i}.", f"d/{i:02d}.txt", None) for i in range(12)
    ]
    old_arts = article_rows(specs, run_id="r1")
    old = {"articles": old_arts, "figures": figure_rows(old_arts, "r1")}
    new_arts = article_rows([("d/01.txt", "40 killed anew.", "d/01.txt", None)], "r2")
    new = {"articles": new_arts, "figures": figure_rows(new_arts, "r2")}
    keep = {f"d/{i:02d}.txt" for i in range(12)} - {"d/01.txt"}  # d/01.txt was reprocessed
    canonical = merge_tables(old, new, keep, run_id="r2")
    shuffled = {name: df.iloc[::-1].reset_index(drop=True) for name, df in old.items()}
    again = merge_tables(shuffled, new, keep, run_id="r2")
    for name in ("articles", "figures", "quarantine"):
        pd.testing.assert_frame_equal(canonical[name], again[name], obj=name)
    arts = canonical["articles"]
    assert arts["source_file"].tolist() == [f"d/{i:02d}.txt" for i in range(12)]
    assert arts.loc[1, "text"] == "40 killed anew." and arts.loc[1, "run_id"] == "r2"
    # figures follow their articles, one each
    assert canonical["figures"]["article_id"].tolist() == arts["article_id"].tolist()


def test_rank_order_is_a_sort_by_rank_then_position():
    """`_in_rank_order` (kept rows, smallest arrays it can) gives the order of a plain sort of
    the kept rows by (rank, position), whether or not rows are dropped and sides interleave."""
    import numpy as np

    from casualties.storage.merge import _in_rank_order, _kept_rows

    rng = np.random.default_rng(0)
    ranks = rng.permutation(60).astype(np.int32)  # distinct across sides, as winners' ranks
    sides = [np.repeat(ranks[:20], 3), np.repeat(ranks[20:50], 2), ranks[50:]]
    for side_rank in (
        [np.arange(30, dtype=np.int32)],  # a full rebuild: one side, in order, all kept
        [np.where(rng.random(len(r)) < 0.3, -1, r).astype(np.int32) for r in sides],
        [rng.permutation(r) for r in sides],
    ):
        got = _in_rank_order(side_rank)
        rows = [(r, p, s) for s, rs in enumerate(side_rank) for p, r in enumerate(rs) if r >= 0]
        want = sorted(rows)
        assert [tuple(map(int, t)) for t in zip(got[2], got[1], got[0], strict=True)] == want
    some = np.where(rng.random(50) < 0.5, -1, 1)
    assert _kept_rows(some, step=7).tolist() == np.flatnonzero(some >= 0).tolist()


def test_new_rows_in_order_are_streamed_and_out_of_order_are_sorted(tmp_path, monkeypatch):
    """A full rebuild's figures come in their articles' order: the merge copies them a chunk
    of codes at a time, with no arrays of every row (`_in_rank_order` is not called). Batches
    staged in another order take the sorting path; both give the canonical tables, and each
    partition file is finished as soon as its last rows are written."""
    from casualties.storage import merge

    monkeypatch.setattr(merge, "CHUNK_ROWS", 2)
    monkeypatch.setattr(merge._CodeFile, "CHUNK", 3)
    sorts, events = [], []  # calls of the sort; (table, "open" | "close", file, rows)
    sort, write, close = (
        merge._in_rank_order,
        store.TableWriter.write_arrow,
        store.TableWriter.close,
    )
    monkeypatch.setattr(merge, "_in_rank_order", lambda ranks: sorts.append(1) or sort(ranks))

    def recorded(method, what):
        def call(self, *args):
            if what == "close" or not self.rows:
                events.append((self.path.parent.name, what, self.path.name, self.rows))
            return method(self, *args)

        return call

    monkeypatch.setattr(store.TableWriter, "write_arrow", recorded(write, "open"))
    monkeypatch.setattr(store.TableWriter, "close", recorded(close, "close"))
    specs = [(f"id{i}", f"{i + 1} killed in {i}.", f"f{i // 3}.jsonl", i % 3 + 1) for i in range(9)]
    arts = conform(article_rows(specs, run_id="r"), ARTICLES)
    figs = figure_rows(arts, "r")
    twice = pd.concat([figs, figs.assign(figure_id=figs["figure_id"] + "b")], ignore_index=True)

    def merged(batches):
        sorts.clear()
        events.clear()
        folder = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        with merge.run_parts(folder / "parts", {}) as parts:
            for rows in batches:
                a = arts.iloc[rows]
                f = twice[twice["article_id"].isin(a["article_id"])]
                parts.add_batch(
                    a, f.sort_index(key=lambda i: i % 9), INCIDENTS.empty(), QUARANTINE.empty()
                )
        merge.merge_into(folder / "stage", {}, parts, set(), "r", {})
        tables = {t: store.read_table(folder / "stage", TABLES[t]) for t in ("articles", "figures")}
        return tables, len(sorts), [e[1:] for e in events if e[0] == "figures"]

    in_order, sorted_in_order, files = merged([[0, 1, 2, 3], [4, 5, 6, 7, 8]])
    reversed_, sorted_reversed, _ = merged([[4, 5, 6, 7, 8], [0, 1, 2, 3]])
    assert (sorted_in_order, sorted_reversed) == (0, 1)  # the figures (no incidents here)
    for name in ("articles", "figures"):
        pd.testing.assert_frame_equal(in_order[name], reversed_[name])
    assert in_order["articles"]["doc_id"].tolist() == [f"id{i}" for i in range(9)]
    assert len(in_order["figures"]) == 18
    # three partition files of 6 figures, finished as they end: never more than two open
    # (a chunk of 2 rows can straddle two), where all three stayed open until the end
    assert [n for what, _, n in files if what == "close"] == [6, 6, 6]
    open_now = np.cumsum([1 if what == "open" else -1 for what, _, _ in files])
    assert open_now.max() == 2 and open_now[-1] == 0


def test_row_group_batches_give_every_row_a_row_group_at_a_time(tmp_path):
    """The merge's readers get the rows of a file in order, no batch spanning two row groups
    (one pyarrow reader over a whole file keeps every row group it read)."""
    from casualties.files import open_parquet, row_group_batches

    table = pa.table({"x": list(range(25)), "y": [str(i) for i in range(25)]})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=10)
    batches = list(row_group_batches(open_parquet(tmp_path / "t.parquet"), rows=4))
    assert [b.num_rows for b in batches] == [4, 4, 2, 4, 4, 2, 4, 1]
    assert pa.Table.from_batches(batches).equals(table)
    only_y = row_group_batches(open_parquet(tmp_path / "t.parquet"), 100, ["y"])
    assert [b.schema.names for b in only_y] == [["y"]] * 3


def test_merge_conforms_stored_rows_of_an_older_schema(tmp_path, monkeypatch):
    """Part files are copied as Arrow as they are; stored tables another Arrow schema (older
    code) are conformed on the way, also in chunks mixing both, and give the same tables."""
    from casualties.storage import merge

    monkeypatch.setattr(merge, "CHUNK_ROWS", 3)  # chunks of stored and new rows together
    specs = [(f"d/{i}.txt", f"{i} killed in town {i}.", f"d/{i}.txt", None) for i in range(9)]
    old_arts = article_rows(specs, run_id="r1")
    old = {"articles": old_arts, "figures": figure_rows(old_arts, "r1")}
    new_arts = article_rows([("d/1.txt", "40 killed anew.", "d/1.txt", None)], "r2")
    keep = {f"d/{i}.txt" for i in range(9)} - {"d/1.txt"}
    expected = merge_tables(
        old, {"articles": new_arts, "figures": figure_rows(new_arts, "r2")}, keep, run_id="r2"
    )

    legacy = {
        "articles": conform(old["articles"], ARTICLES).astype({"n_figures": "float64"}),
        "figures": conform(old["figures"], FIGURES).astype({"category": str, "qualifier": str}),
    }
    part = store.part_file(store.partition_of("d/1.txt"))
    old_paths = {}
    for name, df in legacy.items():
        (tmp_path / name).mkdir()
        old_paths[name] = {part: tmp_path / name / part}
        df.to_parquet(old_paths[name][part], index=False)
    with merge.run_parts(tmp_path / "parts", {}) as parts:
        arts = conform(new_arts, ARTICLES)
        figs = conform(figure_rows(new_arts, "r2"), FIGURES)
        parts.add_batch(arts, figs, INCIDENTS.empty(), QUARANTINE.empty())
    result = merge.merge_into(tmp_path / "out", old_paths, parts, keep, "r2", {})
    assert result.written["articles"] == {part}
    for name in ("articles", "figures"):
        got = store.read_table(tmp_path / "out", TABLES[name])
        pd.testing.assert_frame_equal(got, expected[name], obj=name)


def test_merge_conforms_stored_categories_of_older_code(tmp_path):
    """A stored dictionary column of the same Arrow type but fewer categories (written before
    one was added) gets the declared categories in the merged table."""
    from casualties.storage import merge

    arts = conform(article_rows([("d1", "3 killed.", "f.jsonl", 1)], run_id="r1"), ARTICLES)
    figs = conform(figure_rows(arts, "r1"), FIGURES)
    declared = list(FIGURES.field("category").categories)
    figs["category"] = figs["category"].cat.remove_categories(declared[-1])
    part = store.part_file("f.jsonl")
    old_paths = {
        "articles": {part: store.write_table(arts, tmp_path / "stored", ARTICLES, {}, "f.jsonl")},
        "figures": {part: tmp_path / "stored" / "figures" / part},
    }
    arrow = pa.Table.from_pandas(figs, schema=store._arrow_schema(FIGURES, None, {}))
    (tmp_path / "stored" / "figures").mkdir()
    pq.write_table(arrow, old_paths["figures"][part])
    # a new row in f.jsonl's partition (a .txt of the same name would not share it): the
    # partition is rewritten, its stored rows copied
    new = conform(article_rows([("d2", "4 killed.", "f.jsonl", 2)], run_id="r2"), ARTICLES)
    with merge.run_parts(tmp_path / "parts", {}) as parts:
        parts.add_batch(new, FIGURES.empty(), INCIDENTS.empty(), QUARANTINE.empty())
    merge.merge_into(tmp_path / "out", old_paths, parts, {"f.jsonl"}, "r2", {})
    back = pd.read_parquet(tmp_path / "out" / "figures")
    assert list(back["category"].cat.categories) == declared
    assert back["category"].tolist() == ["killed"]


def _incident_rows(articles, run_id, background=False):
    """One incident per article (killed 3), news unless `background`."""
    return conform(
        pd.DataFrame(
            {
                "incident_id": [f"{a}:i0" for a in articles["article_id"]],
                "article_id": articles["article_id"],
                "claim_by_party": False,
                "is_background": background,
                "n_figures": 1,
                "killed_low": 3,
                "killed_best": 3,
                "killed_high": 3,
                "run_id": run_id,
            }
        ),
        INCIDENTS,
    )


def test_stored_incidents_without_is_background_merge_as_news(tmp_path):
    """An incidents table written before `is_background` existed: its rows merge with a new
    run's (which has a background incident) as news rows, and the merged file has the column."""
    from casualties.storage import merge

    # one-article files of one folder share a partition: the new file's run rewrites it
    old_arts = conform(article_rows([("d1", "3 killed.", "d/1.txt", None)], "r1"), ARTICLES)
    legacy = _incident_rows(old_arts, "r1").drop(columns="is_background")
    part = store.part_file(store.partition_of("d/1.txt"))
    (tmp_path / "stored" / "incidents").mkdir(parents=True)
    old_paths = {
        "articles": {part: store.write_table(old_arts, tmp_path / "stored", ARTICLES, {}, "d/")},
        "incidents": {part: tmp_path / "stored" / "incidents" / part},
    }
    legacy.to_parquet(old_paths["incidents"][part], index=False)
    assert "is_background" not in pq.read_schema(old_paths["incidents"][part]).names
    assert store.read_table(tmp_path / "stored", INCIDENTS)["is_background"].tolist() == [False]

    new_arts = conform(article_rows([("d2", "3 killed there.", "d/2.txt", None)], "r2"), ARTICLES)
    with merge.run_parts(tmp_path / "parts", {}) as parts:
        parts.add_batch(
            new_arts,
            conform(figure_rows(new_arts, "r2"), FIGURES),
            _incident_rows(new_arts, "r2", background=True),
            QUARANTINE.empty(),
        )
    merge.merge_into(tmp_path / "out", old_paths, parts, {"d/1.txt"}, "r2", {})
    back = pd.read_parquet(tmp_path / "out" / "incidents")
    assert str(back["is_background"].dtype) == "boolean"
    assert back.set_index("article_id")["is_background"].to_dict() == {
        old_arts.loc[0, "article_id"]: False,
        new_arts.loc[0, "article_id"]: True,
    }


def test_run_parts_codes_are_read_back_from_their_files_chunk_by_chunk(tmp_path, monkeypatch):
    """The article code of each figure (the row of its article in the "new" part, -1 for an
    article the batch does not hold) goes to a file beside the parts; `counts` and `ranks`
    read it back in chunks that cut across batches, and give what the rows say."""
    from casualties.storage import merge

    monkeypatch.setattr(merge._CodeFile, "CHUNK", 3)  # chunks of 3 codes: 7 figures, 3 chunks
    rows = [(f"d{i}", f"{i + 2} killed.", "f.jsonl", i + 1) for i in range(5)]
    arts = conform(article_rows(rows, run_id="r"), ARTICLES)
    first, second = arts.iloc[:3], arts.iloc[3:]
    figs_first = figure_rows(first, "r")
    figs_first = pd.concat([figs_first, figure_rows(first.iloc[[0, 0]], "r")], ignore_index=True)
    stray = figure_rows(arts.iloc[[0]], "r")  # its article is in the first batch, not this one
    figs_second = pd.concat([figure_rows(second.iloc[[1]], "r"), stray], ignore_index=True)
    with merge.run_parts(tmp_path / "parts", {}) as parts:
        parts.add_batch(first, figs_first, INCIDENTS.empty(), QUARANTINE.empty())
        parts.add_batch(second, figs_second, INCIDENTS.empty(), QUARANTINE.empty())
    # codes by row: batch 1 holds articles 0-2 (figures of 0, 1, 2, 0, 0); batch 2 article 4
    # (row 4) and the stray figure of article 0 (-1: not an article of its batch)
    assert (tmp_path / "parts" / "figures.codes").stat().st_size == 7 * 4
    assert parts.counts("figures", 5).tolist() == [3, 1, 1, 0, 1]
    assert parts.counts("incidents", 5).tolist() == [0] * 5
    of_code = np.array([50, 51, 52, 53, 54], dtype=np.int32)
    assert parts.ranks("figures", of_code).tolist() == [50, 51, 52, 50, 50, 54, -1]
    assert parts.ranks("incidents", of_code).dtype == np.int32


def test_run_parts_that_fail_leave_no_code_files(tmp_path):
    """A run that fails while reading drops its part files, the code files with them."""
    from casualties.storage import merge

    arts = conform(article_rows([("d", "2 killed.", "f.jsonl", 1)], run_id="r"), ARTICLES)
    with pytest.raises(RuntimeError), merge.run_parts(tmp_path / "parts", {}) as parts:
        parts.add_batch(arts, figure_rows(arts, "r"), INCIDENTS.empty(), QUARANTINE.empty())
        raise RuntimeError("a batch failed")
    assert not list((tmp_path / "parts").iterdir())
