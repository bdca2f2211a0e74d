"""The parameters each action handler reads from its rule: one pydantic model per handler, declared without the
handlers themselves (and without pandas), so loading a rule pack checks its thresholds at start-up.

Each model is the one declaration of its parameters' names, types, defaults, bounds and descriptions: the handler
reads its values with ``Model.of(rule)``, ``advisor rules explain`` lists them and ``advisor rules schema``
publishes them. The registry (``registry.py``) pairs every handler with its model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from advisor.engine.rules import LoadedRule


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


class AutoStopParameters(Parameters):
    """``add_auto_stop`` on a notebook instance (advisor.engine.actions.basic)."""

    used_hours_per_week: float = Field(50.0, gt=0, le=168, description="hours a week the notebook is assumed to be "
                                       "used (SageMaker publishes no utilization for notebook instances): auto-stop "
                                       "saves the rest")
    running_days_for_medium: float = Field(7.0, gt=0, description="days InService without a stop or start "
                                           "(LastModifiedTime) from which the finding is medium rather than low "
                                           "confidence")


class AcceleratorParameters(Parameters):
    """``rightsize_accelerator`` (advisor.engine.actions.resize)."""

    cpu_only_gpu_p99: float | None = Field(
        None, ge=0, le=100, description="GPU p99 (%) at or under which CPU-only types are offered too (unset: never)")
    cpu_only_gpu_memory_max: float = Field(
        0.0, ge=0, le=100, description="... and GPU memory maximum (%) at or under which they are (measured: a "
        "missing GPU memory metric keeps a GPU)")


class MigrationParameters(Parameters):
    """``migrate_accelerator`` (advisor.engine.actions.resize)."""

    serverless_seconds_per_request: float = Field(
        0.1, gt=0, description="seconds of compute a request is assumed to take on serverless inference (prices the "
                               "serverless option: the model's latency is not read)")
    serverless_usd_per_gb_second: float = Field(
        0.00002, gt=0, description="USD per GB-second of serverless inference compute (AWS's us-east-1 price: "
                                   "$0.0000200 a second at 1 GB; other regions scaled by the catalog's region ratio)")


class AutoscaleParameters(Parameters):
    """``autoscale`` on an endpoint variant (advisor.engine.actions.sagemaker)."""

    target_utilization: float = Field(70.0, gt=0, le=100, description="% of CPU or GPU (p99) each instance may reach "
                                                                      "at the scaling target")
    min_instances: int = Field(1, ge=1, description="the scalable target's minimum capacity")


class VariantParameters(Parameters):
    """``rightsize_variant`` (advisor.engine.actions.sagemaker)."""

    headroom: float = Field(0.0, ge=0, description="fraction added to the variant's p99 invocations (0.2 = +20 %)")
    min_instances: int = Field(2, ge=1, description="the fewest instances a production variant keeps (two: the "
                                                    "availability floor sagemaker-endpoint-single-instance asks for)")


class EarlyStoppingParameters(Parameters):
    """``enable_early_stopping`` on a tuning job (advisor.engine.actions.sagemaker)."""

    share_saved: float = Field(0.5, ge=0, le=1, description="fraction of the lagging jobs' cost early stopping is "
                                                            "assumed to save (an estimate)")


class SpotPoolParameters(Parameters):
    """``use_spot`` on an EC2 instance or a Batch compute environment (advisor.engine.actions.spot)."""

    max_band: float = Field(4, ge=0, le=4, description="the highest Spot interruption band a pool type may be in "
                                                       "(0 = <5 %, 1 = 5-10 %, 2 = 10-15 %, 3 = 15-20 %, 4 = >20 %)")
    pool_size: int = Field(6, ge=1, description="the most types in the Spot pool")
    memory_tolerance: float = Field(0.1, ge=0, le=1, description="a pool type's memory may differ by this fraction "
                                                                 "(0.1 = ±10 %)")
    min_savings_pct: float = Field(0.0, ge=0, le=100, description="% a pool type's Spot price per vCPU must save "
                                                                  "against the current on-demand price per vCPU")


class VolumeParameters(Parameters):
    """``modify_volume`` on an EBS volume (advisor.engine.actions.storage)."""

    iops_headroom: float = Field(0.0, ge=0, description="fraction added to the peak IOPS (0.2 = +20 %)")
    throughput_headroom: float = Field(0.0, ge=0, description="fraction added to the peak throughput (0.2 = +20 %)")
    gp3_max_iops: float | None = Field(None, gt=0, description="IOPS: the most a gp3 target may provision (unset: "
                                                               "gp3's limit in the catalog, 80,000)")
    gp3_max_mibps: float | None = Field(None, gt=0, description="MiB/s: the most a gp3 target may provision (unset: "
                                                                "gp3's limit in the catalog, 2,000)")
