"""Partitioned dataset folders read back as the same table, whole or filtered."""

from __future__ import annotations

import pandas as pd

from casualties.fields import FIGURES, INCIDENTS, conform
from casualties.storage import store
from casualties.storage.partitions import write_dataset

META = {"run_id": "r1", "pipeline_version": "test"}


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


def test_folders_read_back_as_the_table(tmp_path):
    store.write_table(_figures(), tmp_path, FIGURES, META)
    store.write_table(_incidents(), tmp_path, INCIDENTS, META)
    for table, key, files in (
        (FIGURES, "figure_id", {"killed", "injured", "none"}),
        (INCIDENTS, "incident_id", {"2020", "2021", "unknown"}),
    ):
        folder = write_dataset(tmp_path, table.name)
        assert folder == tmp_path / table.name
        assert {p.stem for p in folder.glob("*.parquet")} == files
        whole = pd.read_parquet(tmp_path / f"{table.name}.parquet")
        parts = pd.read_parquet(folder)
        pd.testing.assert_frame_equal(
            parts.sort_values(key).reset_index(drop=True),
            whole.sort_values(key).reset_index(drop=True),
        )

    killed = pd.read_parquet(tmp_path / "figures", filters=[("category", "==", "killed")])
    assert sorted(killed["best"]) == [3, 7]
    assert list(killed["category"].cat.categories) == list(FIGURES.field("category").categories)


def test_rebuild_replaces_and_empty_table_reads(tmp_path):
    store.write_table(_figures(), tmp_path, FIGURES, META)
    write_dataset(tmp_path, "figures")
    store.write_table(
        FIGURES.empty().assign(run_id=pd.Series(dtype="string")), tmp_path, FIGURES, META
    )
    folder = write_dataset(tmp_path, "figures")
    empty = pd.read_parquet(folder)
    assert len(empty) == 0 and list(empty.columns) == FIGURES.columns
    assert [p.name for p in tmp_path.iterdir() if "dataset" in p.name] == []  # no leftovers


def test_each_file_keeps_the_table_order_with_small_buffers(tmp_path, monkeypatch):
    """Rows held back per key and written whenever the buffer is full come out in table order."""
    from casualties.storage import partitions as dataset

    monkeypatch.setattr(dataset, "BATCH_ROWS", 2)
    monkeypatch.setattr(dataset, "BUFFER_ROWS", 3)
    figures = pd.concat([_figures()] * 5, ignore_index=True)
    figures["figure_id"] = [f"f{i}" for i in range(len(figures))]
    store.write_table(figures, tmp_path, FIGURES, META)
    folder = write_dataset(tmp_path, "figures")
    whole = pd.read_parquet(tmp_path / "figures.parquet")
    category = whole["category"].astype(str).where(whole["category"].notna(), "none")
    for key in ("killed", "injured", "none"):
        want = whole[category == key].reset_index(drop=True)
        pd.testing.assert_frame_equal(pd.read_parquet(folder / f"{key}.parquet"), want, obj=key)
