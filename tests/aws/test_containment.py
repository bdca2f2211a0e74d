"""One bad object never hides a region: an endpoint whose config was deleted, an endpoint deleted while the region
is read, an object or a ListMetrics page of a shape the readers do not expect. Each is one line in ``problems``;
every other object, kind and metric of the region is kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
from awsfakes import Calls, Seeder, now_floor

from advisor.catalog import load_catalog
from advisor.sources.aws.collect import collect_into_store, load_frames
from advisor.sources.aws.session import AwsOptions
from advisor.sources.aws.window import Window
from advisor.store.cache import Store

M5 = {"VariantName": "A", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}


def _collect(tmp_path, configure: Any = None) -> tuple[Any, Any, Any]:
    end = now_floor()
    window = Window.build(start=end - timedelta(hours=2), end=end)
    with Store(tmp_path / "s.duckdb") as store:
        collection = collect_into_store(AwsOptions(configure_session=configure), store, window)
        inventory, metrics, _ = load_frames(store, collection, load_catalog())
    return collection, inventory, metrics


def _instance_with_cpu(seed: Seeder) -> str:
    instance = seed.instance("m5.xlarge")
    seed.series("AWS/EC2", "CPUUtilization", {"InstanceId": instance}, [30.0] * 24, now_floor())
    return instance


def test_an_endpoint_whose_config_was_deleted_hides_no_other_endpoint(seed: Seeder, tmp_path) -> None:
    seed.endpoint("orphan", [M5])
    seed.endpoint("kept", [M5])
    seed.client("sagemaker").delete_endpoint_config(EndpointConfigName="orphan-config")  # AWS allows this
    collection, inventory, _ = _collect(tmp_path)
    assert "kept/A" in set(inventory["resource_id"]) and "orphan/A" not in set(inventory["resource_id"])
    (problem,) = collection.problems
    assert problem.startswith("123456789012/us-east-1: SageMaker endpoint orphan: its endpoint config "
                              "orphan-config cannot be read (ValidationException: Could not find endpoint "
                              "configuration")
    assert problem.endswith("so its instance types are unknown; skipped")


def test_an_endpoint_deleted_during_the_run_is_reported_and_the_rest_kept(seed: Seeder, tmp_path,
                                                                          calls: Calls) -> None:
    seed.endpoint("gone", [M5])
    seed.endpoint("kept", [M5])
    sagemaker = seed.client("sagemaker")

    def delete_before_describe(request, service, operation):
        if operation == "DescribeEndpoint" and b'"gone"' in request.body:
            sagemaker.delete_endpoint(EndpointName="gone")  # really deleted; moto answers as AWS does
        return None

    calls.faults.append(delete_before_describe)
    collection, inventory, _ = _collect(tmp_path, calls.configure)
    assert set(inventory.loc[inventory["kind"] == "sagemaker_endpoint", "resource_id"]) == {"kept/A"}
    (problem,) = collection.problems
    assert "SageMaker endpoint gone: ValidationException: Could not find endpoint" in problem
    assert problem.endswith("; skipped")


def _reshape(event: str, change: Any) -> Any:
    """Hook every collector session so that ``change`` edits the parsed response of ``event`` (a shape the readers
    do not expect), after botocore parsed the server's real answer."""
    def configure(session: boto3.Session) -> None:
        session.events.register(f"after-call.{event}", lambda parsed, **_: change(parsed))
    return configure


def test_an_object_of_an_unexpected_shape_is_skipped_alone(seed: Seeder, tmp_path) -> None:
    instance = _instance_with_cpu(seed)
    volumes = [seed.volume("gp3", 10), seed.volume("gp3", 20)]

    def drop_id(parsed: dict) -> None:
        for volume in parsed.get("Volumes", []):
            if volume["VolumeId"] == volumes[0]:
                del volume["VolumeId"]

    collection, inventory, metrics = _collect(tmp_path, _reshape("ec2.DescribeVolumes", drop_id))
    seen = set(inventory["resource_id"])
    assert {instance, volumes[1]} <= seen and volumes[0] not in seen  # (moto also gives the instance a root volume)
    assert collection.problems == ["123456789012/us-east-1: EBS volume (unnamed): KeyError: 'VolumeId'; skipped"]
    assert set(metrics["resource_id"]) == {instance}


def test_an_unexpected_failure_reading_metrics_keeps_the_region_inventory(seed: Seeder, tmp_path) -> None:
    instance = _instance_with_cpu(seed)

    def drop_value(parsed: dict) -> None:
        for metric in parsed.get("Metrics", []):
            for dimension in metric.get("Dimensions", []):
                dimension.pop("Value", None)

    collection, inventory, metrics = _collect(tmp_path, _reshape("cloudwatch.ListMetrics", drop_value))
    assert collection.targets == [("123456789012", "us-east-1")]
    assert instance in set(inventory["resource_id"]) and metrics.empty
    (problem,) = collection.problems
    assert problem == ("123456789012/us-east-1: CloudWatch metrics not collected: ListMetrics failed "
                       "(KeyError: 'Value')")
