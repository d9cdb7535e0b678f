"""The layers of ARCHITECTURE.md hold: the import contracts of pyproject.toml are kept.

Runs import-linter's own check (the same as `make lint`), so a new upward import fails here.
"""

from __future__ import annotations

import os

from importlinter.cli import lint_imports

from tests.paths import REPO


def test_import_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(REPO)  # the contracts live in pyproject.toml at the repository's root
    assert lint_imports(config_filename=os.fspath(REPO / "pyproject.toml"), no_cache=True) == 0


def test_an_upward_import_breaks_the_contract(tmp_path, monkeypatch):
    # The same contracts with one extra module in the lowest layer that imports the CLI: the
    # checker must see it (a contract that cannot fail proves nothing).
    bad = REPO / "casualties" / "text" / "_upward_probe.py"
    bad.write_text("import casualties.cli  # noqa: F401\n")
    try:
        monkeypatch.chdir(REPO)
        assert lint_imports(config_filename=os.fspath(REPO / "pyproject.toml"), no_cache=True) == 1
    finally:
        bad.unlink()
