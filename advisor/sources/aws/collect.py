"""Collect from AWS: accounts × regions in parallel, into the store, then read back (``readback``).

A failure is contained where it happens: an account whose credentials fail, a region that cannot be read,
an inventory kind or a CloudWatch call that still fails after the adaptive retries each become one line in
``problems``; everything else is kept and analysed.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from advisor.catalog import Catalog
from advisor.engine.samples import SampleNeeds
from advisor.errors import AdvisorError
from advisor.sources.aws.cloudwatch import (
    MAX_POINTS,
    MAX_QUERIES,
    Call,
    Fetched,
    Interrupted,
    Query,
    discover,
    fetch_call,
    missing_ranges,
    plan_calls,
    queries_for,
    series_keys,
)
from advisor.sources.aws.inventory import RegionUnavailable, collect_inventory
from advisor.sources.aws.readback import AwsData, read_back
from advisor.sources.aws.session import (
    AWS_ERRORS,
    Account,
    AgentOptions,
    AwsOptions,
    account_regions,
    describe_error,
    open_accounts,
)
from advisor.sources.aws.window import Window, epoch
from advisor.store.cache import Store


class CollectError(AdvisorError):
    """Nothing at all could be collected (every account or region failed)."""


class Progress(Protocol):
    """What the collector reports while it runs (the CLI draws it as a progress bar)."""

    def add_targets(self, count: int) -> None: ...

    def target_done(self, account: str, region: str) -> None: ...

    def add_calls(self, count: int) -> None: ...

    def call_done(self) -> None: ...


class _Silent:
    def add_targets(self, count: int) -> None:
        pass

    def target_done(self, account: str, region: str) -> None:
        pass

    def add_calls(self, count: int) -> None:
        pass

    def call_done(self) -> None:
        pass


@dataclass
class Collection:
    """What one collection did: the (account, region) pairs read, the calls made and the problems met."""

    window: Window
    agent: AgentOptions = field(default_factory=AgentOptions)  # where the CloudWatch agent's metrics were read
    targets: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    resources: int = 0
    series: int = 0
    queries: int = 0
    planned_calls: int = 0
    calls: int = 0


@dataclass
class _Target:
    rows: int = 0
    series: int = 0
    queries: int = 0
    planned: int = 0
    calls: int = 0
    problems: list[str] = field(default_factory=list)


class _Run:
    """The shared state of one collection: store, pools, stop flag, progress."""

    def __init__(self, store: Store, window: Window, calls: ThreadPoolExecutor, progress: Progress,
                 limits: tuple[int, int], agent: AgentOptions) -> None:
        self.store, self.window, self.calls, self.progress, self.limits = store, window, calls, progress, limits
        self.agent = agent
        self.stop = threading.Event()

    def target(self, account: Account, region: str) -> _Target:
        if self.stop.is_set():
            return _Target()
        prefix = f"{account.account_id}/{region}"

        def client(service: str) -> Any:
            return account.client(service, region)

        rows, problems = collect_inventory(client, account.account_id, region, self.window)
        self.store.save_inventory(account.account_id, region, rows)
        result = _Target(rows=len(rows), problems=problems)
        cloudwatch = client("cloudwatch")
        try:
            series = discover(cloudwatch, rows, self.agent)
        except Exception as exc:  # expected (AWS) or not, the region's inventory is kept
            result.problems.append(f"{prefix}: CloudWatch metrics not collected: ListMetrics failed "
                                   f"({describe_error(exc)})")
            return result
        queries = queries_for(series, self.window.period, self.window.finest)
        result.series, result.queries = len(series), len(queries)
        calls, ids = self._plan(queries, account.account_id, region)
        result.planned = len(calls)
        self.progress.add_calls(len(calls))
        futures = [self.calls.submit(self._call, cloudwatch, call, queries, ids) for call in calls]
        failures = []
        incomplete: dict[int, str] = {}
        for future in futures:
            try:
                fetched = future.result()
            except Interrupted:
                raise
            except Exception as exc:  # one call's failure, expected or not, loses only that call's periods
                failures.append(describe_error(exc))
                continue
            result.calls += fetched.calls
            incomplete.update(fetched.incomplete)
        if failures:
            result.problems.append(f"{prefix}: {len(failures)} of {len(calls)} GetMetricData calls failed "
                                   f"({failures[0]}); their periods will be fetched again on the next run")
        if incomplete:
            result.problems.append(_incomplete(prefix, incomplete, queries))
        return result

    def _plan(self, queries: list[Query], account: str, region: str) -> tuple[list[Call], Any]:
        window = self.window
        ids = self.store.series_ids(series_keys(queries, account, region, window.period))
        fetched = self.store.fetched(ids)
        start, end = epoch(window.start), epoch(window.end)
        needs: dict[int, list[tuple[int, int, int]]] = {}  # per period: every query of a call shares its period
        refetch = []
        for index, series_id in enumerate(ids):
            for low, high in missing_ranges(fetched.get(int(series_id), []), start, end):
                needs.setdefault(queries[index].period or window.period, []).append((index, low, high))
                refetch.append((int(series_id), low, high))
        self.store.forget(pd.DataFrame(refetch, columns=["series_id", "start_ts", "end_ts"]))
        return [call for period, wanted in sorted(needs.items())
                for call in plan_calls(wanted, period, *self.limits)], ids

    def _call(self, cloudwatch: Any, call: Call, queries: list[Query], ids: Any) -> Fetched:
        fetched = fetch_call(cloudwatch, call, queries, ids, self.store, epoch(self.window.settled), self.stop)
        self.progress.call_done()
        return fetched


def _incomplete(prefix: str, incomplete: dict[int, str], queries: list[Query]) -> str:
    """One line for the queries whose GetMetricData results were not data: how many per status, and an example."""
    counts: dict[str, int] = {}
    for status in incomplete.values():
        counts[status] = counts.get(status, 0) + 1
    first = queries[min(incomplete)]
    example = (f"{first.series.resource_id} {first.series.source.namespace} {first.series.source.name} "
               f"{first.stat}: {incomplete[min(incomplete)]}")
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(counts.items()))
    return (f"{prefix}: {len(incomplete)} of {len(queries)} CloudWatch series returned no usable data ({statuses}; "
            f"e.g. {example}); their periods will be fetched again on the next run")


def collect_into_store(options: AwsOptions, store: Store, window: Window, progress: Progress | None = None,
                       limits: tuple[int, int] = (MAX_QUERIES, MAX_POINTS)) -> Collection:
    """Inventory and CloudWatch history of every account × region into ``store``; only missing periods are
    fetched. ``limits`` are GetMetricData's (queries, datapoints) per call."""
    progress = progress or _Silent()
    collection = Collection(window, options.agent)
    accounts, collection.problems = open_accounts(options)
    targets: list[tuple[Account, str]] = []
    for account in accounts:
        try:
            targets.extend((account, region) for region in account_regions(account, options.regions))
        except AWS_ERRORS as exc:
            collection.problems.append(f"{account.label}: could not list its regions ({describe_error(exc)})")
    if not targets:
        raise CollectError("nothing could be collected from AWS: " + "; ".join(collection.problems))
    progress.add_targets(len(targets))
    with ThreadPoolExecutor(options.workers, thread_name_prefix="advisor-region") as regions, \
            ThreadPoolExecutor(options.workers, thread_name_prefix="advisor-call") as calls:
        run = _Run(store, window, calls, progress, limits, options.agent)
        futures: dict[Future[_Target], tuple[Account, str]] = {
            regions.submit(run.target, account, region): (account, region) for account, region in targets}
        try:
            for future in as_completed(futures):
                account, region = futures[future]
                _record(collection, future, account, region)
                progress.target_done(account.account_id, region)
        except BaseException:
            run.stop.set()  # Ctrl-C / SIGTERM: in-flight calls finish and commit, queued ones do not start
            for future in futures:
                future.cancel()
            raise
    store.compact()
    if not collection.targets:
        raise CollectError("nothing could be collected from AWS: " + "; ".join(collection.problems))
    return collection


