"""Inventory against a real moto server (and Stubber for the tuning-job calls moto lacks)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import boto3
import pandas as pd
import pytest
from awsfakes import SAGEMAKER_ROLE, Seeder
from botocore.stub import Stubber

from advisor.model import normalize_inventory
from advisor.sources.aws.inventory import (
    Reading,
    TrainingJobs,
    collect_inventory,
    ebs_volumes,
    ec2_instances,
    lagging_billable_seconds,
    sagemaker_endpoints,
)
from advisor.sources.aws.session import AwsOptions, open_accounts
from advisor.sources.aws.window import Window


def _inventory(region: str = "us-east-1") -> dict[str, dict]:
    accounts, problems = open_accounts(AwsOptions())
    assert not problems
    account = accounts[0]
    window = Window.build(days=1, end=datetime.now(UTC) + timedelta(minutes=10))
    rows, problems = collect_inventory(lambda service: account.client(service, region), account.account_id, region,
                                       window)
    assert problems == []
    normalize_inventory(pd.DataFrame(rows))  # the frame contract accepts every row
    return {row["resource_id"]: row for row in rows}


def test_every_kind_is_read_with_its_fields(seed: Seeder) -> None:
    web = seed.instance("m5.xlarge", name="web", tags={"aws:autoscaling:groupName": "web-asg", "team": "ml"})
    spot = seed.instance("g4dn.xlarge", spot=True)
    attached = seed.volume("gp3", 200, attach_to=web, Iops=4000, Throughput=250)
    loose = seed.volume("gp2", 50)
    shared = seed.volume("io2", 100, attach_to=web, Iops=1000, MultiAttachEnabled=True)
    seed.endpoint("ranker", [
        {"VariantName": "A", "InitialInstanceCount": 2, "InstanceType": "ml.g4dn.xlarge", "InitialVariantWeight": 3},
        {"VariantName": "B", "InitialInstanceCount": 1, "InstanceType": "ml.m5.xlarge", "InitialVariantWeight": 1,
         "AcceleratorType": "ml.eia2.medium"},
    ])
    seed.autoscale("ranker", "A", 2, 6)
    seed.autoscale("ranker", "B", 1, 1, policy=False)
    seed.training_job("train-spot", "ml.p3.2xlarge", count=2, spot=True, checkpoints=True)
    seed.training_job("train-plain", "ml.m5.xlarge")
    seed.notebook("lab", "ml.t3.medium")
    seed.batch_environment("spot-gpu", "SPOT", ["g5.xlarge", "g5.2xlarge"])
    seed.batch_environment("cpu", "EC2", ["c5.large"])

    rows = _inventory()

    assert rows[web]["kind"] == "ec2_instance"
    assert (rows[web]["instance_type"], rows[web]["lifecycle"], rows[web]["state"]) == ("m5.xlarge", "on-demand",
                                                                                       "running")
    assert rows[web]["name"] == "web" and rows[web]["autoscaling_group"] == "web-asg"
    assert rows[web]["tags"]["team"] == "ml" and rows[web]["architecture"] == "x86_64" and rows[web]["launch_time"]
    assert rows[spot]["lifecycle"] == "spot"
    assert rows[attached]["kind"] == "ebs_volume"
    assert (rows[attached]["volume_type"], rows[attached]["size_gib"], rows[attached]["iops"],
            rows[attached]["throughput_mibps"], rows[attached]["attached_to"]) == ("gp3", 200, 4000, 250, web)
    assert rows[loose]["attached_to"] is None and rows[loose]["volume_type"] == "gp2"
    assert rows[shared]["multi_attach"] is True and rows[attached]["multi_attach"] is False
    # from its attachment, an in-use volume's missing I/O datapoints are measured zeros; a loose one has none
    assert rows[attached]["metrics_since"] and rows[loose]["metrics_since"] is None

    a, b = rows["ranker/A"], rows["ranker/B"]
    assert (a["kind"], a["endpoint"], a["variant"], a["instance_type"], a["count"]) == (
        "sagemaker_endpoint", "ranker", "A", "ml.g4dn.xlarge", 2)
    assert a["weight"] == pytest.approx(0.75) and b["weight"] == pytest.approx(0.25)
    assert (a["autoscaling"], a["min_count"], a["max_count"]) == (True, 2, 6)
    assert (b["autoscaling"], b["min_count"], b["max_count"]) == (False, 1, 1)  # a target without a policy
    assert b["accelerator_type"] == "ml.eia2.medium"

    job = rows["train-spot"]
    assert (job["kind"], job["instance_type"], job["count"], job["managed_spot"], job["checkpointing"],
            job["lifecycle"]) == ("sagemaker_training_job", "ml.p3.2xlarge", 2, True, True, "spot")
    assert rows["train-plain"]["managed_spot"] is False and rows["train-plain"]["checkpointing"] is False
    assert (rows["lab"]["kind"], rows["lab"]["instance_type"], rows["lab"]["state"]) == (
        "sagemaker_notebook", "ml.t3.medium", "InService")

    gpu_env = rows["spot-gpu"]
    assert (gpu_env["kind"], gpu_env["instance_type"], gpu_env["lifecycle"], gpu_env["allocation_strategy"],
            gpu_env["max_vcpus"]) == ("batch_compute_environment", "g5.xlarge,g5.2xlarge", "spot",
                                      "SPOT_CAPACITY_OPTIMIZED", 256)
    assert rows["cpu"]["lifecycle"] == "on-demand"
    assert {row["account"] for row in rows.values()} == {"123456789012"}


def test_many_instances_are_paginated(seed: Seeder) -> None:
    ec2 = seed.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    for _ in range(12):  # one reservation each: DescribeInstances pages by reservation
        ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2, InstanceType="t3.micro")
    pages = list(ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5}))
    assert len(pages) >= 3  # moto really pages
    assert sum(1 for row in _inventory().values() if row["kind"] == "ec2_instance") == 24


def test_terminated_instances_are_left_out(seed: Seeder) -> None:
    gone = seed.instance("m5.large")
    kept = seed.instance("m5.large")
    seed.client("ec2").terminate_instances(InstanceIds=[gone])
    rows = _inventory()
    assert kept in rows and gone not in rows


# -------------------------------------------------------------------------------- tuning jobs (Stubber)


def _stubbed_tuning_client() -> tuple[object, Stubber]:
    client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y",
                          endpoint_url="https://sagemaker.us-east-1.amazonaws.com")
    return client, Stubber(client)


def _tuning_rows(losses: dict[str, float], strategy: str = "Bayesian", direction: str = "Minimize",
                 multi: bool = False) -> list[dict]:
    """The whole tuning path on Stubber (moto has no ListTrainingJobsForHyperParameterTuningJob), replaying
    DescribeHyperParameterTuningJob's real shapes: one ``TrainingJobDefinition`` with the objective in
    ``HyperParameterTuningJobConfig``, or (``multi``) ``TrainingJobDefinitions`` each with its ``TuningObjective``."""
    client, stub = _stubbed_tuning_client()
    t0 = datetime.now(UTC) - timedelta(hours=6)
    count = len(losses)
    stub.add_response("list_hyper_parameter_tuning_jobs", {"HyperParameterTuningJobSummaries": [{
        "HyperParameterTuningJobName": "hpo", "HyperParameterTuningJobArn": "arn:aws:sagemaker:us-east-1:1:hpo",
        "HyperParameterTuningJobStatus": "Completed", "Strategy": strategy, "CreationTime": t0,
        "HyperParameterTuningEndTime": t0 + timedelta(hours=4),
        "TrainingJobStatusCounters": {"Completed": count}, "ObjectiveStatusCounters": {"Succeeded": count},
    }]})
    objective = {"Type": direction, "MetricName": "validation:loss"}
    definition = {
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "img"},
        "RoleArn": "arn:aws:iam::123456789012:role/sagemaker",
        "OutputDataConfig": {"S3OutputPath": "s3://b/o"},
        "ResourceConfig": {"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600}}
    config = {"Strategy": strategy, "TrainingJobEarlyStoppingType": "Off",
              "ResourceLimits": {"MaxNumberOfTrainingJobs": count, "MaxParallelTrainingJobs": 1}}
    if multi:
        definitions = {"TrainingJobDefinitions": [{**definition, "DefinitionName": "d1", "TuningObjective": objective}]}
    else:
        config["HyperParameterTuningJobObjective"] = objective
        definitions = {"TrainingJobDefinition": definition}
    stub.add_response("describe_hyper_parameter_tuning_job", {
        "HyperParameterTuningJobName": "hpo", "HyperParameterTuningJobArn": "arn:aws:sagemaker:us-east-1:1:hpo",
        "HyperParameterTuningJobConfig": config, **definitions,
        "HyperParameterTuningJobStatus": "Completed", "CreationTime": t0,
        "TrainingJobStatusCounters": {"Completed": count}, "ObjectiveStatusCounters": {"Succeeded": count},
    }, {"HyperParameterTuningJobName": "hpo"})
    stub.add_response("list_training_jobs_for_hyper_parameter_tuning_job", {"TrainingJobSummaries": [{
        "TrainingJobName": name, "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{name}",
        "CreationTime": t0, "TrainingJobStatus": "Completed", "TunedHyperParameters": {"lr": "0.1"},
        "TrainingStartTime": t0 + timedelta(hours=i), "TrainingEndTime": t0 + timedelta(hours=i, minutes=50),
        "FinalHyperParameterTuningJobObjectiveMetric": {"Type": direction, "MetricName": "validation:loss",
                                                        "Value": loss}}
        for i, (name, loss) in enumerate(losses.items())]}, {"HyperParameterTuningJobName": "hpo"})
    for i, name in enumerate(losses):
        stub.add_response("describe_training_job", {
            "TrainingJobName": name, "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{name}",
            "TuningJobArn": "arn:aws:sagemaker:us-east-1:1:hpo", "TrainingJobStatus": "Completed",
            "SecondaryStatus": "Completed", "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ModelArtifacts": {"S3ModelArtifacts": "s3://b/o/model.tar.gz"},
            "ResourceConfig": {"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600}, "CreationTime": t0,
            "TrainingStartTime": t0 + timedelta(hours=i), "TrainingEndTime": t0 + timedelta(hours=i, minutes=50),
            "TrainingTimeInSeconds": 3000, "BillableTimeInSeconds": 1000 * (i + 1)}, {"TrainingJobName": name})
    window = Window.build(days=1, end=datetime.now(UTC) + timedelta(minutes=10))
    with stub:
        rows = TrainingJobs(lambda service: client).tuning_rows(window)
    stub.assert_no_pending_responses()
    return rows


def test_tuning_job_totals_and_lagging_jobs_from_real_response_shapes() -> None:
    # finished in order j1 (loss 1.0), j2 (0.5), j3 (2.0: worse than median 0.75 -> lagging), j4 (0.6: better
    # than the median 1.0 of j1..j3 -> not lagging)
    (row,) = _tuning_rows({"j1": 1.0, "j2": 0.5, "j3": 2.0, "j4": 0.6})
    assert (row["kind"], row["instance_type"], row["count"], row["early_stopping"], row["training_jobs"]) == (
        "sagemaker_tuning_job", "ml.g5.2xlarge", 1, "Off", 4)
    assert row["billable_seconds"] == 1000 + 2000 + 3000 + 4000
    assert row["training_seconds"] == 4 * 3000
    assert row["lagging_billable_seconds"] == 3000  # only j3


def test_multi_definition_objective_direction_and_hyperband() -> None:
    improving = {"j1": 0.1, "j2": 0.2, "j3": 0.3, "j4": 0.4}  # every trial better than the ones before
    (row,) = _tuning_rows(improving, direction="Maximize", multi=True)
    assert row["lagging_billable_seconds"] == 0  # Maximize read from TrainingJobDefinitions[].TuningObjective
    (row,) = _tuning_rows(improving, direction="Minimize", multi=True)
    assert row["lagging_billable_seconds"] == 2000 + 3000 + 4000  # the same trials minimised: j2, j3, j4 lag
    (row,) = _tuning_rows(improving, strategy="Hyperband")
    assert row["early_stopping"] == "Hyperband"  # AWS requires Off with Hyperband: never "Off" to be turned on


def test_lagging_seconds_maximize_and_ties() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    jobs = [(t, 0.9, 10.0), (t, 0.1, 20.0), (t + timedelta(hours=1), 0.5, 30.0), (None, 0.0, 99.0)]
    # the first two finished together (neither has an earlier job); the third equals their median 0.5: not worse;
    # the unfinished one is left out
    assert lagging_billable_seconds(jobs, minimize=False) == 0.0
    jobs.append((t + timedelta(hours=2), 0.2, 40.0))  # below the median 0.5 of the three before
    assert lagging_billable_seconds(jobs, minimize=False) == 40.0


def test_volumes_attached_without_an_instance_or_still_creating() -> None:
    """moto attaches volumes to instances only: DescribeVolumes' real shape for a volume attached to an ECS/Fargate
    task (``State`` in-use, an attachment with ``AssociatedResource`` and ``InstanceOwningService``, no
    ``InstanceId``) and for one still ``creating`` (no attachment) is replayed with Stubber."""
    client = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(client)
    task = "arn:aws:ecs:us-east-1:123456789012:task/batch/0123456789abcdef0123456789abcdef"
    created = datetime(2026, 11, 1, tzinfo=UTC)
    stub.add_response("describe_volumes", {"Volumes": [
        {"VolumeId": "vol-task", "Size": 100, "VolumeType": "gp3", "State": "in-use", "AvailabilityZone": "us-east-1a",
         "CreateTime": created, "Iops": 3000, "Throughput": 125, "Encrypted": False, "Attachments": [{
             "AttachTime": created, "State": "attached", "VolumeId": "vol-task", "DeleteOnTermination": True,
             "AssociatedResource": task, "InstanceOwningService": "ecs.amazonaws.com"}]},
        {"VolumeId": "vol-new", "Size": 50, "VolumeType": "gp3", "State": "creating", "AvailabilityZone": "us-east-1a",
         "CreateTime": created, "Encrypted": False, "Attachments": []},
    ]})
    reading = Reading(lambda service: client, Window.build(days=1))
    with stub:
        rows = {row["resource_id"]: row for row in ebs_volumes(reading)}
    assert reading.problems == []
    assert (rows["vol-task"]["attached_to"], rows["vol-task"]["state"]) == (task, "in-use")
    assert rows["vol-task"]["operator"] == "ecs.amazonaws.com"  # sized by the ECS task definition, not here
    assert (rows["vol-new"]["attached_to"], rows["vol-new"]["state"], rows["vol-new"]["operator"]) == (
        None, "creating", None)


def test_instances_and_volumes_an_aws_service_operates_name_it() -> None:
    """moto gives no ``Operator``: DescribeInstances' and DescribeVolumes' shape for an instance and a volume an AWS
    service manages (``Operator`` ``Managed`` true with its ``Principal``, as EKS Auto Mode launches them) is
    replayed with Stubber, beside ones that are not managed."""
    client = boto3.client("ec2", **KEYS)
    stub = Stubber(client)
    managed = {"Managed": True, "Principal": "eks.amazonaws.com"}

    def instance(iid: str, **fields) -> dict:
        return {"InstanceId": iid, "InstanceType": "m5.large", "State": {"Code": 16, "Name": "running"},
                "LaunchTime": CREATED, "Placement": {"AvailabilityZone": "us-east-1a", "Tenancy": "default"},
                "PlatformDetails": "Linux/UNIX", "Architecture": "x86_64", **fields}

    stub.add_response("describe_instances", {"Reservations": [{"ReservationId": "r-1", "Instances": [
        instance("i-auto", Operator=managed), instance("i-mine", Operator={"Managed": False}), instance("i-plain")]}]})
    stub.add_response("describe_volumes", {"Volumes": [
        {"VolumeId": vid, "Size": 20, "VolumeType": "gp3", "State": "available", "AvailabilityZone": "us-east-1a",
         "CreateTime": CREATED, "Encrypted": False, "Attachments": [], **fields}
        for vid, fields in (("vol-auto", {"Operator": managed}), ("vol-plain", {}))]})
    reading = Reading(lambda service: client, Window.build(days=1, end=CREATED))
    with stub:
        instances = {row["resource_id"]: row["operator"] for row in ec2_instances(reading)}
        volumes = {row["resource_id"]: row["operator"] for row in ebs_volumes(reading)}
    assert reading.problems == []
    assert instances == {"i-auto": "eks.amazonaws.com", "i-mine": None, "i-plain": None}
    assert volumes == {"vol-auto": "eks.amazonaws.com", "vol-plain": None}


def test_variant_weights_come_from_the_live_current_weight() -> None:
    """moto's DescribeEndpoint has no ``CurrentWeight``: its real shape (weights changed live with
    UpdateEndpointWeightsAndCapacities, so they differ from the config's ``InitialVariantWeight``) is replayed."""
    keys = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "y"}
    sagemaker, scaling = boto3.client("sagemaker", **keys), boto3.client("application-autoscaling", **keys)
    stubs = Stubber(sagemaker), Stubber(scaling)
    created = datetime(2026, 11, 1, tzinfo=UTC)
    stubs[0].add_response("list_endpoints", {"Endpoints": [{
        "EndpointName": "ab", "EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/ab", "CreationTime": created,
        "LastModifiedTime": created, "EndpointStatus": "InService"}]})
    stubs[1].add_response("describe_scalable_targets", {"ScalableTargets": []})
    stubs[1].add_response("describe_scaling_policies", {"ScalingPolicies": []})
    stubs[0].add_response("describe_endpoint", {
        "EndpointName": "ab", "EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/ab",
        "EndpointConfigName": "ab-config", "EndpointStatus": "InService", "CreationTime": created,
        "LastModifiedTime": created, "ProductionVariants": [
            {"VariantName": "A", "CurrentWeight": 0.9, "DesiredWeight": 0.9, "CurrentInstanceCount": 2},
            {"VariantName": "B", "CurrentWeight": 0.1, "DesiredWeight": 0.1, "CurrentInstanceCount": 1}]})
    stubs[0].add_response("describe_endpoint_config", {
        "EndpointConfigName": "ab-config", "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:1:endpoint-config/ab",
        "CreationTime": created, "ProductionVariants": [
            {"VariantName": v, "ModelName": "m", "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 1,
             "InitialVariantWeight": 1.0} for v in "AB"]})
    reading = Reading(lambda service: scaling if service == "application-autoscaling" else sagemaker,
                      Window.build(days=1))
    with stubs[0], stubs[1]:
        rows = sagemaker_endpoints(reading)
    assert reading.problems == []
    assert [(r["variant"], r["weight"], r["count"]) for r in rows] == [("A", 0.9, 2), ("B", 0.1, 1)]


