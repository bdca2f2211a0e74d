"""The one settings schema: the flags, `config show`, the docs, the backtest and the engine all read it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import typer
from fleet_builders import FleetBuilder, audit_fleet
from typer.testing import CliRunner

from advisor.cli.main import app
from advisor.cli.options import SETTING_FLAGS
from advisor.config import load_config
from advisor.settings import Config, FiltersConfig, Settings, SizingConfig, setting_field, setting_fields
from advisor.store.history import run_scope

runner = CliRunner()
ROOT = Path(__file__).parents[1]


def _commands(command=None, path=()):
    command = command or typer.main.get_command(app)
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _reads_config(command) -> bool:
    return any(param.name == "config" for param in command.params)


def _setting_params():
    """(command path, option, schema field) for every option that sets a setting in a command that reads
    advisor.toml: the parameter's name says which (``cpu_headroom`` is ``--cpu-headroom``, as
    ``load_effective_config`` reads it)."""
    found = []
    for path, command in _commands():
        for param in command.params if _reads_config(command) else ():
            flag = f"--{param.name.replace('_', '-')}"
            if flag in SETTING_FLAGS:
                assert param.opts[0] == flag, (path, param.opts)
                found.append((path, param, setting_field(SETTING_FLAGS[flag])))
    return found


SETTING_PARAMS = _setting_params()


def _flat(text: str) -> str:
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text.replace("`", "")).split())


@pytest.mark.parametrize(("path", "param", "found"), SETTING_PARAMS,
                         ids=[f"{' '.join(p)} {param.opts[0]}" for p, param, _ in SETTING_PARAMS])
def test_a_setting_flag_takes_help_default_and_bounds_from_its_field(path, param, found):
    assert found.text in param.help and f"advisor.toml: {found.key}]" in param.help
    if found.shown_default is not None:
        assert f"[default: {found.shown_default};" in param.help
    assert (param.min, param.max) == (found.bounds.get("ge"), found.bounds.get("le"))  # open bounds: see below
    shown = _flat(runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"}).stdout)
    assert _flat(param.help) in shown  # the rendered help keeps "[default: 20; ...]" whole


def test_a_command_without_config_claims_no_advisor_toml_key():
    for path, command in _commands():
        if not _reads_config(command):
            assert not [p.name for p in command.params if "advisor.toml:" in (p.help or "")], path


def test_every_mapped_flag_is_offered_by_some_command():
    assert {param.opts[0] for _, param, _ in SETTING_PARAMS} == set(SETTING_FLAGS)


@pytest.mark.parametrize(("args", "message"), [
    (["--days", "0"], "--days 0.0: Input should be greater than 0"),  # an open bound: the schema checks it
    (["--cpu-statistic", "p42"], "--cpu-statistic 'p42': Input should be 'p50', 'p90', 'p95', 'p99' or 'max'"),
    (["--cpu-headroom", "101"], "'--cpu-headroom': Input should be less than or equal to 100"),  # typer's check
])
def test_a_flag_outside_the_schema_is_a_usage_error_naming_the_flag(args, message):
    result = runner.invoke(app, ["recommend", "--demo", *args])
    assert result.exit_code == 2 and message in _flat(result.output)


def test_config_show_lists_every_setting_with_its_origin(tmp_path):
    config = tmp_path / "advisor.toml"
    config.write_text('[sizing.memory]\nheadroom_pct = 30\n\n[spot]\ninterruptible_tags = {tier = ["dev"]}\n'
                      '[aws]\nrole_arns = ["arn:aws:iam::111111111111:role/r"]\nexternal_id = "s3cr3t"\n')
    result = runner.invoke(app, ["config", "show", "--config", str(config), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["setting"]: row for row in json.loads(result.stdout)["settings"]}
    for found in setting_fields():
        assert any(key == found.key or key.startswith(found.key + ".") for key in rows), found.key
    assert rows["sizing.memory.headroom_pct"] == {"setting": "sizing.memory.headroom_pct", "value": 30.0,
                                                  "from": f"{config}:2"}
    assert rows["sizing.memory.statistic"]["value"] == "max"  # a partial table keeps the other defaults
    assert rows["spot.interruptible_tags.tier"] == {"setting": "spot.interruptible_tags.tier", "value": ["dev"],
                                                    "from": f"{config}:5"}
    assert rows["aws.external_id"]["value"] != "s3cr3t" and "*" in rows["aws.external_id"]["value"]
    assert rows["window.days"] == {"setting": "window.days", "value": 14.0, "from": "default"}


def test_flags_add_to_the_files_rule_lists_and_say_so(tmp_path):
    config = tmp_path / "advisor.toml"
    config.write_text('[rules]\ndisabled = ["ec2-idle"]\n')
    effective = load_config(config, {"rules.disabled": ["ebs-unattached"]})
    assert effective.settings.rules.disabled == ["ec2-idle", "ebs-unattached"]
    assert dict((k, o) for k, _, o in effective.rows())["rules.disabled"] == f"{config}:2 + command line"


def test_the_engine_gets_the_analysis_settings_only():
    settings = load_config(None, {"aws.external_id": "x", "sizing.cpu.headroom_pct": 35.0}).settings
    assert set(settings.model_dump()) == {"sizing", "rules", "filters", "discounts", "spot", "catalog"}
    assert settings.sizing.cpu.headroom == pytest.approx(0.35)


def test_the_configuration_reference_is_generated_from_the_schema():
    page = (ROOT / "docs" / "configuration.md").read_text()
    check = subprocess.run([sys.executable, "tools/settings_reference.py", "--check"], cwd=ROOT,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    for found in setting_fields():
        assert f"| `{found.key}` |" in page
    for section in Config.model_fields:
        assert f"### [{section}]" in page


def test_the_reference_check_fails_on_a_stale_page():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import settings_reference
    finally:
        sys.path.remove(str(ROOT / "tools"))
    page = (ROOT / "docs" / "configuration.md").read_text()
    stale = page.replace("| `window.days` |", "| `window.dayz` |")
    assert settings_reference.updated(stale) == page != stale


def _spot_fleet(directory: Path) -> Path:
    fleet = FleetBuilder()
    for rid, tags in (("i-web", "team=web"), ("i-batch", "workload=Batch"),
                      ("i-asg", "aws:autoscaling:groupName=web")):
        fleet.ec2(rid, "m5.2xlarge", cpu=fleet.noise(49.5, 50.5), memory=fleet.noise(59.5, 60.5))
        fleet.inventory[-1]["tags"] = tags
    pd.DataFrame(fleet.inventory).to_csv(directory / "inventory.csv", index=False)
    pd.concat(fleet.series).to_csv(directory / "metrics.csv", index=False)
    return directory


def _spot_ids(args: list[str]) -> set[str]:
    result = runner.invoke(app, ["recommend", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return {r["resource_id"] for r in json.loads(result.stdout) if r["rule"] == "ec2-spot-interruptible"}


def test_interruptible_tags_in_advisor_toml_choose_the_spot_candidates(tmp_path):
    source = f"files:{_spot_fleet(tmp_path)}"
    config = tmp_path / "advisor.toml"
    config.write_text('[spot]\ninterruptible_tags = {team = ["WEB"]}\n')
    assert _spot_ids(["-s", source]) == {"i-batch", "i-asg"}  # the default: workload batch/stateless
    assert _spot_ids(["-s", source, "--config", str(config)]) == {"i-web", "i-asg"}  # ASG members always are


@pytest.fixture(scope="module")
def backtest_dir(tmp_path_factory) -> Path:
    fleet = FleetBuilder(days=8)
    fleet.ec2("i-big", "m5.4xlarge", cpu=fleet.noise(5, 20), memory=fleet.noise(10, 25))
    fleet.ec2("i-mid", "m5.2xlarge", cpu=fleet.noise(5, 15), memory=fleet.noise(10, 20))
    inventory, metrics = fleet.frames()
    directory = tmp_path_factory.mktemp("backtest")
    inventory.to_csv(directory / "inventory.csv", index=False)
    metrics.to_csv(directory / "metrics.csv", index=False)
    return directory


def _ours(*args: str) -> dict:
    result = runner.invoke(app, ["backtest", "--strategy", "ours", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    (ours,) = json.loads(result.stdout)["strategies"]
    return ours


def test_backtest_reads_advisor_toml_and_ours_uses_its_sizing(backtest_dir, tmp_path):
    default = _ours("-s", f"files:{backtest_dir}")
    assert default["summary"]["recommendations"] > 0
    config = tmp_path / "advisor.toml"
    config.write_text(f'[source]\nspec = "files:{backtest_dir}"\n\n[sizing]\nmin_hours = 1000\n')
    strict = _ours("--config", str(config))  # the source comes from the file too
    assert strict["settings"]["sizing"]["min_hours"] == 1000
    assert strict["summary"]["recommendations"] == 0  # four days of history are less than 1000 hours
    assert default["settings"]["sizing"]["min_hours"] == SizingConfig().min_hours


def test_list_strategies_shows_ours_settings_from_the_schema():
    result = runner.invoke(app, ["backtest", "--list-strategies"])
    assert result.exit_code == 0
    shown = _flat(result.stdout)
    for found in setting_fields(Settings):
        assert f"{found.key} = {found.default!r} {found.description}" in shown


def test_a_runs_recorded_scope_keeps_its_tag_filters(catalog):
    """The history tells runs of different tag filters apart, from the settings the run recorded."""
    fleet = FleetBuilder(days=2)
    fleet.ec2("i-a", "m5.xlarge", cpu=fleet.noise(5, 10), memory=fleet.noise(5, 10))
    fleet.inventory[-1]["tags"] = "team=ml"
    ml_only = Settings(filters=FiltersConfig(include_tags={"team": ["ml"]}))
    scoped, unscoped = (json.loads(run_scope(audit_fleet(fleet, catalog, s))) for s in (ml_only, Settings()))
    assert scoped["include_tags"] == {"team": ["ml"]} and unscoped["include_tags"] == {}
