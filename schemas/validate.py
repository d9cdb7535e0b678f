"""Validate a table and split it: rows that pass, and quarantine rows for those that fail.

`validate(df, "figures", articles=...)` runs three pandera stages lazily (collecting every
failure instead of stopping at the first):

1. raw values: each column casts to its declared dtype; enum columns hold allowed values;
2. the table's `DataFrameModel` (`schemas.models`) on the typed frame: nullability, bounds,
   enums, unique ids, low <= best <= high, dates not after publication;
3. relations to the articles (`schemas.relations`), when `articles` is given.

A row failing any check leaves the table and becomes one quarantine row (stage `validate`,
reason `schema:<table>.<check>` for its first failure, detail naming every failing field).
Nothing raises on bad data; a failure that names no row (which the stages are built to avoid)
quarantines the whole frame rather than letting unchecked rows through.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from casualties.extract.checked import problem_quarantine
from casualties.fields import QUARANTINE, TABLES, Table, conform
from schemas.models import MODELS, raw_schema, row_checks
from schemas.relations import relation_checks, relation_schema

_EXCERPT = 200
# Fields every quarantine row of a table shows after its id: an event's country names its
# partition, so a run that merges only some countries again keeps the rows of the others.
EXCERPT_CONTEXT = {"events": ("country",)}


@dataclass(frozen=True)
class Failure:
    """One failing check on one row (`row` is None when pandera could not name a row)."""

    row: int | None  # a label of the aligned frame's index 0..n-1
    check: str  # stable check name, e.g. "low_le_best", "category_not_null"
    fields: tuple[str, ...]
    value: object


def _short(check: str) -> str:
    """Stable short name of a pandera built-in check ("greater_than_or_equal_to(0)" -> "ge")."""
    prefixes = {
        "not_nullable": "not_null",
        "coerce_dtype": "dtype",
        "dtype": "dtype",
        "greater_than_or_equal_to": "ge",
        "less_than_or_equal_to": "le",
        "isin": "in_set",
        "field_uniqueness": "unique",
    }
    for prefix, short in prefixes.items():
        if check.startswith(prefix):
            return short
    return re.sub(r"\W+", "_", check).strip("_")


def _failures(err: pa.errors.SchemaErrors, df_checks: dict[str, tuple]) -> list[Failure]:
    """Turn pandera's failure_cases into one Failure per (row, check)."""
    out: dict[tuple, Failure] = {}
    for case in err.failure_cases.itertuples(index=False):
        row = None if pd.isna(case.index) else case.index
        if case.schema_context == "Column":
            check = f"{case.column}_{_short(str(case.check))}"
            fields: tuple[str, ...] = (str(case.column),)
        else:
            # Dataframe checks report every column of a failing row; keep one per row.
            check = str(case.check)
            fields = df_checks.get(check, (None, ()))[1]
        out.setdefault((row, check), Failure(row, check, fields, case.failure_case))
    return list(out.values())


def _run(schema_or_model, df: pd.DataFrame, df_checks: dict) -> list[Failure]:
    try:
        schema_or_model.validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        return _failures(err, df_checks)
    return []


