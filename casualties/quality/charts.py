"""The report's charts, drawn by matplotlib as SVG text to inline in the page (no file, no
request: fonts are the page's own, text stays text)."""

from __future__ import annotations

import html
import io
import re

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")  # no display; before pyplot is imported
import matplotlib.pyplot as plt  # noqa: E402

_SVG_START = re.compile(r"^.*?(?=<svg)", re.S)
COLOR = "#3b6ea8"
# Bin edges for people killed per incident: one bin per "order of magnitude half-step".
KILLED_BINS = [1, 2, 3, 6, 11, 21, 51, 101, 201, 501, 1001, 10_001]


def _svg(fig, title: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = _SVG_START.sub("", buf.getvalue(), count=1)
    # An accessible name, and a hook for tests and readers.
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(title)}" ', 1)


def _figure(width: float = 6.0, height: float = 2.6):
    return plt.subplots(figsize=(width, height))


def killed_per_month(series: pd.Series) -> str:
    """Bar chart: people killed (killed_best summed over events) per month."""
    fig, ax = _figure()
    labels = [str(p) for p in series.index]
    # One filled step line, not a patch per month: decades of months draw fast and small.
    ax.stairs(series.to_numpy(), np.arange(len(series) + 1) - 0.5, fill=True, color=COLOR)
    step = max(1, len(labels) // 12)
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, ha="right")
    ax.set_ylabel("people killed (best)")
    ax.set_title("People killed per month (events)")
    return _svg(fig, "People killed per month")


def events_per_country(counts: pd.Series) -> str:
    """Horizontal bars: events per country (top countries)."""
    fig, ax = _figure(6.0, 0.25 * len(counts) + 0.8)
    ax.barh(range(len(counts)), counts.to_numpy(), color=COLOR)
    ax.set_yticks(range(len(counts)), [str(c) for c in counts.index])
    ax.invert_yaxis()
    ax.set_xlabel("events")
    ax.set_title("Events by country (top countries)")
    return _svg(fig, "Events by country")


def killed_per_incident(incidents: pd.Series) -> str:
    """Histogram over logarithmic bins of killed_best per incident (zeros counted apart);
    `incidents`: the number of incidents per killed_best value."""
    fig, ax = _figure()
    positive = incidents[incidents.index > 0]
    values = positive.index.to_numpy()
    top = max(KILLED_BINS[-1], int(values.max()) + 1 if len(values) else 0)
    edges = [*KILLED_BINS[:-1], top]
    counts = np.histogram(values, bins=edges, weights=positive.to_numpy())[0].astype(np.int64)
    labels = [
        f"{a}" if b - a == 1 else f"{a}-{b - 1}" for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    labels[-1] = f"{edges[-2]}+"
    ax.bar(range(len(counts)), counts, color=COLOR, width=0.85)
    ax.set_xticks(range(len(counts)), labels, rotation=45, ha="right")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel("people killed (best), logarithmic bins")
    ax.set_ylabel("incidents")
    zeros = int(incidents.get(0, 0))
    ax.set_title(f"killed_best per incident ({zeros} incidents with 0 not shown)")
    return _svg(fig, "killed_best per incident")


def counts_bar(counts: pd.Series, title: str, xlabel: str) -> str:
    """Horizontal bars of value counts (figures per category, per qualifier)."""
    fig, ax = _figure(4.2, 0.25 * len(counts) + 0.8)
    ax.barh(range(len(counts)), counts.to_numpy(), color=COLOR)
    ax.set_yticks(range(len(counts)), [str(c) for c in counts.index])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _svg(fig, title)


def all_charts(data: dict) -> dict[str, str]:
    """SVG of every chart `data` (from `report_data.chart_data`) has values for."""
    # Text as <text> in the page's font; fixed ids (same data, same page); a quiet style. It
    # holds while the charts are drawn and saved.
    with plt.rc_context(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "casualties",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    ):
        return _charts(data)


def _charts(data: dict) -> dict[str, str]:
    out = {}
    if len(data.get("killed_per_month", ())):
        out["People killed per month"] = killed_per_month(data["killed_per_month"])
    if len(data.get("events_per_country", ())):
        out["Events by country"] = events_per_country(data["events_per_country"])
    if len(data.get("killed_per_incident", ())):
        out["killed_best per incident"] = killed_per_incident(data["killed_per_incident"])
    if len(data.get("categories", ())):
        out["Figures by category"] = counts_bar(
            data["categories"], "Figures by category", "figures"
        )
    if len(data.get("qualifiers", ())):
        out["Figures by qualifier"] = counts_bar(
            data["qualifiers"], "Figures by qualifier", "figures"
        )
    return out
