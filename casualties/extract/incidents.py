"""Group an article's figures into incidents, and total the article (CONVENTIONS, "Figures →
incidents → article totals").

Reading order decides. The figures of one sentence are one *report*: its numbers of one category
add up ("killing a boy and a woman" = 2), except subsets ("including 3 children") and the
attackers' own deaths; "16 killed, including the suicide bomber" counts 15 victims.
A report joins the incident before it when it adds categories that incident lacks ("16 were
killed. 64 others were injured."), when it updates a toll ("the death toll rose to 41":
cumulative, replaces), or when it gives another account of the same numbers - a party's claim
("the group said it killed 70"), or a value the earlier one allows ("15-16 killed" then "16
killed"). Otherwise - words such as "another", "also", "more", or a second count of the same
category - it starts a new incident, and totals add up.
Aggregates ("at least 50 killed in the last 24 hours", "in total, ten were killed") belong to no
incident; the article total is the larger of the incidents' sum and the largest aggregate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from casualties.extract.background import (
    DAY_SPAN,
    RULES,
    article_year,
    is_background,
    is_question,
    is_running_toll,
    named_day,
    opening_day,
)
from casualties.extract.context import (
    CTX,
    NEW_INCIDENT,
    Gated,
    Prefiltered,
    alt,
    attribution,
    is_party,
)
from casualties.extract.cues import EARLIER_REPORT
from casualties.extract.model import Figure, Incident

Triple = tuple[int, int, "int | None"]


@dataclass
class _Report:
    """The countable figures of one sentence: per category (low, best, high)."""

    counts: dict[str, Triple]
    party: bool
    cumulative: set[str]
    vague_only: bool  # only "many", "numerous" ... (qualifier unspecified)
    vague: set[str]  # categories it gives only vaguely ("several", "dozens", "many")


class _Accounts:
    """The accounts of one count, kept as running bounds so that adding one and reading the
    merge are O(1) (`merge_accounts` on the whole list each time made grouping quadratic)."""

    __slots__ = ("low", "best_neutral", "best_any", "high", "unbounded", "party", "n", "vague")

    def __init__(self, t: Triple, party: bool, vague: bool = False):
        self.vague = vague  # every account so far is vague ("several"): a number replaces them
        self.low, self.best_any, self.high = t[0], t[1], t[2] or 0
        self.best_neutral = None if party else t[1]
        self.unbounded = t[2] is None
        self.party = party
        self.n = 1

    def add(self, t: Triple, party: bool) -> None:
        self.low = min(self.low, t[0])
        self.best_any = min(self.best_any, t[1])
        if not party:
            self.best_neutral = t[1] if self.best_neutral is None else min(self.best_neutral, t[1])
        self.party = self.party or party
        if t[2] is None:
            self.unbounded = True
        else:
            self.high = max(self.high, t[2])
        self.n += 1

    def merged(self) -> Triple:
        """Same result as `merge_accounts` on every account added."""
        best = self.best_any if self.best_neutral is None else self.best_neutral
        best = max(best, self.low)
        return (self.low, best, None if self.unbounded else max(self.high, best))


@dataclass
class _Building:
    indices: list[int] = field(default_factory=list)
    start: int = 0
    end: int = 0
    # per category, its accounts (each a triple and whether a party claims it), merged as added
    accounts: dict[str, _Accounts] = field(default_factory=dict)
    party: bool = False
    background: bool = False  # its sentences recall the past, not the news
    # the weekday it is told of ("on friday"): read only when a sentence opens on a day
    day: str | None = None


def _refinable(f: Figure) -> bool:
    """A count a number said later replaces: "many" (unspecified), or a small vague word
    ("several", "a few"); "dozens" or "scores" already stand for a count (ACLED)."""
    return f.qualifier == "unspecified" or (f.qualifier == "vague" and f.best < 10)


def _counts_victims(f: Figure) -> bool:
    return not f.is_subset and f.victim_type != "perpetrators"


def _add(a: Triple, b: Triple) -> Triple:
    high = None if a[2] is None or b[2] is None else a[2] + b[2]
    return (a[0] + b[0], a[1] + b[1], high)


def _report(figs: list[Figure]) -> _Report:
    counts: dict[str, Triple] = {}
    cumulative: set[str] = set()
    vague_only = True
    # "35 wounded were admitted, most of them ... the injured": an unnumbered mention of a
    # category the sentence numbers is the same people, not more of them
    numbered = {f.category for f in figs if f.qualifier != "unspecified" and _counts_victims(f)}
    precise = {f.category for f in figs if not _refinable(f) and _counts_victims(f)}
    for f in figs:
        if not f.is_subset and f.victim_type != "perpetrators":  # _counts_victims
            if f.qualifier == "unspecified" and f.category in numbered:
                continue
            t = (f.low, f.best, f.high)
            counts[f.category] = _add(counts[f.category], t) if f.category in counts else t
            if f.is_cumulative:
                cumulative.add(f.category)
            if f.qualifier != "unspecified":
                vague_only = False
    # "rose to 23 after four of the wounded died": the updated toll is the count (a toll figure
    # wins over the other figures of a cumulative sentence, whatever their order)
    if cumulative:
        for f in sorted(figs, key=lambda f: f.rule.startswith("toll:")):
            if f.is_cumulative and _counts_victims(f):
                counts[f.category] = (f.low, f.best, f.high)
    # "16 killed, including the suicide bomber": the attacker is inside the count, take him out
    for f in figs:
        if f.is_subset and f.victim_type == "perpetrators" and f.category in counts:
            lo, be, hi = counts[f.category]
            counts[f.category] = (
                max(lo - f.low, 0),
                max(be - f.best, 0),
                None if hi is None else max(hi - f.best, 0),
            )
    return _Report(
        counts=counts,
        party=any(f.claim_by_party for f in figs),
        cumulative=cumulative,
        vague_only=vague_only,
        vague={c for c in counts if c not in precise},
    )


def merge_accounts(accounts: list[tuple[Triple, bool]]) -> Triple:
    """Several accounts of one count: lowest low, lowest best among accounts that are not a
    party's own claim (all, if every one is), highest high (None when any is unbounded)."""
    if len(accounts) == 1:  # the common case, same result
        low, best, high = accounts[0][0]
        best = max(best, low)
        return (low, best, high if high is None else max(high, best))
    lows = [t[0] for t, _ in accounts]
    neutral = [t[1] for t, party in accounts if not party] or [t[1] for t, _ in accounts]
    highs = [t[2] for t, _ in accounts]
    bounded = [h for h in highs if h is not None]
    high = max(bounded) if len(bounded) == len(highs) else None
    low, best = min(lows), min(neutral)
    best = max(best, low)
    return (low, best, high if high is None else max(high, best))


