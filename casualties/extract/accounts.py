"""Full articles: every victim counted once (CONVENTIONS, "Full articles").

Sentence-level grouping (`incidents.group_incidents`) joins a report to the incident just before
it. A whole article tells its toll again and again - headline, lede, body, quotes - often with
other incidents in between. This pass reads the article's news incidents in order and decides,
for each, whether it is another *account* of a story already told or a new story:

- the same count again ("3 killed" ... "the three victims"), or a count the earlier one allows
  ("at least 15" ... "more than 60, some reports said") is a repeat: merged as accounts (lowest
  low, lowest non-party best, highest high), never added;
- a smaller count of a category the story already has ("Four people died ... a 19-year-old was
  pronounced dead") is a part of that total: the total stands;
- categories the story lacks are added to it ("30 killed ... 224 were wounded");
- a larger bounded count, or clear words of another event ("another bomb", "in a separate
  attack"), starts a new story, and stories add up.

Background incidents (`Incident.is_background`) are left as they are and stay out of the total.
Each figure records the account it joined, whether it counted and why (`Figure.account`,
`counted`, `why`). Cost is linear: each incident is compared with at most `recent_stories` stories.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import replace

from casualties.extract.background import (
    DAY_SPAN,
    RULES,
    article_year,
    earlier_incidents,
    is_background,
    is_question,
    is_running_toll,
    named_day,
    opening_day,
    recalled_in_lede,
    statement_lede_incidents,
)
from casualties.extract.context import NEW_INCIDENT as _MORE
from casualties.extract.context import Prefiltered, alt, any_of
from casualties.extract.incidents import Triple, _Accounts, _refinable, wounded_of
from casualties.extract.model import Figure, Incident
from casualties.extract.quantities import parse_quantity

# (searched in every incident's sentences; most hold none of the words they need)
_NEW_STORY = Prefiltered(re.compile(r"\b(?:" + alt(RULES["new_story"]) + r")\b"))
_FIRST_PART = Prefiltered(re.compile(r"\b(?:" + alt(RULES["first_part"]) + r")\b"))
_SHOT = re.compile(alt(RULES["shot_rules"]))
_RECENT = int(RULES["recent_stories"])
_MORE_BEFORE, _MORE_AFTER = RULES["more_window"]
_ORDINAL = re.compile(RULES["ordinal_victim"])
_ORDINALS = RULES["ordinals"]
_ORDINAL_WORD = any_of(_ORDINALS)  # `_ORDINAL` needs one of these words
_REFINE_SHARE = float(RULES["refine_share"])
_ROUGH = re.compile(r"\b(?:" + alt(RULES["round_words"]) + r")\b")
_FORCE_SIZES = frozenset(RULES["force_sizes"])
_NOT_MORE = re.compile(r"\b(?:" + alt(RULES["not_more"]) + r")\b")
_PLACE_NAMED = re.compile(RULES["place_named"])
_EVENT_RULE = re.compile(RULES["event_rules"])

_DIED_AMONG_NAMED = re.compile(RULES["died_among_named"], re.IGNORECASE)
_DIED_AMONG_PRONOUN = re.compile(RULES["died_among_pronoun"], re.IGNORECASE)
_REMENTION_BEFORE = re.compile(RULES["remention_before"], re.IGNORECASE)
_BY_POLICE = re.compile(RULES["killed_by_police_after"])
_ALL_BUT_ATTACKERS = re.compile(RULES["all_but_attackers"], re.IGNORECASE)

# Reason codes of `Figure.why`
NEW = "new account"
REPEAT = "repeat of account {}"
PART = "subset of total"
SUBSET = "subset"
PERPETRATOR = "perpetrator"
BACKGROUND = "background incident"
QUESTION = "asked, not reported"
AGGREGATE = "aggregate"
COMPETING = "competing claim"
UNNUMBERED = "same people, unnumbered"


def mark_attackers(figures: list[Figure]) -> None:
    """Before grouping: "All three were shot and killed by police" names the attackers again
    (victim type perpetrators: CONVENTIONS keeps them out of killed totals); "11 were killed,
    all but one the attackers" adds the attackers as a part of the 11 (`_all_but_attackers`)."""
    found = [x for f in figures if (x := _all_but_attackers(f)) is not None]
    for attackers, n_start in found:
        at = bisect.bisect_left(figures, n_start, key=lambda f: f.start)
        if at < len(figures) and figures[at].start == n_start:
            # "all but two of them gunmen": the two excepted are the victims, not attackers
            figures[at].victim_type = None
        at = bisect.bisect(figures, attackers.start, key=lambda f: f.start)
        figures.insert(at, attackers)
    for f in figures:
        if f.category != "killed" or f.victim_type is not None:
            continue
        surface = f.surface.lower()
        at = f.start - f.sentence_start
        if not (
            surface.startswith(("the ", "both", "all "))
            or surface in ("he", "she")
            or _REMENTION_BEFORE.search(f.sentence[max(at - 12, 0) : at])
        ):
            continue
        if _BY_POLICE.match(f.sentence[f.end - f.sentence_start :].lower()):
            f.victim_type = "perpetrators"


