"""The audit: inventory + metrics -> features -> rules -> action handlers -> recommendations (a pure function)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from advisor import kinds
from advisor.catalog import Catalog
from advisor.engine import recommendation, stats
from advisor.engine.actions import ActionContext, handler_for, parameters_for, supported_kinds
from advisor.engine.features import build_features, known_columns
from advisor.engine.policy import apply_discounts, apply_rule_overrides, filter_by_tags
from advisor.engine.rules import LoadedRule, evaluate_rules, load_rules
from advisor.errors import RuleError
from advisor.model import (
    SKIPPED_COLUMNS,
    AuditResult,
)
from advisor.resources import resource_dir
from advisor.results import Recommendation
from advisor.settings import Settings


def rule_directories(settings: Settings) -> list[Path]:
    return [resource_dir("rules"), *settings.rules_dirs]


def load_rule_set(settings: Settings) -> list[LoadedRule]:
    rules = load_rules(rule_directories(settings), known_columns(), settings.disabled_rules, parameters_for)
    rules = apply_rule_overrides(rules, settings.rule_overrides, parameters_for)
    for loaded in rules:
        if handler_for(loaded.rule.action, loaded.rule.kind) is None:
            raise RuleError(f"{loaded.path}:{loaded.line}: rule {loaded.id!r}, field 'action': action "
                            f"{loaded.rule.action!r} does not apply to kind {loaded.rule.kind!r} (it applies "
                            f"to: {', '.join(supported_kinds(loaded.rule.action))})")
    return rules


def audit(inventory: pd.DataFrame, metrics: pd.DataFrame, catalog: Catalog, settings: Settings | None = None,
          rules: list[LoadedRule] | None = None, source_label: str = "",
          window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
          problems: Iterable[str] = ()) -> AuditResult:
    settings = settings or Settings()
    rules = load_rule_set(settings) if rules is None else rules
    inventory, metrics = filter_by_tags(inventory, metrics, settings)
    window = window or _window_of(metrics)
    index = stats.index_series(metrics)
    features = build_features(inventory, metrics, catalog, settings, window, index=index)
    skipped = _skip_reasons(features, settings)
    analysable = features.drop(index=list(skipped))
    fired = evaluate_rules(rules, analysable)
    context = ActionContext(catalog=catalog, settings=settings, window=window, features=analysable, series=index)
    found, unresolved = _recommend(fired, analysable, {r.id: r for r in rules}, context)
    found, features = apply_discounts(found, features, settings)
    recommendations = sorted(found, key=lambda rec: (-rec.monthly_savings, rec.resource_id))
    with_findings = {rec.resource_id for rec in recommendations}
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
        rules=[{"id": r.id, "title": r.rule.title, "kind": r.rule.kind, "action": r.rule.action,
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
    gates = {k.history_only_if for k in kinds.all_kinds() if k.history_only_if}
    columns = ["kind", "instance_type", "vcpus", "hourly_price", "region", "state", "hours_observed", *sorted(gates)]
    reasons: dict[str, str] = {}
    for resource_id, row in features[columns].to_dict("index").items():
        reason = _skip_reason(kinds.get(row["kind"]), row, settings)
        if reason:
            reasons[str(resource_id)] = reason
    return reasons


def _skip_reason(kind: kinds.ResourceKind, row: dict, settings: Settings) -> str | None:
    """The first reason, in the kind's declared order: type and price, state, then history."""
    if kind.service is not None:
        if not row["instance_type"] or pd.isna(row["instance_type"]):
            return "no instance type in the inventory"
        if pd.isna(row["vcpus"]):
            return f"instance type {row['instance_type']} is not in the catalog"
        if pd.isna(row["hourly_price"]):
            return f"no price for {row['instance_type']} in {row['region']} in the catalog"
    if kind.unpriced_reason and pd.isna(row["hourly_price"]):
        return kind.unpriced_reason.format_map(row)
    if kind.active_states and row["state"] not in kind.active_states:
        return kind.inactive_reason.format_map(row)
    if not kind.needs_history or (kind.history_only_if and _known_false(row[kind.history_only_if])):
        return None
    hours = row["hours_observed"]
    if pd.isna(hours):
        return "no metrics at all for this resource" + (f": {kind.no_metrics_reason}" if kind.no_metrics_reason
                                                         else "")
    if hours < settings.min_hours:
        return f"only {hours:.1f} hours of metrics (at least {settings.min_hours:g} needed): no recommendation yet"
    return None


def _known_false(value: Any) -> bool:
    """False, and known to be (a missing value is not false)."""
    return value is not None and not bool(pd.isna(value)) and not bool(value)


def _skipped_frame(skipped: dict[str, str], features: pd.DataFrame) -> pd.DataFrame:
    rows = [(rid, features.at[rid, "kind"], features.at[rid, "region"], features.at[rid, "name"], reason)
            for rid, reason in skipped.items()]
    return pd.DataFrame(rows, columns=list(SKIPPED_COLUMNS))


def _recommend(fired: pd.DataFrame, features: pd.DataFrame, rules: dict[str, LoadedRule],
               context: ActionContext) -> tuple[list[Recommendation], dict[str, str]]:
    """Run each fired rule's action handler over all of that rule's resources at once, then build the findings."""
    rows: list[Recommendation] = []
    unresolved: dict[str, str] = {}
    for rule_id, ids in fired.groupby("rule", sort=False)["resource_id"]:
        loaded = rules[str(rule_id)]
        subset = features.loc[ids.to_numpy()]
        handler = handler_for(loaded.rule.action, loaded.rule.kind)
        assert handler is not None, f"no handler for {loaded.rule.action} on {loaded.rule.kind}"  # load_rule_set
        proposals = handler(context, loaded, subset)
        records = subset.to_dict("index")
        floor = loaded.rule.thresholds.get("min_monthly_savings")
        for resource_id, proposal in proposals.items():
            if proposal.blocked:
                unresolved[resource_id] = proposal.blocked
                continue
            row = recommendation.build(loaded, records[resource_id] | {"resource_id": resource_id}, proposal,
                                       context.settings, context.window, context.catalog.price_list_date)
            if floor is not None and row.monthly_savings < floor:
                unresolved[resource_id] = (f"{loaded.id}: {proposal.target} would save ${row.monthly_savings:,.2f}"
                                           f" a month, under the rule's minimum of ${floor:,.2f}")
                continue
            rows.append(row)
    return rows, unresolved
