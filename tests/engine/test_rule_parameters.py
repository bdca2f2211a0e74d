"""Handlers declare their parameters; loading a pack checks every threshold against them and the condition."""

import textwrap
from pathlib import Path

import pytest

from advisor import kinds
from advisor.engine.actions import Parameters, handler_parameters, parameters_for
from advisor.engine.actions.params import SpotPoolParameters
from advisor.engine.pipeline import load_rule_set
from advisor.engine.policy import apply_rule_overrides
from advisor.engine.rules import known_columns, load_rule_file, pack_schema
from advisor.errors import RuleError
from advisor.settings import RulesConfig, Settings

SPOT = """\
rules:
  - id: my-spot
    title: Spot
    kind: ec2_instance
    action: use_spot
    thresholds:
      min_savings_pct: 30
      {extra}
    when:
      all:
        - [spot_savings_pct, ">=", $min_savings_pct]
    rationale: "spot"
"""


def _load(tmp_path: Path, extra: str):
    path = tmp_path / "pack.yaml"
    path.write_text(textwrap.dedent(SPOT.format(extra=extra)))
    return load_rule_file(path, known_columns(), parameters_for)


def test_a_misspelt_threshold_is_an_error_naming_file_line_rule_and_field(tmp_path):
    with pytest.raises(RuleError) as error:
        _load(tmp_path, "max_bnad: 2")
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'pack.yaml'}:8: rule 'my-spot', field 'thresholds.max_bnad': "
                              "unknown threshold")
    assert "did you mean max_band?" in message
    assert "known: max_band, memory_tolerance, min_monthly_savings, min_savings_pct, pool_size" in message


def test_a_threshold_out_of_the_handlers_bounds_is_an_error(tmp_path):
    with pytest.raises(RuleError, match=r"pack.yaml:8: rule 'my-spot', field 'thresholds.max_band': Input should be "
                                        r"less than or equal to 4"):
        _load(tmp_path, "max_band: 7")
    with pytest.raises(RuleError, match=r"field 'thresholds.pool_size': Input should be a valid integer"):
        _load(tmp_path, "pool_size: 2.5")


def test_declared_parameters_and_condition_names_load_and_reach_the_handler(tmp_path):
    [loaded] = _load(tmp_path, "pool_size: 2")
    assert SpotPoolParameters.of(loaded) == SpotPoolParameters(pool_size=2, min_savings_pct=30)
    assert SpotPoolParameters.of(loaded).max_band == 4  # the declared default


def test_a_threshold_no_one_reads_is_refused_for_a_handler_without_parameters(tmp_path):
    path = tmp_path / "pack.yaml"
    path.write_text(textwrap.dedent("""\
        rules:
          - id: my-idle
            title: Idle
            kind: ec2_instance
            action: stop
            thresholds: {limit: 5, cpu_limt: 3}
            when: [cpu_p99, "<=", $limit]
            rationale: idle
        """))
    with pytest.raises(RuleError, match=r"pack.yaml:6: rule 'my-idle', field 'thresholds.cpu_limt': unknown "
                                        r"threshold: the condition does not use \$cpu_limt and the 'stop' handler "
                                        r"does not read it.*\(known: limit, min_monthly_savings\)"):
        load_rule_file(path, known_columns(), parameters_for)
    assert len(load_rule_file(path, known_columns())) == 1  # without the handlers' parameters: not checked


@pytest.mark.parametrize("entry", handler_parameters(), ids=lambda e: f"{e[0]}-{e[1] or 'any'}")
def test_every_parameter_has_a_type_a_default_and_a_description(entry):
    _, _, model = entry
    assert issubclass(model, Parameters)
    for name, field in model.model_fields.items():
        assert field.description, f"{model.__name__}.{name} has no description"
        assert not field.is_required(), f"{model.__name__}.{name} has no default"
        assert field.annotation is not None


def test_overrides_are_checked_against_the_same_parameters():
    rules = load_rule_set(Settings())
    changed = apply_rule_overrides(rules, {"ec2-spot-interruptible": {"pool_size": 3},
                                           "ebs-gp2-burst-draining": {"min_monthly_savings": 5}}, parameters_for)
    by_id = {r.id: r for r in changed}
    assert SpotPoolParameters.of(by_id["ec2-spot-interruptible"]).pool_size == 3
    assert by_id["ebs-gp2-burst-draining"].rule.thresholds["min_monthly_savings"] == 5  # not in the pack itself
    with pytest.raises(RuleError, match=r"rules.overrides.ec2-spot-interruptible.max_band: Input should be less "
                                        r"than or equal to 4"):
        apply_rule_overrides(rules, {"ec2-spot-interruptible": {"max_band": 9}}, parameters_for)
    with pytest.raises(RuleError, match=r"rules.overrides.ec2-spot-interruptible.max_bnad: unknown threshold.*"
                                        r"did you mean max_band"):
        apply_rule_overrides(rules, {"ec2-spot-interruptible": {"max_bnad": 1}}, parameters_for)


def test_settings_overrides_go_through_the_check():
    with pytest.raises(RuleError, match="rules.overrides.ec2-spot-interruptible.pool_size"):
        load_rule_set(Settings(rules=RulesConfig(overrides={"ec2-spot-interruptible": {"pool_size": 0}})))


def _schema():
    return pack_schema(handler_parameters(), kinds.ids(), known_columns())


def test_every_bundled_pack_validates_against_the_generated_schema():
    import yaml
    from jsonschema import Draft202012Validator

    from advisor.resources import resource_dir

    validator = Draft202012Validator(_schema())
    packs = sorted(resource_dir("rules").glob("*.yaml"))
    assert packs
    for path in packs:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], path.name


@pytest.mark.parametrize(("thresholds", "expected"), [
    ({"min_savings_pct": 30, "max_band": 7}, "7 is greater than the maximum of 4"),
    ({"min_savings_pct": 30, "pool_size": 2.5}, "2.5 is not of type 'integer'"),
])
def test_the_schema_holds_each_handlers_parameter_bounds(thresholds, expected):
    from jsonschema import Draft202012Validator

    rule = {"id": "x", "title": "x", "kind": "ec2_instance", "action": "use_spot", "rationale": "x",
            "thresholds": thresholds, "when": ["spot_savings_pct", ">=", "$min_savings_pct"]}
    validator = Draft202012Validator(_schema())
    assert [e.message for e in validator.iter_errors({"rules": [rule]})] == [expected]
    rule |= {"kind": "toy_box", "thresholds": {"min_savings_pct": 30}}
    assert [e.message for e in validator.iter_errors({"rules": [rule]})] == [
        f"'toy_box' is not one of {kinds.ids()}"]
