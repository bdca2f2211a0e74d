"""A sharded ``--source aws`` audit (each shard reading its own account/region partitions of the store, local or on
S3) gives exactly the single process's advice, on the moto server."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from awsfakes import Seeder, now_floor
from typer.testing import CliRunner

from advisor.cli.main import app

runner = CliRunner()
REGIONS = ("us-east-1", "eu-west-1")
HOURS = 36


def _fleet(seed: Seeder) -> list[str]:
    """In each region an idle instance, a half-busy one and a rising one (some stopped, some resized, some kept)."""
    end = now_floor()
    steps = HOURS * 12
    instances = []
    for region in REGIONS:
        for level, rising in ((0.5, False), (30.0, False), (10.0, True)):
            instance = seed.instance("m5.2xlarge", region=region, root_volume=False)
            cpu = [min(95.0, level + (i * 60.0 / steps if rising else 0.0) + (i % 7)) for i in range(steps)]
            seed.series("AWS/EC2", "CPUUtilization", {"InstanceId": instance}, cpu, end, region=region)
            seed.series("CWAgent", "mem_used_percent", {"InstanceId": instance}, [20.0 + level / 2] * steps, end,
                        region=region)
            for name in ("NetworkIn", "NetworkOut"):
                seed.series("AWS/EC2", name, {"InstanceId": instance}, [1000.0 + 1e5 * level] * steps, end,
                            region=region)
            instances.append(instance)
    return instances


def _audit(tmp_path: Path, name: str, store: list[str], *executor: str) -> dict:
    out = tmp_path / name
    arguments = ["audit", "--source", "aws", *(a for r in REGIONS for a in ("--region", r)), "--days", "2",
                 *store, "--out", str(out), "-q", "--no-history", *executor]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    exported: dict = json.loads((out / "recommendations.json").read_text())
    return exported


def _same_advice(single: dict, sharded: dict) -> None:
    assert sharded["recommendations"] == single["recommendations"]
    ignore = {"generated_at", "skipped_reasons"}
    assert {k: v for k, v in sharded["summary"].items() if k not in ignore} == \
        {k: v for k, v in single["summary"].items() if k not in ignore}
    assert sorted(map(json.dumps, sharded["skipped"])) == sorted(map(json.dumps, single["skipped"]))


def test_local_worker_processes_read_their_partitions_of_a_local_store(seed: Seeder, tmp_path: Path) -> None:
    instances = _fleet(seed)
    store = ["--store", str(tmp_path / "cache.duckdb")]
    single = _audit(tmp_path, "single", store)
    sharded = _audit(tmp_path, "sharded", store, "--executor", "local", "--workers", "2")
    assert {r["resource_id"] for r in single["recommendations"]} <= set(instances)
    assert {r["region"] for r in single["recommendations"]} == set(REGIONS)
    _same_advice(single, sharded)


def test_dask_workers_read_their_partitions_from_s3(seed: Seeder, tmp_path: Path, monkeypatch) -> None:
    """The S3 store named by ``--store`` (the single run) or by advisor.toml's ``[store] url`` (the sharded one)."""
    distributed = pytest.importorskip("distributed")
    _fleet(seed)
    seed.client("s3").create_bucket(Bucket="advisor")
    config = tmp_path / "advisor.toml"
    config.write_text('[store]\nurl = "s3://advisor/fleet"\n')
    store = ["--config", str(config)]
    monkeypatch.chdir(tmp_path)
    single = _audit(tmp_path, "single", ["--store", "s3://advisor/fleet"])
    assert not (tmp_path / "s3:").exists()  # the URL is not read as a relative path
    # started after the test's environment is set: the workers find the moto server and its credentials there
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster:
        sharded = _audit(tmp_path, "dask", store, "--executor", "dask", "--scheduler", cluster.scheduler_address)
    assert single["recommendations"]
    _same_advice(single, sharded)
