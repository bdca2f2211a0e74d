"""Cost now is what runs now: stopped, failed or scaled-to-zero resources cost nothing and are not advised; a
heterogeneous training cluster costs its groups; a warm pool's retained time is billed; an asynchronous endpoint
is never told to become asynchronous, and a variant SageMaker scales itself is not "fixed size".

Prices (bundled catalog, us-east-1): EC2 m5.xlarge 0.192; SageMaker ml.c5.2xlarge 0.4073, ml.m5.xlarge 0.23.
"""

from __future__ import annotations

import numpy as np
import pytest
from fleet_builders import STEPS_PER_DAY, FleetBuilder, audit_fleet

from advisor.catalog import load_catalog
from advisor.engine.actions.sagemaker import ASYNC_MIN_ZERO
from advisor.report.summary import summarize
from advisor.settings import Settings

H = 730.0
RUNS = H / (14 * 24 - 5 / 60)  # one run in the fleet's 14-day window, as a monthly rate


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _endpoint(fleet: FleetBuilder, rid: str, count: int, invocations: np.ndarray, **fields) -> None:
    endpoint, _, variant = rid.partition("/")
    fields = {"instance_type": "ml.c5.2xlarge", "autoscaling": False, "min_count": count, "max_count": count,
              **fields}
    fleet.add(rid, "sagemaker_endpoint", count=count, endpoint=endpoint, variant=variant,
              metrics={"cpu": fleet.noise(20, 30), "memory": fleet.noise(20, 30), "invocations": invocations},
              **fields)


def _skips(result) -> dict[str, str]:
    return dict(zip(result.skipped["resource_id"], result.skipped["reason"], strict=True))


def test_what_is_not_running_costs_nothing_and_is_not_spend_covered(catalog):
    fleet = FleetBuilder()
    quiet = fleet.noise(5, 20)
    fleet.ec2("i-stopped", "m5.xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(1, 2), network_in=quiet,
              network_out=quiet)
    fleet.inventory[-1]["state"] = "stopped"
    fleet.ec2("i-on", "m5.xlarge", cpu=fleet.noise(30, 40), memory=fleet.noise(40, 50))
    _endpoint(fleet, "failed/AllTraffic", 2, np.zeros(fleet.n), state="Failed")
    _endpoint(fleet, "zero/AllTraffic", 0, np.zeros(fleet.n), endpoint_type="async")  # scaled to zero
    fleet.add("nb-off", "sagemaker_notebook", instance_type="ml.m5.xlarge", state="Stopped",
              metrics={"cpu": fleet.noise(0, 1)})
    result = audit_fleet(fleet, catalog)
    skips = _skips(result)
    assert skips["i-stopped"] == "instance is stopped: no compute cost to optimise"
    assert skips["failed/AllTraffic"] == "endpoint is Failed: no instances to bill"
    assert skips["zero/AllTraffic"] == "no instances running (count 0): nothing is billed now"
    assert skips["nb-off"] == "notebook instance is Stopped: no instance to bill"
    costs = result.features["monthly_cost"]
    assert costs[["i-stopped", "failed/AllTraffic", "zero/AllTraffic", "nb-off"]].tolist() == [0.0] * 4
    assert costs["i-on"] == pytest.approx(0.192 * H)
    assert not {r.resource_id for r in result.recommendations} & {"i-stopped", "failed/AllTraffic",
                                                                   "zero/AllTraffic", "nb-off"}
    assert summarize(result).monthly_spend_covered == pytest.approx(0.192 * H, abs=0.01)


def test_a_bursty_async_endpoint_scales_to_zero_and_is_never_told_to_become_async(catalog):
    fleet = FleetBuilder()
    hour = (np.arange(fleet.n) % STEPS_PER_DAY) // 12
    bursts = np.where(hour == 2, 500.0, 0.0)
    _endpoint(fleet, "queue/AllTraffic", 2, bursts, endpoint_type="async")
    _endpoint(fleet, "scaled/AllTraffic", 2, bursts, endpoint_type="async", autoscaling=True, min_count=0)
    _endpoint(fleet, "sync/AllTraffic", 2, bursts)
    _endpoint(fleet, "idle/AllTraffic", 1, np.zeros(fleet.n), endpoint_type="async", instance_type="ml.m5.xlarge")
    result = audit_fleet(fleet, catalog)
    recs = {(r.resource_id, r.rule): r for r in result.recommendations}
    queue = recs[("queue/AllTraffic", "sagemaker-endpoint-bursty")]
    assert queue.target == ASYNC_MIN_ZERO
    assert "asynchronous inference" not in {o.instance_type for o in queue.options}
    assert queue.monthly_cost_after == pytest.approx(0.4073 * 2 * H / 24, abs=0.01)
    assert recs[("sync/AllTraffic", "sagemaker-endpoint-bursty")].target == "asynchronous inference (scale to 0)"
    assert ("scaled/AllTraffic", "sagemaker-endpoint-bursty") not in recs
    assert "already asynchronous with auto scaling down to 0" in _skips(result)["scaled/AllTraffic"]
    idle = recs[("idle/AllTraffic", "sagemaker-endpoint-idle")]
    assert [o.instance_type for o in idle.options] == ["delete", ASYNC_MIN_ZERO]


