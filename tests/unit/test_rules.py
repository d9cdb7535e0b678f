"""The one rules loader: every lexicon loads and is checked; broken files are named."""

from __future__ import annotations

import pytest
import yaml

from casualties import rules


@pytest.mark.parametrize("name", sorted(rules.SHAPES))
def test_every_rules_file_loads_with_its_shape(name):
    data = rules.load(name)
    assert set(data) == set(rules.SHAPES[name])


def test_a_key_written_twice_is_an_error_with_both_lines():
    text = "units:\n  one: 1\nunits:\n  two: 2\n"
    loader = rules._StrictLoader(text)
    loader.name = "numbers.yaml"
    with pytest.raises(rules.RulesError, match=r"numbers.yaml:3: key 'units' also at line 1"):
        loader.get_single_data()
    # safe_load would have kept the second silently
    assert yaml.safe_load(text) == {"units": {"two": 2}}


def test_a_nested_duplicate_key_is_an_error_too():
    loader = rules._StrictLoader("vague:\n  dozens: 12\n  dozens: 13\n")
    loader.name = "x.yaml"
    with pytest.raises(rules.RulesError, match="key 'dozens' also at line 2"):
        loader.get_single_data()


def test_shape_errors_name_the_rule():
    good = rules.load("events")
    with pytest.raises(rules.RulesError, match="unknown rule 'evnt_types'"):
        rules.check_shape("events", {**good, "evnt_types": []}, "events.yaml")
    missing = {k: v for k, v in good.items() if k != "hedges"}
    with pytest.raises(rules.RulesError, match="missing rule 'hedges'"):
        rules.check_shape("events", missing, "events.yaml")
    with pytest.raises(rules.RulesError, match="'hedges' should be a str, found list"):
        rules.check_shape("events", {**good, "hedges": ["a"]}, "events.yaml")
    with pytest.raises(rules.RulesError, match="expected a mapping"):
        rules.check_shape("events", ["a"], "events.yaml")