# ------------------------------------------------------------ what runs now (Stubber: shapes moto does not produce)

KEYS = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "y"}
CREATED = datetime(2026, 11, 1, tzinfo=UTC)
PLAN = "arn:aws:sagemaker:us-east-1:123456789012:training-plan/gpu-week"


def _endpoint_responses(stub: Stubber, name: str, status: str, live: list[dict] | None, config: dict) -> None:
    """DescribeEndpoint (``live``: its ProductionVariants, None when AWS gives none) and DescribeEndpointConfig."""
    described = {"EndpointName": name, "EndpointArn": f"arn:aws:sagemaker:us-east-1:1:endpoint/{name}",
                 "EndpointConfigName": f"{name}-config", "EndpointStatus": status, "CreationTime": CREATED,
                 "LastModifiedTime": CREATED}
    if live is not None:
        described["ProductionVariants"] = live
    stub.add_response("describe_endpoint", described, {"EndpointName": name})
    stub.add_response("describe_endpoint_config", {
        "EndpointConfigName": f"{name}-config", "CreationTime": CREATED,
        "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:1:endpoint-config/{name}", **config},
        {"EndpointConfigName": f"{name}-config"})


def test_endpoint_variants_count_the_instances_running_now() -> None:
    """Real DescribeEndpoint shapes moto does not produce: a ``Failed`` endpoint (no live variants), an asynchronous
    endpoint scaled to zero (``CurrentInstanceCount`` 0, ``AsyncInferenceConfig`` in its config) and a variant with
    ``ManagedInstanceScaling`` (SageMaker scales it between 1 and 4 instances without a scalable target)."""
    sagemaker, scaling = boto3.client("sagemaker", **KEYS), boto3.client("application-autoscaling", **KEYS)
    stubs = Stubber(sagemaker), Stubber(scaling)
    names = ("broken", "queue", "managed")
    stubs[0].add_response("list_endpoints", {"Endpoints": [{
        "EndpointName": n, "EndpointArn": f"arn:aws:sagemaker:us-east-1:1:endpoint/{n}", "CreationTime": CREATED,
        "LastModifiedTime": CREATED, "EndpointStatus": "InService"} for n in names]})
    stubs[1].add_response("describe_scalable_targets", {"ScalableTargets": []})
    stubs[1].add_response("describe_scaling_policies", {"ScalingPolicies": []})
    variant = {"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.g5.xlarge", "InitialInstanceCount": 2,
               "InitialVariantWeight": 1.0}
    _endpoint_responses(stubs[0], "broken", "Failed", None, {"ProductionVariants": [variant]})
    _endpoint_responses(stubs[0], "queue", "InService", [
        {"VariantName": "AllTraffic", "CurrentWeight": 1.0, "DesiredWeight": 1.0, "CurrentInstanceCount": 0,
         "DesiredInstanceCount": 0}],
        {"ProductionVariants": [variant], "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://b/out"}}})
    scaling_config = {"Status": "ENABLED", "MinInstanceCount": 1, "MaxInstanceCount": 4}
    _endpoint_responses(stubs[0], "managed", "InService", [
        {"VariantName": "AllTraffic", "CurrentWeight": 1.0, "DesiredWeight": 1.0, "CurrentInstanceCount": 3,
         "DesiredInstanceCount": 3, "ManagedInstanceScaling": scaling_config}],
        {"ProductionVariants": [{**variant, "ManagedInstanceScaling": scaling_config}]})
    reading = Reading(lambda service: scaling if service == "application-autoscaling" else sagemaker,
                      Window.build(days=1, end=CREATED))
    with stubs[0], stubs[1]:
        rows = {row["endpoint"]: row for row in sagemaker_endpoints(reading)}
    assert reading.problems == []
    assert (rows["broken"]["state"], rows["broken"]["count"]) == ("Failed", 0)  # not the config's initial 2
    assert (rows["queue"]["endpoint_type"], rows["queue"]["count"]) == ("async", 0)
    managed = rows["managed"]
    assert (managed["endpoint_type"], managed["count"], managed["autoscaling"], managed["min_count"],
            managed["max_count"]) == ("realtime", 3, True, 1, 4)


