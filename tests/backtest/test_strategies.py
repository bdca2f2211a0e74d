"""The reference strategies reproduce their documented maths on histories where the answer is known."""

import numpy as np
import pandas as pd
import pytest
from fleet_builders import START, FleetBuilder

from advisor.backtest.reference import (
    ComputeOptimizer,
    NaiveAverage,
    PercentileBuffer,
    TrustedAdvisor,
    Vpa,
    decayed_percentile,
    resource_statistic,
)
from advisor.backtest.registry import STRATEGIES, get_strategy
from advisor.backtest.strategy import History
from advisor.catalog import load_catalog
from advisor.errors import ConfigError
from advisor.model import normalize_inventory, normalize_metrics


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _history(fleet: FleetBuilder, catalog) -> History:
    inventory, metrics = fleet.frames()
    return History(inventory, metrics, catalog, (metrics["timestamp"].min(), metrics["timestamp"].max()))


def _by_id(decisions):
    return {d.resource_id: d for d in decisions}


def _minute_history(catalog) -> History:
    """3 days at 1 minute: CPU 10 % with a one-minute 60 % spike in one of every 150 five-minute periods."""
    minutes = 3 * 1440
    cpu = np.full(minutes, 10.0)
    cpu[np.arange(0, minutes, 5 * 150)] = 60.0
    stamps = pd.date_range(START, periods=minutes, freq="1min")
    metrics = normalize_metrics(pd.concat([
        pd.DataFrame({"resource_id": "i-a", "metric": "cpu", "timestamp": stamps, "value": cpu}),
        pd.DataFrame({"resource_id": "i-a", "metric": "memory", "timestamp": stamps, "value": 10.0}),
    ]))
    inventory = normalize_inventory(pd.DataFrame([{"resource_id": "i-a", "kind": "ec2_instance",
                                                   "region": "us-east-1", "instance_type": "m5.2xlarge"}]))
    return History(inventory, metrics, catalog, (stamps[0], stamps[-1]))


def test_compute_optimizer_reads_p99_5_of_five_minute_maxima(catalog):
    history = _minute_history(catalog)
    # spikes are 0.13 % of the samples but 0.67 % of the 5-minute maxima
    assert resource_statistic(history.metrics, "cpu", "p99.5", five_minute_maxima=False)["i-a"] == 10.0
    assert resource_statistic(history.metrics, "cpu", "p99.5", five_minute_maxima=True)["i-a"] == 60.0
    decision = _by_id(ComputeOptimizer().decide(history))["i-a"]
    spec = catalog.spec(decision.target)
    assert spec["vcpus"] >= 0.60 * 8 * 1.2 and spec["memory_gib"] >= 0.10 * 32 * 1.2
    assert decision.action == "downsize" and decision.monthly_savings > 0
    buffered = _by_id(PercentileBuffer().decide(history))["i-a"]  # p95 of the samples: 10 %
    assert catalog.spec(buffered.target)["vcpus"] < spec["vcpus"]


def test_percentile_buffer_sizes_p95_plus_15_percent_on_the_cheapest_type(catalog):
    fleet = FleetBuilder(days=3)
    cpu, memory = fleet.noise(5, 30), fleet.noise(20, 30)
    fleet.ec2("i-a", "m5.4xlarge", cpu=cpu, memory=memory)
    decision = _by_id(PercentileBuffer().decide(_history(fleet, catalog)))["i-a"]
    need_vcpus, need_memory = np.percentile(cpu, 95) / 100 * 16 * 1.15, memory.max() / 100 * 64 * 1.15
    offered = catalog.offered("us-east-1")
    fits = offered[(offered["vcpus"] >= need_vcpus) & (offered["memory_gib"] >= need_memory)
                   & (offered["generation"] == "current") & (offered["arch"] == "x86_64") & (offered["gpus"] == 0)
                   & offered["accelerator"].isna() & ~offered["burstable"] & ~offered["bare_metal"]]
    assert catalog.hourly_price(decision.target, "us-east-1") == pytest.approx(fits["ondemand_hourly"].min())
    assert decision.monthly_cost_now == pytest.approx(catalog.hourly_price("m5.4xlarge", "us-east-1") * 730, abs=0.01)


