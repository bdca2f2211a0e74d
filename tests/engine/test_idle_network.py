"""Idle by AWS's definition of network: at most 5 MB a day (Compute Optimizer: < 5 MB a day; Trusted Advisor:
<= 5 MB). 20 kB/s each way is 1.7 GB a day: not idle, for every rule that stops a resource on a quiet network."""

from __future__ import annotations

import numpy as np
import pytest
from fleet_builders import FleetBuilder, audit_fleet

from advisor.engine.pipeline import load_rule_set
from advisor.settings import Settings

AWS_IDLE_MB_PER_DAY = 5.0
STOP_ACTIONS = ("stop", "terminate", "delete")


def _stops_on_network() -> list:
    return [r for r in load_rule_set(Settings()) if r.rule.action in STOP_ACTIONS
            and any(c.startswith("network") for c in r.condition.columns())]


def test_every_stop_rule_that_reads_the_network_uses_the_aws_threshold():
    rules = _stops_on_network()
    assert {r.id for r in rules} == {"ec2-idle", "ec2-gpu-idle"}
    for loaded in rules:
        assert "network_daily_max_mb" in loaded.condition.columns(), loaded.id  # the busiest day, not a mean
        assert loaded.rule.thresholds["network_mb_per_day"] <= AWS_IDLE_MB_PER_DAY, loaded.id


@pytest.mark.parametrize(("bytes_per_second", "idle"), [(20_000.0, False), (20.0, True)])
def test_a_gpu_host_moving_20_kb_a_second_is_not_idle(catalog, bytes_per_second, idle):
    fleet = FleetBuilder()
    network = np.full(fleet.n, bytes_per_second)  # each way: 20 kB/s is 1.7 GB a day, 20 B/s 1.7 MB
    fleet.ec2("i-gpu", "g5.xlarge", cpu=fleet.noise(0.5, 2), memory=fleet.noise(5, 8), gpu=np.zeros(fleet.n),
              gpu_memory=np.zeros(fleet.n), network_in=network, network_out=network)
    fleet.ec2("i-cpu", "m5.xlarge", cpu=fleet.noise(0.5, 2), memory=fleet.noise(5, 8), network_in=network,
              network_out=network)
    result = audit_fleet(fleet, catalog)
    stopped = {rec.resource_id: rec.rule for rec in result.recommendations if rec.action == "stop"}
    assert stopped == ({"i-gpu": "ec2-gpu-idle", "i-cpu": "ec2-idle"} if idle else {})
