"""The store: a DuckDB catalog (series keys, the log of periods fetched, inventory snapshots) and the raw
CloudWatch datapoints as Hive-partitioned Parquet parts beside it (:mod:`advisor.store.parts`; docs/store.md).

Raw CloudWatch values are kept (one row per series and timestamp, epoch seconds) rather than the canonical
metrics, because normalising needs the catalog (vCPUs, GPUs) and combines series (per-GPU averages, GPU memory
used/total); doing it at read time keeps the cache valid when either changes.

Durability: every catalog write is its own transaction and every part appears whole (written aside, fsynced,
renamed), and a range is logged as fetched only after its page's parts are durable. So an interrupted run
(Ctrl-C, SIGTERM, even SIGKILL: DuckDB replays its write-ahead log on open) leaves a readable store where every
logged range has its points; points stored but not logged are deleted before their range is fetched again.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from advisor.errors import AdvisorError, ConfigError
from advisor.fsutil import refuse_links
from advisor.store import parts
from advisor.store.parts import LocalParts, Parts, PartsError

SCHEMA_VERSION = 2  # 2: points in Parquet parts (version 1 kept them in a ``points`` table; migrated on open)

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
CREATE TABLE fetched (series_id INTEGER NOT NULL, start_ts BIGINT NOT NULL, end_ts BIGINT NOT NULL);
CREATE TABLE inventory (
    account VARCHAR NOT NULL, region VARCHAR NOT NULL, collected_at TIMESTAMPTZ NOT NULL, resources VARCHAR NOT NULL,
    PRIMARY KEY (account, region)
);
CREATE TABLE merges (merged VARCHAR NOT NULL, absorbed VARCHAR NOT NULL);
"""
# merges: parts absorbed by a merged part already written, deleted once the intent is logged (see Store._merge)

SERIES_KEY = ("account", "region", "resource_id", "namespace", "metric_name", "dimensions", "stat", "period")


class StoreError(AdvisorError):
    """The store cannot be opened or was written by an incompatible version (exit code 2)."""

    exit_code = 2


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def local_parts(path: Path) -> LocalParts:
    """Where the parts of the local store ``DIR/NAME.duckdb`` go: ``DIR/NAME.points`` (one directory per catalog,
    so two stores in one directory never mix their series ids)."""
    path = Path(path)
    return LocalParts(path.with_name(f"{path.stem}.points"))


