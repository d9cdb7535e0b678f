"""Date phrases → first day of the period, precision and words (golden cases in YAML)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from casualties import dates

CASES = yaml.safe_load(
    (Path(__file__).parent / "golden" / "incidents" / "dates.yaml").read_text("utf-8")
)["cases"]


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
