"""The speed-ups of figure extraction give the results of the plain patterns they stand for.

Each quick test (a gate, a first-word scan, a cached answer) is compared with the full pattern it
saves, on real text: the dev set when it is there (../shared), and a few own sentences always.
"""

from __future__ import annotations

import json
import re

import pytest

from casualties.extract import accounts, background, context, cues, figures, incidents
from casualties.extract import quantities as numbers
from casualties.text import sentences
from tests.paths import DEV

OWN = [
    "At least 16 people were killed and 25 injured when a car bomb exploded, police said.",
    "A soldier was reportedly killed. Another policeman died in hospital; a third later died.",
    "Gunmen shot and killed a bank official, his wife and their two children on Monday.",
    "Officials said the death toll rose to 41, including the suicide bomber, according to AFP.",
    "Three of the four injured students died. No one else was hurt, the army said.",
    "The ſoldier and the SOLDIERS were killed; 12 rockets (of 40 fired) hit İzmir.",
    "Two ſhells hit; 3 ROCKETS and 4 K-9 dogs; killing a Kelvin \u212aid and one policeman.",
    "They killed 3 (three) civilians and [2] policemen, 5 U.S. marines were wounded.",
]


def _texts() -> list[str]:
    texts = list(OWN)
    for path in sorted(DEV.glob("*.jsonl")) if DEV.exists() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line).get("text") or ""
            texts += [text, text.upper()]
    return texts


TEXTS = _texts()

# The sentence-end pattern as it was written before it started with a character class.
_OLD_END = re.compile(
    r"[.!?]+[\"'”’)\]]*(?:(?=[ \t\r\f\v]+[\"'“‘(\[0-9A-Z])|(?=[A-Z][a-z])|(?=\s*\n)|$)|\n"
)


def test_sentence_ends_are_the_old_pattern():
    for text in TEXTS:
        assert [m.span() for m in sentences._END.finditer(text)] == [
            m.span() for m in _OLD_END.finditer(text)
        ]


def test_gates_give_the_old_positions():
    """Word-start gates and the padded trigger scan find what the `\\b` patterns found."""
    old_zero = re.compile(r"\b(?:no|none|nobody|without|zero)\b")
    old_subset = re.compile(r"\b(?:including|among)\b")
    for text in TEXTS:
        low = cues.lower(text)
        assert [m.span() for m in cues.ZERO_GATE.finditer(low)] == [
            m.span() for m in old_zero.finditer(low)
        ]
        assert [m.span() for m in cues.SUBSET_GATE.finditer(low)] == [
            m.span() for m in old_subset.finditer(low)
        ]
        old = [
            (t.start(), t.group())
            for t in cues.TRIGGER.finditer(low)
            if not (t.start() and low[t.start() - 1] == "-")
        ]
        padded = [(m.start(1) - 1, m.group(1)) for m in cues.TRIGGER_PADDED.finditer(" " + low)]
        assert padded == old


def test_trigger_stems_decide_which_cue_patterns_can_match():
    for text in TEXTS:
        low = cues.lower(text)
        for m in cues.TRIGGER_PADDED.finditer(" " + low):
            p, stem = m.start(1) - 1, m.group(1)
            if cues.OBJECT_VERB_L.match(low, p):
                assert stem in cues.OBJECT_STEMS
            if cues.CUE_L.match(low, p):
                assert stem in cues.CUE_STEMS
            if cues.THEN_ANY.match(low, p):
                assert stem in cues.THEN_STEMS


GATED = [
    context._ACCORDING_GATED,
    context._VERB_GATED,
    context._PARTY_CLAIM_GATED,
    context._HEDGES_GATED,
    context._ATTACK_BY_MILITANTS_GATED,
    incidents._NEW_INCIDENT,
    background._LEDE_RECALL,
]


@pytest.mark.parametrize("gated", GATED, ids=lambda g: g.pattern.pattern[:30])
def test_gated_patterns_find_what_the_patterns_find(gated):
    assert gated._gate is not None  # these patterns have literal first words
    for text in TEXTS:
        low = cues.lower(text)
        for start, end in sentences.split_sentences(text):
            assert _span(gated.search(low, start, end)) == _span(
                gated.pattern.search(low, start, end)
            )
            assert _span(gated.search(low, start + 7, end - 3)) == _span(
                gated.pattern.search(low, start + 7, end - 3)
            )
        assert [m.span() for m in gated.finditer(low)] == [
            m.span() for m in gated.pattern.finditer(low)
        ]


def _span(m):
    return None if m is None else m.span()


