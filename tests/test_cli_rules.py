"""``advisor rules check|explain|schema`` and the handlers' declared parameters."""

import json
import textwrap

from typer.testing import CliRunner

from advisor.cli.main import app

runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_rules_check_refuses_a_misspelt_threshold_naming_file_line_rule_and_field(tmp_path):
    pack = tmp_path / "spot.yaml"
    pack.write_text(textwrap.dedent("""\
        rules:
          - id: my-spot
            title: Spot
            kind: ec2_instance
            action: use_spot
            thresholds: {min_savings_pct: 30, max_bnad: 2}
            when: [spot_savings_pct, ">=", $min_savings_pct]
            rationale: spot
        """))
    for target in (pack, tmp_path):
        result = runner.invoke(app, ["rules", "check", str(target)])
        assert result.exit_code == 2, result.output
        assert (f"{pack}:6: rule 'my-spot', field 'thresholds.max_bnad': unknown threshold" in _flat(result.output))
        assert "did you mean max_band?" in _flat(result.output)


def test_rules_explain_lists_each_parameter_with_its_default_and_the_rules_value():
    result = runner.invoke(app, ["rules", "explain", "ec2-spot-interruptible"])
    assert result.exit_code == 0, result.output
    text = _flat(result.output)
    assert "parameters of the use_spot handler" in text
    assert "max_band = 2 (default 4)" in text
    assert "min_savings_pct = 30 (default 0)" in text
    assert "min_monthly_savings = default (unset)" in text
    idle = _flat(runner.invoke(app, ["rules", "explain", "ec2-idle"]).output)
    assert "parameters of the stop handler: min_monthly_savings = default (unset)" in idle


def test_rules_schema_prints_a_json_schema_of_a_rule_pack():
    result = runner.invoke(app, ["rules", "schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    rule = schema["$defs"]["Rule"]
    assert "ec2_instance" in rule["properties"]["kind"]["enum"]
    spot = [c["then"]["properties"]["thresholds"]["properties"] for c in rule["allOf"]
            if c["if"]["properties"] == {"action": {"const": "use_spot"}, "kind": {"const": "ec2_instance"}}]
    assert spot and spot[0]["max_band"]["default"] == 4 and spot[0]["max_band"]["maximum"] == 4
