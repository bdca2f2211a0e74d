"""Upsizing a multi-GPU host whose work scales out (an Auto Scaling group's instance, a SageMaker endpoint variant)
offers more instances of the current type, priced beside the larger type (the issue's example: a g4dn.12xlarge
sent to a p3.8xlarge where a second g4dn.12xlarge was the plainer answer)."""

import pytest
from fleet_builders import FleetBuilder, audit_fleet

from advisor.engine.sizing import SCALE_OUT_LABEL

ASG = '{"aws:autoscaling:groupName": "inference"}'


def _saturated(fleet: FleetBuilder, gpu_memory: tuple[float, float] = (40, 50)) -> dict:
    return {"cpu": fleet.noise(30, 50), "memory": fleet.noise(20, 30), "gpu": fleet.noise(92, 99),
            "gpu_memory": fleet.noise(*gpu_memory)}


def _upsizes(result) -> dict:
    return {rec.resource_id: rec for rec in result.recommendations if rec.action == "upsize"}


@pytest.fixture(scope="module")
def upsizes(catalog):
    fleet = FleetBuilder()
    # g4dn.12xlarge: 4 T4s; the GPUs are saturated, their memory half used
    fleet.add("i-asg", "ec2_instance", metrics=_saturated(fleet), instance_type="g4dn.12xlarge", tags=ASG)
    fleet.add("i-alone", "ec2_instance", metrics=_saturated(fleet), instance_type="g4dn.12xlarge")
    # GPU memory nearly full: a second copy of the model would be as full
    fleet.add("i-asg-full", "ec2_instance", metrics=_saturated(fleet, (90, 95)), instance_type="g4dn.12xlarge",
              tags=ASG)
    # a single-GPU host is not a multi-GPU box
    fleet.add("i-asg-one-gpu", "ec2_instance", metrics=_saturated(fleet), instance_type="g4dn.xlarge", tags=ASG)
    return _upsizes(audit_fleet(fleet, catalog))


def test_an_auto_scaling_multi_gpu_host_gets_one_more_instance_priced_beside_the_larger_type(upsizes, catalog):
    rec = upsizes["i-asg"]
    scale_out = [o for o in rec.options if o.label == SCALE_OUT_LABEL]
    assert len(scale_out) == 1 and rec.options[-1] == scale_out[0]
    option = scale_out[0]
    one = catalog.hourly_price("g4dn.12xlarge", "us-east-1") * 730
    # the GPUs need 100 % (censored) + 20 %: two instances hold it, at half the load each
    assert option.instance_type == "g4dn.12xlarge x2" and option.model_extra["instances"] == 2
    assert option.monthly_cost == pytest.approx(2 * one, abs=0.01)
    assert option.monthly_savings == pytest.approx(-one, abs=0.01)
    assert option.projected_utilization["gpu"] == pytest.approx(50, abs=0.1)
    # each instance holds its own copy of the model: GPU memory per instance is not halved
    assert option.projected_utilization["gpu_memory"] >= rec.evidence.stats["gpu_memory"].max - 0.1
    assert rec.target != option.instance_type  # side by side: the larger type stays the finding's target
    assert any(note.startswith("It scales out: g4dn.12xlarge x2 costs") for note in rec.evidence.notes)


def test_no_scale_out_outside_a_group_with_gpu_memory_full_or_with_one_gpu(upsizes):
    for resource_id in ("i-alone", "i-asg-full", "i-asg-one-gpu"):
        rec = upsizes[resource_id]
        assert all(o.label != SCALE_OUT_LABEL for o in rec.options), resource_id


def test_when_no_larger_type_holds_the_demand_scaling_out_is_the_finding(catalog):
    fleet = FleetBuilder()
    fleet.add("i-top", "ec2_instance", metrics=_saturated(fleet), instance_type="p6-b200.48xlarge", tags=ASG)
    rec = _upsizes(audit_fleet(fleet, catalog))["i-top"]
    one = catalog.hourly_price("p6-b200.48xlarge", "us-east-1") * 730
    assert rec.target == "p6-b200.48xlarge x2"
    assert rec.monthly_savings == pytest.approx(-one, abs=0.01)
    assert [o.label for o in rec.options] == [SCALE_OUT_LABEL]


def test_a_sagemaker_endpoint_variant_scales_out_by_its_instance_count(catalog):
    fleet = FleetBuilder()
    invocations = fleet.noise(100, 200)
    fleet.add("ep/AllTraffic", "sagemaker_endpoint", instance_type="ml.g5.12xlarge", count=2, endpoint="ep",
              variant="AllTraffic", metrics={**_saturated(fleet), "invocations": invocations})
    rec = _upsizes(audit_fleet(fleet, catalog))["ep/AllTraffic"]
    option = next(o for o in rec.options if o.label == SCALE_OUT_LABEL)
    hourly = catalog.sagemaker_hourly("ml.g5.12xlarge", "us-east-1")[0]
    assert option.instance_type == "ml.g5.12xlarge x3" and option.model_extra["instances"] == 3  # 2 x 1.2 -> 3
    assert option.monthly_cost == pytest.approx(3 * hourly * 730, abs=0.01)
    assert option.monthly_savings == pytest.approx(-hourly * 730, abs=0.01)
