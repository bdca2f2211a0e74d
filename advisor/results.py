"""The typed result of an audit: recommendations (with their options and evidence) and the summary figures.

The engine builds each :class:`Recommendation` once; the exports, the history, the terminal and the HTML report
each map from these objects in one place. Serialised with ``model_dump(mode="json")``, they give the published
JSON of ``recommend --format json`` and ``recommendations.json`` field for field, in the same order.

Options and evidence carry a typed core (what generic code reads) and the action's own fields as extras: an EBS
option states a volume type and IOPS, a spot option an interruption band, and the evidence of a spot move its pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    field_serializer,
    model_serializer,
    model_validator,
)

Confidence = Literal["high", "medium", "low"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Option(BaseModel):
    """One way to act on a finding (a target type, a volume, a spot pool, a serverless variant), ranked.

    The typed fields are those generic code reads; an action adds its own (``volume_type``, ``interruption``, …).
    Fields are written in the order the action stated them, and only those it stated.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    instance_type: str | None = None
    label: str | None = None
    hourly_price: float | None = None
    monthly_cost: float | None = None
    monthly_savings: float | None = None
    projected_utilization: dict[str, float] | None = None
    risk: int | None = None
    vcpus: int | None = None
    memory_gib: float | None = None
    gpus: float | None = None
    gpu_memory_gib: float | None = None
    iops: float | None = None
    price_estimated: bool | None = None
    rank: int | None = None
    _order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _keep_order(cls, data: Any, handler: ModelWrapValidatorHandler[Option]) -> Option:
        option = handler(data)
        if isinstance(data, dict):
            option._order = tuple(data)
        return option

    @model_serializer(mode="wrap")
    def _in_order(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        stated = self.model_fields_set | set(self.model_extra or {})
        ordered = {key: data[key] for key in self._order if key in data}
        return ordered | {key: value for key, value in data.items() if key in stated and key not in ordered}

    def updated(self, **changes: Any) -> Option:
        """A copy with some fields changed (new fields go last)."""
        return Option.model_validate(self.model_dump() | changes)


class MetricStats(_Frozen):
    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None


class MetricForecast(_Frozen):
    trend_per_day: float | None = None
    trend_significant: bool = False
    forecast: float | None = None
    upper: float | None = None
    weekly_peak: float | None = None
    horizon_days: int
    demand_raised_by: float = 0.0  # points of capacity the forecast added to the statistic's demand
    held_at_capacity: bool = False  # the forecast went above what the current capacity holds; demand held there


class PolicyUsed(_Frozen):
    statistic: str
    headroom: float


class Capacity(_Frozen):
    vcpus: float | None = None
    memory_gib: float | None = None
    gpus: float | None = None
    gpu_memory_gib: float | None = None


class Evidence(BaseModel):
    """What a finding rests on: the data window, the statistics and forecast, the rule, the sizing policy.

    An action adds its own sections after these (``spot``, ``volume``, ``autoscaling``, …).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    window: str = ""
    hours_observed: float | None = None
    days_observed: float | None = None
    coverage: float | None = None
    datapoints: dict[str, int] = {}
    stats: dict[str, MetricStats] = {}
    forecast: dict[str, MetricForecast] = {}
    rule: str = ""
    rule_file: str = ""
    condition: str = ""
    thresholds: dict[str, float] = {}
    policy: dict[str, PolicyUsed] = {}
    demand: dict[str, float | None] = {}
    capacity: Capacity = Capacity()
    notes: list[str] = []


class Recommendation(_Frozen):
    """One finding on one resource; money in USD per month (a job's: its run's cost at the window's run rate, see
    ``evidence.run_rate``)."""

    resource_id: str
    kind: str
    account: str
    region: str
    name: str
    tags: dict[str, str] = {}
    rule: str
    title: str
    action: str
    severity: str
    current: str = ""
    target: str | None = None
    monthly_cost_now: float
    monthly_cost_after: float
    monthly_savings: float
    confidence: Confidence
    confidence_score: float
    risk: int | None = None  # 0 (very low) to 4 (very high)
    projected_utilization: dict[str, float] = {}
    evidence: Evidence = Evidence()
    rationale: str = ""
    options: list[Option] = []
    price_estimated: bool = False
    price_list_date: str | None = None
    price_dates: dict[str, str | None] = {}  # each price source behind the figures -> its date (None: undated)

    @field_serializer("risk")
    def _risk_as_number(self, risk: int | None) -> float | None:
        """Written as a number (``1.0``), as the JSON has always carried it."""
        return None if risk is None else float(risk)


RECOMMENDATION_FIELDS = tuple(Recommendation.model_fields)


class BandRate(_Frozen):
    """One confidence band: the advice of that band judged and held in the backtest, and the probability that
    every finding of the band carries as its ``confidence_score``."""

    band: Confidence
    backtest_judged: int
    backtest_held: int
    fleet_judged: int | None = None  # on the replay of the user's own history (calibration), when it ran
    fleet_held: int | None = None
    probability: float


class ConfidenceBands(_Frozen):
    """Where the confidence scores come from (see :mod:`advisor.engine.confidence`)."""

    source: str
    measured: str
    fleet: bool  # the user's own replay counted
    bands: list[BandRate]

    def probability(self, band: str) -> float:
        return next(b.probability for b in self.bands if b.band == band)


class CalibrationPoint(_Frozen):
    """One headroom pair replayed on the user's history: the savings it kept and the resources it hurt."""

    cpu_headroom: float
    memory_headroom: float
    hurt: int
    hurt_share: float
    savings_kept: float  # monthly, advice that held
    added_cost: float  # monthly, upsizes
    net_savings: float
    recommendations: int

    def headroom(self) -> dict[str, float]:
        return {"cpu": self.cpu_headroom, "memory": self.memory_headroom}


class HoldCount(_Frozen):
    judged: int
    held: int
    hold_rate: float


class Calibration(_Frozen):
    """What calibration chose and why (status ``defaults``: not enough history or resources, see ``reason``)."""

    status: Literal["calibrated", "defaults"]
    reason: str
    risk_budget: float
    history_days: float
    headroom: dict[str, float]  # what the audit sized with, per dimension
    defaults: dict[str, float]  # the configured headroom
    fixed: list[str] = []  # dimensions the user set, used as set
    split: dict[str, Any] | None = None
    resources: int = 0  # replayed resources (with data after the cut-off)
    sampled_from: int | None = None  # the fleet's size when a sample was replayed
    chosen: CalibrationPoint | None = None
    at_defaults: CalibrationPoint | None = None
    tighter: CalibrationPoint | None = None  # at half the budget
    looser: CalibrationPoint | None = None  # at twice the budget
    hold_rate_by_confidence: dict[str, HoldCount] = {}  # at the chosen point
    points: list[CalibrationPoint] = []

    @property
    def calibrated(self) -> bool:
        return self.status == "calibrated"

    def frontier(self) -> list[CalibrationPoint]:
        """The points no other beats on both axes (no more hurt and more savings), by hurt share."""
        best: list[CalibrationPoint] = []
        for point in sorted(self.points, key=lambda p: (p.hurt_share, -p.net_savings)):
            if not best or point.net_savings > best[-1].net_savings + 1e-9:
                best.append(point)
        return best


def recommendations_frame(recommendations: Sequence[Recommendation]) -> pd.DataFrame:
    """One row per recommendation, one column per field (options and evidence as plain dicts)."""
    return pd.DataFrame([rec.model_dump() for rec in recommendations], columns=list(RECOMMENDATION_FIELDS))


class CostIncreases(_Frozen):
    monthly: float
    count: int


class TopSaving(_Frozen):
    resource_id: str
    name: str
    action: str
    current: str
    target: str
    monthly_savings: float
    confidence: str


class CoverageFigures(_Frozen):
    resources: int
    without_metrics: int
    share_well_covered: float
    median: float


class Coverage(CoverageFigures):
    threshold: float
    by_kind: dict[str, CoverageFigures]


class ReasonGroup(_Frozen):
    reason: str
    count: int
    examples: list[str]


class Summary(_Frozen):
    """The headline figures of one audit (see :mod:`advisor.report.summary` for how each is counted)."""

    source_label: str
    generated_at: str | None
    window_start: str | None
    window_end: str | None
    price_list_date: str
    currency: str = "USD"
    pricing: str = "on-demand"  # what the money is priced at: on-demand, or on-demand less the discounts listed
    discounts: list[str] = []  # each discount applied, with its scope
    price_warnings: list[str] = []  # price sources older than [catalog] max_age_days when the audit ran
    resources_analysed: int
    resources_skipped: int
    recommendations: int
    monthly_spend_covered: float
    total_monthly_savings: float
    total_annual_savings: float
    resources_with_savings: int
    overlapping_findings: int
    cost_increases: CostIncreases
    savings_by_action: dict[str, float]
    savings_by_region: dict[str, float]
    savings_by_account: dict[str, float]
    savings_by_confidence: dict[str, float]
    group_tag: str
    savings_by_tag: dict[str, float]
    top_savings: list[TopSaving]
    prices_estimated: bool
    coverage: Coverage | None
    skipped_reasons: list[ReasonGroup]
    problems: list[str]
    problem_groups: list[ReasonGroup]
