"""Read raw inputs (.txt, .jsonl) into article rows; everything rejected becomes a quarantine row.

Never raises on bad input: every problem is a quarantine row (QUARANTINE columns, `stage` =
"read") naming the file (`source_file`, relative to raw/), the `line` (1-based, JSONL only), the
record's `doc_id` when it has one, a stable `reason` code, a `detail` naming the field and an
`excerpt` (first 200 characters, control characters replaced).

Entry points for the flow
-------------------------
- `discover_inputs(raw_dir)` -> (inputs, quarantine): the .txt/.jsonl files, sorted by `rel`.
- `iter_articles(raw, batch_size)` -> (articles, quarantine) batches, streamed (a JSONL file is
  read line by line; a .txt file is one article).
- `resolve_duplicates(articles)` -> (kept, quarantine): one row per article text and one text per
  `doc_id` across everything it is given. `merge.merge_into` calls it over stored + new rows, so
  the flow does not have to (it may call it earlier on a batch to skip extracting duplicates).

Reason codes (`REASONS` below is the authoritative list)
--------------------------------------------------------
Rejected (no article row):
  unsupported_extension, symlink_outside_raw, unreadable_file   (file level, from discovery)
  empty_file, binary_content                                    (file level)
  invalid_json, not_an_object, missing_text, text_not_string, empty_text, line_too_long
                                                                (JSONL record)
  article_too_large  (text longer than MAX_ARTICLE_CHARS: .txt file or JSONL record)
  duplicate_id   (same `id` as an earlier record, different text; earlier = by (source_file, line))
Notes (the article IS kept; the row records what was repaired):
  bad_published  (unparseable or non-string `published`: kept with `published` null)
  missing_id     (no usable `id`: kept with doc_id "<source_file>:<line>")
  bad_field      (`title`/`source`/`url` not a string or number: kept with that field null)
  decoded_legacy_encoding  (not UTF-8; decoded as cp1252, or latin-1 when cp1252 cannot: one
                            row per file, `line` = first such line, `detail` gives the count)

Decisions
---------
- Decoding: UTF-8 (a BOM is dropped); UTF-16 only with a BOM (.txt); else cp1252, else latin-1
  (which decodes any byte). JSONL is decoded line by line, so one Latin-1 line in a UTF-8 feed
  costs nothing else. Decoding never drops an article; the note keeps the guess visible.
- Binary: NUL bytes (in a .txt, or in the first 8 KiB of a .jsonl: then the whole file is one
  `binary_content` row) or more than 10 % control characters after decoding.
- .txt: line endings normalised to "\\n"; `text` is the whole file, `title` its first non-empty
  line (stripped); `doc_id` = `source_file`; `line` null.
- JSONL: an integer `id` is turned into its decimal string; `published` is parsed per batch to
  UTC (naive times are taken as UTC), ISO 8601 first, then any format pandas recognises.
- Size cap: an article of more than MAX_ARTICLE_CHARS characters (2,000,000: some 250 times the
  longest article of the full-article dev set) is quarantined, not extracted, so one outsized
  text (a dump, a feed concatenated into one record) cannot hold up a run: extraction time per
  character grows with the length of one text (README, "Size cap", has the measurements).
- Lone surrogates (from JSON "\\ud800" escapes) are replaced by U+FFFD: Parquet needs valid UTF-8.
- Same text twice is stored once (`article_id` = first 16 hex of sha256 of the UTF-8 text);
  same `id` with the same text is one article, not a conflict.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from casualties.extract.checked import REASONS as EXTRACT_REASONS
from casualties.fields import ARTICLES, QUARANTINE, Table, conform

#: Stable reason codes of the read stage and what they mean (docs and tests read this), and
#: those of per-article failures in the extract and validate stages.
REASONS: dict[str, str] = {
    "unsupported_extension": "file is not .txt or .jsonl; skipped",
    "symlink_outside_raw": "symbolic link pointing outside raw/; not followed",
    "unreadable_file": "file could not be opened or read (permissions, broken link)",
    "empty_file": "file has no content (zero bytes or only whitespace)",
    "binary_content": "file holds binary data (NUL bytes or mostly control characters)",
    "invalid_json": "JSONL line is not valid JSON (includes truncated lines)",
    "not_an_object": "JSONL line is valid JSON but not an object",
    "missing_text": "record has no `text` (absent or null)",
    "text_not_string": "record's `text` is not a string",
    "empty_text": "record's `text` is empty or only whitespace",
    "line_too_long": "JSONL line longer than MAX_LINE_BYTES (64 MiB); skipped unread",
    "article_too_large": "text longer than MAX_ARTICLE_CHARS (2,000,000 characters); not extracted",
    "duplicate_id": "same `id` as an earlier record with a different text; the later is rejected",
    "bad_published": "note: `published` unparseable, not a string, or a relative word (now, "
    "today, yesterday: no fixed date); article kept, published null",
    "published_out_of_range": "note: `published` is a date outside the years the tables can "
    "hold (1677-2262); article kept, published null",
    "missing_id": "note: record has no usable `id`; article kept with doc_id <file>:<line>",
    "bad_field": "note: `title`, `source` or `url` of a wrong type; article kept, field null",
    "decoded_legacy_encoding": "note: not UTF-8; decoded as cp1252/latin-1 and kept",
    **EXTRACT_REASONS,  # stages extract and validate: one article or figure, never a batch
}
#: Reasons that accompany a kept article rather than a rejected record.
NOTE_REASONS = frozenset(
    {
        "bad_published",
        "published_out_of_range",
        "missing_id",
        "bad_field",
        "decoded_legacy_encoding",
    }
)
#: `published` words that name no fixed date: pandas would read "now" and "today" as the
#: clock of the run, so a rerun would change the row.
RELATIVE_DATE_WORDS = frozenset({"now", "today", "yesterday", "tomorrow", "tonight"})

EXTENSIONS = {".txt": "txt", ".jsonl": "jsonl"}
EXCERPT_CHARS = 200
MAX_LINE_BYTES = 64 * 1024 * 1024  # a longer JSONL line is quarantined, not loaded
MAX_ARTICLE_CHARS = 2_000_000  # a longer article text is quarantined, not extracted
_SNIFF_BYTES = 8192
_BINARY_CONTROL_SHARE = 0.10

#: The article columns `iter_articles` yields (ARTICLES without n_figures and run_id).
READ_ARTICLES = Table(
    "articles",
    ARTICLES.description,
    tuple(f for f in ARTICLES.fields if f.name not in ("n_figures", "run_id")),
)
#: The quarantine columns io yields (QUARANTINE without run_id).
READ_QUARANTINE = Table(
    "quarantine",
    QUARANTINE.description,
    tuple(f for f in QUARANTINE.fields if f.name != "run_id"),
)


@dataclass(frozen=True)
class RawInput:
    """One input file under raw/."""

    path: Path  # absolute path
    rel: str  # path relative to raw/, POSIX separators: the articles' `source_file`
    kind: str  # "txt" or "jsonl"
    sha256: str  # content hash of the file's bytes (incremental runs compare it)
    size: int


# ---------------------------------------------------------------------------------------------
# small helpers


def article_id(text: str) -> str:
    """Content hash of an article text: first 16 hex digits of sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def article_codes(ids: pd.Series) -> np.ndarray:
    """The 64-bit numbers that article ids (`article_id`: 16 hex digits) write, as uint64: the
    same ids, exactly, without a Python object each."""
    if len(ids) and (ids.str.len() != 16).any():
        raise ValueError("article ids are 16 hex digits")
    return np.frombuffer(bytes.fromhex("".join(ids)), dtype=">u8").astype(np.uint64)


