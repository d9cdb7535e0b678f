"""When, where, what and who of an incident, from its sentences and, failing that, the article.

`describe_incident` is called once per incident by `casualties.extract.article`. Dates come from
`casualties.extract.dates`, places from `casualties.extract.places`; the event type, weapon,
target and perpetrator come from the rules of `rules/events.yaml` applied here. Each rule answers as
its regex searched on the incident's own text would (`text[start:end]`, edges included), but
the article is scanned once for where the rules may match (`fastscan.StartIndex`), so a
search tries only those places instead of the whole slice.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from casualties.extract import dates, places
from casualties.extract.model import Figure, Incident
from casualties.rules import load as load_rules
from casualties.text.scan import StartIndex, Stretch, TextStarts
from casualties.text.sentences import split_sentences


@dataclass(frozen=True)
class _Rules:
    """`rules/events.yaml` compiled once."""

    event_types: tuple[tuple[str, re.Pattern], ...]
    weapons: re.Pattern
    weapon_names: tuple[str, ...]
    targets: re.Pattern
    target_names: tuple[str, ...]
    target_cued: re.Pattern
    actors: re.Pattern
    actor_info: tuple[dict, ...]
    cue_before: re.Pattern
    cue_after: re.Pattern
    hedges: re.Pattern
    agent_noun: re.Pattern
    attack_on_armed: re.Pattern
    starts: StartIndex  # every pattern below that is searched in stretches of an article
    ids: dict[str, int]  # pattern -> its place in `starts`


def _alternation(named: dict[str, str], flags=re.I) -> tuple[re.Pattern, tuple[str, ...]]:
    """One regex with a named group per entry (g0, g1, ...), so one scan finds all of them."""
    names = tuple(named)
    body = "|".join(f"(?P<g{i}>{named[n]})" for i, n in enumerate(names))
    return re.compile(rf"\b(?:{body})", flags), names


@lru_cache(maxsize=1)
def rules() -> _Rules:
    """Compile the lexicon once per process."""
    lex = load_rules("events")
    types = tuple(
        (e["type"], re.compile(r"\b(?:" + "|".join(e["patterns"]) + ")", re.I))
        for e in lex["event_types"]
    )
    weapons, weapon_names = _alternation(lex["weapons"])
    targets, target_names = _alternation(lex["targets"])
    target_cued = re.compile(
        rf"\b{lex['target_cues']}\s+(?:(?:an?|the|their|his|her|its|two|three|several)\s+)?"
        rf"(?:[\w-]+\s+){{0,2}}?(?:{'|'.join(lex['targets'].values())})",
        re.I,
    )
    actor_list = tuple(lex["actors"])
    # One alternation, tried only at word starts (the leading \b makes the scan fast).
    named = "|".join(f"(?P<a{i}>{a['pattern']})" for i, a in enumerate(actor_list))
    actors = re.compile(rf"\b(?:{named})")
    cues = lex["perpetrator_cues"]
    attack_on_armed = re.compile(lex["attack_on_armed"], re.I)
    scanned = {f"type:{name}": pattern for name, pattern in types}
    scanned.update(
        weapons=weapons,
        targets=targets,
        target_cued=target_cued,
        actors=actors,
        attack_on_armed=attack_on_armed,
    )
    return _Rules(
        types,
        weapons,
        weapon_names,
        targets,
        target_names,
        target_cued,
        actors,
        actor_list,
        re.compile(cues["before"], re.I),
        re.compile(cues["after"], re.I),
        re.compile(lex["hedges"], re.I),
        re.compile(rf"(?:{cues['agent_nouns']})$", re.I),
        attack_on_armed,
        StartIndex(list(scanned.values())),
        {key: i for i, key in enumerate(scanned)},
    )


@lru_cache(maxsize=16)
def _starts(text: str) -> TextStarts:
    """Where the rules may match in the article (cached: several incidents share one)."""
    return rules().starts.index(text)


def _stretch(text: str, start: int, end: int) -> Stretch:
    """`text[start:end]` as a stretch of the article (on its own when the bounds are not
    plain offsets into the text, so the slice is what the rules see either way)."""
    if 0 <= start <= end <= len(text):
        return _starts(text).stretch(start, end)
    return _alone(text[start:end])


def _alone(span: str) -> Stretch:
    """`span` on its own, as a stretch of itself."""
    return rules().starts.index(span).stretch(0, len(span))


_NOTHING = Stretch(None, 0, "", 0, 0, 0, 0)  # no wider span: every rule finds nothing in ""


def event_type(span: str) -> str | None:
    """The first event type (in the lexicon's order of specificity) whose words `span` has;
    an attack on armed people is an armed clash (ACLED)."""
    return _event_type(_alone(span))


def _event_type(where: Stretch) -> str | None:
    if not where.span:
        return None
    ids, present = rules().ids, where.present
    for i, (name, _pattern) in enumerate(rules().event_types):
        if present >> i & 1 and where.search(i):
            if name == "attack" and where.search(ids["attack_on_armed"]):
                return "armed_clash"
            return name
    return None


def _first_named(where: Stretch, key: str, names: tuple[str, ...]) -> str | None:
    m = where.search(rules().ids[key]) if where.span else None
    if m is None:
        return None
    assert m.lastgroup is not None  # every alternative is a named group
    return names[int(m.lastgroup[1:])]


def weapon(span: str) -> str | None:
    """The first weapon or means `span` names, as the lexicon names it."""
    return _weapon(_alone(span))


def _weapon(where: Stretch) -> str | None:
    return _first_named(where, "weapons", rules().weapon_names)


def target(span: str) -> str | None:
    """What was hit: a lexicon target after a targeting word ("jets targeted an internet
    cafe"), else the first target named."""
    return _target(_alone(span))


def _target(where: Stretch) -> str | None:
    r = rules()
    targets = r.ids["targets"]
    # A targeting phrase ends in a target word, so no target word: nothing to find at all.
    if not where.span or not where.present >> targets & 1:
        return None
    cued = where.search(r.ids["target_cued"])
    if cued is not None:
        m = where.search(targets, cued.start(), cued.end())
        # The target is the last lexicon word inside the cued phrase ("at the bus stop").
        last = None
        while m is not None:
            last = m
            m = where.search(targets, m.end(), cued.end())
        if last is not None:
            assert last.lastgroup is not None  # every alternative is a named group
            return r.target_names[int(last.lastgroup[1:])]
    return _first_named(where, "targets", r.target_names)


def perpetrator(span: str) -> tuple[str | None, bool, dict | None]:
    """Who did it, whether the words hedge it, and the actor's lexicon entry.

    An actor counts when a cue marks it as the doer: "by the Taliban", "jets believed to
    belong to the US-led coalition", "Taliban militants attacked", "Taliban-planted bomb";
    actors marked `agent` (unidentified gunmen) always count. The first such actor wins.
    """
    return _perpetrator(_alone(span))


_CLAUSE_BREAK = re.compile(r"[.;:!?]|,\s(?:and|but|while)\s")


def _perpetrator(where: Stretch) -> tuple[str | None, bool, dict | None]:
    r = rules()
    span = where.span
    for m in where.finditer(r.ids["actors"]):
        info = r.actor_info[int(m.lastgroup[1:])]
        before = span[max(0, m.start() - 60) : m.start()]
        after = span[m.end() : m.end() + 120]
        # Any one of these makes the actor the doer (the cheapest tests first).
        agent = (
            info.get("agent")
            or r.agent_noun.search(m.group(0)) is not None  # "American raids", "US airstrike"
            or r.cue_after.match(after) is not None
            or r.cue_before.search(before) is not None
        )
        if not agent:
            continue
        # Hedges in the words just before the actor (from the start of its clause): "jets
        # believed to belong to", "suspected Taliban", "allegedly by".
        clause = _CLAUSE_BREAK.split(before)[-1]
        window = clause[-60:] + span[m.end() : m.end() + 40].split(".")[0]
        hedged = bool(r.hedges.search(window))
        return info["name"], hedged, info
    return None, False, None


@lru_cache(maxsize=16)
def _actor_countries(text: str) -> frozenset[str]:
    """Countries of the armed groups the article names ("Taliban" → AF): a hint for places."""
    r = rules()
    found = set()
    for m in _stretch(text, 0, len(text)).finditer(r.ids["actors"]):
        found.update(r.actor_info[int(m.lastgroup[1:])].get("countries", ()))
    return frozenset(found)


def _at_midnight_utc(d) -> datetime | None:
    return None if d is None else datetime(d.year, d.month, d.day, tzinfo=UTC)


@lru_cache(maxsize=16)
def _article_dates(
    text: str, published
) -> tuple[tuple[dates.DateMention, ...], tuple[int, ...], tuple[int, ...]]:
    """All date phrases of the article, with their starts and ends (cached: several incidents
    share one article). The phrases do not overlap and come in order of position, so starts
    and ends are both sorted: an incident looks its dates up by bisection instead of scanning
    every date of a long text."""
    mentions = tuple(dates.find_dates(text, published))
    return mentions, tuple(m.start for m in mentions), tuple(m.end for m in mentions)


_USABLE = ("day", "week", "month")


def _date(text: str, start: int, end: int, published) -> dates.DateMention | None:
    """The incident's date: the most precise phrase in its sentences; else the closest
    phrase before it in the article (day, week or month precision: a bare year before the
    incident is background, "seized in 2014"); else the first such phrase after it."""
    mentions, starts, ends = _article_dates(text, published)
    lo = bisect.bisect_left(starts, start)
    hi = bisect.bisect_right(ends, end)
    inside = [m for m in mentions[lo:hi] if start <= m.start and m.end <= end]
    if inside:
        return dates.best_date(inside)
    for i in range(bisect.bisect_right(ends, start) - 1, -1, -1):  # the last before it
        if mentions[i].precision in _USABLE:
            return mentions[i]
    for i in range(bisect.bisect_left(starts, end), len(mentions)):  # the first after it
        if mentions[i].precision in _USABLE:
            return mentions[i]
    return None


def _sentence_before(text: str, start: int) -> str:
    """The sentence before `start` in the same paragraph (for an event type not in the
    incident's own words: "Taliban militants attacked a post. Three soldiers died.")."""
    at, end = _sentence_before_at(text, start)
    return text[at:end]


def _sentence_before_at(text: str, start: int) -> tuple[int, int]:
    """Where `_sentence_before` is in `text` (start, end): the last sentence of the stripped
    end of the paragraph's head (sentences as `casualties.text.sentences` splits them, so an
    abbreviation such as "Gen." does not end one here either)."""
    lo = max(0, start - 400)
    block = text[lo:start]
    head = block.split("\n\n")[-1]
    base = lo + len(block) - len(head)  # the head is the end of the block
    head = head.rstrip()
    end = base + len(head)
    spans = split_sentences(head)
    return (base + spans[-1][0] if spans else end), end


def describe_incident(
    text: str, incident: Incident, figures: list[Figure], published: datetime | None
) -> dict:
    """Attributes of `incident`: date, date_precision, date_text, place, place_text, country,
    admin1, latitude, longitude, geo_precision, event_type, weapon, target, perpetrator,
    perpetrator_hedged, is_cumulative. Unknown ones are None (date_precision "unknown")."""
    own = [figures[i] for i in incident.figure_indices if 0 <= i < len(figures)]
    start, end = _core(incident, own)
    # (the lengths of text[start:end] and of the incident's slice, without copying them)
    positions = range(len(text))
    more = len(positions[incident.start : incident.end]) > len(positions[start:end])
    out: dict = {}

    if published is not None and getattr(published, "tzinfo", None) is not None:
        published = published.astimezone(UTC)
    dm = _date(text, start, end, published)
    out["date"] = _at_midnight_utc(dm.date) if dm else None
    out["date_precision"] = dm.precision if dm else "unknown"
    out["date_text"] = dm.text if dm else None

    out.update(places.resolve_place(text, start, end, _actor_countries(text)))

    # The casualty sentences first, then the rest of the incident (when it has more).
    own_words = _stretch(text, start, end)
    wider = _stretch(text, incident.start, incident.end) if more else _NOTHING
    out["event_type"] = (
        _event_type(own_words)
        or _event_type(wider)
        or _event_type(_stretch(text, *_sentence_before_at(text, start)))
    )
    out["weapon"] = _weapon(own_words) or _weapon(wider)
    out["target"] = _target(own_words) or _target(wider)
    who, hedged, info = _perpetrator(own_words)
    if who is None and wider.span:
        who, hedged, info = _perpetrator(wider)
    out["perpetrator"] = who
    out["perpetrator_hedged"] = hedged if who else None
    if out["country"] is None and info and len(info.get("countries", ())) == 1:
        # No place named at all: the country the actor fights in ("Taliban" → Afghanistan).
        out["country"] = places.gazetteer().country_names.get(info["countries"][0])
        if out["geo_precision"] == "unknown":
            out["geo_precision"] = "country"

    out["is_cumulative"] = any(f.is_cumulative for f in own)
    return out


def _core(incident: Incident, own: list[Figure]) -> tuple[int, int]:
    """The sentences of the incident's casualty figures (its words about people hurt), which
    say more about what happened than a sentence about force sizes grouped with them; the
    whole incident span when its figures are not known."""
    spans = [
        (f.sentence_start, f.sentence_start + len(f.sentence))
        for f in own
        if f.category != "combatants" and f.sentence
    ]
    spans = [(s, e) for s, e in spans if incident.start <= s and e <= incident.end] or spans
    if not spans:
        return incident.start, incident.end
    return min(s for s, _ in spans), max(e for _, e in spans)
