"""News versus background (CONVENTIONS, "Full articles"): whether a sentence recalls an earlier
event or a wider window ("last year's bombing that killed 51", "2,000 have died in the
conflict", "the deadliest attack since 2015") rather than reporting the news. Cues are data in
`rules/articles.yaml`.
"""

from __future__ import annotations

import re
from datetime import date

from dateutil.relativedelta import relativedelta

from casualties.extract import dates
from casualties.extract.context import Gated, alt
from casualties.rules import load

RULES = load("articles")

# searched from the first place one of the cues' first words occurs (most sentences have none)
_CUES = Gated(
    re.compile(r"\b(?:" + "|".join(f"(?:{alt(p)})" for p in RULES["background"].values()) + r")\b")
)
_YEAR = re.compile(RULES["year"])
_RUNNING_TOLL = re.compile(r"\b(?:" + alt(RULES["running_toll"]) + r")\b")
_ASIDE = re.compile(r"\([^()]*\)")
_DATED_YEAR = re.compile(alt(RULES["dated_year"]))
_EARLIER_DAYS = int(RULES["earlier_days"])
_WEEKDAY = re.compile(RULES["weekday_only"])
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# "In September," / "in September the group ..." (a month with no day or year: `dates` leaves it)
_IN_MONTH = re.compile(r"\b[Ii]n (" + "|".join(m.title() for m in _MONTHS) + r")\b(?! \d)")
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ON_WEEKDAY = re.compile(
    r"\b(?:on|last|early|late) (" + "|".join(_DAYS) + r")\b|\b(" + "|".join(_DAYS) + r")'s\b",
    re.IGNORECASE,
)


def news_year(lede: str) -> int:
    """The year of the article's news: the latest year its lede (first sentence with a figure)
    names; with none named, later than any year (every year named elsewhere is an earlier one)."""
    years = [int(y) for y in _YEAR.findall(lede)]
    return max(years) if years else _NO_YEAR


_NO_YEAR = 10_000


def article_year(figures) -> int | None:
    """`news_year` of the lede of an article's figures (None without figures)."""
    if not figures:
        return None
    return news_year(min(figures, key=lambda f: f.sentence_start).sentence)


def is_question(sentence: str, at: int = 0) -> bool:
    """Whether the clause at offset `at` of a sentence asks rather than reports ("Will they say
    they killed 40 children?" she asked): the first end mark after it is a question mark. Its
    figures are kept out of the news like background."""
    m = _END_MARK.search(sentence, at)
    return m is not None and m.group() == "?"


_END_MARK = re.compile(r"[.?!]")


def is_running_toll(low_sentence: str) -> bool:
    """Whether a lower-cased sentence updates the toll of a whole province or country (background
    though cumulative: "take the death toll in the province to 73")."""
    return "toll" in low_sentence and bool(_RUNNING_TOLL.search(low_sentence))


def is_background(low_sentence: str, year: int | None) -> bool:
    """Whether a lower-cased sentence recalls the past or a wide window: a background cue, or a
    year before the article's news year."""
    if "(" in low_sentence:  # an aside "(... the May 20 shooting ...)" does not date the sentence
        low_sentence = _ASIDE.sub(" ", low_sentence)
    if _CUES.search(low_sentence) or is_running_toll(low_sentence):
        return True
    if year is None or ("19" not in low_sentence and "20" not in low_sentence):
        return False
    return any(int(y) < year for y in _DATED_YEAR.findall(low_sentence))


def earlier_incidents(text: str, incidents, published=None) -> list:
    """Background with no cue word: the news incidents whose own sentences date them (to the
    day or month) clearly before the lede's incident (resolved by `describe`), earlier events
    recalled for context ("On Thursday gunmen attacked a checkpoint" in a story about
    Saturday's bomb, "In September, an attack killed 17" in December's news).
    The lede (the first news incident) defines the news; needs `Incident.attributes`. Not when
    the lede is dated only by a weekday falling on the publication day ("on Saturday" may be a
    week before), nor for a toll update ("the toll climbed by Tuesday"): that is the news.
    Without a publication date, a weekday is read as the nearer of before or after the lede's
    day: "on Monday" ... "On Friday, a car bomb" is 3 days before."""
    news = [inc for inc in incidents if not inc.is_background]
    if len(news) < 2:
        return []
    lede = news[0].attributes.get("date")
    if lede is None or news[0].attributes.get("date_precision") != "day":
        return _before_lede_weekday(text, news) if published is None else []
    said = (news[0].attributes.get("date_text") or "").lower()
    if published is not None and lede.date() == published.date() and _WEEKDAY.fullmatch(said):
        return []
    out = []
    for inc in news[1:]:
        a = inc.attributes
        if a.get("is_cumulative"):
            continue
        said = a.get("date_text")
        if a.get("date_precision") == "day" and said and said in text[inc.start : inc.end]:
            if (lede - a["date"]).days >= _EARLIER_DAYS:  # describe dated it to the day
                out.append(inc)
            continue
        if _earlier_month(text[inc.start : inc.end], lede.date(), published):
            out.append(inc)
    return out


def _earlier_month(span: str, lede: date, published) -> bool:
    """An incident dated only by a month ("In September, an attack ... killed 17") that ended
    before the lede's day, with no date of its own at or after the lede's."""
    m = _IN_MONTH.search(span)
    if m is None:
        return False
    month = _MONTHS.index(m.group(1).lower()) + 1
    year = lede.year if month <= lede.month else lede.year - 1  # the latest such month
    last = date(year, month, 1) + relativedelta(months=1, days=-1)
    if (lede - last).days < _EARLIER_DAYS:
        return False
    return all(d.date < lede for d in dates.find_dates(span, published))


def _weekday(text: str, start: int, end: int) -> int | None:
    """The first weekday named in text[start:end] (0 = Monday), None if none."""
    m = _ON_WEEKDAY.search(text, start, end)
    return None if m is None else _DAYS.index((m.group(1) or m.group(2)).lower())


def _before_lede_weekday(text: str, news) -> list:
    """Undated article: the news incidents whose first weekday falls at least `earlier_days`
    before the lede's weekday, when that is nearer than reading it as days after."""
    first = news[0]
    day0 = _weekday(text, first.start, first.end)
    if day0 is None:
        return []
    out = []
    for inc in news[1:]:
        if inc.attributes.get("is_cumulative"):
            continue
        day = _weekday(text, inc.start, inc.end)
        back = None if day is None else (day0 - day) % 7
        # the nearer reading: Friday after a Monday lede is 3 days before, Sunday after a
        # Saturday lede is the next day (a weekend roundup), not 6 days before
        if back is not None and _EARLIER_DAYS <= back < 7 - back:
            out.append(inc)
    return out
