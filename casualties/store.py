"""Atomic Parquet writes and the manifest of processed inputs (incremental runs).

(Interface agreed; being implemented.)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from casualties.fields import Table


def write_table(df: pd.DataFrame, out_dir: Path, table: Table, metadata: dict[str, str]) -> Path:
    """Write `df` as `out_dir/<table>.parquet` atomically (temp file, fsync, rename), zstd,
    with `metadata` (pipeline version, run id) in the Parquet schema metadata."""
    raise NotImplementedError


def read_table(out_dir: Path, table: Table) -> pd.DataFrame:
    """The stored table, or an empty frame with the table's dtypes if it does not exist yet."""
    raise NotImplementedError


def load_manifest(out_dir: Path) -> dict:
    """The manifest of the last completed run: {"files": {rel: sha256}, "run_id": ..., ...}."""
    raise NotImplementedError


def save_manifest(out_dir: Path, manifest: dict) -> None:
    """Write the manifest atomically; it is written last, so it marks a completed run."""
    raise NotImplementedError
