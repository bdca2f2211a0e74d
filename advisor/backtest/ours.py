"""``ours``: the advisor's own pipeline (forecast, rules, sizing) exactly as ``advisor audit`` runs it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from advisor.backtest.strategy import Decision, History, Strategy
from advisor.engine.pipeline import audit
from advisor.settings import Settings


class Ours(Strategy[Settings]):
    """The normal audit on the history before the cut-off; per resource, the finding with a target that saves
    most (a finding without a target, such as "install the CloudWatch agent", is kept but not replayed)."""

    name = "ours"
    summary = ("the advisor's pipeline with its default settings: robust trend + recurring weekly peak forecast, "
               "rule packs, CPU p99 + 20 % and memory max + 20 % over the cheapest type that holds them")
    settings_model = Settings

    def decide(self, history: History) -> list[Decision]:
        result = audit(history.inventory, history.metrics, history.catalog, self.settings,
                       source_label="backtest", window=history.window)
        recs = result.recommendations
        if recs.empty:
            return []
        recs = recs.assign(_has_target=recs["target"].notna())
        recs = recs.sort_values(["resource_id", "_has_target", "monthly_savings"], ascending=[True, False, False],
                                kind="stable")
        return [_decision(row) for row in recs.drop_duplicates("resource_id").to_dict("records")]


def _decision(row: dict[str, Any]) -> Decision:
    target = row["target"] if isinstance(row["target"], str) and row["target"] else None
    options = row["options"] if isinstance(row["options"], list) else []
    iops = options[0].get("iops") if options and isinstance(options[0], dict) else None
    return Decision(
        resource_id=str(row["resource_id"]),
        action=str(row["action"]),
        target=target,
        monthly_cost_now=float(row["monthly_cost_now"]),
        monthly_cost_after=float(row["monthly_cost_after"]),
        reason=str(row["rule"]),
        target_iops=None if iops is None or pd.isna(iops) else float(iops),
    )
