"""The sharded audit's driver: fix what spans the whole run, split it into shards, run them, merge.

What is decided once, on the driver, before any shard runs: the analysis window (a file export's is the bulk of
the whole file, found by one pass that judges every row), the resources the source refused, and calibration
(with three weeks of history it picks one fleet-wide headroom from at most 1,000 hash-sampled resources and
re-scores confidence: only their samples are read). A file export's scan also writes each (account, region)'s
samples to parts of their own (:mod:`advisor.executor.fileparts`, in a temporary directory removed at the end), so
a shard reads its rows only. The shards then analyse with those, so the merged result is the single process's.
``--source aws`` collects on the driver first (the store's catalog is DuckDB, one writer at a time; collection
waits on CloudWatch, not on cores), reads the store once for the window and the measured zeros, then each shard
reads its own accounts' and regions' partitions of the store (a local path or S3) and analyses them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from advisor.backtest.calibration import calibrate, calibrated_settings
from advisor.catalog import load_catalog
from advisor.config import EffectiveConfig
from advisor.engine import samples
from advisor.engine.features import sample_needs
from advisor.engine.pipeline import _window_of
from advisor.engine.rules import LoadedRule
from advisor.errors import AdvisorError, ConfigError
from advisor.executor.cluster import DaskRunner, ProcessRunner, Runner
from advisor.executor.fileparts import PartsWriter, Place, ShardParts
from advisor.executor.merge import ShardFailure, merge_results
from advisor.executor.shards import plan_shards
from advisor.executor.tasks import ShardJob, ShardResult, StoreShard
from advisor.logs import event
from advisor.model import METRICS_COLUMNS, SKIPPED_COLUMNS, AuditResult, normalize_metrics
from advisor.settings import ExecutorConfig
from advisor.sources.metrics_file import MetricsReader

if TYPE_CHECKING:
    from advisor.sources.aws import AwsRequest


@dataclass
class Plan:
    """A source read as far as the driver needs: the inventory to shard, what calibration reads, the window."""

    source: str  # the jobs' source: demo, parts or store
    label: str
    inventory: pd.DataFrame
    analysed: pd.DataFrame | samples.SampleSummary  # what calibration reads (a summary only to read again)
    window: tuple[pd.Timestamp, pd.Timestamp]
    problems: list[str]
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(SKIPPED_COLUMNS)))
    last_rows: dict[str, int] = field(default_factory=dict)
    repeated_line: str = ""  # files: how the repeated samples' problem is worded (with the file's name)
    scratch: Path | None = None  # files: the parts' temporary directory (removed once the shards are done)
    where: Callable[[tuple[Place, ...]], ShardParts] | None = None  # files: where a shard's parts are
    outside_line: Callable[[int, int], str] | None = None  # files: the problem of samples outside the window
    store_of: Callable[[tuple[Place, ...]], StoreShard] | None = None  # aws: where a shard's samples are
    resources: ExitStack = field(default_factory=ExitStack)  # aws: the store, open until the run ends

    def discard(self) -> None:
        self.resources.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def runner_of(executor: ExecutorConfig) -> Runner:
    if executor.kind == "dask":
        return DaskRunner(executor.scheduler, executor.workers)
    if executor.scheduler:
        raise ConfigError("--scheduler names a Dask scheduler: it needs --executor dask")
    assert executor.workers is not None and executor.workers > 1, "one local process is the unsharded path"
    return ProcessRunner(executor.workers)


def sharded_audit(config: EffectiveConfig, plan: Plan, rules: list[LoadedRule], runner: Runner) -> AuditResult:
    """The audit of ``plan``, one task per shard on ``runner`` (see the module docstring); ``plan``'s parts are
    removed at the end."""
    try:
        return _sharded_audit(config, plan, rules, runner)
    finally:
        plan.discard()


def _sharded_audit(config: EffectiveConfig, plan: Plan, rules: list[LoadedRule], runner: Runner) -> AuditResult:
    settings = config.settings
    catalog = load_catalog()
    fixed = [dim for dim in ("cpu", "memory") if f"sizing.{dim}.headroom_pct" in config.origins]
    calibration = calibrate(plan.inventory, plan.analysed, catalog, settings, rules, fixed)
    sized = calibrated_settings(settings, calibration)
    shards = plan_shards(plan.inventory)
    by_id = plan.inventory.set_index("resource_id", drop=False)
    jobs = [ShardJob(shard=shard, source=plan.source, inventory=by_id.loc[list(shard.resource_ids)]
                     .reset_index(drop=True), settings=settings, sized=sized, rules=rules, window=plan.window,
                     label=plan.label, needs=sample_needs(settings),
                     last_rows={rid: plan.last_rows[rid] for rid in shard.resource_ids} if plan.last_rows else {},
                     parts=None if plan.where is None else plan.where(shard.places),
                     store=None if plan.store_of is None else plan.store_of(shard.places))
            for shard in shards]
    event("shards_planned", shards=len(jobs), executor=type(runner).__name__)
    outcomes = runner.run(jobs) if jobs else []
    parts = [o for o in outcomes if isinstance(o, ShardResult)]
    failures = [o for o in outcomes if isinstance(o, ShardFailure)]
    for failure in failures:
        event("shard_failed", shard=failure.shard.label, error=failure.error)
    if failures and not parts:
        raise AdvisorError(f"every shard failed; the first: {failures[0].problem}")
    repeated = sum(part.repeated for part in parts)
    outside = sum(part.outside[0] for part in parts)
    first_outside = min((part.outside[1] for part in parts if part.outside[0]), default=-1)
    problems = [*plan.problems, *([plan.outside_line(outside, first_outside)] if outside and plan.outside_line else []),
                *([plan.repeated_line.format(repeated)] if repeated else [])]
    if not parts:
        from advisor.backtest.calibration import calibrated_audit

        return calibrated_audit(plan.inventory, plan.analysed, catalog, settings, rules, plan.label, plan.window,
                                problems, fixed)
    result = merge_results(parts, failures, plan.inventory, plan.label, plan.window, problems, calibration)
    if not plan.rejected.empty:
        result.skipped = pd.concat([f for f in (result.skipped, plan.rejected) if not f.empty], ignore_index=True)
    return result


def plan_source(spec: str, start: datetime | None = None, end: datetime | None = None,
                work_dir: Path | None = None) -> Plan:
    """The driver's part of reading ``spec``: ``demo``, ``files:DIR`` (its parts go to a temporary directory inside
    ``work_dir``, else the system's); ``aws`` is :func:`plan_aws`'s."""
    kind, _, argument = spec.partition(":")
    if kind == "files":
        if not argument:
            raise ConfigError("--source files:DIR needs a directory, e.g. --source files:./export")
        if work_dir is not None:
            try:
                work_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"shard directory {work_dir}: cannot be created ({exc.strerror})") from exc
        scratch = Path(tempfile.mkdtemp(prefix="advisor-shards-", dir=work_dir))
        try:
            return _plan_files(Path(argument).resolve(), f"files:{argument}", scratch, start, end)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    if kind == "demo":
        from advisor.sources.demo import load_demo

        inventory, metrics = load_demo()
        return Plan("demo", "demo fleet (bundled)", inventory, metrics, _window_of(metrics), [])
    raise ConfigError(f"unknown source {spec!r}: use 'demo', 'files:DIR' or 'aws'")


def plan_aws(request: AwsRequest) -> Plan:
    """Collect into the store (on the driver), then read it once for the window, the history and the measured zeros
    (streamed: one group at a time); the shards read their own partitions. The store stays open until the plan is
    discarded (calibration replays a few resources from it)."""
    from advisor.sources.aws.collect import collect_into_store
    from advisor.sources.aws.readback import ORIGIN, ReadBack, StoreView
    from advisor.sources.aws.session import base_session
    from advisor.store.location import open_store

    catalog = load_catalog()
    resources = ExitStack()
    try:
        store = resources.enter_context(open_store(request.store_path, request.store_url,
                                                   lambda: base_session(request.options)))
        collection = collect_into_store(request.options, store, request.window, request.progress)
        reader = ReadBack(store, collection.targets, request.window, collection.agent, catalog)
        found, days = reader.scan()
        inventory = reader.inventory()
        window = found or _window_of(normalize_metrics(pd.DataFrame(columns=list(METRICS_COLUMNS)), ORIGIN))
        analysed = samples.merge([], window, samples.SampleNeeds())
        analysed.reread = samples.Reread(days, reader.frame)
        label = f"aws ({request.window.start:%Y-%m-%d %H:%M} to {request.window.end:%Y-%m-%d %H:%M} UTC)"

        def store_of(places: tuple[Place, ...]) -> StoreShard:
            view = StoreView.of(store, list(places), request.window, collection.agent, request.options.profile)
            return StoreShard(view, request.window, collection.agent, reader.qualified)

        return Plan("store", label, inventory, analysed, window, [*collection.problems, *sorted(reader.problems)],
                    store_of=store_of, resources=resources)
    except BaseException:
        resources.close()
        raise


def _plan_files(directory: Path, label: str, scratch: Path, start: datetime | None, end: datetime | None) -> Plan:
    """One scan of the export that judges its rows, fixes the window and writes each place's samples to parts
    under ``scratch``."""
    from advisor.sources.files import reread_of, scan_files

    writers: list[PartsWriter] = []

    def writer(reader: MetricsReader, checked: pd.DataFrame) -> PartsWriter:
        accounts = checked["account"] if "account" in checked else pd.Series(None, index=checked.index, dtype=object)
        places = list(zip(accounts.fillna("unknown").astype(str), checked["region"].astype(str), strict=True))
        writers.append(PartsWriter(reader, scratch, places))
        return writers[0]

    scan = scan_files(directory, writer, start, end)
    written = writers[0].finish()
    unit, stat = scan.reader.unit, "stat" in scan.reader.columns
    data = scan.data
    problems = [*data.problems, *(f"{r.resource_id} skipped: {r.reason}" for r in data.rejected.itertuples())]
    window = data.window or _window_of(data.metrics)
    analysed: pd.DataFrame | samples.SampleSummary = data.metrics
    if data.window is not None:
        analysed = samples.merge([], window, samples.SampleNeeds())
        analysed.reread = reread_of(scan)

    def where(places: tuple[Place, ...]) -> ShardParts:
        return ShardParts(str(scratch), tuple((place, tuple(written.get(place, ()))) for place in places), unit, stat)

    def outside_line(count: int, position: int) -> str:
        return scan.reader.outside_problem(count, window, position, scan.reader.cell("timestamp", position))

    return Plan("parts", label, data.inventory, analysed, window, problems, data.rejected, scan.last_rows,
                repeated_line=f"{scan.reader.path.name}: {{}} repeated sample(s) (same resource, metric and time) "
                              "ignored", scratch=scratch, where=where, outside_line=outside_line)
