"""A raw/ folder mixing good articles with every kind of bad input named in issue 5.

Used by test_io (reading), test_store (merging) and test_reliability (end to end via the CLI).
All sentences are written for these tests (wire style), not copied from published articles.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

GOOD_TXT = (
    "Market blast kills 12 in Northtown\n"
    "\n"
    "A bomb killed 12 people at a crowded market in Northtown on Monday, police said.\n"
    "At least 30 others were wounded.\n"
)
LATIN1_TXT = (
    "Café attack in Südstadt\n\nThree people were killed in an attack on a café in Südstadt "
    "on Friday, officials said. Médecins treated 8 wounded.\n"
)
W1_TEXT = "Two soldiers were killed and five wounded in an ambush near Eastbridge, the army said."
W5_TEXT = "Five civilians were wounded by shelling in Riverside on Sunday, medics said."
W7_TEXT = "Gunmen kidnapped 4 aid workers near the café in Hillcrest, the agency reported."
NOID_TEXT = "About 200 families were displaced by fighting around Lakeside, the UN said."
BIG_HEAD = "Officials said 40 people were killed in the strikes. "


def jsonl_lines() -> list[bytes]:
    """The lines of feed/wire.jsonl; line n (1-based) is element n-1."""

    def j(obj) -> bytes:
        return json.dumps(obj, ensure_ascii=False).encode("utf-8")

    return [
        j(  # 1 good
            {
                "id": "w-1",
                "title": "Ambush near Eastbridge",
                "text": W1_TEXT,
                "published": "2024-03-05T10:00:00+02:00",
                "source": "Wire",
                "url": "https://example.org/w-1",
            }
        ),
        b"   ",  # 2 blank: skipped
        b'{"id": "w-2", "text": "Two soldiers were',  # 3 truncated
        b"[1, 2, 3]",  # 4 JSON, not an object
        j({"id": "w-3", "title": "No text here"}),  # 5 no text
        j({"id": "w-4", "text": 42}),  # 6 text not a string
        j({"id": "w-5", "text": W5_TEXT, "published": "sometime last spring"}),  # 7 bad date
        j({"id": "w-1", "text": "A different story under a reused id."}),  # 8 duplicate id
        j({"id": "w-6", "text": W1_TEXT, "published": "2024-03-06"}),  # 9 same text: once
        # 10 a Latin-1 line in a UTF-8 feed
        json.dumps({"id": "w-7", "text": W7_TEXT}, ensure_ascii=False).encode("latin-1"),
        j({"id": "w-8", "text": ""}),  # 11 empty text
        b'"just a string"',  # 12 JSON string, not an object
        j({"text": NOID_TEXT, "published": "2024-03-07 08:30"}),  # 13 no id: kept
        j({"id": "w-1", "text": W1_TEXT}),  # 14 same id, same text: stored once
    ]


def build_mixed_raw(root: Path, big_line_mb: float = 5.0) -> Path:
    """Create `root/raw` (and `root/outside`) and return the raw folder."""
    raw = root / "raw"
    (raw / "feed").mkdir(parents=True)
    (raw / "mirror").mkdir()
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Not part of raw: 99 killed.\n")

    (raw / "good.txt").write_text(GOOD_TXT, encoding="utf-8")
    (raw / "latin1.txt").write_bytes(LATIN1_TXT.encode("latin-1"))
    (raw / "empty.txt").write_bytes(b"")
    (raw / "blank.txt").write_bytes(b"  \n\n \n")
    (raw / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (raw / "notes.csv").write_text("a,b\n1,2\n")
    (raw / "README.md").write_text("# not an article\n")
    (raw / ".hidden.txt").write_text("Hidden file: 7 killed.\n")
    (raw / "leak.txt").symlink_to(outside / "secret.txt")
    (raw / "mirror" / "good.txt").symlink_to(raw / "good.txt")  # inside raw/: same text

    (raw / "feed" / "wire.jsonl").write_bytes(b"\n".join(jsonl_lines()) + b"\n")

    filler = "The town was quiet after the strikes, residents said. "
    n = int(big_line_mb * 1024 * 1024 / len(filler))
    big = {"id": "big-1", "title": "Long report", "text": BIG_HEAD + filler * n}
    (raw / "feed" / "big.jsonl").write_text(json.dumps(big) + "\n", encoding="utf-8")
    return raw


#: doc_id of every article kept from the mixed folder.
KEPT_DOC_IDS = {
    "good.txt",
    "latin1.txt",
    "w-1",
    "w-5",
    "w-7",
    "feed/wire.jsonl:13",
}

#: (source_file, line, reason, doc_id) of every quarantine row of the mixed folder.
EXPECTED_QUARANTINE = {
    ("README.md", None, "unsupported_extension", None),
    ("notes.csv", None, "unsupported_extension", None),
    ("leak.txt", None, "symlink_outside_raw", None),
    ("empty.txt", None, "empty_file", "empty.txt"),
    ("blank.txt", None, "empty_file", "blank.txt"),
    ("image.txt", None, "binary_content", "image.txt"),
    ("latin1.txt", None, "decoded_legacy_encoding", "latin1.txt"),
    ("feed/wire.jsonl", 3, "invalid_json", "w-2"),
    ("feed/wire.jsonl", 4, "not_an_object", None),
    ("feed/wire.jsonl", 5, "missing_text", "w-3"),
    ("feed/wire.jsonl", 6, "text_not_string", "w-4"),
    ("feed/wire.jsonl", 7, "bad_published", "w-5"),
    ("feed/wire.jsonl", 8, "duplicate_id", "w-1"),
    ("feed/wire.jsonl", 10, "decoded_legacy_encoding", None),
    ("feed/wire.jsonl", 11, "empty_text", "w-8"),
    ("feed/wire.jsonl", 12, "not_an_object", None),
    ("feed/wire.jsonl", 13, "missing_id", "feed/wire.jsonl:13"),
    # the single 5 MB line is read (not held twice, no crash) and is above the article size cap
    ("feed/big.jsonl", 1, "article_too_large", "big-1"),
}


def quarantine_keys(q) -> set[tuple]:
    """(source_file, line, reason, doc_id) of quarantine rows, nulls as None."""

    def v(x):
        return None if pd.isna(x) else x

    return {
        (r.source_file, None if v(r.line) is None else int(r.line), r.reason, v(r.doc_id))
        for r in q.itertuples(index=False)
    }
