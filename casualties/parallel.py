"""Extraction on several processes: both cores of a laptop, in batch order.

Pure Python (no Prefect). The flow's default runner and the benchmark use `ExtractionPool`;
on Dask the workers are already separate processes, so tasks call `extract_frame` directly.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

import pandas as pd

from casualties.extract import extract_frame


def default_workers() -> int:
    """Number of extraction processes: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _warm_up() -> None:
    # Why: load lexicons and compile patterns once per worker, before the first timed batch.
    extract_frame(
        pd.DataFrame(
            {"article_id": ["warm"], "text": ["Two people were killed."], "published": [None]}
        )
    )


class ExtractionPool:
    """A pool of worker processes running `extract_frame` on article batches.

    Uses the "spawn" start method: the flow process runs Prefect's threads, and forking a
    threaded process can deadlock. Workers import only `casualties`, not Prefect.
    """

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_warm_up,
        )

    def warm(self) -> None:
        """Start every worker now (otherwise they start on the first batch)."""
        futures = [self._executor.submit(os.getpid) for _ in range(self.workers)]
        for f in futures:
            f.result()

    def submit(self, articles: pd.DataFrame) -> Future:
        """Extract one batch in a worker; the future's result is `extract_frame(articles)`."""
        return self._executor.submit(extract_frame, articles)

    def map(
        self, batches: Iterable[pd.DataFrame], in_flight: int | None = None
    ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        """`extract_frame` of each batch, in input order, with at most `in_flight` batches
        queued at once, so memory stays bounded however many batches the input has."""
        limit = in_flight or 2 * self.workers
        pending: deque[Future] = deque()
        for batch in batches:
            pending.append(self.submit(batch))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        """Stop the workers."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
