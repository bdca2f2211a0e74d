import pytest
from fleet_builders import FleetBuilder

from advisor.catalog import load_catalog
from advisor.engine.pipeline import audit, load_rule_set
from advisor.engine.policy import apply_discounts, apply_rule_overrides, discount_rate, filter_by_tags
from advisor.errors import RuleError
from advisor.settings import DiscountsConfig, FiltersConfig, Settings


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


def test_discounts_scale_costs_and_savings_by_family():
    settings = Settings(discounts=DiscountsConfig(flat_pct=10, families={"m5": 30}))
    assert discount_rate("m5.xlarge", settings) == pytest.approx(0.30)
    assert discount_rate("ml.c5.xlarge", settings) == pytest.approx(0.10)
    inventory, metrics = _fleet()
    result = audit(inventory, metrics, load_catalog(), Settings())
    recs, features = apply_discounts(result.recommendations, result.features, settings)
    before = {rec.resource_id: rec for rec in result.recommendations}
    after = {rec.resource_id: rec for rec in recs}
    stop = after["i-b"]
    assert stop.monthly_cost_now == pytest.approx(before["i-b"].monthly_cost_now * 0.7, abs=0.01)
    assert stop.monthly_savings == stop.monthly_cost_now
    down = after["i-a"]
    target_rate = 1 - discount_rate(down.target, settings)
    assert down.monthly_cost_after == pytest.approx(before["i-a"].monthly_cost_after * target_rate, abs=0.01)
    assert down.monthly_savings == pytest.approx(down.monthly_cost_now - down.monthly_cost_after, abs=0.01)
    assert "30 %" in down.evidence.notes[-1]
    assert all(option.monthly_cost == pytest.approx(original.monthly_cost * target_rate, abs=0.01)
               for option, original in zip(down.options[:1], before["i-a"].options[:1], strict=True))
    assert features.loc["i-b", "monthly_cost"] == pytest.approx(result.features.loc["i-b", "monthly_cost"] * 0.7)
