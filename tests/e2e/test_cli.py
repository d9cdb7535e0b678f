"""The `casualties` command as a user runs it: a subprocess, its output and its exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO

COMMANDS = (
    "run",
    "extract",
    "quantity",
    "serve",
    "report",
    "review",
    "evaluate",
    "fields",
    "bench",
)


def casualties(*args: str, stdin: str | None = None, cwd: Path | None = None):
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    return subprocess.run(
        [sys.executable, "-m", "casualties.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env=env,
        timeout=120,
    )


def test_help_lists_every_command():
    res = casualties("--help")
    assert res.returncode == 0
    for command in COMMANDS:
        assert command in res.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    # In-process (same parser the console script builds): one subprocess per command is slow.
    from casualties.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: casualties {command}" in out
    assert len(out.splitlines()) > 3


def test_quantity_prints_the_conventions_reading():
    res = casualties("quantity", "3,000 to 4,000")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"low": 3000, "best": 3000, "high": 4000, "qualifier": "range"}


def test_quantity_rejects_words_that_are_no_quantity():
    res = casualties("quantity", "the market")
    assert res.returncode == 1
    assert "not a quantity" in res.stderr
    assert "Traceback" not in res.stderr


def test_extract_reads_jsonl_and_writes_one_line_per_article():
    lines = [
        json.dumps(
            {"id": "a1", "text": "At least 14 people were killed.", "published": "2024-03-02"}
        ),
        '{"id": "broken", "text": ',
        json.dumps({"id": "a2", "text": "No one was hurt, police said."}),
        "[1, 2]",
        "",
    ]
    res = casualties("extract", "-", stdin="\n".join(lines) + "\n")
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a1", "a2"]
    for o in out:
        assert {"figures", "incidents", "killed", "injured"} <= set(o)
        assert set(o["killed"]) == {"low", "best", "high"}
    killed = [f for f in out[0]["figures"] if f["category"] == "killed"]
    assert killed and killed[0]["low"] == 14 and killed[0]["qualifier"] == "at_least"
    assert out[0]["killed"]["low"] == 14
    assert [i["is_background"] for i in out[0]["incidents"]] == [False]
    # the reasoning behind each figure is for `evaluate --explain`, not the output
    assert not {"account", "counted", "why"} & set(killed[0])
    # bad lines are skipped with a message naming the line; the exit code tells
    assert res.returncode == 1
    assert "line 2: invalid JSON" in res.stderr and "line 4: not a JSON object" in res.stderr
    assert "Traceback" not in res.stderr


def test_fields_writes_the_data_dictionary(tmp_path):
    res = casualties("fields", "--output", str(tmp_path / "fields.md"))
    assert res.returncode == 0
    text = (tmp_path / "fields.md").read_text()
    assert "## `figures`" in text and "`killed_best`" in text


def test_docs_fields_md_is_up_to_date():
    from casualties.fields import data_dictionary

    assert (REPO / "docs" / "fields.md").read_text() == data_dictionary() + "\n", (
        "run `casualties fields`"
    )


def _one_line_error(res, *words):
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    for w in words:
        assert w in lines[0]


def test_missing_raw_folder(tmp_path):
    res = casualties("run", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    _one_line_error(res, "--raw", "does not exist")


def test_unwritable_out_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    res = casualties("run", "--raw", str(REPO / "raw"), "--out", str(blocker / "out"))
    _one_line_error(res, "--out", "cannot write")


def test_unknown_option():
    res = casualties("run", "--bogus")
    _one_line_error(res, "--bogus")
    assert res.returncode == 2


def test_report_without_tables(tmp_path):
    res = casualties("report", "--out", str(tmp_path), "--report", str(tmp_path / "r"))
    _one_line_error(res, "casualties run")


def test_evaluate_explain_one_article(tmp_path):
    path = tmp_path / "labelled.jsonl"
    row = {"id": "t:1", "text": "Gunmen killed 3 people in the market.", "killed": 3}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    res = casualties("evaluate", str(path), "--explain", "t:1")
    assert res.returncode == 0 and res.stderr == ""
    assert "killed (3, 3, 3)" in res.stdout and "sentence [0:37]: Gunmen killed" in res.stdout
    assert res.stdout.splitlines()[-2].split()[-1] == "right"
    res = casualties("evaluate", str(path), "--explain", "t:2")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f"cannot evaluate {path}: no row with id 't:2' in {path}"
    ]


def test_extract_skips_an_article_above_the_size_cap():
    from casualties.storage.ingest import MAX_ARTICLE_CHARS

    big = "Over 10 people were killed. " * (MAX_ARTICLE_CHARS // 28 + 1)
    lines = [json.dumps({"id": "big", "text": big}), json.dumps({"id": "a", "text": "3 killed."})]
    res = casualties("extract", "-", stdin="\n".join(lines) + "\n")
    assert [json.loads(line)["id"] for line in res.stdout.splitlines()] == ["a"]
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        f"casualties extract: line 1: article_too_large: text has {len(big):,} characters "
        f"(cap {MAX_ARTICLE_CHARS:,}); not extracted; skipped"
    ]


def test_extract_handles_a_lone_surrogate_as_the_pipeline_does_and_goes_on():
    # "\ud800" is a legal JSON escape but no UTF-8: the pipeline stores U+FFFD for it
    lines = [
        '{"id": "s1\\udc00", "text": "Two people were killed \\ud800 in Kabul."}',
        json.dumps({"id": "s2", "text": "Three people were killed."}),
    ]
    res = casualties("extract", "-", stdin="\n".join(lines) + "\n")
    assert res.returncode == 0, res.stderr
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert [o["id"] for o in out] == ["s1\ufffd", "s2"]
    assert [o["killed"]["best"] for o in out] == [2, 3]
    assert "\ufffd" in out[0]["figures"][0]["sentence"]


def test_extract_reads_published_as_the_pipeline_does():
    # "now" is no fixed date: no date is resolved from it ("on Saturday" stays unresolved)
    text = "Two people were killed on Saturday in Kabul, police said."
    lines = [
        json.dumps({"id": "a", "text": text, "published": "now"}),
        json.dumps({"id": "b", "text": text, "published": "2024-03-04"}),
    ]
    res = casualties("extract", "-", stdin="\n".join(lines) + "\n")
    assert res.returncode == 0, res.stderr
    a, b = (json.loads(line) for line in res.stdout.splitlines())
    assert a["incidents"][0]["date"] is None
    assert b["incidents"][0]["date"].startswith("2024-03-02")
