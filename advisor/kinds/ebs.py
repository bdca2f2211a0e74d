"""EBS volumes: priced by type, size, IOPS and throughput; an unattached volume needs no history (it has none)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.kinds.base import SUM, CloudWatchMetric, ResourceKind, Scale

_EBS = "AWS/EBS"
MINUTE = 60


def owner(dims: Mapping[str, str]) -> tuple[str, str] | None:
    return (dims["VolumeId"], "") if "VolumeId" in dims else None


def dimensions(row: Mapping[str, Any]) -> list[dict[str, str]]:
    """An attached volume's series: on Xen instances EBS reports I/O only in periods with I/O."""
    return [{"VolumeId": str(row["resource_id"])}] if row.get("state") == "in-use" else []


KIND = ResourceKind(
    id="ebs_volume",
    display_name="EBS volume",
    plural="EBS volumes",
    lister="advisor.sources.aws.inventory:ebs_volumes",
    pricing="volume",
    needs_history=True,
    history_only_if="attached",
    unpriced_reason="no volume type or size in the inventory (or no EBS price for the type)",
    # EBS publishes its I/O counters every minute: their per-minute sums give the peak rate a 5-minute average
    # hides (Compute Optimizer sizes volumes from the maximum), read at 60 s while CloudWatch keeps 1-minute data
    # (15 days). BurstBalance is read at its per-period minimum: the credits left at the worst moment.
    metrics=(
        CloudWatchMetric(_EBS, "VolumeReadOps", "read_iops", SUM, Scale.PER_SECOND, zero_when_absent=True,
                         period=MINUTE),
        CloudWatchMetric(_EBS, "VolumeWriteOps", "write_iops", SUM, Scale.PER_SECOND, zero_when_absent=True,
                         period=MINUTE),
        CloudWatchMetric(_EBS, "VolumeReadBytes", "read_bytes", SUM, Scale.PER_SECOND, period=MINUTE),
        CloudWatchMetric(_EBS, "VolumeWriteBytes", "write_bytes", SUM, Scale.PER_SECOND, period=MINUTE),
        CloudWatchMetric(_EBS, "BurstBalance", "burst_balance", ("Minimum",)),
    ),
    owner=owner,
    dimensions=dimensions,
    color="#64748b",
)
