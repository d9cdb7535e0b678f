"""Number reading faults (golden: tests/golden/number_faults.jsonl): inverted ranges, exponent
notation, signed numbers and Arabic/Persian thousands separators read the same by
`casualties quantity` (parse_quantity) and `casualties extract` (extract_article)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from casualties.extract.article import extract_article
from casualties.extract.quantities import parse_quantity
from tests.paths import GOLDEN

ROWS = [
    json.loads(line)
    for line in (GOLDEN / "number_faults.jsonl").open(encoding="utf-8")
    if line.strip()
]


def _reading(obj) -> dict:
    return {k: getattr(obj, k) for k in ("surface", "low", "best", "high", "qualifier")}


@pytest.mark.parametrize("row", ROWS, ids=[r["phrase"] for r in ROWS])
def test_quantity(row):
    q = parse_quantity(row["phrase"])
    want = row["expect"]
    if want is None:
        assert q is None, q
    else:
        assert q is not None
        assert _reading(q) | {"surface": q.surface.lower()} == want | {
            "surface": want["surface"].lower()
        }


@pytest.mark.parametrize("row", ROWS, ids=[r["phrase"] for r in ROWS])
def test_extract_reads_the_same_figure(row):
    ex = extract_article(row["text"])
    killed = [_reading(f) for f in ex.figures if f.category == "killed"]
    want = row["expect"]
    assert killed == ([] if want is None else [want])
    if want is not None:
        assert ex.totals["killed"] == (want["low"], want["best"], want["high"])


def test_commands_agree():
    """The two commands, as a user runs them, on the issue's cases."""
    cases = [r for r in ROWS if r["phrase"] in ("4,000 to 3,000", "10^6", "−5", "٣٬٠٠٠")]
    lines = "".join(json.dumps({"id": r["phrase"], "text": r["text"]}) + "\n" for r in cases)
    cmd = [sys.executable, "-m", "casualties.cli"]
    out = subprocess.run(
        [*cmd, "extract", "-"], input=lines, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    for row, line in zip(cases, out.stdout.splitlines(), strict=True):
        got = json.loads(line)
        q = subprocess.run(
            [*cmd, "quantity", row["phrase"]], capture_output=True, text=True, timeout=60
        )
        if row["expect"] is None:
            assert q.returncode == 1 and "not a quantity" in q.stderr
            assert got["figures"] == [] and got["killed"]["best"] is None
        else:
            assert q.returncode == 0, q.stderr
            assert got["killed"] == {
                k: v for k, v in json.loads(q.stdout).items() if k != "qualifier"
            }
