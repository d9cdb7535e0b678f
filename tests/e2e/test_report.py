"""The maintainers' report and the article view, built by the real flow on a copy of raw/ (two
runs: the second adds a later report of a known event with hostile markup, and a broken line)
and opened in headless Chromium with the network unreachable.

Chromium is the Debian package (`.ci/run` installs it); without it the browser tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.paths import REPO

HOSTILE = {
    "id": "late-aden",
    "title": "Aden toll rises <script>alert('title')</script>",
    # the latest report of the Aden shelling (after the sample's update of 4 March, 11:40):
    # its toll supersedes the earlier ones
    "published": "2024-03-05T10:00:00Z",
    "url": "https://example.com/late-aden",
    "text": "ADEN, Yemen (Wire) - The death toll from Saturday's shelling of a residential "
    'suburb of Aden rose to 41, medical sources said. <img src="http://example.com/x.png"> '
    "Officials said 3 <b>children</b> were among the dead & <script>fetch('http://example.com/"
    "steal')</script> 20 people were injured.",
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Two real flow runs; the report is what the second one wrote."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.pipeline import pipeline

    base = tmp_path_factory.mktemp("report")
    raw, out, report = base / "raw", base / "processed", base / "reports"
    shutil.copytree(REPO / "raw", raw)
    summaries = []
    with prefect_test_harness(server_startup_timeout=120):
        summaries.append(pipeline(raw_dir=raw, out_dir=out, report_dir=report))
        first_index = (report / "index.html").read_text(encoding="utf-8")
        first_events = pd.read_parquet(out / "events")
        with (raw / "extra.jsonl").open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(HOSTILE) + "\n")
            fh.write('{"id": "cut-off", "text": "Two people\n')
        summaries.append(pipeline(raw_dir=raw, out_dir=out, report_dir=report))
    return {
        "raw": raw,
        "out": out,
        "report": report,
        "index": report / "index.html",
        "first_index": first_index,
        "first_events": first_events,
        "summaries": summaries,
    }


def _section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


# ------------------------------------------------------------------------------ page content


def test_every_run_writes_the_report_and_the_summary_points_at_it(store):
    assert Path(store["summaries"][1]["report"]) == store["index"].resolve()
    html = store["index"].read_text(encoding="utf-8")
    for section in ("run", "quarantine", "gx", "coverage", "charts", "changes", "review"):
        assert f'<section id="{section}">' in html
    run = _section(html, "run")
    assert store["summaries"][1]["run_id"] in run
    # second run: one new file, the eight of the first unchanged
    assert "new<b>1</b>" in run and "unchanged<b>8</b>" in run
    for stage in ("parse", "extract", "write", "quality"):
        assert f"<td>{stage}</td>" in run
    # the first run had no previous one to compare with
    assert "No previous report" in _section(store["first_index"], "changes")


def test_quarantine_section_shows_file_line_and_excerpt(store):
    q = _section(store["index"].read_text(encoding="utf-8"), "quarantine")
    assert "<code>invalid_json</code>" in q
    assert "<td>extra.jsonl</td><td>2</td>" in q
    assert "Two people" in q  # the excerpt of the broken line


def test_changes_since_previous_run(store):
    ch = _section(store["index"].read_text(encoding="utf-8"), "changes")
    assert store["summaries"][0]["run_id"] in ch
    assert "<li><code>invalid_json</code>: 1 rows</li>" in ch  # a reason new in this run
    # the later report joins the Aden event (new id, same incidents plus one) and its toll
    # changes: the report shows before -> after
    articles = pd.read_parquet(store["out"] / "articles")
    late = articles.loc[articles["doc_id"] == "late-aden", "article_id"].iloc[0]
    events = pd.read_parquet(store["out"] / "events")
    after = events[events["incident_ids"].map(lambda ids: any(i.startswith(late) for i in ids))]
    assert after["n_sources"].iloc[0] >= 2
    old_ids = set(after["incident_ids"].iloc[0]) - {f"{late}:i0"}
    before = store["first_events"]
    before = before[before["incident_ids"].map(lambda ids: bool(old_ids & set(ids)))]
    assert after["event_id"].iloc[0] in ch
    changed = 0
    for c in ("killed_low", "killed_best", "killed_high", "injured_best"):
        b, a = before[c].iloc[0], after[c].iloc[0]
        if b != a:
            assert f"{b} → {a}" in ch
            changed += 1
    assert changed


def test_coverage_shares_match_the_tables(store):
    cov = _section(store["index"].read_text(encoding="utf-8"), "coverage")
    incidents = pd.read_parquet(store["out"] / "incidents")
    n, dated = len(incidents), int(incidents["date"].notna().sum())
    assert f"<td>incidents with a date</td><td>{dated:,} of {n:,}</td>" in cov
    background = int(incidents["is_background"].sum())
    assert f"<td>incidents background</td><td>{background:,} of {n:,}</td>" in cov


def test_coverage_of_a_store_without_the_background_column(store, tmp_path):
    from casualties.quality.report import build_report

    out = tmp_path / "processed"
    shutil.copytree(store["out"], out)
    for part in (out / "incidents").glob("*.parquet"):  # as an older pipeline wrote them
        pq.write_table(pq.read_table(part).drop_columns(["is_background"]), part)
    build_report(out, tmp_path / "r")
    cov = _section((tmp_path / "r" / "index.html").read_text(encoding="utf-8"), "coverage")
    assert "<td>incidents background</td><td>not recorded by this pipeline version</td>" in cov
    assert "<td>incidents with a place</td>" in cov


def test_failed_expectations_show_observed_values_and_samples(store, tmp_path):
    from casualties.quality.checks import check_frames
    from casualties.quality.report import build_report

    figures = pd.read_parquet(store["out"] / "figures")
    figures.loc[0, "low"] = 99_999  # low > best
    quality = check_frames({"figures": figures}, tmp_path / "r")
    build_report(store["out"], tmp_path / "r", quality=quality)
    gx = _section((tmp_path / "r" / "index.html").read_text(encoding="utf-8"), "gx")
    assert "expect_column_pair_values_a_to_be_greater_than_b(best, low)" in gx
    assert "99999" in gx  # the failing pair in the sample
    assert 'href="quality/index.html"' in gx


def test_review_queue_entries_link_to_article_pages(store):
    html = store["index"].read_text(encoding="utf-8")
    review = _section(html, "review")
    assert review.count("<li ") >= 5
    for href in set(__import__("re").findall(r'href="(articles/[^"]+)"', review)):
        assert (store["report"] / href).is_file()
    # the party's own claim in raw/ is queued under its kind
    assert 'data-kind="party_claim"' in review


def test_untrusted_text_is_escaped_everywhere(store):
    pages = [store["index"], *(store["report"] / "articles").glob("*.html")]
    late = [p for p in pages if "late-aden" in p.read_text(encoding="utf-8")]
    assert late, "the hostile article has a page"
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<script" not in html and "<img" not in html and "<b>children" not in html
    assert "&lt;script&gt;fetch(" in late[-1].read_text(encoding="utf-8")


# ------------------------------------------------------------------------------- review CLI


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    return subprocess.run(
        [sys.executable, "-m", "casualties.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_review_writes_any_stored_article(store, tmp_path):
    articles = pd.read_parquet(store["out"] / "articles")
    for aid in articles["article_id"]:
        res = _cli("review", aid, "--out", str(store["out"]), "--report", str(tmp_path))
        assert res.returncode == 0, res.stderr
        path = Path(res.stdout.strip())
        assert path.is_file() and path.parent == tmp_path / "articles"


def test_review_text_prints_the_article_with_its_figures(store):
    figures = pd.read_parquet(store["out"] / "figures")
    aid = figures["article_id"].value_counts().index[0]
    res = _cli("review", aid, "--out", str(store["out"]), "--text")
    assert res.returncode == 0, res.stderr
    for surface in figures.loc[figures["article_id"] == aid, "surface"]:
        assert surface in res.stdout.replace("\n", " ")
    res = _cli("review", "no-such-article", "--out", str(store["out"]))
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0 and "no article" in res.stderr


# ---------------------------------------------------------------------------------- browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs the Debian package)"
)


def _chromium(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    """Headless Chromium on a local file with the network unreachable: every host resolves
    to nothing and every request goes to a closed proxy port."""
    profile = tmp / f"profile-{len(list(tmp.iterdir()))}"
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1200,2400",
        *extra,
        page.resolve().as_uri(),
    ]
    res = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return res


class _Marks(HTMLParser):
    """Every <mark class="fig ..."> with its data attributes and its full text (nested marks
    included), and every src/href in the page."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[dict] = []
        self.open: list[dict] = []
        self.links: list[str] = []
        self.svgs = 0
        self.queue_items = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.links += [v for k, v in attrs if k in ("src", "href") and v]
        if tag == "svg":
            self.svgs += 1
        if tag == "li" and "data-kind" in a:
            self.queue_items += 1
        if tag == "mark" and "fig" in (a.get("class") or "").split():
            mark = {**a, "text": ""}
            self.marks.append(mark)
            self.open.append(mark)
        elif tag == "mark":
            self.open.append({"text": "", "plain": True})

    def handle_endtag(self, tag):
        if tag == "mark" and self.open:
            self.open.pop()

    def handle_data(self, data):
        for m in self.open:
            m["text"] += data