_SURROGATES = re.compile("[\ud800-\udfff]")
# Control characters that make an excerpt unreadable (tab and newline are kept).
_CONTROL = {c: "\ufffd" for c in range(32) if chr(c) not in "\t\n\r"} | {0x7F: "\ufffd"}


def _clean_str(s: str) -> str:
    """`s` made storable as UTF-8: lone surrogates (legal in JSON escapes) become U+FFFD."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", s)


def clean_str(s: str) -> str:
    """`s` as the pipeline stores it: lone surrogates (legal in JSON escapes, not in UTF-8)
    replaced by U+FFFD (`casualties extract` reads records the same way)."""
    return _clean_str(s)


def excerpt_of(value: str | bytes | None) -> str | None:
    """First EXCERPT_CHARS characters of the offending input, readable in a table viewer."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    return _clean_str(value[:EXCERPT_CHARS]).translate(_CONTROL)


def _qrow(
    source_file: str,
    reason: str,
    detail: str,
    line: int | None = None,
    doc_id: str | None = None,
    excerpt: str | bytes | None = None,
) -> dict:
    return {
        "source_file": source_file,
        "line": line,
        "doc_id": doc_id,
        "stage": "read",
        "reason": reason,
        "detail": detail,
        "excerpt": excerpt_of(excerpt),
    }


