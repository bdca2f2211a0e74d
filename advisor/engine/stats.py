"""Vectorized statistics over the long metrics frame.

Every (resource, metric) pair is a *series*. Samples are sorted by series and time once, scattered into a padded
2-D array (series x samples) and sorted along rows, so every percentile of every series comes from one
``np.sort`` call; daily peaks use the same trick on (series, day) rows. Nothing loops per sample or per series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.engine.columns import STAT_NAMES
from advisor.hourly import HourlyBuckets

PERCENTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
_DAY = 86_400
_TIME_BITS = 33  # seconds offsets up to ~272 years
# Padded arrays are built in chunks of series so memory stays bounded on large fleets. They hold float32:
# sorting is twice as fast and percentiles of utilization need no more than 7 significant digits.
_CHUNK_CELLS = 40_000_000


@dataclass
class DailyPeaks:
    """Per-series daily peak (the policy percentile of each day's samples), NaN where a day has no data."""

    resource_ids: np.ndarray  # (S,) resource id of each row
    values: np.ndarray  # (S, D) float64
    day0: pd.Timestamp  # midnight UTC of column 0


@dataclass
class SeriesIndex:
    """The metrics frame sorted by series then time, with each series' slice."""

    resource_ids: np.ndarray  # (S,)
    metrics: np.ndarray  # (S,)
    starts: np.ndarray  # (S,) first row of each series
    counts: np.ndarray  # (S,)
    seconds: np.ndarray  # (N,) int64 epoch seconds, sorted within series
    values: np.ndarray  # (N,) float64


def index_series(metrics: pd.DataFrame) -> SeriesIndex:
    """Sort samples by (resource, metric, time) unless they already are, and find each series' slice."""
    frame = prefer_maxima(metrics)
    rid_codes, rid_uniques = _codes(frame["resource_id"])
    met_codes, met_uniques = _codes(frame["metric"])
    return index_arrays(rid_codes, rid_uniques, met_codes, met_uniques, frame["timestamp"].dt.as_unit("s").array.asi8,
                        frame["value"].to_numpy(dtype=np.float64))


def index_arrays(rid_codes: np.ndarray, rid_names: np.ndarray, met_codes: np.ndarray, met_names: np.ndarray,
                 seconds: np.ndarray, values: np.ndarray) -> SeriesIndex:
    """:func:`index_series` of samples given as codes into ``rid_names`` and ``met_names``, epoch seconds and
    values (a source that holds its samples as arrays needs no frame)."""
    key = rid_codes.astype(np.int64)
    key *= max(len(met_names), 1)
    key += met_codes
    if len(key) > 1:
        # One int64 per sample orders by (series, time): series key in the high bits, seconds in the low 33.
        composite = key << _TIME_BITS
        composite |= seconds - seconds.min()
        if not (composite[1:] >= composite[:-1]).all():
            order = np.argsort(composite, kind="stable")
            key, seconds, values = key[order], seconds[order], values[order]
    if len(key) == 0:
        empty = np.array([], dtype=object)
        return SeriesIndex(empty, empty, np.array([], dtype=np.int64), np.array([], dtype=np.int64),
                           seconds, values)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    counts = np.diff(np.r_[starts, len(key)])
    series_key = key[starts]
    n_metrics = max(len(met_names), 1)
    return SeriesIndex(
        resource_ids=np.asarray(rid_names, dtype=object)[series_key // n_metrics],
        metrics=np.asarray(met_names, dtype=object)[series_key % n_metrics],
        starts=starts, counts=counts, seconds=seconds, values=values,
    )


def same_second(index: SeriesIndex) -> bool:
    """Whether two samples of a series fall on the same second (repeats are possible only then)."""
    if len(index.seconds) < 2:
        return False
    equal = np.diff(index.seconds) == 0
    equal[index.starts[1:] - 1] = False  # the step from one series to the next
    return bool(equal.any())


def series_stats(index: SeriesIndex, window_hours: float) -> pd.DataFrame:
    """One row per series: mean, percentiles, max, share above 90, samples, hours observed, days observed."""
    n_series = len(index.starts)
    out = {name: np.full(n_series, np.nan) for name in STAT_NAMES}
    if n_series == 0:
        return pd.DataFrame({"resource_id": [], "metric": [], **out})
    sums = np.add.reduceat(index.values, index.starts)
    out["mean"] = sums / index.counts
    out["samples"] = index.counts.astype(float)
    for rows, padded in _padded_chunks(index.starts, index.counts, index.values):
        padded.sort(axis=1)  # NaN padding sorts to the end of each row
        counts = index.counts[rows]
        last = counts - 1
        for name, q in PERCENTILES.items():
            out[name][rows] = row_quantile(padded, counts, q)
        out["min"][rows] = padded[:, 0]
        out["max"][rows] = padded[np.arange(len(rows)), last]
        out["above_90"][rows] = (padded > 90).sum(axis=1) / counts
        out["above_98"][rows] = (padded >= 98).sum(axis=1) / counts  # at capacity: the demand is censored
        out["nonzero"][rows] = (padded > 0).sum(axis=1) / counts
    period = _typical_period(index)
    first = index.seconds[index.starts]
    last_ts = index.seconds[index.starts + index.counts - 1]
    out["hours"] = np.minimum(index.counts * period, last_ts - first + period) / 3600.0
    out["days"] = _distinct_days(index).astype(float)
    frame = pd.DataFrame({"resource_id": index.resource_ids, "metric": index.metrics, **out})
    frame["coverage"] = np.clip(frame["hours"] / window_hours, 0, 1) if window_hours > 0 else np.nan
    return frame


def _distinct_days(index: SeriesIndex) -> np.ndarray:
    """Days with a sample, per series: its first sample's day plus each change of day inside the series (the
    changes are few: they are found once over all samples and counted per series by position)."""
    day = index.seconds // _DAY
    changes = np.flatnonzero(day[1:] != day[:-1]) + 1  # sample positions where the day differs from the last one
    ends = index.starts + index.counts
    return 1 + np.searchsorted(changes, ends, side="left") - np.searchsorted(changes, index.starts, side="right")


def daily_peaks(index: SeriesIndex, metric: str, quantile: float, day0: pd.Timestamp, n_days: int) -> DailyPeaks:
    """The ``quantile`` of each day's samples for every series of ``metric`` (1.0 = the daily maximum)."""
    return daily_quantiles(index, metric, (quantile,), day0, n_days)[quantile]


def daily_quantiles(index: SeriesIndex, metric: str, quantiles: tuple[float, ...], day0: pd.Timestamp,
                    n_days: int) -> dict[float, DailyPeaks]:
    """:func:`daily_peaks` for several quantiles of the same metric, from one sort of each day's samples."""
    chosen = np.flatnonzero(index.metrics == metric)
    values = {q: np.full((len(chosen), n_days), np.nan) for q in quantiles}
    if len(chosen) == 0 or n_days <= 0:
        return {q: DailyPeaks(index.resource_ids[chosen], v, day0) for q, v in values.items()}
    day0_s = int(day0.timestamp())
    rows_of = np.repeat(np.arange(len(chosen)), index.counts[chosen])
    sample_pos = _expand(index.starts[chosen], index.counts[chosen])
    day = (index.seconds[sample_pos] - day0_s) // _DAY
    keep = (day >= 0) & (day < n_days)
    vals = index.values[sample_pos]
    if not keep.all():
        rows_of, day, vals = rows_of[keep], day[keep], vals[keep]
    group = rows_of * n_days + day  # sorted: series are in order and time is sorted within each series
    if len(group) == 0:
        return {q: DailyPeaks(index.resource_ids[chosen], v, day0) for q, v in values.items()}
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    counts = np.diff(np.r_[starts, len(group)])
    peaks = {q: np.empty(len(starts)) for q in quantiles}
    for rows, padded in _padded_chunks(starts, counts, vals):
        padded.sort(axis=1)
        for q in quantiles:
            peaks[q][rows] = row_quantile(padded, counts[rows], q)
    g = group[starts]
    for q in quantiles:
        values[q][g // n_days, g % n_days] = peaks[q]
    return {q: DailyPeaks(index.resource_ids[chosen], v, day0) for q, v in values.items()}


def daily_means(index: SeriesIndex, metric: str, day0: pd.Timestamp, n_days: int) -> DailyPeaks:
    """The mean of each day's samples for every series of ``metric`` (NaN where a day has no data)."""
    chosen = np.flatnonzero(index.metrics == metric)
    values = np.full((len(chosen), n_days), np.nan)
    if len(chosen) == 0 or n_days <= 0:
        return DailyPeaks(index.resource_ids[chosen], values, day0)
    rows_of = np.repeat(np.arange(len(chosen)), index.counts[chosen])
    sample_pos = _expand(index.starts[chosen], index.counts[chosen])
    day = (index.seconds[sample_pos] - int(day0.timestamp())) // _DAY
    keep = (day >= 0) & (day < n_days)
    cell = rows_of[keep] * n_days + day[keep]
    sums = np.bincount(cell, weights=index.values[sample_pos][keep], minlength=len(chosen) * n_days)
    counts = np.bincount(cell, minlength=len(chosen) * n_days)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(counts > 0, sums / counts, np.nan).reshape(len(chosen), n_days)
    return DailyPeaks(index.resource_ids[chosen], values, day0)


def last_active(index: SeriesIndex, metric: str) -> pd.Series:
    """Epoch seconds of each ``metric`` series' last positive sample (its first sample if never positive).

    Index resource_id, only resources with the metric; :func:`days_since` turns it into "no invocations for 9 days".
    """
    chosen = np.flatnonzero(index.metrics == metric)
    if len(chosen) == 0:
        return pd.Series(dtype=float)
    rows = np.repeat(np.arange(len(chosen)), index.counts[chosen])
    positions = _expand(index.starts[chosen], index.counts[chosen])
    active = index.values[positions] > 0
    last = index.seconds[index.starts[chosen]].astype(float)  # never positive: quiet since the first sample
    np.maximum.at(last, rows[active], index.seconds[positions][active].astype(float))
    return pd.Series(last, index=index.resource_ids[chosen])


def days_since(seconds: pd.Series, end: pd.Timestamp) -> pd.Series:
    return (end.timestamp() - seconds) / _DAY


def series_of(index: SeriesIndex, resource_id: str, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(epoch seconds, values) of one series, or None when the resource has no such metric."""
    hit = np.flatnonzero((index.resource_ids == resource_id) & (index.metrics == metric))
    if len(hit) == 0:
        return None
    start, count = index.starts[hit[0]], index.counts[hit[0]]
    return index.seconds[start:start + count], index.values[start:start + count]


def take_series(index: SeriesIndex, rows: np.ndarray) -> SeriesIndex:
    """The series of ``index`` where the boolean ``rows`` is set, with their samples only."""
    chosen = np.flatnonzero(rows)
    positions = _expand(index.starts[chosen], index.counts[chosen])
    counts = index.counts[chosen]
    return SeriesIndex(index.resource_ids[chosen], index.metrics[chosen], np.cumsum(counts) - counts, counts,
                       index.seconds[positions], index.values[positions])


def concat_series(parts: list[SeriesIndex]) -> SeriesIndex:
    """One index of several (each over different resources)."""
    counts = np.concatenate([p.counts for p in parts]).astype(np.int64)
    return SeriesIndex(np.concatenate([p.resource_ids for p in parts]), np.concatenate([p.metrics for p in parts]),
                       np.cumsum(counts) - counts, counts, np.concatenate([p.seconds for p in parts]),
                       np.concatenate([p.values for p in parts]))


def hourly_buckets(metrics: pd.DataFrame, resource_ids: np.ndarray | None = None,
                   hours: tuple[int, int] | None = None) -> HourlyBuckets:
    """Hourly maxima and means of every series of ``metrics`` (of ``resource_ids`` only, when given).

    ``hours`` is ``(hour0, n)``: the columns to fill (samples outside are left out); by default the hours the
    samples span. Without a ``stat`` column this is :func:`hourly_from_index` of the sorted samples; with one, the
    maximum is over every sample and the mean over those that are not a period's maximum.
    """
    if resource_ids is not None:
        metrics = metrics[metrics["resource_id"].isin(resource_ids).to_numpy()]
    if "stat" not in metrics.columns:
        return hourly_from_index(index_series(metrics), hours)
    rid_codes, rid_names = _codes(metrics["resource_id"])
    metric_codes, metric_names = _codes(metrics["metric"])
    values = metrics["value"].to_numpy(dtype=float)
    hour = metrics["timestamp"].dt.as_unit("s").array.asi8 // 3600
    keep = (rid_codes >= 0) & (metric_codes >= 0)
    hour0, n_hours = hours if hours is not None else _hour_span(hour[keep])
    keep &= (hour >= hour0) & (hour < hour0 + n_hours)
    for_mean = ~(metrics["stat"] == "max").to_numpy(dtype=bool, na_value=False)
    if not keep.all():
        rid_codes, metric_codes, hour, values, for_mean = (a[keep] for a in (rid_codes, metric_codes, hour, values,
                                                                             for_mean))
    n_metrics = max(len(metric_names), 1)
    pair = rid_codes.astype(np.intp) * n_metrics + metric_codes
    present_mask = np.bincount(pair, minlength=len(rid_names) * n_metrics) > 0
    present = np.flatnonzero(present_mask)
    key = (np.cumsum(present_mask) - 1)[pair] * max(n_hours, 1) + (hour - hour0)
    size = len(present) * n_hours
    maxes = np.full(size, -np.inf)
    np.maximum.at(maxes, key, values)
    maxes[np.isneginf(maxes)] = np.nan
    sums = np.bincount(key[for_mean], weights=values[for_mean], minlength=size)
    counts = np.bincount(key[for_mean], minlength=size)
    return _hourly(rid_names[present // n_metrics], metric_names[present % n_metrics], hour0,
                   (len(present), n_hours), maxes, sums, counts)


def hourly_from_index(index: SeriesIndex, hours: tuple[int, int] | None = None) -> HourlyBuckets:
    """Hourly maxima and means of every series of ``index`` (sorted: each (series, hour) is one run)."""
    hour = index.seconds // 3600
    hour0, n_hours = hours if hours is not None else _hour_span(hour)
    boundary = np.r_[True, hour[1:] != hour[:-1]] if len(hour) else np.zeros(0, dtype=bool)
    boundary[index.starts] = True  # a new series starts a new run even within the same hour
    runs = np.flatnonzero(boundary)
    column = hour[runs] - hour0
    inside = (column >= 0) & (column < n_hours)
    size = len(index.starts) * n_hours
    maxes, sums, counts = np.full(size, np.nan), np.zeros(size), np.zeros(size, dtype=np.int64)
    if len(runs):
        series = np.searchsorted(index.starts, runs, side="right") - 1  # the series of each run
        cell = (series * n_hours + column)[inside]
        maxes[cell] = np.maximum.reduceat(index.values, runs)[inside]
        sums[cell] = np.add.reduceat(index.values, runs)[inside]
        counts[cell] = np.diff(np.r_[runs, len(hour)])[inside]
    return _hourly(index.resource_ids, index.metrics, hour0, (len(index.starts), n_hours), maxes, sums, counts)


def _hour_span(hour: np.ndarray) -> tuple[int, int]:
    return (int(hour.min()), int(hour.max() - hour.min()) + 1) if len(hour) else (0, 0)


def _hourly(resource_ids: np.ndarray, metrics: np.ndarray, hour0: int, shape: tuple[int, int], maxes: np.ndarray,
            sums: np.ndarray, counts: np.ndarray) -> HourlyBuckets:
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    return HourlyBuckets(np.asarray(resource_ids, dtype=object), np.asarray(metrics, dtype=object), hour0,
                         maxes.astype(np.float32).reshape(shape), means.astype(np.float32).reshape(shape),
                         np.minimum(counts, np.iinfo(np.uint16).max).astype(np.uint16).reshape(shape))


def wide_features(stats: pd.DataFrame) -> pd.DataFrame:
    """Pivot per-series stats into one row per resource with ``{metric}_{stat}`` columns."""
    if stats.empty:
        return pd.DataFrame(index=pd.Index([], name="resource_id"))
    value_columns = [c for c in (*STAT_NAMES, "coverage") if c in stats.columns]
    wide = stats.pivot(index="resource_id", columns="metric", values=value_columns)
    stats_level, metrics_level = wide.columns.get_level_values(0), wide.columns.get_level_values(1)
    wide.columns = pd.Index([f"{metric}_{stat}" for stat, metric in zip(stats_level, metrics_level, strict=True)])
    grouped = stats.groupby("resource_id")
    wide["hours_observed"] = grouped["hours"].max()
    wide["days_observed"] = grouped["days"].max()
    wide["coverage"] = grouped["coverage"].max()
    wide["datapoints"] = grouped["samples"].sum()
    wide.index.name = "resource_id"
    return wide


def prefer_maxima(metrics: pd.DataFrame) -> pd.DataFrame:
    """When a source gives both per-period averages and maxima, size from the maxima (as Compute Optimizer)."""
    if "stat" not in metrics.columns:
        return metrics
    stat = metrics["stat"].astype(str).str.lower()
    has_max = metrics.loc[stat == "max", ["resource_id", "metric"]].drop_duplicates()
    if has_max.empty:
        return metrics
    pair = pd.MultiIndex.from_frame(metrics[["resource_id", "metric"]].astype(str))
    max_pairs = pd.MultiIndex.from_frame(has_max.astype(str))
    drop = (stat != "max").to_numpy() & pair.isin(max_pairs)
    return metrics.loc[~drop]


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), np.asarray(column.cat.categories.astype(str))
    codes, uniques = pd.factorize(column, sort=False)
    return codes, np.asarray(uniques, dtype=object).astype(str)


def _padded_chunks(starts: np.ndarray, counts: np.ndarray, values: np.ndarray):
    """Yield (row indices, padded float array) chunks; rows hold each group's values then NaN."""
    width = int(counts.max()) if len(counts) else 0
    per_chunk = max(1, _CHUNK_CELLS // max(width, 1))
    for begin in range(0, len(starts), per_chunk):
        rows = np.arange(begin, min(begin + per_chunk, len(starts)))
        c = counts[rows]
        first, last = starts[rows[0]], starts[rows[-1]] + c[-1]
        if (c == c[0]).all() and last - first == c[0] * len(rows):
            # Regular case: equal-length groups laid end to end are already a 2-D block.
            yield rows, values[first:last].astype(np.float32).reshape(len(rows), int(c[0]))
            continue
        padded = np.full((len(rows), int(c.max())), np.nan, dtype=np.float32)
        row_of = np.repeat(np.arange(len(rows)), c)
        source = _expand(starts[rows], c)
        padded[row_of, source - np.repeat(starts[rows], c)] = values[source]
        yield rows, padded


def _expand(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ranges ``starts[i] .. starts[i] + counts[i]`` without a Python loop."""
    total = int(counts.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + offsets


def row_quantile(sorted_rows: np.ndarray, counts: np.ndarray, q: float) -> np.ndarray:
    """Linear-interpolated quantile of each row's first ``counts`` (sorted) values, as numpy's default."""
    position = (counts - 1) * q
    lower = np.floor(position).astype(np.int64)
    upper = np.minimum(lower + 1, counts - 1)
    rows = np.arange(len(counts))
    low_v = sorted_rows[rows, lower]
    high_v = sorted_rows[rows, upper]
    return low_v + (high_v - low_v) * (position - lower)


def _typical_period(index: SeriesIndex) -> np.ndarray:
    """Each series' sampling period in seconds: the median gap between samples (300 for a lone sample).

    Most series are regular (every gap equal), which min/max per series finds in one pass; only irregular
    series pay for a sort of their gaps.
    """
    period = np.full(len(index.starts), 300.0)
    multi = np.flatnonzero(index.counts > 1)
    if len(multi) == 0:
        return period
    steps = np.diff(index.seconds)  # int64: exact, as the float gaps below
    boundary = (index.starts + index.counts - 1)[:-1]  # the step from a series' last sample to the next series
    limits = np.iinfo(np.int64)
    steps[boundary] = limits.max
    low = np.minimum.reduceat(steps, index.starts[multi])
    steps[boundary] = limits.min
    high = np.maximum.reduceat(steps, index.starts[multi])
    period[multi] = low
    irregular = multi[low != high]
    if len(irregular):
        gaps = np.r_[steps.astype(float), np.nan]
        for rows, padded in _padded_chunks(index.starts[irregular], index.counts[irregular] - 1, gaps):
            padded.sort(axis=1)
            period[irregular[rows]] = row_quantile(padded, index.counts[irregular][rows] - 1, 0.5)
    return np.where(period > 0, period, 300.0)
