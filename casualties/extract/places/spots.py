"""Spots inside a town and admin areas: the patterns of `rules/places.yaml` ("the western
neighbourhood of Jazra", "Nour Street", "Helmand province", "the Afghan capital") and where in a
text they may match (`Stretches`): the patterns run only over the stretches of text that hold
their key words.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from casualties import rules
from casualties.text.tries import trie_regex

# "the Afghan capital", "the Syrian capital", "Iraq's capital"
CAPITAL = re.compile(r"\b(?:[Tt]he\s+)?([A-Z]\w+(?:['’]s)?)\s+capital\b")
_NAME = (
    r"(?:(?:al|el|ad|ar|as|an|ash|az|at)-)?[A-Z][\w'’-]*(?:\s+(?:(?:al|el)-)?[A-Z][\w'’-]*){0,2}"
)


_PLAIN_WORD = re.compile(r"[A-Za-z]+")


# Town-like words: a gazetteer town of that name is the place itself ("the town of X",
# "Sangin district"); other spot words ("neighbourhood of X") name a part of a town.
TOWNISH = frozenset({"district", "village", "town", "city", "hamlet", "settlement", "camp"})


@dataclass(frozen=True)
class _SpotPatterns:
    """The spot and admin-area patterns of `rules/places.yaml`, compiled once."""

    admin_after: re.Pattern  # "Helmand province"
    admin_before: re.Pattern  # "the province of Helmand"
    before: re.Pattern  # "the neighbourhood of Jazra"
    after: re.Pattern  # "Nour Street"
    admin_words: tuple[str, ...]
    before_words: tuple[str, ...]
    after_words: tuple[str, ...]
    anchor_words: tuple[str, ...]  # all their plain words, and "capital" (see Stretches)


@lru_cache(maxsize=1)
def spot_patterns() -> _SpotPatterns:
    lex = rules.load("places")
    before = "|".join(sorted(set(lex["spot_words"]["before"]), key=len, reverse=True))
    after = "|".join(sorted(set(lex["spot_words"]["after"]), key=len, reverse=True))
    admin = "|".join(sorted(set(lex["admin_words"]), key=len, reverse=True))
    lead = r"(?:[Tt]he\s+(?:[a-z'’]+\s+){0,2})?"
    admin_words = _words_to_look_for(lex["admin_words"])
    before_words = _words_to_look_for(lex["spot_words"]["before"])
    after_words = _words_to_look_for(lex["spot_words"]["after"])
    return _SpotPatterns(
        re.compile(rf"\b({_NAME})\s+(?:{admin})\b"),
        re.compile(rf"\b(?:{admin})\s+of\s+({_NAME})"),
        re.compile(rf"\b{lead}({before})\s+of\s+({_NAME})"),
        re.compile(rf"\b{lead}({_NAME})\s+({after})\b"),
        admin_words,
        before_words,
        after_words,
        tuple(sorted({*admin_words, *before_words, *after_words, "capital"} - {""})),
    )


def _words_to_look_for(words) -> tuple[str, ...]:
    """`words` as Stretches looks for them: a word that is not plain letters becomes "",
    found everywhere (a stretch is a run of letters, apostrophes, hyphens and spaces, and a
    match must hold the word whole)."""
    words = list(words)
    if not all(_PLAIN_WORD.fullmatch(w) for w in words):
        return ("",)
    return tuple(words)


# What the spot, admin and capital patterns match: word characters, apostrophes, hyphens and
# white space only. A match lies inside one stretch of these, and holds one of its words.
_STRETCH = re.compile(r"[\w'’\s‐-]*")


class Stretches:
    """Where in one text the patterns above may match: the stretches that hold one of their
    words as a whole word (each pattern has its word after a space or word boundary and
    before a word boundary). Each word is looked for once per text, whichever patterns need
    it."""

    def __init__(self, text: str, words: tuple[str, ...]):
        self.text = text
        # A lower-case copy finds "Street" and "street" at once (more places to look at, never
        # fewer); only when lowering keeps each character in its place.
        low = text.lower()
        self.fold = len(low) == len(text)
        self.found: dict[str, list[int]] = {}
        found = self.found
        if self.fold:
            # One pass for all words (see _word_finder); the text's first word on its own.
            first, finder = _word_finder(_folded(words))
            m = first(low)
            if m is not None:
                found[m.group(1)] = [0]
            for m in finder(low):
                w = m.group(1)
                if w in found:
                    found[w].append(m.start(1))
                else:
                    found[w] = [m.start(1)]
        else:
            n = len(text)
            for w in words:
                i = text.find(w) if w else -1
                k = len(w)
                while i >= 0:
                    # (a word of letters: whole when no word character touches either end)
                    if (i == 0 or not _WORD_CHAR(text, i - 1)) and (
                        i + k == n or not _WORD_CHAR(text, i + k)
                    ):
                        found.setdefault(w, []).append(i)
                    i = text.find(w, i + k)
        self.backwards = text[::-1]

    def finditer(self, pat: re.Pattern, words: tuple[str, ...], beside: _Beside | None = None):
        """What `pat.finditer(text)` gives, for a pattern that needs one of `words` (from
        _words_to_look_for, and among the words the stretches were found by) whole: the
        pattern runs only over the stretches that hold one. A stretch is bounded by other
        characters, so the pattern sees the same text around its matches ("\\b" at either
        end holds as in the whole text). `beside` (OF_AFTER or CAPITALISED_BEFORE): what
        the pattern needs next to its word, and how far before it a match can start; then a
        stretch is searched only for a word that has it (most have not: "the area", "the
        city"), and only from a few words before the first such word."""
        text = self.text
        if "" in words:
            yield from pat.finditer(text)
            return
        keys = _folded(words) if self.fold else frozenset(words)
        n, done, backwards = len(text), 0, self.backwards
        reach = _STRETCH.match
        if beside is None:
            found = [ps for w, ps in self.found.items() if w in keys]
        else:
            need, reach = beside.need, beside.reach.match
            found = [
                [p for p in ps if need(text, p + len(w))]
                if beside.after
                # (the text before the word, read backwards from the character before it)
                else [p for p in ps if need(backwards, n - p)]
                for w, ps in self.found.items()
                if w in keys
            ]
            found = [ps for ps in found if ps]
        anchors = found[0] if len(found) == 1 else sorted(itertools.chain.from_iterable(found))
        for a in anchors:
            if a < done:
                continue  # in the stretch just searched
            # (each match in the stretch holds one of `anchors`, this one or a later one, no
            # further from its start than the reach: none starts before)
            before, stretch = reach(backwards, n - a), _STRETCH.match(text, a)
            assert before is not None and stretch is not None  # both match the empty string
            start, done = n - before.end(), stretch.end()
            yield from pat.finditer(text, start, done)


_WORD_CHAR = re.compile(r"\w").match


@dataclass(frozen=True)
class _Beside:
    """What a pattern of Stretches needs beside its key word, a necessary condition for a
    match there (tested before a stretch is searched), and how far before the word a match
    can start."""

    need: Callable  # the `match` of a pattern that must match at the word's end (`after`),
    # or, on the reversed text, at the character before the word
    after: bool
    reach: re.Pattern  # on the reversed text, from the character before the word: the
    # words a match may start in (the pattern's words before its key word, at most)


def _words_back(k: int) -> re.Pattern:
    """On the reversed text: the `k` runs of stretch characters other than white space before
    a position, at most (the pattern words there lie in one run each, spaces between)."""
    return re.compile(rf"(?:\s*[\w'’‐-]+){{0,{k}}}")


# " of " after the word: "the outskirts of X", "the province of X" (their leading "the" and
# two words at most before the key word: 3 runs).
OF_AFTER = _Beside(re.compile(r"\s+of\s").match, True, _words_back(3))
# A capital letter in the run of word characters that ends one space (or more) before the
# word: "Nour Street", "Helmand province", "Iraq's capital" (a name of three words at most,
# and before it "the" and two words at most: 6 runs).
CAPITALISED_BEFORE = _Beside(re.compile(r"\s+[\w'’-]*?[A-Z]").match, False, _words_back(6))


@lru_cache(maxsize=16)
def _folded(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w.lower() for w in words)


@lru_cache(maxsize=16)
def _word_finder(words: frozenset[str]):
    """`match` at the text's start and `finditer` elsewhere for `words` (lower-case letters)
    as whole words in a lower-case text, the word in group 1. ASCII classes: a non-word
    character before and a word boundary after in the ASCII sense hold wherever they do in
    the Unicode sense (and in a few more places: more stretches to search, never fewer)."""
    trie = trie_regex(words, space=None)
    return (
        re.compile(rf"({trie})\b", re.ASCII).match,
        re.compile(rf"\W({trie})\b", re.ASCII).finditer,
    )
