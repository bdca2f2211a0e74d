"""The CLI end to end: commands, outputs and the exit-code contract (0, 1, 2, 3)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import typer
from fleet_builders import FleetBuilder
from typer.testing import CliRunner

import advisor
from advisor.cli.main import app
from advisor.settings import setting_field

runner = CliRunner()


@pytest.fixture(scope="module")
def files_dir(tmp_path_factory) -> Path:
    """A file-source directory written by the test (not the demo): one idle, one over-provisioned instance."""
    fleet = FleetBuilder(per_day=24)  # hourly: the CLI, not the sampling, is the point
    quiet = fleet.noise(5, 20)  # bytes/s: idle needs measured quiet network
    fleet.ec2("i-idle", "m5.xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(3, 4), network_in=quiet,
              network_out=quiet)
    fleet.ec2("i-big", "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25), region="eu-west-1")
    inventory, metrics = fleet.frames()
    inventory["tags"] = ['{"Name": "idle box", "team": "ml"}', "team=data;env=prod"]
    inventory["name"] = ["idle box", "big box"]
    directory = tmp_path_factory.mktemp("export")
    inventory.to_csv(directory / "inventory.csv", index=False)
    metrics.to_csv(directory / "metrics.csv", index=False)
    return directory


def test_recommend_json_from_a_files_directory(files_dir):
    result = runner.invoke(app, ["recommend", "--source", f"files:{files_dir}", "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    by_id = {r["resource_id"]: r for r in records}
    assert set(by_id) == {"i-idle", "i-big"}
    for record in records:
        for field in ("resource_id", "action", "current", "target", "monthly_savings", "confidence", "rule",
                      "monthly_cost_now", "monthly_cost_after", "risk", "projected_utilization", "evidence",
                      "options", "rationale"):
            assert field in record
    assert by_id["i-idle"]["action"] == "stop" and by_id["i-idle"]["rule"] == "ec2-idle"
    assert by_id["i-big"]["action"] == "downsize" and by_id["i-big"]["monthly_savings"] > 0
    assert by_id["i-idle"]["tags"] == {"Name": "idle box", "team": "ml"}


@pytest.fixture(scope="module")
def piped_table(files_dir):
    """`advisor recommend` with no format and no COLUMNS (a pipe): the table, printed wide. Tests only read it."""
    return runner.invoke(app, ["recommend", "-s", f"files:{files_dir}"], env={"COLUMNS": None})


def test_recommend_csv_and_table(files_dir, tmp_path, piped_table):
    out = tmp_path / "recs.csv"
    result = runner.invoke(app, ["recommend", "-s", f"files:{files_dir}", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0, result.output
    header = out.read_text().splitlines()[0].split(",")
    assert header[:3] == ["resource_id", "kind", "account"] and "monthly_savings" in header
    assert piped_table.exit_code == 0 and "i-idle" in piped_table.stdout and "stop" in piped_table.stdout


def test_piped_table_is_wide_unless_columns_says_otherwise(files_dir, piped_table):
    piped = piped_table
    narrow = runner.invoke(app, ["recommend", "-s", f"files:{files_dir}"], env={"COLUMNS": "80"})
    assert piped.exit_code == narrow.exit_code == 0
    assert max(map(len, piped.stdout.splitlines())) > 80
    assert max(map(len, narrow.stdout.splitlines())) <= 80 and "Savings/mo" in narrow.stdout


def test_audit_writes_report_and_exports(files_dir, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(app, ["audit", "--source", f"files:{files_dir}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "recommendations.json", "recommendations.csv"} <= names
    assert len(names) == 6  # and one dated copy of each
    document = json.loads((out / "recommendations.json").read_text())
    assert document["summary"]["recommendations"] == 2
    assert "prices as of" in result.stdout


def test_quiet_prints_nothing(files_dir, tmp_path):
    result = runner.invoke(app, ["audit", "-s", f"files:{files_dir}", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 0 and result.stdout == ""


def test_fail_on_savings_returns_3_only_above_the_amount(files_dir, tmp_path):
    args = ["recommend", "-s", f"files:{files_dir}", "--format", "json"]
    assert runner.invoke(app, [*args, "--fail-on-savings", "1"]).exit_code == 3
    assert runner.invoke(app, [*args, "--fail-on-savings", "1000000"]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["recommend"], "say what to audit"),
        (["recommend", "--source", "s3:bucket"], "unknown source 's3:bucket'"),
        (["recommend", "--source", "files:/nonexistent/dir"], "not a directory"),
        (["recommend", "--demo", "--disable-rule", "ec2-idel"], "cannot disable unknown rule 'ec2-idel'"),
        (["recommend", "--demo", "--cpu-statistic", "p42"], "--cpu-statistic 'p42'"),
        (["rules", "explain", "ec2-idl"], "did you mean ec2-idle"),
        (["catalog", "show", "m5.xlargee"], "m5.xlarge"),
    ],
)
def test_usage_and_configuration_errors_exit_2_with_one_clear_line(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_broken_rule_pack_exits_2_naming_file_line_and_rule(files_dir, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "mine.yaml").write_text("rules:\n  - id: mine\n    title: t\n    kind: ec2_instance\n    action: stop\n"
                                     "    rationale: r\n    when: [cpu_p99, '<', 'x']\n")
    result = runner.invoke(app, ["recommend", "-s", f"files:{files_dir}", "--rules", str(rules)])
    assert result.exit_code == 2
    assert "mine.yaml:7: rule 'mine', field 'when': operator '<' on 'cpu_p99' needs a number" in \
        " ".join(result.output.split())
    check = runner.invoke(app, ["rules", "check", str(rules)])
    assert check.exit_code == 2


def test_malformed_input_data_exits_2(tmp_path):
    (tmp_path / "inventory.csv").write_text("resource_id,kind,region\ni-1,ec2_instance,us-east-1\n")
    (tmp_path / "metrics.csv").write_text("resource_id,metric,value\ni-1,cpu,5\n")
    result = runner.invoke(app, ["recommend", "-s", f"files:{tmp_path}"])
    assert result.exit_code == 2 and "missing required column(s) timestamp" in result.output
    # A bad value in one row skips its resource (see tests/hostile), it does not fail the run.
    (tmp_path / "metrics.csv").write_text("resource_id,metric,timestamp,value\ni-1,cpuu,2026-11-02T00:00Z,5\n")
    result = runner.invoke(app, ["recommend", "-s", f"files:{tmp_path}"])
    assert result.exit_code == 0 and "i-1 skipped: metrics.csv row 2, field metric: unknown metric 'cpuu'" in \
        result.stderr


def test_unexpected_failure_exits_1_without_traceback(files_dir, monkeypatch):
    import advisor.engine.pipeline as pipeline

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "build_features", explode)
    result = runner.invoke(app, ["recommend", "-s", f"files:{files_dir}"])
    assert result.exit_code == 1
    assert "unexpected failure: RuntimeError: disk on fire" in result.output


def test_rules_list_check_explain_and_catalog_commands():
    listing = runner.invoke(app, ["rules", "list"])
    assert listing.exit_code == 0 and "ec2-overprovisioned" in listing.stdout
    assert runner.invoke(app, ["rules", "check", "rules"]).exit_code == 0
    explain = runner.invoke(app, ["rules", "explain", "ec2-idle"])
    assert explain.exit_code == 0 and "cpu_max < 5" in explain.stdout
    info = runner.invoke(app, ["catalog", "info"])
    assert info.exit_code == 0 and "2026" in info.stdout
    show = runner.invoke(app, ["catalog", "show", "g4dn.xlarge", "--region", "us-east-1"])
    assert show.exit_code == 0 and "0.526" in show.stdout


def test_catalog_info_warns_about_price_sources_older_than_the_configured_age(tmp_path, monkeypatch):
    """[catalog] max_age_days sets the limit; every dated price source is older than one day, none than a million."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "advisor.toml").write_text("[catalog]\nmax_age_days = 1\n")
    strict = runner.invoke(app, ["catalog", "info"])
    assert strict.exit_code == 0
    assert "warning: spot_advisor (Spot savings and interruption bands) is dated 2025-06-28" in strict.stdout
    (tmp_path / "advisor.toml").write_text("[catalog]\nmax_age_days = 1000000\n")
    relaxed = runner.invoke(app, ["catalog", "info", "--format", "json"])
    assert relaxed.exit_code == 0 and json.loads(relaxed.stdout)["warnings"] == []


