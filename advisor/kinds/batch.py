"""AWS Batch compute environments: priced per vCPU-hour (the mean over the allowed types); no history needed."""

from __future__ import annotations

from advisor.kinds.base import ResourceKind

KIND = ResourceKind(
    id="batch_compute_environment",
    display_name="AWS Batch compute environment",
    plural="AWS Batch compute environments",
    lister="advisor.sources.aws.inventory:batch_environments",
    pricing="vcpu_hours",
    unpriced_reason="none of the environment's instance types is priced in {region}",
    color="#0891b2",
)
