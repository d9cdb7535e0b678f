"""Parts of the maintainers' report on hand-made rows: highlighting (nested, crossing and
hostile words), the review queue's choice of figures, reading only some rows back."""

from __future__ import annotations

import re
from html import unescape

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from casualties.fields import FIGURES, conform
from casualties.quality import report_data
from casualties.quality.article_view import highlight, nestable
from casualties.storage import store
from tests.factories import figure_row

TEXT = "Police said 3 <b>children</b> & 12 adults died; at least 15 in all, of 40 in the town."


def _rows(*rows: dict) -> list[dict]:
    """Rows as the report reads them: every column of the figures table, typed."""
    return conform(pd.DataFrame(list(rows)), FIGURES).to_dict("records")


def _marks(html: str) -> list[tuple[str, str]]:
    """(figure id, text inside) of every outer-most <mark> (inner marks' tags removed)."""
    out = []
    for m in re.finditer(r'<mark class="fig[^"]*"[^>]*data-figure-id="([^"]+)"[^>]*>', html):
        depth, pos = 1, m.end()
        while depth:
            nxt = re.search(r"<mark\b[^>]*>|</mark>", html[pos:])
            depth += -1 if nxt.group(0) == "</mark>" else 1
            pos += nxt.end()
        inner = html[m.end() : pos - len("</mark>")]
        out.append((m.group(1), unescape(re.sub(r"<[^>]+>", "", inner))))
    return out


def test_marks_hold_exactly_the_words_even_nested_and_hostile():
    rows = _rows(
        figure_row(TEXT, "a1", "3 <b>children</b>"),
        figure_row(TEXT, "a1", "children"),  # inside the one before: nested
        figure_row(TEXT, "a1", "12 adults"),
        figure_row(TEXT, "a1", "at least 15"),
    )
    html = highlight(TEXT, rows)
    assert "<b>" not in html and "&lt;b&gt;" in html
    marks = dict(_marks(html))
    assert set(marks) == {r["figure_id"] for r in rows}
    for r in rows:
        assert marks[r["figure_id"]] == TEXT[r["start"] : r["end"]]
    # everything outside the marks is the text too
    assert unescape(re.sub(r"<[^>]+>", "", html)) == TEXT


def test_a_figure_crossing_another_is_listed_not_marked():
    a, b, c = _rows(
        figure_row(TEXT, "a1", "at least 15 in all"),
        figure_row(TEXT, "a1", "least 15"),  # inside the first: nested
        figure_row(TEXT, "a1", "all, of 40"),  # starts inside the first, ends after it
    )
    kept, crossing = nestable([a, b, c], 0, len(TEXT))
    assert [f["figure_id"] for f in crossing] == [c["figure_id"]]
    assert {f["figure_id"] for f in kept} == {a["figure_id"], b["figure_id"]}
    html = highlight(TEXT, [a, b, c])
    assert unescape(re.sub(r"<[^>]+>", "", html)) == TEXT


def _store(tmp_path, rows) -> None:
    figures = conform(pd.DataFrame(rows), FIGURES)
    store.write_table(figures, tmp_path, FIGURES, {"run_id": "r1"})


def test_queue_picks_the_disagreeing_incident_and_the_largest_tolls(tmp_path):
    text = "Police said 12 died. Medics said 30 died. A party said 500 died. Dozens fled."
    rows = [
        figure_row(text, "a1", "12", best=12, low=12, incident_id="a1:i0"),
        figure_row(text, "a1", "30", best=30, low=30, incident_id="a1:i0"),
        figure_row(text, "a2", "500", best=500, low=500, claim_by_party=True, incident_id="a2:i0"),
        figure_row(text, "a3", "Dozens", category="displaced", best=24, low=24, high=99),
    ]
    _store(tmp_path, rows)
    ids = [r["figure_id"] for r in rows]
    q = report_data.select_queue(tmp_path)
    assert [f for _, f, _ in q["largest"]] == [ids[2], ids[1], ids[0]]  # tolls only, largest first
    assert [(s, f) for s, f, _ in q["disagree"]] == [(18.0, ids[1])]  # 12 vs 30 in a1:i0
    assert [f for _, f, _ in q["party_claim"]] == [ids[2]]
    assert [f for _, f, _ in q["wide_range"]] == [ids[3]]  # 24 to 99
    assert q["hedged"] == [] and q["disputed"] == []


