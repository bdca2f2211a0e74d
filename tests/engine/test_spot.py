"""Spot pools and their money, on a five-type catalog where every figure can be checked by hand.

| type        | vCPU | GiB | on-demand | Spot savings | band      | Spot $/h |
|-------------|------|-----|-----------|--------------|-----------|----------|
| m5.2xlarge  | 8    | 32  | 0.40      | 50 %         | 2 10-15%  | 0.200    |
| m6i.2xlarge | 8    | 32  | 0.40      | 60 %         | 0 <5%     | 0.160    |
| m7i.2xlarge | 8    | 32  | 0.42      | 40 %         | 1 5-10%   | 0.252    |
| m5a.2xlarge | 8    | 32  | 0.36      | 70 %         | 4 >20%    | 0.108    |
| c5.2xlarge  | 8    | 16  | 0.34      | 55 %         | 0 <5%     | 0.153    |
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from fleet_builders import FleetBuilder

from advisor.catalog import Catalog
from advisor.catalog.catalog import PRICE_COLUMNS, TYPE_COLUMNS
from advisor.engine.pipeline import audit, load_rule_set
from advisor.results import recommendations_frame
from advisor.settings import Settings

TYPES = {  # name: (vcpus, memory, on-demand, savings %, band)
    "m5.2xlarge": (8, 32.0, 0.40, 50, 2),
    "m6i.2xlarge": (8, 32.0, 0.40, 60, 0),
    "m7i.2xlarge": (8, 32.0, 0.42, 40, 1),
    "m5a.2xlarge": (8, 32.0, 0.36, 70, 4),
    "c5.2xlarge": (8, 16.0, 0.34, 55, 0),
}


@pytest.fixture(scope="module")
def tiny() -> Catalog:
    types = pd.DataFrame([{
        "instance_type": name, "family": name.split(".")[0], "size": "2xlarge", "generation": "current",
        "vcpus": v, "memory_gib": m, "gpus": 0, "gpu_share": 0.0, "gpu_model": None, "gpu_manufacturer": None,
        "gpu_memory_gib": 0.0, "accelerator": None, "accelerator_count": 0, "accelerator_memory_gib": 0.0,
        "arch": "x86_64", "processor": "Intel", "burstable": False, "bare_metal": False, "network_gbps": 10.0,
        "ebs_baseline_mbps": 1000.0, "ebs_max_iops": 20000.0} for name, (v, m, _, _, _) in TYPES.items()],
        columns=list(TYPE_COLUMNS)).set_index("instance_type")
    prices = pd.DataFrame([{"instance_type": name, "region": "us-east-1", "ondemand_hourly": od,
                            "spot_hourly": od * (1 - s / 100), "spot_savings_pct": s, "interruption_band": band}
                           for name, (_, _, od, s, band) in TYPES.items()], columns=list(PRICE_COLUMNS))
    ebs = pd.DataFrame(columns=["volume_type", "region", "per_gib_month", "estimated"])
    sagemaker = pd.DataFrame(columns=["instance_type", "region", "hourly", "estimated", "note"])
    return Catalog(types, prices, {"price_list_date": "test", "sagemaker_markups": {"default": 1.25}}, ebs, sagemaker)


def test_interruptible_instance_gets_a_pool_in_the_lowest_bands(tiny: Catalog):
    fleet = FleetBuilder()
    fleet.ec2("i-asg", "m5.2xlarge", cpu=fleet.noise(40, 50), memory=fleet.noise(50, 60))
    fleet.inventory[-1]["tags"] = {"aws:autoscaling:groupName": "web"}
    inventory, metrics = fleet.frames()
    recs = recommendations_frame(audit(inventory, metrics, tiny).recommendations)
    rec = recs[recs["rule"] == "ec2-spot-interruptible"].iloc[0]
    # same shape (8 vCPU, 32 GiB): m6i (band 0), m7i (1), m5 (2); m5a is >20 % (band 4, above max_band 2)
    pool = [p["instance_type"] for p in rec["evidence"]["spot"]["pool"]]
    assert pool == ["m6i.2xlarge", "m7i.2xlarge", "m5.2xlarge"]
    assert rec["target"] == "m6i.2xlarge"
    blended = (0.16 + 0.252 + 0.20) / 3  # 0.204 per hour
    assert rec["monthly_cost_now"] == pytest.approx(0.40 * 730)  # 292.00
    assert rec["monthly_cost_after"] == pytest.approx(blended * 730, abs=0.01)  # 148.92
    assert rec["monthly_savings"] == pytest.approx(292 - 148.92, abs=0.01)
    assert [o["interruption"] for o in rec["options"]] == ["<5%", "5-10%", "10-15%"]


def test_batch_environment_saving_from_vcpu_hours(tiny: Catalog):
    fleet = FleetBuilder()
    fleet.add("ce-1", "batch_compute_environment", instance_type="m5.2xlarge,c5.2xlarge", lifecycle="on-demand",
              allocation_strategy="BEST_FIT_PROGRESSIVE", max_vcpus=256, vcpu_hours=10_000, metrics={})
    fleet.add("ce-2", "batch_compute_environment", instance_type="m5.2xlarge,c5.2xlarge", lifecycle="on-demand",
              metrics={})
    fleet.add("ce-3", "batch_compute_environment", instance_type="m5.2xlarge", lifecycle="spot",
              allocation_strategy="SPOT_CAPACITY_OPTIMIZED", vcpu_hours=10_000, metrics={})
    inventory, metrics = fleet.frames()
    recs = recommendations_frame(audit(inventory, metrics, tiny).recommendations).set_index("resource_id")
    assert "ce-3" not in recs.index  # already on Spot
    # on-demand per vCPU-hour: mean(0.40/8, 0.34/8) = 0.04625
    # pool (same shapes, bands <= 2): c5 0.153, m6i 0.160, m7i 0.252, m5 0.200 -> per vCPU mean 0.02390625
    ondemand, spot = 0.04625, (0.153 + 0.160 + 0.252 + 0.200) / 4 / 8
    first = recs.loc["ce-1"]
    assert first["target"] == "SPOT_CAPACITY_OPTIMIZED: c5.2xlarge, m6i.2xlarge, m7i.2xlarge, m5.2xlarge"
    assert first["monthly_cost_now"] == pytest.approx(10_000 * ondemand, abs=0.01)  # 462.50
    assert first["monthly_savings"] == pytest.approx(10_000 * (ondemand - spot), abs=0.01)  # 223.44
    unknown = recs.loc["ce-2"]
    assert unknown["monthly_savings"] == 0.0
    assert unknown["evidence"]["spot"]["saving_per_1000_vcpu_hours"] == pytest.approx(1000 * (ondemand - spot),
                                                                                      abs=0.01)
    assert any("per 1,000 vCPU-hours" in n for n in unknown["evidence"]["notes"])


def test_pool_members_must_save_the_minimum_themselves(tiny: Catalog):
    """m7i's Spot price per vCPU (0.0315) is above 0.05 x (1 - 0.5) when the rule asks for 50 % off."""
    fleet = FleetBuilder()
    fleet.ec2("i-b", "m5.2xlarge", cpu=fleet.noise(40, 50), memory=fleet.noise(50, 60))
    fleet.inventory[-1]["tags"] = "workload=stateless"
    inventory, metrics = fleet.frames()
    bundled = next(r for r in load_rule_set(Settings()) if r.id == "ec2-spot-interruptible")
    strict = replace(bundled, rule=bundled.rule.model_copy(
        update={"thresholds": bundled.rule.thresholds | {"min_savings_pct": 50.0}}))
    recs = recommendations_frame(audit(inventory, metrics, tiny, rules=[strict]).recommendations)
    pool = [p["instance_type"] for p in recs.iloc[0]["evidence"]["spot"]["pool"]]
    assert pool == ["m6i.2xlarge", "m5.2xlarge"]
    assert np.isclose(recs.iloc[0]["monthly_cost_after"], (0.16 + 0.20) / 2 * 730)


