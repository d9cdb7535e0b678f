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
from casualties.extract.context import Gated, Prefiltered, alt, by_first_letter, spread
from casualties.rules import load
from casualties.text.sentences import split_sentences

RULES = load("articles")

# every cue in one alternation (`spread`), grouped by first letter (`by_first_letter`): at each
# word start the engine tries the few cues of its letter, not each list's group in turn
_CUES = re.compile(
    r"\b(?:"
    + by_first_letter("|".join(spread(alt(p)) for p in RULES["background"].values()))
    + r")\b"
)
_GENERIC_CASE = re.compile(RULES["generic_case"])
_FORETOLD = re.compile(RULES["foretold"])
_YEAR = re.compile(RULES["year"])
_RUNNING_TOLL = re.compile(r"\b(?:" + alt(RULES["running_toll"]) + r")\b")
_ASIDE = re.compile(r"\([^()]*\)")
_DATED_YEAR = re.compile(alt(RULES["dated_year"]))
_YEAR_END = re.compile(r"(?:19|20)\d\d\b")  # (any year that ends a run of digits)
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
# (the word start is checked after the first letter, so that the engine scans for "I" and "i"
# alone: the same matches as r"\b[Ii]n ...")
_IN_MONTH = re.compile(r"[Ii](?<!\w.)n (" + "|".join(m.title() for m in _MONTHS) + r")\b(?! \d)")
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ON_WEEKDAY = re.compile(
    r"\b(?:on|last|early|late) (" + "|".join(_DAYS) + r")\b|\b(" + "|".join(_DAYS) + r")'s\b",
    re.IGNORECASE,
)


# A sentence that opens on its own day ("On Thursday, a bomb blast ...") tells what happened
# that day: another incident than one told of another day.
_OPENING_DAY = re.compile(RULES["opening_day"])
DAY_SPAN = 1500  # characters from an incident's start read for the day it names
_SERIES = re.compile(r"\b(?:" + alt(RULES["series"]) + r")\b")


def opening_day(low_sentence: str) -> str | None:
    """The weekday a lower-cased sentence opens on ("on thursday, a bomb ..."), None if none."""
    m = _OPENING_DAY.match(low_sentence)
    return None if m is None else m.group(1)


def named_day(low_sentence: str) -> str | None:
    """The first weekday a lower-cased sentence names as a day ("on friday", "friday's")."""
    m = _ON_WEEKDAY.search(low_sentence)
    return None if m is None else (m.group(1) or m.group(2)).lower()


def news_year(lede: str) -> int:
    """The year of the article's news: the latest year its lede (first sentence with a figure)
    names; with none named, later than any year (every year named elsewhere is an earlier one)."""
    years = [int(y) for y in _YEAR.findall(lede)]
    return max(years) if years else _NO_YEAR


_NO_YEAR = 10_000


def article_year(figures, text: str = "", published=None) -> int | None:
    """The year of an article's news (None without figures): `news_year` of its first sentence
    with a figure when that sentence is in the first paragraph (the lede). A first figure
    further down ("In 2019 he survived a drone attack that left six soldiers dead" in a story
    about a shooting) is no lede: the news year is then the latest year the first paragraph
    names, else the publication year (the year before, in January). A first line with no end
    mark is a headline or a dateline, not a lede; with no publication date the first figure's
    sentence stays the guide (a year it names may be the news: "Attack in Kano" then "On 3
    March 2015, gunmen killed")."""
    if not figures:
        return None
    first = min(figures, key=lambda f: f.sentence_start)
    para = text.find("\n", 0, first.sentence_start) if text else -1
    if para < 0 or not _END_MARK.search(text, 0, para):
        return news_year(first.sentence)
    years = [int(y) for y in _YEAR.findall(text, 0, para)]
    if years:
        return max(years)
    if published is None:
        return news_year(first.sentence)
    # a story published in January may well report the last days of the year before
    return published.year if published.month > 1 else published.year - 1


def is_question(sentence: str, at: int = 0) -> bool:
    """Whether the clause at offset `at` of a sentence asks rather than reports ("Will they say
    they killed 40 children?" she asked): the first end mark after it is a question mark. Its
    figures are kept out of the news like background."""
    if sentence.find("?", at) < 0:  # (most sentences: no question mark to find first)
        return False
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
    if "when" in low_sentence and _GENERIC_CASE.search(low_sentence):
        return True
    if " be " in low_sentence and _FORETOLD.search(low_sentence):
        return True
    if year is None or ("19" not in low_sentence and "20" not in low_sentence):
        return False
    # a dated year ends a run of digits as these do: without an earlier one among them, none
    if not any(int(y) < year for y in _YEAR_END.findall(low_sentence)):
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
    for before, inc in zip(news, news[1:], strict=False):
        a = inc.attributes
        if a.get("is_cumulative"):
            continue
        said = a.get("date_text")
        if a.get("date_precision") == "day" and said and said in text[inc.start : inc.end]:
            if (lede - a["date"]).days >= _earlier_days(text, inc, before.end):  # dated
                out.append(inc)
            continue
        if _earlier_month(text[inc.start : inc.end], lede.date(), published):
            out.append(inc)
    return out


