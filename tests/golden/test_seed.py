"""The seed article (Raqqa) against its gold: seven figures, three non-figures, article totals."""

from __future__ import annotations

import json

import pytest

from casualties.extract.article import extract_article
from tests.paths import SHARED_DATA

TEXT = SHARED_DATA / "seed-raqqa.txt"
GOLD = SHARED_DATA / "seed-raqqa.gold.json"

pytestmark = pytest.mark.skipif(not GOLD.exists(), reason="../shared/data not present")


@pytest.fixture(scope="module")
def seed():
    text = TEXT.read_text(encoding="utf-8")
    return text, extract_article(text), json.loads(GOLD.read_text(encoding="utf-8"))


def test_every_gold_figure_is_found_with_its_reading(seed):
    _, ex, gold = seed
    for want in gold["figures"]:
        found = [f for f in ex.figures if want["surface_has"] in f.surface]
        assert found, want
        fig = found[0]
        for key in ("category", "low", "best", "high", "qualifier", "victim_type"):
            if key in want:
                assert getattr(fig, key) == want[key], (key, want, fig)
        assert fig.is_aggregate == want.get("is_aggregate", False), fig
        if "attributed_has" in want:
            assert fig.attributed_to and want["attributed_has"] in fig.attributed_to, fig


def test_no_figure_from_non_people_numbers(seed):
    text, ex, gold = seed
    for nf in gold["not_figures"]:
        at = text.index(nf["context"])
        span = (at, at + len(nf["context"]))
        assert not any(f.start < span[1] and span[0] < f.end for f in ex.figures), nf


def test_no_figures_beyond_gold(seed):
    _, ex, gold = seed
    assert len(ex.figures) == len(gold["figures"]), [f.surface for f in ex.figures]


def test_article_totals(seed):
    _, ex, gold = seed
    for cat, want in gold["totals"].items():
        assert ex.totals[cat] == (want["low"], want["best"], want["high"]), cat
