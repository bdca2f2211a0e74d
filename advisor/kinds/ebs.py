"""EBS volumes: priced by type, size, IOPS and throughput; an unattached volume needs no history (it has none)."""

from __future__ import annotations

from collections.abc import Mapping

from advisor.kinds.base import SUM, CloudWatchMetric, ResourceKind, Scale
from advisor.model import Kind, Metric

_EBS = "AWS/EBS"


def owner(dims: Mapping[str, str]) -> tuple[str, str] | None:
    return (dims["VolumeId"], "") if "VolumeId" in dims else None


KIND = ResourceKind(
    id=Kind.EBS_VOLUME,
    display_name="EBS volume",
    plural="EBS volumes",
    lister="advisor.sources.aws.inventory:ebs_volumes",
    pricing="volume",
    needs_history=True,
    history_only_if="attached",
    unpriced_reason="no volume type or size in the inventory (or no EBS price for the type)",
    metrics=(
        CloudWatchMetric(_EBS, "VolumeReadOps", Metric.READ_IOPS, SUM, Scale.PER_SECOND),
        CloudWatchMetric(_EBS, "VolumeWriteOps", Metric.WRITE_IOPS, SUM, Scale.PER_SECOND),
        CloudWatchMetric(_EBS, "VolumeReadBytes", Metric.READ_BYTES, SUM, Scale.PER_SECOND),
        CloudWatchMetric(_EBS, "VolumeWriteBytes", Metric.WRITE_BYTES, SUM, Scale.PER_SECOND),
        CloudWatchMetric(_EBS, "BurstBalance", Metric.BURST_BALANCE),
    ),
    owner=owner,
    color="#64748b",
)
