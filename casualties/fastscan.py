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
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as sre_c
from re import _parser as sre_parser

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
            gate = "[" + "".join(re.escape(ch) for ch in sorted(first)) + "]"
            if boundary and all(_WORD_CHAR.fullmatch(ch) for ch in first):
                gate += r"(?<!\w.)"  # a word start, as the leading \b requires
            self.gate = re.compile(gate)

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
