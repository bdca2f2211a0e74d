"""Running resources whose API names no single instance type are resolved to what they run on, or skipped with a
precise reason: endpoint variants on instance pools, training jobs with instance preferences, tuning jobs with
HyperParameterTuningResourceConfig, Batch environments allowed a family or a bundle ("optimal", "default_x86_64").

moto keeps none of the SageMaker fields (InstancePools, InstancePreferences / SelectedInstanceType,
HyperParameterTuningResourceConfig): their real DescribeEndpoint(Config), DescribeTrainingJob and
DescribeHyperParameterTuningJob shapes are replayed with Stubber. Batch runs on moto.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pandas as pd
from awsfakes import Seeder, now_floor
from botocore.stub import Stubber

from advisor.catalog import load_catalog
from advisor.engine.pipeline import audit
from advisor.sources.aws.collect import collect_into_store, load_frames
from advisor.sources.aws.inventory import Reading, TrainingJobs, sagemaker_endpoints
from advisor.sources.aws.session import AwsOptions
from advisor.sources.aws.window import Window
from advisor.store.cache import Store

KEYS = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "y"}
CREATED = datetime(2026, 11, 1, tzinfo=UTC)


def _pooled_endpoint(pools: dict[str, list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], list[str]]:
    """One endpoint with a variant per entry, each on instance pools (``InstancePools`` in the config, the pools'
    ``CurrentInstanceCount`` in DescribeEndpoint's ``ProductionVariants``)."""
    sagemaker, scaling = boto3.client("sagemaker", **KEYS), boto3.client("application-autoscaling", **KEYS)
    stubs = Stubber(sagemaker), Stubber(scaling)
    stubs[0].add_response("list_endpoints", {"Endpoints": [{
        "EndpointName": "hetero", "EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/hetero",
        "CreationTime": CREATED, "LastModifiedTime": CREATED, "EndpointStatus": "InService"}]})
    stubs[1].add_response("describe_scalable_targets", {"ScalableTargets": []})
    stubs[1].add_response("describe_scaling_policies", {"ScalingPolicies": []})
    stubs[0].add_response("describe_endpoint", {
        "EndpointName": "hetero", "EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/hetero",
        "EndpointConfigName": "hetero-config", "EndpointStatus": "InService", "CreationTime": CREATED,
        "LastModifiedTime": CREATED, "ProductionVariants": [
            {"VariantName": name, "CurrentWeight": 1.0,
             "CurrentInstanceCount": sum(p["count"] for p in variant),
             "InstancePools": [{"InstanceType": p["type"], "CurrentInstanceCount": p["count"]} for p in variant]}
            for name, variant in pools.items()]})
    stubs[0].add_response("describe_endpoint_config", {
        "EndpointConfigName": "hetero-config", "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:1:endpoint-config/h",
        "CreationTime": CREATED, "ProductionVariants": [
            {"VariantName": name, "ModelName": "m", "InitialInstanceCount": 2, "InitialVariantWeight": 1.0,
             "InstancePools": [{"InstanceType": p["type"], "Priority": p["priority"]} for p in variant]}
            for name, variant in pools.items()]})
    reading = Reading(lambda service: scaling if service == "application-autoscaling" else sagemaker,
                      Window.build(days=1))
    with stubs[0], stubs[1]:
        rows = sagemaker_endpoints(reading)
    return rows, reading.problems


def test_endpoint_variants_on_instance_pools_are_read_as_what_runs() -> None:
    rows, problems = _pooled_endpoint({
        "fallback": [{"type": "ml.g5.xlarge", "priority": 1, "count": 0}, {"type": "ml.g6.xlarge", "priority": 2,
                                                                          "count": 3}],
        "idle": [{"type": "ml.g6.xlarge", "priority": 2, "count": 0}, {"type": "ml.g5.xlarge", "priority": 1,
                                                                      "count": 0}],
        "mixed": [{"type": "ml.g5.xlarge", "priority": 1, "count": 2}, {"type": "ml.g6.xlarge", "priority": 2,
                                                                       "count": 1}],
    })
    by_variant = {row["variant"]: row for row in rows}
    # capacity ran out for the first pool: the three instances running are the second pool's
    fallback = by_variant["fallback"]
    assert (fallback["instance_type"], fallback["count"]) == ("ml.g6.xlarge", 3)
    assert fallback["instance_type_note"] == "instance pools: all 3 running instance(s) are ml.g6.xlarge"
    idle = by_variant["idle"]
    assert (idle["instance_type"], idle["count"]) == ("ml.g5.xlarge", 0)  # priority 1 is provisioned first
    assert "mixed" not in by_variant
    assert problems == ["SageMaker endpoint hetero variant mixed: its instance pools run several instance types at "
                        "once (ml.g5.xlarge x2, ml.g6.xlarge x1): a heterogeneous variant cannot be priced or sized "
                        "as one type; skipped"]


def _training(resource_config: dict[str, Any]) -> dict[str, Any]:
    """TrainingJobs.rows over one job whose DescribeTrainingJob has ``resource_config``."""
    client = boto3.client("sagemaker", **KEYS)
    stub = Stubber(client)
    start = now_floor() - timedelta(hours=3)
    stub.add_response("list_training_jobs", {"TrainingJobSummaries": [{
        "TrainingJobName": "prefs", "TrainingJobArn": "arn:aws:sagemaker:us-east-1:1:training-job/prefs",
        "CreationTime": start, "TrainingEndTime": start + timedelta(hours=2), "TrainingJobStatus": "Completed"}]})
    stub.add_response("describe_training_job", {
        "TrainingJobName": "prefs", "TrainingJobArn": "arn:aws:sagemaker:us-east-1:1:training-job/prefs",
        "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed",
        "AlgorithmSpecification": {"TrainingInputMode": "File"}, "ModelArtifacts": {"S3ModelArtifacts": "s3://b/m"},
        "ResourceConfig": resource_config, "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
        "CreationTime": start, "TrainingStartTime": start, "TrainingEndTime": start + timedelta(hours=2),
        "TrainingTimeInSeconds": 7200, "BillableTimeInSeconds": 7200}, {"TrainingJobName": "prefs"})
    with stub:
        (row,) = TrainingJobs(lambda service: client).rows(Window.build(days=1))
    return row


def test_a_training_job_with_instance_preferences_is_the_type_sagemaker_selected() -> None:
    preferences = [{"InstanceType": "ml.p4d.24xlarge", "InstanceCount": 1},
                   {"InstanceType": "ml.g5.12xlarge", "InstanceCount": 2}]
    selected = _training({"VolumeSizeInGB": 100, "InstancePreferences": preferences,
                          "SelectedInstanceType": "ml.g5.12xlarge", "SelectedInstanceCount": 2})
    assert (selected["instance_type"], selected["count"]) == ("ml.g5.12xlarge", 2)
    assert selected["instance_type_note"].startswith("instance preferences: SageMaker selected this type")
    pending = _training({"VolumeSizeInGB": 100, "InstancePreferences": preferences})
    assert (pending["instance_type"], pending["count"]) == ("ml.p4d.24xlarge", 1)
    assert pending["instance_type_note"].startswith("assumed: ")


def _tuning(resources: dict[str, Any], children: dict[str, tuple[str, int]]) -> dict[str, Any]:
    """TrainingJobs.tuning_rows over a tuning job whose definition has ``HyperParameterTuningResourceConfig`` and
    whose training jobs ran on ``children`` (name -> (type, billable seconds))."""
    client = boto3.client("sagemaker", **KEYS)
    stub = Stubber(client)
    start = now_floor() - timedelta(hours=6)
    stub.add_response("list_hyper_parameter_tuning_jobs", {"HyperParameterTuningJobSummaries": [{
        "HyperParameterTuningJobName": "hpo", "HyperParameterTuningJobArn": "arn:aws:sagemaker:us-east-1:1:hpo",
        "HyperParameterTuningJobStatus": "Completed", "Strategy": "Bayesian", "CreationTime": start,
        "HyperParameterTuningEndTime": start + timedelta(hours=5),
        "TrainingJobStatusCounters": {}, "ObjectiveStatusCounters": {}}]})
    stub.add_response("describe_hyper_parameter_tuning_job", {
        "HyperParameterTuningJobName": "hpo", "HyperParameterTuningJobArn": "arn:aws:sagemaker:us-east-1:1:hpo",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian", "TrainingJobEarlyStoppingType": "Off",
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 1}},
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "img"},
            "RoleArn": "arn:aws:iam::123456789012:role/sagemaker", "OutputDataConfig": {"S3OutputPath": "s3://b/o"},
            "HyperParameterTuningResourceConfig": resources, "StoppingCondition": {"MaxRuntimeInSeconds": 3600}},
        "HyperParameterTuningJobStatus": "Completed", "CreationTime": start,
        "TrainingJobStatusCounters": {}, "ObjectiveStatusCounters": {}}, {"HyperParameterTuningJobName": "hpo"})
    stub.add_response("list_training_jobs_for_hyper_parameter_tuning_job", {"TrainingJobSummaries": [{
        "TrainingJobName": name, "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{name}",
        "CreationTime": start, "TrainingJobStatus": "Completed", "TunedHyperParameters": {"lr": "0.1"},
        "TrainingStartTime": start, "TrainingEndTime": start + timedelta(hours=1)} for name in children]},
        {"HyperParameterTuningJobName": "hpo"})
    for name, (instance_type, seconds) in children.items():
        stub.add_response("describe_training_job", {
            "TrainingJobName": name, "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{name}",
            "TuningJobArn": "arn:aws:sagemaker:us-east-1:1:hpo", "TrainingJobStatus": "Completed",
            "SecondaryStatus": "Completed", "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ModelArtifacts": {"S3ModelArtifacts": "s3://b/m"},
            "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 50},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600}, "CreationTime": start, "TrainingStartTime": start,
            "TrainingEndTime": start + timedelta(hours=1), "TrainingTimeInSeconds": seconds,
            "BillableTimeInSeconds": seconds}, {"TrainingJobName": name})
    with stub:
        (row,) = TrainingJobs(lambda service: client).tuning_rows(Window.build(days=1))
    stub.assert_no_pending_responses()
    return row


