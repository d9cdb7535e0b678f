"""Extraction on several processes: both cores of a laptop, in batch order.

Pure Python (no Prefect). The flow's default runner and the benchmark use `ExtractionPool`;
on Dask the workers are already separate processes, so tasks call `extract_frame` directly.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

import pandas as pd

from casualties.extract.article import extract_frame
from casualties.runtime.inflight import in_order
from casualties.runtime.stop import watch_parent
from casualties.settings import POOL_CHUNK_ARTICLES


def default_workers() -> int:
    """Number of extraction processes: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _concat_when_done(parts: list[Future]) -> Future:
    """A future of the frames of `parts` (tuples of frames: figures, incidents[, problems])
    concatenated in order, set once every part has finished; a failed part's error is its
    error."""
    out: Future = Future()
    lock = threading.Lock()
    pending = [len(parts)]

    def finish(_part: Future) -> None:
        with lock:  # callbacks run in the pool's thread, or here if a part is already done
            pending[0] -= 1
            if pending[0]:
                return
        try:
            results = [p.result() for p in parts]
            out.set_result(
                tuple(
                    pd.concat([r[k] for r in results], ignore_index=True)
                    for k in range(len(results[0]))
                )
            )
        except BaseException as exc:  # noqa: BLE001  a worker's error is the batch's error
            out.set_exception(exc)

    for p in parts:
        p.add_done_callback(finish)
    return out


def _warm_up() -> None:
    # A worker ends with its parent, even one killed by SIGKILL; Ctrl-C reaches the whole
    # process group, and the parent stops its workers itself (casualties.runtime.stop).
    watch_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Why: load lexicons and compile patterns once per worker, before the first timed batch.
    extract_frame(
        pd.DataFrame(
            {"article_id": ["warm"], "text": ["Two people were killed."], "published": [None]}
        )
    )
    # Extraction allocates many short-lived objects; the loaded lexicons and gazetteer live as
    # long as the worker. Frozen, they are no longer traversed by every full collection, and a
    # larger first generation collects less often (~3% faster, measured on the bench corpus).
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


class ExtractionPool:
    """A pool of worker processes running `fn` (default `extract_frame`; the flow passes
    `casualties.extract.checked.extract_checked`) on article batches.

    Uses the "spawn" start method: the flow process runs Prefect's threads, and forking a
    threaded process can deadlock. Workers import only `casualties`, not Prefect.
    """

    def __init__(
        self, workers: int | None = None, chunk_size: int = POOL_CHUNK_ARTICLES, fn=extract_frame
    ):
        self.workers = workers or default_workers()
        self.chunk_size = chunk_size
        self.fn = fn  # a module-level function: it is pickled to the workers
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
        """Extract one batch; the future's result is `fn(articles)`.

        The batch goes to the workers in chunks of `chunk_size` articles, so the last batch of
        a run is shared by every worker instead of keeping one busy while the others idle.
        (Extraction is per article: the chunks' rows, concatenated, are the batch's.)
        """
        # An empty batch still makes one (empty) job: its result has the tables' columns.
        chunks = [
            articles.iloc[i : i + self.chunk_size]
            for i in range(0, max(len(articles), 1), self.chunk_size)
        ]
        parts = [self._executor.submit(self.fn, chunk) for chunk in chunks]
        return _concat_when_done(parts)

    def map(
        self, batches: Iterable[pd.DataFrame], in_flight: int | None = None
    ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        """`extract_frame` of each batch, in input order, with at most `in_flight` batches
        queued at once, so memory stays bounded however many batches the input has."""
        for _batch, future in in_order(batches, self.submit, in_flight or 2 * self.workers):
            yield future.result()

    def close(self) -> None:
        """Stop the workers."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
