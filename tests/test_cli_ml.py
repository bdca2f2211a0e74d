"""``advisor recommend --source files:DIR --format json`` on a CSV export holding every ML recommendation kind:
each record carries the action, target and savings in the DESIGN §3 shape; ``advisor rules list`` shows them."""

import json
from pathlib import Path

import numpy as np
import pytest
from fleet_builders import STEPS_PER_DAY, FleetBuilder
from typer.testing import CliRunner

from advisor.cli.main import app
from advisor.engine.pipeline import load_rule_set
from advisor.settings import Settings

runner = CliRunner()
MIB = 2**20

# resource -> (rule, action, target, monthly savings: ">0", "<0", "0" or a number)
EXPECTED = {
    "i-gpu": ("ec2-gpu-underused", "rightsize_accelerator", "g4dn.xlarge", ">0"),
    "ei/AllTraffic": ("sagemaker-elastic-inference", "migrate_accelerator", "ml.g4dn.xlarge", -731.46),
    # jobs: one run in the 14-day window as a monthly rate (x 730 / 335.9 h): 61.20 and 0.46 a run
    "job-od": ("sagemaker-training-managed-spot", "use_spot", "managed Spot training", 133.0),
    "job-spot": ("sagemaker-training-spot-realised", "info", None, 0.0),
    "i-asg": ("ec2-spot-interruptible", "use_spot", "*", ">0"),
    "ce-od": ("batch-spot-compute-environment", "use_spot", "SPOT_CAPACITY_OPTIMIZED: *", ">0"),
    "vol-io": ("ebs-io-overprovisioned", "modify_volume", "gp3", 672.5),
    "vol-gp2": ("ebs-gp2-to-gp3", "modify_volume", "gp3", 20.0),
    "vol-loose": ("ebs-unattached", "delete", "delete", 10.0),
    "one/AllTraffic": ("sagemaker-endpoint-single-instance", "add_instance", "ml.c5.xlarge x2", -148.63),
    "burst/AllTraffic": ("sagemaker-endpoint-bursty", "scale_to_zero", "asynchronous inference (scale to 0)", ">0"),
    "ab/test": ("sagemaker-endpoint-ab-variant", "rightsize_variant", "ml.m5.xlarge x2", 335.8),
    "nb-idle": ("sagemaker-notebook-idle", "stop", "stop", 36.35),
    "hpo": ("sagemaker-tuning-early-stopping", "enable_early_stopping", "TrainingJobEarlyStoppingType=Auto", 1.0),
}


