import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from advisor.engine.rules import evaluate_rules, known_columns, load_rule_file, load_rules, render_rationale
from advisor.errors import RuleError
from advisor.resources import resource_dir

GOOD = """\
rules:
  - id: my-idle
    title: Idle
    kind: ec2_instance
    action: stop
    group: size
    priority: 10
    thresholds: {limit: 5}
    when:
      all:
        - [cpu_p99, "<=", $limit]
        - any:
            - [network_demand, is_null]
            - {column: network_demand, op: "<", value: 100}
    rationale: "cpu p99 {cpu_p99:.1f}% on {instance_type}"
"""


def _write(tmp_path: Path, text: str, name: str = "pack.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _features(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame({"kind": ["ec2_instance"] * n, **columns}, index=[f"i-{i}" for i in range(n)])
    return frame


def test_good_pack_loads_and_evaluates_vectorized(tmp_path):
    [rule] = load_rule_file(_write(tmp_path, GOOD), known_columns())
    features = _features(cpu_p99=[1.0, 5.0, 5.1, 2.0], network_demand=[np.nan, 50.0, 10.0, 500.0],
                         instance_type=["m5.large"] * 4)
    fired = evaluate_rules([rule], features)
    assert fired["resource_id"].tolist() == ["i-0", "i-1"]  # i-2 misses cpu, i-3 misses network
    assert render_rationale(rule, features.loc["i-0"]) == "cpu p99 1.0% on m5.large"
    assert rule.describe_condition() == "(cpu_p99 <= 5 and (network_demand is null or network_demand < 100))"


def test_missing_values_never_satisfy_a_comparison(tmp_path):
    [rule] = load_rule_file(_write(tmp_path, GOOD), known_columns())
    fired = evaluate_rules([rule], _features(cpu_p99=[np.nan], network_demand=[np.nan]))
    assert fired.empty


def test_group_priority_keeps_one_finding_per_resource(tmp_path):
    two = GOOD + GOOD.split("rules:\n", 1)[1].replace("my-idle", "my-other").replace("priority: 10", "priority: 20")
    rules = load_rule_file(_write(tmp_path, two), known_columns())
    fired = evaluate_rules(rules, _features(cpu_p99=[1.0], network_demand=[np.nan]))
    assert fired["rule"].tolist() == ["my-other"]


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (GOOD.replace("[cpu_p99,", "[cpu_p999,"), r"pack.yaml:11: rule 'my-idle', field 'when': unknown column "
                                                  r"'cpu_p999' \(did you mean cpu_p99"),
        (GOOD.replace('"<=", $limit', '"=<", $limit'), r"pack.yaml:11: .*bad operator '=<'"),
        (GOOD.replace("    action: stop\n", ""), r"pack.yaml:2: rule 'my-idle', field 'action': required field is "
                                                  r"missing"),
        (GOOD.replace("action: stop", "action: explode"), r"pack.yaml:5: rule 'my-idle', field 'action'"),
        (GOOD.replace("    group: size\n", "    gruop: size\n"), r"pack.yaml:6: rule 'my-idle', field 'gruop': "
                                                                r"unknown field"),
        (GOOD.replace("{instance_type}", "{instance_typo}"), r"field 'rationale': unknown column 'instance_typo'"),
        (GOOD.replace("$limit", "$nope"), r"threshold '\$nope' is not defined"),
        (GOOD.replace('"<=", $limit', '"<=", big'), r"needs a number, got 'big'"),
        (GOOD.replace("  - id: my-idle", "  - id: my-idle\n   bad: [unclosed"), r"pack.yaml:\d+: not valid YAML"),
        ("rules: 3\n", r"pack.yaml:1: a rule pack must be a mapping with a 'rules:' list"),
    ],
)
def test_broken_rule_files_name_file_line_rule_and_field(tmp_path, broken, expected):
    with pytest.raises(RuleError, match=expected):
        load_rule_file(_write(tmp_path, broken), known_columns())


def test_duplicate_ids_across_packs_and_unknown_disabled_rule(tmp_path):
    _write(tmp_path, GOOD, "a.yaml")
    _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(RuleError, match=r"b.yaml:2: rule 'my-idle' is already defined at .*a.yaml:2"):
        load_rules([tmp_path], known_columns())
    with pytest.raises(RuleError, match="cannot disable unknown rule 'ec2-idel'.*ec2-idle"):
        load_rules([resource_dir("rules")], known_columns(), disabled=["ec2-idel"])


def test_bundled_packs_are_valid_and_disabling_works():
    rules = load_rules([resource_dir("rules")], known_columns())
    ids = {r.id for r in rules}
    assert {"ec2-idle", "ec2-overprovisioned", "ec2-underprovisioned", "ec2-previous-generation",
            "ec2-no-memory-metrics"} <= ids
    fewer = load_rules([resource_dir("rules")], known_columns(), disabled=["ec2-idle"])
    assert {r.id for r in fewer} == ids - {"ec2-idle"}


def test_a_pack_edited_in_place_is_read_again_and_a_broken_one_fails_every_time(tmp_path):
    path = _write(tmp_path, GOOD)
    [first] = load_rule_file(path, known_columns())
    _write(tmp_path, GOOD.replace("limit: 5}", "limit: 7}"))  # same length, same name: only the text differs
    [edited] = load_rule_file(path, known_columns())
    assert (first.rule.thresholds["limit"], edited.rule.thresholds["limit"]) == (5, 7)
    _write(tmp_path, GOOD.replace("[cpu_p99,", "[cpu_p9x,"))
    for _ in range(2):
        with pytest.raises(RuleError, match="cpu_p9x"):
            load_rule_file(path, known_columns())


def test_a_missing_text_or_boolean_never_satisfies_a_comparison(tmp_path):
    pack = GOOD.replace('        - [cpu_p99, "<=", $limit]\n',
                        '        - [state, "==", running]\n        - [autoscaling, "!=", true]\n')
    [rule] = load_rule_file(_write(tmp_path, pack.replace("thresholds: {limit: 5}", "thresholds: {}")),
                            known_columns())
    features = _features(state=pd.array(["running", None, "running", "running"], dtype="string"),
                         autoscaling=pd.array([False, False, pd.NA, True], dtype="boolean"),
                         network_demand=[np.nan] * 4)
    assert evaluate_rules([rule], features)["resource_id"].tolist() == ["i-0"]
