"""The file source's metrics file, checked and read batch by batch in two passes.

A pass hands the accepted samples, batch by batch, to a sink as compact arrays: integer resource and metric codes,
int64 times, float64 values. The first pass also judges every row (a value outside its field's domain rejects its
resource, with the file, row and field), counts what is ignored and notes where each resource's rows end; a second
pass, over some resources only, happens when the first could not settle them (see ``advisor.sources.reduce``).
Memory holds per-resource counters and one batch, never the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from advisor.errors import SourceError
from advisor.model import METRICS_COLUMNS
from advisor.sources import domains
from advisor.sources.batches import MetricsFile, Restart, ahead
from advisor.sources.decode import (
    METRIC_NAMES,
    PERCENT,
    STAT_VALUES,
    Decoded,
    TimeParser,
    TimeUnit,
    decode,
    time_unit,
)

# The bulk of the data: samples between these quantiles of time, widened by their span on each side.
BULK_QUANTILES = (0.01, 0.99)


def row_offset(path: Path) -> int:
    """Messages number rows from 1; a CSV's header is row 1."""
    return 1 if path.suffix == ".parquet" else 2


@dataclass
class Samples:
    """Accepted samples: resource position in the inventory, metric position in METRIC_NAMES, time, value, stat."""

    rid: np.ndarray  # int32
    metric: np.ndarray  # int8
    stamp: np.ndarray  # int64 in ``unit``
    value: np.ndarray  # float64
    stat: np.ndarray | None  # int8 0 blank, 1 avg, 2 max
    row: np.ndarray | None = None  # int64 position in the file (when the reader's ``with_rows`` is on)

    def __len__(self) -> int:
        return len(self.rid)

    @staticmethod
    def empty() -> Samples:
        return Samples(np.array([], dtype=np.int32), np.array([], dtype=np.int8), np.array([], dtype=np.int64),
                       np.array([], dtype=float), None)

    def take(self, rows: np.ndarray | slice) -> Samples:
        return Samples(self.rid[rows], self.metric[rows], self.stamp[rows], self.value[rows],
                       None if self.stat is None else self.stat[rows], None if self.row is None else self.row[rows])

    @staticmethod
    def concat(parts: list[Samples]) -> Samples:
        stats = [p.stat for p in parts if p.stat is not None]
        rows = [p.row for p in parts if p.row is not None]
        return Samples(np.concatenate([p.rid for p in parts]), np.concatenate([p.metric for p in parts]),
                       np.concatenate([p.stamp for p in parts]), np.concatenate([p.value for p in parts]),
                       np.concatenate(stats) if stats else None,
                       np.concatenate(rows) if len(rows) == len(parts) else None)

    def frame(self, ids: np.ndarray, unit: TimeUnit) -> pd.DataFrame:
        """The long frame of these samples (``ids``: resource id by position)."""
        present = np.bincount(self.rid, minlength=len(ids)) > 0
        local = (np.cumsum(present) - 1).astype(np.int32)[self.rid]
        metrics_present = np.bincount(self.metric, minlength=len(METRIC_NAMES)) > 0
        metric = (np.cumsum(metrics_present) - 1).astype(np.int8)[self.metric]
        out = pd.DataFrame({
            "resource_id": pd.Categorical.from_codes(local, categories=pd.Index(ids[present].tolist(), dtype=object)),
            "metric": pd.Categorical.from_codes(metric, categories=pd.Index(
                [m for m, present in zip(METRIC_NAMES, metrics_present, strict=True) if present], dtype=object)),
            "timestamp": pd.DatetimeIndex(self.stamp.view(f"M8[{unit}]")).tz_localize("UTC"),
            "value": self.value,
        })
        if self.stat is not None:
            out["stat"] = STAT_VALUES[self.stat]
        return out


class Sink(Protocol):
    """Where a pass puts the accepted samples."""

    def reset(self) -> None: ...

    def add(self, samples: Samples, first: int, rows_read: int) -> None: ...


