"""One shard's task: a plain, picklable function of the job, run in a worker process (local or on Dask).

It loads only its shard's data (the demo's rows of its resources; a file export's rows of its resources, from
the per-shard parts the driver's scan wrote (:mod:`advisor.executor.fileparts`), over the whole file's window; or,
for AWS, its accounts' and regions' partitions of the store, read where the store keeps them) and runs the
analysis with the run's settings, rules and window and the headroom calibration chose on the driver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from advisor.engine.rules import LoadedRule
from advisor.engine.samples import SampleNeeds, SampleSummary, hour_grid
from advisor.engine.stats import hourly_buckets
from advisor.executor.fileparts import ShardParts
from advisor.executor.shards import Shard
from advisor.hourly import HourlyBuckets
from advisor.model import METRICS_COLUMNS, AuditResult
from advisor.settings import Settings
from advisor.version import __version__

if TYPE_CHECKING:
    from advisor.sources.aws.readback import StoreView
    from advisor.sources.aws.session import AgentOptions
    from advisor.sources.aws.window import Window as AwsWindow

Window = tuple[pd.Timestamp, pd.Timestamp]


@dataclass(frozen=True)
class StoreShard:
    """Where an AWS shard's samples are: its targets' view of the store, the collection's window and agent options,
    and the names qualified across the run's accounts and regions."""

    view: StoreView
    window: AwsWindow
    agent: AgentOptions
    qualified: set[str]


@dataclass(frozen=True)
class ShardJob:
    """Everything a shard's task needs; ``source`` is ``demo``, ``parts`` (a file export's: ``parts`` says where
    the shard's samples are), or ``store`` (AWS: ``store`` says where)."""

    shard: Shard
    source: str
    inventory: pd.DataFrame  # the shard's rows of the run's normalized inventory
    settings: Settings  # the analysis settings
    sized: Settings  # the same with the headroom calibration chose
    rules: list[LoadedRule]
    window: Window
    label: str
    needs: SampleNeeds = field(default_factory=SampleNeeds)
    last_rows: dict[str, int] = field(default_factory=dict)  # parts: where each resource's rows end in the file
    parts: ShardParts | None = None  # parts: where the shard's samples are
    store: StoreShard | None = None  # store: where the shard's samples are
    version: str = __version__


@dataclass
class ShardResult:
    shard: Shard
    result: AuditResult  # the shard's audit (no long frame; drill-down buckets of its findings only)
    problems: list[str]  # met while reading the shard's samples
    repeated: int = 0  # repeated samples ignored (files)
    skipped_before_rules: int = 0  # the first rows of ``result.skipped``: skipped before any rule ran
    outside: tuple[int, int] = (0, -1)  # samples dated outside the window (files): count, first one's file position


def run_shard(job: ShardJob) -> ShardResult:
    """Analyse one shard (see the module docstring)."""
    from advisor.catalog import load_catalog
    from advisor.engine.pipeline import analyse, audit_of

    if job.version != __version__:
        raise RuntimeError(f"this worker runs advisor {__version__}, the run was planned with {job.version}: "
                           "install the same version on every worker")
    metrics, problems, repeated, outside = _samples(job)
    analysis = analyse(job.inventory, metrics, load_catalog(), job.settings, job.rules, job.window)
    result = audit_of(analysis, job.label, (), job.sized)
    wanted = np.array(sorted({rec.resource_id for rec in result.recommendations}), dtype=object)
    result.hourly = _drill_down(analysis.hourly, analysis.metrics, wanted, job.window)
    result.metrics = pd.DataFrame(columns=list(METRICS_COLUMNS))
    return ShardResult(job.shard, result, problems, repeated, len(analysis.skipped), outside)


def _samples(job: ShardJob) -> tuple[pd.DataFrame | SampleSummary, list[str], int, tuple[int, int]]:
    kind = job.source
    ids = list(job.shard.resource_ids)
    if kind == "demo":
        from advisor.sources.demo import load_demo

        _, metrics = load_demo()
        return metrics[metrics["resource_id"].isin(ids).to_numpy()].reset_index(drop=True), [], 0, (0, -1)
    if kind == "parts":
        from advisor.executor.fileparts import reduce_parts

        assert job.parts is not None, "a parts job says where its parts are"
        summary, repeated, outside = reduce_parts(job.parts, job.inventory, job.last_rows, job.window, job.needs)
        return summary, [], repeated, outside
    if kind == "store":
        from advisor.catalog import load_catalog
        from advisor.sources.aws.readback import ReadBack

        assert job.store is not None, "a store job says where its samples are"
        shard = job.store
        reader = ReadBack(shard.view, list(job.shard.places), shard.window, shard.agent, load_catalog(),
                          shard.qualified)
        data = reader.summarized(job.needs, job.window)
        return (data.metrics if data.summary is None else data.summary), [], 0, (0, -1)
    raise ValueError(f"unknown shard source {kind!r}")


def _drill_down(hourly: HourlyBuckets | None, metrics: pd.DataFrame, wanted: np.ndarray,
                window: Window) -> HourlyBuckets | None:
    """The report's hourly buckets of the shard's findings, on the run's hour grid (so shards line up)."""
    if hourly is None:
        return hourly_buckets(metrics, wanted, hours=hour_grid(window)) if not metrics.empty else None
    return hourly.take(pd.Index(hourly.resource_ids).isin(wanted))
