"""SageMaker notebook instances: priced on SageMaker's hosting list.

SageMaker publishes no CloudWatch utilization for notebook instances, so their idleness cannot be measured from
AWS: a notebook without an idle-shutdown lifecycle configuration is flagged from its status and lifecycle
configuration alone (``auto_stop`` false: no history needed); one that stops itself, or whose configuration is
unknown, needs a usage history (a file source may provide it) and is otherwise skipped with ``no_metrics_reason``.
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
    history_only_if="auto_stop",
    no_metrics_reason="SageMaker publishes no utilization for notebook instances",
    color="#d97706",
)
