"""Group an article's figures into incidents; article totals. (Placeholder; being implemented.)"""

from __future__ import annotations

from casualties.model import Figure, Incident


def group_incidents(text: str, figures: list[Figure]) -> list[Incident]:
    """Group figures into incidents; sets `Figure.incident` on each grouped figure."""
    return []


def article_totals(figures: list[Figure], incidents: list[Incident]) -> dict:
    """category -> (low, best, high) for the article, per CONVENTIONS."""
    return {}
