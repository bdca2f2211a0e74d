"""The self-contained HTML report: one file, plotly.js inlined once, nothing fetched when it is opened.

The template, stylesheet and script live in the top-level ``reports/`` folder. Everything that comes from the
audit reaches the page either through jinja2 (autoescape on) or as JSON in ``<script type="application/json">``
blocks with ``<``, ``>`` and ``&`` escaped; the script parses those blocks and inserts text with
``textContent`` only. Chart labels are entity-escaped as well, because plotly reads a few HTML tags in labels.

Scale: the recommendations table is built by the script from JSON; drill-down charts are drawn only when a
recommendation is expanded, from utilization series downsampled to hourly max and mean (coarser when the whole
fleet's series would exceed :data:`SERIES_POINT_BUDGET` buckets, and the chart says which step it shows).
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import plotly.offline
from markupsafe import Markup

from advisor import __version__
from advisor.fsutil import atomic_write_text
from advisor.model import PERCENT_METRICS, RECOMMENDATION_COLUMNS, SKIPPED_COLUMNS, AuditResult
from advisor.report.summary import counted_savings_rows, summarize
from advisor.resources import resource_dir

MAX_OPTIONS = 3
TOP_COST_BARS = 15
CPU_BIN_WIDTH = 5
SERIES_POINT_BUDGET = 1_500_000  # hourly buckets over all drill-down series (max and mean each)
SERIES_MAX_POINTS = 2_400  # per series: hourly for 100 days
_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)
_CONFIDENCE_ORDER = {"high": 3, "medium": 2, "low": 1}
_PALETTE = ("#2563eb", "#0d9488", "#d97706", "#7c3aed", "#db2777", "#64748b")


def jsonable(value: Any) -> Any:
    """Turn numpy/pandas values, NaN and timestamps inside nested containers into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray | pd.Series):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if pd.isna(value):
        return None
    return str(value)


