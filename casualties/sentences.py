"""Split news text into sentences, keeping character offsets.

A regular-expression splitter (no model): sentence ends are `.`, `!`, `?` followed by space and a
capital, digit or quote, or a period glued to a capitalised word ("they said.The other strike"),
and line breaks. Abbreviations ("Mr.", "U.S.", "Gen.") and initials do not end a sentence.
"""

from __future__ import annotations

import bisect
import re

# Candidate boundaries: after end punctuation (plus closing quotes/brackets) and whitespace before
# an opening capital/digit/quote; a period glued to "Capitalised" word; any line break.
_BOUNDARY = re.compile(
    r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])"
    r"|(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])"
    r"|\s*\n\s*"
)
# Words after which a period does not end a sentence.
_ABBREV = frozenset(
    """mr mrs ms dr st gen lt col sgt capt maj cpl pvt adm rep sen gov pres prof rev jr sr no nos
    vol jan feb mar apr aug sept sep oct nov dec inc co corp ltd vs etc approx est dept univ fig
    mt ft ave blvd gov't""".split()
)
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.']*)\.[\"'”’)\]]*\s*$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence of `text`, in order, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        cut = m.start()
        if "\n" not in m.group(0) and _is_abbreviation(text, start, cut):
            continue
        _add(spans, text, start, cut)
        start = m.end()
    _add(spans, text, start, len(text))
    return spans


def _is_abbreviation(text: str, start: int, cut: int) -> bool:
    m = _LAST_WORD.search(text, max(start, cut - 30), cut)
    if not m:
        return False
    word = m.group(1)
    if "." in word or len(word) == 1:  # "U.S." / "A.R.F." / an initial "J."
        return True
    return word.lower() in _ABBREV


def _add(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def sentence_index(starts: list[int], offset: int) -> int:
    """Index of the sentence (given the sentences' start offsets) that holds `offset`."""
    return max(bisect.bisect_right(starts, offset) - 1, 0)