def quarantine_frame(rows: list[dict]) -> pd.DataFrame:
    """Quarantine rows as a frame with the READ_QUARANTINE columns and dtypes."""
    return conform(pd.DataFrame(rows, columns=READ_QUARANTINE.columns), READ_QUARANTINE)


def _articles_frame(rows: list[dict]) -> pd.DataFrame:
    return conform(pd.DataFrame(rows, columns=READ_ARTICLES.columns), READ_ARTICLES)


def _control_share(text: str) -> float:
    sample = text[:_SNIFF_BYTES]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ch not in "\t\n\r\f\v" and unicodedata.category(ch) == "Cc")
    return bad / len(sample)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode `data` to text; returns (text, encoding). Never raises.

    UTF-8 (BOM dropped), UTF-16 with a BOM, else cp1252, else latin-1 (decodes any byte).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    return _decode_utf8_or_legacy(data)


def _decode_utf8_or_legacy(data: bytes) -> tuple[str, str]:
    """UTF-8, else cp1252, else latin-1 (which decodes any byte): the text and the encoding."""
    for enc in ("utf-8", "cp1252"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


# ---------------------------------------------------------------------------------------------
# discovery


# Complexity allowed: one walk of raw/; each branch is one reason to skip a file.
def discover_inputs(raw_dir: Path) -> tuple[list[RawInput], pd.DataFrame]:  # noqa: C901
    """All .txt and .jsonl files under `raw_dir`, sorted by `rel`, plus quarantine rows for files
    that are skipped (other extensions, symlinks leaving raw_dir, unreadable files).

    Hidden files and folders (name starting with ".") are skipped silently. Symbolic links that
    stay inside raw/ are read (files) or not descended (folders: their files are reached through
    their real path already). Each input's sha256 is computed here, streaming.
    """
    raw_dir = Path(raw_dir)
    root = raw_dir.resolve()
    inputs: list[RawInput] = []
    qrows: list[dict] = []

    def inside(p: Path) -> bool:
        try:
            p.resolve().relative_to(root)
            return True
        except (ValueError, OSError, RuntimeError):
            return False

    candidates: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        keep_dirs = []
        for d in sorted(dirnames):
            if d.startswith("."):
                continue
            p = here / d
            if p.is_symlink():
                if not inside(p):
                    rel = p.relative_to(root).as_posix()
                    qrows.append(
                        _qrow(
                            rel,
                            "symlink_outside_raw",
                            f"folder link points outside raw/ to {os.readlink(p)}",
                        )
                    )
                continue
            keep_dirs.append(d)
        dirnames[:] = keep_dirs
        for name in filenames:
            if name.startswith("."):
                continue
            p = here / name
            candidates.append((p.relative_to(root).as_posix(), p))

    for rel, p in sorted(candidates):
        kind = EXTENSIONS.get(p.suffix.lower())
        if p.is_symlink():
            target = os.readlink(p)
            if not p.exists():
                qrows.append(_qrow(rel, "unreadable_file", f"broken symbolic link to {target}"))
                continue
            if not inside(p):
                qrows.append(
                    _qrow(rel, "symlink_outside_raw", f"file link points outside raw/ to {target}")
                )
                continue
        if kind is None:
            qrows.append(
                _qrow(
                    rel,
                    "unsupported_extension",
                    f"extension {p.suffix or '(none)'!r} is not .txt or .jsonl",
                )
            )
            continue
        if not p.is_file():
            qrows.append(_qrow(rel, "unreadable_file", "not a regular file"))
            continue
        try:
            sha, size = _sha256_file(p)
        except OSError as e:
            qrows.append(_qrow(rel, "unreadable_file", f"cannot read: {e.strerror or e}"))
            continue
        inputs.append(RawInput(path=p, rel=rel, kind=kind, sha256=sha, size=size))
    qdf = quarantine_frame(qrows)
    if len(qdf):
        qdf = qdf.sort_values("source_file", kind="stable").reset_index(drop=True)
    return inputs, qdf


# ---------------------------------------------------------------------------------------------
# reading


def iter_articles(
    raw: RawInput, batch_size: int = 2000
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Stream (articles, quarantine) batches from one file without loading it whole.

    `articles` has the ARTICLES columns except `n_figures` and `run_id` (READ_ARTICLES);
    `quarantine` has the QUARANTINE columns except `run_id` (READ_QUARANTINE). Each batch has at
    most `batch_size` article rows (and at most `batch_size` quarantine rows). Duplicates are
    not removed here (see `resolve_duplicates`). An unreadable file yields one quarantine row.
    """
    try:
        if raw.kind == "txt":
            yield _read_txt(raw)
        else:
            yield from _iter_jsonl(raw, max(1, batch_size))
    except OSError as e:  # vanished or unreadable since discovery: a row, not a crash
        row = _qrow(raw.rel, "unreadable_file", f"cannot read: {e.strerror or e}")
        yield _articles_frame([]), quarantine_frame([row])


def read_txt_files(raws: list[RawInput]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(articles, quarantine) of several .txt files as one frame each: what `iter_articles`
    yields for each, together (building two frames per small file would cost more than
    reading it)."""
    rows: list[dict] = []
    qrows: list[dict] = []
    for raw in raws:
        try:
            row, problems = _txt_row(raw)
        except OSError as e:
            row, problems = (
                None,
                [_qrow(raw.rel, "unreadable_file", f"cannot read: {e.strerror or e}")],
            )
        rows.extend([row] if row else [])
        qrows.extend(problems)
    return _articles_frame(rows), quarantine_frame(qrows)


def _read_txt(raw: RawInput) -> tuple[pd.DataFrame, pd.DataFrame]:
    row, qrows = _txt_row(raw)
    return _articles_frame([row] if row else []), quarantine_frame(qrows)


def _txt_row(raw: RawInput) -> tuple[dict | None, list[dict]]:
    """The article row of one .txt file (None if rejected) and its quarantine rows."""
    data = raw.path.read_bytes()
    rel = raw.rel
    if not data.strip():
        return None, [_qrow(rel, "empty_file", "file has no text", doc_id=rel)]
    is_utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if b"\x00" in data and not is_utf16:
        return None, [
            _qrow(rel, "binary_content", "NUL bytes in a .txt file", doc_id=rel, excerpt=data)
        ]
    text, enc = decode_bytes(data)
    if _control_share(text) > _BINARY_CONTROL_SHARE:
        why = "mostly control characters in a .txt file"
        return None, [_qrow(rel, "binary_content", why, doc_id=rel, excerpt=data)]
    text = _clean_str(text.replace("\r\n", "\n").replace("\r", "\n"))
    qrows = []
    if not text.strip():
        qrows.append(_qrow(rel, "empty_file", "file has no text", doc_id=rel))
        return None, qrows
    if too_large := article_too_large(text):
        qrows.append(_qrow(rel, "article_too_large", too_large, doc_id=rel, excerpt=text))
        return None, qrows
    if enc in ("cp1252", "latin-1"):
        qrows.append(
            _qrow(
                rel,
                "decoded_legacy_encoding",
                f"text is not UTF-8; decoded as {enc}",
                doc_id=rel,
                excerpt=text,
            )
        )
    title = next(line.strip() for line in text.split("\n") if line.strip())
    row = {
        "article_id": article_id(text),
        "doc_id": rel,
        "title": title,
        "published": None,
        "source": None,
        "url": None,
        "text": text,
        "source_file": rel,
        "line": None,
    }
    return row, qrows


def article_too_large(text: str) -> str | None:
    """Why `text` is above the size cap (the quarantine detail), or None when it is not."""
    if len(text) <= MAX_ARTICLE_CHARS:
        return None
    return f"text has {len(text):,} characters (cap {MAX_ARTICLE_CHARS:,}); not extracted"


def _decode_line(data: bytes, first: bool) -> tuple[str, str]:
    if first and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return _decode_utf8_or_legacy(data)


def _optional_str(rec: dict, key: str) -> tuple[str | None, str | None]:
    """(value, problem) for an optional string field: numbers become strings, others null."""
    v = rec.get(key)
    if v is None or isinstance(v, str):
        return (None if v is None else _clean_str(v)), None
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v), None
    return None, f"`{key}` is {type(v).__name__}, expected a string"


def _lines(f) -> Iterator[bytes | None]:
    """The lines of a binary file; None for a line longer than MAX_LINE_BYTES (read past in
    chunks, so one enormous line never sits in memory)."""
    limit = MAX_LINE_BYTES
    while data := f.readline(limit + 1):
        if len(data) > limit and not data.endswith(b"\n"):
            while (chunk := f.readline(1 << 20)) and not chunk.endswith(b"\n"):
                pass
            yield None
        else:
            yield data


def _iter_jsonl(raw: RawInput, batch_size: int) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    rel = raw.rel
    rows: list[dict] = []
    published_raw: list[object] = []
    qrows: list[dict] = []
    legacy: dict[str, int] = {}  # encoding -> number of lines
    first_legacy_line: int | None = None
    seen_content = False

    def flush() -> tuple[pd.DataFrame, pd.DataFrame]:
        nonlocal rows, published_raw, qrows
        published, bad = _parse_published(published_raw)
        for row, value, pub, is_bad in zip(rows, published_raw, published, bad, strict=True):
            row["published"] = pub
            if is_bad:
                reason, why = published_problem(value)
                qrows.append(
                    _qrow(
                        rel,
                        reason,
                        f"`published` {excerpt_of(repr(value))} {why}; kept with published null",
                        line=row["line"],
                        doc_id=row["doc_id"],
                        excerpt=str(value),
                    )
                )
        out = _articles_frame(rows), quarantine_frame(qrows)
        rows, published_raw, qrows = [], [], []
        return out

    with open(raw.path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
        if b"\x00" in head:
            row = _qrow(rel, "binary_content", "NUL bytes in a .jsonl file", excerpt=head)
            yield _articles_frame([]), quarantine_frame([row])
            return
        f.seek(0)
        for lineno, data in enumerate(_lines(f), start=1):
            if data is None:  # longer than MAX_LINE_BYTES: skipped without holding it
                seen_content = True
                qrows.append(
                    _qrow(
                        rel,
                        "line_too_long",
                        f"line longer than {MAX_LINE_BYTES} bytes; skipped",
                        line=lineno,
                    )
                )
                continue
            data = data.rstrip(b"\r\n")
            if not data.strip():
                continue  # blank lines are skipped
            seen_content = True
            line, enc = _decode_line(data, first=lineno == 1)
            if enc != "utf-8":
                legacy[enc] = legacy.get(enc, 0) + 1
                first_legacy_line = first_legacy_line or lineno
            rec_row, problems = _parse_record(rel, lineno, line)
            qrows.extend(problems)
            if rec_row is not None:
                published_raw.append(rec_row.pop("_published"))
                rows.append(rec_row)
            if len(rows) >= batch_size or len(qrows) >= batch_size:
                yield flush()
    if not seen_content:
        qrows.append(_qrow(rel, "empty_file", "file has no records"))
    if legacy:
        counts = ", ".join(f"{n} as {enc}" for enc, n in sorted(legacy.items()))
        qrows.append(
            _qrow(
                rel,
                "decoded_legacy_encoding",
                f"lines not UTF-8, decoded: {counts}",
                line=first_legacy_line,
            )
        )
    if rows or qrows:
        yield flush()


_ID_IN_BROKEN_JSON = re.compile(r'"id"\s*:\s*(?:"([^"\\]{1,200})"|(-?\d{1,30})\b)')


def _parse_record(rel: str, lineno: int, line: str) -> tuple[dict | None, list[dict]]:
    """One JSONL line -> (article row with a raw `_published`, or None; quarantine rows)."""
    try:
        rec = json.loads(line)
    except (ValueError, RecursionError) as e:
        detail = f"not valid JSON: {getattr(e, 'msg', type(e).__name__)}"
        if isinstance(e, json.JSONDecodeError):
            detail += f" (character {e.pos})"
        m = _ID_IN_BROKEN_JSON.search(line[:_SNIFF_BYTES])  # name the record if we can
        doc_id = _clean_str(m.group(1) or m.group(2)) if m else None
        return None, [_qrow(rel, "invalid_json", detail, lineno, doc_id, line)]
    if not isinstance(rec, dict):
        kind = {list: "an array", str: "a string", type(None): "null"}.get(type(rec), "a number")
        if isinstance(rec, bool):
            kind = "a boolean"
        return None, [
            _qrow(rel, "not_an_object", f"JSON is {kind}, expected an object", lineno, None, line)
        ]

    raw_id = rec.get("id")
    doc_id = None
    if isinstance(raw_id, str) and raw_id.strip():
        doc_id = _clean_str(raw_id)
    elif isinstance(raw_id, int) and not isinstance(raw_id, bool):
        doc_id = str(raw_id)

    text = rec.get("text")
    if text is None:
        why = "no `text` field" if "text" not in rec else "`text` is null"
        return None, [_qrow(rel, "missing_text", why, lineno, doc_id, line)]
    if not isinstance(text, str):
        why = f"`text` is {type(text).__name__}, expected a string"
        return None, [_qrow(rel, "text_not_string", why, lineno, doc_id, line)]
    if not text.strip():
        return None, [_qrow(rel, "empty_text", "`text` is empty", lineno, doc_id, line)]
    if too_large := article_too_large(text):
        return None, [_qrow(rel, "article_too_large", too_large, lineno, doc_id, line)]
    text = _clean_str(text)

    notes: list[dict] = []
    if doc_id is None:
        doc_id = f"{rel}:{lineno}"
        why = "no `id` field" if raw_id is None else f"`id` is {type(raw_id).__name__}"
        notes.append(
            _qrow(rel, "missing_id", f"{why}; kept as doc_id {doc_id!r}", lineno, doc_id, line)
        )
    values = {}
    for key in ("title", "source", "url"):
        values[key], problem = _optional_str(rec, key)
        if problem:
            notes.append(_qrow(rel, "bad_field", f"{problem}; kept null", lineno, doc_id, line))
    row = {
        "article_id": article_id(text),
        "doc_id": doc_id,
        "title": values["title"],
        "source": values["source"],
        "url": values["url"],
        "text": text,
        "source_file": rel,
        "line": lineno,
        "_published": rec.get("published"),
    }
    return row, notes


def _parse_published(values: list[object]) -> tuple[list, list[bool]]:
    """Parse `published` values of a batch to UTC timestamps; (timestamps, is_bad) per value.

    Null or empty string is simply absent (not bad). Strings are tried as ISO 8601 (fast,
    vectorised), the rest with pandas' mixed-format parser. Naive times are taken as UTC.
    """
    if not values:
        return [], []
    s = pd.Series(values, dtype=object)
    # "now", "today": no fixed date (pandas would give the clock of the run)
    s = s.map(lambda v: "\0relative" if _is_relative(v) else v)
    is_str = s.map(lambda v: isinstance(v, str))
    absent = s.isna() | (is_str & s.map(lambda v: isinstance(v, str) and not v.strip()))
    strs = s.where(is_str & ~absent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = pd.to_datetime(strs, utc=True, errors="coerce", format="ISO8601")
        retry = out.isna() & strs.notna()
        if retry.any():
            out[retry] = pd.to_datetime(strs[retry], utc=True, errors="coerce", format="mixed")
    bad = (out.isna() & ~absent).tolist()
    return [None if pd.isna(v) else v for v in out], bad


def _is_relative(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() in RELATIVE_DATE_WORDS


def published_problem(value: object) -> tuple[str, str]:
    """(reason, why) for a `published` value `_parse_published` could not use."""
    if _is_relative(value):
        return "bad_published", "is a relative word, not a date"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            return (
                "published_out_of_range",
                f"is year {parsed.year:04d}, outside the years the tables can hold "
                f"({pd.Timestamp.min.ceil('D').date()} to {pd.Timestamp.max.floor('D').date()})",
            )
        return "bad_published", "is not a date"
    return "bad_published", f"is {type(value).__name__}, not a date string"


def published_of(value: object) -> pd.Timestamp | None:
    """One `published` value read as the pipeline reads it (UTC), or None."""
    return _parse_published([value])[0][0]


# ---------------------------------------------------------------------------------------------
# duplicates


def duplicate_id_row(source_file: str, line: int | None, doc_id: str, text: str | None) -> dict:
    """The quarantine row of a record whose `id` an earlier record used with another text."""
    detail = f"`id` {doc_id!r} was already used by an earlier record with a different text"
    return _qrow(source_file, "duplicate_id", detail, line=line, doc_id=doc_id, excerpt=text)


def resolve_duplicates(articles: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per text and one text per `doc_id`; returns (kept, quarantine).

    Rows are ordered by (source_file, line) and the first wins: a later row whose `doc_id` was
    already used with a different text is rejected (`duplicate_id`, a quarantine row); then a
    later row with an already kept text is dropped silently (the same text is stored once).
    Kept rows come back in (source_file, line) order; extra columns are preserved.
    """
    if articles.empty:
        return articles.reset_index(drop=True), quarantine_frame([])
    df = articles.sort_values(
        ["source_file", "line"], kind="stable", na_position="first"
    ).reset_index(drop=True)
    first_text = df.groupby("doc_id", sort=False)["article_id"].transform("first")
    conflict = df["article_id"] != first_text
    qrows = [
        duplicate_id_row(r.source_file, None if pd.isna(r.line) else int(r.line), r.doc_id, r.text)
        for r in df[conflict].itertuples(index=False)
    ]
    kept = df[~conflict]
    kept = kept[~kept["article_id"].duplicated(keep="first")].reset_index(drop=True)
    return kept, quarantine_frame(qrows)
