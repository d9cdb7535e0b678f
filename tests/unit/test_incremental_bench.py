"""The incremental benchmark's comparison of two stores (run ids and row order aside)."""

from __future__ import annotations

from casualties.fields import FIGURES, conform
from casualties.storage import store
from casualties.tools.incremental_bench import tables_equal
from tests.storage_helpers import commit_run
from tests.unit.test_dataset import META, _articles, _figures


def test_tables_equal_ignores_run_ids_and_order_but_not_values(tmp_path):
    tables = {"articles": _articles(), "figures": _figures()}
    commit_run(tmp_path / "a", tables, {**store.empty_manifest(), **META})
    shuffled = {
        "articles": tables["articles"].iloc[::-1].assign(run_id="other"),
        "figures": tables["figures"].iloc[::-1].assign(run_id="other"),
    }
    commit_run(tmp_path / "b", shuffled, {**store.empty_manifest(), **META, "run_id": "other"})
    assert all(tables_equal(tmp_path / "a", tmp_path / "b").values())
    changed = tables["figures"].copy()
    changed.loc[0, "best"] = 99
    commit_run(
        tmp_path / "c",
        {"articles": tables["articles"], "figures": conform(changed, FIGURES)},
        {**store.empty_manifest(), **META},
    )
    equal = tables_equal(tmp_path / "a", tmp_path / "c")
    assert equal["figures"] is False and equal["articles"] is True
