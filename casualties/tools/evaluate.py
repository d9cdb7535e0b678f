"""Compare article totals with labelled rows: per source exact and covered rates, and the misses.

Input: JSON Lines with `id` ("<source>:<row id>"), `text`, and labels `killed` / `injured`, either
{"low", "best", "high"} dicts (hand-coded from the text alone) or plain integers (a dataset's own
count); a null label means unknown and the row is skipped for that category.

How totals are read: a category no figure speaks of ("nothing stated") counts as 0 for the
comparison, the same as an explicit zero ("no one was hurt", which extraction reports as
(0, 0, 0)); the extraction output itself keeps them apart (absent vs (0, 0, 0)).
*exact*: the total's best equals the label's best. *covered*: the label's best lies within the
total's [low, high] (high None = unbounded).

Each miss (best not exact) has a kind, so a list of wrong articles says what to look at:
- *missed*: the label is above 0 and extraction found nothing (best 0);
- *under-count*: found some, fewer than the label;
- *background added*: too many, and the excess is exactly the count of one incident reported
  as news (`is_background` false) whose date is earlier than that of another incident with
  this category: most likely an earlier event the article recalls, counted as news;
- *over-count*: too many otherwise (a repeated toll or person summed, an age read as a count).

`explain` prints one article's reasoning: each figure with its words, the account and
incident it joined, whether it counted and why, then the incidents and the totals against the
labels.

CLI: `casualties evaluate FILE [--explain ID]` calls `run(path, out, explain=ID)`;
`python -m casualties.tools.evaluate FILE` too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import TextIO

import pandas as pd

from casualties.extract.article import extract_article
from casualties.extract.model import ArticleExtraction

CATEGORIES = ("killed", "injured")
KINDS = ("over-count", "under-count", "background added", "missed")


def _label(value: dict | float | str | None) -> tuple[int, int, int | None] | None:
    """A label as JSON gives it (a number, or {low, best, high}) as (low, best, high)."""
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("best") is None:
            return None
        return (value.get("low", value["best"]), value["best"], value.get("high"))
    return (int(value), int(value), int(value))


def _published(row: dict):
    """The row's publication time as the pipeline passes it (None when absent or unparseable)."""
    pub = pd.to_datetime(row.get("published"), utc=True, errors="coerce")
    return None if pd.isna(pub) else pub.to_pydatetime()


def _extract(row: dict) -> ArticleExtraction:
    return extract_article(row.get("text") or "", _published(row))


def _day(inc) -> pd.Timestamp | None:
    date = inc.attributes.get("date")
    return None if date is None or pd.isna(date) else pd.Timestamp(date).normalize()


def _carrier(cat: str, excess: int, ex: ArticleExtraction) -> int | None:
    """Index of a news incident holding exactly `excess` of `cat`, dated before another incident
    that counts `cat` (see the module doc: "background added"); None when there is none."""
    dated = [
        (k, _day(inc)) for k, inc in enumerate(ex.incidents) if inc.counts.get(cat) is not None
    ]
    for k, day in dated:
        inc = ex.incidents[k]
        if inc.is_background or inc.counts[cat][1] != excess or day is None:
            continue
        if any(other is not None and day < other for j, other in dated if j != k):
            return k
    return None


def error_kind(cat: str, label: tuple, got: tuple, ex: ArticleExtraction) -> tuple[str | None, str]:
    """(kind, detail) of a total against its label: kind None when best is right, else one of
    KINDS; the detail names the incident that carries a background excess."""
    want, have = label[1], got[1]
    if have == want:
        return None, ""
    if have < want:
        return ("missed" if have == 0 else "under-count"), ""
    k = _carrier(cat, have - want, ex)
    if k is None:
        return "over-count", ""
    return "background added", f"i{k} carries the excess of {have - want}"


