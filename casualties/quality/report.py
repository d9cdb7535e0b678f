"""The maintainers' report: `<report>/index.html`, one self-contained page (inline CSS and SVG
charts, no script, no request leaves the machine) with the run, the quarantine, the Great
Expectations results, coverage, charts, changes since the previous run and a review queue
whose entries link to article pages (`<report>/articles/<id>.html`).

`build_report` is called by the flow's report stage after every run that writes tables, and by
`casualties report`. The data comes from `report_data` (a few columns at a time), the charts
from `charts` (matplotlib), the article pages from `article_view`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from casualties.files import write_bytes_atomic
from casualties.quality import report_data as data
from casualties.quality.article_view import (
    ARTICLES_DIR,
    HEAD_META,
    css,
    esc,
    fmt,
    highlight,
    legend,
    page_name,
    write_article_page,
)
from casualties.quality.charts import all_charts

INDEX = "index.html"
DATA_DOCS = "quality/index.html"
SENTENCE_CHARS = 600  # a queue entry shows at most this much of its sentence


def _load_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _save_json(path: Path, value: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, json.dumps(value, default=str).encode("utf-8"))


def _pct(part: int, whole: int) -> str:
    return "–" if not whole else f"{100 * part / whole:.1f}%"


def _table(headers: list[str], rows: list[list[str]], num: frozenset[int] = frozenset()) -> str:
    def cell(tag: str, i: int, v: str) -> str:
        return f'<{tag} class="num">{v}</{tag}>' if i in num else f"<{tag}>{v}</{tag}>"

    head = "".join(cell("th", i, esc(h)) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --------------------------------------------------------------------------------- sections


def _run_section(run: dict) -> str:
    inputs = run.get("inputs") or {}
    cards = "".join(
        f'<div class="card">{esc(k)}<b>{esc(fmt(inputs.get(k)))}</b></div>'
        for k in inputs or ("new", "changed", "removed", "unchanged")
    )
    rows = [[esc(t), f"{n:,}"] for t, n in (run.get("rows") or {}).items()]
    stages = [[esc(s), f"{v:.1f}"] for s, v in (run.get("stages") or {}).items()]
    total = run.get("seconds")
    return f"""<section id="run"><h2>The run</h2>
<p>Run <code>{esc(run.get("run_id") or "unknown")}</code> ({esc(run.get("plan") or "")}),
{esc(fmt(run.get("articles_new")))} new articles{
        f", {total:.1f} s" if isinstance(total, int | float) else ""
    }.</p>
<h3>Input files</h3><div class="cards" id="inputs">{cards}</div>
<h3>Rows per table</h3>{_table(["table", "rows"], rows, frozenset({1}))}
<h3>Seconds per stage</h3>{
        _table(["stage", "seconds"], stages, frozenset({1})) if stages else "<p>not recorded</p>"
    }
<p class="muted">Stages overlap when batches run in parallel: their sum can exceed the run.</p>
</section>"""


def _quarantine_section(reasons: list[dict]) -> str:
    if not reasons:
        return '<section id="quarantine"><h2>Quarantine</h2><p class="ok">No rows.</p></section>'
    summary = _table(
        ["reason", "stage", "rows"],
        [[esc(r["reason"]), esc(r.get("stage", "")), f"{r['rows']:,}"] for r in reasons],
        frozenset({2}),
    )
    samples = []
    for r in reasons:
        if not r["sample"]:
            continue
        rows = [
            [
                esc(s["source_file"]),
                esc(fmt(s["line"])),
                esc(fmt(s["doc_id"])),
                esc(fmt(s["detail"])),
                f'<span class="excerpt">{esc(fmt(s["excerpt"]))}</span>',
            ]
            for s in r["sample"]
        ]
        samples.append(
            f"<h3><code>{esc(r['reason'])}</code> ({r['rows']:,} rows; "
            f"{len(r['sample'])} shown)</h3>"
            + _table(["file", "line", "doc id", "detail", "excerpt"], rows)
        )
    return f"""<section id="quarantine"><h2>Quarantine by reason</h2>{summary}
{"".join(samples)}</section>"""


def _value(v) -> str:
    return esc(json.dumps(v, ensure_ascii=False, default=str))


def _gx_section(quality: dict | None) -> str:
    link = f'<a href="{DATA_DOCS}">Great Expectations Data Docs</a>'
    if not quality:
        return f"""<section id="gx"><h2>Great Expectations</h2><p>No check recorded yet
