"""Benchmark: build a reproducible corpus of N MB, run the pipeline on it, measure and print.

`casualties bench --mb N` and `make bench` call `run_bench`. Three parts:

- `build_corpus`: N MB of article text (UTF-8 bytes of the `text` fields, 1 MB = 10**6 bytes)
  recombined from the labelled dev texts with a seeded RNG, as several JSONL files.
- `measure_run`: `casualties run` on the corpus in a subprocess; wall time, peak memory of the
  whole process tree (sampled with psutil) and the per-stage seconds the flow writes to
  `<out>/_run_stats.json` (see `casualties.runtime.clock`).
- `measure_extraction`: `extract_frame` over the corpus in this process, and on an
  `ExtractionPool` (all cores).

No timing thresholds live here: the numbers are printed and judged by people.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from casualties.runtime.clock import STAGES, read_run_stats

MB = 1_000_000
REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- corpus

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“'(])")
_SOURCES = ("Wire A", "Wire B", "Daily Ledger", "Regional Desk", "Field Notes")


def shared_dev_dir() -> Path:
    """`../shared/data/dev` beside the clone (CI layout), overridable by CASUALTIES_DEV_DIR."""
    env = os.environ.get("CASUALTIES_DEV_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data" / "dev"


def source_texts(dev_dir: Path | None = None) -> list[str]:
    """Texts to recombine: `text` of the dev JSONL files, else the repo's `raw/` sample."""
    dev_dir = dev_dir or shared_dev_dir()
    texts = _jsonl_texts(sorted(dev_dir.glob("*.jsonl"))) if dev_dir.is_dir() else []
    if not texts:
        raw = REPO / "raw"
        texts = _jsonl_texts(sorted(raw.rglob("*.jsonl")))
        texts += [
            p.read_text(encoding="utf-8", errors="replace") for p in sorted(raw.rglob("*.txt"))
        ]
    texts = [t.strip() for t in texts if t and t.strip()]
    if not texts:
        raise FileNotFoundError(f"no source texts in {dev_dir} nor in {REPO / 'raw'}")
    return texts


def _jsonl_texts(paths: list[Path]) -> list[str]:
    out = []
    for p in paths:
        with p.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and isinstance(rec.get("text"), str):
                    out.append(rec["text"])
    return out


@dataclass
class Corpus:
    """A built corpus: where it is and what is in it."""

    path: Path
    files: list[Path]
    articles: int
    text_bytes: int  # UTF-8 bytes of all `text` fields
    file_bytes: int
    seed: int

    @property
    def mb(self) -> float:
        return self.text_bytes / MB


_NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+\b")
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_MONTH_BEFORE = re.compile(rf"(?:{_MONTHS})\.?\s+$", re.I)
_MONTH_AFTER = re.compile(rf"\s+(?:of\s+)?(?:{_MONTHS})\b", re.I)


def _vary_numbers(rng: random.Random, text: str) -> str:
    """The paragraph with its digits varied: years shifted together, days of a month redrawn,
    counts moved within -30 %..+40 %. Why: recombined paragraphs would otherwise report the same
    incident (same place, date and toll) hundreds of times per 100 MB, which no archive does
    and which turns cross-article event merging into a benchmark of one pathological case."""
    shift = rng.randint(-6, 3)

    def repl(m: re.Match) -> str:
        digits = m.group(0)
        n = int(digits.replace(",", ""))
        if len(digits) == 4 and 1900 <= n <= 2035:
            return str(n + shift)
        if n <= 31 and (
            _MONTH_AFTER.match(text, m.end()) or _MONTH_BEFORE.search(text, 0, m.start())
        ):
            return str(rng.randint(1, 28))
        if n <= 1 or digits.startswith("0"):
            return digits
        new = rng.randint(max(1, round(n * 0.7)), round(n * 1.4))
        return f"{new:,}" if "," in digits else str(new)

    return _NUMBER.sub(repl, text)


def _compose(rng: random.Random, paragraphs: list[list[str]]) -> str:
    # An article = 3..12 source texts as paragraphs, numbers varied; sometimes one sentence is
    # dropped and the rest rotated, so recombinations differ in content, not just in order.
    k = rng.randint(3, 12)
    out = []
    for sents in rng.sample(paragraphs, min(k, len(paragraphs))):
        if len(sents) > 2 and rng.random() < 0.3:
            sents = list(sents)
            del sents[rng.randrange(len(sents))]
            r = rng.randrange(len(sents))
            sents = sents[r:] + sents[:r]
        out.append(_vary_numbers(rng, " ".join(sents)))
    return "\n\n".join(out)


