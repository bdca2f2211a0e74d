"""The report says what its money is priced at (on-demand, or on-demand less each discount applied) and how old
each price source is."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest
from fleet_builders import FleetBuilder, audit_fleet

from advisor.catalog import load_catalog
from advisor.report.page import render_html
from advisor.report.summary import summarize
from advisor.settings import Settings


def _fleet() -> FleetBuilder:
    fleet = FleetBuilder()
    fleet.ec2("i-m5", "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25))
    fleet.add("vol-1", "ebs_volume", volume_type="gp2", size_gib=500, iops=1500, attached_to="i-m5",
              metrics={"read_iops": fleet.noise(10, 20), "write_iops": fleet.noise(10, 20)})
    return fleet


def _header(html: str) -> str:
    block = re.search(r'<header class="page-header">(.*?)</header>', html, re.S)
    assert block is not None
    return re.sub(r"<[^>]+>", " ", block.group(1))


@pytest.fixture(scope="module")
def on_demand():
    """The fleet's audit without discounts, shared: tests only read it."""
    return audit_fleet(_fleet(), load_catalog())


def test_header_says_on_demand_only_without_discounts(on_demand):
    result = on_demand
    summary = summarize(result)
    assert (summary.pricing, summary.discounts) == ("on-demand", [])
    header = _header(render_html(result, summary))
    assert "on-demand, 730 h/month" in header and "Discounts" not in header


def test_header_and_summary_name_each_discount_and_never_say_on_demand_alone(on_demand):
    settings = Settings(discounts={"ec2_pct": 20, "sagemaker_pct": 15, "families": {"m5": 30}})
    result = audit_fleet(_fleet(), load_catalog(), settings)
    summary = summarize(result)
    named = ["EC2 compute 20 % (Compute Savings Plans)", "SageMaker 15 % (SageMaker Savings Plans)",
             "m5 family 30 % (reserved instances)"]
    assert summary.discounts == named
    header = " ".join(_header(render_html(result, summary)).split())
    assert "on-demand, 730 h/month" not in header
    assert "on-demand less your discounts (EBS and Spot at public prices), 730 h/month" in header
    assert all(phrase in header for phrase in named)
    plain = {(r.resource_id, r.rule): r.monthly_savings for r in on_demand.recommendations}
    ebs = [(r.resource_id, r.rule, r.monthly_savings) for r in result.recommendations if r.kind == "ebs_volume"]
    assert ebs and all(np.isclose(saving, plain[(rid, rule)]) for rid, rule, saving in ebs)


def test_each_finding_carries_the_date_of_every_price_source_behind_it():
    """Spot savings come from a 2025-06-28 feed: a Spot finding says so beside the price list's date."""
    fleet = _fleet()
    fleet.inventory[0]["tags"] = {"aws:autoscaling:groupName": "web"}
    catalog = load_catalog()
    result = audit_fleet(fleet, catalog)
    by_rule = {r.rule: r for r in result.recommendations}
    assert by_rule["ec2-spot-interruptible"].price_dates == {"vantage": catalog.price_list_date,
                                                             "spot_advisor": "2025-06-28"}
    assert by_rule["ec2-overprovisioned"].price_dates == {"vantage": catalog.price_list_date}
    assert {r.rule: r.price_dates for r in result.recommendations if r.kind == "ebs_volume"}.popitem()[1] == {
        "ebs": "2026"}


def test_old_price_sources_are_warned_about_in_the_summary_and_the_report():
    from advisor.engine.pipeline import audit

    inventory, metrics = _fleet().frames()
    when = datetime(2026, 7, 20, tzinfo=UTC)  # the Spot feed is 387 days old then; EBS and SageMaker ("2026") 200
    result = audit(inventory, metrics, load_catalog(), Settings(catalog={"max_age_days": 300}), now=when)
    summary = summarize(result)
    assert summary.price_warnings == [
        "spot_advisor (Spot savings and interruption bands) is dated 2025-06-28: 387 days old, more than 300; "
        "these figures may have changed since"]
    html = render_html(result, summary)
    assert 'id="price-warnings"' in html and "dated 2025-06-28: 387 days old" in html
    fresh = audit(inventory, metrics, load_catalog(), Settings(catalog={"max_age_days": 400}), now=when)
    assert summarize(fresh).price_warnings == [] and 'id="price-warnings"' not in render_html(fresh, summarize(fresh))
