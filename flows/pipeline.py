"""The Prefect flow: raw/ → articles, figures, incidents, events, quarantine → Parquet → GX report.

Steps (each logs what it loads, processes and saves), all under the output folder's lock:

1. discover the input files (`casualties.storage.ingest.discover_inputs`);
2. plan the run (`casualties.storage.store`): finish or discard an interrupted commit, compare the
   inputs with the manifest of the last completed run; only new and changed files are read;
3. read those files in batches (`casualties.storage.ingest.iter_articles`); a text read earlier
   in the run is not extracted twice;
4. extract each batch in a task (`casualties.extract.article.extract_frame`; on the local runner
   with enough input the task hands the batch to a process pool so both cores work);
5. validate each batch with pandera (`schemas.validate`): failing rows go to quarantine; the
   batch is written to part files in the run's staging folder and let go (`merge.RunParts`),
   so memory does not grow with the input;
6. merge the parts with the stored rows of unchanged files, on disk (`merge.merge_into`, which
   also decides duplicates), and the incidents into events, a bounded group at a time
   (countries, cut by time where no pair can cross; `casualties.events.groups`);
7. publish the staged tables and then the manifest in one atomic commit (`store.commit`);
8. Great Expectations on the written Parquet and Data Docs (`casualties.quality.checks`);
9. a markdown artifact with the run's counts (and a progress artifact while batches run).

The flow orchestrates only: every rule lives in the library. Retries are on I/O tasks only.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from casualties import __version__
from casualties.extract.article import extract_frame
from casualties.fields import ARTICLES, EVENTS, INCIDENTS, QUARANTINE, TABLES, conform
from casualties.runtime.memory import release
from casualties.storage import ingest as io
from casualties.storage import store
from casualties.storage.merge import RunParts, merge_into, run_parts, sort_quarantine, stored_paths
from flows.local_server import api_for_run
from schemas.validate import validate

DEFAULT_BATCH_SIZE = 2000  # articles per extraction task: big enough to dwarf task overhead
POOL_MIN_BYTES = 2_000_000  # below this, starting worker processes costs more than it saves
WARM_UP = pd.DataFrame(
    {
        "article_id": ["warm-up"],
        "text": ["KABUL, Afghanistan - Two people were killed on Saturday, police said."],
        "published": [pd.Timestamp("2024-01-01", tz="UTC")],
    }
)
IO_RETRIES = {"retries": 2, "retry_delay_seconds": 1}


@dataclass
class Batch:
    """One batch of articles on its way through extract and validate."""

    index: int
    source_file: str
    articles: pd.DataFrame
    quarantine: pd.DataFrame
    figures: pd.DataFrame | None = None
    incidents: pd.DataFrame | None = None
    seconds: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------------------------- tasks


@task(name="discover inputs", cache_policy=NO_CACHE, **IO_RETRIES)
def discover(raw_dir: Path) -> tuple[list, pd.DataFrame]:
    """Find the .txt and .jsonl files under raw_dir (skipped files become quarantine rows)."""
    logger = get_run_logger()
    inputs, skipped = io.discover_inputs(raw_dir)
    size = sum(r.size for r in inputs)
    logger.info(
        "Loaded the list of inputs under %s: %d files (%.1f MB), %d skipped",
        raw_dir,
        len(inputs),
        size / 1e6,
        len(skipped),
    )
    return inputs, skipped


@task(name="plan incremental run", cache_policy=NO_CACHE, **IO_RETRIES)
def plan_run(inputs: list, out_dir: Path, full_refresh: bool) -> tuple[store.Plan, dict]:
    """Finish or discard an interrupted commit, then compare the inputs with the manifest."""
    logger = get_run_logger()
    for message in store.recover(out_dir):
        logger.warning("Recovery: %s", message)
    manifest = store.load_manifest(out_dir)
    plan = store.plan_inputs(inputs, manifest, full=full_refresh)
    logger.info(
        "Plan: %s; %d files to process, %d unchanged",
        plan.reason,
        len(plan.to_process),
        len(plan.unchanged),
    )
    return plan, manifest


@task(name="extract batch", cache_policy=NO_CACHE)
def extract_batch(batch: Batch, pool=None) -> Batch:
    """Figures and incidents of a batch of articles (in a worker process when a pool is given)."""
    t0 = time.perf_counter()
    arts = batch.articles[["article_id", "text", "published"]]
    if pool is None:
        figures, incidents = extract_frame(arts)
    else:
        figures, incidents = pool.submit(arts).result()
    batch.figures, batch.incidents = figures, incidents
    batch.seconds["extract"] = time.perf_counter() - t0
    return batch


@task(name="validate batch", cache_policy=NO_CACHE)
def validate_batch(batch: Batch, run_id: str) -> Batch:
    """pandera checks on the batch's three tables; failing rows move to quarantine."""
    t0 = time.perf_counter()
    figures, incidents = batch.figures, batch.incidents
    articles = batch.articles.copy()
    counts = figures["article_id"].value_counts()
    articles["n_figures"] = articles["article_id"].map(counts).fillna(0).astype("Int64")
    articles["run_id"] = run_id
    figures = figures.assign(run_id=run_id)
    incidents = incidents.assign(run_id=run_id)
    good_articles, q_articles = validate(articles, "articles", run_id=run_id)
    good_figures, q_figures = validate(figures, "figures", articles=good_articles, run_id=run_id)
    good_incidents, q_incidents = validate(
        incidents, "incidents", articles=good_articles, run_id=run_id
    )
    # An article's figure count is the figures the table holds for it.
    kept = good_figures["article_id"].value_counts()
    good_articles["n_figures"] = (
        good_articles["article_id"].map(kept).fillna(0).astype("Int64").to_numpy()
    )
    batch.articles, batch.figures, batch.incidents = good_articles, good_figures, good_incidents
    batch.quarantine = _concat(
        [batch.quarantine.assign(run_id=run_id), q_articles, q_figures, q_incidents], QUARANTINE
    )
    batch.seconds["validate"] = time.perf_counter() - t0
    return batch


