"""CloudWatch: which series exist, the fewest GetMetricData calls to fetch them, the fetch, and normalisation.

* ``discover``: ListMetrics (paginated, per namespace and metric) tells which series exist, so a metric that is
  not published (no CloudWatch agent, no GPU) is absent, never zero. ListMetrics lists only series with data in
  the last two weeks, so series a kind knows the dimensions of are queried too where it lists none.
* ``measured_zeros``: a counter AWS publishes only with activity (SageMaker Invocations, EBS I/O on Xen
  instances) is zero, not absent, in the periods CloudWatch answered while the resource was active.
* ``plan_calls``: GetMetricData takes up to 500 queries and returns up to 100,800 datapoints per call, and all
  queries of a call share one StartTime/EndTime. Series that need the same range are packed into calls; when a
  range holds so many periods that the datapoint limit leaves room for few queries, the range is cut into time
  slices so that calls stay full: the plan reaches max(ceil(S/500), ceil(S·P/100,800)) for S queries of P
  points whenever the slices divide evenly, and is never worse than packing whole ranges.
* ``fetch_call``: one planned call (following NextToken pages, should CloudWatch send any); each page goes
  straight into the store as compact arrays and is committed, so memory stays bounded by one page. Only a query
  whose final result is ``Complete`` is logged as fetched: ``InternalError`` and ``Forbidden`` results (and a
  ``PartialData`` one without a NextToken to continue) are reported and asked for again on the next run.
* ``normalize``: raw series to the canonical metrics of DESIGN §2.
"""

from __future__ import annotations

import json
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from advisor import kinds
from advisor.catalog import Catalog
from advisor.kinds.base import CloudWatchMetric, Scale
from advisor.sources.aws.session import AgentOptions
from advisor.store.cache import Store

MAX_QUERIES = 500
MAX_POINTS = 100_800
# CloudWatch statistic -> the ``stat`` column: a per-period Sum divided by the period is the period's mean rate.
STAT_NAMES = {"Average": "avg", "Maximum": "max", "Minimum": "min", "Sum": "avg"}


@dataclass(frozen=True)
class Source(CloudWatchMetric):
    """One CloudWatch metric read for one kind (a kind's declared ``CloudWatchMetric``)."""

    kind: str = ""


def sources(agent: AgentOptions | None = None) -> tuple[Source, ...]:
    """Every CloudWatch metric the registered kinds declare, in registry order; the CloudWatch agent's in the
    configured namespace."""
    namespace = (agent or AgentOptions()).namespace
    return tuple(Source(**(vars(metric) | ({"namespace": namespace} if metric.agent else {})), kind=kind.id)
                 for kind in kinds.all_kinds() for metric in kind.metrics)


def owner(kind: str, dims: Mapping[str, str]) -> tuple[str, str] | None:
    """``(resource_id, member)`` of a series: member tells apart the GPUs of an instance or a job's hosts."""
    declared = kinds.get(kind).owner
    return declared(dims) if declared else None


@dataclass(frozen=True)
class Owners:
    """Whose series a set of dimensions is: the kind's owner, or for the CloudWatch agent's metrics the first of the
    configured dimensions that names a known instance (``InstanceId``, or ``host``: a hostname matched to an
    instance's private DNS name, full or short)."""

    agent: AgentOptions = field(default_factory=AgentOptions)
    hosts: Mapping[str, str] = field(default_factory=dict)  # hostname -> instance id

    @classmethod
    def of(cls, agent: AgentOptions | None, rows: Iterable[Mapping[str, Any]]) -> Owners:
        """A hostname that names two instances (the same private IP in two VPCs) names neither."""
        named: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            name = row.get("private_dns_name")
            if row.get("kind") == "ec2_instance" and isinstance(name, str) and name:
                for host in {name, name.split(".")[0]}:
                    named[host].add(str(row["resource_id"]))
        return cls(agent or AgentOptions(), {host: next(iter(ids)) for host, ids in named.items() if len(ids) == 1})

    def __call__(self, source: Source, dims: Mapping[str, str]) -> tuple[str, str] | None:
        if not source.agent:
            return owner(source.kind, dims)
        for dimension in self.agent.memory_dimensions:
            instance = dims.get("InstanceId") if dimension == "InstanceId" else self.hosts.get(dims.get("host", ""))
            if instance:
                return owner(source.kind, {**dims, "InstanceId": instance})
        return None


