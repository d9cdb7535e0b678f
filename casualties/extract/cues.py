"""The compiled category and people patterns of `rules/categories.yaml` and `context.yaml`.

Speed matters (archives of millions of articles): whole-text scans run once, case-sensitively on
a lower-cased copy of the text (`lower`), and only look for the *stems* every cue starts with
(`TRIGGER`, derived from the lexicon). Everything else is matched at known positions. Long
word lists inside the patterns (people, participles, auxiliaries) are written as tries that try
the words in the lexicon's order (`ordered_words`): the same matches, fewer tries per position.
"""

from __future__ import annotations

import re

from casualties import rules
from casualties.extract.context import (
    CTX,
    _split_top,
    alt,
    any_of,
    first_words,
    stems,
    word_start,
)
from casualties.text.tries import trie_regex

CAT = rules.load("categories")
CI = re.IGNORECASE


def lower(text: str) -> str:
    """Lower-cased copy with the same offsets (characters whose lower case is longer are kept)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def named_alternation(table: dict) -> tuple[str, list[tuple[str, str]]]:
    """One regex alternation with a group per (category, name), and the group → rule map."""
    parts, names = [], []
    for category, entries in table.items():
        for name, pattern in entries.items():
            names.append((category, name))
            parts.append(f"(?P<g{len(names) - 1}>{alt(pattern)})")
    return "|".join(parts), names


def which(m: re.Match, names: list[tuple[str, str]]) -> tuple[str, str]:
    """(category, name) of the group that matched in a named alternation."""
    assert m.lastgroup is not None  # every alternative is a named group
    return names[int(m.lastgroup[1:])]


def any_words(pattern: str, ignore_case: bool) -> str:
    """`pattern` for a look-ahead, where only whether some alternative matches counts: its plain
    words as one trie (ordered_words), its other alternatives as they are."""
    alts = _split_top(pattern)
    words = [a for a in alts if ordered_words(a, ignore_case) == re.escape(a)]
    if len(words) < 2:
        return pattern
    rest = [a for a in alts if a not in words]
    return "|".join([ordered_words("|".join(words), ignore_case, any_order=True), *rest])


def plain(pattern: str) -> str:
    """The pattern without its named groups (to embed it twice)."""
    return re.sub(r"\(\?P<g\d+>", "(?:", pattern)


def ordered_words(pattern: str, ignore_case: bool = True, any_order: bool = False) -> str:
    """An alternation of plain words ("man|woman|police officer|bombs?") written as a trie that
    tries the words in the same order, so it matches exactly what the alternation matches.

    Why: the engine tries every alternative of a long list in turn (with re.IGNORECASE it cannot
    skip one by its first letter); in a trie one failed letter rejects a whole branch. Only where
    one word is a prefix of another does the order matter: the trie tries the shorter one first
    (`??`) or last (`?`) as the list does. Returned unchanged when the words are not plain or the
    list's order cannot be kept ("ab|a|abc": "a" would have to come between the other two).
    `any_order`: only whether some word matches counts (a look-ahead), so any order will do."""
    words: list[str] = []
    for a in pattern.split("|"):
        m = re.fullmatch(r"([A-Za-z '’\-]+?)(?:([a-z])\?)?", a)
        if not m:
            return pattern
        stem, opt = m.groups()
        words += [stem + opt, stem] if opt else [stem]  # "bombs?" tries "bombs" first
    if ignore_case:  # case-insensitive use only: the case of a letter does not matter
        words = [w.lower() for w in words]
    trie: dict = {}
    for i, w in enumerate(words):
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node.setdefault("", i)  # a repeated word never matches where the first one did not

    def first(node: dict) -> int:
        return min(first(v) if k else v for k, v in node.items())

    def last(node: dict) -> int:
        return max(last(v) if k else v for k, v in node.items())

    def emit(node: dict) -> str | None:
        kids = sorted(((k, v) for k, v in node.items() if k), key=lambda kv: first(kv[1]))
        parts = [emit(v) for _, v in kids]
        if None in parts:
            return None
        alts = [re.escape(k) + part for (k, _), part in zip(kids, parts, strict=True)]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" not in node:
            return body
        end = node[""]
        if any_order:
            return "(?:" + body + ")?"
        if end < min(first(v) for _, v in kids):
            return "(?:" + body + ")??"  # the shorter word comes first in the list
        if end > max(last(v) for _, v in kids):
            return "(?:" + body + ")?"
        return None

    out = emit(trie)
    return pattern if out is None else out


# --- category cues ------------------------------------------------------------------------------

OBJ_ALT, OBJ_NAMES = named_alternation(CAT["object"])
AFTER_ALT, AFTER_NAMES = named_alternation(CAT["after"])
OBJECT_VERB_L = re.compile(r"(?:" + OBJ_ALT + r")\b")  # at a trigger, in the lower-cased text
CUE_L = re.compile(r"(?:" + AFTER_ALT + r")\b")
THEN = [
    (cat, name, re.compile(r"(?:" + e["verb"] + r")\b"), re.compile(r"\s+" + e["then"], CI))
    for cat, entries in CAT["object_then"].items()
    for name, e in entries.items()
]
# any THEN verb at a position (one match instead of one per entry; most triggers have none)
THEN_ANY = re.compile("|".join(f"(?:{v.pattern})" for _, _, v, _ in THEN))
_ALL_STEMS: set[str] = set()
for _p in [OBJ_ALT, AFTER_ALT] + [
    e["verb"] for t in CAT["object_then"].values() for e in t.values()
]:
    _ALL_STEMS |= stems(plain(_p))
# shortest stems first make the alternation cheap; a stem covers longer words starting with it
_MIN_STEMS = sorted(
    {s for s in _ALL_STEMS if not any(o != s and s.startswith(o) for o in _ALL_STEMS)}
)
# No stem starts another, so at most one matches at a position: written as a trie (the engine
# rejects most word starts at the first letter), it finds the same spans 2-3 times faster.
TRIGGER = re.compile(r"\b" + trie_regex(_MIN_STEMS))


def _stems_of(pattern: str) -> frozenset[str]:
    """The stems of TRIGGER that a match of `pattern` can start with: at a trigger with another
    stem, `pattern` need not be tried."""
    words = stems(plain(pattern))
    return frozenset(m for m in _MIN_STEMS if any(w.startswith(m) for w in words))


OBJECT_STEMS = _stems_of(OBJ_ALT)
CUE_STEMS = _stems_of(AFTER_ALT)
THEN_STEMS = _stems_of("|".join(e["verb"] for t in CAT["object_then"].values() for e in t.values()))
# The same stems after one character that is neither a word character nor a hyphen, matched on
# " " + lower-cased text: a match's end minus its stem is the stem's offset in the text. Starting
# with a character class lets the engine skip inside words in C; "anti-kidnapping" is no stem.
TRIGGER_PADDED = re.compile(r"[^\w\-](" + trie_regex(_MIN_STEMS) + ")")
# On ASCII text \w is [a-z0-9_] (lower-cased): the same scan with an ASCII class is faster.
_TRIGGER_PADDED_ASCII = re.compile(r"[^a-z0-9_\-](" + trie_regex(_MIN_STEMS) + ")")


def stem_positions(low: str) -> dict[int, str]:
    """{offset: stem} of every TRIGGER stem in lower-cased text `low` that follows neither a word
    character nor a hyphen: what TRIGGER_PADDED finds in " " + low, found faster."""
    padded = " " + low
    if low.isascii():
        return {m.start(1) - 1: m.group(1) for m in _TRIGGER_PADDED_ASCII.finditer(padded)}
    # a non-ASCII word character before a stem ("é") passes the ASCII class: drop those matches
    # (the stems are ASCII letters, so such a match never hides one of TRIGGER_PADDED's)
    return {
        m.start(1) - 1: m.group(1)
        for m in _TRIGGER_PADDED_ASCII.finditer(padded)
        if not (padded[m.start()].isalnum() or padded[m.start()] == "_")
    }


AUX = alt(CAT["after_aux"])
STOP = alt(CAT["after_stop"])
NP_PART = alt(CAT["np_participles"])
# the same alternations as tries (for the case-insensitive patterns below; see ordered_words)
_NP_PART_CI = ordered_words(NP_PART)
# ("on-board", "by-election": a stop word joined by a hyphen is part of a noun-phrase word)
_NOT_AUX_STOP = r"(?!(?-i:" + any_words(AUX + "|" + STOP, ignore_case=False) + r")\b(?!-))"
# a word: an abbreviation ("U.S.") or letters/digits/hyphens/apostrophes (never a sentence's period)
WORD = r"(?:(?:[A-Za-z]\.){2,}|[\w'’\-]+)"
# one noun-phrase word between a number and its cue: not an auxiliary, a stop word or a verb form;
# a number only after "and"/"including" ("30 militants and 2 soldiers were killed")
NP_WORD = (
    r"(?:(?:and|including)\s+\d[\d,]*\b|"
    + _NOT_AUX_STOP
    + r"(?!\d)(?:(?:"
    + _NP_PART_CI
    + r")\b|(?![\w'’\-]*(?:ed|ing)\b)"
    + WORD
    + r"|\([^()]{0,80}\)|\[[^\[\]]{0,40}\]))"
)
ADVS = r"(?:(?:\w+ly|also|all|both|reportedly)\s+)*"
CUE = ADVS + r"(?:" + AFTER_ALT + r")\b"
# number + noun phrase (lists, appositives) + auxiliary + cue: "33 people were killed"
# the long link also takes -ing words and short place phrases ("soldiers guarding a base in X")
NP_WORD_LONG = (
    r"(?:(?-i:" + alt(CAT["after_aux_np"]) + r")\b|" + _NOT_AUX_STOP + r"(?!\d)"
    r"[\w'’\-]+ing\b|" + NP_WORD + ")"
)
AGE_APPOSITION = CAT["age_apposition"]
# Up to 12 links of a noun phrase and the auxiliaries before a cue word: ", 3 of them", "people",
# ", aged 19 and 33,", "a 12-year-old" (the ages last: the common links are tried first).
NP_LINKS_AUX = (
    r"(?:\s*,\s*(?:and\s+)?\d[\d,]*\b|(?:\s*,\s*|\s+|(?=[\[(]))"
    + NP_WORD_LONG
    + r"|"
    + AGE_APPOSITION
    + r"|"
    + CAT["age_word"]
    + r"){0,12}?(?:\s*,)?(?:\s+(?-i:"
    + AUX
    + r"))+\s+"
)
AFTER_AUX = re.compile(NP_LINKS_AUX + CUE, CI)
# number + at most two words + cue, no auxiliary: "12 dead", "2 dozen others wounded"
AFTER_BARE = re.compile(r"(?:\s+" + NP_WORD + r"){0,2}?\s+" + CUE, CI)
# ...but not an active verb with its object: "Two men shot and killed a bank official"
# (on the same line: a line break ends the sentence, "leaves 1 dead, 4 hurt\nOne man was ...")
OBJECT_FOLLOWS = re.compile(
    r"[^\S\n]+(?:(?:a|an|the|his|her|their|its|him|them|at least|some|several|dozens)\b|\d|"
    r"(?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|"
    r"May|June|July|August|September|October|November|December)\b)[A-Z][a-z])"
)
# The same links, checked between a number and a known cue position (fullmatch, fast):
LINK_AUX = re.compile(NP_LINKS_AUX + ADVS, CI)
# LINK_AUX ends in "<auxiliary> <adverbs> " before the cue: the last word of an auxiliary (or
# None if the lexicon's auxiliaries are not plain words), and what an adverb of ADVS is.
AUX_LAST_WORDS = (
    frozenset(a.split()[-1] for a in AUX.split("|")) if re.fullmatch(r"[a-z |]+", AUX) else None
)
ADVERB = re.compile(r"\w+ly|also|all|both|reportedly", CI)
LINK_BARE = re.compile(r"(?:\s+" + NP_WORD + r"){0,2}?\s+" + ADVS, CI)
# intransitive "died" takes a longer subject: "Three of the four injured students died"
# and an apposition between commas: "At least seven, including four children, died"
LINK_DIED = re.compile(r"(?:(?:\s*,\s*|\s+)" + NP_WORD_LONG + r"){0,8}?(?:\s*,)?\s+" + ADVS, CI)
PARTITIVE = re.compile(r"\bof\s+(?:the|these|those)\s+$", CI)  # right before the cue word
NOUN_CUE = re.compile(r"(?:" + alt(CAT["noun_cues"]) + r")\b")  # lower-cased text
AUX_WORDS = frozenset(w for w in alt(CAT["after_aux"]).split("|") if " " not in w)
# the auxiliaries just before a cue: "... was reportedly |killed"
AUX_TAIL = re.compile(r"(?:\s+(?-i:" + AUX + r"))+\s+" + ADVS + r"$", CI)

_TOLL_PARTS, TOLL_NAMES = [], []
for _cat, _entries in CAT["toll"].items():
    for _name, _e in _entries.items():
        TOLL_NAMES.append((_cat, _name))
        _TOLL_PARTS.append(f"(?P<g{len(TOLL_NAMES) - 1}>{alt(_e['pattern'])})")
TOLL_BEFORE = re.compile(r"\b(?:" + "|".join(_TOLL_PARTS) + r")" + CAT["toll_link"] + r"$", CI)
TOLL_RISE = re.compile(CAT["toll_rise"], CI)
TOLL_HINT = any_of(CAT["toll_hints"])  # the lower-cased words every toll pattern holds
RAISE_TOLL = re.compile(CAT["raise_toll"] + r"(?:\w+\s+){0,5}$", CI)

FILLER = re.compile(
    r"(?:(?:his|her|their|its|the|" + ordered_words(alt(CAT["object_filler"])) + r")\s+)+", CI
)
JOIN = alt(CAT["list_join"])
SEP = re.compile(r"\s*(?:,\s*(?:(?:" + JOIN + r")\s+)?|\s+(?:" + JOIN + r")\s+)", CI)
INTENT_WORDS = frozenset(alt(CAT["intent"]).replace("?", "").split("|")) | {"call", "calls"}
NEGATION_WORDS = frozenset(alt(CAT["negation"]).split("|"))
NOUN_OBJECT_CONTEXT = re.compile(CAT["noun_object_context"])  # lower-cased text
PASSIVE_WORDS = frozenset(["was", "were", "been", "being", "is", "are", "be", "the"])

# --- people -------------------------------------------------------------------------------------

PERSON_SG = alt(CTX["person_singular"])
PAIR = alt(CTX["person_pair"])
_PERSON_SG_CI, _PAIR_CI = ordered_words(PERSON_SG), ordered_words(PAIR)  # tries, as _NP_PART_CI
DEMONYM = r"(?-i:" + CTX["demonym"] + r")"
ADJ = (
    r"(?!(?:and|or|in|at|on|of|to|by|with|was|were|who|that|before|after)\b)"
    r"(?:(?:" + _NP_PART_CI + r")\b|(?![\w'’\-]*(?:ed|ing)\b)" + WORD + ")"
)
DET = r"(?:a|an|one|another|the|his|her|their|its|my|our|your)"
POSSESSIVE = frozenset({"his", "her", "their", "its", "my", "our", "your"})
# ("a mother of five and her son": the family description is part of the person, the list goes on)
OF_PHRASE = (
    r"(?:\s+of\s+(?:(?:a|an|the|his|her|their)\s+(?:[\w\-'’]+\s+){0,3}?[\w\-'’]+|"
    + CTX["family_count"]
    + r")(?=[\s,.;]))?"
)
# in an object list, participles may qualify the person too ("his estranged wife")
ADJ_OBJ = r"(?!(?:and|or|in|at|on|of|to|by|with|was|were|who|that|before|after|both)\b)" + WORD
SINGULAR_ITEM = re.compile(
    r"(?P<det>" + DET + r"\s+)?(?P<words>(?:" + ADJ_OBJ + r"\s+){0,4})"
    r"(?P<noun>\b(?:" + _PERSON_SG_CI + r")(?:-in-law)?)(?!['’]s)(?![\w\-])" + OF_PHRASE,
    CI,
)
PAIR_ITEM = re.compile(
    r"(?:(?:a|the|his|her|their)\s+(?:\w+\s+)?(?:" + _PAIR_CI + r")|them both|both of them"
    r"|both(?=\s*(?:[,.;]|and\b|$|in\b|at\b)))\b",
    CI,
)
ANOTHER_ITEM = re.compile(
    r"another(?=\s*(?:[,.;]|and\b|$|in\b|at\b|on\b|before\b|as\b|when\b|during\b|outside\b))", CI
)
PRONOUN_ITEM = re.compile(
    r"(?:him|her)(?=\s*(?:[,.;]|and\b|$|as\b|in\b|at\b|with\b|before\b|after\b|when\b|"
    r"outside\b|inside\b|on\b|while\b|too\b|during\b|then\b|to death\b))",
    CI,
)
SELF_ITEM = re.compile(r"(?:himself|herself)\b", CI)
TITLE = r"(?:(?:Mr|Mrs|Ms|Dr|Capt|Col|Gen|Lt|Sgt|Maj|Cpl|Adm|Rev|Prof|Spec)\.?\s+)"
NAME = r"[A-Z][a-z]+(?:[ \-](?:al-|bin |de |van |[A-Z]\. )?[A-Z][a-zA-Z'’\-]+){1,3}"
NAME_ITEM = re.compile(r"(?:(?:a|the)\s+)?" + TITLE + r"?" + NAME + r"\b")
# an appositive after a name: ", an exiled critic of Qaddafi,"
APPOSITIVE = re.compile(r",\s+(?:a|an|the)\s+[^,;.]{1,60}?(?=,|;|\.|\s+and\b)", CI)
# an age after a person of a list, its closing comma kept or left out: "killed John Lee, 23, and
# his sister", "shot Ann Ray, 23 and her sister" (never "killed a guard, 3 soldiers and ...")
AGE_AFTER_ITEM = re.compile(r",\s*\d{1,3}(?=\s*,|\s+(?:and|&)\s)")
APPOSITIVE_NAME = re.compile(r",\s+" + TITLE + r"?" + NAME + r"(?:,\s*\d{1,3})?(?=,|;|\.|\s+and\b)")
# the noun phrase after a number ("Afghan soldiers", "of his cousins", "passers by")
NP_TAIL = re.compile(
    r"(?:\s+(?:of\s+(?:his|her|their|the|them|whom)\s+)?(?!(?:and|or|including)\b)"
    + NP_WORD
    + r"){0,4}",
    CI,
)
NOT_PEOPLE = re.compile(
    r"(?:\s+(?!(?:and|or|people|persons|"
    + alt(CTX["fighters"])
    + r")\b)"
    + NP_WORD
    + r"){0,2}?\s+(?:"
    + ordered_words(alt(CTX["not_people"]))
    + r")\b",
    CI,
)


def _word_gate(pattern: str, n: int) -> re.Pattern | None:
    """A quick test before a case-insensitive pattern of plain words that must reach one of its
    first words within `n` whitespace-separated words: matched at a position of the lower-cased
    text, it matches when one of the next `n` words starts with such a word or holds a bracket
    (a bracketed group may hold several words as one). None when the words are not plain."""
    if "\\" in pattern:
        return None
    words = first_words(pattern.lower())
    if not words:
        return None
    # possessive runs (*+, ++): giving back part of a word or of a space never helps, and the
    # gate then fails without trying every shorter run (same matches, a third faster)
    return re.compile(
        rf"\s*+(?:[^\s(\[]++\s++){{0,{n - 1}}}(?:{trie_regex(words)}|[^\s(\[]*+[(\[])"
    )


# NOT_PEOPLE is at most two noun-phrase words ("and 3" is two) before a thing; SINGULAR_ITEM a
# determiner and at most four words before a person.
NOT_PEOPLE_GATE = _word_gate(alt(CTX["not_people"]), 5)
SINGULAR_ITEM_GATE = _word_gate(PERSON_SG, 6)
# The only letters that match an ASCII letter when case is ignored and are not lower-cased to it
# ("ſ" matches "s"; the Kelvin sign is lower-cased to "k"): the gates above need text without them.
CASE_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f")  # İ, ı, ſ


FIGHTERS = re.compile(r"(?:\s+" + WORD + r"){0,2}?\s+(?:" + alt(CTX["fighters"]) + r")\b", CI)
DEFENDED_BY = re.compile(r"\b(?:" + alt(CAT["object"]["combatants"]["defended_by"]) + r")\s*$", CI)

# Subjects, matched backwards from a cue: the pattern must end where the auxiliaries start.
ONE_PERSON = (
    r"(?:a|an|one|another)\s+(?:" + ADJ + r"\s+){0,4}?(?:" + _PERSON_SG_CI + r"|" + DEMONYM + r")"
)
# a short phrase after a singular noun: "A night watchman at the bank was ...",
# "ambassador to Italy"
PP = r"(?:\s+(?:at|in|of|from|to|for|with|on)\s+(?:" + ADJ_OBJ + r"\s+){0,4}?" + ADJ_OBJ + ")?"
# "a man who was shot last week (has died)": a relative clause that says what befell the person
# An age as the noun, common in local news: "a 19-year-old was shot and killed", "a 17-year-old
# died" (subjects only: an age before a noun is an adjective, "a 19-year-old man")
AGE_NOUN = r"\d{1,3}-year-old"
WHO_CLAUSE = r"(?P<who>\s+who\s+(?:was|had been)\s+(?:[\w'’\-]+\s+){0,6}?[\w'’\-]+)?"
SINGULAR_SUBJECT = re.compile(
    r"(?P<first>\b" + ONE_PERSON + r"\s+and\s+)?"
    # a possessive only after "and": "a father and his son were shot", "a girl was killed and
    # her mother was wounded"
    r"\b(?P<det>a|an|another|the|(?(first)(?:his|her|their)|(?<=\band\s)(?:his|her|their)))\s+"
    r"(?P<words>(?:" + ADJ + r"\s+){0,4}?)"
    r"(?P<noun>(?:"
    + _PERSON_SG_CI
    + r"|"
    + _PAIR_CI
    + r"|"
    + AGE_NOUN
    + r")\b(?!['’]s)|"
    + DEMONYM
    + r"\b)"
    + PP
    + WHO_CLAUSE
    + r"$",
    CI,
)
# A pronoun subject right before the auxiliaries: "he was being treated for an injury" (a person
# told before; counted only when nothing else counts that category, see figures._definite_only)
PRONOUN_BEFORE_AUX = re.compile(r"\b(?:he|she)\s*$", CI)
# Adverbs between a subject and "died" ("He later died"); "reportedly" only after a person
# described or named ("a man reportedly died"), not after a pronoun or "the victim".
_THEN = "later|also|subsequently|eventually"
DIED_ADVERBS = (*_THEN.split("|"), "reportedly")
_DIED_ADVERB = "(?:" + "|".join(DIED_ADVERBS) + ")"
# ... and before an intransitive "died": "She died Monday", "He later died" (the pronoun, group 1)
PRONOUN_DIED = re.compile(r"\b(he|she)\s+(?:(?:" + _THEN + r")\s+)?$", CI)
# "the dead man was the train's driver", "the wounded woman": a definite person with the outcome
# as an adjective (matched at the cue word, lower-cased text)
DEFINITE_OUTCOME = re.compile(
    r"(?:dead|slain|deceased|wounded|injured)\s+(?:" + _PERSON_SG_CI + r")\b(?!['’]s)"
)
# An age between commas after the subject: "a second man, 19, was taken to a hospital" (the
# subject is read before it; the age is never a figure) ...
# ... or a description: "the victim, a man in his 30s, was pronounced dead"
AGE_TAIL = re.compile(r",\s*(?:\d{1,3}|(?:a|an)\s+[^,;.]{1,50}?)\s*,\s*$", CI)
DIED_SUBJECT = re.compile(
    r"\b(?:a|an|another|one)\s+(?:"
    + ADJ
    + r"\s+){0,3}?(?P<noun>(?:"
    + _PERSON_SG_CI
    + r"|"
    + AGE_NOUN
    + r"))\b(?!['’]s)"
    + r"(?:\s+"
    + _DIED_ADVERB
    + r")?\s+$",
    CI,
)
# Where a match of SINGULAR_SUBJECT or DIED_SUBJECT can start, in the lower-cased text: one of
# their first words at a word start ("a", "an", "another", "one", "the"), then a space.
SUBJECT_START = re.compile(
    word_start(["a", "an", "another", "one", "the", "his", "her", "their"]) + r"\s"
)


def search_subject(pattern: re.Pattern, text: str, low: str, pos: int, endpos: int):
    """`pattern.search(text, pos, endpos)` for SINGULAR_SUBJECT and DIED_SUBJECT: tried only where
    SUBJECT_START finds a start (a few places, not every character of the window)."""
    # (exact on the lower-cased text: no other character matches a, e, h, n, o, r or t when case
    # is ignored)
    for g in SUBJECT_START.finditer(low, pos, endpos):
        m = pattern.match(text, g.start(), endpos)
        if m:
            return m
    return None


DIED_CUES = frozenset({"died", "perished", "succumbed", "drowned", "lost"})
_NAME_APPOSITION = r"(?P<name>\b" + NAME + r")(?:(?:,[^,;.]{1,80}){1,2},|,)?\s+"
NAME_SUBJECT = re.compile(_NAME_APPOSITION + r"(?:was|has been|had been)\s+(?:\w+ly\s+)?$")
# ... and a name before an intransitive "died" ("John Smith, 34, died at the scene", "Nabil
# Hasan al-Quaety, a videojournalist from Yemen, died ..."; figures._died_named_or_definite),
# unless its first word starts no name ("Many Americans died", "Police ...": NOT_NAME_DIED)
_DIED_ADVERBS = r"(?:" + _DIED_ADVERB + r"\s+)?$"
NAME_DIED = re.compile(_NAME_APPOSITION + _DIED_ADVERBS)
# one more name coordinated before it: "John Smith, 22, and |Mary Jones, 19, died"
NAME_AND_BEFORE = re.compile(r"(?P<name>\b" + NAME + r")(?:,\s*\d{1,3})?,?\s+and\s+$")
NOT_NAME_DIED = frozenset((CAT["not_name_start"] + "|" + CTX["not_name_died"]).split("|"))
# a surname alone before a description between commas: "Smith, a father of two, was
# pronounced dead", "Reed, a sophomore at the college, died" (tried when a comma ends the words
# before the auxiliary or the cue)
_SURNAME_APPOSITION = r"(?P<name>\b[A-Z][a-z]{2,}),\s+(?:a|an)\s+[^,;.]{1,80},\s+"
SURNAME_SUBJECT = re.compile(_SURNAME_APPOSITION + r"(?:was|has been|had been)\s+(?:\w+ly\s+)?$")
SURNAME_DIED = re.compile(_SURNAME_APPOSITION + _DIED_ADVERBS)
# "The victim died at a hospital", "the father of four died": a definite person (told before,
# or the only telling: figures._definite_only), its description between commas allowed
DEFINITE_DIED = re.compile(
    r"the\s+(?:"
    + ADJ
    + r"\s+){0,3}?(?P<noun>"
    + _PERSON_SG_CI
    + r")\b(?!['’]s)"
    + PP
    + r"(?:\s*,[^,;.]{1,60},)?\s+(?:(?:"
    + _THEN
    + r")\s+)?$",
    CI,
)
DIED_DEFINITE_CONTEXT = re.compile(CTX["died_definite_context"])  # lower-cased text
DIED_FIGHTING_FORCES = re.compile(CTX["died_fighting_forces"])  # lower-cased, after "died"
BODY_OF = re.compile(r"\b[Tt]he\s+body\s+of\s+" + NAME)
SUBSET_PEOPLE = re.compile(
    r"(?:including|among them|among the (?:dead|killed|victims)(?: (?:were|was))?)\s+"
    r"(?P<item>"
    + PAIR_ITEM.pattern
    + r"|"
    + DET
    + r"\s+(?:"
    + ADJ
    + r"\s+){0,4}?(?:"
    + _PERSON_SG_CI
    + r")(?![\w\-]))",
    CI,
)
SUBSET_GATE = re.compile(word_start(["including", "among"]) + r"\b")

# --- explicit zeros and the attacker's own death ------------------------------------------------

_Z = CTX["zero"]
_ZERO_PARTS, ZERO_NAMES = [], []
for _cat, _v in _Z["verbs"].items():
    ZERO_NAMES.append((_cat, "nobody"))
    _ZERO_PARTS.append(f"(?P<g{len(ZERO_NAMES) - 1}>{alt(_Z['nobody'])}(?:{alt(_v)}))")
for _cat, _n in _Z["nouns"].items():
    ZERO_NAMES.append((_cat, "no_noun"))
    _ZERO_PARTS.append(f"(?P<g{len(ZERO_NAMES) - 1}>{alt(_Z['no_noun'])}(?:{alt(_n)}))")
ZERO = re.compile(r"(?:" + "|".join(_ZERO_PARTS) + r")\b")  # lower-cased text, at ZERO_GATE
ZERO_GATE = re.compile(word_start(["no", "none", "nobody", "without", "zero"]) + r"\b")
SELF_KILLING = re.compile(r"\b(?:" + alt(CTX["self_killing"]) + r")\b")  # lower-cased text
SELF_GATE = re.compile(r"himself|herself|suicide|own life")
SELF_INJURY = re.compile(CTX["self_injury"])  # lower-cased text, matched at a self-killing
SELF_ACCIDENT = re.compile(CTX["self_accident"])  # lower-cased text, before a self-killing

# what may follow a list item after the first: punctuation, a conjunction or a preposition (not a
# verb: "killed a hostage, 60 marines stormed ..." ends the list at the comma)
ITEM_END = re.compile(
    r"\s*(?:[,.;:)\]]|$)|\s+(?:and|or|as|in|at|on|of|near|during|while|when|after|before|with|"
    r"who|whom|from|inside|outside|including|by|to|for|but|plus|along|together|then|\d)\b",
    CI,
)
# a person in the singular coordinated inside a number's noun phrase:
# "2 workers and their assistant"
SINGULAR_IN_NP = re.compile(
    r"(?:,\s*|\s+)(?:and|as well as)\s+(?P<item>(?:a|an|one|their|his|her|its)\s+(?:"
    + ADJ_OBJ
    + r"\s+){0,3}?(?:"
    + _PERSON_SG_CI
    + r"))(?![\w\-]|['’]s)",
    CI,
)
# a breakdown opens right after a total's noun phrase: "40 people, 6 soldiers and 34 civilians,"
GENERIC_TOTAL = re.compile(r"\b(?:people|persons|victims|individuals|dead)\b", CI)
BREAKDOWN_OPENS = re.compile(r"[\w\s'’\-]*?\s*[,(:\-–—]\s*")
PART_OF = re.compile(r"\s+of\s+(?:(?:the|these|those|its|their|his|her|our|my)\s+)?")
AMONG_THOSE = re.compile(
    r"(?:\s+" + WORD + r"){0,3}?\s+(?:were|was|are|is)\s+(?:also\s+)?among\s+(?:those|the)\s+", CI
)
AFTER_PERCENT = re.compile(r"\s*(?:%|per ?cent)", CI)
DOZEN = re.compile(r"\s+dozen\b(?!s)", CI)
# ages in apposition: "Eludio Aguilar, 43, was killed"
AGE_APPOSITION = re.compile(r"[A-Z][a-z]+,\s*$")
# between two numbers of one list: the first one's noun phrase and a comma or "and"
LIST_LINK = re.compile(r"(?:\s+" + NP_WORD + r"){0,6}?(?:\s*,\s*|\s+)(?:and\s+)?", CI)
# between two counts coordinated before one cue: the first one's noun phrase and a conjunction
# ("25 Iraqis and |one U.S. soldier dead"), or a comma inside such a list
# (figures._coordinated_counts)
_COORD_JOIN = alt(CAT["coordinated_join"])
COORD_LINK = re.compile(r"(?:\s+" + NP_WORD + r"){0,4}?\s*,?\s+(?:" + _COORD_JOIN + r")\s+", CI)
# a person coordinated before a count that has its cue: "The driver and |three passengers were
# killed", "An American executive of Ford Motor Argentina, John A. Swint, and |three bodyguards
# ...", "John Smith and |two friends ..." (figures._coordinated_person); searched in a short
# window ending at the count
_CAPS = r"(?-i:[A-Z][\w'’\-]*)"
_PERSON_BEFORE = (
    r"(?P<item>\b(?:a|an|the|one|his|her|their)\s+(?:(?!(?:a|an|the|his|her|their|its)\b)"
    + ADJ
    + r"\s+){0,4}?(?:"
    + _PERSON_SG_CI
    + r")(?:-in-law)?(?![\w\-])(?:\s+of\s+(?:the\s+)?"
    + _CAPS
    + r"(?:\s+"
    + _CAPS
    + r"){0,3})?|(?-i:(?!(?:"
    + CAT["not_name_start"]
    + r")\b)"
    + TITLE
    + r"?"
    + NAME
    + r"))(?:,\s+"
    + TITLE
    + r"?(?-i:"
    + NAME
    + r"),)?"
)
COORD_PERSON_BEFORE = re.compile(_PERSON_BEFORE + r"\s*,?\s+and\s+(?:(?:his|her|their)\s+)?$", CI)
# ... and one more person before such a person, in a comma list ("a 17-year-old boy, |a 20-year-old
# man and two women were injured")
COORD_PERSON_COMMA = re.compile(_PERSON_BEFORE + r"\s*,\s+$", CI)
COORD_COMMA = re.compile(r"(?:\s+" + NP_WORD + r"){0,4}?\s*,\s*", CI)
ANY_CUE = re.compile(r"\b(?:" + plain(AFTER_ALT) + "|" + plain(OBJ_ALT) + r")\b", CI)
# "5 people were injured, 2 of them critically", "wounding 32, four seriously": a part of before
OF_THEM = re.compile(
    r"\s+(?:of\s+(?:them|those|whom|these|the (?:dead|victims|injured|wounded))\b|"
    r"(?:seriously|critically|severely|badly|slightly|gravely|lightly)\b)",
    CI,
)
# between two counts of one list, an item that says where its people come from: "seventeen| from
# the Armed Forces, and |two ..." (capitalised names only: "from the blast" is no affiliation)
LIST_LINK_FROM = re.compile(
    r"\s+(?:" + alt(CAT["item_from"]) + r")\s+(?:the\s+)?(?-i:[A-Z][\w'’\-]*\.?)"
    r"(?:\s+(?:of\s+)?(?:the\s+)?(?-i:[A-Z][\w'’\-]*\.?)){0,4}\s*,\s*(?:and\s+)?",
    CI,
)
# a pronoun subject before its verb: "he was (reportedly) |killed", "she |died"
# (figures._subject_of_others)
PRONOUN_SUBJECT = re.compile(
    r"\b(?:he|she)\s+(?:(?:was|had been|has been)\s+)?(?:\w+ly\s+)?$"
)  # lower-cased text
VERB_WORD = re.compile(r"[\w'’\-]+")
# "two each from the Coast Guard and the National Police": the list the count applies to each of
_EACH_ITEM = r"(?:(?!and\b)[\w'’\-.]+)(?:\s+(?!and\b)[\w'’\-.]+){0,5}?"
EACH_OF = re.compile(
    r"\s+each\s+(?:"
    + alt(CAT["each_of"])
    + r")\s+(?P<list>"
    + _EACH_ITEM
    + r"(?:\s*,\s*"
    + _EACH_ITEM
    + r")*\s*,?\s+and\s+"
    + _EACH_ITEM
    + r")(?=\s*[,.;:)]|\s*$)",
    CI,
)
EACH_SEP = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+", CI)
# "33 passengers were hospitalised, five of them seriously injured": a count with its own cue
# that says it is a part of the people counted before it (figures._mark_subsets)
OF_THEM_PART = re.compile(
    r"\s+of\s+(?:them|those|whom|these|the (?:dead|victims|injured|wounded))\b", CI
)
# after a list item, a verb of saying: the item is the source, not one more victim ("killed two
# guards, a spokesman said"; figures._read_list)
SOURCE_AFTER = re.compile(r"\s+(?:" + alt(CTX["attribution_verbs"]) + r")\b", CI)
# the cues that are the noun of their own number ("six survivors and three bodies"): a count
# coordinated before one does not share it (figures._coordinated)
OWN_NOUN_CUE = re.compile(CAT["own_noun_cues"])  # lower-cased text

# --- unspecified counts, older reports, qualifier sharing ----------------------------------------

EARLIER_REPORT = re.compile(CTX["earlier_report"])  # lower-cased text
ORDINAL_VICTIM = re.compile(CTX["ordinal_victim"])  # lower-cased text
UNSPECIFIED_ITEM = re.compile(
    r"(?:the\s+)?(?:(?!(?:when|while|as|after|before|because|if|since|until|where|who|which|that|"
    r"and|or|in|at|on|of|to|by|with|from|during)\b)[\w\-]+\s+){0,2}?"
    + CTX["unspecified_people"]
    + r"\b",
    CI,
)
UNSPECIFIED_NOUN_BEFORE = re.compile(CTX["unspecified_noun_before"])  # lower-cased text
STRONG = re.compile(r"-strong\b", CI)
UNSPECIFIED_NOMINAL = re.compile(CTX["unspecified_nominal"])  # lower-cased text
UNSPECIFIED_NOUN = re.compile(r"(?:deaths|fatalities|casualties|injuries)\b")  # lower-cased
# between "At least 16 people were killed" and "25 injured": one clause, joined by "and"
SHARED_QUALIFIER = re.compile(
    r"(?:\s+[\w'’\-]+){0,6}?\s+(?:were|was|have been|had been)\s+\w+\s+and\s+"
)