class MetricsReader:
    """One metrics file of a file source, checked against the inventory's ``ids`` (``refused``: ids the inventory
    lists but rejected)."""

    def __init__(self, path: Path, ids: pd.Index, refused: set[str]) -> None:
        self.path, self.ids, self.refused = path, ids, refused
        self.file = MetricsFile(path)
        missing = [c for c in METRICS_COLUMNS if c not in self.file.columns]
        if missing:
            raise SourceError(f"{path}: missing required column(s) {', '.join(missing)}")
        self.columns = [c for c in (*METRICS_COLUMNS, "stat") if c in self.file.columns]
        self.unit: TimeUnit = time_unit(self.file.timestamp_type)
        self._times = TimeParser(self.unit)
        self.problems: list[str] = []
        self.reasons: dict[int, str] = {}  # position -> why the resource is rejected (its first bad row)
        self.rejected = np.zeros(len(ids), dtype=bool)
        self.empty = np.zeros(len(ids), dtype=np.int64)  # empty values per resource
        self.last_row = np.full(len(ids), -1, dtype=np.int64)  # each resource's last row (so far)
        self.with_rows = False  # give the sink each sample's position in the file (``Samples.row``)

    def row(self, position: int) -> int:
        return position + row_offset(self.path)

    def read(self, sink: Sink, window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
             only: np.ndarray | None = None, report: bool = True) -> None:
        """One pass over the file: the accepted samples (of the ``only`` resources, inside ``window``) go to
        ``sink``. The first pass (no ``only``) also judges every row and counts what is ignored; samples outside
        ``window`` are counted in a problem unless ``report`` is off."""
        judge = only is None
        while True:
            state = (len(self.problems), dict(self.reasons), self.rejected.copy(), self.empty.copy(),
                     self.last_row.copy())
            try:
                self._read(sink, window, only, report)
                return
            except Restart:  # pandas' parser reads the file from now on: read it again from the start
                if judge:
                    self.problems = self.problems[:state[0]]
                    self.reasons, self.rejected, self.empty, self.last_row = state[1:]
                sink.reset()

    def _decoded(self) -> Iterator[Decoded]:
        """The file's batches decoded, read ahead on a thread while the pass judges and reduces the current one."""
        def decoded() -> Iterator[Decoded]:
            first = 0
            for batch in self.file.batches(self.columns):
                yield decode(batch, first, self.ids, self.refused, self._times)
                first += batch.num_rows

        return ahead(decoded)

    def _read(self, sink: Sink, window: tuple[pd.Timestamp, pd.Timestamp] | None, only: np.ndarray | None,
              report: bool) -> None:
        judge = only is None
        unknown, unknown_ids, first_unknown = 0, set(), None
        outside, first_outside = 0, None
        bounds = None
        for batch in self._decoded():
            if bounds is None and window is not None:
                bounds = (in_unit(window[0], self.unit, True), in_unit(window[1], self.unit, False))
            known = batch.rid >= 0
            if judge:
                not_listed = batch.rid == -1
                if not_listed.any():
                    where = np.flatnonzero(not_listed)
                    unknown += len(where)
                    unknown_ids.update(batch.rid_names[np.unique(batch.rid_index[where])])
                    if first_unknown is None:
                        first_unknown = (batch.first + int(where[0]), batch.rid_names[batch.rid_index[where[0]]])
                self._judge(batch, known)
                self.empty += np.bincount(batch.rid[known & batch.empty], minlength=len(self.ids))
                self._note_last_rows(batch, known)
            keep = known & ~batch.empty
            keep[keep] = ~self.rejected[batch.rid[keep]] if only is None else only[batch.rid[keep]]
            rows = np.flatnonzero(keep)
            samples = self._samples(batch, rows)
            if self.with_rows:
                samples.row = batch.first + rows
            if bounds is not None:
                inside = (samples.stamp >= bounds[0]) & (samples.stamp <= bounds[1])
                if not inside.all():
                    outside += int((~inside).sum())
                    if first_outside is None:
                        position = int(rows[np.argmin(inside)])
                        first_outside = (batch.first + position, batch.cell("timestamp", position))
                    samples = samples.take(inside)
            sink.add(samples, batch.first, batch.first + len(batch))
        if unknown:
            assert first_unknown is not None
            self.problems.append(f"{self.path.name}: {unknown} sample(s) of {len(unknown_ids)} resource id(s) not in "
                                 f"the inventory ignored (first: {first_unknown[1]!r} on row "
                                 f"{self.row(first_unknown[0])})")
        if judge:
            count = int(self.empty[~self.rejected].sum())
            if count:
                self.problems.append(f"{self.path.name}: {count} sample(s) with an empty value ignored")
        if outside and report:
            assert first_outside is not None and window is not None
            self.problems.append(self.outside_problem(outside, window, *first_outside))

    def outside_problem(self, count: int, window: tuple[pd.Timestamp, pd.Timestamp], position: int,
                        cell: object) -> str:
        """The problem of ``count`` samples dated outside ``window``, the first at ``position`` (its raw
        ``cell``)."""
        return (f"{self.path.name}: {count} sample(s) dated outside the analysis window {window[0]:%Y-%m-%d %H:%M} "
                f"to {window[1]:%Y-%m-%d %H:%M} UTC dropped (first on row {self.row(position)}: {domains.show(cell)})")

    def cell(self, column: str, position: int) -> object:
        """The raw cell of ``column`` at ``position`` as a pass holds it (for a message), read again from the file."""
        while True:
            first = 0
            try:
                for batch in self.file.batches([column]):
                    if position < first + batch.num_rows:
                        return batch.column(column).slice(position - first, 1).to_pandas().iat[0]
                    first += batch.num_rows
            except Restart:  # pandas' parser reads the file from now on
                continue
            raise IndexError(f"{self.path}: no row {self.row(position)}")

    @staticmethod
    def _samples(batch: Decoded, rows: np.ndarray) -> Samples:
        """The samples of ``rows`` (percentages a hair over 100 clipped)."""
        every = len(rows) == len(batch)
        take = slice(None) if every else rows  # a view when the whole batch is kept
        value = batch.value[take]
        metric = batch.metric[take]
        percent = PERCENT[metric]
        np.clip(value, 0, 100, out=value, where=percent)
        return Samples(batch.rid[take], metric, batch.stamp[take], value,
                       None if batch.stat is None else batch.stat[take])

    def _judge(self, batch: Decoded, known: np.ndarray) -> None:
        """Reject the resources of this batch's bad rows (the first bad row of each says why)."""
        if batch.all_good():
            return
        checks = batch.checks()
        bad = known & np.logical_or.reduce(list(checks.values()))
        if not bad.any():
            return
        rows = np.flatnonzero(bad)
        codes, first = np.unique(batch.rid[rows], return_index=True)
        fresh = ~self.rejected[codes]
        for position in sorted(rows[first[fresh]]):  # in file order, as the reasons are listed
            column = next(name for name, failed in checks.items() if failed[position])
            code = int(batch.rid[position])
            self.reasons[code] = (f"{self.path.name} row {self.row(batch.first + int(position))}, field {column}: "
                                  f"{batch.reason(column, int(position))}")
            self.rejected[code] = True

    def _note_last_rows(self, batch: Decoded, known: np.ndarray) -> None:
        rows = np.flatnonzero(known)
        codes = batch.rid[rows]
        ends = rows[np.r_[codes[1:] != codes[:-1], True]] if len(rows) else rows  # last row of each run
        np.maximum.at(self.last_row, batch.rid[ends], batch.first + ends)

    def repeated_problem(self, count: int) -> None:
        if count:
            self.problems.append(f"{self.path.name}: {count} repeated sample(s) (same resource, metric and time) "
                                 "ignored")


