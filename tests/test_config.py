import textwrap

import pytest

from advisor.config import load_config
from advisor.errors import ConfigError

GOOD = """\
[aws]
regions = ["us-east-1", "eu-west-1"]

[sizing]
horizon_days = 21

[sizing.cpu]
statistic = "p95"
headroom_pct = 30

[rules]
disabled = ["ec2-previous-generation"]

[rules.overrides.ec2-overprovisioned]
cpu_below = 35

[discounts]
ec2_pct = 10
sagemaker_pct = 15

[discounts.families]
m5 = 28

[catalog]
max_age_days = 90

[output]
retention = 5
"""


def _write(tmp_path, text):
    path = tmp_path / "advisor.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_file_values_reach_the_settings_with_their_origin(tmp_path):
    path = _write(tmp_path, GOOD)
    config = load_config(path)
    s = config.settings
    sizing = s.sizing
    assert sizing.horizon_days == 21 and sizing.cpu.statistic == "p95" and sizing.cpu.headroom == pytest.approx(0.30)
    assert sizing.memory.headroom == pytest.approx(0.20)  # default kept
    assert s.rules.disabled == ["ec2-previous-generation"]
    assert s.rules.overrides == {"ec2-overprovisioned": {"cpu_below": 35.0}}
    assert s.discounts.ec2_pct == 10 and s.discounts.sagemaker_pct == 15 and s.discounts.families == {"m5": 28}
    assert s.catalog.max_age_days == 90
    assert config.config.aws.regions == ["us-east-1", "eu-west-1"] and config.config.output.retention == 5
    origins = {key: origin for key, _, origin in config.rows()}
    assert origins["sizing.cpu.headroom_pct"] == f"{path}:9"
    assert origins["sizing.memory.headroom_pct"] == "default"


def test_cli_flags_override_the_file(tmp_path):
    config = load_config(_write(tmp_path, GOOD), {"sizing.cpu.headroom_pct": 10.0, "sizing.horizon_days": None,
                                                   "output.retention": 2})
    assert config.settings.sizing.cpu.headroom == pytest.approx(0.10)
    assert config.settings.sizing.horizon_days == 21  # None = flag not given
    assert config.config.output.retention == 2
    origins = {key: origin for key, _, origin in config.rows()}
    assert origins["sizing.cpu.headroom_pct"] == "command line"


def test_found_in_the_working_directory_then_xdg(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert load_config().path is None
    user = tmp_path / "xdg" / "advisor" / "advisor.toml"
    user.parent.mkdir(parents=True)
    user.write_text("[sizing]\nhorizon_days = 7\n")
    assert load_config().settings.sizing.horizon_days == 7
    (tmp_path / "advisor.toml").write_text("[sizing]\nhorizon_days = 9\n")
    assert load_config().settings.sizing.horizon_days == 9


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sizing]\nhorizon_dayz = 3\n", "advisor.toml:2: sizing.horizon_dayz: unknown key (a typo?)"),
        ("[sizeing]\nhorizon_days = 3\n", "advisor.toml:1: sizeing: unknown key (a typo?)"),
        ("[sizing]\nhorizon_days = \"soon\"\n", "advisor.toml:2: sizing.horizon_days: Input should be a valid "
                                                "integer"),
        ("[discounts]\nec2_pct = 120\n", "advisor.toml:2: discounts.ec2_pct: Input should be less than or "
                                         "equal to 100"),
        ("[discounts]\nflat_pct = 20\n", "advisor.toml:2: discounts.flat_pct: Value error, a flat discount on every "
                                         "price is no longer accepted (no Savings Plan or reserved instance covers EBS "
                                         "or Spot): set ec2_pct"),
        ("[discounts.families]\nm5 = -3\n", "between 0 and 100"),
        ("[sizing.cpu]\nstatistic = \"p42\"\n", "advisor.toml:2: sizing.cpu.statistic: Input should be"),
        ("[sizing\n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_clear_line_with_file_and_line(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_explicit_config_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_the_risk_budget_is_a_sizing_setting_between_0_and_1(tmp_path):
    assert load_config(_write(tmp_path, "")).settings.sizing.risk_budget == 0.02
    config = load_config(_write(tmp_path, "[sizing]\nrisk_budget = 0.05\n"))
    assert config.settings.sizing.risk_budget == 0.05
    assert ("sizing.risk_budget", 0.05, f"{tmp_path / 'advisor.toml'}:2") in config.rows()
    with pytest.raises(ConfigError, match=r"advisor.toml:2: sizing.risk_budget: .*less than or equal to 1"):
        load_config(_write(tmp_path, "[sizing]\nrisk_budget = 2\n"))


def test_a_store_url_on_the_command_line_is_the_store_url_setting(tmp_path, monkeypatch):
    """``--store s3://bucket/prefix`` sets ``store.url`` (said to come from --store), never a local path named "s3:";
    a malformed URL is a configuration error before anything is read."""
    from typer.testing import CliRunner

    from advisor.cli.floor import load_effective_config
    from advisor.cli.main import app

    monkeypatch.chdir(tmp_path)
    effective = load_effective_config(None, store="s3://advisor/fleet")
    assert (effective.config.store.url, effective.config.store.path) == ("s3://advisor/fleet", None)
    assert load_effective_config(None, store=str(tmp_path / "c.duckdb")).config.store.path == tmp_path / "c.duckdb"
    result = CliRunner().invoke(app, ["history", "--store", "s3://Not_A_Bucket/x"])
    assert result.exit_code == 2 and "expected s3://bucket/prefix" in result.output
    assert CliRunner().invoke(app, ["history", "--store", "s3://advisor/fleet"]).exit_code == 0
    assert list(tmp_path.iterdir()) == []
