"""pandera `DataFrameModel`s for every table, generated from `casualties.fields`.

No column is written here by hand: each model's annotations and `pa.Field`s come from the
table's `Field`s (dtype, nullability, enum values, bounds), and its row checks from what the
fields say (`unique` ids, low/best/high triples, date vs publication). Checks that need a second
table (a figure's article exists, `text[start:end] == surface`) live in `schemas.relations`.

Every check is row-wise (a boolean Series), so failures name rows and `schemas.validate` can
move exactly those rows to quarantine. Check names are stable: they become quarantine reasons
`schema:<table>.<check>`.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pandera.pandas as pa
from pandera.api.dataframe.model_components import FieldInfo
from pandera.typing import Series

from casualties.fields import CATEGORIES, TABLES, UTC_TS, Field, Table

# pandas dtype of each `Field.dtype` as pandera annotations want it.
_ANNOTATION = {
    "string": Series[pd.StringDtype],
    "Int64": Series[pd.Int64Dtype],
    "boolean": Series[pd.BooleanDtype],
    "float64": Series[float],
    "object": Series[object],
    UTC_TS: Series[pd.DatetimeTZDtype],
    "category": Series[pd.CategoricalDtype],
}

# A date resolved from the text is midnight UTC of a local calendar day; the publication
# time is an instant. Allow the largest time-zone offset so a same-day report is not "after".
DATE_TOLERANCE = pd.Timedelta(hours=14)


def _pa_field(f: Field) -> FieldInfo:
    kwargs: dict = {"nullable": f.nullable}
    if f.dtype == "category":
        kwargs["dtype_kwargs"] = {"categories": list(f.categories), "ordered": False}
        kwargs["isin"] = list(f.categories)
    elif f.dtype == UTC_TS:
        kwargs["dtype_kwargs"] = {"unit": "ns", "tz": "UTC"}
    if f.ge is not None:
        kwargs["ge"] = f.ge
    if f.le is not None:
        kwargs["le"] = f.le
    return pa.Field(**kwargs)


def _row_check(name: str, fn: Callable[[pd.DataFrame], pd.Series]):
    """A named dataframe-level check that returns one boolean per row (True = row passes)."""

    def check(cls, df: pd.DataFrame) -> pd.Series:
        return fn(df).fillna(True).astype(bool)

    check.__name__ = name
    return pa.dataframe_check(name=name, ignore_na=False)(check)


def _not_greater(a: str, b: str) -> Callable[[pd.DataFrame], pd.Series]:
    """Row passes unless both are set and df[a] > df[b] (nulls are checked elsewhere)."""
    return lambda df: ~(df[a] > df[b]).fillna(False)


def row_checks(table: Table) -> dict[str, tuple[Callable, tuple[str, ...]]]:
    """name -> (row function, fields it reads) for every in-table row check of `table`."""
    cols = set(table.columns)
    checks: dict[str, tuple[Callable, tuple[str, ...]]] = {}
    for f in table.fields:
        if f.unique:
            # Keep the first row of an id; later duplicates are the ones quarantined.
            checks[f"{f.name}_unique"] = (
                lambda df, c=f.name: ~df[c].duplicated(keep="first") | df[c].isna(),
                (f.name,),
            )
    prefixes = [""] if {"low", "best", "high"} <= cols else []
    prefixes += [f"{c}_" for c in CATEGORIES if f"{c}_low" in cols]
    for p in prefixes:
        low, best, high = f"{p}low", f"{p}best", f"{p}high"
        checks[f"{low}_le_{best}"] = (_not_greater(low, best), (low, best))
        checks[f"{best}_le_{high}"] = (_not_greater(best, high), (best, high))
    if {"start", "end"} <= cols:
        checks["start_lt_end"] = (
            lambda df: ~(df["start"] >= df["end"]).fillna(False),
            ("start", "end"),
        )
    if {"date", "published"} <= cols:
        checks["date_not_after_published"] = (
            lambda df: ~(df["date"] > df["published"] + DATE_TOLERANCE).fillna(False),
            ("date", "published"),
        )
    return checks


class _Base(pa.DataFrameModel):
    class Config:
        strict = True  # no column the field list does not know
        coerce = True  # store dtypes exactly as fields.py declares them


def build_model(table: Table) -> type[pa.DataFrameModel]:
    """The pandera DataFrameModel class of `table`, generated from its fields."""
    attrs: dict = {"__annotations__": {}, "__doc__": table.description}
    for f in table.fields:
        attrs["__annotations__"][f.name] = _ANNOTATION[f.dtype]
        attrs[f.name] = _pa_field(f)
    for name, (fn, _fields) in row_checks(table).items():
        attrs[f"check_{name}"] = _row_check(name, fn)
    class_name = table.name.capitalize() + "Model"
    return type(class_name, (_Base,), attrs)


MODELS: dict[str, type[pa.DataFrameModel]] = {name: build_model(t) for name, t in TABLES.items()}


def _parses_as_time(s: pd.Series) -> pd.Series:
    return s.isna() | pd.to_datetime(s, utc=True, errors="coerce", format="mixed").notna()


def raw_schema(table: Table) -> pa.DataFrameSchema:
    """Checks on values as they arrive, before casting: each non-enum column casts to its dtype
    (a value that cannot is a failing row), and enum columns hold only allowed values (casting
    to a categorical would silently turn an unknown value into null)."""
    columns = {}
    for f in table.fields:
        if f.dtype == "category":
            columns[f.name] = pa.Column(
                None, pa.Check.isin(list(f.categories)), nullable=True, name=f.name
            )
        elif f.dtype == "object":
            columns[f.name] = pa.Column(None, nullable=True, name=f.name)
        elif f.dtype == UTC_TS:
            # Naive and offset timestamps and ISO strings are fine (read as UTC); junk is not.
            columns[f.name] = pa.Column(
                None,
                pa.Check(_parses_as_time, name="dtype_datetime", ignore_na=False),
                nullable=True,
                name=f.name,
            )
        else:
            columns[f.name] = pa.Column(f.pandas_dtype(), coerce=True, nullable=True, name=f.name)
    return pa.DataFrameSchema(columns, name=f"{table.name}_raw")
