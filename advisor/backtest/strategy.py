"""What a strategy is: a small class with typed, described settings that turns a history into decisions.

A strategy sees only the history before the cut-off (:class:`History`) and returns at most one
:class:`Decision` per resource: the type (or stop) it would move the resource to and what that saves.
The replay then judges every decision against the demand that came later.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

import pandas as pd
from pydantic import BaseModel

from advisor.catalog import Catalog
from advisor.engine.features import build_features
from advisor.settings import Settings, SizingConfig, setting_fields


@dataclass(frozen=True)
class Decision:
    """One resource's advice: ``target`` is an instance type, a volume type, or stop/terminate/delete."""

    resource_id: str
    action: str
    target: str | None  # None: the advice changes no capacity (e.g. install an agent), nothing to replay
    monthly_cost_now: float
    monthly_cost_after: float
    reason: str  # the rule id or the strategy's own reason
    target_iops: float | None = None  # volumes: the IOPS the target provides, when the advice says
    confidence: str | None = None  # the advice's own confidence band (high, medium, low), when it states one
    # why the advice adds capacity, as the strategy states it: {"cause": ..., "dimensions": {dim: {"cause": ...,
    # "headroom": ...}}} (see advisor.engine.evidence.upsize_causes); None when it states none
    upsize: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def monthly_savings(self) -> float:
        return round(self.monthly_cost_now - self.monthly_cost_after, 2)


@dataclass
class History:
    """What a strategy may look at: the inventory and the metrics before the cut-off."""

    inventory: pd.DataFrame
    metrics: pd.DataFrame
    catalog: Catalog
    window: tuple[pd.Timestamp, pd.Timestamp]

    @cached_property
    def features(self) -> pd.DataFrame:
        """Specs, prices and plain statistics per resource (no forecast), shared by the reference strategies."""
        return build_features(self.inventory, self.metrics, self.catalog,
                              Settings(sizing=SizingConfig(use_forecast=False)), self.window)


S = TypeVar("S", bound=BaseModel)


class Strategy(ABC, Generic[S]):
    """Base class: ``name`` is what ``--strategy`` takes; ``settings_model`` types and describes the settings."""

    name: ClassVar[str]
    summary: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]

    def __init__(self, settings: S | None = None) -> None:
        self.settings: S = settings if settings is not None else self.settings_model()  # type: ignore[assignment]

    @abstractmethod
    def decide(self, history: History) -> list[Decision]:
        """At most one decision per resource."""

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Name, summary and each setting (a nested one by its dotted key) with its default and description."""
        return {
            "name": cls.name,
            "summary": cls.summary,
            "settings": {found.key: {"default": found.default, "description": found.description}
                         for found in setting_fields(cls.settings_model)},
        }
