"""Resources someone else owns: a controller that replaces the instance (an EKS managed node group, a Karpenter
NodePool, an EMR cluster) gets the advice addressed to it; a resource an AWS service operates (``Operator``, a
volume attached to an ECS task) gets none, with the reason, and changes no other resource's result."""

from __future__ import annotations

import pytest
from fleet_builders import FleetBuilder, audit_fleet

from advisor.catalog import load_catalog

EKS = {"eks:cluster-name": "prod", "eks:nodegroup-name": "cpu-pool"}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _idle(fleet: FleetBuilder, rid: str, **fields) -> None:
    quiet = fleet.noise(5, 20)
    fleet.ec2(rid, "m5.4xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(1, 2), network_in=quiet,
              network_out=quiet)
    fleet.inventory[-1].update(fields)


def _oversized(fleet: FleetBuilder, rid: str, **fields) -> None:
    fleet.ec2(rid, "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25))
    fleet.inventory[-1].update(fields)


def _by_rule(result) -> dict[tuple[str, str], object]:
    return {(r.resource_id, r.rule): r for r in result.recommendations}


def test_an_idle_node_group_instance_is_told_to_scale_the_group_not_to_stop(catalog):
    fleet = FleetBuilder()
    _idle(fleet, "i-node", tags=EKS)
    _idle(fleet, "i-own")
    recs = _by_rule(audit_fleet(fleet, catalog))
    node, own = recs[("i-node", "ec2-idle")], recs[("i-own", "ec2-idle")]
    assert node.evidence.model_extra["managed_by"] == "EKS managed node group cpu-pool (cluster prod)"
    assert any("lower that group's desired" in note for note in node.evidence.notes)
    assert node.monthly_savings == own.monthly_savings  # the group's instance costs what this one does
    assert "managed_by" not in own.evidence.model_extra
    assert not any("group's desired" in note for note in own.evidence.notes)


CONTROLLED = [
    ({"tags": {"karpenter.sh/nodepool": "general"}}, "Karpenter NodePool general"),
    ({"tags": {"aws:elasticmapreduce:job-flow-id": "j-2AXXXXXXGAPLF"}}, "EMR cluster j-2AXXXXXXGAPLF"),
    ({"tags": EKS, "managed_by": "ASG web-fleet via Terraform"}, "ASG web-fleet via Terraform"),  # the column wins
]


@pytest.fixture(scope="module")
def controlled(catalog) -> dict[tuple[str, str], object]:
    """One audit of an instance under each controller above (``i-owned-N``) beside one under none: each instance's
    advice is its own, so the cases share the run."""
    fleet = FleetBuilder()
    for number, (fields, _) in enumerate(CONTROLLED):
        _oversized(fleet, f"i-owned-{number}", **fields)
    _oversized(fleet, "i-free")
    return _by_rule(audit_fleet(fleet, catalog))


@pytest.mark.parametrize("number", range(len(CONTROLLED)), ids=[owner for _, owner in CONTROLLED])
def test_a_downsize_of_a_controlled_instance_goes_to_the_controller_settings(controlled, number):
    owner = CONTROLLED[number][1]
    owned = controlled[(f"i-owned-{number}", "ec2-overprovisioned")]
    free = controlled[("i-free", "ec2-overprovisioned")]
    assert (owned.target, owned.monthly_savings) == (free.target, free.monthly_savings)
    assert owned.evidence.model_extra["managed_by"] == owner
    assert any(note.startswith(f"It belongs to {owner}: make the change in its settings")
               for note in owned.evidence.notes)
    assert "managed_by" not in free.evidence.model_extra


def test_a_resource_an_aws_service_operates_is_skipped_with_the_reason_and_changes_nothing_else(catalog):
    def fleet_with(operated: bool) -> FleetBuilder:
        fleet = FleetBuilder()
        _oversized(fleet, "i-free")
        _idle(fleet, "i-idle")
        if operated:
            _idle(fleet, "i-auto-mode", operator="eks.amazonaws.com")
            fleet.add("vol-task", "ebs_volume", volume_type="gp2", size_gib=500, iops=1500,
                      attached_to="arn:aws:ecs:us-east-1:123456789012:task/batch/0123", operator="ecs.amazonaws.com",
                      metrics={"read_iops": fleet.noise(0, 1)})
        return fleet

    alone, mixed = audit_fleet(fleet_with(False), catalog), audit_fleet(fleet_with(True), catalog)
    reasons = dict(zip(mixed.skipped["resource_id"], mixed.skipped["reason"], strict=True))
    assert reasons["i-auto-mode"].startswith("operated by eks.amazonaws.com: its type and size are that service's")
    assert reasons["vol-task"].startswith("operated by ecs.amazonaws.com")
    assert {r.resource_id for r in mixed.recommendations} == {r.resource_id for r in alone.recommendations}
    assert [r.model_dump() for r in mixed.recommendations] == [r.model_dump() for r in alone.recommendations]
