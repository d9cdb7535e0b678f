"""Context of a figure: victim type and share, attribution, hedging, party claims, aggregates,
cumulative updates. Patterns live in `rules/context.yaml`; this module only applies them.

Sentence-level patterns are written in lower case and matched case-sensitively on a lower-cased
copy of the text (much faster than case-insensitive matching); `SentenceContext` computes them
once per sentence.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from functools import lru_cache

# the standard library's own regex parser (private, untyped): see `required_literals`
from re import _constants as _sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

from casualties import rules
from casualties.extract.model import Figure
from casualties.text.tries import trie_regex


def alt(fragment: str) -> str:
    """A YAML regex alternation as one pattern: folded lines joined, and the space YAML folding
    leaves after a `|` at a line end removed (a space before `|` is kept: "(?:later |then )")."""
    return re.sub(r"\|\s+", "|", " ".join(fragment.split()))


def words(fragment: str) -> re.Pattern:
    """Compile an alternation of words/phrases, matched on word boundaries, case-insensitive."""
    return re.compile(r"\b(?:" + alt(fragment) + r")\b", re.IGNORECASE)


def lower_words(fragment: str) -> re.Pattern:
    """The same for lower-case patterns matched on lower-cased text (case-sensitive, fast)."""
    return re.compile(r"\b(?:" + alt(fragment) + r")\b")


def _split_top(pattern: str) -> list[str]:
    """Top-level alternatives of a regex fragment."""
    out, depth, cur, i = [], 0, "", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            cur += pattern[i : i + 2]
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "|" and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    out.append(cur)
    return out


def spread(fragment: str) -> str:
    """The top-level alternatives of a regex fragment, each leading group spread over its own
    alternatives ("(?:months|years) ago" → "months ago|years ago"), joined again. Same
    matches; each alternative then starts with a letter or a class, which the engine tests at
    a glance where it would enter the group."""
    out = []
    for a in _split_top(fragment):
        group = _leading_group(a)
        out += [spread(g + group[1]) for g in _split_top(group[0])] if group else [a]
    return "|".join(out)


def by_first_letter(fragment: str) -> str:
    """The top-level alternatives of a regex fragment, those that open on a plain letter put
    behind it in one group ("the x|that y|in z" → "t(?:he x|hat y)|in z"), in their order.
    The same matches; at each place the engine then tries one group, not every alternative."""
    groups: dict[str, list[str]] = {}  # letter -> the rests of its alternatives
    order: list[tuple[str, bool]] = []  # (letter, True) for a group, (alternative, False)
    for a in _split_top(fragment):
        c = a[:1]
        if c.isalpha() and c.isascii() and a[1:2] not in ("?", "*", "+", "{"):
            if c not in groups:
                groups[c] = []
                order.append((c, True))
            groups[c].append(a[1:])
        else:
            order.append((a, False))
    out = []
    for item, grouped in order:
        if not grouped:
            out.append(item)
        elif len(rests := groups[item]) == 1:
            out.append(item + rests[0])
        else:
            out.append(item + "(?:" + "|".join(rests) + ")")
    return "|".join(out)


def _leading_group(pattern: str) -> tuple[str, str] | None:
    """(inside, rest) of a pattern that opens with a plain group "(?:inside)rest" (not
    repeated or optional, no group or class inside); None otherwise."""
    if not pattern.startswith("(?:"):
        return None
    depth, i = 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[" or (c == "(" and i > 0):
            return None  # (a class or an inner group: left as it is)
        depth += (c == "(") - (c == ")")
        if depth == 0:
            rest = pattern[i + 1 :]
            return None if rest[:1] in ("?", "*", "+", "{") else (pattern[3:i], rest)
        i += 1
    return None


def stems(pattern: str) -> set[str]:
    """The literal words the alternatives of `pattern` start with ("kill(?:ed)?" → "kill").
    Raises ValueError for an alternative that does not start with letters."""
    out: set[str] = set()
    for a in _split_top(pattern):
        if a.startswith("(?:"):
            depth, j = 0, -1
            while j + 1 < len(a):
                j += 1
                depth += (a[j] == "(") - (a[j] == ")")
                if depth == 0:
                    break
            inner, rest = a[3:j], a[j + 1 :]
            if rest[:1] in ("?", "*") or rest.startswith(("{0", "{,")):
                raise ValueError(f"optional group at the start of a cue: {a!r}")
            for s in stems(inner):
                out |= stems(s + rest) if rest and not rest[0].isspace() else {s}
            continue
        m = re.match(r"[a-z'\-]+", a)
        if not m:
            raise ValueError(f"cue alternative must start with letters: {a!r}")
        word = m.group(0)
        if a[m.end() : m.end() + 1] in ("?", "*", "{"):
            word = word[:-1]
        out.add(word)
    return out


def first_words(pattern: str) -> set[str] | None:
    """The literal words every match of `pattern` starts with (a leading `\\b` of the pattern or
    of an alternative is allowed), or None when some alternative does not start with letters."""
    bare = "|".join(a.removeprefix(r"\b") for a in _split_top(pattern.removeprefix(r"\b")))
    try:
        return stems(re.sub(r"\(\?P<\w+>", "(?:", bare))
    except ValueError:
        return None


def word_start(words) -> str:
    """A regex for `words` at a word start ("\\b(?:no|none)" ...) that begins with the words'
    first letters, so that the engine can skip to a candidate letter in C (`\\b` first cannot):
    each first letter, then a look-behind that no word character precedes it."""
    by_first: dict[str, list[str]] = {}
    for w in sorted(words):
        by_first.setdefault(w[0], []).append(w[1:])
    return (
        "(?:"
        + "|".join(re.escape(c) + r"(?<!\w.)" + trie_regex(rest) for c, rest in by_first.items())
        + ")"
    )


def literal_heads(fragment: str) -> tuple[str, ...] | None:
    """Words every match of `fragment` holds, one per top-level alternative (of its opening
    group, if it opens with one that is not optional): the letters and spaces the alternative
    starts with ("(?:according(?: to)?|quoted by)\\s+" → "according", "quoted by"). None when
    an alternative starts otherwise."""
    inner = fragment
    if "[" in inner:
        return None  # (a bracket in a character class would be counted as a group's)
    if inner.startswith("(?:") and len(_split_top(inner)) == 1:
        depth, j = 0, -1
        while j + 1 < len(inner):  # the group's closing bracket
            j += 1
            if inner[j] == "\\":
                j += 1  # an escaped character
                continue
            depth += (inner[j] == "(") - (inner[j] == ")")
            if depth == 0:
                break
        if inner[j + 1 : j + 2] in ("?", "*", "{"):
            return None
        inner = inner[3:j]
    heads = []
    for a in _split_top(inner):
        m = re.match(r"[a-z]+(?: [a-z]+)*", a)
        if not m:
            return None
        head = m.group(0)
        if a[m.end() : m.end() + 1] in ("?", "*", "{"):  # the last letter is optional
            head = head[:-1]
        heads.append(head)
    return tuple(heads) if all(heads) else None


def _at_word_start(pattern: str) -> bool:
    """Whether every match of `pattern` starts at a `\\b` (before its first word's letters)."""
    if pattern.startswith(r"\b") and len(_split_top(pattern[2:])) == 1:
        return True
    return all(a.startswith(r"\b") for a in _split_top(pattern))


class Gated:
    """A compiled pattern whose searches start at the first place one of its first words occurs.

    The words (`first_words`; at a word start if the pattern says `\\b` first) are scanned for by a
    trie of literals, which the engine does in C without trying the whole pattern at each
    position; no match of the pattern can start before them, so the results are those of the
    pattern itself. Patterns whose first words are not literal are searched as they are.
    Words at a word start are scanned for after a character that is not a word character (the
    engine skips to those, fewer than the words' first letters, before trying the trie)."""

    __slots__ = ("pattern", "_gate", "_after_non_word")

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern
        words = None if pattern.flags & re.IGNORECASE else first_words(pattern.pattern)
        self._after_non_word = None
        if not words:
            self._gate = None
        elif _at_word_start(pattern.pattern):  # then only the words at a word start
            self._gate = re.compile(word_start(words))
            self._after_non_word = re.compile(r"[^\w](?:" + trie_regex(words) + ")")
        else:
            self._gate = re.compile(trie_regex(words))

    def _first(self, text: str, pos: int, endpos: int) -> int:
        """Where the gate first matches in text[pos:endpos], or -1."""
        assert self._gate is not None  # called only for a gated pattern
        padded = self._after_non_word
        if padded is None:
            g = self._gate.search(text, pos, endpos)
            return -1 if g is None else g.start()
        if pos > 0:  # a word start at `pos` follows text[pos - 1]
            g = padded.search(text, pos - 1, endpos)
        elif self._gate.match(text, 0, endpos):  # the text's start is a word start
            return 0
        else:
            g = padded.search(text, 0, endpos)
        return -1 if g is None else g.start() + 1

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match | None:
        """Like `re.Pattern.search`."""
        if self._gate is not None:
            pos = self._first(text, pos, endpos)
            if pos < 0:
                return None
        return self.pattern.search(text, pos, endpos)

    def finditer(self, text: str) -> Iterator[re.Match]:
        """Like `re.Pattern.finditer` over the whole text."""
        if self._gate is None:
            return self.pattern.finditer(text)
        first = self._first(text, 0, sys.maxsize)
        return iter(()) if first < 0 else self.pattern.finditer(text, first)


def required_literals(pattern: re.Pattern, shortest: int = 3) -> tuple[str, ...] | None:
    """Literal strings one of which every match of `pattern` holds ("(?:in|of) the first
    (?:attack|blast)" → " the first "; "separate(?:ly)?|elsewhere" → "elsewhere", "separate"),
    read off the pattern's parse: of the words it must match in sequence, the set whose
    shortest member is longest. None when no such set has strings of `shortest` characters
    (or the pattern ignores case, where the literals are not what the text holds)."""
    if pattern.flags & re.IGNORECASE:
        return None
    found = _needs(_parser.parse(pattern.pattern, pattern.flags))
    if not found or min(map(len, found)) < shortest:
        return None
    # ("the other" holds "other": testing for "other" is enough)
    return tuple(sorted(w for w in found if not any(v != w and v in w for v in found)))


def _needs(seq) -> frozenset[str] | None:
    """The best set of literals one of which every match of a parsed sequence holds, or None.
    Only what the match consumes counts: a look-around, a class, an optional part holds none."""
    best: frozenset[str] | None = None
    run: list[str] = []  # the literal characters in a row so far

    def consider(found: frozenset[str] | None) -> None:
        nonlocal best
        if found and (best is None or _stronger(found, best)):
            best = found

    for op, av in seq:
        if op is _sre.LITERAL:
            run.append(chr(av))
            continue
        if run:
            consider(frozenset({"".join(run)}))
            run = []
        if op is _sre.SUBPATTERN and not av[1] & re.IGNORECASE:
            consider(_needs(av[3]))
        elif op is _sre.BRANCH:
            each = [_needs(branch) for branch in av[1]]
            if all(each):
                consider(frozenset().union(*each))  # type: ignore[arg-type]
        elif op in _REPEATS and av[0] >= 1:
            consider(_needs(av[2]))
        elif op is _sre.ATOMIC_GROUP:
            consider(_needs(av))
    if run:
        consider(frozenset({"".join(run)}))
    return best


_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)


