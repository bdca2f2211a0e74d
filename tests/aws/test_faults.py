"""Faults: throttling, a call that keeps failing, a region that fails entirely, an account that cannot be
reached. Each run finishes with the rest collected and the failure stated in ``problems``."""

from __future__ import annotations

import io
from datetime import timedelta

import boto3
import pytest
from awsfakes import Calls, Seeder, error_response, now_floor, region_of
from rich.console import Console

from advisor.catalog import load_catalog
from advisor.cli.aws_request import RichProgress
from advisor.sources.aws.collect import CollectError, collect_into_store, load_frames
from advisor.sources.aws.session import AwsOptions
from advisor.sources.aws.window import Window
from advisor.store.cache import Store


def _seed_instance(seeder: Seeder, hours: int = 2) -> str:
    instance = seeder.instance("m5.xlarge", root_volume=False)
    seeder.series("AWS/EC2", "CPUUtilization", {"InstanceId": instance}, [30.0] * hours * 12, now_floor())
    return instance


def _window(hours: int = 2) -> Window:
    end = now_floor()
    return Window.build(start=end - timedelta(hours=hours), end=end)


def _throttle_first(count: int):
    """A fault that answers the first ``count`` GetMetricData attempts with Throttling."""
    throttled: list[str] = []

    def throttle(request, service, operation):
        if operation == "GetMetricData" and len(throttled) < count:
            throttled.append(operation)
            return error_response(request, service, 400, "Throttling", "Rate exceeded")
        return None

    return throttle


def test_throttled_calls_are_retried(seed: Seeder, tmp_path, calls: Calls) -> None:
    instance = _seed_instance(seed)
    calls.faults.append(_throttle_first(2))
    with Store(tmp_path / "s.duckdb") as store:
        collection = collect_into_store(AwsOptions(configure_session=calls.configure), store, _window())
        _, metrics, _ = load_frames(store, collection, load_catalog())
    assert collection.problems == []
    assert calls.counts["GetMetricData"] == collection.calls + 2  # two throttled attempts, then success
    assert (metrics["resource_id"] == instance).sum() == 2 * 24


def test_the_progress_shows_retries_while_a_throttled_run_waits(seed: Seeder, tmp_path, calls: Calls) -> None:
    """The CLI's progress (drawn on a terminal) counts the retried calls from botocore's own attempt numbers."""
    _seed_instance(seed)
    calls.faults.append(_throttle_first(2))
    screen = io.StringIO()
    progress = RichProgress(Console(file=screen, force_terminal=True, width=160))

    def configure(session: boto3.Session) -> None:
        calls.configure(session)
        progress.watch_retries(session)

    with Store(tmp_path / "s.duckdb") as store, progress:
        collection = collect_into_store(AwsOptions(configure_session=configure), store, _window(), progress)
    assert collection.problems == [] and progress.retries == 2
    assert "retries: 2 (last: GetMetricData, attempt 3" in screen.getvalue()


def test_a_call_that_keeps_failing_is_reported_and_fetched_next_run(seed: Seeder, tmp_path, calls: Calls) -> None:
    instance = _seed_instance(seed)
    calls.faults.append(lambda request, service, operation: error_response(
        request, service, 400, "Throttling", "Rate exceeded") if operation == "GetMetricData" else None)
    options = AwsOptions(max_attempts=2, configure_session=calls.configure)
    window = _window()
    with Store(tmp_path / "s.duckdb") as store:
        collection = collect_into_store(options, store, window)
        inventory, metrics, _ = load_frames(store, collection, load_catalog())
        assert instance in set(inventory["resource_id"]) and metrics.empty  # the inventory is kept
        (problem,) = collection.problems
        assert "1 of 1 GetMetricData calls failed (Throttling: Rate exceeded)" in problem
        calls.faults.clear()
        again = collect_into_store(options, store, window)
        _, metrics, _ = load_frames(store, again, load_catalog())
    assert again.problems == [] and again.calls == 1 and len(metrics) == 2 * 24