def script_json(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` left.

    ``value`` holds plain Python values only (see :func:`jsonable`); anything else is a bug and fails here.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def _inline_script(code: str) -> Markup:
    """Trusted script text for an inline ``<script>``; ``</script`` written as ``<\\/script`` just in case."""
    return Markup(_SCRIPT_END.sub(r"<\\/\1", code))


def _label(text: Any) -> str:
    """A chart label: plotly understands a few HTML tags in labels, so entity-escape it (shown as typed)."""
    return html.escape("" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text))


def _text(value: Any) -> str:
    return "" if value is None or (not isinstance(value, dict | list) and pd.isna(value)) else str(value)


def _number(value: Any) -> float | None:
    number = pd.to_numeric(value, errors="coerce")
    return None if pd.isna(number) else round(float(number), 2)


def _round_rows(values: np.ndarray, percent: np.ndarray) -> np.ndarray:
    """Rows of percentages to 0.1; other rows (bytes/s, IOPS…) to three significant digits."""
    magnitude = np.floor(np.log10(np.abs(values), out=np.zeros_like(values), where=values != 0))
    factor = 10.0 ** (2 - magnitude)
    significant = np.round(values * factor) / factor
    return np.where(percent[:, None], np.round(values, 1), significant)


def _nulls(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]


# --- recommendations -------------------------------------------------------------------------------------


def _records(recs: pd.DataFrame) -> list[dict[str, Any]]:
    records = []
    for i, row in enumerate(recs.to_dict("records")):
        options = row["options"] if isinstance(row["options"], list | tuple | np.ndarray) else []
        records.append({
            "i": i,
            "resource_id": _text(row["resource_id"]),
            "name": _text(row["name"]),
            "kind": _text(row["kind"]),
            "account": _text(row["account"]),
            "region": _text(row["region"]),
            "rule": _text(row["rule"]),
            "title": _text(row["title"]),
            "action": _text(row["action"]),
            "severity": _text(row["severity"]),
            "current": _text(row["current"]),
            "target": _text(row["target"]),
            "cost_now": _number(row["monthly_cost_now"]),
            "cost_after": _number(row["monthly_cost_after"]),
            "savings": _number(row["monthly_savings"]),
            "confidence": _text(row["confidence"]),
            "confidence_rank": _CONFIDENCE_ORDER.get(_text(row["confidence"]).lower(), 0),
            "risk": jsonable(row["risk"]),
            "estimated": bool(row["price_estimated"]) if not pd.isna(row["price_estimated"]) else False,
            "rationale": _text(row["rationale"]),
            "tags": jsonable(row["tags"]) if isinstance(row["tags"], dict) else {},
            "projected": jsonable(row["projected_utilization"])
            if isinstance(row["projected_utilization"], dict) else {},
            "evidence": jsonable(row["evidence"]) if isinstance(row["evidence"], dict) else {},
            "options": jsonable(list(options)[:MAX_OPTIONS]),
        })
    return records


# --- drill-down series -----------------------------------------------------------------------------------


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for missing) and the distinct values as text; categoricals keep their codes."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories.astype(str).to_numpy()
    codes, uniques = pd.factorize(column)
    return codes, np.asarray(uniques).astype(str)


def _series(recs: pd.DataFrame, metrics: pd.DataFrame) -> dict[str, Any]:
    """Per recommended resource and metric: bucket max and mean from ``t0`` (epoch s) every ``step`` s.

    Vectorized over all samples at once (integer codes, ``bincount`` and ``maximum.at``): a 10,000-resource
    fleet's 80 million samples take seconds, not a Python loop per sample.
    """
    empty: dict[str, Any] = {"step": 3600, "resources": {}}
    wanted = recs["resource_id"].dropna().astype(str).unique()
    if metrics.empty or not len(wanted):
        return empty
    res_codes, res_names = _codes(metrics["resource_id"])
    metric_codes, metric_names = _codes(metrics["metric"])
    values = pd.to_numeric(metrics["value"], errors="coerce").to_numpy(dtype=float)
    stamps = pd.to_datetime(metrics["timestamp"], utc=True)
    keep = (np.isin(res_names, wanted)[res_codes] & (res_codes >= 0) & (metric_codes >= 0)
            & np.isfinite(values) & stamps.notna().to_numpy())
    if not keep.any():
        return empty
    seconds = stamps[keep].dt.tz_localize(None).to_numpy("datetime64[s]").astype(np.int64)
    values = values[keep]
    # averages come from avg samples only (when the source gave a stat column); the max from every sample
    for_mean = ~(metrics["stat"] == "max").to_numpy(dtype=bool, na_value=False)[keep] \
        if "stat" in metrics.columns else np.ones(len(values), dtype=bool)
    n_metrics = len(metric_names)
    pair = res_codes[keep].astype(np.int64) * n_metrics + metric_codes[keep]
    present_mask = np.bincount(pair, minlength=len(res_names) * n_metrics) > 0
    present = np.flatnonzero(present_mask)
    pair = (np.cumsum(present_mask) - 1)[pair]

    start = int(seconds.min()) // 3600 * 3600
    hours = (int(seconds.max()) - start) // 3600 + 1
    step_hours = max(1, math.ceil(hours / SERIES_MAX_POINTS), math.ceil(len(present) * hours / SERIES_POINT_BUDGET))
    step = step_hours * 3600
    n_buckets = (int(seconds.max()) - start) // step + 1
    key = pair * n_buckets + (seconds - start) // step
    size = len(present) * n_buckets
    maxes = np.full(size, -np.inf)
    np.maximum.at(maxes, key, values)
    maxes[np.isneginf(maxes)] = np.nan
    sums = np.bincount(key[for_mean], weights=values[for_mean], minlength=size)
    counts = np.bincount(key[for_mean], minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    maxes, means = maxes.reshape(-1, n_buckets), means.reshape(-1, n_buckets)

    metric_of = metric_names[present % n_metrics]
    resource_of = res_names[present // n_metrics]
    percent = np.isin(metric_of, [str(m) for m in PERCENT_METRICS])
    has = ~np.isnan(maxes)
    first = has.argmax(axis=1)
    last = n_buckets - 1 - has[:, ::-1].argmax(axis=1)
    maxes, means = _round_rows(maxes, percent), _round_rows(means, percent)
    resources: dict[str, dict[str, Any]] = {}
    for k in range(len(present)):
        window = slice(int(first[k]), int(last[k]) + 1)
        resources.setdefault(str(resource_of[k]), {})[str(metric_of[k])] = {
            "t0": start + int(first[k]) * step,
            "percent": bool(percent[k]),
            "max": _nulls(maxes[k, window]),
            "mean": _nulls(means[k, window]),
        }
    return {"step": step, "resources": resources}


# --- overview charts -------------------------------------------------------------------------------------


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "margin": {"l": 60, "r": 16, "t": 48, "b": 48},
        "height": 340,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12,
                 "color": "#1f2937"},
        "colorway": list(_PALETTE),
        "separators": ".,",
    }
    layout.update(extra)
    return layout


def _savings_bar(breakdown: dict[str, float], title: str) -> dict[str, Any] | None:
    if not breakdown:
        return None
    labels = [_label(key) for key in breakdown]
    return {
        "data": [{"type": "bar", "x": labels, "y": list(breakdown.values()), "marker": {"color": _PALETTE[0]},
                  "hovertemplate": "%{x}<br>$%{y:,.2f}/month<extra></extra>"}],
        "layout": _layout(title, yaxis={"title": {"text": "$ / month"}, "tickformat": "$,.0f",
                                        "gridcolor": "#e5e7eb"}),
    }


def _cost_bars(counted: pd.DataFrame, price_note: str) -> dict[str, Any] | None:
    top = counted.head(TOP_COST_BARS).iloc[::-1]
    if top.empty:
        return None
    labels = [f"{name} ({rid})" if name and name != rid else rid
              for rid, name in zip(top["resource_id"].astype(str), top["name"].map(_text), strict=True)]
    labels = [_label(label if len(label) <= 48 else label[:47] + "…") for label in labels]
    now = [_number(v) for v in top["monthly_cost_now"]]
    after = [_number(v) for v in top["monthly_cost_after"]]
    bar = {"type": "bar", "orientation": "h", "y": labels,
           "hovertemplate": "%{y}<br>$%{x:,.2f}/month<extra>%{fullData.name}</extra>"}
    return {
        "data": [{**bar, "name": "recommended", "x": after, "marker": {"color": _PALETTE[1]}},
                 {**bar, "name": "current", "x": now, "marker": {"color": "#94a3b8"}}],
        "layout": _layout(f"Current vs recommended monthly cost, top {len(top)} by savings ({price_note})",
                          barmode="group", height=max(340, 60 + 34 * len(top)),
                          margin={"l": 260, "r": 16, "t": 48, "b": 48},
                          legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right",
                                  "yanchor": "bottom", "traceorder": "reversed"},
                          xaxis={"title": {"text": "$ / month"}, "tickformat": "$,.0f", "gridcolor": "#e5e7eb"},
                          yaxis={"automargin": True}),
    }


def _cpu_histogram(features: pd.DataFrame, inventory: pd.DataFrame) -> dict[str, Any] | None:
    if "cpu_p99" not in features.columns:
        return None
    frame = features.reset_index() if "resource_id" not in features.columns else features
    frame = frame.rename(columns={"index": "resource_id"})
    if "kind" not in frame.columns:
        kinds = inventory.set_index(inventory["resource_id"].astype(str))["kind"] if len(inventory) else {}
        frame = frame.assign(kind=frame["resource_id"].astype(str).map(kinds))
    values = pd.to_numeric(frame["cpu_p99"], errors="coerce")
    frame = frame.assign(cpu_p99=values.clip(0, 100), kind=frame["kind"].fillna("unknown").astype(str))
    frame = frame[frame["cpu_p99"].notna()]
    if frame.empty:
        return None
    edges = np.arange(0, 100 + CPU_BIN_WIDTH, CPU_BIN_WIDTH)
    centers = (edges[:-1] + CPU_BIN_WIDTH / 2).tolist()
    data = []
    stacked = np.zeros(len(edges) - 1, dtype=int)
    for kind, group in frame.groupby("kind", sort=True):
        counts, _ = np.histogram(group["cpu_p99"].to_numpy(dtype=float), bins=edges)
        stacked += counts
        data.append({"type": "bar", "name": _label(kind), "x": centers, "y": counts.tolist(),
                     "width": CPU_BIN_WIDTH * 0.9,
                     "hovertemplate": "%{fullData.name}: %{y} with p99 %{x}±2.5 %<extra></extra>"})
    peak = int(stacked.max())
    return {
        "data": data,
        "layout": _layout("CPU p99 across resources, by kind", barmode="stack",
                          xaxis={"title": {"text": "CPU p99 (% of all vCPUs)"}, "range": [0, 100],
                                 "dtick": 10, "ticksuffix": " %"},
                          yaxis={"title": {"text": "resources"}, "gridcolor": "#e5e7eb", "tick0": 0,
                                 "dtick": max(1, math.ceil(peak / 6))},
                          legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right",
                                  "yanchor": "bottom"}),
    }


def _charts(result: AuditResult, summary: dict[str, Any], counted: pd.DataFrame) -> dict[str, Any]:
    note = f"prices as of {summary['price_list_date']}"
    charts = {
        "by-action": _savings_bar(summary["savings_by_action"], f"Savings by action ({note})"),
        "by-region": _savings_bar(summary["savings_by_region"], f"Savings by region ({note})"),
        "cost": _cost_bars(counted, note),
        "cpu": _cpu_histogram(result.features, result.inventory),
    }
    return {key: chart for key, chart in charts.items() if chart is not None}


# --- page ------------------------------------------------------------------------------------------------


def _money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def _when(value: str | None, with_time: bool = True) -> str:
    if not value:
        return "unknown"
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp
    return stamp.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(resource_dir("reports")), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = _money
    env.filters["when"] = _when
    return env


@cache
def _static(name: str) -> str:
    return (resource_dir("reports") / name).read_text(encoding="utf-8")


def render_html(result: AuditResult) -> str:
    """The whole report as one HTML string."""
    summary = summarize(result)
    recs = result.recommendations.reindex(columns=RECOMMENDATION_COLUMNS)
    counted = counted_savings_rows(recs)
    skipped = result.skipped.reindex(columns=SKIPPED_COLUMNS).map(_text).to_dict("records")
    actions = sorted({_text(a) for a in recs["action"]} - {""})
    window_days = None
    if result.window_start is not None and result.window_end is not None:
        window_days = f"{round((result.window_end - result.window_start) / pd.Timedelta(days=1), 1):g}"
    meta = {"price_list_date": result.price_list_date}
    return _environment().get_template("report.html.j2").render(
        summary=summary,
        version=__version__,
        window_days=window_days,
        actions=actions,
        skipped=skipped,
        rules=[jsonable(rule) for rule in result.rules],
        problems=[str(p) for p in result.problems],
        catalog_sources=[jsonable(source) for source in result.catalog_sources],
        css=Markup(_static("report.css")),
        meta_json=script_json(meta),
        recs_json=script_json(_records(recs)),
        charts_json=script_json(_charts(result, summary, counted)),
        series_json=script_json(_series(recs, result.metrics)),
        plotly_js=_inline_script(plotly.offline.get_plotlyjs()),
        report_js=_inline_script(_static("report.js")),
    )


def write_html(result: AuditResult, path: Path | str) -> Path:
    """Render the report and write it atomically; returns the path written."""
    return atomic_write_text(Path(path), render_html(result))
