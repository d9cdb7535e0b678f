"""What a capitalised token (or a few) may name: its gazetteer key, its kind, and whether a
longer name may start with it. Cached look-ups, each by the words alone: the same capitalised
words come back in every article. The scanner of `mentions` asks these for each token.

Common words that are also town names ("Of", "Police", "Mobile") are kept out by the rules of
`rules/places.yaml` (`scan_rules`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from casualties import rules
from casualties.extract.places.gazetteer import gazetteer, norm, not_places

POSSESSIVE = re.compile(r"['’]s$")
_CAP_PREFIX = re.compile(r"^(?:al|el|ad|ar|as|an|ash|az|at)-[A-Z]")


@lru_cache(maxsize=1)
def _multiword_firsts() -> frozenset[str]:
    """First words of the gazetteer's names of two or more words, and the Arabic articles
    (an n-gram "al Raqqa" is also looked up without its article): an n-gram of two or more
    tokens can name a place only when its first word is one of these."""
    g = gazetteer()
    firsts = {"al", "el", "ad", "ar", "as", "an", "ash", "az", "at"}
    for index in (g.towns, g.countries, g.states):
        firsts.update(k.split(" ", 1)[0] for k in index if " " in k)
    return frozenset(firsts)


@lru_cache(maxsize=65536)
def _known_key(phrase: str) -> str | None:
    """The key of `phrase` when the gazetteer knows it (a country, US state or town), else
    None. Cached: the same capitalised words come back in every article."""
    g = gazetteer()
    key = norm(phrase)
    if key in g.countries or key in g.states or g.town_candidates(key):
        return key
    return None


@lru_cache(maxsize=65536)
def single_word(word: str) -> tuple[str, str | None]:
    """A token read as a place name on its own: its phrase (no trailing dot or "'s") and
    the phrase's gazetteer key, None when unknown."""
    phrase = POSSESSIVE.sub("", word.rstrip("."))
    return phrase, _known_key(phrase)


@lru_cache(maxsize=65536)
def _may_start_multiword(word: str) -> bool:
    """False only when no gazetteer name of two or more words can start with token `word`
    (most capitalised words: "The", "Monday"): its n-grams need no look-up."""
    if not word.isascii():
        return True  # (diacritics and odd letters: not worth proving)
    # For an ASCII token its normalised first word is the key's first word, whatever
    # follows it (norm works letter by letter, and a hyphen inside it splits it).
    return norm(word).split(" ", 1)[0] in _multiword_firsts()


ARTICLES = frozenset({"al", "el", "ad", "ar", "as", "an", "ash", "az", "at"})


@lru_cache(maxsize=1)
def _two_word_starts() -> frozenset[str]:
    """The first two words of the gazetteer's names of two or more words."""
    g = gazetteer()
    return frozenset(
        " ".join(k.split(" ", 2)[:2])
        for index in (g.towns, g.countries, g.states)
        for k in index
        if " " in k
    )


@lru_cache(maxsize=65536)
def _may_continue(word: str, following: str) -> bool:
    """False only when no gazetteer name can start with token `word` and the token
    `following` one space after it ("The Taliban", "On Monday"): no n-gram starting so needs
    a look-up. As in _may_start_multiword, an ASCII n-gram's key is the normalised tokens
    joined by spaces, the last one without a trailing dot or "'s"."""
    if not (word.isascii() and following.isascii()):
        return True  # (not worth proving)
    first = norm(word)
    if first.split(" ", 1)[0] in ARTICLES:
        return True  # "al Raqqa city" is also looked up as "Raqqa city"
    starts = _two_word_starts()
    if " " in first:  # "Al-Qaim" -> "al qaim": its own two words
        return " ".join(first.split(" ", 2)[:2]) in starts
    # `following` inside the name, or last in it
    for second in (following, POSSESSIVE.sub("", following.rstrip("."))):
        if f"{first} {norm(second).split(' ', 1)[0]}" in starts:
            return True
    return False


def is_cap(word: str) -> bool:
    # _CAP_PREFIX needs its hyphen third or fourth: test that before running the regex
    return word[:1].isupper() or (
        (word[2:3] == "-" or word[3:4] == "-") and bool(_CAP_PREFIX.match(word))
    )


