"""advisor on a schedule: config, lock, quiet, logs, history/diff, dated outputs, and the documented cron line."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from fleet_builders import FleetBuilder
from typer.testing import CliRunner

from advisor.cli.main import app
from advisor.runlock import RunLock

runner = CliRunner()
DOCS = Path(__file__).resolve().parents[1] / "docs" / "cron.md"


def _export(directory: Path, over_cpu: tuple[float, float] = (5, 15)) -> Path:
    fleet = FleetBuilder(seed=3, per_day=24)  # hourly: scheduling, not sampling, is the point
    fleet.ec2("i-idle", "m5.xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(2, 3), network_in=fleet.noise(5, 20))
    fleet.ec2("i-over", "m5.4xlarge", cpu=fleet.noise(*over_cpu), memory=fleet.noise(10, 20))
    inventory, metrics = fleet.frames()
    directory.mkdir(parents=True, exist_ok=True)
    inventory.to_csv(directory / "inventory.csv", index=False)
    metrics.to_csv(directory / "metrics.csv", index=False)
    return directory


def _config(path: Path, export: Path, out: Path, extra: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[source]\nspec = "files:{export}"\n\n[output]\ndir = "{out}"\nretention = 2\n\n{extra}')
    return path


def test_config_show_prints_values_and_origins(tmp_path):
    config = _config(tmp_path / "advisor.toml", tmp_path, tmp_path / "out", "[sizing.cpu]\nheadroom_pct = 25\n")
    result = runner.invoke(app, ["config", "show", "--config", str(config)])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if "sizing.cpu.headroom_pct" in line)
    assert "25" in line
    shown = json.loads(runner.invoke(app, ["config", "show", "--config", str(config), "--format", "json"]).stdout)
    origin = {row["setting"]: row["from"] for row in shown["settings"]}["sizing.cpu.headroom_pct"]
    assert origin == f"{config}:9"  # the table folds a long path; the JSON gives it whole
    assert re.search(r"sizing\.memory\.headroom_pct\s*│\s*20\.0\s*│\s*default", result.stdout)


def test_audit_reads_the_config_and_flags_override_it(tmp_path):
    export = _export(tmp_path / "export")
    config = _config(tmp_path / "advisor.toml", export, tmp_path / "out")
    assert runner.invoke(app, ["audit", "--config", str(config), "--quiet"]).exit_code == 0
    assert (tmp_path / "out" / "report.html").exists()
    flag_out = tmp_path / "flag-out"
    assert runner.invoke(app, ["audit", "--config", str(config), "--out", str(flag_out), "-q"]).exit_code == 0
    assert (flag_out / "report.html").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[sizing]\nhorizon = 3\n", "sizing.horizon: unknown key (a typo?)"),
        ("[sizng]\n", "sizng: unknown key (a typo?)"),
        ("[sizing]\nhorizon_days = \"x\"\n", "sizing.horizon_days: Input should be a valid integer"),
        ("[discounts]\nsagemaker_pct = 101\n", "discounts.sagemaker_pct: Input should be less than or equal to 100"),
        ("[rules.overrides.ec2-idel]\ncpu_p99_max = 1\n", "rules.overrides: unknown rule 'ec2-idel'"),
    ],
)
def test_bad_config_exits_2_with_one_line_and_writes_nothing(tmp_path, extra, message):
    export = _export(tmp_path / "export")
    config = _config(tmp_path / "advisor.toml", export, tmp_path / "out", extra)
    result = runner.invoke(app, ["audit", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert len(result.output.strip().splitlines()) <= 2
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unwritable_output_directory_exits_2(tmp_path):
    export = _export(tmp_path / "export")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = runner.invoke(app, ["audit", "-s", f"files:{export}", "--out", str(blocker / "sub")])
    assert result.exit_code == 2 and "cannot write there" in result.output


def test_a_second_run_while_one_holds_the_lock_exits_4(tmp_path, isolated_user_dirs):
    export = _export(tmp_path / "export")
    with RunLock(isolated_user_dirs / "data" / "advisor"):
        result = runner.invoke(app, ["audit", "-s", f"files:{export}", "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 4
    assert "another advisor run holds" in result.output
    assert not (tmp_path / "out" / "report.html").exists()


def test_history_diff_retention_and_logs_over_three_runs(tmp_path):
    export = _export(tmp_path / "export")
    out, log = tmp_path / "out", tmp_path / "advisor.log"
    config = _config(tmp_path / "advisor.toml", export, out, f'[logging]\nfile = "{log}"\n')
    for _ in range(2):
        assert runner.invoke(app, ["audit", "-c", str(config), "-q"]).exit_code == 0
    _export(export, over_cpu=(40, 60))  # the over-provisioned instance got busy: its finding resolves
    third = runner.invoke(app, ["audit", "-c", str(config)])
    assert third.exit_code == 0, third.output
    assert "resolved" in third.stdout
    history = runner.invoke(app, ["history", "-c", str(config)])
    assert history.exit_code == 0 and history.stdout.count("files:") == 3
    runs = json.loads(runner.invoke(app, ["history", "-c", str(config), "--format", "json"]).stdout)
    assert [r["source"].startswith("files:") for r in runs] == [True] * 3
    assert runs[0]["started_at"] < runs[2]["started_at"]
    diff = runner.invoke(app, ["diff", "--format", "json", "-c", str(config)])
    assert diff.exit_code == 0, diff.output
    changes = json.loads(diff.stdout)
    assert [r["resource_id"] for r in changes["resolved"]] == ["i-over"]
    assert changes["resolved"][0]["done"] is False  # it got busier, it was not resized
    assert [r["resource_id"] for r in changes["persisting"]] == ["i-idle"]
    dated = sorted(p.name for p in out.glob("report-*.html"))
    assert len(dated) == 2  # retention = 2
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert events.count("run_finished") == 3 and "source_loaded" in events
    report = json.loads((out / "recommendations.json").read_text())
    assert report["summary"]["recommendations"] >= 1


def test_the_documented_cron_line_runs_as_written(tmp_path, isolated_user_dirs):
    """The exact crontab command from docs/cron.md, with the config where the doc puts it."""
    line = next(line for line in DOCS.read_text().splitlines() if re.match(r"^[\d*]+ [\d*]+ \* \* \* ", line))
    command = shlex.split(line)[5:]
    assert Path(command[0]).is_absolute() and Path(command[0]).name == "advisor"  # cron's PATH lacks the venv
    export = _export(tmp_path / "export")
    _config(isolated_user_dirs / "config" / "advisor" / "advisor.toml", export, tmp_path / "reports")
    result = subprocess.run([sys.executable, "-m", "advisor", *command[1:]], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""  # --quiet: nothing on success
    assert (tmp_path / "reports" / "report.html").exists()
    service = DOCS.read_text().split("ExecStart=", 1)[1].splitlines()[0]
    assert shlex.split(service) == command


def test_history_and_diff_on_an_empty_store_create_no_files(isolated_user_dirs):
    history = runner.invoke(app, ["history"])
    assert history.exit_code == 0 and "no runs recorded yet" in history.stdout
    diff = runner.invoke(app, ["diff"])
    assert diff.exit_code == 2 and "no runs recorded yet" in diff.output
    assert [p for p in isolated_user_dirs.rglob("*")] == []


def test_collect_shares_the_lock_with_audit(isolated_user_dirs):
    with RunLock(isolated_user_dirs / "data" / "advisor"):
        result = runner.invoke(app, ["collect", "--region", "us-east-1", "-q"])
    assert result.exit_code == 4 and "another advisor run holds" in result.output
