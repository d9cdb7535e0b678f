"""The extraction pool: a batch sent in chunks to worker processes comes back as one batch,
equal to extracting it in this process."""

from __future__ import annotations

import pandas as pd
import pytest

from casualties.extract.article import extract_frame
from casualties.runtime.pool import ExtractionPool
from casualties.tools.bench import source_texts


@pytest.fixture(scope="module")
def articles() -> pd.DataFrame:
    texts = source_texts()[:40]  # the dev set's real texts (the repo's sample without it)
    # Three articles without a figure first: the first chunk of 3 has no rows at all.
    texts = ["No one was hurt.", "The talks resume on Monday.", "Rain is expected."] + texts
    return pd.DataFrame(
        {
            "article_id": [f"a{i}" for i in range(len(texts))],
            "text": texts,
            "published": pd.to_datetime(["2024-03-01"] * len(texts), utc=True),
        }
    )


@pytest.fixture(scope="module")
def pool():
    with ExtractionPool(2, chunk_size=3) as p:
        yield p


def test_chunked_batch_equals_extraction_in_process(articles, pool):
    expected = extract_frame(articles)
    got = pool.submit(articles).result()
    assert len(expected[0]) > 20 and len(expected[1]) > 5  # real figures and incidents
    for want, have in zip(expected, got, strict=True):
        pd.testing.assert_frame_equal(have, want)


def test_batch_smaller_than_a_chunk_and_empty_batch(articles, pool):
    for batch in (articles.head(2), articles.head(0)):
        for want, have in zip(extract_frame(batch), pool.submit(batch).result(), strict=True):
            pd.testing.assert_frame_equal(have, want)


def test_a_failing_chunk_fails_the_batch(articles, pool):
    broken = articles.copy()
    broken["published"] = broken["published"].astype(object)
    broken.loc[7, "published"] = "not a date"  # extraction raises on it, in the worker too
    with pytest.raises(ValueError):
        extract_frame(broken)
    with pytest.raises(ValueError):
        pool.submit(broken).result()
