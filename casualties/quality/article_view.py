"""One article with every figure highlighted in its words: an HTML page (the report links one
per reviewed article; `casualties review` writes one for any stored article) and a terminal
rendering (rich). Article text is untrusted: every piece of it is HTML-escaped.
"""

from __future__ import annotations

import functools
import html
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from rich.text import Text

from casualties.fields import CATEGORIES
from casualties.files import write_bytes_atomic

ARTICLES_DIR = "articles"  # under the report folder
# Inline styles only: the browser refuses any other load (scripts, fonts, images, frames), so
# no page of the report can make a request even if a text smuggled markup past escaping.
HEAD_META = (
    '<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
)
# One colour per category (legend, marks, terminal), readable on white.
COLORS = dict(
    zip(
        CATEGORIES,
        ("#f4a6a6", "#f7d08a", "#c9b3f2", "#f2b3dc", "#a9d3f5", "#b8e0b0", "#f5c6a0", "#cfcfcf"),
        strict=True,
    )
)
TERM_STYLES = dict(
    zip(
        CATEGORIES,
        (
            "bold red",
            "bold yellow",
            "bold magenta",
            "bold bright_magenta",
            "bold blue",
            "bold green",
            "bold dark_orange",
            "bold white",
        ),
        strict=True,
    )
)


def esc(value) -> str:
    """HTML-escaped text of a value; empty for null."""
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def fmt(value) -> str:
    """A count or value as a reader wants it: null as an en dash."""
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def figure_tip(f) -> str:
    """What hovering or focusing a figure shows (plain text, one fact a line)."""
    high = "no upper bound" if pd.isna(f["high"]) else f["high"]
    lines = [
        f"{f['category']}: low {f['low']} · best {f['best']} · high {high}",
        f"qualifier: {f['qualifier']}",
        f"attributed to: {fmt(f['attributed_to'])}",
        f"hedged: {fmt(bool(f['hedged']))} · party's claim: {fmt(bool(f['claim_by_party']))}",
        f"incident: {fmt(f['incident_id'])}",
    ]
    return "\n".join(lines)


def _mark_open(f) -> str:
    return (
        f'<mark class="fig cat-{esc(f["category"])}" tabindex="0" '
        f'data-figure-id="{esc(f["figure_id"])}" data-start="{int(f["start"])}" '
        f'data-end="{int(f["end"])}" data-tip="{esc(figure_tip(f))}" '
        f'aria-label="{esc(figure_tip(f))}">'
    )


def records(frame: pd.DataFrame | list[dict]) -> list[dict]:
    """Rows as dicts (the page functions take either a frame or its records)."""
    return frame.to_dict("records") if isinstance(frame, pd.DataFrame) else list(frame)


def nestable(figures: pd.DataFrame | list[dict], lo: int, hi: int) -> tuple[list, list]:
    """Figures inside [lo, hi) that can be marked (nested or apart), and those that cross
    another figure's edge (listed instead of marked: HTML cannot overlap elements)."""
    rows = [f for f in records(figures) if f["start"] >= lo and f["end"] <= hi]
    rows.sort(key=lambda f: (f["start"], -f["end"]))
    kept: list[dict] = []
    crossing: list[dict] = []
    stack: list[dict] = []
    for f in rows:
        while stack and stack[-1]["end"] <= f["start"]:
            stack.pop()
        if stack and f["end"] > stack[-1]["end"]:
            crossing.append(f)
            continue
        kept.append(f)
        stack.append(f)
    return kept, crossing


def highlight(
    text: str, figures: pd.DataFrame | list[dict], lo: int = 0, hi: int | None = None
) -> str:
    """HTML of text[lo:hi] with a <mark> around each figure's words (nested where one figure
    lies inside another); every mark's text is exactly text[start:end]."""
    hi = len(text) if hi is None else hi
    kept, _ = nestable(figures, lo, hi)
    # Events at offsets: closes before opens at the same offset; inner closes first.
    out: list[str] = []
    stack: list[dict] = []
    pos = lo
    for f in kept:
        while stack and stack[-1]["end"] <= f["start"]:
            top = stack.pop()
            out.append(esc(text[pos : top["end"]]) + "</mark>")
            pos = top["end"]
        out.append(esc(text[pos : f["start"]]) + _mark_open(f))
        pos = f["start"]
        stack.append(f)
    while stack:
        top = stack.pop()
        out.append(esc(text[pos : top["end"]]) + "</mark>")
        pos = top["end"]
    out.append(esc(text[pos:hi]))
    return "".join(out)


@functools.cache
def css() -> str:
    """Stylesheet shared by the report and the article pages (inlined in each)."""
    cats = "\n".join(f".cat-{c} {{ background: {col}; }}" for c, col in COLORS.items())
    return (Path(__file__).with_name("report.css").read_text(encoding="utf-8")) + cats


