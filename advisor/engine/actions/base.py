"""What an action handler receives and returns, and the registry that maps (action, kind) to a handler.

A handler turns the resources one rule fired on into proposals: the target, the cost after the change and the
action's own evidence. It gets all of the rule's resources at once (a features frame), so the expensive parts can
be vectorized; the pipeline then builds the recommendation rows (confidence, common evidence, rationale).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from advisor.catalog import Catalog
from advisor.engine.stats import SeriesIndex
from advisor.settings import Settings

if TYPE_CHECKING:
    from advisor.engine.rules import LoadedRule


@dataclass
class Proposal:
    """One resource's recommendation as an action handler sees it (money in USD per month, or per run for jobs)."""

    target: str | None = None
    cost_after: float | None = None  # None: unchanged (informational findings)
    cost_now: float | None = None  # None: the features' monthly_cost
    options: list[dict[str, Any]] = field(default_factory=list)
    risk: int | None = None
    projected: dict[str, float] = field(default_factory=dict)
    demand: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)  # merged into the recommendation's evidence
    notes: list[str] = field(default_factory=list)  # plain sentences for evidence["notes"]
    confidence: float | None = None  # 0-1; None: from the history's length and coverage
    price_estimated: bool = False  # OR-ed with the current price's flag
    blocked: str | None = None  # no recommendation after all, and why (reported as a skip reason)


@dataclass
class ActionContext:
    """Everything besides the rule and its rows that a handler may need."""

    catalog: Catalog
    settings: Settings
    window: tuple[pd.Timestamp, pd.Timestamp]
    features: pd.DataFrame  # every analysable resource (to find an endpoint's other variants, ...)
    series: SeriesIndex  # the sorted metrics, for handlers that replay a series (auto scaling)


Handler = Callable[[ActionContext, "LoadedRule", pd.DataFrame], dict[str, Proposal]]
_HANDLERS: dict[tuple[str, str | None], Handler] = {}


def handles(action: str, *kinds: str) -> Callable[[Handler], Handler]:
    """Register a handler for ``action`` on these resource kinds (no kinds: any kind)."""

    def register(func: Handler) -> Handler:
        for kind in kinds or (None,):
            key = (action, None if kind is None else str(kind))
            if key in _HANDLERS:
                raise RuntimeError(f"two handlers for action {action!r} on {kind or 'any kind'}")
            _HANDLERS[key] = func
        return func

    return register


def handler_for(action: str, kind: str) -> Handler | None:
    return _HANDLERS.get((action, str(kind))) or _HANDLERS.get((action, None))


def registered_actions() -> set[str]:
    return {action for action, _ in _HANDLERS}


def supported_kinds(action: str) -> list[str]:
    """Kinds a handler exists for (["any"] for a handler of every kind)."""
    kinds = sorted(kind or "any" for a, kind in _HANDLERS if a == action)
    return ["any"] if "any" in kinds else kinds


def monthly(hourly: float, row: pd.Series | dict[str, Any], count: float | None = None) -> float:
    """Cost of ``hourly`` per unit over the resource's billed hours (730 a month; a job's run) and its count."""
    units = float(row["count"]) if count is None else count
    return float(hourly) * float(row["hours_billed"]) * units
