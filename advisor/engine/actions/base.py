"""What an action handler receives and returns, and the registry that maps (action, kind) to a handler.

A handler turns the resources one rule fired on into proposals: the target, the cost after the change and the
action's own evidence. It gets all of the rule's resources at once (a features frame), so the expensive parts can
be vectorized; the pipeline then builds the recommendation rows (confidence, common evidence, rationale).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

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


class Parameters(BaseModel):
    """The thresholds a handler reads from its rule (besides the names the rule's condition uses).

    Each handler declares a subclass: name, type, default, bounds and description of every parameter. Loading a
    rule pack checks the rule's ``thresholds`` against it, so a misspelt name is an error, never a silent default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_monthly_savings: float | None = Field(
        None, ge=0, description="USD a month: a finding that saves less is dropped and the resource is reported as "
                                "skipped (every action)")

    @classmethod
    def of(cls: type[P], rule: LoadedRule) -> P:
        """The rule's values for this model's parameters, the defaults for the others."""
        return cls.model_validate({k: v for k, v in rule.rule.thresholds.items() if k in cls.model_fields})


P = TypeVar("P", bound=Parameters)
Handler = Callable[[ActionContext, "LoadedRule", pd.DataFrame], dict[str, Proposal]]
_HANDLERS: dict[tuple[str, str | None], tuple[Handler, type[Parameters]]] = {}


def handles(action: str, *kinds: str, parameters: type[Parameters] = Parameters) -> Callable[[Handler], Handler]:
    """Register a handler for ``action`` on these resource kinds (no kinds: any kind) and the parameters it reads."""

    def register(func: Handler) -> Handler:
        for kind in kinds or (None,):
            key = (action, None if kind is None else str(kind))
            if key in _HANDLERS:
                raise RuntimeError(f"two handlers for action {action!r} on {kind or 'any kind'}")
            _HANDLERS[key] = (func, parameters)
        return func

    return register


def _entry(action: str, kind: str) -> tuple[Handler, type[Parameters]] | None:
    return _HANDLERS.get((action, str(kind))) or _HANDLERS.get((action, None))


def handler_for(action: str, kind: str) -> Handler | None:
    entry = _entry(action, kind)
    return entry[0] if entry else None


def parameters_for(action: str, kind: str) -> type[Parameters] | None:
    """The parameter model of the handler of ``action`` on ``kind`` (None: no such handler)."""
    entry = _entry(action, kind)
    return entry[1] if entry else None


def handler_parameters() -> list[tuple[str, str | None, type[Parameters]]]:
    """(action, kind or None for any kind, parameter model) of every registered handler, sorted."""
    return sorted(((a, k, entry[1]) for (a, k), entry in _HANDLERS.items()), key=lambda e: (e[0], e[1] or ""))


def registered_actions() -> set[str]:
    return {action for action, _ in _HANDLERS}


def supported_kinds(action: str) -> list[str]:
    """Kinds a handler exists for (["any"] for a handler of every kind)."""
    kinds = sorted(kind or "any" for a, kind in _HANDLERS if a == action)
    return ["any"] if "any" in kinds else kinds


def resources(rows: pd.DataFrame) -> Iterator[tuple[str, pd.Series]]:
    """Each of a rule's resources: its id (the frame's index) and its features row."""
    for resource_id, row in rows.iterrows():
        yield str(resource_id), row


def monthly(hourly: float, row: pd.Series | dict[str, Any], count: float | None = None) -> float:
    """Cost of ``hourly`` per unit over the resource's billed hours a month (730; a job's run x its runs a month)
    and its count."""
    units = float(row["count"]) if count is None else count
    return float(hourly) * float(row["hours_billed"]) * units