def test_heterogeneous_cluster_groups_and_warm_pool_time_are_read() -> None:
    """DescribeTrainingJob's real shapes for a heterogeneous cluster (``ResourceConfig.InstanceGroups``, no
    ``InstanceType``) and a job on a training plan whose warm pool kept its instances (``TrainingPlanArn``,
    ``WarmPoolStatus``), which moto does not give."""
    client, stub = _stubbed_tuning_client()
    end = CREATED + timedelta(hours=5)
    stub.add_response("list_training_jobs", {"TrainingJobSummaries": [{
        "TrainingJobName": n, "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{n}",
        "CreationTime": CREATED, "TrainingEndTime": end, "TrainingJobStatus": "Completed"}
        for n in ("hetero", "warm")]})
    common = {"TrainingJobStatus": "Completed", "SecondaryStatus": "Completed", "CreationTime": CREATED,
              "AlgorithmSpecification": {"TrainingInputMode": "File"}, "TrainingStartTime": CREATED,
              "TrainingEndTime": end, "ModelArtifacts": {"S3ModelArtifacts": "s3://b/m.tar.gz"},
              "StoppingCondition": {"MaxRuntimeInSeconds": 36000}, "TrainingTimeInSeconds": 18000,
              "BillableTimeInSeconds": 18000}
    stub.add_response("describe_training_job", {
        "TrainingJobName": "hetero", "TrainingJobArn": "arn:aws:sagemaker:us-east-1:1:training-job/hetero", **common,
        "ResourceConfig": {"VolumeSizeInGB": 100, "InstanceGroups": [
            {"InstanceType": "ml.p4d.24xlarge", "InstanceCount": 2, "InstanceGroupName": "gpu"},
            {"InstanceType": "ml.c5.4xlarge", "InstanceCount": 4, "InstanceGroupName": "data"}]}},
        {"TrainingJobName": "hetero"})
    stub.add_response("describe_training_job", {
        "TrainingJobName": "warm", "TrainingJobArn": "arn:aws:sagemaker:us-east-1:1:training-job/warm", **common,
        "ResourceConfig": {"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50,
                           "KeepAlivePeriodInSeconds": 3600, "TrainingPlanArn": PLAN},
        "WarmPoolStatus": {"Status": "Terminated", "ResourceRetainedBillableTimeInSeconds": 3600}},
        {"TrainingJobName": "warm"})
    with stub:
        rows = {r["resource_id"]: r for r in TrainingJobs(lambda service: client).rows(
            Window.build(days=1, end=end + timedelta(hours=1)))}
    stub.assert_no_pending_responses()
    hetero, warm = rows["hetero"], rows["warm"]
    assert (hetero["instance_type"], hetero["count"], hetero["instance_groups"]) == (
        "ml.p4d.24xlarge", 6, "ml.p4d.24xlarge:2;ml.c5.4xlarge:4")
    assert (warm["instance_groups"], warm["warm_pool_seconds"], warm["billable_seconds"]) == (None, 3600, 18000)
    assert (hetero["capacity_reservation"], warm["capacity_reservation"]) == (None, PLAN)