def build_corpus(
    out_dir: Path,
    mb: float,
    seed: int = 0,
    file_mb: float = 5.0,
    texts: list[str] | None = None,
) -> Corpus:
    """Write at least `mb` MB of distinct article texts as JSONL files `part-NNNN.jsonl`.

    Each record has id, title, text, published (ISO, UTC), source and url. Same `seed` and
    source texts → byte-identical files. Files hold about `file_mb` MB each, and there are at
    least two, so the pipeline's per-file streaming and batching are exercised.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("part-*.jsonl"):
        old.unlink()
    texts = texts if texts is not None else source_texts()
    paragraphs = [_SENTENCE_END.split(t) for t in texts]
    rng = random.Random(seed)
    target = int(mb * MB)
    per_file = max(1, min(int(file_mb * MB), target // 2))
    epoch = datetime(2015, 1, 1, tzinfo=UTC)
    seen: set[bytes] = set()
    files: list[Path] = []
    n = text_bytes = file_bytes = 0
    fh = None
    in_file = per_file
    try:
        while text_bytes < target:
            text = _compose(rng, paragraphs)
            digest = hashlib.sha256(text.encode()).digest()[:12]
            if digest in seen:  # the pipeline dedups by content hash: keep texts distinct
                continue
            seen.add(digest)
            if in_file >= per_file:
                if fh:
                    fh.close()
                files.append(out_dir / f"part-{len(files):04d}.jsonl")
                fh = files[-1].open("w", encoding="utf-8")
                in_file = 0
            published = epoch + timedelta(seconds=rng.randrange(10 * 365 * 86400))
            doc_id = f"bench-{seed}-{n:08d}"
            rec = {
                "id": doc_id,
                "title": " ".join(text.split()[:8]),
                "text": text,
                "published": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "source": rng.choice(_SOURCES),
                "url": f"https://example.org/bench/{doc_id}",
            }
            line = json.dumps(rec, ensure_ascii=False) + "\n"
            assert fh is not None  # opened for the first text: in_file starts at per_file
            fh.write(line)
            size = len(text.encode())
            n += 1
            text_bytes += size
            in_file += size
            file_bytes += len(line.encode())
    finally:
        if fh:
            fh.close()
    return Corpus(out_dir, files, n, text_bytes, file_bytes, seed)


def iter_corpus_batches(corpus_dir: Path, batch_size: int = 500) -> Iterator[pd.DataFrame]:
    """Batches of `article_id, text, published` from a corpus's JSONL files (for extraction
    alone; the pipeline reads raw input with `casualties.storage.ingest`)."""
    rows: list[dict] = []
    for path in sorted(Path(corpus_dir).glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                text = rec["text"]
                rows.append(
                    {
                        "article_id": hashlib.sha256(text.encode()).hexdigest()[:16],
                        "text": text,
                        "published": pd.Timestamp(rec.get("published")),
                    }
                )
                if len(rows) >= batch_size:
                    yield pd.DataFrame(rows)
                    rows = []
    if rows:
        yield pd.DataFrame(rows)


# ---------------------------------------------------------------- measurements


@dataclass
class ExtractionResult:
    """Extraction alone over a corpus."""

    workers: int
    seconds: float
    articles: int
    text_bytes: int
    figures: int
    incidents: int

    @property
    def mb_per_s(self) -> float:
        return self.text_bytes / MB / self.seconds if self.seconds else float("nan")


def measure_extraction(
    corpus_dir: Path, workers: int = 1, batch_size: int = 500
) -> tuple[ExtractionResult, pd.DataFrame, pd.DataFrame]:
    """Run `extract_frame` over every batch of the corpus; 1 worker = in this process, more =
    an `ExtractionPool` (started before the clock starts). Reading the JSONL is inside the
    timed loop (JSON parses at ~170 MB/s, small next to extraction).

    Returns the timing and the concatenated (figures, incidents) so callers can compare runs.
    """
    from casualties.extract.article import extract_frame
    from casualties.runtime.pool import ExtractionPool

    figs: list[pd.DataFrame] = []
    incs: list[pd.DataFrame] = []
    counted = {"articles": 0, "bytes": 0}

    def batches() -> Iterator[pd.DataFrame]:
        for b in iter_corpus_batches(corpus_dir, batch_size):
            counted["articles"] += len(b)
            counted["bytes"] += sum(len(t.encode()) for t in b["text"])
            yield b

    if workers <= 1:
        # Untimed warm-up: lexicons load and patterns compile on first use.
        extract_frame(
            pd.DataFrame(
                {"article_id": ["w"], "text": ["Two people were killed."], "published": [None]}
            )
        )
        t0 = time.perf_counter()
        for b in batches():
            f, i = extract_frame(b)
            figs.append(f)
            incs.append(i)
        seconds = time.perf_counter() - t0
    else:
        with ExtractionPool(workers) as pool:
            pool.warm()
            t0 = time.perf_counter()
            for f, i in pool.map(batches()):
                figs.append(f)
                incs.append(i)
            seconds = time.perf_counter() - t0
    fig_df = pd.concat(figs, ignore_index=True) if figs else pd.DataFrame()
    inc_df = pd.concat(incs, ignore_index=True) if incs else pd.DataFrame()
    res = ExtractionResult(
        workers=workers,
        seconds=seconds,
        articles=counted["articles"],
        text_bytes=counted["bytes"],
        figures=len(fig_df),
        incidents=len(inc_df),
    )
    return res, fig_df, inc_df


@dataclass
class RunResult:
    """One end-to-end `casualties run` on a corpus."""

    seconds: float
    peak_rss_mb: float  # sum of RSS over the process tree, sampled every 0.1 s
    max_child_rss_mb: float  # largest single process (getrusage RUSAGE_CHILDREN, cumulative)
    returncode: int
    stats: dict = field(default_factory=dict)  # the flow's _run_stats.json
    articles_out: int | None = None
    stderr_tail: str = ""


def pipeline_command(raw: Path, out: Path, report: Path, runner_args: list[str]) -> list[str]:
    """The `casualties run` command line, via this interpreter (no PATH lookup)."""
    return [
        sys.executable,
        "-c",
        "import sys; from casualties.cli import main; sys.exit(main())",
        "run",
        "--raw",
        str(raw),
        "--out",
        str(out),
        "--report",
        str(report),
        *runner_args,
    ]


def _role(proc, root_pid: int) -> str:
    """A short name for a process of the run's tree: flow, server, worker or its own name."""
    import psutil

    if proc.pid == root_pid:
        return "flow"
    try:
        cmd = " ".join(proc.cmdline())
    except psutil.Error:
        return "gone"
    if "prefect server" in cmd or "uvicorn" in cmd:
        return "server"
    if "multiprocessing" in cmd:
        return "worker"
    return proc.name()


