"""The summary figures of one audit: the single source for the HTML, JSON and terminal outputs.

Counting rules (stated in the report too):

* **Savings** are the positive ``monthly_savings`` of the recommendations. Rows that cost more (upsize,
  reliability) have negative savings; they never reduce the savings total and are reported apart as
  *cost increases*.
* A resource with several findings (say a downsize and a move to spot) is counted **once**, with its largest
  saving: the alternatives are not additive, and adding them would promise more than can be saved. Every
  breakdown (by action, region, account, confidence) and the top list use those same counted rows, so the
  breakdowns add up to the headline figure.
* **Spend covered** is the current monthly cost of every distinct priced resource: ``monthly_cost_now`` of the
  resources with recommendations plus, where the features frame has a ``monthly_cost`` column, the cost of the
  resources without one.
* Money is rounded to cents; the annual figure is twelve times the rounded monthly one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from advisor.model import RECOMMENDATION_COLUMNS, SKIPPED_COLUMNS, AuditResult

TOP_N = 10
UNKNOWN = "unknown"


def money(value: float) -> float:
    """Round to cents, never returning ``-0.0``."""
    return round(float(value), 2) + 0.0


def _iso(value: pd.Timestamp | datetime | None) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).isoformat()


def _by(rows: pd.DataFrame, column: str) -> dict[str, float]:
    """Sum of counted savings per value of ``column``, largest first."""
    if rows.empty:
        return {}
    keys = rows[column].astype("string").fillna(UNKNOWN)
    sums = rows["monthly_savings"].groupby(keys.to_numpy()).sum()
    ordered = sorted(sums.items(), key=lambda item: (-item[1], str(item[0])))
    return {str(key): money(value) for key, value in ordered}


def _resource_ids(frame: pd.DataFrame) -> set[str]:
    if "resource_id" in frame.columns:
        return set(frame["resource_id"].dropna().astype(str))
    return set()


def _spend_covered(recs: pd.DataFrame, features: pd.DataFrame) -> float:
    cost_now = pd.to_numeric(recs["monthly_cost_now"], errors="coerce")
    per_resource = cost_now.groupby(recs["resource_id"].astype(str).to_numpy()).max().dropna()
    total = float(per_resource.sum())
    if "monthly_cost" in features.columns:
        ids = features["resource_id"] if "resource_id" in features.columns else features.index.to_series()
        others = pd.Series(pd.to_numeric(features["monthly_cost"], errors="coerce").to_numpy(),
                           index=ids.astype(str).to_numpy())
        others = others[~others.index.isin(recs["resource_id"].astype(str))].dropna()
        total += float(others.groupby(level=0).max().sum())
    return total


def counted_savings_rows(recommendations: pd.DataFrame) -> pd.DataFrame:
    """The rows whose savings count: positive savings, one row (the largest) per resource, largest first."""
    recs = recommendations.reindex(columns=RECOMMENDATION_COLUMNS)
    savings = pd.to_numeric(recs["monthly_savings"], errors="coerce")
    positive = recs.assign(monthly_savings=savings)[savings > 0]
    if positive.empty:
        return positive
    ordered = positive.sort_values("monthly_savings", ascending=False, kind="stable")
    return ordered.drop_duplicates(subset="resource_id", keep="first")


def summarize(result: AuditResult) -> dict[str, Any]:
    """Every figure the reports show, as plain JSON-ready Python values."""
    recs = result.recommendations.reindex(columns=RECOMMENDATION_COLUMNS)
    skipped = result.skipped.reindex(columns=SKIPPED_COLUMNS)
    savings = pd.to_numeric(recs["monthly_savings"], errors="coerce")
    counted = counted_savings_rows(recs)

    skipped_ids = _resource_ids(skipped)
    seen = _resource_ids(result.inventory) | _resource_ids(recs)
    if not seen:
        seen = set(result.features.index.astype(str))
    analysed = seen - skipped_ids

    increases = savings[savings < 0]
    monthly_savings = money(counted["monthly_savings"].sum()) if not counted.empty else 0.0
    estimated = recs["price_estimated"].astype("boolean").fillna(False)
    top = [
        {
            "resource_id": str(row.resource_id),
            "name": "" if pd.isna(row.name) else str(row.name),
            "action": str(row.action),
            "current": "" if pd.isna(row.current) else str(row.current),
            "target": "" if pd.isna(row.target) else str(row.target),
            "monthly_savings": money(row.monthly_savings),
            "confidence": "" if pd.isna(row.confidence) else str(row.confidence),
        }
        for row in counted.head(TOP_N).itertuples(index=False)
    ]
    return {
        "source_label": result.source_label,
        "generated_at": _iso(result.generated_at),
        "window_start": _iso(result.window_start),
        "window_end": _iso(result.window_end),
        "price_list_date": result.price_list_date,
        "currency": "USD",
        "resources_analysed": len(analysed),
        "resources_skipped": len(skipped_ids),
        "recommendations": len(recs),
        "monthly_spend_covered": money(_spend_covered(recs, result.features)),
        "total_monthly_savings": monthly_savings,
        "total_annual_savings": money(monthly_savings * 12),
        "resources_with_savings": len(counted),
        "overlapping_findings": int((savings > 0).sum()) - len(counted),
        "cost_increases": {"monthly": money(-increases.sum()), "count": len(increases)},
        "savings_by_action": _by(counted, "action"),
        "savings_by_region": _by(counted, "region"),
        "savings_by_account": _by(counted, "account"),
        "savings_by_confidence": _by(counted, "confidence"),
        "top_savings": top,
        "prices_estimated": bool(estimated.any()),
        "problems": list(result.problems),
    }
