"""End to end against moto: inventory + ListMetrics + GetMetricData -> store -> canonical frames."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from awsfakes import Calls, Seeder, now_floor

from advisor.catalog import load_catalog
from advisor.sources.aws.collect import collect_into_store, load_frames
from advisor.sources.aws.session import AwsOptions, account_regions, open_accounts
from advisor.sources.aws.window import Window
from advisor.store.cache import Store

HOURS = 6
STEPS = HOURS * 12  # 5-minute points


def _flat(value: float) -> list[float]:
    return [value] * STEPS


@pytest.fixture
def fleet(seed: Seeder) -> dict[str, str]:
    # moto stamps the job with its own clock: create it before reading the clock for the window's end, so the job
    # starts no later than that end whenever the set-up crosses a 5-minute boundary
    seed.training_job("train", "ml.p3.2xlarge", count=2)
    end = now_floor()
    agent = seed.instance("m5.xlarge", name="with-agent")
    bare = seed.instance("m5.xlarge", name="no-agent")
    gpu = seed.instance("g5.12xlarge", name="gpu")
    volume = seed.volume("gp2", 100, attach_to=agent)
    seed.endpoint("ranker", [{"VariantName": "A", "InitialInstanceCount": 1, "InstanceType": "ml.g4dn.xlarge"}])
    for instance in (agent, bare, gpu):
        seed.series("AWS/EC2", "CPUUtilization", {"InstanceId": instance}, _flat(40.0), end)
    seed.series("AWS/EC2", "NetworkIn", {"InstanceId": agent}, _flat(300_000.0), end)
    # the agent with append_dimensions: read the set with the fewest dimensions, once
    seed.series("CWAgent", "mem_used_percent", {"InstanceId": agent}, _flat(55.0), end)
    seed.series("CWAgent", "mem_used_percent", {"InstanceId": agent, "ImageId": "ami-1", "InstanceType": "m5.xlarge"},
                _flat(99.0), end)
    for index, (busy, used) in enumerate(((20.0, 8000.0), (60.0, 4000.0))):
        dims = {"InstanceId": gpu, "index": str(index), "name": "NVIDIA A10G"}
        seed.series("CWAgent", "nvidia_smi_utilization_gpu", dims, _flat(busy), end)
        seed.series("CWAgent", "nvidia_smi_memory_used", dims, _flat(used), end)
        seed.series("CWAgent", "nvidia_smi_memory_total", dims, _flat(16000.0), end)
    # EBS publishes its I/O every minute and is read at 60 s: 120 reads a minute, with one busy minute an hour
    minutes = [1200.0 if i % 60 == 30 else 120.0 for i in range(HOURS * 60)]
    seed.series("AWS/EBS", "VolumeReadOps", {"VolumeId": volume}, minutes, end, step=timedelta(minutes=1))
    # BurstBalance is read at its per-period Minimum: the credits left at the worst minute (the mean would say 80)
    balance = [40.0 if i % 5 == 1 else 90.0 for i in range(HOURS * 60)]
    seed.series("AWS/EBS", "BurstBalance", {"VolumeId": volume}, balance, end, step=timedelta(minutes=1))
    variant = {"EndpointName": "ranker", "VariantName": "A"}
    seed.series("/aws/sagemaker/Endpoints", "CPUUtilization", variant, _flat(200.0), end)  # 4 vCPUs
    seed.series("/aws/sagemaker/Endpoints", "GPUUtilization", variant, _flat(80.0), end)  # 1 GPU
    seed.series("AWS/SageMaker", "Invocations", variant, _flat(300.0), end)
    seed.series("/aws/sagemaker/TrainingJobs", "CPUUtilization", {"Host": "train/algo-1"}, _flat(400.0), end)
    seed.series("/aws/sagemaker/TrainingJobs", "CPUUtilization", {"Host": "train/algo-2"}, _flat(200.0), end)
    return {"agent": agent, "bare": bare, "gpu": gpu, "volume": volume, "end": end.isoformat()}


def _window(fleet: dict[str, str]) -> Window:
    end = datetime.fromisoformat(fleet["end"])  # one period more: the training job was created just now
    return Window.build(start=end - timedelta(hours=HOURS), end=end + timedelta(minutes=5))


def test_collect_normalizes_every_canonical_metric(fleet: dict[str, str], tmp_path, calls: Calls) -> None:
    window = _window(fleet)
    with Store(tmp_path / "store.duckdb") as store:
        collection = collect_into_store(AwsOptions(configure_session=calls.configure), store, window)
        inventory, metrics, problems = load_frames(store, collection, load_catalog())
    assert collection.problems == [] and problems == []
    # one call at 300 s, one at 60 s (the EBS I/O counters, per-minute sums)
    assert collection.calls == collection.planned_calls == calls.counts["GetMetricData"] == 2
    kinds = inventory.groupby("kind")["resource_id"].apply(set)
    assert kinds["ec2_instance"] == {fleet["agent"], fleet["bare"], fleet["gpu"]}
    assert fleet["volume"] in kinds["ebs_volume"]
    assert kinds["sagemaker_endpoint"] == {"ranker/A"} and kinds["sagemaker_training_job"] == {"train"}
    avg = metrics[metrics["stat"] == "avg"].groupby(["resource_id", "metric"], observed=True)["value"].median()
    expected = {
        (fleet["agent"], "cpu"): 40.0, (fleet["agent"], "network_in"): 1000.0, (fleet["agent"], "memory"): 55.0,
        (fleet["gpu"], "gpu"): 40.0, (fleet["gpu"], "gpu_memory"): 37.5,
        (fleet["gpu"], "gpu_memory_busiest"): 50.0,  # the fuller GPU (8,000 of 16,000 MiB), not their mean
        (fleet["volume"], "read_iops"): 2.0,  # 120 a minute
        ("ranker/A", "cpu"): 50.0, ("ranker/A", "gpu"): 80.0, ("ranker/A", "invocations"): 60.0,
        ("train", "cpu"): 37.5,
    }
    for key, value in expected.items():
        assert avg[key] == pytest.approx(value), key
    # no agent, no memory: absent, never zero
    assert (fleet["bare"], "memory") not in avg.index and (fleet["bare"], "cpu") in avg.index
    assert set(metrics["stat"]) == {"avg", "max", "min"}
    burst = metrics[(metrics["resource_id"] == fleet["volume"]) & (metrics["metric"] == "burst_balance")]
    assert set(burst["stat"]) == {"min"} and (burst["value"] == 40.0).all() and len(burst) == STEPS
    # the busy minute's 20 IOPS is kept, not averaged away into a 5-minute period (5.6 IOPS)
    reads = metrics[(metrics["resource_id"] == fleet["volume"]) & (metrics["metric"] == "read_iops")]
    assert reads["value"].max() == pytest.approx(20.0) and len(reads) == HOURS * 60
    points = metrics[(metrics["resource_id"] == fleet["agent"]) & (metrics["metric"] == "cpu")]
    assert len(points) == 2 * STEPS and points["timestamp"].dt.tz is not None
    assert points["timestamp"].min() == pd.Timestamp(window.start)


def test_audit_path_through_load_source(fleet: dict[str, str], tmp_path) -> None:
    from advisor.sources import load_source
    from advisor.sources.aws import AwsRequest

    request = AwsRequest(AwsOptions(), _window(fleet), tmp_path / "store.duckdb")
    data = load_source("aws", aws=request)
    assert data.label.startswith("aws (") and data.problems == []
    assert set(data.inventory["kind"]) == {"ec2_instance", "ebs_volume", "sagemaker_endpoint",
                                           "sagemaker_training_job"}
    assert {"cpu", "memory", "gpu", "gpu_memory", "invocations"} <= set(data.metrics["metric"].astype(str))


def test_repeated_names_across_regions_are_qualified(aws: str, tmp_path) -> None:
    end = now_floor()
    for region in ("us-east-1", "eu-west-1"):
        seeder = Seeder(region=region)
        seeder.endpoint("ranker", [{"VariantName": "A", "InitialInstanceCount": 1, "InstanceType": "ml.m5.xlarge"}])
        seeder.series("/aws/sagemaker/Endpoints", "CPUUtilization", {"EndpointName": "ranker", "VariantName": "A"},
                      [100.0 if region == "us-east-1" else 300.0] * 12, end, region=region)
    window = Window.build(start=end - timedelta(hours=1), end=end)
    with Store(tmp_path / "store.duckdb") as store:
        collection = collect_into_store(AwsOptions(regions=("us-east-1", "eu-west-1")), store, window)
        inventory, metrics, _ = load_frames(store, collection, load_catalog())
    ids = set(inventory["resource_id"])
    assert ids == {"123456789012/us-east-1/ranker/A", "123456789012/eu-west-1/ranker/A"}
    cpu = metrics[metrics["stat"] == "avg"].groupby("resource_id")["value"].median()
    assert cpu["123456789012/us-east-1/ranker/A"] == pytest.approx(25.0)  # ml.m5.xlarge: 4 vCPUs
    assert cpu["123456789012/eu-west-1/ranker/A"] == pytest.approx(75.0)


def test_all_regions_means_every_enabled_region(aws: str, calls: Calls) -> None:
    accounts, _ = open_accounts(AwsOptions(configure_session=calls.configure))
    regions = account_regions(accounts[0], ("all",))
    assert calls.counts["DescribeRegions"] == 1
    assert len(regions) > 10 and {"us-east-1", "eu-west-1"} <= set(regions)
    assert account_regions(accounts[0], ("eu-west-1", "eu-west-1")) == ["eu-west-1"]
    assert account_regions(accounts[0], ()) == ["us-east-1"]  # AWS_DEFAULT_REGION


def test_notebooks_from_aws_are_judged_without_utilization(seed: Seeder, tmp_path) -> None:
    """SageMaker publishes no notebook utilization: from AWS a notebook used to be skipped, always."""
    from advisor.engine.pipeline import audit

    seed.notebook("lab", "ml.t3.medium")  # InService, no lifecycle configuration
    end = now_floor()
    window = Window.build(start=end - timedelta(hours=1), end=end)
    with Store(tmp_path / "store.duckdb") as store:
        collection = collect_into_store(AwsOptions(), store, window)
        inventory, metrics, _ = load_frames(store, collection, load_catalog())
    result = audit(inventory, metrics, load_catalog(), window=(pd.Timestamp(window.start), pd.Timestamp(window.end)))
    (finding,) = [r for r in result.recommendations if r.resource_id == "lab"]
    assert (finding.rule, finding.confidence) == ("sagemaker-notebook-no-auto-stop", "low")  # just started (moto)
    assert finding.monthly_savings > 0 and finding.evidence.notebook["status"] == "InService"
    assert "lab" not in set(result.skipped["resource_id"])


def test_the_audit_from_groups_of_resources_equals_the_audit_of_the_whole_frame(
        fleet: dict[str, str], tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The AWS source summarizes its metrics a few resources at a time; the audit must not tell the difference."""
    from advisor.engine import samples, stats
    from advisor.engine.features import sample_needs
    from advisor.engine.pipeline import audit
    from advisor.settings import Settings
    from advisor.sources.aws import readback

    window = _window(fleet)
    catalog, settings = load_catalog(), Settings()
    monkeypatch.setattr(readback, "GROUP_POINTS", 100)  # about one resource a group (each has 72+ points a series)
    with Store(tmp_path / "store.duckdb") as store:
        collection = collect_into_store(AwsOptions(), store, window)
        whole = readback.read_back(store, collection.targets, window, collection.agent, catalog)
        streamed = readback.read_back(store, collection.targets, window, collection.agent, catalog,
                                      sample_needs(settings))
        assert streamed.summary is not None and streamed.summary.reread is not None
        some = {fleet["gpu"], "ranker/A"}
        again = streamed.summary.reread.frame_of(some)
    assert streamed.metrics.empty and streamed.summary.samples == len(whole.metrics) > 0
    pd.testing.assert_frame_equal(streamed.inventory, whole.inventory)
    assert streamed.problems == whole.problems
    when = datetime.fromisoformat(fleet["end"])
    expected = audit(whole.inventory, whole.metrics, catalog, settings, now=when)
    got = audit(streamed.inventory, streamed.summary, catalog, settings, now=when)
    assert (got.window_start, got.window_end) == (expected.window_start, expected.window_end)
    assert got.recommendations == expected.recommendations  # none: six hours are too few to advise on
    assert len(expected.features) == len(expected.inventory) > 5
    pd.testing.assert_frame_equal(got.features, expected.features)
    pd.testing.assert_frame_equal(got.skipped, expected.skipped)
    hourly = stats.hourly_buckets(whole.metrics)  # what the report draws from the long frame
    assert got.hourly is not None
    order = [np.lexsort((h.metrics.astype(str), h.resource_ids.astype(str))) for h in (hourly, got.hourly)]
    assert hourly.hour0 == got.hourly.hour0
    for name in ("resource_ids", "metrics", "maxes", "means", "counts"):
        np.testing.assert_array_equal(getattr(got.hourly, name)[order[1]], getattr(hourly, name)[order[0]])
    key = ["resource_id", "metric", "stat", "timestamp"]
    mine = whole.metrics[whole.metrics["resource_id"].isin(some)].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(again.sort_values(key, ignore_index=True), mine, check_categorical=False)
    assert streamed.summary.reread.history_days == samples.history_days(whole.metrics["timestamp"])
