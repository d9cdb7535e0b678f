"""Count the CPU instructions extraction spends on a seeded corpus, for one or more checkouts.

    .venv/bin/python scripts/extraction_instructions.py [TREE ...] [--mb 5] [--seed 0]

Why: wall-clock and CPU-second figures move with the machine (other work on the cores, a host
that runs slower one day than another); the number of instructions a pass executes does not.
To compare two commits, check the older one out elsewhere (`git worktree add ../old REV` or a
clone) and pass both folders: each is imported in turn by this venv's Python.

Each TREE (default: this checkout) runs under valgrind's cachegrind twice, with zero and with
one warm pass of `extract_frame` over the corpus (built by this checkout's `bench`, batches of
500); the difference is the instructions of one pass, start-up, reading and warm-up excluded.
Needs valgrind (Debian package `valgrind`). A 5 MB corpus takes 10-30 minutes per tree.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

_I_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _child(tree: str, corpus: str, passes: int) -> None:
    """Inside valgrind: import casualties from `tree`, warm it up, run `passes` passes."""
    sys.path.insert(0, tree)
    import pandas as pd

    import casualties

    if not casualties.__file__ or not casualties.__file__.startswith(tree):
        sys.exit(f"casualties imported from {casualties.__file__}, not from {tree}")
    try:
        from casualties.extract.article import extract_frame
    except ImportError:  # checkouts before the package layout of issue 14
        from casualties.extract import extract_frame  # type: ignore[attr-defined,no-redef]
    # the corpus read here, not by the tree's own bench (older trees have none of that name)
    rows = [
        json.loads(line)
        for path in sorted(Path(corpus).glob("*.jsonl"))
        for line in path.open(encoding="utf-8")
    ]
    batches = [
        pd.DataFrame(
            {
                "article_id": [r["id"] for r in rows[i : i + 500]],
                "text": [r["text"] for r in rows[i : i + 500]],
                "published": [pd.Timestamp(r["published"]) for r in rows[i : i + 500]],
            }
        )
        for i in range(0, len(rows), 500)
    ]
    warm = pd.DataFrame({"article_id": ["w"], "text": ["Two were killed."], "published": [None]})
    extract_frame(warm)
    for _ in range(passes):
        for b in batches:
            extract_frame(b)


def _instructions(tree: Path, corpus: Path, passes: int, out: Path) -> int:
    cmd = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        f"--cachegrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        str(tree),
        str(corpus),
        str(passes),
    ]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    m = _I_REFS.search(done.stderr)
    if done.returncode or m is None:
        sys.exit(f"{tree}: valgrind failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trees", nargs="*", type=Path, help="checkouts to compare (default: this)")
    ap.add_argument("--mb", type=float, default=5.0, help="corpus size in MB of text")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=Path("bench/instructions"))
    args = ap.parse_args()

    from casualties.tools import bench

    trees = [t.resolve() for t in args.trees] or [Path(__file__).resolve().parents[1]]
    corpus = bench.build_corpus(args.work / "raw", args.mb, seed=args.seed)
    print(f"corpus: {corpus.articles} articles, {corpus.mb:.1f} MB of text ({corpus.path})")
    first = None
    for i, tree in enumerate(trees):
        counts = [
            _instructions(tree, corpus.path, n, args.work / f"cachegrind.{i}.{n}.out")
            for n in (0, 1)
        ]
        per_pass = counts[1] - counts[0]
        first = first or per_pass
        print(
            f"{tree}: {per_pass / 1e9:.2f} G instructions a pass, "
            f"{per_pass / 1e9 / corpus.mb:.2f} G per MB, {per_pass / first - 1:+.1%} vs the first",
            flush=True,
        )


if __name__ == "__main__":
    main()
