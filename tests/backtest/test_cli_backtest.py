"""``advisor backtest`` end to end: formats, --out, strategies and the exit-code contract."""

import json
from pathlib import Path

import pytest
from fleet_builders import FleetBuilder
from typer.testing import CliRunner

from advisor.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def files_dir(tmp_path_factory) -> Path:
    """Eight days: an idle and an over-provisioned instance (recommended from days 1-4, replayed on 5-8); hourly
    samples: the command, not the sampling, is what these tests are about."""
    fleet = FleetBuilder(days=8, per_day=24)
    fleet.ec2("i-idle", "m5.xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(3, 4))
    fleet.ec2("i-big", "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25), region="eu-west-1")
    inventory, metrics = fleet.frames()
    directory = tmp_path_factory.mktemp("export")
    inventory.to_csv(directory / "inventory.csv", index=False)
    metrics.to_csv(directory / "metrics.csv", index=False)
    return directory


def test_json_from_a_files_directory_with_one_strategy(files_dir):
    result = runner.invoke(app, ["backtest", "--source", f"files:{files_dir}", "--strategy", "naive-average",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [s["name"] for s in document["strategies"]] == ["naive-average"]
    assert document["split"]["train_days"] == 4 and document["resources_replayed"] == 2
    rows = {r["resource_id"]: r for r in document["strategies"][0]["resources"]}
    assert rows["i-big"]["status"] in ("held", "failed") and rows["i-idle"]["oracle_target"] == "stop"


def test_table_for_every_strategy_and_out_directory(files_dir, tmp_path):
    out = tmp_path / "bt"
    result = runner.invoke(app, ["backtest", "-s", f"files:{files_dir}", "--strategy", "all", "--train-days", "3",
                                 "--test-days", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("ours", "compute-optimizer", "percentile-buffer", "trusted-advisor", "vpa", "naive-average"):
        assert name in result.stdout
    assert "Summary" in result.stdout and "(3.0 days)" in result.stdout
    assert (out / "backtest.html").read_text().startswith("<!doctype html>")
    assert len(json.loads((out / "backtest.json").read_text())["strategies"]) == 6


def test_the_demo_backtest_runs():
    result = runner.invoke(app, ["backtest", "--demo"])
    assert result.exit_code == 0, result.output
    assert "first half" in result.stdout and "ours: recommendations replayed" in result.stdout
    assert "Share of oracle" in result.stdout


def test_list_strategies():
    result = runner.invoke(app, ["backtest", "--list-strategies"])
    assert result.exit_code == 0 and "cpu_statistic = 'p99.5'" in result.stdout


@pytest.mark.parametrize(("arguments", "message"), [
    (["--strategy", "krr"], "unknown strategy 'krr'"),
    (["--cutoff", "2031-01-01"], "outside the history"),
    (["--train-days", "30"], "leaves nothing to replay"),
    (["--demo"], "either --demo or --source"),
    (["--format", "csv"], ""),
])
def test_usage_errors_exit_with_2(files_dir, arguments, message):
    result = runner.invoke(app, ["backtest", "--source", f"files:{files_dir}", *arguments])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_no_source_is_a_usage_error():
    result = runner.invoke(app, ["backtest"])
    assert result.exit_code == 2 and "--demo, or --source files:DIR" in result.output
