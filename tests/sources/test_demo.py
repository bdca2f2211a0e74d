"""The bundled demo fleet: canonical, deterministic, small, and every scenario shows what it promises."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from advisor.engine.pipeline import load_rule_set
from advisor.model import INVENTORY_COLUMNS, METRICS_COLUMNS, PERCENT_METRICS, Kind, Metric
from advisor.results import recommendations_frame
from advisor.settings import Settings
from advisor.sources.demo import (
    DEMO_END,
    DEMO_START,
    decode_values,
    demo_dir,
    encode_values,
    is_percent,
    load_demo,
)

EXPECTED_COUNTS = {
    "idle": 12, "over_provisioned": 30, "right_sized": 15, "under_provisioned": 8, "growing": 6,
    "weekly_seasonal": 6, "memory_bound": 6, "no_memory_data": 10, "previous_generation": 8, "little_data": 3,
    "gpu_idle": 3, "gpu_underused": 6, "gpu_busy": 5,
    "ebs_gp2": 17, "ebs_gp2_burst_draining": 3, "ebs_gp3": 10, "ebs_io1_overprovisioned": 8, "ebs_unattached": 4,
    "endpoint_idle": 2, "endpoint_single_instance": 3, "endpoint_underused_gpu": 3, "endpoint_steady": 4,
    "training_spot": 2, "training_spot_candidate": 2, "training_underused_gpu": 2, "training_cpu": 2,
    "notebook_idle": 2, "notebook_active": 2,
    "ebs_idle": 2, "ei_instance": 1, "endpoint_ab_test": 2, "endpoint_diurnal": 1, "endpoint_bursty": 1,
    "endpoint_gpu_saturated": 1, "endpoint_gpu_hot": 1,
    "tuning_early_stopping_off": 2, "tuning_early_stopping_auto": 1,
    "batch_ondemand": 1, "batch_ondemand_no_usage": 1, "batch_spot": 1,
}
FULL_WINDOW = 14 * 288


@pytest.fixture(scope="module")
def demo(demo_frames: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return demo_frames


@pytest.fixture(scope="module")
def inventory(demo: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    inv = demo[0].copy()
    inv["scenario"] = [t["scenario"] for t in inv["tags"]]
    return inv.set_index("resource_id", drop=False)


@pytest.fixture(scope="module")
def metrics(demo: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return demo[1]


@pytest.fixture(scope="module")
def stats(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per resource: <metric>_p99, <metric>_max and <metric>_n columns."""
    grouped = metrics.groupby(["resource_id", "metric"], observed=True)["value"]
    long = pd.DataFrame({"p99": grouped.quantile(0.99), "max": grouped.max(), "n": grouped.size()})
    wide = long.unstack("metric")
    wide.columns = [f"{metric}_{stat}" for stat, metric in wide.columns]
    return wide


def members(inventory: pd.DataFrame, scenario: str) -> pd.Index:
    return inventory.index[inventory["scenario"] == scenario]


def daily_p99(metrics: pd.DataFrame, ids: pd.Index, metric: str) -> pd.DataFrame:
    """Rows: resources; columns: days of the window; values: that day's p99."""
    rows = metrics[(metrics["metric"] == metric) & metrics["resource_id"].isin(ids)]
    day = rows["timestamp"].dt.floor("D")
    return rows.groupby([rows["resource_id"], day])["value"].quantile(0.99).unstack()


# ---- loading ------------------------------------------------------------------------------------------------