def _compatible(a: Triple, b: Triple) -> bool:
    """Whether two counts can be accounts of the same thing: equal, or one inside the other's
    bounded range."""
    if a[1] == b[1]:
        return True
    if a[2] is not None and a[0] <= b[1] <= a[2] and a[0] != a[2]:
        return True
    return b[2] is not None and b[0] <= a[1] <= b[2] and b[0] != b[2]


def group_incidents(text: str, figures: list[Figure], published=None) -> list[Incident]:
    """Group figures into incidents; sets `Figure.incident` on each grouped figure (aggregates
    stay None). `Incident.counts[cat] = (low, best, high)`; start/end span its sentences."""
    by_sentence: dict[int, list[int]] = {}
    for i, f in enumerate(figures):
        f.incident = None
        if not f.is_aggregate:
            by_sentence.setdefault(f.sentence_start, []).append(i)
    by_sentence = _split_competing_accounts(figures, by_sentence)
    built: list[_Building] = []
    year = article_year(figures, text, published)
    for s0 in sorted(by_sentence):
        idx = by_sentence[s0]
        figs = [figures[i] for i in idx]
        rep = _report(figs)
        s1 = figs[0].sentence_start + len(figs[0].sentence)
        said = _Sentence(text[s0:s1])
        cur = built[-1] if built else None
        # after a turn to another source ("..., while the army said ..."): another account
        turned = s0 != figs[0].sentence_start and not said.new_marker
        # news and background never share an incident; a toll update is news ("the toll from
        # last month's attack has risen to 71")
        asked = "?" in said.low and all(
            is_question(f.sentence, f.end - f.sentence_start) for f in figs
        )
        background = asked or (
            said.background(year) and (not rep.cumulative or is_running_toll(said.low))
        )
        # a sentence that opens on another day than the incident's ("On Thursday, a bomb ..."
        # after Friday's attack) and shares no count with it tells another incident (one that
        # repeats a count is the toll retold: "On Sunday, police named the five victims")
        opens = opening_day(said.low)
        if opens is not None and cur is not None and cur.day is None:
            # the day may be told in a sentence with no figure ("... soon after prayers on
            # Friday morning"): read the incident's opening stretch once, here only (rare)
            cur.day = named_day(text[cur.start : min(s0, cur.start + DAY_SPAN)].lower()) or ""
        if (
            cur is None
            or cur.background != background
            or (opens is not None and cur.day and opens != cur.day and _shares_none(cur, rep))
            or not (turned or _joins(cur, rep, said, figs))
        ):
            cur = _Building(start=s0, background=background)
            built.append(cur)
        if opens and not cur.day:
            cur.day = opens
        cur.indices += idx
        cur.end = max(cur.end, s1)
        cur.party = cur.party or rep.party
        if rep.vague_only and all(c in cur.accounts for c in rep.counts):
            if _says_others(figs):  # "A number of journalists were also injured": others
                for cat, t in rep.counts.items():
                    cur.accounts[cat] = _Accounts(_add(cur.accounts[cat].merged(), t), rep.party)
            continue  # "many bodies" after "73 killed": the same dead, said vaguely
        if said.earlier_report and _told(cur, rep):
            continue  # "Earlier reports had said 35 were killed": superseded
        for cat, t in rep.counts.items():
            acc = cur.accounts.get(cat)
            vague = cat in rep.vague
            # "several were killed ... the blast killed four": the number replaces the word
            if acc is None or cat in rep.cumulative or (acc.vague and not vague):
                cur.accounts[cat] = _Accounts(t, rep.party, vague)
            else:
                acc.add(t, rep.party)
    out: list[Incident] = []
    for n, b in enumerate(built):
        for i in b.indices:
            figures[i].incident = n
        counts = {cat: acc.merged() for cat, acc in b.accounts.items()}
        _wounded_among_shot(counts, [figures[i] for i in b.indices])
        out.append(
            Incident(
                start=b.start,
                end=b.end,
                figure_indices=sorted(b.indices),
                counts=counts,
                claim_by_party=b.party,
                is_background=b.background,
            )
        )
    return out