def test_first_words_refuse_what_may_start_otherwise():
    assert context.first_words(r"\b(?:kill(?:ed)?|shot)\b") == {"kill", "shot"}
    assert context.first_words(r"(?:death )?toll") is None
    assert context.first_words(r"(?:\w+ ){0,2}killed") is None
    assert context.first_words(r"(?:very ){0,2}killed") is None
    assert context.first_words(r"\d+ killed") is None


def test_word_gates_never_skip_a_match():
    """The word gates (NOT_PEOPLE, SINGULAR_ITEM), the link tests before LINK_BARE and LINK_AUX
    and the subject starts: where the full pattern matches, the quick test said "try"."""
    for text in TEXTS:
        low = cues.lower(text)
        starts = [m.start() for m in re.finditer(r"(?<!\S)\S", text)]
        art = figures._Article(text)
        for q in numbers.find_quantities(text):
            if cues.NOT_PEOPLE.match(text, q.end):
                assert low[q.end : q.end + 1].isspace()
                assert art.word_gate(cues.NOT_PEOPLE_GATE, q.end)
            for t in art.cue_pos:
                if q.end < t <= q.end + 200 and cues.LINK_BARE.fullmatch(text, q.end, t):
                    assert figures._short_link(text, q.end, t)
        for p in starts:
            if cues.SINGULAR_ITEM.match(text, p):
                assert art.word_gate(cues.SINGULAR_ITEM_GATE, p)
        for t in art.cue_pos:
            for q in art.quants:
                if q.end < t <= q.end + 200 and cues.LINK_AUX.fullmatch(text, q.end, t):
                    assert figures._aux_tail(low, t)
            for pattern, back in ((cues.SINGULAR_SUBJECT, 160), (cues.DIED_SUBJECT, 80)):
                w = max(0, t - back)
                assert _span(cues.search_subject(pattern, text, low, w, t)) == _span(
                    pattern.search(text, w, t)
                )


def test_quantities_built_directly_equal_the_dataclass():
    for text in TEXTS[:50]:
        for q in numbers.find_quantities(text):
            made = numbers.Quantity(
                q.start,
                q.end,
                q.surface,
                q.low,
                q.best,
                q.high,
                q.qualifier,
                q.kind,
                q.core_start,
                q.core_end,
            )
            assert q == made and hash(q) == hash(made) and repr(q) == repr(made)


def test_sentence_context_with_article_hints_is_the_same():
    for text in TEXTS:
        low = cues.lower(text)
        hints = context.article_hints(low)
        for start, end in sentences.split_sentences(text):
            plain = context.SentenceContext(text[start:end], low[start:end])
            hinted = context.SentenceContext(text[start:end], low[start:end], hints)
            assert [getattr(plain, k) for k in plain.__slots__] == [
                getattr(hinted, k) for k in hinted.__slots__
            ]


def test_figure_to_dict_copies_fields_only():
    fig = figures.find_figures(OWN[0])[0]
    assert list(fig.to_dict()) == [f for f in fig.__dataclass_fields__]
    fig.note = "not a field"  # an attribute set by someone else is not a column
    assert list(fig.to_dict()) == [f for f in fig.__dataclass_fields__]


def test_cue_patterns_by_stem_match_as_the_whole_alternation():
    """At a trigger, the few alternatives of its stem find what the whole alternation finds."""
    for text in TEXTS:
        low = cues.lower(text)
        for m in cues.TRIGGER_PADDED.finditer(" " + low):
            p, stem = m.start(1) - 1, m.group(1)
            for whole, by_stem in (
                (cues.OBJECT_VERB_L, figures._OBJECT_BY_STEM),
                (cues.CUE_L, figures._CUE_BY_STEM),
            ):
                few = by_stem.get(stem)
                got = few.match(low, p) if few is not None else None
                want = whole.match(low, p)
                assert _span(got) == _span(want)
                assert (got and got.lastgroup) == (want and want.lastgroup)


def test_forward_word_gates_answer_as_the_gates():
    for text in TEXTS:
        low = cues.lower(text)
        ends = [q.end for q in numbers.find_quantities(text)]
        starts = [m.start() for m in re.finditer(r"(?<!\S)\S", low)]
        for old, new in (
            (cues.NOT_PEOPLE_GATE, figures._NOT_PEOPLE_GATE),
            (cues.SINGULAR_ITEM_GATE, figures._SINGULAR_ITEM_GATE),
        ):
            for p in ends + starts:
                assert bool(old.match(low, p)) == bool(new.match(low, p))