class Store:
    """One open store. Methods are safe to call from several threads (one lock, one connection).

    ``parts``: where the datapoints go; by default beside the catalog file (:func:`local_parts`)."""

    def __init__(self, path: Path | str, parts: Parts | None = None) -> None:
        self.path = Path(path)
        self.parts = parts or local_parts(self.path)
        self._place: dict[int, tuple[str, str]] = {}
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
        try:
            self.parts.check()
            self._check_schema()
            self._finish_merges()
        except PartsError as exc:
            self._con.close()
            raise StoreError(str(exc)) from None
        except BaseException:
            self._con.close()
            raise

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
            if self.parts.every_part():
                raise StoreError(f"store {self.path} is new but {self.parts.location} already holds datapoints, "
                                 "whose series this catalog does not know; remove them, or pass --store to another "
                                 "file")
            with self._transaction():
                self._run(_SCHEMA)
                self._run("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            return
        if "meta" not in tables:
            raise StoreError(f"{self.path} is a DuckDB file but not an advisor store; pass --store to another file")
        rows = self._con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        version = int(rows[0][0]) if rows else 0
        if version == 1:
            self._migrate_v1()
            return
        if version != SCHEMA_VERSION:
            newer = "a newer" if version > SCHEMA_VERSION else "an older"
            raise StoreError(f"store {self.path} has schema version {version}, written by {newer} advisor (this one "
                             f"reads version {SCHEMA_VERSION}); upgrade advisor or pass --store to a new file")

    def _migrate_v1(self) -> None:
        """A version 1 store's ``points`` table becomes parts, one partition (account, region, date) at a time.
        Parts left by an interrupted migration are deleted first: the table stays the truth until the commit."""
        for name in self.parts.every_part():
            self.parts.remove(name)
        partitions = self._con.execute(
            "SELECT DISTINCT s.account, s.region, p.ts // 86400 AS day FROM points p JOIN series s USING (series_id) "
            "ORDER BY 1, 2, 3").fetchall()
        for account, region, day in partitions:
            table = self._con.sql(
                "SELECT p.series_id::INTEGER AS series_id, p.ts, p.value FROM points p JOIN series s USING "
                "(series_id) WHERE s.account = ? AND s.region = ? AND p.ts >= ? AND p.ts < ?",
                params=[account, region, day * 86_400, (day + 1) * 86_400]).to_arrow_table()
            self.parts.write(str(account), str(region), table)
        with self._transaction():
            self._run("DROP TABLE points")
            self._run("CREATE TABLE merges (merged VARCHAR NOT NULL, absorbed VARCHAR NOT NULL)")
            self._run("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])

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

    def _places(self, series_ids: np.ndarray) -> dict[int, tuple[str, str]]:
        """``series_id -> (account, region)``: the partition a series' points go to (cached: keys never change)."""
        wanted = [int(i) for i in np.unique(series_ids) if int(i) not in self._place]
        if wanted:
            with self._lock:
                rows = self._con.execute("SELECT series_id, account, region FROM series WHERE series_id IN "
                                         "(SELECT unnest(?::INTEGER[]))", [wanted]).fetchall()
            self._place.update({int(i): (str(a), str(r)) for i, a, r in rows})
        return {int(i): self._place[int(i)] for i in np.unique(series_ids)}

    def forget(self, ranges: pd.DataFrame) -> None:
        """Delete stored points inside ranges about to be fetched again (``series_id, start_ts, end_ts``).

        Such points were stored but never logged as fetched (the newest, still-incomplete periods, or a run
        interrupted between pages), so the refetch replaces them instead of duplicating them. Each part holding
        some is replaced, atomically, by the part without them.
        """
        if ranges.empty:
            return
        ranges = ranges.loc[:, ["series_id", "start_ts", "end_ts"]].astype(np.int64)
        places = self._places(ranges["series_id"].to_numpy())
        by_target: dict[tuple[str, str], list[int]] = {}
        for series_id, place in places.items():
            by_target.setdefault(place, []).append(series_id)
        for (account, region), ids in by_target.items():
            mine = ranges[ranges["series_id"].isin(ids)]
            dates = parts.days(int(mine["start_ts"].min()), int(mine["end_ts"].max()))
            for name in self.parts.parts_of(account, region, dates):
                table = self.parts.read(name)
                drop = _inside(table, mine)
                if drop.any():
                    kept = table.filter(pa.array(~drop))
                    if kept.num_rows:
                        self.parts.put(name, parts.encode(kept))
                    else:
                        self.parts.remove(name)

    def write(self, points: pd.DataFrame, fetched: pd.DataFrame | None = None) -> None:
        """Store one page of points (``series_id, ts, value``) as durable parts, then log the ranges it completes
        (so a logged range always has its points)."""
        if not points.empty:
            ids = points["series_id"].to_numpy(dtype=np.int64)
            places = self._places(ids)
            targets = sorted(set(places.values()))
            for place in targets:
                rows = points if len(targets) == 1 else \
                    points[points["series_id"].isin([i for i, p in places.items() if p == place])]
                self.parts.write(*place, pa.table({"series_id": rows["series_id"].to_numpy(dtype=np.int32),
                                                  "ts": rows["ts"].to_numpy(dtype=np.int64),
                                                  "value": rows["value"].to_numpy(dtype=np.float64)},
                                                 schema=parts.SCHEMA))
        if fetched is not None and not fetched.empty:
            with self._lock, self._transaction():
                self._con.register("_fetched", fetched.loc[:, ["series_id", "start_ts", "end_ts"]])
                try:
                    self._run("INSERT INTO fetched SELECT series_id, start_ts, end_ts FROM _fetched")
                finally:
                    self._con.unregister("_fetched")

    def compact(self) -> None:
        """Merge each series' adjacent or overlapping fetched ranges into one row, and each partition's parts into
        one part."""
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
        by_partition: dict[str, list[str]] = {}
        for name in self.parts.every_part():
            by_partition.setdefault(name.rpartition("/")[0], []).append(name)
        for directory, names in sorted(by_partition.items()):
            if len(names) > 1:
                self._merge(directory, names)

    def _merge(self, directory: str, names: list[str]) -> None:
        """One part for ``names``: the merged part is written, the intent logged, then the small parts deleted.
        Should a run stop half-way, the next open finishes the deletions (:meth:`_finish_merges`)."""
        merged = f"{directory}/part-{uuid.uuid4().hex}.parquet"
        table = pa.concat_tables([self.parts.read(name) for name in names])
        self.parts.put(merged, parts.encode(table))
        del table
        with self._lock, self._transaction():
            self._con.executemany("INSERT INTO merges VALUES (?, ?)", [[merged, name] for name in names])
        self._finish_merges()

    def _finish_merges(self) -> None:
        with self._lock:
            rows = self._con.execute("SELECT merged, absorbed FROM merges ORDER BY 1, 2").fetchall()
        for merged, absorbed in rows:
            if self.parts.exists(merged):
                self.parts.remove(absorbed)
        if rows:
            with self._lock, self._transaction():
                self._run("DELETE FROM merges")

    # -- reading back ------------------------------------------------------------------------------------

    def series_of(self, targets: Iterable[tuple[str, str]], period: int) -> pd.DataFrame:
        """The targets' series at ``period`` (``series_id`` and ``SERIES_KEY`` columns)."""
        pairs = pd.DataFrame(list(targets), columns=["account", "region"])
        with self._lock:
            self._con.register("_targets", pairs)
            try:
                return self._con.execute(
                    "SELECT s.* FROM series s JOIN _targets t USING (account, region) WHERE s.period = ? "
                    "ORDER BY s.series_id", [period]).df()
            finally:
                self._con.unregister("_targets")

    def read_points(self, series: pd.DataFrame, start: int, end: int, batch_rows: int = 1 << 17) -> pd.DataFrame:
        """The points (``series_id, ts, value``) of ``series`` (rows of :meth:`series_of`) with timestamps in
        ``[start, end)``: see :func:`read_points`."""
        with self._lock:
            return read_points(self._con, self.parts, series, start, end, batch_rows)

    def counts(self) -> dict[str, int]:
        """Row counts per table, and the points in the parts (for summaries and tests)."""
        with self._lock:
            counts = {table: int(self._con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
                      for table in ("series", "fetched", "inventory")}
        names = self.parts.every_part()
        return counts | {"points": sum(self.parts.rows(name) for name in names), "parts": len(names)}


def _inside(table: pa.Table, ranges: pd.DataFrame) -> np.ndarray:
    """Which rows of a part fall inside one of ``ranges`` of their series."""
    rows = pd.DataFrame({"series_id": table.column("series_id").to_numpy().astype(np.int64),
                         "ts": table.column("ts").to_numpy()})
    rows["row"] = np.arange(len(rows))
    joined = rows.merge(ranges, on="series_id", how="inner")
    hit = joined.loc[(joined["ts"] >= joined["start_ts"]) & (joined["ts"] < joined["end_ts"]), "row"]
    drop = np.zeros(len(rows), dtype=bool)
    drop[hit.to_numpy()] = True
    return drop


def read_points(con: duckdb.DuckDBPyConnection, where: Parts, series: pd.DataFrame, start: int, end: int,
                batch_rows: int = 1 << 17) -> pd.DataFrame:
    """The points (``series_id, ts, value``) of ``series`` (with their account and region) with timestamps in
    ``[start, end)``, read by ``con`` from the parts at ``where``: only the partitions of their accounts, regions
    and dates are opened, and the rows come back in record batches of ``batch_rows``."""
    names = [name for (account, region), _ in series.groupby(["account", "region"], sort=True)
             for name in where.parts_of(str(account), str(region), parts.days(start, end))]
    ids = series["series_id"].to_numpy(dtype=np.int64)
    if not names or not len(ids):
        return pd.DataFrame({"series_id": np.empty(0, np.int64), "ts": np.empty(0, np.int64),
                             "value": np.empty(0, np.float64)})
    scan, argument = where.source(names)
    chunks: list[pa.RecordBatch] = []
    con.register("_ids", pa.table({"series_id": ids.astype(np.int32)}))
    relation = argument if scan == "_parts" else None
    if relation is not None:
        con.register("_parts", relation)
    try:
        query = (f"SELECT p.series_id, p.ts, p.value FROM {scan} p "
                 "WHERE p.series_id BETWEEN ? AND ? AND p.ts >= ? AND p.ts < ? "
                 "AND p.series_id IN (SELECT series_id FROM _ids)")
        parameters = [*([] if relation is not None else [argument]), int(ids.min()), int(ids.max()), start, end]
        reader = con.sql(query, params=parameters).to_arrow_reader(batch_rows)
        chunks.extend(reader)
    finally:
        con.unregister("_ids")
        if relation is not None:
            con.unregister("_parts")
    table = pa.Table.from_batches(chunks, schema=parts.SCHEMA) if chunks else parts.SCHEMA.empty_table()
    return pd.DataFrame({"series_id": table.column("series_id").to_numpy().astype(np.int64),
                         "ts": table.column("ts").to_numpy(), "value": table.column("value").to_numpy()})
