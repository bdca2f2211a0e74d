"""The features the ML rule packs read: summed I/O, idle days, Spot figures, endpoint shares, CSV booleans."""

import numpy as np
import pandas as pd
import pytest
from fleet_builders import FleetBuilder

from advisor.catalog import load_catalog
from advisor.engine.features import build_features
from advisor.settings import Settings, SpotConfig


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _features(fleet: FleetBuilder, catalog, settings: Settings | None = None) -> pd.DataFrame:
    inventory, metrics = fleet.frames()
    window = (fleet.timestamps[0], fleet.timestamps[-1])
    return build_features(inventory, metrics, catalog, settings or Settings(), window)


def test_iops_p99_is_the_p99_of_read_plus_write(catalog):
    fleet = FleetBuilder(days=1)
    read = np.where(np.arange(fleet.n) % 2 == 0, 100.0, 0.0)  # reads and writes alternate: never both
    fleet.add("vol-1", "ebs_volume", volume_type="io1", size_gib=100, iops=1000, attached_to="i-1",
              metrics={"read_iops": read, "write_iops": 100.0 - read})
    f = _features(fleet, catalog).loc["vol-1"]
    assert f["read_iops_p99"] + f["write_iops_p99"] == 200
    assert f["iops_p99"] == f["total_iops_max"] == 100 and f["iops_used_pct"] == 10


def test_invocation_idle_days_count_from_the_last_call(catalog):
    fleet = FleetBuilder(days=14)
    calls = np.zeros(fleet.n)
    calls[: 4 * 288] = 5.0  # busy the first 4 days only
    fleet.add("ep/a", "sagemaker_endpoint", instance_type="ml.m5.xlarge", endpoint="ep", variant="a",
              metrics={"invocations": calls})
    fleet.add("ep/never", "sagemaker_endpoint", instance_type="ml.m5.xlarge", endpoint="ep", variant="never",
              metrics={"invocations": np.zeros(fleet.n)})
    f = _features(fleet, catalog)
    assert f.at["ep/a", "invocations_idle_days"] == pytest.approx(10, abs=0.01)
    assert f.at["ep/never", "invocations_idle_days"] == pytest.approx(14, abs=0.01)
    assert f.at["ep/a", "variant_share"] == 1.0 and f.at["ep/a", "variants"] == 2


def test_interruptible_from_auto_scaling_or_configured_tags(catalog):
    fleet = FleetBuilder(days=1)
    for rid, tags in (("a", {"aws:autoscaling:groupName": "g"}), ("b", {"workload": "STATELESS"}),
                      ("c", {"workload": "web"}), ("d", {})):
        fleet.ec2(rid, "m5.large", cpu=fleet.noise(1, 2))
        fleet.inventory[-1]["tags"] = tags
    default = _features(fleet, catalog)["interruptible"]
    assert default.to_dict() == {"a": True, "b": True, "c": False, "d": False}
    web = Settings(spot=SpotConfig(interruptible_tags={"workload": ["web"]}))
    custom = _features(fleet, catalog, web)["interruptible"]
    assert custom.to_dict() == {"a": True, "b": False, "c": True, "d": False}


def test_spot_figures_realised_savings_and_text_booleans(catalog):
    fleet = FleetBuilder(days=1)
    fleet.add("job", "sagemaker_training_job", instance_type="ml.p3.2xlarge", managed_spot="True",
              training_seconds=1000, billable_seconds=300, metrics={})
    fleet.add("job-od", "sagemaker_training_job", instance_type="ml.p3.2xlarge", managed_spot="false",
              training_seconds=1000, billable_seconds=1000, metrics={})
    f = _features(fleet, catalog)
    assert f.at["job", "managed_spot"] is np.True_ or f.at["job", "managed_spot"] is True
    assert not f.at["job-od", "managed_spot"]
    assert f.at["job", "spot_realised_pct"] == pytest.approx(70)
    assert np.isnan(f.at["job-od", "spot_realised_pct"])
    assert f.at["job", "spot_savings_pct"] == 80  # Spot Advisor, p3.2xlarge in us-east-1
    window_hours = (fleet.timestamps[-1] - fleet.timestamps[0]) / pd.Timedelta(hours=1)
    runs = 730 / window_hours  # one run seen in the window, as a monthly rate
    assert f.at["job", "runs_per_month"] == pytest.approx(runs)
    assert f.at["job", "monthly_cost"] == pytest.approx(3.825 * 300 / 3600 * runs)
    assert f.at["job", "hours_billed"] == pytest.approx(300 / 3600 * runs)


def test_elastic_inference_is_priced_with_the_host(catalog):
    fleet = FleetBuilder(days=1)
    fleet.add("ep/ei", "sagemaker_endpoint", instance_type="ml.m5.large", accelerator_type="ml.eia2.medium",
              count=2, metrics={})
    fleet.ec2("i-ei", "c5.xlarge", cpu=fleet.noise(1, 2))
    fleet.inventory[-1]["accelerator_type"] = "eia2.medium"
    f = _features(fleet, catalog)
    assert f.at["ep/ei", "has_elastic_inference"] and f.at["i-ei", "has_elastic_inference"]
    assert f.at["ep/ei", "monthly_cost"] == pytest.approx((0.115 + 0.12) * 730 * 2)
    assert f.at["i-ei", "hourly_price"] == pytest.approx(0.17 + 0.12) and f.at["i-ei", "price_estimated"]
