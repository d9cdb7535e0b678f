"""`FastScan(pattern).finditer(text)`: the matches of `pattern.finditer(text)`, found faster.

Python's regex engine tries a pattern at every position of the text unless the pattern starts
with a literal; patterns that start with a word boundary (`\\b(?:Taliban|...)`) or are
case-insensitive never do, so a whole-text scan with a large alternation is slow. FastScan
reads from the parsed pattern which characters a match can start with, skips to those
characters (and to word starts, when the pattern starts with `\\b`) with a one-class search the
engine runs at C speed, and tries the pattern only there. Matches are the same: a match cannot
start anywhere else, and the pattern is tried with `match` at the same positions `finditer`
would find it. When the first characters are not known for sure (a class such as `\\d` or
`[^,]`, a match that may be empty, a back-reference ...), it scans the ordinary way.

`StartIndex(patterns).index(text)` goes further for many searches in stretches of one text
(describe looks for event types, weapons, targets and actors in each incident's sentences):
one scan of the text finds where each pattern may begin, and a stretch's search tries only
those places.
"""

from __future__ import annotations

import bisect
import functools
import operator
import re
from functools import lru_cache
from re import _constants as sre_c  # type: ignore[attr-defined]  # private: not in typeshed
from re import _parser as sre_parser  # type: ignore[attr-defined]  # private: not in typeshed
from typing import cast

from casualties.text.tries import trie_regex

_WORD_CHAR = re.compile(r"\w")
# Non-ASCII characters that match an ASCII letter when case is ignored (Python's Unicode
# case folding: "ſ" is "s", the Kelvin sign is "k", dotted and dotless I are "i").
_FOLDS = {"i": "İı", "s": "ſ", "k": "\u212a"}


def first_chars(pattern: re.Pattern) -> tuple[frozenset[str] | None, bool]:
    """The characters a match of `pattern` can start with (None when not known for sure) and
    whether the whole pattern starts with a word boundary."""
    if not isinstance(pattern.pattern, str) or pattern.flags & (re.LOCALE | re.ASCII):
        return None, False
    try:
        parsed = sre_parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - any surprise: scan the ordinary way
        return None, False
    flags = parsed.state.flags
    if flags & (re.LOCALE | re.ASCII):
        return None, False
    items = list(parsed)
    first, nullable = _seq(items, bool(flags & re.IGNORECASE))
    boundary = bool(items) and items[0] == (sre_c.AT, sre_c.AT_BOUNDARY)
    return (None if first is None or nullable else frozenset(first)), boundary


def _cased(chars: set[str], icase: bool) -> set[str] | None:
    """Every character that matches one of `chars` (case ignored when `icase`)."""
    if not icase:
        return chars
    out: set[str] = set()
    for ch in chars:
        if not ch.isascii():
            return None  # its case folds are not listed here
        low = ch.lower()
        out |= {ch, low, ch.upper(), *_FOLDS.get(low, "")}
    return out


def _seq(items, icase: bool) -> tuple[set[str] | None, bool]:
    """(first characters, may be empty) of a parsed sequence."""
    out: set[str] = set()
    for op, av in items:
        first, nullable = _item(op, av, icase)
        if first is None:
            return None, False
        out |= first
        if not nullable:
            return out, False
    return out, True


def _item(op, av, icase: bool) -> tuple[set[str] | None, bool]:
    if op is sre_c.LITERAL:
        return _cased({chr(av)}, icase), False
    if op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):  # zero width: the next item decides
        return set(), True
    if op is sre_c.BRANCH:
        out: set[str] = set()
        nullable = False
        for alternative in av[1]:
            first, n = _seq(alternative, icase)
            if first is None:
                return None, False
            out |= first
            nullable = nullable or n
        return out, nullable
    if op is sre_c.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if (add_flags | del_flags) & ~re.IGNORECASE:
            return None, False
        if add_flags & re.IGNORECASE:
            icase = True
        if del_flags & re.IGNORECASE:
            icase = False
        return _seq(sub, icase)
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
        low, _high, sub = av
        first, n = _seq(sub, icase)
        return (None, False) if first is None else (first, low == 0 or n)
    if op is sre_c.IN:
        chars: set[str] = set()
        for iop, iav in av:
            if iop is sre_c.LITERAL:
                chars.add(chr(iav))
            elif iop is sre_c.RANGE and iav[1] - iav[0] <= 256:
                chars |= {chr(x) for x in range(iav[0], iav[1] + 1)}
            else:
                return None, False  # NEGATE, CATEGORY (\d, \w ...)
        return _cased(chars, icase), False
    return None, False  # ANY, NOT_LITERAL, GROUPREF, ATOMIC_GROUP ...