def test_purchase_option_tenancy_reservation_and_outpost_are_read() -> None:
    """DescribeInstances' real shapes moto does not produce: an instance in an EC2 Capacity Block
    (``InstanceLifecycle`` capacity-block, ``CapacityReservationId``), one in an On-Demand Capacity Reservation, one
    on a Dedicated Host, one on an Outposts rack and Windows instances (``PlatformDetails``, or only ``Platform``
    "windows")."""
    client = boto3.client("ec2", **KEYS)
    stub = Stubber(client)

    def instance(iid: str, **fields) -> dict:
        return {"InstanceId": iid, "InstanceType": "p5.48xlarge", "State": {"Code": 16, "Name": "running"},
                "LaunchTime": CREATED, "Placement": {"AvailabilityZone": "us-east-1a", "Tenancy": "default"},
                "PlatformDetails": "Linux/UNIX", "Architecture": "x86_64", **fields}

    stub.add_response("describe_instances", {"Reservations": [{"ReservationId": "r-1", "Instances": [
        instance("i-block", InstanceLifecycle="capacity-block", CapacityReservationId="cr-block"),
        instance("i-odcr", CapacityReservationId="cr-0odcr"),
        instance("i-host", Placement={"AvailabilityZone": "us-east-1a", "Tenancy": "host", "HostId": "h-1"}),
        instance("i-rack", OutpostArn="arn:aws:outposts:us-east-1:123456789012:outpost/op-1"),
        instance("i-win", InstanceType="m5.xlarge", PlatformDetails="Windows", Platform="windows"),
        {k: v for k, v in instance("i-old-win", InstanceType="m5.xlarge", Platform="windows").items()
         if k != "PlatformDetails"},  # only the older Platform field
    ]}]})
    reading = Reading(lambda service: client, Window.build(days=1, end=CREATED))
    with stub:
        rows = {row["resource_id"]: row for row in ec2_instances(reading)}
    assert reading.problems == []
    got = {rid: (r["lifecycle"], r["capacity_reservation"], r["tenancy"], r["outpost"], r["platform"])
           for rid, r in rows.items()}
    assert got == {
        "i-block": ("capacity-block", "cr-block", "default", None, "Linux/UNIX"),
        "i-odcr": ("on-demand", "cr-0odcr", "default", None, "Linux/UNIX"),
        "i-host": ("on-demand", None, "host", None, "Linux/UNIX"),
        "i-rack": ("on-demand", None, "default", "arn:aws:outposts:us-east-1:123456789012:outpost/op-1", "Linux/UNIX"),
        "i-win": ("on-demand", None, "default", None, "Windows"),
        "i-old-win": ("on-demand", None, "default", None, "Windows"),
    }


