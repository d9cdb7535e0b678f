"""FastScan finds exactly the matches of `finditer` / `search` (it only skips positions where
no match can start), on the lexicon patterns it is used with and on awkward inputs."""

import json
import random
import re
from pathlib import Path

import pytest

from casualties import context, dates, describe
from casualties.fastscan import FastScan, fast, first_chars

GOLDEN = Path(__file__).resolve().parent / "golden"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _texts() -> list[str]:
    out = []
    for f in sorted(GOLDEN.rglob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                out += [rec[k] for k in ("text", "phrase") if isinstance(rec.get(k), str)]
    if (SHARED / "seed-raqqa.txt").exists():
        out.append((SHARED / "seed-raqqa.txt").read_text(encoding="utf-8"))
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
