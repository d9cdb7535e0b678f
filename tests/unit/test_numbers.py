"""Number grammar: golden phrases (tests/golden/quantities.jsonl), golden sentences
(tests/golden/quantity_sentences.jsonl) and a few properties the figures module relies on."""

from __future__ import annotations

import json

import pytest

from casualties.extract.quantities import Quantity, find_quantities, parse_quantity, words_to_int
from casualties.fields import QUALIFIERS
from tests.paths import DEV, GOLDEN


def _jsonl(name: str) -> list[dict]:
    with (GOLDEN / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


PHRASES = _jsonl("quantities.jsonl")
SENTENCES = _jsonl("quantity_sentences.jsonl")


@pytest.mark.parametrize("row", PHRASES, ids=[r["phrase"] for r in PHRASES])
def test_golden_phrase(row):
    q = parse_quantity(row["phrase"])
    expect = row["expect"]
    if expect is None:
        assert q is None, f"{row['phrase']!r} is not a count, got {q}"
        return
    assert q is not None, f"{row['phrase']!r} not read"
    got = {"surface": q.surface, "low": q.low, "best": q.best, "high": q.high}
    got["qualifier"] = q.qualifier
    assert got == expect


@pytest.mark.parametrize("row", SENTENCES, ids=[r["text"][:40] for r in SENTENCES])
def test_golden_sentence(row):
    text = row["text"]
    found = find_quantities(text)
    assert [[q.surface, q.low, q.best, q.high, q.qualifier] for q in found] == row["quantities"]
    cores = {text[q.core_start : q.core_end] for q in found}
    for absent in row["not"]:
        assert absent not in cores and all(absent != q.surface for q in found)


def test_golden_covers_every_conventions_row():
    """Every qualifier of the CONVENTIONS table has golden rows, and every vague word."""
    quals = {r["expect"]["qualifier"] for r in PHRASES if r["expect"]}
    assert quals >= set(QUALIFIERS)
    phrases = {r["phrase"] for r in PHRASES}
    for p in ["tens", "dozens", "scores", "hundreds", "thousands", "tens of thousands"]:
        assert p in phrases
    for p in ["hundreds of thousands", "a couple of", "a few", "several", "many", "numerous"]:
        assert p in phrases


def test_offsets_are_exact_in_context():
    text = "Officials said at least 14 were killed, and between 40 and 60 hurt (over 100 fled)."
    found = find_quantities(text)
    assert [q.surface for q in found] == ["at least 14", "between 40 and 60", "over 100"]
    for q in found:
        assert text[q.start : q.end] == q.surface
    assert text[found[0].core_start : found[0].core_end] == "14"
    assert text[found[1].core_start : found[1].core_end] == "40 and 60"


def test_qualified_reading_wins_over_inner_vague_word():
    # "many" inside "as many as" must not come out as its own quantity
    found = find_quantities("as many as 50 people")
    assert [(q.surface, q.qualifier) for q in found] == [("as many as 50", "up_to")]


def test_kind_field():
    kinds = [q.kind for q in find_quantities("3 dead, 10-12 hurt, dozens missing, none found")]
    assert kinds == ["number", "range", "vague", "zero"]


def test_toll_change_is_not_a_range():
    found = find_quantities("the toll rose from 10 to 23")
    assert [(q.surface, q.qualifier) for q in found] == [("10", "exact"), ("23", "exact")]


def test_range_needs_second_number_larger():
    found = find_quantities("the score was 24-7 and 4 or 3 fled")
    assert all(q.qualifier != "range" for q in found)


def test_years_stay_out_but_large_counts_stay_in():
    assert [q.best for q in find_quantities("In 2014 the army killed 2000 militants")] == [2000]
    assert find_quantities("the 2016 elections") == []
    assert find_quantities("between 2014 and 2016.") == []


def test_capitalised_labels_and_months_only():
    assert [q.best for q in find_quantities("in the district 5 people died")] == [5]
    assert find_quantities("District 5") == []
    assert [q.best for q in find_quantities("the three may face charges")] == [3]
    assert find_quantities("on 3 May") == []


def test_unicode_case_change_keeps_offsets():
    text = "İİİ killed 5 people, İstanbul police said 12"
    for q in find_quantities(text):
        assert text[q.start : q.end] == q.surface
    assert [q.best for q in find_quantities(text)] == [5, 12]


def test_words_to_int():
    assert words_to_int("two hundred and fifty") == 250
    assert words_to_int("a thousand") == 1000
    assert words_to_int("three thousand five hundred") == 3500
    assert words_to_int("twenty-three") == 23


def test_parse_quantity_none_and_type():
    assert parse_quantity("") is None
    assert parse_quantity("the market") is None
    assert isinstance(parse_quantity("3,000 to 4,000"), Quantity)


def test_dev_texts_offsets_and_order():
    """On the real dev texts (read, never copied): offsets exact, sorted, non-overlapping."""
    path = DEV / "labelled-incidents.jsonl"
    if not path.exists():
        pytest.skip("../shared data not present")
    with path.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh][:300]
    for text in texts:
        found = find_quantities(text)
        for a, b in zip(found, found[1:], strict=False):
            assert a.end <= b.start
        for q in found:
            assert text[q.start : q.end] == q.surface
            assert 0 <= q.low <= q.best and (q.high is None or q.best <= q.high)


def _all_texts() -> list[str]:
    texts = [r["text"] for r in SENTENCES] + [r["phrase"] for r in PHRASES]
    path = DEV / "labelled-incidents.jsonl"
    if path.exists():
        with path.open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh][:400]
    return texts


def test_speed_gates_do_not_change_results(monkeypatch):
    """The trigger-word gates and the fast path are only shortcuts: with every context check
    forced on, the results are the same."""
    from casualties.extract import quantities as numbers

    texts = _all_texts()
    gated = [find_quantities(t) for t in texts]
    monkeypatch.setattr(numbers, "_before_needed", lambda plow, start: True)
    monkeypatch.setattr(numbers, "_after_needed", lambda plow, end: True)
    assert [find_quantities(t) for t in texts] == gated
