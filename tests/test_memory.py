"""casualties.memory: the glibc calls that keep a long run's resident memory flat."""

from __future__ import annotations

import platform

import pytest

from casualties import memory

glibc = platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not glibc, reason="malloc_trim and mallopt are glibc functions")
def test_freed_heap_goes_back_to_the_system():
    psutil = pytest.importorskip("psutil")
    proc = psutil.Process()
    assert memory.limit_arenas() is True
    blocks = [bytes(1000) + bytes([i % 256]) for i in range(200_000)]  # ~200 MB of small blocks
    survivors = blocks[::50]  # a few live blocks all over the heap, as after a batch
    del blocks
    freed = proc.memory_info().rss
    assert memory.release() is True
    # glibc alone keeps the freed pages between the survivors; malloc_trim gives them back.
    assert proc.memory_info().rss < freed - 100 * 2**20
    assert len(survivors) == 4000


@pytest.mark.skipif(glibc, reason="elsewhere the calls are no-ops")
def test_no_op_without_glibc():
    assert memory.release() is False
