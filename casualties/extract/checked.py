"""Batch extraction where one article can never fail the batch.

`extract_checked(articles)` is `article.extract_frame` plus a third frame, `problems`: one row
per article extraction raised on (the article is left out of the batch's figures and
incidents; the pipeline quarantines it) and one per implausible figure (the article keeps its
other figures). The flow runs it on every runner (threads, the process pool, Dask workers).
"""

from __future__ import annotations

import pandas as pd

from casualties.extract.article import MAX_PLAUSIBLE_COUNT, article_rows
from casualties.fields import FIGURES, INCIDENTS, QUARANTINE, conform

#: Quarantine reasons of the extract stage (`casualties.storage.ingest.REASONS` lists them too).
REASONS: dict[str, str] = {
    "extraction_error": "extraction raised on this article (detail: the exception class and "
    "message); the article is not stored, the rest of its file is",
    "validation_error": "validating this article's rows raised (detail: the exception class "
    "and message); the article is not stored, the rest of its file is",
    "implausible_count": f"a figure's count is above {MAX_PLAUSIBLE_COUNT:,} (more than the "
    "world's population), so not a count of people; the figure is left out, the article kept",
}
PROBLEM_COLUMNS = ["article_id", "reason", "detail", "excerpt"]
_DETAIL_CHARS = 300
_EXCERPT_CHARS = 200


def _error_detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_DETAIL_CHARS]


def extract_checked(articles: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(figures, incidents, problems) of a batch (`article_id`, `text`, `published`).

    `figures` and `incidents` are what `extract_frame` returns for the articles extraction
    succeeded on; `problems` has PROBLEM_COLUMNS, one row per failed article
    (`extraction_error`) or implausible figure (`implausible_count`).
    """
    per_article: list[tuple[str, list[dict], list[dict]]] = []
    problems: list[dict] = []
    for article_id, text, published in zip(
        articles["article_id"], articles["text"], articles["published"], strict=True
    ):
        try:
            figs, incs, implausible = article_rows(article_id, text, published)
        except Exception as exc:  # noqa: BLE001  one article's failure is that article's
            problems.append(_problem(article_id, "extraction_error", _error_detail(exc), text))
            continue
        for f in implausible:
            detail = (
                f"{f.category} figure {f.surface!r} at {f.start}-{f.end} reads as {f.best:,}, "
                f"above the plausible bound {MAX_PLAUSIBLE_COUNT:,}; figure left out"
            )
            problems.append(_problem(article_id, "implausible_count", detail, f.sentence))
        per_article.append((article_id, figs, incs))
    figures, incidents, failed = _conform(per_article)
    problems += failed
    return figures, incidents, pd.DataFrame(problems, columns=PROBLEM_COLUMNS)


def _problem(article_id: str, reason: str, detail: str, excerpt: str | None) -> dict:
    excerpt = None if excerpt is None else excerpt[:_EXCERPT_CHARS]  # travels back from workers
    return {"article_id": article_id, "reason": reason, "detail": detail, "excerpt": excerpt}


def _conform(per_article: list) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """The batch's rows as typed frames. If the batch does not convert (a value no column can
    hold), each article is converted on its own and the ones that fail become problems."""
    figs = [r for _, f, _ in per_article for r in f]
    incs = [r for _, _, i in per_article for r in i]
    try:
        return _frames(figs, incs) + ([],)
    except Exception:  # noqa: BLE001  find the article(s) at fault below
        pass
    fig_frames, inc_frames, problems = [], [], []
    for article_id, f, i in per_article:
        try:
            one_f, one_i = _frames(f, i)
        except Exception as exc:  # noqa: BLE001
            problems.append(_problem(article_id, "extraction_error", _error_detail(exc), None))
            continue
        fig_frames.append(one_f)
        inc_frames.append(one_i)
    figures = pd.concat([FIGURES.empty(), *fig_frames], ignore_index=True)
    incidents = pd.concat([INCIDENTS.empty(), *inc_frames], ignore_index=True)
    return conform(figures, FIGURES), conform(incidents, INCIDENTS), problems


def _frames(figs: list[dict], incs: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return conform(pd.DataFrame(figs), FIGURES), conform(pd.DataFrame(incs), INCIDENTS)


def problem_quarantine(problems: pd.DataFrame, articles: pd.DataFrame) -> pd.DataFrame:
    """Quarantine rows (stage `extract`, QUARANTINE columns but run_id) for `problems`, with
    each article's source_file, line and doc_id from `articles`."""
    if problems.empty:
        return conform(QUARANTINE.empty(), QUARANTINE).drop(columns="run_id")
    where = articles.drop_duplicates("article_id").set_index("article_id")
    at = where.reindex(problems["article_id"])
    rows = pd.DataFrame(
        {
            "source_file": at["source_file"].to_numpy(),
            "line": at["line"].to_numpy(),
            "doc_id": at["doc_id"].to_numpy(),
            "stage": "extract",
            "reason": problems["reason"].to_numpy(),
            "detail": problems["detail"].to_numpy(),
            "excerpt": problems["excerpt"].map(_printable).to_numpy(),
        }
    )
    return conform(rows, QUARANTINE).drop(columns="run_id")


# Control characters would make an excerpt unreadable in a table viewer (tab, newline kept).
_CONTROL = {c: "\ufffd" for c in range(32) if chr(c) not in "\t\n\r"} | {0x7F: "\ufffd"}


def _printable(value) -> str | None:
    return value.translate(_CONTROL) if isinstance(value, str) else None
