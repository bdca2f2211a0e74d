"""Every bundled rule fires on a small features frame and misses on each near miss (just past one threshold).

Each case is a features row that fires and, per threshold or condition, a change that just misses. Near misses
are written against the rule's own thresholds (``t``), so they stay "just past" when a threshold is tuned.
A rule without a case here fails ``test_every_bundled_rule_has_a_case``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from advisor.engine.pipeline import load_rule_set
from advisor.engine.rules import LoadedRule, evaluate_rules, known_columns
from advisor.settings import Settings

Row = dict[str, Any]
Miss = Callable[[dict[str, float]], Row]
EPS = 1e-6

GPU_HOST = {"state": "running", "gpus": 1, "gpu_model": "T4"}
IDLE_EVIDENCE = {"network_daily_max_mb": 1.0, "memory_max": 10.0}

CASES: dict[str, tuple[Row, dict[str, Miss]]] = {
    # ---- EC2 (existing pack) ----
    "ec2-idle": ({"kind": "ec2_instance", "state": "running", "cpu_max": 1.0, "gpus": 0, **IDLE_EVIDENCE}, {
        "cpu": lambda t: {"cpu_max": t["cpu_max_pct"]},
        "network": lambda t: {"network_daily_max_mb": t["network_mb_per_day"] + EPS},
        "no network data": lambda t: {"network_daily_max_mb": np.nan},
        "memory": lambda t: {"memory_max": t["memory_max_pct"] + EPS},
        "no memory data": lambda t: {"memory_max": np.nan},
        "gpu": lambda t: {"gpus": 1},
        "stopped": lambda t: {"state": "stopped"}}),
    "ec2-possibly-idle": ({"kind": "ec2_instance", "state": "running", "cpu_max": 1.0, "gpus": 0,
                          "network_daily_max_mb": np.nan, "memory_max": 10.0}, {
        "cpu": lambda t: {"cpu_max": t["cpu_max_pct"]},
        "all evidence": lambda t: IDLE_EVIDENCE,
        "gpu": lambda t: {"gpus": 1}}),
    "ec2-underprovisioned": ({"kind": "ec2_instance", "state": "running", "cpu_censored": False,
                              "memory_demand": 90.0}, {
        "memory": lambda t: {"memory_demand": t["memory_limit"] - EPS},
        "stopped": lambda t: {"state": "stopped"}}),
    "ec2-running-hot": ({"kind": "ec2_instance", "state": "running", "cpu_demand": 95.0, "cpu_censored": False,
                         "gpu_demand": np.nan, "gpu_censored": None, "memory_demand": 50.0,
                         "gpu_memory_max": np.nan}, {
        "cpu": lambda t: {"cpu_demand": t["cpu_limit"] - EPS},
        "cpu at the wall": lambda t: {"cpu_censored": True},
        "memory upsized": lambda t: {"memory_demand": t["memory_limit"]},
        "gpu memory upsized": lambda t: {"gpu_memory_max": t["gpu_memory_limit"]},
        "gpu at the wall": lambda t: {"cpu_demand": 10.0, "gpu_demand": t["gpu_limit"], "gpu_censored": True},
        "gpu": lambda t: {"cpu_demand": 10.0, "gpu_demand": t["gpu_limit"] - EPS, "gpu_censored": False}}),
    "ec2-forecast-beyond-capacity": ({"kind": "ec2_instance", "state": "running", "cpu_forecast_held": True,
                                      "memory_forecast_held": False, "gpu_forecast_held": False}, {
        "nothing held": lambda t: {"cpu_forecast_held": False},
        "stopped": lambda t: {"state": "stopped"}}),
    "ec2-no-memory-metrics": ({"kind": "ec2_instance", "state": "running", "has_memory_data": False,
                               "cpu_demand": 10.0}, {
        "cpu": lambda t: {"cpu_demand": t["cpu_p99_below"]},
        "memory seen": lambda t: {"has_memory_data": True}}),
    "ec2-overprovisioned": ({"kind": "ec2_instance", "state": "running", "has_memory_data": True,
                             "cpu_demand": 10.0, "memory_demand": 20.0}, {
        "cpu": lambda t: {"cpu_demand": t["cpu_below"]},
        "memory": lambda t: {"memory_demand": t["memory_below"]},
        "no memory data, busy CPU": lambda t: {"has_memory_data": False, "memory_demand": np.nan,
                                               "cpu_demand": t["cpu_below"]}}),
    "ec2-cheaper-type": ({"kind": "ec2_instance", "state": "running", "has_memory_data": True,
                          "generation": "current", "cpu_demand": 60.0, "memory_demand": 70.0}, {
        "cpu": lambda t: {"cpu_demand": t["cpu_below"]},
        "memory": lambda t: {"memory_demand": t["memory_below"]},
        "previous generation": lambda t: {"generation": "previous"},
        "no memory data, busy CPU": lambda t: {"has_memory_data": False, "memory_demand": np.nan,
                                               "cpu_demand": t["cpu_below"]}}),
    "ec2-previous-generation": ({"kind": "ec2_instance", "state": "running", "gpus": 0,
                                 "generation": "previous"}, {
        "current": lambda t: {"generation": "current"},
        "gpu": lambda t: {"gpus": 1}}),
    "ec2-gpu-previous-generation": ({"kind": "ec2_instance", **GPU_HOST, "generation": "previous"}, {
        "current": lambda t: {"generation": "current"},
        "no gpu": lambda t: {"gpus": 0}}),
    # ---- accelerators ----
    "ec2-gpu-idle": ({"kind": "ec2_instance", **GPU_HOST, "gpu_p99": 1.0, "gpu_memory_max": 1.0, "cpu_p99": 5.0,
                      "network_daily_max_mb": 1.0}, {
        "gpu": lambda t: {"gpu_p99": t["gpu_p99_max"] + EPS},
        "gpu memory": lambda t: {"gpu_memory_max": t["gpu_memory_max_pct"] + EPS},
        "no gpu memory data": lambda t: {"gpu_memory_max": np.nan},
        "cpu": lambda t: {"cpu_p99": t["cpu_p99_max"] + EPS},
        "network": lambda t: {"network_daily_max_mb": t["network_mb_per_day"] + EPS},
        "no network data": lambda t: {"network_daily_max_mb": np.nan},
        "no gpu": lambda t: {"gpus": 0}}),
    "ec2-gpu-saturated": ({"kind": "ec2_instance", **GPU_HOST, "gpu_censored": True, "gpu_memory_max": 40.0}, {
        "gpu below the wall": lambda t: {"gpu_censored": False},
        "gpu memory": lambda t: {"gpu_censored": False, "gpu_memory_max": t["gpu_memory_limit"] - EPS}}),
    "ec2-gpu-underused": ({"kind": "ec2_instance", **GPU_HOST, "gpu_demand": 10.0, "gpu_memory_max": 20.0}, {
        "gpu": lambda t: {"gpu_demand": t["gpu_below"]},
        "gpu memory": lambda t: {"gpu_memory_max": t["gpu_memory_below"]},
        "no gpu memory data": lambda t: {"gpu_memory_max": np.nan}}),
    "ec2-elastic-inference": ({"kind": "ec2_instance", "state": "running", "has_elastic_inference": True}, {
        "no EI": lambda t: {"has_elastic_inference": False}}),
    "sagemaker-elastic-inference": ({"kind": "sagemaker_endpoint", "has_elastic_inference": True}, {
        "no EI": lambda t: {"has_elastic_inference": False}}),
    "sagemaker-endpoint-gpu-underused": ({"kind": "sagemaker_endpoint", "gpus": 1, "gpu_demand": 10.0,
                                          "gpu_memory_max": 20.0}, {
        "gpu": lambda t: {"gpu_demand": t["gpu_below"]},
        "gpu memory": lambda t: {"gpu_memory_max": t["gpu_memory_below"]}}),
    "sagemaker-endpoint-gpu-saturated": ({"kind": "sagemaker_endpoint", "gpus": 1, "gpu_censored": False,
                                          "gpu_memory_max": 95.0}, {
        "gpu memory": lambda t: {"gpu_memory_max": t["gpu_memory_limit"] - EPS}}),
    "sagemaker-endpoint-running-hot": ({"kind": "sagemaker_endpoint", "gpus": 1, "gpu_demand": 95.0,
                                        "gpu_censored": False, "gpu_memory_max": 40.0}, {
        "gpu": lambda t: {"gpu_demand": t["gpu_limit"] - EPS},
        "gpu at the wall": lambda t: {"gpu_censored": True},
        "gpu memory upsized": lambda t: {"gpu_memory_max": t["gpu_memory_limit"]}}),
    "sagemaker-training-gpu-underused": ({"kind": "sagemaker_training_job", "gpus": 1, "hours_observed": 5.0,
                                          "gpu_demand": 10.0, "gpu_memory_max": 20.0}, {
        "gpu": lambda t: {"gpu_demand": t["gpu_below"]},
        "gpu memory": lambda t: {"gpu_memory_max": t["gpu_memory_below"]},
        "short run": lambda t: {"hours_observed": t["min_hours"] - EPS}}),
    # ---- spot ----
    "ec2-spot-interruptible": ({"kind": "ec2_instance", "state": "running", "lifecycle": "on-demand",
                                "interruptible": True, "spot_savings_pct": 50.0}, {
        "savings": lambda t: {"spot_savings_pct": t["min_savings_pct"] - EPS},
        "lone instance": lambda t: {"interruptible": False},
        "already spot": lambda t: {"lifecycle": "spot"}}),
    "sagemaker-training-managed-spot": ({"kind": "sagemaker_training_job", "managed_spot": False,
                                         "spot_savings_pct": 60.0, "run_hours": 3.0}, {
        "savings": lambda t: {"spot_savings_pct": t["min_savings_pct"] - EPS},
        "short job": lambda t: {"run_hours": t["min_training_hours"] - EPS},
        "already spot": lambda t: {"managed_spot": True},
        "unknown": lambda t: {"managed_spot": None}}),
    "sagemaker-training-spot-realised": ({"kind": "sagemaker_training_job", "managed_spot": True,
                                          "spot_realised_pct": 60.0}, {
        "on-demand": lambda t: {"managed_spot": False},
        "no durations": lambda t: {"spot_realised_pct": np.nan}}),
    "batch-spot-compute-environment": ({"kind": "batch_compute_environment", "lifecycle": "on-demand",
                                        "spot_savings_pct": 50.0}, {
        "savings": lambda t: {"spot_savings_pct": t["min_savings_pct"] - EPS},
        "already spot": lambda t: {"lifecycle": "spot"}}),
    # ---- storage ----
    "ebs-unattached": ({"kind": "ebs_volume", "attached": False, "state": "available"}, {
        "attached": lambda t: {"attached": True},
        "in use without an instance (an ECS task's volume)": lambda t: {"state": "in-use"},
        "still being created": lambda t: {"state": "creating"}}),
    "ebs-idle": ({"kind": "ebs_volume", "attached": True, "days_observed": 10.0, "total_iops_max": 0.2}, {
        "io": lambda t: {"total_iops_max": t["max_iops"] + EPS},
        "days": lambda t: {"days_observed": t["min_days"] - EPS}}),
    "ebs-gp2-burst-draining": ({"kind": "ebs_volume", "volume_type": "gp2", "size_gib": 500.0,
                                "burst_balance_min": 5.0}, {
        "balance": lambda t: {"burst_balance_min": t["burst_balance_below"] + EPS},
        "1,000 GiB and more do not burst": lambda t: {"size_gib": t["max_size_gib"]},
        "gp3": lambda t: {"volume_type": "gp3"}}),
    "ebs-io-overprovisioned": ({"kind": "ebs_volume", "volume_type": "io2", "iops_used_pct": 10.0}, {
        "used": lambda t: {"iops_used_pct": t["iops_used_below"] + EPS},
        "gp3": lambda t: {"volume_type": "gp3"}}),
    "ebs-gp2-to-gp3": ({"kind": "ebs_volume", "volume_type": "gp2"}, {
        "gp3": lambda t: {"volume_type": "gp3"}}),
    # ---- SageMaker ----
    "sagemaker-endpoint-idle": ({"kind": "sagemaker_endpoint", "invocations_idle_days": 9.0}, {
        "days": lambda t: {"invocations_idle_days": t["idle_days"] - EPS}}),
    "sagemaker-endpoint-bursty": ({"kind": "sagemaker_endpoint", "invocations_max": 500.0,
                                   "invocations_nonzero": 0.05}, {
        "share": lambda t: {"invocations_nonzero": t["active_share_below"] + EPS},
        "no traffic": lambda t: {"invocations_max": 0.0}}),
    "sagemaker-endpoint-ab-variant": ({"kind": "sagemaker_endpoint", "variants": 2, "variant_share": 0.1,
                                       "count": 3, "endpoint_max_count": 3}, {
        "share": lambda t: {"variant_share": t["share_below"] + EPS},
        "one variant": lambda t: {"variants": 1},
        "smaller already": lambda t: {"endpoint_max_count": 4},
        "shadow": lambda t: {"variant_role": "shadow"},
        "minimum": lambda t: {"count": t["min_instances"], "endpoint_max_count": t["min_instances"]}}),
    "sagemaker-endpoint-autoscaling": ({"kind": "sagemaker_endpoint", "autoscaling": False, "count": 4,
                                        "invocations_peak_to_median": 3.0}, {
        "swing": lambda t: {"invocations_peak_to_median": t["peak_to_median"] - EPS},
        "count": lambda t: {"count": t["min_instances"]},
        "scaling": lambda t: {"autoscaling": True}}),
    "sagemaker-endpoint-single-instance": ({"kind": "sagemaker_endpoint", "count": 1, "max_count": 1,
                                            "invocations_idle_days": 0.1}, {
        "two": lambda t: {"count": 2},
        "idle": lambda t: {"invocations_idle_days": t["active_within_days"]},
        "scales out": lambda t: {"max_count": 3}}),
    "sagemaker-notebook-idle": ({"kind": "sagemaker_notebook", "days_observed": 8.0, "cpu_p99": 1.0}, {
        "cpu": lambda t: {"cpu_p99": t["cpu_p99_max"] + EPS},
        "days": lambda t: {"days_observed": t["idle_days"] - EPS}}),
    "sagemaker-notebook-no-auto-stop": ({"kind": "sagemaker_notebook", "state": "InService", "auto_stop": False}, {
        "stops itself": lambda t: {"auto_stop": True},
        "unknown": lambda t: {"auto_stop": None},
        "stopped": lambda t: {"state": "Stopped"}}),
    "sagemaker-tuning-early-stopping": ({"kind": "sagemaker_tuning_job", "early_stopping": "Off",
                                         "training_jobs": 20, "lagging_billable_seconds": 3600.0}, {
        "auto": lambda t: {"early_stopping": "Auto"},
        "few jobs": lambda t: {"training_jobs": t["min_training_jobs"] - 1},
        "nothing lagged": lambda t: {"lagging_billable_seconds": 0.0}}),
}


@pytest.fixture(scope="module")
def bundled() -> dict[str, LoadedRule]:
    return {r.id: r for r in load_rule_set(Settings())}


def _fires(rule: LoadedRule, row: Row) -> bool:
    frame = pd.DataFrame([row], index=["r-1"]).reindex(columns=known_columns())
    for column, value in row.items():  # keep the given dtypes (booleans, text)
        frame[column] = pd.Series([value], index=frame.index, dtype=object if value is None else None)
    return not evaluate_rules([rule], frame).empty


def test_every_bundled_rule_has_a_case(bundled: dict[str, LoadedRule]) -> None:
    assert set(bundled) == set(CASES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_its_case(rule_id: str, bundled: dict[str, LoadedRule]) -> None:
    base, _ = CASES[rule_id]
    assert _fires(bundled[rule_id], base)


@pytest.mark.parametrize(("rule_id", "miss"), [(r, m) for r, (_, misses) in sorted(CASES.items()) for m in misses])
def test_rule_misses_just_past_each_threshold(rule_id: str, miss: str, bundled: dict[str, LoadedRule]) -> None:
    base, misses = CASES[rule_id]
    rule = bundled[rule_id]
    assert not _fires(rule, base | misses[miss](rule.rule.thresholds)), f"{rule_id} fired on near miss {miss!r}"


def test_every_threshold_has_a_near_miss_or_drives_the_action(bundled: dict[str, LoadedRule]) -> None:
    """A threshold named in a condition must have a near-miss case above (the action's own are tested apart)."""
    for rule_id, loaded in bundled.items():
        in_condition = {name for name in loaded.rule.thresholds if f"${name}" in repr(_raw_condition(loaded))}
        base, misses = CASES[rule_id]
        covered = set()
        for make in misses.values():
            changed = make(loaded.rule.thresholds)
            covered |= {name for name, value in loaded.rule.thresholds.items()
                        if any(v == value or v == value + EPS or v == value - EPS or v == value - 1
                               for v in changed.values() if isinstance(v, int | float))}
        assert in_condition <= covered, f"{rule_id}: no near miss for {sorted(in_condition - covered)}"


def _raw_condition(loaded: LoadedRule) -> list:
    def walk(node) -> list:
        if node.kind == "test":
            return [node.value]
        return [v for child in node.children for v in walk(child)]
    return walk(loaded.condition)
