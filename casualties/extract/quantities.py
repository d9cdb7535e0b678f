"""Number grammar: words and digits → integers; a quantity phrase → low/best/high/qualifier.

Usage (for casualties.extract.figures):
    for q in find_quantities(text):  # sorted, non-overlapping; text[q.start:q.end] == q.surface
        q.low, q.best, q.high, q.qualifier  # CONVENTIONS reading; high None = no upper bound
        q.kind  # "number" | "range" | "vague" (dozens, several) | "zero" ("no one", "none")
        text[q.end:]  # the noun/verb that says what is counted ("14 killed", " of people")
    parse_quantity("3,000 to 4,000")  # Quantity(low=3000, best=3000, high=4000, "range")

What is returned: every phrase that could count something (people, but also bombs or vehicles: the
caller decides from the following words), with its qualifier words included in the surface
("at least 14", "between 40 and 60", "30 or more"). What is not returned: years, dates, times,
ages, money, percentages, fractions, durations, units, ordinals and numbers glued into codes.
All words and patterns live in `casualties/rules/numbers.yaml`; this module compiles them once.

How it works (and why it is fast): one compiled "core" regex finds number cores (digits, number
words, dozens, vague words) in " " + text.lower(), behind a trie-shaped lookahead on the first
word. For each core, the word before and the word after are checked against small sets of trigger
words; only when one is a trigger (a qualifier, a month, a unit...) do the anchored BEFORE_RE /
AFTER_RE regexes run. Most numbers ("killed 14 people") take the fast path in find_quantities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from casualties import rules
from casualties.text.tries import trie_regex


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


_new_object = object.__new__
_set_attribute = object.__setattr__


def _quantity(start, end, surface, low, best, high, qualifier, kind, core_start, core_end):
    """Quantity(...) built directly: the frozen dataclass `__init__` sets every field through
    `object.__setattr__` (4x slower), and find_quantities builds one per number of the text."""
    q = _new_object(Quantity)
    _set_attribute(
        q,
        "__dict__",
        {
            "start": start,
            "end": end,
            "surface": surface,
            "low": low,
            "best": best,
            "high": high,
            "qualifier": qualifier,
            "kind": kind,
            "core_start": core_start,
            "core_end": core_end,
        },
    )
    return q


# --------------------------------------------------------------------------------------------
# Lexicon → compiled patterns (once, at import)


LEX = rules.load("numbers")

_UNITS: dict[str, int] = LEX["units"]
_TENS: dict[str, int] = LEX["tens"]
_SCALES: dict[str, int] = LEX["scales"]
_WORD_VALUES: dict[str, int] = {**_UNITS, **_TENS, **_SCALES, "a": 1, "an": 1}


def _phrase_re(phrase: str) -> str:
    """A lexicon phrase as a regex: words escaped, spaces → one or more whitespace."""
    return r"\s+".join(re.escape(w) for w in phrase.split())


def _alt(phrases) -> str:
    """Alternation of lexicon phrases as a trie regex: fast to reject, and longest match first
    ("tens of thousands" before "tens"); spaces match any whitespace."""
    return trie_regex({" ".join(p.lower().split()) for p in phrases})


def _norm(s: str) -> str:
    return " ".join(s.lower().split())


_U = _alt(_UNITS)
_U19 = _alt([w for w, v in _UNITS.items() if v < 10])
_T = _alt(_TENS)
# 1..99 in words: "twenty-three", "forty five", "seventeen".
_S99 = rf"(?:(?:{_T})(?:[-\s]+(?:{_U19})\b)?|(?:{_U}))"
# ..999: "two hundred and fifty", "a hundred".
_H = rf"(?:(?:{_S99}|an?)[-\s]+hundred(?:\s+(?:and\s+)?{_S99})?|{_S99})"
_BIG = "|".join(k for k in _SCALES if _SCALES[k] > 100)
# Full word numbers: "three thousand five hundred", "a thousand", "two million".
_WORDS = rf"(?:(?:{_H}|an?)[-\s]+(?:{_BIG})(?:,?\s+(?:and\s+)?{_H}\b)?|{_H})"

_SCALE_WORDS = "|".join(_SCALES)
_GLUED = _alt(LEX["glued_scales"])
_SPACED = _alt(LEX["spaced_scales"])
# Digits: comma groups "3,000", well-formed space groups "12 000", or plain "3000"; optional
# decimals; optional scale: "3.5 million", "1.2m", "2bn".
_SP = "[ \u00a0\u202f\u2009]"
_THOUSANDS = "[" + "".join(re.escape(c) for c in LEX["thousands_separators"]) + "]"
_DIGITS = (
    rf"(?P<dnum>\d{{1,3}}(?:{_THOUSANDS}\d{{3}})+(?!\d)"
    rf"|\d{{1,3}}(?:{_SP}\d{{3}})+(?!\d|[.,]\d)"
    r"|\d+)(?P<ddec>\.\d+)?"
    rf"(?P<dscale>\s*(?:{_SCALE_WORDS})\b|\s+(?:{_SPACED})\b|(?:{_GLUED})\b)?"
)
_DOZEN_LEADS = _alt(LEX["dozen_leads"])
_DOZEN = rf"(?P<dozlead>{_DOZEN_LEADS}|{_S99}|\d+)\s+dozen\b(?!s)"
_FRAC = (
    rf"(?P<fraclead>{_alt(LEX['fraction_leads'])})\s+(?P<fracscale>"
    rf"{'|'.join(LEX['fraction_scales'])})\b(?!s)"
)
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
    *(f"{lead} dozen" for lead in LEX["dozen_leads"]),
    *LEX["fraction_leads"],
    *LEX["vague_multipliers"],
    *_VAGUE,
    *LEX["vague_lead_ins"],
    *LEX["zero"],
    *(f"{a} {s}" for a in ("a", "an") for s in _SCALES),
]:
    _words = _ph.split()
    _FIRST.add(" ".join(_words[:2]) if _words[0] in ("a", "an", "half", "no", "not") else _words[0])
_GATE = rf"(?=\d|{_alt(_FIRST | set(LEX['months']))}\b)"

# Full dates with a year ("19 March 2020", "March 19, 2020", "March 2020") are matched as one
# token and skipped, so the day and the year never reach the slower context checks.
_MONTHS = _alt(LEX["months"])
_DATE = (
    rf"(?P<date>\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+\d{{4}}"
    rf"|(?:{_MONTHS})\.?\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?\d{{4}})(?!\w|[.,/:]\d)"
)

# The core regex runs on " " + text.lower(): a core must follow one non-word character (so numbers
# glued into words, "AFG44758", are never read), but not a hyphen after a letter ("F-16") or
# . / : after a digit ("3.4.2020"). Starting with a character class lets the engine skip fast.
CORE_RE = re.compile(
    rf"[^a-z0-9_]{_GATE}(?<![a-z]-)(?<!\d[./:])"
    rf"(?:{_DATE}|(?P<doz>{_DOZEN})|(?P<dig>{_DIGITS})|(?P<frac>{_FRAC})|(?P<vmul>{_VMUL})|(?P<vag>{_VAG})"
    rf"|{_ZERO}|(?P<words>{_WORDS})\b)"
)


def _months(pattern: str) -> str:
    return pattern.replace("{MONTHS}", _MONTHS)


def _qual_alternation(table: dict[str, list[str]], prefix: str, anchor_end: bool) -> str:
    parts = []
    for qual, phrases in table.items():
        alts = []
        for p in sorted(phrases, key=len, reverse=True):
            body = _phrase_re(p) if p.strip() == p else re.escape(p).replace(r"\ ", r"\s+")
            if anchor_end:
                body += r"\s*" if not p[-1].isalnum() else r"\s+"
            alts.append(body)
        parts.append(f"(?P<{prefix}{qual}>{'|'.join(alts)})")
    return "|".join(parts)


# Qualifier phrases before a core, looked up by their normalised text ("At  least" -> at_least).
_QUAL_OF = {_norm(p): q for q, ps in LEX["qualifiers_before"].items() for p in ps}
_XB = LEX["exclude_before"]
_XBC = LEX["exclude_before_capitalised"]


def _words_alt(words) -> str:
    return _alt([w for w in words if w[-1].isalnum()]) or "(?!)"


def _dotted_alt(words) -> str:
    """Words that end in punctuation ("rs.", "no.") need no word boundary after them."""
    return _alt([w for w in words if not w[-1].isalnum() and len(w) > 1]) or "(?!)"


_SIGN_CHARS = "".join(_XB["money_signs"] + [w for w in _XB["number_signs"] if len(w) == 1])
_SIGNS = re.escape(_SIGN_CHARS)
# Everything that matters just BEFORE a core, in one search over a short window of the lowercased
# text: qualifier words (group q, a trie so most windows fail fast) and exclusions (x_<name>;
# cx_<name> counts only when capitalised in the original text). Every alternative starts after a
# space, bracket, quote, slash or sign and runs up to the number.
BEFORE_RE = re.compile(
    rf"[\s(\[\"'“‘—/{_SIGNS}](?:(?P<q>{_alt(_QUAL_OF)})(?:(?<=\.)\s*|\s+)"
    rf"|(?P<x_sign>(?<=[{_SIGNS}])\s?)"
    rf"|(?P<x_code>(?:{_words_alt(_XB['money_codes'] + _XB['number_signs'])})\s?"
    rf"|(?:{_words_alt(_XB['phone_words'])})\s+"
    rf"|(?:{_dotted_alt(_XB['money_codes'] + _XB['number_signs'])})\s?)"
    rf"|(?P<x_age>(?:{_words_alt(_XB['age_words'])})\s+(?:(?:{_words_alt(_XB['age_links'])})\s+)?"
    rf"|(?:{_words_alt(_XB['age_groups'])})\s+(?:{_words_alt(_XB['age_bounds'])})\s+)"
    rf"|(?P<x_family>(?:{_words_alt(_XB['family_words'])})\s+(?:{_words_alt(_XB['family_link'])})\s+)"
    rf"|(?P<cx_date>(?:{_MONTHS})\.?\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?)"
    rf"|(?P<cx_label>(?:{_words_alt(_XBC['labels'])})\.?\s*)"
    ")$"
)
# BEFORE_RE can only match when the word before the core (or the last two words) is one that
# ends one of its phrases; for any other word the search is skipped (most numbers).
_BEFORE_SINGLE = frozenset(
    [p for p in _QUAL_OF if " " not in p]
    + [
        w
        for k in ("money_codes", "age_words", "age_bounds", "phone_words", "number_signs")
        for w in _XB[k]
    ]
    + list(LEX["months"])
    + _XBC["labels"]
)
_BEFORE_PAIRS = frozenset(
    [tuple(p.split()[-2:]) for p in _QUAL_OF if " " in p]
    + [(w, link) for w in _XB["age_words"] for link in _XB["age_links"]]
    + [(g, b) for g in _XB["age_groups"] for b in _XB["age_bounds"]]
    + [(w, link) for w in _XB["family_words"] for link in _XB["family_link"]]
)
_DAY_RE = re.compile(r"\d{1,2}(?:st|nd|rd|th)?")
# What may stand right before a qualifier word for BEFORE_RE (its first character class): the
# gates strip these to find the word itself ("$at least 5" is "at least" after a money sign).
_OPENERS = "([{\"'“‘—/" + _SIGN_CHARS
_CLOSERS = ".,;:!?)]}\"'”’"


# The second words of _BEFORE_PAIRS: after any other plain word only _BEFORE_SINGLE matters.
_PAIR_LASTS = frozenset(last for _, last in _BEFORE_PAIRS)


def _before_needed(plow: str, start: int) -> bool:
    """Cheap test: can BEFORE_RE match before the core at `start`? (See _BEFORE_SINGLE.)"""
    k = start - 1
    if plow[k] == " ":
        # Most numbers follow a plain word and one space ("killed 14"): that word found with
        # str methods in C, the same last word as the window split below finds.
        j = plow.rfind(" ", k - 40 if k > 40 else 0, k)
        last = plow[j + 1 : k]
        if j >= 0 and last.isalpha():
            if last in _BEFORE_SINGLE:
                return True
            if last not in _PAIR_LASTS:
                return False
    elif not plow[k].isspace():
        return True  # "$5", "(about 5", "#5"...
    words = plow[max(0, k - 40) : k].rsplit(None, 2)  # only the last two words matter
    if not words:
        return True
    last = words[-1]
    if not last.isalpha():
        word = last.rstrip(_CLOSERS)
        if last[-1] == "." and word.isalpha():  # "approx.", "No.", "Mar." or a sentence end
            return word in _BEFORE_SINGLE or last in _BEFORE_SINGLE
        if last[-1] in ",;:)" and word.isalnum():  # only "March 3, 2020" ends in a comma
            return _DAY_RE.fullmatch(word) is not None
        return True
    if last in _BEFORE_SINGLE:
        return True
    return len(words) > 1 and (words[-2].lstrip(_OPENERS), last) in _BEFORE_PAIRS


_SEPS = "|".join(re.escape(s) if not s.isalpha() else rf"\s{s}\s" for s in LEX["range_separators"])
_XAW = LEX["exclude_after_words"]
# Everything that matters just AFTER a core, in one anchored match: exclusions first, then suffix
# qualifiers ("or more" must win over the range separator "or"), then a range separator.
AFTER_RE = re.compile(
    "(?:"
    + "|".join(rf"(?P<xw_{k}>(?:\s+of)?[\s-]+(?:{_alt(v)})s?\b)" for k, v in _XAW.items())
    + "".join(f"|(?P<x_{k}>{v})" for k, v in LEX["exclude_after"].items())
    + "".join(rf"|(?P<xp_{k}>\s+(?:{_alt(v)})\b)" for k, v in LEX["exclude_after_phrases"].items())
    + f"|(?P<x_date>{_months(LEX['date_after'])})"
    + r"|\s*(?:"
    + _qual_alternation(LEX["qualifiers_after"], "s_", False)
    + rf")(?!\w)|(?P<sep>\s*(?:{_SEPS})\s*))"
)
# The word after a core must be one of these (or not a plain word) for AFTER_RE to find anything.
# Words of exclude_after_words may also carry a plural "s"; the others are taken as written.
_AFTER_WORDS = frozenset(w for ws in _XAW.values() for w in ws)
_AFTER_TRIGGERS = frozenset(
    re.findall(r"[a-z]+", " ".join(LEX["exclude_after"].values()))
    + list(LEX["months"])
    + [p.split()[0] for ps in LEX["exclude_after_phrases"].values() for p in ps]
    + [w for ps in LEX["qualifiers_after"].values() for p in ps for w in re.findall("[a-z]+", p)]
    + [s for s in LEX["range_separators"] if s.isalpha()]
    + ["of", LEX["between_joiner"]]
)


# Every next word that needs AFTER_RE: the triggers, the words and their plurals.
_AFTER_ANY = _AFTER_TRIGGERS | _AFTER_WORDS | frozenset(w + "s" for w in _AFTER_WORDS)
_STRIP_AFTER = _OPENERS + _CLOSERS


def _after_needed(plow: str, end: int) -> bool:
    """Cheap test: can AFTER_RE match at `end`? Only if the next word is a trigger word."""
    if plow[end : end + 1] == " ":
        # The common case, one space and a plain word ("14 people were"), with str methods in C:
        # the same word as the window split below finds.
        j = plow.find(" ", end + 1, end + 24)
        w = plow[end + 1 : j]
        if j > 0 and w.isalpha():
            return w in _AFTER_ANY
    elif not plow[end : end + 1].isspace():
        return True
    words = plow[end + 1 : end + 24].split(None, 1)
    if not words:
        return True
    w = words[0].strip(_STRIP_AFTER)
    return not w.isalpha() or w in _AFTER_ANY


# Single number words read without the grammar ("two", "seventeen"; "twenty" alone too).
_SIMPLE_WORDS = {**_UNITS, **_TENS}
# Characters after a number that no AFTER_RE pattern can start with.
_FAST_END = frozenset(",;)!?\"'”’]")


BETWEEN_AND_RE = re.compile(rf"\s+{LEX['between_joiner']}\s+")
_INVERTED_SEPS = frozenset(LEX["inverted_range_separators"])
# A sign glued to the number ("-3", "−5"), after a space, bracket or the start: a signed value.
_SIGNED_RE = re.compile(rf"(?:^|[^\w.,])[{''.join(re.escape(c) for c in _XB['signed'])}]$")
# The exponent of "10^6", "10**6", "1e+6": letter marks count only after a digit ("1e+6").
_EXPONENT_RE = re.compile(
    "(?:"
    + "|".join((r"(?<=\d)" if m[0].isalpha() else "") + re.escape(m) for m in _XB["exponent_marks"])
    + r")\s*$"
)
# Zero digits of the scripts whose digits are read ("0", Arabic-Indic, Persian).
_ZERO_DIGITS = frozenset("0\u0660\u06f0")
NO_RANGE_BEFORE_RE = re.compile(LEX["no_range_before"], re.I)
YEAR_MIN, YEAR_MAX = LEX["year"]["min"], LEX["year"]["max"]
_YEAR_BEFORE = frozenset(LEX["year"]["before_words"])
_YEAR_AFTER = frozenset(LEX["year"]["after_words"])
_MONTH_SET = frozenset(LEX["months"])

_GLUED_SCALE_VALUES = {k.lower(): v for k, v in LEX["glued_scales"].items()}
_SPACED_SCALE_VALUES = {k.lower(): v for k, v in LEX["spaced_scales"].items()}
_VAGUE_VALUES = {_norm(k): v for k, v in _VAGUE.items()}
_VMUL_VALUES = {_norm(k): v for k, v in LEX["vague_multipliers"].items()}
_VMUL_SCALES = LEX["vague_multiplier_scales"]
_DOZEN_LEAD_VALUES = {_norm(k): v for k, v in LEX["dozen_leads"].items()}
_DOZEN_QUALIFIER = LEX["dozen_qualifier"]
_FRACTION_LEADS = {_norm(k): v for k, v in LEX["fraction_leads"].items()}


# --------------------------------------------------------------------------------------------
# Reading one core


@dataclass(slots=True)
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
    rejected: bool = False  # not a count whatever the context: "2.5" (no scale word), "0800"


def words_to_int(words: str) -> int:
    """Value of a number written in words: "two hundred and fifty" → 250, "a thousand" → 1000."""
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
        return int(round(float(digits + ddec) * (scale or 1))), scale
    return int(digits) * (scale or 1), scale


def _read_core(m: re.Match) -> _Core:
    s, e = m.start() + 1, m.end()  # + 1: the match starts with the non-word character before
    kind = m.lastgroup
    if kind == "dig":
        dnum, ddec, dscale = m.group("dnum", "ddec", "dscale")
        if not ddec and not dscale and dnum.isdigit():  # the common case: "14", "2014"
            v = int(dnum)
            # "0800", "007": a leading zero makes a time or a code, not a count
            zero_led = dnum[0] in _ZERO_DIGITS and len(dnum) > 1
            return _Core(s, e, v, v, v, "exact", "number", plain=True, rejected=zero_led)
        v, scale = _digits_value(dnum, ddec, dscale)
        frac = bool(ddec) and not dscale
        return _Core(s, e, v, v, v, "exact", "number", scale=scale, rejected=frac)
    if kind == "doz":
        lead = _norm(m.group("dozlead"))
        if lead in _DOZEN_LEAD_VALUES:
            v = _DOZEN_LEAD_VALUES[lead]
        else:
            v = 12 * (int(lead) if lead.isdigit() else words_to_int(lead))
        return _Core(s, e, v, v, v, _DOZEN_QUALIFIER, "number")
    if kind == "frac":
        v = int(_FRACTION_LEADS[_norm(m.group("fraclead"))] * _SCALES[m.group("fracscale")])
        return _Core(s, e, v, v, v, LEX["fraction_qualifier"], "number")
    if kind == "vmul":
        r = _VMUL_VALUES[_norm(m.group("vmw"))]
        sc = _VMUL_SCALES[m.group("vms")]
        high = None if r["high"] is None else r["high"] * sc + (sc - 1 if sc >= 100 else 0)
        return _Core(s, e, r["low"] * sc, r["best"] * sc, high, r["qualifier"], "vague")
    if kind == "vag":
        r = _VAGUE_VALUES[_norm(m.group("vagw"))]
        return _Core(s, e, r["low"], r["best"], r["high"], r["qualifier"], "vague")
    if kind == "zero":
        return _Core(s, e, 0, 0, 0, "exact", "zero")
    words = m.group("words")
    v = words_to_int(words)
    last = words.rsplit(None, 1)[-1]
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


def _is_year(ptext: str, plow: str, phrase_start: int, end: int, cores: list[_Core]) -> bool:
    """Plain 4-digit numbers in the year window, in a year context ("in 2014", "2014.")."""
    for c in cores:
        if not (c.plain and YEAR_MIN <= c.best <= YEAR_MAX and c.end - c.start == 4):
            return False
    k = phrase_start - 1  # the character before the phrase
    if plow[k] == "-":
        return True
    if plow[k].isspace():
        i = k
        while i > 0 and plow[i - 1].isspace():
            i -= 1
        j = i
        while j > 0 and not plow[j - 1].isspace():
            j -= 1
        prev = plow[j:i]
        word = prev.rstrip(",.")
        if prev in _YEAR_BEFORE or word in _YEAR_BEFORE:
            return True
        if word in _MONTH_SET and ptext[j].isupper():
            return True
        if word.isdigit() and len(word) <= 2:  # "March 3, 2020", "3 March 2020" is the month rule
            return True
    nc = plow[end : end + 1]
    if nc == "" or not (nc.isspace() or nc.isalnum()):
        return True
    i = end
    while i < len(plow) and plow[i].isspace():
        i += 1
    if i == len(plow) or ptext[i].isupper():
        return True
    j = i
    while j < len(plow) and plow[j].isalpha():
        j += 1
    return plow[i:j] in _YEAR_AFTER


def _date_after(ptext: str, c: _Core, a: re.Match) -> re.Match | None:
    """Keep a date match after `c` ("19 March") only for a day number and a capitalised month."""
    month_at = a.end() - len(a.group().split()[-1])
    if c.plain and c.best <= 31 and ptext[month_at].isupper():
        return a
    return None


_RANGE_JOIN_RE = re.compile(rf"\s*(?:{_SEPS})\s*")


def _range_end(plow: str, end: int, with_and: bool) -> int:
    """End of a range that continues the core ending at `end` ("aged 5 to 12" skips the "12");
    `with_and` also joins "N and M" ("aged between 18 and 25", "age 15 and 16")."""
    j = _RANGE_JOIN_RE.match(plow, end)
    if j is None and with_and:
        j = BETWEEN_AND_RE.match(plow, end)
    if j is not None:
        m2 = CORE_RE.match(plow, j.end() - 1)
        if m2 is not None and m2.lastgroup in ("dig", "words", "date"):
            return m2.end()
    return end


# Complexity allowed: the hot loop of number reading: inlined for speed, profiled.
def _group(m: re.Match) -> str:
    """The name of the alternative `m` matched (every alternative of BEFORE_RE and AFTER_RE is
    a named group)."""
    assert m.lastgroup is not None
    return m.lastgroup


def _scan(  # noqa: C901
    ptext: str, plow: str, m: re.Match, before: bool | None = None, after: bool | None = None
) -> tuple[Quantity | None, int]:
    """Read the phrase around core match `m` (padded offsets): (quantity or None, its end).

    `before` / `after`: what _before_needed / _after_needed said at the core, if already asked."""
    c1 = _read_core(m)
    end = c1.end
    nxt = plow[end : end + 1]
    if c1.rejected or nxt.isalnum() or nxt == "_":  # "2.5", "3rd", "5km", "30s"
        return None, end
    if m.lastgroup == "dig":
        window = plow[max(0, c1.start - 4) : c1.start]
        if _SIGNED_RE.search(window) or _EXPONENT_RE.search(window):  # "-3", "10^6"
            return None, end

    # Before the core: qualifier words or an exclusion ("$", "aged", "Route", "March").
    qual = None
    qstart = c1.start
    k = c1.start - 1
    if before is None and c1.kind != "zero":
        before = _before_needed(plow, c1.start)
    if before:
        b = BEFORE_RE.search(plow, max(0, k - 31), c1.start)
        if b is not None:
            g = _group(b)
            if g == "q":
                qual, qstart = _QUAL_OF[_norm(b.group("q"))], b.start() + 1
            elif g[0] == "x" or ptext[b.start() + 1].isupper():
                # "aged 5 to 12", "age 15 and 16", "the ages of 22 and 24": skip the second end too
                return None, _range_end(plow, end, g == "x_age")

    # After the core: exclusion, suffix qualifier ("30 or more", "100+") or a range.
    cores = [c1]
    suffix = None
    if c1.kind == "number":
        a = BETWEEN_AND_RE.match(plow, end) if qual == "between" else None
        sep = a is not None
        if a is None:  # ("between 40-60" falls through to the usual separators)
            if after is None:
                after = _after_needed(plow, end)
            a = AFTER_RE.match(plow, end) if after else None
            if a is not None and a.lastgroup == "x_date":
                a = _date_after(ptext, c1, a)
            sep = a is not None and a.lastgroup == "sep"
        if a is not None and not sep:
            if _group(a)[0] == "x":
                return None, end
            suffix, end = _group(a)[2:], a.end()
        elif sep and not NO_RANGE_BEFORE_RE.search(ptext, max(0, qstart - 30), qstart):
            assert a is not None  # sep: a separator was matched
            m2 = CORE_RE.match(plow, a.end() - 1)
            if m2 is not None and m2.lastgroup == "date":  # "10 to 12 March 2020"
                return None, m2.end()
            if m2 is not None:
                c2 = _read_core(m2)
                # "3 to 4 million", "two to three hundred": the scale covers both ends.
                if (
                    c1.scale is None
                    and c2.scale
                    and c2.kind == "number"
                    and c1.best * c2.scale < c2.best
                ):
                    c1.low = c1.best = c1.high = c1.best * c2.scale
                    c1.plain = False
                inverted = qual == "between" or a.group().strip() in _INVERTED_SEPS
                if (
                    c2.kind == "number"
                    and (c2.best > c1.best or (inverted and c2.best < c1.best))
                    and c1.qualifier == c2.qualifier == "exact"
                    and not c2.rejected
                    and not plow[c2.end : c2.end + 1].isalnum()
                ):
                    cores.append(c2)
                    end = c2.end
                    a = AFTER_RE.match(plow, end) if _after_needed(plow, end) else None
                    if a is not None and a.lastgroup == "x_date":
                        a = _date_after(ptext, c2, a)
                    if a is not None and a.lastgroup != "sep":
                        if _group(a)[0] == "x":
                            return None, end
                        suffix, end = _group(a)[2:], a.end()
    elif c1.kind == "vague" and _after_needed(plow, end):
        a = AFTER_RE.match(plow, end)
        if a is not None and _group(a)[0] == "x":
            return None, end
    if qual == "between":  # "between" only qualifies a range; the word stays in the surface
        qual = None
        if len(cores) == 1:
            qstart = c1.start

    if (
        c1.plain
        and YEAR_MIN <= c1.best <= YEAR_MAX
        and (qual is None or qual == "approximately")
        and _is_year(ptext, plow, qstart, end, cores)
    ):
        return None, end

    is_range = len(cores) == 2
    high: int | None
    if is_range:  # ends in order: "4,000 to 3,000" is 3000 to 4000
        low, high = sorted((c1.best, cores[1].best))
        best, own = low, "range"
    else:
        low, best, high, own = c1.low, c1.best, c1.high, c1.qualifier
    q = qual or suffix
    if q:
        low, best, high, qualifier = _apply_qualifier(q, low, best, high, own, is_range)
    else:
        qualifier = own
    kind = "range" if is_range else c1.kind
    quantity = _quantity(
        qstart - 1,
        end - 1,
        ptext[qstart:end],
        low,
        best,
        high,
        qualifier,
        kind,
        c1.start - 1,
        cores[-1].end - 1,
    )
    return quantity, end


# Complexity allowed: one pass over the scan results; each branch is one phrase form.
def find_quantities(text: str) -> list[Quantity]:  # noqa: C901
    """Every quantity phrase in `text` that could count people, in order, not overlapping.

    Each result's `surface` is `text[start:end]` and includes its qualifier words.
    """
    low = text.lower()
    if len(low) != len(text):  # rare Unicode case changes length ("İ"): keep offsets exact
        low = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    ptext, plow = " " + text, " " + low  # one leading non-word character for CORE_RE
    out: list[Quantity] = []
    pos = 0  # padded offset where the last phrase ended; cores starting before it are inside it
    simple = _SIMPLE_WORDS
    fast_end = _FAST_END
    new, set_fields = _new_object, _set_attribute
    # looked up per call, not per number (tests replace them to force every check on)
    before_needed, after_needed = _before_needed, _after_needed
    for m in CORE_RE.finditer(plow):
        s, e = m.span()
        s += 1  # the match starts with the non-word character before the core
        if s < pos:
            continue
        # Fast path for most numbers: a plain "14" or "two" between ordinary words needs none of
        # the context regexes. Anything unusual goes to _scan, which does the full reading.
        g = m.lastgroup
        if g == "dig":
            core = plow[s:e]
            digits = core.replace(",", "")
            if (
                (core[0] not in _ZERO_DIGITS or len(core) == 1)
                and len(core) != 4
                and digits.isdigit()
            ):
                v = int(digits)
            else:
                v = -1
        elif g == "words":
            v = simple.get(plow[s:e], -1)
        elif g == "date":
            pos = e
            continue
        else:
            v = -1
        before = after = None  # the gates' answers, handed on to _scan
        if v >= 0:
            before = before_needed(plow, s)
            if not before:
                nc = plow[e : e + 1]
                if nc.isspace():
                    after = after_needed(plow, e)
                    fast = not after
                else:
                    fast = nc in fast_end or (nc == "." and not plow[e + 1 : e + 2].isdigit())
                if fast:
                    quick = new(Quantity)  # as _quantity(...), inlined: most numbers come here
                    set_fields(
                        quick,
                        "__dict__",
                        {
                            "start": s - 1,
                            "end": e - 1,
                            "surface": ptext[s:e],
                            "low": v,
                            "best": v,
                            "high": v,
                            "qualifier": "exact",
                            "kind": "number",
                            "core_start": s - 1,
                            "core_end": e - 1,
                        },
                    )
                    out.append(quick)
                    pos = e
                    continue
        q, pos = _scan(ptext, plow, m, before, after)
        if q is None:
            continue
        # A qualifier may reach back over an earlier hit ("as many as 50" over "many"): the later,
        # qualified reading wins when the earlier one lies inside its qualifier words; otherwise
        # the later one loses its qualifier words.
        while out and out[-1].end > q.start:
            if out[-1].end <= q.core_start:
                out.pop()
            else:
                q = _unqualified(q)
                break
        if q is None or (out and out[-1].end > q.start):
            continue
        out.append(q)
    return out


def _unqualified(q: Quantity) -> Quantity | None:
    """`q` read again without its leading qualifier words (rare overlap case)."""
    shift = q.core_start - q.start
    found = find_quantities(q.surface[shift:])
    if not found or found[0].start != 0:
        return None
    f = found[0]
    return Quantity(
        f.start + q.core_start,
        f.end + q.core_start,
        f.surface,
        f.low,
        f.best,
        f.high,
        f.qualifier,
        f.kind,
        f.core_start + q.core_start,
        f.core_end + q.core_start,
    )


@lru_cache(maxsize=4096)
def parse_quantity(phrase: str) -> Quantity | None:
    """Read a whole phrase such as "3,000 to 4,000" or "dozens"; None if it is no quantity.

    Returns the first quantity phrase found in `phrase` (offsets relative to `phrase`).
    """
    found = find_quantities(phrase)
    return found[0] if found else None