def _align(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """The table's columns in order (missing ones take their field's default, null unless
    declared; unknown ones dropped), index 0..n-1."""
    df = df.reset_index(drop=True)
    return pd.DataFrame(
        {
            f.name: df[f.name]
            if f.name in df.columns
            else pd.Series([f.default] * len(df), dtype=object)
            for f in table.fields
        }
    )


def _render(value, limit: int = 60) -> str:
    text = (
        "null"
        if value is None or (not isinstance(value, list | tuple) and pd.isna(value))
        else str(value)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _row(f: Failure) -> int:
    assert f.row is not None  # rowless failures were spread over every row before
    return f.row


def _quarantine_rows(
    table: Table,
    frame: pd.DataFrame,
    typed: pd.DataFrame,
    failures: list[Failure],
    articles: pd.DataFrame | None,
    run_id: str,
) -> pd.DataFrame:
    by_row: dict[int | None, list[Failure]] = {}
    for f in sorted(failures, key=_row):
        by_row.setdefault(f.row, []).append(f)
    provenance = {}
    if articles is not None and len(articles) and "article_id" in frame.columns:
        for col in ("source_file", "line", "doc_id"):
            provenance[col] = dict(zip(articles["article_id"], articles[col], strict=True))
    id_col = table.fields[0].name
    rows = []
    for row, fails in by_row.items():
        # Show typed values where the row got that far (2, not 2.0), else the raw ones.
        rec = typed.loc[row] if row in typed.index else frame.loc[row]
        if table.name == "articles":
            source_file, line, doc_id = rec["source_file"], rec["line"], rec["doc_id"]
        elif provenance:
            art = rec["article_id"]
            source_file = provenance["source_file"].get(art)
            line = provenance["line"].get(art)
            doc_id = provenance["doc_id"].get(art)
        else:
            source_file, line, doc_id = None, None, None
        details = []
        for f in fails:
            values = ", ".join(f"{c}={_render(rec[c])}" for c in f.fields if c in rec.index)
            details.append(
                f"{table.name}.{f.check} failed on field(s) {', '.join(f.fields)}: {values}"
            )
        context = EXCERPT_CONTEXT.get(table.name, ())
        excerpt_fields = dict.fromkeys([id_col, *context, *(c for f in fails for c in f.fields)])
        excerpt = "; ".join(f"{c}={_render(rec[c], 80)}" for c in excerpt_fields if c in rec.index)
        rows.append(
            {
                "source_file": source_file if isinstance(source_file, str) else f"<{table.name}>",
                "line": line,
                "doc_id": doc_id,
                "stage": "validate",
                "reason": f"schema:{table.name}.{fails[0].check}",
                "detail": " | ".join(details),
                "excerpt": excerpt[:_EXCERPT],
                "run_id": run_id,
            }
        )
    return conform(pd.DataFrame(rows), QUARANTINE)


@functools.cache
def _schemas(table_name: str) -> tuple[pa.DataFrameSchema, pa.DataFrameSchema]:
    """(raw, model) schemas of a table, built once per process: pandera caches a model's schema
    per thread, and building it costs more than validating a batch."""
    return raw_schema(TABLES[table_name]), MODELS[table_name].to_schema()


def validate(
    df: pd.DataFrame,
    table_name: str,
    articles: pd.DataFrame | None = None,
    run_id: str = "",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split `df` into (rows of `table_name` that pass every check, quarantine rows).

    `articles` (article_id, text, source_file, line, doc_id) enables the cross-table checks of
    figures and incidents and gives quarantine rows their file and line. The valid frame has
    exactly the table's columns and dtypes; the quarantine frame has QUARANTINE's.
    """
    table = TABLES[table_name]
    frame = _align(df, table)

    # 1. raw values
    raw, model = _schemas(table_name)
    failures = _run(raw, frame, {})
    bad = {f.row for f in failures}
    raw_rowless = None in bad
    if raw_rowless:  # cannot tell which rows: keep none of them unchecked
        bad = set(frame.index)
    typed_src = frame.drop(index=list(bad))
    try:
        typed = conform(typed_src, table).set_axis(typed_src.index)
    except (TypeError, ValueError) as exc:
        failures += [Failure(i, "dtype", (), str(exc)) for i in typed_src.index]
        typed = conform(frame.iloc[0:0], table)

    # 2. the table model, 3. relations to articles
    checks = row_checks(table)
    failures += _run(model, typed, checks)
    if articles is not None:
        rel = relation_checks(table_name, articles)
        if rel:
            failures += _run(relation_schema(table_name, articles), typed, rel)

    rowless = [f for f in failures if f.row is None]
    if rowless:
        failures = [f for f in failures if f.row is not None]
        # A failure that names no row fails every row it was checked on: all rows when the
        # raw stage could not name them (none went on to the typed checks), else the typed ones.
        rows = frame.index if raw_rowless else typed.index
        failures += [Failure(i, r.check, r.fields, r.value) for r in rowless for i in rows]
    failed_rows = {f.row for f in failures}
    valid = typed.drop(index=[i for i in failed_rows if i in typed.index]).reset_index(drop=True)
    quarantine = _quarantine_rows(table, frame, typed, failures, articles, run_id)
    return valid, quarantine


def validate_batch(
    articles: pd.DataFrame,
    figures: pd.DataFrame,
    incidents: pd.DataFrame,
    quarantine: pd.DataFrame,
    run_id: str,
    problems: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Validate one extracted batch: (articles, figures, incidents, quarantine) that passed.

    Figures and incidents are checked against the articles that passed; an article's
    `n_figures` is the number of its figures that passed (counted once, after the checks).
    Failing rows join the batch's read-time `quarantine`, and so do the extraction `problems`
    (`casualties.extract.checked`): an article extraction failed on is left out.

    One article never fails the batch: if validation *raises* (a value pandera cannot even
    handle), the batch is halved until the articles that raise are found; each becomes a
    `validation_error` row and the rest is validated as usual.
    """
    extra = [quarantine.assign(run_id=run_id)]
    if problems is not None and len(problems):
        extra.append(problem_quarantine(problems, articles).assign(run_id=run_id))
        failed = problems.loc[problems["reason"] == "extraction_error", "article_id"]
        articles = articles[~articles["article_id"].isin(failed)].reset_index(drop=True)
    good_articles, good_figures, good_incidents, q_valid = _validate_isolated(
        articles.assign(n_figures=0, run_id=run_id),
        figures.assign(run_id=run_id),
        incidents.assign(run_id=run_id),
        run_id,
    )
    kept = good_figures["article_id"].value_counts()
    good_articles["n_figures"] = (
        good_articles["article_id"].map(kept).fillna(0).astype("Int64").to_numpy()
    )
    return good_articles, good_figures, good_incidents, QUARANTINE.concat([*extra, *q_valid])


def _validate_three(
    articles: pd.DataFrame, figures: pd.DataFrame, incidents: pd.DataFrame, run_id: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[pd.DataFrame]]:
    good_articles, q_articles = validate(articles, "articles", run_id=run_id)
    good_figures, q_figures = validate(figures, "figures", articles=good_articles, run_id=run_id)
    good_incidents, q_incidents = validate(
        incidents, "incidents", articles=good_articles, run_id=run_id
    )
    return good_articles, good_figures, good_incidents, [q_articles, q_figures, q_incidents]


def _validate_isolated(
    articles: pd.DataFrame, figures: pd.DataFrame, incidents: pd.DataFrame, run_id: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[pd.DataFrame]]:
    """`_validate_three`, halving the batch around the articles on which it raises."""
    try:
        return _validate_three(articles, figures, incidents, run_id)
    except Exception as exc:  # noqa: BLE001  find the article(s) at fault by halving
        if len(articles) <= 1:
            empty = (articles.iloc[:0], figures.iloc[:0], incidents.iloc[:0])
            return (*empty, [_validation_error_rows(articles, exc, run_id)])
    half = len(articles) // 2
    out: list[list] = [[], [], [], []]
    for part in (articles.iloc[:half], articles.iloc[half:]):
        ids = set(part["article_id"])
        result = _validate_isolated(
            part.reset_index(drop=True),
            figures[figures["article_id"].isin(ids)].reset_index(drop=True),
            incidents[incidents["article_id"].isin(ids)].reset_index(drop=True),
            run_id,
        )
        for k in range(3):
            out[k].append(result[k])
        out[3] += result[3]
    good = [
        pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
        for frames in out[:3]
    ]
    return good[0], good[1], good[2], out[3]


def _validation_error_rows(articles: pd.DataFrame, exc: Exception, run_id: str) -> pd.DataFrame:
    rows = articles[["source_file", "line", "doc_id"]].assign(
        stage="validate",
        reason="validation_error",
        detail=f"{type(exc).__name__}: {exc}"[:300],
        excerpt=articles["text"].str.slice(0, _EXCERPT),
        run_id=run_id,
    )
    try:
        return conform(rows, QUARANTINE)
    except Exception:  # noqa: BLE001  the row's own line may be what failed
        return conform(rows.assign(line=None), QUARANTINE)