def _parse(dom: str) -> _Marks:
    p = _Marks()
    p.feed(dom)
    return p


def _page_requests(netlog: Path) -> list[str]:
    """URLs the page asked the network for (browser-internal requests have no file:// page
    in their isolation key and are not the page's)."""
    log = json.loads(netlog.read_text(encoding="utf-8"))
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    return [
        e["params"]["url"]
        for e in log["events"]
        if types.get(e["type"]) == "URL_REQUEST_START_JOB"
        and "url" in e.get("params", {})
        and "file://" in e["params"].get("network_isolation_key", "")
        and not e["params"]["url"].startswith(("file:", "data:"))
    ]


@needs_chromium
def test_report_renders_offline_in_chromium(store, tmp_path):
    res = _chromium(store["index"], tmp_path, "--dump-dom")
    dom = _parse(res.stdout)
    assert "casualties: run report" in res.stdout
    assert dom.svgs >= 4  # charts: killed per month, countries, per incident, categories...
    assert dom.queue_items >= 5
    assert len(dom.marks) == dom.queue_items  # each entry highlights its figure's words
    external = [u for u in dom.links if u.startswith(("http:", "https:", "//"))]
    assert external == [], external


@needs_chromium
def test_report_screenshot_is_not_blank(store, tmp_path):
    from PIL import Image

    shot = tmp_path / "report.png"
    _chromium(store["index"], tmp_path, f"--screenshot={shot}")
    img = Image.open(shot).convert("L")
    lo, hi = img.getextrema()
    assert hi - lo > 100  # dark text on a light page
    dark = sum(img.histogram()[:128])
    assert dark > 0.002 * img.width * img.height