def _stronger(a: frozenset[str], b: frozenset[str]) -> bool:
    """A longer shortest string tests more selectively; then fewer strings test faster."""
    return (min(map(len, a)), -len(a)) > (min(map(len, b)), -len(b))


class Prefiltered:
    """A compiled pattern searched only in text that holds one of its `required_literals`: a
    few substring tests reject most texts for much less than the engine's try at each
    position. Patterns without such literals are searched as they are."""

    __slots__ = ("pattern", "literals")

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern
        self.literals = required_literals(pattern)

    def search(self, text: str) -> re.Match | None:
        """Like `re.Pattern.search` over the whole text."""
        if self.literals is not None and not any(map(text.__contains__, self.literals)):
            return None
        return self.pattern.search(text)


CTX = rules.load("context")

# on the lower-cased noun phrase:
VICTIM_TYPES = [(name, lower_words(p)) for name, p in CTX["victim_types"].items()]
VICTIM_SHARES = [(name, lower_words(p)) for name, p in CTX["victim_share"].items()]
_ANY_VICTIM = lower_words("|".join(alt(p) for p in CTX["victim_types"].values()))
# on lower-cased text:
HEDGES = lower_words(CTX["hedges"])
PARTY_CLAIM = re.compile(alt(CTX["party_claim"]))
AGGREGATE = lower_words(CTX["aggregate"])
CUMULATIVE = lower_words(CTX["cumulative"])
SUBSET_BEFORE = re.compile(r"\b(?:" + alt(CTX["subset"]) + r")\W*(?:\w+\W+){0,2}?$")
NEW_INCIDENT = lower_words(CTX["new_incident"])
# on original text:
PARTIES = words(CTX["parties"])
CODER_NOTE = re.compile(alt(CTX["coder_note"]), re.IGNORECASE)
ATTACK_BY_MILITANTS = re.compile(alt(CTX["attack_by_militants"]))  # lower-cased text
KILLED_BY_FORCES = re.compile(alt(CTX["killed_by_forces"]))  # lower-cased text

