"""casualties.runtime.memory: the glibc calls that keep a long run's resident memory flat."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from casualties.runtime import memory

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


_READ_AND_FREE = """
import sys, psutil
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
from casualties.runtime import memory
memory.limit_arenas()
memory.arrow_uses_malloc()
path, n = sys.argv[1], 400_000
ids = [f"article-{i:09d}:i{i % 7}" for i in range(n)]
pq.write_table(pa.table({"id": ids, "x": np.arange(n) * 1.5}), path, row_group_size=50_000)
del ids
memory.release()
proc = psutil.Process()
before = proc.memory_info().rss
for _ in range(2):  # whole, then a batch at a time, as the flow's steps read tables
    df = pq.read_table(path).to_pandas()
    del df
    for batch in pq.ParquetFile(path).iter_batches(batch_size=20_000):
        df = batch.to_pandas()
    del df
memory.release()
print((proc.memory_info().rss - before) >> 20)
"""


@pytest.mark.skipif(not glibc, reason="malloc_trim is a glibc function")
def test_parquet_reads_give_their_memory_back(tmp_path):
    """On Arrow's own allocator this leaves ~100-150 MB resident; on malloc, little."""
    pytest.importorskip("psutil")
    # A fresh process: in this one, earlier tests' freed memory would hide the growth.
    out = subprocess.run(
        [sys.executable, "-c", _READ_AND_FREE, str(tmp_path / "t.parquet")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout.strip()) < 50


@pytest.mark.skipif(glibc, reason="elsewhere the calls are no-ops")
def test_no_op_without_glibc():
    assert memory.release() is False
