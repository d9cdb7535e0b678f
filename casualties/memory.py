"""Keep the resident memory of a long run close to what it really uses.

A run allocates and frees the rows of thousands of batches from several threads. glibc's
malloc gives each thread an arena of its own (up to 8 per core) and keeps freed memory in them,
so the process grows with the input although the rows are gone. `limit_arenas` (called once,
before threads start) caps the arenas; `release` hands freed memory back to the system after
each batch. Both do nothing where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

_M_ARENA_MAX = -8  # mallopt parameter (malloc.h)


@lru_cache(maxsize=1)
def _libc():
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 - glibc only
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(arenas: int = 2) -> bool:
    """Cap malloc arenas for this process (True if it took effect)."""
    libc = _libc()
    return bool(libc and libc.mallopt(_M_ARENA_MAX, arenas))


def release() -> bool:
    """Return freed heap memory to the system (True if some was released)."""
    libc = _libc()
    return bool(libc and libc.malloc_trim(0))
