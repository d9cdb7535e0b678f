"""Find figures about people in an article: which number, what it counts, and its context.

How a figure is found (patterns in `lexicon/categories.yaml` and `lexicon/context.yaml`):

1. Object lists: a category verb followed by what it did to whom - numbers ("killing 3 and
   wounding 7"), people in the singular ("killed a policeman", "killed his wife and her two
   children" = 1 + 2), pairs ("killed them both"), pronouns ("went to kill her"), names.
2. Numbers before their cue: "33 people were killed", "12 dead", "dozens of others injured",
   "30 Taliban militants and 2 soldiers were killed".
3. Tolls: "the death toll rose to 41" (cumulative), "raised the number of fatalities to six".
4. Singular subjects: "a man was killed", "A Libyan was shot and killed", "a couple was killed".
5. Explicit zeros: "no one was hurt", "there were no reports of casualties".
6. The attacker's own death: "before killing himself" (victim_type perpetrators).
A number with no cue is a force size when its noun is fighters ("defended by 3,000 jihadists"),
a subset when it follows "including" a figure, or joins the figure it is listed with
("four members of the band and 16 spectators"); otherwise it is not a figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from casualties import context, numbers
from casualties.context import CTX, alt, words
from casualties.model import Figure
from casualties.sentences import sentence_index, split_sentences

CAT = context.load_lexicon("categories")
_I = re.IGNORECASE


def _named_alternation(table: dict) -> tuple[str, list[tuple[str, str]]]:
    """One regex alternation with a group per (category, name), and the group → rule map."""
    parts, names = [], []
    for category, entries in table.items():
        for name, pattern in entries.items():
            names.append((category, name))
            parts.append(f"(?P<g{len(names) - 1}>{alt(pattern)})")
    return "|".join(parts), names


def _which(m: re.Match, names: list[tuple[str, str]]) -> tuple[str, str]:
    return names[int(m.lastgroup[1:])]


# --- compiled patterns -------------------------------------------------------------------------

_OBJ_ALT, _OBJ_NAMES = _named_alternation(CAT["object"])
# The object verb must not be an adjective before a noun cue ("wounded soldiers were ...") nor a
# passive ("were killed in ..."); its object is parsed by _object_items.
OBJECT_VERB = re.compile(r"\b(?:" + _OBJ_ALT + r")\b", _I)
_THEN = [
    (cat, name, re.compile(r"\b(?:" + e["verb"] + r")\b", _I), re.compile(r"\s+" + e["then"], _I))
    for cat, entries in CAT["object_then"].items()
    for name, e in entries.items()
]
_AFTER_ALT, _AFTER_NAMES = _named_alternation(CAT["after"])
_AUX = alt(CAT["after_aux"])
_STOP = alt(CAT["after_stop"])
_NP_PART = alt(CAT["np_participles"])
# one noun-phrase word between a number and its cue: not an auxiliary, a stop word or a verb form
# a word: an abbreviation ("U.S.") or letters/digits/hyphens/apostrophes (never a sentence's period)
_WORD = r"(?:(?:[A-Za-z]\.){2,}|[\w'’\-]+)"
_NP_WORD = (
    r"(?:(?:and|including)\s+\d[\d,]*\b|"  # "30 militants and 2 soldiers were killed"
    r"(?!(?-i:" + _AUX + "|" + _STOP + r")\b)(?!\d)"
    r"(?:(?:" + _NP_PART + r")\b|(?![\w'’\-]*(?:ed|ing)\b)" + _WORD
    + r"|\([^()]{0,80}\)|\[[^\[\]]{0,40}\]))"
)
_CUE = r"(?:(?:\w+ly|also|all|both|reportedly)\s+)*(?:" + _AFTER_ALT + r")\b"
# Long link: noun phrase (with lists and appositives) + auxiliary + cue: "were killed".
AFTER_AUX = re.compile(
    r"(?:(?:\s*,\s*|\s+|(?=[\[(]))" + _NP_WORD + r"){0,10}?(?:\s*,)?(?:\s+(?-i:" + _AUX + r"))+\s+" + _CUE,
    _I,
)
# Short link without auxiliary: "12 dead", "dozens injured", "2 dozen others wounded".
AFTER_BARE = re.compile(r"(?:\s+" + _NP_WORD + r"){0,2}?\s+" + _CUE, _I)

_TOLL_PARTS = []
_TOLL_NAMES = []
for _cat, _entries in CAT["toll"].items():
    for _name, _e in _entries.items():
        _TOLL_NAMES.append((_cat, _name))
        _TOLL_PARTS.append(f"(?P<g{len(_TOLL_NAMES) - 1}>{alt(_e['pattern'])})")
TOLL_BEFORE = re.compile(
    r"\b(?:" + "|".join(_TOLL_PARTS) + r")" + CAT["toll_link"] + r"$", _I
)
TOLL_RISE = re.compile(CAT["toll_rise"], _I)
RAISE_TOLL = re.compile(CAT["raise_toll"] + r"(?:\w+\s+){0,5}$", _I)

_FILLER = re.compile(r"(?:(?:his|her|their|its|the|" + alt(CAT["object_filler"]) + r")\s+)+", _I)
_JOIN = alt(CAT["list_join"])
_SEP = re.compile(r"\s*(?:,\s*(?:(?:" + _JOIN + r")\s+)?|\s+(?:" + _JOIN + r")\s+)", _I)
_INTENT = re.compile(r"\b(?:" + alt(CAT["intent"]) + r")\s+(?:to\s+|of\s+)?$", _I)

_PERSON_SG = alt(CTX["person_singular"])
_PAIR = alt(CTX["person_pair"])
_DEMONYM = CTX["demonym"]
# a word inside a singular noun phrase ("a 20-year old", "young Iranian")
_ADJ = (
    r"(?!(?:and|or|in|at|on|of|to|by|with|was|were|who|that|before|after)\b)"
    r"(?:(?:" + _NP_PART + r")\b|(?![\w'’\-]*(?:ed|ing)\b)" + _WORD + ")"
)
_DET = r"(?:a|an|one|another|the|his|her|their|its|my|our|your)"
_POSSESSIVE = {"his", "her", "their", "its", "my", "our", "your"}
_OF_PHRASE = r"(?:\s+of\s+(?:a|an|the|his|her|their)\s+(?:[\w\-'’]+\s+){0,3}?[\w\-'’]+(?=[\s,.;]))?"
SINGULAR_ITEM = re.compile(
    r"(?P<det>" + _DET + r"\s+)?(?P<words>(?:" + _ADJ + r"\s+){0,4}?)"
    r"(?P<noun>\b(?:" + _PERSON_SG + r"))(?!['’]s)(?![\w\-])" + _OF_PHRASE,
    _I,
)
PAIR_ITEM = re.compile(
    r"(?:(?:a|the|his|her|their)\s+(?:\w+\s+)?(?:" + _PAIR + r")|them both|both of them"
    r"|both(?=\s*(?:[,.;]|and\b|$|in\b|at\b)))\b",
    _I,
)
ANOTHER_ITEM = re.compile(
    r"another(?=\s*(?:[,.;]|and\b|$|in\b|at\b|on\b|before\b|as\b|when\b|during\b|outside\b))", _I
)
PRONOUN_ITEM = re.compile(
    r"(?:him|her)(?=\s*(?:[,.;]|and\b|$|as\b|in\b|at\b|with\b|before\b|after\b|when\b|"
    r"outside\b|inside\b|on\b|while\b|too\b|during\b|then\b|to death\b))",
    _I,
)
SELF_ITEM = re.compile(r"(?:himself|herself)\b", _I)
NAME_ITEM = re.compile(r"[A-Z][a-z]+(?:[ \-](?:al-|bin |de |van )?[A-Z][a-zA-Z'’\-]+){1,3}\b")
# an appositive after a name: ", an exiled critic of Qaddafi,"
_APPOSITIVE = re.compile(r",\s+(?:a|an|the)\s+[^,;.]{1,60}?(?=,|;|\.|\s+and\b)", _I)
# the noun phrase after a number ("Afghan soldiers", "of his cousins", "passers by")
_NP_TAIL = re.compile(
    r"(?:\s+(?:of\s+(?:his|her|their|the|them|whom)\s+)?(?!(?:and|or|including)\b)" + _NP_WORD + r"){0,4}", _I
)
NOT_PEOPLE = re.compile(
    r"(?:\s+(?!(?:" + _STOP + r"|and|or)\b)" + _WORD + r"){0,2}?\s+(?:" + alt(CTX["not_people"]) + r")\b",
    _I,
)
FIGHTERS = re.compile(r"(?:\s+" + _WORD + r"){0,2}?\s+(?:" + alt(CTX["fighters"]) + r")\b", _I)
_AFTER_PERCENT = re.compile(r"\s*(?:%|per ?cent)", _I)

# Singular subjects: "a man was killed", "A Libyan was shot and killed", "another were injured".
_ONE_PERSON = r"(?:a|an|one|another)\s+(?:" + _ADJ + r"\s+){0,4}?(?:" + _PERSON_SG + r"|" + _DEMONYM + r")"
# a short phrase after a singular noun: "A night watchman at the bank was ...", "ambassador to Italy"
_PP = r"(?:\s+(?:at|in|of|from|to|for|with|on)\s+(?:" + _ADJ + r"\s+){0,4}?" + _ADJ + ")?"
SINGULAR_SUBJECT = re.compile(
    r"(?P<first>\b" + _ONE_PERSON + r"\s+and\s+)?"
    r"\b(?P<det>a|an|another|the)\s+(?P<words>(?:" + _ADJ + r"\s+){0,4}?)"
    r"(?P<noun>(?:" + _PERSON_SG + r"|" + _PAIR + r")\b(?!['’]s)|" + _DEMONYM + r"\b)"
    + _PP
    + r"(?:\s+(?-i:" + _AUX + r"))+\s+" + _CUE,
    re.IGNORECASE,
)
# "Another policeman died of his wounds", "a child later died"
SINGULAR_DIED = re.compile(
    r"\b(?:a|an|another|one)\s+(?:" + _ADJ + r"\s+){0,3}?(?P<noun>(?:" + _PERSON_SG + r"))\b(?!['’]s)"
    r"(?:\s+(?:later|also|subsequently|eventually|reportedly))?\s+(?:died|perished|succumbed|drowned)\b",
    _I,
)
# "Gerard Hoareau, an exiled opposition leader, was shot and killed"
NAME_SUBJECT = re.compile(
    r"(?P<name>\b[A-Z][a-z]+(?:[ \-](?:al-|bin |de |van |[A-Z]\. )?[A-Z][a-zA-Z'’\-]+){1,3})"
    r"(?:,[^,;.]{1,80},)?\s+(?-i:was|has been|had been)\s+(?:\w+ly\s+)?" + _CUE
)
ANOTHER_SUBJECT = re.compile(r"\banother\s+(?:(?:" + _AUX + r")\s+)+" + _CUE, _I)
BODY_OF = re.compile(r"\bthe\s+body\s+of\s+[A-Z][a-z]+(?:[ \-][A-Z][a-zA-Z'’\-]+){1,3}", 0)

_Z = CTX["zero"]
ZERO = [
    (cat, "nobody", re.compile(r"\b" + alt(_Z["nobody"]) + r"(?:" + alt(v) + r")\b", _I))
    for cat, v in _Z["verbs"].items()
] + [
    (cat, "no_noun", re.compile(r"\b" + alt(_Z["no_noun"]) + r"(?:" + alt(n) + r")\b", _I))
    for cat, n in _Z["nouns"].items()
]
SUBSET_PEOPLE = re.compile(
    r"\b(?:including|among them|among the (?:dead|killed|victims)(?: (?:were|was))?)\s+"
    r"(?P<item>" + PAIR_ITEM.pattern + r"|" + _DET + r"\s+(?:" + _ADJ + r"\s+){0,4}?(?:"
    + _PERSON_SG + r")(?![\w\-]))",
    _I,
)
SELF_KILLING = words(CTX["self_killing"])
PERPETRATOR_NP = context.VICTIM_TYPES[0][1]
_MILITANTS = dict(context.VICTIM_TYPES)["militants"]


@dataclass
class _Found:
    """A figure before its context is filled: where, what, how many, and its noun-phrase words."""

    start: int
    end: int
    category: str
    low: int
    best: int
    high: int | None
    qualifier: str
    rule: str
    np: str = ""
    victim_type: str | None = None
    is_cumulative: bool = False
    is_subset: bool = False


# --- finding -----------------------------------------------------------------------------------


def find_figures(text: str) -> list[Figure]:
    """Every figure about people in `text`, in order of appearance (see module docstring)."""
    if not text:
        return []
    sents = split_sentences(text)
    if not sents:
        return []
    starts = [s for s, _ in sents]
    notes = {i for i, (s, e) in enumerate(sents) if context.CODER_NOTE.search(text[s:e])}
    quants = [
        q
        for q in numbers.find_quantities(text)
        if sentence_index(starts, q.start) not in notes
        and not _AFTER_PERCENT.match(text, q.end)
        and not (_AGE_APPOSITION.search(text, max(0, q.start - 30), q.start) and text[q.end : q.end + 1] == ",")
    ]
    quants = [_dozen(text, q) for q in quants]
    by_start = {q.start: q for q in quants}
    found: list[_Found] = []
    used: set[int] = set()  # starts of quantities already read as figures

    _object_lists(text, by_start, used, found)
    for q in quants:
        if q.start in used:
            continue
        f = _number_first(text, q)
        if f:
            found.append(f)
            used.add(q.start)
    _singular_subjects(text, found)
    _zeros(text, found)
    for m in SELF_KILLING.finditer(text):
        found.append(_Found(m.start(), m.end(), "killed", 1, 1, 1, "exact", "self:killed:self_killing",
                            victim_type="perpetrators"))
    found = [f for f in found if sentence_index(starts, f.start) not in notes]
    found = _dedupe(found)
    _subset_people(text, found, sents, starts)
    _join_uncued(text, quants, used, found, sents, starts)
    found = _dedupe(found)
    _mark_subsets(text, found, sents, starts)
    return [_to_figure(text, f, sents, starts) for f in found]


_DOZEN = re.compile(r"\s+dozen\b(?!s)", _I)


def _dozen(text: str, q):
    """'2 dozen' read as 24 (numbers.find_quantities may stop at the '2')."""
    m = _DOZEN.match(text, q.end)
    if not m or q.kind != "number":
        return q
    return replace(q, end=m.end(), surface=text[q.start : m.end()], low=q.low * 12,
                   best=q.best * 12, high=None if q.high is None else q.high * 12)


def _object_lists(text: str, by_start: dict, used: set[int], found: list[_Found]) -> None:
    """Category verbs and the list of people after them ("killing a boy, the wife of a retired
    serviceman and wounding 23 more")."""
    for m in OBJECT_VERB.finditer(text):
        category, name = _which(m, _OBJ_NAMES)
        if _passive_before(text, m.start()) or _INTENT.search(text, max(0, m.start() - 30), m.start()):
            continue
        _read_list(text, m.end(), category, f"object:{category}:{name}", by_start, used, found)
    for category, name, verb, then in _THEN:
        for m in verb.finditer(text):
            items: list[_Found] = []
            end = _read_list(text, m.end(), category, f"object:{category}:{name}", by_start, set(), items)
            if items and then.match(text, end):
                for f in items:
                    used.add(f.start)
                found.extend(items)


_PASSIVE = re.compile(r"(?:\b(?:was|were|been|being|is|are|be)\s+(?:\w+ly\s+)?|\bthe\s+)$", _I)


def _passive_before(text: str, start: int) -> bool:
    """'were killed 3 ...' is no object verb: the number after a passive is not its object."""
    return bool(_PASSIVE.search(text, max(0, start - 30), start))


def _read_list(text, pos, category, rule, by_start, used, out) -> int:
    """Parse the people after an object verb at `pos`; append their figures; return end offset."""
    m = re.compile(r"\s+").match(text, pos)
    if not m:
        return pos
    pos = m.end()
    possessive_mode = False
    n_items = 0
    while True:
        item = _one_item(text, pos, category, rule, by_start, possessive_mode, n_items)
        if item is None:
            return pos
        f, end, possessive = item
        if f is None:  # not people ("her three dogs"): stop the list, nothing counted
            return pos
        possessive_mode = possessive_mode or possessive
        out.append(f)
        if f.rule.endswith("number"):
            used.add(f.start)
        n_items += 1
        pos = end
        if f.rule.endswith("name"):
            m = _APPOSITIVE.match(text, pos)
            if m:
                pos = m.end()
        sep = _SEP.match(text, pos)
        if not sep or OBJECT_VERB.match(text, sep.end()):
            return pos
        pos = sep.end()


def _one_item(text, pos, category, rule, by_start, possessive_mode, n_items):
    """One list item at `pos`: (figure or None if not people, end, had possessive det) or None."""
    q = by_start.get(pos)
    if q is None:
        m = _FILLER.match(text, pos)
        if m and m.end() > pos:
            q = by_start.get(m.end())
    if q is not None:
        if NOT_PEOPLE.match(text, q.end):
            return None, q.end, False
        if n_items and _number_first(text, q):  # "killing 7 policemen, 3 militants were injured"
            return None
        tail = _NP_TAIL.match(text, q.end)
        f = _Found(q.start, q.end, category, q.low, q.best, q.high, q.qualifier, rule + "+number",
                   np=tail.group(0))
        return f, tail.end(), False
    m = PAIR_ITEM.match(text, pos)
    if m:
        return _implicit(m, category, rule + "+pair", 2), m.end(), False
    m = SINGULAR_ITEM.match(text, pos)
    if m and (m.group("det") or possessive_mode or n_items == 0):
        d = (m.group("det") or "").strip().lower()
        f = _implicit(m, category, rule + "+singular", 1)
        return f, m.end(), d in _POSSESSIVE
    m = ANOTHER_ITEM.match(text, pos)
    if m:
        return _implicit(m, category, rule + "+another", 1), m.end(), False
    m = PRONOUN_ITEM.match(text, pos)
    if m:
        return _implicit(m, category, rule + "+pronoun", 1), m.end(), False
    m = SELF_ITEM.match(text, pos)
    if m:
        f = _implicit(m, category, rule + "+self", 1)
        f.victim_type = "perpetrators"
        return f, m.end(), False
    m = NAME_ITEM.match(text, pos)
    if m and n_items == 0:
        return _implicit(m, category, rule + "+name", 1), m.end(), False
    return None


def _implicit(m: re.Match, category: str, rule: str, n: int) -> _Found:
    return _Found(m.start(), m.end(), category, n, n, n, "exact", rule, np=m.group(0))


def _number_first(text: str, q) -> _Found | None:
    """A number followed by its cue ("33 people were killed") or preceded by a toll."""
    if NOT_PEOPLE.match(text, q.end):
        return None
    for rx, shape in ((AFTER_BARE, "bare"), (AFTER_AUX, "after")):
        m = rx.match(text, q.end)
        if m:
            category, name = _which(m, _AFTER_NAMES)
            np = text[q.end : m.start(m.lastgroup)]
            return _Found(q.start, q.end, category, q.low, q.best, q.high, q.qualifier,
                          f"{shape}:{category}:{name}", np=np)
    window = text[max(0, q.start - 90) : q.start]
    m = TOLL_BEFORE.search(window)
    if m:
        category, name = _which(m, _TOLL_NAMES)
        cumulative = bool(TOLL_RISE.search(m.group(0))) or bool(RAISE_TOLL.search(window))
        tail = _NP_TAIL.match(text, q.end)
        return _Found(q.start, q.end, category, q.low, q.best, q.high, q.qualifier,
                      f"toll:{category}:{name}", np=tail.group(0), is_cumulative=cumulative)
    return None


def _singular_subjects(text: str, found: list[_Found]) -> None:
    """'a man was killed', 'A Jewish couple was killed', 'another were injured', 'the body of X'."""
    for m in SINGULAR_SUBJECT.finditer(text):
        category, name = _which(m, _AFTER_NAMES)
        noun = m.group("noun")
        n = 2 if re.fullmatch(_PAIR, noun, _I) else 1
        n += 1 if m.group("first") else 0  # "a Belgian priest and a Guatemalan priest were ..."
        np = m.group("words") + noun
        perp = bool(PERPETRATOR_NP.search(noun))
        if m.group("det").lower() == "the" and not perp:
            continue  # "the victim was killed" repeats someone already counted
        end = m.start("noun") + len(noun)
        found.append(_Found(m.start(), end, category, n, n, n, "exact",
                            f"subject:{category}:{name}", np=np,
                            victim_type="perpetrators" if perp else None))
    for m in NAME_SUBJECT.finditer(text):
        category, name = _which(m, _AFTER_NAMES)
        found.append(_Found(m.start(), m.end("name"), category, 1, 1, 1, "exact",
                            f"subject:{category}:{name}+name", np=m.group("name")))
    for m in SINGULAR_DIED.finditer(text):
        perp = bool(PERPETRATOR_NP.search(m.group("noun")))
        found.append(_Found(m.start(), m.end("noun"), "killed", 1, 1, 1, "exact", "subject:killed:died",
                            np=m.group("noun"), victim_type="perpetrators" if perp else None))
    for m in ANOTHER_SUBJECT.finditer(text):
        category, name = _which(m, _AFTER_NAMES)
        found.append(_Found(m.start(), m.start() + 7, category, 1, 1, 1, "exact",
                            f"subject:{category}:{name}+another"))
    for m in BODY_OF.finditer(text):
        found.append(_Found(m.start(), m.end(), "killed", 1, 1, 1, "exact", "subject:killed:body_of"))


def _zeros(text: str, found: list[_Found]) -> None:
    for category, name, rx in ZERO:
        for m in rx.finditer(text):
            found.append(_Found(m.start(), m.end(), category, 0, 0, 0, "exact", f"zero:{category}:{name}"))


# between two numbers of one list: the first one's noun phrase and a comma or "and"
_LIST_LINK = re.compile(r"(?:\s+" + _NP_WORD + r"){0,6}?(?:\s*,\s*|\s+)(?:and\s+)?", _I)
_ANY_CUE = re.compile(
    re.sub(r"\(\?P<g\d+>", "(?:", r"\b(?:" + _AFTER_ALT + "|" + _OBJ_ALT + r")\b"), _I
)
# "5 people were injured, 2 of them critically": a part of the figure before
_OF_THEM = re.compile(
    r"\s+(?:of\s+(?:them|those|whom|these|the (?:dead|victims|injured|wounded))\b|"
    r"(?:seriously|critically|severely|badly|slightly|gravely|lightly)\b)",
    _I,
)
# ages in apposition: "Eludio Aguilar, 43, was killed"
_AGE_APPOSITION = re.compile(r"[A-Z][a-z]+,\s*$")


def _join_uncued(text, quants, used, found, sents, starts) -> None:
    """Numbers without a cue: subsets after 'including', list members, force sizes."""
    by_sentence: dict[int, list[_Found]] = {}
    for f in found:
        by_sentence.setdefault(sentence_index(starts, f.start), []).append(f)
    for q in quants:
        if q.start in used or NOT_PEOPLE.match(text, q.end):
            continue
        si = sentence_index(starts, q.start)
        s0, _ = sents[si]
        prev = [f for f in by_sentence.get(si, []) if f.end <= q.start and f.category != "combatants"]
        tail = _NP_TAIL.match(text, q.end)
        if prev:
            p = prev[-1]
            between = text[p.end : q.start]
            if context.SUBSET_BEFORE.search(text[max(s0, q.start - 40) : q.start]) or _OF_THEM.match(
                text, q.end
            ):
                found.append(_Found(q.start, q.end, p.category, q.low, q.best, q.high, q.qualifier,
                                    f"subset:{p.category}", np=tail.group(0), is_subset=True))
                continue
            if _LIST_LINK.fullmatch(between) and not _ANY_CUE.search(between):
                found.append(_Found(q.start, q.end, p.category, q.low, q.best, q.high, q.qualifier,
                                    f"list:{p.category}", np=tail.group(0)))
                continue
        before = text[max(s0, q.start - 40) : q.start]
        if FIGHTERS.match(text, q.end) or re.search(
            r"\b(?:" + alt(CAT["object"]["combatants"]["defended_by"]) + r")\s*$", before, _I
        ):
            found.append(_Found(q.start, q.end, "combatants", q.low, q.best, q.high, q.qualifier,
                                "uncued:combatants:fighters", np=tail.group(0)))


def _subset_people(text, found, sents, starts) -> None:
    """'16 killed, including the suicide bomber': people named after a subset cue, in the
    category of the figure before them in the sentence (is_subset)."""
    for m in SUBSET_PEOPLE.finditer(text):
        si = sentence_index(starts, m.start())
        prev = [f for f in found if sents[si][0] <= f.start and f.end <= m.start()
                and f.category != "combatants"]
        if not prev:
            continue
        item = m.group("item")
        n = 2 if PAIR_ITEM.fullmatch(item) else 1
        perp = bool(PERPETRATOR_NP.search(item))
        found.append(_Found(m.start("item"), m.end("item"), prev[-1].category, n, n, n, "exact",
                            f"subset:{prev[-1].category}:singular", np=item, is_subset=True,
                            victim_type="perpetrators" if perp else None))


def _mark_subsets(text, found, sents, starts) -> None:
    """A figure right after 'including', 'among them' ... is part of an earlier figure of its
    sentence and category (is_subset)."""
    for i, f in enumerate(found):
        s0 = sents[sentence_index(starts, f.start)][0]
        if f.is_subset or not context.SUBSET_BEFORE.search(text[max(s0, f.start - 40) : f.start]):
            continue
        if any(g.category == f.category and s0 <= g.start and g.end <= f.start for g in found[:i]):
            f.is_subset = True


def _dedupe(found: list[_Found]) -> list[_Found]:
    """Sort by position; when spans overlap keep the first found (object lists before others)."""
    order = sorted(range(len(found)), key=lambda i: (found[i].start, i))
    out: list[_Found] = []
    for i in order:
        f = found[i]
        if out and f.start < out[-1].end:
            continue
        out.append(f)
    return out


def _to_figure(text: str, f: _Found, sents, starts) -> Figure:
    si = sentence_index(starts, f.start)
    s0, s1 = sents[si]
    fig = Figure(
        start=f.start, end=f.end, surface=text[f.start : f.end], sentence=text[s0:s1],
        category=f.category, low=f.low, best=f.best, high=f.high, qualifier=f.qualifier,
        rule=f.rule, victim_type=f.victim_type, is_cumulative=f.is_cumulative,
        is_subset=f.is_subset, sentence_start=s0,
    )
    context.annotate(text, fig, s0, s1, f.np)
    if fig.victim_type != "perpetrators" and PERPETRATOR_NP.search(f.np):
        fig.victim_type = "perpetrators"
    if fig.victim_type == "militants" and fig.category == "killed" and context.militants_were_attackers(text, s0, s1):
        fig.victim_type = "perpetrators"
    return fig
