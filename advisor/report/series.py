"""Compact utilization series for the drill-down charts: bucketed, quantized to one byte, base64 per resource.

Two resolutions. *Full*: each metric's hourly maximum and mean (coarser only when the window is longer than
:data:`MAX_BUCKETS` hours). *Compact*: the maximum alone over buckets of a few hours, or a day (the daily peak),
as wide as it takes to fit the budget. A fleet whose full series fit :data:`BYTE_BUDGET` gets full resolution
throughout; a larger one keeps it for its ``full_top`` resources with the largest savings and gets the compact
series for the rest (at 10,000 resources over 14 days: 6-hourly maxima), so the report stays small enough to
send. Each resource's entry states its bucket width and whether it has means, and the page says which it shows.

Values are quantized to ``uint8``: percentages in 0.5-point steps (0–125 %), other metrics (bytes/s, IOPS…) in
1/250 of the series' maximum; 255 marks a bucket without samples. Each resource's bytes are base64-encoded on their
own and concatenated into one JSON string, so the page decodes one resource (``atob`` of a slice) when its row is
expanded and never parses the fleet's series.

Layout of a resource's bytes: for each of its metrics in ``metrics`` order, ``n`` maxima, then ``n`` means if it
has them.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from advisor.engine.stats import hourly_buckets
from advisor.hourly import HourlyBuckets, coarse_columns
from advisor.model import PERCENT_METRICS
from advisor.settings import OutputConfig

BYTE_BUDGET = 3_000_000  # raw bytes over all series (base64 adds a third)
MAX_BUCKETS = 2_400  # per series: hourly for 100 days
COMPACT_HOURS = (1, 2, 3, 4, 6, 8, 12, 24)  # bucket widths that divide a day; past a day, whole days
MISSING = 255
LEVELS = 250  # quantization levels 0..250
PERCENT_STEP = 0.5  # percentage points per level
METRIC_ORDER = ("cpu", "memory", "gpu", "gpu_memory")


@dataclass
class EncodedSeries:
    """The fleet's series: one JSON string of base64 slices, and per resource where its slice is and what it holds."""

    text: str = '""'
    # resource_id -> {"at": [offset, length] in ``text``, "step": seconds per bucket, "means": bool,
    #                 "metrics": [[name, percent, t0 (epoch s), n], …], "scales": [value of a level, …]}
    # (a fleet's resources mostly share their "metrics" list: the report writes it once)
    index: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Tier:
    """Series rows (of the bucket set) drawn at one resolution: ``factor`` columns to a bucket from ``column``."""

    rows: np.ndarray
    factor: int
    means: bool
    column: int = 0
    buckets: int = 0


def _metric_rank(name: str) -> tuple[int, str]:
    return (METRIC_ORDER.index(name) if name in METRIC_ORDER else len(METRIC_ORDER), name)


