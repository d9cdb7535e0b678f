"""Read raw inputs (.txt, .jsonl) into article rows; everything rejected becomes a quarantine row.

(Interface agreed; being implemented.) Never raises on bad input: every problem is a quarantine
row naming the file, line, field and a stable reason code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class RawInput:
    """One input file under raw/."""

    path: Path  # absolute path
    rel: str  # path relative to raw/, POSIX separators: the articles' `source_file`
    kind: str  # "txt" or "jsonl"
    sha256: str  # content hash of the file's bytes (incremental runs compare it)
    size: int


def discover_inputs(raw_dir: Path) -> tuple[list[RawInput], pd.DataFrame]:
    """All .txt and .jsonl files under `raw_dir`, sorted by `rel`, plus quarantine rows for files
    that are skipped (other extensions, symlinks leaving raw_dir, unreadable files)."""
    raise NotImplementedError


def iter_articles(
    raw: RawInput, batch_size: int = 2000
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Stream (articles, quarantine) batches from one file without loading it whole.

    `articles` has the ARTICLES columns except `n_figures` and `run_id`; `quarantine` has the
    QUARANTINE columns except `run_id`.
    """
    raise NotImplementedError
