"""Sharded audits (``--executor dask`` / ``--workers N``) give exactly the single process's advice, through the
real command: the demo's four account/region shards, a file export long enough to calibrate on, a shard that
fails, and local worker processes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli.main import app
from tests.demo_part import ACTIONS, FLEET_IDS, write_demo_part
from tests.fleet_builders import FleetBuilder

runner = CliRunner()
PLACES = [("111111111111", "us-east-1"), ("111111111111", "eu-west-1"), ("222222222222", "us-east-1"),
          ("222222222222", "eu-west-1")]
TYPES = ("m5.2xlarge", "c5.2xlarge", "r5.xlarge", "m5.xlarge")


def write_export(directory: Path, days: float, per_place: int = 8) -> Path:
    """A parquet export of EC2 instances (cpu and memory, hourly samples: sharding, not sampling, is the point) in
    four accounts/regions: quiet, busy and rising ones, so some are resized and some kept; one instance has a bad
    sample (it is refused)."""
    fleet = FleetBuilder(days=days, seed=3, per_day=24)
    t = fleet.t_days
    for place, (account, region) in enumerate(PLACES):
        for i in range(per_place):
            level = 5 + 9 * i
            cpu = np.clip(level + 4 * np.sin(2 * np.pi * t) + (t * 1.5 if i % 4 == 3 else 0) + fleet.noise(0, 3),
                          0, 100)
            memory = np.clip(20 + 5 * i + fleet.noise(0, 2), 0, 100)
            fleet.add(f"i-{place}{i:03d}", "ec2_instance", {"cpu": cpu, "memory": memory}, region=region,
                      account=account, instance_type=TYPES[(place + i) % len(TYPES)])
    inventory, metrics = fleet.frames()
    metrics["value"] = metrics["value"].astype(object)
    metrics.loc[metrics.index[metrics["resource_id"] == "i-1005"][7], "value"] = "n/a"  # refuses i-1005
    directory.mkdir(parents=True)
    inventory.drop(columns=["tags"]).to_csv(directory / "inventory.csv", index=False)
    metrics.assign(value=metrics["value"].astype(str)).to_parquet(directory / "metrics.parquet", index=False)
    return directory


def audit(tmp_path: Path, name: str, source: list[str], *executor: str) -> tuple[dict, str]:
    """The command's recommendations.json and stderr."""
    out = tmp_path / name
    result = runner.invoke(app, ["audit", *source, "--out", str(out), "-q", "--no-history", *executor])
    assert result.exit_code == 0, result.output
    return json.loads((out / "recommendations.json").read_text()), result.stderr


def same_advice(single: dict, sharded: dict, problems_in_any_order: bool = False) -> None:
    """The recommendations and every summary figure equal; the skipped rows equal as a set (the order of those
    a rule's handler gave nothing may differ between shards); the problems in the same order unless told."""
    assert sharded["recommendations"] == single["recommendations"]
    ignore = {"generated_at", "skipped_reasons", *(["problems"] if problems_in_any_order else [])}
    assert {k: v for k, v in sharded["summary"].items() if k not in ignore} == \
        {k: v for k, v in single["summary"].items() if k not in ignore}
    assert sorted(sharded["summary"]["problems"]) == sorted(single["summary"]["problems"])
    reasons = [{k: v for k, v in group.items() if k != "examples"} for group in single["summary"]["skipped_reasons"]]
    assert [{k: v for k, v in group.items() if k != "examples"}
            for group in sharded["summary"]["skipped_reasons"]] == reasons
    assert sorted(map(json.dumps, sharded["skipped"])) == sorted(map(json.dumps, single["skipped"]))
    assert sharded.get("calibration") == single.get("calibration")
    assert sharded.get("confidence_bands") == single.get("confidence_bands")