def _all_but_attackers(f: Figure) -> tuple[Figure, int] | None:
    """The attackers inside a killed count that says all but a few of the dead were attackers:
    a figure of the count less the exception, victim type perpetrators, a part of the count
    (`incidents._report` takes it out: "at least 11 killed, all except one the attackers" is
    one victim). Also the offset of the exception's number ("one")."""
    if f.category != "killed" or f.is_subset or f.victim_type is not None:
        return None
    after = f.end - f.sentence_start
    if "," not in f.sentence[after : after + 48]:  # the pattern's comma, cheaply first
        return None
    m = _ALL_BUT_ATTACKERS.match(f.sentence, after)
    n = m and parse_quantity(m.group("n"))
    if not m or n is None or n.best >= f.best:
        return None
    a, b = m.span("all")
    attackers = replace(
        f,
        start=f.sentence_start + a,
        end=f.sentence_start + b,
        surface=f.sentence[a:b],
        low=max(f.low - n.best, 0),
        best=f.best - n.best,
        high=None if f.high is None else max(f.high - n.best, 0),
        rule="subset:killed:all_but_attackers",
        victim_type="perpetrators",
        is_subset=True,
        is_aggregate=False,
    )
    return attackers, f.sentence_start + m.start("n")


class _Story:
    """One news incident as the article tells it, from one or more incidents of the grouping."""

    __slots__ = (
        "members",
        "accounts",
        "account",
        "party",
        "vague",
        "rough",
        "more_than",
        "sources",
        "lede",
        "whole",
        "attackers",
    )

    def __init__(
        self,
        inc: Incident,
        account: int,
        vague: set[str],
        rough: set[str],
        told: _Told,
        more_than: frozenset[str] = frozenset(),
    ):
        self.members = [inc]
        self.more_than = more_than  # categories told as "more than N" (N + 1 is the same count)
        self.sources = set(told.sources)  # who the story's counts were attributed to
        self.lede = told.text  # the sentences of its first telling (places named there)
        self.accounts = {cat: _Accounts(t, inc.claim_by_party) for cat, t in inc.counts.items()}
        self.account = account
        self.party = inc.claim_by_party
        self.vague = vague  # categories told only vaguely so far ("several", "many")
        self.rough = rough  # ... or only in round words ("a dozen", "scores", "dozens")
        # per category, the count with the attackers inside it ("11 killed, all but one the
        # attackers": 11 for a victim count of 1): later counts up to it are parts of it
        self.whole = told.whole
        self.attackers = 0  # attackers' deaths told ("before turning the gun on himself")

    def retell(self, cat: str, accounts: _Accounts, vague: set[str], rough: set[str]) -> None:
        """A count the story lacked or told only vaguely, now from a report: it replaces."""
        self.accounts[cat] = accounts
        for told, now in ((self.vague, vague), (self.rough, rough)):
            told.discard(cat)
            if cat in now:
                told.add(cat)


def _vague_categories(figures: list[Figure], inc: Incident) -> tuple[set[str], set[str]]:
    """Categories of an incident whose every counted figure is refinable ("several", "many"),
    and those whose every counted figure is in words without a digit or an exact number ("at
    least a dozen", "scores", "dozens"): a number told later refines them."""
    numbered: set[str] = set()  # some figure is not refinable
    stated: set[str] = set()  # some figure is neither refinable nor in round words
    vague: set[str] = set()
    worded: set[str] = set()
    for i in inc.figure_indices:
        f = figures[i]
        if f.category in inc.counts and not f.is_subset and f.victim_type != "perpetrators":
            refinable = _refinable(f)
            (vague if refinable else numbered).add(f.category)
            rough = refinable or _ROUGH.search(f.surface.lower())
            (worded if rough else stated).add(f.category)
    return vague - numbered, worded - stated


