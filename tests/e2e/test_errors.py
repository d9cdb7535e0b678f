"""Errors that stop `casualties run` are one line on stderr (what, where, what to do), exit 1,
and leave the previous tables as they were; `--debug` shows the traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid

import pandas as pd
import pytest

from casualties.storage import store
from tests.e2e.test_reliability import TABLE_NAMES, Workspace, _command

pytestmark = pytest.mark.slow


def _error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    """stderr without Prefect's progress and recovery lines."""
    return [
        line
        for line in proc.stderr.splitlines()
        if line.strip() and "| INFO" not in line and "| WARNING" not in line
    ]


def _add_article(ws: Workspace) -> None:
    name = f"more-{uuid.uuid4().hex[:6]}.jsonl"
    rec = {"id": name, "text": "Gunmen killed 5 villagers in Westmoor on Tuesday."}
    (ws.raw / "feed" / name).write_text(json.dumps(rec) + "\n")


def test_busy_output_folder_is_one_line(tmp_path):
    ws = Workspace(tmp_path)
    with store.run_lock(ws.out):  # another run is writing
        proc = ws.run()
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"casualties run: another run is writing {ws.out}; wait for it to finish and run again"
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may open any file")
def test_lock_file_of_another_user_is_one_line(tmp_path):
    ws = Workspace(tmp_path)
    ws.out.mkdir()
    lock = ws.out / store.LOCK_NAME
    lock.touch()
    lock.chmod(0)
    proc = ws.run()
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(lock) in lines[0] and "another user" in lines[0]


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB file system (tmpfs), or skip where it cannot be mounted."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small file system needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)])
    if made.returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=True)


def test_full_disk_is_one_line_and_keeps_the_tables(tmp_path, small_disk):
    ws = Workspace(tmp_path)
    ws.out = small_disk / "out"
    assert ws.run().returncode == 0
    before = ws.tables()
    filler = small_disk / "filler"
    with open(filler, "wb") as f:  # fill the disk
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    _add_article(ws)
    proc = ws.run()
    assert proc.returncode == 1
    lines = _error_lines(proc)
    assert len(lines) == 1, proc.stderr[-3000:]
    assert "no space left" in lines[0] and str(ws.out) in lines[0]
    assert "Traceback" not in proc.stderr
    after = ws.tables()
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(after[name], before[name])
    filler.unlink()  # space again: the next run completes
    assert ws.run().returncode == 0


def test_corrupt_stored_table_is_one_line_naming_it_or_rebuilt(tmp_path):
    """A damaged data page (the footer intact): a command that reads the stored table stops
    with one line naming the file and what to run; the next `casualties run` sees the damage
    before reading (the file's sha256 is in the manifest) and rebuilds, never exit 0 with an
    unreadable table."""
    ws = Workspace(tmp_path)
    assert ws.run().returncode == 0
    articles = next((ws.out / "articles").glob("*.parquet"))
    data = bytearray(articles.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")  # the data pages lie before the footer
    start, end = 4, len(data) - 8 - footer
    data[start:end] = os.urandom(end - start)  # damaged data pages, the footer intact
    articles.write_bytes(bytes(data))
    report = subprocess.run(
        [*_command(), "report", "--out", str(ws.out), "--report", str(tmp_path / "r")],
        cwd=ws.root,
        env=ws.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert report.returncode == 1
    lines = _error_lines(report)
    assert len(lines) == 1, report.stderr[-3000:]
    assert str(articles) in lines[0] and "--full-refresh" in lines[0]
    _add_article(ws)
    proc = ws.run()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "is damaged" in proc.stdout  # the plan says why it rebuilt
    pd.read_parquet(ws.out / "articles")  # readable again, every page