def test_a_variant_sagemaker_scales_itself_is_not_told_to_add_auto_scaling(catalog):
    fleet = FleetBuilder()
    hour = (np.arange(fleet.n) % STEPS_PER_DAY) // 12
    swing = np.where((hour >= 8) & (hour < 16), 400.0, 100.0)
    _endpoint(fleet, "fixed/AllTraffic", 4, swing)
    # ManagedInstanceScaling 1-4, as the AWS collector reads it
    _endpoint(fleet, "managed/AllTraffic", 4, swing, autoscaling=True, min_count=1, max_count=4)
    rules = {(r.resource_id, r.rule) for r in audit_fleet(fleet, catalog).recommendations}
    assert ("fixed/AllTraffic", "sagemaker-endpoint-autoscaling") in rules
    assert ("managed/AllTraffic", "sagemaker-endpoint-autoscaling") not in rules


def test_a_heterogeneous_cluster_costs_each_group_and_is_not_resized_as_one_type(catalog):
    fleet = FleetBuilder()
    run = 10 * 12  # 10 hours
    gpu = {"cpu": fleet.noise(20, 30)[-run:], "gpu": fleet.noise(5, 10)[-run:], "gpu_memory": fleet.noise(5, 10)[-run:],
           "memory": fleet.noise(20, 30)[-run:]}
    fleet.add("hetero", "sagemaker_training_job", instance_type="ml.p3.2xlarge", count=6,
              instance_groups="ml.p3.2xlarge:2;ml.c5.2xlarge:4", managed_spot=False, checkpointing=True,
              training_seconds=36000, billable_seconds=36000, metrics=gpu)
    result = audit_fleet(fleet, catalog)
    features = result.features.loc["hetero"]
    p3, c5 = catalog.sagemaker_hourly("ml.p3.2xlarge", "us-east-1")[0], 0.4073
    per_run = (2 * p3 + 4 * c5) * 10
    assert features["monthly_cost"] == pytest.approx(per_run * RUNS, abs=0.01)
    assert features["count"] == 6
    # Spot: the groups' Spot Advisor savings weighted by their on-demand cost
    table = catalog.prices.set_index(["instance_type", "region"])
    s = [float(table.at[(t, "us-east-1"), "spot_savings_pct"]) for t in ("p3.2xlarge", "c5.2xlarge")]
    w = [2 * catalog.hourly_price("p3.2xlarge", "us-east-1"), 4 * catalog.hourly_price("c5.2xlarge", "us-east-1")]
    assert features["spot_savings_pct"] == pytest.approx(np.average(s, weights=w))
    assert {r.rule for r in result.recommendations} == {"sagemaker-training-managed-spot"}
    # the GPU rule fires on the first group's type, but one type cannot size the cluster: its handler says why
    alone = audit_fleet(fleet, catalog, Settings(rules={"disabled": ["sagemaker-training-managed-spot"]}))
    assert alone.recommendations == []
    assert _skips(alone)["hetero"] == ("sagemaker-training-gpu-underused: a heterogeneous cluster "
                                       "(ml.p3.2xlarge:2;ml.c5.2xlarge:4) is sized group by group, not as one "
                                       "instance type")


def test_warm_pool_time_is_billed_and_spot_does_not_cut_it(catalog):
    fleet = FleetBuilder()
    run = 10 * 12
    fleet.add("warm", "sagemaker_training_job", instance_type="ml.m5.xlarge", count=1, managed_spot=False,
              checkpointing=True, training_seconds=36000, billable_seconds=36000, warm_pool_seconds=7200,
              metrics={"cpu": fleet.noise(20, 30)[-run:]})
    result = audit_fleet(fleet, catalog)
    assert result.features.at["warm", "monthly_cost"] == pytest.approx(0.23 * 12 * RUNS, abs=0.01)  # 10 h + 2 h
    rec = next(r for r in result.recommendations if r.rule == "sagemaker-training-managed-spot")
    spot = float(result.features.at["warm", "spot_hourly"])
    assert rec.monthly_cost_after == pytest.approx((spot * 10 + 0.23 * 2) * RUNS, abs=0.01)
    assert any("warm pool" in note for note in rec.evidence.notes)
    assert rec.evidence.model_extra["run_rate"]["cost_per_run"] == pytest.approx(0.23 * 12, abs=0.01)