def _more_than(figures: list[Figure], inc: Incident) -> frozenset[str]:
    """Categories an incident counts only with "more than N" figures."""
    quals: dict[str, set[str]] = {}
    for i in inc.figure_indices:
        f = figures[i]
        if f.category in inc.counts and not f.is_subset and f.victim_type != "perpetrators":
            quals.setdefault(f.category, set()).add(f.qualifier)
    return frozenset(c for c, q in quals.items() if q == {"more_than"})


def _attackers_dead(figures: list[Figure], inc: Incident) -> int:
    """How many attackers' deaths an incident tells (figures of killed perpetrators)."""
    return sum(
        figures[i].best
        for i in inc.figure_indices
        if figures[i].victim_type == "perpetrators" and figures[i].category == "killed"
    )


def _fits(current: Triple, t: Triple) -> str | None:
    """How a count relates to a story's count of the same category: "repeat" (the same number,
    or inside the other's range), "part" (smaller: a part of the total), None (larger: another
    event's count)."""
    lo, be, hi = current
    if t[1] == be:
        return "repeat"
    if hi is None and t[1] >= lo and (t[1] <= be or t[2] is None):
        return "repeat"  # "at least 15" then "more than 60": both open, one account each
    if hi is None and t[1] > be:
        return "open"  # "more than 70" then "71": the same if another count repeats exactly
    if hi is not None and lo <= t[1] <= hi and lo != hi:
        return "repeat"  # "dozens" then "40": inside the stated range
    if t[2] is not None and t[0] <= be <= t[2] and t[0] != t[2]:
        return "repeat"  # "15-16" after "16"
    if t[1] < be:
        return "part"
    return None


def _relation(
    story: _Story,
    inc: Incident,
    more: bool,
    ordinal: int,
    vague: frozenset,
    rough: frozenset,
    told: _Told,
) -> dict[str, str] | None:
    """Per shared category, "repeat" or "part"; None when a count does not fit the story.
    `more`: the incident's words add to what was told ("another", "more", "then", "also"):
    then a smaller count is not a part, nor one or two people the same ones again, unless an
    `ordinal` ("a fourth victim") places the one person inside the story's count."""
    out = {}
    for cat, t in inc.counts.items():
        acc = story.accounts.get(cat)
        if acc is None:
            continue
        if cat in _FORCE_SIZES:
            # a force size is no casualty: another size ("Jordan has seven troops" after "the
            # top five jihadists") does not make another event; the first one told stands
            out[cat] = "repeat" if _fits(acc.merged(), t) == "repeat" else "part"
            continue
        if cat in story.vague and cat not in vague and not more:
            out[cat] = "refine"  # "several people died" then "a bomb killed four soldiers"
            continue
        if cat in story.rough and cat not in rough and not more and _refines(acc.merged(), t):
            out[cat] = "refine"  # "at least a dozen dead" then "18 were killed, the minister said"
            continue
        how = _fits(acc.merged(), t)
        if how is None and cat == "killed" and t[1] == acc.merged()[1] + story.attackers:
            how = "part"  # "killed his wife, then himself" ... "the bodies of the two": the total
        if t[1] == 1 and ordinal and acc.merged()[1] >= ordinal:
            how = "part"  # "a fourth victim died" when the story counts four
        elif more and (how == "part" or (how == "repeat" and t[1] <= 2)):
            how = None
        elif how in (None, "open") and t[1] <= story.whole.get(cat, 0):
            how = "part"  # "11 killed, all but one the attackers" ... "police killed two"
        if how is None and (inc.claim_by_party or acc.party):
            how = "competing"  # a party's own claim of another number only widens the range
        elif how == "part" and acc.best_neutral is None and not inc.claim_by_party and t[1]:
            how = "competing"  # a smaller count after only a party's claim: the other account
        if how is None:
            return None
        out[cat] = how
    if "open" in out.values():
        # an exact count inside an open one ("more than 70" ... "71") is the same toll only when
        # another count of the report repeats exactly ("ten killed and 71 wounded")
        # ... or when another source gives it and every count of the report is the story's or
        # above its open one (not a part, nor a number for round words): "20 dead and 55
        # injured" after "at least 15 killed and over 50 injured"
        exact = any(inc.counts[c][1] == story.accounts[c].merged()[1] for c in out)
        fits = all(how in ("open", "repeat") for how in out.values())
        sourced = fits and _another_source(story, inc, told)
        if not exact and not sourced:
            return None
        out = {c: _open_repeat(story, inc, c) if how == "open" else how for c, how in out.items()}
    return out


