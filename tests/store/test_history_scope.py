"""History scoped to what was audited, end to end through ``advisor audit`` in a fresh store: runs of different
sources are never compared, a resource absent from the newer run is gone (never done), and realised savings come
only from resources seen again with the recommended change made."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fleet_builders import FleetBuilder
from typer.testing import CliRunner

from advisor.cli.main import app
from advisor.store.history import History, HistoryError
from tests.demo_part import FLEET_IDS, write_demo_part

runner = CliRunner()


def _export(directory: Path, over_type: str = "m5.4xlarge", with_idle: bool = True) -> Path:
    fleet = FleetBuilder(seed=3, per_day=24)  # hourly: the history, not the sampling, is the point
    if over_type == "m5.4xlarge":
        fleet.ec2("i-over", over_type, cpu=fleet.noise(5, 15), memory=fleet.noise(10, 20))
    else:  # resized: the same work is a larger share of the smaller type
        fleet.ec2("i-over", over_type, cpu=fleet.noise(40, 60), memory=fleet.noise(40, 50))
    if with_idle:
        fleet.ec2("i-idle", "m5.xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(2, 3), network_in=fleet.noise(5, 20))
    inventory, metrics = fleet.frames()
    directory.mkdir(parents=True, exist_ok=True)
    inventory.to_csv(directory / "inventory.csv", index=False)
    metrics.to_csv(directory / "metrics.csv", index=False)
    return directory


def _audit(tmp_path: Path, *source: str) -> None:
    result = runner.invoke(app, ["audit", *source, "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output


def _history() -> History:
    return History(Path(os.environ["XDG_DATA_HOME"]) / "advisor")


def _target(tmp_path: Path, resource_id: str) -> tuple[str, float]:
    recs = json.loads((tmp_path / "out" / "recommendations.json").read_text())["recommendations"]
    (rec,) = [r for r in recs if r["resource_id"] == resource_id and r["action"] == "downsize"]
    return rec["target"], rec["monthly_savings"]


def test_the_demo_then_another_fleet_reports_nothing_resolved(tmp_path, monkeypatch) -> None:
    # the demo's last day only: the scope is the source, accounts and regions, never the window; and the part of
    # the demo of tests/demo_part.py (every kind, in both accounts), read through --demo as the bundled files are
    part = write_demo_part(tmp_path / "demo", FLEET_IDS)
    monkeypatch.setattr("advisor.sources.demo.demo_dir", lambda: part)
    _audit(tmp_path, "--demo", "--start", "2026-11-15", "--end", "2026-11-15T23:00")
    _audit(tmp_path, "--source", f"files:{_export(tmp_path / 'fleet')}")
    with _history() as history:
        demo, files = history.runs()["run_id"].tolist()
        assert history.since_previous(files) == {"run_id": files, "previous": None}
        with pytest.raises(HistoryError, match="audited different scopes \\(demo fleet \\(bundled\\)"):
            history.diff(demo, files)


def test_same_scope_one_resource_changed_to_its_target_is_exactly_that_change_done(tmp_path) -> None:
    directory = tmp_path / "fleet"
    _audit(tmp_path, "--source", f"files:{_export(directory)}")
    target, savings = _target(tmp_path, "i-over")
    _audit(tmp_path, "--source", f"files:{_export(tmp_path / 'other')}")  # another scope in between is skipped over
    _audit(tmp_path, "--source", f"files:{_export(directory, over_type=target)}")
    with _history() as history:
        first, _, last = history.runs()["run_id"].tolist()
        changes = history.since_previous(last)
    assert changes["base"] == first
    (resolved,) = [r for r in changes["resolved"] if r["resource_id"] == "i-over"]
    assert resolved["done"] and not resolved["gone"]
    assert [r["resource_id"] for r in changes["resolved"] if r["done"]] == ["i-over"]
    assert changes["realised_savings"] == pytest.approx(savings, abs=0.01)


def test_a_resource_absent_from_the_newer_run_is_gone_not_done(tmp_path) -> None:
    directory = tmp_path / "fleet"
    _audit(tmp_path, "--source", f"files:{_export(directory)}")
    _audit(tmp_path, "--source", f"files:{_export(directory, with_idle=False)}")
    with _history() as history:
        changes = history.diff()
    resolved = changes.resolved.set_index("resource_id")
    assert resolved.loc["i-idle", "gone"] and not resolved.loc["i-idle", "done"]
    assert changes.realised_savings == 0.0


def test_runs_recorded_before_scopes_are_compared_with_none(tmp_path) -> None:
    directory = tmp_path / "fleet"
    _audit(tmp_path, "--source", f"files:{_export(directory)}")
    with _history() as history:
        history.db.execute("UPDATE runs SET scope = NULL")  # as migrated from a history without scopes
    _audit(tmp_path, "--source", f"files:{_export(directory)}")
    with _history() as history:
        (_, last) = history.runs()["run_id"].tolist()
        assert history.since_previous(last)["previous"] is None
