"""Incremental benchmark: what a scheduled run costs when little is new.

`casualties bench --incremental` calls `run_incremental`: it builds the corpus of `bench`, runs
`casualties run` on it (full), adds one article and runs again, adds 1 MB and runs again, then
rebuilds the same inputs from scratch into another folder and says whether every table equals
the incremental store's (row for row, ignoring `run_id` and row order). Each run is measured as
`bench` measures one (`measure_run`: wall time, peak memory of the process tree, stages).
"""

from __future__ import annotations

import functools
import json
import os
import resource
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(raw: Path, work: Path, runner_args, step: str, added: int) -> dict:
    """One measured run as a row; cpu_s is the CPU time of the run's process tree (the
    children it waited for), which other load on the machine does not inflate."""
    cpu = _children_cpu()
    run = measure_run(raw, work, runner_args)
    row = _row(step, run, added, _children_cpu() - cpu)
    row["cpu_split"] = cpu_split(row, run.stats)
    return row


def _row(step: str, run, added: int, cpu: float) -> dict:
    stages = run.stats.get("stages", {})
    return {
        "step": step,
        "added": added,
        "seconds": round(run.seconds, 1),
        "cpu_s": round(cpu, 1),
        "flow_s": round(run.stats.get("flow_seconds", 0.0), 1),
        **{s: round(v, 1) for s, v in stages.items()},
        "peak_RSS_MB": round(run.peak_rss_mb),
        "rc": run.returncode,
        "articles": run.articles_out,
    }


def cpu_split(row: dict, run_stats: dict) -> dict:
    """Where the CPU seconds of a run went: the main process before the flow (imports, Prefect
    set-up), its stages (`batches`: reading, extracting, validating, staging), the rest of
    the flow (Prefect's task and API calls), and `other`: the processes around it (the
    Prefect server, extraction workers) and the exit."""
    stage_cpu = run_stats.get("stage_cpu", {})
    startup, flow = run_stats.get("startup_cpu", 0.0), run_stats.get("flow_cpu", 0.0)
    return {
        "step": row["step"],
        "cpu_s": row["cpu_s"],
        "startup": round(startup, 1),
        **{s: round(v, 1) for s, v in stage_cpu.items()},
        "flow other": round(flow - sum(stage_cpu.values()), 1),
        "other": round(row["cpu_s"] - startup - flow, 1),
    }


def run_incremental(
    mb: float,
    work_dir: Path = Path("bench"),
    seed: int = 0,
    runner_args: list[str] | None = None,
    echo=None,
) -> tuple[list[dict], dict[str, bool]]:
    """Full run, +1 article, +1 MB, and a full rebuild to compare with; prints a table."""
    echo = echo or functools.partial(print, flush=True)
    root = Path(work_dir) / f"incremental-{mb:g}mb"
    shutil.rmtree(root, ignore_errors=True)
    raw = root / "raw"
    corpus = build_corpus(raw, mb, seed=seed)
    echo(f"[bench] load {os.getloadavg()[0]:.1f}; corpus {corpus.articles} articles")
    rows = [_measure(raw, root / "run", runner_args, "full run", corpus.articles)]
    echo(f"[bench] full run {rows[-1]['seconds']} s")
    n = _add_articles(raw, 0.000001, seed + 1, "one", first_only=True)
    rows.append(_measure(raw, root / "run", runner_args, "+1 article", n))
    echo(f"[bench] +1 article {rows[-1]['seconds']} s")
    n = _add_articles(raw, 1.0, seed + 2, "1mb", first_only=False)
    rows.append(_measure(raw, root / "run", runner_args, "+1 MB", n))
    echo(f"[bench] +1 MB {rows[-1]['seconds']} s")
    rows.append(_measure(raw, root / "rebuild", runner_args, "full rebuild", 0))
    equal = tables_equal(root / "run" / "processed", root / "rebuild" / "processed")
    echo("")
    echo(format_table([{k: v for k, v in r.items() if k != "cpu_split"} for r in rows]))
    echo("")
    echo("CPU seconds by part of the run:")
    echo(format_table([r["cpu_split"] for r in rows]))
    echo(
        "tables equal a full rebuild's: "
        + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in equal.items())
    )
    echo(
        "seconds = `casualties run` wall time incl. Python/Prefect startup; cpu_s = CPU seconds "
        "of its process tree; flow_s = the flow itself; peak_RSS = sum over the process tree; "
        f"load = {os.getloadavg()[0]:.1f} (1-min average now; above the cores, other work "
        "shares them and wall times grow)."
    )
    return rows, equal
