"""One :class:`~advisor.results.Recommendation` from a rule, a features row and a proposal."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from advisor.catalog.catalog import LINUX
from advisor.engine import confidence, evidence
from advisor.engine.actions.base import Proposal
from advisor.engine.rules import LoadedRule, render_rationale
from advisor.model import HOURS_PER_MONTH, Kind
from advisor.results import Recommendation
from advisor.settings import Settings

FORECAST_METRICS = ("cpu", "memory", "gpu", "gpu_memory")
EVIDENCE_METRICS = ("cpu", "memory", "gpu", "gpu_memory", "network_in", "network_out", "read_iops", "write_iops",
                    "total_iops", "burst_balance", "invocations")
EVIDENCE_STATS = ("mean", "p50", "p95", "p99", "max")
# the features columns each evidence metric reads, named once (a finding reads 11 x 6 of them)
_STAT_COLUMNS = {metric: (f"{metric}_samples", tuple((s, f"{metric}_{s}") for s in EVIDENCE_STATS))
                 for metric in EVIDENCE_METRICS}


def build(loaded: LoadedRule, row: Mapping[Hashable, Any], proposal: Proposal, settings: Settings,
          window: tuple[pd.Timestamp, pd.Timestamp], price_list_date: str | None = None,
          price_dates: Mapping[str, str | None] | None = None) -> Recommendation:
    action = loaded.rule.action
    cost_now = proposal.cost_now if proposal.cost_now is not None else _money(row["monthly_cost"])
    cost_after = proposal.cost_after if proposal.cost_after is not None else cost_now
    score = proposal.confidence if proposal.confidence is not None else _confidence(row, action)
    limits = evidence.assess(loaded, row, settings)
    score = min(score, limits.cap, proposal.confidence_cap)
    proposal.notes.extend(limits.notes)
    current = row["instance_type"] if _present(row["instance_type"]) else row["volume_type"]
    return Recommendation.model_validate({
        "resource_id": row["resource_id"],
        "kind": row["kind"],
        "account": row["account"],
        "region": row["region"],
        "name": row["name"],
        "tags": row["tags"],
        "rule": loaded.id,
        "title": loaded.rule.title,
        "action": action,
        "severity": loaded.rule.severity,
        "current": str(current) if _present(current) else "",
        "target": proposal.target,
        "monthly_cost_now": round(cost_now, 2),
        "monthly_cost_after": round(cost_after, 2),
        "monthly_savings": round(cost_now - cost_after, 2),
        "confidence": _confidence_label(score),
        "confidence_score": confidence.backtest_bands().probability(_confidence_label(score)),
        "risk": proposal.risk,
        "projected_utilization": proposal.projected,
        "evidence": _evidence(loaded, row, proposal, settings, window) | limits.sections,
        "rationale": " ".join(render_rationale(loaded, row).split()),
        "options": proposal.options,
        "price_estimated": bool(row["price_estimated"]) or proposal.price_estimated,
        "price_list_date": price_list_date,
        "price_dates": dict(price_dates or {}),
    })


def _confidence(row: Mapping[Hashable, Any], action: str) -> float:
    """0-1: how much history backs the finding (days, coverage) and whether memory was seen; only its band is
    published, with the band's backtested probability of holding as the score (:mod:`advisor.engine.confidence`)."""
    days = float(row["days_observed"]) if pd.notna(row["days_observed"]) else 0.0
    coverage = float(row["coverage"]) if pd.notna(row["coverage"]) else 0.0
    score = 0.5 * min(days / 14.0, 1.0) + 0.3 * min(coverage, 1.0)
    if row["kind"] != Kind.EC2_INSTANCE or bool(row["has_memory_data"]) or action in ("stop", "install_agent"):
        score += 0.2
    return score


def _confidence_label(score: float) -> str:
    return "high" if score >= 0.8 else "medium" if score >= 0.55 else "low"


