"""The contracts between the pipeline's steps: frame columns, kinds, metrics and the audit's result.

A source yields an *inventory* frame (one row per resource) and a *metrics* frame (long format, one row per
sample). Everything downstream is a pure function of those two frames, the rule packs, the catalog and the
settings. See ``../shared/DESIGN.md`` §2 and the README's "file source" section.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from advisor import kinds as registry
from advisor.errors import SourceError

if TYPE_CHECKING:  # the frames' libraries load where frames are built: the names above are read at start-up
    import pandas as pd

    from advisor.hourly import HourlyBuckets
    from advisor.results import Calibration, ConfidenceBands, Recommendation

HOURS_PER_MONTH = 730.0


class Kind(StrEnum):
    """The bundled resource kinds' ids (each is declared in ``advisor.kinds``, which generic code reads)."""

    EC2_INSTANCE = "ec2_instance"
    EBS_VOLUME = "ebs_volume"
    SAGEMAKER_ENDPOINT = "sagemaker_endpoint"
    SAGEMAKER_TRAINING_JOB = "sagemaker_training_job"
    SAGEMAKER_NOTEBOOK = "sagemaker_notebook"
    SAGEMAKER_TUNING_JOB = "sagemaker_tuning_job"
    BATCH_COMPUTE_ENVIRONMENT = "batch_compute_environment"


class Metric(StrEnum):
    """Canonical metrics; units are fixed whatever the source reported (DESIGN §2)."""

    CPU = "cpu"  # % of all vCPUs, 0-100
    MEMORY = "memory"  # % used, 0-100
    GPU = "gpu"  # % averaged over the GPUs, 0-100
    GPU_MEMORY = "gpu_memory"  # % used, 0-100
    GPU_MEMORY_BUSIEST = "gpu_memory_busiest"  # % used of the fullest GPU's memory, 0-100 (per-device sizing)
    NETWORK_IN = "network_in"  # bytes/s
    NETWORK_OUT = "network_out"  # bytes/s
    READ_IOPS = "read_iops"  # ops/s
    WRITE_IOPS = "write_iops"  # ops/s
    READ_BYTES = "read_bytes"  # bytes/s
    WRITE_BYTES = "write_bytes"  # bytes/s
    BURST_BALANCE = "burst_balance"  # %
    INVOCATIONS = "invocations"  # requests per minute


PERCENT_METRICS = frozenset({Metric.CPU, Metric.MEMORY, Metric.GPU, Metric.GPU_MEMORY, Metric.GPU_MEMORY_BUSIEST,
                             Metric.BURST_BALANCE})

INVENTORY_REQUIRED = ("resource_id", "kind", "region")
INVENTORY_COLUMNS = (
    "resource_id", "kind", "account", "region", "name", "instance_type", "count", "lifecycle", "state", "tags",
    # what the instances run on and how they are paid: the platform (AWS's PlatformDetails: "Linux/UNIX",
    # "Windows"...), tenancy (default|dedicated|host), a capacity reservation (an EC2 Capacity Reservation id, a
    # SageMaker training plan or ML reservation ARN) and an Outposts rack (OutpostArn)
    "platform", "tenancy", "capacity_reservation", "outpost",
    # who owns the resource besides its account: ``operator``, the AWS service that operates it (an instance's or
    # volume's ``Operator.Principal`` when ``Managed``, a volume attachment's ``InstanceOwningService``): nothing to
    # advise on the resource itself; ``managed_by``, a controller that replaces it (an EKS managed node group, a
    # Karpenter node pool, an EMR cluster): advice goes to that controller's settings
    "operator", "managed_by",
    # ebs_volume (multi_attach: io1/io2 Multi-Attach enabled)
    "volume_type", "size_gib", "iops", "throughput_mibps", "attached_to", "multi_attach",
    # sagemaker_endpoint (weight: the variant's share of traffic; variant_role: production or shadow;
    # scaling_suspended: its scalable target's dynamic scaling is suspended)
    "endpoint", "variant", "accelerator_type", "min_count", "max_count", "autoscaling", "weight", "variant_role",
    "scaling_suspended",
    # sagemaker_endpoint: realtime|async|serverless (an async endpoint may scale its instances to 0)
    "endpoint_type",
    # sagemaker_training_job (and the totals of a tuning job's training jobs); instance_groups: a heterogeneous
    # cluster's "TYPE:COUNT;TYPE:COUNT"; warm_pool_seconds: billed time a warm pool kept the instances after the job
    "managed_spot", "checkpointing", "billable_seconds", "training_seconds", "instance_groups", "warm_pool_seconds",
    # sagemaker_tuning_job: early_stopping Off|Auto|Hyperband (which stops trials itself); billable seconds of jobs
    # whose objective lagged the median
    "early_stopping", "training_jobs", "lagging_billable_seconds",
    # sagemaker_notebook: its lifecycle configuration, whether that stops it when idle, when its status last changed
    "lifecycle_config", "auto_stop", "last_modified",
    # batch_compute_environment: instance_type holds the allowed types, comma-separated
    "allocation_strategy", "max_vcpus", "vcpu_hours",
    # set by the AWS source: {metric: periods} counted as zero because AWS publishes the metric only with activity;
    # how instance_type was resolved when the API names no single type (instance pools, preferences, Batch's optimal)
    "measured_zeros", "instance_type_note",
)
METRICS_COLUMNS = ("resource_id", "metric", "timestamp", "value")

