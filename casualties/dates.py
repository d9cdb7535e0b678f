"""When an incident happened: date phrases found in text, resolved against the publication date.

Candidate phrases are found with regular expressions (cheap, on every incident); only absolute
phrases ("12 March 2021", "March 2020") are handed to dateparser, restricted to English, with a
cache. Relative phrases ("on Saturday", "yesterday", "last week") are resolved with
dateutil's relativedelta from the publication date. A resolved date is never after publication:
a weekday means the most recent such day on or before the publication day.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

from casualties.fastscan import FastScan, fast

# Most precise first: when one incident has several date phrases, the most precise one wins.
PRECISION_RANK = {"day": 0, "week": 1, "month": 2, "year": 3, "unknown": 4}

_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"
)
_WEEKDAYS = {
    "monday": MO,
    "tuesday": TU,
    "wednesday": WE,
    "thursday": TH,
    "friday": FR,
    "saturday": SA,
    "sunday": SU,
}
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_NUMWORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}

# (name, pattern, kind). Order matters only for overlapping matches: earlier patterns win,
# so the longer absolute forms come before their shorter pieces.
_PATTERNS: list[tuple[str, re.Pattern, str]] = [
    ("iso", re.compile(rf"\b{_YEAR}-[01]\d-[0-3]\d\b"), "absolute_day"),
    (
        "day_month_year",
        re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTHS},?\s+{_YEAR}\b"),
        "absolute_day",
    ),
    ("month_day_year", re.compile(rf"\b{_MONTHS}\s+{_DAY},?\s+{_YEAR}\b"), "absolute_day"),
    ("day_month", re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTHS}(?![\w-])"), "absolute_day"),
    ("month_day", re.compile(rf"\b{_MONTHS}\s+{_DAY}\b(?!\s*(?:,\s*)?\d)"), "absolute_day"),
    ("month_year", re.compile(rf"\b{_MONTHS},?\s+{_YEAR}\b"), "absolute_month"),
    (
        "weekday",
        re.compile(
            r"\b(?:(?i:on|last|this|early|late|since)\s+)?"
            r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
            r"(?:\s+(?:morning|afternoon|evening|night))?\b"
        ),
        "weekday",
    ),
    (
        "yesterday",
        re.compile(r"\b(?:yesterday|last night|overnight)(?:\s+(?:morning|evening))?\b", re.I),
        "yesterday",
    ),
    (
        "today",
        re.compile(r"\b(?:earlier\s+)?(?:today|this morning|this afternoon|tonight)\b", re.I),
        "today",
    ),
    (
        "days_ago",
        re.compile(
            r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)\s+days?\s+ago\b", re.I
        ),
        "days_ago",
    ),
    # A window ending at publication ("in the last 24 hours"): its first day.
    (
        "last_hours",
        re.compile(r"\b(?:in|over|during) the (?:last|past) (?:24|twenty-four|48) hours\b", re.I),
        "yesterday",
    ),
    ("last_week", re.compile(r"\b(?:last|past|previous)\s+week(?:end)?\b", re.I), "last_week"),
    ("this_week", re.compile(r"\b(?:earlier\s+)?this\s+week\b", re.I), "this_week"),
    ("last_month", re.compile(r"\blast\s+month\b", re.I), "last_month"),
    ("this_month", re.compile(r"\b(?:earlier\s+)?this\s+month\b", re.I), "this_month"),
    # "in March", "last March": a month without a year. Needs a preposition, since "May" is
    # also a verb and "March" a noun.
    (
        "month",
        re.compile(rf"\b(?:in|during|since|early|late|mid-?|last)\s+{_MONTHS}(?![\w-])(?!\s+\d)"),
        "absolute_month",
    ),
    ("last_year", re.compile(r"\blast\s+year\b", re.I), "last_year"),
    # "in 2014": a bare year needs a preposition, otherwise it is a number, a count or a name.
    (
        "year",
        re.compile(rf"\b(?:in|during|since|early|late|mid-?|of|by)\s+({_YEAR})\b(?![-–]|\s*%)"),
        "year",
    ),
]


_MONTH_STEMS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Per pattern name: words a match must contain (any one of them), so that a text without any
# is not scanned at all (most texts name no weekday, "ago" or "week"). Case-sensitive words
# are looked up in the text as written; case-insensitive ones (`True`) in its lower-cased
# form, for ASCII texts only (non-ASCII letters such as "ſ" fold to ASCII ones under re.I).
_NEEDS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "iso": (False, ("-",)),
    "day_month_year": (False, _MONTH_STEMS),
    "month_day_year": (False, _MONTH_STEMS),
    "day_month": (False, _MONTH_STEMS),
    "month_day": (False, _MONTH_STEMS),
    "month_year": (False, _MONTH_STEMS),
    "weekday": (False, _WEEKDAY_NAMES),
    "yesterday": (True, ("yesterday", "last night", "overnight")),
    "today": (True, ("today", "this morning", "this afternoon", "tonight")),
    "days_ago": (True, ("ago",)),
    "last_hours": (True, ("hours",)),
    "last_week": (True, ("week",)),
    "this_week": (True, ("week",)),
    "last_month": (True, ("month",)),
    "this_month": (True, ("month",)),
    "month": (False, _MONTH_STEMS),
    "last_year": (True, ("year",)),
    "year": (False, ("18", "19", "20")),
}


# Where a match of a pattern that starts with its month name ("March 19, 2021") can start: at
# a month name. A sharper gate for FastScan than the capitals it would use (the pattern's own
# \b is checked by the pattern; a look-behind here would make the gate itself slow).
_MONTH_START = re.compile("(?:" + "|".join(_MONTH_STEMS) + ")")
_STARTS_WITH_MONTH = ("month_day_year", "month_day", "month_year")
_SCANS = {
    name: FastScan(pattern, _MONTH_START) if name in _STARTS_WITH_MONTH else fast(pattern)
    for name, pattern, _kind in _PATTERNS
}


def _may_match(name: str, text: str, low: str | None) -> bool:
    """False only when pattern `name` provably has no match in `text` (`low`: the
    lower-cased text when it is ASCII, else None)."""
    icase, words = _NEEDS[name]
    if icase:
        if low is None:
            return True
        return any(w in low for w in words)
    return any(w in text for w in words)


@dataclass(frozen=True)
class DateMention:
    """A date phrase in text and what it resolves to (`date` is the first day of the period)."""

    start: int
    end: int
    text: str
    date: date
    precision: str  # one of fields.DATE_PRECISIONS
    reporting: bool = False  # "officials said on Sunday": when it was told, not when it happened

    def rank(self) -> tuple[int, int]:
        return PRECISION_RANK[self.precision], int(self.reporting)


# A date right after a reporting verb dates the report, not the incident.
_REPORTING = re.compile(
    r"\b(?:said|says|announced|reported|told|added|confirmed|stated|claimed)\s+(?:\w+\s+)?$"
)


@lru_cache(maxsize=512)
def _parser(base: date | None):
    """A dateparser parser for one publication day (its settings are fixed at construction).

    Imported lazily: dateparser loads its language data on first use. English only, so it
    never loads other locales; it does no network access.
    """
    from dateparser.date import DateDataParser

    settings = {"PREFER_DATES_FROM": "past", "PREFER_DAY_OF_MONTH": "first"}
    if base is not None:
        settings["RELATIVE_BASE"] = datetime(base.year, base.month, base.day)
    return DateDataParser(languages=["en"], settings=settings)


_MONTH_NUMBER = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}  # fmt: skip
_PIECES = re.compile(r"\d{4}|\d{1,2}|[A-Za-z]+")


def _with_year(phrase: str) -> tuple[date, str] | None:
    """A phrase that states its year ("12 March 2021", "December 16, 1993", "March 2020",
    "2021-03-12") read directly: no need for dateparser's search (it is the common, hot case)."""
    year = month = day = None
    for piece in _PIECES.findall(phrase):
        if len(piece) == 4 and piece.isdigit():
            year = int(piece)
        elif piece.isdigit():
            if month is None and "-" in phrase and day is None and year is not None:
                month = int(piece)  # ISO: year-month-day
            else:
                day = int(piece)
        elif piece.lower() in _MONTH_NUMBER:
            month = _MONTH_NUMBER[piece.lower()]
    if year is None or month is None:
        return None
    try:
        if day is None:
            return date(year, month, 1), "month"
        return date(year, month, day), "day"
    except ValueError:
        return None


