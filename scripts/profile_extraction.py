"""Profile extraction on a benchmark corpus: where does the time go?

    .venv/bin/python scripts/profile_extraction.py [--mb 2] [--top 30] [--sort tottime]

Builds (or reuses) a seeded corpus under bench/profile/, runs `extract_frame` over it under
cProfile in one process, and prints the top functions, plus the share of time per module of
`casualties`. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections import defaultdict
from pathlib import Path

from casualties.extract.article import extract_frame
from casualties.tools import bench


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=2.0, help="corpus size in MB of text")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    ap.add_argument("--work", type=Path, default=Path("bench/profile"))
    args = ap.parse_args()

    corpus = bench.build_corpus(args.work / "raw", args.mb, seed=args.seed)
    batches = list(bench.iter_corpus_batches(corpus.path, 500))
    extract_frame(batches[0].head(1))  # load lexicons outside the profile

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    n_fig = sum(len(extract_frame(b)[0]) for b in batches)
    prof.disable()
    seconds = time.perf_counter() - t0
    print(
        f"{corpus.articles} articles, {corpus.mb:.2f} MB, {n_fig} figures in {seconds:.1f} s "
        f"under cProfile ({corpus.mb / seconds:.2f} MB/s; cProfile slows pure Python ~1.5-2x)\n"
    )
    stats = pstats.Stats(prof)
    stats.sort_stats(args.sort).print_stats(args.top)

    # Own time per module: which part of the library to look at first.
    per_module: dict[str, float] = defaultdict(float)
    for (file, _line, _fn), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        parts = Path(file).parts
        if "casualties" in parts:
            key = "casualties/" + Path(file).name
        elif "site-packages" in parts:
            key = parts[parts.index("site-packages") + 1]
        else:
            key = Path(file).name if file != "~" else "builtins (re, str, ...)"
        per_module[key] += tt
    total = sum(per_module.values())
    print("Own time by module:")
    for key, tt in sorted(per_module.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {tt:7.2f} s  {tt / total:6.1%}  {key}")


if __name__ == "__main__":
    main()