@dataclass(frozen=True)
class Series:
    """One existing CloudWatch series of a resource (dimensions in the order ListMetrics gave them)."""

    resource_id: str
    source: Source
    dimensions: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Query:
    series: Series
    stat: str
    period: int = 0  # 0: the window's period

    def request(self, query_id: str, period: int) -> dict[str, Any]:
        metric = {"Namespace": self.series.source.namespace, "MetricName": self.series.source.name,
                  "Dimensions": [{"Name": n, "Value": v} for n, v in self.series.dimensions]}
        return {"Id": query_id, "MetricStat": {"Metric": metric, "Period": period, "Stat": self.stat},
                "ReturnData": True}


def discover(cloudwatch: Any, resources: Iterable[Mapping[str, Any]],
             agent: AgentOptions | None = None) -> list[Series]:
    """The series that exist for inventory rows (``resource_id``, ``kind``...), one per resource, source and member.

    When a metric is published under several dimension sets (the agent's ``append_dimensions``), the one with
    the fewest dimensions is read. Duplicate listings (moto lists multi-dimension metrics once per datum) collapse.
    ListMetrics lists only series with data in the last two weeks, so series of a kind's known dimensions are
    added where it lists none (see :func:`known_series`).
    """
    rows = list(resources)
    wanted: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        wanted[str(row["kind"])].add(str(row["resource_id"]))
    found: dict[tuple[str, Source, str], set[tuple[tuple[str, str], ...]]] = defaultdict(set)
    paginator = cloudwatch.get_paginator("list_metrics")
    owners = Owners.of(agent, rows)
    for source in sources(agent):
        if not wanted.get(source.kind):
            continue
        for page in paginator.paginate(Namespace=source.namespace, MetricName=source.name):
            for metric in page.get("Metrics", []):
                dims = tuple((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
                belongs = owners(source, dict(dims))
                if belongs and belongs[0] in wanted[source.kind]:
                    found[(belongs[0], source, belongs[1])].add(dims)
    found.update(known_series(rows, {(rid, source) for rid, source, _ in found}))
    return [Series(resource_id, source, min(options, key=lambda d: (len(d), d)))
            for (resource_id, source, _), options in sorted(found.items(), key=lambda item: _sort_key(item[0]))]


def known_series(rows: Iterable[Mapping[str, Any]], listed: set[tuple[str, Source]]
                 ) -> dict[tuple[str, Source, str], set[tuple[tuple[str, str], ...]]]:
    """Series ListMetrics did not list but the kind knows the dimensions of (``ResourceKind.dimensions``).

    A zero-when-absent metric (a counter AWS publishes only with activity) is queried whenever it is not listed;
    every metric is queried for a resource ListMetrics lists nothing for (a training job that ended more than two
    weeks ago). A query for a series that does not exist answers ``Complete`` without data: absent, as before.
    """
    seen = {resource_id for resource_id, _ in listed}
    by_kind: dict[str, list[Source]] = defaultdict(list)
    for source in sources():
        by_kind[source.kind].append(source)
    out: dict[tuple[str, Source, str], set[tuple[tuple[str, str], ...]]] = {}
    for row in rows:
        kind = kinds.get(str(row["kind"]))
        resource_id = str(row["resource_id"])
        if kind.dimensions is None:
            continue
        for dims in kind.dimensions(row):
            member = (owner(kind.id, dims) or ("", ""))[1]
            for source in by_kind[kind.id]:
                if (resource_id, source) in listed or (resource_id in seen and not source.zero_when_absent):
                    continue
                out[(resource_id, source, member)] = {tuple(dims.items())}
    return out


def _sort_key(key: tuple[str, Source, str]) -> tuple[str, str, str, str]:
    return key[0], key[1].namespace, key[1].name, key[2]


def source_period(source: CloudWatchMetric, period: int, finest: int) -> int:
    """The period a source is read at: its own when declared finer than the window's ``period`` and CloudWatch
    still holds it (``finest``), else the window's."""
    return max(source.period, finest) if 0 < source.period < period else period


def queries_for(series: Iterable[Series], period: int = 0, finest: int = 0) -> list[Query]:
    """Each series' queries, one per declared statistic, at :func:`source_period` (0: the window's period)."""
    return [Query(s, stat, source_period(s.source, period, finest) if period else 0)
            for s in series for stat in s.source.stats]


def series_keys(queries: list[Query], account: str, region: str, period: int) -> pd.DataFrame:
    """The store's identity of each query's series (``advisor.store.cache.SERIES_KEY`` columns); ``period`` is
    that of the queries that name none."""
    return pd.DataFrame({
        "account": account, "region": region, "resource_id": [q.series.resource_id for q in queries],
        "namespace": [q.series.source.namespace for q in queries],
        "metric_name": [q.series.source.name for q in queries],
        "dimensions": [json.dumps(q.series.dimensions) for q in queries],
        "stat": [q.stat for q in queries], "period": [q.period or period for q in queries],
    })


# ------------------------------------------------------------------------------------------------ planning


def missing_ranges(fetched: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """Parts of ``[start, end)`` not covered by the sorted ``fetched`` ranges."""
    gaps, cursor = [], start
    for low, high in fetched:
        if high <= cursor or low >= end:
            continue
        if low > cursor:
            gaps.append((cursor, low))
        cursor = max(cursor, high)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


@dataclass(frozen=True)
class Call:
    """One GetMetricData request: the queries (indexes into the run's query list) over ``[start, end)``."""

    start: int
    end: int
    period: int
    queries: tuple[int, ...]

    @property
    def points(self) -> int:
        return len(self.queries) * ((self.end - self.start) // self.period)


def minimum_calls(queries: int, points: int, max_queries: int = MAX_QUERIES, max_points: int = MAX_POINTS) -> int:
    """The lower bound max(ceil(S/500), ceil(S·P/100,800)) for S queries of P points each."""
    return max(math.ceil(queries / max_queries), math.ceil(queries * points / max_points))


def plan_calls(needs: Iterable[tuple[int, int, int]], period: int, max_queries: int = MAX_QUERIES,
               max_points: int = MAX_POINTS) -> list[Call]:
    """Calls covering every ``(query, start, end)`` need exactly once, within both limits."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for query, start, end in needs:
        groups[(start, end)].append(query)
    calls: list[Call] = []
    for (start, end), queries in sorted(groups.items()):
        calls.extend(_pack(queries, start, end, period, max_queries, max_points))
    return calls


def _pack(queries: list[int], start: int, end: int, period: int, max_queries: int,
          max_points: int) -> list[Call]:
    periods = (end - start) // period
    best: tuple[int, int, int] | None = None  # (calls, periods per slice, queries per call)
    for slices in range(1, periods + 1):
        length = math.ceil(periods / slices)
        per_call = min(max_queries, max_points // length)
        if per_call == 0:
            continue
        count = math.ceil(periods / length) * math.ceil(len(queries) / per_call)
        if best is None or count < best[0]:
            best = (count, length, per_call)
        if per_call == max_queries:
            break  # more slices only add calls once the query limit binds
    assert best is not None  # a single period always fits: max_points >= 1
    _, length, per_call = best
    chunks = math.ceil(len(queries) / per_call)
    size = math.ceil(len(queries) / chunks)  # balanced chunks: same call count, even pages
    calls: list[Call] = []
    for low in range(start, end, length * period):
        high = min(end, low + length * period)
        calls.extend(Call(low, high, period, tuple(queries[i:i + size])) for i in range(0, len(queries), size))
    return calls


# -------------------------------------------------------------------------------------------------- fetch


class Interrupted(Exception):
    """The run was asked to stop between two calls."""


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class Fetched:
    """What one planned call did: the API calls made, and the queries (indexes) whose final result was not
    ``Complete``, with that status and CloudWatch's message codes."""

    calls: int = 0
    incomplete: dict[int, str] = field(default_factory=dict)


def fetch_call(cloudwatch: Any, call: Call, queries: list[Query], series_ids: np.ndarray, store: Store,
               settled: int, stop: threading.Event) -> Fetched:
    """Run one planned call (and any NextToken pages); commit each page.

    The queries whose final status is ``Complete`` are logged as fetched (with the last page), and only up to
    ``settled``: newer periods may still change and are asked for again next time.
    """
    request: dict[str, Any] = {
        "MetricDataQueries": [queries[i].request(f"q{i}", call.period) for i in call.queries],
        "StartTime": _moment(call.start), "EndTime": _moment(call.end), "ScanBy": "TimestampAscending",
    }
    fetched = Fetched()
    status: dict[int, str] = {}
    while True:
        if stop.is_set():
            raise Interrupted
        response = cloudwatch.get_metric_data(**request)
        fetched.calls += 1
        token = response.get("NextToken")
        status.update(_statuses(response))
        done = None
        if not token:
            complete = [i for i in call.queries if status.get(i) == "Complete"]
            fetched.incomplete = {i: status.get(i, "no result") for i in call.queries if status.get(i) != "Complete"}
            if complete and min(call.end, settled) > call.start:
                done = pd.DataFrame({"series_id": series_ids[complete], "start_ts": call.start,
                                     "end_ts": min(call.end, settled)})
        store.write(_page(response, series_ids), done)
        if not token:
            return fetched
        request["NextToken"] = token


def _statuses(response: dict[str, Any]) -> dict[int, str]:
    """Each result's status (``Complete``, ``PartialData``, ``InternalError``, ``Forbidden``) with its message
    codes, per query index."""
    out = {}
    for result in response.get("MetricDataResults", []):
        codes = sorted({m.get("Code", "") for m in result.get("Messages") or [] if m.get("Code")})
        status = str(result.get("StatusCode", "no status"))
        out[int(result["Id"][1:])] = status if status == "Complete" or not codes else f"{status} ({', '.join(codes)})"
    return out


def _page(response: dict[str, Any], series_ids: np.ndarray) -> pd.DataFrame:
    """One response page as three compact columns (the parsed Python objects are dropped right after)."""
    ids, stamps, values = [], [], []
    for result in response.get("MetricDataResults", []):
        count = len(result.get("Values", []))
        if not count:
            continue
        ids.append(np.full(count, series_ids[int(result["Id"][1:])], dtype=np.int64))
        stamps.append(np.fromiter((t.timestamp() for t in result["Timestamps"]), dtype=np.float64, count=count))
        values.append(np.asarray(result["Values"], dtype=np.float64))
    if not ids:
        return pd.DataFrame({"series_id": [], "ts": [], "value": []})
    return pd.DataFrame({"series_id": np.concatenate(ids), "ts": np.concatenate(stamps).astype(np.int64),
                         "value": np.concatenate(values)})


# ------------------------------------------------------------------------------------------ measured zeros


Fetch = Callable[[np.ndarray], dict[int, list[tuple[int, int]]]]  # series ids -> ranges logged as fetched


def measured_zeros(series: pd.DataFrame, points: pd.DataFrame, inventory: pd.DataFrame, fetched: Fetch,
                   start: int, end: int) -> tuple[pd.DataFrame, dict[tuple[str, str, str], dict[str, int]]]:
    """Zero datapoints where a zero-when-absent metric of an active resource has none, and how many per resource.

    A counter AWS publishes only with activity (SageMaker Invocations, EBS VolumeReadOps on Xen instances) has
    no datapoint for a quiet period. Such a period is a measured zero only when the resource was active then
    (``metrics_since`` of its inventory row: an endpoint's last change while serving, a volume's attachment) and
    CloudWatch answered ``Complete`` for it (logged as fetched); any other missing period stays unknown.
    Returns the points with the zeros added and ``(account, region, resource_id) -> {metric: zero periods}``.
    """
    if series.empty or "metrics_since" not in inventory.columns:
        return points, {}
    by_name = {(s.kind, s.namespace, s.name): s for s in sources() if s.zero_when_absent}
    since: dict[tuple[str, str, str], tuple[str, int]] = {}
    for account, region, rid, kind, moment in zip(*(inventory[c] for c in ("account", "region", "resource_id",
                                                                           "kind", "metrics_since")), strict=True):
        if isinstance(moment, str) and moment:
            since[(str(account), str(region), str(rid))] = (str(kind), int(pd.Timestamp(moment).timestamp()))
    chosen = []
    for row in series.to_dict("records"):
        key = (str(row["account"]), str(row["region"]), str(row["resource_id"]))
        if key in since and (since[key][0], row["namespace"], row["metric_name"]) in by_name:
            chosen.append((row, key, by_name[(since[key][0], row["namespace"], row["metric_name"])]))
    if not chosen:
        return points, {}
    ids = np.asarray([row["series_id"] for row, _, _ in chosen], dtype=np.int64)
    ranges = fetched(ids)
    mine = points[points["series_id"].isin(ids)]
    present = mine.groupby("series_id")["ts"].unique() if not mine.empty else pd.Series(dtype=object)
    added: list[pd.DataFrame] = []
    counts: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    for row, key, source in chosen:
        period = int(row["period"])
        first = max(start, -(-since[key][1] // period) * period)  # the first whole period while active
        stamps = np.arange(first, end, period, dtype=np.int64)
        answered = np.zeros(len(stamps), dtype=bool)
        for low, high in ranges.get(int(row["series_id"]), []):
            answered |= (stamps >= low) & (stamps + period <= high)
        have = present.get(row["series_id"])
        zeros = stamps[answered & ~np.isin(stamps, have if have is not None else [])]
        counts[key][source.metric] = max(counts[key].get(source.metric, 0), len(zeros))
        added.append(pd.DataFrame({"series_id": row["series_id"], "ts": zeros, "value": 0.0}))
    filled = pd.concat([points, *added], ignore_index=True) if added else points
    return filled, {key: {m: n for m, n in found.items() if n} for key, found in counts.items()
                    if any(found.values())}


# ---------------------------------------------------------------------------------------------- normalize


def _divisor(source: Source, period: int, spec: pd.Series | None) -> float | None:
    if source.scale is Scale.PER_SECOND:
        return float(period)
    if source.scale is Scale.PER_MINUTE:
        return period / 60.0
    if source.scale is Scale.NONE:
        return 1.0
    if spec is None:
        return None
    count = float(spec["vcpus"] if source.scale is Scale.PER_VCPU else spec["gpus"])
    return count if count > 0 else None


def normalize(series: pd.DataFrame, points: pd.DataFrame, inventory: pd.DataFrame, catalog: Catalog,
              agent: AgentOptions | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Raw stored series -> rows ``account, region, resource_id, metric, stat, timestamp, value`` (DESIGN §2).

    Per-GPU and per-host series are averaged per timestamp; GPU memory % is used / total per GPU, then
    averaged. The ``max`` of such a metric is the mean of the members' per-period maxima (an upper bound of
    the maximum of their mean). Series whose scale needs a spec the catalog lacks are dropped and reported.
    """
    columns = ["account", "region", "resource_id", "metric", "stat", "timestamp", "value"]
    if series.empty or points.empty:
        return pd.DataFrame(columns=columns), []
    described = ("account", "region", "resource_id", "kind", "instance_type")
    types = {(account, region, rid): (kind, instance_type)
             for account, region, rid, kind, instance_type in zip(*(inventory[c] for c in described), strict=True)}
    by_name = {(s.kind, s.namespace, s.name): s for s in sources(agent)}
    owners = Owners.of(agent, [{str(k): v for k, v in row.items()} for row in inventory.to_dict("records")])
    rows, problems = [], set()
    # a series queried by its known dimensions may have no data (a CPU job's GPU metrics): nothing to normalise
    for s in series[series["series_id"].isin(points["series_id"].unique())].to_dict("records"):
        kind, instance_type = types.get((s["account"], s["region"], s["resource_id"]), (None, None))
        source = by_name.get((kind, s["namespace"], s["metric_name"]))
        if source is None:
            continue
        known = isinstance(instance_type, str) and instance_type
        spec = catalog.spec(instance_type) if known and source.scale in (Scale.PER_VCPU, Scale.PER_GPU) else None
        divisor = _divisor(source, int(s["period"]), spec)
        if divisor is None:
            problems.add(f"{s['resource_id']}: {source.namespace} {source.name} not normalised: "
                         f"{instance_type if known else 'no instance type'} has no {source.scale.value[4:]} "
                         "count in the catalog")
            continue
        member = (owners(source, dict(map(tuple, json.loads(s["dimensions"])))) or ("", ""))[1]
        rows.append((s["series_id"], s["account"], s["region"], s["resource_id"], source.metric,
                     STAT_NAMES[s["stat"]], source.part, member, divisor, source.busiest))
    meta = pd.DataFrame(rows, columns=["series_id", "account", "region", "resource_id", "metric", "stat", "part",
                                       "member", "divisor", "busiest"])
    # the keys joined per series: each point carries small category codes, not seven strings
    meta = meta.astype({c: "category" for c in _KEYS})
    data = points.merge(meta, on="series_id", how="inner")
    data["value"] = data["value"] / data["divisor"]
    keys = ["account", "region", "resource_id", "metric", "member", "ts"]
    plain = data[data["part"] == ""]
    used = data[data["part"] == "used"]
    total = data[data["part"] == "total"][keys + ["value"]].rename(columns={"value": "total"})
    ratio = used.merge(total, on=keys, how="inner")
    ratio = ratio[ratio["total"] > 0].assign(value=lambda f: f["value"] / f["total"] * 100.0)
    combined = pd.concat([plain, ratio], ignore_index=True)
    group = ["account", "region", "resource_id", "metric", "stat", "ts"]
    out = combined.groupby(group, observed=True, sort=False)["value"].mean().reset_index()
    fullest = combined[combined["busiest"] != ""].assign(metric=lambda f: f["busiest"])
    if not fullest.empty:  # the fullest GPU per period: a device must hold its own memory, not the mean's
        out = pd.concat([out, fullest.groupby(group, observed=True, sort=False)["value"].max().reset_index()],
                        ignore_index=True)
    out["timestamp"] = pd.to_datetime(out.pop("ts"), unit="s", utc=True)
    out = out[columns]
    return out.astype({c: object for c in columns if isinstance(out[c].dtype, pd.CategoricalDtype)}), sorted(problems)


_KEYS = ("account", "region", "resource_id", "metric", "stat", "part", "member", "busiest")
