"""SageMaker training jobs: priced per run (billable seconds); judged from their own run, however short."""

from __future__ import annotations

from collections.abc import Mapping

from advisor.kinds.base import CloudWatchMetric, ResourceKind, Scale

_TRAINING = "/aws/sagemaker/TrainingJobs"


def owner(dims: Mapping[str, str]) -> tuple[str, str] | None:
    """The job of a ``Host`` dimension ``JOB/algo-N``; the host is the member."""
    host = dims.get("Host", "")
    return (host.rsplit("/algo-", 1)[0], host) if "/algo-" in host else None


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
    color="#7c3aed",
)
