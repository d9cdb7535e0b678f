"""Ctrl-C, SIGTERM and SIGKILL during `casualties run`, with real signals to real processes.

A run is started in its own process group on an input large enough for the process pool
(so the Prefect server, two pool workers and the resource tracker are all running), and
signalled once its first batch is done. Waits are bounded polls, never fixed sleeps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psutil
import pytest

from casualties.storage import store
from tests.e2e.test_reliability import Workspace, write_bulk

pytestmark = pytest.mark.slow

N_ARTICLES = 12_000  # ~3 MB: above the pool's threshold, so worker processes run too


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("signals"))
    write_bulk(ws.raw / "feed" / "bulk.jsonl", N_ARTICLES)
    return ws


def _group(pgid: int) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) == pgid and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except (ProcessLookupError, psutil.Error):
            continue
    return out


def _start_and_signal(ws: Workspace, sig: int, whole_group: bool, name: str):
    """Start a run, send `sig` once a batch of the bulk file is done; returns (process,
    stderr after the signal, seconds until the main process ended, seconds until the whole
    group was gone)."""
    err = ws.root / f"{name}.err"
    with open(err, "w") as fh:
        proc = subprocess.Popen(
            ws.args("--batch-size", "500", "--workers", "2"),
            cwd=ws.root,
            env=ws.env,
            stdout=subprocess.DEVNULL,
            stderr=fh,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 600
        while "(feed/bulk.jsonl): 500 articles" not in err.read_text(errors="replace"):
            assert proc.poll() is None, err.read_text()[-3000:]
            assert time.monotonic() < deadline, "the run never got to its first batch"
            time.sleep(0.05)
        assert len(_group(proc.pid)) >= 4  # main, Prefect server, pool workers (+ tracker)
        before = len(err.read_text(errors="replace"))
        t0 = time.monotonic()
        (os.killpg if whole_group else os.kill)(proc.pid, sig)
        proc.wait(timeout=60)
        main_gone = time.monotonic() - t0
        while _group(proc.pid) and time.monotonic() - t0 < 30:
            time.sleep(0.1)
        all_gone = time.monotonic() - t0
    finally:
        for p in _group(proc.pid):  # never leave a process behind, whatever failed
            p.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc, err.read_text(errors="replace")[before:], main_gone, all_gone


@pytest.mark.parametrize(
    "sig, whole_group, code",
    [
        (signal.SIGTERM, True, 143),
        (signal.SIGINT, True, 130),
        (signal.SIGTERM, False, 143),
        (signal.SIGINT, False, 130),
    ],
    ids=["SIGTERM-group", "SIGINT-group", "SIGTERM-main", "SIGINT-main"],
)
def test_signal_stops_the_run_quickly_and_leaves_nothing(ws, sig, whole_group, code):
    name = f"{signal.Signals(sig).name}-{'group' if whole_group else 'main'}"
    proc, err, main_gone, all_gone = _start_and_signal(ws, sig, whole_group, name)
    assert proc.returncode == code, err
    assert all_gone < 10, f"processes left for {all_gone:.1f} s"
    lines = [line for line in err.splitlines() if line.strip() and "| INFO" not in line]
    assert len(lines) <= 3, err
    assert f"stopped by {signal.Signals(sig).name}" in lines[-1]
    assert "Traceback" not in err
    assert not (ws.out / "_staging").exists()  # staged work discarded
    with store.run_lock(ws.out):  # the lock is free
        pass


def test_sigkill_of_the_main_process_leaves_no_child(ws):
    proc, _, _, all_gone = _start_and_signal(ws, signal.SIGKILL, False, "SIGKILL-main")
    assert proc.returncode == -signal.SIGKILL
    assert all_gone < 10, f"children outlived the main process by {all_gone:.1f} s"


def test_the_next_run_succeeds(ws):
    proc = ws.run("--workers", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not (ws.out / "_staging").exists()
    assert "Tables in" in proc.stdout
    assert any((ws.out / "articles").glob("*.parquet"))
