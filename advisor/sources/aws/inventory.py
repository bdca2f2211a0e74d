"""Inventory of one account and region with boto3 (paginated), as rows of the inventory frame.

Each resource kind names its lister here (``advisor.kinds``: ``lister="advisor.sources.aws.inventory:NAME"``);
a lister takes a :class:`Reading` and returns plain dicts with the columns of ``advisor.model.INVENTORY_COLUMNS``
(plus a few EC2 extras: architecture, launch_time, autoscaling_group); ``collect_inventory`` adds
account and region. States are AWS's own words (``running``, ``InService``, ``ENABLED``...).

Failures are contained per object: an endpoint deleted while the region is read, an endpoint whose config was
deleted (AWS allows that on a live endpoint) or an object of an unexpected shape becomes one line in ``problems``
and every other object of the kind is kept. A kind whose listing fails is reported and the other kinds are kept.
"""

from __future__ import annotations

import base64
import re
import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import pandas as pd

from advisor import kinds
from advisor.kinds.sagemaker_endpoint import SERVING_STATES
from advisor.model import Kind
from advisor.sources.aws.session import AWS_ERRORS, describe_error
from advisor.sources.aws.window import Window

Clients = Callable[[str], Any]  # service name -> a boto3 client for this account and region
Row = dict[str, Any]

SKIPPED_EC2_STATES = {"terminated", "shutting-down"}
T = TypeVar("T")


@dataclass
class Reading:
    """What a lister gets: clients of one account and region, the window, where to report an object it skips,
    and objects shared by listers."""

    client: Clients
    window: Window
    problems: list[str] = field(default_factory=list)  # objects skipped by any lister, one line each
    _shared: dict[Any, Any] = field(default_factory=dict)

    def shared(self, factory: Callable[[Reading], T]) -> T:
        """One ``factory(reading)`` per region, shared by the listers that ask for it (``TrainingJobs``)."""
        if factory not in self._shared:
            self._shared[factory] = factory(self)
        shared: T = self._shared[factory]
        return shared


class RegionUnavailable(Exception):
    """Every inventory call of a region failed (disabled region, no access, endpoint unreachable)."""


class Unreadable(Exception):
    """One object cannot be read; the message says why (the reader skips it and keeps the others)."""


def _each(items: Iterable[dict[str, Any]], what: str, key: str, read: Callable[[dict[str, Any]], list[Row]],
          problems: list[str]) -> list[Row]:
    """``read`` every listed object; one that fails becomes a line in ``problems`` and the rest are kept."""
    rows: list[Row] = []
    for item in items:
        try:
            rows.extend(read(item))
        except Exception as exc:  # any failure of one object must stay that object's
            reason = str(exc) if isinstance(exc, Unreadable) else describe_error(exc)
            problems.append(f"{what} {item.get(key, '(unnamed)')}: {reason}; skipped")
    return rows


