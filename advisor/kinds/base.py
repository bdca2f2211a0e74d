"""What generic code needs to know about one resource kind, declared as data.

Each module of this package declares one :class:`ResourceKind` (in the spirit of Cloud Custodian's
``resource_type``); the pipeline (skip reasons), the pricing (``advisor.engine.pricing``), the candidate types
(``advisor.engine.candidates``), the collector (``advisor.sources.aws``) and the report read these declarations
instead of keeping per-kind tables of their own. The package imports nothing else of advisor's, so every layer
(``advisor.model`` included) may read it: code that lives in higher layers (an inventory lister) is named as
``"module:function"`` and resolved when used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

GAUGE = ("Average", "Maximum")
SUM = ("Sum",)

# Where a kind's instance types are sized and priced: EC2's on-demand list, or SageMaker's for hosting / training.
Service = Literal["ec2", "hosting", "training"]
# How a kind's hourly price is found (the functions are in advisor.engine.pricing.PRICING):
# "instance": the instance type in the service's price list; "volume": EBS type, size, IOPS and throughput;
# "vcpu_hours": the mean per-vCPU price of the allowed types (a Batch compute environment).
Pricing = Literal["instance", "volume", "vcpu_hours"]
# (resource_id, member) of a CloudWatch series from its dimensions, or None when it is not this kind's series.
# The member tells apart the parts averaged into one resource's metric (an instance's GPUs, a job's hosts).
Owner = Callable[[Mapping[str, str]], tuple[str, str] | None]
# The dimension sets of a resource's series, known from its inventory row without asking ListMetrics ([]: none).
Dimensions = Callable[[Mapping[str, Any]], list[dict[str, str]]]


class Scale(StrEnum):
    """How a raw CloudWatch value becomes the canonical unit."""

    NONE = "none"
    PER_SECOND = "per_second"  # a per-period sum -> per second
    PER_MINUTE = "per_minute"  # a per-period sum -> per minute
    PER_VCPU = "per_vcpu"  # SageMaker's 0-100 x vCPUs -> 0-100
    PER_GPU = "per_gpu"  # SageMaker's 0-100 x GPUs -> 0-100


@dataclass(frozen=True)
class CloudWatchMetric:
    """One CloudWatch metric read for a kind, the canonical metric it feeds and how."""

    namespace: str
    name: str
    metric: str  # the canonical metric it feeds (advisor.model.Metric)
    stats: tuple[str, ...] = GAUGE
    scale: Scale = Scale.NONE
    part: str = ""  # "used" / "total": the two halves of GPU memory % = used / total
    busiest: str = ""  # also feed this canonical metric with the fullest member (GPU) per period, not their mean
    # Published by the CloudWatch agent: the collector reads it in the configured namespace ([aws] agent_namespace,
    # declared here as the default CWAgent) and matches the instance by the configured dimensions
    # ([aws] agent_memory_dimensions: InstanceId, host).
    agent: bool = False
    # AWS publishes it only when there is activity (a counter such as Invocations): while the resource is active,
    # a period CloudWatch answered without a datapoint is a measured zero, and ListMetrics (which lists only
    # series with data in the last two weeks) is not asked whether it exists.
    zero_when_absent: bool = False
    # Read at this period (seconds) when CloudWatch still holds it, even if the window's period is coarser: EBS
    # I/O counters are sums per minute, so per-minute sums show the peak a 5-minute average hides. 0: the window's.
    period: int = 0


@dataclass(frozen=True)
class ResourceKind:
    """One resource kind, as generic code sees it.

    Skip reasons are templates filled from the resource's features row (``{state}``, ``{region}``...).
    """

    id: str  # the ``kind`` column of the inventory and the ``kind:`` of a rule
    display_name: str  # one resource, for people: "EC2 instance"
    plural: str  # "EC2 instances" (collection problems name the kind that failed)
    lister: str | None = None  # "module:function" reading this kind's inventory from AWS (see inventory.Reading)
    pricing: Pricing | None = None
    service: Service | None = None  # set: the inventory must name an instance type the catalog knows and prices
    per_run: bool = False  # billed per run (a job's billable hours), shown as a monthly rate of the window's runs
    needs_history: bool = False  # no recommendation without at least ``min_hours`` of metrics
    # a boolean features column: no history is needed where it is false (an unattached volume, a notebook that does
    # not stop itself); where it is true or unknown, history is needed
    history_only_if: str | None = None
    metrics: tuple[CloudWatchMetric, ...] = ()
    owner: Owner | None = None
    # Series queried by their known dimensions where ListMetrics does not list them: a zero_when_absent metric,
    # and every metric of a resource ListMetrics lists nothing for (a job that ended over two weeks ago).
    dimensions: Dimensions | None = None
    no_metrics_reason: str | None = None  # why a kind that needs history has no CloudWatch metric to read
    unpriced_reason: str | None = None  # skip reason when no hourly price could be found
    active_states: tuple[str, ...] = ()  # when set, a resource in another state is skipped with ``inactive_reason``
    inactive_states: tuple[str, ...] = ()  # a resource in one of these states is skipped with ``inactive_reason``
    inactive_reason: str = "{state}: no cost to optimise"
    color: str = "#64748b"  # the report's charts

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError(f"resource kind {self.id!r}: {'; '.join(problems)}")

    def is_active(self, state: object) -> bool:
        """Whether a resource in ``state`` is running, so its instances cost money now."""
        if self.active_states and state not in self.active_states:
            return False
        return state not in self.inactive_states

    def measures(self, metric: str) -> bool:
        """Whether one of the kind's CloudWatch metrics feeds the canonical ``metric`` (so a missing one is missing
        data, not a dimension the service never publishes)."""
        return any(m.metric == metric or m.busiest == metric for m in self.metrics)

    def problems(self) -> list[str]:
        """What makes this declaration unusable (each a sentence)."""
        found = []
        if not self.id.isidentifier() or self.id != self.id.lower():
            found.append("the id must be a lower-case identifier")
        if self.metrics and self.owner is None:
            found.append("declares CloudWatch metrics but no owner to tell whose series each is")
        if self.needs_history and not self.metrics and not self.no_metrics_reason:
            found.append("needs a utilization history but declares no CloudWatch metric; declare its metrics, or "
                         "say why there are none in no_metrics_reason")
        if self.lister is not None and ":" not in self.lister:
            found.append(f"lister {self.lister!r} must be written 'module:function'")
        return found

    def read_inventory(self) -> Callable[..., list[dict[str, Any]]] | None:
        """The lister function, imported on first use (None: not collected from AWS)."""
        if self.lister is None:
            return None
        module, _, name = self.lister.partition(":")
        function: Callable[..., list[dict[str, Any]]] = getattr(importlib.import_module(module), name)
        return function