def _sample_tree_rss(
    pid: int, stop: threading.Event, peak: list[int], trace: list | None = None
) -> None:
    """Sum the RSS of the process tree every 0.1 s into `peak[0]`; with `trace`, also append
    (unix time, {role:pid: bytes}) per sample."""
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    roles: dict[int, str] = {}
    while not stop.is_set():
        total = 0
        sample: dict[str, int] = {}
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for p in procs:
            with suppress(psutil.Error):
                rss = p.memory_info().rss
                total += rss
                if trace is not None:
                    role = roles.get(p.pid) or _role(p, pid)
                    if role in ("flow", "server", "worker"):  # else maybe not exec'd yet
                        roles[p.pid] = role
                    sample[f"{role}:{p.pid}"] = rss
        peak[0] = max(peak[0], total)
        if trace is not None:
            trace.append((time.time(), sample))
        stop.wait(0.1)


_LOG_LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) \| \w+ +\| (.*)$")


def memory_trace_summary(work_dir: Path) -> str:
    """Where the peak of a traced run (`measure_run(..., trace=True)`) was: the peak of the
    tree with each process's share, each process's own peak, and around each peak the run's
    log lines (Prefect logs a task's name when it finishes, so the line after a peak names
    the task that was running)."""
    work_dir = Path(work_dir)
    samples = [json.loads(line) for line in (work_dir / "memory_trace.jsonl").open()]
    log = []
    for line in (work_dir / "run.log").read_text(errors="replace").splitlines():
        m = _LOG_LINE.match(line)
        if m:
            log.append((m.group(1), m.group(2)[:110]))

    def around(t: float) -> str:
        clock = datetime.fromtimestamp(t).strftime("%H:%M:%S.%f")[:12]
        before = [x for x in log if x[0] <= clock][-1:]
        after = [x for x in log if x[0] > clock][:1]
        return "".join(f"\n      {c} {text}" for c, text in before + after)

    if not samples:
        return "no samples"
    mib = 2**20
    top = max(samples, key=lambda s: sum(s["rss"].values()))
    shares = ", ".join(f"{k} {v / mib:.0f}" for k, v in sorted(top["rss"].items()))
    t0 = samples[0]["t"]
    lines = [
        f"tree peak {sum(top['rss'].values()) / mib:.0f} MiB at +{top['t'] - t0:.1f} s "
        f"({shares}){around(top['t'])}"
    ]
    own: dict[str, tuple[int, float]] = {}
    for s in samples:
        for k, v in s["rss"].items():
            if v > own.get(k, (0, 0.0))[0]:
                own[k] = (v, s["t"])
    for k, (v, t) in sorted(own.items(), key=lambda kv: -kv[1][0]):
        if v > 100 * mib:
            lines.append(f"  {k} peak {v / mib:.0f} MiB at +{t - t0:.1f} s{around(t)}")
    return "\n".join(lines)


