"""One documented JSON schema (docs/recommendations.schema.json) for `recommend --format json` and the audit's
recommendations.json; the demo's pinned output and a fresh audit document both validate against it."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

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
def test_a_broken_document_does_not_validate(demo_document, broken):
    broken(demo_document)
    assert _errors(demo_document)


def test_the_audit_document_validates(demo_document):
    assert _errors(demo_document) == []


@pytest.fixture
def demo_document(demo_audit_json):
    return json.loads(demo_audit_json)


@pytest.fixture(scope="module")
def demo_audit_json(tmp_path_factory) -> str:
    from typer.testing import CliRunner

    from advisor.cli.main import app

    out = tmp_path_factory.mktemp("audit")
    result = CliRunner().invoke(app, ["audit", "--demo", "--out", str(out), "--quiet", "--no-history"])
    assert result.exit_code == 0, result.output
    return (out / "recommendations.json").read_text()
