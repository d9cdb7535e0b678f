"""Atomic Parquet writes, the manifest of processed inputs, incremental merge, crash recovery.

Layout of `out_dir` (processed/)
--------------------------------
  articles/, figures/, incidents/,         one Parquet dataset folder per table, one file per
  events/, quarantine/                     partition (zstd, page checksums; schema metadata:
                                           run_id, pipeline_version, table)
  _manifest.json                           the last COMPLETED run (written last): which
                                           partition files make each table, and the run that
                                           wrote each one
  _records.parquet                         the keys of every record read from each stored
                                           input (`records`), named by the manifest
  _staging/<run_id>/<table>/               partitions a run rewrote (never read as tables)
  .lock                                    flock held by the run writing out_dir (`run_lock`)

Partitions follow the inputs (`partition_of`): the rows of articles, figures and incidents
that come from one JSONL file are one partition; one-article files share the partition of
their folder. A run rewrites only the partitions of the files it read or dropped (and of
stored articles that lost a duplicate decision to a new one); the others stay as they are.
Events are partitioned by country (keys from `casualties.events.blocks`); quarantine is one
partition (`ALL`).

Every file is written as a hidden temp file in its final directory, fsynced, then renamed with
`os.replace` (atomic on POSIX), and the directory is fsynced: no half-written file is ever
visible under a final name.

Commit protocol (crash-safe across several tables)
--------------------------------------------------
1. The run writes each table into `_staging/<run_id>/` (`write_table(df, staging_dir(...), ...)`
   or, all at once, `commit_run`).
2. COMMIT POINT: `_staging/<run_id>/_manifest.json` is written (atomically), after the run's
   `_records.parquet` beside it.
3. Each staged partition is renamed into its table folder, files of a table folder that the
   manifest does not list (dropped partitions, older layouts) are deleted, the records file is
   renamed to `out_dir/`, then the manifest is renamed to `out_dir/_manifest.json`, then the
   staging folder is removed.
`recover(out_dir)` (the flow calls it at the start of every run, under `run_lock`; `load_manifest`
does the roll-forward part too) finishes step 3 for a staging folder that has its manifest (roll
forward) and deletes staging folders without one (the run died before its commit point: the
previous tables were never touched) and stray temp files. So a SIGKILL at
any moment leaves, in `out_dir`, either all previous tables or (only between the renames of step
3) a mix that the next `recover` completes; `read_table` already reads a committed-but-not-yet-
moved table from staging, so readers using it always see one consistent run.
Belt and braces: the manifest records which run wrote each partition (`tables: {name: {file:
run_id}}`), and `load_manifest` returns an empty manifest (=> full rebuild) if a partition on
disk is missing, unreadable (page checksums are verified on every read) or carries another
run_id (e.g. files written straight into out_dir by code that skipped staging).

Incremental runs (pure helpers; the flow calls them in this order)
------------------------------------------------------------------
  with run_lock(out):                                   # one writer per output folder
      recover(out)                                      # finish/discard an interrupted run
      manifest = load_manifest(out)                     # checks the tables match it
      plan = plan_inputs(inputs, manifest, full=flag)   # to_process / unchanged / removed
      ... read + extract only plan.to_process; each batch goes to merge.RunParts ...
      merge.merge_into(staging_dir(out, run_id), stored_paths, parts, plan.keep_files, ...)
      ... write events and quarantine into the same staging folder ...
      manifest = build_manifest(run_id, plan, all_read_articles, manifest)
      commit(out, manifest)                             # commit point, renames
(`merge_tables(old, new, keep_files, run_id)` + `commit_run(out, tables, manifest)` do the same
for tables held in memory.)
The quarantine must include this run's `discover_inputs` rows (they are recomputed every
run; old ones are dropped). `all_read_articles` is every article row io yielded for the processed
files BEFORE duplicate removal: the commit keeps each file's (line, doc_id, article_id) keys in
`_records.parquet` so that a changed or removed file also reprocesses the unchanged files whose
duplicates it decided.
A file in `to_process` whose reading failed should be left out of `build_manifest(processed=...)`
so the next run retries it. A different pipeline version forces a full rebuild.

Known limits
------------
- Losers of duplicate decisions are not stored, so an incremental run can differ from a full
  rebuild in one corner: a new record that knocks out a stored article which was itself hiding
  an earlier duplicate (the hidden record is not revived). `--full-refresh` settles it.
- A table with zero rows keeps no Parquet dictionary: plain `pd.read_parquet` then gives its
  categoricals without categories (`read_table` restores them).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from casualties import __version__
from casualties.fields import TABLES, Table, as_pandas, conform
from casualties.files import (  # noqa: F401  StoreCorrupt and the readers: the store's API
    READ_ERRORS,
    StoreCorrupt,
    fsync_dir,
    open_parquet,
    read_parquet,
    temp_path,
    write_bytes_atomic,
)
from casualties.storage import ingest as rawio
from casualties.storage import records
from casualties.storage.records import RECORDS_NAME

MANIFEST_NAME = "_manifest.json"
STAGING_NAME = "_staging"
LOCK_NAME = ".lock"
MANIFEST_FORMAT = 4  # 2: tables are folders of partitions; 3: events by country;
# 4: the records read from each input are in `records.RECORDS_NAME`, not in the JSON
ALL = "all"  # the partition key of tables kept whole (events, quarantine)
ROW_GROUP_ROWS = 50_000  # rows per Parquet row group: bounds the Arrow copy held in memory
#: Tables `merge_tables` maintains incrementally (events are recomputed from incidents).
MERGED_TABLES = ("articles", "figures", "incidents", "quarantine")


class StoreBusy(RuntimeError):
    """Another run holds the lock of this output folder."""


def partition_of(source_file: str) -> str:
    """The partition key of the rows read from input `source_file`: the file itself for a
    JSONL file, its folder (ending in "/") for a one-article file."""
    p = PurePosixPath(str(source_file))
    if p.suffix == ".jsonl":
        return str(p)
    return f"{p.parent}/"


def part_file(key: str) -> str:
    """The file name of partition `key` in its table folder: readable, plus a short hash so
    that two keys never share a file."""
    if key == ALL:
        return f"{ALL}.parquet"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key).strip("._")[:80]
    return f"{safe or 'root'}-{hashlib.sha1(key.encode()).hexdigest()[:8]}.parquet"


# ---------------------------------------------------------------------------------------------
# atomic files


def table_dir(out_dir: Path, table: Table) -> Path:
    """The dataset folder of `table` in `out_dir`."""
    return Path(out_dir) / table.name


def table_path(out_dir: Path, table: Table, part: str = ALL) -> Path:
    """The file of partition `part` (a key, see `partition_of`) of `table` in `out_dir`."""
    return table_dir(out_dir, table) / part_file(part)


@functools.cache
def _declared_schema(table: Table) -> pa.Schema:
    # Built once per table: Table.empty() conforms every column (~15 ms for the wide tables).
    return pa.Schema.from_pandas(table.empty(), preserve_index=False)


def _arrow_schema(
    table: Table, sample: pd.DataFrame | None, metadata: Mapping[str, str]
) -> pa.Schema:
    """The file schema of `table`; `sample` (rows to be written) is read for object columns
    only, so it may be None for a table that has none."""
    schema = _declared_schema(table)
    for f in table.fields:
        if f.dtype != "object":
            continue
        assert sample is not None  # a table with object columns is given rows
        values = sample[f.name].dropna().head(1000)
        # Object columns hold lists of strings (events.incident_ids); infer from data if any.
        typ = pa.array(values.tolist()).type if len(values) else pa.list_(pa.string())
        schema = schema.set(schema.get_field_index(f.name), pa.field(f.name, typ))
    meta = dict(schema.metadata or {})
    meta.update({str(k).encode(): str(v).encode() for k, v in metadata.items()})
    meta[b"table"] = table.name.encode()
    return schema.with_metadata(meta)


class TableWriter:
    """Stream DataFrame batches into one Parquet file that appears atomically when closed.

    `with TableWriter(path, table, metadata) as w: w.write(batch)` writes each batch as row
    groups of at most ROW_GROUP_ROWS rows into a hidden temp file beside `path`; a clean exit
    fsyncs it and renames it to `path`; an exception deletes the temp file and leaves `path` as
    it was. Batches are conformed to `table`'s columns and dtypes.
    """

    def __init__(self, path: Path, table: Table, metadata: Mapping[str, str]):
        self.path = Path(path)
        self.table = table
        self.metadata = dict(metadata)
        self.rows = 0
        self._tmp = temp_path(self.path)
        self._fh: IO[bytes] | None = None
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def _open(self, sample: pd.DataFrame | None) -> None:
        self._schema = _arrow_schema(self.table, sample, self.metadata)
        self._fh = open(self._tmp, "wb")  # noqa: SIM115 - closed in close()/abort()
        self._writer = pq.ParquetWriter(
            self._fh, self._schema, compression="zstd", write_page_checksum=True
        )

    def write(self, df: pd.DataFrame) -> None:
        """Append the rows of `df`."""
        df = conform(df, self.table)
        if self._writer is None:
            self._open(df)
        assert self._writer is not None  # opened above
        for start in range(0, len(df), ROW_GROUP_ROWS):
            part = df.iloc[start : start + ROW_GROUP_ROWS]
            arrow = pa.Table.from_pandas(part, schema=self._schema, preserve_index=False)
            self._writer.write_table(arrow)
        self.rows += len(df)

    def write_arrow(self, data: pa.Table) -> None:
        """Append the rows of an Arrow table.

        Rows already as `write` makes them (read from a file a TableWriter wrote for the same
        table, e.g. a run's part file) are written as they are: they were conformed when first
        written, and a pandas round trip would only cost time. Anything else (a table of older
        code) goes through `write`.
        """
        if self._writer is None:
            self._open(self._sample(data))
        if not self._conformed(data):
            self.write(as_pandas(data))
            return
        assert self._writer is not None  # opened above
        for start in range(0, data.num_rows, ROW_GROUP_ROWS):  # same row groups as `write`
            self._writer.write_table(data.slice(start, ROW_GROUP_ROWS))
        self.rows += data.num_rows

    def _conformed(self, data: pa.Table) -> bool:
        # The file's Arrow schema, and every dictionary the declared categories in order: the
        # type alone does not say which categories pandas reads back.
        assert self._schema is not None  # called once the file is open
        if not data.schema.equals(self._schema, check_metadata=False):
            return False
        for f in self.table.fields:
            if f.dtype == "category":
                typ = self._schema.field(f.name).type.value_type
                declared = pa.array(f.categories, type=typ)  # as conform + from_pandas make it
                if not all(c.dictionary.equals(declared) for c in data.column(f.name).chunks):
                    return False
        return True

    def _sample(self, data: pa.Table) -> pd.DataFrame | None:
        # Only object columns (lists) take their Arrow type from the data (`_arrow_schema`),
        # from their first 1,000 values that are set: not the whole table made pandas.
        lists = [f.name for f in self.table.fields if f.dtype == "object"]
        if not lists:
            return None
        return pd.DataFrame(
            {
                name: pd.Series(
                    data.column(name).drop_null().slice(0, 1000).to_pylist()
                    if name in data.column_names
                    else [],
                    dtype=object,
                )
                for name in lists
            }
        )

    def close(self) -> Path:
        """Finish the file and rename it into place; returns the final path."""
        if self._writer is None:
            # A table with no rows: Parquet then keeps no dictionary, so plain pd.read_parquet
            # gives categoricals without categories; read_table restores them.
            self._open(self.table.empty())
        assert self._writer is not None and self._fh is not None  # opened above
        self._writer.close()
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self._tmp, self.path)
        fsync_dir(self.path.parent)
        return self.path

    def abort(self) -> None:
        """Drop the temp file; the final path is untouched."""
        with contextlib.suppress(Exception):
            if self._writer is not None:
                self._writer.close()
        with contextlib.suppress(Exception):
            if self._fh is not None:
                self._fh.close()
        with contextlib.suppress(OSError):
            self._tmp.unlink()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_table(
    df: pd.DataFrame, out_dir: Path, table: Table, metadata: Mapping[str, str], part: str = ALL
) -> Path:
    """Write `df` as partition `part` of `table` in `out_dir` (`table_path`) atomically (temp
    file, fsync, rename), zstd with page checksums, with `metadata` (pipeline version, run id)
    in the Parquet schema metadata.

    Pass `metadata={"run_id": ..., "pipeline_version": ...}`: `load_manifest` compares the
    stored run_id with the manifest. To write a run's tables crash-safely, write them into
    `staging_dir(out_dir, run_id)` and call `commit` (or use `commit_run`).
    """
    path = table_path(out_dir, table, part)
    path.parent.mkdir(parents=True, exist_ok=True)
    with TableWriter(path, table, metadata) as w:
        w.write(df)
    return w.path


def table_metadata(path: Path) -> dict[str, str]:
    """Our schema metadata of a Parquet file (run_id, pipeline_version, table, ...)."""
    meta = pq.read_schema(path).metadata or {}
    return {
        k.decode(): v.decode(errors="replace")
        for k, v in meta.items()
        if k not in (b"pandas", b"ARROW:schema")
    }


def table_listing(manifest: Mapping | None, name: str) -> dict[str, dict] | None:
    """{file: {"run_id", "size", "sha256", "rows"}} of table `name` in a manifest of this
    layout, else None."""
    if not manifest or manifest.get("format") != MANIFEST_FORMAT:
        return None
    listing = (manifest.get("tables") or {}).get(name)
    return dict(listing) if isinstance(listing, dict) else None


def committed_manifest(out_dir: Path) -> dict:
    """The manifest of the last committed run as it is (a committed run still being moved out
    of staging included), without checking the tables; {} if there is none."""
    stages = _committed_stages(Path(out_dir))
    return _read_json((stages[-1] if stages else Path(out_dir)) / MANIFEST_NAME) or {}


def table_files(out_dir: Path, table: Table) -> list[Path]:
    """The partition files that make `table` now, in file-name order.

    The files the last committed run lists; a committed run whose files are still being moved
    out of staging is read where each file is, so tables read together come from one run.
    Without a manifest (tables written directly), every file of the folder.
    """
    out_dir = Path(out_dir)
    stages = _committed_stages(out_dir)
    manifest = _read_json((stages[-1] if stages else out_dir) / MANIFEST_NAME)
    listing = table_listing(manifest, table.name)
    folder = table_dir(out_dir, table)
    if listing is None:
        return sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    files = []
    for name in sorted(listing):
        staged = stages[-1] / table.name / name if stages else None
        files.append(staged if staged is not None and staged.exists() else folder / name)
    return files


def table_rows(files: Iterable[Path]) -> int:
    """Rows of a table from its partition files' footers."""
    total = 0
    for path in files:
        try:
            total += pq.read_metadata(path).num_rows
        except READ_ERRORS as e:
            raise StoreCorrupt(path, e) from None
    return total


def read_files(files: Iterable[Path], table: Table) -> pd.DataFrame:
    """The rows of these partition files, in order, conformed to `table` (checksums verified)."""
    frames = [conform(as_pandas(read_parquet(p)), table) for p in files]
    frames = [f for f in frames if len(f)]
    if not frames:
        return table.empty()
    return conform(pd.concat(frames, ignore_index=True), table)


def read_table(out_dir: Path, table: Table) -> pd.DataFrame:
    """The stored table (all its partitions, checksums verified), or an empty frame with the
    table's dtypes if it does not exist yet. StoreCorrupt names a damaged file."""
    return read_files(table_files(out_dir, table), table)


# ---------------------------------------------------------------------------------------------
# manifest, staging, recovery


def empty_manifest() -> dict:
    """The manifest of an output folder no run has completed in."""
    return {
        "format": MANIFEST_FORMAT,
        "pipeline_version": None,
        "run_id": None,
        "completed_at": None,
        "tables": {},
        "files": {},
    }


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def check_tables(out_dir: Path, manifest: Mapping) -> str | None:
    """Why the stored tables are not the ones `manifest` lists, or None when they are.

    Every listed partition file must exist with the size and sha256 recorded at its commit
    (a damaged page anywhere in it shows here, before any run reads it) and carry the run_id
    of the run that wrote it. Hashing reads each file once, a fraction of decoding it.
    """
    out_dir = Path(out_dir)
    for name in TABLES:
        for file, entry in (table_listing(manifest, name) or {}).items():
            path = out_dir / name / file
            where = f"{name}/{file}"
            try:
                if path.stat().st_size != entry.get("size"):
                    return f"{where} is missing or changed size"
                if _sha256(path) != entry.get("sha256"):
                    return f"{where} is damaged (its checksum differs)"
                stored = table_metadata(path).get("run_id")
            except READ_ERRORS:
                return f"{where} is missing or unreadable"
            if stored != entry.get("run_id"):
                return f"{where} is not the one run {entry.get('run_id')} wrote"
    kept = manifest.get("records")
    if isinstance(kept, dict):
        path = out_dir / RECORDS_NAME
        try:
            if path.stat().st_size != kept.get("size") or _sha256(path) != kept.get("sha256"):
                return f"{RECORDS_NAME} is damaged or not the one the manifest lists"
        except OSError:
            return f"{RECORDS_NAME} is missing or unreadable"
    return None


def load_manifest(out_dir: Path) -> dict:
    """The manifest of the last completed run: {"files": {rel: sha256}, "run_id": ..., ...}.

    Shape: {"format", "pipeline_version", "run_id", "completed_at", "tables": {name: {file:
    {"run_id", "sha256", "size", "rows"}}}, "files": {rel: {"sha256", "size"}}, "records":
    {"file", "rows", "size", "sha256"}}; in memory "records" also has the "path" to read it.
    First finishes a committed but interrupted commit (`recover` without discarding, so it is
    safe while another run writes; the flow calls `recover` itself under `run_lock` to also
    clean up after dead runs). Returns `empty_manifest()` (so the next run is a full rebuild)
    when there is none, it is unreadable or of an older layout, or a partition on disk is not
    the one it lists (`check_tables`); then "stale" says why.
    """
    out_dir = Path(out_dir)
    if out_dir.is_dir():
        recover(out_dir, discard_unfinished=False)
    data = _read_json(out_dir / MANIFEST_NAME)
    if data is None:
        out = empty_manifest()
        if (out_dir / MANIFEST_NAME).exists():
            out["stale"] = "manifest unreadable"
        return out
    if data.get("format") != MANIFEST_FORMAT:
        return empty_manifest() | {"stale": "tables stored in an older layout"}
    manifest = empty_manifest() | data
    problem = check_tables(out_dir, manifest)
    if problem:
        return empty_manifest() | {"stale": problem}
    if isinstance(manifest.get("records"), dict):  # where to read them (not written back)
        manifest["records"] = {**manifest["records"], "path": str(out_dir / RECORDS_NAME)}
    return manifest


def staging_dir(out_dir: Path, run_id: str) -> Path:
    """The folder a run writes its tables into before `commit` (created if needed)."""
    path = Path(out_dir) / STAGING_NAME / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def _committed_stages(out_dir: Path) -> list[Path]:
    root = Path(out_dir) / STAGING_NAME
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / MANIFEST_NAME).exists())


