"""Plain records passed between the extraction steps (no pandas, no Prefect)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class Figure:
    """One number about people in an article, traceable to its words (`text[start:end]`)."""

    start: int
    end: int
    surface: str
    sentence: str
    category: str  # one of fields.CATEGORIES
    low: int
    best: int
    high: int | None  # None = no upper bound stated
    qualifier: str  # one of fields.QUALIFIERS
    rule: str  # name of the lexicon pattern that produced it
    victim_type: str | None = None
    victim_share: str | None = None
    attributed_to: str | None = None
    hedged: bool = False
    claim_by_party: bool = False
    is_aggregate: bool = False
    is_cumulative: bool = False
    is_subset: bool = False
    sentence_start: int = 0  # offset of `sentence` in the text
    incident: int | None = None  # index into ArticleExtraction.incidents
    # In memory only (not a column; `casualties evaluate --explain` prints them): the account
    # (mentions of the same victims) the figure joined, whether it counts in the article
    # total, and why.
    account: int | None = None
    counted: bool = False
    why: str = ""

    def to_dict(self) -> dict:
        """The fields as a flat dict. Every field is a plain value, so a shallow copy is exact
        (and a tenth of the cost of `dataclasses.asdict`'s recursive walk on a batch)."""
        d = self.__dict__
        if tuple(d) == _FIGURE_FIELDS:  # as __init__ set them: a copy of the instance dict
            return d.copy()
        return {name: getattr(self, name) for name in _FIGURE_FIELDS}


_FIGURE_FIELDS = tuple(f.name for f in fields(Figure))


@dataclass
class Incident:
    """One event as one article reports it: its figures' totals and when/where/what/who."""

    start: int  # span of text the incident covers (sentences of its figures)
    end: int
    figure_indices: list[int] = field(default_factory=list)
    counts: dict[str, tuple[int, int, int | None]] = field(default_factory=dict)
    claim_by_party: bool = False
    # Recalled for context (an earlier attack, a conflict-wide toll), not reported as news:
    # kept out of the article total and out of events.
    is_background: bool = False
    # Filled by casualties.extract.describe: date, date_precision, date_text, place, place_text,
    # country, admin1, latitude, longitude, geo_precision, event_type, weapon, target,
    # perpetrator, perpetrator_hedged.
    attributes: dict = field(default_factory=dict)


@dataclass
class ArticleExtraction:
    """Everything extracted from one article text."""

    figures: list[Figure]
    incidents: list[Incident]
    totals: dict[str, tuple[int, int, int | None]]  # category -> (low, best, high)
    # Figures whose count is above article.MAX_PLAUSIBLE_COUNT: in no incident or total.
    implausible: list[Figure] = field(default_factory=list)
