"""The one field list: every column of every table, with type, unit and description.

The pandera models (`schemas/`), the Great Expectations suites (`casualties.quality.checks`) and the
data dictionary (`docs/fields.md`) are all generated from `TABLES` below, so a column is described
once. Dtypes are pandas dtypes as they come back from `pd.read_parquet`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

CATEGORIES = (
    "killed",
    "injured",
    "missing",
    "kidnapped",
    "arrested",
    "displaced",
    "casualties",
    "combatants",
)
QUALIFIERS = (
    "exact",
    "at_least",
    "more_than",
    "up_to",
    "fewer_than",
    "approximately",
    "nearly",
    "range",
    "vague",
    "unspecified",
)
VICTIM_TYPES = (
    "civilians",
    "children",
    "women",
    "soldiers",
    "police",
    "militants",
    "perpetrators",
)
VICTIM_SHARES = ("all", "mostly", "including")
DATE_PRECISIONS = ("day", "week", "month", "year", "unknown")
GEO_PRECISIONS = ("exact", "nearby", "admin", "country", "unknown")
EVENT_TYPES = (
    "air_or_drone_strike",
    "shelling_or_artillery",
    "remote_explosive",
    "suicide_bomb",
    "armed_clash",
    "attack",
    "abduction",
    "mob_violence",
    "other",
)
QUARANTINE_STAGES = ("read", "extract", "validate")

UTC_TS = "datetime64[ns, UTC]"


@dataclass(frozen=True)
class Field:
    """One column: its name, pandas dtype, unit, meaning and the rules its values follow."""

    name: str
    dtype: str  # "string", "Int64", "boolean", "float64", "category", UTC_TS, "object"
    description: str
    unit: str = ""
    nullable: bool = True
    unique: bool = False
    categories: tuple[str, ...] = ()  # allowed values when dtype == "category"
    ge: float | None = None  # inclusive lower bound
    le: float | None = None  # inclusive upper bound
    # Value of the column in rows that lack it (a table written before the column existed);
    # None = null.
    default: object = None

    def pandas_dtype(self):
        """The dtype object pandas uses for this column."""
        if self.dtype == "category":
            return pd.CategoricalDtype(list(self.categories))
        return self.dtype


@dataclass(frozen=True)
class Table:
    """A table of `processed/`: its name, description and ordered fields."""

    name: str
    description: str
    fields: tuple[Field, ...] = field(default_factory=tuple)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def empty(self) -> pd.DataFrame:
        """An empty frame with this table's columns and dtypes."""
        return conform(pd.DataFrame({c: [] for c in self.columns}), self)

    def concat(self, frames: list[pd.DataFrame | None]) -> pd.DataFrame:
        """The non-empty `frames` one below the other, conformed to this table."""
        frames = [f for f in frames if f is not None and len(f)]
        if not frames:
            return self.empty()
        return conform(pd.concat([conform(f, self) for f in frames], ignore_index=True), self)


# Arrow types read straight into pandas' nullable dtypes (without this, an integer column
# with nulls would come as floats).
_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get