# attribution, on the lower-cased sentence (the source is cut from the original)
_ACCORDING = re.compile(r"\b" + alt(CTX["attribution_according"]) + r"(?P<who>[^,.;:()]{2,80})")
_VERB = re.compile(r"\b(?:" + alt(CTX["attribution_verbs"]) + r")\b")
# where the speaker's noun phrase before "said" starts: clause punctuation or a conjunction
_CLAUSE_START = re.compile(r"(?:^|[,;:(]\s*|\b(?:and|but|while|as|that)\s+)")
_SKIP_BEFORE_VERB = re.compile(r"(?:\s+(?:has|have|had|also|later|earlier))*\s*$")
_NOT_SOURCE = re.compile(
    r"^(?:it|he|she|this|that|which|who|there|they|they (?:also|later))$|responsibility|\d",
    re.IGNORECASE,
)
# the same, searched from their first words (see Gated; faster where those words are rare)
_ACCORDING_GATED = Gated(_ACCORDING)
# "according", "citing", "quoted by" ...: most sentences have none (the gate's first words
# include "as")
_ACCORDING_HEADS = literal_heads(alt(CTX["attribution_according"]))
_VERB_GATED = Gated(_VERB)
_PARTY_CLAIM_GATED = Gated(PARTY_CLAIM)
_HEDGES_GATED = Gated(HEDGES)
_ATTACK_BY_MILITANTS_GATED = Gated(ATTACK_BY_MILITANTS)