def _open_repeat(story: _Story, inc: Incident, cat: str) -> str:
    """ "more than 70" then "71": the exact count is the least the open one allows, so both say
    71 ("exact"); any other exact count inside it is another account ("repeat": lowest wins)."""
    lo, be, _ = story.accounts[cat].merged()
    t = inc.counts[cat]
    if t[0] == t[1] == t[2] == be + 1 and cat in story.more_than:
        return "exact"
    return "repeat"


def _another_source(story: _Story, inc: Incident, told: _Told) -> bool:
    """Whether a report is another source's account of the story ("At least 15 were killed"
    ... "The news agency Fars reports the death toll at 20"): it names a source the story's
    counts did not, states its counts rather than telling what an event did ("the same group
    claimed an ambush that killed 23 soldiers" is another event), and names no place the
    story's first telling did not ("In Mosul, police said 20 died" is another event). It
    retells the story's counts: a count of a category the story lacks ("33 killed and 25
    injured" after "at least 14 killed") is told of another event."""
    if told.event or not told.sources - story.sources:
        return False
    if any(cat not in story.accounts for cat in inc.counts):
        return False
    return all(m.group(1) in story.lede for m in _PLACE_NAMED.finditer(told.text))


def _refines(current: Triple, t: Triple) -> bool:
    """Whether a stated count refines a round-worded one: not below its low ("a dozen" then 18,
    "scores" then 149; "dozens" then 3 is another event), or only a little below it: the low
    of round words is a convention, not a count ("several hundred", 300 by ACLED's rule, then
    "injuries totaled 270")."""
    return t[1] >= current[0] * _REFINE_SHARE


def _adds_more(figures: list[Figure], inc: Incident) -> tuple[bool, int]:
    """Words next to a victim figure that add to what was told: "killing another student",
    "wounding six more", "he then shot ...". Only near the figure (its clause): a full article
    says "later" and "also" of the same victims everywhere. Also the largest ordinal there ("a
    fourth victim died"), 0 if none."""
    seen: set[int] = set()
    more, ordinal = False, 0
    for i in inc.figure_indices:
        f = figures[i]
        if f.is_subset or f.victim_type == "perpetrators":
            continue
        s0 = f.sentence_start
        if s0 in seen:
            continue  # "six were killed and seven more injured": more than the six, not the story
        seen.add(s0)
        a = max(f.start - s0 - _MORE_BEFORE, 0)
        near = f.sentence[a : f.end - s0 + _MORE_AFTER].lower()
        # `_NOT_MORE` only blanks whole phrases out: a window with neither a word of `_MORE` nor
        # an ordinal has none once they are out either (most windows)
        if not ((not more and _MORE.search(near)) or _ORDINAL_WORD.search(near)):
            continue
        window = _NOT_MORE.sub(" ", near)
        more = more or bool(_MORE.search(window))
        ordinal = max([ordinal] + [_ORDINALS[m] for m in _ORDINAL.findall(window)])
    return more, ordinal


