"""Where an incident happened: the place of an incident's words among the article's mentions
(`resolve_place`), in the resolution order of CONVENTIONS."""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from casualties import rules
from casualties.extract.places.demonyms import demonym_country
from casualties.extract.places.gazetteer import choose_town, gazetteer, norm, not_places
from casualties.extract.places.mentions import Mention, mentions
from casualties.extract.places.names import POSSESSIVE


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
        row["place"] = POSSESSIVE.sub("", spelled)
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
        cc = demonym_country(text)
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
    town = choose_town(g.town_candidates(norm(row["admin1"])), cc, None, set())
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
    if key in g.countries or key in g.states or key in not_places():
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
            row["place"] = POSSESSIVE.sub("", spots_in[0].text)
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
    cc = demonym_country(text)
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