def test_one_region_failing_entirely(seed: Seeder, tmp_path, calls: Calls) -> None:
    kept = _seed_instance(seed)
    _seed_instance(Seeder(region="eu-west-1"))

    def disabled(request, service, operation):
        if region_of(request) == "eu-west-1":
            code = "AuthFailure" if service == "ec2" else "UnrecognizedClientException"
            return error_response(request, service, 401 if service == "ec2" else 403, code,
                                  "The security token included in the request is invalid.")
        return None

    calls.faults.append(disabled)
    options = AwsOptions(regions=("us-east-1", "eu-west-1"), configure_session=calls.configure)
    with Store(tmp_path / "s.duckdb") as store:
        collection = collect_into_store(options, store, _window())
        inventory, metrics, _ = load_frames(store, collection, load_catalog())
    assert collection.targets == [("123456789012", "us-east-1")]
    (problem,) = collection.problems
    assert problem.startswith("123456789012/eu-west-1: region skipped") and "AuthFailure" in problem
    assert set(inventory["resource_id"]) == {kept} | set(inventory.loc[inventory["kind"] == "ebs_volume",
                                                                       "resource_id"])
    assert set(metrics["resource_id"]) == {kept}


def test_one_account_whose_role_cannot_be_assumed(aws: str, tmp_path, calls: Calls) -> None:
    good, bad = "arn:aws:iam::111111111111:role/advisor", "arn:aws:iam::222222222222:role/advisor"
    credentials = boto3.client("sts").assume_role(RoleArn=good, RoleSessionName="seed")["Credentials"]
    member = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                           aws_secret_access_key=credentials["SecretAccessKey"],
                           aws_session_token=credentials["SessionToken"])
    instance = _seed_instance(Seeder(session=member))

    def deny(request, service, operation):
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        if operation == "AssumeRole" and b"222222222222" in body:
            return error_response(request, service, 403, "AccessDenied", "User is not authorized to perform: "
                                  "sts:AssumeRole on resource: " + bad)
        return None

    calls.faults.append(deny)
    options = AwsOptions(role_arns=(good, bad), external_id="ext-1", configure_session=calls.configure)
    with Store(tmp_path / "s.duckdb") as store:
        collection = collect_into_store(options, store, _window())
        inventory, metrics, _ = load_frames(store, collection, load_catalog())
    assert collection.targets == [("111111111111", "us-east-1")]
    (problem,) = collection.problems
    assert problem.startswith(bad) and "AccessDenied" in problem and "account skipped" in problem
    assert set(inventory["account"]) == {"111111111111"} and instance in set(inventory["resource_id"])
    assert set(metrics["resource_id"]) == {instance}


def test_nothing_collectable_is_one_clear_error(aws: str, tmp_path, calls: Calls) -> None:
    calls.faults.append(lambda request, service, operation: error_response(
        request, service, 403, "InvalidClientTokenId", "The security token included in the request is invalid."))
    with Store(tmp_path / "s.duckdb") as store, pytest.raises(CollectError, match="default credentials: "
                                                              "credentials could not be used"):
        collect_into_store(AwsOptions(configure_session=calls.configure), store, _window())


def test_metric_results_that_are_not_data_are_reported_and_fetched_next_run(seed: Seeder, tmp_path) -> None:
    """moto answers every query ``Complete``: an ``InternalError`` result (GetMetricData's real shape: a
    ``StatusCode`` and a ``Messages`` entry, no values) is replayed by editing the parsed answer of one call."""
    instance = _seed_instance(seed)

    def fail_maximum(parsed, **_):
        for result in parsed.get("MetricDataResults", []):
            if result["Id"] == "q1":  # the second query: CPUUtilization Maximum
                result.update(StatusCode="InternalError", Timestamps=[], Values=[],
                              Messages=[{"Code": "InternalError", "Value": "An internal error occurred"}])

    def configure(session: boto3.Session) -> None:
        session.events.register("after-call.cloudwatch.GetMetricData", fail_maximum)

    window = _window()
    with Store(tmp_path / "s.duckdb") as store:
        collection = collect_into_store(AwsOptions(configure_session=configure), store, window)
        _, metrics, _ = load_frames(store, collection, load_catalog())
        assert set(metrics["stat"]) == {"avg"}  # the Complete query is kept
        (problem,) = collection.problems
        assert problem == (f"123456789012/us-east-1: 1 of 2 CloudWatch series returned no usable data "
                           f"(InternalError (InternalError): 1; e.g. {instance} AWS/EC2 CPUUtilization Maximum: "
                           "InternalError (InternalError)); their periods will be fetched again on the next run")
        calls = Calls()
        again = collect_into_store(AwsOptions(configure_session=calls.configure), store, window)
        _, metrics, _ = load_frames(store, again, load_catalog())
    assert again.problems == [] and again.queries == 2
    # the failed query is asked for over the whole window again; the other only for its still-unsettled periods
    asked = {(q["MetricStat"]["Stat"], r["StartTime"]) for r in calls.requests for q in r["MetricDataQueries"]}
    assert ("Maximum", window.start) in asked and ("Average", window.start) not in asked
    assert len(metrics) == 2 * 24