def evaluate(path: str | Path) -> dict:
    """Extract every row of a labelled JSONL file and score the totals.

    Returns {"rows": n, "sources": {source: {category: {"n", "exact", "covered"}}},
    "overall": {category: {...}}, "kinds": {kind: misses}, "misses": [{"id", "category",
    "kind", "detail", "label", "got", "text", "note"}]}.
    """
    per: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: {c: {"n": 0, "exact": 0, "covered": 0} for c in CATEGORIES}
    )
    misses: list[dict] = []
    rows = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            rows += 1
            source = str(row.get("id", "")).split(":", 1)[0]
            ex = _extract(row)
            totals = ex.totals
            for cat in CATEGORIES:
                label = _label(row.get(cat))
                if label is None:
                    continue
                got = totals.get(cat, (0, 0, 0))
                stats = per[source][cat]
                stats["n"] += 1
                exact = got[1] == label[1]
                covered = got[0] <= label[1] and (got[2] is None or label[1] <= got[2])
                stats["exact"] += exact
                stats["covered"] += covered
                if not exact:
                    kind, detail = error_kind(cat, label, got, ex)
                    misses.append(
                        {
                            "id": row.get("id"),
                            "category": cat,
                            "kind": kind,
                            "detail": detail,
                            "label": list(label),
                            "got": list(got),
                            "text": row.get("text") or "",
                            "note": row.get("note", ""),
                        }
                    )
    overall = {c: {"n": 0, "exact": 0, "covered": 0} for c in CATEGORIES}
    for by_category in per.values():
        for c in CATEGORIES:
            for k in overall[c]:
                overall[c][k] += by_category[c][k]
    kinds = {k: sum(m["kind"] == k for m in misses) for k in KINDS}
    return {
        "rows": rows,
        "sources": dict(per),
        "overall": overall,
        "kinds": kinds,
        "misses": misses,
    }


def _rate(stats: dict) -> str:
    if not stats["n"]:
        return "     -         -    (n=0)"
    return (
        f"{100 * stats['exact'] / stats['n']:5.1f}%  {100 * stats['covered'] / stats['n']:5.1f}%"
        f"  (n={stats['n']})"
    )


def report(
    result: dict, out: TextIO = sys.stdout, max_misses: int | None = None, excerpt: int = 160
) -> None:
    """Print rates per source and overall, then the misses (id, category, kind, label, got,
    excerpt)."""
    out.write(f"rows: {result['rows']}\n")
    out.write(f"{'source':28} {'killed exact/covered':30} {'injured exact/covered':30}\n")
    for source in sorted(result["sources"]):
        s = result["sources"][source]
        out.write(f"{source:28} {_rate(s['killed']):30} {_rate(s['injured']):30}\n")
    o = result["overall"]
    out.write(f"{'ALL':28} {_rate(o['killed']):30} {_rate(o['injured']):30}\n")
    misses = result["misses"] if max_misses is None else result["misses"][:max_misses]
    if misses:
        wrong = len({m["id"] for m in result["misses"]})
        kinds = ", ".join(f"{k} {n}" for k, n in result["kinds"].items() if n)
        out.write(f"\nwrong articles: {wrong} ({kinds})\n")
        out.write(
            f"\nmisses ({len(result['misses'])}): id  category  kind  label(low,best,high)  got\n"
        )
    for m in misses:
        text = " ".join(m["text"].split())
        text = text if len(text) <= excerpt else text[: excerpt - 1] + "…"
        note = f"  [{m['note']}]" if m.get("note") else ""
        detail = f" ({m['detail']})" if m.get("detail") else ""
        out.write(
            f"- {m['id']}  {m['category']}  {m['kind']}{detail}  label={tuple(m['label'])}  "
            f"got={tuple(m['got'])}{note}\n    {text}\n"
        )


