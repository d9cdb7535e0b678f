"""Article text in, figures, incidents and article totals out: the one extraction code path.

`casualties extract`, the Prefect flow, the evaluation command and the benchmark all call
`extract_article` (one text) or `extract_frame` (a batch as DataFrames).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from casualties.extract import accounts, describe, figures, incidents
from casualties.extract.model import ArticleExtraction, Figure
from casualties.fields import CATEGORIES, FIGURES, INCIDENTS, conform

#: Largest count read as a casualty figure: above the world's population (about 8.2 billion
#: in 2025), so a larger number is never a count of people.
MAX_PLAUSIBLE_COUNT = 10_000_000_000


def extract_article(text: str, published: datetime | None = None) -> ArticleExtraction:
    """Extract figures, group them into incidents, describe each incident, total the article.

    Pure: the result depends only on `text`, `published` and the lexicons.
    """
    figs, implausible = split_implausible(figures.find_figures(text))
    accounts.mark_attackers(figs)
    incs = incidents.group_incidents(text, figs, published)
    incs = accounts.consolidate(text, figs, incs, published)
    accounts.died_among_wounded(text, figs, incs)
    for inc in incs:
        inc.attributes = describe.describe_incident(text, inc, figs, published)
    accounts.mark_earlier(text, figs, incs, published)
    totals = incidents.article_totals(figs, incs)
    return ArticleExtraction(figures=figs, incidents=incs, totals=totals, implausible=implausible)


def split_implausible(figs: list[Figure]) -> tuple[list[Figure], list[Figure]]:
    """(figures, implausible figures): a figure with a count above MAX_PLAUSIBLE_COUNT is no
    casualty count (a serial number, a misread date, a typo) and never enters an incident or
    a total; the pipeline quarantines it with reason `implausible_count`."""
    if all(max(f.low, f.best, f.high or 0) <= MAX_PLAUSIBLE_COUNT for f in figs):
        return figs, []
    kept: list[Figure] = []
    bad: list[Figure] = []
    for f in figs:
        (bad if max(f.low, f.best, f.high or 0) > MAX_PLAUSIBLE_COUNT else kept).append(f)
    for f in bad:
        f.incident = None
    return kept, bad


# Figure fields kept out of the JSON output: offsets of the sentence, and the in-memory
# reasoning that `casualties evaluate --explain` shows.
_NOT_IN_JSON = frozenset({"sentence_start", "account", "counted", "why"})


def _triple(low, best, high) -> dict:
    return {"low": low, "best": best, "high": high}


def extraction_to_json(doc_id: str, ex: ArticleExtraction) -> dict:
    """The JSON object `casualties extract` prints for one article (column names as tables)."""
    out: dict = {"id": doc_id}
    out["figures"] = [
        {k: v for k, v in f.to_dict().items() if k not in _NOT_IN_JSON} for f in ex.figures
    ]
    out["incidents"] = [incident_row(inc, i) for i, inc in enumerate(ex.incidents)]
    if ex.implausible:  # what the pipeline quarantines as `implausible_count`
        out["implausible_figures"] = [
            {k: v for k, v in f.to_dict().items() if k not in ("sentence_start", "incident")}
            for f in ex.implausible
        ]
    for cat in CATEGORIES:
        out[cat] = _triple(*ex.totals.get(cat, (None, None, None)))
    return out


def incident_row(inc, index: int) -> dict:
    """Flat row of an incident: counts as `<category>_low/_best/_high` plus its attributes."""
    row: dict = {
        "incident": index,
        "n_figures": len(inc.figure_indices),
        "claim_by_party": inc.claim_by_party,
        "is_background": inc.is_background,
    }
    for cat in CATEGORIES:
        low, best, high = inc.counts.get(cat, (None, None, None))
        row[f"{cat}_low"], row[f"{cat}_best"], row[f"{cat}_high"] = low, best, high
    row.update(inc.attributes)
    return row


def article_rows(article_id: str, text: str, published) -> tuple[list[dict], list[dict], list]:
    """Figure rows, incident rows and implausible figures of one article (`extract_frame`'s
    rows for it)."""
    pub = None if pd.isna(published) else pd.Timestamp(published).to_pydatetime()
    ex = extract_article(text, pub)
    inc_ids = [f"{article_id}:i{i}" for i in range(len(ex.incidents))]
    fig_rows, inc_rows = [], []
    for f in ex.figures:
        row = f.to_dict()
        row["figure_id"] = f"{article_id}:{f.start}-{f.end}"
        row["article_id"] = article_id
        row["incident_id"] = None if f.incident is None else inc_ids[f.incident]
        fig_rows.append(row)
    for i, inc in enumerate(ex.incidents):
        row = incident_row(inc, i)
        row["incident_id"] = inc_ids[i]
        row["article_id"] = article_id
        row["published"] = published
        inc_rows.append(row)
    return fig_rows, inc_rows, ex.implausible


def extract_frame(articles: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Extract a batch: `articles` has `article_id`, `text`, `published`.

    Returns (figures, incidents) conformed to the FIGURES and INCIDENTS tables (without
    `run_id`, which the flow sets). Raises on the first article extraction fails on; the flow
    uses `casualties.extract.checked.extract_checked`, which quarantines that article instead.
    """
    fig_rows: list[dict] = []
    inc_rows: list[dict] = []
    for article_id, text, published in zip(
        articles["article_id"], articles["text"], articles["published"], strict=True
    ):
        figs, incs, _ = article_rows(article_id, text, published)
        fig_rows += figs
        inc_rows += incs
    return conform(pd.DataFrame(fig_rows), FIGURES), conform(pd.DataFrame(inc_rows), INCIDENTS)