SKIPPED_COLUMNS = ("resource_id", "kind", "region", "name", "reason")


def parse_tags(value: Any) -> dict[str, str]:
    """Tags arrive as a dict, a JSON object string, ``k=v;k=v`` text, or nothing."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return {}
    text = str(value).strip()
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"tags is not valid JSON: {text[:60]!r} ({exc.msg})") from exc
        return {str(k): str(v) for k, v in loaded.items()}
    pairs = (part.split("=", 1) for part in text.split(";") if part.strip())
    return {k.strip(): (v[0].strip() if v else "") for k, *v in pairs}


def normalize_inventory(frame: pd.DataFrame, origin: str = "inventory") -> pd.DataFrame:
    """Check the required columns and kinds, add every optional column, and parse tags."""
    import pandas as pd

    missing = [c for c in INVENTORY_REQUIRED if c not in frame.columns]
    if missing:
        raise SourceError(f"{origin}: missing required column(s) {', '.join(missing)}")
    inv = frame.copy()
    missing_id = inv["resource_id"].isna().to_numpy()
    if missing_id.any():
        raise SourceError(f"{origin}: resource_id is empty on row {int(missing_id.argmax()) + 2}")
    dupes = inv["resource_id"][inv["resource_id"].duplicated()]
    if len(dupes):
        raise SourceError(f"{origin}: resource_id {dupes.iloc[0]!r} appears more than once")
    kinds = registry.ids()
    bad = inv.loc[~inv["kind"].isin(kinds), "kind"]
    if len(bad):
        raise SourceError(f"{origin}: unknown kind {bad.iloc[0]!r} (expected one of {', '.join(sorted(kinds))})")
    absent = [column for column in INVENTORY_COLUMNS if column not in inv.columns]
    if absent:  # added at once: one column at a time copies the frame's blocks each time
        nothing = {column: pd.Series([None] * len(inv), index=inv.index, dtype=object) for column in absent}
        inv = pd.concat([inv, pd.DataFrame(nothing, index=inv.index)], axis=1)
    inv["resource_id"] = inv["resource_id"].astype(str)
    inv["account"] = inv["account"].fillna("unknown").astype(str)
    inv["name"] = inv["name"].where(inv["name"].notna(), inv["resource_id"]).astype(str)
    inv["count"] = pd.to_numeric(inv["count"], errors="coerce").fillna(1).astype(int)
    inv["state"] = inv["state"].fillna("running")
    inv["lifecycle"] = inv["lifecycle"].fillna("on-demand")
    for column in ("size_gib", "iops", "throughput_mibps", "min_count", "max_count", "billable_seconds",
                   "training_seconds", "weight", "training_jobs", "lagging_billable_seconds", "max_vcpus",
                   "vcpu_hours", "warm_pool_seconds"):
        inv[column] = pd.to_numeric(inv[column], errors="coerce")
    try:
        inv["tags"] = pd.Series([parse_tags(v) for v in inv["tags"]], index=inv.index, dtype=object)
    except SourceError as exc:
        raise SourceError(f"{origin}: {exc}") from exc
    return inv.reset_index(drop=True)


def normalize_metrics(frame: pd.DataFrame, origin: str = "metrics") -> pd.DataFrame:
    """Check columns, parse timestamps as UTC, drop non-finite values, keep only canonical metric names."""
    import numpy as np
    import pandas as pd

    missing = [c for c in METRICS_COLUMNS if c not in frame.columns]
    if missing:
        raise SourceError(f"{origin}: missing required column(s) {', '.join(missing)}")
    out = frame.loc[:, [c for c in (*METRICS_COLUMNS, "stat") if c in frame.columns]].copy()
    known = {m.value for m in Metric}
    unknown = sorted(set(out["metric"].unique()) - known)
    if unknown:
        raise SourceError(f"{origin}: unknown metric(s) {', '.join(map(str, unknown[:5]))}; "
                          f"expected names from: {', '.join(sorted(known))}")
    try:
        out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True)
    except (ValueError, TypeError) as exc:
        raise SourceError(f"{origin}: timestamp column could not be parsed as dates ({exc})") from exc
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    out = out[np.isfinite(out["value"].to_numpy(dtype=float, na_value=np.nan))]
    out["resource_id"] = out["resource_id"].astype(str)
    out["metric"] = out["metric"].astype("category")
    return out.reset_index(drop=True)


@dataclass
class AuditResult:
    """Everything one audit produced; reports and exports render only this."""

    recommendations: list[Recommendation]  # one per finding, largest saving first
    skipped: pd.DataFrame  # SKIPPED_COLUMNS: resources with no recommendation and why
    inventory: pd.DataFrame  # normalized inventory
    features: pd.DataFrame  # one row per resource (index resource_id): stats + forecast columns
    metrics: pd.DataFrame  # the long metrics frame that was analysed (empty when a source streamed its samples)
    window_start: pd.Timestamp | None
    window_end: pd.Timestamp | None
    price_list_date: str
    source_label: str
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    catalog_sources: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)  # id, title, kind, action, condition text
    settings: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what could not be collected or analysed, and why
    changes: dict[str, Any] | None = None  # since the previous recorded run: new / resolved / persisting findings
    hourly: HourlyBuckets | None = None  # the drill-down series a streaming source built (else from ``metrics``)
    calibration: Calibration | None = None  # the headroom chosen on the user's own history (``advisor audit``)
    confidence: ConfidenceBands | None = None  # where each band's confidence_score comes from
