"""Silent series: counters AWS publishes only with activity are zeros for an active resource, not absences.

ListMetrics lists only series with data in the last two weeks, and SageMaker publishes ``Invocations`` (EBS its
I/O counters on Xen instances) only in periods with requests. An endpoint never invoked has no Invocations series
at all; the collector queries it by its known dimensions and counts each period CloudWatch answered ``Complete``
without a datapoint, while the variant was serving, as a measured zero. moto stamps resources with its own clock,
so the ages AWS would report (an endpoint last changed, a volume attached, 20 days ago) are set by editing the
parsed DescribeEndpoint and DescribeVolumes answers; ListMetrics forgetting a job that ended over two weeks ago
is replayed by removing its series from the parsed ListMetrics answer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pandas as pd
import pytest
from awsfakes import Seeder, now_floor

from advisor.catalog import load_catalog
from advisor.engine.pipeline import audit
from advisor.sources.aws.collect import collect_into_store, load_frames
from advisor.sources.aws.session import AwsOptions
from advisor.sources.aws.window import Window, epoch
from advisor.store.cache import Store

AGE = timedelta(days=20)


def _age_and_forget(session: boto3.Session, aged: set[str], failed: set[str], forgotten: str) -> None:
    """Hooks editing parsed answers: older endpoints and attachments, a failed endpoint, a forgotten job."""
    old = now_floor() - AGE

    def endpoint(parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("EndpointName") in aged:
            parsed["LastModifiedTime"] = parsed["CreationTime"] = old
        if parsed.get("EndpointName") in failed:
            parsed["EndpointStatus"] = "Failed"

    def volumes(parsed: dict[str, Any], **_: Any) -> None:
        for volume in parsed.get("Volumes", []):
            for attachment in volume.get("Attachments", []):
                attachment["AttachTime"] = old

    def listing(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Metrics"] = [m for m in parsed.get("Metrics", [])
                             if not any(d["Value"].startswith(f"{forgotten}/") for d in m.get("Dimensions", []))]

    session.events.register("after-call.sagemaker.DescribeEndpoint", endpoint)
    session.events.register("after-call.ec2.DescribeVolumes", volumes)
    session.events.register("after-call.cloudwatch.ListMetrics", listing)


@pytest.fixture
def collected(seed: Seeder, tmp_path) -> dict[str, Any]:
    seed.training_job("old-job", "ml.m5.xlarge", count=2)  # moto's clock: created before the window's end is read
    end = now_floor()
    m5 = {"VariantName": "A", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    for name in ("quiet", "fresh", "broken", "busy"):
        seed.endpoint(name, [m5])
        seed.series("/aws/sagemaker/Endpoints", "CPUUtilization", {"EndpointName": name, "VariantName": "A"},
                    [20.0] * 24, end)
    seed.series("AWS/SageMaker", "Invocations", {"EndpointName": "busy", "VariantName": "A"}, [60.0] * 24, end)
    instance = seed.instance("m5.large")
    volume = seed.volume("gp3", 100, attach_to=instance)
    loose = seed.volume("gp3", 100)
    for host in ("old-job/algo-1", "old-job/algo-2"):
        seed.series("/aws/sagemaker/TrainingJobs", "CPUUtilization", {"Host": host}, [200.0] * 24, end)
    window = Window.build(days=14, end=end + timedelta(minutes=5))  # one period more: the job started just now
    options = AwsOptions(configure_session=lambda s: _age_and_forget(s, {"quiet", "broken", "busy"}, {"broken"},
                                                                     "old-job"))
    with Store(tmp_path / "s.duckdb") as store:
        collection = collect_into_store(options, store, window)
        inventory, metrics, problems = load_frames(store, collection, load_catalog())
    assert collection.problems == [] and problems == []
    return {"inventory": inventory.set_index("resource_id"), "metrics": metrics, "window": window,
            "volume": volume, "loose": loose}


def _samples(metrics, resource_id: str, metric: str):
    rows = metrics[(metrics["resource_id"] == resource_id) & (metrics["metric"] == metric)]
    return rows["value"]


def test_silent_counters_are_measured_zeros_only_while_active(collected: dict[str, Any]) -> None:
    window, metrics, inventory = collected["window"], collected["metrics"], collected["inventory"]
    answered = (epoch(window.settled) - epoch(window.start)) // window.period  # periods CloudWatch answered in full
    quiet = _samples(metrics, "quiet/A", "invocations")
    assert len(quiet) == answered and (quiet == 0).all()
    assert inventory.at["quiet/A", "measured_zeros"] == {"invocations": answered}
    # a gauge stays what CloudWatch sent: no zeros around the 24 CPU datapoints
    assert len(_samples(metrics, "quiet/A", "cpu")) == 2 * 24
    # traffic in the last two hours: its 24 datapoints kept, the periods before them measured zero
    busy = metrics[(metrics["resource_id"] == "busy/A") & (metrics["metric"] == "invocations")]
    settled = busy["timestamp"] < window.settled
    assert (busy["value"] > 0).sum() == 24 and (busy["value"] == 0).sum() == answered - settled[busy["value"] > 0].sum()
    # changed just now (moto's clock): no whole period since; failed: not serving. Neither gets zeros.
    for unknown in ("fresh/A", "broken/A"):
        assert _samples(metrics, unknown, "invocations").empty
        assert inventory.at[unknown, "measured_zeros"] is None
    # an attached volume without I/O data reads zero I/O; a loose one reports nothing, and nothing is assumed
    volume, loose = collected["volume"], collected["loose"]
    for metric in ("read_iops", "write_iops"):
        values = _samples(metrics, volume, metric)
        assert len(values) > 0 and (values == 0).all()
        assert _samples(metrics, loose, metric).empty
    assert _samples(metrics, volume, "read_bytes").empty  # not a zero-when-absent metric: still absent
    # a job ListMetrics forgot is read by its hosts JOB/algo-1 and JOB/algo-2
    cpu = _samples(metrics, "old-job", "cpu")
    assert len(cpu) == 2 * 24 and cpu.median() == pytest.approx(50.0)  # 200 % of 4 vCPUs on ml.m5.xlarge


def test_the_idle_rule_fires_on_measured_zeros_and_says_so(collected: dict[str, Any]) -> None:
    window = collected["window"]
    result = audit(collected["inventory"].reset_index(), collected["metrics"], load_catalog(),
                   window=(pd.Timestamp(window.start), pd.Timestamp(window.end)))
    found = {(r.resource_id, r.rule): r for r in result.recommendations}
    idle = found[("quiet/A", "sagemaker-endpoint-idle")]
    assert idle.target == "delete" and idle.monthly_savings == idle.monthly_cost_now > 0
    assert idle.evidence.measured_zeros == collected["inventory"].at["quiet/A", "measured_zeros"]
    assert any(note.startswith("Measured zeros: ") and "periods of invocations" in note
               for note in idle.evidence.notes)
    assert ("busy/A", "sagemaker-endpoint-idle") not in found
    assert ("fresh/A", "sagemaker-endpoint-idle") not in found and ("broken/A", "sagemaker-endpoint-idle") not in found
    volume = found[(collected["volume"], "ebs-idle")]
    assert volume.target == "delete" and volume.evidence.measured_zeros["read_iops"] > 0
