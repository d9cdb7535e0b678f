"""Incremental benchmark: what a scheduled run costs when little is new.

`casualties bench --incremental` calls `run_incremental`: it builds the corpus of `bench`, runs
`casualties run` on it (full), adds one article and runs again, adds 1 MB and runs again, then
rebuilds the same inputs from scratch into another folder and says whether every table equals
the incremental store's (row for row, ignoring `run_id` and row order). Each run is measured as
`bench` measures one (`measure_run`: wall time, peak memory of the process tree, stages).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from casualties.fields import TABLES
from casualties.storage import store
from casualties.tools.bench import build_corpus, format_table, measure_run, source_texts

ADDED = "zz-added"  # prefix of the files the benchmark adds to the corpus
KEYS = {
    "articles": ["article_id"],
    "figures": ["figure_id"],
    "incidents": ["incident_id"],
    "events": ["event_id"],
    "quarantine": ["source_file", "line", "stage", "reason"],
}


def _add_articles(raw: Path, mb: float, seed: int, name: str, first_only: bool) -> int:
    """Write `mb` MB of new articles (another seed: distinct texts and ids) as
    `raw/<ADDED>-<name>-NNNN.jsonl`; with `first_only`, one article. Returns articles added."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus = build_corpus(Path(tmp), mb, seed=seed, texts=source_texts())
        n = 0
        for i, path in enumerate(corpus.files):
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            lines = lines[:1] if first_only else lines
            (raw / f"{ADDED}-{name}-{i:04d}.jsonl").write_text("".join(lines), encoding="utf-8")
            n += len(lines)
            if first_only:
                break
    return n


def _canonical(out: Path, name: str) -> pd.DataFrame:
    df = store.read_table(out, TABLES[name]).drop(columns="run_id")
    if name == "events":  # a list column: compare it as text
        df["incident_ids"] = df["incident_ids"].map(lambda v: json.dumps(list(v)))
    return df.sort_values(KEYS[name], kind="stable").reset_index(drop=True)


def tables_equal(a: Path, b: Path) -> dict[str, bool]:
    """Per table: the same rows in the stores `a` and `b` (run ids and row order aside)."""
    out = {}
    for name in TABLES:
        try:
            pd.testing.assert_frame_equal(_canonical(a, name), _canonical(b, name))
            out[name] = True
        except AssertionError:
            out[name] = False
    return out


def _row(step: str, run, added: int) -> dict:
    stages = run.stats.get("stages", {})
    return {
        "step": step,
        "added": added,
        "seconds": round(run.seconds, 1),
        "flow_s": round(run.stats.get("flow_seconds", 0.0), 1),
        **{s: round(v, 1) for s, v in stages.items()},
        "peak_RSS_MB": round(run.peak_rss_mb),
        "rc": run.returncode,
        "articles": run.articles_out,
    }


def run_incremental(
    mb: float,
    work_dir: Path = Path("bench"),
    seed: int = 0,
    runner_args: list[str] | None = None,
    echo=print,
) -> tuple[list[dict], dict[str, bool]]:
    """Full run, +1 article, +1 MB, and a full rebuild to compare with; prints a table."""
    root = Path(work_dir) / f"incremental-{mb:g}mb"
    shutil.rmtree(root, ignore_errors=True)
    raw = root / "raw"
    corpus = build_corpus(raw, mb, seed=seed)
    echo(
        f"[bench] corpus {corpus.articles} articles, {corpus.mb:.1f} MB, {len(corpus.files)} files"
    )
    rows = []
    run = measure_run(raw, root / "run", runner_args)
    rows.append(_row("full run", run, corpus.articles))
    echo(f"[bench] full run {run.seconds:.1f} s")
    n = _add_articles(raw, 0.000001, seed + 1, "one", first_only=True)
    run = measure_run(raw, root / "run", runner_args)
    rows.append(_row("+1 article", run, n))
    echo(f"[bench] +1 article {run.seconds:.1f} s")
    n = _add_articles(raw, 1.0, seed + 2, "1mb", first_only=False)
    run = measure_run(raw, root / "run", runner_args)
    rows.append(_row("+1 MB", run, n))
    echo(f"[bench] +1 MB {run.seconds:.1f} s")
    run = measure_run(raw, root / "rebuild", runner_args)
    rows.append(_row("full rebuild", run, 0))
    equal = tables_equal(root / "run" / "processed", root / "rebuild" / "processed")
    echo("")
    echo(format_table(rows))
    echo(
        "tables equal a full rebuild's: "
        + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in equal.items())
    )
    echo(
        "seconds = `casualties run` wall time incl. Python/Prefect startup; flow_s = the flow "
        "itself; peak_RSS = sum over the process tree."
    )
    return rows, equal
