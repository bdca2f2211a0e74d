"""Samples streamed in, per-series summaries out: whole resources are summarized once their last row has passed.

A file grouped by resource (as exports are) completes resources batch after batch, so only about one batch of
samples is held at a time. A file in another order completes them later (at worst at its end) and holds their
samples, compactly, until then. Each group of complete resources becomes a long frame of its own, summarized by
:func:`advisor.engine.samples.summarize` (the same code as a whole frame) plus its hourly drill-down series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.engine import samples, stats
from advisor.sources.decode import TimeUnit
from advisor.sources.metrics_file import Samples

CHUNK_SAMPLES = 4_000_000  # samples summarized together (about 1,000 resources of 4 metrics x 14 days at 5 min)


class Reducer:
    """Collects samples (``add``) and summarizes complete resources in groups; ``finish`` gives the summary."""

    def __init__(self, ids: np.ndarray, last_row: np.ndarray, unit: TimeUnit,
                 window: tuple[pd.Timestamp, pd.Timestamp], needs: samples.SampleNeeds,
                 chunk: int | None = None) -> None:
        self.ids, self.last_row, self.unit = ids, last_row, unit
        self.window, self.needs, self.chunk = window, needs, chunk or CHUNK_SAMPLES
        hour0 = int(window[0].timestamp() // 3600)
        self.hours = (hour0, int(window[1].timestamp() // 3600) - hour0 + 1)
        self.pending: list[Samples] = []
        self.held = 0
        self.limit = self.chunk
        self.parts: list[samples.SampleSummary] = []
        self.repeated = 0

    def add(self, batch: Samples, rows_read: int) -> None:
        """Samples of the rows up to ``rows_read`` (a resource whose last row is before it is complete)."""
        if len(batch):
            self.pending.append(batch)
            self.held += len(batch)
        if self.held >= self.limit:
            self._flush(self.last_row < rows_read)

    def finish(self) -> samples.SampleSummary:
        self._flush(np.ones(len(self.ids), dtype=bool))
        return samples.merge(self.parts, self.window, self.needs)

    def _flush(self, complete: np.ndarray) -> None:
        if not self.pending:
            return
        held = Samples.concat(self.pending)
        done = complete[held.rid]
        ready = held.take(done) if not done.all() else held
        rest = held.take(~done) if not done.all() else None
        self.pending = [rest] if rest is not None and len(rest) else []
        self.held = len(rest) if rest is not None else 0
        # nothing completes in a file ordered by time: hold on without concatenating on every batch
        self.limit = max(self.chunk, 2 * self.held)
        for group in _groups(ready, self.chunk):
            self.parts.append(self._summarize(group))

    def _summarize(self, group: Samples) -> samples.SampleSummary:
        frame = group.frame(self.ids, self.unit)
        if not _distinct_times(group):
            repeated = frame.duplicated(subset=[c for c in ("resource_id", "metric", "timestamp", "stat")
                                                if c in frame])
            if repeated.any():
                self.repeated += int(repeated.sum())
                frame = frame[~repeated.to_numpy()].reset_index(drop=True)
        summary = samples.summarize(frame, self.window, self.needs)
        summary.hourly = stats.hourly_buckets(frame, hours=self.hours)
        return summary


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


def _distinct_times(group: Samples) -> bool:
    """True when no two samples can be repeats: each series' rows are contiguous with rising times (a cheap
    check that holds for files written series by series; otherwise pandas finds the repeats)."""
    key = group.rid.astype(np.int64) * 64 + group.metric.astype(np.int64) * 4
    if group.stat is not None:
        key += group.stat
    if len(key) < 2:
        return True
    same = key[1:] == key[:-1]
    if not (~same | (group.stamp[1:] > group.stamp[:-1])).all():
        return False
    runs = int((~same).sum()) + 1
    return runs == int((np.bincount(key - key.min()) > 0).sum())
