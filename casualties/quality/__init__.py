"""Data quality: Great Expectations suites and Data Docs (`checks`), and the report's paths."""

from pathlib import Path

SITE = "quality"  # the Data Docs folder under the report folder


def report_index(report_dir: Path) -> Path:
    """The Data Docs entry page of a report folder."""
    return Path(report_dir) / SITE / "index.html"