_COMPETING_ACCOUNT = re.compile(alt(CTX["competing_account"]))  # lower-cased sentence


def _split_competing_accounts(
    figures: list[Figure], by_sentence: dict[int, list[int]]
) -> dict[int, list[int]]:
    """A sentence that turns from one source's count to another's ("Rebels said they had killed
    70 troops, while the army said four soldiers died"): the figures after the turn become a
    report of their own, keyed by the turn's offset, so the two counts are merged as accounts of
    one incident (`_joins`) rather than added. Only when both sides count the same category of
    victims of compatible type."""
    out: dict[int, list[int]] = {}
    for s0, idx in by_sentence.items():
        out[s0] = idx
        sentence = figures[idx[0]].sentence
        m = _COMPETING_ACCOUNT.search(sentence.lower()) if len(idx) > 1 else None
        if m is None:
            continue
        turn = s0 + m.start()
        before = [i for i in idx if figures[i].start < turn]
        after = [i for i in idx if figures[i].start >= turn]
        rest = sentence[m.start() :]
        source = attribution(rest)
        neutral = source is not None and not is_party(source, rest.lower())
        if any(_competes(figures[a], figures[b], neutral) for a in before for b in after):
            out[s0], out[turn] = before, after
            # the figures after the turn are the other source's, not the first speaker's
            for i in after:
                figures[i].attributed_to = source or figures[i].attributed_to
                figures[i].claim_by_party = figures[i].claim_by_party and not neutral
    return out


