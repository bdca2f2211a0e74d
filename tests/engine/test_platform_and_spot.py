"""One price per platform and purchase option: Windows, RHEL or SUSE at their own on-demand price, a Spot Instance at
Spot, each before and after a change; never Spot advice for a Spot Instance, nor from Linux figures for Windows."""

from __future__ import annotations

import pytest
from fleet_builders import FleetBuilder, audit_fleet

from advisor.catalog import load_catalog

H = 730.0
REGION = "us-east-1"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _oversized(fleet: FleetBuilder, rid: str, **fields) -> None:
    fleet.ec2(rid, "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25))
    fleet.inventory[-1].update(fields)


def _skips(result) -> dict[str, str]:
    return dict(zip(result.skipped["resource_id"], result.skipped["reason"], strict=True))


PLATFORMS = ["Windows", "Red Hat Enterprise Linux", "SUSE Linux"]


@pytest.fixture(scope="module")
def platforms(catalog):
    """One audit of an instance on each platform above (``i-os-N``) beside a Linux one: each instance is priced on
    its own, so the platforms share the run."""
    fleet = FleetBuilder()
    for number, platform in enumerate(PLATFORMS):
        _oversized(fleet, f"i-os-{number}", platform=platform)
    _oversized(fleet, "i-linux")
    return audit_fleet(fleet, catalog)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_platform_is_priced_at_its_own_rate_before_and_after(catalog, platforms, platform):
    result, os_id = platforms, f"i-os-{PLATFORMS.index(platform)}"
    assert result.features.at[os_id, "hourly_price"] == catalog.hourly_price("m5.4xlarge", REGION, platform)
    assert result.features.at[os_id, "hourly_price"] > catalog.hourly_price("m5.4xlarge", REGION)
    recs = {(r.resource_id, r.rule): r for r in result.recommendations}
    rec = recs[(os_id, "ec2-overprovisioned")]
    assert rec.target is not None
    assert rec.monthly_cost_now == pytest.approx(catalog.hourly_price("m5.4xlarge", REGION, platform) * H, abs=0.01)
    assert rec.monthly_cost_after == pytest.approx(catalog.hourly_price(rec.target, REGION, platform) * H, abs=0.01)
    assert all(o.model_extra["price_basis"] == f"{platform} on-demand" for o in rec.options)
    assert any(f"{platform} on-demand price" in note for note in rec.evidence.notes)
    linux = recs[("i-linux", "ec2-overprovisioned")]
    assert linux.monthly_cost_now == pytest.approx(catalog.hourly_price("m5.4xlarge", REGION) * H, abs=0.01)


def test_a_platform_without_a_price_is_skipped_with_that_reason(catalog):
    fleet = FleetBuilder()
    _oversized(fleet, "i-byol", platform="Windows BYOL")
    result = audit_fleet(fleet, catalog)
    assert result.recommendations == []
    assert _skips(result)["i-byol"] == "no price for platform Windows BYOL of m5.4xlarge in us-east-1 in the catalog"


def test_a_spot_instance_is_priced_at_spot_and_never_told_to_use_spot(catalog):
    fleet = FleetBuilder()
    asg = {"aws:autoscaling:groupName": "workers"}
    _oversized(fleet, "i-spot", lifecycle="spot", tags=asg)
    _oversized(fleet, "i-od", tags=asg)
    result = audit_fleet(fleet, catalog)
    savings = catalog.spot_savings("m5.4xlarge", REGION)
    spot_hourly = catalog.hourly_price("m5.4xlarge", REGION) * (1 - savings / 100)
    assert result.features.at["i-spot", "hourly_price"] == pytest.approx(spot_hourly)
    recs = {(r.resource_id, r.rule): r for r in result.recommendations}
    assert ("i-od", "ec2-spot-interruptible") in recs
    assert ("i-spot", "ec2-spot-interruptible") not in recs
    down = recs[("i-spot", "ec2-overprovisioned")]
    assert down.target is not None
    target_spot = catalog.hourly_price(down.target, REGION) * (1 - catalog.spot_savings(down.target, REGION) / 100)
    assert down.monthly_cost_now == pytest.approx(spot_hourly * H, abs=0.01)
    assert down.monthly_cost_after == pytest.approx(target_spot * H, abs=0.05)  # hourly rounded to 4 places
    assert any("Spot Instance" in note for note in down.evidence.notes)


def test_windows_gets_no_spot_advice_from_linux_figures(catalog):
    fleet = FleetBuilder()
    _oversized(fleet, "i-win", platform="Windows", tags={"aws:autoscaling:groupName": "workers"})
    result = audit_fleet(fleet, catalog)
    assert "ec2-spot-interruptible" not in {r.rule for r in result.recommendations}


def test_a_spot_batch_environment_costs_its_spot_price(catalog):
    fleet = FleetBuilder()
    for rid, lifecycle in (("ce-spot", "spot"), ("ce-od", "on-demand")):
        fleet.add(rid, "batch_compute_environment", instance_type="m5.xlarge", lifecycle=lifecycle,
                  vcpu_hours=1000, metrics={})
    features = audit_fleet(fleet, catalog).features
    per_vcpu = catalog.hourly_price("m5.xlarge", REGION) / 4
    assert features.at["ce-od", "monthly_cost"] == pytest.approx(1000 * per_vcpu)
    assert features.at["ce-spot", "monthly_cost"] == pytest.approx(
        1000 * per_vcpu * (1 - catalog.spot_savings("m5.xlarge", REGION) / 100))