@task(name="merge with stored tables", cache_policy=NO_CACHE, **IO_RETRIES)
def merge_stored(
    out_dir: Path, plan: store.Plan, parts: RunParts, run_id: str, metadata: dict
) -> tuple[dict[str, int], pd.DataFrame]:
    """Stored rows of unchanged files + this run's rows → staged articles, figures, incidents
    (duplicates decided over both); returns their row counts and the quarantine table."""
    logger = get_run_logger()
    old = {} if plan.full else stored_paths(out_dir, store.MERGED_TABLES)
    stage = store.staging_dir(out_dir, run_id)
    rows, quarantine = merge_into(stage, old, parts, plan.keep_files, run_id, metadata)
    logger.info(
        "Merged %s with the stored rows of %d unchanged files: %s",
        parts.folder,
        len(plan.keep_files),
        ", ".join(f"{n} {name}" for name, n in rows.items()),
    )
    return rows, quarantine


@task(name="merge events", cache_policy=NO_CACHE)
def merge_events(out_dir: Path, run_id: str, metadata: dict) -> tuple[int, pd.DataFrame]:
    """Incidents of all articles merged into events (a bounded group at a time), validated and
    staged; returns the number of events and the quarantine rows of invalid ones."""
    from casualties.events.groups import merge_events_file

    logger = get_run_logger()
    stage = store.staging_dir(out_dir, run_id)
    incidents = store.table_path(stage, INCIDENTS)
    articles = pq.read_table(
        store.table_path(stage, ARTICLES), columns=["article_id", "published"]
    ).to_pandas()
    quarantine = []
    with store.TableWriter(store.table_path(stage, EVENTS), EVENTS, metadata) as writer:
        for merged in merge_events_file(incidents, articles):
            events, bad = validate(merged.assign(run_id=run_id), "events", run_id=run_id)
            writer.write(events)
            quarantine.append(bad)
    logger.info(
        "Merged %s into %d events (%d quarantined)",
        incidents,
        writer.rows,
        sum(len(q) for q in quarantine),
    )
    return writer.rows, _concat(quarantine, QUARANTINE)