@lru_cache(maxsize=8192)
def victim_of(words_text: str) -> tuple[str | None, str | None]:
    """(victim_type, victim_share) named in a figure's noun phrase, or None. (Cached: the same
    few noun phrases - "people", "soldiers" - come back in article after article.)"""
    words_text = words_text.lower()
    if not _ANY_VICTIM.search(words_text):
        return None, None
    vtype = next((name for name, rx in VICTIM_TYPES if rx.search(words_text)), None)
    share = None
    if vtype is not None:
        share = next((name for name, rx in VICTIM_SHARES if rx.search(words_text)), None)
    return vtype, share


def attribution(sentence: str, low: str | None = None) -> str | None:
    """The source a sentence gives for its figures ("according to X", "X said", "..., X said").
    `low` is the lower-cased sentence, if the caller has it."""
    low = sentence.lower() if low is None or len(low) != len(sentence) else low
    heads = _ACCORDING_HEADS
    m = _ACCORDING_GATED.search(low) if heads is None or any(map(low.__contains__, heads)) else None
    if m:
        return sentence[m.start("who") : m.end("who")].strip()
    for v in _VERB_GATED.finditer(low):
        j = v.start()
        while j > 0 and sentence[j - 1].isspace():
            j -= 1
        if j > 0 and sentence[j - 1] == ",":  # "..., said X." / "..., said the agency"
            tail = _TAIL_SOURCE.match(sentence, v.end())
            if tail and not _NOT_SOURCE.search(tail.group(1).strip()):
                return tail.group(1).strip()
        who = _speaker_before(sentence, v.start())
        if who is not None:
            return who
    return None


