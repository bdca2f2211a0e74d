"""The collected targets read back from the store: inventory, and canonical metrics in groups of whole resources.

The store's series are read in groups of whole resources (about :data:`GROUP_POINTS` raw datapoints each), each
group's points from only the partitions of its accounts, regions and dates. A group's raw points carry integer
series ids only; the series' keys are joined per series, not per point (:func:`~advisor.sources.aws.cloudwatch.
normalize`). Every step (measured zeros, normalisation, the names qualified across accounts) is a function of one
resource, so the groups make exactly what the whole would.

With :class:`~advisor.engine.samples.SampleNeeds`, each group is summarized as soon as it is normalised (as the
file source does, :mod:`advisor.sources.reduce`): memory then holds one group of samples and the summaries, not
the history. The summary can read a few resources again as a long frame (calibration's replay).

A sharded audit's task reads its own accounts and regions through a :class:`StoreView`: what the store's catalog
says of them, taken on the driver, and the parts themselves, read where they are (a local path, or S3).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from advisor.catalog import Catalog
from advisor.engine import samples, stats
from advisor.engine.samples import Reread, SampleNeeds, SampleSummary
from advisor.hourly import HourlyBuckets
from advisor.model import INVENTORY_REQUIRED, Kind, normalize_inventory, normalize_metrics
from advisor.sources.aws.cloudwatch import measured_zeros, normalize, source_period, sources
from advisor.sources.aws.inventory import resolve_batch_types
from advisor.sources.aws.session import AgentOptions
from advisor.sources.aws.window import Window, epoch
from advisor.sources.reduce import HOURLY_BUDGET
from advisor.store.cache import Store, read_points
from advisor.store.parts import LocalParts, Parts

GROUP_POINTS = 1_000_000  # raw datapoints read and normalised together (about 40 instances x 4 metrics x 14 days)
ORIGIN = "CloudWatch metrics"
_EMPTY = pd.DataFrame(columns=["resource_id", "metric", "stat", "timestamp", "value"])


@dataclass
class AwsData:
    """What the AWS source gives the analysis."""

    inventory: pd.DataFrame
    metrics: pd.DataFrame  # the long frame (empty when ``summary`` holds it)
    problems: list[str] = field(default_factory=list)
    summary: SampleSummary | None = None


@dataclass
class StoreView:
    """Some targets of a store as a shard's task reads them: the catalog's inventory snapshots, series and fetched
    ranges of these targets (taken on the driver, which holds the catalog open), and where the parts are (a local
    directory the worker reads at the same path, or ``s3://bucket/prefix`` read with the worker's own credentials:
    its ``profile``, else its environment or role)."""

    inventory: dict[tuple[str, str], list[dict]]
    series: pd.DataFrame  # the targets' series at the periods read
    ranges: dict[int, list[tuple[int, int]]]  # fetched ranges per series id
    parts_root: str  # a local directory, or an s3:// URL
    profile: str | None = None

    @classmethod
    def of(cls, store: Store, targets: list[tuple[str, str]], window: Window, agent: AgentOptions,
           profile: str | None) -> StoreView:
        series = pd.concat([store.series_of(targets, period) for period in periods(window, agent)],
                           ignore_index=True)
        return cls({target: store.load_inventory([target]) for target in targets}, series,
                   store.fetched(series["series_id"].to_numpy()), store.parts.location, profile)

    def load_inventory(self, targets: list[tuple[str, str]]) -> list[dict]:
        return [record for target in targets for record in self.inventory.get(target, [])]

    def series_of(self, targets: list[tuple[str, str]], period: int) -> pd.DataFrame:
        keys = pd.MultiIndex.from_frame(self.series[["account", "region"]].astype(str))
        mine = keys.isin(pd.MultiIndex.from_tuples(targets, names=["account", "region"])) & \
            (self.series["period"] == period).to_numpy()
        return self.series[mine].reset_index(drop=True)

    def fetched(self, series_ids: np.ndarray) -> dict[int, list[tuple[int, int]]]:
        return {int(i): self.ranges[int(i)] for i in series_ids if int(i) in self.ranges}

    def read_points(self, series: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
        import duckdb

        with duckdb.connect() as con:
            return read_points(con, self._parts(), series, start, end)

    def _parts(self) -> Parts:
        if self.parts_root.startswith("s3://"):
            import boto3

            from advisor.store.location import s3_filesystem
            from advisor.store.parts import S3Parts

            return S3Parts(self.parts_root.removesuffix("/points"), s3_filesystem(boto3.Session(
                profile_name=self.profile)))
        return LocalParts(Path(self.parts_root))


def periods(window: Window, agent: AgentOptions) -> list[int]:
    """The periods of the series read back."""
    return sorted({window.period, *(source_period(s, window.period, window.finest) for s in sources(agent))})


class ReadBack:
    """The collected targets' series, read from ``store`` group by group (see the module docstring).
    ``qualified``: the names that repeat across the run's accounts or regions (a shard's view sees only its own
    targets; by default those of ``targets``)."""

    def __init__(self, store: Store | StoreView, targets: list[tuple[str, str]], window: Window,
                 agent: AgentOptions, catalog: Catalog, qualified: set[str] | None = None) -> None:
        self.store, self.catalog, self.agent = store, catalog, agent
        self.start, self.end = epoch(window.start), epoch(window.end)
        raw = _resolve_batch_types(pd.DataFrame(store.load_inventory(targets)), catalog)
        self.raw = raw if not raw.empty else pd.DataFrame(columns=[*INVENTORY_REQUIRED, "account", "instance_type"])
        series = pd.concat([store.series_of(targets, period) for period in periods(window, agent)],
                           ignore_index=True)
        # series of resources no longer in the inventory normalise to nothing: they are not read
        known = pd.MultiIndex.from_frame(self.raw[["account", "region", "resource_id"]].astype(str))
        keys = pd.MultiIndex.from_frame(series[["account", "region", "resource_id"]].astype(str))
        self.series = series[keys.isin(known)].sort_values(["account", "region", "resource_id", "series_id"],
                                                           ignore_index=True)
        repeated = self.raw["resource_id"].duplicated(keep=False)
        self.repeated = repeated if repeated.any() else None
        self.qualified = qualified if qualified is not None else \
            set(_qualified(self.raw[repeated])) if repeated.any() else set()
        self.zeros: dict[tuple[str, str, str], dict[str, int]] = {}
        self.problems: set[str] = set()

    def name_of(self, frame: pd.DataFrame) -> pd.Series:
        """The resource ids the analysis sees: names that repeat across accounts or regions become
        ``account/region/name``."""
        if not self.qualified:
            return frame["resource_id"].astype(str)
        qualified = _qualified(frame)
        return qualified.where(qualified.isin(self.qualified), frame["resource_id"].astype(str))

    def groups(self, only: Collection[str] | None = None) -> Iterator[pd.DataFrame]:
        """Normalised metrics (``account`` and ``region`` dropped, names qualified) of whole resources, a group at
        a time; ``only``: of these resources (qualified names) only. Measured zeros and problems accumulate."""
        series = self.series
        if only is not None:
            series = series[self.name_of(series).isin(set(only)).to_numpy()].reset_index(drop=True)
        if series.empty:
            return
        expected = (self.end - self.start) // series["period"].to_numpy(dtype=np.int64)
        resource = (series[["account", "region", "resource_id"]] != series[["account", "region", "resource_id"]]
                    .shift()).any(axis=1).cumsum().to_numpy()  # runs of one resource
        per_resource = np.bincount(resource, weights=expected)[resource]
        starts = np.flatnonzero(np.r_[True, resource[1:] != resource[:-1]])
        group_of_start = np.cumsum(np.r_[0, per_resource[starts][:-1]]) // GROUP_POINTS
        cuts = [*starts[np.r_[True, group_of_start[1:] != group_of_start[:-1]]].tolist(), len(series)]
        for low, high in zip(cuts[:-1], cuts[1:], strict=True):
            group = series.iloc[low:high]
            points = self.store.read_points(group, self.start, self.end)
            points, zeros = measured_zeros(group, points, self.raw, self.store.fetched, self.start, self.end)
            self.zeros.update(zeros)
            metrics, problems = normalize(group, points, self.raw, self.catalog, self.agent)
            del points
            self.problems.update(problems)
            if metrics.empty:
                continue
            metrics["resource_id"] = self.name_of(metrics)
            yield metrics.drop(columns=["account", "region"])

    def inventory(self) -> pd.DataFrame:
        """The normalised inventory, with each resource's measured zeros (once the groups have been read)."""
        raw = self.raw.copy()
        raw["measured_zeros"] = pd.Series([self.zeros.get((str(a), str(r), str(i))) for a, r, i in
                                           zip(raw["account"], raw["region"], raw["resource_id"], strict=True)],
                                          index=raw.index, dtype=object)
        if self.repeated is not None:
            raw.loc[self.repeated, "resource_id"] = _qualified(raw[self.repeated])
        return normalize_inventory(raw, "AWS inventory")

    def frame(self, only: Collection[str] | None = None) -> pd.DataFrame:
        """The long frame of the groups (of ``only`` when given)."""
        frames = list(self.groups(only))
        return normalize_metrics(pd.concat(frames, ignore_index=True) if frames else _EMPTY, ORIGIN)

    def whole(self) -> AwsData:
        metrics = self.frame()
        return AwsData(self.inventory(), metrics, sorted(self.problems))

    def scan(self) -> tuple[tuple[pd.Timestamp, pd.Timestamp] | None, float]:
        """The window the whole frame would give (its first and last sample; None without samples) and the days
        its samples cover, from one pass over the groups that keeps their times only (measured zeros and problems
        accumulate)."""
        stamps = np.empty(0, dtype=np.int64)
        for group in self.groups():
            frame = normalize_metrics(group, ORIGIN)
            seconds = frame["timestamp"].dt.tz_localize(None).to_numpy().astype("datetime64[s]").astype(np.int64)
            stamps = np.union1d(stamps, seconds)
        if not len(stamps):
            return None, 0.0
        times = pd.Series(pd.to_datetime(stamps, unit="s", utc=True))
        return (times.iloc[0], times.iloc[-1]), samples.history_days(times)

    def summarized(self, needs: SampleNeeds, window: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> AwsData:
        """Each group summarized as it is read, over the collection window, then all realigned onto ``window``
        (by default the window the whole frame would give: its first and last sample) and merged."""
        provisional = (pd.Timestamp(self.start, unit="s", tz="UTC"), pd.Timestamp(self.end, unit="s", tz="UTC"))
        parts: list[SampleSummary] = []
        stamps = np.empty(0, dtype=np.int64)
        hourly = _Hourly()
        for group in self.groups():
            frame = normalize_metrics(group, ORIGIN)
            if frame.empty:
                continue
            seconds = frame["timestamp"].dt.tz_localize(None).to_numpy().astype("datetime64[s]").astype(np.int64)
            stamps = np.union1d(stamps, seconds)
            summary = samples.summarize(frame, provisional, needs)
            hourly.keep(parts, summary, stats.hourly_buckets(frame, hours=samples.hour_grid(provisional)))
            parts.append(summary)
        if not parts:  # no samples: the analysis takes the (empty) long frame, as before
            return AwsData(self.inventory(), normalize_metrics(_EMPTY, ORIGIN), sorted(self.problems))
        times = pd.Series(pd.to_datetime(stamps, unit="s", utc=True))
        window = window or (times.iloc[0], times.iloc[-1])
        merged = samples.merge([samples.realign(p, window) for p in parts], window, needs)
        merged.reread = Reread(samples.history_days(times), self._frame_of)
        return AwsData(self.inventory(), normalize_metrics(_EMPTY, ORIGIN), sorted(self.problems), merged)

    def _frame_of(self, resource_ids: Collection[str]) -> pd.DataFrame:
        return self.frame(resource_ids)


class _Hourly:
    """The drill-down buckets of the parts, widened (all of them, by halves) to keep within HOURLY_BUDGET (as the
    file source does)."""

    def __init__(self) -> None:
        self.step, self.bytes = 1, 0

    def keep(self, parts: list[SampleSummary], summary: SampleSummary, buckets: HourlyBuckets) -> None:
        summary.hourly = buckets.coarsen(self.step)
        self.bytes += summary.hourly.nbytes
        while self.bytes > HOURLY_BUDGET and self.step < 24 * 7:
            self.step *= 2
            self.bytes = 0
            for part in [*parts, summary]:
                assert part.hourly is not None
                part.hourly = part.hourly.coarsen(self.step // part.hourly.step)
                self.bytes += part.hourly.nbytes


def read_back(store: Store, targets: list[tuple[str, str]], window: Window, agent: AgentOptions, catalog: Catalog,
              needs: SampleNeeds | None = None) -> AwsData:
    """The inventory and metrics of ``targets`` from the store: the long frame, or with ``needs`` its summary."""
    reader = ReadBack(store, targets, window, agent, catalog)
    return reader.whole() if needs is None else reader.summarized(needs)


def _resolve_batch_types(raw: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Batch environments allowed a family or a bundle ("optimal") get the concrete types of their region."""
    if raw.empty or not (batch := raw["kind"] == Kind.BATCH_COMPUTE_ENVIRONMENT).any():
        return raw
    raw = raw.copy()
    if "instance_type_note" not in raw:
        raw["instance_type_note"] = None
    for index in raw.index[batch]:
        types, note = resolve_batch_types(raw.at[index, "instance_type"], catalog.offered(str(raw.at[index, "region"])))
        raw.at[index, "instance_type"], raw.at[index, "instance_type_note"] = types, note
    return raw


def _qualified(frame: pd.DataFrame) -> pd.Series:
    return frame["account"].astype(str) + "/" + frame["region"].astype(str) + "/" + frame["resource_id"].astype(str)
