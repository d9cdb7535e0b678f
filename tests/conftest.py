"""Fixtures shared by every test folder (unit, golden, e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.paths import SHARED_DATA


@pytest.fixture
def shared_data() -> Path:
    """`../shared/data` (seed article, labelled dev sets); the test skips where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"no shared data at {SHARED_DATA}")
    return SHARED_DATA
