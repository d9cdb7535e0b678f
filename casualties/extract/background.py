"""News versus background (CONVENTIONS, "Full articles"): whether a sentence recalls an earlier
event or a wider window ("last year's bombing that killed 51", "2,000 have died in the
conflict", "the deadliest attack since 2015") rather than reporting the news. Cues are data in
`rules/articles.yaml`.
"""

from __future__ import annotations

import re

from casualties.extract.context import alt, load_lexicon

RULES = load_lexicon("articles")

_CUES = re.compile(
    r"\b(?:" + "|".join(f"(?:{alt(p)})" for p in RULES["background"].values()) + r")\b"
)
_YEAR = re.compile(RULES["year"])


def news_year(text: str) -> int | None:
    """The latest year the article names: the year of its news (earlier years are background).
    Years after the publication are not named in news, so the latest is the news year."""
    years = [int(y) for y in _YEAR.findall(text)]
    return max(years) if years else None


def is_background(low_sentence: str, year: int | None) -> bool:
    """Whether a lower-cased sentence recalls the past or a wide window: a background cue, or a
    year before the article's news year."""
    if _CUES.search(low_sentence):
        return True
    if year is None or not any(c.isdigit() for c in low_sentence):
        return False
    return any(int(y) < year for y in _YEAR.findall(low_sentence))
