"""The overview charts as plotly figure dicts (drawn by the page's script with the inlined plotly.js).

Every label that comes from the audit is entity-escaped (:func:`advisor.report.encoding.label`): plotly reads a
few HTML tags in labels, and escaped text is shown as typed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from advisor import kinds
from advisor.model import AuditResult
from advisor.report.encoding import label, number
from advisor.report.summary import UNKNOWN, head_and_rest
from advisor.results import Calibration, CalibrationPoint, Recommendation, Summary

TOP_COST_BARS = 15
BAR_ROWS = 12
BIN_WIDTH = 5
PALETTE = ("#2563eb", "#0d9488", "#d97706", "#7c3aed", "#db2777", "#64748b")
# (features column, chart key, title, axis title)
DISTRIBUTIONS = (("cpu_p99", "cpu", "CPU p99", "CPU p99 (% of all vCPUs)"),
                 ("memory_max", "memory", "Memory max", "memory max (% used)"),
                 ("gpu_p99", "gpu", "GPU p99", "GPU p99 (% averaged over the GPUs)"))
GRID = "#e5e7eb"


def _kind_style(kind_id: str) -> tuple[str, str]:
    """The kind's declared plural name and colour (its id and the palette's last for a kind the registry does not
    know)."""
    known = {k.id: (k.plural, k.color) for k in kinds.all_kinds()}
    return known.get(kind_id, (kind_id, PALETTE[-1]))


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "margin": {"l": 60, "r": 16, "t": 48, "b": 48},
        "height": 340,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12,
                 "color": "#1f2937"},
        "colorway": list(PALETTE),
        "separators": ".,",
    }
    layout.update(extra)
    return layout


def _legend() -> dict[str, Any]:
    return {"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"}


def savings_bar(breakdown: dict[str, float], title: str, color: str = PALETTE[0]) -> dict[str, Any] | None:
    """Horizontal bars of savings per key, largest on top; beyond :data:`BAR_ROWS` keys the rest are summed."""
    if not breakdown:
        return None
    rows = head_and_rest(breakdown, BAR_ROWS)[::-1]
    names = [label(key) if count == 1 else f"{count} others" for key, _, count in rows]
    return {
        "data": [{"type": "bar", "orientation": "h", "y": names, "x": [amount for _, amount, _ in rows],
                  "marker": {"color": color}, "hovertemplate": "%{y}<br>$%{x:,.2f}/month<extra></extra>"}],
        "layout": _layout(title, height=max(300, 90 + 26 * len(rows)),
                          xaxis={"title": {"text": "$ / month"}, "tickformat": "$,.0f", "gridcolor": GRID},
                          yaxis={"automargin": True}),
    }


def cost_bars(counted: Sequence[Recommendation], price_note: str) -> dict[str, Any] | None:
    """Current vs recommended monthly cost of the resources with the largest savings."""
    top = list(counted[:TOP_COST_BARS])[::-1]
    if not top:
        return None
    names = [f"{rec.name} ({rec.resource_id})" if rec.name and rec.name != rec.resource_id else rec.resource_id
             for rec in top]
    names = [label(name if len(name) <= 48 else name[:47] + "…") for name in names]
    bar = {"type": "bar", "orientation": "h", "y": names,
           "hovertemplate": "%{y}<br>$%{x:,.2f}/month<extra>%{fullData.name}</extra>"}
    return {
        "data": [{**bar, "name": "recommended", "x": [number(rec.monthly_cost_after) for rec in top],
                  "marker": {"color": PALETTE[1]}},
                 {**bar, "name": "current", "x": [number(rec.monthly_cost_now) for rec in top],
                  "marker": {"color": "#94a3b8"}}],
        "layout": _layout(f"Current vs recommended monthly cost, top {len(top)} by savings ({price_note})",
                          barmode="group", height=max(340, 60 + 34 * len(top)),
                          margin={"l": 260, "r": 16, "t": 48, "b": 48},
                          legend={**_legend(), "traceorder": "reversed"},
                          xaxis={"title": {"text": "$ / month"}, "tickformat": "$,.0f", "gridcolor": GRID},
                          yaxis={"automargin": True}),
    }


def _with_kind(features: pd.DataFrame, inventory: pd.DataFrame) -> pd.DataFrame:
    frame = features.rename_axis("resource_id").reset_index() if "resource_id" not in features.columns \
        else features
    if "kind" not in frame.columns:
        kinds = (inventory.set_index(inventory["resource_id"].astype(str))["kind"]
                 if {"resource_id", "kind"} <= set(inventory.columns) else pd.Series(dtype=object))
        frame = frame.assign(kind=frame["resource_id"].astype(str).map(kinds))
    return frame.assign(kind=frame["kind"].astype("string").fillna(UNKNOWN))


def distribution(frame: pd.DataFrame, column: str, title: str, axis: str) -> dict[str, Any] | None:
    """A histogram of one utilization statistic over all resources (5-point bins), stacked by kind."""
    if column not in frame.columns:
        return None
    values = pd.to_numeric(frame[column], errors="coerce").clip(0, 100)
    present = frame.assign(value=values)[values.notna()]
    if present.empty:
        return None
    edges = np.arange(0, 100 + BIN_WIDTH, BIN_WIDTH)
    centers = (edges[:-1] + BIN_WIDTH / 2).tolist()
    data = []
    stacked = np.zeros(len(edges) - 1, dtype=int)
    for kind, group in present.groupby("kind", sort=True):
        counts, _ = np.histogram(group["value"].to_numpy(dtype=float), bins=edges)
        stacked += counts
        name, color = _kind_style(str(kind))
        data.append({"type": "bar", "name": label(name), "x": centers, "y": counts.tolist(),
                     "width": BIN_WIDTH * 0.9, "marker": {"color": color},
                     "hovertemplate": f"%{{fullData.name}}: %{{y}} with {label(title)} %{{x}}±2.5 %<extra></extra>"})
    peak = int(stacked.max())
    return {
        "data": data,
        "layout": _layout(f"{title} of {len(present):,} resources, by kind", barmode="stack", height=380,
                          margin={"l": 60, "r": 16, "t": 48, "b": 96},
                          xaxis={"title": {"text": axis}, "range": [0, 100], "dtick": 20, "ticksuffix": " %"},
                          yaxis={"title": {"text": "resources"}, "gridcolor": GRID, "tick0": 0,
                                 "dtick": max(1, math.ceil(peak / 6))},
                          legend={"orientation": "h", "x": 0, "y": -0.3, "yanchor": "top"}),
    }


def calibration_curve(calibration: Calibration | None) -> dict[str, Any] | None:
    """Savings kept (net of upsizes) against the share of resources hurt, for every headroom pair calibration
    replayed: the frontier, the chosen point, the defaults' point and the risk budget."""
    if calibration is None or not calibration.calibrated or not calibration.points:
        return None
    hover = ("CPU headroom %{customdata[0]:.0%}, memory %{customdata[1]:.0%}<br>%{customdata[2]} hurt "
             "(%{x:.1%})<br>$%{y:,.0f}/month kept, net of upsizes<extra>%{fullData.name}</extra>")

    def trace(points: Sequence[CalibrationPoint], name: str, **style: Any) -> dict[str, Any]:
        return {"type": "scatter", "name": name, "x": [p.hurt_share for p in points],
                "y": [number(p.net_savings) for p in points],
                "customdata": [[p.cpu_headroom, p.memory_headroom, p.hurt] for p in points],
                "hovertemplate": hover, **style}

    marked = [(calibration.at_defaults, "defaults", {"symbol": "diamond", "size": 12, "color": PALETTE[2]}),
              (calibration.chosen, "chosen", {"symbol": "star", "size": 16, "color": PALETTE[4]})]
    budget = calibration.risk_budget
    right = max(2.2 * budget, max(p.hurt_share for p in calibration.points), 0.01) * 1.05
    return {
        "data": [trace(calibration.points, "headroom pairs", mode="markers",
                       marker={"color": "#cbd5e1", "size": 7}),
                 trace(calibration.frontier(), "best for its risk", mode="lines+markers",
                       line={"color": PALETTE[0], "shape": "hv"}, marker={"color": PALETTE[0], "size": 7}),
                 *(trace([point], name, mode="markers", marker=style) for point, name, style in marked if point)],
        "layout": _layout(f"Savings versus risk on the replayed history (risk budget {budget:.1%})", height=380,
                          legend=_legend(),
                          margin={"l": 90, "r": 16, "t": 48, "b": 48},
                          xaxis={"title": {"text": "resources hurt on the replay"}, "tickformat": ".1%",
                                 "range": [-0.03 * right, right], "gridcolor": GRID},
                          yaxis={"title": {"text": "$ / month kept, net of upsizes"}, "tickformat": "$,.0f",
                                 "gridcolor": GRID, "automargin": True},
                          shapes=[{"type": "line", "x0": budget, "x1": budget, "xref": "x", "y0": 0, "y1": 1,
                                   "yref": "paper", "line": {"color": PALETTE[4], "dash": "dash", "width": 1}}]),
    }


def overview_charts(result: AuditResult, summary: Summary, counted: Sequence[Recommendation]) -> dict[str, Any]:
    """The figures keyed by the id of their place on the page (``chart-<key>``); empty ones left out."""
    note = f"prices as of {summary.price_list_date}"
    frame = _with_kind(result.features, result.inventory)
    charts = {
        "by-action": savings_bar(summary.savings_by_action, f"Savings by action ({note})"),
        "by-tag": savings_bar(summary.savings_by_tag, f"Savings by {label(summary.group_tag)} ({note})",
                              PALETTE[3]),
        "cost": cost_bars(counted, note),
        **{f"dist-{key}": distribution(frame, column, title, axis) for column, key, title, axis in DISTRIBUTIONS},
        "calibration": calibration_curve(result.calibration),
    }
    return {key: chart for key, chart in charts.items() if chart is not None}
