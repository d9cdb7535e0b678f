"""Compare article totals with labelled rows: per source exact and covered rates, and the misses.

Input: JSON Lines with `id` ("<source>:<row id>"), `text`, and labels `killed` / `injured`, either
{"low", "best", "high"} dicts (hand-coded from the text alone) or plain integers (a dataset's own
count); a null label means unknown and the row is skipped for that category.

How totals are read: a category no figure speaks of ("nothing stated") counts as 0 for the
comparison, the same as an explicit zero ("no one was hurt", which extraction reports as
(0, 0, 0)); the extraction output itself keeps them apart (absent vs (0, 0, 0)).
*exact*: the total's best equals the label's best. *covered*: the label's best lies within the
total's [low, high] (high None = unbounded).

CLI: `casualties evaluate FILE` calls `run(path, out)`;
`python -m casualties.tools.evaluate FILE` too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import TextIO

from casualties.extract.article import extract_article

CATEGORIES = ("killed", "injured")


def _label(value: dict | float | str | None) -> tuple[int, int, int | None] | None:
    """A label as JSON gives it (a number, or {low, best, high}) as (low, best, high)."""
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("best") is None:
            return None
        return (value.get("low", value["best"]), value["best"], value.get("high"))
    return (int(value), int(value), int(value))


def evaluate(path: str | Path) -> dict:
    """Extract every row of a labelled JSONL file and score the totals.

    Returns {"rows": n, "sources": {source: {category: {"n", "exact", "covered"}}},
    "overall": {category: {...}}, "misses": [{"id", "category", "label", "got", "text"}]}.
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
            totals = extract_article(row.get("text") or "").totals
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
                    misses.append(
                        {
                            "id": row.get("id"),
                            "category": cat,
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
    return {"rows": rows, "sources": dict(per), "overall": overall, "misses": misses}


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
    """Print rates per source and overall, then the misses (id, category, label, got, excerpt)."""
    out.write(f"rows: {result['rows']}\n")
    out.write(f"{'source':28} {'killed exact/covered':30} {'injured exact/covered':30}\n")
    for source in sorted(result["sources"]):
        s = result["sources"][source]
        out.write(f"{source:28} {_rate(s['killed']):30} {_rate(s['injured']):30}\n")
    o = result["overall"]
    out.write(f"{'ALL':28} {_rate(o['killed']):30} {_rate(o['injured']):30}\n")
    misses = result["misses"] if max_misses is None else result["misses"][:max_misses]
    if misses:
        out.write(f"\nmisses ({len(result['misses'])}): id  category  label(low,best,high)  got\n")
    for m in misses:
        text = " ".join(m["text"].split())
        text = text if len(text) <= excerpt else text[: excerpt - 1] + "…"
        note = f"  [{m['note']}]" if m.get("note") else ""
        out.write(
            f"- {m['id']}  {m['category']}  label={tuple(m['label'])}  "
            f"got={tuple(m['got'])}{note}\n    {text}\n"
        )


def run(path: str | Path, out: TextIO = sys.stdout, max_misses: int | None = None) -> int:
    """Evaluate `path` and print the report to `out`. Returns the exit code (0; 2 if unreadable)."""
    try:
        result = evaluate(path)
    except (OSError, json.JSONDecodeError) as exc:
        out.write(f"cannot evaluate {path}: {exc}\n")
        return 2
    report(result, out, max_misses=max_misses)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m casualties.tools.evaluate FILE [--max-misses N]`."""
    parser = argparse.ArgumentParser(
        prog="casualties evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("file")
    parser.add_argument("--max-misses", type=int, default=None)
    args = parser.parse_args(argv)
    return run(args.file, max_misses=args.max_misses)


if __name__ == "__main__":
    raise SystemExit(main())