def test_subject_search_from_the_last_foreign_character_finds_the_same():
    for text in TEXTS:
        low = cues.lower(text)
        art = figures._Article(text)
        for t in art.cue_pos:
            for pattern, back in ((cues.SINGULAR_SUBJECT, 160), (cues.DIED_SUBJECT, 80)):
                for end in (t, t - 1):
                    w = max(0, end - back)
                    assert _span(figures._search_subject(pattern, text, low, w, end)) == _span(
                        cues.search_subject(pattern, text, low, w, end)
                    )


def test_scans_from_the_first_word_find_every_match():
    """SELF_GATE, SUBSET_GATE and ORDINAL_VICTIM scanned from where figures starts them."""
    for text in TEXTS:
        low = cues.lower(text)
        for pattern, words in (
            (cues.SELF_GATE, figures._SELF_GATE_WORDS),
            (cues.SUBSET_GATE, ("including", "among")),
        ):
            first = figures._first_of(low, words)
            got = [] if first < 0 else [m.span() for m in pattern.finditer(low, first)]
            assert got == [m.span() for m in pattern.finditer(low)]
        found: list = []
        figures._ordinal_victims(figures._Article(text), found)
        assert [f.start for f in found] == [m.start() for m in cues.ORDINAL_VICTIM.finditer(low)]


def test_item_patterns_start_with_their_first_letters():
    for text in TEXTS:
        low = cues.lower(text)
        for p in [m.start() for m in re.finditer(r"(?<!\S)\S|\b\w", text)]:
            if cues.PAIR_ITEM.match(text, p):
                assert low[p] in figures._PAIR_FIRST
            if cues.ANOTHER_ITEM.match(text, p):
                assert low[p] == "a"
            if cues.PRONOUN_ITEM.match(text, p) or cues.SELF_ITEM.match(text, p):
                assert low[p] == "h"
            if cues.NAME_ITEM.match(text, p):
                assert text[p] in figures._NAME_FIRST


def test_literal_gates_hold_their_words():
    """The article-wide tests before AFTER_PERCENT and _SUICIDE_AFTER."""
    for text in TEXTS:
        low = cues.lower(text)
        if cues.AFTER_PERCENT.search(text):
            assert "%" in text or "per" in low
        if figures._SUICIDE_AFTER.search(low):
            assert "suicide" in low