class _Told:
    """The words of an incident's telling that the article pass asks about: its sentences, and
    the sources its victim counts are attributed to."""

    __slots__ = ("text", "_low", "sources", "event", "whole")

    def __init__(self, figures: list[Figure], inc: Incident):
        seen: dict[int, str] = {}
        self.sources: set[str] = set()
        self.event = False  # some count is told as what an event did ("an ambush killed 23")
        self.whole: dict[str, int] = {}  # attackers taken out of a count, then the whole
        for i in inc.figure_indices:
            f = figures[i]
            if f.sentence_start not in seen:
                seen[f.sentence_start] = f.sentence
            if f.is_subset and f.victim_type == "perpetrators" and f.category in inc.counts:
                self.whole[f.category] = self.whole.get(f.category, 0) + f.best
            if f.is_subset or f.victim_type == "perpetrators":
                continue
            if f.attributed_to:
                self.sources.add(f.attributed_to)
            if not self.event and f.qualifier != "unspecified":
                # ("killed a number of worshippers" counts none)
                self.event = bool(_EVENT_RULE.match(f.rule))
        for cat, out in self.whole.items():
            self.whole[cat] = inc.counts[cat][1] + out
        self.text = " ".join(seen.values())
        self._low: str | None = None

    @property
    def low(self) -> str:
        """The sentences lower-cased (looked up once, only when asked)."""
        if self._low is None:
            self._low = self.text.lower()
        return self._low


def consolidate(
    text: str, figures: list[Figure], incidents: list[Incident], published=None
) -> list[Incident]:
    """Merge the news incidents that tell the same story; returns the article's incidents (news
    stories and background incidents, in reading order) and sets `Figure.incident`, `account`,
    `counted` and `why`."""
    stories: list[_Story] = []
    background: list[Incident] = []
    n_accounts = 0
    how_of: dict[int, tuple[int, str]] = {}  # id(incident) -> (account, reason)
    for inc in incidents:
        if inc.is_background:
            background.append(inc)
            how_of[id(inc)] = (n_accounts, BACKGROUND)
            n_accounts += 1
            continue
        story: _Story | None = None
        rel: dict[str, str] = {}
        told = _Told(figures, inc)
        vague, rough = _vague_categories(figures, inc)
        first = bool(stories) and bool(_FIRST_PART.search(told.low))
        if stories and (first or not _NEW_STORY.search(told.low)):
            # "three were killed in the first attack; the rest in the second blast": a part of
            # the story told, whatever words of the second follow
            more = (False, 0) if first else _adds_more(figures, inc)
            story, rel = _find_story(stories, inc, *more, frozenset(vague), frozenset(rough), told)
            story = _same_day(text, story, rel, inc)
        if story is None:
            stories.append(_Story(inc, n_accounts, vague, rough, told, _more_than(figures, inc)))
            stories[-1].attackers = _attackers_dead(figures, inc)
            how_of[id(inc)] = (n_accounts, NEW)
            n_accounts += 1
            continue
        story.members.append(inc)
        story.attackers += _attackers_dead(figures, inc)
        story.party = story.party or inc.claim_by_party
        story.sources |= told.sources
        reason = REPEAT.format(story.account)
        account = story.account
        for cat, t in inc.counts.items():
            how = rel.get(cat)
            if how is None or how == "refine":  # a category the story lacked or only hinted at
                story.retell(cat, _Accounts(t, inc.claim_by_party), vague, rough)
                reason = NEW
            elif how == "exact":  # "more than 70" ... "71": the number it stood for
                story.retell(cat, _Accounts(t, inc.claim_by_party), vague, rough)
            elif how in ("repeat", "competing"):
                story.accounts[cat].add(t, inc.claim_by_party)
                if how == "competing":
                    reason = COMPETING
            elif reason != NEW and how == "part":
                reason = PART
        if reason == COMPETING:
            account = n_accounts
            n_accounts += 1
        how_of[id(inc)] = (account, reason)
    out = [_merged(s) for s in stories]
    for inc in out:
        _shot_is_injured(inc, figures)
    out += background
    out.sort(key=lambda inc: inc.start)
    for n, inc in enumerate(out):
        for i in inc.figure_indices:
            figures[i].incident = n
    _explain(figures, incidents, how_of)
    _explain_aggregates(text, figures, published)
    return out


def _same_day(text: str, story: _Story | None, rel: dict, inc: Incident) -> _Story | None:
    """The story found for an incident, or None when the incident tells another day and repeats
    none of the story's counts (`_another_day`)."""
    if story is not None and "repeat" not in rel.values() and _another_day(text, story, inc):
        return None
    return story