def _evidence(loaded: LoadedRule, row: Mapping[Hashable, Any], proposal: Proposal, settings: Settings,
              window: tuple[pd.Timestamp, pd.Timestamp]) -> dict[str, Any]:
    stats = {}
    datapoints = {}
    for metric, (samples, columns) in _STAT_COLUMNS.items():
        count = row.get(samples)
        if count is None or pd.isna(count):
            continue
        datapoints[metric] = int(count)
        stats[metric] = {s: _round(row[column]) for s, column in columns}
    forecast = {}
    notes = []
    for metric in FORECAST_METRICS:
        if pd.isna(row.get(f"{metric}_fit_days")) or not row.get(f"{metric}_fit_days"):
            continue
        raised, held = forecast_raise(row, metric, settings), _yes(row.get(f"{metric}_forecast_held"))
        forecast[metric] = {
            "trend_per_day": _round(row[f"{metric}_trend_per_day"]),
            "trend_significant": bool(row[f"{metric}_trend_significant"]),
            "forecast": _round(row[f"{metric}_forecast"]),
            "upper": _round(row[f"{metric}_upper"]),
            "weekly_peak": _round(row[f"{metric}_weekly_peak"]),
            "horizon_days": settings.sizing.horizon_days,
            "demand_raised_by": round(raised, 2),
            "held_at_capacity": held,
        }
        if raised > 0.5:
            observed = float(row[f"{metric}_{settings.policy(metric).statistic}"])
            notes.append(f"The {settings.sizing.horizon_days}-day forecast raises {metric} demand from "
                         f"{observed:.0f}% to {observed + raised:.0f}%" + (" (rising trend)" if bool(
                             row.get(f"{metric}_trend_significant")) else " (recurring weekly peak)"))
        if held:
            notes.append(f"The forecast puts the {metric} peak at {float(row[f'{metric}_upper']):.0f}% of the current "
                         f"capacity within {settings.sizing.horizon_days} days, more than it holds with headroom: "
                         "demand is held at the current size (a forecast holds capacity but does not add it; "
                         "[sizing] forecast_adds_capacity). Watch this resource.")
    if row["kind"] == Kind.EC2_INSTANCE and str(row.get("lifecycle")) == "spot":
        notes.append("A Spot Instance: costs are at the Spot price (the Spot Instance Advisor's savings off "
                     "on-demand for each type), before and after.")
    elif row["kind"] == Kind.EC2_INSTANCE and platform_of_row(row) != LINUX:
        notes.append(f"Costs are at the {platform_of_row(row)} on-demand price of each type, before and after.")
    discount = row.get("discount_pct")
    if discount is not None and pd.notna(discount) and discount > 0:
        notes.append(f"Costs are at your prices: {discount:g} % off on-demand for the current type ([discounts] in "
                     "the configuration); a target at its own scope's discount; EBS and Spot at public prices.")
    run_rate = _run_rate(row, proposal)
    if run_rate:
        notes.append(f"Money is a monthly rate: this run's cost x {run_rate['runs_per_month']:g} runs a month "
                     f"(1 run in the {run_rate['window_days']:g}-day window; per run "
                     f"${run_rate['cost_per_run']:,.2f} now, ${run_rate['savings_per_run']:,.2f} saved).")
    resolved = row.get("instance_type_note")
    if isinstance(resolved, str) and resolved:
        notes.append(f"Instance type {row['instance_type']}: {resolved}.")
    zeros = row.get("measured_zeros")
    if isinstance(zeros, dict) and zeros:
        notes.append("Measured zeros: " + ", ".join(f"{count:,} periods of {metric}" for metric, count in
                                                   sorted(zeros.items()))
                     + " had no datapoint and count as zero: AWS publishes these counters only when there is "
                       "activity, the resource was active then and CloudWatch answered those periods in full.")
    if not bool(row["has_memory_data"]) and row["kind"] == Kind.EC2_INSTANCE:
        notes.append("No memory metrics (CloudWatch agent not installed): memory is held at its current size.")
    evidence = {
        "window": f"{window[0]:%Y-%m-%d %H:%M} to {window[1]:%Y-%m-%d %H:%M} UTC",
        "hours_observed": _round(row["hours_observed"]),
        "days_observed": _round(row["days_observed"]),
        "coverage": _round(row["coverage"], 3),
        "datapoints": datapoints,
        "stats": stats,
        "forecast": forecast,
        "rule": loaded.id,
        "rule_file": loaded.path.name,
        "condition": loaded.describe_condition(),
        "thresholds": dict(loaded.rule.thresholds),
        "policy": {m: {"statistic": settings.policy(m).statistic, "headroom": settings.policy(m).headroom}
                   for m in ("cpu", "memory", "gpu", "gpu_memory")},
        "demand": proposal.demand,
        "capacity": {"vcpus": _round(row["vcpus"]), "memory_gib": _round(row["memory_gib"]),
                     "gpus": _round(row["gpus"]), "gpu_memory_gib": _round(row["gpu_memory_gib"])},
        "notes": [*notes, *proposal.notes],
    }
    if run_rate:
        evidence["run_rate"] = run_rate
    if isinstance(zeros, dict) and zeros:
        evidence["measured_zeros"] = dict(zeros)
    return evidence | proposal.evidence


def forecast_raise(row: Mapping[Hashable, Any], metric: str, settings: Settings) -> float:
    """Points of capacity the forecast added to the policy statistic's demand (0 when it added none, when the
    forecast is off, or when the demand is censored: that demand is the capacity, not a forecast)."""
    observed, demand = row.get(f"{metric}_{settings.policy(metric).statistic}"), row.get(f"{metric}_demand")
    if (not settings.sizing.use_forecast or observed is None or demand is None or _nan(observed) or _nan(demand)
            or _yes(row.get(f"{metric}_censored"))):
        return 0.0
    return max(float(demand) - float(observed), 0.0)


def _nan(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _yes(value: Any) -> bool:
    return not _nan(value) and bool(value)


def platform_of_row(row: Mapping[Hashable, Any]) -> str:
    platform = row.get("platform")
    return platform if isinstance(platform, str) and platform else LINUX


def _run_rate(row: Mapping[Hashable, Any], proposal: Proposal) -> dict[str, float] | None:
    """The basis of a job's monthly figures: one run seen in the window, scaled to runs per month."""
    rate = row.get("runs_per_month")
    if rate is None or pd.isna(rate) or not rate:
        return None
    now = proposal.cost_now if proposal.cost_now is not None else _money(row["monthly_cost"])
    after = proposal.cost_after if proposal.cost_after is not None else now
    # the window's length as the rate saw it (a window shorter than the run counts as the run's length)
    return {"runs_in_window": 1, "window_days": round(HOURS_PER_MONTH / float(rate) / 24, 1),
            "runs_per_month": round(float(rate), 3), "cost_per_run": round(now / rate, 2),
            "savings_per_run": round((now - after) / rate, 2)}


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value is not pd.NA \
        and value != ""


def _money(value: Any) -> float:
    return float(value) if value is not None and pd.notna(value) else 0.0


def _round(value: Any, digits: int = 2) -> float | None:
    if type(value) is float:  # most cells: a plain float, NaN when missing
        return None if value != value else round(value, digits)
    if value is None or value is pd.NA or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    return round(float(value), digits)
