"""`casualties`: the command line (run the pipeline, extract, parse a quantity, serve, report,
review an article).

Parsing, messages and exit codes only; the work is in the library and in `flows/`. Prefect is
imported lazily and only by the commands that need it, after the environment defaults below
(analytics off, the server's start timeout), so `extract`, `quantity` and `fields` start fast.

Exit codes: 0 success, 1 the command failed (message on stderr), 2 bad invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from casualties.settings import DEFAULT_BATCH_SIZE

PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The run's local Prefect server can take a while to start on a busy 2-core machine.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


class UsageError(Exception):
    """A bad invocation: printed as one line, exit code 2."""


class CommandError(Exception):
    """The command could not do its work: printed as one line, exit code 1."""


def _prefect_env() -> None:
    """Defaults for Prefect, set before it is imported (the user's own settings win)."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad invocation is one line on stderr (no usage dump), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


# ------------------------------------------------------------------------------------ checks


def _existing_dir(path: str, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{what} folder {path} does not exist")
    if not p.is_dir():
        raise UsageError(f"{what} {path} is not a folder")
    return p


def _writable_dir(path: str, what: str) -> Path:
    """Create `path` if needed and prove we can write in it."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p, prefix=".write-test-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"cannot write to {what} folder {path}: {reason}") from None
    return p


# ---------------------------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    raw = _existing_dir(args.raw, "--raw")
    out = _writable_dir(args.out, "--out")
    report = _writable_dir(args.report, "--report")
    if args.batch_size < 1 or (args.workers is not None and args.workers < 1):
        raise UsageError("--batch-size and --workers must be at least 1")
    _prefect_env()
    from casualties.runtime.stop import call_interruptibly, stop_on_signals
    from casualties.storage import store
    from flows.local_server import ServerDidNotStart, api_for_run

    stop_on_signals(
        lambda name: (
            f"casualties run: stopped by {name}; staged work discarded, {out} holds "
            "the tables of the last completed run"
        )
    )
    try:
        with store.run_lock(out):  # busy? one line, before anything starts (the flow locks)
            pass
        # The Prefect server starts first: its ~5 s start overlaps the imports below.
        with api_for_run() as server:
            # Great Expectations takes ~3 s to import: here, while the server starts.
            from casualties.quality import checks as quality  # noqa: F401
            from casualties.runtime.summary import summary_lines
            from flows.console import quiet_tracebacks
            from flows.pipeline import run_pipeline

            quiet_tracebacks(args.debug)
            if server is not None:
                server.wait_ready()
            summary = call_interruptibly(
                run_pipeline,
                runner=args.runner,
                dask_address=args.dask_address,
                raw_dir=raw,
                out_dir=out,
                report_dir=report,
                full_refresh=args.full_refresh,
                batch_size=args.batch_size,
                workers=args.workers,
            )
    except (store.StoreBusy, store.StoreCorrupt, ServerDidNotStart) as exc:
        raise CommandError(str(exc)) from None
    except Exception as exc:
        if args.debug:
            raise
        raise CommandError(failure_line(exc, out)) from None
    print("\n".join(summary_lines(summary)))
    if summary.get("failed_batches"):
        print(
            f"casualties: {len(summary['failed_batches'])} file(s) had failing batches; "
            "they are retried on the next run",
            file=sys.stderr,
        )
        return 1
    return 0


def failure_line(exc: BaseException, out: Path) -> str:
    """What failed and what to do, in one line, for an error that stopped a run."""
    from casualties.runtime.errors import describe

    return describe(exc, out)


def _json_default(value):
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


def _records(path: str, published: str | None):
    """(line number, record or error message) from a JSONL file, stdin (-) or a .txt file."""
    if path != "-" and not Path(path).is_file():
        raise UsageError(f"input file {path} does not exist")
    from casualties.storage.ingest import article_too_large

    if path != "-" and path.endswith(".txt"):
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        if too_large := article_too_large(text):
            yield 1, f"article_too_large: {too_large}"
        else:
            yield 1, {"id": Path(path).name, "text": text, "published": published}
        return
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
    with stream:
        for n, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, f"invalid JSON ({exc.msg})"
                continue
            if not isinstance(rec, dict):
                yield n, "not a JSON object"
            elif not isinstance(rec.get("text"), str):
                yield n, "no `text` string"
            elif too_large := article_too_large(rec["text"]):
                yield n, f"article_too_large: {too_large}"
            else:
                rec.setdefault("published", published)
                yield n, rec


def cmd_extract(args: argparse.Namespace) -> int:
    from casualties.extract.article import extract_article, extraction_to_json
    from casualties.storage.ingest import clean_str, published_of

    bad = 0
    for n, rec in _records(args.file, args.published):
        if isinstance(rec, str):
            print(f"casualties extract: line {n}: {rec}; skipped", file=sys.stderr)
            bad += 1
            continue
        pub = published_of(rec.get("published"))  # as the pipeline reads it ("now": none)
        pub = None if pub is None else pub.to_pydatetime()
        doc_id = clean_str(str(rec.get("id", f"line-{n}")))
        # Lone surrogates ("\ud800" escapes) become U+FFFD, as the pipeline stores them.
        out = extraction_to_json(doc_id, extract_article(clean_str(rec["text"]), pub))
        print(json.dumps(out, ensure_ascii=False, default=_json_default), flush=False)
    sys.stdout.flush()
    return 1 if bad else 0


def cmd_quantity(args: argparse.Namespace) -> int:
    from casualties.extract.quantities import parse_quantity

    try:
        q = parse_quantity(args.phrase)
    except NotImplementedError:
        raise CommandError("the quantity parser is not available yet") from None
    if q is None:
        raise CommandError(f"not a quantity: {args.phrase!r}")
    print(json.dumps({"low": q.low, "best": q.best, "high": q.high, "qualifier": q.qualifier}))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    out = _existing_dir(args.out, "--out")
    report = _writable_dir(args.report, "--report")
    if not any(out.glob("*/*.parquet")):
        raise CommandError(f"no tables in {out}: run `casualties run` first")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from casualties.quality import checks as quality
    from casualties.storage.store import StoreCorrupt

    try:
        summary = quality.run_quality(out, report)
    except StoreCorrupt as exc:
        raise CommandError(str(exc)) from None
    for name, t in summary["tables"].items():
        print(
            f"{name:<11} {t['rows']:>8} rows  {t['evaluated']:>4} expectations  "
            f"{t['failed']} failed"
        )
        for label in t["failed_expectations"]:
            print(f"            failed: {label}")
    print(f"Data Docs: {summary['index']}")
    from casualties.quality.report import build_report

    built = build_report(out, report, quality=summary)
    print(f"Report: {built['index']} ({built['bytes'] / 1e6:.1f} MB, {built['seconds']:.1f} s)")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    out = _existing_dir(args.out, "--out")
    if not any(out.glob("articles/*.parquet")):
        raise CommandError(f"no tables in {out}: run `casualties run` first")
    from casualties.quality.article_view import terminal_text, write_article_page
    from casualties.quality.report_data import load_article

    found = load_article(out, args.article_id)
    if found is None:
        raise CommandError(f"no article with id {args.article_id!r} in {out}")
    article, figures, incidents = found
    if args.text:
        from rich.console import Console

        Console(highlight=False).print(terminal_text(article, figures))
        return 0
    report = _writable_dir(args.report, "--report")
    print(write_article_page(report, article, figures, incidents))
    return 0


def cmd_fields(args: argparse.Namespace) -> int:
    from casualties.fields import data_dictionary

    path = Path(args.output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data_dictionary() + "\n", encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"Wrote {path}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    if not Path(args.file).is_file():
        raise UsageError(f"input file {args.file} does not exist")
    from casualties.tools import evaluate

    opts = {"max_misses": args.max_misses, "explain_id": args.explain}
    if not args.output:
        return evaluate.run(args.file, sys.stdout, **opts)
    try:
        with open(args.output, "w", encoding="utf-8") as out:
            code = evaluate.run(args.file, out, **opts)
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"Wrote {args.output}")
    return code


def cmd_serve(args: argparse.Namespace) -> int:
    _prefect_env()
    from flows.serve import serve_deployments

    try:
        return serve_deployments(Path(args.config), names=args.deployment, api_url=args.api_url)
    except (OSError, ValueError, KeyError) as exc:
        raise CommandError(str(exc)) from None


def cmd_bench(args: argparse.Namespace) -> int:
    _prefect_env()
    from casualties.tools.bench import run_bench

    runner_args = ["--runner", args.runner] if args.runner else []
    if args.incremental:
        from casualties.tools.incremental_bench import run_incremental

        bad = 0
        for mb in args.mb or [30]:
            rows, equal = run_incremental(mb, Path(args.work_dir), args.seed, runner_args)
            bad += any(r["rc"] for r in rows) or not all(equal.values())
        return 1 if bad else 0
    points = run_bench(
        sizes=args.mb or [10, 30, 100],
        work_dir=Path(args.work_dir),
        seed=args.seed,
        runner_args=runner_args,
        end_to_end=not args.extraction_only,
        extraction=not args.e2e_only,
        workers=args.workers,
    )
    failed = [p for p in points if p.run is not None and p.run.returncode]
    return 1 if failed else 0


# ------------------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="casualties",
        description="News articles in, traceable casualty figures, incidents and events out "
        "(validated Parquet tables and a data-quality report).",
        epilog="Run `casualties COMMAND --help` for the options of a command.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when a command fails"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "run",
        help="run the pipeline: raw/ → processed/*.parquet and reports/index.html",
        description="Run the Prefect flow once on the embedded local server: read the .txt and "
        ".jsonl files under --raw, extract figures and incidents, validate them (failing rows go "
        "to the quarantine table), write Parquet tables into --out atomically, check them with "
        "Great Expectations and build Data Docs at <report>/quality/index.html, then the "
        "maintainers' report at <report>/index.html. Incremental: files already processed and "
        "unchanged are skipped.",
    )
    p.add_argument("--raw", default="raw", metavar="DIR", help="input folder (default: raw)")
    p.add_argument("--out", default="processed", metavar="DIR", help="tables (default: processed)")
    p.add_argument(
        "--report",
        default="reports",
        metavar="DIR",
        help="report folder (default: reports)",
    )
    p.add_argument(
        "--full-refresh", action="store_true", help="reprocess every input, ignoring the manifest"
    )
    p.add_argument(
        "--runner",
        choices=("local", "dask"),
        default="local",
        help="local: this machine (a process pool on large inputs); dask: a Dask cluster",
    )
    p.add_argument(
        "--dask-address",
        metavar="ADDR",
        help="scheduler of an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (implies --runner "
        "dask; without it, --runner dask starts a local cluster)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"articles per extraction task (default: {DEFAULT_BATCH_SIZE})",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="extraction processes (default: cores)",
    )
    p.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,  # `casualties --debug run` works too
        help="show the full traceback (and Prefect's) when the run fails",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "extract",
        help="extract figures, incidents and totals from JSONL articles (one JSON line each)",
        description='Read articles as JSON lines ({"id", "text", optional "published", '
        '"title", "source", "url"}) from FILE or stdin (-), or one .txt file, and print one '
        "JSON object per article: its figures, incidents and a {low, best, high} total per "
        "category. Same code as the pipeline.",
    )
    p.add_argument(
        "file", nargs="?", default="-", metavar="FILE|-", help="JSONL or .txt (default: -)"
    )
    p.add_argument(
        "--published",
        metavar="DATE",
        help="publication date for records without one (resolves 'on Saturday'), e.g. 2017-06-11",
    )
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser(
        "quantity",
        help='read a quantity phrase: "3,000 to 4,000" → {"low", "best", "high", "qualifier"}',
        description="Print the CONVENTIONS reading of one quantity phrase as JSON.",
    )
    p.add_argument("phrase", help='e.g. "at least 14", "dozens", "3,000 to 4,000"')
    p.set_defaults(func=cmd_quantity)

    p = sub.add_parser(
        "serve",
        help="serve the deployments of prefect.yaml with their schedules (Ctrl-C stops)",
        description="Serve the pipeline deployments defined in prefect.yaml with their cron "
        "schedules. Schedules need a Prefect server with its scheduler: without "
        "PREFECT_API_URL (or --api-url) a local server is started for as long as this runs "
        "(UI at the printed address).",
    )
    p.add_argument("--config", default="prefect.yaml", metavar="FILE", help="default: prefect.yaml")
    p.add_argument(
        "--deployment", action="append", metavar="NAME", help="serve only this one (repeatable)"
    )
    p.add_argument("--api-url", metavar="URL", help="use this Prefect server instead")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "report",
        help="re-check the tables in processed/ and rebuild the reports",
        description="Run the expectation suites on the Parquet tables in --out, rebuild the "
        "Data Docs at <report>/quality/index.html and the maintainers' report at "
        "<report>/index.html (with the article pages of its review queue).",
    )
    p.add_argument("--out", default="processed", metavar="DIR", help="tables (default: processed)")
    p.add_argument("--report", default="reports", metavar="DIR", help="default: reports")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "review",
        help="write the article view of one stored article (or print it with --text)",
        description="Write <report>/articles/<id>.html: the article's text with every figure "
        "highlighted by category (its reading on hover or focus) and its incidents, then print "
        "the page's path. ARTICLE_ID is an article_id of the articles table (a doc_id works "
        "too). With --text, print the article in the terminal with the figures highlighted.",
    )
    p.add_argument("article_id", metavar="ARTICLE_ID")
    p.add_argument("--out", default="processed", metavar="DIR", help="tables (default: processed)")
    p.add_argument("--report", default="reports", metavar="DIR", help="default: reports")
    p.add_argument("--text", action="store_true", help="print to the terminal instead")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser(
        "evaluate",
        help="score extraction against a labelled file",
        description="Run extraction on the labelled articles in FILE and print, per source and "
        "overall, how often the killed and injured totals match the labels, then the wrong "
        "articles with the kind of error (over-count, under-count, background added, missed). "
        "--explain ID shows how one article is read instead.",
    )
    p.add_argument("file", metavar="FILE", help="labelled data (JSONL)")
    p.add_argument("--max-misses", type=int, metavar="N", help="list at most N misses")
    p.add_argument(
        "--explain",
        metavar="ID",
        help="print each figure of article ID (words, offsets, sentence, the account and "
        "incident it joined, whether it counted and why), its incidents and totals vs labels",
    )
    p.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "fields",
        help="write the data dictionary (docs/fields.md) from the field list",
        description="Generate the data dictionary of every table from casualties/fields.py.",
    )
    p.add_argument(
        "--output", default="docs/fields.md", metavar="FILE", help="default: docs/fields.md"
    )
    p.set_defaults(func=cmd_fields)

    p = sub.add_parser(
        "bench",
        help="benchmark throughput and memory on generated corpora (10, 30, 100 MB)",
        description="Build reproducible corpora from the dev texts, run the pipeline and "
        "extraction alone on them, print MB/s, articles/s, peak memory and time per stage.",
    )
    p.add_argument(
        "--mb", type=float, nargs="+", default=None, metavar="N", help="default: 10 30 100"
    )
    p.add_argument(
        "--incremental",
        action="store_true",
        help="build the store (default 30 MB), add 1 article, then 1 MB; print the times, peak "
        "memory and whether the tables equal a full rebuild's",
    )
    p.add_argument("--work-dir", default="bench", metavar="DIR", help="default: bench")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=None, metavar="N")
    p.add_argument("--runner", choices=("local", "dask"), default=None)
    p.add_argument("--e2e-only", action="store_true", help="skip extraction-alone timing")
    p.add_argument("--extraction-only", action="store_true", help="skip the end-to-end runs")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `casualties` console script."""
    from casualties.runtime.memory import arrow_uses_malloc, limit_arenas

    limit_arenas()  # before Prefect starts its threads (see casualties.runtime.memory)
    arrow_uses_malloc()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"casualties {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"casualties {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"casualties {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `casualties extract ... | head`
        return 0
    except Exception as exc:  # one line, not a traceback (unless --debug)
        if getattr(args, "debug", False):
            raise
        from casualties.runtime.errors import describe

        print(f"casualties {args.command}: {describe(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
