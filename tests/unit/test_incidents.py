"""Incidents and article totals: golden texts → totals, plus the CONVENTIONS merge rules."""

from __future__ import annotations

import json

import pytest

from casualties.extract.accounts import consolidate
from casualties.extract.article import extract_article
from casualties.extract.incidents import article_totals, group_incidents, merge_accounts
from casualties.extract.model import Figure
from tests.paths import GOLDEN

TOTALS_FILE = GOLDEN / "figures" / "totals.jsonl"
CASES = [json.loads(line) for line in TOTALS_FILE.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_golden_totals(case):
    ex = extract_article(case["text"])
    got = {cat: list(t) for cat, t in ex.totals.items() if cat in ("killed", "injured")}
    assert got == case["totals"], (case.get("why"), [(f.surface, f.category) for f in ex.figures])


def test_aggregates_belong_to_no_incident_and_figures_point_to_theirs():
    text = (
        "Gunmen killed 4 people in a village on Monday. "
        "At least 30 people have been killed in the region since the start of the year."
    )
    ex = extract_article(text)
    agg = [f for f in ex.figures if f.is_aggregate]
    assert agg and all(f.incident is None for f in agg)
    for n, inc in enumerate(ex.incidents):
        assert all(ex.figures[i].incident == n for i in inc.figure_indices)
        assert text[inc.start : inc.end].startswith("Gunmen")
    assert ex.totals["killed"] == (30, 30, None)


def test_merge_accounts_prefers_non_party_best():
    # the group claims 70 (party), a hospital says 9, the army (party) says 4
    accounts = [((70, 70, 70), True), ((9, 9, 9), False), ((4, 4, 4), True)]
    assert merge_accounts(accounts) == (4, 9, 70)


def _fig(category, low, best, high, **kw) -> Figure:
    return Figure(
        start=0,
        end=1,
        surface="x",
        sentence="x",
        category=category,
        low=low,
        best=best,
        high=high,
        qualifier="exact",
        rule="test",
        **kw,
    )


def test_totals_sum_incidents_and_respect_unbounded_highs():
    figs = [_fig("killed", 2, 2, 2), _fig("killed", 10, 10, None, sentence_start=5)]
    figs[1].sentence = "y"
    incs = group_incidents("x" * 10, figs)
    totals = article_totals(figs, incs)
    assert totals["killed"][2] is None and totals["killed"][0] >= 10


def test_nothing_stated_is_absent_but_explicit_zero_is_zero():
    assert "killed" not in extract_article("A bomb damaged two shops.").totals
    assert extract_article("No one was killed in the blast.").totals["killed"] == (0, 0, 0)


def _grouping(text, figs):
    return article_totals(figs, consolidate(text, figs, group_incidents(text, figs)))


def _traced_lines(fn, *args) -> int:
    """Python lines executed by `fn(*args)` (every loop iteration counts): a measure of work that
    does not depend on the machine's speed or load."""
    import sys

    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize(
    "sentence",
    [
        "Over 10 people were killed. ",  # one toll told again and again: one growing incident
        "Gunmen killed 4 people in one village and another 3 in a second village. ",
        # a new story every other sentence: the article pass compares with a few recent ones
        "A bomb killed 4 people on Monday. In a separate attack, gunmen killed 7 soldiers. ",
    ],
)
def test_grouping_work_grows_linearly_with_figures(sentence):
    """Doubling the figures of one article at most doubles (plus slack) the grouping work,
    sentence-level and article-level; merging each report against all the accounts before it
    made it grow fourfold."""
    from casualties.extract.figures import find_figures

    work = []
    for n in (150, 300):
        text = sentence * n
        figs = find_figures(text)
        work.append(_traced_lines(_grouping, text, figs))
    assert work[1] / work[0] < 2.4, work
