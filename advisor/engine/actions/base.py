"""What an action handler receives and returns (``registry.py`` maps (action, kind) to a handler).

A handler turns the resources one rule fired on into proposals: the target, the cost after the change and the
action's own evidence. It gets all of the rule's resources at once (a features frame), so the expensive parts can
be vectorized; the pipeline then builds the recommendation rows (confidence, common evidence, rationale).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
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
    """One resource's recommendation as an action handler sees it (money in USD per month; a job's at its run
    rate, features ``runs_per_month``)."""

    target: str | None = None
    cost_after: float | None = None  # None: unchanged (informational findings)
    cost_now: float | None = None  # None: the features' monthly_cost
    options: list[dict[str, Any]] = field(default_factory=list)
    risk: int | None = None
    projected: dict[str, float] = field(default_factory=dict)
    demand: Mapping[str, float | None] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)  # merged into the recommendation's evidence
    notes: list[str] = field(default_factory=list)  # plain sentences for evidence["notes"]
    confidence: float | None = None  # 0-1; None: from the history's length and coverage
    confidence_cap: float = 1.0  # at most this, however long the history (a censored peak: medium)
    price_estimated: bool = False  # OR-ed with the current price's flag
    blocked: str | None = None  # no recommendation after all, and why (reported as a skip reason)


@dataclass
class ActionContext:
    """Everything besides the rule and its rows that a handler may need."""

    catalog: Catalog
    settings: Settings
    window: tuple[pd.Timestamp, pd.Timestamp]
    features: pd.DataFrame  # every analysable resource (to find an endpoint's other variants, ...)
    series: SeriesIndex  # full series of the metrics handlers replay (features.sample_needs: invocations)


Handler = Callable[[ActionContext, "LoadedRule", pd.DataFrame], dict[str, Proposal]]


def resources(rows: pd.DataFrame) -> Iterator[tuple[str, pd.Series]]:
    """Each of a rule's resources: its id (the frame's index) and its features row."""
    for resource_id, row in rows.iterrows():
        yield str(resource_id), row


def monthly(hourly: float, row: pd.Series | dict[str, Any], count: float | None = None) -> float:
    """Cost of ``hourly`` per unit over the resource's billed hours a month (730; a job's run x its runs a month)
    and its count."""
    units = float(row["count"]) if count is None else count
    return float(hourly) * float(row["hours_billed"]) * units