@lru_cache(maxsize=20000)
def _parse_absolute(phrase: str, base: date | None) -> tuple[date, str] | None:
    """One absolute phrase. With a year it is read directly; without one ("19 March") dateparser
    gives the most recent such day on or before `base`."""
    direct = _with_year(phrase)
    if direct is not None:
        return direct
    data = _parser(base).get_date_data(phrase.replace(" of ", " "))
    if data is None or data.date_obj is None:
        return None
    d = data.date_obj.date()
    precision = data.period if data.period in PRECISION_RANK else "day"
    if precision == "month":
        d = d.replace(day=1)
    elif precision == "year":
        d = d.replace(month=1, day=1)
    return d, precision


def _resolve(kind: str, m: re.Match, base: date | None) -> tuple[date, str] | None:
    """Resolve one matched phrase of `kind`; relative kinds need the publication day `base`."""
    if kind in ("absolute_day", "absolute_month"):
        phrase = m.group(0)
        phrase = re.sub(r"^(?:in|during|since|early|late|mid-?|last)\s+", "", phrase)
        got = _parse_absolute(phrase, base)
        if got is None:
            return None
        if kind == "absolute_month":
            return got[0].replace(day=1), "month"
        return got
    if kind == "year":
        return date(int(m.group(1)), 1, 1), "year"
    if base is None:
        return None
    if kind == "weekday":
        wd = _WEEKDAYS[m.group(1).lower()]
        return base + relativedelta(weekday=wd(-1)), "day"
    if kind == "yesterday":
        return base - timedelta(days=1), "day"
    if kind == "today":
        return base, "day"
    if kind == "days_ago":
        n = m.group(1).lower()
        n = _NUMWORDS[n] if n in _NUMWORDS else int(n)
        return base - timedelta(days=n), "day"
    if kind == "last_week":
        return base + relativedelta(weeks=-1, weekday=MO(-1)), "week"
    if kind == "this_week":
        return base + relativedelta(weekday=MO(-1)), "week"
    if kind == "last_month":
        return (base + relativedelta(months=-1)).replace(day=1), "month"
    if kind == "this_month":
        return base.replace(day=1), "month"
    if kind == "last_year":
        return date(base.year - 1, 1, 1), "year"
    return None