def _roll_forward(out_dir: Path, stage: Path) -> None:
    # Tolerates files already moved or deleted (by an earlier, interrupted roll forward).
    manifest = _read_json(stage / MANIFEST_NAME) or {}
    for name in TABLES:
        staged, folder = stage / name, out_dir / name
        if staged.is_dir():
            folder.mkdir(exist_ok=True)
            for p in sorted(staged.glob("*.parquet")):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(p, folder / p.name)
        listing = table_listing(manifest, name) or {}
        if folder.is_dir():  # dropped partitions, files of older layouts, temp files
            for p in folder.iterdir():
                if p.name not in listing and p.is_file():
                    p.unlink()
            fsync_dir(folder)
        with contextlib.suppress(FileNotFoundError):  # the single file of the older layout
            (out_dir / f"{name}.parquet").unlink()
    with contextlib.suppress(FileNotFoundError):
        os.replace(stage / RECORDS_NAME, out_dir / RECORDS_NAME)
    if "records" not in manifest:  # a manifest without records: none are stored
        with contextlib.suppress(FileNotFoundError):
            (out_dir / RECORDS_NAME).unlink()
    fsync_dir(out_dir)
    with contextlib.suppress(FileNotFoundError):
        os.replace(stage / MANIFEST_NAME, out_dir / MANIFEST_NAME)
    fsync_dir(out_dir)
    shutil.rmtree(stage, ignore_errors=True)
    with contextlib.suppress(OSError):  # the staging root too, once no run is left in it
        stage.parent.rmdir()


