"""The local store: incremental fetches, unsettled periods, interruption, schema versions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from awsfakes import Calls, Seeder, now_floor

from advisor.catalog import load_catalog
from advisor.sources.aws.collect import collect_into_store, load_frames
from advisor.sources.aws.session import AwsOptions
from advisor.sources.aws.window import Window
from advisor.store.cache import Store, StoreError


def _seed(seeder: Seeder, end: datetime, hours: int) -> str:
    instance = seeder.instance("m5.xlarge", root_volume=False)
    seeder.series("AWS/EC2", "CPUUtilization", {"InstanceId": instance}, [float(i % 50) for i in range(hours * 12)],
                  end)
    seeder.series("CWAgent", "mem_used_percent", {"InstanceId": instance}, [40.0] * hours * 12, end)
    return instance


def test_second_run_asks_only_for_new_periods(seed: Seeder, tmp_path: Path, calls: Calls) -> None:
    t = now_floor() - timedelta(hours=3)
    instance = _seed(seed, t + timedelta(hours=1), hours=7)  # data from t-6h to t+1h
    options = AwsOptions(configure_session=calls.configure)
    with Store(tmp_path / "s.duckdb") as store:
        first = collect_into_store(options, store, Window.build(start=t - timedelta(hours=6), end=t))
        assert first.calls == 1 and calls.requests[-1]["StartTime"] == t - timedelta(hours=6)
        later = Window.build(start=t - timedelta(hours=5), end=t + timedelta(hours=1))
        second = collect_into_store(options, store, later)
        inventory, metrics, _ = load_frames(store, second, load_catalog())
        assert store.counts()["fetched"] == 4  # the fetch log was compacted: one range per series
    assert second.calls == 1 and calls.counts["GetMetricData"] == 2
    request = calls.requests[-1]
    assert (request["StartTime"], request["EndTime"]) == (t, t + timedelta(hours=1))
    assert len(request["MetricDataQueries"]) == 4  # cpu avg+max, memory avg+max: only the new hour
    cpu = metrics[(metrics["resource_id"] == instance) & (metrics["metric"] == "cpu")]
    assert len(cpu) == 2 * 72 and not cpu.duplicated(["stat", "timestamp"]).any()


def test_unsettled_periods_are_fetched_again_without_duplicates(seed: Seeder, tmp_path: Path,
                                                                 calls: Calls) -> None:
    end = now_floor() + timedelta(minutes=5)
    _seed(seed, now_floor(), hours=2)
    window = Window.build(start=end - timedelta(hours=2), end=end)
    options = AwsOptions(configure_session=calls.configure)
    with Store(tmp_path / "s.duckdb") as store:
        collect_into_store(options, store, window)
        before = store.counts()["points"]
        again = collect_into_store(options, store, window)
        _, metrics, _ = load_frames(store, again, load_catalog())
        assert store.counts()["points"] == before
    assert calls.requests[-1]["StartTime"] == window.settled  # the last, still-changing periods only
    assert not metrics.duplicated(["resource_id", "metric", "stat", "timestamp"]).any()


CHILD = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime, timedelta
    from advisor.sources.aws.collect import collect_into_store
    from advisor.sources.aws.session import AwsOptions
    from advisor.sources.aws.window import Window
    from advisor.store.cache import Store

    seen = []
    def hook(session):
        def before_send(event_name, **kwargs):
            if event_name.endswith("GetMetricData"):
                seen.append(1)
                if len(seen) == 3:
                    os.kill(os.getpid(), signal.SIGKILL)  # no cleanup at all
        session.events.register("before-send", before_send)

    start, end = datetime.fromisoformat(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
    with Store(sys.argv[1]) as store:
        collect_into_store(AwsOptions(workers=1, configure_session=hook), store, Window.build(start=start, end=end),
                           limits=(2, 100_800))
""")


def test_a_killed_run_leaves_a_readable_store_that_keeps_what_was_fetched(seed: Seeder, tmp_path: Path) -> None:
    end = now_floor() - timedelta(minutes=30)  # every period settled: fetched ranges are whole
    for _ in range(3):
        _seed(seed, end, hours=1)
    path, start = tmp_path / "s.duckdb", end - timedelta(hours=1)
    child = subprocess.run([sys.executable, "-c", CHILD, str(path), start.isoformat(), end.isoformat()],
                           env=os.environ.copy(), capture_output=True, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    with Store(path) as store:
        counts = store.counts()
        assert counts["inventory"] == 1 and counts["series"] == 12
        assert counts["fetched"] == 4  # the two calls (2 queries each) that completed before the kill
        calls = Calls()
        resumed = collect_into_store(AwsOptions(configure_session=calls.configure), store,
                                     Window.build(start=start, end=end), limits=(2, 100_800))
        _, metrics, _ = load_frames(store, resumed, load_catalog())
    assert resumed.calls == 4  # only the 8 queries not fetched yet
    assert len(metrics) == 12 * 12 and not metrics.duplicated(["resource_id", "metric", "stat", "timestamp"]).any()


def test_ctrl_c_lets_the_call_in_flight_commit_and_starts_no_other(seed: Seeder, tmp_path: Path) -> None:
    end = now_floor() - timedelta(minutes=30)
    _seed(seed, end, hours=1)
    sent = []
    seen = threading.Event()

    def handler(signum, frame):
        seen.set()
        signal.default_int_handler(signum, frame)

    def ctrl_c_during_second_call(session):
        def before_send(event_name, **kwargs):
            if event_name.endswith("GetMetricData"):
                sent.append(1)
                if len(sent) == 2:
                    os.kill(os.getpid(), signal.SIGINT)  # delivered to the main thread, as a real Ctrl-C
                    # this call goes out once the main thread has seen it, however loaded the machine is
                    assert seen.wait(60), "the main thread never handled the Ctrl-C"

        session.events.register("before-send", before_send)

    options = AwsOptions(workers=1, configure_session=ctrl_c_during_second_call)
    window = Window.build(start=end - timedelta(hours=1), end=end)
    previous = signal.signal(signal.SIGINT, handler)
    try:
        with Store(tmp_path / "s.duckdb") as store:
            with pytest.raises(KeyboardInterrupt):
                collect_into_store(options, store, window, limits=(1, 100_800))
            assert len(sent) == 2 and store.counts()["fetched"] == 2  # both sent calls committed, no third one
    finally:
        signal.signal(signal.SIGINT, previous)


def test_store_refuses_other_schema_versions_and_other_files(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store(path).close()
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99, written by a newer advisor"):
        Store(path)
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(StoreError, match="not an advisor store"):
        Store(other)
    (tmp_path / "junk.duckdb").write_text("not a database")
    with pytest.raises(StoreError, match="cannot be opened"):
        Store(tmp_path / "junk.duckdb")


def test_store_in_use_by_another_process_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store(path).close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ok', flush=True); time.sleep(30)", str(path)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"ok"
        with pytest.raises(StoreError, match="in use by another advisor process"):
            Store(path)
    finally:
        holder.kill()
        holder.wait()


def test_store_fetch_log_compaction(tmp_path: Path) -> None:
    import pandas as pd

    with Store(tmp_path / "s.duckdb") as store:
        ranges = pd.DataFrame({"series_id": [1, 1, 1, 2], "start_ts": [0, 100, 300, 0], "end_ts": [100, 200, 400, 50]})
        store.write(pd.DataFrame({"series_id": [], "ts": [], "value": []}), ranges)
        store.compact()
        assert store.fetched(pd.Series([1, 2]).to_numpy()) == {1: [(0, 200), (300, 400)], 2: [(0, 50)]}