def _another_day(text: str, story: _Story, inc: Incident) -> bool:
    """Whether an incident opens on its own day ("On Thursday, a bomb blast ...") other than the
    day the story before it names (read from where it is first told, up to this incident)."""
    opens = opening_day(text[inc.start : inc.start + 24].lower())
    if opens is None:
        return False
    s0 = story.members[0].start
    told = named_day(text[s0 : min(inc.start, s0 + DAY_SPAN)].lower())
    return told is not None and told != opens


def _find_story(
    stories: list[_Story],
    inc: Incident,
    more: bool,
    ordinal: int,
    vague: frozenset,
    rough: frozenset,
    told: _Told,
) -> tuple[_Story | None, dict]:
    """The story an incident retells: the most recent (of the last few, and the lede's) whose
    shared counts it fits; with no count shared, the story just before it (it adds categories)."""
    candidates = stories[-_RECENT:][::-1]
    if len(stories) > _RECENT:
        candidates.append(stories[0])
    conflict = False
    for story in candidates:
        rel = _relation(story, inc, more, ordinal, vague, rough, told)
        if rel:
            return story, rel
        if rel is None:
            conflict = True
    return (None, {}) if conflict else (stories[-1], {})


def mark_earlier(text: str, figures: list[Figure], incidents: list[Incident], published) -> None:
    """After `describe` has dated the incidents: a news incident dated clearly before the lede's
    (`background.earlier_incidents`), or on the day of an earlier event the lede names
    (`background.recalled_in_lede`), or dated by the calendar under a lede that only reports a
    statement (`background.statement_lede_incidents`), is background; its figures say so and
    stop counting."""
    earlier = earlier_incidents(text, incidents, published)
    earlier += recalled_in_lede(text, incidents, published)
    for inc in earlier + statement_lede_incidents(text, figures, incidents):
        inc.is_background = True
        for i in inc.figure_indices:
            figures[i].why, figures[i].counted = BACKGROUND, False


def _merged(story: _Story) -> Incident:
    if len(story.members) == 1:
        return story.members[0]
    first = story.members[0]
    indices = sorted(i for inc in story.members for i in inc.figure_indices)
    # the span where the story is first told: describe reads when/where/what there (the lede),
    # and its cost stays that of the first telling, not of the whole article
    return Incident(
        start=first.start,
        end=first.end,
        figure_indices=indices,
        counts={cat: acc.merged() for cat, acc in story.accounts.items()},
        claim_by_party=story.party,
    )


def _shot_is_injured(inc: Incident, figures: list[Figure]) -> None:
    """Shot, not dead, told across the sentences of one story: "casualties" that are people shot,
    stabbed or hit are injured when the story has no word of death ("a man was shot in the
    leg", "stabbed two people"); with deaths, those shot and not killed are ("Three people were
    shot. A man died at the scene; the other two were taken to hospitals": injured 2)."""
    counts = inc.counts
    if "casualties" not in counts:
        return
    shot = [figures[i] for i in inc.figure_indices if figures[i].category == "casualties"]
    if not shot or not all(_SHOT.search(f.rule) and f.qualifier != "unspecified" for f in shot):
        return
    if "killed" not in counts:
        if "injured" not in counts or counts["injured"][1] < counts["casualties"][1]:
            counts["injured"] = counts.pop("casualties")  # "Two were shot. One was hit in the arm"
        return
    wounded = wounded_of(counts["casualties"], counts["killed"])
    if wounded is not None and ("injured" not in counts or counts["injured"][1] < wounded[1]):
        counts["injured"] = wounded


def _explain(figures: list[Figure], incidents: list[Incident], how_of: dict) -> None:
    """Set account, counted and why on the figures of each grouped incident: inside one, the
    first sentence that numbers a category counts it; later sentences with that category retell
    it ("I counted 15 bodies"), and unnumbered words beside a number are the same people."""
    for inc in incidents:
        account, reason = how_of[id(inc)]
        first_sentence: dict[str, int] = {}  # category -> sentence that counted it
        numbered = {
            (f.sentence_start, f.category)
            for f in (figures[i] for i in inc.figure_indices)
            if f.qualifier != "unspecified"
        }
        for i in inc.figure_indices:
            f = figures[i]
            f.account = account
            if reason == BACKGROUND and is_question(f.sentence, f.end - f.sentence_start):
                f.why, f.counted = QUESTION, False
            elif f.victim_type == "perpetrators":
                f.why, f.counted = PERPETRATOR, False
            elif f.is_subset:
                f.why, f.counted = SUBSET, False
            elif f.qualifier == "unspecified" and (f.sentence_start, f.category) in numbered:
                f.why, f.counted = UNNUMBERED, False
            elif reason == NEW and first_sentence.get(f.category, f.sentence_start) != (
                f.sentence_start
            ):
                f.why, f.counted = REPEAT.format(account), False
            else:
                f.why = reason
                f.counted = reason == NEW
                if f.counted:
                    first_sentence.setdefault(f.category, f.sentence_start)


