"""SageMaker training jobs: priced per run (billable seconds); judged from their own run, however short."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.kinds.base import CloudWatchMetric, ResourceKind, Scale

_TRAINING = "/aws/sagemaker/TrainingJobs"


def owner(dims: Mapping[str, str]) -> tuple[str, str] | None:
    """The job of a ``Host`` dimension ``JOB/algo-N``; the host is the member."""
    host = dims.get("Host", "")
    return (host.rsplit("/algo-", 1)[0], host) if "/algo-" in host else None


def dimensions(row: Mapping[str, Any]) -> list[dict[str, str]]:
    """The job's hosts ``JOB/algo-1`` .. ``JOB/algo-N``: ListMetrics forgets a job two weeks after it ended."""
    count = row.get("count")
    hosts = int(count) if isinstance(count, int | float) and count == count and count > 0 else 1
    return [{"Host": f"{row['resource_id']}/algo-{i}"} for i in range(1, hosts + 1)]


KIND = ResourceKind(
    id="sagemaker_training_job",
    display_name="SageMaker training job",
    plural="SageMaker training jobs",
    lister="advisor.sources.aws.inventory:training_jobs",
    pricing="instance",
    service="training",
    per_run=True,
    metrics=(
        CloudWatchMetric(_TRAINING, "CPUUtilization", "cpu", scale=Scale.PER_VCPU),
        CloudWatchMetric(_TRAINING, "MemoryUtilization", "memory"),
        CloudWatchMetric(_TRAINING, "GPUUtilization", "gpu", scale=Scale.PER_GPU),
        CloudWatchMetric(_TRAINING, "GPUMemoryUtilization", "gpu_memory", scale=Scale.PER_GPU),
    ),
    owner=owner,
    dimensions=dimensions,
    color="#7c3aed",
)
