"""Number grammar: words and digits → integers; a quantity phrase → low/best/high/qualifier.

(Placeholder interface; being implemented.)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quantity:
    """A quantity phrase found in text, with its CONVENTIONS reading."""

    start: int  # offsets of the whole phrase, qualifier words included ("at least 14")
    end: int
    surface: str
    low: int
    best: int
    high: int | None
    qualifier: str


def parse_quantity(phrase: str) -> Quantity | None:
    """Read a whole phrase such as "3,000 to 4,000" or "dozens"; None if it is no quantity."""
    raise NotImplementedError


def find_quantities(text: str) -> list[Quantity]:
    """Every quantity phrase in `text` that could count people, in order, not overlapping."""
    raise NotImplementedError
