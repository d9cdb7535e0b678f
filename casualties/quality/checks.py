"""Great Expectations (1.x) suites generated from the field list, run on the written Parquet,
rendered as Data Docs at `<report_dir>/quality/index.html`.

Runs offline: an ephemeral GX context (nothing of GX's own is left on disk but the site),
analytics off. One suite per table, derived from `casualties.fields`: the column list, dtypes,
not-null, enum sets, bounds, unique ids, low <= best <= high per triple, end > start,
dates not after publication. No Prefect here: the flow and `casualties report` both call
`run_quality`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from casualties.arrays import find_sorted, has_duplicates, unique_sorted  # noqa: E402
from casualties.fields import CATEGORIES, TABLES, Table, as_pandas, conform  # noqa: E402
from casualties.files import iter_batches, write_bytes_atomic  # noqa: E402
from casualties.quality import SITE  # noqa: E402
from casualties.quality.id_index import ID_INDEX, IdIndex, hash_ids  # noqa: E402
from casualties.runtime.memory import release  # noqa: E402
from casualties.storage import store  # noqa: E402

# GX logs its ephemeral temp folders at INFO; the caller logs one summary line instead.
logging.getLogger("great_expectations").setLevel(logging.WARNING)


DEFAULT_TABLES = ("articles", "figures", "incidents", "events", "quarantine")


def _not_less(a: str, b: str, what: str) -> gxe.Expectation:
    """Column a >= column b on rows where both are set."""
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=a,
        column_B=b,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
        meta={"rule": what},
    )


def expectations_for(table: Table) -> list[gxe.Expectation]:
    """The expectations of `table`, every one derived from its fields."""
    cols = set(table.columns)
    out: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchOrderedList(column_list=table.columns),
        # Always true; it puts the row count of each table in the report.
        gxe.ExpectTableRowCountToBeBetween(min_value=0, max_value=None),
    ]
    for f in table.fields:
        out.append(gxe.ExpectColumnTypeToBe(column=f.name, type_=f.dtype))
        if not f.nullable:
            out.append(gxe.ExpectColumnValuesToNotBeNull(column=f.name))
        if f.categories:
            out.append(gxe.ExpectColumnValuesToBeInSet(column=f.name, value_set=list(f.categories)))
        if f.ge is not None or f.le is not None:
            out.append(
                gxe.ExpectColumnValuesToBeBetween(column=f.name, min_value=f.ge, max_value=f.le)
            )
        if f.unique:
            out.append(gxe.ExpectColumnValuesToBeUnique(column=f.name))
    prefixes = [""] if {"low", "best", "high"} <= cols else []
    prefixes += [f"{c}_" for c in CATEGORIES if f"{c}_low" in cols]
    for p in prefixes:
        out.append(_not_less(f"{p}best", f"{p}low", "low <= best"))
        out.append(_not_less(f"{p}high", f"{p}best", "best <= high (where high is set)"))
    if {"start", "end"} <= cols:
        out.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="end", column_B="start", or_equal=False, meta={"rule": "start < end"}
            )
        )
    if table.name == "quarantine":
        # Stable reason codes: io's (invalid_json, ...) or schema:<table>.<check>.
        out.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column="reason", regex=r"^(?:[a-z_]+|schema:[a-z_]+\.[a-z0-9_]+)$"
            )
        )
    if {"date", "published"} <= cols:
        out.append(_not_less("published", "date", "date not after publication"))
    return out


SAMPLE_VALUES = 20  # failing values kept per failed expectation (the report shows them)
_VALUE_CHARS = 200


def _short(value) -> object:
    """A JSON-safe, bounded copy of an observed or unexpected value."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_short(v) for v in value[:SAMPLE_VALUES]]
    if isinstance(value, dict):
        return {str(k): _short(v) for k, v in list(value.items())[:SAMPLE_VALUES]}
    text = str(value)
    return text if len(text) <= _VALUE_CHARS else text[:_VALUE_CHARS] + "…"


