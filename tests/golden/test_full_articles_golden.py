"""Golden cases for CONVENTIONS "Full articles: every victim counted once" (data:
`tests/golden/full_articles.yaml` and `local_stories.yaml`, invented texts). Each case's article
totals must equal the expected triples (read with the case's `published` date, if any);
`background` counts the incidents kept out as background. A case marked `xfail` documents a rule
extraction does not meet yet; the mark is strict, so a fix shows."""

from __future__ import annotations

from datetime import datetime, time

import pytest
import yaml

from casualties.extract.article import extract_article
from casualties.fields import CATEGORIES
from tests.paths import GOLDEN

# full_articles.yaml: one group per rule; local_stories.yaml: US-style local news stories
CASES = [
    case
    for name in ("full_articles.yaml", "local_stories.yaml")
    for case in yaml.safe_load((GOLDEN / name).read_text(encoding="utf-8"))
]


def _params():
    for case in CASES:
        marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if "xfail" in case else []
        yield pytest.param(case, id=case["id"], marks=marks)


def test_cases_are_well_formed():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert case["text"].strip() and case["rule"] and case["totals"], case["id"]
        for cat, want in case["totals"].items():
            assert cat in CATEGORIES, case["id"]
            if want is not None:
                low, best, high = want
                assert 0 <= low <= best and (high is None or best <= high), case["id"]


@pytest.mark.parametrize("case", list(_params()))
def test_full_article_case(case):
    published = case.get("published")  # a date: yaml reads it as a datetime.date
    ex = extract_article(
        case["text"], None if published is None else datetime.combine(published, time())
    )
    problems = []
    for cat, want in case["totals"].items():
        got = ex.totals.get(cat)
        if want is None and got is not None:
            problems.append(f"{cat}: want no figure, got {got}")
        elif want is not None and got != tuple(want):
            problems.append(f"{cat}: want {tuple(want)}, got {got}")
    if "background" in case:
        n = sum(f.why == "background incident" for f in ex.figures)
        if n != case["background"]:
            problems.append(f"background incidents: want {case['background']}, got {n}")
    why = [(f.surface, f.category, f.best, f.account, f.counted, f.why) for f in ex.figures]
    assert not problems, "\n".join(problems) + f"\nfigures: {why}"


def test_every_figure_is_explained():
    """Every figure of every case says which account it joined (or none: aggregates) and why."""
    for case in CASES:
        for f in extract_article(case["text"]).figures:
            assert f.why, (case["id"], f.surface)
            assert f.account is not None or f.why in ("aggregate", "background incident")
            assert f.why != "asked, not reported" or not f.counted
            assert not f.counted or f.why == "new account"
