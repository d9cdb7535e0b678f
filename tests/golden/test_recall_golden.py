"""Recall golden set (issue 4): shapes real news uses for tolls, bodies, rival claims, hospital
cases, "N of whom died", "among the dead", numbers after their noun and headlines.

Data: `golden/figures/recall.jsonl`, one own wire-style text per row:
{"id", "family", "text", "totals": {"killed"|"injured": [low, best, high]}, "why",
"known_gap"?}. As in `totals.jsonl`, the killed and injured article totals must equal `totals`
exactly (a category left out must be absent). A row with `known_gap` names the code that still
misses it; it is expected to fail (strict: fixing the gap makes the row fail until the key goes).
"""

from __future__ import annotations

import json

import pytest

from casualties.extract.article import extract_article
from tests.paths import GOLDEN

RECALL_FILE = GOLDEN / "figures" / "recall.jsonl"
CASES = [json.loads(line) for line in RECALL_FILE.read_text(encoding="utf-8").splitlines() if line]


def _param(case: dict):
    marks = []
    if case.get("known_gap"):
        marks.append(pytest.mark.xfail(strict=True, reason=case["known_gap"]))
    return pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_recall_totals(case):
    ex = extract_article(case["text"])
    got = {cat: list(t) for cat, t in ex.totals.items() if cat in ("killed", "injured")}
    assert got == case["totals"], (
        case["why"],
        [(f.surface, f.category, f.low, f.best, f.high, f.rule) for f in ex.figures],
    )


def test_rows_are_well_formed():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for c in CASES:
        assert c["text"].strip() and c["why"] and c["family"]
        for cat, triple in c["totals"].items():
            assert cat in ("killed", "injured")
            low, best, high = triple
            assert 0 <= low <= best and (high is None or best <= high)
