"""Tables are Parquet dataset folders: read back whole or filtered with plain pandas, with the
declared dtypes, one partition per input file."""

from __future__ import annotations

import pandas as pd

from casualties.fields import ARTICLES, FIGURES, INCIDENTS, conform
from casualties.storage import store
from tests.storage_helpers import commit_run

META = {"run_id": "r1", "pipeline_version": "test"}
SOURCES = ["feed/a.jsonl", "feed/a.jsonl", "feed/b.jsonl", "notes/x.txt"]


def _articles() -> pd.DataFrame:
    rows = [
        {
            "article_id": f"a{i}",
            "doc_id": f"d{i}",
            "text": "Three were killed.",
            "source_file": sf,
            "line": i + 1 if sf.endswith(".jsonl") else None,
            "n_figures": 1,
            "run_id": "r1",
        }
        for i, sf in enumerate(SOURCES)
    ]
    return conform(pd.DataFrame(rows), ARTICLES)


def _figures() -> pd.DataFrame:
    rows = []
    for i, (cat, best) in enumerate([("killed", 3), ("injured", 5), ("killed", 7), (None, 1)]):
        rows.append(
            {
                "figure_id": f"a{i}:0-5",
                "article_id": f"a{i}",
                "start": 0,
                "end": 5,
                "surface": "three",
                "sentence": "Three were killed.",
                "category": cat,
                "low": best,
                "best": best,
                "high": best,
                "qualifier": "exact",
                "hedged": False,
                "rule": "test",
                "run_id": "r1",
            }
        )
    return conform(pd.DataFrame(rows), FIGURES)


def _incidents() -> pd.DataFrame:
    rows = [
        {"incident_id": "a0:i0", "article_id": "a0", "date": "2020-03-19", "published": None},
        {"incident_id": "a1:i0", "article_id": "a1", "date": None, "published": "2021-01-02"},
        {"incident_id": "a2:i0", "article_id": "a2", "date": None, "published": None},
        {"incident_id": "a3:i0", "article_id": "a3", "date": "2020-12-31", "published": None},
    ]
    df = pd.DataFrame(rows).assign(run_id="r1")
    return conform(df, INCIDENTS)


def _commit(out) -> dict[str, pd.DataFrame]:
    tables = {"articles": _articles(), "figures": _figures(), "incidents": _incidents()}
    commit_run(out, tables, {**store.empty_manifest(), **META})
    return tables


def test_folders_read_back_as_the_table(tmp_path):
    tables = _commit(tmp_path)
    parts = {store.part_file(k) for k in ("feed/a.jsonl", "feed/b.jsonl", "notes/")}
    for name, want in tables.items():
        folder = tmp_path / name
        assert {p.name for p in folder.glob("*.parquet")} == parts
        whole = pd.read_parquet(folder)  # plain pandas, the folder path
        assert whole.dtypes.to_dict() == want.dtypes.to_dict()
        key = f"{name[:-1]}_id" if name != "figures" else "figure_id"
        pd.testing.assert_frame_equal(
            whole.sort_values(key).reset_index(drop=True), want, check_categorical=False
        )
        assert store.read_table(tmp_path, store.TABLES[name]).dtypes.to_dict() == (
            want.dtypes.to_dict()
        )
    killed = pd.read_parquet(tmp_path / "figures", filters=[("category", "==", "killed")])
    assert sorted(killed["figure_id"]) == ["a0:0-5", "a2:0-5"]
    assert str(killed["category"].dtype) == "category"
    since = pd.read_parquet(
        tmp_path / "incidents", filters=[("date", ">=", pd.Timestamp("2020-06-01", tz="UTC"))]
    )
    assert since["incident_id"].tolist() == ["a3:i0"]
    from_a = pd.read_parquet(tmp_path / "articles", filters=[("source_file", "==", "feed/a.jsonl")])
    assert from_a["doc_id"].tolist() == ["d0", "d1"]


def test_every_partition_is_in_the_manifest_with_its_run(tmp_path):
    _commit(tmp_path)
    manifest = store.load_manifest(tmp_path)
    assert "stale" not in manifest
    for name in ("articles", "figures", "incidents"):
        listed = manifest["tables"][name]
        assert set(listed) == {p.name for p in (tmp_path / name).iterdir()}
        assert {e["run_id"] for e in listed.values()} == {"r1"}
        assert sum(e["rows"] for e in listed.values()) == 4


def test_empty_table_reads_as_an_empty_frame(tmp_path):
    commit_run(tmp_path, {"figures": FIGURES.empty()}, {**store.empty_manifest(), **META})
    back = pd.read_parquet(tmp_path / "figures")
    assert len(back) == 0 and list(back.columns) == FIGURES.columns
    assert store.read_table(tmp_path, FIGURES).dtypes.to_dict() == FIGURES.empty().dtypes.to_dict()
