"""The file source's metrics file, checked and read batch by batch in two passes.

The first pass judges every row (a value outside its field's domain rejects its resource, with the file, row and
field), counts what is ignored, notes where each resource's rows end and, unless the command fixed it, finds the
analysis window (the bulk of the accepted samples' times). The second pass yields the accepted samples inside the
window as compact arrays: integer resource and metric codes, int64 times, float64 values. Memory holds per-resource
counters, the distinct sample times and one batch, never the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from advisor.errors import SourceError
from advisor.model import METRICS_COLUMNS
from advisor.sources import domains
from advisor.sources.batches import MetricsFile, Restart
from advisor.sources.decode import METRIC_NAMES, PERCENT, STAT_VALUES, Decoded, TimeUnit, decode, time_unit

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

    def __len__(self) -> int:
        return len(self.rid)

    def take(self, rows: np.ndarray | slice) -> Samples:
        return Samples(self.rid[rows], self.metric[rows], self.stamp[rows], self.value[rows],
                       None if self.stat is None else self.stat[rows])

    @staticmethod
    def concat(parts: list[Samples]) -> Samples:
        stats = [p.stat for p in parts if p.stat is not None]
        return Samples(np.concatenate([p.rid for p in parts]), np.concatenate([p.metric for p in parts]),
                       np.concatenate([p.stamp for p in parts]), np.concatenate([p.value for p in parts]),
                       np.concatenate(stats) if stats else None)

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
        self.unit: TimeUnit = "us"
        self._reset()

    def _reset(self) -> None:
        self.reasons: dict[int, str] = {}  # position -> why the resource is rejected (its first bad row)
        self.rejected = np.zeros(len(self.ids), dtype=bool)
        self.empty = np.zeros(len(self.ids), dtype=np.int64)  # empty values per resource
        self.last_row = np.full(len(self.ids), -1, dtype=np.int64)  # each resource's last row
        self.problems: list[str] = []
        self._times = _TimeCounts()

    def _decoded(self) -> Iterator[Decoded]:
        first = 0
        for batch in self.file.batches(self.columns):
            if first == 0:
                self.unit = time_unit(batch.schema.field("timestamp").type)
            yield decode(batch, first, self.ids, self.refused, self.unit)
            first += batch.num_rows

    def row(self, position: int) -> int:
        return position + row_offset(self.path)

    # First pass ---------------------------------------------------------------------------------------------------

    def scan(self, count_times: bool) -> None:
        """Judge every row; with ``count_times``, also count the accepted samples' times (for the window)."""
        while True:
            try:
                self._scan(count_times)
                return
            except Restart:  # pandas' parser reads the file from now on: count from the start again
                self._reset()

    def _scan(self, count_times: bool) -> None:
        unknown, unknown_ids, first_unknown = 0, set(), None
        rejected = self.rejected
        counted = np.zeros(len(self.ids), dtype=bool)
        recount = False
        for batch in self._decoded():
            not_listed = batch.rid == -1
            if not_listed.any():
                where = np.flatnonzero(not_listed)
                unknown += len(where)
                unknown_ids.update(batch.rid_names[np.unique(batch.rid_index[where])])
                if first_unknown is None:
                    first_unknown = (batch.first + int(where[0]), batch.rid_names[batch.rid_index[where[0]]])
            known = batch.rid >= 0
            newly = self._judge(batch, known, rejected)
            recount |= bool(counted[newly].any())
            self.empty += np.bincount(batch.rid[known & batch.empty], minlength=len(self.ids))
            self._note_last_rows(batch, known)
            if count_times:
                keep = known & ~batch.empty
                keep[keep] = ~rejected[batch.rid[keep]]
                counted[batch.rid[keep]] = True
                self._times.add(batch.stamp[keep])
        if unknown:
            assert first_unknown is not None
            self.problems.append(f"{self.path.name}: {unknown} sample(s) of {len(unknown_ids)} resource id(s) not in "
                                 f"the inventory ignored (first: {first_unknown[1]!r} on row "
                                 f"{self.row(first_unknown[0])})")
        if count_times and recount:  # a resource counted before a later row rejected it: count again without it
            self._times = _TimeCounts()
            for _, _, samples in self._accepted():
                self._times.add(samples.stamp)

    def _judge(self, batch: Decoded, known: np.ndarray, rejected: np.ndarray) -> np.ndarray:
        """Reject the resources of this batch's bad rows (the first bad row of each says why); the new ones."""
        checks = batch.checks()
        bad = known & np.logical_or.reduce(list(checks.values()))
        if not bad.any():
            return np.array([], dtype=np.int64)
        rows = np.flatnonzero(bad)
        codes, first = np.unique(batch.rid[rows], return_index=True)
        fresh = ~rejected[codes]
        newly = []
        for position in sorted(rows[first[fresh]]):  # in file order, as the reasons are listed
            column = next(name for name, failed in checks.items() if failed[position])
            code = int(batch.rid[position])
            self.reasons[code] = (f"{self.path.name} row {self.row(batch.first + int(position))}, field {column}: "
                                  f"{batch.reason(column, int(position))}")
            rejected[code] = True
            newly.append(code)
        return np.array(newly, dtype=np.int64)

    def _note_last_rows(self, batch: Decoded, known: np.ndarray) -> None:
        rows = np.flatnonzero(known)
        codes = batch.rid[rows]
        ends = rows[np.r_[codes[1:] != codes[:-1], True]] if len(rows) else rows  # last row of each run
        np.maximum.at(self.last_row, batch.rid[ends], batch.first + ends)

    def empty_problem(self) -> None:
        count = int(self.empty[~self.rejected].sum())
        if count:
            self.problems.append(f"{self.path.name}: {count} sample(s) with an empty value ignored")

    def window(self, start: pd.Timestamp | None,
               end: pd.Timestamp | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The given bounds, else the bulk of the data: its central quantiles widened by their own span each way
        (a stray row dated 1900 or 9999 cannot stretch the window to centuries)."""
        if start is not None and end is not None:
            return start, end
        stamps, counts = self._times.result()
        if not len(stamps):
            return None
        times = pd.DatetimeIndex(stamps.view(f"M8[{self.unit}]")).tz_localize("UTC")
        seconds = times.as_unit("s").asi8.astype(float)  # years 1 to 9999 fit
        low_q, high_q = weighted_quantiles(seconds, counts, BULK_QUANTILES)
        span = max(high_q - low_q, 86_400.0)
        lo = start if start is not None else times[seconds >= low_q - span].min()
        hi = end if end is not None else times[seconds <= high_q + span].max()
        return lo, hi

    # Second pass --------------------------------------------------------------------------------------------------

    def _accepted(self) -> Iterator[tuple[Decoded, np.ndarray, Samples]]:
        """Each batch, its rows of accepted, non-empty samples and those samples (percentages a hair over 100
        clipped)."""
        for batch in self._decoded():
            keep = batch.rid >= 0
            keep[keep] = ~self.rejected[batch.rid[keep]]
            keep &= ~batch.empty
            rows = np.flatnonzero(keep)
            value = batch.value[rows]
            metric = batch.metric[rows]
            percent = PERCENT[metric]
            value[percent] = np.clip(value[percent], 0, 100)
            yield batch, rows, Samples(batch.rid[rows], metric, batch.stamp[rows], value,
                                       None if batch.stat is None else batch.stat[rows])

    def samples(self, window: tuple[pd.Timestamp, pd.Timestamp] | None) -> Iterator[tuple[Samples, int]]:
        """The accepted samples inside ``window``, batch by batch, with the rows read so far; samples outside are
        dropped and counted. Starts over (raising :class:`Restart`) if the file's parser changes."""
        outside, first = 0, None
        for batch, rows, samples in self._accepted():
            if window is not None:
                lo, hi = (_in_unit(t, self.unit, up) for t, up in ((window[0], True), (window[1], False)))
                inside = (samples.stamp >= lo) & (samples.stamp <= hi)
                if not inside.all():
                    outside += int((~inside).sum())
                    if first is None:
                        position = int(rows[np.argmin(inside)])
                        first = (batch.first + position, batch.cell("timestamp", position))
                    samples = samples.take(inside)
            yield samples, batch.first + len(batch)
        if outside:
            assert first is not None and window is not None
            self.problems.append(f"{self.path.name}: {outside} sample(s) dated outside the analysis window "
                                 f"{window[0]:%Y-%m-%d %H:%M} to {window[1]:%Y-%m-%d %H:%M} UTC dropped (first on row "
                                 f"{self.row(first[0])}: {domains.show(first[1])})")

    def repeated_problem(self, count: int) -> None:
        if count:
            self.problems.append(f"{self.path.name}: {count} repeated sample(s) (same resource, metric and time) "
                                 "ignored")


_UNITS = ("s", "ms", "us", "ns")


def _in_unit(moment: pd.Timestamp, unit: str, up: bool) -> int:
    """``moment`` as a count of ``unit`` since the epoch, rounded (up for a start) to stay inside the window."""
    stamp = moment if moment.tzinfo is None else moment.tz_convert("UTC").tz_localize(None)
    count = int(stamp.asm8.view(np.int64))
    finer = _UNITS.index(stamp.unit) - _UNITS.index(unit)
    if finer <= 0:
        return count * 1000 ** -finer
    return -(-count // 1000**finer) if up else count // 1000**finer


class _TimeCounts:
    """How many samples fall on each distinct time (int64 in the file's unit)."""

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []
        self._size = 0

    def add(self, stamps: np.ndarray) -> None:
        if not len(stamps):
            return
        counted = pc.value_counts(pa.array(stamps, type=pa.int64()))
        self._parts.append((counted.field("values").to_numpy(), counted.field("counts").to_numpy()))
        self._size += len(self._parts[-1][0])
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
