"""SageMaker hyperparameter tuning jobs: the totals of their training jobs, priced per run; no history needed."""

from __future__ import annotations

from advisor.kinds.base import ResourceKind

KIND = ResourceKind(
    id="sagemaker_tuning_job",
    display_name="SageMaker tuning job",
    plural="SageMaker tuning jobs",
    lister="advisor.sources.aws.inventory:tuning_jobs",
    pricing="instance",
    service="training",
    per_run=True,
    color="#db2777",
)
