"""The Prefect server `casualties run` and `casualties serve` start as a child process."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from flows.local_server import LocalServer


@pytest.fixture
def prefect_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return tmp_path


def test_server_answers_once_ready_and_is_gone_after_stop(prefect_home):
    server = LocalServer(services=False).start()
    try:
        url = server.wait_ready(timeout=120)
        with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
            assert r.status == 200
    finally:
        server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/health", timeout=5)
    assert (prefect_home / "prefect" / "prefect.db").exists()  # the usual SQLite file


def test_server_that_exits_is_reported_with_its_reason(prefect_home, monkeypatch):
    monkeypatch.setenv("PREFECT_SERVER_DATABASE_CONNECTION_URL", "sqlite+aiosqlite:////nope/x.db")
    server = LocalServer(services=False).start()
    try:
        with pytest.raises(OSError, match=r"exited with code \d+: .*unable to open database file"):
            server.wait_ready(timeout=120)
    finally:
        server.stop()