(run <code>casualties report</code>). {link}.</p></section>"""
    rows = [
        [esc(t), f"{v['rows']:,}", str(v["evaluated"]), str(v["failed"])]
        for t, v in quality.get("tables", {}).items()
    ]
    failed = []
    for t, v in quality.get("tables", {}).items():
        for f in v.get("failures") or [{"expectation": e} for e in v["failed_expectations"]]:
            failed.append(
                [
                    esc(t),
                    f"<code>{esc(f['expectation'])}</code>",
                    _value(f.get("kwargs", "")),
                    _value(f.get("observed_value")),
                    esc(fmt(f.get("unexpected_count"))),
                    f'<span class="sample">{_value(f.get("sample", []))}</span>',
                ]
            )
    status = (
        f'<p class="bad">{quality["failed"]} of {quality["evaluated"]} expectations failed.</p>'
        if quality["failed"]
        else f'<p class="ok">All {quality["evaluated"]} expectations passed.</p>'
    )
    detail = (
        _table(
            ["table", "expectation", "arguments", "observed", "failing rows", "failing sample"],
            failed,
        )
        if failed
        else ""
    )
    return f"""<section id="gx"><h2>Great Expectations</h2>{status}
{_table(["table", "rows", "expectations", "failed"], rows, frozenset({1, 2, 3}))}{detail}
<p>Every expectation and its result: {link} (its pages load styles from the internet; this
section is the offline summary).</p></section>"""


def _coverage_section(cov: dict) -> str:
    rows = []
    a = cov.get("articles") or {}
    if a:
        rows.append(
            [
                "articles with a figure",
                f"{a['with a figure']:,} of {a['rows']:,}",
                _pct(a["with a figure"], a["rows"]),
            ]
        )
    inc = cov.get("incidents") or {}
    for label, n in inc.items():
        if label != "rows":
            rows.append([f"incidents {label}", f"{n:,} of {inc['rows']:,}", _pct(n, inc["rows"])])
    if inc and "background" not in inc:
        rows.append(["incidents background", "not recorded by this pipeline version", "–"])
    return f"""<section id="coverage"><h2>Coverage</h2>
{_table(["share", "rows", "%"], [[esc(r[0]), esc(r[1]), esc(r[2])] for r in rows], frozenset({2}))}
</section>"""


def _charts_section(charts: dict[str, str]) -> str:
    items = "".join(
        f'<figure class="chart" data-chart="{esc(name)}">{svg}</figure>'
        for name, svg in charts.items()
    )
    body = items or "<p>No data to chart yet.</p>"
    return f'<section id="charts"><h2>Charts</h2><div class="charts">{body}</div></section>'


def _before_after(before, after) -> str:
    if fmt(before) == fmt(after):
        return esc(fmt(after))
    return f"<b>{esc(fmt(before))} → {esc(fmt(after))}</b>"


def _changes_section(ch: data.Changes) -> str:
    if ch.previous_run is None:
        return """<section id="changes"><h2>Changes since the previous run</h2>
<p>No previous report to compare with: changes show from the next run on.</p></section>"""
    rows = [
        [
            esc(t),
            f"{r['before']:,}",
            f"{r['after']:,}",
            esc(fmt(r.get("added"))),
            esc(fmt(r.get("removed"))),
        ]
        for t, r in ch.rows.items()
    ]
    ev_rows = [
        [
            f"<code>{esc(e['event_id'])}</code>",
            esc(fmt(e["date"])),
            esc(
                ", ".join(
                    str(x) for x in (e["place"], e["country"]) if x is not None and not pd.isna(x)
                )
            ),
            *(_before_after(*e[c]) for c in data.SNAPSHOT_COUNTS),
        ]
        for e in ch.changed_events
    ]
    reasons = (
        "<ul>"
        + "".join(f"<li><code>{esc(r)}</code>: {n:,} rows</li>" for r, n in ch.new_reasons.items())
        + "</ul>"
        if ch.new_reasons
        else "<p>None.</p>"
    )
    events = (
        f"<p>{ch.n_changed_events:,} events changed counts; the {len(ev_rows)} largest changes "
        "of killed_best:</p>" + _table(["event", "date", "place", *data.SNAPSHOT_COUNTS], ev_rows)
        if ev_rows
        else "<p>No event changed its counts.</p>"
    )
    return f"""<section id="changes"><h2>Changes since the previous run</h2>
