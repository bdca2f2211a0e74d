"""The samples reduced per series: everything the analysis reads from the metrics, in one small object.

The features read per-series statistics, the statistics of summed read+write series, daily peaks and means, each
series' last active sample and, for the handlers that replay a series (endpoint auto scaling), the full samples of
a few metrics. :func:`summarize` computes all of it from a long metrics frame with the functions of
:mod:`advisor.engine.stats`. A source too large to hold as one frame (the file source) calls it on groups of whole
resources and :func:`merge`\\ s the parts: every figure is a function of one series (or of one resource's read and
write series), so the parts make exactly the whole, and memory holds series, not samples.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advisor.engine import stats
from advisor.engine.columns import DERIVED_METRICS
from advisor.engine.stats import DailyPeaks, SeriesIndex
from advisor.hourly import HourlyBuckets


@dataclass(frozen=True)
class SampleNeeds:
    """What the features ask of the samples besides the per-series statistics (it depends on the settings)."""

    peaks: tuple[tuple[str, float], ...] = ()  # (metric, quantile of each day's samples)
    means: tuple[str, ...] = ()  # metrics whose daily means are read
    active: tuple[str, ...] = ()  # metrics whose last positive sample is read
    replay: tuple[str, ...] = ()  # metrics whose full series are kept


@dataclass(frozen=True)
class Reread:
    """A streaming source's way back to its samples, for what needs them whole: the days its history covers and
    the long frame of a few resources (calibration replays at most a thousand)."""

    history_days: float
    frame_of: Callable[[Collection[str]], pd.DataFrame]


@dataclass
class SampleSummary:
    """The reduced samples of a fleet over ``window`` (see the module docstring)."""

    window: tuple[pd.Timestamp, pd.Timestamp]
    needs: SampleNeeds
    stats: pd.DataFrame  # stats.series_stats rows, one per series
    derived: pd.DataFrame  # the same for the summed series of DERIVED_METRICS
    peaks: dict[tuple[str, float], DailyPeaks]
    means: dict[str, DailyPeaks]
    active: dict[str, pd.Series]  # epoch seconds of each series' last positive sample (its first if none)
    replay: SeriesIndex
    counts: pd.Series  # samples read per resource (index resource_id)
    hourly: HourlyBuckets | None = field(default=None)  # the report's drill-down series, when built
    reread: Reread | None = field(default=None)  # how to read samples again (a streaming source)

    @property
    def samples(self) -> int:
        return int(self.counts.sum())

    @property
    def days(self) -> tuple[pd.Timestamp, int]:
        return day_grid(self.window)

    def quiet_days(self, metric: str) -> pd.Series:
        """Days from each ``metric`` series' last positive sample to the window's end (index resource_id)."""
        return stats.days_since(self.active[metric], self.window[1])

    def only(self, resource_ids: Iterable[str]) -> SampleSummary:
        """The summary of these resources only (the tag filters)."""
        keep = set(resource_ids)

        def rows(ids: np.ndarray) -> np.ndarray:
            return np.fromiter((rid in keep for rid in ids), dtype=bool, count=len(ids))

        return SampleSummary(
            window=self.window, needs=self.needs,
            stats=self.stats[rows(self.stats["resource_id"].to_numpy())].reset_index(drop=True),
            derived=self.derived[rows(self.derived["resource_id"].to_numpy())].reset_index(drop=True),
            peaks={k: _take_peaks(p, rows(p.resource_ids)) for k, p in self.peaks.items()},
            means={k: _take_peaks(p, rows(p.resource_ids)) for k, p in self.means.items()},
            active={k: s[rows(s.index.to_numpy())] for k, s in self.active.items()},
            replay=stats.take_series(self.replay, rows(self.replay.resource_ids)),
            counts=self.counts[rows(self.counts.index.to_numpy())],
            hourly=None if self.hourly is None else self.hourly.take(rows(self.hourly.resource_ids)),
            reread=self.reread,
        )


def sample_period(timestamps: pd.Series) -> pd.Timedelta:
    """The typical gap between samples: the median gap between distinct times (5 minutes when it cannot be told)."""
    gaps = timestamps.drop_duplicates().sort_values().diff().dropna()
    return pd.Timedelta(gaps.median()) if len(gaps) else pd.Timedelta(minutes=5)


def history_days(timestamps: pd.Series) -> float:
    """Days a history covers, its last sample counting for one period."""
    if timestamps.empty:
        return 0.0
    return (timestamps.max() + sample_period(timestamps) - timestamps.min()).total_seconds() / 86_400


def day_grid(window: tuple[pd.Timestamp, pd.Timestamp]) -> tuple[pd.Timestamp, int]:
    """Midnight UTC of the window's first day, and the number of days it touches (at least 1)."""
    start, end = window
    day0 = start.floor("D")
    return day0, int(np.ceil((end - day0).total_seconds() / 86_400)) or 1


