"""Context of a figure: victim type and share, attribution, hedging, party claims, aggregates,
cumulative updates. Patterns live in `lexicon/context.yaml`; this module only applies them.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from casualties.model import Figure

_LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"


@cache
def load_lexicon(name: str) -> dict:
    """The parsed YAML lexicon `lexicon/<name>.yaml`."""
    with open(_LEXICON_DIR / f"{name}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def alt(fragment: str) -> str:
    """A YAML regex alternation as one pattern: folded lines joined, spaces around `|` removed."""
    return re.sub(r"\s*\|\s*", "|", " ".join(fragment.split()))


def words(fragment: str) -> re.Pattern:
    """Compile an alternation of words/phrases, matched on word boundaries, case-insensitive."""
    return re.compile(r"\b(?:" + alt(fragment) + r")\b", re.IGNORECASE)


CTX = load_lexicon("context")

VICTIM_TYPES = [(name, words(p)) for name, p in CTX["victim_types"].items()]
VICTIM_SHARES = [(name, words(p)) for name, p in CTX["victim_share"].items()]
HEDGES = words(CTX["hedges"])
PARTY_CLAIM = re.compile(alt(CTX["party_claim"]), re.IGNORECASE)
PARTIES = words(CTX["parties"])
AGGREGATE = words(CTX["aggregate"])
CUMULATIVE = words(CTX["cumulative"])
SUBSET_BEFORE = re.compile(
    r"\b(?:" + alt(CTX["subset"]) + r")\W*(?:\w+\W+){0,2}?$", re.IGNORECASE
)
NEW_INCIDENT = words(CTX["new_incident"])
CODER_NOTE = re.compile(alt(CTX["coder_note"]), re.IGNORECASE)
ATTACK_BY_MILITANTS = re.compile(alt(CTX["attack_by_militants"]), re.IGNORECASE)
KILLED_BY_FORCES = re.compile(alt(CTX["killed_by_forces"]), re.IGNORECASE)

_ACCORDING = re.compile(
    r"\b" + alt(CTX["attribution_according"]) + r"(?P<who>[^,.;:()]{2,80})", re.IGNORECASE
)
_VERBS = alt(CTX["attribution_verbs"])
# "X said ..." : X is the noun phrase before the verb, from the clause start.
_WHO_SAID = re.compile(
    r"(?:^|[,;:(]\s*|\b(?:and|but|while|as)\s+)(?P<who>(?:[\w'’\-.]+\s+){0,9}?[\w'’\-.]+)\s+"
    r"(?:(?:has|have|had|also|later|earlier)\s+)?(?:" + _VERBS + r")\b",
    re.IGNORECASE,
)
# "..., X said." : the verb before its subject at the clause end.
_SAID_WHO = re.compile(
    r",\s+(?:" + _VERBS + r")\s+(?P<who>[^,.;:]{2,80}?)\s*[.;]?$", re.IGNORECASE
)
_NOT_SOURCE = re.compile(
    r"^(?:it|he|she|this|that|which|who|there|they? (?:also|later))$|responsibility", re.IGNORECASE
)


def victim_of(words_text: str) -> tuple[str | None, str | None]:
    """(victim_type, victim_share) named in a figure's noun phrase, or None."""
    vtype = next((name for name, rx in VICTIM_TYPES if rx.search(words_text)), None)
    share = None
    if vtype is not None:
        share = next((name for name, rx in VICTIM_SHARES if rx.search(words_text)), None)
    return vtype, share


def attribution(sentence: str) -> str | None:
    """The source a sentence gives for its figures ("according to X", "X said", "..., X said")."""
    m = _ACCORDING.search(sentence)
    if m:
        return m.group("who").strip()
    m = _SAID_WHO.search(sentence)
    if m and not _NOT_SOURCE.search(m.group("who")):
        return m.group("who").strip()
    m = _WHO_SAID.search(sentence)
    if m:
        who = m.group("who").strip()
        if not _NOT_SOURCE.search(who) and not re.search(r"\d", who):
            return who
    return None


def is_party(source: str | None, sentence: str) -> bool:
    """Whether a figure is a fighting party's own claim (its source is a party, or the shape is
    "the group said it killed ...")."""
    if PARTY_CLAIM.search(sentence):
        return True
    return bool(source) and bool(PARTIES.search(source))


def annotate(text: str, fig: Figure, sent_start: int, sent_end: int, np_text: str) -> None:
    """Fill a figure's context fields from its sentence and the words of its noun phrase."""
    sentence = text[sent_start:sent_end]
    if fig.victim_type is None:
        fig.victim_type, fig.victim_share = victim_of(np_text)
    fig.attributed_to = attribution(sentence)
    local = text[max(sent_start, fig.start - 60) : min(sent_end, fig.end + 60)]
    fig.hedged = bool(HEDGES.search(local))
    fig.claim_by_party = is_party(fig.attributed_to, sentence)
    fig.is_aggregate = fig.is_aggregate or bool(AGGREGATE.search(sentence))
    fig.is_cumulative = fig.is_cumulative or bool(CUMULATIVE.search(sentence))
    before = text[max(sent_start, fig.start - 40) : fig.start]
    if SUBSET_BEFORE.search(before) and fig.victim_share is None:
        fig.victim_share = "including"


def militants_were_attackers(text: str, sent_start: int, sent_end: int) -> bool:
    """Whether militants in this sentence were the attacking side (their dead are perpetrators):
    the article says militants attacked, and this sentence does not say strikes or forces killed
    them."""
    if KILLED_BY_FORCES.search(text, sent_start, sent_end):
        return False
    return bool(ATTACK_BY_MILITANTS.search(text, 0, sent_end))