def _record(collection: Collection, future: Future[_Target], account: Account, region: str) -> None:
    prefix = f"{account.account_id}/{region}"
    try:
        result = future.result()
    except RegionUnavailable as exc:
        collection.problems.append(f"{prefix}: region skipped, nothing could be read ({exc}); it may be "
                                   "disabled for this account or denied by its policies")
        return
    except Exception as exc:  # one region's unexpected failure must not lose the others' data
        collection.problems.append(f"{prefix}: region incomplete ({describe_error(exc)})")
        return
    collection.targets.append((account.account_id, region))
    collection.problems.extend(result.problems)
    collection.resources += result.rows
    collection.series += result.series
    collection.queries += result.queries
    collection.planned_calls += result.planned
    collection.calls += result.calls


def load_frames(store: Store, collection: Collection, catalog: Catalog) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                  list[str]]:
    """The inventory and canonical metrics (the long frame) of the collected targets, read back from the store."""
    data = read_back(store, collection.targets, collection.window, collection.agent, catalog)
    return data.inventory, data.metrics, data.problems


def collect_data(options: AwsOptions, store: Store, window: Window, catalog: Catalog,
                 progress: Progress | None = None, needs: SampleNeeds | None = None) -> AwsData:
    """Collect, then read back from the store (with ``needs``: the metrics summarized group by group)."""
    collection = collect_into_store(options, store, window, progress)
    data = read_back(store, collection.targets, window, collection.agent, catalog, needs)
    data.problems = collection.problems + data.problems
    return data
