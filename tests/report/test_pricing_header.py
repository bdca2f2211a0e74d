"""The report says what its money is priced at: on-demand, or on-demand less each discount applied."""

from __future__ import annotations

import re

import numpy as np
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


def test_header_says_on_demand_only_without_discounts():
    result = audit_fleet(_fleet(), load_catalog())
    summary = summarize(result)
    assert (summary.pricing, summary.discounts) == ("on-demand", [])
    header = _header(render_html(result, summary))
    assert "on-demand, 730 h/month" in header and "Discounts" not in header


def test_header_and_summary_name_each_discount_and_never_say_on_demand_alone():
    settings = Settings(discount_ec2_pct=20, discount_sagemaker_pct=15, discount_families={"m5": 30})
    result = audit_fleet(_fleet(), load_catalog(), settings)
    summary = summarize(result)
    named = ["EC2 compute 20 % (Compute Savings Plans)", "SageMaker 15 % (SageMaker Savings Plans)",
             "m5 family 30 % (reserved instances)"]
    assert summary.discounts == named
    header = " ".join(_header(render_html(result, summary)).split())
    assert "on-demand, 730 h/month" not in header
    assert "on-demand less your discounts (EBS and Spot at public prices), 730 h/month" in header
    assert all(phrase in header for phrase in named)
    plain = {(r.resource_id, r.rule): r.monthly_savings for r in audit_fleet(_fleet(), load_catalog()).recommendations}
    ebs = [(r.resource_id, r.rule, r.monthly_savings) for r in result.recommendations if r.kind == "ebs_volume"]
    assert ebs and all(np.isclose(saving, plain[(rid, rule)]) for rid, rule, saving in ebs)
