"""Great Expectations (1.x) suites generated from the field list, run on the written Parquet,
rendered as Data Docs at `<report_dir>/quality/index.html`.

Runs offline: an ephemeral GX context (nothing of GX's own is left on disk but the site),
analytics off. One suite per table, derived from `casualties.fields`: the column list, dtypes,
not-null, enum sets, bounds, unique ids, low <= best <= high per triple, end > start,
dates not after publication. No Prefect here: the flow and `casualties report` both call
`run_quality`.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from casualties.fields import CATEGORIES, TABLES, Table, conform  # noqa: E402
from casualties.quality import SITE  # noqa: E402
from casualties.runtime.memory import release  # noqa: E402
from casualties.storage import store  # noqa: E402
from casualties.storage.merge import stored_paths  # noqa: E402

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
_MIN_CHUNK_ROWS = 1_000


def _chunks(path: Path, table: Table) -> Iterator[pd.DataFrame]:
    """The stored table in chunks of about CHUNK_BYTES, typed like `store.read_table`."""
    pf = pq.ParquetFile(path)
    meta = pf.metadata
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    rows = max(_MIN_CHUNK_ROWS, int(CHUNK_BYTES * meta.num_rows / max(size, 1)))
    if meta.num_rows == 0:
        yield store.read_table(path.parent, table)
        return
    pending, n = [], 0
    for batch in pf.iter_batches(batch_size=rows):  # never spans row groups: gather them
        pending.append(batch)
        n += batch.num_rows
        if n >= rows:
            yield conform(pa.Table.from_batches(pending).to_pandas(), table)
            pending, n = [], 0
    if pending:
        yield conform(pa.Table.from_batches(pending).to_pandas(), table)


def run_quality(out_dir: Path, report_dir: Path, tables: list[str] | None = None) -> dict:
    """Validate the written tables and build Data Docs.

    Returns {"evaluated", "failed", "index", "tables": {name: {"rows", "chunks", "evaluated",
    "failed", "failed_expectations": [label, ...], "failures": [{"expectation",
    "observed_value", "unexpected_count", "sample", ...}, ...]}}}; tables never written are
    skipped. Large tables are checked in chunks (see `check_frames`).
    """
    out_dir = Path(out_dir)
    paths = stored_paths(out_dir, tables or DEFAULT_TABLES)
    chunked = {name: _chunks(path, TABLES[name]) for name, path in paths.items() if path}
    return check_frames(chunked, report_dir)


def _unique_across(seen: dict, name: str, column: str, values: pd.Series) -> None:
    # 64-bit hashes of every chunk's values (8 bytes a row, not the strings themselves).
    seen.setdefault((name, column), []).append(pd.util.hash_pandas_object(values, index=False))


def _has_duplicates(hashes: list[pd.Series]) -> bool:
    values = np.concatenate([h.to_numpy() for h in hashes])
    return len(np.unique(values)) < len(values)


def check_frames(
    frames: Mapping[str, pd.DataFrame | Iterable[pd.DataFrame]], report_dir: Path
) -> dict:
    """Run the suites of the named tables on these frames and build Data Docs (see run_quality).

    A table may come as chunks (an iterable of frames): each chunk is one GX validation of the
    table's suite, in memory one at a time; an expectation fails if it fails on any chunk, and
    uniqueness is checked across chunks too (on 64-bit hashes of the values).
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
        hashes: dict = {}
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
            for f in table.fields:
                if f.unique:
                    _unique_across(hashes, name, f.name, df[f.name])
            rows += len(df)
            n_chunks += 1
            del df, result  # before the next chunk is read
            release()
        if n_chunks > 1:
            for (_, column), h in hashes.items():
                label = f"expect_column_values_to_be_unique({column}) across chunks"
                if _has_duplicates(h):
                    failed.append(label)
                    failures[label] = {"expectation": label, "observed_value": "duplicates"}
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
