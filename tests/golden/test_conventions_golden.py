"""Held-out golden set: one sentence per CONVENTIONS form, and short articles with their totals.

Written independently of the extraction rules (issue 4, "hand-labelled sentences covering every
CONVENTIONS form"), to measure whether extraction generalises beyond the dev set.

Data (`tests/golden/`):
- `conventions_sentences.jsonl`: {"id", "text", "form", "figures", "not_figures", "note"?}.
  Each expected figure {"surface_has", "category", "low", "best", "high", "qualifier"} is matched
  to a found figure whose span overlaps the first occurrence of `surface_has` in the text (or
  whose surface contains it), preferring one of the same category; then category, low, best,
  high and qualifier must all be equal. No other found figure may overlap a `not_figures`
  token. A row with `"figures": []` expects no figure at all.
- `article_totals.jsonl`: {"id", "feature", "text", "totals": {category: [low, best, high] | null}}.
  Only the categories listed are checked. `null` means "the article gives no figure": the
  category must be absent from `extract_article(text).totals`. `[0, 0, 0]` is an explicit zero
  ("no one was hurt") and must be present as (0, 0, 0). A high of `null` is "no upper bound".
"""

from __future__ import annotations

import json
import re

import pytest

from casualties.extract.article import extract_article
from casualties.extract.figures import find_figures
from casualties.fields import CATEGORIES, QUALIFIERS
from tests.paths import GOLDEN

SENTENCES = [
    json.loads(line)
    for line in (GOLDEN / "conventions_sentences.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
ARTICLES = [
    json.loads(line)
    for line in (GOLDEN / "article_totals.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
KEYS = ("category", "low", "best", "high", "qualifier")


def occurrences(text: str, token: str) -> list[tuple[int, int]]:
    """Spans of `token` in `text`, case-insensitive, not inside a longer word or number."""
    left = r"(?<![\w.,])" if token[0].isalnum() else ""
    right = r"(?![\w])" if token[-1].isalnum() else ""
    pattern = re.compile(left + re.escape(token) + right, re.IGNORECASE)
    return [m.span() for m in pattern.finditer(text)]


def _overlaps(fig, span: tuple[int, int]) -> bool:
    return fig.start < span[1] and span[0] < fig.end


def _describe(fig) -> str:
    return f"{fig.surface!r}:{fig.category} {fig.low}/{fig.best}/{fig.high} {fig.qualifier}"


def match_figure(text: str, figs: list, want: dict, used: set[int]):
    """The found figure that stands for `want` (None if there is none)."""
    token = want["surface_has"]
    spans = occurrences(text, token)[:1]
    candidates = [
        i
        for i, f in enumerate(figs)
        if i not in used
        and (any(_overlaps(f, s) for s in spans) or token.lower() in f.surface.lower())
    ]
    same_cat = [i for i in candidates if figs[i].category == want["category"]]
    chosen = (same_cat or candidates or [None])[0]
    return chosen


def check_sentence(row: dict) -> tuple[list[bool], list[str]]:
    """Per expected figure: right or not; and every problem found in the row, as text."""
    text = row["text"]
    figs = find_figures(text)
    used: set[int] = set()
    oks: list[bool] = []
    problems: list[str] = []
    for want in row["figures"]:
        i = match_figure(text, figs, want, used)
        expected = tuple(want[k] for k in KEYS)
        if i is None:
            oks.append(False)
            problems.append(f"missing {want['surface_has']!r} {expected}")
            continue
        used.add(i)
        got = tuple(getattr(figs[i], k) for k in KEYS)
        oks.append(got == expected)
        if got != expected:
            problems.append(f"{want['surface_has']!r}: want {expected}, got {got}")
    # A matched figure may span a non-figure ("a 28-year-old man" = 1): its value is checked above.
    for token in row["not_figures"]:
        for span in occurrences(text, token):
            for j, f in enumerate(figs):
                if j not in used and _overlaps(f, span):
                    problems.append(f"non-figure {token!r} read as {_describe(f)}")
    if not row["figures"] and figs:
        problems.append(f"no figure expected, found {[_describe(f) for f in figs]}")
    return oks, problems


def check_article(row: dict) -> list[str]:
    """Every category whose article total differs from the expected one, as text."""
    totals = extract_article(row["text"]).totals
    problems = []
    for cat, want in row["totals"].items():
        got = totals.get(cat)
        got = None if got is None else list(got)
        if got != want:
            problems.append(f"{cat}: want {want}, got {got}")
    return problems


def test_golden_data_is_well_formed():
    ids = [r["id"] for r in SENTENCES] + [r["id"] for r in ARTICLES]
    assert len(ids) == len(set(ids))
    for row in SENTENCES:
        text = row["text"]
        figure_spans = []
        for want in row["figures"]:
            assert want["category"] in CATEGORIES, row["id"]
            assert want["qualifier"] in QUALIFIERS, row["id"]
            assert 0 <= want["low"] <= want["best"], row["id"]
            assert want["high"] is None or want["best"] <= want["high"], row["id"]
            spans = occurrences(text, want["surface_has"])
            assert spans, (row["id"], want["surface_has"])
            figure_spans.append(spans[0])
        for token in row["not_figures"]:
            spans = occurrences(text, token)
            assert spans, (row["id"], token)
            assert not any(a < f[1] and f[0] < b for a, b in spans for f in figure_spans), (
                row["id"],
                token,
            )
    for row in ARTICLES:
        for cat, want in row["totals"].items():
            assert cat in CATEGORIES, row["id"]
            if want is not None:
                low, best, high = want
                assert 0 <= low <= best and (high is None or best <= high), row["id"]


@pytest.mark.parametrize("row", SENTENCES, ids=[f"{r['id']}-{r['form']}" for r in SENTENCES])
def test_conventions_sentence(row):
    _, problems = check_sentence(row)
    assert not problems, f"{row['text']!r}\n" + "\n".join(problems)


@pytest.mark.parametrize("row", ARTICLES, ids=[f"{r['id']}-{r['feature']}" for r in ARTICLES])
def test_article_totals(row):
    problems = check_article(row)
    assert not problems, f"{row['text']!r}\n" + "\n".join(problems)
