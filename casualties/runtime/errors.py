"""An error that stopped a command, said in one line: what failed, where, and what to do."""

from __future__ import annotations

import errno
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

_ADVICE = {
    errno.ENOSPC: "no space left on the device; free some space (or use another --out) and "
    "run again",
    errno.EDQUOT: "disk quota exceeded; free some space (or use another --out) and run again",
    errno.EACCES: "permission denied; give this user access to it (or use another --out)",
    errno.EPERM: "operation not permitted; give this user access to it (or use another --out)",
    errno.EROFS: "the file system is read-only; use another --out",
}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def describe(exc: BaseException, out_dir: Path | None = None) -> str:
    """One line for `exc`: the path involved and what to do. Tables are committed atomically,
    so after any of these the previous tables are intact (the line says so when it knows the
    output folder)."""
    intact = f"; the tables in {out_dir} are those of the last completed run" if out_dir else ""
    path = getattr(exc, "path", None) or getattr(exc, "filename", None)
    if isinstance(exc, OSError) and exc.errno in _ADVICE:
        where = path or out_dir or "?"
        return f"{where}: {_ADVICE[exc.errno]}{intact}"
    if _is_arrow(exc) or _from_arrow(exc):
        where = path or ", ".join(map(str, unreadable_tables(out_dir))) or "a stored table"
        if not path and out_dir and where == "a stored table":
            where += f" in {out_dir}"
        return (
            f"{where} cannot be read ({_first_line(exc)}); run `casualties run --full-refresh` "
            f"to rebuild the tables from raw/"
        )
    if isinstance(exc, OSError):
        where = f"{path}: " if path else ""
        return f"{where}{exc.strerror or _first_line(exc)}{intact}"
    return (
        f"{type(exc).__name__}: {_first_line(exc)}{intact} (run again with --debug for the "
        "traceback)"
    )


def _is_arrow(exc: BaseException) -> bool:
    return isinstance(exc, pa.ArrowException)


def _from_arrow(exc: BaseException) -> bool:
    """An OSError without errno raised inside pyarrow: a file it could not decode ("ZSTD
    decompression failed", "Couldn't deserialize thrift"), not a system error."""
    if not isinstance(exc, OSError) or exc.errno is not None:
        return False
    tb = exc.__traceback__
    while tb is not None:
        if "pyarrow" in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False


def unreadable_tables(out_dir: Path | None) -> list[Path]:
    """The Parquet tables in `out_dir` that cannot be read through (on the error path only:
    it reads every table)."""
    if out_dir is None or not Path(out_dir).is_dir():
        return []
    bad = []
    for path in sorted(Path(out_dir).glob("*.parquet")):
        try:
            pq.read_table(path)
        except Exception:  # noqa: BLE001  any failure to decode is what we look for
            bad.append(path)
    return bad