def bulk_window(times: TimeCounts, unit: TimeUnit, start: pd.Timestamp | None,
                end: pd.Timestamp | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The given bounds, else the bulk of the data: its central quantiles widened by their own span each way
    (a stray row dated 1900 or 9999 cannot stretch the window to centuries)."""
    if start is not None and end is not None:
        return start, end
    stamps, counts = times.result()
    if not len(stamps):
        return None
    moments = pd.DatetimeIndex(stamps.view(f"M8[{unit}]")).tz_localize("UTC")
    seconds = moments.as_unit("s").asi8.astype(float)  # years 1 to 9999 fit
    low_q, high_q = weighted_quantiles(seconds, counts, BULK_QUANTILES)
    span = max(high_q - low_q, 86_400.0)
    lo = start if start is not None else moments[seconds >= low_q - span].min()
    hi = end if end is not None else moments[seconds <= high_q + span].max()
    return lo, hi


_UNITS = ("s", "ms", "us", "ns")


def in_unit(moment: pd.Timestamp, unit: str, up: bool) -> int:
    """``moment`` as a count of ``unit`` since the epoch, rounded (up for a start) to stay inside the window."""
    stamp = moment if moment.tzinfo is None else moment.tz_convert("UTC").tz_localize(None)
    count = int(stamp.asm8.view(np.int64))
    finer = _UNITS.index(stamp.unit) - _UNITS.index(unit)
    if finer <= 0:
        return count * 1000 ** -finer
    return -(-count // 1000**finer) if up else count // 1000**finer


class TimeCounts:
    """How many samples fall on each distinct time (int64 in the file's unit)."""

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []
        self._size = 0

    def add(self, stamps: np.ndarray) -> None:
        if not len(stamps):
            return
        counted = pc.value_counts(pa.array(stamps, type=pa.int64()))
        self._keep(counted.field("values").to_numpy(), counted.field("counts").to_numpy())

    def merge(self, other: TimeCounts) -> None:
        for values, counts in other._parts:
            self._keep(values, counts)

    def _keep(self, values: np.ndarray, counts: np.ndarray) -> None:
        self._parts.append((values, counts))
        self._size += len(values)
        if self._size > 4 * 1_000_000:
            self._parts = [self.result()]
            self._size = len(self._parts[0][0])

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct times, sorted, and their counts."""
        if not self._parts:
            return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
        values = np.concatenate([v for v, _ in self._parts])
        counts = np.concatenate([c for _, c in self._parts])
        distinct, inverse = np.unique(values, return_inverse=True)
        return distinct, np.bincount(inverse, weights=counts, minlength=len(distinct)).astype(np.int64)


def weighted_quantiles(values: np.ndarray, counts: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """``np.quantile(np.repeat(values, counts), quantiles)`` for sorted ``values``, without the repeat (numpy's
    default, linear, method, step by step as numpy computes it)."""
    total = int(counts.sum())
    q = np.asarray(quantiles, dtype=float)
    virtual = (total - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= total - 1
    previous[above], following[above] = total - 1, total - 1
    below = virtual < 0
    previous[below], following[below] = 0, 0
    ends = np.cumsum(counts)
    low = values[np.searchsorted(ends, previous.astype(np.int64), side="right")]
    high = values[np.searchsorted(ends, following.astype(np.int64), side="right")]
    gamma = virtual - np.where(above, -1.0, previous)
    difference = high - low
    out = low + difference * gamma
    return np.where(gamma >= 0.5, high - difference * (1 - gamma), out)
