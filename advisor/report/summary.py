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
* Savings **by tag** group the counted rows by the value of one tag (``group_tag``, the ``[output] group_tag``
  setting; the key is matched exactly, then case-insensitively); resources without it are "(untagged)".
* **Coverage** is each resource's share of the data window with samples (its best-covered metric); a resource
  in the features frame without any sample counts as 0 %.
* Every money figure is **per month**. A training or tuning job is billed per run: its figures are its run's
  cost at the window's run rate (one run in the window, scaled to 730 hours; ``evidence.run_rate``), so job
  savings add to the headline in the same unit as the rest.
* **Pricing**: on-demand prices, less the configured discounts where each applies (``pricing`` says which, and
  ``discounts`` lists them with their scope); EBS and Spot are always at public prices.
* **Dates**: every recommendation carries the date of each price source behind its figures (``price_dates``); a
  price source older than ``[catalog] max_age_days`` (180) when the audit ran is listed in ``price_warnings``.
* Money is rounded to cents; the annual figure is twelve times the rounded monthly one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from advisor.catalog.catalog import DEFAULT_MAX_AGE_DAYS, stale_sources
from advisor.catalog.discounts import Discounts
from advisor.model import SKIPPED_COLUMNS, AuditResult
from advisor.results import (
    CostIncreases,
    Coverage,
    CoverageFigures,
    ReasonGroup,
    Recommendation,
    Summary,
    TopSaving,
)
from advisor.settings import OutputConfig

TOP_N = 10
PRICED_WITH_DISCOUNTS = "on-demand less your discounts (EBS and Spot at public prices)"
UNKNOWN = "unknown"
UNTAGGED = "(untagged)"
DEFAULT_GROUP_TAG = OutputConfig().group_tag
WELL_COVERED = 0.9  # a resource with samples over at least 90 % of the window is "well covered"
REASON_EXAMPLES = 3
# a standalone number ("22.3 hours", "30 needed"), not a digit inside a name such as m5.xlarge or i-0abc
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w]|\.\d)")


def money(value: float) -> float:
    """Round to cents, never returning ``-0.0``."""
    return round(float(value), 2) + 0.0


def _iso(value: pd.Timestamp | datetime | None) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).isoformat()


def _by(rows: Sequence[Recommendation], key: Callable[[Recommendation], str]) -> dict[str, float]:
    """Sum of counted savings per value of ``key``, largest first."""
    sums: dict[str, list[float]] = {}
    for rec in rows:
        sums.setdefault(key(rec), []).append(rec.monthly_savings)
    totals = {name: math.fsum(values) for name, values in sums.items()}
    return {name: money(value) for name, value in sorted(totals.items(), key=lambda item: (-item[1], item[0]))}


def _resource_ids(frame: pd.DataFrame) -> set[str]:
    if "resource_id" in frame.columns:
        return set(frame["resource_id"].dropna().astype(str))
    return set()


def _spend_covered(recs: Sequence[Recommendation], features: pd.DataFrame) -> float:
    per_resource: dict[str, float] = {}
    for rec in recs:
        per_resource[rec.resource_id] = max(per_resource.get(rec.resource_id, rec.monthly_cost_now),
                                            rec.monthly_cost_now)
    total = math.fsum(per_resource.values())
    if "monthly_cost" in features.columns:
        ids = features["resource_id"] if "resource_id" in features.columns else features.index.to_series()
        others = pd.Series(pd.to_numeric(features["monthly_cost"], errors="coerce").to_numpy(),
                           index=ids.astype(str).to_numpy())
        others = others[~others.index.isin(list(per_resource))].dropna()
        total += float(others.groupby(level=0).max().sum())
    return total


def tag_value(tags: Any, key: str) -> str | None:
    """The value of tag ``key``: an exact match first, then a case-insensitive one (``Team`` for ``team``)."""
    if not isinstance(tags, Mapping) or not key:
        return None
    if key in tags:
        return str(tags[key])
    folded = key.casefold()
    return next((str(value) for name, value in tags.items() if str(name).casefold() == folded), None)


def group_reasons(items: Iterable[tuple[str | None, str]]) -> list[ReasonGroup]:
    """Group ``(resource_id, reason)`` pairs whose texts differ only in their numbers, largest group first.

    "only 13.2 hours of metrics" and "only 22.3 hours of metrics" become one group labelled
    "only 13.2–22.3 hours of metrics"; numbers equal across the group are kept as they are.
    """
    groups: dict[str, list[tuple[str | None, str]]] = {}
    for resource_id, reason in items:
        text = str(reason)
        groups.setdefault(_NUMBER.sub("#", text), []).append((resource_id, text))
    out = []
    for key, members in groups.items():
        numbers = [_NUMBER.findall(text) for _, text in members]
        parts = key.split("#")
        label = parts[0]
        for k, part in enumerate(parts[1:]):
            values = sorted({row[k] for row in numbers}, key=float)
            label += values[0] if len(values) == 1 else f"{values[0]}–{values[-1]}"
            label += part
        examples = [rid for rid, _ in members if rid][:REASON_EXAMPLES]
        out.append(ReasonGroup(reason=label, count=len(members), examples=examples))
    return sorted(out, key=lambda group: (-group.count, group.reason))


