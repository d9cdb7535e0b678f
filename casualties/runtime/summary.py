"""A run's summary: one dict built in one place, printed by the CLI and published by the flow."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from casualties.storage.store import Plan


@dataclass
class RunOutcome:
    """What a run did, as the flow knows it at the end."""

    run_id: str
    plan: Plan
    out_dir: str
    report: str
    rows: dict[str, int]
    quarantine_reasons: dict[str, int]
    quality: dict | None = None  # None: tables unchanged, the quality stage did not run
    articles_new: int = 0
    batches: int = 0
    failed_batches: list[str] = field(default_factory=list)


def reason_counts(quarantine: pd.DataFrame) -> dict[str, int]:
    """Quarantine rows per reason, reasons in order."""
    counts = quarantine["reason"].value_counts().sort_index()
    return {str(k): int(v) for k, v in counts.items()}


def build_summary(outcome: RunOutcome, seconds: float) -> dict:
    """The summary dict of a run (what `casualties run` prints and the artifact shows)."""
    plan = outcome.plan
    return {
        "run_id": outcome.run_id,
        "full_refresh": plan.full,
        "plan": plan.reason,
        "files_processed": len(plan.to_process),
        "files_unchanged": len(plan.unchanged),
        "articles_new": outcome.articles_new,
        "batches": outcome.batches,
        "failed_batches": sorted(outcome.failed_batches),
        "rows": dict(outcome.rows),
        "quarantine_reasons": dict(outcome.quarantine_reasons),
        "quality": outcome.quality,
        "out_dir": outcome.out_dir,
        "report": outcome.report,
        "seconds": seconds,
    }


def summary_lines(s: dict) -> list[str]:
    """A short plain-text summary of a run (what `casualties run` prints at the end)."""
    lines = [
        f"Run {s['run_id']} ({s['plan']}): {s['files_processed']} files processed, "
        f"{s['files_unchanged']} unchanged, {s['articles_new']} new articles, "
        f"{s['seconds']:.1f} s",
        "Tables in " + s["out_dir"] + ": " + ", ".join(f"{t} {n}" for t, n in s["rows"].items()),
    ]
    if s["quarantine_reasons"]:
        lines.append(
            "Quarantine: " + ", ".join(f"{r} {n}" for r, n in s["quarantine_reasons"].items())
        )
    q = s["quality"]
    if q:
        lines.append(
            f"Quality: {q['evaluated']} expectations, {q['failed']} failed; Data Docs {q['index']}"
        )
        lines.append(f"Report: {s['report']}")
    else:
        lines.append(f"Quality: tables unchanged, report {s['report']} is current")
    return lines


def summary_markdown(s: dict) -> str:
    """Markdown tables of a run summary (the flow's Prefect artifact)."""
    lines = [
        f"# Casualties pipeline run `{s['run_id']}`",
        "",
        f"{'Full rebuild' if s['full_refresh'] else 'Incremental run'}: "
        f"{s['files_processed']} files processed, {s['files_unchanged']} unchanged, "
        f"{s['articles_new']} new articles in {s['batches']} batches, "
        f"{s['seconds']:.1f} s.",
        "",
        "| table | rows |",
        "|---|---|",
        *(f"| {t} | {n} |" for t, n in s["rows"].items()),
        "",
        "| quarantine reason | rows |",
        "|---|---|",
        *(f"| `{r}` | {n} |" for r, n in s["quarantine_reasons"].items()),
        "",
    ]
    q = s.get("quality")
    if q:
        lines += [
            f"Great Expectations: {q['evaluated']} expectations, {q['failed']} failed "
            f"([Data Docs]({q['index']})).",
            "",
            "| table | evaluated | failed |",
            "|---|---|---|",
            *(f"| {t} | {v['evaluated']} | {v['failed']} |" for t, v in q["tables"].items()),
        ]
    return "\n".join(lines)