def _pages(client: Any, operation: str, key: str, **arguments: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(**arguments):
        yield from page.get(key, [])


def _tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def ec2_instances(reading: Reading) -> list[Row]:
    instances = (instance for reservation in _pages(reading.client("ec2"), "describe_instances", "Reservations")
                 for instance in reservation.get("Instances", []))
    return _each(instances, "EC2 instance", "InstanceId", _instance_rows, reading.problems)


def _instance_rows(instance: dict[str, Any]) -> list[Row]:
    state = instance["State"]["Name"]
    if state in SKIPPED_EC2_STATES:
        return []
    tags = _tags(instance.get("Tags"))
    return [{
        "resource_id": instance["InstanceId"], "kind": Kind.EC2_INSTANCE.value,
        "name": tags.get("Name") or instance["InstanceId"], "instance_type": instance["InstanceType"],
        # AWS's purchase option: spot, scheduled, capacity-block, interruptible-capacity-reservation; none is on-demand
        "count": 1, "lifecycle": instance.get("InstanceLifecycle") or "on-demand",
        "state": state, "tags": tags,
        # PlatformDetails names the billed platform ("Red Hat Enterprise Linux", "Windows with SQL Server Web"...);
        # without it, Platform is "windows" for Windows instances and absent for Linux/UNIX
        "platform": instance.get("PlatformDetails") or ("Windows" if instance.get("Platform") == "windows"
                                                        else "Linux/UNIX"),
        "tenancy": (instance.get("Placement") or {}).get("Tenancy") or "default",
        "capacity_reservation": instance.get("CapacityReservationId"), "outpost": instance.get("OutpostArn"),
        "architecture": instance.get("Architecture"), "launch_time": _iso(instance.get("LaunchTime")),
        "private_dns_name": instance.get("PrivateDnsName") or None,  # the agent's default "host" dimension
        "autoscaling_group": tags.get("aws:autoscaling:groupName"),
        "operator": _operator(instance),
    }]


def _operator(described: dict[str, Any]) -> str | None:
    """The AWS service that operates an instance or a volume (``Operator``: ``Managed`` with its ``Principal``)."""
    operator = described.get("Operator") or {}
    return (operator.get("Principal") or "an AWS service") if operator.get("Managed") else None



def ebs_volumes(reading: Reading) -> list[Row]:
    return _each(_pages(reading.client("ec2"), "describe_volumes", "Volumes"), "EBS volume", "VolumeId",
                 _volume_rows, reading.problems)


def _volume_rows(volume: dict[str, Any]) -> list[Row]:
    tags = _tags(volume.get("Tags"))
    # an ECS/Fargate task's volume has no InstanceId: its attachment names the task in AssociatedResource
    attached = [a.get("InstanceId") or a.get("AssociatedResource") for a in volume.get("Attachments", [])
                if a.get("InstanceId") or a.get("AssociatedResource")]
    # EBS reports I/O only while attached: from the first attachment, a period without I/O data is a measured zero
    since = min((a["AttachTime"] for a in volume.get("Attachments", []) if a.get("AttachTime")), default=None)
    return [{
        "resource_id": volume["VolumeId"], "kind": Kind.EBS_VOLUME.value,
        "name": tags.get("Name") or volume["VolumeId"], "count": 1, "state": volume.get("State"), "tags": tags,
        "volume_type": volume.get("VolumeType"), "size_gib": volume.get("Size"), "iops": volume.get("Iops"),
        "throughput_mibps": volume.get("Throughput"), "attached_to": ",".join(attached) or None,
        # a volume of an AWS-managed resource (an ECS task's, ``InstanceOwningService``) is sized by that service
        "operator": _operator(volume) or next((a["InstanceOwningService"] for a in volume.get("Attachments", [])
                                               if a.get("InstanceOwningService")), None),
        "multi_attach": bool(volume.get("MultiAttachEnabled")),
        "metrics_since": _iso(since) if volume.get("State") == "in-use" else None,
    }]


def _scaling(client: Clients) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Application Auto Scaling targets and the resources with a scaling policy, for SageMaker variants."""
    autoscaling = client("application-autoscaling")
    targets = {t["ResourceId"]: t for t in _pages(autoscaling, "describe_scalable_targets", "ScalableTargets",
                                                  ServiceNamespace="sagemaker")
               if t.get("ScalableDimension") == "sagemaker:variant:DesiredInstanceCount"}
    policies = {p["ResourceId"] for p in _pages(autoscaling, "describe_scaling_policies", "ScalingPolicies",
                                                ServiceNamespace="sagemaker")}
    return targets, policies


def sagemaker_endpoints(reading: Reading) -> list[Row]:
    client = reading.client
    sagemaker = client("sagemaker")
    endpoints = list(_pages(sagemaker, "list_endpoints", "Endpoints"))
    if not endpoints:
        return []
    targets, policies = _scaling(client)

    def read(summary: dict[str, Any]) -> list[Row]:
        return _endpoint_rows(sagemaker, summary["EndpointName"], targets, policies, reading.problems)

    return _each(endpoints, "SageMaker endpoint", "EndpointName", read, reading.problems)


def _endpoint_rows(sagemaker: Any, name: str, targets: dict[str, dict[str, Any]], policies: set[str],
                   problems: list[str]) -> list[Row]:
    endpoint = sagemaker.describe_endpoint(EndpointName=name)
    config_name = endpoint["EndpointConfigName"]
    try:
        config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    except AWS_ERRORS as exc:  # AWS lets a live endpoint's config be deleted: its instance types are then unknown
        raise Unreadable(f"its endpoint config {config_name} cannot be read ({describe_error(exc)}), so its "
                         "instance types are unknown") from exc
    current = {v["VariantName"]: v for key in ("ProductionVariants", "ShadowProductionVariants")
               for v in endpoint.get(key) or []}
    variants = [(v, "production") for v in config.get("ProductionVariants") or []]
    variants += [(v, "shadow") for v in config.get("ShadowProductionVariants") or []]

    def live_weight(variant: dict[str, Any]) -> float:  # the live CurrentWeight; the config's initial one before
        initial = variant.get("InitialVariantWeight", 1.0)
        return float(current.get(variant["VariantName"], {}).get("CurrentWeight", initial))

    # production variants share the traffic; a shadow variant gets a copy of a sample of it, so it has no share
    total_weight = sum(live_weight(v) for v, role in variants if role == "production") or 1.0
    endpoint_type = "async" if config.get("AsyncInferenceConfig") else "realtime"
    # a serving variant is known to run as configured since the endpoint's last change; from then on a period
    # without an Invocations datapoint is a measured zero (SageMaker publishes it only when there are requests)
    serving = endpoint.get("EndpointStatus") in SERVING_STATES
    since = endpoint.get("LastModifiedTime") or endpoint.get("CreationTime")
    rows = []
    for variant, role in variants:
        variant_name = variant["VariantName"]
        scaling_id = f"endpoint/{name}/variant/{variant_name}"
        target = targets.get(scaling_id, {})
        live = current.get(variant_name, {})
        # the instances running now: none for a variant AWS does not describe as live (a failed endpoint) or one
        # scaled to 0 (an asynchronous endpoint); the config's InitialInstanceCount is not what runs
        count = live.get("CurrentInstanceCount") or 0
        instance_type, note = variant.get("InstanceType"), None
        if not instance_type and variant.get("InstancePools"):
            pooled = _pooled(variant, live)
            if isinstance(pooled, str):
                problems.append(f"SageMaker endpoint {name} variant {variant_name}: {pooled}; skipped")
                continue
            instance_type, count, note = pooled
        # SageMaker-managed instance scaling (inference components) is auto scaling without a scalable target
        managed = live.get("ManagedInstanceScaling") or variant.get("ManagedInstanceScaling") or {}
        managed_on = managed.get("Status") == "ENABLED"
        rows.append({
            "resource_id": f"{name}/{variant_name}", "kind": Kind.SAGEMAKER_ENDPOINT.value,
            "name": f"{name}/{variant_name}", "instance_type": instance_type, "instance_type_note": note,
            "count": count, "state": endpoint.get("EndpointStatus"), "tags": {},
            "endpoint": name, "variant": variant_name, "variant_role": role,
            "accelerator_type": variant.get("AcceleratorType"),
            "weight": live_weight(variant) / total_weight if role == "production" else None,
            "endpoint_type": "serverless" if variant.get("ServerlessConfig") else endpoint_type,
            "autoscaling": _scales(target, scaling_id in policies) or managed_on,
            "scaling_suspended": _suspended(target),
            # capacity bought in advance: a training plan or ML capacity reservation serving the variant
            "capacity_reservation": (live.get("CapacityReservationConfig") or variant.get("CapacityReservationConfig")
                                     or {}).get("MlReservationArn"),
            "min_count": managed.get("MinInstanceCount") if managed_on else target.get("MinCapacity"),
            "max_count": managed.get("MaxInstanceCount") if managed_on else target.get("MaxCapacity"),
            "metrics_since": _iso(since) if serving else None,
        })
    return rows



def _pooled(variant: dict[str, Any], live: dict[str, Any]) -> tuple[str, int, str] | str:
    """What a variant with instance pools runs: (type, count, how that is known), or why it cannot be one type.

    SageMaker provisions from the pools in priority order (1 first) and DescribeEndpoint names each pool's current
    instances. A variant whose instances run on several pool types at once is heterogeneous: one type cannot
    price or size it.
    """
    running = [(p["InstanceType"], int(p.get("CurrentInstanceCount") or 0)) for p in live.get("InstancePools") or []
               if p.get("InstanceType") and p.get("CurrentInstanceCount")]
    if len(running) == 1:
        (instance_type, count), = running
        return instance_type, count, f"instance pools: all {count} running instance(s) are {instance_type}"
    if running:
        mix = ", ".join(f"{t} x{c}" for t, c in running)
        return (f"its instance pools run several instance types at once ({mix}): a heterogeneous variant cannot be "
                "priced or sized as one type")
    first = min(variant["InstancePools"], key=lambda p: int(p.get("Priority") or 5))
    return (first["InstanceType"], 0, f"instance pools: no instance running; {first['InstanceType']} is the "
                                      "first-priority pool")


def _suspended(target: dict[str, Any]) -> bool:
    """Dynamic scaling suspended in either direction (SuspendedState): the policy no longer follows the load."""
    state = target.get("SuspendedState") or {}
    return bool(state.get("DynamicScalingInSuspended") or state.get("DynamicScalingOutSuspended"))


def _scales(target: dict[str, Any], has_policy: bool) -> bool:
    """Auto scaling that acts: a scalable target with a policy, room between min and max, and nothing suspended."""
    if not target or not has_policy or _suspended(target):
        return False
    low, high = target.get("MinCapacity"), target.get("MaxCapacity")
    return low is None or high is None or low < high


def _ran_in(window: Window, start: datetime | None, end: datetime | None) -> bool:
    start = start or window.start
    end = end or datetime.now(UTC)
    return start < window.end and end >= window.start


def _job_definition(job: dict[str, Any]) -> tuple[str | None, int, str | None, str | None]:
    """(instance type, instances, instance groups, how the type is known when the job names no single one) of a
    job's ResourceConfig. A heterogeneous cluster (``InstanceGroups``) is named by its first group's type and
    priced group by group (``TYPE:COUNT;...``)."""
    config = job.get("ResourceConfig", {})
    if config.get("InstanceType"):
        return config["InstanceType"], int(config.get("InstanceCount", 1)), None, None
    if config.get("SelectedInstanceType"):  # chosen by SageMaker from InstancePreferences; billed for it
        return (config["SelectedInstanceType"], int(config.get("SelectedInstanceCount") or 1), None,
                "instance preferences: SageMaker selected this type (SelectedInstanceType)")
    preferences = config.get("InstancePreferences") or []
    if preferences:
        first = preferences[0]
        return (first["InstanceType"], int(first.get("InstanceCount") or 1), None,
                "assumed: SageMaker has not selected a type from the instance preferences yet; priced as the first")
    groups = config.get("InstanceGroups") or []
    if not groups:
        return None, 0, None, None
    described = ";".join(f"{g['InstanceType']}:{int(g.get('InstanceCount', 1))}" for g in groups)
    return groups[0]["InstanceType"], sum(int(g.get("InstanceCount", 1)) for g in groups), described, None


def _training_row(job: dict[str, Any]) -> Row:
    instance_type, count, groups, note = _job_definition(job)
    spot = bool(job.get("EnableManagedSpotTraining"))
    # a warm pool keeps the instances after the job for KeepAlivePeriodInSeconds, billed at the instance rate
    warm_pool = (job.get("WarmPoolStatus") or {}).get("ResourceRetainedBillableTimeInSeconds")
    return {
        "resource_id": job["TrainingJobName"], "kind": Kind.SAGEMAKER_TRAINING_JOB.value,
        "name": job["TrainingJobName"], "instance_type": instance_type, "instance_type_note": note, "count": count,
        "instance_groups": groups,
        "lifecycle": "spot" if spot else "on-demand", "state": job.get("TrainingJobStatus"), "tags": {},
        "managed_spot": spot, "checkpointing": bool(job.get("CheckpointConfig")),
        "training_seconds": job.get("TrainingTimeInSeconds"), "billable_seconds": job.get("BillableTimeInSeconds"),
        "warm_pool_seconds": warm_pool, "launch_time": _iso(job.get("TrainingStartTime")),
        # a SageMaker training plan: capacity bought in advance for the job
        "capacity_reservation": (job.get("ResourceConfig") or {}).get("TrainingPlanArn"),
    }


class TrainingJobs:
    """DescribeTrainingJob results of one region, fetched once and shared by training and tuning readers."""

    def __init__(self, client: Clients, problems: list[str] | None = None) -> None:
        self._client = client
        self._described: dict[str, dict[str, Any]] = {}
        self.problems: list[str] = [] if problems is None else problems  # jobs that could not be read, one line each

    def describe(self, name: str) -> dict[str, Any]:
        if name not in self._described:
            self._described[name] = self._client("sagemaker").describe_training_job(TrainingJobName=name)
        return self._described[name]

    def rows(self, window: Window) -> list[Row]:
        """Jobs that ran in the window, except those launched by a tuning job (counted on the tuning job)."""
        summaries = (summary for summary in _pages(self._client("sagemaker"), "list_training_jobs",
                                                   "TrainingJobSummaries", LastModifiedTimeAfter=window.start)
                     if _ran_in(window, summary.get("CreationTime"), summary.get("TrainingEndTime")))

        def read(summary: dict[str, Any]) -> list[Row]:
            job = self.describe(summary["TrainingJobName"])
            if job.get("TuningJobArn") or not _ran_in(window, job.get("TrainingStartTime"), job.get("TrainingEndTime")):
                return []
            return [_training_row(job)]

        return _each(summaries, "SageMaker training job", "TrainingJobName", read, self.problems)

    def tuning_rows(self, window: Window) -> list[Row]:
        sagemaker = self._client("sagemaker")
        summaries = (summary for summary in _pages(sagemaker, "list_hyper_parameter_tuning_jobs",
                                                   "HyperParameterTuningJobSummaries",
                                                   LastModifiedTimeAfter=window.start)
                     if _ran_in(window, summary.get("CreationTime"), summary.get("HyperParameterTuningEndTime")))

        def read(summary: dict[str, Any]) -> list[Row]:
            name = summary["HyperParameterTuningJobName"]
            tuning = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
            children = list(_pages(sagemaker, "list_training_jobs_for_hyper_parameter_tuning_job",
                                   "TrainingJobSummaries", HyperParameterTuningJobName=name))
            jobs = [(child, self.describe(child["TrainingJobName"])) for child in children]
            if jobs and not any(_ran_in(window, j.get("TrainingStartTime"), j.get("TrainingEndTime"))
                                for _, j in jobs):
                return []
            return [_tuning_row(tuning, jobs)]

        return _each(summaries, "SageMaker tuning job", "HyperParameterTuningJobName", read, self.problems)


def _tuning_row(tuning: dict[str, Any], jobs: list[tuple[dict[str, Any], dict[str, Any]]]) -> Row:
    config = tuning.get("HyperParameterTuningJobConfig", {})
    definition = tuning.get("TrainingJobDefinition") or (tuning.get("TrainingJobDefinitions") or [{}])[0]
    instance_type, count, groups, note = _job_definition(definition)
    if instance_type is None and definition.get("HyperParameterTuningResourceConfig"):
        instance_type, count, note = _tuning_resources(definition["HyperParameterTuningResourceConfig"], jobs)
    spot = bool(definition.get("EnableManagedSpotTraining"))
    # a multi-definition job states its objective per definition (TrainingJobDefinitions[].TuningObjective)
    objective = config.get("HyperParameterTuningJobObjective") or definition.get("TuningObjective") or {}
    minimize = objective.get("Type", "Minimize") == "Minimize"
    # Hyperband stops trials itself and AWS requires TrainingJobEarlyStoppingType Off with it
    hyperband = config.get("Strategy") == "Hyperband"
    finished = [(job.get("TrainingEndTime"), child.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value"),
                 float(job.get("BillableTimeInSeconds") or 0)) for child, job in jobs]
    name = tuning["HyperParameterTuningJobName"]
    return {
        "resource_id": name, "kind": Kind.SAGEMAKER_TUNING_JOB.value, "name": name,
        "instance_type": instance_type, "instance_type_note": note, "count": count, "instance_groups": groups,
        "capacity_reservation": (definition.get("ResourceConfig") or {}).get("TrainingPlanArn"),
        "lifecycle": "spot" if spot else "on-demand", "state": tuning.get("HyperParameterTuningJobStatus"), "tags": {},
        "managed_spot": spot, "checkpointing": bool(definition.get("CheckpointConfig")),
        "early_stopping": "Hyperband" if hyperband else config.get("TrainingJobEarlyStoppingType", "Off"),
        "training_jobs": len(jobs),
        "billable_seconds": sum(float(job.get("BillableTimeInSeconds") or 0) for _, job in jobs),
        "training_seconds": sum(float(job.get("TrainingTimeInSeconds") or 0) for _, job in jobs),
        "lagging_billable_seconds": lagging_billable_seconds(finished, minimize),
    }


def _tuning_resources(config: dict[str, Any], jobs: list[tuple[dict[str, Any], dict[str, Any]]]
                      ) -> tuple[str | None, int, str | None]:
    """What a tuning job's HyperParameterTuningResourceConfig ran on: its one type, else its training jobs' types.

    With several InstanceConfigs, SageMaker picks one per training job (AllocationStrategy Prioritized); the jobs
    say which. When they ran on several types, the type with the most billable time prices the whole (stated).
    """
    if config.get("InstanceType"):
        return config["InstanceType"], int(config.get("InstanceCount") or 1), None
    seconds: dict[tuple[str, int], float] = {}
    for _, job in jobs:
        resources = job.get("ResourceConfig") or {}
        kind = resources.get("InstanceType") or resources.get("SelectedInstanceType")
        if kind:
            key = (str(kind), int(resources.get("InstanceCount") or resources.get("SelectedInstanceCount") or 1))
            seconds[key] = seconds.get(key, 0.0) + float(job.get("BillableTimeInSeconds") or 0)
    configs = config.get("InstanceConfigs") or []
    if not seconds:
        if not configs:
            return None, 0, None
        return (configs[0]["InstanceType"], int(configs[0].get("InstanceCount") or 1),
                "assumed: no training job has run yet; priced as the first of its instance configs")
    (instance_type, count), _ = max(seconds.items(), key=lambda item: (item[1], item[0]))
    if len(seconds) == 1:
        return instance_type, count, "instance configs: every training job ran on this type"
    mix = ", ".join(f"{t} x{c} ({s:,.0f} s)" for (t, c), s in sorted(seconds.items()))
    return instance_type, count, (f"assumed: its training jobs ran on several types ({mix}); priced as the one "
                                  "with the most billable time")


def lagging_billable_seconds(jobs: list[tuple[datetime | None, float | None, float]], minimize: bool) -> float:
    """Billable seconds of jobs whose final objective was worse than the median of the jobs finished before.

    These are the jobs early stopping could have cut short: ``jobs`` holds (end time, final objective,
    billable seconds); jobs without an end or an objective are left out.
    """
    done = sorted((end, value, seconds) for end, value, seconds in jobs if end is not None and value is not None)
    total = 0.0
    for end, value, seconds in done:
        earlier = [v for e, v, _ in done if e < end]
        if earlier:
            median = statistics.median(earlier)
            if (value > median) if minimize else (value < median):
                total += seconds
    return total


def training_jobs(reading: Reading) -> list[Row]:
    return reading.shared(_training_jobs).rows(reading.window)


def tuning_jobs(reading: Reading) -> list[Row]:
    return reading.shared(_training_jobs).tuning_rows(reading.window)


def _training_jobs(reading: Reading) -> TrainingJobs:
    return TrainingJobs(reading.client, reading.problems)


def notebooks(reading: Reading) -> list[Row]:
    sagemaker = reading.client("sagemaker")
    configs: dict[str, bool | None] = {}

    def read(notebook: dict[str, Any]) -> list[Row]:
        name = notebook.get("NotebookInstanceLifecycleConfigName")
        if name and name not in configs:
            configs[name] = _stops_when_idle(sagemaker, name, notebook["NotebookInstanceName"], reading.problems)
        return _notebook_rows(notebook, configs.get(name) if name else False)

    return _each(_pages(sagemaker, "list_notebook_instances", "NotebookInstances"), "SageMaker notebook instance",
                 "NotebookInstanceName", read, reading.problems)


# What an idle-shutdown script calls or is named: aws-samples' auto-stop-idle (autostop.py), or its own stop call.
AUTO_STOP = re.compile(r"auto-?stop|stop[-_]notebook[-_]instance|StopNotebookInstance", re.IGNORECASE)


def _stops_when_idle(sagemaker: Any, name: str, notebook: str, problems: list[str]) -> bool | None:
    """Whether a lifecycle configuration's scripts stop the notebook when idle (None: it cannot be read)."""
    try:
        config = sagemaker.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    except AWS_ERRORS as exc:
        problems.append(f"SageMaker notebook instance {notebook}: its lifecycle configuration {name} cannot be read "
                        f"({describe_error(exc)}), so whether it stops when idle is unknown")
        return None
    scripts = [hook.get("Content", "") for key in ("OnStart", "OnCreate") for hook in config.get(key) or []]
    text = "\n".join(base64.b64decode(script).decode("utf-8", "replace") for script in scripts)
    return any(AUTO_STOP.finditer(text))


def _notebook_rows(notebook: dict[str, Any], auto_stop: bool | None) -> list[Row]:
    """SageMaker publishes no utilization for notebook instances: what AWS does say is the status, when it last
    changed (LastModifiedTime: started, stopped or updated) and whether a lifecycle configuration stops it."""
    return [{
        "resource_id": notebook["NotebookInstanceName"], "kind": Kind.SAGEMAKER_NOTEBOOK.value,
        "name": notebook["NotebookInstanceName"], "instance_type": notebook.get("InstanceType"), "count": 1,
        "state": notebook.get("NotebookInstanceStatus"), "tags": {},
        "lifecycle_config": notebook.get("NotebookInstanceLifecycleConfigName"), "auto_stop": auto_stop,
        "last_modified": _iso(notebook.get("LastModifiedTime")),
    }]


def batch_environments(reading: Reading) -> list[Row]:
    return _each(_pages(reading.client("batch"), "describe_compute_environments", "computeEnvironments"),
                 "AWS Batch compute environment", "computeEnvironmentName", _batch_rows, reading.problems)


def _batch_rows(environment: dict[str, Any]) -> list[Row]:
    resources = environment.get("computeResources") or {}
    kind = resources.get("type", "")
    return [{
        "resource_id": environment["computeEnvironmentName"], "kind": Kind.BATCH_COMPUTE_ENVIRONMENT.value,
        "name": environment["computeEnvironmentName"],
        "instance_type": ",".join(resources.get("instanceTypes") or []) or None, "count": 1,
        "lifecycle": "spot" if kind in ("SPOT", "FARGATE_SPOT") else "on-demand",
        "state": environment.get("state"), "tags": dict(environment.get("tags") or {}),
        "allocation_strategy": resources.get("allocationStrategy"), "max_vcpus": resources.get("maxvCpus"),
    }]


# AWS Batch ComputeResource.instanceTypes may name a bundle Batch chooses from by the job queue's demand: since
# November 2025 "optimal" matches "default_x86_64" (before, it chose from c4, m4, r4, c5, m5 and r5).
BATCH_BUNDLES = {"optimal": ("m6i", "c6i", "r6i", "c7i"), "default_x86_64": ("m6i", "c6i", "r6i", "c7i"),
                 "default_arm64": ("m6g", "c6g", "r6g", "c7g")}


def resolve_batch_types(requested: object, offered: pd.DataFrame) -> tuple[str | None, str | None]:
    """A Batch environment's allowed types as concrete types offered in the region, and how they were resolved.

    A family name ("c5") allows any of its sizes and a bundle ("optimal", "default_x86_64", "default_arm64") any
    size of its families: Batch picks among them, so the environment is priced on all of them (an assumption,
    stated). A name the region does not offer is kept as given (it stays unpriced).
    """
    names = [n.strip() for n in str(requested or "").split(",") if n.strip()]
    concrete: list[str] = []
    resolved = []
    for name in names:
        if "." in name:
            concrete.append(name)
            continue
        families = BATCH_BUNDLES.get(name, (name,))
        sizes = offered.index[offered["family"].astype(str).isin(families) & ~offered["bare_metal"].astype(bool)]
        if len(sizes) == 0:
            concrete.append(name)
            continue
        concrete += [t for t in sizes if t not in concrete]
        resolved.append(f"'{name}' is any size of {', '.join(families)}" if name in BATCH_BUNDLES
                        else f"'{name}' is any {name} size")
    if not resolved:
        return ",".join(concrete) or None, None
    return ",".join(concrete), ("assumed: " + "; ".join(resolved) + " (AWS Batch picks among them by the job "
                                "queue's demand): priced at their mean price per vCPU")


def collect_inventory(client: Clients, account: str, region: str, window: Window) -> tuple[list[Row], list[str]]:
    """Every registered kind for one account and region. An object that cannot be read and a kind whose calls
    fail are reported and skipped; if every kind fails, the region is unavailable (``RegionUnavailable``)."""
    reading = Reading(client, window)
    readers = [(kind.plural, lister) for kind in kinds.all_kinds() if (lister := kind.read_inventory())]
    rows: list[Row] = []
    failures: list[str] = []
    for label, read in readers:
        try:
            rows.extend(read(reading))
        except Exception as exc:  # one kind's failure, expected or not, must not lose the others
            failures.append(f"{label}: {describe_error(exc)}")
    if len(failures) == len(readers):
        raise RegionUnavailable(failures[0].split(": ", 1)[1])
    for row in rows:
        row["account"], row["region"] = account, region
    return rows, ([f"{account}/{region}: {failure}; not collected" for failure in failures]
                  + [f"{account}/{region}: {problem}" for problem in reading.problems])
