"""The command line against moto: collect, audit/recommend --source aws, clear one-line failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from awsfakes import Seeder, now_floor
from typer.testing import CliRunner

from advisor.cli.main import app

runner = CliRunner()


@pytest.fixture
def idle_fleet(seed: Seeder) -> str:
    instance = seed.instance("m5.xlarge", name="idle")
    end = now_floor()
    hours = 36
    seed.series("AWS/EC2", "CPUUtilization", {"InstanceId": instance}, [0.5] * hours * 12, end)
    seed.series("CWAgent", "mem_used_percent", {"InstanceId": instance}, [3.0] * hours * 12, end)
    for name in ("NetworkIn", "NetworkOut"):  # idle needs measured quiet network: 1 kB per 5 minutes
        seed.series("AWS/EC2", name, {"InstanceId": instance}, [1000.0] * hours * 12, end)
    return instance


def test_collect_then_recommend_from_aws(idle_fleet: str, tmp_path: Path) -> None:
    store = tmp_path / "cache.duckdb"
    collected = runner.invoke(app, ["collect", "--region", "us-east-1", "--days", "2", "--store", str(store)])
    assert collected.exit_code == 0, collected.output
    assert "Collected 1 account/region pair(s)" in collected.stdout and str(store) in collected.stdout
    quiet = runner.invoke(app, ["collect", "--days", "2", "--store", str(store), "--quiet"])
    assert quiet.exit_code == 0 and quiet.stdout == ""
    result = runner.invoke(app, ["recommend", "--source", "aws", "--days", "2", "--store", str(store),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    records = {r["resource_id"]: r for r in json.loads(result.stdout)}
    assert records[idle_fleet]["action"] in ("stop", "terminate") and records[idle_fleet]["monthly_savings"] > 0


def test_audit_source_aws_writes_the_report_with_problems(idle_fleet: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # moto answers an unknown region with HTTP 500: do not retry
    out = tmp_path / "report"
    result = runner.invoke(app, ["audit", "--source", "aws", "--region", "us-east-1", "--region", "xx-nowhere-1",
                                 "--days", "2", "--store", str(tmp_path / "c.duckdb"), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "xx-nowhere-1: region skipped" in result.stderr  # the run summary names what failed
    exported = json.loads((out / "recommendations.json").read_text())
    records = exported if isinstance(exported, list) else exported["recommendations"]
    assert any(r["resource_id"] == idle_fleet for r in records)
    assert "xx-nowhere-1" in (out / "report.html").read_text()


@pytest.mark.parametrize(("arguments", "message"), [
    (["collect", "--start", "yesterday-ish"], "--start 'yesterday-ish' is not a date or time"),
    (["collect", "--external-id", "x"], "--external-id needs --role-arn"),
    (["collect", "--days", "600"], "CloudWatch keeps at most 455 days"),
])
def test_usage_errors_are_one_line_with_exit_2(aws: str, tmp_path: Path, arguments: list[str],
                                               message: str) -> None:
    result = runner.invoke(app, [*arguments, "--store", str(tmp_path / "c.duckdb")])
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_no_region_anywhere_is_a_clear_error(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    result = runner.invoke(app, ["collect", "--store", str(tmp_path / "c.duckdb")])
    assert result.exit_code == 2 and "no AWS region: pass --region" in result.output


def test_unreadable_store_is_a_clear_error(aws: str, tmp_path: Path) -> None:
    bad = tmp_path / "not-a-store.duckdb"
    bad.write_text("junk")
    result = runner.invoke(app, ["collect", "--store", str(bad)])
    assert result.exit_code == 2 and f"store {bad} cannot be opened" in result.output
