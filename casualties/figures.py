"""Find figures about people in an article. (Placeholder interface; being implemented.)"""

from __future__ import annotations

from casualties.model import Figure


def find_figures(text: str) -> list[Figure]:
    """Every figure about people in `text`, in order of appearance."""
    return []
