"""Split news text into sentences, keeping character offsets.

A rule-based splitter (no model): a sentence ends at `.`, `!` or `?` (plus closing quotes or
brackets) followed by space and a capital, digit or opening quote; at a period glued to a
capitalised word after a lower-case word ("they said.The other strike"); and at line breaks.
Abbreviations ("Mr.", "U.S.", "Gen.") and initials do not end a sentence.
"""

from __future__ import annotations

import bisect
import re

# Candidate ends: end punctuation with closing quotes/brackets, or a line break. Written to start
# with one character class (the engine then skips to the next [.!?\n] in C): the same matches as
# "[.!?]+[closers]*(?:lookaheads|$)|\n".
_END = re.compile(
    r"[.!?\n](?:(?<=\n)|[.!?]*[\"'”’)\]]*"
    r"(?:(?=[ \t\r\f\v]+[\"'“‘(\[0-9A-Z])|(?=[A-Z][a-z])|(?=\s*\n)|$))"
)
_OPENERS = "\"'“‘([" + "0123456789"
# Words after which a period does not end a sentence.
_ABBREV = frozenset(
    re.findall(
        r"\S+",
        """
        mr mrs ms dr st gen lt col sgt capt maj cpl pvt adm rep sen gov pres prof rev jr sr no nos
        vol jan feb mar apr aug sept sep oct nov dec inc co corp ltd vs etc approx est dept univ
        fig mt ft ave blvd spec
        """,
    )
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence of `text`, in order, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for m in _END.finditer(text):
        dot, end = m.span()
        if text[dot] == "\n":  # a line break (punctuation matches never start with one)
            _add(spans, text, start, dot)
            start = end
            continue
        nxt = text[end : end + 1]
        if not nxt:
            continue
        if nxt.isspace():
            j = end
            while j < n and text[j].isspace() and text[j] != "\n":
                j += 1
            if j >= n or text[j] == "\n":
                continue  # the line break ends it
            c = text[j]
            if not (c.isupper() or c in _OPENERS):
                continue
        elif not (
            nxt.isupper()
            and text[end + 1 : end + 2].islower()
            and text[max(0, dot - 2) : dot].isalpha()
            and text[max(0, dot - 2) : dot].islower()
        ):
            continue  # glued: only "said.The"
        if text[dot] == "." and _is_abbreviation(text, start, dot):
            continue
        _add(spans, text, start, end)
        start = end
    _add(spans, text, start, n)
    return spans


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    """Whether the word before the period at `dot` is an abbreviation or an initial."""
    i = dot
    while i > start and (text[i - 1].isalpha() or text[i - 1] in ".'"):
        i -= 1
    word = text[i:dot]
    if not word:
        return False
    if "." in word or (len(word) == 1 and word.isupper()):  # "U.S." / "A.R.F." / "J."
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
