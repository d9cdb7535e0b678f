"""Run-time thresholds in one place: how work is cut into batches and when it goes parallel.

Extraction rules and their thresholds live in the YAML files of `casualties/rules/`; these
are the knobs of running the pipeline, each with why it has its value.
"""

from __future__ import annotations

#: Articles per extraction task: big enough to dwarf a Prefect task's overhead (milliseconds),
#: small enough that a few batches in flight stay far below the memory bound.
DEFAULT_BATCH_SIZE = 2000

#: Below this much input (bytes), starting worker processes costs more than it saves.
POOL_MIN_BYTES = 2_000_000

#: Articles per process-pool job: a few seconds of work, so a run's tail leaves no core idle
#: for long, and still ~100x the cost of sending the job to a worker.
POOL_CHUNK_ARTICLES = 250
