"""FastScan finds exactly the matches of `finditer` / `search` (it only skips positions where
no match can start), on the lexicon patterns it is used with and on awkward inputs."""

import json
import random
import re

import pytest

from casualties.extract import context, dates, describe
from casualties.text.scan import FastScan, StartIndex, fast, first_chars, fold, start_keys
from tests.paths import DEV, GOLDEN, SHARED_DATA


def _texts() -> list[str]:
    out = []
    for f in sorted(GOLDEN.rglob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                out += [rec[k] for k in ("text", "phrase") if isinstance(rec.get(k), str)]
    if (SHARED_DATA / "seed-raqqa.txt").exists():
        out.append((SHARED_DATA / "seed-raqqa.txt").read_text(encoding="utf-8"))
    # case folds and word boundaries: "ſ" is "s" and the Kelvin sign "k" when case is ignored
    out += [
        "ſuicide bomber, KİLLED by Taliban-led xTaliban _Hamas Hamas1 (Hamas) al-Shabaab",
        "An air\u212aIKE? Airstrike. AIRSTRIKES hit; unidentified gunmen Unknown attackers",
        "On 19 March 2020 and March 3, 2021; last week, yesterday, 3 days ago, in 2014.",
        "",
        "T",
    ]
    rng = random.Random(7)
    words = " ".join(out).split()
    out += [" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) for _ in range(300)]
    return out


def _patterns() -> dict[str, re.Pattern]:
    r = describe.rules()
    pats = {"actors": r.actors, "weapons": r.weapons, "targets": r.targets}
    pats["target_cued"] = r.target_cued
    pats.update({f"event:{name}": p for name, p in r.event_types})
    pats.update({f"date:{name}": p for name, p, _ in dates._PATTERNS})
    return pats


TEXTS = _texts()


@pytest.mark.parametrize("name,pattern", list(_patterns().items()))
def test_same_matches_as_the_regex_engine(name, pattern):
    scan = FastScan(pattern)
    for text in TEXTS:
        want = [(m.span(), m.lastgroup, m.groups()) for m in pattern.finditer(text)]
        assert [(m.span(), m.lastgroup, m.groups()) for m in scan.finditer(text)] == want, text
        for pos, endpos in ((0, len(text)), (len(text) // 3, len(text)), (1, len(text) // 2)):
            a, b = pattern.search(text, pos, endpos), scan.search(text, pos, endpos)
            assert (a and (a.span(), a.lastgroup)) == (b and (b.span(), b.lastgroup))


def test_skips_only_when_the_first_characters_are_known():
    assert first_chars(re.compile(r"\b(?:Taliban|Hamas)"))[0] == frozenset("TH")
    assert first_chars(re.compile(r"\b(?:Taliban|Hamas)"))[1]  # starts with a word boundary
    assert first_chars(re.compile(r"(?:ab)?c"))[0] == frozenset("ac")
    assert first_chars(re.compile(r"strike", re.I))[0] == frozenset("sSſ")
    assert first_chars(re.compile(r"\d+ killed"))[0] is None  # a class: scan everywhere
    assert first_chars(re.compile(r"a?"))[0] is None  # may be empty
    assert first_chars(re.compile(r"[^,]+"))[0] is None
    assert fast(re.compile(r"\d+")).gate is None


def test_attribution_reads_past_many_verbs_in_one_long_sentence():
    # a text without sentence ends is one sentence: every "it said" is tried, then the source
    sentence = "it said 3 people were killed, " * 400 + "officials said 2 died"
    assert context.attribution(sentence) == "officials"
    assert context.attribution("Three people were killed, said police spokesman Ali.") == (
        "police spokesman Ali"
    )
    assert context.attribution("The health ministry has said 12 people died.") == (
        "The health ministry"
    )


# --- StartIndex: many patterns searched in many stretches of one text ---------------------------


def _stretch_texts() -> list[str]:
    """Real texts (the dev set when present, the golden texts) and the awkward inputs above."""
    out = list(TEXTS)
    for f in sorted(DEV.glob("*.jsonl")) if DEV.exists() else []:
        for line in f.read_text(encoding="utf-8").splitlines()[:150]:
            if line.strip():
                out.append(json.loads(line).get("text") or "")
    return out


def _bounds(text: str, rng: random.Random) -> list[tuple[int, int]]:
    """Stretches as describe cuts them (after a sentence end) and at any character: inside
    words, at a hyphen, on a look-behind's context ("rocket-propelled |rockets")."""
    n = len(text)
    cuts = [0, n] + [m.end() for m in re.finditer(r"[.!?]\s+|\n\n", text)]
    cuts += [rng.randint(0, n) for _ in range(12)]
    out = [(0, n)]
    for _ in range(25):
        a, b = sorted((rng.choice(cuts), rng.choice(cuts)))
        out.append((a, b))
    return out


def test_start_keys_begin_every_match():
    pats = _patterns()
    for name, pattern in pats.items():
        keys = start_keys(pattern)
        if keys is None:
            continue
        for text in TEXTS:
            for m in pattern.finditer(text):
                head = fold(text[m.start() : m.end()])
                assert any(head.startswith(k) or k.startswith(head) for k in keys), (name, head)
    assert start_keys(re.compile(r"\b(?:air[- ]?strikes?|IEDs?\b)", re.I), 3) == {"air", "ied"}
    assert start_keys(re.compile(r"\bair[- ]?strikes?", re.I), 5) == {"air-s", "air s", "airst"}
    assert start_keys(re.compile(r"\bIEDs?\b"), 5) == {"ied", "ieds"}  # a match may be short
    assert start_keys(re.compile(r"\bat\s+the")) == frozenset({"at"})  # \s: not known for sure
    assert start_keys(re.compile(r"\w+ killed")) is None
    assert fold("ſtrİke \u212a") == "strike k" and len(fold("İ")) == 1


def test_stretch_search_is_the_search_of_the_slice():
    r = describe.rules()
    index = r.starts
    rng = random.Random(11)
    for text in _stretch_texts():
        starts = index.index(text)
        for a, b in _bounds(text, rng):
            span = text[a:b]
            where = starts.stretch(a, b)
            assert where.span == span
            for i, pattern in enumerate(index.patterns):
                want = pattern.search(span)
                got = where.search(i)
                assert (want and (want.span(), want.lastgroup)) == (
                    got and (got.span(), got.lastgroup)
                ), (i, span)
                want_all = [(m.span(), m.lastgroup) for m in pattern.finditer(span)]
                assert [(m.span(), m.lastgroup) for m in where.finditer(i)] == want_all
                if want is not None:  # searching on from inside the span, up to a bound
                    pos, endpos = want.start() + 1, min(len(span), want.end() + 40)
                    want = pattern.search(span, pos, endpos)
                    got = where.search(i, pos, endpos)
                    assert (want and want.span()) == (got and got.span()), (i, span, pos)


def test_stretch_edges_count_as_string_ends():
    # the slice, not the text, decides word boundaries and look-arounds at its edges
    shelling = re.compile(r"\b(?:(?<!rocket-propelled )rockets?\b(?! ?-?propelled)|shelling)", re.I)
    index = StartIndex([shelling, re.compile(r"\bTaliban")])
    text = "xTaliban fired rocket-propelled rockets; Kalashnikovs and rocketsxyz-propelled"
    starts = index.index(text)
    for a, b in [(1, 8), (0, 8), (26, 39), (32, 39), (57, 64), (57, 69), (57, len(text))]:
        span = text[a:b]
        for i, pattern in enumerate(index.patterns):
            want = pattern.search(span)
            got = starts.stretch(a, b).search(i)
            assert (want and want.span()) == (got and got.span()), (span, i)
    assert starts.stretch(1, 8).search(1) is not None  # "Taliban" begins the slice
    assert starts.stretch(0, 8).search(1) is None  # "xTaliban" has no word start
