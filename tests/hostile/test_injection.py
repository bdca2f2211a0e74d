"""Items 2, 4 and 5: formulas in CSV cells, YAML alias bombs, forged log lines, leaked secrets, broad IAM."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

import pytest
from hostile.fleet import Fleet, assert_clean_error, run_cli

from advisor.logs import TextFormatter
from advisor.report.exports import FORMULA_START, neutralise

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_NAMES = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|'/C calc'",
                 "\tcell", "\rcell"]
NUMERIC = ("monthly_cost_now", "monthly_cost_after", "monthly_savings", "confidence_score")


def _hostile_fleet(fleet: Fleet) -> Fleet:
    hostile = fleet.copy()
    for row, name in enumerate(HOSTILE_NAMES):
        hostile.inventory.loc[row, "name"] = name
    hostile.inventory.loc[len(HOSTILE_NAMES), "account"] = "=1+2"
    hostile.inventory.loc[len(HOSTILE_NAMES) + 1, "tags"] = json.dumps({"team": "@evil", "=k": "-v"})
    return hostile


def _assert_inert(text: str, records: dict) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == sum(len(r) for r in records.values())
    for row in rows:
        for column, cell in row.items():
            if column in NUMERIC:
                float(cell)  # numbers stay numbers (a negative saving is not text)
            elif cell:
                assert cell[0] not in FORMULA_START, (column, cell)
    names = {row["name"] for row in rows}
    assert {"'" + name for name in HOSTILE_NAMES} <= names


def test_recommend_csv_neutralises_formulas(fleet: Fleet, tmp_path: Path) -> None:
    hostile = _hostile_fleet(fleet).write(tmp_path / "in")
    as_csv = run_cli("recommend", "-s", f"files:{hostile}", "--format", "csv")
    as_json = run_cli("recommend", "-s", f"files:{hostile}", "--format", "json")
    assert as_csv.exit_code == 0 and as_json.exit_code == 0, as_csv.stderr
    _assert_inert(as_csv.stdout, as_json.records)


def test_audit_recommendations_csv_neutralises_formulas(fleet: Fleet, tmp_path: Path) -> None:
    hostile = _hostile_fleet(fleet).write(tmp_path / "in")
    run = run_cli("audit", "-s", f"files:{hostile}", "--out", str(tmp_path / "out"), "--no-history", "-q",
                  "--store", str(tmp_path / "store" / "cache.duckdb"))
    assert run.exit_code == 0, run.stderr
    records = json.loads((tmp_path / "out" / "recommendations.json").read_text())["recommendations"]
    by_id: dict[str, list] = {}
    for record in records:
        by_id.setdefault(record["resource_id"], []).append(record)
    with (tmp_path / "out" / "recommendations.csv").open(newline="") as handle:  # keep a CR inside a value
        _assert_inert(handle.read(), by_id)


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("", ""), ("a=1", "a=1"), (-12.5, -12.5), (0, 0), (None, None),
])
def test_the_one_formula_rule(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def test_the_report_page_receives_the_same_rule() -> None:
    script = (ROOT / "reports" / "report.js").read_text(encoding="utf-8")
    assert "meta.formula_start" in script and "FORMULA_START = /" not in script  # no second copy of the rule
    from advisor.report import page

    assert page.FORMULA_START is FORMULA_START


BOMB = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
rules: *i
"""


def test_rules_check_refuses_a_yaml_alias_bomb(tmp_path: Path) -> None:
    pack = tmp_path / "bomb.yaml"
    pack.write_text(BOMB)
    assert_clean_error(run_cli("rules", "check", str(pack)), 2, f"{pack}:1", "anchors and aliases are not allowed")


def test_audit_refuses_a_pack_with_an_alias(fleet: Fleet, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "pack.yaml").write_text("rules:\n  - &r {id: x}\n  - *r\n")
    source = fleet.write(tmp_path / "in")
    run = run_cli("recommend", "-s", f"files:{source}", "--rules", str(rules))
    assert_clean_error(run, 2, f"{rules / 'pack.yaml'}:2", "anchors and aliases")


def test_a_crafted_name_cannot_forge_a_text_log_line() -> None:
    record = logging.LogRecord("advisor", logging.INFO, "", 0, "source_loaded", None, None)
    record.fields = {"source": "x\n2026-01-01T00:00:00+00:00 info run_finished monthly_savings=0\x1b[2K"}
    line = TextFormatter().format(record)
    assert "\n" not in line and "\x1b" not in line and "\\n2026-01-01" in line and "\\x1b[2K" in line


def test_config_show_masks_the_external_id(tmp_path: Path) -> None:
    config = tmp_path / "advisor.toml"
    config.write_text('[aws]\nrole_arns = ["arn:aws:iam::111111111111:role/advisor-read"]\n'
                      'external_id = "s3cr3t-shared-id"\n')
    run = run_cli("config", "show", "--config", str(config))
    assert run.exit_code == 0, run.stderr
    assert "s3cr3t" not in run.stdout and "****" in run.stdout


def test_output_file_mode_is_configurable_and_validated(tmp_path: Path) -> None:
    from advisor.config import load_config

    config = tmp_path / "advisor.toml"
    config.write_text('[output]\nfile_mode = "0640"\n')
    assert load_config(config).config.output.mode == 0o640
    config.write_text('[output]\nfile_mode = "rw-r--r--"\n')
    from advisor.errors import ConfigError

    with pytest.raises(ConfigError, match=r"advisor.toml:2: output.file_mode"):
        load_config(config)


def test_assume_role_is_scoped_to_the_reader_role() -> None:
    policy = json.loads((ROOT / "docs" / "iam-policy.json").read_text(encoding="utf-8"))
    for statement in policy["Statement"]:
        if "sts:AssumeRole" in statement["Action"]:
            assert statement["Action"] == ["sts:AssumeRole"]
            assert statement["Resource"] == "arn:aws:iam::*:role/advisor-read"
    assert "arn:aws:iam::*:role/advisor-read" in (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