def test_a_tuning_job_with_instance_configs_is_priced_as_its_training_jobs_ran() -> None:
    configs = {"AllocationStrategy": "Prioritized", "InstanceConfigs": [
        {"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
        {"InstanceType": "ml.g4dn.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50}]}
    one = _tuning(configs, {"a": ("ml.g4dn.2xlarge", 1000), "b": ("ml.g4dn.2xlarge", 2000)})
    assert (one["instance_type"], one["count"], one["billable_seconds"]) == ("ml.g4dn.2xlarge", 1, 3000)
    assert one["instance_type_note"] == "instance configs: every training job ran on this type"
    mixed = _tuning(configs, {"a": ("ml.g5.2xlarge", 1000), "b": ("ml.g4dn.2xlarge", 2500)})
    assert mixed["instance_type"] == "ml.g4dn.2xlarge" and mixed["instance_type_note"].startswith("assumed: ")
    assert "ml.g5.2xlarge x1 (1,000 s)" in mixed["instance_type_note"]
    single = _tuning({"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 30},
                     {"a": ("ml.m5.xlarge", 600)})
    assert (single["instance_type"], single["count"], single["instance_type_note"]) == ("ml.m5.xlarge", 2, None)


def test_batch_environments_allowed_a_family_or_a_bundle_are_priced_with_the_assumption_stated(
        seed: Seeder, tmp_path) -> None:
    seed.batch_environment("opt", "EC2", ["optimal"])
    seed.batch_environment("family", "EC2", ["c5"])
    seed.batch_environment("exact", "EC2", ["c5.large", "m5.large"])
    # moto refuses the bundles AWS added later at creation: DescribeComputeEnvironments' answer for them is
    # replayed by editing the parsed answer of environments created with "optimal"
    bundles = {"x86": "default_x86_64", "arm": "default_arm64"}
    for name in bundles:
        seed.batch_environment(name, "EC2", ["optimal"])

    def as_bundles(parsed: dict[str, Any], **_: Any) -> None:
        for environment in parsed.get("computeEnvironments", []):
            if environment["computeEnvironmentName"] in bundles:
                environment["computeResources"]["instanceTypes"] = [bundles[environment["computeEnvironmentName"]]]

    end = now_floor()
    window = Window.build(start=end - timedelta(hours=1), end=end)
    catalog = load_catalog()
    options = AwsOptions(configure_session=lambda session: session.events.register(
        "after-call.batch.DescribeComputeEnvironments", as_bundles))
    with Store(tmp_path / "store.duckdb") as store:
        collection = collect_into_store(options, store, window)
        inventory, metrics, _ = load_frames(store, collection, catalog)
    rows = inventory.set_index("resource_id")
    offered = catalog.offered("us-east-1")
    optimal = set(rows.at["opt", "instance_type"].split(","))
    assert {offered.at[t, "family"] for t in optimal} == {"m6i", "c6i", "r6i", "c7i"}
    assert not any(offered.at[t, "bare_metal"] for t in optimal) and "m6i.large" in optimal
    assert rows.at["opt", "instance_type_note"].startswith("assumed: 'optimal' is any size of m6i, c6i, r6i, c7i")
    assert {offered.at[t, "family"] for t in rows.at["family", "instance_type"].split(",")} == {"c5"}
    assert {offered.at[t, "arch"] for t in rows.at["arm", "instance_type"].split(",")} == {"arm64"}
    assert rows.at["x86", "instance_type"] == rows.at["opt", "instance_type"]  # optimal matches it since 2025-11
    assert (rows.at["exact", "instance_type"], rows.at["exact", "instance_type_note"]) == ("c5.large,m5.large", None)
    result = audit(inventory, metrics, catalog, window=(pd.Timestamp(window.start), pd.Timestamp(window.end)))
    assert not {"opt", "family", "arm", "x86"} & set(result.skipped["resource_id"])  # priced now, not "unpriced"
    spot = {r.resource_id: r for r in result.recommendations if r.rule == "batch-spot-compute-environment"}
    assert any(note.startswith("Instance type ") and "'optimal' is any size" in note
               for note in spot["opt"].evidence.notes)
