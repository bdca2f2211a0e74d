"""One documented JSON schema (docs/recommendations.schema.json) for `recommend --format json` and the audit's
recommendations.json; the demo's pinned output and audit documents validate against it."""

import json
from pathlib import Path

import pandas as pd
import pytest
from fleet_builders import FleetBuilder
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from advisor.cli.main import app
from advisor.results import RECOMMENDATION_FIELDS

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "recommendations.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)


def _errors(document) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(document)][:5]


def test_the_schema_is_valid_and_documents_every_recommendation_field():
    Draft202012Validator.check_schema(SCHEMA)
    assert list(SCHEMA["$defs"]["recommendation"]["properties"]) == list(RECOMMENDATION_FIELDS)


def test_the_demos_recommend_output_validates():
    """The stored copy is byte for byte what `advisor recommend --demo --format json` prints (test_golden_demo)."""
    records = json.loads((ROOT / "tests" / "golden" / "demo_recommendations.json").read_text())
    assert records and _errors(records) == []


@pytest.mark.parametrize("broken", [
    lambda doc: doc["recommendations"][0].pop("monthly_savings"),
    lambda doc: doc["recommendations"][0].update(monthly_savings="$1.46"),
    lambda doc: doc["summary"].update(currency="EUR"),
    lambda doc: doc.update(extra=1),
])
def test_a_broken_document_does_not_validate(audit_document, broken):
    broken(audit_document)
    assert _errors(audit_document)


def test_the_audit_document_validates(audit_document):
    assert {r["action"] for r in audit_document["recommendations"]} == {"stop", "upsize"}
    assert audit_document["skipped"] and audit_document["summary"]["cost_increases"]["count"] == 1
    assert _errors(audit_document) == []


@pytest.fixture
def audit_document(audit_json):
    return json.loads(audit_json)


@pytest.fixture(scope="module")
def audit_json(tmp_path_factory) -> str:
    """An audit document from a small fleet with a saving, a cost increase and a skipped resource (the demo's
    own recommendations.json is validated in test_cli's console-script test)."""
    fleet = FleetBuilder()
    fleet.ec2("i-idle", "m5.xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(3, 4), network_in=fleet.noise(5, 20))
    fleet.ec2("i-hot", "m5.large", cpu=fleet.noise(85, 99), memory=fleet.noise(40, 60))
    fleet.ec2("i-new", "m5.large", cpu=fleet.noise(5, 9), memory=fleet.noise(40, 60))
    inventory, metrics = fleet.frames()
    export = tmp_path_factory.mktemp("export")
    inventory.to_csv(export / "inventory.csv", index=False)
    recent = metrics["timestamp"] > metrics["timestamp"].max() - pd.Timedelta(hours=5)
    metrics[(metrics["resource_id"] != "i-new") | recent].to_csv(export / "metrics.csv", index=False)
    out = tmp_path_factory.mktemp("audit")
    result = CliRunner().invoke(app, ["audit", "-s", f"files:{export}", "--out", str(out), "-q", "--no-history"])
    assert result.exit_code == 0, result.output
    return (out / "recommendations.json").read_text()
