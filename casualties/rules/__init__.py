"""The extraction rules as data: one loader for the YAML files of this folder.

Every lexicon (`numbers`, `categories`, `context`, `events`, `articles`, `places`) is read
through `load`, which rejects what `yaml.safe_load` would let pass silently: a key written twice
in one mapping (safe_load keeps the last), a missing or misspelt top-level key, or a value of
the wrong kind. The error names the file, the line and what to change.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

import yaml

# The top-level keys of each file and the kind of value each holds. A new rule needs its key
# here too: a misspelt key would otherwise be read as "no rule" without a word.
_STR, _LIST, _DICT, _INT = str, list, dict, int
SHAPES: dict[str, dict[str, type]] = {
    "numbers": {
        **dict.fromkeys(["units", "tens", "scales", "glued_scales", "spaced_scales"], _DICT),
        **dict.fromkeys(["dozen_leads", "fraction_leads", "vague", "vague_multipliers"], _DICT),
        **dict.fromkeys(
            ["vague_multiplier_scales", "qualifiers_before", "qualifiers_after"], _DICT
        ),
        **dict.fromkeys(["exclude_after_words", "exclude_after", "exclude_after_phrases"], _DICT),
        **dict.fromkeys(["exclude_before", "exclude_before_capitalised", "year"], _DICT),
        **dict.fromkeys(["fraction_scales", "vague_lead_ins", "zero", "range_separators"], _LIST),
        **dict.fromkeys(["inverted_range_separators", "thousands_separators"], _LIST),
        "months": _LIST,
        **dict.fromkeys(["dozen_qualifier", "fraction_qualifier", "between_joiner"], _STR),
        **dict.fromkeys(
            [
                "no_range_before",
                "date_after",
                "age_between_commas",
                "age_after_name",
                "age_list",
                "name_before_age",
                "all_but",
            ],
            _STR,
        ),
    },
    "categories": {
        **dict.fromkeys(["object", "object_then", "after", "toll"], _DICT),
        **dict.fromkeys(["toll_link", "toll_rise", "raise_toll", "after_aux", "after_stop"], _STR),
        **dict.fromkeys(
            [
                "np_participles",
                "object_filler",
                "list_join",
                "coordinated_join",
                "own_noun_cues",
                "not_name_start",
                "item_from",
                "each_of",
                "intent",
            ],
            _STR,
        ),
        "negation": _STR,
        **dict.fromkeys(["after_aux_np", "noun_object_context", "noun_cues", "of_whom_link"], _STR),
        "casualties_besides_dead": _STR,
        "age_apposition": _STR,
        "toll_hints": _LIST,
        "age_word": _STR,
    },
    "context": {
        **dict.fromkeys(["victim_types", "victim_share", "zero"], _DICT),
        **dict.fromkeys(["aggregate_hints", "cumulative_hints"], _LIST),
        **dict.fromkeys(
            [
                "person_singular",
                "person_pair",
                "pronoun_one",
                "pronoun_self",
                "demonym",
                "not_people",
                "fighters",
                "attack_by_militants",
                "killed_by_forces",
                "self_killing",
                "self_injury",
                "self_accident",
                "hedges",
                "attribution_according",
                "attribution_verbs",
                "party_claim",
                "parties",
                "aggregate",
                "cumulative",
                "subset",
                "competing_account",
                "new_incident",
                "coder_note",
                "forces_subject",
                "suicide_after",
                "earlier_report",
                "ordinal_victim",
                "unspecified_people",
                "unspecified_noun_before",
                "unspecified_nominal",
                "same_toll_between",
                "first_participle",
                "family_count",
                "not_name_died",
                "died_definite_context",
                "died_fighting_forces",
            ],
            _STR,
        ),
    },  # fmt: skip
    "events": {
        **dict.fromkeys(["event_types", "actors"], _LIST),
        **dict.fromkeys(["weapons", "targets", "perpetrator_cues", "merge"], _DICT),
        **dict.fromkeys(["attack_on_armed", "target_cues", "hedges"], _STR),
    },
    "articles": {
        **dict.fromkeys(["background", "ordinals"], _DICT),
        **dict.fromkeys(["year", "dated_year", "new_story", "not_more", "ordinal_victim"], _STR),
        **dict.fromkeys(["remention_before", "killed_by_police_after", "shot_rules"], _STR),
        **dict.fromkeys(["vague_also", "died_among_named", "died_among_pronoun"], _STR),
        "running_toll": _STR,
        "round_words": _STR,
        "refine_share": float,
        "place_named": _STR,
        "first_part": _STR,
        "all_but_attackers": _STR,
        "event_rules": _STR,
        "weekday_only": _STR,
        "opening_day": _STR,
        "series": _STR,
        "lede_recall": _STR,
        "statement_lede": _STR,
        "more_window": _LIST,
        "force_sizes": _LIST,
        "vague_also_window": _LIST,
        "recent_stories": _INT,
        "earlier_days": _INT,
        "follow_up_days": _INT,
        "generic_case": _STR,
        "foretold": _STR,
    },
    "places": {
        **dict.fromkeys(["country_aliases", "demonyms", "spot_words"], _DICT),
        **dict.fromkeys(["not_places", "locative_words", "place_lead_words"], _LIST),
        **dict.fromkeys(["admin_words", "country_needs_locative"], _LIST),
        **dict.fromkeys(["min_population_bare", "min_population_sentence_start"], _INT),
        "min_population_bare_other_name": _INT,
    },
}


class RulesError(ValueError):
    """A rules file that cannot be used as it is (the message says where and why)."""


class _StrictLoader(yaml.SafeLoader):
    """safe_load, except that a mapping with a key twice is an error instead of last-wins."""

    def construct_mapping(self, node, deep: bool = False) -> dict:
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise RulesError(
                    f"{self.name}:{key_node.start_mark.line + 1}: key {key!r} also at line "
                    f"{seen[key]}; keep one of them"
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _file(name: str):
    return resources.files(__name__).joinpath(f"{name}.yaml")


def digest(name: str) -> str:
    """SHA-256 of the rules file `name` (for caches built from it)."""
    return hashlib.sha256(_file(name).read_bytes()).hexdigest()


@cache
def load(name: str) -> dict:
    """The rules of `casualties/rules/<name>.yaml`, checked against `SHAPES[name]`.

    Cached: callers share one parsed copy and must not change it.
    """
    path = f"casualties/rules/{name}.yaml"
    loader = _StrictLoader(_file(name).read_text("utf-8"))
    loader.name = path
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return check_shape(name, data, path)


def check_shape(name: str, data: object, where: str) -> dict:
    """`data` if it has the top-level keys and value kinds of `SHAPES[name]`, else RulesError."""
    shape = SHAPES[name]
    if not isinstance(data, dict):
        raise RulesError(f"{where}: expected a mapping of rule names, found {type(data).__name__}")
    unknown = sorted(set(data) - set(shape))
    if unknown:
        raise RulesError(
            f"{where}: unknown rule {', '.join(map(repr, unknown))}; a new rule needs its "
            "key in casualties.rules.SHAPES"
        )
    missing = sorted(set(shape) - set(data))
    if missing:
        raise RulesError(f"{where}: missing rule {', '.join(map(repr, missing))}")
    for key, kind in shape.items():
        if not isinstance(data[key], kind):
            raise RulesError(
                f"{where}: {key!r} should be a {kind.__name__}, found {type(data[key]).__name__}"
            )
    return data
