"""The audit: inventory + metrics -> features -> rules -> action handlers -> recommendations (a pure function)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from advisor import kinds
from advisor.catalog import Catalog
from advisor.engine import ownership, pricing, recommendation
from advisor.engine.actions import handler_for
from advisor.engine.actions.base import ActionContext
from advisor.engine.features import build_features, sample_needs
from advisor.engine.policy import discounts, filter_by_tags, not_cash
from advisor.engine.rules import LoadedRule, evaluate_rules
from advisor.engine.ruleset import load_rule_set
from advisor.engine.samples import SampleSummary, summarize
from advisor.hourly import HourlyBuckets
from advisor.model import METRICS_COLUMNS, SKIPPED_COLUMNS, AuditResult
from advisor.results import Recommendation
from advisor.settings import Settings

_NO_SAMPLES = pd.DataFrame(columns=list(METRICS_COLUMNS))


@dataclass
class Analysis:
    """The audit up to the rules: features of every resource, the skip reasons, and which rules fired on what."""

    inventory: pd.DataFrame
    metrics: pd.DataFrame  # the long frame (empty when a source gave its summary instead)
    window: tuple[pd.Timestamp, pd.Timestamp]
    features: pd.DataFrame
    skipped: dict[str, str]
    fired: pd.DataFrame  # rule, resource_id
    rules: dict[str, LoadedRule]
    context: ActionContext  # over the analysable resources
    hourly: HourlyBuckets | None = None  # the drill-down series a streaming source built (else from ``metrics``)


def analyse(inventory: pd.DataFrame, metrics: pd.DataFrame | SampleSummary, catalog: Catalog, settings: Settings,
            rules: list[LoadedRule], window: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> Analysis:
    """The features of every resource and which rules fired, priced at the discounts the settings give.

    ``metrics`` is the long frame, or a source's summary of it (``samples.merge`` over ``window`` with
    ``features.sample_needs(settings)``)."""
    catalog = catalog.discounted(discounts(settings))
    if isinstance(metrics, SampleSummary):
        summary, metrics = metrics, _NO_SAMPLES
        before = len(inventory)
        inventory, _ = filter_by_tags(inventory, metrics, settings)
        summary = summary.only(inventory["resource_id"]) if len(inventory) < before else summary
        window = window or summary.window
    else:
        inventory, metrics = filter_by_tags(inventory, metrics, settings)
        window = window or _window_of(metrics)
        summary = summarize(metrics, window, sample_needs(settings))
    features = build_features(inventory, summary, catalog, settings, window)
    skipped = _skip_reasons(features, settings)
    analysable = features.drop(index=list(skipped))
    fired = evaluate_rules(rules, analysable)
    context = ActionContext(catalog=catalog, settings=settings, window=window, features=analysable,
                            series=summary.replay)
    return Analysis(inventory, metrics, window, features, skipped, fired, {r.id: r for r in rules}, context,
                    summary.hourly)


def findings(analysis: Analysis, settings: Settings | None = None,
             rule_ids: Iterable[str] | None = None) -> tuple[list[Recommendation], dict[str, str]]:
    """The findings of the fired rules (only ``rule_ids`` when given), sized with ``settings`` (those of the
    analysis by default; the features do not depend on headroom, so calibration re-sizes from one analysis).
    Returns the discounted findings and, per resource, why a fired rule gave none."""
    context = analysis.context if settings is None else replace(analysis.context, settings=settings)
    fired = analysis.fired if rule_ids is None else analysis.fired[analysis.fired["rule"].isin(list(rule_ids))]
    found, unresolved = _recommend(fired, context.features, analysis.rules, context)
    return found, unresolved


def audit(inventory: pd.DataFrame, metrics: pd.DataFrame | SampleSummary, catalog: Catalog,
          settings: Settings | None = None, rules: list[LoadedRule] | None = None, source_label: str = "",
          window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
          problems: Iterable[str] = (), now: datetime | None = None) -> AuditResult:
    """``metrics`` as :func:`analyse` takes it; ``now`` dates the result (and so the age of its price sources),
    the current time by default."""
    settings = settings or Settings()
    rules = load_rule_set(settings) if rules is None else rules
    return audit_of(analyse(inventory, metrics, catalog, settings, rules, window), source_label, problems, now=now)


def audit_of(analysis: Analysis, source_label: str = "", problems: Iterable[str] = (),
             settings: Settings | None = None, now: datetime | None = None) -> AuditResult:
    """The audit's result from an analysis (with other sizing ``settings`` than the analysis', when given)."""
    settings = settings or analysis.context.settings
    found, unresolved = findings(analysis, settings)
    features = analysis.features
    recommendations = sorted(found, key=lambda rec: (-rec.monthly_savings, rec.resource_id))
    with_findings = {rec.resource_id for rec in recommendations}
    skipped = dict(analysis.skipped)
    for resource_id, reason in unresolved.items():
        if resource_id not in with_findings:
            skipped.setdefault(resource_id, reason)
    return AuditResult(
        recommendations=recommendations,
        skipped=_skipped_frame(skipped, features),
        inventory=analysis.inventory,
        features=features,
        metrics=analysis.metrics,
        hourly=analysis.hourly,
        window_start=analysis.window[0],
        window_end=analysis.window[1],
        price_list_date=analysis.context.catalog.price_list_date,
        source_label=source_label,
        catalog_sources=analysis.context.catalog.sources,
        rules=[{"id": r.id, "title": r.rule.title, "kind": r.rule.kind, "action": r.rule.action,
                "condition": r.describe_condition(), "file": r.path.name} for r in analysis.rules.values()],
        settings=settings.model_dump(mode="json"),
        problems=list(problems),
        generated_at=now or datetime.now(UTC),
    )


def _window_of(metrics: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    if metrics.empty:
        now = pd.Timestamp.now(tz="UTC").floor("h")
        return now - pd.Timedelta(days=14), now
    return metrics["timestamp"].min(), metrics["timestamp"].max()


def _skip_reasons(features: pd.DataFrame, settings: Settings) -> dict[str, str]:
    """Resources that get no recommendation, with the reason stated (never a guess)."""
    gates = {k.history_only_if for k in kinds.all_kinds() if k.history_only_if}
    columns = ["kind", "operator", "instance_type", "vcpus", "hourly_price", "unpriced_reason", "region", "state",
               "count", "hours_observed", *sorted(gates)]
    reasons: dict[str, str] = {}
    for resource_id, row in features[columns].to_dict("index").items():
        reason = _skip_reason(kinds.get(row["kind"]), row, settings)
        if reason:
            reasons[str(resource_id)] = reason
    return reasons


def _skip_reason(kind: kinds.ResourceKind, row: dict, settings: Settings) -> str | None:
    """The first reason: an AWS service operates it; then, in the kind's declared order: type and price, state,
    history."""
    if isinstance(row["operator"], str) and row["operator"]:
        return ownership.operated_reason(row["operator"])
    if kind.service is not None:
        if not row["instance_type"] or pd.isna(row["instance_type"]):
            return "no instance type in the inventory"
        if pd.isna(row["vcpus"]):
            return f"instance type {row['instance_type']} is not in the catalog"
        if pd.isna(row["hourly_price"]):
            reason = row["unpriced_reason"]
            return reason if isinstance(reason, str) and reason else \
                f"no price for {row['instance_type']} in {row['region']} in the catalog"
    if kind.unpriced_reason and pd.isna(row["hourly_price"]):
        return kind.unpriced_reason.format_map(row)
    if not kind.is_active(row["state"]):
        return kind.inactive_reason.format_map(row)
    if kind.pricing == "instance" and row["count"] <= 0:
        return "no instances running (count 0): nothing is billed now"
    if not kind.needs_history or (kind.history_only_if and _known_false(row[kind.history_only_if])):
        return None
    hours = row["hours_observed"]
    if pd.isna(hours):
        return "no metrics at all for this resource" + (f": {kind.no_metrics_reason}" if kind.no_metrics_reason
                                                         else "")
    needed = settings.sizing.min_hours
    if hours < needed:
        return f"only {hours:.1f} hours of metrics (at least {needed:g} needed): no recommendation yet"
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
        records = _records(subset.loc[[rid for rid, proposal in proposals.items() if not proposal.blocked]])
        floor = loaded.rule.thresholds.get("min_monthly_savings")
        for resource_id, proposal in proposals.items():
            if proposal.blocked:
                unresolved[resource_id] = proposal.blocked
                continue
            record = records[resource_id] | {"resource_id": resource_id}
            dates = context.catalog.price_dates(pricing.figures(record, loaded.rule.action))
            row = recommendation.build(loaded, record, proposal, context.settings, context.window,
                                       context.catalog.price_list_date, dates)
            if floor is not None and row.monthly_savings < floor:
                unresolved[resource_id] = (f"{loaded.id}: {proposal.target} would save ${row.monthly_savings:,.2f}"
                                           f" a month, under the rule's minimum of ${floor:,.2f}")
                continue
            paid, owner = records[resource_id]["paid_capacity"], records[resource_id]["managed_by"]
            row = not_cash(row, paid) if isinstance(paid, str) else row
            rows.append(ownership.addressed_to(row, owner) if isinstance(owner, str) else row)
    return rows, unresolved


def _records(rows: pd.DataFrame) -> dict[Hashable, dict[Hashable, Any]]:
    """``rows.to_dict("index")``, built from one object array (pandas boxes cell by cell: 6 x slower here). A
    missing value of a nullable column is None, as ``to_dict`` gives it."""
    values = rows.to_numpy(dtype=object)
    for j, dtype in enumerate(rows.dtypes):
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(dtype, pd.DatetimeTZDtype):
            column = values[:, j]
            column[[value is pd.NA for value in column]] = None
    columns: list[Hashable] = list(rows.columns)
    return {rid: dict(zip(columns, row, strict=True)) for rid, row in zip(rows.index, values, strict=True)}