def test_suspended_or_pinned_scaling_is_not_auto_scaling(seed: Seeder) -> None:
    variant = {"VariantName": "A", "InitialInstanceCount": 2, "InstanceType": "ml.m5.xlarge"}
    for name in ("scaling", "paused", "pinned"):
        seed.endpoint(name, [variant])
    seed.autoscale("scaling", "A", 2, 6)
    seed.autoscale("paused", "A", 2, 6)
    seed.autoscale("pinned", "A", 4, 4)
    seed.client("application-autoscaling").register_scalable_target(  # updates the target: scale-in suspended
        ServiceNamespace="sagemaker", ResourceId="endpoint/paused/variant/A",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        SuspendedState={"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": False,
                        "ScheduledScalingSuspended": False})
    rows = _inventory()
    assert (rows["scaling/A"]["autoscaling"], rows["scaling/A"]["scaling_suspended"]) == (True, False)
    assert (rows["paused/A"]["autoscaling"], rows["paused/A"]["scaling_suspended"]) == (False, True)
    assert (rows["pinned/A"]["autoscaling"], rows["pinned/A"]["min_count"], rows["pinned/A"]["max_count"]) == (
        False, 4, 4)


def test_shadow_variants_are_inventoried() -> None:
    """moto keeps no ``ShadowProductionVariants``: DescribeEndpointConfig's and DescribeEndpoint's real shapes for an
    endpoint with a shadow variant (its own instances, a sampling weight, live ``CurrentInstanceCount``) are
    replayed with Stubber."""
    keys = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "y"}
    sagemaker, scaling = boto3.client("sagemaker", **keys), boto3.client("application-autoscaling", **keys)
    stubs = Stubber(sagemaker), Stubber(scaling)
    created = datetime(2026, 11, 1, tzinfo=UTC)
    stubs[0].add_response("list_endpoints", {"Endpoints": [{
        "EndpointName": "ranker", "EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/ranker",
        "CreationTime": created, "LastModifiedTime": created, "EndpointStatus": "InService"}]})
    stubs[1].add_response("describe_scalable_targets", {"ScalableTargets": []})
    stubs[1].add_response("describe_scaling_policies", {"ScalingPolicies": []})
    stubs[0].add_response("describe_endpoint", {
        "EndpointName": "ranker", "EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/ranker",
        "EndpointConfigName": "ranker-config", "EndpointStatus": "InService", "CreationTime": created,
        "LastModifiedTime": created,
        "ProductionVariants": [{"VariantName": "main", "CurrentWeight": 1.0, "CurrentInstanceCount": 3}],
        "ShadowProductionVariants": [{"VariantName": "candidate", "CurrentWeight": 0.5, "CurrentInstanceCount": 2}]})
    stubs[0].add_response("describe_endpoint_config", {
        "EndpointConfigName": "ranker-config", "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:1:endpoint-config/r",
        "CreationTime": created,
        "ProductionVariants": [{"VariantName": "main", "ModelName": "m1", "InstanceType": "ml.g5.xlarge",
                                "InitialInstanceCount": 3, "InitialVariantWeight": 1.0}],
        "ShadowProductionVariants": [{"VariantName": "candidate", "ModelName": "m2", "InstanceType": "ml.g5.2xlarge",
                                      "InitialInstanceCount": 1, "InitialVariantWeight": 0.5}]})
    reading = Reading(lambda service: scaling if service == "application-autoscaling" else sagemaker,
                      Window.build(days=1))
    with stubs[0], stubs[1]:
        rows = {row["variant"]: row for row in sagemaker_endpoints(reading)}
    assert reading.problems == []
    main, shadow = rows["main"], rows["candidate"]
    assert (main["variant_role"], main["count"], main["weight"]) == ("production", 3, 1.0)
    # the shadow variant's own instances are paid for; it takes a copy of a sample of the traffic, so no share
    assert (shadow["variant_role"], shadow["instance_type"], shadow["count"], shadow["weight"]) == (
        "shadow", "ml.g5.2xlarge", 2, None)
    assert shadow["resource_id"] == "ranker/candidate" and shadow["metrics_since"] == created.isoformat()