@pytest.fixture(scope="module")
def short_export(tmp_path_factory) -> Path:
    """Two weeks (no calibration); besides i-1005's bad value, one sample of i-2001 dated far outside the window."""
    export = write_export(tmp_path_factory.mktemp("export") / "short", days=14)
    metrics = pd.read_parquet(export / "metrics.parquet")
    metrics.loc[metrics.index[metrics["resource_id"] == "i-2001"][5], "timestamp"] = pd.Timestamp("1990-01-01",
                                                                                                  tz="UTC")
    metrics.to_parquet(export / "metrics.parquet", index=False)
    return export


@pytest.fixture(scope="module")
def short_single(tmp_path_factory, short_export) -> tuple[dict, str]:
    """The single process's audit of the short export and its stderr (the reference of two tests)."""
    return audit(tmp_path_factory.mktemp("single"), "out", ["--source", f"files:{short_export}"])


@pytest.fixture(scope="module")
def long_export(tmp_path_factory) -> Path:
    return write_export(tmp_path_factory.mktemp("export") / "long", days=22, per_place=7)


# The demo part that takes every action of the whole demo's advice (tests/demo_part.py), and an endpoint of the
# fourth account/region: all four of the demo's shards, every kind and every path of the advice, a tenth of the samples.
DEMO_PART = (*FLEET_IDS, "sentiment-api/primary")


def _use_demo_dir(directory: str | None) -> None:
    """Run in each worker process: the bundled demo is read from ``directory`` (None: the bundled files again)."""
    from advisor.resources import data_path
    from advisor.sources import demo

    demo.demo_dir = (lambda: Path(directory)) if directory is not None else (lambda: data_path("demo"))


def test_the_demo_on_dask_gives_the_single_process_advice(tmp_path, dask_cluster, monkeypatch):
    cluster, client = dask_cluster
    part = write_demo_part(tmp_path / "demo", DEMO_PART)
    monkeypatch.setattr("advisor.sources.demo.demo_dir", lambda: part)  # the driver (and the single process)
    client.run(_use_demo_dir, str(part))  # the shards' tasks load the demo in the worker processes
    try:
        single, _ = audit(tmp_path, "single", ["--demo"])
        sharded, _ = audit(tmp_path, "dask", ["--demo"], "--executor", "dask", "--scheduler",
                           cluster.scheduler_address)
    finally:
        client.run(_use_demo_dir, None)
    assert {r["resource_id"] for r in single["recommendations"]} <= set(DEMO_PART)
    assert {r["action"] for r in single["recommendations"]} >= ACTIONS
    assert single["summary"]["total_monthly_savings"] > 0
    assert len({(r["account"], r["region"]) for r in sharded["recommendations"]}) == 4
    same_advice(single, sharded)


def test_a_file_export_with_three_weeks_is_calibrated_once_and_gives_the_same_advice(tmp_path, dask_cluster,
                                                                                       long_export):
    cluster, _ = dask_cluster
    # The CPU headroom set by a flag: calibration replays the five memory headrooms, not all 30 pairs (the full grid
    # through the command is tests/backtest/test_calibration.py's). The memory headroom the driver chooses is not
    # the default and changes the advice, so a shard that did not size with it would give other advice.
    source = ["--source", f"files:{long_export}", "--cpu-headroom", "5"]
    single, _ = audit(tmp_path, "single", source)
    sharded, stderr = audit(tmp_path, "dask", source, "--executor", "dask", "--scheduler", cluster.scheduler_address)
    calibration = single["calibration"]
    assert calibration["status"] == "calibrated" and calibration["fixed"] == ["cpu"]
    assert len(calibration["points"]) == 5
    assert calibration["headroom"]["memory"] != calibration["defaults"]["memory"]
    assert any(s["resource_id"] == "i-1005" and "metrics.parquet row" in s["reason"] for s in sharded["skipped"])
    assert "i-1005 skipped" in stderr
    same_advice(single, sharded)


def _fail_one_account(account: str) -> None:
    """Run in each worker process: the file shards of ``account`` raise as an unreadable export would."""
    from advisor.executor import tasks

    read = tasks._samples

    def failing(job):
        if any(place[0] == account for place in job.shard.places):
            raise OSError(f"cannot read the export for {account}\nsecond line")
        return read(job)

    tasks._samples = failing