@task(name="commit tables", cache_policy=NO_CACHE, **IO_RETRIES)
def commit_tables(out_dir: Path, manifest: dict) -> None:
    """Publish the staged tables with the manifest (store protocol)."""
    logger = get_run_logger()
    store.commit(out_dir, manifest)
    for name in (*store.MERGED_TABLES, "events"):
        logger.info("Saved %s", store.table_path(out_dir, TABLES[name]))
    logger.info("Saved manifest of %d inputs (run %s)", len(manifest["files"]), manifest["run_id"])


@task(name="write analyst datasets", cache_policy=NO_CACHE, **IO_RETRIES)
def write_datasets(out_dir: Path) -> list[Path]:
    """Partitioned copies of figures (by category) and incidents (by year) for analysts."""
    from casualties.storage.partitions import write_dataset

    paths = [write_dataset(out_dir, name) for name in ("figures", "incidents")]
    for path in paths:
        get_run_logger().info("Saved partitioned dataset %s", path)
    return paths


@task(name="quality report", cache_policy=NO_CACHE, **IO_RETRIES)
def quality_report(out_dir: Path, report_dir: Path, tables: list[str]) -> dict:
    """Great Expectations suites on the written Parquet, and Data Docs under report_dir."""
    from casualties.quality import checks as quality

    summary = quality.run_quality(out_dir, report_dir, tables=tables)
    get_run_logger().info(
        "Quality: %d of %d expectations failed; Data Docs at %s",
        summary["failed"],
        summary["evaluated"],
        summary["index"],
    )
    return summary


@task(name="publish summary", cache_policy=NO_CACHE)
def publish_summary(summary: dict) -> str:
    """A Prefect markdown artifact with the run's counts."""
    md = summary_markdown(summary)
    create_markdown_artifact(key="casualties-run", markdown=md, description="Pipeline run counts")
    return md


# ------------------------------------------------------------------------------------ helpers


def _concat(frames: list[pd.DataFrame], table) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return table.empty()
    return conform(pd.concat([conform(f, table) for f in frames], ignore_index=True), table)


def _run_id() -> str:
    from prefect.runtime import flow_run

    return str(flow_run.id or uuid.uuid4())


_KEYS = ["source_file", "line", "doc_id", "article_id"]


@dataclass
class ReadLog:
    """What reading saw besides the batches: the manifest and the merge need it."""

    keys: list[pd.DataFrame] = field(default_factory=list)  # _KEYS of every row io yielded
    failed_files: set[str] = field(default_factory=set)  # not recorded: the next run retries
    files_read: int = 0


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


def _batches(
    plan: store.Plan, batch_size: int, log: ReadLog, parts: RunParts, run_id: str
) -> Iterator[Batch]:
    """Stream article batches from the files to process.

    A text read earlier in this run is not extracted again (articles are keyed by content);
    its row goes to `parts` as a repeat: the merge decides duplicates over all rows.
    """
    logger = get_run_logger()
    seen: set[str] = set()
    index = 0
    for raw in plan.to_process:
        n_rows = n_fresh = 0
        for articles, quarantine in io.iter_articles(raw, batch_size=batch_size):
            log.keys.append(articles[_KEYS])
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
        log.files_read += 1
        logger.info("Loaded %s: %d articles (%d new texts)", raw.rel, n_rows, n_fresh)


def summary_lines(s: dict) -> list[str]:
    """A short plain-text summary of a run (what `casualties run` prints at the end)."""
    lines = [
        f"Run {s['run_id']} ({s['plan']}): {s['files_processed']} files processed, "
        f"{s['files_unchanged']} unchanged, {s['articles_new']} new articles, "
        f"{s['seconds']:.1f} s",
        "Tables in " + s["out_dir"] + ": " + ", ".join(f"{t} {n}" for t, n in s["rows"].items()),
    ]
    if s["quarantine_reasons"]:
        lines.append(
            "Quarantine: " + ", ".join(f"{r} {n}" for r, n in s["quarantine_reasons"].items())
        )
    q = s["quality"]
    if q:
        lines.append(
            f"Quality: {q['evaluated']} expectations, {q['failed']} failed; report {q['index']}"
        )
    else:
        lines.append(f"Quality: tables unchanged, report {s['report']} is current")
    return lines


