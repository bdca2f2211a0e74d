"""The store's Parquet parts: layout, the documented DuckDB query, migration of a version 1 store, merges."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from advisor.store import parts
from advisor.store.cache import SERIES_KEY, Store

ACCOUNT, REGION = "123456789012", "us-east-1"
DAY = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
PART = re.compile(r"account=\d{12}/region=[a-z0-9-]+/date=\d{4}-\d{2}-\d{2}/part-[0-9a-f]{32}\.parquet")


def _keys(resources: list[str], account: str = ACCOUNT) -> pd.DataFrame:
    return pd.DataFrame({"account": account, "region": REGION, "resource_id": resources, "namespace": "AWS/EC2",
                         "metric_name": "CPUUtilization", "dimensions": [f'[["InstanceId", "{r}"]]' for r in resources],
                         "stat": "Average", "period": 300})


def _points(ids: np.ndarray, start: int, hours: int) -> pd.DataFrame:
    stamps = np.arange(start, start + hours * 3600, 300)
    return pd.DataFrame({"series_id": np.repeat(ids, len(stamps)), "ts": np.tile(stamps, len(ids)),
                         "value": np.arange(len(ids) * len(stamps), dtype=float) / 7})


def _stored(store: Store, start: int, end: int) -> pd.DataFrame:
    series = store.series_of([(ACCOUNT, REGION)], 300)
    return store.read_points(series, start, end).sort_values(["series_id", "ts"], ignore_index=True)


def test_pages_become_partitioned_parts_and_merge_into_one_per_partition(tmp_path: Path) -> None:
    with Store(tmp_path / "cache.duckdb") as store:
        ids = store.series_ids(_keys(["i-1", "i-2"]))
        first, second = _points(ids, DAY + 20 * 3600, 6), _points(ids, DAY + 26 * 3600, 2)  # crosses midnight
        store.write(first)
        store.write(second)
        before = store.counts()
        store.compact()
        after = store.counts()
        got = _stored(store, DAY, DAY + 3 * 86_400)
    names = [str(p.relative_to(tmp_path / "cache.points")) for p in (tmp_path / "cache.points").rglob("*.parquet")]
    assert all(PART.fullmatch(name) for name in names) and len(names) == after["parts"] == 2  # two dates
    assert before["parts"] == 3 and before["points"] == after["points"] == len(first) + len(second)
    expected = pd.concat([first, second]).sort_values(["series_id", "ts"], ignore_index=True)
    pd.testing.assert_frame_equal(got, expected)
    assert not list(tmp_path.rglob("*.tmp"))


def test_the_documented_duckdb_query_reads_the_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (Path(__file__).parents[2] / "docs" / "store.md").read_text()
    query = re.search(r"```sql\n(SELECT.*?)```", text, re.S)
    assert query is not None
    with Store(tmp_path / "cache.duckdb") as store:
        ids = store.series_ids(_keys(["i-1", "i-2"]))
        points = _points(ids, DAY, 30)
        store.write(points)
        store.compact()
    monkeypatch.chdir(tmp_path)
    with duckdb.connect() as con:
        con.execute("ATTACH 'cache.duckdb' AS cache (READ_ONLY)")
        rows = con.execute(query.group(1)).fetchall()
    dates = pd.to_datetime(points["ts"], unit="s").dt.date
    expected = points.assign(date=dates, resource_id=np.where(points["series_id"] == ids[0], "i-1", "i-2"))
    summary = expected.groupby(["resource_id", "date"])["value"].agg(["count", "max"]).reset_index()
    assert rows == [(r.resource_id, "CPUUtilization", "Average", r.date, r.count, r.max)
                    for r in summary.itertuples()]


V1_SCHEMA = """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE SEQUENCE series_ids;
CREATE TABLE series (
    series_id INTEGER PRIMARY KEY DEFAULT nextval('series_ids'),
    account VARCHAR NOT NULL, region VARCHAR NOT NULL, resource_id VARCHAR NOT NULL,
    namespace VARCHAR NOT NULL, metric_name VARCHAR NOT NULL, dimensions VARCHAR NOT NULL,
    stat VARCHAR NOT NULL, period INTEGER NOT NULL,
    UNIQUE (account, region, namespace, metric_name, dimensions, stat, period)
);
CREATE TABLE points (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE NOT NULL);
CREATE TABLE fetched (series_id INTEGER NOT NULL, start_ts BIGINT NOT NULL, end_ts BIGINT NOT NULL);
CREATE TABLE inventory (
    account VARCHAR NOT NULL, region VARCHAR NOT NULL, collected_at TIMESTAMPTZ NOT NULL, resources VARCHAR NOT NULL,
    PRIMARY KEY (account, region)
);
INSERT INTO meta VALUES ('schema_version', '1');
"""


def test_a_version_1_store_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "cache.duckdb"
    keys = pd.concat([_keys(["i-1", "i-2"]), _keys(["i-3"], account="210987654321")], ignore_index=True)
    points = _points(np.array([1, 2, 3]), DAY - 3600, 28)  # three dates
    with duckdb.connect(str(path)) as con:
        con.execute(V1_SCHEMA)
        con.register("_keys", keys)
        con.execute(f"INSERT INTO series ({', '.join(SERIES_KEY)}) SELECT {', '.join(SERIES_KEY)} FROM _keys")
        con.register("_points", points)
        con.execute("INSERT INTO points SELECT * FROM _points")
        con.execute("INSERT INTO fetched VALUES (1, ?, ?)", [DAY - 3600, DAY + 27 * 3600])
    with Store(path) as store:
        counts = store.counts()
        fetched = store.fetched(np.array([1]))
        mine = _stored(store, DAY - 86_400, DAY + 2 * 86_400)
        other = store.read_points(store.series_of([("210987654321", REGION)], 300), DAY - 86_400, DAY + 2 * 86_400)
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    assert "points" not in tables and version == [("2",)]
    assert counts["points"] == len(points) and counts["parts"] == 2 * 3  # two accounts x three dates
    assert fetched == {1: [(DAY - 3600, DAY + 27 * 3600)]}
    expected = points.sort_values(["series_id", "ts"], ignore_index=True)
    pd.testing.assert_frame_equal(pd.concat([mine, other.sort_values(["series_id", "ts"])], ignore_index=True),
                                  expected)


def test_a_merge_interrupted_before_its_deletions_is_finished_on_the_next_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cache.duckdb"
    with Store(path) as store:
        ids = store.series_ids(_keys(["i-1"]))
        store.write(_points(ids, DAY, 1))
        store.write(_points(ids, DAY + 3600, 1))
        with monkeypatch.context() as patch:
            patch.setattr(Store, "_finish_merges", lambda self: None)  # killed right after the intent's commit
            store.compact()
        assert store.counts()["parts"] == 3  # the merged part and the two it absorbed: read twice if left
    with Store(path) as store:
        counts = store.counts()
        got = _stored(store, DAY, DAY + 86_400)
    assert counts["parts"] == 1 and counts["points"] == 24 and not got.duplicated(["series_id", "ts"]).any()


def test_partition_names_are_plain(tmp_path: Path) -> None:
    with pytest.raises(parts.PartsError, match="cannot name a partition directory"):
        parts.partition("../x", REGION, datetime(2026, 12, 1).date())
