"""`advisor audit --group-tag`: the report and the JSON summary break the savings down by the chosen tag."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fleet_builders import FleetBuilder
from typer.testing import CliRunner

from advisor.cli.main import app


def _export(directory: Path) -> Path:
    """A file-source export of an idle and an over-provisioned instance, their tags in both written forms."""
    fleet = FleetBuilder()
    fleet.ec2("i-idle", "m5.xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(3, 4))
    fleet.ec2("i-big", "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25))
    inventory, metrics = fleet.frames()
    inventory["tags"] = ['{"team": "ml", "cost-centre": "CC-7"}', "team=data"]
    directory.mkdir()
    inventory.to_csv(directory / "inventory.csv", index=False)
    metrics.to_csv(directory / "metrics.csv", index=False)
    return directory


def test_audit_group_tag_reaches_the_report_and_the_json(tmp_path: Path) -> None:
    source = _export(tmp_path / "export")
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["audit", "-s", f"files:{source}", "--out", str(out), "--quiet",
                                      "--group-tag", "cost-centre"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "recommendations.json").read_text())["summary"]
    assert summary["group_tag"] == "cost-centre"
    assert set(summary["savings_by_tag"]) == {"CC-7", "(untagged)"}
    html = (out / "report.html").read_text()
    assert "By cost-centre (tag)" in html and 'data-key="CC-7"' in html


def test_second_audit_report_shows_what_changed_since_the_previous_run(tmp_path: Path) -> None:
    """The history diff reaches the HTML report: new, resolved (done or not) and persisting findings."""
    source, out = _export(tmp_path / "export"), tmp_path / "out"
    audit = ["audit", "-s", f"files:{source}", "--out", str(out), "-q"]
    runner = CliRunner()
    assert runner.invoke(app, audit).exit_code == 0
    assert 'id="changes"' not in (out / "report.html").read_text()  # first run: nothing to compare
    assert runner.invoke(app, audit).exit_code == 0
    html = (out / "report.html").read_text()
    assert 'id="changes"' in html
    persisting = int(re.search(r'id="changes-persisting">(\d+)<', html).group(1))
    findings = json.loads((out / "recommendations.json").read_text())["recommendations"]
    assert persisting == len(findings) > 0 and re.search(r'id="changes-new">0<', html)  # the same fleet again
