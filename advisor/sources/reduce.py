"""Samples streamed in, per-series summaries out, in one pass over a file grouped by resource.

A resource is summarized once its rows have stopped coming (it is absent from the latest batch), in groups of about
:data:`CHUNK_SAMPLES` samples: each group becomes a long frame of its own, summarized by
:func:`advisor.engine.samples.summarize` (the same code as a whole frame) plus its hourly drill-down series. The
analysis window is known only at the end (the bulk of every accepted sample's time), so a group is summarized over
its own bulk window and realigned afterwards; a resource that cannot be settled that way is *unsettled* and read
again, alone with the others like it, in a second pass that knows the window and where each resource's rows end:

* its rows came back after it was summarized (a file not grouped by resource);
* it has samples outside its group's bulk or outside the final window (a stray date), which are dropped;
* it was rejected by a row after it was summarized (the window is then counted again).

A file grouped by resource (as exports are) is read once and holds about one group of samples at a time. A file in
another order holds its samples, compactly, until its resources complete (at worst, its end).

Groups are summarized on :data:`WORKERS` threads while the file goes on being read (numpy and pyarrow release the
GIL): a group's work is a function of its samples alone, and what it changes in the pass (times, first and last
samples, unsettled resources, drill-down budget) is applied in group order, so the result does not depend on timing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.engine import samples, stats
from advisor.hourly import HourlyBuckets
from advisor.sources.decode import METRIC_NAMES, TimeUnit
from advisor.sources.metrics_file import MetricsReader, Samples, TimeCounts, bulk_window, in_unit

HOURLY_BUDGET = 512 << 20  # bytes of drill-down buckets held: beyond (40,000 resources x 14 days), wider buckets
CHUNK_SAMPLES = 1_000_000  # samples summarized together (about 250 resources of 4 metrics x 14 days at 5 min)
WORKERS = 2  # threads summarizing groups (the standard machine has two cores)
IN_FLIGHT = WORKERS + 1  # groups submitted and not yet applied: bounds the samples held

Window = tuple[pd.Timestamp, pd.Timestamp]
METRIC_ARRAY = np.array(METRIC_NAMES, dtype=object)
DERIVED_PARTS = [METRIC_NAMES.index(m) for parts in samples.DERIVED_METRICS.values() for m in parts]
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


@dataclass
class _Summarized:
    """What one group became, and what it changes in the pass (applied in group order)."""

    runs: np.ndarray  # resource positions, one per run of the group
    first: np.ndarray  # each run's first and last time
    last: np.ndarray
    times: TimeCounts
    stray: np.ndarray | None  # resources with a sample outside the group's bulk window (not summarized)
    repeated: np.ndarray | None  # repeated samples ignored, per resource position
    part: samples.SampleSummary | pd.DataFrame | None  # a frame for the Collector; None if nothing is left
    hourly: HourlyBuckets | None


class Reducer:
    """A pass's sink: holds samples (``add``) and summarizes complete resources in groups.

    ``window`` is the analysis window when it is known before the pass (``--start`` and ``--end``, or a second
    pass); ``last_row`` then says exactly where each resource's rows end, else the pass guesses (see the module
    docstring). ``rejected`` is the reader's, filled as the pass goes.
    """

    def __init__(self, reader: MetricsReader, needs: samples.SampleNeeds, window: Window | None = None,
                 exact: bool = False) -> None:
        self.ids, self.unit, self.needs = reader.ids.to_numpy(), reader.unit, needs
        self.rejected, self.last_row = reader.rejected, reader.last_row
        self.window, self.exact = window, exact
        self.chunk = CHUNK_SAMPLES
        self._no_derived = samples.derived_stats(Samples.empty().frame(self.ids, self.unit), 1.0)
        self._pool: ThreadPoolExecutor | None = None
        self._running: deque[Future[_Summarized]] = deque()
        self.reset()

    def reset(self) -> None:
        while self._running:  # a pass started again: what its groups became is dropped
            self._running.popleft().cancel()
        n = len(self.ids)
        self.pending: list[Samples] = []
        self.held = 0
        self.limit = self.chunk
        self.parts: list = []  # what each group became (a summary; a frame for the Collector)
        self.hourly_step, self.hourly_bytes = 1, 0
        self.summarized = np.zeros(n, dtype=bool)
        self.unsettled = np.zeros(n, dtype=bool)
        self.repeated = np.zeros(n, dtype=np.int64)
        self.first_time = np.full(n, np.iinfo(np.int64).max)
        self.last_time = np.full(n, np.iinfo(np.int64).min)
        self.times = TimeCounts()
        self.recount = False  # a summarized resource was rejected later: its times were counted

    def add(self, batch: Samples, first: int, rows_read: int) -> None:
        """The samples of rows ``first`` to ``rows_read``."""
        if not self.exact and len(batch):
            back = self.summarized[batch.rid]
            if back.any():  # rows of a summarized resource: it is read again in the second pass
                self.unsettled[batch.rid[back]] = True
                self.times.add(batch.stamp[back])
                batch = batch.take(~back)
        if len(batch):
            self.pending.append(batch)
            self.held += len(batch)
        if self.held >= self.limit:
            # exact: a resource whose last row is read is complete; else one absent from the latest batch
            self._flush(self.last_row < (rows_read if self.exact else first))

    def finish(self) -> None:
        try:
            self._flush(np.ones(len(self.ids), dtype=bool))
            self._apply(0)
        finally:
            self.close()
        self.recount = bool((self.summarized & self.rejected).any())

    def close(self) -> None:
        """Stop the pass's threads (a pass that raised leaves its groups unapplied)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            _give_back_freed_memory()

    def _flush(self, complete: np.ndarray) -> None:
        if not self.pending:
            return
        held = Samples.concat(self.pending) if len(self.pending) > 1 else self.pending[0]
        done = complete[held.rid]
        ready, rest = _split(held, done)
        self.pending = [rest] if rest is not None and len(rest) else []
        self.held = len(self.pending[0]) if self.pending else 0
        # nothing completes in a file ordered by time: hold on without concatenating on every batch
        self.limit = max(self.chunk, 2 * self.held)
        if not self.exact:
            rejected = self.rejected[ready.rid]
            ready = ready.take(~rejected) if rejected.any() else ready
        for group in _groups(ready, self.chunk):
            self._summarize(group)

    def _summarize(self, group: Samples) -> None:
        """Summarize ``group`` on a worker thread; apply what the oldest groups became, in order."""
        self.summarized[group.rid] = True  # rows of these resources read from now on come back (see ``add``)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="advisor-reduce")
        self._running.append(self._pool.submit(self._work, group))
        self._apply(IN_FLIGHT)

    def _apply(self, keep: int) -> None:
        """Apply the oldest groups' results until ``keep`` are left running."""
        while len(self._running) > keep:
            done = self._running.popleft().result()
            np.minimum.at(self.first_time, done.runs, done.first)
            np.maximum.at(self.last_time, done.runs, done.last)
            self.times.merge(done.times)
            if done.stray is not None:
                self.unsettled[done.stray] = True
            if done.repeated is not None:
                self.repeated += done.repeated
            if done.part is not None:
                if done.hourly is not None:
                    assert isinstance(done.part, samples.SampleSummary)
                    self._keep_hourly(done.part, done.hourly)
                self.parts.append(done.part)

    def _work(self, group: Samples) -> _Summarized:
        """One group's summary (on a worker thread: reads the pass's settings, changes nothing of it)."""
        starts = np.flatnonzero(np.r_[True, group.rid[1:] != group.rid[:-1]])  # runs of one resource
        runs = group.rid[starts]
        done = _Summarized(runs, np.minimum.reduceat(group.stamp, starts), np.maximum.reduceat(group.stamp, starts),
                           TimeCounts(), None, None, None, None)
        done.times.add(group.stamp)
        window = self.window
        if window is None:
            window = bulk_window(done.times, self.unit, None, None)
            assert window is not None
            bounds = _bounds(window, self.unit)
            stray = (group.stamp < bounds[0]) | (group.stamp > bounds[1])
            if stray.any():  # a stray date: the resource waits for the second pass, which knows the window
                done.stray = np.unique(group.rid[stray])
                group = group.take(~np.isin(group.rid, done.stray))
                if not len(group):
                    return done
        index = None if group.stat is not None else self._index(group)
        if index is None:  # a stat column, or two samples of a series on one second: the frame's way
            frame = group.frame(self.ids, self.unit)
            repeated = frame.duplicated(subset=[c for c in ("resource_id", "metric", "timestamp", "stat")
                                                if c in frame]).to_numpy()
            if repeated.any():
                done.repeated = np.bincount(group.rid[repeated], minlength=len(self.ids))
                frame = frame[~repeated].reset_index(drop=True)
            done.part, done.hourly = self._reduce(frame, window)
        else:
            done.part, done.hourly = self._reduce_index(group, index, window)
        return done

    def _index(self, group: Samples) -> stats.SeriesIndex | None:
        """The group's samples sorted into series, unless two of a series fall on one second (maybe repeats)."""
        seconds = group.stamp // _PER_SECOND[self.unit]
        index = stats.index_arrays(group.rid, self.ids, group.metric, METRIC_ARRAY, seconds, group.value)
        return None if stats.same_second(index) else index

    def _reduce(self, frame: pd.DataFrame,
                window: Window) -> tuple[samples.SampleSummary | pd.DataFrame, HourlyBuckets | None]:
        summary = samples.summarize(frame, window, self.needs)
        return summary, stats.hourly_buckets(frame, hours=samples.hour_grid(window))

    def _keep_hourly(self, summary: samples.SampleSummary, hourly: HourlyBuckets) -> None:
        """The drill-down buckets, widened (all of them, by halves) to keep within HOURLY_BUDGET."""
        summary.hourly = hourly.coarsen(self.hourly_step)
        self.hourly_bytes += summary.hourly.nbytes
        while self.hourly_bytes > HOURLY_BUDGET and self.hourly_step < 24 * 7:
            self.hourly_step *= 2
            self.hourly_bytes = 0
            for part in [*self.parts, summary]:
                part.hourly = part.hourly.coarsen(self.hourly_step // part.hourly.step)
                self.hourly_bytes += part.hourly.nbytes

    def _reduce_index(self, group: Samples, index: stats.SeriesIndex,
                      window: Window) -> tuple[samples.SampleSummary, HourlyBuckets]:
        parts = np.isin(group.metric, DERIVED_PARTS)
        hours = samples.window_hours(window)
        derived = samples.derived_stats(group.take(parts).frame(self.ids, self.unit), hours) if parts.any() \
            else self._no_derived.assign(coverage=np.array([], dtype=float))
        present = np.bincount(group.rid, minlength=len(self.ids))
        counts = pd.Series(present[present > 0], index=self.ids[present > 0])
        summary = samples.summarize_index(index, derived, counts, window, self.needs)
        return summary, stats.hourly_from_index(index, samples.hour_grid(window))

    def settled(self, keep: np.ndarray, window: Window) -> list:
        """What the groups became, for the ``keep`` resources only, over ``window`` (taken: one copy at a time)."""
        names = set(self.ids[keep].tolist())
        out = []
        for part in self._take_parts():
            out.append(samples.realign(part if keep.all() else part.only(names), window))
        return out

    def _take_parts(self) -> Iterator:
        parts, self.parts = self.parts, []
        parts.reverse()
        while parts:
            yield parts.pop()

    def result(self, parts: list, window: Window) -> samples.SampleSummary:
        return samples.merge(parts, window, self.needs)


class Collector(Reducer):
    """A sink that keeps the samples as one long frame (for the backtest and small exports)."""

    def _index(self, group: Samples) -> None:
        return None  # the frame, always

    def _reduce(self, frame: pd.DataFrame, window: Window) -> tuple[pd.DataFrame, None]:
        return frame, None

    def settled(self, keep: np.ndarray, window: Window) -> list:
        names = self.ids[keep]
        return [part if keep.all() else part[part["resource_id"].isin(names).to_numpy()]
                for part in self._take_parts()]

    def result(self, parts: list, window: Window) -> pd.DataFrame:  # type: ignore[override]
        frames = [part.assign(resource_id=part["resource_id"].astype(str), metric=part["metric"].astype(str))
                  for part in parts]
        return pd.concat(frames, ignore_index=True) if frames else Samples.empty().frame(self.ids, self.unit)


def reduce_samples(reader: MetricsReader, sink: type[Reducer], needs: samples.SampleNeeds,
                   start: pd.Timestamp | None, end: pd.Timestamp | None,
                   only: np.ndarray | None = None) -> tuple[object, Window | None, int, float]:
    """Read the file in one pass (two when some resources are unsettled; see the module docstring): what ``sink``
    made of the accepted samples (a summary, or a frame), the analysis window, the repeated samples ignored and the
    days the accepted samples cover (``samples.history_days``). ``only`` (with ``start`` and ``end``) reads again
    the samples of these resources (a mask over the reader's ids) and judges no row."""
    given = (start, end) if start is not None and end is not None else None
    first = sink(reader, needs, window=given)
    _read(reader, first, given, only=only)
    rejected = reader.rejected
    if first.recount:  # times of a resource rejected after it was summarized were counted: count them again
        counter = _TimeCounter()
        reader.read(counter, only=~rejected)
        first.times = counter.times
    window = given or bulk_window(first.times, reader.unit, start, end)
    if window is None:
        return None, None, 0, 0.0
    days = _history_days(first.times, window, reader.unit)
    unsettled = first.unsettled & ~rejected
    if given is None:
        bounds = _bounds(window, reader.unit)
        unsettled |= first.summarized & ~rejected & ((first.first_time < bounds[0]) | (first.last_time > bounds[1]))
    keep = first.summarized & ~rejected & ~unsettled
    parts = first.settled(keep, window)
    repeated = int(first.repeated[keep].sum())
    if unsettled.any():
        second = sink(reader, needs, window=window, exact=True)
        _read(reader, second, window, only=unsettled, report=given is None)
        parts += second.parts
        repeated += int(second.repeated.sum())
    return first.result(parts, window), window, repeated, days


def _read(reader: MetricsReader, sink: Reducer, window: Window | None, only: np.ndarray | None,
          report: bool = True) -> None:
    """One pass into ``sink``, finished (its threads stopped even when the pass raises)."""
    try:
        reader.read(sink, window, only=only, report=report)
        sink.finish()
    finally:
        sink.close()


def scan_window(reader: MetricsReader, start: pd.Timestamp | None,
                end: pd.Timestamp | None) -> tuple[Window | None, float]:
    """The analysis window and the days its samples cover, as :func:`reduce_samples` finds them, from a pass that
    only judges the rows and counts the accepted samples' times (a sharded run fixes both before its shards read)."""
    given = (start, end) if start is not None and end is not None else None
    counter = _TimeCounter()
    reader.read(counter, given)
    if reader.rejected.any():  # times of rows read before their resource was rejected: count them again
        counter.reset()
        reader.read(counter, given, only=~reader.rejected, report=False)
    window = given or bulk_window(counter.times, reader.unit, start, end)
    return window, 0.0 if window is None else _history_days(counter.times, window, reader.unit)


def _history_days(times: TimeCounts, window: Window, unit: TimeUnit) -> float:
    """:func:`samples.history_days` of the distinct times inside ``window`` (those of the samples kept)."""
    stamps, _ = times.result()
    low, high = _bounds(window, unit)
    inside = stamps[(stamps >= low) & (stamps <= high)]
    return samples.history_days(pd.Series(pd.DatetimeIndex(inside.view(f"M8[{unit}]")).tz_localize("UTC")))


class _TimeCounter:
    """A sink that only counts the samples' times."""

    def __init__(self) -> None:
        self.times = TimeCounts()

    def reset(self) -> None:
        self.times = TimeCounts()

    def add(self, batch: Samples, first: int, rows_read: int) -> None:
        self.times.add(batch.stamp)


def _bounds(window: Window, unit: TimeUnit) -> tuple[int, int]:
    return in_unit(window[0], unit, True), in_unit(window[1], unit, False)


def _split(held: Samples, done: np.ndarray) -> tuple[Samples, Samples | None]:
    """The samples where ``done`` is set, and the others (slices when the done ones come first)."""
    count = int(done.sum())
    if count == len(done):
        return held, None
    if done[:count].all():  # a file grouped by resource: the incomplete resources are the last rows
        return held.take(slice(0, count)), held.take(slice(count, None))
    return held.take(done), held.take(~done)


def _groups(ready: Samples, limit: int) -> list[Samples]:
    """Whole resources in groups of about ``limit`` samples, each resource's samples in their file order."""
    if len(ready) <= limit:
        return [ready] if len(ready) else []
    counts = np.bincount(ready.rid)
    starts = np.flatnonzero(np.r_[True, ready.rid[1:] != ready.rid[:-1]])
    if len(starts) == int((counts > 0).sum()):  # each resource's rows together (a file grouped by resource)
        group = starts // limit
        cuts = starts[np.r_[True, group[1:] != group[:-1]]]
    else:  # interleaved: order the rows by group, stably (each resource keeps its file order)
        group_of = ((np.cumsum(counts) - counts) // limit).astype(np.int32)
        ready = ready.take(np.argsort(group_of[ready.rid], kind="stable"))
        group = group_of[ready.rid]
        cuts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    bounds = [*cuts.tolist(), len(ready)]
    return [ready.take(slice(a, b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _give_back_freed_memory() -> None:
    """Return to the system what the worker threads freed: glibc keeps it in each thread's own arena, where the
    analysis (on the main thread) cannot reuse it, and the process would carry it to its peak."""
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is not None:  # glibc only
        trim(0)
