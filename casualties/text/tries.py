"""Word lists as trie-shaped regexes: the one builder every lexicon scan uses.

A flat alternation `(?:killed|kidnapped|...)` makes the regex engine try every word at every
position; the same words as a trie (`k(?:i(?:lled|dnapped))`) reject a position after one or
two characters, which is what makes scanning a whole article for hundreds of words cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def trie_regex(words: Iterable[str], *, space: str | None = r"\s+", prefixes: bool = False) -> str:
    """A regex (no anchors, no flags) matching exactly one of `words`, longest first.

    `space` is what a space inside a word list entry matches (default: any run of whitespace;
    None: a literal space). With `prefixes=True` the regex matches the shortest of `words` that
    starts the text instead (used to test "does a key start here?"; `""` among them matches
    anything).
    """
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        if prefixes and "" in node:
            return ""
        alts = [
            (space if ch == " " and space is not None else re.escape(ch)) + emit(sub)
            for ch, sub in sorted(node.items())
            if ch
        ]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and "" not in node else "(?:" + "|".join(alts) + ")"
        return body + "?" if "" in node else body

    return emit(trie)
