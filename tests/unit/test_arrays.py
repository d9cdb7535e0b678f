"""The numpy helpers: lookups in sorted arrays, duplicates among many arrays by buckets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from casualties.arrays import find_sorted, has_duplicates, unique_sorted


def _hashes(values) -> np.ndarray:
    """64-bit hashes of strings, as the quality checks make them."""
    return pd.util.hash_pandas_object(pd.Series(values), index=False).to_numpy()


def test_find_sorted_says_where_each_value_is_and_whether_it_is_there():
    members = np.array([3, 8, 20], dtype=np.uint64)
    at, found = find_sorted(members, np.array([8, 21, 3, 5], dtype=np.uint64))
    assert found.tolist() == [True, False, True, False]
    assert at[found].tolist() == [1, 0]
    at, found = find_sorted(np.zeros(0, dtype=np.uint64), np.array([1], dtype=np.uint64))
    assert not found.any()


@pytest.mark.parametrize("bucket_rows", [1 << 21, 64, 7])  # one bucket, 16, 128 (top bits)
def test_has_duplicates_finds_a_value_repeated_anywhere_whatever_the_buckets(bucket_rows):
    ids = [f"article-{i}:fig-{j}" for i in range(200) for j in range(5)]  # 1,000 distinct ids
    parts = [_hashes(ids[:300]), _hashes(ids[300:301]), _hashes(ids[301:])]
    calls = []

    def each():
        calls.append(1)
        return iter(parts)

    assert not has_duplicates(each, bucket_rows=bucket_rows, step=50)
    buckets = 1 << max(0, int(np.ceil(np.log2(1000 / bucket_rows))))
    assert len(calls) == 1 + buckets  # one pass to count, one per bucket
    for where in (0, 300, 999):  # a repeat in the first, the lone and the last array
        again = [*parts, _hashes([ids[where]])]
        assert has_duplicates(lambda again=again: iter(again), bucket_rows=bucket_rows, step=50)
    within = [np.concatenate([parts[0], parts[0][-1:]])]  # twice in one array, steps apart
    assert has_duplicates(lambda: iter(within), bucket_rows=bucket_rows, step=50)


def test_has_duplicates_of_nothing_is_false():
    assert not has_duplicates(lambda: iter([]))
    assert not has_duplicates(lambda: iter([np.zeros(0, dtype=np.uint64)]))


def test_unique_sorted_gives_what_np_unique_gives():
    rng = np.random.default_rng(7)
    for values in (
        rng.integers(0, 2**63, 5_000).astype(np.uint64),
        rng.integers(0, 50, 5_000),  # many repeats
        np.array([3, 1, 3], dtype=np.int32),
        np.zeros(0, dtype=np.uint64),
    ):
        got = unique_sorted(values)
        np.testing.assert_array_equal(got, np.unique(values))
        assert got.dtype == values.dtype