@dataclass(frozen=True)
class _Rules:
    """The scanner's lexicon words and thresholds, read once."""

    locative: frozenset[str]
    lead: frozenset[str]
    adjectival: frozenset[str]
    min_bare: int
    min_start: int
    min_bare_alt: int
    longest_locative: int


@lru_cache(maxsize=1)
def scan_rules() -> _Rules:
    lex = rules.load("places")
    return _Rules(
        frozenset(lex["locative_words"]) | frozenset(lex["spot_words"]["before"]),
        frozenset(lex["place_lead_words"]),
        frozenset(lex["country_needs_locative"]),
        lex["min_population_bare"],
        lex["min_population_sentence_start"],
        lex["min_population_bare_other_name"],
        max(map(len, [*lex["locative_words"], *lex["spot_words"]["before"]])),
    )


@lru_cache(maxsize=65536)
def _word_info(word: str) -> tuple[bool, str, str | None] | None:
    """A capitalised token: whether a longer name may start with it, and its phrase and key
    read alone (see _may_start_multiword and single_word); None when neither may name a
    place (most words)."""
    phrase, key = single_word(word)
    multi = _may_start_multiword(word)
    return (multi, phrase, key) if multi or key is not None else None


@lru_cache(maxsize=131072)
def token_info(
    word: str, following: str | None
) -> tuple[bool, str, str | None, tuple | None] | None:
    """A capitalised token and the token one space after it (None if none): whether a
    longer name may start with the two, and the token's phrase, key and hit_kind read
    alone (key None when the token alone can name no place: see _no_place_alone); None
    when no name can start at the token (most of them: "The Taliban", "Monday")."""
    if word[0] > "Z" and not is_cap(word):
        return None  # a lower-case letter outside ASCII
    info = _word_info(word)
    if info is None:
        return None
    multi, phrase, key = info
    longer = multi and following is not None and _may_continue(word, following)
    kind = None
    if key is not None:
        kind = hit_kind(phrase, key)
        if _no_place_alone(word, phrase, kind, following):
            key = None
    return (longer, phrase, key, kind) if longer or key is not None else None


def _no_place_alone(word: str, phrase: str, kind: tuple, following: str | None) -> bool:
    """The token read alone names no place wherever it stands, by the rules of scan and
    _accept_town that read only the token and the next one: a name that is never a town
    (an acronym, a common word), or a small town's name (and the whole token) with a
    capitalised token one space on ("On Monday", "Liberation Front")."""
    cc, _, _, town = kind
    if cc is not None:
        return False
    if town is None:
        return True
    return (
        town[1] < scan_rules().min_bare_alt
        and phrase == word
        and following is not None
        and is_cap(following)
    )


@lru_cache(maxsize=65536)
def hit_kind(phrase: str, key: str) -> tuple:
    """What a known name found by the scan may be, by its words alone: (cc, admin1,
    adjectival, town). A country gives its code (admin1 None), a US state "US" and the
    state's name (not "New York", more often the city); `adjectival`: a country word that
    is mostly an adjective ("US airstrike") and needs a locative word. Any other name gives
    cc None and, in `town`, its candidate towns and their largest population; None when it
    is never a town (an acronym: "ISIS", "UN"; a common word of the lexicon)."""
    g = gazetteer()
    adjectival = phrase in scan_rules().adjectival
    if key in g.countries and not (phrase.isupper() and len(phrase) <= 3 and phrase != "US"):
        return g.countries[key], None, adjectival, None
    if key in g.states and not _state_city(key):
        return "US", g.state_names[g.states[key]], adjectival, None
    if key in g.countries or (phrase.isupper() and len(phrase) <= 4) or key in not_places():
        return None, None, adjectival, None
    candidates = g.town_candidates(key)
    largest = max((t.population for t in candidates), default=0)
    return None, None, adjectival, (candidates, largest)


def _state_city(key: str) -> bool:
    """ "New York", "Washington": in news the large city more often than the state."""
    return any(
        t.cc == "US" and t.population >= 500_000 for t in gazetteer().town_candidates(key)[:3]
    )