# (searched from their first words, "suspect", "trial" ...: most ledes have none)
_LEDE_RECALL = Gated(re.compile(r"\b(?:" + alt(RULES["lede_recall"]) + r")\b"))
_LEDE_CHARS = 600  # the article's first sentence is looked for in this many characters
_FOLLOW_UP_DAYS = int(RULES["follow_up_days"])


def recalled_in_lede(text: str, incidents, published=None) -> list:
    """Background the lede names: its first sentence ties its news to an earlier, dated event
    ("The main suspect in the 7th March bombings was shot dead ..."); the news incidents after
    the first whose own sentences date them to that day ("the twin blasts ... on March 7 had
    left 20 dead") retell that event, not the news. Not when the publication date is known and
    that day is less than `follow_up_days` before it: a follow-up ("a suspect in Saturday's
    shooting was arrested") keeps the toll of the event it follows. Needs
    `Incident.attributes`."""
    news = [inc for inc in incidents if not inc.is_background]
    if len(news) < 2 or not _LEDE_RECALL.search(text[:_LEDE_CHARS].lower()):
        return []
    spans = split_sentences(text[:_LEDE_CHARS])
    if not spans:
        return []
    lede = text[spans[0][0] : spans[0][1]]
    today = None if published is None else published.date()
    days = {
        (d.date.month, d.date.day)
        for m in _LEDE_RECALL.finditer(lede.lower())
        for d in dates.find_dates(lede[m.start() : m.end()], published)  # dates read the case
        if d.precision == "day" and (today is None or (today - d.date).days >= _FOLLOW_UP_DAYS)
    }
    if not days:
        return []
    out = []
    for inc in news[1:]:
        a = inc.attributes
        said = a.get("date_text")
        if a.get("is_cumulative") or a.get("date_precision") != "day" or not said:
            continue
        if said in text[inc.start : inc.end] and (a["date"].month, a["date"].day) in days:
            out.append(inc)
    return out


_STATEMENT_LEDE = Prefiltered(re.compile(r"\b(?:" + alt(RULES["statement_lede"]) + r")\b"))
# a calendar date: a month by name ("November 23", "Nov. 23", "23 Nov") or a year
_CALENDAR = re.compile(
    r"\b(?:"
    + "|".join(m for m in _MONTHS if m != "may")  # "may" only beside a day: "May 4", "4 May"
    + r")\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)\b\.?(?= ?\d)|(?<=\d )"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)\b|\b(?:19|20)\d\d\b",
    re.IGNORECASE,
)


def statement_lede_incidents(text: str, figures, incidents) -> list:
    """News with no casualties of its own: when the lede (the first sentence) has no figure and
    reports a statement looking ahead - a warning, a threat, a vow ("North Korea has warned of
    'self-defensive blows' ...") - without a calendar date, the incidents the article dates by
    the calendar ("the island which was shelled on November 23 ... Four people were killed")
    are earlier events it recalls. Needs `Incident.attributes`."""
    news = [inc for inc in incidents if not inc.is_background]
    if not news or not _STATEMENT_LEDE.search(text[:_LEDE_CHARS].lower()):
        return []
    spans = split_sentences(text[:_LEDE_CHARS])
    if not spans:
        return []
    end = spans[0][1]
    lede = text[:end]
    if any(f.sentence_start < end for f in figures) or _CALENDAR.search(lede):
        return []
    if not _STATEMENT_LEDE.search(lede.lower()):
        return []
    return [
        inc
        for inc in news
        if not inc.attributes.get("is_cumulative")
        and _CALENDAR.search(inc.attributes.get("date_text") or "")
    ]


def _earlier_days(text: str, inc, after: int) -> int:
    """Days before the lede that make an incident an earlier one: one when the words between
    the incident before it (ending at `after`) and it name a series the news is the latest of
    ("It is the latest in a series of attacks ... On Thursday, a bomb blast wounded two"),
    else `earlier_days`."""
    if inc.start - after > DAY_SPAN:
        return _EARLIER_DAYS
    return 1 if _SERIES.search(text[after : inc.start].lower()) else _EARLIER_DAYS


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
    # the lede's day may be told in a sentence with no figure, before the next incident
    day0 = _weekday(text, first.start, max(first.end, min(news[1].start, first.start + DAY_SPAN)))
    if day0 is None:
        return []
    out = []
    for before, inc in zip(news, news[1:], strict=False):
        if inc.attributes.get("is_cumulative"):
            continue
        day = _weekday(text, inc.start, inc.end)
        back = None if day is None else (day0 - day) % 7
        # the nearer reading: Friday after a Monday lede is 3 days before, Sunday after a
        # Saturday lede is the next day (a weekend roundup), not 6 days before
        if back is not None and _earlier_days(text, inc, before.end) <= back < 7 - back:
            out.append(inc)
    return out
