"""Checks between tables: a figure or incident points at an article that exists, and a
figure's offsets lie inside that article's text with `text[start:end] == surface`.

They are pandera schemas too (row-wise dataframe checks), built for one set of articles.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa


def _texts(articles: pd.DataFrame) -> dict[str, str]:
    return dict(zip(articles["article_id"], articles["text"], strict=True))


def relation_checks(table_name: str, articles: pd.DataFrame) -> dict[str, tuple]:
    """name -> (row function, fields it reads) for the cross-table checks of `table_name`."""
    if table_name not in ("figures", "incidents"):
        return {}
    texts = _texts(articles)
    checks: dict[str, tuple] = {
        "article_exists": (lambda df: df["article_id"].isin(texts.keys()), ("article_id",)),
    }
    if table_name == "figures":

        def offsets_in_text(df: pd.DataFrame) -> pd.Series:
            lengths = df["article_id"].map(lambda a: len(texts[a]) if a in texts else None)
            inside = (df["start"] >= 0) & (df["end"] <= lengths.astype("Int64"))
            return inside.fillna(True)  # a missing article is `article_exists`'s failure

        def surface_matches_text(df: pd.DataFrame) -> pd.Series:
            # Plain Python slicing: it is the definition of the rule, and fast enough.
            ok = [
                a not in texts or pd.isna(s) or pd.isna(e) or texts[a][int(s) : int(e)] == sf
                for a, s, e, sf in zip(
                    df["article_id"], df["start"], df["end"], df["surface"], strict=True
                )
            ]
            return pd.Series(ok, index=df.index)

        checks["offsets_in_text"] = (offsets_in_text, ("start", "end"))
        checks["surface_matches_text"] = (surface_matches_text, ("surface", "start", "end"))
    return checks


def relation_schema(table_name: str, articles: pd.DataFrame) -> pa.DataFrameSchema:
    """A pandera schema holding only the cross-table checks of `table_name`."""
    checks = [
        pa.Check(lambda df, fn=fn: fn(df).fillna(True).astype(bool), name=name, ignore_na=False)
        for name, (fn, _f) in relation_checks(table_name, articles).items()
    ]
    return pa.DataFrameSchema(checks=checks, name=f"{table_name}_relations")
