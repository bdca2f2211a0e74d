import numpy as np
import pytest
from fleet_builders import FleetBuilder, audit_fleet

from advisor.catalog import load_catalog
from advisor.engine.pipeline import load_rule_set
from advisor.engine.policy import apply_rule_overrides, discounts, filter_by_tags
from advisor.errors import RuleError
from advisor.settings import FiltersConfig, Settings


def _fleet():
    fleet = FleetBuilder()
    fleet.ec2("i-a", "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25))
    quiet = fleet.noise(5, 20)  # bytes/s: idle needs network evidence
    fleet.ec2("i-b", "m5.xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(1, 2), network_in=quiet, network_out=quiet)
    inventory, metrics = fleet.frames()
    inventory["tags"] = [{"team": "ml", "env": "prod"}, {"team": "web", "env": "dev"}]
    return inventory, metrics


def test_tag_filters_include_and_exclude():
    inventory, metrics = _fleet()
    ml_only = Settings(filters=FiltersConfig(include_tags={"team": ["ml"]}))
    kept, kept_metrics = filter_by_tags(inventory, metrics, ml_only)
    assert kept["resource_id"].tolist() == ["i-a"] and set(kept_metrics["resource_id"]) == {"i-a"}
    kept, _ = filter_by_tags(inventory, metrics, Settings(filters=FiltersConfig(exclude_tags={"env": ["prod"]})))
    assert kept["resource_id"].tolist() == ["i-b"]


def test_rule_overrides_change_thresholds_and_reject_unknowns():
    rules = load_rule_set(Settings())
    changed = apply_rule_overrides(rules, {"ec2-overprovisioned": {"cpu_below": 12.5}})
    by_id = {r.id: r for r in changed}
    assert by_id["ec2-overprovisioned"].rule.thresholds["cpu_below"] == 12.5
    assert "cpu_demand < 12.5" in by_id["ec2-overprovisioned"].describe_condition()
    with pytest.raises(RuleError, match="unknown rule 'ec2-overprovisoned'"):
        apply_rule_overrides(rules, {"ec2-overprovisoned": {"cpu_below": 1}})
    with pytest.raises(RuleError, match="unknown threshold 'cpu_under' \\(this rule has: cpu_below, memory_below"):
        apply_rule_overrides(rules, {"ec2-overprovisioned": {"cpu_under": 1}})


def _scoped_fleet() -> FleetBuilder:
    """An over-provisioned m5 and c5 (EC2), an idle SageMaker endpoint and a gp2 volume (EBS)."""
    fleet = FleetBuilder()
    for rid, instance_type in (("i-m5", "m5.4xlarge"), ("i-c5", "c5.4xlarge")):
        fleet.ec2(rid, instance_type, cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25))
    fleet.add("ep/a", "sagemaker_endpoint", instance_type="ml.m5.xlarge", count=1, endpoint="ep", variant="a",
              metrics={"cpu": fleet.noise(0, 1), "memory": fleet.noise(10, 12), "invocations": np.zeros(fleet.n)})
    fleet.add("vol-1", "ebs_volume", volume_type="gp2", size_gib=500, iops=1500, attached_to="i-m5",
              metrics={"read_iops": fleet.noise(10, 20), "write_iops": fleet.noise(10, 20)})
    return fleet


def test_each_discount_applies_to_its_scope_and_never_to_ebs():
    """Compute SPs on EC2 (a family's RI rate replacing it), SageMaker SPs on ml.*, nothing on EBS."""
    catalog = load_catalog()
    fleet = _scoped_fleet()
    plain = {(r.resource_id, r.rule): r for r in audit_fleet(fleet, catalog).recommendations}
    settings = Settings(discounts={"ec2_pct": 20, "sagemaker_pct": 10, "families": {"m5": 30}})
    scoped = {(r.resource_id, r.rule): r for r in audit_fleet(fleet, catalog, settings).recommendations}
    for key, factor in ((("i-m5", "ec2-overprovisioned"), 0.70), (("i-c5", "ec2-overprovisioned"), 0.80),
                        (("ep/a", "sagemaker-endpoint-idle"), 0.90)):
        before, after = plain[key], scoped[key]
        assert after.monthly_cost_now == pytest.approx(before.monthly_cost_now * factor, abs=0.01), key
        assert after.monthly_savings == pytest.approx(after.monthly_cost_now - after.monthly_cost_after, abs=0.011)
        assert any("% off on-demand" in note for note in after.evidence.notes), key
    # the target is priced at its own scope's rate: m5 30 %, any other EC2 family 20 %
    for rid in ("i-m5", "i-c5"):
        down = scoped[(rid, "ec2-overprovisioned")]
        assert down.target is not None
        rate = 0.70 if down.target.startswith("m5.") else 0.80
        listed = catalog.hourly_price(down.target, "us-east-1")
        assert down.monthly_cost_after == pytest.approx(listed * rate * 730, abs=0.01), down.target
    ebs = [key for key in plain if key[0] == "vol-1"]
    assert ebs and all(scoped[key].monthly_cost_now == plain[key].monthly_cost_now
                       and scoped[key].monthly_savings == plain[key].monthly_savings for key in ebs)


def test_the_minimum_saving_is_checked_on_the_discounted_figure(tmp_path):
    """A saving above the rule's floor at on-demand prices but under it at the user's prices is not advised."""
    catalog = load_catalog()
    fleet = FleetBuilder()
    fleet.ec2("i-m5", "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25))
    saving = {r.rule: r for r in audit_fleet(fleet, catalog).recommendations}["ec2-overprovisioned"].monthly_savings
    floor = round(saving * 0.75, 2)  # reached at on-demand prices, missed at 50 % off
    settings = Settings(discounts={"ec2_pct": 50},
                        rules={"overrides": {"ec2-overprovisioned": {"min_monthly_savings": floor}}})
    result = audit_fleet(fleet, catalog, settings)
    assert "ec2-overprovisioned" not in {r.rule for r in result.recommendations}
    reason = result.skipped.set_index("resource_id").loc["i-m5", "reason"]
    assert f"under the rule's minimum of ${floor:,.2f}" in reason


def test_discount_rates_by_scope():
    rates = discounts(Settings(discounts={"ec2_pct": 20, "sagemaker_pct": 10, "families": {"m5": 30}}))
    assert rates.pct("m5.xlarge") == 30 and rates.pct("c5.xlarge") == 20
    assert rates.pct("ml.m5.xlarge") == 10 and rates.pct("ml.c5.xlarge", "training") == 10
    assert rates.pct("gp3") == 0 and rates.pct(None) == 0  # volumes, unknown types: public prices
    assert rates.describe() == ["EC2 compute 20 % (Compute Savings Plans)", "SageMaker 10 % (SageMaker Savings Plans)",
                                "m5 family 30 % (reserved instances)"]
    assert not discounts(Settings())