def _restore() -> None:
    import importlib

    from advisor.executor import tasks

    importlib.reload(tasks)


def test_a_failing_shard_is_reported_and_the_others_complete(tmp_path, dask_cluster, short_export, short_single):
    cluster, client = dask_cluster
    source = ["--source", f"files:{short_export}"]
    single = short_single[0]
    client.run(_fail_one_account, "222222222222")  # inside the worker processes: no input fails one shard only
    try:
        sharded, stderr = audit(tmp_path, "dask", source, "--executor", "dask", "--scheduler",
                                cluster.scheduler_address)
    finally:
        client.run(_restore)
    for region in ("us-east-1", "eu-west-1"):
        assert f"shard 222222222222/{region} failed: OSError: cannot read the export for 222222222222 (its 8" \
            in stderr
    assert "second line" not in stderr
    failed = {s["resource_id"]: s["reason"] for s in sharded["skipped"] if s["reason"].startswith("not analysed")}
    assert sorted(failed) == [f"i-{place}{i:03d}" for place in (2, 3) for i in range(8)]
    kept = [r for r in single["recommendations"] if r["account"] == "111111111111"]
    assert kept and sharded["recommendations"] == kept
    assert all(r["account"] == "222222222222" for r in single["recommendations"] if r not in kept)


def test_a_scheduler_without_the_dask_executor_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["audit", "--demo", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2 and "--executor dask" in result.stderr


def test_the_shards_follow_accounts_regions_and_shared_endpoints():
    from advisor.executor.shards import plan_shards
    from advisor.model import normalize_inventory

    inventory = normalize_inventory(pd.DataFrame([
        {"resource_id": "a", "kind": "ec2_instance", "account": "1", "region": "r1"},
        {"resource_id": "b", "kind": "ec2_instance", "account": "1", "region": "r2"},
        {"resource_id": "c", "kind": "sagemaker_endpoint", "account": "2", "region": "r1", "endpoint": "e"},
        {"resource_id": "d", "kind": "sagemaker_endpoint", "account": "2", "region": "r2", "endpoint": "e"},
        {"resource_id": "f", "kind": "ec2_instance", "account": "2", "region": "r2"},
    ]))
    shards = plan_shards(inventory)
    assert [(s.places, s.resource_ids) for s in shards] == [
        ((("2", "r1"), ("2", "r2")), ("c", "d", "f")), ((("1", "r1"),), ("a",)), ((("1", "r2"),), ("b",))]


def test_without_dask_the_dask_executor_says_which_extra_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # an import of it fails, as when it is not installed
    result = runner.invoke(app, ["audit", "--demo", "--out", str(tmp_path), "--executor", "dask"])
    assert result.exit_code == 2
    assert "pip install 'ml-cost-advisor[cluster]'" in result.stderr


def test_local_worker_processes_give_the_single_process_advice_and_word_strays_as_one_process(tmp_path, short_export,
                                                                                            short_single):
    """``--executor local``: the single process's advice. The scan's parts go to a temporary directory inside
    ``[executor] shard_dir`` (gone after the run); the sample dated far outside the window is reported once, in
    one process's words (file, row, cell)."""
    shard_dir = tmp_path / "shared"
    config = tmp_path / "advisor.toml"
    config.write_text(f'[executor]\nshard_dir = "{shard_dir}"\n')
    single, single_err = short_single
    sharded, sharded_err = audit(tmp_path, "local", ["--source", f"files:{short_export}", "--config", str(config)],
                                 "--executor", "local", "--workers", "2")
    assert single["recommendations"]
    same_advice(single, sharded, problems_in_any_order=True)  # the stray's problem is listed in another place
    stray = [line.strip() for line in single_err.splitlines() if "dated outside the analysis window" in line]
    assert len(stray) == 1 and "1990-01-01" in stray[0]
    assert [line.strip() for line in sharded_err.splitlines() if "dated outside" in line] == stray
    assert shard_dir.is_dir() and not list(shard_dir.iterdir())