def _as_date(published) -> date | None:
    if published is None:
        return None
    try:
        if published != published:  # NaT / NaN
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(published, datetime):
        return published.date()
    if isinstance(published, date):
        return published
    return None


def find_dates(text: str, published=None) -> list[DateMention]:
    """Every date phrase in `text` resolved against `published` (a date or datetime, or None),
    in order of appearance. Phrases that resolve after publication are dropped (they name
    something planned, not the incident); relative phrases are dropped without `published`."""
    base = _as_date(published)
    # Spans taken so far, sorted and not overlapping (bisection keeps long texts linear).
    taken_starts: list[int] = []
    taken_ends: list[int] = []
    out: list[DateMention] = []
    low = text.lower() if text.isascii() else None
    for name, _pattern, kind in _PATTERNS:
        if not _may_match(name, text, low):
            continue
        for m in _SCANS[name].finditer(text):  # the same matches, found faster
            s, e = m.span()
            i = bisect.bisect_left(taken_starts, e)  # spans starting before e: [:i]
            if i and taken_ends[i - 1] > s:
                continue
            got = _resolve(kind, m, base)
            if got is None:
                continue
            # Taken even when dropped below, so that "12 March" inside a future
            # "12 March 2021" is not read again on its own.
            taken_starts.insert(i, s)
            taken_ends.insert(i, e)
            d, precision = got
            if base is not None and d > base:
                continue
            reporting = bool(_REPORTING.search(text, max(0, s - 30), s))
            out.append(DateMention(s, e, m.group(0), d, precision, reporting))
    out.sort(key=lambda dm: dm.start)
    return out


def best_date(mentions: list[DateMention]) -> DateMention | None:
    """The most precise mention, not a reporting date if another will do; among equals the
    earliest date (an incident's own day comes before its aftermath: "a siege that began on
    Friday ended on Saturday"), then the first in the text."""
    if not mentions:
        return None
    return min(mentions, key=lambda dm: (dm.rank(), dm.date, dm.start))
