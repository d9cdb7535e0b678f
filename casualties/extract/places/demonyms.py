"""Country adjectives ("Afghan forces", "Syrian troops"): which countries a text is about
when it names none, from the `demonyms` of `rules/places.yaml`."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from casualties import rules
from casualties.text.tries import trie_regex

_CAP_WORD = re.compile(r"[A-Z](?<!\w.)\w*")  # (as "\b[A-Z]\w*", twice as fast: a capital first)


@lru_cache(maxsize=1)
def _demonym_re() -> tuple[re.Pattern, dict[str, str]]:
    """The country adjectives' pattern (its matches the adjectives, no groups). When all are
    words of letters starting with a capital, a match is a whole capitalised word, found as
    _CAP_WORD finds them: a capital not after a word character (tested right after it, which
    lets the regex engine skip to the capitals that start one), the rest of one of the words
    (a trie: far faster than their plain alternation), and no word character after."""
    dem = rules.load("places")["demonyms"]
    if all(_CAP_WORD.fullmatch(w) for w in dem):
        words = sorted(dem)
        branches = []
        for first in sorted({w[0] for w in words}):
            tails = [w[1:] for w in words if w[0] == first]
            tail = trie_regex(tails, space=None)
            branches.append(re.escape(first) + r"(?<!\w.)" + tail)
        return re.compile(r"(?:" + "|".join(branches) + r")(?!\w)"), dem
    return re.compile(r"\b(?:" + "|".join(sorted(dem, key=len, reverse=True)) + r")\b"), dem


@lru_cache(maxsize=16)
def demonym_counts(text: str) -> dict[str, int]:
    """Country code -> how often a country adjective of it stands in the text (in the order
    of their first use). Cached: the caller must not change it."""
    pat, dem = _demonym_re()
    return dict(Counter(filter(None, map(dem.get, pat.findall(text)))))  # (in C, in order)


@lru_cache(maxsize=16)
def demonym_country(text: str) -> str | None:
    """Country of the most frequent country adjective in the text."""
    counts = demonym_counts(text)
    if not counts:
        return None
    return max(counts, key=lambda cc: counts[cc])
