"""SageMaker notebook instances: priced on SageMaker's hosting list.

Their idleness needs a usage history, but SageMaker publishes no CloudWatch utilization for notebook instances:
collected from AWS, a notebook is skipped with ``no_metrics_reason``; a file source may still provide metrics.
"""

from __future__ import annotations

from advisor.kinds.base import ResourceKind

KIND = ResourceKind(
    id="sagemaker_notebook",
    display_name="SageMaker notebook instance",
    plural="SageMaker notebook instances",
    lister="advisor.sources.aws.inventory:notebooks",
    pricing="instance",
    service="hosting",
    needs_history=True,
    inactive_states=("Stopped", "Stopping", "Failed", "Deleting"),  # NotebookInstanceStatus: no instance billed
    inactive_reason="notebook instance is {state}: no instance to bill",
    no_metrics_reason="SageMaker publishes no utilization for notebook instances",
    color="#d97706",
)