<p>Previous run <code>{esc(ch.previous_run)}</code>. Added rows are those this run wrote
(rows of changed files count as removed and added). Events are followed by their incidents:
added events have no incident stored before, removed ones none stored now; an event that a
new report joins gets a new id and is listed below if its counts changed.</p>
{_table(["table", "before", "after", "added", "removed"], rows, frozenset({1, 2, 3, 4}))}
<h3>Events whose counts changed</h3>{events}
<h3>New quarantine reasons</h3>{reasons}</section>"""


# ----------------------------------------------------------------------------- review queue


def _sentence_bounds(text: str, f: dict) -> tuple[int, int]:
    """Where the figure's sentence stands in the text (the occurrence around the figure);
    else a window of words around it."""
    sentence = f["sentence"] or ""
    start, end = int(f["start"]), int(f["end"])
    if sentence:
        i = text.find(sentence, max(0, end - len(sentence)))
        while 0 <= i <= start:
            if i + len(sentence) >= end:
                lo, hi = i, i + len(sentence)
                break
            i = text.find(sentence, i + 1)
        else:
            lo, hi = max(0, start - 150), min(len(text), end + 150)
    else:
        lo, hi = max(0, start - 150), min(len(text), end + 150)
    if hi - lo > SENTENCE_CHARS:  # a run-on "sentence": keep the part around the figure
        lo = max(lo, start - SENTENCE_CHARS // 2)
        hi = min(hi, lo + SENTENCE_CHARS)
    return lo, hi


def _reading(f: dict) -> str:
    high = "no upper bound" if pd.isna(f["high"]) else fmt(f["high"])
    bits = [
        f"{f['category']} {fmt(f['best'])} (low {fmt(f['low'])}, high {high})",
        f"qualifier {f['qualifier']}",
    ]
    if not pd.isna(f["attributed_to"]):
        bits.append(f"attributed to {f['attributed_to']}")
    if f["hedged"]:
        bits.append("hedged")
    if f["claim_by_party"]:
        bits.append("party's claim")
    return " · ".join(bits)


def _queue_items(out_dir: Path, report_dir: Path) -> tuple[str, int, int]:
    """The review queue's HTML, its number of entries and of article pages written."""
    chosen = data.select_queue(out_dir)
    # Articles in round-robin over the kinds, so each kind keeps entries under the cap.
    order: list[str] = []
    for rank in range(3 * data.QUEUE_PER_KIND):
        for items in chosen.values():
            if rank < len(items) and items[rank][2] not in order:
                order.append(items[rank][2])
    wanted = set(order[: data.QUEUE_ARTICLES])
    arts = data.rows_of_articles(out_dir, "articles", wanted)
    figs = data.rows_of_articles(out_dir, "figures", wanted)
    incs = data.rows_of_articles(out_dir, "incidents", wanted)
    folder = Path(report_dir) / ARTICLES_DIR
    written = set()
    figs_of, incs_of = _by_article(figs), _by_article(incs)
    for art in arts.to_dict("records"):
        aid = art["article_id"]
        write_article_page(report_dir, art, figs_of.get(aid, []), incs_of.get(aid, []))
        written.add(page_name(aid))
    # Pages the previous report queued and this one does not (pages `casualties review`
    # wrote are not in that list and stay).
    pages = Path(report_dir) / data.SNAPSHOT_DIR / "queue_pages.json"
    for name in set((_load_json(pages) or {}).get("pages", [])) - written:
        (folder / name).unlink(missing_ok=True)
    _save_json(pages, {"pages": sorted(written)})
    texts = dict(zip(arts["article_id"], arts["text"], strict=True))
    by_id = {f["figure_id"]: f for f in figs.to_dict("records")}
    sections, n = [], 0
    for kind, items in chosen.items():
        entries: list[str] = []
        shown: set[tuple[str, str]] = set()
        for _, key, aid in items:
            if aid not in texts or len(entries) >= data.QUEUE_PER_KIND:
                continue
            f = by_id.get(key) if kind != "disputed" else _largest_of_incident(figs, key)
            if f is None:
                continue
            text = texts[aid]
            lo, hi = _sentence_bounds(text, f)
            words = (f["category"], text[lo:hi])
            if words in shown:  # the same sentence in another copy of a text
                continue
            shown.add(words)
            sentence = highlight(text, [f], lo, hi)
            entries.append(
                f'<li data-kind="{esc(kind)}" data-figure-id="{esc(f["figure_id"])}">'
                f'<span class="why">{esc(_reading(f))}</span>'
                f'<span class="sentence">{"…" if lo > 0 else ""}{sentence}'
                f"{'…' if hi < len(text) else ''}</span>"
                f'<a href="{ARTICLES_DIR}/{esc(page_name(aid))}">article view</a></li>'
            )
        n += len(entries)
        body = f'<ol class="queue">{"".join(entries)}</ol>' if entries else "<p>None.</p>"
        sections.append(f"<h3>{esc(data.QUEUE_KINDS[kind].capitalize())}</h3>{body}")
    return "".join(sections), n, len(written)