def summary_markdown(s: dict) -> str:
    """Markdown table of a run summary (also used by the CLI)."""
    lines = [
        f"# Casualties pipeline run `{s['run_id']}`",
        "",
        f"{'Full rebuild' if s['full_refresh'] else 'Incremental run'}: "
        f"{s['files_processed']} files processed, {s['files_unchanged']} unchanged, "
        f"{s['articles_new']} new articles in {s['batches']} batches, "
        f"{s['seconds']:.1f} s.",
        "",
        "| table | rows |",
        "|---|---|",
        *(f"| {t} | {n} |" for t, n in s["rows"].items()),
        "",
        "| quarantine reason | rows |",
        "|---|---|",
        *(f"| `{r}` | {n} |" for r, n in s["quarantine_reasons"].items()),
        "",
    ]
    q = s.get("quality")
    if q:
        lines += [
            f"Great Expectations: {q['evaluated']} expectations, {q['failed']} failed "
            f"([Data Docs]({q['index']})).",
            "",
            "| table | evaluated | failed |",
            "|---|---|---|",
            *(f"| {t} | {v['evaluated']} | {v['failed']} |" for t, v in q["tables"].items()),
        ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------- flow


@flow(name="casualties-pipeline", log_prints=True)
def pipeline(
    raw_dir: Path = Path("raw"),
    out_dir: Path = Path("processed"),
    report_dir: Path = Path("reports"),
    full_refresh: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    runner: str = "local",
    workers: int | None = None,
) -> dict:
    """Run the whole pipeline once; returns the run summary (also a markdown artifact).

    On the local runner extraction goes to a process pool of `workers` (default: one per core)
    when there is enough input to pay for starting it; on Dask (`run_pipeline(runner="dask")`)
    each batch task runs `extract_frame` on a worker.
    """
    t_start = time.perf_counter()
    raw_dir, out_dir, report_dir = Path(raw_dir), Path(out_dir), Path(report_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = _run_id()
    from casualties.tools.bench import StageClock  # per-stage seconds for `casualties bench`

    clock = StageClock()
    metadata = {"run_id": run_id, "pipeline_version": __version__}
    with store.run_lock(out_dir):  # one writer per output folder
        with clock.stage("parse"):
            inputs, skipped = discover(raw_dir)
            plan, manifest = plan_run(inputs, out_dir, full_refresh)
            if _nothing_new(plan, skipped, out_dir, report_dir):
                return _unchanged_summary(plan, manifest, out_dir, report_dir, run_id, t_start)
        log = ReadLog()
        # New rows go to part files in the run's staging folder as batches finish.
        stage = store.staging_dir(out_dir, run_id)
        with run_parts(stage / "parts", metadata) as parts:
            parts.add_quarantine(skipped.assign(run_id=run_id))
            stats = _extract_all(plan, batch_size, runner, workers, run_id, clock, log, parts)

        with clock.stage("write"):
            # quote(): Prefect walks every task argument twice, item by item, looking for
            # futures; the parts' keys and the manifest's records grow with the articles.
            rows, quarantine = merge_stored(out_dir, plan, quote(parts), run_id, metadata)
            del parts  # its keys (a few hundred bytes an article) are not needed any more
            release()
            rows["events"], bad_events = merge_events(out_dir, run_id, metadata)
            release()
            quarantine = sort_quarantine(_concat([quarantine, bad_events], QUARANTINE), run_id)
            store.write_table(quarantine, stage, QUARANTINE, metadata)
            rows["quarantine"] = len(quarantine)
            keys = (
                pd.concat(log.keys, ignore_index=True) if log.keys else pd.DataFrame(columns=_KEYS)
            )
            broken = log.failed_files | stats.failed
            processed = [r for r in plan.to_process if r.rel not in broken]
            new_manifest = store.build_manifest(run_id, plan, keys, manifest, processed=processed)
            commit_tables(out_dir, quote(new_manifest))
            del keys, log, new_manifest  # per-row keys: let go before the quality checks
            release()
            write_datasets(out_dir)

    with clock.stage("quality"):
        quality = quality_report(out_dir, report_dir, [*store.MERGED_TABLES, "events"])

    reasons = quarantine["reason"].value_counts().sort_index()
    summary = {
        "run_id": run_id,
        "full_refresh": plan.full,
        "plan": plan.reason,
        "files_processed": len(plan.to_process),
        "files_unchanged": len(plan.unchanged),
        "articles_new": stats.articles,
        "batches": stats.batches,
        "failed_batches": sorted(stats.failed),
        "rows": {name: rows[name] for name in (*store.MERGED_TABLES, "events")},
        "quarantine_reasons": {str(k): int(v) for k, v in reasons.items()},
        "quality": quality,
        "out_dir": str(out_dir),
        "report": quality["index"],
        "seconds": time.perf_counter() - t_start,
    }
    publish_summary(summary)
    clock.write(out_dir, articles=stats.articles, text_bytes=stats.text_bytes)
    return summary


def _nothing_new(plan: store.Plan, skipped: pd.DataFrame, out_dir: Path, report_dir: Path) -> bool:
    """True when the stored tables and report are already what this run would produce: no file
    to read or drop, the same skipped files as last time, and the report is in place."""
    if plan.full or plan.to_process or plan.removed:
        return False
    if not (report_dir / "quality" / "index.html").is_file():
        return False
    known = {i.rel for i in plan.unchanged}
    stored = store.read_table(out_dir, QUARANTINE)
    stored = stored[(stored["stage"] == "read") & ~stored["source_file"].isin(known)]

    def keys(df: pd.DataFrame) -> list[tuple[str, str]]:
        return sorted(zip(df["source_file"], df["reason"], strict=True))

    return keys(stored) == keys(skipped)


def _unchanged_summary(
    plan: store.Plan, manifest: dict, out_dir: Path, report_dir: Path, run_id: str, t_start: float
) -> dict:
    """Summary of a run that found nothing new: tables and report are left as they are."""
    logger = get_run_logger()
    rows = {}
    for name in (*store.MERGED_TABLES, "events"):
        path = store.table_path(out_dir, TABLES[name])
        if path.is_file():
            rows[name] = pq.read_metadata(path).num_rows
    reasons = store.read_table(out_dir, QUARANTINE)["reason"].value_counts().sort_index()
    index = (report_dir / "quality" / "index.html").resolve()
    logger.info(
        "Nothing new since run %s: tables in %s and the report %s are up to date",
        manifest.get("run_id"),
        out_dir,
        index,
    )
    summary = {
        "run_id": run_id,
        "full_refresh": False,
        "plan": plan.reason,
        "files_processed": 0,
        "files_unchanged": len(plan.unchanged),
        "articles_new": 0,
        "batches": 0,
        "failed_batches": [],
        "rows": rows,
        "quarantine_reasons": {str(k): int(v) for k, v in reasons.items()},
        "quality": None,
        "out_dir": str(out_dir),
        "report": str(index),
        "seconds": time.perf_counter() - t_start,
    }
    publish_summary(summary)
    return summary


def _extract_all(
    plan: store.Plan,
    batch_size: int,
    runner: str,
    workers: int | None,
    run_id: str,
    clock,
    log: ReadLog,
    parts: RunParts,
) -> ExtractStats:
    """Extract and validate every batch, at most a few in flight at once, and write each
    finished batch to `parts` in input order (flat memory: no batch is kept).

    Returns counts and the files of batches that failed (their rows are missing from this
    run; the manifest leaves them out so the next run retries).
    """
    logger = get_run_logger()
    pool = None
    to_read = sum(r.size for r in plan.to_process)
    if runner == "local" and to_read > POOL_MIN_BYTES and (workers or 2) > 1:
        from casualties.runtime.pool import ExtractionPool

        pool = ExtractionPool(workers)
        logger.info("Extracting on %d worker processes", pool.workers)
    elif runner == "local" and plan.to_process:
        # Load lexicons and gazetteer once here: batch threads starting cold would each load
        # them at the same time.
        t0 = time.perf_counter()
        extract_frame(WARM_UP)
        clock.add("extract", time.perf_counter() - t0)
        logger.info("Loaded extraction rules and gazetteer in %.1f s", time.perf_counter() - t0)
    in_flight = 2 * (pool.workers if pool else 2)
    progress = create_progress_artifact(progress=0.0, description="Share of input bytes read")
    stats = ExtractStats()
    pending: list[tuple[Batch, Future, Future]] = []
    read_bytes = 0

    def collect(batch: Batch, extracted, validated) -> None:
        try:
            batch = validated.result()
        except Exception as exc:  # one failing batch must not lose the others
            error: Exception = exc
            try:
                extracted.result()  # the root cause, when extraction failed
            except Exception as root:
                error = root
            logger.error("Batch %d of %s failed: %r", batch.index, batch.source_file, error)
            stats.failed.add(batch.source_file)
            batch.articles = batch.figures = batch.incidents = batch.quarantine = None
            return
        parts.add_batch(batch.articles, batch.figures, batch.incidents, batch.quarantine)
        stats.add(batch)
        clock.add("extract", batch.seconds.get("extract", 0.0))
        clock.add("validate", batch.seconds.get("validate", 0.0))
        logger.info(
            "Batch %d (%s): %d articles → %d figures, %d incidents, %d quarantine rows "
            "[extract %.2f s, validate %.2f s]",
            batch.index,
            batch.source_file,
            len(batch.articles),
            len(batch.figures),
            len(batch.incidents),
            len(batch.quarantine),
            batch.seconds.get("extract", 0.0),
            batch.seconds.get("validate", 0.0),
        )
        # Prefect keeps every task's result (this batch) until the flow ends: let go of its
        # rows, which are in the part files now.
        batch.articles = batch.figures = batch.incidents = batch.quarantine = None
        release()

    try:
        t_read = time.perf_counter()
        for batch in _batches(plan, batch_size, log, parts, run_id):
            clock.add("parse", time.perf_counter() - t_read)
            if len(batch.articles):
                read_bytes += int(batch.articles["text"].str.len().sum())
                update_progress_artifact(progress, min(100.0, 100.0 * read_bytes / max(to_read, 1)))
                extracted = extract_batch.submit(batch, pool)
                pending.append((batch, extracted, validate_batch.submit(extracted, run_id)))
            else:  # nothing to extract: only quarantine rows
                parts.add_quarantine(batch.quarantine.assign(run_id=run_id))
                stats.batches += 1
            while len(pending) >= in_flight:
                collect(*pending.pop(0))
            t_read = time.perf_counter()
        while pending:
            collect(*pending.pop(0))
    finally:
        if pool is not None:
            pool.close()
    update_progress_artifact(progress, 100.0)
    return stats


def run_pipeline(runner: str = "local", dask_address: str | None = None, **params) -> dict:
    """Run the flow on the task runner `runner` names ("local" or "dask"; an address implies
    dask), see `flows.runners`."""
    from flows.runners import build_task_runner

    if dask_address:
        runner = "dask"
    task_runner = build_task_runner(runner, dask_address, params.get("workers"))
    flow_ = pipeline.with_options(task_runner=task_runner)
    if runner != "dask":
        return flow_(runner=runner, **params)
    # Dask workers are processes of their own: without a configured API each would start an
    # embedded server of its own (slow, and their task runs would not be recorded with the
    # flow's). One local server for all of them.
    with api_for_run() as server:
        if server is not None:
            server.wait_ready()
        return flow_(runner=runner, **params)