def find_row(path: str | Path, doc_id: str) -> dict:
    """The labelled row whose `id` is `doc_id` (compared as text); LookupError when none is."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                if str(row.get("id")) == doc_id:
                    return row
    raise LookupError(f"no row with id {doc_id!r} in {path}")


def _triple(t) -> str:
    return "-" if t is None else "(" + ", ".join("None" if v is None else str(v) for v in t) + ")"


def _one_line(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def explain(row: dict, out: TextIO = sys.stdout) -> None:
    """Print how extraction reads one labelled row (see `print_explanation`)."""
    print_explanation(row, _extract(row), out)


def print_explanation(row: dict, ex: ArticleExtraction, out: TextIO = sys.stdout) -> None:
    """Print the extraction `ex` of one labelled row: every figure with its words and offsets,
    the account and incident it joined, whether it counted and why; the incidents (news or
    background); the article totals against the labels."""
    text = row.get("text") or ""
    pub = _published(row)
    out.write(
        f"{row.get('id')}  ({len(text)} characters, published {pub.date() if pub else '-'})\n"
    )
    if row.get("title"):
        out.write(f"title: {row['title']}\n")
    figs = ex.figures
    out.write(f"\nfigures ({len(figs)}): words [start:end]  category (low, best, high)\n")
    if figs and not any(f.why or f.counted or f.account is not None for f in figs):
        out.write("  (this extraction records no account, counted or why for its figures)\n")
    for n, f in enumerate(figs):
        flags = [
            k for k in ("is_aggregate", "is_cumulative", "is_subset", "hedged") if getattr(f, k)
        ]
        flags += [f"victims={f.victim_type}"] if f.victim_type else []
        flags += ["claim_by_party"] if f.claim_by_party else []
        flags += [f"attributed_to={f.attributed_to}"] if f.attributed_to else []
        out.write(
            f"  f{n}  {f.surface!r} [{f.start}:{f.end}]  {f.category} "
            f"{_triple((f.low, f.best, f.high))} {f.qualifier}  rule={f.rule}"
            f"{'  ' + ' '.join(flags) if flags else ''}\n"
        )
        end = f.sentence_start + len(f.sentence)
        out.write(f"      sentence [{f.sentence_start}:{end}]: {_one_line(f.sentence)}\n")
        incident = "none (aggregate)" if f.incident is None else f"i{f.incident}"
        account = "-" if f.account is None else str(f.account)
        out.write(
            f"      account {account}, incident {incident}: "
            f"{'counted' if f.counted else 'not counted'}"
            f"{' - ' + f.why if f.why else ''}\n"
        )
    out.write(f"\nincidents ({len(ex.incidents)}):\n")
    for k, inc in enumerate(ex.incidents):
        a = inc.attributes
        counts = "  ".join(f"{c} {_triple(t)}" for c, t in inc.counts.items()) or "no counts"
        date = _day(inc)
        where = ", ".join(str(a[key]) for key in ("place", "country") if a.get(key))
        when = a.get("date_precision") or "unknown"
        when += f", {a['date_text']!r}" if a.get("date_text") else ""
        out.write(
            f"  i{k}  {'background' if inc.is_background else 'news'}  [{inc.start}:{inc.end}]  "
            f"figures {' '.join(f'f{i}' for i in inc.figure_indices) or '-'}  {counts}\n"
            f"      date {date.date() if date is not None else '-'}"
            f" ({when})"
            f"  place {where or '-'}  type {a.get('event_type') or '-'}"
            f"{'  party claim' if inc.claim_by_party else ''}\n"
        )
    out.write("\ntotals: got vs label\n")
    for cat in CATEGORIES:
        got = ex.totals.get(cat, (0, 0, 0))
        label = _label(row.get(cat))
        if label is None:
            verdict = "no label"
        else:
            kind, detail = error_kind(cat, label, got, ex)
            verdict = "right" if kind is None else kind + (f" ({detail})" if detail else "")
        out.write(f"  {cat:8} got {_triple(got):18} label {_triple(label):18} {verdict}\n")
    if row.get("note"):
        out.write(f"note: {row['note']}\n")


def run(
    path: str | Path,
    out: TextIO = sys.stdout,
    max_misses: int | None = None,
    explain_id: str | None = None,
    err: TextIO = sys.stderr,
) -> int:
    """Evaluate `path` and print the report to `out`, or with `explain_id` how that one row is
    read. Returns the exit code (0; 2 if unreadable or the id is not in the file, with one line
    on `err`)."""
    try:
        if explain_id is not None:
            explain(find_row(path, explain_id), out)
            return 0
        result = evaluate(path)
    except (OSError, json.JSONDecodeError, LookupError) as exc:
        err.write(f"cannot evaluate {path}: {exc}\n")
        return 2
    report(result, out, max_misses=max_misses)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m casualties.tools.evaluate FILE [--max-misses N] [--explain ID]`."""
    parser = argparse.ArgumentParser(
        prog="casualties evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("file")
    parser.add_argument("--max-misses", type=int, default=None)
    parser.add_argument("--explain", metavar="ID", default=None)
    args = parser.parse_args(argv)
    return run(args.file, max_misses=args.max_misses, explain_id=args.explain)


if __name__ == "__main__":
    raise SystemExit(main())
