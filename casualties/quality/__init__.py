"""Data quality: Great Expectations suites and Data Docs (`checks`), the maintainers' report
(`report`, with `report_data`, `charts`, `article_view`), and the report's paths."""

from pathlib import Path

SITE = "quality"  # the Data Docs folder under the report folder


def report_index(report_dir: Path) -> Path:
    """The Data Docs entry page of a report folder."""
    return Path(report_dir) / SITE / "index.html"


def maintainers_index(report_dir: Path) -> Path:
    """The maintainers' report page of a report folder (`casualties.quality.report`)."""
    return Path(report_dir) / "index.html"


def run_record(run_id: str, plan, articles_new: int, stages: dict, seconds: float) -> dict:
    """What the report shows of a run: its plan, input files new / changed / removed /
    unchanged (and unchanged files read again because they share ids with those), stages."""
    changed_or_new = len(plan.new) + len(plan.changed)
    return {
        "run_id": run_id,
        "plan": plan.reason,
        "inputs": {
            "new": len(plan.new),
            "changed": len(plan.changed),
            "removed": len(plan.removed),
            "unchanged": len(plan.unchanged),
            "read again (sharing ids)": max(0, len(plan.to_process) - changed_or_new),
        },
        "articles_new": articles_new,
        "stages": {k: round(v, 3) for k, v in stages.items()},
        "seconds": seconds,
    }
