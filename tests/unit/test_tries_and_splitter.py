"""Speed-ups of numbers, sentences and cues give the results of the plain code they stand for.

Each quick form is compared with its plain form on real text (the dev set when it is there, in
../shared) and on a few own strings: the word tries of cues.ordered_words with the alternations
they replace, the sentence loop with the character loop it replaced, and the str-method word
reading of the number gates with the window split it replaced.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from casualties.extract import cues
from casualties.extract import quantities as numbers
from casualties.extract.context import CTX, alt
from casualties.text import sentences
from tests.paths import DEV

OWN = [
    "At least 16 people were killed and 25 injured when a car bomb exploded, police said.",
    "A tourist guide and a tourist were killed. Mr. J. Smith, a U.S. envoy, said.The rest fled.",
    'Both of them died; both were hurt.\nA  second line... "Quoted." (Aside.) Next one!',
    "Gen. Ali's men. No. 5 was hit at 3 p.m. on Jan. 4. It's over.  \n\n  Done?  Yes.",
    "They killed 3 (three) civilians and [2] policemen, 5 U.S. marines were wounded.",
    "The ſoldier and the SOLDIERS were killed; 12 rockets (of 40 fired) hit İzmir.",
    "two car bombs and a bomb; the bombs, 2 mines and a mine hit 40 houses in 2 villages",
]


def _texts(limit: int) -> list[str]:
    texts = list(OWN)
    for path in sorted(DEV.glob("*.jsonl")) if DEV.exists() else []:
        for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
            text = json.loads(line).get("text") or ""
            texts += [text, text.upper()]
    return texts


TEXTS = _texts(60)


# --- cues.ordered_words -------------------------------------------------------------------------


def test_ordered_words_keeps_the_order_of_the_list():
    assert cues.ordered_words("tourist|tourist guide") == r"tourist(?:\ guide)??"
    assert cues.ordered_words("tourist guide|tourist") == r"tourist(?:\ guide)?"
    assert cues.ordered_words("bombs?|car") == "(?:bomb(?:s)?|car)"
    assert cues.ordered_words("ab|a|abc") == "ab|a|abc"  # "a" between the others: kept as is
    assert cues.ordered_words("kill(?:ed)?|shot") == "kill(?:ed)?|shot"  # not plain words
    assert cues.ordered_words("ab|a|abc", any_order=True) == "a(?:b(?:c)?)?"


@pytest.mark.parametrize(
    "words",
    ["tourist|tourist guide|man|woman", "tourist guide|tourist|to", "a|ab|abc|b", "bombs?|bomb"],
)
def test_ordered_words_match_like_the_alternation(words):
    plain = re.compile(f"(?:{words})", re.I)
    trie = re.compile(f"(?:{cues.ordered_words(words)})", re.I)
    rng = random.Random(0)
    pieces = ["a", "b", "c", " ", "tourist", " guide", "man", "wo", "bomb", "s", "TO", "-"]
    for _ in range(3000):
        s = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        for end in range(len(s) + 1):
            got, want = trie.match(s, 0, end), plain.match(s, 0, end)
            assert (got and got.span()) == (want and want.span()), (words, s, end)


def _plain_forms() -> dict[str, str]:
    """Each trie fragment of cues, and the alternation it stands for."""
    not_people = alt(CTX["not_people"])
    filler = alt(cues.CAT["object_filler"])
    return {
        cues._PERSON_SG_CI: cues.PERSON_SG,
        cues._PAIR_CI: cues.PAIR,
        cues._NP_PART_CI: cues.NP_PART,
        cues.ordered_words(not_people): not_people,
        cues.ordered_words(filler): filler,
        cues._NOT_AUX_STOP: r"(?!(?-i:" + cues.AUX + "|" + cues.STOP + r")\b)",
    }


TRIE_PATTERNS = [
    "AFTER_AUX",
    "AFTER_BARE",
    "LINK_AUX",
    "LINK_BARE",
    "LINK_DIED",
    "FILLER",
    "SINGULAR_ITEM",
    "PAIR_ITEM",
    "NP_TAIL",
    "NOT_PEOPLE",
    "SINGULAR_SUBJECT",
    "DIED_SUBJECT",
    "SUBSET_PEOPLE",
    "SINGULAR_IN_NP",
    "LIST_LINK",
]


@pytest.mark.parametrize("name", TRIE_PATTERNS)
def test_trie_patterns_match_what_the_alternations_match(name):
    fast = getattr(cues, name)
    source = fast.pattern
    for trie, plain in sorted(_plain_forms().items(), key=lambda kv: -len(kv[0])):
        source = source.replace(trie, plain)
    assert source != fast.pattern
    slow = re.compile(source, fast.flags)
    rng = random.Random(1)
    for text in TEXTS[:40]:
        starts = [m.start() for m in re.finditer(r"(?<!\S)\S|\s", text)]
        for s in starts:
            assert _key(fast.match(text, s)) == _key(slow.match(text, s))
        for s in rng.sample(starts, min(15, len(starts))):
            e = min(len(text), s + rng.randint(1, 160))
            assert _key(fast.match(text, s, e)) == _key(slow.match(text, s, e))
            assert _key(fast.fullmatch(text, s, e)) == _key(slow.fullmatch(text, s, e))


def _key(m):
    return None if m is None else (m.span(), m.groups())


def test_possessive_word_gates_answer_as_before():
    """The word gates with possessive runs say yes exactly where the plain runs did."""
    for gate in (cues.NOT_PEOPLE_GATE, cues.SINGULAR_ITEM_GATE):
        plain = re.compile(gate.pattern.replace("*+", "*").replace("++", "+"))
        assert plain.pattern != gate.pattern
        for text in TEXTS[:60]:
            low = cues.lower(text)
            for s in range(0, len(low), 3):
                assert (gate.match(low, s) is None) == (plain.match(low, s) is None)


# --- sentences ----------------------------------------------------------------------------------

_OLD_END = re.compile(
    r"[.!?\n](?:(?<=\n)|[.!?]*[\"'”’)\]]*"
    r"(?:(?=[ \t\r\f\v]+[\"'“‘(\[0-9A-Z])|(?=[A-Z][a-z])|(?=\s*\n)|$))"
)


def _old_split(text: str) -> list[tuple[int, int]]:
    """split_sentences as it was: the text looked at again after each candidate end."""
    spans: list[tuple[int, int]] = []
    start, n = 0, len(text)
    for m in _OLD_END.finditer(text):
        dot, end = m.span()
        if text[dot] == "\n":
            sentences._add(spans, text, start, dot)
            start = end
            continue
        nxt = text[end : end + 1]
        if not nxt:
            continue
        if nxt.isspace():
            j = end
            while j < n and text[j].isspace() and text[j] != "\n":
                j += 1
            if j >= n or text[j] == "\n":
                continue
            if not (text[j].isupper() or text[j] in "\"'“‘([0123456789"):
                continue
        elif not (
            nxt.isupper()
            and text[end + 1 : end + 2].islower()
            and text[max(0, dot - 2) : dot].isalpha()
            and text[max(0, dot - 2) : dot].islower()
        ):
            continue
        if text[dot] == "." and _old_abbreviation(text, start, dot):
            continue
        sentences._add(spans, text, start, end)
        start = end
    sentences._add(spans, text, start, n)
    return spans


def _old_abbreviation(text: str, start: int, dot: int) -> bool:
    i = dot
    while i > start and (text[i - 1].isalpha() or text[i - 1] in ".'"):
        i -= 1
    word = text[i:dot]
    if not word:
        return False
    if "." in word or (len(word) == 1 and word.isupper()):
        return True
    return word.lower() in sentences._ABBREV


def test_split_sentences_is_the_character_loop():
    rng = random.Random(2)
    pieces = [
        ".",
        "!",
        "?",
        "\n",
        " ",
        "  ",
        "\t",
        "\u00a0",
        '"',
        "'",
        "”",
        ")",
        "(",
        "“",
        "A",
        "a",
    ]
    pieces += ["Mr", "U.S", "said", "The", "J", "3", "x", "é", "İ", "Gen", "rev", "no"]
    fuzz = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    for text in TEXTS + fuzz:
        assert sentences.split_sentences(text) == _old_split(text), text


# --- numbers ------------------------------------------------------------------------------------


def _old_before_needed(plow: str, start: int) -> bool:
    k = start - 1
    if not plow[k].isspace():
        return True
    words = plow[max(0, k - 40) : k].rsplit(None, 2)
    if not words:
        return True
    last = words[-1]
    if not last.isalpha():
        word = last.rstrip(numbers._CLOSERS)
        if last[-1] == "." and word.isalpha():
            return word in numbers._BEFORE_SINGLE or last in numbers._BEFORE_SINGLE
        if last[-1] in ",;:)" and word.isalnum():
            return numbers._DAY_RE.fullmatch(word) is not None
        return True
    if last in numbers._BEFORE_SINGLE:
        return True
    pairs = numbers._BEFORE_PAIRS
    return len(words) > 1 and (words[-2].lstrip(numbers._OPENERS), last) in pairs


def _old_after_needed(plow: str, end: int) -> bool:
    if not plow[end : end + 1].isspace():
        return True
    words = plow[end + 1 : end + 24].split(None, 1)
    if not words:
        return True
    w = words[0].strip(numbers._OPENERS + numbers._CLOSERS)
    after_words = numbers._AFTER_WORDS
    return (
        not w.isalpha()
        or w in numbers._AFTER_TRIGGERS
        or w in after_words
        or (w[-1:] == "s" and w[:-1] in after_words)
    )


def test_number_gates_read_the_words_the_window_split_reads():
    rng = random.Random(3)
    words = ["at", "least", "aged", "the", "of", "and", "years", "day", "in", "route", "killed"]
    words += ["(", "$", "No.", "march", "3,", "people", "a" * 45, "\n", "  ", "\u00a0", "-"]
    fuzz = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(2000)]
    for text in TEXTS + fuzz:
        plow = " " + cues.lower(text)
        for at in range(1, len(plow) + 1):
            assert numbers._before_needed(plow, at) == _old_before_needed(plow, at), (text, at)
            assert numbers._after_needed(plow, at) == _old_after_needed(plow, at), (text, at)


# --- cues: stems and the cue patterns per stem --------------------------------------------------


def test_stem_positions_are_the_padded_scan():
    for text in TEXTS + ["é killed, _killed -killed (killed) ékilled İkilled 3killed"]:
        low = cues.lower(text)
        padded = {m.start(1) - 1: m.group(1) for m in cues.TRIGGER_PADDED.finditer(" " + low)}
        assert cues.stem_positions(low) == padded
