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
   also decides duplicates), rewriting only the partitions whose inputs changed, and the
   incidents into events, a bounded group at a time (countries, cut by time where no pair can
   cross; `casualties.events.groups`);
7. publish the staged partitions and then the manifest in one atomic commit (`store.commit`);
8. Great Expectations on the written Parquet and Data Docs (`casualties.quality.checks`);
   then the maintainers' report `<report>/index.html` (`casualties.quality.report`);
9. a markdown artifact with the run's counts (and a progress artifact while batches run).

The flow orchestrates only: every rule lives in the library. Retries are on I/O tasks only.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pyarrow as pa
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
from casualties.extract.checked import extract_checked
from casualties.fields import EVENTS, QUARANTINE, TABLES
from casualties.quality import maintainers_index, report_index, run_record
from casualties.runtime.batches import Batch, ExtractStats, ReadLog, iter_batches
from casualties.runtime.clock import StageClock
from casualties.runtime.inflight import in_order
from casualties.runtime.memory import release
from casualties.runtime.summary import RunOutcome, build_summary, reason_counts, summary_markdown
from casualties.settings import DEFAULT_BATCH_SIZE, POOL_MIN_BYTES
from casualties.storage import ingest, store
from casualties.storage.merge import (
    MergeResult,
    RunParts,
    merge_into,
    run_parts,
    sort_quarantine,
    stored_paths,
)
from flows.local_server import api_for_run
from schemas.validate import validate, validate_batch

WARM_UP = pd.DataFrame(
    {
        "article_id": ["warm-up"],
        "text": ["KABUL, Afghanistan - Two people were killed on Saturday, police said."],
        "published": [pd.Timestamp("2024-01-01", tz="UTC")],
    }
)
IO_RETRIES: dict[str, Any] = {"retries": 2, "retry_delay_seconds": 1}
TABLE_NAMES = (*store.MERGED_TABLES, "events")
VALIDATE_EVENTS_ROWS = 20_000  # events validated per pandera call by an incremental run


# ------------------------------------------------------------------------------------- tasks


