"""One :class:`~advisor.results.Recommendation` from a rule, a features row and a proposal."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from advisor.engine import evidence
from advisor.engine.actions import Proposal
from advisor.engine.rules import LoadedRule, render_rationale
from advisor.model import Kind
from advisor.results import Recommendation
from advisor.settings import Settings

EVIDENCE_METRICS = ("cpu", "memory", "gpu", "gpu_memory", "network_in", "network_out", "read_iops", "write_iops",
                    "total_iops", "burst_balance", "invocations")


def build(loaded: LoadedRule, row: Mapping[Hashable, Any], proposal: Proposal, settings: Settings,
          window: tuple[pd.Timestamp, pd.Timestamp], price_list_date: str | None = None) -> Recommendation:
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
        "confidence_score": round(score, 2),
        "risk": proposal.risk,
        "projected_utilization": proposal.projected,
        "evidence": _evidence(loaded, row, proposal, settings, window),
        "rationale": " ".join(render_rationale(loaded, row).split()),
        "options": proposal.options,
        "price_estimated": bool(row["price_estimated"]) or proposal.price_estimated,
        "price_list_date": price_list_date,
    })


def _confidence(row: Mapping[Hashable, Any], action: str) -> float:
    """0-1: how much history backs the finding (days, coverage) and whether memory was seen."""
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
    for metric in EVIDENCE_METRICS:
        if pd.isna(row.get(f"{metric}_samples")):
            continue
        datapoints[metric] = int(row[f"{metric}_samples"])
        stats[metric] = {s: _round(row[f"{metric}_{s}"]) for s in ("mean", "p50", "p95", "p99", "max")}
    forecast = {}
    for metric in ("cpu", "memory", "gpu", "gpu_memory"):
        if pd.isna(row.get(f"{metric}_fit_days")) or not row.get(f"{metric}_fit_days"):
            continue
        forecast[metric] = {
            "trend_per_day": _round(row[f"{metric}_trend_per_day"]),
            "trend_significant": bool(row[f"{metric}_trend_significant"]),
            "forecast": _round(row[f"{metric}_forecast"]),
            "upper": _round(row[f"{metric}_upper"]),
            "weekly_peak": _round(row[f"{metric}_weekly_peak"]),
            "horizon_days": settings.horizon_days,
        }
    notes = []
    for metric in ("cpu", "memory"):
        observed = row.get(f"{metric}_{settings.policy(metric).statistic}")
        demand = row.get(f"{metric}_demand")
        if pd.notna(observed) and pd.notna(demand) and demand > observed + 0.5:
            notes.append(f"The {settings.horizon_days}-day forecast raises {metric} demand from "
                         f"{observed:.0f}% to {demand:.0f}%" +
                         (" (rising trend)" if bool(row.get(f"{metric}_trend_significant")) else
                          " (recurring weekly peak)"))
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
    if isinstance(zeros, dict) and zeros:
        evidence["measured_zeros"] = dict(zeros)
    return evidence | proposal.evidence


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value is not pd.NA \
        and value != ""


def _money(value: Any) -> float:
    return float(value) if value is not None and pd.notna(value) else 0.0


def _round(value: Any, digits: int = 2) -> float | None:
    if value is None or value is pd.NA or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    return round(float(value), digits)
