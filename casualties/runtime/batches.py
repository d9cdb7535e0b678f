"""A run's input as a stream of article batches, and what the run keeps about them.

`iter_batches` reads the files a run must process (`casualties.storage.ingest`) in batches;
a text read earlier in the same run is not extracted again: its row goes to the run's part
files as a repeat, and the merge decides duplicates over all rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from casualties.arrays import find_sorted
from casualties.storage import ingest, records
from casualties.storage.merge import RunParts
from casualties.storage.store import Plan


@dataclass
class Batch:
    """One batch of articles on its way through extract and validate."""

    index: int
    source_file: str  # its file, or "first (+N files)" for small files read together
    articles: pd.DataFrame
    quarantine: pd.DataFrame
    files: list[str] = field(default_factory=list)  # every file with rows in the batch
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
    """What reading saw besides the batches: the manifest and the merge need it.

    The keys (`records.KEYS`) of every row read go to the Parquet file `path` (in the run's
    staging folder) as they come; the commit copies them into the store's records file
    (`records.PendingRecords`): kept in memory they grew with the input (~70 bytes an
    article) until the run ended."""

    path: Path
    failed_files: set[str] = field(default_factory=set)  # not recorded: the next run retries
    _writer: pq.ParquetWriter | None = field(default=None, repr=False)

    def add_keys(self, articles: pd.DataFrame) -> None:
        """Record the keys of `articles` (rows as read)."""
        rows = records.as_keys(articles)
        if self._writer is None:
            if self.path.exists():
                raise RuntimeError(f"{self.path} is closed: the log takes no more keys")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, records.SCHEMA)
        self._writer.write_table(rows)

    def close(self) -> None:
        """Finish the keys file (before the log is handed to a task)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


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

    Small files are read together: a batch holds up to `batch_size` articles from as many
    files as it takes (2,000 one-article files are a few batches, not 2,000), so a task's
    fixed cost is paid per batch, not per file.
    """
    seen = _SeenTexts()
    pending = _Pending()
    index = 0
    for name, files, chunks in _read(plan, batch_size):
        n_rows = n_fresh = 0
        for articles, quarantine in chunks:
            log.add_keys(articles)
            fresh = seen.fresh(articles["article_id"])
            if (~fresh).any():
                parts.add_repeats(articles[~fresh].assign(n_figures=0, run_id=run_id))
            unreadable = quarantine["reason"] == "unreadable_file"
            log.failed_files.update(quarantine.loc[unreadable, "source_file"])
            n_rows += len(articles)
            n_fresh += int(fresh.sum())
            if pending.size and pending.size + int(fresh.sum()) > batch_size:
                yield pending.batch(index)
                index += 1
            pending.add(files, articles[fresh], quarantine)
            if pending.size >= batch_size:
                yield pending.batch(index)
                index += 1
        if on_file is not None:
            on_file(name, n_rows, n_fresh)
    if pending.files:
        yield pending.batch(index)


def _read(plan: Plan, batch_size: int):
    """(name, files, (articles, quarantine) chunks) per JSONL file, and per run of up to
    `batch_size` consecutive .txt files, read together."""
    txt: list = []

    def txt_run():
        files = [r.rel for r in txt]
        return _name(files), files, [ingest.read_txt_files(txt)]

    for raw in plan.to_process:
        if raw.kind == "txt":
            txt.append(raw)
            if len(txt) >= batch_size:
                yield txt_run()
                txt = []
            continue
        if txt:
            yield txt_run()
            txt = []
        yield raw.rel, [raw.rel], ingest.iter_articles(raw, batch_size=batch_size)
    if txt:
        yield txt_run()


def _name(files: list[str]) -> str:
    return files[0] if len(files) == 1 else f"{files[0]} (+{len(files) - 1} files)"


class _SeenTexts:
    """The ids of the texts read so far in a run, as the numbers they write (a sorted uint64
    array, `ingest.article_codes`): 8 bytes an article, where a set of the id strings cost
    ~100 (32 MB at 1 GB of input, held until the run ends)."""

    def __init__(self) -> None:
        self._codes = np.zeros(0, dtype=np.uint64)

    def fresh(self, ids: pd.Series) -> np.ndarray:
        """True where an id is neither seen before nor earlier in `ids`; all are seen after."""
        codes = ingest.article_codes(ids)
        fresh = ~find_sorted(self._codes, codes)[1] & ~ids.duplicated().to_numpy()
        new = np.sort(codes[fresh])
        self._codes = np.insert(self._codes, np.searchsorted(self._codes, new), new)
        return fresh


@dataclass
class _Pending:
    """Rows read but not yet handed out as a batch (from one file or several)."""

    files: list[str] = field(default_factory=list)
    articles: list[pd.DataFrame] = field(default_factory=list)
    quarantine: list[pd.DataFrame] = field(default_factory=list)
    size: int = 0  # articles

    def add(self, files: list[str], articles: pd.DataFrame, quarantine: pd.DataFrame) -> None:
        for rel in files:
            if not self.files or self.files[-1] != rel:
                self.files.append(rel)
        self.articles.append(articles)
        self.quarantine.append(quarantine)
        self.size += len(articles)

    def batch(self, index: int) -> Batch:
        """The pending rows as one batch; empties the buffer."""
        out = Batch(
            index,
            _name(self.files),
            _concat(self.articles),
            _concat(self.quarantine),
            files=list(self.files),
        )
        self.files, self.articles, self.quarantine, self.size = [], [], [], 0
        return out


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    nonempty = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(nonempty, ignore_index=True)