def _by_article(frame: pd.DataFrame) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in frame.to_dict("records"):
        out.setdefault(row["article_id"], []).append(row)
    return out


def _largest_of_incident(figs: pd.DataFrame, incident_id: str) -> dict | None:
    rows = figs[figs["incident_id"] == incident_id]
    if rows.empty:
        return None
    toll = rows[rows["category"].astype(str).isin(data.TOLL_CATEGORIES)]
    rows = toll if len(toll) else rows
    return rows.sort_values("best", ascending=False).iloc[0].to_dict()


def _review_section(html_items: str, n: int) -> str:
    return f"""<section id="review"><h2>Review queue</h2>
<p>Figures most worth a human's eye ({n} entries, at most {data.QUEUE_PER_KIND} per kind), each
in its sentence with the number's words highlighted; the article view shows every figure of
the article.</p>{legend()}{html_items}</section>"""


# ------------------------------------------------------------------------------------- page


def build_report(
    out_dir: Path,
    report_dir: Path,
    run: dict | None = None,
    quality: dict | None = None,
) -> dict:
    """Write `<report_dir>/index.html` (and the article pages of its review queue) from the
    tables in `out_dir`.

    `run`: what the flow knows of the run (run_id, plan, inputs new/changed/removed/unchanged,
    stages); `quality`: the summary of `checks.run_quality`. Both are kept beside the report so
    `casualties report` can rebuild it; without them the kept ones (or the stored run stats)
    are used. Returns {"index", "bytes", "articles", "queue", "seconds", "parts": {part: s}}.
    """
    t0 = time.perf_counter()
    out_dir, report_dir = Path(out_dir), Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    keep = report_dir / data.SNAPSHOT_DIR
    run_id = data.stored_run_id(out_dir)
    if run is not None:
        _save_json(keep / "run.json", run)
    else:
        run = _load_json(keep / "run.json") or {}
        if run.get("run_id") != run_id:  # the store moved on without this report
            stats = data.run_stats(out_dir)
            run = {"run_id": run_id, "stages": stats.get("stages"), "plan": "as stored"}
    run = {**run, "rows": data.row_counts(out_dir)}
    if quality is not None:
        _save_json(keep / "quality.json", quality)
    else:
        quality = _load_json(keep / "quality.json")

    seconds: dict[str, float] = {}

    def timed(name: str, fn, *args):
        t = time.perf_counter()
        value = fn(*args)
        seconds[name] = round(time.perf_counter() - t, 3)
        return value

    queue_html, n_queue, n_pages = timed("review queue", _queue_items, out_dir, report_dir)
    chart_svgs = timed("charts", lambda: all_charts(data.chart_data(out_dir)))
    changes = timed("changes", data.changes_since_previous, out_dir, report_dir, run_id)
    body = "\n".join(
        [
            _run_section(run),
            _quarantine_section(timed("quarantine", data.quarantine_by_reason, out_dir)),
            _gx_section(quality),
            _coverage_section(timed("coverage", data.coverage, out_dir)),
            _charts_section(chart_svgs),
            _changes_section(changes),
            _review_section(queue_html, n_queue),
        ]
    )
    nav = "".join(
        f'<a href="#{i}">{t}</a>'
        for i, t in (
            ("run", "Run"),
            ("quarantine", "Quarantine"),
            ("gx", "Expectations"),
            ("coverage", "Coverage"),
            ("charts", "Charts"),
            ("changes", "Changes"),
            ("review", "Review queue"),
        )
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head>{HEAD_META}
<title>casualties: run report</title><style>{css()}</style></head>
<body><h1>casualties: run report</h1><nav>{nav}</nav>
{body}
<p class="muted">Built in {time.perf_counter() - t0:.1f} s from {esc(str(out_dir))}.</p>
</body></html>
"""
    index = report_dir / INDEX
    write_bytes_atomic(index, page.encode("utf-8"))
    return {
        "index": str(index.resolve()),
        "bytes": len(page.encode("utf-8")),
        "articles": n_pages,
        "queue": n_queue,
        "seconds": time.perf_counter() - t0,
        "parts": seconds,
    }