def measure_run(
    corpus_dir: Path, work_dir: Path, runner_args: list[str] | None = None, trace: bool = False
) -> RunResult:
    """Run the whole pipeline on `corpus_dir` into a fresh `work_dir` and measure it.

    With `trace`, also write `work_dir/memory_trace.jsonl` (RSS of each process of the tree
    every 0.1 s) and `work_dir/run.log` (the run's log), which `memory_trace_summary` reads."""
    import resource

    work_dir = Path(work_dir)
    out, report = work_dir / "processed", work_dir / "reports"
    cmd = pipeline_command(Path(corpus_dir), out, report, runner_args or [])
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    peak = [0]
    samples: list | None = [] if trace else None
    stop = threading.Event()
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        sampler = threading.Thread(target=_sample_tree_rss, args=(proc.pid, stop, peak, samples))
        sampler.start()
        rc = proc.wait()
        seconds = time.perf_counter() - t0
        stop.set()
        sampler.join()
        err.seek(0)
        log = err.read()
        tail = log[-2000:].decode(errors="replace")
    if samples is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        (work_dir / "run.log").write_bytes(log)
        with (work_dir / "memory_trace.jsonl").open("w") as fh:
            for t, rss in samples:
                fh.write(json.dumps({"t": round(t, 2), "rss": rss}) + "\n")
    max_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    return RunResult(
        seconds=seconds,
        peak_rss_mb=peak[0] / 2**20,
        max_child_rss_mb=max_child,
        returncode=rc,
        stats=read_run_stats(out),
        articles_out=_parquet_rows(out),
        stderr_tail=tail if rc else "",
    )


def _parquet_rows(out: Path) -> int | None:
    """Rows of the stored articles table in `out` (None when the run wrote none)."""
    try:
        from casualties.fields import ARTICLES
        from casualties.storage import store

        files = store.table_files(out, ARTICLES)
        return store.table_rows(files) if files else None
    except Exception:  # no table written (failed run): reported as missing, not a crash
        return None


# ---------------------------------------------------------------- the benchmark


@dataclass
class BenchPoint:
    """All measurements at one corpus size."""

    corpus: Corpus
    load: float | None = None  # 1-minute load average when the point started (shared machine)
    run: RunResult | None = None
    extract_1: ExtractionResult | None = None
    extract_n: ExtractionResult | None = None

    def row(self) -> dict:
        """A flat dict for the printed table and the JSON dump."""
        c = self.corpus
        r: dict = {"MB": round(c.mb, 1), "articles": c.articles}
        if self.load is not None:
            r["load"] = round(self.load, 1)
        if self.run:
            run = self.run
            r["e2e_s"] = round(run.seconds, 1)
            r["e2e_MB/s"] = round(c.mb / run.seconds, 2)
            r["art/s"] = round(c.articles / run.seconds)
            r["s/MB"] = round(run.seconds / c.mb, 3)
            r["peak_RSS_MB"] = round(run.peak_rss_mb)
            stages = run.stats.get("stages", {})
            flow_s = run.stats.get("flow_seconds")
            r["flow_s"] = round(flow_s, 1) if flow_s else None
            for s in STAGES:
                r[s] = round(stages[s], 1) if s in stages else None
            r["startup"] = round(run.seconds - flow_s, 1) if flow_s else None
            r["rc"] = run.returncode
            r["out_articles"] = run.articles_out
        if self.extract_1:
            r["x1_MB/s"] = round(self.extract_1.mb_per_s, 2)
        if self.extract_n:
            r[f"x{self.extract_n.workers}_MB/s"] = round(self.extract_n.mb_per_s, 2)
            r["figures"] = self.extract_n.figures
        return r


