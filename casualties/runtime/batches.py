"""A run's input as a stream of article batches, and what the run keeps about them.

`iter_batches` reads the files a run must process (`casualties.storage.ingest`) in batches;
a text read earlier in the same run is not extracted again: its row goes to the run's part
files as a repeat, and the merge decides duplicates over all rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pandas as pd

from casualties.storage import ingest
from casualties.storage.merge import RunParts
from casualties.storage.store import Plan

KEYS = ["source_file", "line", "doc_id", "article_id"]  # what the manifest keeps of every row


@dataclass
class Batch:
    """One batch of articles on its way through extract and validate."""

    index: int
    source_file: str
    articles: pd.DataFrame
    quarantine: pd.DataFrame
    figures: pd.DataFrame | None = None
    incidents: pd.DataFrame | None = None
    problems: pd.DataFrame | None = None  # articles extraction failed on, implausible figures
    seconds: dict[str, float] = field(default_factory=dict)

    def release(self) -> None:
        """Let go of the rows (they are in the part files by now)."""
        self.articles = self.figures = self.incidents = self.quarantine = None
        self.problems = None


@dataclass
class ReadLog:
    """What reading saw besides the batches: the manifest and the merge need it."""

    keys: list[pd.DataFrame] = field(default_factory=list)  # KEYS of every row read
    failed_files: set[str] = field(default_factory=set)  # not recorded: the next run retries

    def keys_frame(self) -> pd.DataFrame:
        """Every row's KEYS, one frame."""
        if not self.keys:
            return pd.DataFrame(columns=KEYS)
        return pd.concat(self.keys, ignore_index=True)


@dataclass
class ExtractStats:
    """What extraction did: counts for the summary and the files of failed batches."""

    articles: int = 0
    batches: int = 0
    text_bytes: int = 0
    failed: set[str] = field(default_factory=set)

    def add(self, batch: Batch) -> None:
        self.articles += len(batch.articles)
        self.batches += 1
        if len(batch.articles):
            self.text_bytes += int(batch.articles["text"].str.encode("utf-8").str.len().sum())


def iter_batches(
    plan: Plan,
    batch_size: int,
    log: ReadLog,
    parts: RunParts,
    run_id: str,
    on_file: Callable[[str, int, int], None] | None = None,
) -> Iterator[Batch]:
    """Stream article batches from the files `plan` says to process.

    Records every row's keys in `log`; texts seen earlier in the run go to `parts` as repeats
    instead of into a batch. `on_file(path, rows, new_texts)` is called after each file.
    """
    seen: set[str] = set()
    index = 0
    for raw in plan.to_process:
        n_rows = n_fresh = 0
        for articles, quarantine in ingest.iter_articles(raw, batch_size=batch_size):
            log.keys.append(articles[KEYS])
            fresh = ~articles["article_id"].isin(seen) & ~articles["article_id"].duplicated()
            seen.update(articles["article_id"])
            if (~fresh).any():
                parts.add_repeats(articles[~fresh].assign(n_figures=0, run_id=run_id))
            if (quarantine["reason"] == "unreadable_file").any():
                log.failed_files.add(raw.rel)
            n_rows += len(articles)
            n_fresh += int(fresh.sum())
            yield Batch(index, raw.rel, articles[fresh].reset_index(drop=True), quarantine)
            index += 1
        if on_file is not None:
            on_file(raw.rel, n_rows, n_fresh)