def quantize(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Rows of values as uint8 levels of ``scale`` (one per row); NaN becomes :data:`MISSING`."""
    levels = np.clip(np.round(values / scale[:, None]), 0, LEVELS)
    return np.where(np.isnan(values), MISSING, levels).astype(np.uint8)


def _scales(maxes: np.ndarray, percent: np.ndarray) -> np.ndarray:
    """Per row: 0.5 for percentages, else the row's maximum / 250 (1 for a row of zeros), to 4 significant
    digits (short to write; the maximum then decodes within 1/10,000 of itself)."""
    peak = np.nanmax(np.where(np.isnan(maxes), -np.inf, maxes), axis=1)
    scale = np.where(np.isfinite(peak) & (peak > 0), peak / LEVELS, 1.0)
    return np.where(percent, PERCENT_STEP, [float(f"{value:.4g}") for value in scale.tolist()])


def _compact_hours(span_hours: int, series: int, budget: int, base: int) -> int:
    """The narrowest bucket (hours, a multiple of ``base``) whose maxima of ``series`` series fit ``budget``
    bytes: a divisor of a day, else whole days."""
    def cost(hours: int) -> int:
        return series * (-(-span_hours // hours) + 1)  # + 1: buckets start on the grid, before the first sample
    for hours in COMPACT_HOURS:
        if hours % base == 0 and cost(hours) <= budget and -(-span_hours // hours) <= MAX_BUCKETS:
            return hours
    days = 1
    while cost(24 * days) > budget and span_hours > 24 * days:
        days += 1
    return -(-24 * days // base) * base


def encode_series(resource_ids: list[str], metrics: pd.DataFrame | HourlyBuckets,
                  byte_budget: int = BYTE_BUDGET,
                  full_top: int = OutputConfig().full_resolution_top) -> EncodedSeries:
    """Per resource and metric, bucket maxima (and means at full resolution), encoded compactly (see the module
    docstring).

    ``resource_ids`` come in order of priority (the largest savings first): the first ``full_top`` keep full
    resolution when the fleet's would not fit ``byte_budget``. ``metrics`` is the long frame or the hourly buckets
    a streaming source built while reading; wider buckets are made of whole hours (exact maxima, count-weighted
    means), a few thousand series at a time.
    """
    wanted = pd.Series(resource_ids, dtype=object).dropna().astype(str).drop_duplicates().to_numpy()
    if not len(wanted):
        return EncodedSeries()
    if isinstance(metrics, pd.DataFrame):
        if metrics.empty:
            return EncodedSeries()
        metrics = hourly_buckets(metrics, wanted)
    rows = np.flatnonzero(pd.Index(metrics.resource_ids).isin(wanted))
    with_data = np.zeros(len(rows), dtype=bool)
    columns_with_data = np.zeros(metrics.maxes.shape[1], dtype=bool)
    for chunk in _chunks(len(rows)):
        seen = ~np.isnan(metrics.maxes[rows[chunk]])
        with_data[chunk] = seen.any(axis=1)
        columns_with_data |= seen.any(axis=0)
    columns = np.flatnonzero(columns_with_data)
    if not len(columns):
        return EncodedSeries()
    kept = rows[with_data]
    base = metrics.step
    span = (int(columns[-1] - columns[0]) + 1) * base  # hours
    full_factor = -(-max(base, math.ceil(span / MAX_BUCKETS)) // base)
    full_cost = 2 * len(kept) * (-(-span // (full_factor * base)))
    if full_cost <= byte_budget:
        tiers = [_Tier(kept, full_factor, means=True)]
    else:
        top = np.isin(metrics.resource_ids[kept], wanted[:full_top])
        full = _Tier(kept[top], full_factor, means=True)
        left = max(byte_budget - 2 * len(full.rows) * (-(-span // (full_factor * base))), 0)
        hours = _compact_hours(span, int((~top).sum()), left, base)
        tiers = [full, _Tier(kept[~top], hours // base, means=False)]
    for tier in tiers:
        _place(tier, metrics, int(columns[0]), int(columns[-1]))
    return _encode(metrics, tiers)


def _place(tier: _Tier, metrics: HourlyBuckets, first: int, last: int) -> None:
    """Where the tier's buckets start (on the grid of multiples of their width, so a day's peak is a UTC day's) and
    how many cover columns ``first`` to ``last``."""
    width = tier.factor * metrics.step
    tier.column = first - ((metrics.hour0 + first * metrics.step) % width) // metrics.step
    tier.buckets = (last - tier.column) // tier.factor + 1


def _encode(metrics: HourlyBuckets, tiers: list[_Tier]) -> EncodedSeries:
    """The base64 text and the index of every series row of the tiers, grouped by resource."""
    parts: dict[int, tuple[bytes, list[Any], float]] = {}  # series row -> its bytes, description, scale
    steps: dict[str, tuple[int, bool]] = {}
    for tier in tiers:
        step = tier.factor * metrics.step * 3600
        start = (metrics.hour0 + tier.column * metrics.step) * 3600
        percent = pd.Index(metrics.metrics[tier.rows]).isin([str(m) for m in PERCENT_METRICS])
        for chunk in _chunks(len(tier.rows)):
            rows = tier.rows[chunk]
            maxes, means, _ = coarse_columns(metrics, rows, tier.column, tier.buckets * tier.factor, tier.factor)
            scale = _scales(maxes, percent[chunk])
            q_max = quantize(maxes, scale)
            q_mean = quantize(means, scale) if tier.means else None
            has = ~np.isnan(maxes)
            first = has.argmax(axis=1)
            last = tier.buckets - 1 - has[:, ::-1].argmax(axis=1)
            for k, row in enumerate(rows.tolist()):
                window = slice(int(first[k]), int(last[k]) + 1)
                data = q_max[k, window].tobytes() + (b"" if q_mean is None else q_mean[k, window].tobytes())
                parts[row] = (data, [str(metrics.metrics[row]), bool(percent[chunk][k]),
                                     start + int(first[k]) * step, int(last[k] - first[k] + 1)], float(scale[k]))
        for resource_id in metrics.resource_ids[tier.rows].tolist():
            steps[resource_id] = (step, tier.means)

    rows_of: dict[str, list[int]] = {}
    for row in sorted(parts):
        rows_of.setdefault(str(metrics.resource_ids[row]), []).append(row)
    texts: list[str] = []
    offset = 1  # the opening quote
    index: dict[str, dict[str, Any]] = {}
    for resource_id, series in rows_of.items():
        series.sort(key=lambda row: _metric_rank(str(metrics.metrics[row])))
        encoded = base64.b64encode(b"".join(parts[row][0] for row in series)).decode("ascii")
        width, with_means = steps[resource_id]
        index[resource_id] = {"at": [offset, len(encoded)], "step": width, "means": with_means,
                              "metrics": [parts[row][1] for row in series], "scales": [parts[row][2] for row in series]}
        texts.append(encoded)
        offset += len(encoded)
    return EncodedSeries(text='"' + "".join(texts) + '"', index=index)


def _chunks(count: int, size: int = 4096) -> list[slice]:
    """Slices of ``size`` rows: a fleet's series are bucketed a few thousand at a time."""
    return [slice(begin, min(begin + size, count)) for begin in range(0, count, size)]
