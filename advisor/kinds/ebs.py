"""EBS volumes: priced by type, size, IOPS and throughput; an unattached volume needs no history (it has none)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.kinds.base import SUM, CloudWatchMetric, ResourceKind, Scale

_EBS = "AWS/EBS"


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
    metrics=(
        CloudWatchMetric(_EBS, "VolumeReadOps", "read_iops", SUM, Scale.PER_SECOND, zero_when_absent=True),
        CloudWatchMetric(_EBS, "VolumeWriteOps", "write_iops", SUM, Scale.PER_SECOND, zero_when_absent=True),
        CloudWatchMetric(_EBS, "VolumeReadBytes", "read_bytes", SUM, Scale.PER_SECOND),
        CloudWatchMetric(_EBS, "VolumeWriteBytes", "write_bytes", SUM, Scale.PER_SECOND),
        CloudWatchMetric(_EBS, "BurstBalance", "burst_balance"),
    ),
    owner=owner,
    dimensions=dimensions,
    color="#64748b",
)
