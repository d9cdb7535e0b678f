"""Numpy helpers shared across layers."""

from __future__ import annotations

import numpy as np


def find_sorted(members: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `values` is in `members` (sorted, unique): (position, found). A position
    where `found` is False is any valid index (or 0 for no members), not a match."""
    if not len(members):
        return np.zeros(len(values), dtype=np.intp), np.zeros(len(values), dtype=bool)
    at = np.searchsorted(members, values).clip(max=len(members) - 1)
    return at, members[at] == values