class FastScan:
    """A compiled pattern with a faster `finditer(text)` giving the same matches."""

    def __init__(self, pattern: re.Pattern, gate: re.Pattern | None = None):
        """`gate`, when given, must find every position where a match of `pattern` can
        start (the caller knows more than `first_chars`: "a month name at a word start")."""
        self.pattern = pattern
        self.gate: re.Pattern | None = gate
        if gate is not None:
            return
        first, boundary = first_chars(pattern)
        if first:
            chars = "[" + "".join(re.escape(ch) for ch in sorted(first)) + "]"
            if boundary and all(_WORD_CHAR.fullmatch(ch) for ch in first):
                chars += r"(?<!\w.)"  # a word start, as the leading \b requires
            self.gate = re.compile(chars)

    def finditer(self, text: str):
        """The matches of `self.pattern.finditer(text)`, in order."""
        if self.gate is None:
            yield from self.pattern.finditer(text)
            return
        match, gate = self.pattern.match, self.gate.search
        pos = 0
        while True:
            g = gate(text, pos)
            if g is None:
                return
            m = match(text, g.start())
            if m is None:
                pos = g.start() + 1
            else:
                yield m
                pos = m.end()

    def search(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match | None:
        """`self.pattern.search(text, pos, endpos)`."""
        if endpos is None:
            endpos = len(text)
        if self.gate is None:
            return self.pattern.search(text, pos, endpos)
        match, gate = self.pattern.match, self.gate.search
        while True:
            g = gate(text, pos, endpos)
            if g is None:
                return None
            m = match(text, g.start(), endpos)
            if m is not None:
                return m
            pos = g.start() + 1


@lru_cache(maxsize=256)
def fast(pattern: re.Pattern) -> FastScan:
    """The FastScan of a compiled pattern (built once per pattern)."""
    return FastScan(pattern)


# --- Many patterns, many spans of one text -----------------------------------------------------

# What a character is when case is ignored, for the characters a key below can hold (ASCII
# letters, digits, punctuation): its lower case, and these non-ASCII letters that match an ASCII
# letter ("İ".lower() is two characters, so it is replaced first; the Kelvin sign lowers to "k").
_FOLDS_TO_ASCII = (("İ", "i"), ("ı", "i"), ("ſ", "s"))
_KEY_LEN = 7


def fold(s: str) -> str:
    """`s` lower-cased, the non-ASCII letters that match an ASCII letter when case is ignored
    mapped to it; as long as `s`, so positions are kept."""
    if not s.isascii():
        for ch, ascii_ch in _FOLDS_TO_ASCII:
            if ch in s:
                s = s.replace(ch, ascii_ch)
    return s.lower()


def start_keys(pattern: re.Pattern, k: int = _KEY_LEN) -> frozenset[str] | None:
    """Folded strings of at most `k` characters such that every match of `pattern` begins with
    one of them (shorter ones where a match may be shorter, or its next character is not known
    for sure); None when a match may begin with anything."""
    if not isinstance(pattern.pattern, str) or pattern.flags & (re.LOCALE | re.ASCII):
        return None
    try:
        parsed = sre_parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - any surprise: no keys
        return None
    if parsed.state.flags & (re.LOCALE | re.ASCII):
        return None
    open_, closed = _keys_seq(list(parsed), k)
    keys = open_ | closed
    return None if not keys or "" in keys else frozenset(keys)


_UNKNOWN: tuple[set[str], set[str]] = (set(), {""})  # a character not known for sure: stop


def _keys_seq(items, k: int) -> tuple[set[str], set[str]]:
    """(strings a match of the sequence can be exactly, prefixes where knowledge stops), each at
    most `k` long; an exact string that reaches `k` becomes a prefix."""
    open_: set[str] = {""}
    closed: set[str] = set()
    for op, av in items:
        if not open_:
            break
        o, c = _keys_item(op, av, k=k)
        open_, closed = _join(open_, o, c, closed, k)
    return open_, closed


def _join(heads, o, c, closed, k) -> tuple[set[str], set[str]]:
    """Every head followed by every exact string `o` (open) or prefix `c` (closed)."""
    new_open: set[str] = set()
    closed = set(closed)
    for head in heads:
        for v in o:
            t = head + v
            (closed if len(t) >= k else new_open).add(t[:k])
        for v in c:
            closed.add((head + v)[:k])
    return new_open, closed


def _keys_item(op, av, k: int) -> tuple[set[str], set[str]]:
    if op is sre_c.LITERAL:
        ch = chr(av)
        return ({fold(ch)}, set()) if ch.isascii() else _UNKNOWN
    if op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
        return {""}, set()  # zero width
    if op is sre_c.IN:
        chars: set[str] = set()
        for iop, iav in av:
            if iop is sre_c.LITERAL:
                chars.add(chr(iav))
            elif iop is sre_c.RANGE and iav[1] - iav[0] < 16:
                chars |= {chr(x) for x in range(iav[0], iav[1] + 1)}
            else:
                return _UNKNOWN  # NEGATE, CATEGORY, wide ranges
        if not all(ch.isascii() for ch in chars):
            return _UNKNOWN
        return {fold(ch) for ch in chars}, set()
    if op is sre_c.BRANCH:
        o: set[str] = set()
        c: set[str] = set()
        for alternative in av[1]:
            ao, ac = _keys_seq(alternative, k)
            o |= ao
            c |= ac
        return o, c
    if op is sre_c.SUBPATTERN:
        return _keys_seq(av[3], k)  # flags only change case, which keys ignore
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
        low, high, sub = av
        so, sc = _keys_seq(sub, k)
        o = {""} if low == 0 else set()
        c = set()
        heads, n = {""}, 0
        while heads and n < high:
            if n > k:  # more repeats than a key can see: what follows is not known
                c |= heads
                break
            heads, c = _join(heads, so, sc, c, k)
            n += 1
            if n >= low:
                o |= heads
        return o, c
    return _UNKNOWN  # ANY, NOT_LITERAL, GROUPREF, ATOMIC_GROUP, POSSESSIVE_REPEAT ...


class StartIndex:
    """Where several patterns may match in any stretch `text[start:end]` of a text, found with
    one scan of the whole text; `index(text)` gives a `TextStarts` to search stretches with.

    A pattern that begins with a word boundary and whose matches begin with a word character
    (`\\b(?:Taliban|...)`) can match a stretch only at a word start of the text, or at the
    stretch's first character when that is inside a word of the text; and a match begins with
    one of the pattern's `start_keys`. One scan of the folded text finds the word starts that
    begin with a key of any of the patterns, and notes which patterns each may begin. A
    stretch's search then tries a pattern only at those places, with `pattern.match` on the
    stretch itself, in order: the first match is the one `pattern.search` finds there, since a
    match cannot begin anywhere else. Patterns without keys are searched the ordinary way.
    """

    def __init__(self, patterns: list[re.Pattern] | tuple[re.Pattern, ...]):
        self.patterns = tuple(patterns)
        self.key_bits: dict[str, int] = {}  # folded key -> bit mask of the patterns it fits
        self.indexed = 0  # bit mask of the patterns found through keys
        for i, pattern in enumerate(self.patterns):
            keys = start_keys(pattern)
            if keys is None or not first_chars(pattern)[1]:
                continue
            if not all(_WORD_CHAR.match(key) for key in keys):
                continue
            self.indexed |= 1 << i
            for key in keys:
                self.key_bits[key] = self.key_bits.get(key, 0) | 1 << i
        self.key_lengths = sorted({len(key) for key in self.key_bits})
        # In the folded text, a character before a word start followed by a key. ASCII \W is
        # a wider class than Unicode \W (a letter such as "é" is in it), so this finds every
        # word start, and a few other places, at ASCII speed. The text's first character has
        # nothing before it and is looked at on its own.
        trie = trie_regex(self.key_bits, space=None, prefixes=True)
        self.first_key = re.compile(trie) if trie else None
        self.scan = re.compile(rf"\W(?={trie})", re.ASCII) if trie else None
        self._known: dict[str, int] = {}  # word head -> patterns (bit mask)

    def bits_at(self, text: str, pos: int) -> int:
        """The patterns (a bit mask) with a key that `text[pos:]` begins with."""
        key = fold(text[pos : pos + self.key_lengths[-1]]) if self.key_lengths else ""
        bits, get = 0, self.key_bits.get
        for n in self.key_lengths:
            bits |= get(key[:n], 0)
        return bits

    def index(self, text: str) -> TextStarts:
        """The word starts of `text` where some indexed pattern may match, and which."""
        if self.scan is None:
            return TextStarts(self, text, [], [])
        assert self.first_key is not None  # compiled with self.scan, from the same trie
        folded = fold(text)
        hits = list(map(re.Match.end, self.scan.finditer(folded)))
        if self.first_key.match(folded):
            hits.insert(0, 0)
        # The patterns a word start may begin, from its first characters (remembered: a text
        # has few new word heads once many texts were read).
        width = self.key_lengths[-1]
        heads = [text[pos : pos + width] for pos in hits]
        known = list(map(self._known.get, heads))
        if None in known:
            bits = [
                self._learn(head) if b is None else b for head, b in zip(heads, known, strict=True)
            ]
        else:  # the usual case once many texts were read: no copy
            bits = cast("list[int]", known)
        return TextStarts(self, text, hits, bits)

    def _learn(self, head: str) -> int:
        """The patterns (a bit mask) with a key that `head` begins with, remembered."""
        bits = self.bits_at(head, 0)
        if len(self._known) > 100_000:  # distinct word heads: few in practice
            self._known.clear()
        self._known[head] = bits
        return bits


class TextStarts:
    """The candidate starts of the patterns of a `StartIndex` in one text."""

    def __init__(self, owner: StartIndex, text: str, hits: list[int], hit_bits: list[int]):
        self.owner = owner
        self.text = text
        self.hits = hits  # candidate starts, in order ...
        self.hit_bits = hit_bits  # ... and the patterns (bit mask) that may match at each
        self.unindexed = ((1 << len(owner.patterns)) - 1) & ~owner.indexed

    def stretch(self, start: int, end: int) -> Stretch:
        """`text[start:end]`, to search with the patterns (0 <= start <= end <= len(text))."""
        text, hits = self.text, self.hits
        # A stretch that begins inside a word of the text has a word start there that the
        # text has not: patterns may match at its first character too.
        edge = 0
        if 0 < start < end and _WORD_CHAR.match(text, start - 1) and _WORD_CHAR.match(text, start):
            edge = self.owner.bits_at(text, start)
        lo = bisect.bisect_left(hits, start)
        hi = bisect.bisect_left(hits, end, lo)
        present = functools.reduce(operator.or_, self.hit_bits[lo:hi], edge | self.unindexed)
        return Stretch(self, start, text[start:end], lo, hi, edge, present)


class Stretch:
    """`span` = `text[start:end]` of an indexed text. `search` and `finditer` are those of the
    pattern on `span` itself (its edges count as the ends of a string), but the pattern is
    only tried where a match may begin."""

    __slots__ = ("starts", "start", "span", "lo", "hi", "edge", "present")

    def __init__(self, starts, start: int, span: str, lo: int, hi: int, edge: int, present: int):
        self.starts = starts
        self.start = start
        self.span = span
        self.lo, self.hi = lo, hi  # the text's candidate starts inside the span: hits[lo:hi]
        self.edge = edge  # patterns that may match at the span's first character, mid-word
        self.present = present  # patterns that may match somewhere in the span

    def search(self, i: int, pos: int = 0, endpos: int | None = None) -> re.Match | None:
        """`patterns[i].search(span, pos, endpos)`."""
        if not self.present >> i & 1:
            return None
        span, starts = self.span, self.starts
        endpos = len(span) if endpos is None else endpos
        pattern = starts.owner.patterns[i]
        if starts.unindexed >> i & 1:
            return fast(pattern).search(span, pos, endpos)
        match = pattern.match
        if pos == 0 and self.edge >> i & 1:
            m = match(span, 0, endpos)
            if m is not None:
                return m
        start, hits, hit_bits, hi = self.start, starts.hits, starts.hit_bits, self.hi
        k = self.lo if pos == 0 else bisect.bisect_left(hits, start + pos, self.lo, hi)
        limit = start + endpos
        while k < hi:
            at = hits[k]
            if at >= limit:
                return None
            if hit_bits[k] >> i & 1:
                m = match(span, at - start, endpos)
                if m is not None:
                    return m
            k += 1
        return None

    def finditer(self, i: int):
        """The matches of `patterns[i].finditer(span)`: each search goes on where the last
        match ended (matches are never empty: every key has a character)."""
        if not self.present >> i & 1:
            return
        span, starts = self.span, self.starts
        pattern = starts.owner.patterns[i]
        if starts.unindexed >> i & 1:
            yield from fast(pattern).finditer(span)
            return
        match, after = pattern.match, 0
        if self.edge >> i & 1:
            m = match(span, 0)
            if m is not None:
                yield m
                after = m.end()
        start, hits, hit_bits = self.start, starts.hits, starts.hit_bits
        for k in range(self.lo, self.hi):
            at = hits[k] - start
            if at >= after and hit_bits[k] >> i & 1:
                m = match(span, at)
                if m is not None:
                    yield m
                    after = m.end()
