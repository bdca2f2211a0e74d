"""Run history: every audit is recorded, so runs can be listed and diffed (what is new, resolved, persisting).

Each run is recorded with its scope (source without its time window, accounts, regions, tag filters), and runs are
compared only with runs of the same scope: auditing the demo and then one's own fleet never reports the demo's
findings as resolved. A finding is *done* only when its resource is seen again with the recommended change made; a
resource absent from the newer run is *gone* (deleted, terminated or no longer visible), never done.

An embedded DuckDB file (``history.duckdb`` in the store directory). Each run is written in one transaction, so an
interrupted run leaves the history as it was. The schema carries a version: an older file is migrated, a newer one
(written by a later advisor) is refused with a clear message rather than misread.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from advisor.errors import AdvisorError
from advisor.fsutil import refuse_links
from advisor.model import AuditResult

SCHEMA_VERSION = 2
HISTORY_FILE = "history.duckdb"
# Migrations from version N to N+1, applied in order; version 0 is an empty file.
MIGRATIONS: dict[int, list[str]] = {
    0: [
        """CREATE TABLE runs (
            run_id VARCHAR PRIMARY KEY, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, source VARCHAR,
            settings VARCHAR, resources_seen INTEGER, recommendations INTEGER, monthly_savings DOUBLE,
            price_list_date VARCHAR)""",
        """CREATE TABLE run_resources (
            run_id VARCHAR, resource_id VARCHAR, kind VARCHAR, account VARCHAR, region VARCHAR, name VARCHAR,
            config VARCHAR, state VARCHAR)""",
        """CREATE TABLE run_findings (
            run_id VARCHAR, resource_id VARCHAR, rule VARCHAR, action VARCHAR, current VARCHAR, target VARCHAR,
            monthly_cost_now DOUBLE, monthly_savings DOUBLE, confidence VARCHAR, name VARCHAR, region VARCHAR)""",
    ],
    1: ["ALTER TABLE runs ADD COLUMN scope VARCHAR"],  # runs recorded before have no scope: compared with none
}
STOPPED_STATES = {"stopped", "stopping", "terminated", "shutting-down", "deleted", "Stopped", "Deleted"}


class HistoryError(AdvisorError):
    """The history cannot be used (unreadable, foreign, newer); an audit warns and goes on without it."""

    exit_code = 2


def run_scope(result: AuditResult) -> str:
    """What a run audited, as a canonical JSON text: the source (an AWS run's time window left out), the accounts
    and regions of its inventory, and its tag filters."""
    inventory = result.inventory

    def values(column: str) -> list[str]:
        return sorted({str(v) for v in inventory[column].dropna()}) if column in inventory else []

    filters = (result.settings or {}).get("filters") or {}
    return json.dumps({"source": re.sub(r"^aws \(.*\)$", "aws", result.source_label),
                       "accounts": values("account"), "regions": values("region"),
                       "include_tags": filters.get("include_tags") or {},
                       "exclude_tags": filters.get("exclude_tags") or {}}, sort_keys=True)


def describe_scope(scope: str | None) -> str:
    """A scope in a few words, for messages."""
    if not scope:
        return "unknown scope (recorded by an older advisor)"
    data = json.loads(scope)
    parts = [data["source"]]
    for key in ("accounts", "regions"):
        if data[key]:
            parts.append(f"{key} {','.join(data[key])}")
    if data["include_tags"] or data["exclude_tags"]:
        parts.append("tag filters")
    return ", ".join(parts)
def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def recorded_run(store_dir: Path, result: AuditResult, started_at: datetime, savings: float,
                 warn: Callable[[str], None]) -> Iterator[dict[str, Any] | None]:
    """Record a run that becomes part of the history only if the block ends without error (its outputs written).

    Yields the changes since the previous run, or None when the history cannot be used: then ``warn`` says why
    and the block runs anyway (the history is an accessory; the report matters).
    """
    try:
        history = History(store_dir)
    except (AdvisorError, OSError) as exc:
        warn(f"{exc}; this run is not recorded in the history")
        yield None
        return
    with history:
        try:
            history.db.execute("BEGIN TRANSACTION")
            run_id = history._insert(result, started_at, savings)
            changes = history.since_previous(run_id)
        except (duckdb.Error, AdvisorError) as exc:
            history.rollback()
            warn(f"{history.path}: {_first_line(exc)}; this run is not recorded in the history")
            yield None
            return
        try:
            yield changes
        except BaseException:
            history.rollback()
            raise
        try:
            history.db.execute("COMMIT")
        except duckdb.Error as exc:
            warn(f"{history.path}: {_first_line(exc)}; this run is not recorded in the history")


@dataclass
class RunDiff:
    """What changed between two runs (older ``base``, newer ``head``)."""

    base: str
    head: str
    new: pd.DataFrame  # findings in head, not in base
    resolved: pd.DataFrame  # findings in base, not in head; `done`: seen again with the change made; `gone`: absent
    persisting: pd.DataFrame  # in both, with `open_since` and `open_days`

    @property
    def realised_savings(self) -> float:
        done = self.resolved[self.resolved["done"]] if len(self.resolved) else self.resolved
        return round(float(done["monthly_savings"].clip(lower=0).sum()), 2) if len(done) else 0.0

    def to_dict(self) -> dict[str, Any]:
        def rows(frame: pd.DataFrame) -> list[dict]:
            return json.loads(frame.to_json(orient="records", date_format="iso")) if len(frame) else []

        return {"base": self.base, "head": self.head, "new": rows(self.new), "resolved": rows(self.resolved),
                "persisting": rows(self.persisting), "realised_savings": self.realised_savings,
                "gone": int(self.resolved["gone"].sum()) if len(self.resolved) else 0}


class History:
    def __init__(self, store_dir: Path, read_only: bool = False) -> None:
        """``read_only`` (``history``, ``diff``) creates nothing: a missing file reads as a history with no runs."""
        self.path = Path(store_dir) / HISTORY_FILE
        refuse_links(self.path, "history")
        try:
            if read_only and not self.path.exists():
                self.db = duckdb.connect(":memory:")
            elif read_only:
                self.db = duckdb.connect(str(self.path), read_only=True)
                self._check_version()
                return
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = duckdb.connect(str(self.path))
        except (OSError, duckdb.Error) as exc:
            raise HistoryError(f"{self.path}: cannot open the history store ({_first_line(exc)})") from exc
        try:
            self._migrate()
            tables = {row[0] for row in self.db.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        except duckdb.Error as exc:
            self.db.close()
            raise HistoryError(f"{self.path}: not a readable advisor history ({_first_line(exc)})") from exc
        if not {"runs", "run_resources", "run_findings"} <= tables:
            self.db.close()
            raise HistoryError(f"{self.path}: a DuckDB file but not an advisor history (no runs table)")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _version(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        value = row[0] if row else 0
        try:
            version = int(value)
        except ValueError:
            raise HistoryError(f"{self.path}: unreadable history schema version {value!r}") from None
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{self.path} was written by a newer advisor (history schema v{version}, this "
                               f"version reads up to v{SCHEMA_VERSION}); upgrade advisor or use another --store")
        return version

    def _check_version(self) -> None:
        """Reading only: an older schema cannot be migrated here, so say how to upgrade it."""
        if self._version() < SCHEMA_VERSION:
            raise HistoryError(f"{self.path} uses an older history schema; run `advisor audit` once to upgrade it")

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        version = self._version()
        while version < SCHEMA_VERSION:
            self.db.execute("BEGIN TRANSACTION")
            for statement in MIGRATIONS[version]:
                self.db.execute(statement)
            version += 1
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version)])
            self.db.execute("COMMIT")

    def record(self, result: AuditResult, started_at: datetime, savings: float) -> str:
        """Store one run (one transaction); returns its id."""
        self.db.execute("BEGIN TRANSACTION")
        try:
            run_id = self._insert(result, started_at, savings)
        except BaseException:
            self.rollback()
            raise
        self.db.execute("COMMIT")
        return run_id

    def _insert(self, result: AuditResult, started_at: datetime, savings: float) -> str:
        """Insert one run inside the caller's transaction; returns its id."""
        finished = datetime.now(UTC)
        run_id = f"{finished:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"
        inventory = result.inventory
        config = inventory["instance_type"].astype(object).where(inventory["instance_type"].notna(),
                                                                 inventory["volume_type"])
        resources = pd.DataFrame({
            "run_id": run_id, "resource_id": inventory["resource_id"].astype(str), "kind": inventory["kind"],
            "account": inventory["account"], "region": inventory["region"], "name": inventory["name"],
            "config": config.astype(object).where(config.notna(), None), "state": inventory["state"].astype(str),
        })
        findings = pd.DataFrame(
            [(run_id, rec.resource_id, rec.rule, rec.action, rec.current, rec.target, rec.monthly_cost_now,
              rec.monthly_savings, rec.confidence, rec.name, rec.region) for rec in result.recommendations],
            columns=["run_id", "resource_id", "rule", "action", "current", "target", "monthly_cost_now",
                     "monthly_savings", "confidence", "name", "region"])
        try:
            self.db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                run_id, started_at, finished, result.source_label, json.dumps(result.settings, sort_keys=True),
                len(resources), len(findings), float(savings), result.price_list_date, run_scope(result)])
            self.db.register("resources_frame", resources)
            self.db.execute("INSERT INTO run_resources SELECT * FROM resources_frame")
            self.db.register("findings_frame", findings)
            self.db.execute("INSERT INTO run_findings SELECT * FROM findings_frame")
        except BaseException:
            self.rollback()  # before unregistering: an aborted transaction refuses even that
            raise
        finally:
            self.db.unregister("resources_frame")
            self.db.unregister("findings_frame")
        return run_id

    def rollback(self) -> None:
        with suppress(duckdb.Error):  # nothing to roll back: the transaction never started or already failed
            self.db.execute("ROLLBACK")

    def runs(self) -> pd.DataFrame:
        return self.db.execute("SELECT run_id, started_at, finished_at, source, resources_seen, recommendations, "
                               "monthly_savings, price_list_date, scope FROM runs ORDER BY started_at, run_id").df()

    def since_previous(self, run_id: str) -> dict[str, Any]:
        """What changed since the previous run of the same scope (``previous`` None when there is none)."""
        try:
            return {"run_id": run_id, **self.diff(None, run_id).to_dict()}
        except HistoryError:
            return {"run_id": run_id, "previous": None}

    def resolve(self, run: str | None) -> str:
        """A run id from an id or unique prefix, or ``latest`` (also None)."""
        ids = self.runs()["run_id"].tolist()
        if not ids:
            raise HistoryError(f"{self.path}: no runs recorded yet (run `advisor audit` first)")
        if run is None or run == "latest":
            return ids[-1]
        matches = [i for i in ids if i.startswith(run)]
        if len(matches) != 1:
            raise HistoryError(f"run {run!r} {'is ambiguous' if matches else 'not found'}; "
                               "see `advisor history` for run ids")
        return matches[0]

    def diff(self, base: str | None = None, head: str | None = None) -> RunDiff:
        """``base`` → ``head`` (default: the latest run, and the previous run of its scope). Runs of different
        scopes are not compared: that is an error saying so."""
        head_id = self.resolve(head)
        base_id = self.resolve(base) if base else self._previous(head_id)
        scopes = self._scopes()
        if scopes[base_id] is None or scopes[base_id] != scopes[head_id]:
            raise HistoryError(f"runs {base_id} and {head_id} audited different scopes "
                               f"({describe_scope(scopes[base_id])} vs {describe_scope(scopes[head_id])}): only runs "
                               "of the same scope are compared")
        key = ["resource_id", "rule"]
        old, new = self._findings(base_id), self._findings(head_id)
        merged = old.merge(new[key], on=key, how="left", indicator=True)
        resolved = merged[merged["_merge"] == "left_only"].drop(columns="_merge")
        fresh = new.merge(old[key], on=key, how="left", indicator=True)
        added = fresh[fresh["_merge"] == "left_only"].drop(columns="_merge")
        both = fresh[fresh["_merge"] == "both"].drop(columns="_merge")
        resolved = self._mark_done(resolved, head_id)
        both = self._open_since(both, head_id)
        return RunDiff(base_id, head_id, added.reset_index(drop=True), resolved.reset_index(drop=True),
                       both.reset_index(drop=True))

    def _scopes(self) -> dict[str, str | None]:
        return dict(self.db.execute("SELECT run_id, scope FROM runs").fetchall())

    def _previous(self, run_id: str) -> str:
        """The run before ``run_id`` with the same scope."""
        ids = self.runs()["run_id"].tolist()
        scopes = self._scopes()
        earlier = [i for i in ids[:ids.index(run_id)] if scopes[run_id] and scopes[i] == scopes[run_id]]
        if not earlier:
            raise HistoryError(f"run {run_id} is the first recorded run of its scope "
                               f"({describe_scope(scopes[run_id])}): nothing to diff against")
        return earlier[-1]

    def _findings(self, run_id: str) -> pd.DataFrame:
        return self.db.execute("SELECT resource_id, rule, action, current, target, monthly_cost_now, "
                               "monthly_savings, confidence, name, region FROM run_findings WHERE run_id = ?",
                               [run_id]).df()

    def _mark_done(self, resolved: pd.DataFrame, head_id: str) -> pd.DataFrame:
        """A resolved finding was *done* when its resource is seen again with the change made (the target config,
        or stopped); a resource absent from ``head`` is *gone*: nothing says the change was made."""
        now = self.db.execute("SELECT resource_id, config, state FROM run_resources WHERE run_id = ?",
                              [head_id]).df().set_index("resource_id")
        done, gone = [], []
        for row in resolved.itertuples(index=False):
            gone.append(row.resource_id not in now.index)
            if gone[-1]:
                done.append(False)
                continue
            current = now.loc[str(row.resource_id)]
            if row.action in ("stop", "terminate", "delete"):
                done.append(current["state"] in STOPPED_STATES)
            else:
                done.append(bool(row.target) and bool(current["config"] == row.target))
        return resolved.assign(done=done, gone=gone)

    def _open_since(self, persisting: pd.DataFrame, head_id: str) -> pd.DataFrame:
        if persisting.empty:
            return persisting.assign(open_since=pd.Series(dtype="datetime64[us, UTC]"),
                                     open_days=pd.Series(dtype=float))
        first = self.db.execute(
            "SELECT f.resource_id, f.rule, min(r.started_at) AS open_since FROM run_findings f "
            "JOIN runs r USING (run_id) WHERE r.started_at <= (SELECT started_at FROM runs WHERE run_id = ?) "
            "GROUP BY 1, 2", [head_id]).df()
        head = self.db.execute("SELECT started_at FROM runs WHERE run_id = ?", [head_id]).fetchone()
        assert head is not None, f"run {head_id} was resolved from the runs table"
        head_time = head[0]
        merged = persisting.merge(first, on=["resource_id", "rule"], how="left")
        merged["open_days"] = (pd.Timestamp(head_time) - pd.to_datetime(merged["open_since"], utc=True)
                               ).dt.total_seconds() / 86400
        return merged
