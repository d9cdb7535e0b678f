"""Test helpers: the in-memory forms of the store's merge and commit (production code streams
through files; these build small stores for tests in one call)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from casualties.fields import TABLES, conform
from casualties.storage.merge import merge_into, run_parts
from casualties.storage.store import (
    MERGED_TABLES,
    commit,
    read_files,
    staging_dir,
    table_listing,
    write_partitioned,
)


def commit_run(out_dir: Path, tables: Mapping[str, pd.DataFrame], manifest: dict) -> None:
    """Write `tables` ({name: frame}) into staging, partitioned (`write_partitioned`), and
    commit them with `manifest` as the whole tables (every earlier partition is dropped)."""
    run_id = manifest["run_id"]
    stage = staging_dir(out_dir, run_id)
    metadata = {"run_id": run_id, "pipeline_version": manifest.get("pipeline_version") or ""}
    articles = tables.get("articles")
    for name, df in tables.items():
        write_partitioned(df, stage, TABLES[name], metadata, articles)
    drop = {name: list(table_listing(manifest, name) or {}) for name in tables}
    commit(out_dir, manifest, drop)


def merge_tables(
    old: Mapping[str, pd.DataFrame],
    new: Mapping[str, pd.DataFrame],
    keep_files: Iterable[str],
    run_id: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Stored rows of the kept files plus this run's rows: the next articles, figures,
    incidents and quarantine tables (missing keys in `old`/`new` count as empty).

    The in-memory form of `casualties.storage.merge.merge_into` (which the flow uses on files, in
    bounded memory): same rules, same canonical order (partition by partition, as the tables
    read back from their folders). Old rows stay only if their `source_file` is in
    `keep_files` (figures and incidents follow their article); duplicates are re-decided over
    old + new articles (`io.resolve_duplicates`), and each article's figures and incidents
    come from the side its winning row came from. Rows without a run_id (duplicate_id rows
    made here) get `run_id`.
    """

    def frame(src: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
        df = src.get(name)
        return conform(df if df is not None else TABLES[name].empty(), TABLES[name])

    with tempfile.TemporaryDirectory(prefix="merge-") as tmp:
        root = Path(tmp)
        stored = root / "stored"
        old_articles = frame(old, "articles")
        old_paths = {}
        for name in MERGED_TABLES:
            if old.get(name) is not None:
                paths = write_partitioned(frame(old, name), stored, TABLES[name], {}, old_articles)
                old_paths[name] = {p.name: p for p in paths}
        with run_parts(root / "parts", {}) as parts:
            parts.add_batch(
                frame(new, "articles"),
                frame(new, "figures"),
                frame(new, "incidents"),
                frame(new, "quarantine"),
            )
        result = merge_into(root / "out", old_paths, parts, keep_files, run_id, {})
        out = {}
        for name in MERGED_TABLES[:-1]:
            table = TABLES[name]
            files = {p.name: p for p in (old_paths.get(name) or {}).values()}
            for f in result.dropped.get(name, ()):
                files.pop(f, None)
            for f in result.written.get(name, ()):
                files[f] = root / "out" / name / f
            out[name] = read_files([files[f] for f in sorted(files)], table)
        out["quarantine"] = result.quarantine
        return out