@pytest.mark.parametrize(("command", "check"), [
    (["rules", "list"], lambda doc: any(r["id"] == "ec2-idle" and r["action"] == "stop" and r["line"] > 0
                                        and r["file"].endswith(".yaml") for r in doc)),
    (["catalog", "info"], lambda doc: doc["price_list_date"].startswith("2026")),
    (["catalog", "show", "g4dn.xlarge", "--region", "us-east-1"],
     lambda doc: doc["instance_type"] == "g4dn.xlarge" and doc["spec"]["gpus"] == 1),
    (["config", "show"], lambda doc: doc["file"] is None and
     {"setting": "sizing.memory.headroom_pct", "value": 20.0, "from": "default"} in doc["settings"]),
    (["history"], lambda doc: doc == []),
])
def test_format_json_wherever_there_is_a_table(command, check):
    result = runner.invoke(app, [*command, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert check(json.loads(result.stdout))


def _commands(command=None, path=()):
    """Every command and group of the CLI with its argument path (``("rules", "list")``)."""
    command = command or typer.main.get_command(app)
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _flat(text: str) -> str:
    """Help text without the panels' borders, markdown's backticks and line breaks: what a reader reads."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text.replace("`", "")).split())


@pytest.mark.parametrize(("path", "command"), list(_commands()), ids=lambda v: " ".join(v) if isinstance(v, tuple)
                         else None)
def test_every_help_shows_its_example_and_every_option_help_whole(path, command):
    """Nothing the help was given is swallowed: "[default: 20]" and "[window]" survive, and each example is there."""
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    shown = _flat(result.stdout)
    assert "Example: advisor" in shown
    for param in command.params:
        if getattr(param, "help", None):
            assert _flat(param.help) in shown, param.name
    for paragraph in (command.help or "").split("\n\n"):
        assert _flat(paragraph) in shown


def test_help_keeps_the_defaults_rich_markup_used_to_swallow():
    shown = _flat(runner.invoke(app, ["audit", "--help"], env={"COLUMNS": "100"}).stdout)
    headroom = setting_field("sizing.cpu.headroom_pct")
    assert f"{headroom.text} [default: {headroom.shown_default}; advisor.toml: {headroom.key}]." in shown
    assert "[output] retention in advisor.toml" in shown


def test_version_and_bare_advisor():
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.stdout.strip() == f"advisor {advisor.__version__}"
    bare = runner.invoke(app, [], prog_name="advisor")
    assert bare.exit_code == 0 and "Usage: advisor" in bare.stdout and "recommend" in bare.stdout


@pytest.mark.parametrize(("group", "subcommand"), [("rules", "explain"), ("catalog", "show"), ("config", "show")])
def test_bare_command_group_prints_its_help_and_exits_0(group, subcommand):
    bare = runner.invoke(app, [group], prog_name="advisor")
    assert bare.exit_code == 0 and f"Usage: advisor {group}" in bare.stdout and subcommand in bare.stdout


SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "recommendations.schema.json").read_text())


def test_console_script_runs_an_audit(files_dir, tmp_path):
    """The entry point, as a user (or cron) runs it, in an interpreter of its own: its outputs are written whole."""
    result = subprocess.run([sys.executable, "-m", "advisor", "audit", "-s", f"files:{files_dir}", "--out",
                             str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "recommendations.json").read_text())
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert {r["action"] for r in document["recommendations"]} == {"stop", "downsize"}
    assert (tmp_path / "report.html").stat().st_size > 100_000


def test_the_demo_audits_outputs_validate_and_show_every_main_action(demo_audit):
    """The demo's audit (tests/conftest.py, the pipeline `audit --demo` runs) as its outputs are written: the JSON
    validates against the documented schema, and the demo shows every main action in a full report."""
    from advisor.report.exports import to_json
    from advisor.report.page import render_html
    from advisor.report.summary import summarize

    summary = summarize(demo_audit)
    document = json.loads(to_json(demo_audit, summary))
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    actions = {r["action"] for r in document["recommendations"]}
    assert {"stop", "downsize", "upsize", "modernize", "install_agent"} <= actions
    assert len(render_html(demo_audit, summary).encode()) > 100_000