@needs_chromium
def test_article_pages_mark_the_exact_words_offline(store, tmp_path):
    articles = pd.read_parquet(store["out"] / "articles")
    texts = dict(zip(articles["article_id"], articles["text"], strict=True))
    figures = pd.read_parquet(store["out"] / "figures")
    pages = sorted((store["report"] / "articles").glob("*.html"))
    assert pages
    checked = 0
    for i, page in enumerate(pages):
        log = tmp_path / f"net-{i}.json"
        dom = _parse(_chromium(page, tmp_path, "--dump-dom", f"--log-net-log={log}").stdout)
        assert _page_requests(log) == [], page  # the hostile article's page among them
        aid = page.stem
        assert len(dom.marks) == int((figures["article_id"] == aid).sum())
        for m in dom.marks:
            start, end = int(m["data-start"]), int(m["data-end"])
            assert m["text"] == texts[aid][start:end]
            assert m["data-figure-id"] == f"{aid}:{start}-{end}"
            assert "best" in m["data-tip"] and m["tabindex"] == "0"
            checked += 1
    assert checked >= 10


@needs_chromium
def test_no_request_leaves_the_machine(store, tmp_path):
    # The detector: a page that does load a remote image is caught.
    control = tmp_path / "control.html"
    control.write_text('<p>x</p><img src="http://example.com/x.png">', encoding="utf-8")
    log = tmp_path / "control.json"
    _chromium(control, tmp_path, f"--log-net-log={log}", "--dump-dom")
    assert _page_requests(log) == ["http://example.com/x.png"]
    # The report: none.
    log = tmp_path / "net.json"
    _chromium(store["index"], tmp_path, f"--log-net-log={log}", "--dump-dom")
    assert _page_requests(log) == []


def test_report_command_rebuilds_the_page_of_the_last_run(store, tmp_path):
    out, report = tmp_path / "processed", tmp_path / "reports"
    shutil.copytree(store["out"], out)
    shutil.copytree(store["report"], report)
    res = _cli("report", "--out", str(out), "--report", str(report))
    assert res.returncode == 0, res.stderr
    assert f"Report: {(report / 'index.html').resolve()}" in res.stdout
    html = (report / "index.html").read_text(encoding="utf-8")
    # the kept run record and the previous snapshot: the same run, the same changes
    assert "new<b>1</b>" in _section(html, "run")
    assert store["summaries"][0]["run_id"] in _section(html, "changes")
    assert "<code>invalid_json</code>: 1 rows" in _section(html, "changes")
