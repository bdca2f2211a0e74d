"""EC2 instances: sized and priced on EC2's on-demand list; CloudWatch and its agent (memory, GPUs) give usage."""

from __future__ import annotations

from collections.abc import Mapping

from advisor.kinds.base import SUM, CloudWatchMetric, ResourceKind, Scale

_AGENT = "CWAgent"  # the CloudWatch agent's default namespace ([aws] agent_namespace sets another)


def owner(dims: Mapping[str, str]) -> tuple[str, str] | None:
    """The instance; the agent's ``index`` dimension tells its GPUs apart."""
    return (dims["InstanceId"], dims.get("index", "")) if "InstanceId" in dims else None


KIND = ResourceKind(
    id="ec2_instance",
    display_name="EC2 instance",
    plural="EC2 instances",
    lister="advisor.sources.aws.inventory:ec2_instances",
    pricing="instance",
    service="ec2",
    needs_history=True,
    active_states=("running", "pending"),
    inactive_reason="instance is {state}: no compute cost to optimise",
    metrics=(
        CloudWatchMetric("AWS/EC2", "CPUUtilization", "cpu"),
        CloudWatchMetric("AWS/EC2", "NetworkIn", "network_in", SUM, Scale.PER_SECOND),
        CloudWatchMetric("AWS/EC2", "NetworkOut", "network_out", SUM, Scale.PER_SECOND),
        CloudWatchMetric(_AGENT, "mem_used_percent", "memory", agent=True),
        # the Windows agent's memory counter (the Memory object's "% Committed Bytes In Use")
        CloudWatchMetric(_AGENT, "Memory % Committed Bytes In Use", "memory", agent=True),
        CloudWatchMetric(_AGENT, "nvidia_smi_utilization_gpu", "gpu", agent=True),
        CloudWatchMetric(_AGENT, "nvidia_smi_memory_used", "gpu_memory", part="used", busiest="gpu_memory_busiest",
                         agent=True),
        CloudWatchMetric(_AGENT, "nvidia_smi_memory_total", "gpu_memory", ("Average",), part="total", agent=True),
    ),
    owner=owner,
    color="#2563eb",
)
