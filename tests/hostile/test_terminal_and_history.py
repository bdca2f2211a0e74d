"""Item 3: no control character from the data reaches the terminal. Item 10: a broken history warns and the
report is still written; a run enters the history only after its outputs are written. Item 1 end to end: links
planted at every fixed name of an audit."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from hostile.fleet import Fleet, assert_clean_error, run_cli

from advisor.safetext import printable
from advisor.store.history import History

EVIL = "\x1b[2J\x1b]0;owned\x07\x9b31m\r\x7fevil\u202e"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")  # anything but \t and \n (rich's own layout)


def _audit(source: Path, tmp_path: Path, *extra: str):
    return run_cli("audit", "-s", f"files:{source}", "--out", str(tmp_path / "out"),
                   "--store", str(tmp_path / "store" / "cache.duckdb"), *extra)


def _evil(fleet: Fleet) -> Fleet:
    hostile = fleet.copy()
    hostile.inventory["name"] = [f"{EVIL}{i}" for i in range(len(hostile.inventory))]
    hostile.inventory.loc[0, "region"] = "us-east-1"
    return hostile


def test_printable_renders_every_control_character() -> None:
    assert printable(EVIL) == "\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\r\\x7fevil\\u202e"
    assert printable("plain — ünïcode") == "plain — ünïcode"


def test_audit_table_summary_and_diff_print_no_control_character(fleet: Fleet, tmp_path: Path) -> None:
    source = _evil(fleet).write(tmp_path / "in")
    first = _audit(source, tmp_path)
    assert first.exit_code == 0, first.stderr
    assert "\\x1b[2J" in first.stdout
    second = _audit(source, tmp_path)
    assert second.exit_code == 0, second.stderr
    diff = run_cli("diff", "--store", str(tmp_path / "store" / "cache.duckdb"))
    history = run_cli("history", "--store", str(tmp_path / "store" / "cache.duckdb"))
    table = run_cli("recommend", "-s", f"files:{source}", "--format", "table")
    for run in (first, second, diff, history, table):
        assert run.exit_code == 0, run.stderr
        assert not CONTROL.search(run.stdout + run.stderr), CONTROL.search(run.stdout + run.stderr)


def test_problems_and_errors_print_no_control_character(fleet: Fleet, tmp_path: Path) -> None:
    hostile = fleet.copy()
    hostile.inventory.loc[0, "kind"] = EVIL
    run = run_cli("recommend", "-s", f"files:{hostile.write(tmp_path / 'in')}", "--format", "json")
    assert run.exit_code == 0 and "unknown value" in run.stderr
    assert not CONTROL.search(run.stderr)
    bad = tmp_path / f"dir{EVIL}"
    failed = run_cli("recommend", "-s", f"files:{bad}")
    assert_clean_error(failed, 2, "not a directory")
    assert not CONTROL.search(failed.stderr)


def _garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"garbage, not a database " * 200)


def _newer(path: Path) -> None:
    with History(path.parent):
        pass
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")


def _truncated(path: Path) -> None:
    with History(path.parent):
        pass
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _foreign(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
        con.execute("INSERT INTO meta VALUES ('schema_version', '1')")


@pytest.mark.parametrize("damage", [_garbage, _newer, _truncated, _foreign], ids=lambda f: f.__name__.strip("_"))
def test_a_broken_history_warns_and_the_report_is_written(instances: Fleet, tmp_path: Path, damage) -> None:
    history = tmp_path / "store" / "history.duckdb"
    damage(history)
    run = _audit(instances.write(tmp_path / "in"), tmp_path, "-q")
    assert run.exit_code == 0, run.stderr
    assert "warning:" in run.stderr and str(history) in run.stderr and "not recorded in the history" in run.stderr
    assert "Traceback" not in run.stderr
    assert (tmp_path / "out" / "report.html").is_file() and (tmp_path / "out" / "recommendations.csv").is_file()
    listed = run_cli("history", "--store", str(tmp_path / "store" / "cache.duckdb"))
    assert_clean_error(listed, 2, str(history))


def test_a_run_is_recorded_only_after_its_outputs_are_written(instances: Fleet, tmp_path: Path) -> None:
    source = instances.write(tmp_path / "in")
    assert _audit(source, tmp_path, "-q").exit_code == 0
    (tmp_path / "out" / "recommendations.csv").unlink()
    (tmp_path / "out" / "recommendations.csv" / "x").mkdir(parents=True)  # the export cannot be written
    failed = _audit(source, tmp_path, "-q")
    assert_clean_error(failed, 1, f"output directory {tmp_path / 'out'}: cannot write recommendations.csv")
    with History(tmp_path / "store") as runs:
        assert len(runs.runs()) == 1


def test_links_planted_at_every_fixed_name_of_an_audit(instances: Fleet, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    out, store = tmp_path / "out", tmp_path / "store"
    out.mkdir()
    store.mkdir()
    for name in ("report.html", "recommendations.json", "recommendations.csv", ".report.html.latest.tmp",
                 ".advisor-write-test"):
        (out / name).symlink_to(victim)
    (store / "history.duckdb").symlink_to(victim)
    run = _audit(instances.write(tmp_path / "in"), tmp_path, "-q")
    assert run.exit_code == 0, run.stderr
    assert "history.duckdb is a symbolic link" in run.stderr  # a warning: the report is written without it
    assert victim.read_text() == "mine\n"
    assert not (out / "report.html").is_symlink() and (out / "report.html").stat().st_mode & 0o077 == 0
    (store / "advisor.lock").unlink()  # the run's own lock file, left for the next run
    (store / "advisor.lock").symlink_to(victim)
    assert_clean_error(_audit(tmp_path / "in", tmp_path, "-q"), 2, "advisor.lock is a symbolic link")
    log = tmp_path / "advisor.log"
    log.symlink_to(victim)
    assert_clean_error(_audit(tmp_path / "in", tmp_path, "-q", "--log-file", str(log)), 2,
                       "advisor.log is a symbolic link")
    assert victim.read_text() == "mine\n"
