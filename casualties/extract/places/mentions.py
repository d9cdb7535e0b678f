"""Place mentions in a text: towns, countries, US states, admin areas, spots and the dateline.

Finding places in a text is a scan over its capitalised words trying the longest n-gram first
(dict lookups only, see `names`), plus the patterns of `spots` for spots inside a town, admin
areas and capitals, and the dateline ("Damascus, Syria." / "KABUL -"). The scan visits only
the capitalised tokens and reads the words around one where a rule needs them.

Small towns need a locative word before them ("in", "near"), and words that stand in the text in
lower case too are not places unless so introduced.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from dataclasses import dataclass
from functools import lru_cache

from casualties import rules
from casualties.extract.places.demonyms import demonym_counts
from casualties.extract.places.gazetteer import (
    Town,
    choose_town,
    gazetteer,
    name_keys,
    norm,
    not_places,
)
from casualties.extract.places.names import (
    ARTICLES,
    POSSESSIVE,
    hit_kind,
    is_cap,
    scan_rules,
    single_word,
    token_info,
)
from casualties.extract.places.spots import (
    CAPITAL,
    CAPITALISED_BEFORE,
    OF_AFTER,
    TOWNISH,
    Stretches,
    spot_patterns,
)

MAX_NGRAM = 4
_TOKEN_REST = r"[\w'’]*(?:[-‐][\w'’]+)*\.?"  # (what follows a token's first letter)
_TOKEN = re.compile(r"[^\W\d_]" + _TOKEN_REST)
_CONNECTORS = {"de", "del", "la", "al", "el", "e", "of", "the", "and", "da", "do", "dos", "y"}


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
        if text[max(0, p - 2) : p] in ARTICLES or text[max(0, p - 3) : p] in ARTICLES:
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


_GROUP = re.Match.group
_FOLLOWING = itertools.repeat("following")  # (the group's name, for map)


class _Scanner:
    """Finds place mentions in one text. Only the capitalised tokens are visited; the tokens
    around one are read where a rule needs them."""

    def __init__(self, text: str, hints: frozenset[str] = frozenset()):
        self.text = text
        self.hints = hints
        self.g = gazetteer()
        rules = scan_rules()
        self.locative = rules.locative
        self.locative_tuple = tuple(rules.locative)
        self.lead = rules.lead
        self.not_places = not_places()
        self.min_bare = rules.min_bare
        self.min_start = rules.min_start
        self.min_bare_alt = rules.min_bare_alt
        first = _LETTER.search(text)  # the first token starts at the first letter
        self._first_token = first.start() if first else -1
        self._lower_case: dict[str, bool] = {}  # word (lower-cased) -> _in_lower_case

    def _in_lower_case(self, word: str) -> bool:
        """`word` lower-cased stands in the text as a word of its own ("police", "over").

        Kept per word: the answer searches the whole text, and a long article asks it again
        for every mention of the same name (cost grew with length times mentions)."""
        low = word.lower()
        known = self._lower_case.get(low)
        if known is None:
            known = self._lower_case[low] = self._find_lower_case(low)
        return known

    def _find_lower_case(self, low: str) -> bool:
        text = self.text
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
        end of the name's last token, and its hit_kind. Single tokens that name no place
        alone (_no_place_alone) are left out."""
        text = self.text
        raw: list[tuple[int, int, str, str, int, tuple]] = []
        resume = 0  # tokens of the last name are not tried again
        found = list((_CAP_TOKEN_ASCII if _plain_capitals(text) else _CAP_TOKEN).finditer(text))
        # Each token's look-ups in C (map over cached functions); Python visits only the
        # tokens a name may start at.
        infos = list(map(token_info, map(_GROUP, found), map(_GROUP, found, _FOLLOWING)))
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
                    if not is_cap(chain[n - 2][1]) or not all(
                        is_cap(w) or w.lower() in _CONNECTORS for _, w in chain[: n - 2]
                    ):
                        continue
                    last_end = chain[n - 2][0]
                    gram, gram_key = single_word(text[start:last_end])
                    if gram_key is not None:
                        kind = hit_kind(gram, gram_key)
                        hit = (start, start + len(gram), gram, gram_key, last_end, kind)
                        break
            if hit is None and key is not None:
                assert kind is not None  # token_info reads a kind with every key
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
        context |= set(demonym_counts(text)) | set(self.hints)
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
        population among them from hit_kind, which has refused acronyms and common words).
        Each rule below is a test that can only refuse (or, for a locative word or a ", Syria"
        after it, spare the name the tests for bare names); the cheap ones go first, and the
        word before the name is read only for a name still in the running."""
        text = self.text
        if (
            e == last_end  # (else a dot or "'s" stands between the name and the next word)
            and largest < self.min_bare_alt
            and text[e : e + 1] == " "
            and (nxt := _TOKEN.match(text, e + 1)) is not None
            and is_cap(nxt.group())
        ):
            # The start of a longer name ("Human Rights", "Puli Alam district"); a large
            # city stays a place in "Kabul University" or "St Petersburg Metro".
            return None
        cc = state = None
        if text[e : e + 1] == ",":  # (what a ", Syria" needs first)
            cc, state = self._following_constraint(e)
        town = choose_town(candidates, cc, state, context)
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
            if is_cap(pw) and pw not in self.lead and not self._sentence_start(ps):
                return None  # inside a longer name: "Mujab Gohelle", "President X"
            locative = pw.lower() in self.locative
        return town if bare_ok or locative else None

    def _bare_name_ok(self, s: int, phrase: str, key: str, town: Town) -> bool:
        """A name standing bare is a place if the town is large enough (larger at the start of
        a sentence, or under another of its names) and the word is not also in the text in
        lower case ("police", "over")."""
        primary = key in name_keys(town.name)
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
        return (
            text[max(0, j - scan_rules().longest_locative) : j]
            .lower()
            .endswith(self.locative_tuple)
        )

    def _spots_and_admins(self, mentions: list[Mention], context: set[str]) -> list[Mention]:
        lex = rules.load("places")
        sp = spot_patterns()
        text = self.text
        stretches = Stretches(text, sp.anchor_words)
        extra: list[Mention] = []
        townish = TOWNISH
        # (each pattern needs one of its words: a text without any is not scanned)
        admin_pats = ((sp.admin_after, CAPITALISED_BEFORE), (sp.admin_before, OF_AFTER))
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
        for m in stretches.finditer(sp.before, sp.before_words, OF_AFTER):
            word, name = m.group(1).lower(), m.group(2)
            extra.append(self._spot(m.start(), m.end(), m.group(0), name, word in townish, context))
        for m in stretches.finditer(sp.after, sp.after_words, CAPITALISED_BEFORE):
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

    def _capitals(self, stretches: Stretches) -> list[Mention]:
        """ "the Afghan capital", "Iraq's capital": the capital town of that country."""
        found: list[Mention] = []
        if "capital" not in self.text:
            return found  # CAPITAL needs the word
        dem = rules.load("places")["demonyms"]
        for m in stretches.finditer(CAPITAL, ("capital",), CAPITALISED_BEFORE):
            word = m.group(1)
            cc = dem.get(word) or self.g.countries.get(norm(POSSESSIVE.sub("", word)))
            capital = self.g.capitals.get(cc) if cc else None
            if not capital:
                continue
            town = choose_town(self.g.town_candidates(norm(capital)), cc, None, set())
            if town is not None:
                found.append(
                    Mention(m.start(), m.end(), m.group(0), "town", cc=cc, town=town, name=capital)
                )
        return found

    def _spot(self, s, e, phrase, name, townish, context) -> Mention:
        owner, owner_towns, country, towns = _spot_name(name)
        if owner is not None:  # "Quetta's Zarghoon Road": a spot in Quetta
            town = choose_town(owner_towns, None, None, context)
            if town is not None and (town.cc in context or not context):
                return Mention(s, e, phrase, "town", cc=town.cc, town=town, name=owner, nearby=True)
        if country is not None:
            return Mention(s, e, phrase, "country", cc=country)
        town = choose_town(towns, None, None, context)
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
    key = norm(POSSESSIVE.sub("", name))
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
                town = choose_town(g.town_candidates(k1), "US" if state2 else cc2, state2, set())
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
