"""Rows for the tables' tests, built the one way: valid by default, changed per test."""

from __future__ import annotations


def figure_row(
    text: str, article_id: str, surface: str, start: int | None = None, **changes
) -> dict:
    """A figures row for the words `surface` at `start` of `text` (default: the first place
    they stand), a killed figure of 14 "at least"; `changes` override any column."""
    start = text.index(surface) if start is None else start
    row = {
        "figure_id": f"{article_id}:{start}-{start + len(surface)}",
        "article_id": article_id,
        "start": start,
        "end": start + len(surface),
        "surface": surface,
        "sentence": text,
        "category": "killed",
        "low": 14,
        "best": 14,
        "high": None,
        "qualifier": "at_least",
        "hedged": False,
        "claim_by_party": False,
        "is_aggregate": False,
        "is_cumulative": False,
        "is_subset": False,
        "rule": "test",
        "run_id": "r1",
    }
    row.update(changes)
    return row