# the OnStart script of aws-samples' auto-stop-idle lifecycle configuration, in short
AUTO_STOP_SCRIPT = """#!/bin/bash
set -e
IDLE_TIME=3600
wget https://raw.githubusercontent.com/aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-samples/\
master/scripts/auto-stop-idle/autostop.py
(crontab -l; echo "*/5 * * * * /usr/bin/python3 $PWD/autostop.py --time $IDLE_TIME") | crontab -
"""


def test_notebooks_say_whether_a_lifecycle_configuration_stops_them(seed: Seeder) -> None:
    sagemaker = seed.client("sagemaker")
    for name, script in (("auto-stop", AUTO_STOP_SCRIPT), ("conda-setup", "#!/bin/bash\nconda env update\n")):
        content = base64.b64encode(script.encode()).decode()
        sagemaker.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name,
                                                            OnStart=[{"Content": content}])
    seed.notebook("bare")
    for name, config in (("stops", "auto-stop"), ("setup-only", "conda-setup"), ("also-stops", "auto-stop")):
        sagemaker.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t3.medium",
                                           RoleArn=SAGEMAKER_ROLE, LifecycleConfigName=config)
    rows = _inventory()
    assert (rows["bare"]["lifecycle_config"], rows["bare"]["auto_stop"]) == (None, False)
    assert (rows["stops"]["lifecycle_config"], rows["stops"]["auto_stop"]) == ("auto-stop", True)
    assert rows["also-stops"]["auto_stop"] is True
    assert (rows["setup-only"]["lifecycle_config"], rows["setup-only"]["auto_stop"]) == ("conda-setup", False)
    assert rows["bare"]["last_modified"] and rows["bare"]["state"] == "InService"


def test_a_notebook_lifecycle_configuration_that_cannot_be_read_leaves_auto_stop_unknown(seed: Seeder) -> None:
    seed.client("sagemaker").create_notebook_instance(NotebookInstanceName="orphan", InstanceType="ml.t3.medium",
                                                      RoleArn=SAGEMAKER_ROLE, LifecycleConfigName="deleted")
    accounts, _ = open_accounts(AwsOptions())
    rows, problems = collect_inventory(lambda service: accounts[0].client(service, "us-east-1"),
                                       accounts[0].account_id, "us-east-1", Window.build(days=1))
    (row,) = [r for r in rows if r["resource_id"] == "orphan"]
    assert row["auto_stop"] is None and row["lifecycle_config"] == "deleted"
    (problem,) = problems
    assert problem.startswith("123456789012/us-east-1: SageMaker notebook instance orphan: its lifecycle "
                              "configuration deleted cannot be read (")
    assert problem.endswith("so whether it stops when idle is unknown")
