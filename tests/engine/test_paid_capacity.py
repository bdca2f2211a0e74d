"""Capacity already paid for: a Capacity Block, a capacity reservation, a Dedicated Host, an Outposts rack, a
SageMaker training plan. Stopping or shrinking what runs there frees capacity, it does not cut the bill; Spot is
never advised for it; Dedicated Instances, which have their own rates, are not priced as shared ones.

Prices (bundled catalog, us-east-1): EC2 m5.4xlarge 0.768, m5.xlarge 0.192.
"""

from __future__ import annotations

import pytest
from fleet_builders import FleetBuilder, audit_fleet

from advisor.catalog import load_catalog
from advisor.report.summary import summarize

H = 730.0


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _idle(fleet: FleetBuilder, rid: str, instance_type: str = "m5.4xlarge", **fields) -> None:
    quiet = fleet.noise(5, 20)
    fleet.ec2(rid, instance_type, cpu=fleet.noise(0, 1), memory=fleet.noise(1, 2), network_in=quiet,
              network_out=quiet)
    fleet.inventory[-1].update(fields)


def test_an_idle_capacity_block_is_never_stop_to_save_and_never_spot(catalog):
    fleet = FleetBuilder()
    _idle(fleet, "i-block", lifecycle="capacity-block", capacity_reservation="cr-0block",
          tags={"aws:autoscaling:groupName": "train-asg"})
    _idle(fleet, "i-plain", tags={"aws:autoscaling:groupName": "web-asg"})
    result = audit_fleet(fleet, catalog)
    recs = {(r.resource_id, r.rule): r for r in result.recommendations}
    block = recs[("i-block", "ec2-idle")]
    assert (block.action, block.monthly_savings, block.monthly_cost_after) == ("stop", 0.0, block.monthly_cost_now)
    assert block.price_estimated  # a Capacity Block is paid at its own price: the on-demand rate only estimates it
    reserved = block.evidence.model_extra["reserved_capacity"]
    assert reserved == {"paid_for": "an EC2 Capacity Block", "cash_saving": False,
                        "capacity_freed_monthly": pytest.approx(0.768 * H, abs=0.01)}
    assert any("does not cut the bill" in note for note in block.evidence.notes)
    assert not [key for key in recs if key[0] == "i-block" and key[1].startswith("ec2-spot")]
    assert not result.features.at["i-block", "interruptible"]
    plain = recs[("i-plain", "ec2-idle")]
    assert plain.monthly_savings == pytest.approx(0.768 * H, abs=0.01)
    assert summarize(result).total_monthly_savings == plain.monthly_savings  # the block adds no cash


RESERVED = [
    ({"capacity_reservation": "cr-0abc"}, "On-Demand Capacity Reservation cr-0abc", False),
    ({"tenancy": "host"}, "a Dedicated Host", True),
    ({"outpost": "arn:aws:outposts:us-east-1:123456789012:outpost/op-0abc"}, "an AWS Outposts rack", True),
]


@pytest.fixture(scope="module")
def reserved_recs(catalog):
    """One audit of an instance on each kind of paid-for capacity above (``i-r-N``) beside a free one: each
    instance's advice is its own, so the cases share the run."""
    fleet = FleetBuilder()
    for number, (fields, _, _) in enumerate(RESERVED):
        fleet.ec2(f"i-r-{number}", "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25))
        fleet.inventory[-1].update(fields)
    fleet.ec2("i-free", "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25))
    return {(r.resource_id, r.rule): r for r in audit_fleet(fleet, catalog).recommendations}


@pytest.mark.parametrize("number", range(len(RESERVED)), ids=[paid_for for _, paid_for, _ in RESERVED])
def test_a_downsize_on_reserved_capacity_frees_capacity_not_cash(reserved_recs, number):
    _, paid_for, estimated = RESERVED[number]
    reserved, free = reserved_recs[(f"i-r-{number}", "ec2-overprovisioned")], reserved_recs[("i-free",
                                                                                              "ec2-overprovisioned")]
    assert reserved.target == free.target and free.monthly_savings > 0
    assert (reserved.monthly_savings, reserved.price_estimated) == (0.0, estimated)
    assert reserved.evidence.model_extra["reserved_capacity"]["paid_for"] == paid_for
    assert reserved.evidence.model_extra["reserved_capacity"]["capacity_freed_monthly"] == pytest.approx(
        free.monthly_savings, abs=0.01)
    assert all(option.monthly_savings in (None, 0.0) for option in reserved.options)


def test_dedicated_instances_are_skipped_not_priced_as_shared(catalog):
    fleet = FleetBuilder()
    _idle(fleet, "i-dedicated", tenancy="dedicated")
    result = audit_fleet(fleet, catalog)
    assert result.recommendations == []
    reason = dict(zip(result.skipped["resource_id"], result.skipped["reason"], strict=True))["i-dedicated"]
    assert reason == "no price for dedicated tenancy in the catalog (Dedicated Instances are billed at their own rates)"


def test_a_training_plan_job_is_never_moved_to_managed_spot(catalog):
    fleet = FleetBuilder()
    run = 10 * 12
    plan = "arn:aws:sagemaker:us-east-1:123456789012:training-plan/gpu-week"
    for rid, reservation in (("planned", plan), ("on-demand", None)):
        fleet.add(rid, "sagemaker_training_job", instance_type="ml.p3.2xlarge", count=1, managed_spot=False,
                  checkpointing=True, training_seconds=36000, billable_seconds=36000, capacity_reservation=reservation,
                  metrics={"cpu": fleet.noise(20, 30)[-run:], "gpu": fleet.noise(85, 95)[-run:]})
    result = audit_fleet(fleet, catalog)
    rules = {(r.resource_id, r.rule) for r in result.recommendations}
    assert ("on-demand", "sagemaker-training-managed-spot") in rules
    assert ("planned", "sagemaker-training-managed-spot") not in rules
    reason = dict(zip(result.skipped["resource_id"], result.skipped["reason"], strict=True))["planned"]
    assert reason == ("sagemaker-training-managed-spot: runs on capacity already paid for (SageMaker training plan "
                      "gpu-week), never moved to Spot")