def test_take_rows_reads_back_only_the_wanted_rows(tmp_path):
    rows = [figure_row(TEXT, f"a{i}", "12 adults") for i in range(120)]
    _store(tmp_path, rows)
    path = store.table_path(tmp_path, FIGURES)
    assert pq.ParquetFile(path).metadata.num_rows == 120
    got = report_data.take_rows(path, "article_id", ["a7", "a99", "nope"], "figures")
    assert sorted(got["article_id"]) == ["a7", "a99"]
    assert list(got.columns) == FIGURES.columns
    assert str(got["best"].dtype) == "Int64"


def _folder(tmp_path, name: str, table: pa.Table, files: int = 2, group_rows: int = 2):
    """`table` stored as a table folder of `files` files of row groups of `group_rows` rows."""
    folder = tmp_path / name
    folder.mkdir()
    step = -(-table.num_rows // files)
    for i in range(files):
        part = table.slice(i * step, step)
        pq.write_table(part, folder / f"part-{i}.parquet", row_group_size=group_rows)
    return folder


def test_row_groups_give_the_table_in_order_a_group_at_a_time(tmp_path):
    table = pa.table({"x": list(range(9)), "y": [str(i) for i in range(9)]})
    folder = _folder(tmp_path, "t", table)
    groups = list(report_data.row_groups(folder, ["x"]))
    assert [g.num_rows for g in groups] == [2, 2, 1, 2, 2]  # 5 + 4 rows in groups of 2
    assert pa.concat_tables(groups).column("x").to_pylist() == list(range(9))
    assert groups[0].column_names == ["x"]


def test_take_positions_reads_rows_in_the_order_asked(tmp_path):
    table = pa.table({"x": list(range(9)), "y": [f"v{i}" for i in range(9)]})
    folder = _folder(tmp_path, "t", table)
    got = report_data.take_positions(folder, ["y"], [8, 0, 5, 3])
    assert got.column("y").to_pylist() == ["v8", "v0", "v5", "v3"]


def test_largest_disputed_across_row_groups_ties_in_row_order(tmp_path):
    events = pa.table(
        {
            "killed_best": [5, 9, None, 9, 7, 100],
            "disputed": [True, True, True, True, True, False],
            "incident_ids": [["e0:b", "e0:a"], ["e1:a"], ["e2:a"], ["e3:a"], ["e4:a"], ["e5:a"]],
        }
    )
    folder = _folder(tmp_path, "events", events)
    got = report_data._largest_disputed(folder, 4)
    # 100 is not disputed; 9 and 9 keep their row order; the first id in sorted order.
    assert got == [(9.0, "e1:a"), (9.0, "e3:a"), (7.0, "e4:a"), (5.0, "e0:a")]


def test_chart_counts_read_by_row_group_match_the_whole_table(tmp_path):
    incidents = pa.table({"killed_best": [0, 3, None, 3, 12, 0, 3]})
    folder = _folder(tmp_path, "incidents", incidents)
    counts = report_data._value_counts(folder, "killed_best")
    assert counts.to_dict() == {0: 2, 3: 3, 12: 1}
    runs = pa.table({"run_id": ["r1", "r2", "r1", None, "r1"]})
    assert report_data._count_equal(_folder(tmp_path, "runs", runs), "run_id", "r1") == 3


def test_killed_per_month_summed_by_row_group(tmp_path):
    day = pa.timestamp("ns", tz="UTC")
    dates = ["2020-01-05", "2020-03-01", None, "2020-01-20", "2020-03-31"]
    events = pa.table(
        {
            "date": pa.array(pd.to_datetime(dates, utc=True), day),
            "killed_best": [2, 5, 50, None, 1],
            "country": ["A", "B", "A", "A", None],
        }
    )
    _folder(tmp_path, "events", events)
    data = report_data.chart_data(tmp_path)
    month = data["killed_per_month"]
    assert [str(p) for p in month.index] == ["2020-01", "2020-02", "2020-03"]
    assert month.tolist() == [2.0, 0.0, 6.0]  # the undated event's 50 is not counted
    assert data["events_per_country"].to_dict() == {"A": 3, "B": 1, "(unknown)": 1}