def test_loading_twice_gives_the_same_frames(demo: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inventory, metrics = load_demo()
    pd.testing.assert_frame_equal(inventory, demo[0])
    assert metrics.equals(demo[1])  # checks dtypes and values; assert_frame_equal is slow on 2.8M rows


def test_shipped_files_are_small() -> None:
    total = sum(p.stat().st_size for p in demo_dir().iterdir() if p.is_file())
    assert total <= 4 * 1024 * 1024


def test_frames_are_canonical(demo: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inventory, metrics = demo
    assert set(INVENTORY_COLUMNS) <= set(inventory.columns)
    assert list(metrics.columns) == list(METRICS_COLUMNS)
    assert str(metrics["timestamp"].dt.tz) == "UTC"
    assert inventory["resource_id"].is_unique
    assert all(isinstance(t, dict) for t in inventory["tags"])
    assert set(metrics["resource_id"].unique()) <= set(inventory["resource_id"])
    assert not metrics.duplicated(["resource_id", "metric", "timestamp"]).any()


def test_value_codec_round_trips() -> None:
    names = np.array(["cpu", "network_in", "invocations", "burst_balance", "read_iops"], dtype=object)
    values = np.array([37.25, 1.25e9, 0.2, 100.0, 0.0])
    decoded = decode_values(is_percent(names), encode_values(is_percent(names), values))
    np.testing.assert_allclose(decoded, values, rtol=4e-4, atol=0.005)


# ---- the fleet as a whole -----------------------------------------------------------------------------------


def test_fleet_size_regions_accounts_and_kinds(inventory: pd.DataFrame) -> None:
    assert len(inventory) >= 150
    assert inventory["region"].nunique() >= 2
    assert set(inventory["account"]) == {"111111111111", "222222222222"}
    assert {k.value for k in Kind} <= set(inventory["kind"])
    assert (inventory["region"] == "us-east-1").mean() > 0.5


def test_every_scenario_is_present_with_its_count(inventory: pd.DataFrame) -> None:
    assert Counter(inventory["scenario"]) == EXPECTED_COUNTS


def test_required_tags_and_lifecycle(inventory: pd.DataFrame) -> None:
    for tags in inventory["tags"]:
        assert {"Name", "team", "cost-centre", "env", "scenario"} <= set(tags)
    on_spot = inventory["lifecycle"] != "on-demand"
    assert inventory.loc[on_spot, "scenario"].tolist() == ["batch_spot"]
    asg = [t for t in inventory["tags"] if "aws:autoscaling:groupName" in t]
    batch = [t for t in inventory["tags"] if t.get("workload") == "batch"]
    assert len(asg) == 3 and len(batch) == 2


def test_names_and_tags_are_what_a_team_would_show(inventory: pd.DataFrame) -> None:
    """The demo is the README's headline: hostile strings live in the test fixtures (tests/hostile), not here."""
    plain = re.compile(r"[A-Za-z0-9 ._:/@+=-]*")
    texts = [*inventory["name"].dropna()] + [f"{k}={v}" for tags in inventory["tags"] for k, v in tags.items()]
    assert texts and [t for t in texts if not plain.fullmatch(t)] == []


def test_metric_values_are_within_their_units(metrics: pd.DataFrame) -> None:
    assert np.isfinite(metrics["value"]).all()
    assert (metrics["value"] >= 0).all()
    percent = metrics["metric"].isin([m.value for m in PERCENT_METRICS])
    assert (metrics.loc[percent, "value"] <= 100).all()
    assert set(metrics["metric"].unique()) <= {m.value for m in Metric}


def test_samples_lie_on_the_fixed_five_minute_window(metrics: pd.DataFrame, inventory: pd.DataFrame,
                                                     stats: pd.DataFrame) -> None:
    assert metrics["timestamp"].min() == DEMO_START
    assert metrics["timestamp"].max() < DEMO_END
    offsets = (metrics["timestamp"] - DEMO_START).dt.total_seconds()
    assert (offsets % 300 == 0).all()
    ec2 = inventory.index[(inventory["kind"] == Kind.EC2_INSTANCE) & (inventory["scenario"] != "little_data")]
    coverage = stats.loc[ec2, "cpu_n"] / FULL_WINDOW
    assert coverage.min() > 0.85 and coverage.median() > 0.95


# ---- EC2 scenarios ------------------------------------------------------------------------------------------

EC2_CHECKS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "idle": lambda s: (s["cpu_p99"] < 2) & (s["network_in_p99"] < 1000),
    "over_provisioned": lambda s: s["cpu_p99"].between(8, 35) & s["memory_max"].between(15, 50),
    "right_sized": lambda s: s["cpu_p99"].between(60, 80) & s["memory_max"].between(55, 80),
    "under_provisioned": lambda s: (s["cpu_p99"] >= 92) | (s["memory_max"] >= 92),
    "memory_bound": lambda s: (s["cpu_p99"] <= 15) & s["memory_max"].between(85, 95),
    "no_memory_data": lambda s: s["cpu_p99"].between(5, 30) & s["memory_n"].isna(),
    "previous_generation": lambda s: s["cpu_p99"].between(40, 70) & s["memory_max"].between(40, 70),
    "gpu_idle": lambda s: s["gpu_p99"] < 3,
    "gpu_underused": lambda s: s["gpu_p99"].between(5, 25) & s["gpu_memory_max"].between(10, 35),
    "gpu_busy": lambda s: s["gpu_p99"].between(70, 100),  # one of them pinned at the capacity
}


@pytest.mark.parametrize("scenario", sorted(EC2_CHECKS))
def test_ec2_scenario_statistics(scenario: str, inventory: pd.DataFrame, stats: pd.DataFrame) -> None:
    ids = members(inventory, scenario)
    ok = EC2_CHECKS[scenario](stats.reindex(ids))
    assert ok.all(), stats.reindex(ids)[~ok.to_numpy()].dropna(axis=1, how="all")


def test_over_provisioned_matches_the_brief_thresholds(inventory: pd.DataFrame, stats: pd.DataFrame) -> None:
    s = stats.loc[members(inventory, "over_provisioned")]
    assert (s["cpu_p99"] < 40).all() and (s["memory_max"] < 60).all()


def test_no_memory_data_has_no_memory_rows(inventory: pd.DataFrame, metrics: pd.DataFrame) -> None:
    ids = members(inventory, "no_memory_data")
    assert not ((metrics["metric"] == "memory") & metrics["resource_id"].isin(ids)).any()


def test_growing_daily_peaks_rise(inventory: pd.DataFrame, metrics: pd.DataFrame) -> None:
    peaks = daily_p99(metrics, members(inventory, "growing"), "cpu")
    first, last = peaks.iloc[:, :3].mean(axis=1), peaks.iloc[:, -3:].mean(axis=1)
    assert (last > 1.4 * first).all()
    assert first.between(20, 40).all() and last.between(50, 70).all()


def test_weekly_seasonal_weekdays_peak_and_weekends_rest(inventory: pd.DataFrame, metrics: pd.DataFrame) -> None:
    peaks = daily_p99(metrics, members(inventory, "weekly_seasonal"), "cpu")
    weekday = np.array([d.weekday() for d in peaks.columns])
    assert peaks.loc[:, weekday < 5].to_numpy().min() >= 60
    assert peaks.loc[:, weekday >= 5].to_numpy().max() <= 25
    assert (peaks.loc[:, weekday == 0].mean(axis=1) > peaks.loc[:, (weekday > 0) & (weekday < 5)].mean(axis=1)).all()


def test_little_data_has_under_30_hours_at_the_end(inventory: pd.DataFrame, metrics: pd.DataFrame) -> None:
    rows = metrics[metrics["resource_id"].isin(members(inventory, "little_data"))]
    for _, part in rows.groupby("resource_id"):
        hours = part["timestamp"].nunique() * 5 / 60
        assert 12 <= hours < 30
        assert part["timestamp"].max() == DEMO_END - pd.Timedelta(minutes=5)


def test_ec2_instance_types(inventory: pd.DataFrame) -> None:
    ec2 = inventory[inventory["kind"] == Kind.EC2_INSTANCE]
    families = ec2["instance_type"].str.split(".").str[0]
    old = ec2["scenario"] == "previous_generation"
    assert set(families[old]) <= {"m4", "c4", "r4"}
    gpu = ec2["scenario"].str.startswith("gpu_")
    assert set(families[gpu]) <= {"g4dn", "g5", "p3"}
    assert set(families[~old & ~gpu]) <= {"m5", "m6i", "c5", "c6i", "r5", "r6i", "t3"}
    ei = ec2["scenario"] == "ei_instance"
    assert (ec2.loc[ei, "accelerator_type"] == "eia2.medium").all() and ec2.loc[~ei, "accelerator_type"].isna().all()
    assert ec2["resource_id"].str.fullmatch(r"i-0[0-9a-f]{16}").all()


# ---- EBS ----------------------------------------------------------------------------------------------------


def test_ebs_volumes(inventory: pd.DataFrame, stats: pd.DataFrame) -> None:
    ebs = inventory[inventory["kind"] == Kind.EBS_VOLUME]
    assert ebs["resource_id"].str.fullmatch(r"vol-0[0-9a-f]{16}").all()
    assert ebs["instance_type"].isna().all()
    ec2_ids = set(inventory.index[inventory["kind"] == Kind.EC2_INSTANCE])
    unattached = ebs["scenario"] == "ebs_unattached"
    assert ebs.loc[unattached, "attached_to"].isna().all()
    assert ebs.loc[~unattached, "attached_to"].isin(ec2_ids).all()
    gp2 = ebs.index[ebs["volume_type"] == "gp2"]
    assert stats.loc[gp2, "burst_balance_n"].notna().all()
    assert stats.loc[ebs.index.difference(gp2), "burst_balance_n"].isna().all()
    gp2_in_use = ebs[(ebs["volume_type"] == "gp2") & ~unattached]
    assert len(gp2_in_use) == 20 and gp2_in_use["size_gib"].between(50, 2000).all()
    total = stats.loc[ebs.index, "read_iops_max"] + stats.loc[ebs.index, "write_iops_max"]
    assert (total[unattached] < 1).all()


def test_io1_volumes_use_a_small_share_of_their_iops(inventory: pd.DataFrame, metrics: pd.DataFrame) -> None:
    io1 = inventory[inventory["scenario"] == "ebs_io1_overprovisioned"]
    assert io1["iops"].between(5000, 20000).all()
    rows = metrics[metrics["metric"].isin(["read_iops", "write_iops"]) & metrics["resource_id"].isin(io1.index)]
    p99 = rows.groupby(["resource_id", "timestamp"])["value"].sum().groupby(level=0).quantile(0.99)
    share = p99 / io1["iops"]
    assert share.between(0.02, 0.15).all(), share


def test_draining_gp2_burst_balance_falls_toward_zero(inventory: pd.DataFrame, metrics: pd.DataFrame) -> None:
    ids = members(inventory, "ebs_gp2_burst_draining")
    rows = metrics[(metrics["metric"] == "burst_balance") & metrics["resource_id"].isin(ids)]
    per_day = rows.groupby([rows["resource_id"], rows["timestamp"].dt.floor("D")])["value"].mean().unstack()
    assert (per_day.iloc[:, :3].min(axis=1) > 80).all()
    assert (per_day.iloc[:, -1] < 25).all()
    assert (rows.groupby("resource_id")["value"].min() < 5).all()


# ---- SageMaker ----------------------------------------------------------------------------------------------


def test_endpoints(inventory: pd.DataFrame, stats: pd.DataFrame) -> None:
    endpoints = inventory[inventory["kind"] == Kind.SAGEMAKER_ENDPOINT]
    assert (endpoints["resource_id"] == endpoints["endpoint"] + "/" + endpoints["variant"]).all()
    assert (endpoints["accelerator_type"] == "ml.eia2.medium").sum() == 2
    assert endpoints["count"].between(1, 4).all()
    gpu_type = endpoints["instance_type"].str.match(r"ml\.(g4dn|g5|p3)\.")
    s = stats.loc[endpoints.index]
    assert s.loc[gpu_type[gpu_type].index, "gpu_n"].notna().all()
    assert s.loc[gpu_type[~gpu_type].index, "gpu_n"].isna().all()
    assert (s.loc[members(inventory, "endpoint_idle"), "invocations_max"] == 0).all()
    assert (endpoints.loc[members(inventory, "endpoint_single_instance"), "count"] == 1).all()
    assert (s.loc[members(inventory, "endpoint_underused_gpu"), "gpu_p99"] <= 25).all()
    busy = endpoints.index[~endpoints["scenario"].eq("endpoint_idle")]
    assert (s.loc[busy, "invocations_p99"] > 0).all()


def test_endpoint_invocations_have_a_daily_shape(inventory: pd.DataFrame, metrics: pd.DataFrame) -> None:
    ids = members(inventory, "endpoint_steady")
    rows = metrics[(metrics["metric"] == "invocations") & metrics["resource_id"].isin(ids)]
    hourly = rows.groupby([rows["resource_id"], rows["timestamp"].dt.hour])["value"].mean().unstack()
    assert (hourly.max(axis=1) > 1.3 * hourly.min(axis=1)).all()


def test_training_jobs_only_report_during_their_run(inventory: pd.DataFrame, metrics: pd.DataFrame) -> None:
    jobs = inventory[inventory["kind"] == Kind.SAGEMAKER_TRAINING_JOB]
    assert len(jobs) == 8 and jobs["managed_spot"].sum() == 2
    spot = jobs["managed_spot"].astype(bool)
    assert (jobs.loc[spot, "billable_seconds"] < jobs.loc[spot, "training_seconds"]).all()
    assert (jobs.loc[~spot, "billable_seconds"] == jobs.loc[~spot, "training_seconds"]).all()
    rows = metrics[metrics["resource_id"].isin(jobs.index)]
    for job_id, part in rows.groupby("resource_id"):
        span = part["timestamp"].max() - part["timestamp"].min() + pd.Timedelta(minutes=5)
        assert pd.Timedelta(hours=2) <= span <= pd.Timedelta(days=2)
        assert span.total_seconds() == jobs.loc[job_id, "training_seconds"]
        gpu_job = not jobs.loc[job_id, "instance_type"].startswith("ml.m5")
        assert ("gpu" in set(part["metric"])) == gpu_job


def test_notebooks(inventory: pd.DataFrame, stats: pd.DataFrame) -> None:
    notebooks = inventory[inventory["kind"] == Kind.SAGEMAKER_NOTEBOOK]
    assert (notebooks["state"] == "InService").all()
    assert (stats.loc[members(inventory, "notebook_idle"), "cpu_p99"] < 2).all()
    assert (stats.loc[members(inventory, "notebook_active"), "cpu_p99"] >= 20).all()


# ---- resources for the ML rule packs --------------------------------------------------------------------------


def test_idle_data_volumes_are_attached_and_quiet(inventory: pd.DataFrame, stats: pd.DataFrame) -> None:
    ids = members(inventory, "ebs_idle")
    assert inventory.loc[ids, "attached_to"].notna().all()
    total = stats.loc[ids, "read_iops_max"] + stats.loc[ids, "write_iops_max"]
    assert (total < 1).all() and (total > 0).all()


def test_ab_test_endpoint_has_a_small_challenger_sized_like_the_champion(inventory: pd.DataFrame,
                                                                         metrics: pd.DataFrame) -> None:
    ab = inventory[inventory["endpoint"] == "churn-ab-test"].set_index("variant")
    assert set(ab.index) == {"champion", "challenger"}
    assert ab["weight"].sum() == pytest.approx(1.0) and ab.at["challenger", "weight"] <= 0.2
    assert ab.at["challenger", "count"] == ab.at["champion", "count"] >= 2
    rows = metrics[(metrics["metric"] == "invocations") & metrics["resource_id"].isin(ab["resource_id"])]
    calls = rows.groupby("resource_id")["value"].sum()
    assert calls[ab.at["challenger", "resource_id"]] < 0.2 * calls.sum()


def test_bursty_endpoint_sees_traffic_only_in_a_nightly_window(inventory: pd.DataFrame, metrics: pd.DataFrame) -> None:
    [rid] = members(inventory, "endpoint_bursty")
    rows = metrics[(metrics["resource_id"] == rid) & (metrics["metric"] == "invocations")]
    busy = rows[rows["value"] > 0]
    assert 0.02 < len(busy) / len(rows) < 0.15
    minutes = busy["timestamp"].dt.hour * 60 + busy["timestamp"].dt.minute
    assert minutes.between(120, 209).all()


def test_diurnal_endpoint_has_several_instances_and_no_auto_scaling(inventory: pd.DataFrame,
                                                                    metrics: pd.DataFrame) -> None:
    [rid] = members(inventory, "endpoint_diurnal")
    assert inventory.at[rid, "count"] >= 3 and not inventory.at[rid, "autoscaling"]
    calls = metrics.loc[(metrics["resource_id"] == rid) & (metrics["metric"] == "invocations"), "value"]
    assert calls.quantile(0.95) > 1.5 * calls.median()


def test_tuning_jobs(inventory: pd.DataFrame) -> None:
    jobs = inventory[inventory["kind"] == Kind.SAGEMAKER_TUNING_JOB]
    assert Counter(jobs["early_stopping"]) == {"Off": 2, "Auto": 1}
    assert (jobs["training_jobs"] >= 10).all()
    assert (jobs["lagging_billable_seconds"] <= jobs["billable_seconds"]).all()
    assert (jobs.loc[jobs["early_stopping"] == "Off", "lagging_billable_seconds"] > 0).all()


def test_batch_compute_environments(inventory: pd.DataFrame) -> None:
    batch = inventory[inventory["kind"] == Kind.BATCH_COMPUTE_ENVIRONMENT].set_index("scenario")
    assert batch.at["batch_ondemand", "lifecycle"] == "on-demand" and batch.at["batch_ondemand", "vcpu_hours"] > 0
    assert pd.isna(batch.at["batch_ondemand_no_usage", "vcpu_hours"])
    assert batch.at["batch_spot", "allocation_strategy"] == "SPOT_CAPACITY_OPTIMIZED"
    assert all(len(types.split(",")) >= 2 for types in batch["instance_type"])


def test_demo_audit_fires_every_bundled_rule_with_evidence(demo: tuple[pd.DataFrame, pd.DataFrame], demo_audit) -> None:
    """The demo report shows every recommendation kind: each bundled rule fires on at least one resource."""
    inventory = demo[0]
    recs = recommendations_frame(demo_audit.recommendations)
    # Half of the demo's "idle" instances are idle as AWS defines it (peak CPU under 5 %, under 5 MB of network a
    # day, memory low) and are told to stop; the other half spike or move megabytes a day, and are downsized. No
    # instance lacks network data and the idle GPU boxes hold models in GPU memory, so these two never fire. Its A/B
    # challenger runs two instances, the floor a production variant keeps, so sagemaker-endpoint-ab-variant has
    # nothing to cut. Its notebooks come with CPU history and no lifecycle information, so
    # sagemaker-notebook-no-auto-stop (which needs to know there is no idle shutdown) does not fire either.
    not_in_demo = {"ec2-possibly-idle", "ec2-gpu-idle", "sagemaker-endpoint-ab-variant",
                   "sagemaker-notebook-no-auto-stop"}
    assert {r.id for r in load_rule_set(Settings())} - not_in_demo == set(recs["rule"])
    idle = {rid for rid, tags in zip(inventory["resource_id"], inventory["tags"], strict=True)
            if tags.get("scenario") == "idle"}
    stopped = set(recs.loc[recs["rule"] == "ec2-idle", "resource_id"])
    assert stopped <= idle and len(stopped) == len(idle) // 2
    assert all(isinstance(e, dict) and e["rule"] == r for e, r in zip(recs["evidence"], recs["rule"], strict=True))
    ei = recs[recs["action"] == "migrate_accelerator"]
    assert len(ei) == 3 and all(any("April 2024" in n for n in e["notes"]) for e in ei["evidence"])
