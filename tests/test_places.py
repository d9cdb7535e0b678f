"""Places: text → place, country, admin1, coordinates, precision (golden cases in YAML)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from casualties import places

CASES = yaml.safe_load(
    (Path(__file__).parent / "golden" / "incidents" / "places.yaml").read_text("utf-8")
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_place(case):
    text = case["text"]
    start = text.index(case["incident"])
    got = places.resolve_place(text, start, start + len(case["incident"]))
    for key, want in case["want"].items():
        if key in ("latitude", "longitude") and want is not None:
            assert got[key] is not None and abs(got[key] - want) < 0.1, (key, got)
        else:
            assert got[key] == want, (key, got)


def test_raqqa_by_its_usual_spelling():
    got = places.resolve_place("Jets struck Raqqa.", 0, 18)
    assert got["place"] == "Raqqa" and got["country"] == "Syria"
    assert abs(got["latitude"] - 35.95) < 0.05 and abs(got["longitude"] - 39.01) < 0.05


def test_small_towns_need_a_locative_word():
    # "Over" and "Of" are towns in the gazetteer; as sentence openers they are no places.
    assert not [m for m in places.mentions("Over ten died. Of them, six were children.")]
    assert places.mentions("Fighting was reported near Sangin.")[0].town.cc == "AF"


def test_mentions_carry_their_exact_words():
    text = "Clashes in Kunduz and Kabul killed 12, the ministry in Afghanistan said."
    for m in places.mentions(text):
        assert text[m.start : m.end] == m.text
