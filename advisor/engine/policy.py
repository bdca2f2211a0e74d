"""User policy applied around the analysis: tag filters, rule threshold overrides, and negotiated discounts.

Discounts make savings reflect what the user really pays. Each applies only to what it covers (Compute Savings
Plans: EC2 on-demand compute, Batch's instances included; SageMaker Savings Plans: SageMaker ML instances; reserved
instances: their EC2 family) and is applied when prices are computed (``Catalog.discounted``), so every rule's
minimum saving is checked on the discounted figures; EBS and Spot keep their public prices.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from advisor.engine.rules import LoadedRule, ParameterLookup, threshold_problem
from advisor.errors import RuleError
from advisor.settings import Settings

if TYPE_CHECKING:  # rule overrides are applied at start-up (advisor rules list): no frames, no results yet
    import pandas as pd

    from advisor.catalog import Discounts
    from advisor.results import Recommendation


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


def discounts(settings: Settings) -> Discounts:
    """The configured discounts, each for its own scope (EC2 compute, SageMaker, EC2 families)."""
    from advisor.catalog import Discounts  # the catalog package loads pandas

    return Discounts.of(settings.discounts.ec2_pct, settings.discounts.sagemaker_pct, settings.discounts.families)


def not_cash(rec: Recommendation, paid: str) -> Recommendation:
    """A saving on capacity already paid for (``paid``: a Capacity Block, a capacity reservation, a Dedicated Host,
    an Outposts rack, a training plan) is not cash: the change frees that capacity, the bill stays until the
    reservation itself is cancelled or resized. The finding keeps its advice with no saving and states the capacity
    freed; cost increases stay as they are."""
    freed = rec.monthly_savings
    if freed <= 0:
        return rec
    note = (f"Runs on capacity already paid for ({paid}): this change frees ${freed:,.2f} a month of that capacity "
            "for other work but does not cut the bill; cancel or resize the reservation to save.")
    evidence = rec.evidence.model_copy(update={
        "notes": [*rec.evidence.notes, note],
        "reserved_capacity": {"paid_for": paid, "cash_saving": False, "capacity_freed_monthly": freed}})
    options = [option.updated(monthly_savings=0.0, capacity_freed=option.monthly_savings)
               if option.monthly_savings is not None and option.monthly_savings > 0 else option
               for option in rec.options]
    return rec.model_copy(update={"monthly_cost_after": rec.monthly_cost_now, "monthly_savings": 0.0,
                                  "evidence": evidence, "options": options})