def legend() -> str:
    items = "".join(
        f'<span class="legend-item"><mark class="cat-{c}">{c}</mark></span>' for c in CATEGORIES
    )
    return f'<p class="legend" aria-label="categories">{items}</p>'


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def incidents_table(incidents: pd.DataFrame | list[dict]) -> str:
    """Date, place, event type, perpetrator, counts and background flag per incident."""
    incidents = records(incidents)
    has_bg = any("is_background" in i for i in incidents)
    rows = []
    for i in incidents:
        rows.append(
            [
                esc(i["incident_id"]),
                esc(fmt(i["date"])) + (f" ({esc(i['date_text'])})" if esc(i["date_text"]) else ""),
                esc(", ".join(str(x) for x in (i["place"], i["country"]) if not pd.isna(x))),
                esc(fmt(i["event_type"])),
                esc(fmt(i["perpetrator"])),
                esc(fmt(i["killed_best"])),
                esc(fmt(i["injured_best"])),
                esc(
                    fmt(bool(i["is_background"]))
                    if has_bg and not pd.isna(i["is_background"])
                    else ("–" if has_bg else "not recorded")
                ),
            ]
        )
    headers = [
        "incident",
        "date",
        "place",
        "event type",
        "perpetrator",
        "killed",
        "injured",
        "background",
    ]
    return _table(headers, rows, "incidents")


def figures_table(figures: list[dict], crossing: list) -> str:
    crossing_ids = {f["figure_id"] for f in crossing}
    rows = []
    for f in sorted(figures, key=lambda f: (f["start"], -f["end"])):
        rows.append(
            [
                f'<mark class="cat-{esc(f["category"])}">{esc(f["category"])}</mark>',
                esc(f["surface"])
                + (" (overlaps another figure)" if f["figure_id"] in crossing_ids else ""),
                esc(fmt(f["low"])),
                esc(fmt(f["best"])),
                esc(fmt(f["high"])),
                esc(f["qualifier"]),
                esc(fmt(f["attributed_to"])),
                esc(fmt(bool(f["hedged"]))),
                esc(fmt(f["incident_id"])),
            ]
        )
    headers = [
        "category",
        "words",
        "low",
        "best",
        "high",
        "qualifier",
        "attributed to",
        "hedged",
        "incident",
    ]
    return _table(headers, rows, "figures")


def article_page(
    article: dict,
    figures: pd.DataFrame | list[dict],
    incidents: pd.DataFrame | list[dict],
    index_href: str | None = "../index.html",
) -> str:
    """The whole HTML page of one article (self-contained: inline CSS, no script, no request)."""
    text = article["text"]
    figures, incidents = records(figures), records(incidents)
    _, crossing = nestable(figures, 0, len(text))
    title = article.get("title") or article["doc_id"]
    back = f'<p><a href="{esc(index_href)}">← report</a></p>' if index_href else ""
    meta = [
        ("article id", article["article_id"]),
        ("doc id", article["doc_id"]),
        ("source", article.get("source")),
        ("published", fmt(article.get("published"))),
        ("address", article.get("url")),  # shown as text: following it would leave the machine
        (
            "file",
            f"{article.get('source_file')}"
            + (f", line {article['line']}" if not pd.isna(article.get("line")) else ""),
        ),
    ]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(fmt(v))}</dd>" for k, v in meta)
    return f"""<!DOCTYPE html>
<html lang="en"><head>{HEAD_META}
<title>{esc(title)}</title><style>{css()}</style></head>
<body class="article-view">
{back}
<h1>{esc(title)}</h1>
<dl class="meta">{dl}</dl>
<h2>Text</h2>
{legend()}
<p class="hint">Hover over or focus (Tab) a highlighted figure for its reading.</p>
<div class="article-text" id="article-text">{highlight(text, figures)}</div>
<h2>Figures ({len(figures)})</h2>
{figures_table(figures, crossing)}
<h2>Incidents ({len(incidents)})</h2>
{incidents_table(incidents)}
</body></html>
"""


def page_name(article_id: str) -> str:
    """File name of an article's page: its id, kept to safe characters."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in article_id) + ".html"


def write_article_page(
    report_dir: Path,
    article: dict,
    figures: pd.DataFrame | list[dict],
    incidents: pd.DataFrame | list[dict],
) -> Path:
    """Write `<report_dir>/articles/<id>.html` atomically; returns its path."""
    folder = Path(report_dir) / ARTICLES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / page_name(article["article_id"])
    page = article_page(article, figures, incidents).encode("utf-8")
    write_bytes_atomic(path, page, durable=False)  # rebuilt from the tables on every report
    return path


def terminal_text(article: dict, figures: pd.DataFrame | list[dict]):
    """A rich Text of the article with each figure styled by category, then a legend."""
    text = article["text"]
    out = Text(text)
    for f in sorted(records(figures), key=lambda f: (f["start"], -f["end"])):
        out.stylize(TERM_STYLES.get(f["category"], "bold"), int(f["start"]), int(f["end"]))
    out.append("\n\n")
    for c in CATEGORIES:
        out.append(f" {c} ", style=TERM_STYLES[c] + " reverse")
        out.append(" ")
    return out
