"""`is_background` from an extracted incident to its row, and in tables that predate it."""

from __future__ import annotations

import pandas as pd

from casualties.extract.article import extraction_to_json, incident_row
from casualties.extract.model import ArticleExtraction, Incident
from casualties.fields import INCIDENTS, conform
from schemas.validate import validate


def test_incident_row_and_json_carry_is_background():
    news = Incident(start=0, end=10, counts={"killed": (3, 3, 3)})
    recalled = Incident(start=11, end=40, counts={"killed": (51, 51, 51)}, is_background=True)
    assert incident_row(news, 0)["is_background"] is False
    assert incident_row(recalled, 1)["is_background"] is True
    ex = ArticleExtraction(figures=[], incidents=[news, recalled], totals={})
    out = extraction_to_json("a", ex)
    assert [i["is_background"] for i in out["incidents"]] == [False, True]


def test_rows_without_the_column_read_as_news():
    """A frame of an older table (no `is_background`) conforms and validates with False: the
    field's declared default, not null (the column is never null)."""
    old = pd.DataFrame(
        {
            "incident_id": ["a:i0", "b:i0"],
            "article_id": ["a", "b"],
            "claim_by_party": [False, False],
            "n_figures": [1, 1],
            "run_id": ["r1", "r1"],
        }
    )
    typed = conform(old, INCIDENTS)
    assert str(typed["is_background"].dtype) == "boolean"
    assert typed["is_background"].tolist() == [False, False]
    valid, quarantine = validate(old, "incidents", run_id="r1")
    assert quarantine.empty and valid["is_background"].tolist() == [False, False]
    # a null where the column exists is not silently made False: validation names it
    valid, quarantine = validate(old.assign(is_background=[True, None]), "incidents")
    assert valid["incident_id"].tolist() == ["a:i0"]
    assert quarantine["reason"].tolist() == ["schema:incidents.is_background_not_null"]
