"""End to end through the CLI in subprocesses: bad input and invocations, reruns, kill -9.

One first run on a mixed raw folder is shared (a module fixture); every test that runs again
works on its own copy of that workspace (`after_first_run`), so no test depends on another's
order or leftovers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from casualties.storage import ingest as io
from casualties.storage import store
from tests.mixed_raw import EXPECTED_QUARANTINE, KEPT_DOC_IDS, build_mixed_raw, quarantine_keys

pytestmark = pytest.mark.slow

TABLE_NAMES = ("articles", "figures", "incidents", "quarantine")
N_BULK = 3000  # articles of the run that gets killed: long enough to be killed part-way
PLACES = ["Northtown", "Eastbridge", "Riverside", "Hillcrest", "Lakeside", "Southfield"]
MEANS = ["a car bomb", "shelling", "an air strike", "gunmen", "a roadside bomb"]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("casualties")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from casualties.cli import main; sys.exit(main())"]


class Workspace:
    """A temp folder with raw/, out/, reports/ and its own Prefect home."""

    def __init__(self, root: Path):
        self.root = root
        self.raw = build_mixed_raw(root)
        self.out = root / "out"
        self.env = {
            **os.environ,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_HOME": str(root / ".prefect"),
        }

    def args(self, *extra: str) -> list[str]:
        return [
            *_command(),
            "run",
            "--raw",
            str(self.raw),
            "--out",
            str(self.out),
            "--report",
            str(self.root / "reports"),
            *extra,
        ]

    def run(self, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.args(*extra),
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables as a user reads them: plain pd.read_parquet."""
        return {n: pd.read_parquet(self.out / n) for n in TABLE_NAMES}

    def manifest(self) -> dict:
        return json.loads((self.out / "_manifest.json").read_text())

    def copy(self, dest: Path) -> Workspace:
        """The same raw folder (built again: it holds symlinks) and a copy of the stored
        tables and report in `dest`, with its own Prefect home and lock."""
        copy = Workspace(dest)
        shutil.copytree(self.out, copy.out)
        shutil.copytree(self.root / "reports", dest / "reports")
        return copy


def bulk_article(i: int) -> str:
    """A distinct short wire-style article (written for these tests)."""
    place, means = PLACES[i % len(PLACES)], MEANS[i % len(MEANS)]
    return (
        f"At least {3 + i % 40} people were killed and {10 + i % 70} wounded by {means} in "
        f"{place} on Monday, officials said in report {i}. About {100 + i % 900} people were "
        f"displaced, aid groups said, and police arrested {1 + i % 7} suspects."
    )


def write_bulk(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            rec = {"id": f"bulk-{i}", "title": f"Attack {i}", "text": bulk_article(i)}
            f.write(json.dumps(rec) + "\n")


def without_run_id(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns="run_id").reset_index(drop=True)


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for word in words:
        assert word in lines[0]


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("reliability"))


@pytest.fixture(scope="module")
def first_run(ws):
    proc = ws.run()
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, ws.tables()


@pytest.fixture
def after_first_run(ws, first_run, tmp_path) -> Workspace:
    """A private copy of the workspace as the first run left it."""
    return ws.copy(tmp_path)


# ------------------------------------------------------------------------------ bad input


def test_mixed_folder_run_completes_and_quarantines_each_bad_record(ws, first_run):
    proc, tables = first_run
    arts, q = tables["articles"], tables["quarantine"]
    assert set(arts["doc_id"]) == KEPT_DOC_IDS
    assert arts["article_id"].is_unique
    assert str(arts["published"].dtype) == "datetime64[ns, UTC]"
    assert str(arts["line"].dtype) == "Int64"
    read_rows = q[q["stage"] == "read"]
    assert quarantine_keys(read_rows) == EXPECTED_QUARANTINE
    assert len(read_rows) == len(EXPECTED_QUARANTINE)
    assert q["run_id"].notna().all() and q["excerpt"].str.len().max() <= io.EXCERPT_CHARS
    # the counts are reported
    assert "articles 6" in proc.stdout and "invalid_json 1" in proc.stdout
    assert set(tables["figures"]["article_id"]) <= set(arts["article_id"])
    assert (ws.root / "reports" / "quality" / "index.html").exists()


# ------------------------------------------------------------------------------ invocations


