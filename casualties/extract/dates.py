"""When an incident happened: date phrases found in text, resolved against the publication date.

Candidate phrases are found with regular expressions, each tried only next to a word its
matches must contain (a month name, a weekday, a year, "ago", "week" ...): one scan finds those
words for every pattern, instead of one scan of the whole text per pattern. Absolute phrases
("12 March 2021", "19 March", "March 2020") are read here with a table of month names;
dateparser (English only, imported on first need) is the fallback for a phrase this reader
cannot read, such as an impossible date. Relative phrases ("on Saturday", "yesterday", "last
week") are resolved from the publication date (dateutil's relativedelta for weeks and months).
A resolved date is never after publication: a weekday, or a day and month without a year,
means the most recent such day on or before the publication day.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from dateutil.relativedelta import MO, relativedelta

from casualties.text.scan import first_chars

# Most precise first: when one incident has several date phrases, the most precise one wins.
PRECISION_RANK = {"day": 0, "week": 1, "month": 2, "year": 3, "unknown": 4}

_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"
)
_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}  # date.weekday() numbers
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

# Kinds that need no publication date.
_ABSOLUTE_KINDS = ("absolute_day", "absolute_month", "year")

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

# Anchors: words that every match of some pattern contains, each at the start of a word.
# Month names, weekdays and years are looked for in the text as written, with one flat
# alternation (no group around any part, so the engine skips ahead at C speed to the
# characters an alternative starts with); the years of _YEAR with a hyphen start ISO dates.
# The case-insensitive words are looked for in the case-folded text.
_ANCHORS_AS_WRITTEN = re.compile(
    "|".join((*_MONTH_STEMS, *_WEEKDAY_NAMES, r"1[89]\d\d-", r"20\d\d-", r"1[89]\d\d", r"20\d\d"))
)
_ANCHOR_KIND = {stem: "month" for stem in _MONTH_STEMS} | {day: "weekday" for day in _WEEKDAY_NAMES}
_ANCHORS_FOLDED: dict[str, tuple[str, ...]] = {
    "yesterday": ("yesterday", "overnight", "night"),  # "last night"
    "today": ("today", "tonight", "morning", "afternoon"),  # "this morning"
    "ago": ("ago",),
    "hours": ("hours",),
    "week": ("week",),
    "month_word": ("month",),
    "year_word": ("year",),
}
# Per pattern: its anchor, and how many whitespace-separated words of the pattern can come
# before the anchor ("10 of June 2017": two). A pattern is tried only at its anchors and at
# the word starts of that many words before each, which finds the same matches as a scan of
# the whole text: every match starts at one of those places.
_ANCHORED: dict[str, tuple[str, int]] = {
    "iso": ("iso_year", 0),
    "day_month_year": ("month", 2),
    "month_day_year": ("month", 0),
    "day_month": ("month", 2),
    "month_day": ("month", 0),
    "month_year": ("month", 0),
    "weekday": ("weekday", 1),
    "yesterday": ("yesterday", 1),
    "today": ("today", 2),  # "earlier this morning"
    "days_ago": ("ago", 2),
    "last_hours": ("hours", 4),  # "in the last 24 hours"
    "last_week": ("week", 1),
    "this_week": ("week", 2),
    "last_month": ("month_word", 1),
    "this_month": ("month_word", 2),
    "month": ("month", 1),
    "last_year": ("year_word", 1),
    "year": ("year", 1),
}


# Case folding that keeps every character in place: ASCII capitals, and the non-ASCII letters
# that match an ASCII letter when case is ignored ("ſ" is "s" under re.I).
_FOLD = str.maketrans(
    {chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}
    | {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}
)


def _words_back(n: int) -> re.Pattern:
    """Up to `n` whitespace-separated words right before a position, each made of word
    characters only, read in the reversed text (group i: the i-th word back). It fails when
    one of those words has other characters ("(on", "mid-"): the general way reads those."""
    words = r"\s+(\w+)(?!\S)"
    for _ in range(n - 1):
        words = r"\s+(\w+)(?!\S)(?:" + words + r"|(?!\s+\S))"
    return re.compile(r"(?:" + words + r"|(?!\s+\S))")


_SIMPLE_WORDS_BACK = {n: _words_back(n) for n in range(1, 5)}
_ANY_WORDS_BACK = {n: re.compile(rf"(?:\s+\S+){{1,{n}}}") for n in range(1, 5)}
_WORD_START = re.compile(r"\b\w")
# Per anchor, the most words any of its patterns has before it; per pattern, the characters
# a match can start with (to skip, without trying the pattern, the places it cannot start).
_MOST_WORDS_BEFORE: dict[str, int] = {}
for _anchor, _words in _ANCHORED.values():
    _MOST_WORDS_BEFORE[_anchor] = max(_words, _MOST_WORDS_BEFORE.get(_anchor, 0))
_FIRST_CHARS = {name: first_chars(pattern)[0] for name, pattern, _kind in _PATTERNS}


def _folded(text: str) -> str:
    """`text` with case folded for the case-insensitive anchors, each character in place."""
    folded = text.lower()
    if text.isascii():
        return folded
    # lower() keeps every character in place but "İ" (it becomes two) and leaves "ı" and "ſ"
    # as they are, which re.I matches with "i" and "s"; the table is slower but exact.
    if len(folded) != len(text) or "ı" in folded or "ſ" in folded:
        return text.translate(_FOLD)
    return folded


def _anchors(text: str, relative: bool = True) -> dict[str, list[int]]:
    """Where each anchor occurs in `text` (start offsets, in order); without `relative`, not
    the case-insensitive ones (only relative phrases have them)."""
    found: dict[str, list[int]] = {}
    # No leading \b: without one the engine skips ahead to the possible first characters
    # at C speed (a word inside a word is harmless: the pattern tried there has its own \b).
    for m in _ANCHORS_AS_WRITTEN.finditer(text):
        word = m.group()
        kind = _ANCHOR_KIND.get(word) or ("iso_year" if word[-1] == "-" else "year")
        found.setdefault(kind, []).append(m.start())
    if not relative:
        return found
    folded = _folded(text)
    for anchor, words in _ANCHORS_FOLDED.items():
        at: list[int] = []
        for word in words:
            i = folded.find(word)
            while i >= 0:
                at.append(i)
                i = folded.find(word, i + 1)
        if at:
            found[anchor] = sorted(at) if len(words) > 1 else at
    return found


def _starts(text: str, reversed_text: str, anchors: list[int], words_before: int) -> list[int]:
    """Every place where a match with up to `words_before` words before one of `anchors` can
    start: the anchors, and the word starts among the words right before each (sorted)."""
    out = list(anchors)
    n = len(text)
    simple = _SIMPLE_WORDS_BACK[words_before].match
    words = range(1, words_before + 1)
    for at in anchors:
        m = simple(reversed_text, n - at)
        if m is None:  # a word with other characters than word characters: all word starts
            m = _ANY_WORDS_BACK[words_before].match(reversed_text, n - at)
            assert m is not None  # the simple pattern fails only where a word follows
            out += [w.start() for w in _WORD_START.finditer(text, n - m.end(), at)]
            continue
        for i in words:  # the common case: each word is one word start
            end = m.end(i)
            if end < 0:  # no more words
                break
            out.append(n - end)
    return sorted(set(out))


_KIND = {name: kind for name, _pattern, kind in _PATTERNS}
# Per pattern, in order: what `pattern_matches` needs of it.
_PLAN = [
    (name, pattern.match, kind in _ABSOLUTE_KINDS, *_ANCHORED[name], _FIRST_CHARS[name])
    for name, pattern, kind in _PATTERNS
]


def pattern_matches(text: str, relative: bool = True) -> dict[str, list[re.Match]]:
    """Per pattern name, in the order of the patterns, the matches of the pattern in `text`
    as `finditer` gives them (found from the anchors; patterns without a match are left
    out). Without `relative`, only the patterns that need no publication date."""
    anchors = _anchors(text, relative)
    if not anchors:
        return {}
    reversed_text = text[::-1]
    near: dict[str, list[int]] = {}  # per anchor: where its patterns can start
    out = {}
    for name, match, absolute, anchor, words_before, first in _PLAN:
        if not (relative or absolute):
            continue
        positions = anchors.get(anchor)
        if positions is None:
            continue
        if words_before:
            if anchor not in near:
                most = _MOST_WORDS_BEFORE[anchor]
                near[anchor] = _starts(text, reversed_text, positions, most)
            positions = near[anchor]
            if first is not None:
                positions = [s for s in positions if text[s] in first]
        # pattern.finditer(text), given every position where a match can start
        found = []
        pos = 0
        for s in positions:
            if s >= pos:
                m = match(text, s)
                if m is not None:
                    found.append(m)
                    pos = m.end()
        if found:
            out[name] = found
    return out


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
    from dateparser.date import DateDataParser  # noqa: PLC0415  (loads on first use, see above)

    settings: dict[str, str | datetime] = {
        "PREFER_DATES_FROM": "past",
        "PREFER_DAY_OF_MONTH": "first",
    }
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


# A day and month, a month and day, or a month alone, as the absolute patterns write them
# without a year ("19 March", "10th June", "Sept. 3", "March"). ASCII digits only.
_WITHOUT_YEAR = re.compile(
    r"(?P<d1>\d\d?)(?:st|nd|rd|th)? (?P<m1>[A-Za-z]+)\.?"
    r"|(?P<m2>[A-Za-z]+)\.? (?P<d2>\d\d?)(?:st|nd|rd|th)?"
    r"|(?P<m3>[A-Za-z]+)\.?",
    re.ASCII,
)
# What `read_absolute` returns for a phrase it cannot read (dateparser's turn).
UNREADABLE = object()


def _latest_on_or_before(month: int, day: int, base: date) -> date | None:
    """The most recent `day` of `month` on or before `base`; None for a day the month never
    has ("31 June"). 29 February may be up to eight years back (1896, then 1904)."""
    for year in range(base.year, base.year - 9, -1):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found <= base:
            return found
    return None


def read_absolute(phrase: str, base: date | None) -> tuple[date, str] | None | object:
    """One absolute phrase read with the table of month names: (first day, precision), None
    for an impossible day, or UNREADABLE. With a year it is that date ("12 March 2021",
    "March 2020", "2021-03-12"); without one the most recent such day or month on or before
    `base` (today without `base`), as dateparser reads it with PREFER_DATES_FROM past."""
    direct = _with_year(phrase)
    if direct is not None:
        return direct
    return _without_year(phrase, base)


def _without_year(phrase: str, base: date | None) -> tuple[date, str] | None | object:
    """`read_absolute` for a phrase that states no (valid) year."""
    m = _WITHOUT_YEAR.fullmatch(phrase.replace(" of ", " "))
    if m is None:
        return UNREADABLE
    day, name = (m["d1"], m["m1"]) if m["d1"] else (m["d2"], m["m2"] or m["m3"])
    month = _MONTH_NUMBER.get(name.lower())
    if month is None:
        return UNREADABLE
    if base is None:
        base = date.today()  # dateparser's default base: now
    if day is None:
        first = date(base.year, month, 1)
        return (first if first <= base else first.replace(year=base.year - 1)), "month"
    if not 1 <= int(day) <= 31:
        return UNREADABLE
    found = _latest_on_or_before(month, int(day), base)
    return None if found is None else (found, "day")


def dateparser_absolute(phrase: str, base: date | None) -> tuple[date, str] | None:
    """One absolute phrase read by dateparser: the fallback, and the reference that
    `read_absolute` is tested against."""
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


_PREPOSITION = re.compile(r"^(?:in|during|since|early|late|mid-?|last)\s+")


@lru_cache(maxsize=20000)
def _bare(phrase: str) -> tuple[str, tuple[date, str] | None]:
    """A matched absolute phrase without its preposition ("in March": "March"), and its date
    when it states its year (most do; cached by phrase alone, for every article)."""
    bare = _PREPOSITION.sub("", phrase)
    return bare, _with_year(bare)


@lru_cache(maxsize=20000)
def _on_or_before(bare: str, base: date | None) -> tuple[date, str] | None:
    """A phrase without a (valid) year, resolved against `base`; dateparser reads those this
    module cannot."""
    got = _without_year(bare, base)
    if got is UNREADABLE:
        return dateparser_absolute(bare, base)
    assert got is None or isinstance(got, tuple)  # UNREADABLE is the only other answer
    return got


def _absolute(phrase: str, month_only: bool, base: date | None) -> tuple[date, str] | None:
    """A matched absolute phrase ("in March", "19 March 2021") resolved; `month_only`: the
    first day of its month."""
    bare, got = _bare(phrase)
    if got is None:
        got = _on_or_before(bare, base)
        if got is None:
            return None
    if month_only:
        return got[0].replace(day=1), "month"
    return got


def _resolve(kind: str, m: re.Match, base: date | None) -> tuple[date, str] | None:
    """Resolve one matched phrase of `kind`; relative kinds need the publication day `base`."""
    if kind == "absolute_day":
        return _absolute(m.group(0), False, base)
    if kind == "absolute_month":
        return _absolute(m.group(0), True, base)
    if kind == "year":
        return date(int(m.group(1)), 1, 1), "year"
    if base is None:
        return None
    if kind == "weekday":
        days_back = (base.weekday() - _WEEKDAYS[m.group(1).lower()]) % 7  # 0: the same day
        return base - timedelta(days=days_back), "day"
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
    # Relative phrases resolve to nothing without a publication date: not even looked for.
    for name, matches in pattern_matches(text, relative=base is not None).items():
        kind = _KIND[name]
        for m in matches:
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
