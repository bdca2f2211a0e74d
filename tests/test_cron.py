"""Cron behaviour: the run lock, dated outputs with a latest copy and retention, structured logs."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from advisor.logs import configure, event
from advisor.outputs import prune, write_outputs
from advisor.runlock import LockedError, RunLock


def test_a_second_run_cannot_take_the_lock(tmp_path):
    with RunLock(tmp_path), pytest.raises(LockedError, match=r"another advisor run holds .*advisor.lock \(pid \d+"):
        RunLock(tmp_path).__enter__()
    with RunLock(tmp_path):  # released on exit
        pass


def test_the_lock_is_held_across_processes(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from advisor.runlock import RunLock\n"
        f"with RunLock({str(tmp_path)!r}):\n    print('locked', flush=True); time.sleep(30)\n")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockedError), RunLock(tmp_path):
            pass
    finally:
        holder.kill()
        holder.wait()
    with RunLock(tmp_path):  # a killed holder's lock dies with it
        pass


def test_dated_outputs_latest_copy_and_retention(tmp_path):
    start = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    for day in range(5):
        write_outputs(tmp_path, start + timedelta(days=day), {"report.html": f"<p>{day}</p>",
                                                             "recommendations.json": f"[{day}]"}, retention=3)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["recommendations-20261103T020000000Z.json", "recommendations-20261104T020000000Z.json",
                     "recommendations-20261105T020000000Z.json", "recommendations.json",
                     "report-20261103T020000000Z.html", "report-20261104T020000000Z.html",
                     "report-20261105T020000000Z.html", "report.html"]
    assert (tmp_path / "report.html").read_text() == "<p>4</p>"
    (tmp_path / "notes.txt").write_text("mine")
    prune(tmp_path, 1)
    assert (tmp_path / "notes.txt").exists()
    assert not (tmp_path / "report-20261104T020000000Z.html").exists()


def test_structured_logs_are_json_lines(tmp_path):
    log = tmp_path / "logs" / "advisor.log"
    configure(log, "json")
    event("run_finished", recommendations=3, savings=12.5)
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["event"] == "run_finished" and entry["recommendations"] == 3 and entry["level"] == "info"
    configure(None)


def test_two_runs_in_the_same_second_keep_both_dated_outputs(tmp_path):
    first = datetime(2026, 11, 1, 2, 0, 0, 120_000, tzinfo=UTC)
    write_outputs(tmp_path, first, {"report.html": "a"}, retention=5)
    write_outputs(tmp_path, first + timedelta(milliseconds=400), {"report.html": "b"}, retention=5)
    assert sorted(p.name for p in tmp_path.glob("report-*.html")) == ["report-20261101T020000120Z.html",
                                                                     "report-20261101T020000520Z.html"]