def test_gated_search_from_any_offset():
    """The gate after a non-word character finds the first word start as the gate does, from
    the text's start, mid-word and right after a word."""
    for gated in GATED:
        for text in TEXTS[:: max(1, len(TEXTS) // 60)]:
            low = cues.lower(text)
            for pos in range(0, min(len(low), 400), 7):
                want = gated._gate.search(low, pos, pos + 150)
                assert gated._first(low, pos, pos + 150) == (-1 if want is None else want.start())


def test_literal_heads_are_in_every_match():
    assert context.literal_heads("(?:according(?: to)?|quoted by)\\s+") == (
        "according",
        "quoted by",
    )
    assert context.literal_heads("kills?|shot dead") == ("kill", "shot dead")
    assert context.literal_heads("(?:kill|shot)?x") is None
    assert context.literal_heads("(?:held|manned) by|deployed") is None
    assert context.literal_heads("(?:held by|deployed)\\s+of") == ("held by", "deployed")
    assert context.literal_heads("\\d+ killed|x") is None
    heads = context._ACCORDING_HEADS
    assert heads
    for text in TEXTS:
        low = cues.lower(text)
        for m in context._ACCORDING.finditer(low):
            assert any(h in m.group(0) for h in heads)
        for m in context.CODER_NOTE.finditer(text):
            assert any(w in m.group(0).lower() for w in figures._CODER_NOTE_WORDS)


def test_required_literals_read_the_words_every_match_needs():
    def req(pattern: str):
        return context.required_literals(re.compile(pattern))

    assert req(r"\b(?:in|of) the first (?:attack|blast)s?") == (" the first ",)
    assert req(r"separate(?:ly)?|elsewhere") == ("elsewhere", "separate")
    assert req(r"(?:the other|another) attack|other") == (" attack", "other")
    assert req(r"\d+ (?:days?|weeks?) ago") == (" ago",)
    assert req(r"(?:very )?bad") == ("bad",)
    assert req(r"(?:no|yes)+ thanks") == (" thanks",)
    assert req(r"(?=killed)\w+") is None  # a look-ahead consumes nothing
    assert req(r"(?i)killed") is None  # the text may hold "KILLED"
    assert req(r"(?i:killed)|shot") is None
    assert req(r"a|bc") is None  # too short to test for


def _rule_patterns() -> list[re.Pattern]:
    """The compiled patterns the extraction modules hold at module level."""
    out = []
    for module in (accounts, background, context, cues, figures, incidents):
        for value in vars(module).values():
            if isinstance(value, re.Pattern):
                out.append(value)
            elif isinstance(value, context.Gated | context.Prefiltered):
                out.append(value.pattern)
    return out


def test_every_match_of_a_rule_holds_one_of_its_required_literals():
    """On real text: wherever a rule pattern matches, its match holds one of the literals its
    parse says it needs (so a text without them cannot match)."""
    read = 0
    for pattern in _rule_patterns():
        literals = context.required_literals(pattern, shortest=1)
        if literals is None:
            continue
        read += 1
        for text in TEXTS[:: max(1, len(TEXTS) // 300)]:
            for m in pattern.finditer(cues.lower(text)):
                assert any(w in m.group() for w in literals), (pattern.pattern[:60], m.group())
    assert read > 40
    # the ordinal gate of `accounts._adds_more` tests for the words of the ordinals table
    assert set(context.required_literals(accounts._ORDINAL)) <= set(accounts._ORDINALS)


PREFILTERED = [
    accounts._NEW_STORY,
    accounts._FIRST_PART,
    incidents._EARLIER_REPORT,
    background._STATEMENT_LEDE,
]


@pytest.mark.parametrize("pre", PREFILTERED, ids=lambda p: p.pattern.pattern[:30])
def test_prefiltered_patterns_find_what_the_patterns_find(pre):
    assert pre.literals  # these patterns need some words
    for text in TEXTS:
        low = cues.lower(text)
        for start, end in sentences.split_sentences(text):
            assert _span(pre.search(low[start:end])) == _span(pre.pattern.search(low[start:end]))


def test_spread_keeps_the_alternatives_in_order():
    assert context.spread("(?:months|years) ago|(?:a|\\d+) days|last") == (
        "months ago|years ago|a days|\\d+ days|last"
    )
    # a repeated or optional group, or one with a group or class inside, stays as it is
    for kept in ("(?:x|y)?z", "(?:a(?:b|c)|d) e", "(?:[ab]|c)x", "(?:x|y){2}"):
        assert context.spread(kept) == kept


def test_by_first_letter_groups_alternatives_behind_their_letter():
    assert context.by_first_letter("the x|that y|in z|\\d+ q|an b|a|s?x") == (
        "t(?:he x|hat y)|in z|\\d+ q|a(?:n b|)|s?x"
    )
    for pattern in ("the x|that y|in z|\\d+ q|an b|a|s?x", "(?:a|b)c|ab|b"):
        grouped = re.compile(context.by_first_letter(pattern))
        for text in ("in z", "that y", "an b", "7 q", "ab", "bc", "sx", "x", "a", "q"):
            assert _span(grouped.search(text)) == _span(re.search(pattern, text))


def test_background_cues_match_as_the_cue_lists_do():
    """The flat cue pattern finds what the lists of `articles.yaml`, each a group, find."""
    grouped = re.compile(
        r"\b(?:"
        + "|".join(f"(?:{context.alt(p)})" for p in background.RULES["background"].values())
        + r")\b"
    )
    for text in TEXTS:
        low = cues.lower(text)
        for start, end in sentences.split_sentences(text):
            sentence = low[start:end]
            assert _span(background._CUES.search(sentence)) == _span(grouped.search(sentence))


def test_is_question_reads_the_first_end_mark():
    assert background.is_question('"Will they say they killed 40 children?" she asked.')
    assert not background.is_question("Who did it is unknown. Police said 4 died?", 0)
    assert background.is_question("Police said 4 died? No.", 12)
    assert not background.is_question("Four died. Why?", 0)


def test_dated_years_are_among_the_years_ending_a_number():
    """`is_background` reads dated years only when some year ending a number is earlier."""
    for text in TEXTS:
        low = cues.lower(text)
        ends = set(background._YEAR_END.findall(low))
        assert set(background._DATED_YEAR.findall(low)) <= ends


def test_in_month_finds_what_a_word_start_pattern_finds():
    months = "|".join(m.title() for m in background._MONTHS)
    plain = re.compile(r"\b[Ii]n (" + months + r")\b(?! \d)")
    for text in [*TEXTS, "In May, ...", "xIn May", "Within March", "in June 5", "(in July)"]:
        assert [m.span() for m in background._IN_MONTH.finditer(text)] == [
            m.span() for m in plain.finditer(text)
        ]
