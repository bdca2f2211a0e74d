"""SageMaker endpoints, one resource per production variant; SageMaker reports per-instance usage summed over
vCPUs and GPUs (scaled back to 0-100), and the variant's invocations. A variant's cost is its running instances
(``count``: DescribeEndpoint's CurrentInstanceCount): a variant at 0 (an asynchronous endpoint scaled to zero) or a
failed endpoint costs nothing now."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.kinds.base import SUM, CloudWatchMetric, ResourceKind, Scale

_ENDPOINTS = "/aws/sagemaker/Endpoints"
# Endpoint statuses in which the variants serve requests (an update keeps the old fleet serving until it is done).
SERVING_STATES = ("InService", "Updating", "SystemUpdating")


def owner(dims: Mapping[str, str]) -> tuple[str, str] | None:
    if "EndpointName" in dims and "VariantName" in dims:
        return f"{dims['EndpointName']}/{dims['VariantName']}", ""
    return None


def dimensions(row: Mapping[str, Any]) -> list[dict[str, str]]:
    """A serving variant's series: SageMaker publishes Invocations only in periods with requests."""
    if row.get("state") not in SERVING_STATES or not row.get("endpoint") or not row.get("variant"):
        return []
    return [{"EndpointName": str(row["endpoint"]), "VariantName": str(row["variant"])}]


KIND = ResourceKind(
    id="sagemaker_endpoint",
    display_name="SageMaker endpoint variant",
    plural="SageMaker endpoints",
    lister="advisor.sources.aws.inventory:sagemaker_endpoints",
    pricing="instance",
    service="hosting",
    needs_history=True,
    # EndpointStatus values with no instances running (a variant's instances are in CurrentInstanceCount)
    inactive_states=("Failed", "OutOfService", "Deleting"),
    inactive_reason="endpoint is {state}: no instances to bill",
    metrics=(
        CloudWatchMetric(_ENDPOINTS, "CPUUtilization", "cpu", scale=Scale.PER_VCPU),
        CloudWatchMetric(_ENDPOINTS, "MemoryUtilization", "memory"),
        CloudWatchMetric(_ENDPOINTS, "GPUUtilization", "gpu", scale=Scale.PER_GPU),
        CloudWatchMetric(_ENDPOINTS, "GPUMemoryUtilization", "gpu_memory", scale=Scale.PER_GPU),
        CloudWatchMetric("AWS/SageMaker", "Invocations", "invocations", SUM, Scale.PER_MINUTE, zero_when_absent=True),
    ),
    owner=owner,
    dimensions=dimensions,
    color="#0d9488",
)