def staged_files(out_dir: Path, run_id: str, name: str) -> list[str]:
    """File names of the partitions of table `name` that run `run_id` has staged."""
    folder = Path(out_dir) / STAGING_NAME / run_id / name
    return sorted(p.name for p in folder.glob("*.parquet")) if folder.is_dir() else []


def next_files(out_dir: Path, manifest: Mapping, name: str, drop: Iterable[str] = ()) -> list[Path]:
    """The files table `name` will have once run `manifest["run_id"]` commits: the previous
    run's partitions (from `manifest["tables"]`) less `drop`, with the staged ones instead of
    or besides them; file-name order."""
    out_dir = Path(out_dir)
    stage = Path(out_dir) / STAGING_NAME / manifest["run_id"] / name
    files = {f: out_dir / name / f for f in table_listing(manifest, name) or {}}
    for f in drop:
        files.pop(f, None)
    for f in staged_files(out_dir, manifest["run_id"], name):
        files[f] = stage / f
    return [files[f] for f in sorted(files)]


def commit(out_dir: Path, manifest: dict, drop: Mapping[str, Iterable[str]] | None = None) -> None:
    """Publish the partitions staged in `staging_dir(out_dir, manifest["run_id"])`, then the
    manifest.

    `manifest["tables"]` lists the previous run's partitions ({name: {file: entry}}); the
    partitions in `drop` ({name: [file, ...]}) are removed from it, and each staged one is
    recorded as this run's, with its size, sha256 and rows (`check_tables` compares them).
    """
    out_dir = Path(out_dir)
    run_id = manifest["run_id"]
    stage = staging_dir(out_dir, run_id)
    manifest = dict(manifest)
    manifest["format"] = MANIFEST_FORMAT
    tables = {}
    for name in TABLES:
        listing = table_listing(manifest, name) or {}
        for f in (drop or {}).get(name, ()):
            listing.pop(f, None)
        for f in staged_files(out_dir, run_id, name):
            path = stage / name / f
            listing[f] = {
                "run_id": run_id,
                "size": path.stat().st_size,
                "sha256": _sha256(path),
                "rows": pq.read_metadata(path).num_rows,
            }
        if listing:
            tables[name] = dict(sorted(listing.items()))
    manifest["tables"] = tables
    pending = manifest.get("records")
    if isinstance(pending, records.PendingRecords):
        path = stage / RECORDS_NAME
        rows = pending.write(path)
        manifest["records"] = {
            "file": RECORDS_NAME,
            "rows": rows,
            "size": path.stat().st_size,
            "sha256": _sha256(path),
        }
    elif isinstance(pending, dict):  # the stored file, unchanged
        manifest["records"] = {k: v for k, v in pending.items() if k != "path"}
    manifest["completed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    data = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    write_bytes_atomic(stage / MANIFEST_NAME, data)  # the commit point
    _roll_forward(out_dir, stage)


def partition_keys(df: pd.DataFrame, table: Table, articles: pd.DataFrame | None) -> pd.Series:
    """The partition key of each row of `df`: by `source_file` for articles, by their
    article's for figures and incidents, `ALL` for the other tables."""
    if table.name == "articles":
        files = df["source_file"].astype(str)
    elif table.name in ("figures", "incidents") and articles is not None:
        where = articles.drop_duplicates("article_id").set_index("article_id")["source_file"]
        files = df["article_id"].map(where).astype(str)
    else:
        return pd.Series(ALL, index=df.index)
    return files.map({f: partition_of(f) for f in files.unique()})


def write_partitioned(
    df: pd.DataFrame,
    out_dir: Path,
    table: Table,
    metadata: Mapping[str, str],
    articles: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the rows of `df` into the partition files of `table` in `out_dir`, in their order
    (`partition_keys`; figures and incidents need `articles` to find their partition)."""
    keys = partition_keys(df, table, articles)
    if not len(df):
        return [write_table(df, out_dir, table, metadata, ALL)]
    return [
        write_table(rows, out_dir, table, metadata, key)
        for key, rows in df.groupby(keys.to_numpy(), sort=True)
    ]


def recover(out_dir: Path, discard_unfinished: bool = True) -> list[str]:
    """Finish committed staging folders, delete uncommitted ones and stray temp files.

    Returns one message per action (for the run's log). With `discard_unfinished` (the default)
    call it only while no other run writes `out_dir` (hold `run_lock`): an uncommitted staging
    folder or temp file is then assumed to belong to a dead run. Without it, only committed
    runs are rolled forward, which is always safe.
    """
    out_dir = Path(out_dir)
    done: list[str] = []
    root = out_dir / STAGING_NAME
    if root.is_dir():
        for stage in sorted(root.iterdir()):
            if (stage / MANIFEST_NAME).exists():
                _roll_forward(out_dir, stage)
                done.append(f"completed the interrupted commit of run {stage.name}")
            elif discard_unfinished:
                shutil.rmtree(stage, ignore_errors=True)
                done.append(f"discarded the unfinished run {stage.name}")
        with contextlib.suppress(OSError):
            root.rmdir()
    if not discard_unfinished:
        return done
    for tmp in [*out_dir.glob(".*.tmp"), *out_dir.glob("*/.*.tmp")]:
        with contextlib.suppress(OSError):
            tmp.unlink()
            done.append(f"removed temp file {tmp.name}")
    return done


@contextlib.contextmanager
def run_lock(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on `out_dir` for one run; raises StoreBusy if another run has it.

    The lock is released when the process dies (even by SIGKILL), so it never goes stale.
    While held, `out_dir` is in `held_locks()` (a stopped run discards its staged work there).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _open_lock(out_dir / LOCK_NAME) as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise StoreBusy(
                    f"another run is writing {out_dir}; wait for it to finish and run again"
                ) from None
            raise
        _HELD.append(out_dir.resolve())
        try:
            yield
        finally:
            _HELD.remove(out_dir.resolve())
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


_HELD: list[Path] = []  # output folders whose lock this process holds


def _open_lock(path: Path):
    """The lock file, opened for flock: for writing, else (another user's file) for reading,
    which flock accepts too; StoreBusy in one line if neither is allowed."""
    try:
        return open(path, "a+")  # noqa: SIM115  closed by the caller's `with`
    except PermissionError:
        pass
    try:
        return open(path)  # noqa: SIM115
    except PermissionError as e:
        raise StoreBusy(
            f"cannot open the lock file {path} ({e.strerror}): it belongs to another user; "
            "run as that user, or use another --out"
        ) from None


def held_locks() -> list[Path]:
    """The output folders whose `run_lock` this process holds now."""
    return list(_HELD)


# ---------------------------------------------------------------------------------------------
# incremental planning and merging (pure)


@dataclass
class Plan:
    """Which inputs a run processes; the rest of the stored rows are kept as they are."""

    to_process: list[rawio.RawInput]
    unchanged: list[rawio.RawInput]
    removed: list[str]
    full: bool
    reason: str = ""
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def keep_files(self) -> set[str]:
        """`source_file`s whose stored rows stay (pass to `merge_tables`)."""
        return {i.rel for i in self.unchanged}


def _records_source(manifest: Mapping) -> pa.Table | Path | None:
    """Where the manifest's records are: the stored file (`load_manifest` says where), or a
    table given in memory; None when it has none."""
    entry = manifest.get("records")
    if isinstance(entry, pa.Table):
        return entry
    if isinstance(entry, Mapping) and entry.get("path"):
        return Path(entry["path"])
    return None


def plan_inputs(
    inputs: Iterable[rawio.RawInput],
    manifest: Mapping,
    full: bool = False,
    pipeline_version: str = __version__,
) -> Plan:
    """Split `inputs` into files to (re)process and files whose stored rows stay.

    New and changed files (sha256 differs) are processed; so is every unchanged file that shares
    a doc_id or article_id with a changed or removed file (their duplicates must be re-decided).
    `full`, no manifest, or another pipeline version: everything is processed.
    """
    inputs = sorted(inputs, key=lambda i: i.rel)
    files: Mapping = manifest.get("files") or {}
    reason = ""
    if full:
        reason = "full rebuild requested"
    elif not manifest.get("run_id"):
        reason = manifest.get("stale") or "no completed run yet"
    elif manifest.get("pipeline_version") != pipeline_version:
        reason = f"pipeline version {manifest.get('pipeline_version')} -> {pipeline_version}"
    if reason:
        return Plan(list(inputs), [], [], True, reason, new=[i.rel for i in inputs])

    current = {i.rel for i in inputs}
    new = [i.rel for i in inputs if i.rel not in files]
    changed = [i.rel for i in inputs if i.rel in files and files[i.rel].get("sha256") != i.sha256]
    removed = sorted(rel for rel in files if rel not in current)
    dirty = set(changed) | set(removed)
    redo = set(dirty)
    frontier = set(dirty)
    source = _records_source(manifest)
    # Files whose duplicate decisions depend on a redone file, transitively (read from the
    # records only when a file changed or went).
    while frontier and source is not None:
        frontier = records.sharing_files(source, frontier) & (current - redo)
        redo |= frontier
    to_process = [i for i in inputs if i.rel in redo or i.rel in new]
    unchanged = [i for i in inputs if i.rel not in redo and i.rel not in new]
    parts = [f"{len(new)} new", f"{len(changed)} changed", f"{len(removed)} removed"]
    if len(redo) > len(dirty):
        parts.append(f"{len(redo) - len(dirty) - len(removed)} sharing ids with them")
    return Plan(
        to_process, unchanged, removed, False, "incremental: " + ", ".join(parts), new, changed
    )


def keep_failed(plan: Plan, manifest: Mapping, failed: Iterable[str]) -> Plan:
    """`plan` with the files in `failed` (reading or extraction failed part-way) that a
    completed run stored moved to `unchanged`: their stored rows and manifest entry stay (so
    the next run retries them), and nothing of this run's failed reading replaces them. A
    stored file is replaced only by a successful reading of its new version."""
    stored = manifest.get("files") or {}
    back = {rel for rel in failed if rel in stored} if not plan.full else set()
    if not back:
        return plan
    return Plan(
        to_process=[i for i in plan.to_process if i.rel not in back],
        unchanged=sorted(
            [*plan.unchanged, *(i for i in plan.to_process if i.rel in back)], key=lambda i: i.rel
        ),
        removed=plan.removed,
        full=plan.full,
        reason=plan.reason,
        new=plan.new,
        changed=plan.changed,
    )


def build_manifest(
    run_id: str,
    plan: Plan,
    read_articles: pd.DataFrame | pa.Table | Path | None,
    previous: Mapping,
    processed: Iterable[rawio.RawInput] | None = None,
    pipeline_version: str = __version__,
) -> dict:
    """The manifest of this run (commit adds `tables` and `completed_at`, and writes its
    records).

    `read_articles`: every article row io yielded for the processed files, before duplicate
    removal (needs source_file, line, doc_id, article_id), as a frame, a table or the Parquet
    file the reading wrote them to. `processed`: the files actually read (default
    `plan.to_process`); leave out a file that failed so the next run retries it. The records
    of the kept files come from `previous`'s records file (`records.PendingRecords`).
    """
    prev_files = {} if plan.full else dict(previous.get("files") or {})
    files = {rel: prev_files[rel] for rel in sorted(plan.keep_files) if rel in prev_files}
    processed = plan.to_process if processed is None else list(processed)
    for raw in processed:
        files[raw.rel] = {"sha256": raw.sha256, "size": raw.size}
    source = None if plan.full else _records_source(previous)
    pending = records.PendingRecords(
        previous=source,
        keep=set(files) - {raw.rel for raw in processed},
        new=read_articles,
        processed={raw.rel for raw in processed},
    )
    return {
        "format": MANIFEST_FORMAT,
        "pipeline_version": pipeline_version,
        "run_id": run_id,
        "completed_at": None,
        "tables": dict(previous.get("tables") or {}) if not plan.full else {},
        # On a full rebuild the previous partitions are not listed: commit deletes them.
        "files": dict(sorted(files.items())),
        "records": pending,
    }


def read_columns(files: Iterable[Path], columns: list[str]) -> pd.DataFrame:
    """Some columns of a table's partition files, as pandas (page checksums verified)."""
    frames = [read_parquet(p, columns=columns).to_pandas() for p in files]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


def up_to_date(plan: Plan, skipped: pd.DataFrame, out_dir: Path) -> bool:
    """True when the stored tables are what this run would produce: no file to read or drop,
    and the same files skipped at discovery (with the same reasons) as last time."""
    if plan.full or plan.to_process or plan.removed:
        return False
    known = {i.rel for i in plan.unchanged}
    stored = read_table(out_dir, TABLES["quarantine"])
    stored = stored[(stored["stage"] == "read") & ~stored["source_file"].isin(known)]

    def keys(df: pd.DataFrame) -> list[tuple[str, str]]:
        return sorted(zip(df["source_file"], df["reason"], strict=True))

    return keys(stored) == keys(skipped)


def stored_row_counts(out_dir: Path, names: Iterable[str]) -> dict[str, int]:
    """Rows of each stored table (from the Parquet footers; tables not there are left out)."""
    rows = {}
    for name in names:
        files = table_files(out_dir, TABLES[name])
        if files:
            rows[name] = table_rows(files)
    return rows