def as_pandas(data: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """Arrow rows as pandas, with one Python string per distinct value of a string column.

    Why: the pandas metadata a file carries makes pyarrow build `string` columns through
    pandas, one new Python string per row (~1 KB an incident row in all); read as objects, equal
    values share one string (~0.5 KB a row), and `conform` gives the same dtypes after."""
    return data.to_pandas(ignore_metadata=True, types_mapper=_NULLABLE)


def conform(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return `df` with exactly `table`'s columns, in order, cast to their declared dtypes.

    Missing columns are added with their field's `default` (null unless declared), so a table
    written before a column existed still conforms; extra columns are dropped. Casting errors
    propagate: validation (pandera) is what reports bad values, this only sets types.
    """
    out = pd.DataFrame(index=df.index)
    for f in table.fields:
        if f.name in df.columns:
            col = df[f.name]
        else:
            col = pd.Series([f.default] * len(df), index=df.index, dtype=object)
        if f.dtype == UTC_TS:
            out[f.name] = pd.to_datetime(col, utc=True, errors="coerce").astype(UTC_TS)
        elif f.dtype == "object":
            out[f.name] = col.astype(object)
        else:
            out[f.name] = col.astype(f.pandas_dtype())
    return out.reset_index(drop=True)


def _count_triples(what: str) -> tuple[Field, ...]:
    """low/best/high for every category: the counts of an incident, event or article total."""
    out = []
    for cat in CATEGORIES:
        out += [
            Field(
                f"{cat}_low",
                "Int64",
                f"Lowest number of people {cat} the {what} supports.",
                unit="people",
                ge=0,
            ),
            Field(
                f"{cat}_best",
                "Int64",
                f"Best (conservative) number of people {cat}.",
                unit="people",
                ge=0,
            ),
            Field(
                f"{cat}_high",
                "Int64",
                f"Highest number of people {cat}; null means no upper bound was stated.",
                unit="people",
                ge=0,
            ),
        ]
    return tuple(out)


RUN_ID = Field(
    "run_id",
    "string",
    "Id of the pipeline run that wrote the row (a row a later run keeps as it was, such as an "
    "event no new report touched, keeps the id of the run that made it).",
    nullable=False,
)

_WHEN_WHERE_WHAT_WHO = (
    Field(
        "date",
        UTC_TS,
        "Date of the incident resolved against the publication date (midnight "
        "UTC of the first day of the period at `date_precision`).",
    ),
    Field("date_precision", "category", "How precise `date` is.", categories=DATE_PRECISIONS),
    Field("place", "string", "Place name as resolved (city, town or district)."),
    Field("country", "string", "Country name of the place."),
    Field("admin1", "string", "First-level administrative area (province, governorate, state)."),
    Field("latitude", "float64", "Latitude of the place (WGS84).", unit="degrees", ge=-90, le=90),
    Field(
        "longitude", "float64", "Longitude of the place (WGS84).", unit="degrees", ge=-180, le=180
    ),
    Field(
        "geo_precision",
        "category",
        "exact = the named place; nearby = a district or spot in it; admin = admin area; "
        "country = country only.",
        categories=GEO_PRECISIONS,
    ),
    Field(
        "event_type",
        "category",
        "What happened, compatible with ACLED sub-event types.",
        categories=EVENT_TYPES,
    ),
    Field("perpetrator", "string", "Who the text says did it."),
    Field(
        "perpetrator_hedged",
        "boolean",
        "True when the text weakens the attribution ('believed to', 'suspected').",
    ),
)

ARTICLES = Table(
    "articles",
    "One row per distinct article text (the same text twice is stored once).",
    (
        Field(
            "article_id",
            "string",
            "Content hash of the text (sha256, first 16 hex digits).",
            nullable=False,
            unique=True,
        ),
        Field(
            "doc_id",
            "string",
            "Id given by the source: JSONL `id`, or the .txt path relative to raw/.",
            nullable=False,
        ),
        Field("title", "string", "Title: JSONL `title`, or a .txt file's first non-empty line."),
        Field("published", UTC_TS, "Publication time in UTC; null when absent or unparseable."),
        Field("source", "string", "Publisher or feed name."),
        Field("url", "string", "Address of the article."),
        Field("text", "string", "Full article text as read (decoded to Unicode).", nullable=False),
        Field(
            "source_file", "string", "File under raw/ it came from (relative path).", nullable=False
        ),
        Field("line", "Int64", "Line number in a JSONL file (1-based); null for .txt.", ge=1),
        Field(
            "n_figures",
            "Int64",
            "Number of figures extracted from the article.",
            ge=0,
            nullable=False,
        ),
        RUN_ID,
    ),
)

FIGURES = Table(
    "figures",
    "One row per number about people found in an article, with its exact words.",
    (
        Field("figure_id", "string", "article_id:start-end.", nullable=False, unique=True),
        Field("article_id", "string", "The article it was found in.", nullable=False),
        Field(
            "start",
            "Int64",
            "Character offset of `surface` in the article text.",
            unit="characters",
            nullable=False,
            ge=0,
        ),
        Field(
            "end",
            "Int64",
            "Offset one past the end of `surface`.",
            unit="characters",
            nullable=False,
            ge=0,
        ),
        Field("surface", "string", "The exact words: text[start:end].", nullable=False),
        Field("sentence", "string", "The sentence the figure stands in.", nullable=False),
        Field(
            "category", "category", "What the number counts.", categories=CATEGORIES, nullable=False
        ),
        Field(
            "low", "Int64", "Lowest number the words allow.", unit="people", ge=0, nullable=False
        ),
        Field(
            "best",
            "Int64",
            "Best (conservative) reading of the words.",
            unit="people",
            ge=0,
            nullable=False,
        ),
        Field(
            "high",
            "Int64",
            "Highest number the words allow; null = no upper bound stated.",
            unit="people",
            ge=0,
        ),
        Field(
            "qualifier",
            "category",
            "How the words qualify the number (CONVENTIONS).",
            categories=QUALIFIERS,
            nullable=False,
        ),
        Field(
            "victim_type",
            "category",
            "Who the people are, where the text says it.",
            categories=VICTIM_TYPES,
        ),
        Field(
            "victim_share",
            "category",
            "'mostly civilians' → mostly; a subset → including.",
            categories=VICTIM_SHARES,
        ),
        Field("attributed_to", "string", "Source the article gives for the figure."),
        Field(
            "hedged",
            "boolean",
            "The words weaken the claim ('reportedly', 'believed to').",
            nullable=False,
        ),
        Field(
            "claim_by_party",
            "boolean",
            "The figure comes from a party to the fighting.",
            nullable=False,
        ),
        Field(
            "is_aggregate",
            "boolean",
            "A window total ('in the last 24 hours'); not added to incident figures.",
            nullable=False,
        ),
        Field(
            "is_cumulative",
            "boolean",
            "A running toll ('the death toll rose to 41'); it "
            "replaces earlier figures of its incident.",
            nullable=False,
        ),
        Field(
            "is_subset",
            "boolean",
            "Part of another figure ('including 3 children'); never added on top of it.",
            nullable=False,
        ),
        Field(
            "rule",
            "string",
            "Name of the extraction rule that produced the figure.",
            nullable=False,
        ),
        Field("incident_id", "string", "Incident the figure belongs to (null for aggregates)."),
        RUN_ID,
    ),
)

INCIDENTS = Table(
    "incidents",
    "One event in one place at one time as one article reports it, with figures by category.",
    (
        Field("incident_id", "string", "article_id:iN.", nullable=False, unique=True),
        Field("article_id", "string", "The article that reports it.", nullable=False),
        Field("published", UTC_TS, "Publication time of the article."),
        *_WHEN_WHERE_WHAT_WHO,
        Field("date_text", "string", "Words the date was resolved from."),
        Field(
            "place_text", "string", "Words naming the place ('the western neighbourhood of Jazra')."
        ),
        Field("weapon", "string", "Weapon or means where stated."),
        Field("target", "string", "Target where stated ('internet cafe')."),
        Field(
            "claim_by_party",
            "boolean",
            "All its figures come from a party's own claim.",
            nullable=False,
        ),
        Field(
            "is_cumulative",
            "boolean",
            "A figure of it is a running toll ('rose to 41'): across articles it supersedes "
            "earlier reports of the event.",
        ),
        Field(
            "is_background",
            "boolean",
            "Recalled for context, not reported as news (an earlier attack, 'the third "
            "shooting this week', a conflict-wide toll): not in the article total, not in "
            "events. False in rows written before the column existed.",
            nullable=False,
            default=False,
        ),
        Field("n_figures", "Int64", "Figures that belong to the incident.", ge=0, nullable=False),
        *_count_triples("incident"),
        RUN_ID,
    ),
)

EVENTS = Table(
    "events",
    "Incidents from different articles that report the same event, merged and reconciled. "
    "Reports merge only within one country and one calendar year (by the first day their "
    "dates allow: `merge` in `casualties/rules/events.yaml`).",
    (
        Field("event_id", "string", "Stable id of the merged event.", nullable=False, unique=True),
        *_WHEN_WHERE_WHAT_WHO,
        Field(
            "n_sources", "Int64", "Number of distinct articles reporting it.", ge=1, nullable=False
        ),
        Field("disputed", "boolean", "Sources disagree on a count.", nullable=False),
        Field(
            "incident_ids",
            "object",
            "Ids of the merged incidents (list of strings).",
            nullable=False,
        ),
        *_count_triples("event"),
        RUN_ID,
    ),
)

QUARANTINE = Table(
    "quarantine",
    "Rejected input and rows that failed validation, with the rule they broke.",
    (
        Field("source_file", "string", "File under raw/ (relative path).", nullable=False),
        Field("line", "Int64", "Line number (1-based) for JSONL; null for whole files.", ge=1),
        Field("doc_id", "string", "Id of the record, if it had one."),
        Field(
            "stage",
            "category",
            "read = input rejected; extract = extraction failed on an article, or a figure's "
            "count was implausible; validate = a row failed a check.",
            categories=QUARANTINE_STAGES,
            nullable=False,
        ),
        Field(
            "reason",
            "string",
            "Stable code: invalid_json, not_an_object, missing_text, duplicate_id, "
            "binary_content, bad_published, article_too_large, extraction_error, "
            "implausible_count, validation_error, schema:<table>.<check>, ...",
            nullable=False,
        ),
        Field("detail", "string", "Human-readable explanation naming the field."),
        Field("excerpt", "string", "The first 200 characters of the offending input."),
        RUN_ID,
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (ARTICLES, FIGURES, INCIDENTS, EVENTS, QUARANTINE)}


#: How each table's folder is cut into files (`casualties.storage.store` writes them).
PARTITIONS: dict[str, str] = {
    "articles": "one file per JSONL input file; one per folder for one-article (.txt) files",
    "figures": "as `articles`: each row in the file of its article",
    "incidents": "as `articles`: each row in the file of its article",
    "events": "one file per country (events without a country share one)",
    "quarantine": "one file (`all.parquet`)",
}

STORAGE = """Each table is a Parquet dataset folder, `processed/<table>/`, whose files are its
partitions (zstd, page checksums). A run rewrites only the partitions whose inputs changed.
Read a whole table with `pd.read_parquet("processed/<table>")`, or part of it with
`filters=` (files whose statistics cannot match are skipped). `_manifest.json` lists the
partition files of each table and the run that wrote each one (also in each file's schema
metadata, `run_id`)."""


def data_dictionary() -> str:
    """Markdown data dictionary of every table, generated from `TABLES`."""
    lines = [
        "# Data dictionary",
        "",
        "Generated from `casualties/fields.py` by `casualties fields`; do not edit by hand.",
        "",
        " ".join(STORAGE.split()),
        "",
    ]
    for t in TABLES.values():
        lines += [
            f"## `{t.name}`",
            "",
            t.description,
            "",
            f"Stored in `processed/{t.name}/`: {PARTITIONS[t.name]}.",
            "",
            "| column | type | unit | description |",
            "|---|---|---|---|",
        ]
        for f in t.fields:
            desc = f.description
            if f.categories:
                desc += " One of: " + ", ".join(f"`{c}`" for c in f.categories) + "."
            if not f.nullable:
                desc += " Never null."
            lines.append(f"| `{f.name}` | {f.dtype} | {f.unit} | {desc} |")
        lines.append("")
    return "\n".join(lines)