_TAIL_SOURCE = re.compile(r"\s*([^,.;:]{2,80}?)\s*[.;]?$")
# Work per verb is kept to a window before it, so that a long sentence with many verbs stays
# linear (a text without sentence ends is one sentence). The results are those of scanning
# the whole text before the verb; where a window cannot decide, the whole text is scanned.
_WINDOW = 300
_NOT_SKIPPABLE = re.compile(r"[^\sa-z]")  # a character no _SKIP_BEFORE_VERB match holds
_AFTER_SPACE = re.compile(r"(?<=\s)\S")  # a word start: no _CLAUSE_START match spans it


def _speaker_before(sentence: str, verb_at: int) -> str | None:
    """The 1-10 words from the clause start to the verb at `verb_at` (auxiliaries such as
    "has" left out), unless they are a pronoun or similar; else None."""
    # Where the auxiliaries before the verb start (the leftmost match ending at the verb). A
    # match starting before the window would leave only spaces and lower-case letters in it.
    w0 = max(0, verb_at - _WINDOW)
    if w0 and not _NOT_SKIPPABLE.search(sentence, w0, verb_at):
        w0 = 0
    skip = _SKIP_BEFORE_VERB.search(sentence, w0, verb_at)
    assert skip is not None  # it matches the empty string before verb_at at least
    cut = skip.start()
    # The last clause start before `cut`. From a word start the scan finds the same matches
    # as from the sentence start (none spans it); if it finds none there, the speaker's words
    # reach back before the window: more than 10 words, or the whole scan decides.
    w1 = 0
    if cut > _WINDOW:
        m = _AFTER_SPACE.search(sentence, cut - _WINDOW, cut)
        w1 = m.start() if m else 0
    start = -1
    for c in _CLAUSE_START.finditer(sentence, w1, cut):
        start = c.end()
    if start < 0:
        if len(sentence[w1:cut].split()) > 10:
            return None
        start = max((c.end() for c in _CLAUSE_START.finditer(sentence, 0, cut)), default=0)
    words = sentence[start:cut].split()
    if 1 <= len(words) <= 10:
        who = " ".join(words)
        if not _NOT_SOURCE.search(who):
            return who
    return None


def is_party(source: str | None, low_sentence: str) -> bool:
    """Whether a figure is a fighting party's own claim (its source is a party, or the shape is
    "the group said it killed ..."). `low_sentence` is lower-cased."""
    if _PARTY_CLAIM_GATED.search(low_sentence):
        return True
    return bool(source) and bool(PARTIES.search(source))


