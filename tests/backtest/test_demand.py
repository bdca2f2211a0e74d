"""Whether a capacity holds the later demand: the 1 % rule for rates, never-above for memory, idle for a stop."""

import numpy as np
import pandas as pd
import pytest
from fleet_builders import FleetBuilder

from advisor.backtest.demand import ResourceDemand, later_demand, volume_iops_limit
from advisor.catalog import load_catalog


def _demand(cpu=None, memory=None) -> ResourceDemand:
    current = pd.Series({"vcpus": 8.0, "memory_gib": 32.0, "accel_class": "cpu"})
    samples = {}
    if cpu is not None:
        samples["cpu"] = np.sort(np.asarray(cpu, float))
    if memory is not None:
        samples["memory"] = np.sort(np.asarray(memory, float))
    return ResourceDemand("r", current, samples)


def test_cpu_may_exceed_the_target_in_at_most_one_percent_of_samples():
    base = np.full(1000, 1.0)
    ten_over = base.copy()
    ten_over[:10] = 3.0  # 1.0 % of samples above 2 vCPUs
    eleven_over = base.copy()
    eleven_over[:11] = 3.0  # 1.1 %
    target = {"cpu": 2.0, "memory": 32.0}
    held = _demand(cpu=ten_over, memory=[4.0]).judge(target)
    assert held.held and held.cpu_over_share == pytest.approx(0.010)
    assert held.worst_overshoot_pct == pytest.approx(50.0)
    failed = _demand(cpu=eleven_over, memory=[4.0]).judge(target)
    assert not failed.held and failed.failed == ["cpu"] and failed.cpu_over_share == pytest.approx(0.011)


def test_memory_must_never_exceed_the_target():
    memory = np.r_[np.full(9999, 4.0), 8.01]
    verdict = _demand(cpu=[1.0], memory=memory).judge({"cpu": 4.0, "memory": 8.0})
    assert not verdict.held and verdict.failed == ["memory"]
    assert _demand(cpu=[1.0], memory=memory).judge({"cpu": 4.0, "memory": 8.01}).held


def test_an_unobserved_dimension_is_assumed_fully_used():
    later = _demand(cpu=[0.5, 0.6])  # no memory metrics after the cut-off
    assert later.need("memory") == 32.0
    assert not later.judge({"cpu": 2.0, "memory": 16.0}).held
    assert later.judge({"cpu": 2.0, "memory": 32.0}).held


def test_a_stop_holds_only_while_the_resource_stays_idle():
    assert _demand(cpu=np.full(500, 0.3)).judge_stop().held  # 0.3 of 8 vCPUs = 3.75 %
    busy = _demand(cpu=np.r_[np.full(490, 0.3), np.full(10, 6.0)])  # 2 % of samples busy
    assert not busy.judge_stop().held
    assert not _demand(memory=[1.0]).judge_stop().held  # CPU unknown: idleness cannot be shown


def test_later_demand_is_absolute_and_adds_read_and_write_iops():
    fleet = FleetBuilder(days=2)
    fleet.ec2("i-a", "m5.2xlarge", cpu=np.full(fleet.n, 50.0), memory=np.full(fleet.n, 25.0))
    fleet.add("vol-a", "ebs_volume", volume_type="gp3", size_gib=100, iops=4000,
              metrics={"read_iops": np.full(fleet.n, 1000.0), "write_iops": np.full(fleet.n, 500.0)})
    inventory, metrics = fleet.frames()
    demand = later_demand(inventory, metrics, load_catalog())
    assert demand["i-a"].need("cpu") == pytest.approx(4.0)  # 50 % of 8 vCPUs
    assert demand["i-a"].need("memory") == pytest.approx(8.0)  # 25 % of 32 GiB
    assert demand["vol-a"].need("iops") == pytest.approx(1500.0)
    assert demand["vol-a"].judge({"iops": 1500.0}).held and not demand["vol-a"].judge({"iops": 1499.0}).held


def test_maxima_are_replayed_when_a_source_gives_both_statistics():
    fleet = FleetBuilder(days=1)
    fleet.ec2("i-a", "m5.xlarge", cpu=np.full(fleet.n, 10.0))
    inventory, metrics = fleet.frames()
    both = pd.concat([metrics.assign(stat="avg"), metrics.assign(stat="max", value=80.0)], ignore_index=True)
    demand = later_demand(inventory, both, load_catalog())
    assert demand["i-a"].need("cpu") == pytest.approx(3.2)  # 80 % of 4 vCPUs


@pytest.mark.parametrize(("volume_type", "size", "iops", "limit"), [
    ("gp2", 50, None, 150.0), ("gp2", 20, None, 100.0), ("gp2", 10_000, None, 16_000.0),
    ("gp3", 100, None, 3_000.0), ("gp3", 100, 6_000, 6_000.0), ("io1", 100, 2_500, 2_500.0), ("st1", 500, None, None),
])
def test_volume_iops_limits(volume_type, size, iops, limit):
    assert volume_iops_limit(volume_type, size, iops) == limit


def test_iops_readings_above_what_the_volume_can_deliver_are_rounding():
    fleet = FleetBuilder(days=1)
    fleet.add("vol-a", "ebs_volume", volume_type="gp2", size_gib=1000,
              metrics={"read_iops": np.full(fleet.n, 2000.6), "write_iops": np.full(fleet.n, 1000.3)})
    inventory, metrics = fleet.frames()
    later = later_demand(inventory, metrics, load_catalog())["vol-a"]
    assert later.need("iops") == 3000.0 and later.judge({"iops": 3000.0}).held  # gp2 -> gp3 at 3,000 holds