def _coverage(features: pd.DataFrame) -> Coverage | None:
    """Share of resources with samples over >= 90 % of the window, and the median coverage, overall and by kind."""
    if "coverage" not in features.columns or features.empty:
        return None
    coverage = pd.to_numeric(features["coverage"], errors="coerce").clip(0, 1)
    kinds = features["kind"].astype("string").fillna(UNKNOWN) if "kind" in features.columns \
        else pd.Series(UNKNOWN, index=features.index)

    def figures(values: pd.Series) -> CoverageFigures:
        filled = values.fillna(0.0).to_numpy(dtype=float)
        return CoverageFigures(resources=len(filled), without_metrics=int(values.isna().sum()),
                               share_well_covered=round(float(np.mean(filled >= WELL_COVERED)), 4),
                               median=round(float(np.median(filled)), 4))

    by_kind = {str(kind): figures(group) for kind, group in coverage.groupby(kinds.to_numpy(), sort=True)}
    return Coverage(**figures(coverage).model_dump(), threshold=WELL_COVERED, by_kind=by_kind)


def head_and_rest(breakdown: dict[str, float], n: int) -> list[tuple[str, float, int]]:
    """The first ``n`` entries of a breakdown as (key, amount, 1); the others summed into one ("", sum, count)."""
    items = list(breakdown.items())
    if len(items) <= n + 1:  # one left over is shown as itself, not as "1 other"
        return [(key, value, 1) for key, value in items]
    rest = items[n:]
    return [(key, value, 1) for key, value in items[:n]] + [("", money(sum(v for _, v in rest)), len(rest))]


def counted_savings_rows(recommendations: Sequence[Recommendation]) -> list[Recommendation]:
    """The rows whose savings count: positive savings, one row (the largest) per resource, largest first."""
    ordered = sorted((rec for rec in recommendations if rec.monthly_savings > 0),
                     key=lambda rec: rec.monthly_savings, reverse=True)
    counted: dict[str, Recommendation] = {}
    for rec in ordered:
        counted.setdefault(rec.resource_id, rec)
    return list(counted.values())


def summarize(result: AuditResult, group_tag: str = DEFAULT_GROUP_TAG) -> Summary:
    """Every figure the reports show; savings by tag use ``group_tag``."""
    recs = result.recommendations
    skipped = result.skipped.reindex(columns=SKIPPED_COLUMNS)
    counted = counted_savings_rows(recs)
    discounts = Discounts.from_settings(result.settings).describe()

    skipped_ids = _resource_ids(skipped)
    seen = _resource_ids(result.inventory) | {rec.resource_id for rec in recs}
    if not seen:
        seen = set(result.features.index.astype(str))
    analysed = seen - skipped_ids

    increases = [rec.monthly_savings for rec in recs if rec.monthly_savings < 0]
    monthly_savings = money(math.fsum(rec.monthly_savings for rec in counted))
    top = [
        TopSaving(resource_id=rec.resource_id, name=rec.name, action=rec.action, current=rec.current,
                  target=rec.target or "", monthly_savings=money(rec.monthly_savings), confidence=rec.confidence)
        for rec in counted[:TOP_N]
    ]
    return Summary(
        source_label=result.source_label,
        generated_at=_iso(result.generated_at),
        window_start=_iso(result.window_start),
        window_end=_iso(result.window_end),
        price_list_date=result.price_list_date,
        pricing=PRICED_WITH_DISCOUNTS if discounts else "on-demand",
        discounts=discounts,
        price_warnings=stale_sources(result.catalog_sources, result.generated_at, _max_age_days(result.settings)),
        resources_analysed=len(analysed),
        resources_skipped=len(skipped_ids),
        recommendations=len(recs),
        monthly_spend_covered=money(_spend_covered(recs, result.features)),
        total_monthly_savings=monthly_savings,
        total_annual_savings=money(monthly_savings * 12),
        resources_with_savings=len(counted),
        overlapping_findings=sum(rec.monthly_savings > 0 for rec in recs) - len(counted),
        cost_increases=CostIncreases(monthly=money(-math.fsum(increases)), count=len(increases)),
        savings_by_action=_by(counted, lambda rec: rec.action),
        savings_by_region=_by(counted, lambda rec: rec.region),
        savings_by_account=_by(counted, lambda rec: rec.account),
        savings_by_confidence=_by(counted, lambda rec: rec.confidence),
        group_tag=group_tag,
        savings_by_tag=_by(counted, lambda rec: tag_value(rec.tags, group_tag) or UNTAGGED),
        top_savings=top,
        prices_estimated=any(rec.price_estimated for rec in recs),
        coverage=_coverage(result.features),
        skipped_reasons=group_reasons(zip(skipped["resource_id"].astype(str), skipped["reason"].astype(str),
                                          strict=True)),
        problems=list(result.problems),
        problem_groups=group_reasons((None, str(problem)) for problem in result.problems),
    )


def _max_age_days(settings: dict[str, Any]) -> float:
    """``[catalog] max_age_days`` of the run's recorded settings (older runs recorded none)."""
    return float((settings.get("catalog") or {}).get("max_age_days") or DEFAULT_MAX_AGE_DAYS)
