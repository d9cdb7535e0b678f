"""An error that stopped a command, said in one line: what failed, where, and what to do."""

from __future__ import annotations

import errno
from pathlib import Path

import pyarrow as pa

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
    if _is_arrow(exc):
        where = f"{path}" if path else f"a stored table in {out_dir}"
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
