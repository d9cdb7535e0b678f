"""Date phrases → first day of the period, precision and words (golden cases in YAML)."""

from __future__ import annotations

import json
import re
import sys
from datetime import date

import pytest
import yaml

from casualties.extract import dates
from tests.paths import GOLDEN, RAW, SHARED_DATA

CASES = yaml.safe_load((GOLDEN / "incidents" / "dates.yaml").read_text("utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_golden_date(case):
    found = dates.best_date(dates.find_dates(case["text"], case["published"]))
    if case["want"] is None:
        assert found is None, found
        return
    assert found is not None
    assert found.date == case["want"]
    assert found.precision == case["precision"]
    assert found.text == case["date_text"]
    assert case["text"][found.start : found.end] == found.text


def test_never_after_publication():
    published = date(2017, 6, 11)
    text = (
        "On Monday, on Tuesday, on Wednesday, on Thursday, on Friday, on Saturday and on "
        "Sunday; yesterday, last week, last month, this week, in June, 11 June, 12 June."
    )
    found = dates.find_dates(text, published)
    assert len(found) >= 12
    assert all(m.date <= published for m in found)


def test_weekday_is_most_recent_on_or_before_publication():
    # 2017-06-11 is a Sunday.
    by_day = {
        m.text.split()[-1]: m.date
        for m in dates.find_dates("on Sunday, on Saturday, on Monday", date(2017, 6, 11))
    }
    assert by_day == {
        "Sunday": date(2017, 6, 11),
        "Saturday": date(2017, 6, 10),
        "Monday": date(2017, 6, 5),
    }


def test_published_may_be_a_timezone_aware_datetime():
    import datetime as dt

    pub = dt.datetime(2017, 6, 11, 23, 30, tzinfo=dt.UTC)
    found = dates.best_date(dates.find_dates("killed on Saturday", pub))
    assert found is not None and found.date == date(2017, 6, 10)


# --- The fast paths equal the slow ones -------------------------------------------------------


def _real_texts() -> list[str]:
    """Article texts at hand: the repository's raw sample, and the shared dev data if present."""
    texts = [p.read_text("utf-8") for p in sorted(RAW.glob("*.txt"))]
    texts += [json.loads(line)["text"] for line in (RAW / "articles.jsonl").open(encoding="utf-8")]
    if SHARED_DATA.exists():
        for path in sorted((SHARED_DATA / "dev").glob("*.jsonl")):
            texts += [json.loads(line)["text"] for line in path.open(encoding="utf-8")]
        texts.append((SHARED_DATA / "seed-raqqa.txt").read_text("utf-8"))
    return texts


# Odd spacing, case and punctuation around the words the scan starts from.
AWKWARD = [
    "earlier THIS MORNING, laſt week and Laſt NIGHT; in\n\n \t March, 10\n of\n June 2017",
    "(on Sunday  afternoon) (10 June) 10th-June mid- March mid-March 2017-06-10, 1999-2001",
    "in the last twenty-four hours; IN THE PAST 48 HOURS; over the last 24 hours\u00a0ago",
    "On\u00a0Sunday, 3\u00a0days ago, «in 2014», x-in 2014, 12019, in 20199, year-on-year",
    "İn 2014 ıN March; earlier to-day, tonight's, overnight: OVERNIGHT; this  week",
    "",
]


@pytest.mark.parametrize("text", AWKWARD, ids=range(len(AWKWARD)))
def test_anchored_scan_finds_what_finditer_finds_awkward(text):
    found = dates.pattern_matches(text)
    for name, pattern, _kind in dates._PATTERNS:
        want = [m.span() for m in pattern.finditer(text)]
        assert [m.span() for m in found.get(name, ())] == want, name


def test_anchored_scan_finds_what_finditer_finds_in_real_texts():
    for text in _real_texts():
        found = dates.pattern_matches(text)
        for name, pattern, _kind in dates._PATTERNS:
            want = [m.span() for m in pattern.finditer(text)]
            assert [m.span() for m in found.get(name, ())] == want, (name, text[:60])


def test_case_folding_keeps_every_letter_that_ignorecase_matches():
    """Every non-ASCII character that an ASCII letter matches under re.I is folded to it."""
    chars = "".join(chr(c) for c in range(128, sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    for ch in re.findall("[a-z]", chars, re.I):
        assert re.fullmatch(dates._folded(ch), ch, re.I), hex(ord(ch))
        assert dates._folded("x" + ch + "ABC") == "x" + dates._folded(ch) + "abc"


BASES = [date(2020, 6, 15), date(2016, 2, 29), date(2019, 3, 1), date(2017, 12, 31)]


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data not present")
def test_own_reader_agrees_with_dateparser_on_dev_phrases():
    """Every absolute phrase in the dev texts, read here and by dateparser (the reference)."""
    absolute = {name for name, _p, kind in dates._PATTERNS if kind.startswith("absolute")}
    phrases = set()
    for text in _real_texts():
        for name, matches in dates.pattern_matches(text).items():
            if name in absolute:
                phrases.update(dates._bare(m.group(0))[0] for m in matches)
    assert len(phrases) > 100
    for phrase in sorted(phrases):
        states_year = dates._with_year(phrase) is not None
        for base in BASES[:1] if states_year else BASES:
            own = dates.read_absolute(phrase, base)
            assert own is not dates.UNREADABLE, phrase  # none left to dateparser
            assert own == dates.dateparser_absolute(phrase, base), (phrase, base)


MONTH_WRITINGS = ["January", "Feb", "Feb.", "March", "Apr.", "May", "June", "Jul", "August",
                  "Sep.", "Sept", "Sept.", "September", "Oct", "November", "Dec."]  # fmt: skip


def test_own_reader_agrees_with_dateparser_without_a_year():
    """Days and months without a year: the latest on or before the base, across month ends,
    leap days ("29 February" four or eight years back) and days a month never has."""
    for i, month in enumerate(MONTH_WRITINGS):
        phrases = [month]
        for day in range(1, 32):
            form = ("{d} {m}", "{m} {d}", "{d:02d} {m}", "{d}th of {m}", "{m} {d}st")[(day + i) % 5]
            phrases.append(form.format(d=day, m=month))
        for phrase in phrases:
            for base in BASES[(i % 2) :: 2]:
                own = dates.read_absolute(phrase, base)
                assert own is not dates.UNREADABLE, phrase
                assert own == dates.dateparser_absolute(phrase, base), (phrase, base)


def test_impossible_dates_go_to_dateparser():
    # Read by dateparser as it always was (it swaps an impossible month and day).
    assert dates.read_absolute("2017-13-01", date(2017, 6, 11)) is dates.UNREADABLE
    assert dates.read_absolute("31 June 2017", date(2017, 6, 11)) is dates.UNREADABLE
    assert dates.read_absolute("31 June", date(2017, 6, 11)) is None  # no such day, any year
    assert dates.read_absolute("29 February", date(1904, 2, 28)) == (date(1896, 2, 29), "day")