def _competes(a: Figure, b: Figure, neutral: bool) -> bool:
    """Whether two figures on either side of a turn to another source are two accounts of one
    count: the same victims (`_same_count`), or a party's count of its enemies against a
    `neutral` source's count of other victims of the same category ("the military said 70
    insurgents were killed, while witnesses said 39 civilians died": whom the dead were is
    what they dispute; "the rebels said 12 soldiers died" is the other side's own claim)."""
    if _same_count(a, b):
        return True
    return neutral and a.claim_by_party and a.category == b.category and _counts_victims(b)


def _same_count(a: Figure, b: Figure) -> bool:
    """Whether two figures can count the same victims: same category, both victims, no two
    different victim types."""
    return (
        a.category == b.category
        and _counts_victims(a)
        and _counts_victims(b)
        and (a.victim_type is None or b.victim_type is None or a.victim_type == b.victim_type)
    )


# ("had" opens some, but few sentences hold "earlier", "first" ...)
_EARLIER_REPORT = Prefiltered(EARLIER_REPORT)
_ALSO = re.compile(r"\b(?:" + alt(RULES["vague_also"]) + r")\b")
_ALSO_BEFORE, _ALSO_AFTER = RULES["vague_also_window"]


def _says_others(figs: list[Figure]) -> bool:
    """Whether the words next to a vague figure say it counts other people ("a number of
    journalists were also injured"); only in its clause: "the injured were rushed to the
    college and other hospitals" are the same injured."""
    for f in figs:
        at = f.start - f.sentence_start
        near = f.sentence[max(at - _ALSO_BEFORE, 0) : f.end - f.sentence_start + _ALSO_AFTER]
        if _ALSO.search(near.lower()):
            return True
    return False


_NEW_INCIDENT = Gated(NEW_INCIDENT)


class _Sentence:
    """The words of a report's sentence that grouping asks about, each looked up once."""

    __slots__ = ("low", "_earlier", "_new", "_background")

    def __init__(self, sentence: str):
        self.low = sentence.lower()
        self._earlier: bool | None = None
        self._new: bool | None = None
        self._background: bool | None = None

    def background(self, year: int | None) -> bool:
        """Whether the sentence recalls the past or a wide window (`background.is_background`)."""
        if self._background is None:
            self._background = is_background(self.low, year)
        return self._background

    @property
    def earlier_report(self) -> bool:
        """'Earlier reports had said ...'"""
        if self._earlier is None:
            self._earlier = bool(_EARLIER_REPORT.search(self.low))
        return self._earlier

    @property
    def new_marker(self) -> bool:
        """Words that announce another event or more victims ("another attack", "six more")."""
        if self._new is None:
            self._new = bool(_NEW_INCIDENT.search(self.low))
        return self._new


def _told(cur: _Building, rep: _Report) -> bool:
    """Whether the incident already numbers every category of the report: only then is an
    earlier report superseded ("many dead ... Initial reports showed 25 dead": the number
    refines the word)."""
    return all(c in cur.accounts and not cur.accounts[c].vague for c in rep.counts)


def _shares_none(cur: _Building, rep: _Report) -> bool:
    """Whether a report counts no category the incident counts."""
    return not any(c in cur.accounts for c in rep.counts)


def _joins(cur: _Building, rep: _Report, said: _Sentence, figs: list[Figure]) -> bool:
    """Whether a sentence's report belongs to the incident before it."""
    if not rep.counts:  # only attackers' deaths or subsets: they describe the same event
        return True
    if rep.vague_only and all(c in cur.accounts for c in rep.counts):
        return True
    if said.earlier_report and _told(cur, rep):
        return True
    shared = [c for c in rep.counts if c in cur.accounts]
    if rep.cumulative and all(c in rep.cumulative or c not in cur.accounts for c in rep.counts):
        return True
    if not shared:
        return not said.new_marker
    if any((rep.counts[c][1] == 0) != (cur.accounts[c].best_any == 0) for c in shared):
        return False  # "no injuries were recorded" after "50 injured": about something else
    if rep.party or any(cur.accounts[c].party for c in shared):
        return not said.new_marker
    current = {c: cur.accounts[c].merged() for c in shared}
    # another account of the same count: its values fit, and it is a count (not one person
    # named again) or it names its source ("VoJ reported 16 soldiers were killed")
    sourced = any(f.attributed_to for f in figs)
    remention = all(_remention(f) for f in figs if f.category in shared and _counts_victims(f))
    return (
        all(
            _compatible(current[c], rep.counts[c])
            and (rep.counts[c][1] > 1 or sourced or remention)
            for c in shared
        )
        and not said.new_marker
    )