def _failure(label: str, r) -> dict:
    """What the report shows of one failed expectation: its arguments, the observed value,
    how many values failed and a sample of them."""
    res = r.result or {}
    kwargs = {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"}
    return {
        "expectation": label,
        "kwargs": _short(kwargs),
        "observed_value": _short(res.get("observed_value")),
        "unexpected_count": _short(res.get("unexpected_count")),
        "sample": _short(res.get("partial_unexpected_list") or []),
    }


def _merge_failure(failures: dict, label: str, r) -> None:
    """Record a failure; over chunks, counts add up and the sample fills up to SAMPLE_VALUES."""
    new = _failure(label, r)
    old = failures.get(label)
    if old is None:
        failures[label] = new
        return
    if isinstance(old["unexpected_count"], int) and isinstance(new["unexpected_count"], int):
        old["unexpected_count"] += new["unexpected_count"]
    old["sample"] = (old["sample"] + new["sample"])[:SAMPLE_VALUES]


def _label(config) -> str:
    """expect_x(column) or expect_x(a, b): which expectation failed, on which columns."""
    kw = config.kwargs
    cols = [kw[k] for k in ("column", "column_A", "column_B") if kw.get(k)]
    return f"{config.type}({', '.join(cols)})"


def _context(report_dir: Path):
    """An ephemeral context whose only Data Docs site is `<report_dir>/quality/`."""
    context = gx.get_context(mode="ephemeral")
    # No progress bars: the flow logs one line per table instead.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    for name, site in dict(context.config.data_docs_sites or {}).items():
        context.delete_data_docs_site(name)
        # GX made an empty temp folder for its default site; do not leave it behind.
        default_dir = (site.get("store_backend") or {}).get("base_directory")
        if default_dir and Path(default_dir).is_dir() and not any(Path(default_dir).iterdir()):
            Path(default_dir).rmdir()
    context.add_data_docs_site(
        site_name=SITE,
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str((report_dir / SITE).resolve()),
            },
        },
    )
    return context


# BASIC keeps what the Data Docs show a maintainer (observed values, unexpected counts and
# percentages, a sample of unexpected values) and skips GX's default per-value counts and row
# index lists. Those indexes are positions in a chunk, not ids, and computing them filters the
# whole table once more per expectation: BASIC checks ~27% faster (30 MB bench corpus).
RESULT_FORMAT = {"result_format": "BASIC"}

CHUNK_BYTES = 10_000_000  # Arrow bytes of the rows GX checks at a time (its checks need ~100x that)
# A list column (events' incident_ids) becomes an array of Python strings per row in pandas:
# measured on the 1 GB bench store, 10 MB chunks of events took 890 MB at peak, 2.5 MB 550 MB.
LIST_CHUNK_BYTES = 2_500_000
_MIN_CHUNK_ROWS = 1_000


def _chunks(paths: list[Path], table: Table, run_id: str | None = None) -> Iterator[pd.DataFrame]:
    """The rows of a table's partition files in chunks of about CHUNK_BYTES, typed like
    `store.read_table` (page checksums verified); with `run_id`, only the rows that run wrote
    (a partition it rewrote keeps the stored rows it did not make again, with their own run
    id: they were checked by the run that made them)."""
    # Only the footers first (sizes): an open file keeps the bytes of every row group it has
    # read until it is let go, so each is opened when its turn comes and let go after (all
    # open at once, the 1 GB bench figures held +375 MiB by the last chunk, +131 after one).
    metas = [store.open_parquet(p).metadata for p in paths]
    n_rows = sum(m.num_rows for m in metas)
    size = sum(m.row_group(i).total_byte_size for m in metas for i in range(m.num_row_groups))
    lists = any(f.dtype == "object" for f in table.fields)  # list columns (see fields)
    budget = LIST_CHUNK_BYTES if lists else CHUNK_BYTES
    rows = max(_MIN_CHUNK_ROWS, int(budget * n_rows / max(size, 1)))
    pending, n, chunks = [], 0, 0
    for path in paths if n_rows else []:
        try:
            # Small row groups are gathered into chunks.
            for batch in store.open_parquet(path).iter_batches(batch_size=rows):
                if run_id is not None and "run_id" in batch.schema.names:
                    batch = batch.filter(_written_by(batch.column("run_id"), run_id))
                pending.append(pa.Table.from_batches([batch]))
                n += batch.num_rows
                if n >= rows:
                    yield _frame(pending, table)
                    pending, n, chunks = [], 0, chunks + 1
        except store.READ_ERRORS as e:
            raise store.StoreCorrupt(path, e) from None
    if n or not chunks:  # no rows at all: one empty chunk, so the table's suite still runs
        yield _frame(pending, table) if pending else table.empty()


def _written_by(run_ids: pa.Array, run_id: str) -> pa.Array:
    """Which rows run `run_id` wrote, from their `run_id` column."""
    return pc.equal(run_ids.cast(pa.string()), run_id)


