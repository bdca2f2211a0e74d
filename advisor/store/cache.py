"""The local DuckDB store: inventory snapshots, raw CloudWatch series and a log of the periods already fetched.

Raw CloudWatch values are kept (one row per series and timestamp, epoch seconds) rather than the canonical
metrics, because normalising needs the catalog (vCPUs, GPUs) and combines series (per-GPU averages, GPU memory
used/total); doing it at read time keeps the cache valid when either changes.

Durability: every write is its own transaction, so an interrupted run (Ctrl-C, SIGTERM, even SIGKILL: DuckDB
replays its write-ahead log on open) leaves a readable store with every batch committed before the
interruption. A range counts as fetched only once its points are committed, in the same transaction.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from advisor.errors import AdvisorError, ConfigError
from advisor.fsutil import refuse_links

SCHEMA_VERSION = 1

_SCHEMA = """
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
"""

SERIES_KEY = ("account", "region", "resource_id", "namespace", "metric_name", "dimensions", "stat", "period")


class StoreError(AdvisorError):
    """The store cannot be opened or was written by an incompatible version (exit code 2)."""

    exit_code = 2


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class Store:
    """One open store file. Methods are safe to call from several threads (one lock, one connection)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"store {self.path}: cannot create its directory ({exc.strerror})") from exc
        try:
            refuse_links(self.path, "store")
        except ConfigError as exc:
            raise StoreError(str(exc)) from None
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreError(f"store {self.path} is in use by another advisor process; wait for it or pass "
                                 "--store to another file") from exc
            raise StoreError(f"store {self.path} cannot be opened: {_first_line(exc)}") from exc
        except duckdb.Error as exc:
            raise StoreError(f"store {self.path} cannot be opened: {_first_line(exc)}") from exc
        self._lock = threading.Lock()
        self._check_schema()

    # -- lifecycle ---------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_schema(self) -> None:
        tables = {row[0] for row in self._con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not tables:
            with self._transaction():
                self._run(_SCHEMA)
                self._run("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            return
        if "meta" not in tables:
            raise StoreError(f"{self.path} is a DuckDB file but not an advisor store; pass --store to another file")
        rows = self._con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        version = int(rows[0][0]) if rows else 0
        if version != SCHEMA_VERSION:
            newer = "a newer" if version > SCHEMA_VERSION else "an older"
            raise StoreError(f"store {self.path} has schema version {version}, written by {newer} advisor (this one "
                             f"reads version {SCHEMA_VERSION}); upgrade advisor or pass --store to a new file")

    def _run(self, sql: str, parameters: list[Any] | None = None) -> None:
        """Execute a statement and drain its result (DuckDB refuses new work while a result is pending)."""
        self._con.execute(sql, parameters).fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._run("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self._run("ROLLBACK")
            raise
        self._run("COMMIT")

    # -- inventory ---------------------------------------------------------------------------------------

    def save_inventory(self, account: str, region: str, records: list[dict[str, Any]]) -> None:
        """Replace the snapshot of one account and region."""
        text = json.dumps(records, default=str)
        with self._lock, self._transaction():
            self._run("INSERT OR REPLACE INTO inventory VALUES (?, ?, ?, ?)",
                              [account, region, datetime.now(UTC), text])

    def load_inventory(self, targets: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        with self._lock:
            for account, region in targets:
                rows = self._con.execute("SELECT resources FROM inventory WHERE account = ? AND region = ?",
                                         [account, region]).fetchall()
                if rows:
                    records.extend(json.loads(rows[0][0]))
        return records

    # -- series and the fetch log ------------------------------------------------------------------------

    def series_ids(self, keys: pd.DataFrame) -> np.ndarray:
        """The ids of the series in ``keys`` (columns ``SERIES_KEY``), creating the missing ones; same order."""
        if keys.empty:
            return np.empty(0, dtype=np.int64)
        frame = keys.loc[:, list(SERIES_KEY)].reset_index(drop=True)
        frame["row"] = np.arange(len(frame))
        columns = ", ".join(SERIES_KEY)
        on = " AND ".join(f"s.{c} = k.{c}" for c in SERIES_KEY)
        with self._lock, self._transaction():
            self._con.register("_keys", frame)
            try:
                self._run(f"INSERT INTO series ({columns}) SELECT {columns} FROM _keys "
                                  "ON CONFLICT DO NOTHING")
                ids = self._con.execute(f"SELECT k.row, s.series_id FROM _keys k JOIN series s ON {on} "
                                        "ORDER BY k.row").fetchnumpy()
            finally:
                self._con.unregister("_keys")
        return np.asarray(ids["series_id"], dtype=np.int64)

    def fetched(self, series_ids: np.ndarray) -> dict[int, list[tuple[int, int]]]:
        """The ranges ``[start, end)`` (epoch seconds) already fetched, per series id, sorted."""
        if len(series_ids) == 0:
            return {}
        ids = pd.DataFrame({"series_id": np.asarray(series_ids, dtype=np.int64)})
        with self._lock:
            self._con.register("_ids", ids)
            try:
                rows = self._con.execute("SELECT f.series_id, f.start_ts, f.end_ts FROM fetched f "
                                         "JOIN _ids USING (series_id) ORDER BY 1, 2").fetchall()
            finally:
                self._con.unregister("_ids")
        out: dict[int, list[tuple[int, int]]] = {}
        for series_id, start, end in rows:
            out.setdefault(int(series_id), []).append((int(start), int(end)))
        return out

    def forget(self, ranges: pd.DataFrame) -> None:
        """Delete stored points inside ranges about to be fetched again (``series_id, start_ts, end_ts``).

        Such points were stored but never logged as fetched (the newest, still-incomplete periods, or a run
        interrupted between pages), so the refetch replaces them instead of duplicating them.
        """
        if ranges.empty:
            return
        with self._lock, self._transaction():
            self._con.register("_ranges", ranges.loc[:, ["series_id", "start_ts", "end_ts"]])
            try:
                self._run("DELETE FROM points p USING _ranges r WHERE p.series_id = r.series_id "
                                  "AND p.ts >= r.start_ts AND p.ts < r.end_ts")
            finally:
                self._con.unregister("_ranges")

    def write(self, points: pd.DataFrame, fetched: pd.DataFrame | None = None) -> None:
        """Commit one page of points (``series_id, ts, value``) and, optionally, the ranges it completes."""
        with self._lock, self._transaction():
            if not points.empty:
                self._con.register("_points", points.loc[:, ["series_id", "ts", "value"]])
                try:
                    self._run("INSERT INTO points SELECT series_id, ts, value FROM _points")
                finally:
                    self._con.unregister("_points")
            if fetched is not None and not fetched.empty:
                self._con.register("_fetched", fetched.loc[:, ["series_id", "start_ts", "end_ts"]])
                try:
                    self._run("INSERT INTO fetched SELECT series_id, start_ts, end_ts FROM _fetched")
                finally:
                    self._con.unregister("_fetched")

    def compact(self) -> None:
        """Merge each series' adjacent or overlapping fetched ranges into one row."""
        with self._lock, self._transaction():
            self._run("""
                CREATE TEMP TABLE _merged AS
                WITH ordered AS (
                    SELECT series_id, start_ts, end_ts,
                           max(end_ts) OVER (PARTITION BY series_id ORDER BY start_ts, end_ts
                                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
                    FROM fetched),
                islands AS (
                    SELECT *, sum(CASE WHEN reach IS NULL OR start_ts > reach THEN 1 ELSE 0 END)
                              OVER (PARTITION BY series_id ORDER BY start_ts, end_ts) AS island
                    FROM ordered)
                SELECT series_id, min(start_ts) AS start_ts, max(end_ts) AS end_ts
                FROM islands GROUP BY series_id, island""")
            self._run("DELETE FROM fetched")
            self._run("INSERT INTO fetched SELECT * FROM _merged")
            self._run("DROP TABLE _merged")

    # -- reading back ------------------------------------------------------------------------------------

    def load_points(self, targets: Iterable[tuple[str, str]], period: int, start: int,
                    end: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(series, points)`` of the targets' series at ``period`` with timestamps in ``[start, end)``."""
        pairs = pd.DataFrame(list(targets), columns=["account", "region"])
        with self._lock:
            self._con.register("_targets", pairs)
            try:
                series = self._con.execute(
                    "SELECT s.* FROM series s JOIN _targets t USING (account, region) WHERE s.period = ?",
                    [period]).df()
                self._con.register("_series", series[["series_id"]])
                points = self._con.execute(
                    "SELECT p.series_id, p.ts, p.value FROM points p JOIN _series USING (series_id) "
                    "WHERE p.ts >= ? AND p.ts < ?", [start, end]).df()
            finally:
                self._con.unregister("_targets")
                self._con.unregister("_series")
        return series, points

    def counts(self) -> dict[str, int]:
        """Row counts per table (for summaries and tests)."""
        with self._lock:
            return {table: int(self._con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
                    for table in ("series", "points", "fetched", "inventory")}