@pytest.fixture(scope="module")
def ml_dir(tmp_path_factory) -> Path:
    fleet = FleetBuilder()
    flat = fleet.noise

    def endpoint(rid: str, instance_type: str, count: int, calls: np.ndarray, **fields) -> None:
        name, _, variant = rid.partition("/")
        fleet.add(rid, "sagemaker_endpoint", instance_type=instance_type, count=count, endpoint=name,
                  variant=variant, autoscaling=False, min_count=count, max_count=count,
                  metrics={"cpu": flat(20, 21), "memory": flat(30, 31), "invocations": calls}, **fields)

    fleet.ec2("i-gpu", "g4dn.12xlarge", cpu=flat(3, 4), memory=flat(3, 4), gpu=flat(11, 12), gpu_memory=flat(11, 12))
    fleet.ec2("i-asg", "m5.2xlarge", cpu=flat(50, 60), memory=flat(60, 70))
    endpoint("ei/AllTraffic", "ml.m5.large", 2, flat(99, 101), accelerator_type="ml.eia2.medium")
    endpoint("one/AllTraffic", "ml.c5.xlarge", 1, flat(99, 101))
    hour = (np.arange(fleet.n) % STEPS_PER_DAY) // 12
    endpoint("burst/AllTraffic", "ml.c5.2xlarge", 2, np.where(hour == 2, 500.0, 0.0))
    endpoint("ab/main", "ml.m5.xlarge", 4, np.full(fleet.n, 400.0), weight=0.9)
    endpoint("ab/test", "ml.m5.xlarge", 4, np.full(fleet.n, 10.0), weight=0.1)
    fleet.add("job-od", "sagemaker_training_job", instance_type="ml.p3.2xlarge", count=2, managed_spot=False,
              checkpointing=True, training_seconds=36000, billable_seconds=36000, metrics={"cpu": flat(30, 31)[-120:]})
    fleet.add("job-spot", "sagemaker_training_job", instance_type="ml.p3.2xlarge", count=1, managed_spot=True,
              checkpointing=True, training_seconds=36000, billable_seconds=14400, metrics={"cpu": flat(30, 31)[-120:]})
    fleet.add("hpo", "sagemaker_tuning_job", instance_type="ml.m5.xlarge", count=1, early_stopping="Off",
              training_jobs=20, billable_seconds=36000, training_seconds=36000, lagging_billable_seconds=14400,
              metrics={})
    fleet.add("ce-od", "batch_compute_environment", instance_type="m5.2xlarge,c5.2xlarge", lifecycle="on-demand",
              allocation_strategy="BEST_FIT_PROGRESSIVE", max_vcpus=256, vcpu_hours=10000, metrics={})
    fleet.add("vol-io", "ebs_volume", volume_type="io1", size_gib=500, iops=10000, attached_to="i-gpu",
              metrics={"read_iops": np.full(fleet.n, 600.0), "write_iops": np.full(fleet.n, 400.0),
                       "read_bytes": np.full(fleet.n, 30.0 * MIB), "write_bytes": np.full(fleet.n, 20.0 * MIB)})
    fleet.add("vol-gp2", "ebs_volume", volume_type="gp2", size_gib=1000, iops=3000, attached_to="i-asg",
              metrics={"read_iops": np.full(fleet.n, 500.0), "read_bytes": np.full(fleet.n, 100.0 * MIB)})
    fleet.add("vol-loose", "ebs_volume", volume_type="gp2", size_gib=100, metrics={})
    fleet.add("nb-idle", "sagemaker_notebook", instance_type="ml.t3.medium",
              metrics={"cpu": flat(0, 1), "memory": flat(20, 21)})
    inventory, metrics = fleet.frames()
    inventory["tags"] = [json.dumps({"aws:autoscaling:groupName": "web"}) if rid == "i-asg" else "{}"
                         for rid in inventory["resource_id"]]
    for column in ("managed_spot", "checkpointing", "autoscaling"):  # as a CSV export writes them: True/False text
        inventory[column] = inventory[column].map({True: "True", False: "False"})
    directory = tmp_path_factory.mktemp("ml-export")
    inventory.to_csv(directory / "inventory.csv", index=False)
    metrics.to_csv(directory / "metrics.csv", index=False)
    return directory


@pytest.fixture(scope="module")
def records(ml_dir: Path) -> list[dict]:
    result = runner.invoke(app, ["recommend", "--source", f"files:{ml_dir}", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("resource_id", sorted(EXPECTED))
def test_recommend_json_carries_action_target_and_savings(records: list[dict], resource_id: str) -> None:
    rule, action, target, savings = EXPECTED[resource_id]
    [record] = [r for r in records if r["resource_id"] == resource_id and r["rule"] == rule]
    for field in ("resource_id", "action", "current", "target", "monthly_savings", "confidence", "rule"):
        assert field in record
    assert record["action"] == action
    if target is not None and target.endswith("*"):
        assert record["target"].startswith(target[:-1])
    else:
        assert record["target"] == target
    if savings == ">0":
        assert record["monthly_savings"] > 0
    else:
        assert record["monthly_savings"] == pytest.approx(savings, abs=0.01)
    assert isinstance(record["evidence"], dict) and record["evidence"]["rule"] == rule


def test_rules_list_shows_every_bundled_rule_with_its_thresholds() -> None:
    result = runner.invoke(app, ["rules", "list"])
    assert result.exit_code == 0
    words = set(result.stdout.replace(",", " ").split())
    for loaded in load_rule_set(Settings()):
        assert loaded.id in words
        assert {f"{name}={value:g}" for name, value in loaded.rule.thresholds.items()} <= words
