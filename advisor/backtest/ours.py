"""``ours``: the advisor's own pipeline (forecast, rules, sizing) exactly as ``advisor audit`` runs it."""

from __future__ import annotations

from collections.abc import Iterable

from advisor.backtest.strategy import Decision, History, Strategy
from advisor.engine.pipeline import audit
from advisor.results import Recommendation
from advisor.settings import Settings, SizingConfig

_SIZING = SizingConfig()


class Ours(Strategy[Settings]):
    """The normal audit on the history before the cut-off; per resource, the finding with a target that saves
    most (a finding without a target, such as "install the CloudWatch agent", is kept but not replayed)."""

    name = "ours"
    summary = ("the advisor's pipeline with the effective settings (by default: robust trend + recurring weekly peak "
               f"forecast, rule packs, CPU {_SIZING.cpu.statistic} + {_SIZING.cpu.headroom_pct:g} % and memory "
               f"{_SIZING.memory.statistic} + {_SIZING.memory.headroom_pct:g} % over the cheapest type that holds "
               "them)")
    settings_model = Settings

    def decide(self, history: History) -> list[Decision]:
        result = audit(history.inventory, history.metrics, history.catalog, self.settings,
                       source_label="backtest", window=history.window)
        return decisions(result.recommendations)


def decisions(recommendations: Iterable[Recommendation]) -> list[Decision]:
    """Per resource, the finding with a target first, then the largest saving (the first of equals)."""
    best: dict[str, Recommendation] = {}
    for rec in sorted(recommendations, key=lambda rec: (rec.target is None, -rec.monthly_savings)):
        best.setdefault(rec.resource_id, rec)
    return [_decision(best[resource_id]) for resource_id in sorted(best)]


def _decision(rec: Recommendation) -> Decision:
    iops = rec.options[0].iops if rec.options else None
    return Decision(
        resource_id=rec.resource_id,
        action=rec.action,
        target=rec.target or None,
        monthly_cost_now=rec.monthly_cost_now,
        monthly_cost_after=rec.monthly_cost_after,
        reason=rec.rule,
        target_iops=iops,
        confidence=rec.confidence,
        upsize=(rec.evidence.model_extra or {}).get("upsize"),
    )