def _frame(pieces: list[pa.Table], table: Table) -> pd.DataFrame:
    data = pa.concat_tables(pieces, promote_options="default") if len(pieces) > 1 else pieces[0]
    df = conform(as_pandas(data), table)
    for f in table.fields:
        if f.dtype == "object":
            # Lists as tuples: GX fingerprints each chunk with pandas' hash, which cannot hash
            # the arrays pandas makes of a list column, and then pickles the whole chunk
            # instead (3.8 s of a scheduled run's checks on the 1 GB bench store).
            df[f.name] = [None if v is None else tuple(v) for v in df[f.name]]
    return df


RUN_FILE = "run.json"  # beside the Data Docs: the run whose partitions the report checked


def report_run(report_dir: Path) -> str | None:
    """The run whose tables the report in `report_dir` checked (None: no report, or one that
    was not finished)."""
    try:
        data = json.loads((Path(report_dir) / SITE / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("run_id") if isinstance(data, dict) else None


def run_quality(
    out_dir: Path,
    report_dir: Path,
    tables: list[str] | None = None,
    run_id: str | None = None,
) -> dict:
    """Validate the written tables and build Data Docs.

    With `run_id`, Great Expectations validates only the rows that run wrote, in the
    partitions it wrote (the manifest says which); the checks over the whole store (unique
    ids, every figure's and incident's article stored) read only the id columns of the other
    partitions. Without it,
    every partition is validated (`casualties report`). Returns {"run_id", "evaluated",
    "failed", "index", "tables": {name: {"rows", "chunks", "partitions", "evaluated", "failed",
    "failed_expectations": [label, ...], "failures": [{"expectation", "observed_value",
    "unexpected_count", "sample", ...}, ...]}}}; tables with nothing to validate are left out. Large
    tables are checked in chunks (see `check_frames`). The report records the run it checked
    (`report_run`).
    """
    out_dir = Path(out_dir)
    manifest = store.committed_manifest(out_dir)
    chosen, every = {}, {}
    for name in tables or DEFAULT_TABLES:
        files = store.table_files(out_dir, TABLES[name])
        listing = store.table_listing(manifest, name) or {}
        every[name] = files
        chosen[name] = [
            p
            for p in files
            if run_id is None or not listing or listing.get(p.name, {}).get("run_id") == run_id
        ]
    chunked = {
        name: _chunks(files, TABLES[name], run_id) for name, files in chosen.items() if files
    }
    summary = check_frames(chunked, report_dir)
    index = IdIndex(Path(out_dir) / ID_INDEX, manifest)
    checked = store_checks(chosen, every, index, run_id)
    index.prune()
    # The id hashes (and the Python strings of the events' incident ids) are freed but stay in
    # malloc's heap: on the 1 GB bench store +195 MiB that the report then built on.
    release()
    for name, failed in checked.items():
        entry = summary["tables"].get(name)
        if entry is None or not failed:
            continue
        entry["failed_expectations"] += failed
        entry["failed"] += len(failed)
        summary["failed"] += len(failed)
    for name, entry in summary["tables"].items():
        entry["partitions"] = len(chosen[name])
    # A check of every partition covers the run that committed them too.
    summary["run_id"] = run_id = run_id or manifest.get("run_id")
    record = {"run_id": run_id, "partitions": {n: [p.name for p in f] for n, f in chosen.items()}}
    write_bytes_atomic(
        Path(report_dir) / SITE / RUN_FILE, json.dumps(record, indent=1).encode("utf-8")
    )
    return summary


def _member_hashes(files: list[Path], run_id: str | None = None) -> np.ndarray:
    """64-bit hashes of every incident id listed by the events of `files` (`incident_ids`);
    with `run_id`, by the events that run made."""
    parts = []
    # 20,000 events list ~50,000 ids: hashed as Python strings, a batch at a time.
    for path in files:
        of_run = run_id if "run_id" in store.open_parquet(path).schema_arrow.names else None
        columns = ["incident_ids"] if of_run is None else ["incident_ids", "run_id"]
        for b in iter_batches([path], columns, rows=20_000):
            lists = b.column(0)
            if of_run is not None:
                lists = lists.filter(_written_by(b.column(1), of_run))
            ids = pc.list_flatten(lists).to_pandas()
            parts.append(hash_ids(ids))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


def store_checks(
    chosen: Mapping[str, list[Path]],
    every: Mapping[str, list[Path]],
    index: IdIndex | None = None,
    run_id: str | None = None,
) -> dict:
    """Checks over the whole store that a validation of some partitions cannot see, on the
    id columns only: unique ids across all partitions (64-bit hashes), the article of every
    figure and incident of the checked partitions stored, and every incident an event of the
    checked partitions lists stored (with `run_id`: an event that run made; the events it kept
    lost none of their incidents, or it would have made them again). {table: [failed labels]}.
    `index` keeps the hashes of each partition for the next run (none: read every time)."""
    index = index or IdIndex(None, None)
    failed: dict[str, list[str]] = {}
    articles: np.ndarray | None = None
    for name, files in chosen.items():
        if not files:
            continue
        out = failed.setdefault(name, [])
        for f in TABLES[name].fields:
            # Across partitions and across the chunks GX validated one at a time.
            if f.unique and has_duplicates(partial(index.each, every[name], f.name, True)):
                out.append(f"expect_column_values_to_be_unique({f.name}) across the store")
        if name in ("figures", "incidents") and "articles" in every:
            if articles is None:
                articles = unique_sorted(index.hashes(every["articles"], "article_id"))
            # File by file: the figures of a large run are millions of ids.
            if not all(_among(mine, articles) for mine in index.each(files, "article_id")):
                out.append(f"expect_column_values_to_be_in_set(article_id) of {name}: articles")
        if name == "events" and "incidents" in every:
            incidents = unique_sorted(index.hashes(every["incidents"], "incident_id"))
            if not _among(_member_hashes(files, run_id), incidents):
                out.append("expect_column_values_to_be_in_set(incident_ids) of events: incidents")
    return failed


def _among(values: np.ndarray, members: np.ndarray) -> bool:
    """Whether every one of `values` is in `members` (sorted, unique)."""
    return bool(find_sorted(members, values)[1].all())


def _forget_batches(source) -> None:
    """Drop the chunk GX's execution engine keeps after a validation. Why: GX caches the
    last batch (the whole chunk's DataFrame) per asset for as long as the context lives, and
    the context lives as long as the process (GX's project singleton); measured on the 100 MB
    bench store, 280 MB of chunks stayed alive into the report stage."""
    manager = source.get_execution_engine().batch_manager
    manager.reset_batch_cache()
    manager.batch_data_cache.clear()


def check_frames(
    frames: Mapping[str, pd.DataFrame | Iterable[pd.DataFrame]], report_dir: Path
) -> dict:
    """Run the suites of the named tables on these frames and build Data Docs (see run_quality).

    A table may come as chunks (an iterable of frames): each chunk is one GX validation of the
    table's suite, in memory one at a time; an expectation fails if it fails on any chunk.
    Uniqueness across chunks (and partitions) is `store_checks`'s, which `run_quality` runs.
    """
    report_dir = Path(report_dir)
    # The site shows the latest check only: pages of earlier runs would linger unlinked.
    shutil.rmtree(report_dir / SITE, ignore_errors=True)
    context = _context(report_dir)
    source = context.data_sources.add_pandas("processed")
    summary: dict = {"evaluated": 0, "failed": 0, "tables": {}}
    for name, chunks in frames.items():
        table = TABLES[name]
        batch_def = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe(name)
        suite = context.suites.add(
            gx.ExpectationSuite(name=f"{name}_suite", expectations=expectations_for(table))
        )
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{name}_validation", data=batch_def, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"{name}_checkpoint",
                validation_definitions=[validation],
                result_format=RESULT_FORMAT,
            )
        )
        if isinstance(chunks, pd.DataFrame):
            chunks = [chunks]
        failed: list[str] = []
        failures: dict[str, dict] = {}
        evaluated = rows = n_chunks = 0
        for df in chunks:
            result = checkpoint.run(batch_parameters={"dataframe": df})
            results = [r for run in result.run_results.values() for r in run.results]
            evaluated = len(results)
            for r in results:
                if not r.success:
                    label = _label(r.expectation_config)
                    if label not in failed:
                        failed.append(label)
                    _merge_failure(failures, label, r)
            rows += len(df)
            n_chunks += 1
            del df, result  # before the next chunk is read
            _forget_batches(source)
            release()
        summary["tables"][name] = {
            "rows": rows,
            "chunks": n_chunks,
            "evaluated": evaluated,
            "failed": len(failed),
            "failed_expectations": failed,
            "failures": [failures[label] for label in failed],
        }
        summary["evaluated"] += evaluated
        summary["failed"] += len(failed)
    context.build_data_docs(site_names=[SITE])
    summary["index"] = str((report_dir / SITE / "index.html").resolve())
    return summary
