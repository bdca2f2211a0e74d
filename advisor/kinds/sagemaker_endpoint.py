"""SageMaker endpoints, one resource per production variant; SageMaker reports per-instance usage summed over
vCPUs and GPUs (scaled back to 0-100), and the variant's invocations."""

from __future__ import annotations

from collections.abc import Mapping

from advisor.kinds.base import SUM, CloudWatchMetric, ResourceKind, Scale
from advisor.model import Kind, Metric

_ENDPOINTS = "/aws/sagemaker/Endpoints"


def owner(dims: Mapping[str, str]) -> tuple[str, str] | None:
    if "EndpointName" in dims and "VariantName" in dims:
        return f"{dims['EndpointName']}/{dims['VariantName']}", ""
    return None


KIND = ResourceKind(
    id=Kind.SAGEMAKER_ENDPOINT,
    display_name="SageMaker endpoint variant",
    plural="SageMaker endpoints",
    lister="advisor.sources.aws.inventory:sagemaker_endpoints",
    pricing="instance",
    service="hosting",
    needs_history=True,
    metrics=(
        CloudWatchMetric(_ENDPOINTS, "CPUUtilization", Metric.CPU, scale=Scale.PER_VCPU),
        CloudWatchMetric(_ENDPOINTS, "MemoryUtilization", Metric.MEMORY),
        CloudWatchMetric(_ENDPOINTS, "GPUUtilization", Metric.GPU, scale=Scale.PER_GPU),
        CloudWatchMetric(_ENDPOINTS, "GPUMemoryUtilization", Metric.GPU_MEMORY, scale=Scale.PER_GPU),
        CloudWatchMetric("AWS/SageMaker", "Invocations", Metric.INVOCATIONS, SUM, Scale.PER_MINUTE),
    ),
    owner=owner,
    color="#0d9488",
)
