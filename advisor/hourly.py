"""Hourly drill-down buckets: per series, the maximum and mean of each clock hour (or of wider buckets).

A data shape of the audit's result (``AuditResult.hourly``), so it lives beside the model, below the engine that
fills it (``engine.stats.hourly_buckets``) and the report that draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class HourlyBuckets:
    """Per series, the maximum and the mean of the samples of each clock hour (or of ``step`` hours): what the
    report's drill-down draws.

    Column ``k`` covers the ``step`` hours from ``hour0 + k * step`` (epoch hours; with ``step`` > 1, ``hour0`` is
    a multiple of it, so columns of different sets line up). The maximum is over every sample; the mean over those
    that count for it (not the ``stat = max`` ones) and ``counts`` says how many, so wider buckets are exact maxima
    and count-weighted means. float32 is plenty: the report quantizes to one byte.
    """

    resource_ids: np.ndarray  # (S,)
    metrics: np.ndarray  # (S,)
    hour0: int
    maxes: np.ndarray  # (S, H) float32, NaN where the hour has no sample
    means: np.ndarray  # (S, H) float32, NaN where no sample counts for the mean
    counts: np.ndarray  # (S, H) uint16, samples behind each mean (saturating)
    step: int = 1  # hours per column

    @property
    def nbytes(self) -> int:
        return self.maxes.nbytes + self.means.nbytes + self.counts.nbytes

    def take(self, rows: np.ndarray) -> HourlyBuckets:
        return HourlyBuckets(self.resource_ids[rows], self.metrics[rows], self.hour0, self.maxes[rows],
                             self.means[rows], self.counts[rows], self.step)

    def coarsen(self, factor: int) -> HourlyBuckets:
        """Buckets ``factor`` times wider, on the grid of multiples of the new width."""
        if factor == 1:
            return self
        step = self.step * factor
        hour0 = self.hour0 // step * step
        lead = (self.hour0 - hour0) // self.step
        width = -(-(lead + self.maxes.shape[1]) // factor)
        maxes, means, counts = coarse_columns(self, np.arange(len(self.resource_ids)), -lead, width * factor, factor)
        return HourlyBuckets(self.resource_ids, self.metrics, hour0, maxes.astype(np.float32),
                             means.astype(np.float32), counts, step)

    @staticmethod
    def gather(holders: Sequence[Any]) -> HourlyBuckets | None:
        """One set of the ``hourly`` buckets of ``holders`` (over the same hours, different resources), taken from
        them one at a time (each holder's ``hourly`` is then None), so they are never held twice."""
        parts = [h.hourly for h in holders if h.hourly is not None]
        if not parts:
            return None
        first = parts[0]
        assert all(p.hour0 == first.hour0 and p.step == first.step and p.maxes.shape[1] == first.maxes.shape[1]
                   for p in parts)
        del parts
        rows = sum(len(h.hourly.resource_ids) for h in holders if h.hourly is not None)
        shape = (rows, first.maxes.shape[1])
        out = HourlyBuckets(np.empty(rows, dtype=object), np.empty(rows, dtype=object), first.hour0,
                            np.empty(shape, dtype=first.maxes.dtype), np.empty(shape, dtype=first.means.dtype),
                            np.empty(shape, dtype=first.counts.dtype), first.step)
        del first
        at = 0
        for holder in holders:
            part, holder.hourly = holder.hourly, None
            if part is None:
                continue
            end = at + len(part.resource_ids)
            for name in ("resource_ids", "metrics", "maxes", "means", "counts"):
                getattr(out, name)[at:end] = getattr(part, name)
            at = end
        return out


def coarse_columns(hourly: HourlyBuckets, rows: np.ndarray, first: int, width: int,
                   factor: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maxima, means and counts (float64, float64, uint16) of ``rows`` over columns ``first`` to
    ``first + width`` (outside the set's columns: no sample), ``factor`` columns to a bucket."""
    n_buckets = width // factor
    columns = hourly.maxes.shape[1]
    lo, hi = max(first, 0), min(first + width, columns)
    maxes = np.full((len(rows), width), np.nan)
    sums = np.zeros((len(rows), width))
    counts = np.zeros((len(rows), width), dtype=np.int64)
    if hi > lo:
        at = slice(lo - first, hi - first)
        maxes[:, at] = hourly.maxes[rows, lo:hi]
        counts[:, at] = hourly.counts[rows, lo:hi]
        sums[:, at] = np.nan_to_num(hourly.means[rows, lo:hi].astype(float)) * counts[:, at]
    if factor == 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            return maxes, np.where(counts > 0, sums / counts, np.nan), counts.astype(np.uint16)
    shape = (len(rows), n_buckets, factor)
    maxes = maxes.reshape(shape)
    seen = ~np.isnan(maxes).all(axis=2)
    bucket_max = np.where(seen, np.nanmax(np.where(np.isnan(maxes), -np.inf, maxes), axis=2), np.nan)
    total = counts.reshape(shape).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        bucket_mean = np.where(total > 0, sums.reshape(shape).sum(axis=2) / total, np.nan)
    return bucket_max, bucket_mean, np.minimum(total, np.iinfo(np.uint16).max).astype(np.uint16)