@task(name="discover inputs", cache_policy=NO_CACHE, **IO_RETRIES)
def discover(raw_dir: Path) -> tuple[list, pd.DataFrame]:
    """Find the .txt and .jsonl files under raw_dir (skipped files become quarantine rows)."""
    inputs, skipped = ingest.discover_inputs(raw_dir)
    get_run_logger().info(
        "Loaded the list of inputs under %s: %d files (%.1f MB), %d skipped",
        raw_dir,
        len(inputs),
        sum(r.size for r in inputs) / 1e6,
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


@task(name="check stored tables are current", cache_policy=NO_CACHE, **IO_RETRIES)
def up_to_date(
    plan: store.Plan, skipped: pd.DataFrame, out_dir: Path, report_dir: Path, manifest: dict
) -> tuple[bool, bool]:
    """Whether the stored tables are what this run would produce, and whether the report is
    the one of the run that wrote them (not missing, or stale after a crash)."""
    from casualties.quality.checks import report_run

    tables = store.up_to_date(plan, skipped, out_dir)
    report = (
        report_index(report_dir).is_file()
        and maintainers_index(report_dir).is_file()
        and report_run(report_dir) == manifest["run_id"]
    )
    if tables and not report:
        get_run_logger().warning(
            "The report in %s is not the one of run %s: checking that run's tables again",
            report_dir,
            manifest["run_id"],
        )
    return tables, report


@task(name="extract batch", cache_policy=NO_CACHE)
def extract_batch(batch: Batch, pool=None) -> Batch:
    """Figures and incidents of a batch of articles (in a worker process when a pool is given);
    an article extraction fails on is a problem row, not a failed batch."""
    t0 = time.perf_counter()
    arts = batch.articles[["article_id", "text", "published"]]
    if pool is None:
        batch.figures, batch.incidents, batch.problems = extract_checked(arts)
    else:
        batch.figures, batch.incidents, batch.problems = pool.submit(arts).result()
    batch.seconds["extract"] = time.perf_counter() - t0
    return batch


@task(name="validate batch", cache_policy=NO_CACHE)
def validate_extracted(batch: Batch, run_id: str) -> Batch:
    """pandera checks on the batch's three tables; failing rows move to quarantine, and so do
    the articles extraction failed on and implausible figures."""
    t0 = time.perf_counter()
    batch.articles, batch.figures, batch.incidents, batch.quarantine = validate_batch(
        batch.articles, batch.figures, batch.incidents, batch.quarantine, run_id, batch.problems
    )
    batch.seconds["validate"] = time.perf_counter() - t0
    return batch


@task(name="stage batch", cache_policy=NO_CACHE, **IO_RETRIES)
def stage_batch(parts: RunParts, batch: Batch) -> None:
    """Write a validated batch's rows to the run's part files in staging."""
    parts.add_batch(batch.articles, batch.figures, batch.incidents, batch.quarantine)


@task(name="stage quarantine rows", cache_policy=NO_CACHE, **IO_RETRIES)
def stage_quarantine(parts: RunParts, rows: pd.DataFrame) -> None:
    """Write quarantine rows found while reading (no article to extract) to the part files."""
    parts.add_quarantine(rows)


@task(name="save run stats", cache_policy=NO_CACHE, **IO_RETRIES)
def save_run_stats(clock: StageClock, out_dir: Path, articles: int, text_bytes: int) -> Path:
    """Seconds per stage beside the tables (`casualties bench` reads them)."""
    return clock.write(out_dir, articles=articles, text_bytes=text_bytes)


@task(name="merge with stored tables", cache_policy=NO_CACHE, **IO_RETRIES)
def merge_stored(
    out_dir: Path,
    plan: store.Plan,
    parts: RunParts,
    run_id: str,
    metadata: dict,
    failed: frozenset[str] = frozenset(),
) -> MergeResult:
    """Stored rows of unchanged files + this run's rows → the staged partitions of articles,
    figures and incidents that change (duplicates decided over both), and the quarantine. The
    new rows of `failed` files (reading or a batch failed) are left out."""
    old = {} if plan.full else stored_paths(out_dir, store.MERGED_TABLES)
    stage = store.staging_dir(out_dir, run_id)
    result = merge_into(stage, old, parts, plan.keep_files, run_id, metadata, drop_files=failed)
    get_run_logger().info(
        "Merged %s with the stored rows of %d unchanged files: rewrote %s",
        parts.folder,
        len(plan.keep_files),
        ", ".join(
            f"{len(result.written[n])} {n} partitions ({result.rows[n]} rows)" for n in result.rows
        ),
    )
    return result


@task(name="merge events", cache_policy=NO_CACHE)
def merge_events(
    out_dir: Path, listing: dict, drop: dict, metadata: dict
) -> tuple[set[str], pd.DataFrame]:
    """The events partitions (one per country) that the run's incidents change, merged again
    only in the blocks the change touches (all of them on a full rebuild, a bounded group at a
    time), validated and staged with the stored events that stay (copied as they are, run id
    and all); returns the events partitions to drop and the quarantine rows of invalid events.

    `listing`: the manifest whose partitions the run started from, with this run's id;
    `drop`: the partitions the run drops ({table: files})."""
    from casualties.events.blocks import untouched_quarantine, update_events
    from casualties.events.groups import merge_events_file, undated_articles

    run_id = listing["run_id"]
    stage = store.staging_dir(out_dir, run_id)
    incidents = store.next_files(out_dir, listing, "incidents", drop.get("incidents", ()))
    # Only the dates incidents lack (not every article's id and date: that grows with the store).
    articles = undated_articles(
        incidents, store.next_files(out_dir, listing, "articles", drop.get("articles", ()))
    )
    staged = _StagedEvents(stage, run_id, metadata)
    dropped: set[str] = set()
    try:
        if not store.table_listing(listing, "events"):  # full rebuild
            for merged in merge_events_file(incidents, articles):
                staged.add(merged)
            staged.flush()
        else:
            stored_inc = store.table_listing(listing, "incidents") or {}
            new_files = store.staged_files(out_dir, run_id, "incidents")
            changed = set(new_files) | set(drop.get("incidents", ()))
            events_dir = store.table_dir(out_dir, EVENTS)
            stored_events = store.table_listing(listing, "events") or {}
            added = [stage / "incidents" / f for f in new_files]
            removed = [out_dir / "incidents" / f for f in sorted(changed) if f in stored_inc]
            touched: set[str] = set()
            for update in update_events(
                incidents, added, removed, _KeyedFiles(events_dir, stored_events), articles
            ):
                touched.add(update.key)
                staged.keep(update.key, update.kept)
                staged.add(update.merged)
                del update
            staged.flush()
            # A touched partition left with no valid events goes.
            dropped = {store.part_file(k) for k in touched if k not in staged.writers}
            dropped &= set(stored_events)
            # Invalid events of the partitions not merged again keep their quarantine rows.
            stored_q = store.read_files(
                store.next_files(out_dir, listing, "quarantine"), QUARANTINE
            )
            staged.quarantine.append(untouched_quarantine(stored_q, touched))
            if staged.writers and store.part_file(store.ALL) in stored_events:  # was empty
                dropped.add(store.part_file(store.ALL))
    except BaseException:
        staged.abort()
        raise
    staged.close()
    get_run_logger().info(
        "Merged %d incidents partitions into %d events partitions (%d rows, %d dropped, "
        "%d quarantined)",
        len(incidents),
        len(staged.writers),
        sum(w.rows for w in staged.writers.values()),
        len(dropped),
        sum(len(q) for q in staged.quarantine),
    )
    return dropped, QUARANTINE.concat(staged.quarantine)


class _StagedEvents:
    """The events partitions a run stages, one `TableWriter` per partition key: stored events
    that stay are copied as they are (validated when first made); events merged (again) are
    validated some partitions at a time, and the invalid ones become quarantine rows."""

    def __init__(self, stage: Path, run_id: str, metadata: dict):
        self.stage, self.run_id, self.metadata = stage, run_id, metadata
        self.writers: dict[str, store.TableWriter] = {}
        self.quarantine: list[pd.DataFrame] = []
        self._batch: list[pd.DataFrame] = []

    def writer(self, key: str) -> store.TableWriter:
        if key not in self.writers:
            path = store.table_path(self.stage, EVENTS, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.writers[key] = store.TableWriter(path, EVENTS, self.metadata)
        return self.writers[key]

    def keep(self, key: str, rows: pa.Table | None) -> None:
        """Copy stored events of partition `key` as they are."""
        if rows is not None and rows.num_rows:
            self.writer(key).write_arrow(rows)

    def add(self, events: pd.DataFrame) -> None:
        """Events merged by this run (without run_id), validated in batches: pandera's cost
        per call dwarfs a country's rows, and every partition at once would hold the whole
        table. A large partition goes in slices: one country held 144,030 events in the
        bench's 3 GB store. (Copies: a slice left over keeps no view of the whole.)"""
        for start in range(0, len(events), VALIDATE_EVENTS_ROWS):
            self._batch.append(events.iloc[start : start + VALIDATE_EVENTS_ROWS].copy())
            if sum(map(len, self._batch)) >= VALIDATE_EVENTS_ROWS:
                self.flush()

    def flush(self) -> None:
        """Validate and write the events added since the last flush."""
        from casualties.events.blocks import partition_keys

        batch, self._batch = [b for b in self._batch if len(b)], []
        if not batch:
            return
        events = pd.concat(batch, ignore_index=True).assign(run_id=self.run_id)
        del batch
        events, bad = validate(events, "events", run_id=self.run_id)
        self.quarantine.append(bad)
        keys = partition_keys(events)
        for key in dict.fromkeys(keys):
            self.writer(key).write(events[keys == key])

    def close(self) -> None:
        for w in self.writers.values():
            w.close()

    def abort(self) -> None:
        for w in self.writers.values():
            w.abort()


class _KeyedFiles:
    """{partition key: stored file} of a table whose listing names files (`store.part_file`),
    looked up with `get` (None: no such partition)."""

    def __init__(self, folder: Path, listing: dict):
        self._folder, self._files = folder, set(listing)

    def get(self, key: str) -> Path | None:
        name = store.part_file(key)
        return self._folder / name if name in self._files else None


@task(name="stage quarantine and manifest", cache_policy=NO_CACHE, **IO_RETRIES)
def stage_quarantine_and_manifest(
    out_dir: Path,
    plan: store.Plan,
    manifest: dict,
    quarantine: list[pd.DataFrame],
    log: ReadLog,
    stats: ExtractStats,
    run_id: str,
    metadata: dict,
    drop: dict,
) -> tuple[pd.DataFrame, dict]:
    """Write the run's quarantine table into staging and build the manifest to commit with it.

    Files whose reading or batches failed are left out of the manifest: the next run retries
    them (their stored rows, if any, were not replaced)."""
    rows = sort_quarantine(QUARANTINE.concat(quarantine), run_id)
    stage = store.staging_dir(out_dir, run_id)
    path = store.write_table(rows, stage, QUARANTINE, metadata)
    get_run_logger().info("Staged %s (%d rows)", path, len(rows))
    listing = {**(store.empty_manifest() if plan.full else manifest), "run_id": run_id}
    for name in (*store.MERGED_TABLES[:-1], "events"):  # a table with no rows: one empty file
        if not store.next_files(out_dir, listing, name, drop.get(name, ())):
            store.write_table(TABLES[name].empty(), stage, TABLES[name], metadata)
    broken = log.failed_files | stats.failed
    processed = [r for r in plan.to_process if r.rel not in broken]
    new_manifest = store.build_manifest(run_id, plan, log.path, manifest, processed)
    return rows, new_manifest


@task(name="commit tables", cache_policy=NO_CACHE, **IO_RETRIES)
def commit_tables(out_dir: Path, manifest: dict, drop: dict) -> dict[str, int]:
    """Publish the staged partitions with the manifest (store protocol); rows per table."""
    logger = get_run_logger()
    store.commit(out_dir, manifest, drop)
    for name in TABLE_NAMES:
        files = store.table_files(out_dir, TABLES[name])
        logger.info("Saved %s (%d partitions)", store.table_dir(out_dir, TABLES[name]), len(files))
    logger.info("Saved manifest of %d inputs (run %s)", len(manifest["files"]), manifest["run_id"])
    return store.stored_row_counts(out_dir, TABLE_NAMES)


@task(name="quality report", cache_policy=NO_CACHE, **IO_RETRIES)
def quality_report(out_dir: Path, report_dir: Path, tables: list[str], run_id: str) -> dict:
    """Great Expectations suites on the partitions run `run_id` wrote, whole-store id checks,
    and Data Docs under report_dir."""
    from casualties.quality import checks as quality

    summary = quality.run_quality(out_dir, report_dir, tables=tables, run_id=run_id)
    get_run_logger().info(
        "Quality: %d of %d expectations failed; Data Docs at %s",
        summary["failed"],
        summary["evaluated"],
        summary["index"],
    )
    return summary


@task(name="read stored counts", cache_policy=NO_CACHE, **IO_RETRIES)
def stored_counts(out_dir: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per stored table and quarantine rows per reason (for a run with nothing new)."""
    rows = store.stored_row_counts(out_dir, TABLE_NAMES)
    return rows, reason_counts(store.read_table(out_dir, QUARANTINE))


@task(name="maintainers report", cache_policy=NO_CACHE, **IO_RETRIES)
def maintainers_report(out_dir: Path, report_dir: Path, run: dict, quality: dict) -> dict:
    """The maintainers' page `<report>/index.html` and the article pages of its review queue."""
    from casualties.quality.report import build_report  # matplotlib: imported when used

    built = build_report(out_dir, report_dir, run=run, quality=quality)
    get_run_logger().info(
        "Report %s (%.1f MB, %d queued figures, %d article pages) in %.1f s",
        built["index"],
        built["bytes"] / 1e6,
        built["queue"],
        built["articles"],
        built["seconds"],
    )
    return built


@task(name="publish summary", cache_policy=NO_CACHE)
def publish_summary(summary: dict) -> str:
    """A Prefect markdown artifact with the run's counts."""
    md = summary_markdown(summary)
    create_markdown_artifact(key="casualties-run", markdown=md, description="Pipeline run counts")
    return md


# --------------------------------------------------------------------------------------- flow


def _run_id() -> str:
    from prefect.runtime import flow_run

    return str(flow_run.id or uuid.uuid4())


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
    clock = StageClock()  # per-stage seconds for `casualties bench` and the report
    metadata = {"run_id": run_id, "pipeline_version": __version__}
    with store.run_lock(out_dir):  # one writer per output folder
        with clock.stage("parse"):
            inputs, skipped = discover(raw_dir)
            plan, manifest = plan_run(inputs, out_dir, full_refresh)
            tables_current, report_current = up_to_date(  # type: ignore[call-overload]
                plan, skipped, out_dir, report_dir, quote(manifest)
            )
            if tables_current:
                quality = None
                if not report_current:
                    quality = quality_report(
                        out_dir, report_dir, list(TABLE_NAMES), manifest["run_id"]
                    )
                    run = run_record(
                        manifest["run_id"], plan, 0, clock.seconds, time.perf_counter() - t_start
                    )
                    maintainers_report(out_dir, report_dir, run, quality)
                rows, reasons = stored_counts(out_dir)
                get_run_logger().info(
                    "Nothing new since run %s: tables in %s and the report are up to date",
                    manifest.get("run_id"),
                    out_dir,
                )
                outcome = RunOutcome(
                    run_id,
                    plan,
                    str(out_dir),
                    str(maintainers_index(report_dir).resolve()),
                    rows,
                    reasons,
                    quality,
                )
                summary = build_summary(outcome, time.perf_counter() - t_start)
                publish_summary(summary)
                return summary
        # New rows go to part files in the run's staging folder as batches finish, and the
        # keys of every row read to a file beside them.
        stage = store.staging_dir(out_dir, run_id)
        log = ReadLog(stage / "parts" / "read.parquet")
        with run_parts(stage / "parts", metadata) as parts:
            stage_quarantine(quote(parts), skipped.assign(run_id=run_id))  # type: ignore[call-overload]
            with clock.stage("batches", wall=False):  # read, extract, validate, stage
                stats = _extract_all(plan, batch_size, runner, workers, run_id, clock, log, parts)
        log.close()

        with clock.stage("write"):
            # A file whose reading failed part-way keeps its stored rows and manifest entry:
            # only a successful reading of its new version replaces them.
            broken = frozenset(log.failed_files | stats.failed)
            kept = store.keep_failed(plan, manifest, broken)
            # quote(): Prefect walks every task argument twice, item by item, looking for
            # futures; the manifest grows with the input.
            # (The task gets the value inside: Task's typing does not know it, hence the ignores.)
            merged = merge_stored(  # type: ignore[call-overload]
                out_dir, kept, quote(parts), run_id, metadata, failed=broken
            )
            release()
            # The partitions this run starts from (none on a full rebuild: all are replaced).
            listing = {**(store.empty_manifest() if plan.full else manifest), "run_id": run_id}
            drop = {**merged.dropped, "events": set(), "quarantine": set()}
            drop["events"], bad_events = merge_events(  # type: ignore[call-overload]
                out_dir, quote(listing), quote(drop), metadata
            )
            release()
            quarantine, new_manifest = stage_quarantine_and_manifest(  # type: ignore[call-overload]
                out_dir,
                kept,
                quote(manifest),
                [merged.quarantine, bad_events],
                quote(log),
                stats,
                run_id,
                metadata,
                quote(drop),
            )
            rows = commit_tables(out_dir, quote(new_manifest), quote(drop))  # type: ignore[call-overload]
            release()

    with clock.stage("quality"):
        quality = quality_report(out_dir, report_dir, list(TABLE_NAMES), run_id)
    with clock.stage("report"):
        run = run_record(run_id, plan, stats.articles, clock.seconds, time.perf_counter() - t_start)
        report = maintainers_report(out_dir, report_dir, run, quality)
    save_run_stats(clock, out_dir, stats.articles, stats.text_bytes)

    outcome = RunOutcome(
        run_id,
        plan,
        str(out_dir),
        report["index"],
        {name: rows[name] for name in TABLE_NAMES},
        reason_counts(quarantine),
        quality,
        stats.articles,
        stats.batches,
        sorted(stats.failed),
    )
    summary = build_summary(outcome, time.perf_counter() - t_start)
    publish_summary(summary)
    return summary


def _extract_all(
    plan: store.Plan,
    batch_size: int,
    runner: str,
    workers: int | None,
    run_id: str,
    clock: StageClock,
    log: ReadLog,
    parts: RunParts,
) -> ExtractStats:
    """Extract and validate every batch, a few in flight at once, and write each finished
    batch to `parts` in input order (flat memory: no batch is kept).

    Returns counts and the files of batches that failed (their rows are missing from this
    run; the manifest leaves them out so the next run retries).
    """
    logger = get_run_logger()
    pool = None
    to_read = sum(r.size for r in plan.to_process)
    if runner == "local" and to_read > POOL_MIN_BYTES and (workers or 2) > 1:
        from casualties.runtime.pool import ExtractionPool

        pool = ExtractionPool(workers, fn=extract_checked)
        logger.info("Extracting on %d worker processes", pool.workers)
    elif runner == "local" and plan.to_process:
        # Load lexicons and gazetteer once here: batch threads starting cold would each load
        # them at the same time.
        t0 = time.perf_counter()
        extract_frame(WARM_UP)
        clock.add("extract", time.perf_counter() - t0)
        logger.info("Loaded extraction rules and gazetteer in %.1f s", time.perf_counter() - t0)
    # Typed "UUID or coroutine" (it also runs async); called from this sync flow it is the UUID.
    progress = cast(
        uuid.UUID,
        create_progress_artifact(progress=0.0, description="Share of input bytes read"),
    )
    stats = ExtractStats()
    read_bytes = 0

    def with_articles(batches):
        """The batches with articles to extract; the others hold only quarantine rows."""
        nonlocal read_bytes
        t_read = time.perf_counter()
        for batch in batches:
            clock.add("parse", time.perf_counter() - t_read)
            if len(batch.articles):
                read_bytes += int(batch.articles["text"].str.len().sum())
                update_progress_artifact(progress, min(100.0, 100.0 * read_bytes / max(to_read, 1)))
                yield batch
            else:
                stage_quarantine(quote(parts), batch.quarantine.assign(run_id=run_id))  # type: ignore[call-overload]
                stats.batches += 1
            t_read = time.perf_counter()

    def submit(batch: Batch):
        extracted = extract_batch.submit(batch, pool)
        # Prefect resolves a future passed as an argument; Task.submit's typing does not say so.
        return extracted, validate_extracted.submit(extracted, run_id)  # type: ignore[call-overload]

    def on_file(path: str, n_rows: int, n_fresh: int) -> None:
        logger.info("Loaded %s: %d articles (%d new texts)", path, n_rows, n_fresh)

    batches = iter_batches(plan, batch_size, log, parts, run_id, on_file)
    try:
        in_flight = 2 * (pool.workers if pool else 2)
        for batch, (extracted, validated) in in_order(with_articles(batches), submit, in_flight):
            try:
                batch = validated.result()
            except Exception as exc:  # one failing batch must not lose the others
                error: Exception = exc
                try:
                    extracted.result()  # the root cause, when extraction failed
                except Exception as root:
                    error = root
                logger.error("Batch %d of %s failed: %r", batch.index, batch.source_file, error)
                stats.failed.update(batch.files or [batch.source_file])
                batch.release()
                continue
            stage_batch(quote(parts), quote(batch))  # type: ignore[call-overload]
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
            # Prefect keeps every task's result (this batch) until the flow ends: let go of
            # its rows, which are in the part files now.
            batch.release()
            release()
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
    # with_options wants TaskRunner[PrefectFuture], which no concrete runner is in Prefect's
    # typing (the type parameter is invariant there).
    flow_ = pipeline.with_options(task_runner=task_runner)  # type: ignore[arg-type]
    if runner != "dask":
        return flow_(runner=runner, **params)
    # Dask workers are processes of their own: without a configured API each would start an
    # embedded server of its own (slow, and their task runs would not be recorded with the
    # flow's). One local server for all of them.
    with api_for_run() as server:
        if server is not None:
            server.wait_ready()
        return flow_(runner=runner, **params)