def format_table(rows: list[dict]) -> str:
    """Rows as an aligned text table (columns = union of keys, in first-seen order)."""
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    cells = [[("-" if r.get(c) is None else str(r.get(c))) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def scaling_note(points: list[BenchPoint]) -> str:
    """Time per MB of the largest size against the smallest, end to end and per flow time."""
    runs = [p for p in points if p.run and p.run.returncode == 0]
    if len(runs) < 2:
        return ""
    a, b = runs[0], runs[-1]
    assert a.run is not None and b.run is not None  # runs: the points with a run
    per_mb = [a.run.seconds / a.corpus.mb, b.run.seconds / b.corpus.mb]
    note = (
        f"time per MB at {b.corpus.mb:.0f} MB vs {a.corpus.mb:.0f} MB: "
        f"{per_mb[1] / per_mb[0] - 1:+.0%} wall (incl. startup)"
    )
    flow_a, flow_b = a.run.stats.get("flow_seconds"), b.run.stats.get("flow_seconds")
    if flow_a and flow_b:
        note += f", {flow_b / b.corpus.mb / (flow_a / a.corpus.mb) - 1:+.0%} flow time"
    marginal = (b.run.seconds - a.run.seconds) / (b.corpus.mb - a.corpus.mb)
    note += f"; marginal {1 / marginal:.2f} MB/s" if marginal > 0 else ""
    return note


def run_bench(
    sizes: list[float],
    work_dir: Path = Path("bench"),
    seed: int = 0,
    runner_args: list[str] | None = None,
    end_to_end: bool = True,
    extraction: bool = True,
    workers: int | None = None,
    echo=print,
) -> list[BenchPoint]:
    """Build a corpus per size under `work_dir`, measure, print a table, write `bench.json`."""
    from casualties.runtime.pool import default_workers

    work_dir = Path(work_dir)
    workers = workers or default_workers()
    texts = source_texts()
    points: list[BenchPoint] = []
    for mb in sizes:
        label = f"{mb:g}mb"
        t0 = time.perf_counter()
        corpus = build_corpus(work_dir / label / "raw", mb, seed=seed, texts=texts)
        echo(
            f"[bench] {label}: corpus {corpus.articles} articles, {corpus.mb:.1f} MB text in "
            f"{len(corpus.files)} files ({time.perf_counter() - t0:.1f} s to build)"
        )
        point = BenchPoint(corpus, load=os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
        if end_to_end:
            _clear(work_dir / label / "run")
            point.run = measure_run(corpus.path, work_dir / label / "run", runner_args)
            if point.run.returncode:
                echo(f"[bench] {label}: run failed (exit {point.run.returncode}):")
                echo(point.run.stderr_tail)
            echo(f"[bench] {label}: end to end {point.run.seconds:.1f} s")
        if extraction:
            point.extract_1, _, _ = measure_extraction(corpus.path, workers=1)
            if workers > 1:
                point.extract_n, _, _ = measure_extraction(corpus.path, workers=workers)
            echo(f"[bench] {label}: extraction alone measured")
        points.append(point)
    rows = [p.row() for p in points]
    echo("")
    echo(format_table(rows))
    note = scaling_note(points)
    if note:
        echo(note)
    echo(
        "MB = 10^6 bytes of article text; e2e = `casualties run` wall time incl. Python/Prefect "
        "startup; flow_s = the flow itself; stages from its _run_stats.json (batch stages, extract "
        "and validate, are summed over concurrent tasks, incl. waiting for a pool worker, so "
        "they can exceed flow_s); peak_RSS = sum over the "
        f"process tree; x1/x{workers} = extraction alone on 1/{workers} processes; load = 1-min "
        f"load average at the start (above {default_workers()}, other work shares the cores)."
    )
    dump = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "rows": rows,
        "stats": [p.run.stats if p.run else {} for p in points],
        "corpus": [
            {**asdict(p.corpus), "path": str(p.corpus.path), "files": len(p.corpus.files)}
            for p in points
        ],
    }
    (work_dir / "bench.json").write_text(json.dumps(dump, indent=1, default=str))
    return points


def _clear(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