def hour_grid(window: tuple[pd.Timestamp, pd.Timestamp], step: int = 1) -> tuple[int, int]:
    """The columns of hourly buckets ``step`` hours wide over ``window``: the first one's epoch hour (a multiple
    of ``step``) and how many."""
    first, last = (int(t.timestamp() // 3600) // step for t in window)
    return first * step, last - first + 1


def window_hours(window: tuple[pd.Timestamp, pd.Timestamp]) -> float:
    return max((window[1] - window[0]).total_seconds() / 3600.0, 1e-9)


def summarize(metrics: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp], needs: SampleNeeds) -> SampleSummary:
    """Everything the features read from ``metrics`` (a long frame), for the analysis ``window``."""
    counts = metrics["resource_id"].value_counts(sort=False).rename(None).rename_axis(None)
    return summarize_index(stats.index_series(metrics), derived_stats(metrics, window_hours(window)), counts,
                           window, needs)


def summarize_index(index: SeriesIndex, derived: pd.DataFrame, counts: pd.Series,
                    window: tuple[pd.Timestamp, pd.Timestamp], needs: SampleNeeds) -> SampleSummary:
    """:func:`summarize` of samples already indexed (``derived``: :func:`derived_stats` of the same samples;
    ``counts``: samples per resource)."""
    hours = window_hours(window)
    day0, n_days = day_grid(window)
    return SampleSummary(
        window=window, needs=needs,
        stats=stats.series_stats(index, hours),
        derived=derived,
        peaks=_daily_peaks(index, needs.peaks, day0, n_days),
        means={m: stats.daily_means(index, m, day0, n_days) for m in needs.means},
        active={m: stats.last_active(index, m) for m in needs.active},
        replay=stats.take_series(index, np.isin(index.metrics, needs.replay)),
        counts=counts,
    )


def _daily_peaks(index: SeriesIndex, wanted: tuple[tuple[str, float], ...], day0: pd.Timestamp,
                 n_days: int) -> dict[tuple[str, float], DailyPeaks]:
    """Every wanted (metric, quantile), each metric's days sorted once."""
    by_metric: dict[str, tuple[float, ...]] = {}
    for metric, quantile in wanted:
        by_metric[metric] = (*by_metric.get(metric, ()), quantile)
    return {(metric, q): peaks for metric, quantiles in by_metric.items()
            for q, peaks in stats.daily_quantiles(index, metric, quantiles, day0, n_days).items()}


def merge(parts: Sequence[SampleSummary], window: tuple[pd.Timestamp, pd.Timestamp],
          needs: SampleNeeds) -> SampleSummary:
    """One summary of the parts (each over different resources, all over ``window``). The parts give up their
    hourly buckets, the largest part of a summary, as they are copied into the whole."""
    if not parts:
        return summarize(pd.DataFrame({"resource_id": pd.Series(dtype=object), "metric": pd.Series(dtype=object),
                                       "timestamp": pd.Series(dtype="datetime64[us, UTC]"),
                                       "value": pd.Series(dtype=float)}), window, needs)
    steps = [p.hourly.step for p in parts if p.hourly is not None]
    for part in parts:  # one width for all: the widest
        if part.hourly is not None:
            part.hourly = part.hourly.coarsen(max(steps) // part.hourly.step)
    hourly = HourlyBuckets.gather(parts)
    return SampleSummary(
        window=window, needs=needs,
        stats=_concat([p.stats for p in parts]),
        derived=_concat([p.derived for p in parts]),
        peaks={k: _concat_peaks([p.peaks[k] for p in parts]) for k in needs.peaks},
        means={k: _concat_peaks([p.means[k] for p in parts]) for k in needs.means},
        active={k: pd.concat([p.active[k] for p in parts]) for k in needs.active},
        replay=stats.concat_series([p.replay for p in parts]),
        counts=pd.concat([p.counts for p in parts]),
        hourly=hourly,
    )


def realign(summary: SampleSummary, window: tuple[pd.Timestamp, pd.Timestamp]) -> SampleSummary:
    """The summary over another window holding all its samples: coverage against the new window's hours, and the
    daily and hourly columns moved onto the new window's days and hours."""
    if tuple(summary.window) == tuple(window):
        return summary
    hours = window_hours(window)
    day0, n_days = day_grid(window)
    hourly = summary.hourly
    if hourly is not None:
        hour0, n_columns = hour_grid(window, hourly.step)
        offset = (hourly.hour0 - hour0) // hourly.step
        maxes, means, counts = (_shift(getattr(hourly, name), offset, n_columns, fill)
                                for name, fill in (("maxes", np.nan), ("means", np.nan), ("counts", 0)))
        hourly = HourlyBuckets(hourly.resource_ids, hourly.metrics, hour0, maxes, means, counts, hourly.step)
    return SampleSummary(
        window=window, needs=summary.needs,
        stats=_recover(summary.stats, hours), derived=_recover(summary.derived, hours),
        peaks={k: _regrid(p, day0, n_days) for k, p in summary.peaks.items()},
        means={k: _regrid(p, day0, n_days) for k, p in summary.means.items()},
        active=summary.active, replay=summary.replay, counts=summary.counts, hourly=hourly,
    )


def _recover(frame: pd.DataFrame, hours: float) -> pd.DataFrame:
    """Coverage as ``stats.series_stats`` gives it over ``hours``."""
    return frame.assign(coverage=np.clip(frame["hours"] / hours, 0, 1))


def _regrid(peaks: DailyPeaks, day0: pd.Timestamp, n_days: int) -> DailyPeaks:
    offset = int((peaks.day0 - day0) / pd.Timedelta(days=1))
    return DailyPeaks(peaks.resource_ids, _shift(peaks.values, offset, n_days, np.nan), day0)


def _shift(columns: np.ndarray, offset: int, width: int, fill: float) -> np.ndarray:
    """``columns`` placed from column ``offset`` of a ``width``-column array (whatever falls outside is empty)."""
    out = np.full((len(columns), width), fill, dtype=columns.dtype)
    first, stop = max(0, -offset), min(columns.shape[1], width - offset)
    if stop > first:
        out[:, first + offset:stop + offset] = columns[:, first:stop]
    return out


def derived_stats(metrics: pd.DataFrame, hours: float) -> pd.DataFrame:
    """Statistics of the summed series in ``DERIVED_METRICS`` (only resources that have the parts)."""
    present = set(metrics["metric"].cat.categories if isinstance(metrics["metric"].dtype, pd.CategoricalDtype)
                  else metrics["metric"].unique())
    out = []
    for name, parts in DERIVED_METRICS.items():
        if not present & set(parts):
            continue
        rows = stats.prefer_maxima(metrics[metrics["metric"].isin(parts)])
        if rows.empty:
            continue
        summed = rows.groupby(["resource_id", "timestamp"], observed=True, sort=False)["value"].sum().reset_index()
        summed["metric"] = name
        out.append(stats.series_stats(stats.index_series(summed), hours))
    return _concat(out) if out else stats.series_stats(stats.index_series(metrics.iloc[:0]), hours)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    kept = [f for f in frames if not f.empty]
    return pd.concat(kept, ignore_index=True) if kept else frames[0]


def _take_peaks(peaks: DailyPeaks, rows: np.ndarray) -> DailyPeaks:
    return DailyPeaks(peaks.resource_ids[rows], peaks.values[rows], peaks.day0)


def _concat_peaks(parts: list[DailyPeaks]) -> DailyPeaks:
    return DailyPeaks(np.concatenate([p.resource_ids for p in parts]),
                            np.concatenate([p.values for p in parts]), parts[0].day0)