def test_missing_raw_folder_is_one_line(ws):
    proc = subprocess.run(
        [*_command(), "run", "--raw", str(ws.root / "nope"), "--out", str(ws.root / "o1")],
        env=ws.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_line_error(proc, "--raw", "nope")


def test_unwritable_out_is_one_line(ws):
    blocker = ws.root / "a-file"
    blocker.write_text("not a folder")
    for out in (blocker, blocker / "sub"):
        proc = subprocess.run(
            [*_command(), "run", "--raw", str(ws.raw), "--out", str(out)],
            env=ws.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert_one_line_error(proc, "--out")
    if os.geteuid() != 0:  # root may write anywhere
        locked = ws.root / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        proc = subprocess.run(
            [*_command(), "run", "--raw", str(ws.raw), "--out", str(locked / "out")],
            env=ws.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert_one_line_error(proc, "--out")


def test_prefect_server_that_cannot_start_is_one_line(ws):
    # The run starts its own Prefect server; one that fails (here: its database cannot be
    # opened) is reported with the server's own reason, and nothing is written.
    out = ws.root / "no-server"
    env = {**ws.env, "PREFECT_SERVER_DATABASE_CONNECTION_URL": "sqlite+aiosqlite:////nope/x.db"}
    proc = subprocess.run(
        [*_command(), "run", "--raw", str(ws.raw), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert_one_line_error(proc, "Prefect server", "unable to open database file")
    assert proc.returncode == 1
    assert not list(out.glob("*/*.parquet"))


def test_unknown_option_is_one_line(ws):
    proc = subprocess.run(
        [*_command(), "run", "--no-such-option"],
        env=ws.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_line_error(proc, "--no-such-option")


# ------------------------------------------------------------------------------ reruns


def test_rerun_gives_the_same_tables(after_first_run, first_run):
    ws = after_first_run
    _, before = first_run
    proc = ws.run()
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = ws.tables()
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(without_run_id(after[name]), without_run_id(before[name]))
    assert "0 new articles" in proc.stdout


def test_adding_a_file_adds_exactly_its_articles(after_first_run):
    ws = after_first_run
    before = ws.tables()
    texts = [
        "Gunmen killed 6 villagers in Westmoor on Tuesday, residents said.",
        "A drone strike killed 2 fighters near Oakdale, the group said.",
    ]
    records = [{"id": f"new-{i}", "text": t} for i, t in enumerate(texts)]
    records.append({"id": "new-dup", "text": before["articles"]["text"].iloc[0]})  # stored once
    (ws.raw / "feed" / "zz-new.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    proc = ws.run()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "1 files processed" in proc.stdout
    after = ws.tables()
    arts = after["articles"]
    # the old rows are untouched (run ids too); the new file adds its two new texts
    is_new = arts["source_file"] == "feed/zz-new.jsonl"
    pd.testing.assert_frame_equal(arts[~is_new].reset_index(drop=True), before["articles"])
    added = arts[is_new]
    assert added["doc_id"].tolist() == ["new-0", "new-1"]
    assert (added["source_file"] == "feed/zz-new.jsonl").all()
    old_ids = set(before["articles"]["article_id"])
    for name in ("figures", "incidents"):
        old_rows = after[name][after[name]["article_id"].isin(old_ids)].reset_index(drop=True)
        pd.testing.assert_frame_equal(old_rows, before[name])
    assert set(after["figures"]["article_id"]) - old_ids <= set(added["article_id"])
    assert set(ws.manifest()["files"]) >= {"feed/zz-new.jsonl", "good.txt"}


# ------------------------------------------------------------------------------ kill -9


def _run_and_kill(ws: Workspace, log: Path, moment, *extra: str) -> subprocess.Popen:
    """Start a run in its own process group; SIGKILL the whole group once `moment()` is true.

    Polls (no fixed sleeps decide anything): if the run ends before the moment, it is not
    killed and the caller sees its exit code.
    """
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            ws.args(*extra),
            cwd=ws.root,
            env=ws.env,
            stdout=fh,
            stderr=fh,
            start_new_session=True,  # its own group: the kill takes the workers and the server
        )
    try:
        end = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < end:
            if moment():
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc


def _new_stage_committed(out: Path, old: set[Path]):
    """True once a new staging folder holds its manifest (the commit point is passed)."""

    def moment() -> bool:
        root = out / "_staging"
        try:
            return any((d / "_manifest.json").exists() for d in root.iterdir() if d not in old)
        except FileNotFoundError:
            return False

    return moment


def test_sigkill_mid_run_leaves_previous_tables_and_next_run_completes(after_first_run):
    ws = after_first_run
    before = ws.tables()
    manifest_before = ws.manifest()
    write_bulk(ws.raw / "feed" / "bulk.jsonl", N_BULK)  # 30 batches of 100

    # 1. killed part-way through extraction
    log = ws.root / "killed-run.log"
    proc = _run_and_kill(
        ws, log, lambda: "Batch 0 (" in log.read_text(errors="replace"), "--batch-size", "100"
    )
    assert proc.returncode == -signal.SIGKILL, log.read_text()[-3000:]
    after_kill = ws.tables()  # previous tables intact and readable, manifest unchanged
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(after_kill[name], before[name])
    assert ws.manifest() == manifest_before

    # 2. killed at the commit point (between or just after the renames into place)
    log = ws.root / "killed-commit.log"
    stages = ws.out / "_staging"
    old = set(stages.iterdir()) if stages.exists() else set()
    proc = _run_and_kill(ws, log, _new_stage_committed(ws.out, old), "--batch-size", "2000")
    assert proc.returncode in (0, -signal.SIGKILL), log.read_text()[-3000:]
    tables = ws.tables()  # every table readable; once recovered they come from one run
    assert all(len(df.columns) for df in tables.values())
    manifest = store.load_manifest(ws.out)
    assert "stale" not in manifest
    for name in TABLE_NAMES:  # every partition on disk is one the manifest lists
        listed = set(manifest["tables"][name])
        assert {p.name for p in (ws.out / name).iterdir()} == listed

    # 3. the next run finishes the work
    proc = ws.run("--batch-size", "2000")
    assert proc.returncode == 0, proc.stderr[-3000:]
    final = ws.tables()
    assert (final["articles"]["source_file"] == "feed/bulk.jsonl").sum() == N_BULK
    assert len(final["articles"]) == len(before["articles"]) + N_BULK
    assert not (ws.out / "_staging").exists()
    assert not list(ws.out.glob(".*.tmp"))