def _explain_aggregates(text: str, figures: list[Figure], published=None) -> None:
    """Aggregates belong to no incident; one in a background sentence ("8,000 have been killed
    since 2007") stays out of the total (`incidents.article_totals` reads `why`)."""
    year = None
    for f in figures:
        if f.is_aggregate:
            if year is None:
                year = article_year(figures, text, published)
            f.account, f.counted = None, False
            low = f.sentence.lower()
            past = is_question(low, f.end - f.sentence_start) or (
                is_background(low, year) and (not f.is_cumulative or is_running_toll(low))
            )
            f.why = BACKGROUND if past else AGGREGATE


def died_among_wounded(text: str, figures: list[Figure], incidents: list[Incident]) -> None:
    """'Four were wounded, one of whom later died': a killed figure that is a part of the
    injured count before it ("one of whom", "two of them", "one of the wounded") moves those
    people from the incident's injured to its killed (CONVENTIONS: the injured are the non-fatal
    ones). They are deaths of their own even after a killed total ("Three were killed and 10
    wounded. One of the wounded later died" = 4 killed, 9 injured), unless a toll includes them
    ("the toll rose to four after one of the wounded died" = 4). Only when that injured figure is
    the one the incident counts (`Figure.counted`, set by `consolidate`): injured parts
    of a lede's total ("dozens injured ... Five were injured, and one of them died") leave the
    lede's counts as they are."""
    for inc in incidents:
        if inc.is_background or "injured" not in inc.counts or "killed" not in inc.counts:
            continue
        moved = added = 0
        wounded: Figure | None = None  # the nearest injured figure before
        toll_from = max(
            (figures[i].sentence_start for i in inc.figure_indices if figures[i].is_cumulative),
            default=-1,
        )
        last: Figure | None = None  # the nearest victim figure before, of any category
        for i in inc.figure_indices:
            f = figures[i]
            if (
                f.category == "killed"
                and f.victim_type != "perpetrators"
                and wounded is not None
                and wounded.counted
                and _died_among(text, f, wounded, last is wounded)
            ):
                moved += f.best
                if not (f.counted or f.is_subset or toll_from >= f.sentence_start):
                    added += f.best
            if f.is_subset or f.victim_type == "perpetrators":
                continue
            if f.category == "injured" and wounded is not None and _same_people(f):
                f = wounded  # "The wounded were taken to hospital": the counted ones again
            last = f
            if f.category == "injured":
                wounded = f
        if not moved or inc.counts["injured"][1] < moved:
            continue
        lo, be, hi = inc.counts["injured"]
        inc.counts["injured"] = (max(lo - moved, 0), be - moved, None if hi is None else hi - moved)
        if added:
            lo, be, hi = inc.counts["killed"]
            inc.counts["killed"] = (lo + added, be + added, None if hi is None else hi + added)


def _same_people(f: Figure) -> bool:
    return f.why == UNNUMBERED or (f.why or "").startswith(REPEAT.format(""))


def _died_among(text: str, f: Figure, wounded: Figure, just_before: bool) -> bool:
    """Whether the words after killed figure `f` make it a part of `wounded`: "of the injured",
    or "of whom" / "of them" when `wounded` is the figure just before, in the same sentence or
    the next (farther, or after "shooting 14 others", "them" are other people)."""
    after = text[f.end : f.end + 40]
    if _DIED_AMONG_NAMED.search(after):
        return True
    gap = f.sentence_start - (wounded.sentence_start + len(wounded.sentence))
    near = wounded.sentence_start == f.sentence_start or gap <= 2
    return just_before and near and bool(_DIED_AMONG_PRONOUN.search(after))
