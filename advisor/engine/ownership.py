"""Who else owns a resource: a controller that replaces it, or an AWS service that operates it.

A change made to an instance of an EKS managed node group, a Karpenter NodePool or an EMR cluster is undone the next
time the controller replaces the instance, so its advice goes to the controller's settings. A resource an AWS
service operates (``Operator.Managed``; a volume attached to an ECS task) is sized by that service: nothing to advise
on the resource itself.
"""

from __future__ import annotations

from typing import Any

from advisor.results import Recommendation

STOPS = ("stop", "terminate")


def controller(tags: dict[str, str], given: Any = None) -> str | None:
    """The controller that launches and replaces the resource: ``given`` (the inventory's ``managed_by``) when set,
    else read from the tags the controllers put on their instances."""
    if isinstance(given, str) and given.strip():
        return given.strip()
    if group := tags.get("eks:nodegroup-name"):
        return f"EKS managed node group {group} (cluster {tags.get('eks:cluster-name') or 'unnamed'})"
    if pool := tags.get("karpenter.sh/nodepool"):
        return f"Karpenter NodePool {pool}"
    if cluster := tags.get("aws:elasticmapreduce:job-flow-id"):
        return f"EMR cluster {cluster}"
    return None


def operated_reason(operator: str) -> str:
    return (f"operated by {operator}: its type and size are that service's settings, so there is nothing to change "
            "on the resource itself")


def addressed_to(rec: Recommendation, owner: str) -> Recommendation:
    """The finding addressed to the controller that owns the resource (its money unchanged: the controller's
    instances cost what this one does)."""
    if rec.action in STOPS:
        how = (f"It belongs to {owner}, which replaces a stopped instance: lower that group's desired (and minimum) "
               "size instead of stopping this one.")
    else:
        how = (f"It belongs to {owner}: make the change in its settings (instance types, capacity type or launch "
               "template); a change made to this instance alone is undone when it is replaced.")
    evidence = rec.evidence.model_copy(update={"notes": [*rec.evidence.notes, how], "managed_by": owner})
    return rec.model_copy(update={"evidence": evidence})
