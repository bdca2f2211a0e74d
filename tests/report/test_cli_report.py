"""`advisor audit --group-tag`: the report and the JSON summary break the savings down by the chosen tag."""

from __future__ import annotations

import json
from pathlib import Path

from fleet_builders import FleetBuilder
from typer.testing import CliRunner

from advisor.cli.main import app


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


def test_second_audit_report_shows_what_changed_since_the_previous_run(tmp_path):
    """The history diff reaches the HTML report: new, resolved (done or not) and persisting findings."""
    import re

    from typer.testing import CliRunner

    from advisor.cli.main import app

    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(app, ["audit", "--demo", "--out", str(out), "-q"]).exit_code == 0
    assert 'id="changes"' not in (out / "report.html").read_text()  # first run: nothing to compare
    assert runner.invoke(app, ["audit", "--demo", "--out", str(out), "-q"]).exit_code == 0
    html = (out / "report.html").read_text()
    assert 'id="changes"' in html
    persisting = int(re.search(r'id="changes-persisting">(\d+)<', html).group(1))
    assert persisting > 0 and re.search(r'id="changes-new">0<', html)