class SentenceContext:
    """What a sentence says about all its figures, computed once: source, party claim,
    aggregate window, cumulative update."""

    __slots__ = ("attributed_to", "party", "aggregate", "cumulative")

    def __init__(
        self,
        sentence: str,
        low: str | None = None,
        hints: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    ):
        """`low`: the lower-cased sentence; `hints`: `article_hints` of the article it is from."""
        low = sentence.lower() if low is None else low
        aggregate_hints, cumulative_hints = hints or (_AGGREGATE_HINTS, _CUMULATIVE_HINTS)
        self.attributed_to = attribution(sentence, low)
        self.party = is_party(self.attributed_to, low)
        # cheap substring gates before the larger patterns (most sentences have none of them)
        # (`map` over the bound `__contains__` runs the tests in C: no generator frame per hint)
        has = low.__contains__
        self.aggregate = any(map(has, aggregate_hints)) and bool(AGGREGATE.search(low))
        self.cumulative = any(map(has, cumulative_hints)) and bool(CUMULATIVE.search(low))


def article_hints(low_text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The aggregate and cumulative hints found in a lower-cased article: a sentence of it can
    only hold these (fewer substring tests per sentence)."""
    return (
        tuple(h for h in _AGGREGATE_HINTS if h in low_text),
        tuple(h for h in _CUMULATIVE_HINTS if h in low_text),
    )


# Every AGGREGATE / CUMULATIVE pattern contains one of these words (context.yaml says so
# beside them): a sentence without any cannot match, and a substring test is cheap.
_AGGREGATE_HINTS = tuple(CTX["aggregate_hints"])
_CUMULATIVE_HINTS = tuple(CTX["cumulative_hints"])


def any_of(hints) -> re.Pattern:
    """A pattern for "any of `hints` in text[start:end]", searched with pos/endpos (no copy of
    the window; for a few hints in a short window, faster than `any(h in window ...)`)."""
    return re.compile("|".join(re.escape(h) for h in hints))


def annotate(
    low: str,
    fig: Figure,
    sent_start: int,
    sent_end: int,
    np_text: str,
    sc: SentenceContext,
    after_subset_cue: bool | None = None,
) -> None:
    """Fill a figure's context fields from its sentence context `sc`, the lower-cased article
    text `low` around it and the words of its noun phrase. `after_subset_cue`: whether
    `subset_before` the figure in its sentence, if the caller has asked already."""
    if fig.victim_type is None:
        fig.victim_type, fig.victim_share = victim_of(np_text)
    fig.attributed_to = sc.attributed_to
    fig.hedged = bool(
        _HEDGES_GATED.search(low, max(sent_start, fig.start - 60), min(sent_end, fig.end + 60))
    )
    fig.claim_by_party = sc.party
    # a window toll counts many; a described person ("a boy who was shot last week has died")
    # is one victim whatever window the sentence names
    fig.is_aggregate = fig.is_aggregate or (sc.aggregate and not fig.rule.startswith("subject:"))
    fig.is_cumulative = fig.is_cumulative or sc.cumulative
    if fig.victim_share is None and (
        after_subset_cue
        if after_subset_cue is not None
        else subset_before(low, max(sent_start, fig.start - 40), fig.start)
    ):
        fig.victim_share = "including"


_SUBSET_HINTS = ("includ", "with", "among", "of whom", "of them", "such as", "most", "main")


def subset_before(low: str, start: int, end: int) -> bool:
    """Whether low[start:end] ends with a subset cue ("including", "among them" ...)."""
    return bool(_SUBSET_HINT.search(low, start, end)) and bool(SUBSET_BEFORE.search(low[start:end]))


_SUBSET_HINT = any_of(_SUBSET_HINTS)


def militants_were_attackers(low: str, sent_start: int, sent_end: int, first_attack: int) -> bool:
    """Whether militants in this sentence were the attacking side (their dead are perpetrators):
    the article says militants attacked before this sentence ends (`first_attack`: offset of the
    first such words, see `first_attack_by_militants`), and this sentence does not say strikes or
    forces killed them."""
    if first_attack < 0 or first_attack >= sent_end:
        return False
    return not KILLED_BY_FORCES.search(low, sent_start, sent_end)


def first_attack_by_militants(low: str) -> int:
    """Offset of the first words saying militants attacked ("an ambush by Taliban militants"),
    or -1."""
    m = _ATTACK_BY_MILITANTS_GATED.search(low)
    return m.start() if m else -1
