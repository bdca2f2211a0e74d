"""One settings object for the whole pipeline (CLI flags override the defaults here)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Statistic = Literal["p50", "p90", "p95", "p99", "max"]


class MetricPolicy(BaseModel):
    """How demand for one dimension is read from its history: a statistic plus headroom on top."""

    model_config = ConfigDict(extra="forbid")

    statistic: Statistic
    headroom: float = Field(ge=0.0, le=1.0, description="fraction added on top of the demand, 0.2 = 20 %")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    horizon_days: int = Field(30, ge=1, le=365, description="how far ahead the peak forecast looks")
    min_hours: float = Field(30.0, ge=0, description="resources with less history get no recommendation")
    cpu: MetricPolicy = MetricPolicy(statistic="p99", headroom=0.20)
    memory: MetricPolicy = MetricPolicy(statistic="max", headroom=0.20)
    gpu: MetricPolicy = MetricPolicy(statistic="p99", headroom=0.20)
    gpu_memory: MetricPolicy = MetricPolicy(statistic="max", headroom=0.20)
    network: MetricPolicy = MetricPolicy(statistic="p99", headroom=0.20)
    allow_burstable_targets: bool = Field(False, description="offer t-family types as targets for non-t instances")
    use_forecast: bool = Field(True, description="raise demand to the forecast peak (off = plain percentiles, "
                               "as the reference strategies of the backtest)")
    forecast_cap: Annotated[float, Field(ge=1.0, le=10.0, description="the forecast peak is at most this many times "
                                         "the highest daily peak seen")] = 1.5
    forecast_method: Literal["batched-huber", "sklearn-huber"] = Field(
        "batched-huber",
        description="batched-huber fits every series at once (fast); sklearn-huber fits one "
        "HuberRegressor per series (reference, slow on large fleets)",
    )
    interruptible_tags: dict[str, list[str]] = Field(
        default_factory=lambda: {"workload": ["batch", "stateless"]},
        description="tag key -> values that mark an EC2 instance as interruptible (a Spot candidate); members of "
        "an Auto Scaling group (tag aws:autoscaling:groupName) always are. Values match case-insensitively.",
    )
    rules_dirs: list[Path] = Field(default_factory=list, description="extra rule packs besides the bundled ones")
    disabled_rules: list[str] = Field(default_factory=list)
    rule_overrides: dict[str, dict[str, float]] = Field(default_factory=dict,
                                                        description="rule id -> {threshold: value}")
    include_tags: dict[str, list[str]] = Field(default_factory=dict,
                                               description="analyse only resources with one of these tag values")
    exclude_tags: dict[str, list[str]] = Field(default_factory=dict,
                                               description="leave out resources with any of these tag values")
    discount_ec2_pct: float = Field(0.0, ge=0, le=100, description="% off EC2 on-demand compute (Compute Savings "
                                    "Plans; Batch's instances included; not EBS, not Spot)")
    discount_sagemaker_pct: float = Field(0.0, ge=0, le=100, description="% off SageMaker ML instances (SageMaker "
                                          "Savings Plans; not managed Spot training)")
    discount_families: dict[str, float] = Field(default_factory=dict, description="per-EC2-family % (reserved "
                                                "instances, EC2 Instance Savings Plans); replaces discount_ec2_pct")

    catalog_max_age_days: float = Field(180.0, gt=0, description="a price source older than this many days is "
                                        "flagged in the report and in `advisor catalog info`")

    def policy(self, dimension: str) -> MetricPolicy:
        return getattr(self, dimension)
