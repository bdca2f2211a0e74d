"""`advisor audit --group-tag`: the report and the JSON summary break the savings down by the chosen tag."""

from __future__ import annotations

import json
from pathlib import Path

from fleet_builders import FleetBuilder
from typer.testing import CliRunner

from advisor.cli import app


def test_audit_group_tag_reaches_the_report_and_the_json(tmp_path: Path) -> None:
    fleet = FleetBuilder()
    fleet.ec2("i-idle", "m5.xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(3, 4))
    fleet.ec2("i-big", "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25))
    inventory, metrics = fleet.frames()
    inventory["tags"] = ['{"team": "ml", "cost-centre": "CC-7"}', "team=data"]
    source = tmp_path / "export"
    source.mkdir()
    inventory.to_csv(source / "inventory.csv", index=False)
    metrics.to_csv(source / "metrics.csv", index=False)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["audit", "-s", f"files:{source}", "--out", str(out), "--quiet",
                                      "--group-tag", "cost-centre"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "recommendations.json").read_text())["summary"]
    assert summary["group_tag"] == "cost-centre"
    assert set(summary["savings_by_tag"]) == {"CC-7", "(untagged)"}
    html = (out / "report.html").read_text()
    assert "By cost-centre (tag)" in html and 'data-key="CC-7"' in html