_INDEFINITE_BEFORE = re.compile(r"\b(?:a|an|another)\s+[^,;.]{1,60},\s*$", re.IGNORECASE)


def _remention(f: Figure) -> bool:
    """A person named again: "the accountant", or a name not introduced as someone new ("A
    religious official, Tecelli Ari, ..." is new)."""
    if f.best != 1:
        return False
    if f.surface.lower().startswith("the "):
        return True
    if f.rule.endswith("name"):
        return not _INDEFINITE_BEFORE.search(f.sentence[: f.start - f.sentence_start])
    return False


def _wounded_among_shot(counts: dict, figs: list[Figure]) -> None:
    """'Four people were shot and one died': those shot and not killed were wounded. Only when
    the incident's casualties come from "shot" and no injured count is stated."""
    if "injured" in counts or "killed" not in counts or "casualties" not in counts:
        return
    shot = [
        f
        for f in figs
        if f.category == "casualties"
        and (f.rule.endswith(":shot") or f.rule.startswith("object:casualties:shoot"))
    ]
    if not shot or any(f.qualifier == "unspecified" for f in shot):
        return
    wounded = wounded_of(counts["casualties"], counts["killed"])
    if wounded is not None:
        counts["injured"] = wounded


def wounded_of(shot: Triple, killed: Triple) -> Triple | None:
    """Those shot and not killed, as (low, best, high): "five shot, two fatally" is 3 wounded;
    None when fewer were shot than killed (the counts are of other people)."""
    (slo, sbe, shi), (klo, kbe, khi) = shot, killed
    if sbe < kbe:
        return None
    high = None if shi is None else max(shi - klo, 0)
    low = max(slo - (kbe if khi is None else khi), 0)
    return (min(low, sbe - kbe), sbe - kbe, high)


def article_totals(figures: list[Figure], incidents: list[Incident]) -> dict:
    """category -> (low, best, high) for the article: the incidents' counts added up, against the
    largest aggregate (whichever is larger); high only when every incident's high is bounded.
    Categories no figure speaks of are absent (an explicit "no one was hurt" is (0, 0, 0))."""
    totals: dict[str, Triple] = {}
    for inc in incidents:
        if inc.is_background:  # recalled for context, not the news
            continue
        for cat, t in inc.counts.items():
            totals[cat] = _add(totals[cat], t) if cat in totals else t
    # "Eight people have been killed in two explosions, including the two suicide bombers": the
    # attackers inside a window total are taken out of it, as inside an incident's count
    attackers: dict[tuple[int, str], int] = {}
    for f in figures:
        if f.is_aggregate and f.is_subset and f.victim_type == "perpetrators":
            key = (f.sentence_start, f.category)
            attackers[key] = attackers.get(key, 0) + f.best
    for f in figures:
        if not f.is_aggregate or not _counts_victims(f) or f.why == "background incident":
            continue
        out = attackers.get((f.sentence_start, f.category), 0)
        agg = (
            max(f.low - out, 0),
            max(f.best - out, 0),
            None if f.high is None else max(f.high - out, 0),
        )
        if f.category not in totals:
            totals[f.category] = agg
            continue
        lo, be, hi = totals[f.category]
        if agg[0] > lo or agg[1] > be:
            high = None if hi is None or agg[2] is None else max(hi, agg[2])
            totals[f.category] = (max(lo, agg[0]), max(be, agg[1]), high)
    return totals
