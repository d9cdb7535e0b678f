"""Find figures about people in an article: which number, what it counts, and its context.

How a figure is found (patterns in `rules/categories.yaml`, `rules/context.yaml`, compiled in
`casualties.extract.cues`):

1. Object lists: a category verb followed by what it did to whom - numbers ("killing 3 and
   wounding 7"), people in the singular ("killed a policeman", "killed his wife and her two
   children" = 1 + 2), pairs ("killed them both"), pronouns ("went to kill her"), names.
2. Numbers before their cue: "33 people were killed", "12 dead", "dozens of others injured",
   "30 Taliban militants and 2 soldiers were killed".
3. Tolls: "the death toll rose to 41" (cumulative), "raised the number of fatalities to six".
4. Subjects in the singular, read back from a cue: "a man was killed", "A Libyan was shot and
   killed", "a couple was killed", "Gerard Hoareau, an exiled leader, was shot dead",
   "another policeman died".
5. Explicit zeros: "no one was hurt", "there were no reports of casualties".
6. The attacker's own death: "before killing himself" (victim_type perpetrators).
A number with no cue is a force size when its noun is fighters ("defended by 3,000 jihadists"),
a subset when it follows "including" a figure ("14 killed, including 3 children") or is "2 of
them", or joins the figure it is listed with ("4 band members and 16 spectators"); otherwise it
is not a figure. Numbers before nouns of things ("12 rockets") and dataset coders' notes
("Fatalities coded as 0") are never figures.

Speed: one scan of a lower-cased copy for cue stems (`cues.stem_positions`); every other pattern
is matched at a known position (a quantity, a cue) or in a short window before it. The costlier
patterns are tried only where a quick test says they can match (the stem found, the words before
a cue or after a number, the places a subject can start); each test only ever says "no" where its
pattern finds nothing, so the results are those of the patterns (tests/unit/test_fast_paths.py).
At a trigger only the cue alternatives of its stem are tried (`_by_stem`); list items only where
their first letter is; subjects only after the last character a subject cannot hold; scans for
rare words start where the first of them is (`_first_of`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

from casualties.extract import context, cues
from casualties.extract import quantities as numbers
from casualties.extract.model import Figure
from casualties.rules import load as load_rules
from casualties.text.sentences import sentence_index, split_sentences
from casualties.text.tries import trie_regex

PERPETRATOR_NP = context.VICTIM_TYPES[0][1]


def _by_stem(table: dict) -> dict[str, re.Pattern]:
    """A cue alternation (`cues.named_alternation` of `table`) cut down, for each trigger stem,
    to the alternatives that can start with it, in their order and with their group names: at a
    trigger the first alternative that matches is the same, and the few are tried faster.
    Stems no alternative starts with are left out."""
    parts: list[str] = []
    for entries in table.values():
        for pattern in entries.values():
            parts.append(f"(?P<g{len(parts)}>{context.alt(pattern)})")
    starts = [context.stems(cues.plain(p)) for p in parts]
    out = {}
    for stem in cues._MIN_STEMS:
        few = [
            p
            for p, words in zip(parts, starts, strict=True)
            if any(w.startswith(stem) for w in words)
        ]
        if few:
            out[stem] = re.compile(r"(?:" + "|".join(few) + r")\b")
    return out


_OBJECT_BY_STEM = _by_stem(cues.CAT["object"])  # cues.OBJECT_VERB_L at a trigger
_CUE_BY_STEM = _by_stem(cues.CAT["after"])  # cues.CUE_L at a trigger


def _first_word_gate(pattern: str, n: int) -> re.Pattern | None:
    """The gate `cues._word_gate(pattern, n)` (does one of the next `n` words start with a first
    word of `pattern`, or hold a bracket?) written to read each word once: a word is passed over
    only if the first words do not start there, and nothing is given back. It answers as the
    gate does (the words passed over are the ones the gate backtracks through) at half the cost."""
    words = context.first_words(pattern.lower()) if "\\" not in pattern else None
    if not words:
        return None
    trie = trie_regex(words)
    return re.compile(rf"\s*(?:(?!{trie})[^\s(\[]++\s++){{0,{n - 1}}}+(?:{trie}|[^\s(\[]*+[(\[])")


# cues.NOT_PEOPLE_GATE and cues.SINGULAR_ITEM_GATE, the same answers faster
_NOT_PEOPLE_GATE = _first_word_gate(context.alt(context.CTX["not_people"]), 5)
_SINGULAR_ITEM_GATE = _first_word_gate(cues.PERSON_SG, 6)
_SUBSET_CUT = re.compile(r"\b(?:including|among|of whom|such as)\b", re.IGNORECASE)


@dataclass(slots=True)
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
    cue_at: int = -1  # where the cue word of a number-first figure starts
    after_subset_cue: bool | None = None  # context.subset_before it, once asked (_mark_subsets)

    @classmethod
    def of(cls, q: numbers.Quantity, category: str, rule: str, **extra) -> _Found:
        """A figure of `category` that reads quantity `q` as it stands."""
        return cls(q.start, q.end, category, q.low, q.best, q.high, q.qualifier, rule, **extra)

    @classmethod
    def one(cls, start: int, end: int, category: str, rule: str, **extra) -> _Found:
        """One person, told without a number ("a man", "the driver", "Maria Lopez")."""
        return cls(start, end, category, 1, 1, 1, "exact", rule, **extra)


class _Article:
    """One text being read: its lower-cased copy, sentences and quantities."""

    def __init__(self, text: str):
        self.text = text
        self.low = cues.lower(text)
        self.sents = split_sentences(text)
        self.starts = [s for s, _ in self.sents]
        low = self.low
        self.folds = any(c in low for c in cues.CASE_FOLDS_TO_ASCII)  # see cues.NOT_PEOPLE_GATE
        note = context.CODER_NOTE.match
        self.notes = (
            {i for i, (s, _) in enumerate(self.sents) if note(text, s)}
            if self.folds or any(w in low for w in _CODER_NOTE_WORDS)
            else set()
        )
        keep = self._keep
        # cues.AFTER_PERCENT needs "%" or "per" ("p", "e", "r" match no other letter ignoring case)
        self.percent = "%" in text or "per" in low
        if "dozen" in low:  # "2 dozen" (cues.DOZEN needs the word)
            quants = [_dozen(text, q) for q in numbers.find_quantities(text) if keep(q)]
        else:
            quants = [q for q in numbers.find_quantities(text) if keep(q)]
        if "all but" in low or " except " in low or " save " in low or " bar " in low:
            quants = _all_but(text, low, quants)
        # "three of four members": the second number is the whole the first is part of
        part_of = cues.PART_OF.fullmatch
        self.quants = quants[:1] + [
            b
            for a, b in zip(quants, quants[1:], strict=False)
            if low.find("of", a.end, b.start) < 0 or not part_of(text, a.end, b.start)
        ]
        self.by_start = {q.start: q for q in self.quants}
        # cue stems: every position, and the `after` cues found there (start -> (cat, name, end));
        # "non-fatally", "anti-kidnapping": a stem after a hyphen is part of another word
        self.stem_at = cues.stem_positions(low)
        self.cue_at: dict[int, tuple[str, str, int]] = {}
        names = cues.AFTER_NAMES
        cue_of = _CUE_BY_STEM
        for p, stem in self.stem_at.items():
            cue = cue_of.get(stem)
            if cue is not None:
                c = cue.match(low, p)
                if c:
                    self.cue_at[p] = (*cues.which(c, names), c.end())
        self.cue_pos = list(self.cue_at)  # in order of position, as the triggers
        self._not_people: dict[int, bool] = {}
        self.suicide = "suicide" in low  # every _SUICIDE_AFTER match holds the word
        self._aux_before: dict[int, bool] = {}
        # "X was killed along with twenty others": (verb start, category, the others' figure)
        self.with_others: list[tuple[int, str, _Found]] = []

    def not_people(self, q) -> bool:
        """Whether things, not people, follow quantity `q` ("12 rockets"); asked by several
        rules of the same number, so remembered."""
        hit = self._not_people.get(q.end)
        if hit is None:
            hit = self._not_people[q.end] = (
                self.low[q.end : q.end + 1].isspace()  # the pattern starts with \s+
                and self.word_gate(_NOT_PEOPLE_GATE, q.end)
                and cues.NOT_PEOPLE.match(self.text, q.end) is not None
            )
        return hit

    def word_gate(self, gate: re.Pattern | None, pos: int) -> bool:
        """False when `gate` (cues.NOT_PEOPLE_GATE, cues.SINGULAR_ITEM_GATE) says its pattern
        cannot match at `pos`."""
        return gate is None or self.folds or gate.match(self.low, pos) is not None

    def aux_before(self, t: int) -> bool:
        """False when cues.LINK_AUX cannot end at cue position `t`: the words before it are not
        an auxiliary and adverbs ("were |killed", "was reportedly |shot"). A quick test of the
        few words before the cue, remembered per cue, instead of a full match per number."""
        hit = self._aux_before.get(t)
        if hit is None:
            hit = self._aux_before[t] = _aux_tail(self.low, t)
        return hit

    def sentence(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1  # sentences.sentence_index, inlined
        return self.sents[i if i > 0 else 0]

    def in_note(self, offset: int) -> bool:
        return sentence_index(self.starts, offset) in self.notes

    def _keep(self, q) -> bool:
        text = self.text
        if (self.notes and self.in_note(q.start)) or (
            self.percent and cues.AFTER_PERCENT.match(text, q.end)
        ):
            return False
        return not (
            text[q.end : q.end + 1] == ","
            and cues.AGE_APPOSITION.search(text, max(0, q.start - 30), q.start)
        )


# Every context.CODER_NOTE match holds one of these (lower-cased; exact on text without the
# letters of cues.CASE_FOLDS_TO_ASCII)
_CODER_NOTE_WORDS = ("coded", "split", "divided", "recorded as", "counted as")


def _aux_tail(low: str, t: int) -> bool:
    """Whether low[:t] may end in whitespace, an auxiliary's last word and adverbs (see
    _Article.aux_before); True when unsure."""
    if cues.AUX_LAST_WORDS is None:
        return True
    if not t or not low[t - 1].isspace():
        return False
    w0 = max(0, t - 80)
    words = low[w0:t].split()
    for word in reversed(words[1:] if w0 else words):  # (the window may cut its first word)
        if word in cues.AUX_LAST_WORDS:
            return True
        if not cues.ADVERB.fullmatch(word):
            return False
    return True  # only adverbs in the window


_AGES_BETWEEN_COMMAS = re.compile(load_rules("numbers")["age_between_commas"])
_AGE_AFTER_NAME = re.compile(load_rules("numbers")["age_after_name"])
_AGE_LIST = re.compile(load_rules("numbers")["age_list"])
_NAME_BEFORE_AGE = re.compile(load_rules("numbers")["name_before_age"])
_DIGITS = re.compile(r"\d+")


def _ages_between_commas(text: str) -> set[int]:
    """Starts of the numbers that are ages in a comma apposition ("A man, 45, was killed", "Ann
    Lee, 23 and her sister")."""
    out: set[int] = set()
    for m in _AGES_BETWEEN_COMMAS.finditer(text):
        if not text[m.start() - 1 : m.start()].isalpha():
            continue  # "killed 3, 4 and 5" is no apposition
        out.update(m.start(1) + d.start() for d in _DIGITS.finditer(m.group(1)))
    for m in _AGE_LIST.finditer(text):  # "three children, ages 4, 7 and 10, were hurt"
        if text[m.start() - 1 : m.start()].isalnum():
            continue  # inside a word: "pages 4 and 5"
        out.update(m.start(1) + d.start() for d in _DIGITS.finditer(m.group(1)))
    for m in _AGE_AFTER_NAME.finditer(text):
        if _NAME_BEFORE_AGE.search(text, max(0, m.start() - 40), m.start()):
            out.add(m.start(1))  # "shot Hazar Turki, 23 and her sister"
    return out


def find_figures(text: str) -> list[Figure]:
    """Every figure about people in `text`, in order of appearance (see module docstring)."""
    if not text or not text.strip():
        return []
    art = _Article(text)
    if not art.sents:
        return []
    found: list[_Found] = []
    used: set[int] = set()  # starts of quantities already read as figures
    cue_hits = _scan_triggers(art, used, found)
    if ", " in text:
        used |= _ages_between_commas(text)
    for q in art.quants:
        if q.start not in used:
            f = _number_first(art, q)
            if f:
                found.append(f)
                used.add(q.start)
                _singular_in_np(text, q.end, f, found)
    _coordinated_counts(art, used, found)
    linked = {f.cue_at for f in found}
    definite = _subjects(art, [c for c in cue_hits if c[0] not in linked], found)
    _unspecified_nouns(art, [c for c in cue_hits if c[0] not in linked], found)
    if art.with_others:
        _subject_of_others(art, found)
    _zeros(art, found)
    _ordinal_victims(art, found)
    _self_killing(art, found)
    _body_of(art, found)
    found = _dedupe([f for f in found if not art.in_note(f.start)] if art.notes else found)
    _subset_people(art, found)
    _join_uncued(art, used, found)
    found = _dedupe(found)
    if " each " in art.low:
        _each_member(art, found)
    _named_died_later(art, found)
    if definite:
        found = _definite_only(art, found)
    _mark_subsets(art, found)
    _share_qualifiers(art, found)
    sentence_cache: dict = {}  # sentence start -> (SentenceContext, sentence text)
    return [_to_figure(art, f, sentence_cache) for f in found]


_ALL_BUT = re.compile(load_rules("numbers")["all_but"])


def _all_but(text: str, low: str, quants: list) -> list:
    """'all but one of the sixteen' read as one quantity of 15 (the whole less the part)."""
    out = []
    i = 0
    while i < len(quants):
        a = quants[i]
        b = quants[i + 1] if i + 1 < len(quants) else None
        m = _ALL_BUT.search(low, max(0, a.start - 24), a.start)
        if (
            m
            and b is not None
            and a.high == a.best == a.low
            and b.best > a.best
            and cues.PART_OF.fullmatch(text, a.end, b.start)
        ):
            minus = a.best
            out.append(
                replace(
                    b,
                    start=m.start(),
                    surface=text[m.start() : b.end],
                    low=max(0, b.low - minus),
                    best=b.best - minus,
                    high=None if b.high is None else b.high - minus,
                    core_start=m.start(),
                )
            )
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def _dozen(text: str, q):
    """'2 dozen' read as 24 (numbers.find_quantities may stop at the '2')."""
    m = cues.DOZEN.match(text, q.end)
    if not m or getattr(q, "kind", "number") != "number":
        return q
    return replace(
        q,
        end=m.end(),
        surface=text[q.start : m.end()],
        low=q.low * 12,
        best=q.best * 12,
        high=None if q.high is None else q.high * 12,
    )


# --- object lists and cue positions ------------------------------------------------------------


# object cues read after "was"/"the" too (their names end so in categories.yaml): "was killed
# along with twenty others", "the deaths are ...", "were wounded, as were seventeen soldiers"
_PASSIVE_OK = ("_along_with", "_are", "_as_were")


def _scan_triggers(art: _Article, used: set[int], found: list[_Found]) -> list[tuple]:
    """One scan for cue stems. Object verbs read their lists here; the positions of `after` cues
    are returned as (start, category, name) for the subject rules."""
    text, low = art.text, art.low
    cue_hits = [(p, c[0], c[1]) for p, c in art.cue_at.items()]
    object_end = -1
    object_of, then_stems = _OBJECT_BY_STEM, cues.THEN_STEMS
    for p, stem in art.stem_at.items():
        if p < object_end:
            continue  # inside "shot and killed"
        verb = object_of.get(stem)
        m = verb.match(low, p) if verb is not None else None
        if m and cues.which(m, cues.OBJ_NAMES)[1].endswith("_of"):  # "resulted in the death of"
            if not cues.NOUN_OBJECT_CONTEXT.search(low, max(0, p - 40), p):
                m = None
        elif (
            m
            and _not_an_object_verb(low, p)
            # "was killed ... along with twenty others": a passive verb that still has an object
            # and "the deaths are fourteen civilians ...": a noun, so "the" before it is no sign
            and not cues.which(m, cues.OBJ_NAMES)[1].endswith(_PASSIVE_OK)
        ):
            m = None
        if m:
            category, name = cues.which(m, cues.OBJ_NAMES)
            object_end = m.end()
            n0 = len(found)
            _read_list(art, m.end(), category, f"object:{category}:{name}", used, found)
            _pronoun_of_forces(art, p, found[n0:])
            if name.endswith("_along_with") and len(found) > n0:
                art.with_others.append((p, category, found[n0]))
            continue
        if stem not in then_stems or not cues.THEN_ANY.match(low, p):
            continue
        for category, name, verb, then in cues.THEN:
            v = verb.match(low, p)
            if v:
                items: list[_Found] = []
                end = _read_list(art, v.end(), category, f"object:{category}:{name}", set(), items)
                if items and (then.match(text, end) or _np_ends_with(text, items[-1], then)):
                    used.update(f.start for f in items)
                    found.extend(items)
    return cue_hits


def _np_ends_with(text: str, f: _Found, then: re.Pattern) -> bool:
    """'leaving seven American CIA officers dead': the list reader took the closing word into
    the noun phrase; it still closes the object when it is the phrase's last word."""
    np = f.np.rstrip()
    at = np.rfind(" ")  # `then` starts with the space before its word
    if at <= 0:
        return False
    m = then.match(text, f.end + at)
    return m is not None and m.end() == f.end + len(np)


_FORCES_SUBJECT = re.compile(context.CTX["forces_subject"])
_SUICIDE_AFTER = re.compile(context.CTX["suicide_after"])


def _pronoun_of_forces(art: _Article, verb_at: int, items: list[_Found]) -> None:
    """'the police officer shot and injured him': the pronoun is the attacker."""
    for f in items:
        if f.rule.endswith("pronoun"):
            s0, _ = art.sentence(verb_at)
            if _FORCES_SUBJECT.search(art.low, max(s0, verb_at - 60), verb_at):
                f.victim_type = "perpetrators"


def _not_an_object_verb(low: str, p: int) -> bool:
    """'were killed 3 ...' (passive), 'a plot to kill ...' (intent) and 'will never kill ...',
    'did not kill ...' (negated) have no object figure."""
    words = low[max(0, p - 40) : p].split()
    if not words:
        return False
    last = words[-1]
    if last in cues.NEGATION_WORDS:
        return True
    if last in cues.PASSIVE_WORDS:
        return True
    if last.endswith("ly") and len(words) > 1 and words[-2] in cues.PASSIVE_WORDS:
        return True
    if last in ("to", "of") and len(words) > 1:
        last = words[-2]
    return last.strip(",;:") in cues.INTENT_WORDS


def _read_list(art: _Article, pos: int, category: str, rule: str, used, out) -> int:
    """Parse the people after an object verb at `pos`; append their figures; return end offset."""
    text = art.text
    while pos < len(text) and text[pos] == " ":
        pos += 1
    possessive_mode = False
    after_name = False  # the item before was a name: a name may follow ("X, 24, and Y, 31")
    n_items = 0
    while True:
        item = _one_item(art, pos, category, rule, possessive_mode, n_items, after_name)
        if item is None or item[0] is None:  # no item, or not people ("her three dogs")
            return pos
        f, end, possessive = item
        if text.find("\n", pos, end) >= 0:
            return pos  # a line break ends the sentence: "... shooting dies\nA woman who ..."
        if n_items and cues.SOURCE_AFTER.match(text, end):
            return pos  # "killed two guards, a spokesman said": the source, not a victim
        possessive_mode = possessive_mode or possessive
        after_name = f.rule.endswith("name")
        out.append(f)
        if f.rule.endswith("number"):
            used.add(f.start)
        n_items += 1
        pos = end
        if f.rule.endswith(("name", "singular")):
            m = cues.AGE_AFTER_ITEM.match(text, pos)
            if m:  # "shot Hazar Turki, 23 and her sister": the age is no item
                pos = m.end()
        if f.rule.endswith("name"):
            m = cues.APPOSITIVE.match(text, pos)
            if m:
                pos = m.end()
        elif f.rule.endswith("singular"):  # "Jordan's ambassador, Taysir Toukan, and his driver"
            m = cues.APPOSITIVE_NAME.match(text, pos)
            if m:
                pos = m.end()
        sep = cues.SEP.match(text, pos)
        if not sep or cues.OBJECT_VERB_L.match(art.low, sep.end()):
            return pos
        pos = sep.end()


def _one_item(art: _Article, pos, category, rule, possessive_mode, n_items, after_name=False):
    """One list item at `pos`: (figure or None if not people, end, had possessive det) or None."""
    text = art.text
    q = art.by_start.get(pos)
    if q is None:
        m = cues.FILLER.match(text, pos)
        if m and m.end() > pos:
            q = art.by_start.get(m.end())
    if q is not None:
        if art.not_people(q):
            return None, q.end, False
        if n_items and _number_first(art, q):  # "killing 7 policemen, 3 militants were injured"
            return None
        tail = cues.NP_TAIL.match(text, q.end)
        assert tail is not None  # NP_TAIL matches the empty string too
        if n_items and not cues.ITEM_END.match(text, tail.end()):
            return None  # a new clause's subject: "killed a hostage, 60 marines stormed ..."
        f = _Found.of(
            q,
            category,
            rule + "+number",
            np=tail.group(0),
            is_subset=bool(n_items and cues.OF_THEM.match(text, q.end)),
        )
        # "his two children, his brother-in-law, sister-in-law": the possessive carries on
        possessive = text[pos : q.start].strip().lower() in cues.POSSESSIVE
        return f, tail.end(), possessive
    # The item patterns below are tried only where their first letter is (see _PAIR_FIRST).
    first = art.low[pos : pos + 1]
    m = cues.PAIR_ITEM.match(text, pos) if first in _PAIR_FIRST else None
    if m:
        return _implicit(m, category, rule + "+pair", 2), m.end(), False
    m = cues.SINGULAR_ITEM.match(text, pos) if art.word_gate(_SINGULAR_ITEM_GATE, pos) else None
    if m and (m.group("det") or possessive_mode or n_items == 0):
        det = (m.group("det") or "").strip().lower()
        return _implicit(m, category, rule + "+singular", 1), m.end(), det in cues.POSSESSIVE
    m = cues.ANOTHER_ITEM.match(text, pos) if first == "a" else None
    if m:
        return _implicit(m, category, rule + "+another", 1), m.end(), False
    if first == "h":
        m = cues.PRONOUN_ITEM.match(text, pos)
        if m:
            return _implicit(m, category, rule + "+pronoun", 1), m.end(), False
        m = cues.SELF_ITEM.match(text, pos)
        if m:
            f = _implicit(m, category, rule + "+self", 1)
            f.victim_type = "perpetrators"
            return f, m.end(), False
    c = text[pos : pos + 1]
    m = cues.NAME_ITEM.match(text, pos) if c in _NAME_FIRST else None
    if m and (n_items == 0 or after_name):
        return _implicit(m, category, rule + "+name", 1), m.end(), False
    m = cues.UNSPECIFIED_ITEM.match(text, pos)
    if m and n_items == 0:  # "the airstrike killed civilians": deaths with no number
        f = _Found(
            m.start(),
            m.end(),
            category,
            1,
            3,
            None,
            "unspecified",
            rule + "+unspecified",
            np=m.group(0),
        )
        return f, m.end(), False
    return None


# First letters (lower-cased) of cues.PAIR_ITEM ("a", "the", "his", "her", "their", "them both",
# "both"); ANOTHER_ITEM starts with "a", PRONOUN_ITEM and SELF_ITEM with "h". No other letter
# matches these when case is ignored. cues.NAME_ITEM (case-sensitive) starts with "a", "the",
# a title or a name: "a", "t" or a capital.
_PAIR_FIRST = frozenset("athb")
_NAME_FIRST = frozenset("atABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _implicit(m, category: str, rule: str, n: int) -> _Found:
    return _Found(m.start(), m.end(), category, n, n, n, "exact", rule, np=m.group(0))


# --- numbers before their cue, tolls -------------------------------------------------------------


def _number_first(art: _Article, q) -> _Found | None:
    """A number preceded by a toll, or followed by its cue ("33 people were killed")."""
    text = art.text
    if art.not_people(q):
        return None
    toll = _toll_before(art, q)
    if toll is not None:
        return toll
    i = bisect.bisect_left(art.cue_pos, q.end)
    while i < len(art.cue_pos) and art.cue_pos[i] <= q.end + 200:
        t = art.cue_pos[i]
        i += 1
        category, name, cue_end = art.cue_at[t]
        if text.find("\n", q.end, t) >= 0:
            break  # a line break ends the sentence: "leaves 1 dead, 4 hurt\nOne man was killed"
        if _short_link(text, q.end, t) and cues.LINK_BARE.fullmatch(text, q.end, t):
            if category != "displaced" and cues.OBJECT_FOLLOWS.match(text, cue_end):
                continue  # "Two men shot and killed a bank official": active, with its object
            if cues.PARTITIVE.search(text, q.end, t):
                continue  # "four of the wounded died": the wounded are the set, not the outcome
            if cues.NOUN_CUE.fullmatch(art.low, t, cue_end) and _verb_cue_after(art, q, i):
                continue  # "5 hostages were killed": the verb says what happened
            shape = "bare"
        elif (
            art.aux_before(t)
            and cues.LINK_AUX.fullmatch(text, q.end, t)
            or _died_at(art, t)
            and cues.LINK_DIED.fullmatch(text, q.end, t)
        ):
            shape = "after"
        elif _OF_WHOM_LINK.fullmatch(art.low, q.end, t):
            shape = "of_whom"  # a part of the people before it (see _mark_subsets)
        else:
            continue
        if category == "casualties" and _BESIDES_DEAD.match(art.low, cue_end):
            category, name = "injured", name + "+besides_dead"
        return _Found.of(
            q,
            category,
            f"{shape}:{category}:{name}",
            np=text[q.end : t],
            cue_at=t,
        )
    return None


_OF_WHOM_LINK = re.compile(load_rules("categories")["of_whom_link"])
_BESIDES_DEAD = re.compile(load_rules("categories")["casualties_besides_dead"])


def _short_link(text: str, start: int, end: int) -> bool:
    """False when text[start:end] cannot be cues.LINK_BARE: a space, at most two noun-phrase
    words (at most four words: "and 3" is one), then adverbs and a space. A quick test on the
    words before the full match (most cues after a number are further away)."""
    link = text[start:end]
    if not (link[:1].isspace() and link[-1:].isspace()):
        return False
    words = link.split()
    if len(words) <= 4 or "(" in link or "[" in link:  # a bracket holds several words as one
        return True
    return all(cues.ADVERB.fullmatch(w) for w in words[4:])


def _coordinated_counts(art: _Article, used: set[int], found: list[_Found]) -> None:
    """Counts coordinated before one cue share it (CONVENTIONS, "a list adds its members"):
    "25 Iraqis and one U.S. soldier dead", "12 soldiers, 5 police and 3 civilians were killed".
    Read right to left, so each count joins the number-first figure (or joined count) that is the
    next quantity of its sentence; linear in the quantities."""
    after = sorted(
        (f for f in found if f.cue_at >= 0 and f.rule.startswith(("after:", "bare:"))),
        key=lambda f: f.start,
    )
    if not after:
        return
    quants = art.quants
    j = len(after) - 1
    nxt: _Found | None = None  # the figure at the quantity just after q, if any
    for k in range(len(quants) - 1, -1, -1):
        q = quants[k]
        while j >= 0 and after[j].start > q.start:
            j -= 1
        if j >= 0 and after[j].start == q.start:
            nxt = after[j]
            continue
        if q.start in used:
            nxt = None
            continue
        f = (
            _coordinated(art, q, nxt)
            if nxt is not None and nxt.start == _start_after(quants, k)
            else None
        )
        if f is None:
            nxt = None
            continue
        found.append(f)
        used.add(q.start)
        nxt = f
    counts = [f for f in found if f.rule.startswith(("after:", "bare:", "coordinated:"))]
    if counts and " and " in art.low:
        starts = sorted(f.start for f in found)
        for f in counts:
            _coordinated_person(art, f, found, starts)


def _coordinated_person(art: _Article, f: _Found, found: list[_Found], starts: list[int]) -> None:
    """'The driver and three passengers were killed': a person coordinated before a count that
    has its cue is one more of its victims (CONVENTIONS: a list adds its members). Not where a
    figure is read already ("killed a soldier and three civilians were wounded")."""
    if f.is_subset or not art.low[max(0, f.start - 160) : f.start].rstrip().endswith(_AND_BEFORE):
        return  # the pattern ends in "and" right before the count: most counts have none
    s0, _ = art.sentence(f.start)
    w0 = max(s0, f.start - 160)
    m = cues.COORD_PERSON_BEFORE.search(art.text, w0, f.start)
    if m is None or context.subset_before(art.low, max(s0, m.start() - 40), m.start()):
        return
    name = f.rule.split(":", 2)[2]
    end = f.start
    described = False  # the item after this one, when it is a description ("a 35-year-old man")
    while m is not None:
        k = bisect.bisect_left(starts, m.start())
        if k < len(starts) and starts[k] < end:
            return  # a figure inside the person's words or link: it was read as something else
        if (
            described
            and art.text[m.end("item") : end].strip() == ","
            and not m.group("item").lower().startswith(("a ", "an "))
        ):
            # "The SUV's driver, a 35-year-old man, and three children": the description after
            # a person between commas is that person again (the one figure already appended)
            found[-1] = _Found.one(m.start("item"), found[-1].end, f.category, found[-1].rule)
            described = False
            end = m.start()
            m = cues.COORD_PERSON_COMMA.search(art.text, max(s0, end - 160), end)
            continue
        described = m.group("item").lower().startswith(("a ", "an "))
        found.append(
            _Found.one(
                m.start("item"),
                m.end("item"),
                f.category,
                f"coordinated:{f.category}:{name}",
                np=m.group("item"),
            )
        )
        end = m.start()
        m = cues.COORD_PERSON_COMMA.search(art.text, max(s0, end - 160), end)


# what ends the words before a count a person is coordinated with ("a man and |three ...", "a
# father and his |two sons"; cues.COORD_PERSON_BEFORE)
_AND_BEFORE = ("and", "and his", "and her", "and their")


def _start_after(quants: list, k: int) -> int:
    return quants[k + 1].start if k + 1 < len(quants) else -1


def _coordinated(art: _Article, q, nxt: _Found) -> _Found | None:
    """Quantity `q` as one more count of `nxt`'s cue, when only its noun phrase and a
    conjunction (or a comma inside a coordinated list) stand between them."""
    text = art.text
    if art.not_people(q) or nxt.is_subset or art.sentence(q.start) != art.sentence(nxt.start):
        return None
    if not (
        cues.COORD_LINK.fullmatch(text, q.end, nxt.start)
        or nxt.rule.startswith("coordinated:")
        and cues.COORD_COMMA.fullmatch(text, q.end, nxt.start)
    ):
        return None
    if cues.ANY_CUE.search(text, q.end, nxt.start):
        return None
    cue = art.cue_at.get(nxt.cue_at) if nxt.cue_at >= 0 else None
    if cue is not None and cues.OWN_NOUN_CUE.fullmatch(art.low, nxt.cue_at, cue[2]):
        return None  # "six survivors and three bodies": the noun counts only its own number
    s0, _ = art.sentence(q.start)
    if context.subset_before(art.low, max(s0, q.start - 40), q.start):
        return None  # "including 3 women and 2 children": the parts of a total told before
    name = nxt.rule.split(":", 2)[2]
    return _Found.of(
        q,
        nxt.category,
        f"coordinated:{nxt.category}:{name}",
        np=_np_after(text, q),
    )


def _toll_before(art: _Article, q) -> _Found | None:
    """A number right after a toll ("the death toll from the blast rose to 41"): it is the
    toll's value, whatever cue follows it ("rose to 12 and 30 people were injured")."""
    text = art.text
    w0 = max(0, q.start - 140)
    low = art.low  # (holds "toll" where text.lower() does: they differ only at "İ" and the like)
    if cues.TOLL_HINT.search(low, w0, q.start) is None:
        return None
    m = cues.TOLL_BEFORE.search(text, w0, q.start)
    if not m:
        return None
    category, name = cues.which(m, cues.TOLL_NAMES)
    cumulative = bool(cues.TOLL_RISE.search(m.group(0))) or bool(
        cues.RAISE_TOLL.search(text, w0, q.start)
    )
    tail = cues.NP_TAIL.match(text, q.end)
    assert tail is not None  # NP_TAIL matches the empty string too
    return _Found.of(
        q,
        category,
        f"toll:{category}:{name}",
        np=tail.group(0),
        is_cumulative=cumulative,
    )


def _verb_cue_after(art: _Article, q, i: int) -> bool:
    """Whether a cue after position index `i` links to `q` with an auxiliary ("were killed")."""
    for t in art.cue_pos[i : i + 3]:
        if t > q.end + 120:
            break
        if art.aux_before(t) and cues.LINK_AUX.fullmatch(art.text, q.end, t):
            return True
        if _died_at(art, t) and cues.LINK_DIED.fullmatch(art.text, q.end, t):
            return True  # "251 refugees died"
    return False


def _died_at(art: _Article, t: int) -> bool:
    """Whether the cue at `t` is an intransitive 'died' word (a line break may follow it)."""
    return art.low[t : t + 10].split(None, 1)[0].rstrip(".,;:!?") in cues.DIED_CUES


def _singular_in_np(text: str, np_start: int, f: _Found, found: list[_Found]) -> None:
    """'Two Swiss workers and their African assistant were killed': the coordinated person in the
    singular is one more of the same category."""
    if f.cue_at < 0:
        return
    for m in cues.SINGULAR_IN_NP.finditer(text, np_start, f.cue_at):
        subset = (
            "including" in text[np_start : m.start()].lower()
        )  # "11, including 7 police and a doctor"
        found.append(
            _Found.one(
                m.start("item"),
                m.end("item"),
                f.category,
                f.rule + "+singular",
                np=m.group("item"),
                is_subset=subset,
            )
        )


# --- subjects in the singular, read back from their cue ------------------------------------------

# A character no match of cues.SINGULAR_SUBJECT or cues.DIED_SUBJECT holds: their words are
# letters, digits, hyphens, apostrophes and abbreviation dots, joined by spaces.
_NOT_IN_SUBJECT = re.compile(r"[^\w\s'’.\-]")


def _search_subject(pattern: re.Pattern, text: str, low: str, pos: int, endpos: int):
    """`cues.search_subject` for a subject that must end at `endpos` (SINGULAR_SUBJECT,
    DIED_SUBJECT): it cannot start before a character it does not hold, so the search starts
    after the last such character of the window (often a comma; each start before it would
    cost a full match that fails)."""
    for bad in _NOT_IN_SUBJECT.finditer(text, pos, endpos):
        pos = bad.end()
    return cues.search_subject(pattern, text, low, pos, endpos)


_FIRST_PARTICIPLE = re.compile(context.CTX["first_participle"])


def _aux_before(art: _Article, s0: int, p: int, name: str):
    """The auxiliaries a subject stands before, for the cue at `p` ("was killed", "were crushed
    and killed", "is in critical condition"); None when the cue has none right before it."""
    text, low = art.text, art.low
    before = low[max(s0, p - 40) : p].split()
    last = before[-1] if before else ""
    if last in cues.AUX_WORDS or last.endswith("ly") or last in ("also", "all", "both"):
        return cues.AUX_TAIL.search(text, max(s0, p - 60), p)
    if last == "in" and name == "condition" and len(before) > 2:
        # "a man is in critical condition", "was listed in stable condition"
        v = low.rfind(" in ", max(s0, p - 40), p)
        if v > 0 and before[-2] == "listed":
            v = low.rfind(" listed", max(s0, v - 10), v)
        return cues.AUX_TAIL.search(text, max(s0, v - 60), v + 1) if v > 0 else None
    if last == "and" and len(before) > 2 and _FIRST_PARTICIPLE.fullmatch(before[-2]):
        # "A man was crushed and killed": the auxiliary before the first participle
        v = low.rfind(before[-2], max(s0, p - 40), p)
        return cues.AUX_TAIL.search(text, max(s0, v - 60), v) if v > 0 else None
    return None  # a subject needs "was"/"were" ... right before the cue


def _subject_without_aux(
    art: _Article, s0: int, p: int, category: str, name: str, found: list[_Found]
) -> bool:
    """A subject with no auxiliary before its cue: "the dead man (was the driver)" (definite:
    returns True), "a man died", "a woman suffered a gunshot wound"."""
    text, low = art.text, art.low
    if (
        category in _DEFINITE_CATEGORIES
        and low.endswith("the ", max(s0, p - 4), p)
        and (d := cues.DEFINITE_OUTCOME.match(low, p))
    ):
        # "the dead man was the train's driver": one person, told before or not at all
        found.append(_Found.one(p - 4, d.end(), category, f"definite:{category}:{name}"))
        return True
    if category == "killed" and _died_at(art, p):
        he = cues.PRONOUN_DIED.search(text, max(s0, p - 30), p)
        if he:  # "She died Monday": someone told before (see _definite_only)
            found.append(_Found.one(he.start(), he.end(1), "killed", "definite:killed:died+he"))
            return True
    if (category == "killed" and _died_at(art, p)) or (
        # "a 22-year-old woman suffered a gunshot wound": the same subject as "died"
        category == "injured" and low.startswith(_SUFFERED, p)
    ):
        m = _search_subject(cues.DIED_SUBJECT, text, low, max(s0, p - 80), p)
        if m:
            perp = bool(PERPETRATOR_NP.search(m.group("noun")))
            found.append(
                _Found.one(
                    m.start(),
                    m.end("noun"),
                    category,
                    f"subject:{category}:{'died' if category == 'killed' else name}",
                    np=m.group("noun"),
                    victim_type="perpetrators" if perp else None,
                )
            )
        elif category == "killed":
            return _died_named_or_definite(art, s0, p, found)
    return False


def _died_named_or_definite(art: _Article, s0: int, p: int, found: list[_Found]) -> bool:
    """'John Smith, 34, died at the scene', 'Marcus Reed died Tuesday': a named person who died
    (one, a re-mention when named again: incidents._remention); 'The victim died at a hospital',
    'the father of four died': a definite person (returns True; see _definite_only). Tried only
    where the word before 'died' (or its adverb) can end such a subject: a comma or a capital."""
    text, low = art.text, art.low
    before = text[max(s0, p - 40) : p].split()
    if not before:
        return False
    last = before[-1]
    if last.lower() in _DIED_ADVERBS and len(before) > 1:
        last = before[-2]
    if last[-1] == "," or last[:1].isupper():
        m = _name_died(text, max(s0, p - 200), p)
        if m is None and last[-1] == ",":
            m = cues.SURNAME_DIED.search(text, max(s0, p - 200), p)
        if m is None:
            end = p - 1 if last is before[-1] else text.rfind(last, max(s0, p - 40), p) + len(last)
            sur = _surname_told(art, s0, end)
            if sur:
                found.append(
                    _Found.one(*sur, "killed", "subject:killed:died+name", np=text[sur[0] : sur[1]])
                )
                return False
        if m:
            w0 = max(s0, m.start() - 40)
            perp = (
                PERPETRATOR_NP.search(low, w0, m.start()) is not None  # "the gunman, X,"
                or cues.DIED_FIGHTING_FORCES.match(low, art.cue_at[p][2]) is not None
            )
            found.append(
                _Found.one(
                    m.start("name"),
                    m.end("name"),
                    "killed",
                    "subject:killed:died+name",
                    np=m.group("name"),
                    victim_type="perpetrators" if perp else None,
                )
            )
            if text.endswith("and ", max(s0, m.start() - 4), m.start()):
                # "John Smith, 22, and Mary Jones, 19, died": the names coordinated before it
                a = cues.NAME_AND_BEFORE.search(text, max(s0, m.start() - 80), m.start())
                if a and a.group("name").split(None, 1)[0] not in cues.NOT_NAME_DIED:
                    found.append(
                        _Found.one(
                            a.start("name"),
                            a.end("name"),
                            "killed",
                            "subject:killed:died+name",
                            np=a.group("name"),
                        )
                    )
            return False
    if low.find("the ", max(s0, p - 120), p) < 0:
        return False
    # (cues.search_subject: the description between commas may hold a comma)
    m = cues.search_subject(cues.DEFINITE_DIED, text, low, max(s0, p - 120), p)
    if m is None or PERPETRATOR_NP.search(m.group("noun")):
        return False
    found.append(_Found.one(m.start(), m.end("noun"), "killed", "definite:killed:died+the"))
    return True


_DIED_ADVERBS = frozenset(cues.DIED_ADVERBS)


_FIRST_NAME_BEFORE = re.compile(r"\b[A-Z][a-z]+\s(?:[A-Z]\.\s)?$")
_APPOSITION_TAIL = re.compile(r",\s*(?:\d{1,3}|who\s[^,;.]{1,60})\s*,$")


def _surname_told(art: _Article, s0: int, end: int) -> tuple[int, int] | None:
    """'Police identified the victim as John Smith, 22. Smith died at the scene': a capitalised
    word alone right before `end` (an auxiliary, the cue) is a person's surname when the text
    named a person by it before ("John Smith"); (start, end) of the word, or None."""
    text = art.text
    while end > s0 and text[end - 1].isspace():
        end -= 1
    if text[end - 1 : end] == ",":  # "Jones, 27, died", "Jones, who was shot in the head, died"
        tail = _APPOSITION_TAIL.search(text, max(s0, end - 80), end)
        if tail is None:
            return None
        end = tail.start()
    words = text[max(s0, end - 40) : end].split()
    if not words:
        return None
    w = words[-1]
    if not (len(w) > 2 and w.isalpha() and w[0].isupper() and w[1:].islower()):
        return None
    if len(words) > 1 and words[-2][:1].isupper() or w in cues.NOT_NAME_DIED:
        return None  # a longer name (read by the name patterns) or no name ("Police")
    start = end - len(w)
    # the same word before, after a capitalised first name ("John Smith", "John A. Smith")
    at = text.find(" " + w, 0, start)
    while at > 0:
        after = text[at + 1 + len(w) : at + 2 + len(w)]
        if not (after.isalnum() or after in "'’-") and _FIRST_NAME_BEFORE.search(
            text, max(0, at - 30), at + 1
        ):
            return start, end
        at = text.find(" " + w, at + 1, start)
    return None


_NOT_SUBJECT_BEFORE = re.compile(r"\b(?:of|the|in|at|from|for|to|with|by|on|near|into)\s+$", re.I)


def _name_died(text: str, pos: int, endpos: int):
    """The first match of cues.NAME_DIED in text[pos:endpos] whose name's first word may start a
    name ("Police Officer John Smith died": "Officer John Smith")."""
    while True:
        m = cues.NAME_DIED.search(text, pos, endpos)
        if m is None:
            return None
        first = m.group("name").split(None, 1)[0]
        if first in cues.NOT_NAME_DIED:
            pos = m.start() + len(first)
            continue
        # "22 staff members of the Baghdad Provincial Council, which ..., died": a name after a
        # preposition or an article is no subject
        return None if _NOT_SUBJECT_BEFORE.search(text, max(0, m.start() - 8), m.start()) else m


def _subjects(art: _Article, cue_hits: list[tuple], found: list[_Found]) -> bool:
    """'a man was killed', 'A Jewish couple was killed', 'another were injured', 'Name, ..., was
    shot dead', 'another policeman died': the subject is read back from the cue. Returns whether
    it found a definite person ('the victim was ...', 'he was ...': see _definite_only)."""
    text, low = art.text, art.low
    definites = False
    retold: dict[int, int] = {}  # subject start -> index in `found` of its main verb's figure
    for p, category, name in cue_hits:
        s0, _ = art.sentence(p)
        aux = _aux_before(art, s0, p, name)
        if aux is None:
            definites = _subject_without_aux(art, s0, p, category, name, found) or definites
            continue
        a = aux.start()
        if low[max(s0, a - 8) : a].endswith("another"):
            found.append(_Found.one(a - 7, a, category, f"subject:{category}:{name}+another"))
            continue
        age = cues.AGE_TAIL.search(text, max(s0, a - 60), a) if text[a - 1 : a] == "," else None
        end = age.start() if age else a  # "a second man, 19, was ...", "the victim, a man, was"
        m = _search_subject(cues.SINGULAR_SUBJECT, text, low, max(s0, end - 160), end)
        if m:
            noun = m.group("noun")
            perp = bool(PERPETRATOR_NP.search(noun))
            definite = m.group("det").lower() == "the" and not perp
            if definite and category not in _DEFINITE_CATEGORIES:
                continue  # "the victim was killed" repeats someone already counted ...
            n = (
                2
                if cues.PAIR_ITEM.fullmatch(m.group("det") + " " + noun)
                or noun.lower() in ("couple", "pair", "twins", "parents")
                else 1
            )
            n += 1 if m.group("first") else 0  # "a Belgian priest and a Guatemalan priest were"
            if m.group("who"):
                # "a boy who was shot last week has died": the main verb says what befell him,
                # not the clause's cue read before it (the same subject: dropped below)
                retold[m.start()] = len(found)
            definites = definites or definite
            found.append(
                _Found(
                    m.start(),
                    m.start("noun") + len(noun),
                    category,
                    n,
                    n,
                    n,
                    "exact",
                    # ... or is the only telling (kept only then: _definite_only)
                    f"{'definite' if definite else 'subject'}:{category}:{name}",
                    np=m.group("words") + noun,
                    victim_type="perpetrators" if perp else None,
                )
            )
            continue
        m = cues.NAME_SUBJECT.search(text, max(s0, a - 200), p)
        if m is None and text[a - 1 : a] == ",":  # "Smith, a father of two, was ..."
            m = cues.SURNAME_SUBJECT.search(text, max(s0, a - 200), p)
        if (
            m is None
            and category in _DEFINITE_CATEGORIES
            and (text[a - 1 : a].isalpha() or text[a - 1 : a] == ",")
            and (sur := _surname_told(art, s0, a))
        ):
            found.append(
                _Found.one(*sur, category, f"subject:{category}:{name}+name", np=text[sur[0] : a])
            )
            continue
        if m:
            found.append(
                _Found.one(
                    m.start("name"),
                    m.end("name"),
                    category,
                    f"subject:{category}:{name}+name",
                    np=m.group("name"),
                )
            )
            continue
        he = cues.PRONOUN_BEFORE_AUX.search(text, max(s0, a - 5), a)
        if he and category in _DEFINITE_CATEGORIES:
            # "he was being treated for an injury": someone told before, or the only telling
            end = he.start() + len(he.group(0).rstrip())
            definites = True
            found.append(_Found.one(he.start(), end, category, f"definite:{category}:{name}+he"))
        elif he is None and category == "killed" and _died_at(art, p):
            # "Officer Dana Ruiz later died": "later" is read as an auxiliary of "died"
            definites = _died_named_or_definite(art, s0, p, found) or definites
    if retold:
        found[:] = [
            f
            for i, f in enumerate(found)
            if retold.get(f.start, i) == i or not f.rule.startswith("subject:")
        ]
    return definites


_SUFFERED = ("suffered", "sustained", "received", "suffering")

# Categories a definite person ("the victim was shot", "he was treated for an injury", "the dead
# man") counts in when the article counts them nowhere else.
_DEFINITE_CATEGORIES = frozenset({"killed", "injured", "casualties"})
# what else already tells each category (casualties are dead and hurt together)
_TOLD_BY = {
    "killed": ("killed", "casualties"),
    "injured": ("injured", "casualties"),
    "casualties": ("killed", "injured", "casualties"),
}


# "He died", "The victim died": a definite person's death (_subject_without_aux)
_DIED_DEFINITE = ("died+he", "died+the")
_WOUND_RULE = re.compile(r":(?:shot|shot_in_body|struck_in_body|hit_by)(?:\+|$)")


def _died_later(art: _Article, found: list[_Found]) -> None:
    """'Keisha Moore, 29, was shot in the chest and taken to a hospital in critical condition.
    She died Monday.': the pronoun's death is that of the one person hurt just before it in the
    paragraph, whose figure becomes a death (the pronoun's is dropped: rule `died+he` left
    unkept by marking it told). `found` is in order of position."""
    last = None  # the one-person injured figure before, in this paragraph
    for f in found:
        if f.rule.endswith(_DIED_DEFINITE):
            if last is not None and art.text.find("\n\n", last.end, f.start) < 0:
                last.category = "killed"
                last.rule += "+died_later"
                f.rule = "definite:killed:died+he+same"  # the same person: never counted
            last = None
        elif (
            f.category in ("injured", "casualties")
            and f.best == 1
            and f.rule.startswith(("subject:", "definite:"))
        ):
            last = f
        elif f.category in ("injured", "casualties", "killed"):
            last = None


def _named_died_later(art: _Article, found: list[_Found]) -> None:
    """'Dolores Whitfield was hit in the chest ... Whitfield was pronounced dead', 'Marcus Reed
    died Tuesday. Reed was shot in the chest': one person named as hurt and as dead is one death,
    not a death and a wound: the hurt figure becomes a death too (incidents joins the two as one
    person named again). The same person: the same name, or a surname alone and a full name
    ending in it ("Tony Reed" and "Marcus Reed" are two people)."""
    last: dict[str, list[_Found]] = {}  # surname -> one-person figures naming it, in order
    for f in found:
        if f.best != 1 or f.rule[-4:] != "name" or f.category not in _HURT_OR_DEAD:
            continue
        name = art.text[f.start : f.end]
        surname = name.rsplit(None, 1)[-1]
        for g in last.get(surname, ()):
            dead = g.category == "killed"
            if dead == (f.category == "killed") or not _same_name(art.text[g.start : g.end], name):
                continue
            hurt = f if dead else g  # every telling of the person hurt is of the dead person
            hurt.category = "killed"
            hurt.rule += "+died_later"
            if dead:
                break
        last.setdefault(surname, []).append(f)


_HURT_OR_DEAD = frozenset({"killed", "injured", "casualties"})


def _same_name(a: str, b: str) -> bool:
    """Whether two names may be the same person's: equal, or one is the other's last word."""
    return a == b or " " not in a or " " not in b


def _definite_only(art: _Article, found: list[_Found]) -> list[_Found]:
    """Definite people ("the victim", "he", "the dead man", rule `definite:`) are the people of
    a figure told before, so they count only in a category the article counts nowhere else; then
    the first of them is the one person (CONVENTIONS: a person mentioned again adds nothing).
    A wound named by where it hit ("the victim was shot in the chest") may be the dead person's:
    it counts only when nothing, not even another definite person, is killed or hurt. A bare
    "He died" / "The victim died" counts only beside other figures of people hurt or in a story
    of a victim or a shooting (alone, "he" may be anyone), and only where no death is told: a
    count of people shot or hurt holds the dying one ("Two men were shot ... He died")."""
    _died_later(art, found)
    told = {f.category for f in found if f.rule[:9] != "definite:"}
    keep = [f.rule[:9] != "definite:" for f in found]
    hurt = any(c in told for c in _TOLD_BY["casualties"]) or any(
        f.rule[:9] == "definite:" and not f.rule.endswith(_DIED_DEFINITE) for f in found
    )
    for wounds in (False, True):  # the wounds last: they yield to any other telling
        for i, f in enumerate(found):
            if keep[i] or bool(_WOUND_RULE.search(f.rule)) != wounds or f.rule.endswith("+same"):
                continue
            died = f.rule.endswith(_DIED_DEFINITE)
            if died and not (
                # "Police identified the victim as ... He died at the scene."
                hurt or cues.DIED_DEFINITE_CONTEXT.search(art.low)
            ):
                continue
            # "Two men were shot ... The father of four died": one of those shot (the rest are
            # the wounded: accounts._shot_is_injured), counted unless a death is told elsewhere
            by = ("killed",) if died else _TOLD_BY["casualties" if wounds else f.category]
            if not any(c in told for c in by):
                keep[i] = True
                told.add(f.category)
    return [f for i, f in enumerate(found) if keep[i]]


# --- zeros, attackers' deaths, bodies ----------------------------------------------------------


def _unspecified_nouns(art: _Article, cue_hits: list[tuple], found: list[_Found]) -> None:
    """'The attack caused deaths and injuries', 'heavy casualties': a cue noun with no number
    is an unspecified count (1, 3, None)."""
    low = art.low
    for p, category, _name in cue_hits:
        m = cues.NOUN_CUE.match(low, p) or cues.UNSPECIFIED_NOUN.match(low, p)
        if m and cues.UNSPECIFIED_NOUN_BEFORE.search(low, max(0, p - 40), p):
            found.append(
                _Found(
                    p, m.end(), category, 1, 3, None, "unspecified", f"unspecified:{category}:noun"
                )
            )
        elif category == "injured":
            m = cues.UNSPECIFIED_NOMINAL.search(low, max(0, p - 7), p + 40)
            if m and m.end() > p:
                found.append(
                    _Found(
                        m.start(),
                        m.end(),
                        category,
                        1,
                        3,
                        None,
                        "unspecified",
                        f"unspecified:{category}:nominal",
                    )
                )


def _ordinal_victims(art: _Article, found: list[_Found]) -> None:
    """'... and a third died in hospital': one more."""
    low = art.low
    first = _first_of(low, ("second", "third", "fourth", "fifth", "sixth"))
    if first >= 0:
        # a match is "a"/"another", spaces, then one of these words: none starts before the
        # spaces before the first of them, less the length of "another"
        while first and low[first - 1].isspace():
            first -= 1
        for m in cues.ORDINAL_VICTIM.finditer(low, max(0, first - len("another"))):
            end = m.start() + len(m.group(0).split(" died")[0].split(" was ")[0])
            found.append(_Found.one(m.start(), end, "killed", "subject:killed:ordinal"))


def _share_qualifiers(art: _Article, found: list[_Found]) -> None:
    """'At least 16 people were killed and 25 injured': the qualifier of the first number
    reaches the second of the same clause."""
    for f, g in zip(found, found[1:], strict=False):
        if (
            f.qualifier in ("at_least", "more_than")
            and g.qualifier == "exact"
            and g.rule.startswith(("bare:", "after:"))
            and cues.SHARED_QUALIFIER.fullmatch(art.text, f.end, g.start)
        ):
            g.qualifier, g.high = f.qualifier, None


def _zeros(art: _Article, found: list[_Found]) -> None:
    for g in cues.ZERO_GATE.finditer(art.low):
        m = cues.ZERO.match(art.low, g.start())
        if m:
            category, name = cues.which(m, cues.ZERO_NAMES)
            found.append(
                _Found(m.start(), m.end(), category, 0, 0, 0, "exact", f"zero:{category}:{name}")
            )


# the words of cues.SELF_GATE ("himself", ...), if it is plain words
_SELF_GATE_WORDS = (
    tuple(cues.SELF_GATE.pattern.split("|"))
    if re.fullmatch(r"[a-z |]+", cues.SELF_GATE.pattern)
    else None
)


def _first_of(low: str, words: tuple[str, ...]) -> int:
    """The first offset of any of `words` in `low`, or -1. A scan for a pattern each match of
    which starts with one of them finds the same matches from there (a few substring searches
    instead of the pattern tried along the whole text)."""
    return min((i for i in map(low.find, words) if i >= 0), default=-1)


def _self_killing(art: _Article, found: list[_Found]) -> None:
    seen = set()
    start = _first_of(art.low, _SELF_GATE_WORDS) if _SELF_GATE_WORDS else 0
    if start < 0:
        return
    for g in cues.SELF_GATE.finditer(art.low, start):
        m = cues.SELF_KILLING.search(art.low, max(0, g.start() - 40), g.end() + 10)
        if m and m.start() not in seen:
            seen.add(m.start())
            # (both forms hold "ly " or " in ": most suicides need no search)
            near = art.low[max(0, m.start() - 20) : m.end() + 60]
            hurt = (
                cues.SELF_INJURY.search(art.low, max(0, m.start() - 20), m.end() + 60)
                if "ly " in near or " in " in near
                else None
            )
            if hurt is not None and hurt.start() <= m.start() < hurt.end():
                # "accidentally shot himself", "shot himself in the leg": a victim, injured
                found.append(_Found.one(m.start(), m.end(), "injured", "self:injured:self_injury"))
                continue
            found.append(
                _Found.one(
                    m.start(),
                    m.end(),
                    "killed",
                    "self:killed:self_killing",
                    victim_type=None
                    if "ly " in near
                    and cues.SELF_ACCIDENT.search(art.low, max(0, m.start() - 40), m.start())
                    else "perpetrators",
                )
            )


def _body_of(art: _Article, found: list[_Found]) -> None:
    if "body of" in art.low:
        for m in cues.BODY_OF.finditer(art.text):
            found.append(_Found.one(m.start(), m.end(), "killed", "subject:killed:body_of"))


# --- numbers without a cue of their own ----------------------------------------------------------


def _subset_people(art: _Article, found: list[_Found]) -> None:
    """'16 killed, including the suicide bomber': people named after a subset cue, in the
    category of the figure before them in the sentence (is_subset)."""
    # `found` is sorted by start; the figures added here come after it, in order of position.
    # The last figure before the cue in its sentence (in list order) is looked up from the end
    # of each part instead of scanning every figure of the article.
    first = _first_of(art.low, ("including", "among"))  # the words of cues.SUBSET_GATE
    if first < 0:
        return
    n0 = len(found)
    starts = [f.start for f in found]
    for g in cues.SUBSET_GATE.finditer(art.low, first):
        m = cues.SUBSET_PEOPLE.match(art.text, g.start())
        if not m:
            continue
        s0, _ = art.sentence(m.start())
        at = m.start()
        last = _last_before(found, n0, len(found), s0, at)
        if last is None:
            last = _last_before(found, 0, bisect.bisect_right(starts, at), s0, at)
        if last is None:
            continue
        prev = [last]
        item = m.group("item")
        n = 2 if cues.PAIR_ITEM.fullmatch(item) else 1
        perp = bool(PERPETRATOR_NP.search(item))
        found.append(
            _Found(
                m.start("item"),
                m.end("item"),
                prev[-1].category,
                n,
                n,
                n,
                "exact",
                f"subset:{prev[-1].category}:singular",
                np=item,
                is_subset=True,
                victim_type="perpetrators" if perp else None,
            )
        )


def _last_before(found: list[_Found], lo: int, hi: int, s0: int, at: int) -> _Found | None:
    """The last of found[lo:hi] (sorted by start) in the sentence starting at `s0` that ends
    by `at` and is not a force size."""
    for j in range(hi - 1, lo - 1, -1):
        f = found[j]
        if f.start < s0:
            return None
        if f.end <= at and f.category != "combatants":
            return f
    return None


def _join_uncued(art: _Article, used: set[int], found: list[_Found]) -> None:
    """Numbers without a cue: subsets after 'including', list members, force sizes."""
    by_sentence: dict[int, list[_Found]] = {}
    for f in found:
        by_sentence.setdefault(sentence_index(art.starts, f.start), []).append(f)
    has_among = "among" in art.low
    for q in art.quants:
        if q.start in used or art.not_people(q):
            continue
        si = sentence_index(art.starts, q.start)
        s0, _ = art.sents[si]
        n_found = len(found)
        _join_one(art, q, si, s0, by_sentence.get(si, []), found, has_among)
        if len(found) > n_found:  # later numbers of the sentence may join this one
            by_sentence.setdefault(si, []).append(found[-1])


def _np_after(text: str, q) -> str:
    """The noun phrase after quantity `q` ("Afghan soldiers")."""
    tail = cues.NP_TAIL.match(text, q.end)
    assert tail is not None  # NP_TAIL matches the empty string too
    return tail.group(0)


def _join_one(
    art: _Article, q, si: int, s0: int, in_sentence: list[_Found], found, has_among: bool
) -> None:
    """One number without a cue of its own (see _join_uncued)."""
    text = art.text
    prev = [f for f in in_sentence if f.end <= q.start and f.category != "combatants"]
    # (cues.AMONG_THOSE holds the word; the noun phrase is read only for a figure)
    among = cues.AMONG_THOSE.match(text, q.end) if has_among else None
    if among:  # "Two police officers were among those wounded"
        c = cues.CUE_L.match(art.low, among.end())
        if c:
            found.append(
                _Found.of(
                    q,
                    cues.which(c, cues.AFTER_NAMES)[0],
                    "subset:among_those",
                    np=_np_after(text, q),
                    is_subset=True,
                )
            )
            return
    if prev:
        p = prev[-1]
        if context.subset_before(art.low, max(s0, q.start - 40), q.start) or cues.OF_THEM.match(
            text, q.end
        ):
            found.append(
                _Found.of(
                    q,
                    p.category,
                    f"subset:{p.category}",
                    np=_np_after(text, q),
                    is_subset=True,
                )
            )
            return
        between = text[p.end : q.start]
        if (
            cues.LIST_LINK.fullmatch(between)
            or cues.LIST_LINK_FROM.fullmatch(between)
            and _ends_item(text, q)
        ) and not cues.ANY_CUE.search(between):
            found.append(
                _Found.of(
                    q,
                    p.category,
                    f"list:{p.category}",
                    np=_np_after(text, q),
                    is_subset=p.is_subset,
                )
            )
            return
    if (
        cues.FIGHTERS.match(text, q.end)
        or cues.STRONG.match(text, q.end)
        or cues.DEFENDED_BY.search(text, max(s0, q.start - 40), q.start)
    ):
        found.append(
            _Found.of(
                q,
                "combatants",
                "uncued:combatants:fighters",
                np=_np_after(text, q),
            )
        )


def _ends_item(text: str, q) -> bool:
    """Whether quantity `q` and its noun phrase end a list item ("two each from ...", "three
    from the Navy,"), not begin a new clause ("2 suspects fled")."""
    if cues.EACH_OF.match(text, q.end):
        return True
    return cues.ITEM_END.match(text, _np_end(text, q)) is not None


def _np_end(text: str, q) -> int:
    tail = cues.NP_TAIL.match(text, q.end)
    assert tail is not None  # NP_TAIL matches the empty string too
    return tail.end()


_OTHERS = re.compile(r"\bothers?\b", re.IGNORECASE)


def _subject_of_others(art: _Article, found: list[_Found]) -> None:
    """'[The governor] was killed by the blast along with twenty others': the others are others
    than the one the verb is said of, so the verb counts one more victim (CONVENTIONS, "the
    governor and N others" = N + 1) when no figure of its category stands before it in the
    sentence: the subject was no figure ("that the governor was killed") or is missing. Not after
    a pronoun ("He was killed along with ..."): that person was counted where first told."""
    for verb_at, category, others in art.with_others:
        if not _OTHERS.search(others.np):
            continue
        s0, _ = art.sentence(verb_at)
        if any(
            f.category == category and s0 <= f.start < verb_at and f.rule[:9] != "definite:"
            for f in found
        ):
            continue
        if cues.PRONOUN_SUBJECT.search(art.low, max(s0, verb_at - 40), verb_at):
            continue
        verb = cues.VERB_WORD.match(art.text, verb_at)
        assert verb is not None  # the cue starts with the verb
        found.append(_Found.one(verb_at, verb.end(), category, f"implied:{category}:others"))


def _each_member(art: _Article, found: list[_Found]) -> None:
    """'two each from the Coast Guard and the National Police': the count holds for each member
    of the list after it (2 x 2 = 4)."""
    for f in found:
        m = cues.EACH_OF.match(art.text, f.end) if f.qualifier != "unspecified" else None
        if m is None:
            continue
        n = len(cues.EACH_SEP.split(m.group("list")))
        f.low, f.best = f.low * n, f.best * n
        f.high = None if f.high is None else f.high * n
        f.rule += "+each"


def _mark_subsets(art: _Article, found: list[_Found]) -> None:
    """A figure right after 'including', 'among them' ... is part of an earlier figure of its
    sentence and category (is_subset); so are figures that add up to the one before them
    ("40 people, 6 soldiers and 34 civilians, were killed")."""
    by_key: dict[tuple, list[_Found]] = {}
    for f in found:
        by_key.setdefault((art.sentence(f.start)[0], f.category), []).append(f)
    for figs in by_key.values():
        if len(figs) >= 2 and any(f.high == 0 for f in figs) and any(f.best > 0 for f in figs):
            # "All but one of the sixteen died; no deaths were reported on the ground": a zero
            # next to a toll of its category is about other people and never lowers the toll
            for f in figs:
                if f.high == 0:
                    f.is_subset = True
        figs = [f for f in figs if not f.is_subset and f.victim_type != "perpetrators"]
        if len(figs) >= 2:
            _same_toll_retold(art.text, figs)
            figs = [f for f in figs if not f.is_subset]
        if (
            len(figs) >= 3
            and figs[0].best == sum(g.best for g in figs[1:])
            and cues.GENERIC_TOTAL.search(figs[0].np)
            and cues.BREAKDOWN_OPENS.fullmatch(art.text, figs[0].end, figs[1].start)
        ):
            for g in figs[1:]:
                g.is_subset = True
    for i, f in enumerate(found):
        if f.is_subset:
            continue
        s0, _ = art.sentence(f.start)
        f.after_subset_cue = (
            f.rule.startswith("of_whom:")
            or context.subset_before(art.low, max(s0, f.start - 40), f.start)
            or cues.OF_THEM_PART.match(art.text, f.end) is not None
        )
        if not f.after_subset_cue:
            continue
        # `found` is sorted by start: the figures of the sentence before f are just before it
        j = i - 1
        while j >= 0 and found[j].start >= s0:
            g = found[j]
            # "Five were stabbed, two of them seriously injured": a part of the shot or stabbed
            if g.end <= f.start and (
                g.category == f.category
                or g.category == "casualties"
                and f.category == "injured"
                and f.rule.startswith("of_whom:")
            ):
                f.is_subset = True
                break
            j -= 1


_SAME_TOLL_BETWEEN = re.compile(context.CTX["same_toll_between"])


def _same_toll_retold(text: str, figs: list[_Found]) -> None:
    """'At least four people have been killed ... after a bomb attack ... killed four people
    today': the clause that tells how repeats the count of the same noun; the repeat is a part.
    `figs` are one sentence's counted figures of one category, in order."""
    for i, f in enumerate(figs[:-1]):
        noun = f.np.split(None, 1)[:1]
        for g in figs[i + 1 :]:
            if (
                g.best == f.best > 0
                and not g.is_subset
                and g.np.split(None, 1)[:1] == noun
                and _SAME_TOLL_BETWEEN.search(text, f.end, g.start)
            ):
                g.is_subset = True


def _dedupe(found: list[_Found]) -> list[_Found]:
    """Sort by position; when spans overlap keep the one found first (object lists first)."""
    order = sorted(range(len(found)), key=lambda i: (found[i].start, i))
    out: list[_Found] = []
    for i in order:
        f = found[i]
        if out and f.start < out[-1].end:
            continue
        out.append(f)
    return out


def _to_figure(art: _Article, f: _Found, cache: dict) -> Figure:
    text = art.text
    s0, s1 = art.sentence(f.start)
    got = cache.get(s0)
    if got is None:
        # one copy of the sentence shared by its figures (a long sentence is not copied per
        # figure: that was quadratic on texts without sentence ends)
        sentence = text[s0:s1]
        # (the hints are tested on the sentence itself: a sentence with figures is a good
        # part of the article, and the test stops at the first hint found)
        got = cache[s0] = (context.SentenceContext(sentence, art.low[s0:s1]), sentence)
    sc, sentence = got
    fig = Figure(
        start=f.start,
        end=f.end,
        surface=text[f.start : f.end],
        sentence=sentence,
        category=f.category,
        low=f.low,
        best=f.best,
        high=f.high,
        qualifier=f.qualifier,
        rule=f.rule,
        victim_type=f.victim_type,
        is_cumulative=f.is_cumulative,
        is_subset=f.is_subset,
        sentence_start=s0,
    )
    head_np = _SUBSET_CUT.split(f.np, 1)[0]  # "two people including the shooter": not the head
    context.annotate(art.low, fig, s0, s1, head_np, sc, f.after_subset_cue)
    if (
        fig.victim_type != "perpetrators"
        and art.suicide
        and _SUICIDE_AFTER.match(art.low, f.end, s1)
    ):
        fig.victim_type = "perpetrators"  # "with one death believed to be a suicide"
    if fig.victim_type != "perpetrators" and PERPETRATOR_NP.search(head_np):
        fig.victim_type = "perpetrators"
    if fig.victim_type == "militants" and fig.category == "killed":
        if "first_attack" not in cache:
            cache["first_attack"] = context.first_attack_by_militants(art.low)
        if context.militants_were_attackers(art.low, s0, s1, cache["first_attack"]):
            fig.victim_type = "perpetrators"
    return fig
