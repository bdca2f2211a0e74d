"""The audit: inventory + metrics -> features -> rules -> sizing -> recommendations (a pure function)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from advisor.catalog import Catalog
from advisor.engine.features import build_features, known_columns
from advisor.engine.rules import LoadedRule, evaluate_rules, load_rules, render_rationale
from advisor.engine.sizing import SizingResult, size_resources
from advisor.model import (
    HOURS_PER_MONTH,
    RECOMMENDATION_COLUMNS,
    SKIPPED_COLUMNS,
    AuditResult,
    Kind,
)
from advisor.resources import resource_dir
from advisor.settings import Settings

SIZING_MODES = {"downsize": "down", "upsize": "up", "modernize": "modernize"}
EVIDENCE_METRICS = ("cpu", "memory", "gpu", "gpu_memory", "network_in", "network_out", "read_iops", "write_iops",
                    "invocations")
# Kinds whose analysis needs a usage history (training jobs are judged from their own, possibly short, run).
NEEDS_HISTORY = {Kind.EC2_INSTANCE, Kind.EBS_VOLUME, Kind.SAGEMAKER_ENDPOINT, Kind.SAGEMAKER_NOTEBOOK}


def rule_directories(settings: Settings) -> list[Path]:
    return [resource_dir("rules"), *settings.rules_dirs]


def load_rule_set(settings: Settings) -> list[LoadedRule]:
    return load_rules(rule_directories(settings), known_columns(), settings.disabled_rules)


def audit(inventory: pd.DataFrame, metrics: pd.DataFrame, catalog: Catalog, settings: Settings | None = None,
          rules: list[LoadedRule] | None = None, source_label: str = "",
          window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
          problems: Iterable[str] = ()) -> AuditResult:
    settings = settings or Settings()
    rules = load_rule_set(settings) if rules is None else rules
    window = window or _window_of(metrics)
    features = build_features(inventory, metrics, catalog, settings, window)
    skipped = _skip_reasons(features, settings)
    analysable = features.drop(index=list(skipped))
    fired = evaluate_rules(rules, analysable)
    by_id = {r.id: r for r in rules}
    rows, unresolved = _recommend(fired, analysable, by_id, catalog, settings, window)
    recommendations = pd.DataFrame(rows, columns=list(RECOMMENDATION_COLUMNS))
    recommendations["price_list_date"] = catalog.price_list_date
    if not recommendations.empty:
        recommendations = recommendations.sort_values(["monthly_savings", "resource_id"],
                                                      ascending=[False, True], kind="stable").reset_index(drop=True)
    with_findings = set(recommendations["resource_id"])
    for resource_id, reason in unresolved.items():
        if resource_id not in with_findings:
            skipped.setdefault(resource_id, reason)
    return AuditResult(
        recommendations=recommendations,
        skipped=_skipped_frame(skipped, features),
        inventory=inventory,
        features=features,
        metrics=metrics,
        window_start=window[0],
        window_end=window[1],
        price_list_date=catalog.price_list_date,
        source_label=source_label,
        catalog_sources=catalog.sources,
        rules=[{"id": r.id, "title": r.rule.title, "kind": r.rule.kind.value, "action": r.rule.action,
                "condition": r.describe_condition(), "file": r.path.name} for r in rules],
        settings=settings.model_dump(mode="json"),
        problems=list(problems),
    )


def _window_of(metrics: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    if metrics.empty:
        now = pd.Timestamp.now(tz="UTC").floor("h")
        return now - pd.Timedelta(days=14), now
    return metrics["timestamp"].min(), metrics["timestamp"].max()


def _skip_reasons(features: pd.DataFrame, settings: Settings) -> dict[str, str]:
    """Resources that get no recommendation, with the reason stated (never a guess)."""
    reasons: dict[str, str] = {}
    columns = ["kind", "instance_type", "vcpus", "hourly_price", "region", "state", "hours_observed"]
    for resource_id, row in features[columns].to_dict("index").items():
        kind = Kind(row["kind"])
        if kind in (Kind.EC2_INSTANCE, Kind.SAGEMAKER_ENDPOINT, Kind.SAGEMAKER_NOTEBOOK,
                    Kind.SAGEMAKER_TRAINING_JOB):
            if not row["instance_type"]:
                reasons[resource_id] = "no instance type in the inventory"
                continue
            if pd.isna(row["vcpus"]):
                reasons[resource_id] = f"instance type {row['instance_type']} is not in the catalog"
                continue
            if pd.isna(row["hourly_price"]):
                reasons[resource_id] = f"no price for {row['instance_type']} in {row['region']} in the catalog"
                continue
        if kind == Kind.EC2_INSTANCE and row["state"] not in ("running", "pending"):
            reasons[resource_id] = f"instance is {row['state']}: no compute cost to optimise"
            continue
        if kind in NEEDS_HISTORY:
            hours = row["hours_observed"]
            if pd.isna(hours):
                reasons[resource_id] = "no metrics at all for this resource"
            elif hours < settings.min_hours:
                reasons[resource_id] = (f"only {hours:.1f} hours of metrics (at least {settings.min_hours:g} "
                                        "needed): no recommendation yet")
    return reasons


def _skipped_frame(skipped: dict[str, str], features: pd.DataFrame) -> pd.DataFrame:
    rows = [(rid, features.at[rid, "kind"], features.at[rid, "region"], features.at[rid, "name"], reason)
            for rid, reason in skipped.items()]
    return pd.DataFrame(rows, columns=list(SKIPPED_COLUMNS))


def _recommend(fired: pd.DataFrame, features: pd.DataFrame, rules: dict[str, LoadedRule], catalog: Catalog,
               settings: Settings, window) -> tuple[list[dict], dict[str, str]]:
    rows: list[dict] = []
    unresolved: dict[str, str] = {}
    if fired.empty:
        return rows, unresolved
    fired = fired.assign(action=[rules[r].rule.action for r in fired["rule"]])
    sized: dict[str, SizingResult] = {}
    for action, mode in SIZING_MODES.items():
        ids = fired.loc[fired["action"] == action, "resource_id"]
        if len(ids):
            sized.update({f"{action}:{k}": v for k, v in
                          size_resources(features.loc[ids], catalog, settings, mode).items()})
    rows_by_id = features.loc[fired["resource_id"].unique()].to_dict("index")
    for record in fired.itertuples(index=False):
        loaded = rules[record.rule]
        row = rows_by_id[record.resource_id] | {"resource_id": record.resource_id}
        result = sized.get(f"{record.action}:{record.resource_id}")
        if record.action in SIZING_MODES and (result is None or result.target is None):
            unresolved[record.resource_id] = _blocked_reason(loaded, row, result)
            continue
        rows.append(_recommendation(loaded, record.action, row, result, settings, window))
    return rows, unresolved


def _blocked_reason(loaded: LoadedRule, row: dict, result: SizingResult | None) -> str:
    note = result.note if result and result.note else "no suitable target"
    rising = [m for m in ("cpu", "memory") if bool(row.get(f"{m}_trend_significant"))]
    if loaded.rule.action == "downsize" and rising:
        trend = ", ".join(f"{m} +{row[f'{m}_trend_per_day']:.2f} pts/day" for m in rising)
        return (f"{loaded.id}: kept at {row['instance_type']}: the rising trend ({trend}) raises the forecast peak "
                f"to {row['cpu_upper']:.0f}% CPU / {_fmt(row['memory_upper'])}% memory, which {note}")
    return f"{loaded.id}: {note}"


def _fmt(value) -> str:
    return "n/a" if pd.isna(value) else f"{value:.0f}"


def _recommendation(loaded: LoadedRule, action: str, row: dict, result: SizingResult | None,
                    settings: Settings, window) -> dict:
    cost_now = float(row["monthly_cost"]) if pd.notna(row["monthly_cost"]) else 0.0
    current = str(row["instance_type"] or row["volume_type"] or "")
    target, cost_after, risk, projected, options = None, cost_now, None, {}, []
    if action in ("stop", "terminate"):
        target, cost_after = action, 0.0
    elif result is not None:
        target = result.target
        cost_after = float(result.target_hourly) * HOURS_PER_MONTH * float(row["count"])
        risk, projected, options = result.risk, result.projected_utilization, result.options
    confidence_score = _confidence(row, action)
    return {
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
        "current": current,
        "target": target,
        "monthly_cost_now": round(cost_now, 2),
        "monthly_cost_after": round(cost_after, 2),
        "monthly_savings": round(cost_now - cost_after, 2),
        "confidence": _confidence_label(confidence_score),
        "confidence_score": round(confidence_score, 2),
        "risk": risk,
        "projected_utilization": projected,
        "evidence": _evidence(loaded, row, result, settings, window),
        "rationale": " ".join(render_rationale(loaded, row).split()),
        "options": options,
        "price_estimated": bool(row["price_estimated"]),
        "price_list_date": None,  # the catalog's date, set for all rows by audit()
    }


def _confidence(row: dict, action: str) -> float:
    """0-1: how much history backs the finding (days, coverage) and whether memory was seen."""
    days = float(row["days_observed"]) if pd.notna(row["days_observed"]) else 0.0
    coverage = float(row["coverage"]) if pd.notna(row["coverage"]) else 0.0
    score = 0.5 * min(days / 14.0, 1.0) + 0.3 * min(coverage, 1.0)
    if row["kind"] != Kind.EC2_INSTANCE or bool(row["has_memory_data"]) or action in ("stop", "install_agent"):
        score += 0.2
    return score


def _confidence_label(score: float) -> str:
    return "high" if score >= 0.8 else "medium" if score >= 0.55 else "low"


def _evidence(loaded: LoadedRule, row: dict, result: SizingResult | None, settings: Settings,
              window) -> dict:
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
    if not bool(row["has_memory_data"]) and row["kind"] == Kind.EC2_INSTANCE:
        notes.append("No memory metrics (CloudWatch agent not installed): memory is held at its current size.")
    return {
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
        "demand": result.demand if result else {},
        "capacity": {"vcpus": _round(row["vcpus"]), "memory_gib": _round(row["memory_gib"]),
                     "gpus": _round(row["gpus"]), "gpu_memory_gib": _round(row["gpu_memory_gib"])},
        "notes": notes,
    }


def _round(value, digits: int = 2):
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    return round(float(value), digits)
