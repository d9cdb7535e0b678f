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
# "[.!?]+[closers]*(?:lookaheads|$)|\n". The empty groups say which lookahead held, so the loop
# below reads `m.lastindex` instead of looking at the text again: 1 = space then a sentence start
# (a capital, digit or opening quote), 2 = glued capitalised word; None = a line break, the end
# of the text, or spaces up to a line break (that line break ends the sentence).
_AFTER_PUNCTUATION = (
    r"[.!?]*[\"'”’)\]]*(?:(?=[ \t\r\f\v]+[\"'“‘(\[0-9A-Z])()|(?=[A-Z][a-z])()|(?=\s*\n)|$)"
)
_END = re.compile(r"[.!?\n](?:(?<=\n)|" + _AFTER_PUNCTUATION + ")")
# The loop takes the punctuation ends from these (the same matches: a punctuation end never holds
# a line break) and the line breaks from str.find. Most texts have no "!" nor "?": their periods
# are found by a pattern that starts with one literal character, which the engine scans for
# several times faster than for a character class.
_PUNCTUATION_END = re.compile(r"[.!?](?:" + _AFTER_PUNCTUATION + ")")
_PERIOD_END = re.compile(r"\.(?:" + _AFTER_PUNCTUATION + ")")
_SPACE_THEN_START, _GLUED = 1, 2
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
    ends = _PUNCTUATION_END if "!" in text or "?" in text else _PERIOD_END
    line_break = text.find("\n")
    for m in ends.finditer(text):
        dot, end = m.span()
        while 0 <= line_break < dot:  # the line breaks before this end close their sentences
            _add(spans, text, start, line_break)
            start = line_break + 1
            line_break = text.find("\n", start)
        how = m.lastindex
        if how is None:
            continue  # the end of the text, or a line break follows (it ends the sentence)
        if how == _GLUED:  # only "said.The": two lower-case letters before the period
            before = text[max(0, dot - 2) : dot]
            if not (before.isalpha() and before.islower()):
                continue
        if text[dot] == "." and _is_abbreviation(text, start, dot):
            continue
        _add(spans, text, start, end)
        start = end
    while line_break >= 0:
        _add(spans, text, start, line_break)
        start = line_break + 1
        line_break = text.find("\n", start)
    _add(spans, text, start, len(text))
    return spans


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    """Whether the word before the period at `dot` is an abbreviation or an initial."""
    # Most words before a period are letters after a space: found with str methods in C. The
    # character loop below stands for the general case (periods, apostrophes, no space).
    space = text.rfind(" ", start, dot)
    word = text[space + 1 : dot]
    if space < 0 or not word.isalpha():
        i = dot
        while i > start and (text[i - 1].isalpha() or text[i - 1] in ".'"):
            i -= 1
        word = text[i:dot]
        if not word:
            return False
        if "." in word:  # "U.S." / "A.R.F."
            return True
    if len(word) == 1 and word.isupper():  # "J."
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
