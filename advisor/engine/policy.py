"""User policy applied around the analysis: tag filters, rule threshold overrides, and negotiated discounts.

Discounts make savings reflect what the user really pays: a flat rate (Savings Plans) and/or per-family rates
(reserved instances, EC2 instance Savings Plans) reduce every on-demand price before costs and savings are
computed. A family rate replaces the flat rate for that family.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from advisor.engine.rules import LoadedRule, ParameterLookup, threshold_problem
from advisor.errors import RuleError
from advisor.results import Option, Recommendation
from advisor.settings import Settings


def filter_by_tags(inventory: pd.DataFrame, metrics: pd.DataFrame, settings: Settings
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep resources matching ``include_tags`` (any listed value of any listed key) and none of ``exclude_tags``."""
    if not settings.filters.include_tags and not settings.filters.exclude_tags:
        return inventory, metrics

    def matches(tags: dict[str, str], wanted: dict[str, list[str]]) -> bool:
        return any(tags.get(key) in values for key, values in wanted.items())

    include, exclude = settings.filters.include_tags, settings.filters.exclude_tags
    keep = [(not include or matches(tags, include)) and not (exclude and matches(tags, exclude))
            for tags in inventory["tags"]]
    kept = inventory[keep].reset_index(drop=True)
    return kept, metrics[metrics["resource_id"].isin(set(kept["resource_id"]))].reset_index(drop=True)


def apply_rule_overrides(rules: list[LoadedRule], overrides: dict[str, dict[str, float]],
                         parameters: ParameterLookup | None = None) -> list[LoadedRule]:
    """Replace named thresholds; an unknown rule id or threshold name is an error, never silently ignored.

    With ``parameters`` (the handlers' parameter models), a parameter the rule's handler declares may be set even
    when the pack leaves it at its default, and every value is checked against the parameter's bounds.
    """
    by_id = {r.id: r for r in rules}
    for rule_id, values in overrides.items():
        if rule_id not in by_id:
            raise RuleError(f"rules.overrides: unknown rule {rule_id!r} (see `advisor rules list`)")
        loaded = by_id[rule_id]
        model = parameters(loaded.rule.action, loaded.rule.kind) if parameters else None
        if model is not None:
            problem = threshold_problem(loaded, model, values)
            if problem:
                raise RuleError(f"rules.overrides.{rule_id}.{problem[0]}: {problem[1]}")
            continue
        known = loaded.rule.thresholds
        for name in values:
            if name not in known:
                allowed = ", ".join(sorted(known)) or "none"
                raise RuleError(f"rules.overrides.{rule_id}: unknown threshold {name!r} (this rule has: {allowed})")
    result = []
    for loaded in rules:
        changed = overrides.get(loaded.id)
        if changed:
            rule = loaded.rule.model_copy(update={"thresholds": {**loaded.rule.thresholds, **changed}})
            loaded = replace(loaded, rule=rule)
        result.append(loaded)
    return result


def discount_rate(instance_type: object, settings: Settings) -> float:
    """The fraction off on-demand for a type: its family's rate when set, else the flat rate."""
    if not isinstance(instance_type, str) or not instance_type or instance_type in ("stop", "terminate"):
        return settings.discount_flat_pct / 100
    family = instance_type.removeprefix("ml.").split(".")[0]
    return settings.discount_families.get(family, settings.discount_flat_pct) / 100


def has_discounts(settings: Settings) -> bool:
    return bool(settings.discount_flat_pct or settings.discount_families)


def apply_discounts(recommendations: list[Recommendation], features: pd.DataFrame, settings: Settings
                    ) -> tuple[list[Recommendation], pd.DataFrame]:
    """Costs and savings at the user's effective prices (recommendations, options and the features' costs)."""
    if not has_discounts(settings):
        return recommendations, features
    features = features.copy()
    features["monthly_cost"] = features["monthly_cost"] * [1 - discount_rate(t, settings)
                                                           for t in features["instance_type"]]
    note = _note(settings)
    return [_discounted(rec, settings, note) for rec in recommendations], features


def _discounted(rec: Recommendation, settings: Settings, note: str) -> Recommendation:
    cost_now = round(rec.monthly_cost_now * (1 - discount_rate(rec.current, settings)), 2)
    cost_after = round(rec.monthly_cost_after * (1 - discount_rate(rec.target or rec.current, settings)), 2)
    return rec.model_copy(update={
        "monthly_cost_now": cost_now,
        "monthly_cost_after": cost_after,
        "monthly_savings": round(cost_now - cost_after, 2),
        "options": [_discount_option(option, cost_now, settings) for option in rec.options],
        "evidence": rec.evidence.model_copy(update={"notes": [*rec.evidence.notes, note]}),
    })


def _discount_option(option: Option, cost_now: float, settings: Settings) -> Option:
    factor = 1 - discount_rate(option.instance_type, settings)
    changes: dict[str, float] = {}
    if option.monthly_cost is not None:  # unpriced options (serverless) stay unpriced
        changes["monthly_cost"] = round(option.monthly_cost * factor, 2)
        changes["monthly_savings"] = round(cost_now - changes["monthly_cost"], 2)
    if option.hourly_price is not None:
        changes["hourly_price"] = round(option.hourly_price * factor, 4)
    return option.updated(**changes) if changes else option


def _note(settings: Settings) -> str:
    parts = []
    if settings.discount_flat_pct:
        parts.append(f"{settings.discount_flat_pct:g} % off on-demand")
    parts += [f"{family} {pct:g} %" for family, pct in sorted(settings.discount_families.items())]
    return "Costs use your discounts (" + ", ".join(parts) + ") from the configuration."