def test_naive_average_sizes_the_mean_with_no_headroom(catalog):
    fleet = FleetBuilder(days=3)
    cpu = np.where(np.arange(fleet.n) % 2 == 0, 5.0, 45.0)  # mean 25 % of 8 vCPUs = 2 busy vCPUs
    fleet.ec2("i-a", "m5.2xlarge", cpu=cpu, memory=np.full(fleet.n, 12.5))  # 4 GiB
    decision = _by_id(NaiveAverage().decide(_history(fleet, catalog)))["i-a"]
    spec = catalog.spec(decision.target)
    assert spec["vcpus"] == 2 and spec["memory_gib"] >= 4


def test_sizing_strategies_leave_a_well_sized_instance_alone_and_upsize_a_hot_one(catalog):
    fleet = FleetBuilder(days=3)
    fleet.ec2("i-hot", "c5.large", cpu=fleet.noise(90, 100), memory=fleet.noise(30, 40))
    fleet.ec2("i-kept", "c6a.large", cpu=fleet.noise(45, 60), memory=fleet.noise(30, 40))
    decisions = _by_id(ComputeOptimizer().decide(_history(fleet, catalog)))
    assert "i-kept" not in decisions  # 1.44 busy vCPUs with headroom: 2 vCPUs needed
    assert decisions["i-hot"].action == "upsize" and catalog.spec(decisions["i-hot"].target)["vcpus"] >= 2.4


@pytest.mark.parametrize(("low_days", "flagged"), [(3, False), (4, True)])
def test_trusted_advisor_needs_four_low_days_and_goes_one_size_down(catalog, low_days, flagged):
    fleet = FleetBuilder(days=14)
    day = fleet.t_days.astype(int)
    cpu = np.where(day < low_days, 4.0, 30.0)
    network = np.where(day < low_days, 20.0, 50_000.0)  # 20 B/s is 1.7 MB a day
    fleet.ec2("i-a", "m5.2xlarge", cpu=cpu, memory=fleet.noise(10, 20), network_in=network, network_out=network)
    decisions = _by_id(TrustedAdvisor().decide(_history(fleet, catalog)))
    if not flagged:
        assert "i-a" not in decisions
        return
    assert decisions["i-a"].target == "m5.xlarge" and decisions["i-a"].reason.endswith("on 4 days")


def test_trusted_advisor_counts_a_busy_network_day_as_not_low(catalog):
    fleet = FleetBuilder(days=14)
    fleet.ec2("i-a", "m5.2xlarge", cpu=np.full(fleet.n, 2.0), memory=fleet.noise(10, 20),
              network_in=np.full(fleet.n, 100.0), network_out=np.full(fleet.n, 0.0))  # 8.6 MB a day
    assert TrustedAdvisor().decide(_history(fleet, catalog)) == []


def test_registry_names_every_strategy_and_rejects_unknown_ones():
    assert list(STRATEGIES) == ["ours", "compute-optimizer", "percentile-buffer", "trusted-advisor", "vpa",
                                "naive-average"]
    for name, cls in STRATEGIES.items():
        described = cls.describe()
        assert described["name"] == name and described["summary"]
        assert all(s["description"] for s in described["settings"].values())
    with pytest.raises(ConfigError, match="unknown strategy 'krr'"):
        get_strategy("krr")


def test_vpa_weights_recent_samples_with_a_24_hour_half_life(catalog):
    fleet = FleetBuilder(days=14)
    last_day = fleet.t_days >= 13
    cpu = np.where(last_day, 50.0, 10.0)  # the last day holds half the decayed weight: its level is the p90
    memory = np.where(last_day, 20.0, np.where(fleet.t_days.astype(int) == 3, 80.0, 20.0))
    fleet.ec2("i-a", "m5.4xlarge", cpu=cpu, memory=memory)
    history = _history(fleet, catalog)
    end = history.window[1]
    assert decayed_percentile(history.metrics, "cpu", 0.9, end, 24.0, daily_peaks=False)["i-a"] == 50.0
    assert decayed_percentile(history.metrics, "cpu", 0.9, end, 1e6, daily_peaks=False)["i-a"] == 10.0
    # one old day of 80 % memory is a daily peak of almost no weight after ten half-lives
    assert decayed_percentile(history.metrics, "memory", 0.9, end, 24.0, daily_peaks=True)["i-a"] == 20.0
    decision = _by_id(Vpa().decide(history))["i-a"]
    spec = catalog.spec(decision.target)
    assert spec["vcpus"] >= 0.5 * 16 * 1.15 and spec["memory_gib"] >= 0.2 * 64 * 1.15
    assert decision.action == "downsize"
