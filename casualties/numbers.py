"""Number grammar: words and digits → integers; a quantity phrase → low/best/high/qualifier.

Usage (for casualties.figures):
    for q in find_quantities(text):          # sorted, non-overlapping, text[q.start:q.end] == q.surface
        q.low, q.best, q.high, q.qualifier   # CONVENTIONS reading; high None = no upper bound
        q.kind                               # "number" | "range" | "vague" | "zero" ("no one", "none")
        text[q.end:]                         # look here for the noun/verb ("14 killed", "dozens of people")
    parse_quantity("3,000 to 4,000")  # -> Quantity(low=3000, best=3000, high=4000, qualifier="range")

What is returned: every phrase that could count something (people, but also bombs or vehicles: the
caller decides from the following words), with its qualifier words included in the surface
("at least 14", "between 40 and 60", "30 or more"). What is not returned: years, dates, times,
ages, money, percentages, fractions, durations, units, ordinals and numbers glued into codes.
All words and patterns live in `casualties/lexicon/numbers.yaml`; this module compiles them once.

How it works (and why it is fast): one compiled "core" regex finds number cores (digits, number
words, dozens, vague words) in a lowercased copy of the text, behind a cheap lookahead gate on the
first word. Only for each core hit do we look left (qualifier, exclusion) and right (range, suffix
qualifier, exclusion) with small anchored regexes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

LEXICON_PATH = Path(__file__).parent / "lexicon" / "numbers.yaml"


@dataclass(frozen=True)
class Quantity:
    """A quantity phrase found in text, with its CONVENTIONS reading."""

    start: int  # offsets of the whole phrase, qualifier words included ("at least 14")
    end: int
    surface: str
    low: int
    best: int
    high: int | None
    qualifier: str
    # Added fields (defaults keep the original constructor valid):
    kind: str = "number"  # "number", "range", "vague" (dozens, several, many...) or "zero"
    core_start: int = -1  # offsets of the numeric core without qualifier words ("14" in
    core_end: int = -1  # "at least 14"; "3,000 to 4,000" for a range)


# --------------------------------------------------------------------------------------------
# Lexicon → compiled patterns (once, at import)


def _load() -> dict:
    with LEXICON_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


LEX = _load()

_UNITS: dict[str, int] = LEX["units"]
_TENS: dict[str, int] = LEX["tens"]
_SCALES: dict[str, int] = LEX["scales"]
_WORD_VALUES: dict[str, int] = {**_UNITS, **_TENS, **_SCALES, "a": 1, "an": 1}


def _phrase_re(phrase: str) -> str:
    """A lexicon phrase as a regex: words escaped, spaces → one or more whitespace."""
    return r"\s+".join(re.escape(w) for w in phrase.split())


def _alt(phrases, key=len) -> str:
    """Alternation of phrases, longest first so the regex prefers "tens of thousands" to "tens"."""
    return "|".join(_phrase_re(p) for p in sorted(phrases, key=key, reverse=True))


def _norm(s: str) -> str:
    return " ".join(s.lower().split())


_U = _alt(_UNITS)
_U19 = _alt([w for w, v in _UNITS.items() if v < 10])
_T = _alt(_TENS)
# 1..99 in words: "twenty-three", "forty five", "seventeen".
_S99 = rf"(?:(?:{_T})(?:[-\s]+(?:{_U19})\b)?|(?:{_U}))"
# ..999: "two hundred and fifty", "a hundred".
_H = rf"(?:(?:{_S99}|an?)\s+hundred(?:\s+(?:and\s+)?{_S99})?|{_S99})"
_BIG = "|".join(k for k in _SCALES if _SCALES[k] > 100)
# Full word numbers: "three thousand five hundred", "a thousand", "two million".
_WORDS = rf"(?:(?:{_H}|an?)\s+(?:{_BIG})(?:,?\s+(?:and\s+)?{_H}\b)?|{_H})"

_SCALE_WORDS = "|".join(_SCALES)
_GLUED = _alt(LEX["glued_scales"])
_SPACED = _alt(LEX["spaced_scales"])
# Digits: comma groups "3,000", well-formed space groups "12 000", or plain "3000"; optional
# decimals; optional scale: "3.5 million", "1.2m", "2bn".
_SP = "[ \u00a0\u202f\u2009]"
_DIGITS = (
    r"(?P<dnum>\d{1,3}(?:,\d{3})+(?!\d)"
    rf"|\d{{1,3}}(?:{_SP}\d{{3}})+(?!\d|[.,]\d)"
    r"|\d+)(?P<ddec>\.\d+)?"
    rf"(?P<dscale>\s*(?:{_SCALE_WORDS})\b|\s+(?:{_SPACED})\b|(?:{_GLUED})\b)?"
)
_DOZEN_LEADS = _alt(LEX["dozen_leads"])
_DOZEN = rf"(?P<dozlead>{_DOZEN_LEADS}|{_S99}|\d+)\s+dozen\b(?!s)"
_VM_SCALES = "|".join(LEX["vague_multiplier_scales"])
_VMUL = rf"(?P<vmw>{_alt(LEX['vague_multipliers'])})\s+(?P<vms>{_VM_SCALES})\b(?!s)"
_VAGUE = LEX["vague"]
_PLURAL_VAGUE = [p for p in _VAGUE if p.split()[-1].endswith("s") and p.split()[0] != "a"]
_VLEAD = _alt(LEX["vague_lead_ins"])
_VAG = (
    rf"(?:(?P<vlead>{_VLEAD})\s+(?=(?:{_alt(_PLURAL_VAGUE)})\b))?"
    rf"(?P<vagw>(?<!as\s)(?:{_alt(_VAGUE)}))\b"
)
_ZERO = rf"(?P<zero>{_alt(LEX['zero'])})\b"

# First-word gate: a core can only start with one of these (two words for "a ...", "no ...").
_FIRST: set[str] = set()
for _ph in [
    *_UNITS,
    *_TENS,
    *LEX["dozen_leads"],
    *LEX["vague_multipliers"],
    *_VAGUE,
    *LEX["vague_lead_ins"],
    *LEX["zero"],
    *(f"{a} {s}" for a in ("a", "an") for s in _SCALES),
]:
    _words = _ph.split()
    _FIRST.add(" ".join(_words[:2]) if _words[0] in ("a", "an", "half", "no", "not") else _words[0])
_GATE = rf"(?=\d|(?:{_alt(_FIRST)})\b)"

CORE_RE = re.compile(
    rf"\b{_GATE}(?:(?P<dig>{_DIGITS})|(?P<doz>{_DOZEN})|(?P<vmul>{_VMUL})|(?P<vag>{_VAG})"
    rf"|{_ZERO}|(?P<words>{_WORDS})\b)"
)


def _qual_alternation(table: dict[str, list[str]], anchor_end: bool) -> str:
    parts = []
    for qual, phrases in table.items():
        alts = []
        for p in sorted(phrases, key=len, reverse=True):
            body = _phrase_re(p) if p.strip() == p else re.escape(p).replace(r"\ ", r"\s+")
            if anchor_end:
                body += r"\s*" if not p[-1].isalnum() else r"\s+"
            alts.append(body)
        parts.append(f"(?P<{qual}>{'|'.join(alts)})")
    return "|".join(parts)


# Qualifier words before the core, matched against the text just before it.
QUAL_BEFORE_RE = re.compile(
    rf"(?<![\w.])(?:{_qual_alternation(LEX['qualifiers_before'], True)})$", re.I
)
# Qualifier words right after the core ("or so", "+").
QUAL_AFTER_RE = re.compile(
    rf"(?:\s*(?:{_qual_alternation(LEX['qualifiers_after'], False)}))(?!\w)", re.I
)
_SEPS = "|".join(
    re.escape(s) if not s.isalpha() else rf"\s{s}\s" for s in LEX["range_separators"]
)
RANGE_SEP_RE = re.compile(rf"\s*(?:{_SEPS})\s*", re.I)
BETWEEN_AND_RE = re.compile(rf"\s+{LEX['between_joiner']}\s+", re.I)
NO_RANGE_BEFORE_RE = re.compile(LEX["no_range_before"], re.I)
EXCLUDE_AFTER_RE = re.compile("|".join(f"(?:{p})" for p in LEX["exclude_after"].values()), re.I)
EXCLUDE_BEFORE_RE = re.compile(
    "|".join(f"(?:{p})" for p in LEX["exclude_before"].values()), re.I
)
YEAR_MIN, YEAR_MAX = LEX["year"]["min"], LEX["year"]["max"]
YEAR_BEFORE_RE = re.compile(LEX["year"]["before"], re.I)
YEAR_AFTER_RE = re.compile(LEX["year"]["after"], re.I)

_GLUED_SCALE_VALUES = {k.lower(): v for k, v in LEX["glued_scales"].items()}
_SPACED_SCALE_VALUES = {k.lower(): v for k, v in LEX["spaced_scales"].items()}
_VAGUE_VALUES = {_norm(k): v for k, v in _VAGUE.items()}
_VMUL_VALUES = {_norm(k): v for k, v in LEX["vague_multipliers"].items()}
_VMUL_SCALES = LEX["vague_multiplier_scales"]
_DOZEN_LEAD_VALUES = {_norm(k): v for k, v in LEX["dozen_leads"].items()}
_DOZEN_QUALIFIER = LEX["dozen_qualifier"]


# --------------------------------------------------------------------------------------------
# Reading one core


@dataclass
class _Core:
    start: int
    end: int
    low: int
    best: int
    high: int | None
    qualifier: str  # the core's own reading: exact, approximately (dozens) or vague/unspecified
    kind: str  # number / vague / zero
    scale: int | None = None  # a trailing scale word ("4 million"), for "3 to 4 million"
    plain: bool = False  # plain digits, no separators/decimals/scale (year candidates)
    fractional: bool = False  # "2.5" with no scale word: not a count


def words_to_int(words: str) -> int:
    """Value of a number written in words: "two hundred and fifty" → 250, "a dozen" is not here."""
    total = current = 0
    for w in re.findall(r"[a-z]+", words.lower()):
        if w == "and":
            continue
        v = _WORD_VALUES[w]
        if w == "hundred":
            current = (current or 1) * 100
        elif v >= 1000:
            total += (current or 1) * v
            current = 0
        else:
            current += v
    return total + current


def _digits_value(dnum: str, ddec: str | None, dscale: str | None) -> tuple[int, int | None]:
    """Value of "3,000" / "12 000" / "3.5" + scale ("million", "m", "bn")."""
    digits = re.sub(r"\D", "", dnum)
    scale = None
    if dscale:
        s = dscale.strip().lower()
        scale = _SCALES.get(s) or _SPACED_SCALE_VALUES.get(s) or _GLUED_SCALE_VALUES[s]
    if ddec:
        value = float(digits + ddec) * (scale or 1)
        return int(round(value)), scale
    return int(digits) * (scale or 1), scale


def _read_core(m: re.Match) -> _Core:
    s, e = m.span()
    if m.group("dig") is not None:
        dnum, ddec, dscale = m.group("dnum"), m.group("ddec"), m.group("dscale")
        v, scale = _digits_value(dnum, ddec, dscale)
        return _Core(
            s,
            e,
            v,
            v,
            v,
            "exact",
            "number",
            scale=scale,
            plain=dnum.isdigit() and not ddec and not dscale,
            fractional=bool(ddec) and not dscale,
        )
    if m.group("doz") is not None:
        lead = _norm(m.group("dozlead"))
        if lead in _DOZEN_LEAD_VALUES:
            v = _DOZEN_LEAD_VALUES[lead]
        else:
            v = 12 * (int(lead) if lead.isdigit() else words_to_int(lead))
        return _Core(s, e, v, v, v, _DOZEN_QUALIFIER, "number")
    if m.group("vmul") is not None:
        r = _VMUL_VALUES[_norm(m.group("vmw"))]
        sc = _VMUL_SCALES[m.group("vms").lower()]
        high = None if r["high"] is None else r["high"] * sc + (sc - 1 if sc >= 100 else 0)
        return _Core(s, e, r["low"] * sc, r["best"] * sc, high, r["qualifier"], "vague")
    if m.group("vag") is not None:
        r = _VAGUE_VALUES[_norm(m.group("vagw"))]
        return _Core(s, e, r["low"], r["best"], r["high"], r["qualifier"], "vague")
    if m.group("zero") is not None:
        return _Core(s, e, 0, 0, 0, "exact", "zero")
    words = m.group("words")
    v = words_to_int(words)
    last = words.split()[-1].lower()
    return _Core(s, e, v, v, v, "exact", "number", scale=_SCALES.get(last) if v > 100 else None)


# --------------------------------------------------------------------------------------------
# Qualifier arithmetic (CONVENTIONS table)


def _apply_qualifier(q: str, low: int, best: int, high: int | None, own: str, is_range: bool):
    """Combine a qualifier word with a core reading; returns (low, best, high, qualifier)."""
    if q in ("at_least", "more_than"):
        return low, low if is_range else best, None, q
    if q == "up_to":
        top = high if high is not None else best
        return min(1, top), top, top, q
    if q == "fewer_than":
        n = max((high if is_range and high is not None else low) - 1, 0)
        return min(1, n), n, n, q
    # approximately / nearly: keep the stated figure(s)
    if is_range:
        return low, best, high, "range"
    if own in ("vague", "unspecified"):
        return low, best, high, own
    return low, best, high, q


# --------------------------------------------------------------------------------------------
# Finding phrases


def _is_year(text: str, phrase_start: int, end: int, cores: list[_Core]) -> bool:
    """Plain 4-digit numbers in the year window, in a year context ("in 2014", "2014.")."""
    if not all(
        c.plain and YEAR_MIN <= c.best <= YEAR_MAX and c.end - c.start == 4 for c in cores
    ):
        return False
    return bool(
        YEAR_BEFORE_RE.search(text, max(0, phrase_start - 30), phrase_start)
        or YEAR_AFTER_RE.match(text, end)
    )


def _excluded_core(text: str, c: _Core) -> bool:
    """Not a count by itself: "2.5", "3rd", "F-16", "$5", "aged 28", "March 3", "No. 10"."""
    if c.fractional:
        return True
    if c.end < len(text) and (text[c.end].isalnum() or text[c.end] == "_"):
        return True  # "3rd", "10x", "30s"
    return bool(EXCLUDE_BEFORE_RE.search(text, max(0, c.start - 40), c.start))


def _scan(text: str, low_text: str, pos: int) -> tuple[Quantity | None, int] | None:
    """Find the next core from `pos`; return (quantity or None if excluded, resume position)."""
    m = CORE_RE.search(low_text, pos)
    if m is None:
        return None
    c1 = _read_core(m)
    cores = [c1]
    end = c1.end

    # Qualifier before the core.
    qm = QUAL_BEFORE_RE.search(text, max(0, c1.start - 40), c1.start)
    qual = qm.lastgroup if qm else None
    qstart = qm.start() if qm else c1.start
    if c1.kind == "zero":
        qual, qstart = None, c1.start

    # Suffix qualifier ("30 or more", "20 or so", "100+") or a range ("10-12", "between 40 and 60").
    suffix = None
    if c1.kind == "number":
        am = QUAL_AFTER_RE.match(text, end)
        if am:
            suffix, end = am.lastgroup, am.end()
        else:
            joiner = BETWEEN_AND_RE if qual == "between" else RANGE_SEP_RE
            jm = joiner.match(text, end)
            if jm and not NO_RANGE_BEFORE_RE.search(text, max(0, qstart - 30), qstart):
                m2 = CORE_RE.match(low_text, jm.end())
                if m2:
                    c2 = _read_core(m2)
                    if c1.scale is None and c2.scale and c1.kind == c2.kind == "number":
                        # "3 to 4 million", "two to three hundred": the scale covers both ends.
                        if c1.best * c2.scale <= c2.best:
                            c1.low = c1.best = c1.high = c1.best * c2.scale
                            c1.plain = False
                    if (
                        c2.kind == "number"
                        and c2.best > c1.best
                        and c1.qualifier == c2.qualifier == "exact"
                        and not _excluded_core(text, c2)
                    ):
                        cores.append(c2)
                        end = c2.end
                        am = QUAL_AFTER_RE.match(text, end)
                        if am:
                            suffix, end = am.lastgroup, am.end()
    if qual == "between" and len(cores) == 1:
        qual, qstart = None, c1.start
    if qual == "between":
        qual = None

    # Exclusions: then skip the whole phrase, so "aged 18 to 25" does not leave "25" behind.
    if (
        _excluded_core(text, c1)
        or EXCLUDE_AFTER_RE.match(text, end)
        or _is_year(text, qstart if qual is None else c1.start, end, cores)
        and qual in (None, "approximately")
    ):
        return None, end

    is_range = len(cores) == 2
    if is_range:
        low, best, high, own = c1.best, c1.best, cores[1].best, "range"
    else:
        low, best, high, own = c1.low, c1.best, c1.high, c1.qualifier
    q = qual or suffix
    if q:
        low, best, high, qualifier = _apply_qualifier(q, low, best, high, own, is_range)
    else:
        qualifier = own
    kind = "range" if is_range else c1.kind
    return (
        Quantity(
            qstart,
            end,
            text[qstart:end],
            low,
            best,
            high,
            qualifier,
            kind,
            c1.start,
            cores[-1].end,
        ),
        end,
    )


def find_quantities(text: str) -> list[Quantity]:
    """Every quantity phrase in `text` that could count people, in order, not overlapping.

    Each result's `surface` is `text[start:end]` and includes its qualifier words.
    """
    low_text = text.lower()
    if len(low_text) != len(text):  # rare Unicode case changes length ("İ"): keep offsets exact
        low_text = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    out: list[Quantity] = []
    pos = 0
    while True:
        found = _scan(text, low_text, pos)
        if found is None:
            break
        q, nxt = found
        pos = max(nxt, pos + 1)
        if q is None:
            continue
        # A qualifier may reach back over an earlier hit ("as many as 50" over "many"): the later,
        # qualified reading wins when the earlier one lies inside its qualifier words.
        while out and out[-1].end > q.start:
            if out[-1].end <= q.core_start:
                out.pop()
            else:
                q = Quantity(
                    q.core_start,
                    q.end,
                    text[q.core_start : q.end],
                    *_unqualified(q),
                    q.kind,
                    q.core_start,
                    q.core_end,
                )
                break
        if out and out[-1].end > q.start:
            continue
        out.append(q)
    return out


def _unqualified(q: Quantity) -> tuple[int, int, int | None, str]:
    """Re-read a quantity without its leading qualifier words (rare overlap case)."""
    found = find_quantities(q.surface[q.core_start - q.start :]) if q.core_start > q.start else []
    if found and found[0].start == 0:
        f = found[0]
        return f.low, f.best, f.high, f.qualifier
    return q.low, q.best, q.high, q.qualifier


@lru_cache(maxsize=4096)
def parse_quantity(phrase: str) -> Quantity | None:
    """Read a whole phrase such as "3,000 to 4,000" or "dozens"; None if it is no quantity.

    Returns the first quantity phrase found in `phrase` (offsets relative to `phrase`).
    """
    found = find_quantities(phrase)
    return found[0] if found else None