def test_discounts_lower_the_on_demand_cost_and_never_the_spot_price(tiny: Catalog):
    """Savings Plans and reserved instances discount on-demand usage only: the Spot side keeps its public price,
    so the saving shrinks by the discount on the current cost (EC2 instances and Batch's instances alike)."""
    fleet = FleetBuilder()
    fleet.ec2("i-asg", "m5.2xlarge", cpu=fleet.noise(40, 50), memory=fleet.noise(50, 60))
    fleet.inventory[-1]["tags"] = {"aws:autoscaling:groupName": "web"}
    fleet.add("ce-1", "batch_compute_environment", instance_type="m5.2xlarge,c5.2xlarge", lifecycle="on-demand",
              vcpu_hours=10_000, metrics={})
    inventory, metrics = fleet.frames()
    rules = [r for r in load_rule_set(Settings()) if r.id in ("ec2-spot-interruptible",
                                                              "batch-spot-compute-environment")]
    plain = recommendations_frame(audit(inventory, metrics, tiny, rules=rules).recommendations).set_index("resource_id")
    settings = Settings(discounts={"ec2_pct": 20, "families": {"c5": 40}})
    paid = recommendations_frame(audit(inventory, metrics, tiny, settings, rules=rules).recommendations
                                 ).set_index("resource_id")
    assert paid.at["i-asg", "monthly_cost_now"] == pytest.approx(0.40 * 0.80 * 730)  # 233.60
    # the pool's public Spot prices; m7i (0.252 / 8 vCPUs) no longer saves the rule's 30 % against 0.32 / 8
    pool = paid.at["i-asg", "evidence"]["spot"]["pool"]
    assert [(p["instance_type"], p["spot_hourly"]) for p in pool] == [("m6i.2xlarge", 0.16), ("m5.2xlarge", 0.2)]
    assert paid.at["i-asg", "monthly_cost_after"] == pytest.approx((0.16 + 0.20) / 2 * 730)  # 131.40
    # Batch: on-demand per vCPU-hour mean(0.40 x 0.8 / 8, 0.34 x 0.6 / 8) = 0.03275; the pool keeps the types
    # whose public Spot price saves 30 % of that: c5 (0.153 / 8) and m6i (0.160 / 8)
    assert paid.at["ce-1", "monthly_cost_now"] == pytest.approx(10_000 * 0.03275, abs=0.01)
    assert paid.at["ce-1", "monthly_cost_after"] == pytest.approx(10_000 * (0.153 + 0.160) / 2 / 8, abs=0.01)
    assert plain.at["ce-1", "monthly_cost_after"] == pytest.approx(10_000 * (0.153 + 0.160 + 0.252 + 0.200) / 4 / 8,
                                                                   abs=0.01)
