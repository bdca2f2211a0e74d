"""Compact utilization series for the drill-down charts: bucketed, quantized to one byte, base64 per resource.

For each recommended resource and metric the samples are reduced to a bucket maximum and mean (hourly; coarser
when the whole fleet would exceed :data:`BYTE_BUDGET`), then quantized to ``uint8``: percentages in 0.5-point
steps (0–125 %), other metrics (bytes/s, IOPS…) in 1/250 of the series' maximum; 255 marks a bucket without
samples. Each resource's bytes are base64-encoded on their own and concatenated into one JSON string, so the
page decodes one resource (``atob`` of a slice) when its row is expanded and never parses the fleet's series.

Layout of a resource's bytes: for each of its metrics in ``metrics`` order, ``n`` maxima then ``n`` means.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from advisor.engine.stats import HourlyBuckets, coarse_columns, hourly_buckets
from advisor.model import PERCENT_METRICS

BYTE_BUDGET = 16_000_000  # raw bytes over all series (base64 adds a third)
MAX_BUCKETS = 2_400  # per series: hourly for 100 days
MISSING = 255
LEVELS = 250  # quantization levels 0..250
PERCENT_STEP = 0.5  # percentage points per level
METRIC_ORDER = ("cpu", "memory", "gpu", "gpu_memory")


@dataclass
class EncodedSeries:
    """The fleet's series: one JSON string of base64 slices, and per resource where its slice is and what it holds."""

    step: int = 3600  # seconds per bucket
    text: str = '""'
    # resource_id -> {"at": [offset, length] in ``text``, "metrics": [[name, percent, t0 (epoch s), n, scale], …]}
    index: dict[str, dict[str, Any]] = field(default_factory=dict)


def _metric_rank(name: str) -> tuple[int, str]:
    return (METRIC_ORDER.index(name) if name in METRIC_ORDER else len(METRIC_ORDER), name)


def quantize(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Rows of values as uint8 levels of ``scale`` (one per row); NaN becomes :data:`MISSING`."""
    levels = np.clip(np.round(values / scale[:, None]), 0, LEVELS)
    return np.where(np.isnan(values), MISSING, levels).astype(np.uint8)


def _scales(maxes: np.ndarray, percent: np.ndarray) -> np.ndarray:
    """Per row: 0.5 for percentages, else the row's maximum / 250 (1 for a row of zeros)."""
    peak = np.nanmax(np.where(np.isnan(maxes), -np.inf, maxes), axis=1)
    return np.where(percent, PERCENT_STEP, np.where(np.isfinite(peak) & (peak > 0), peak / LEVELS, 1.0))


def encode_series(resource_ids: list[str], metrics: pd.DataFrame | HourlyBuckets,
                  byte_budget: int = BYTE_BUDGET) -> EncodedSeries:
    """Bucket max and mean per resource and metric, encoded compactly (see the module docstring).

    ``metrics`` is the long frame or the hourly buckets a streaming source built while reading; wider buckets are
    made of whole hours (exact maxima, count-weighted means), a few thousand series at a time.
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
    first_column, hours = int(columns[0]), int(columns[-1] - columns[0] + 1) * base
    step_hours = max(base, math.ceil(hours / MAX_BUCKETS), math.ceil(2 * len(kept) * hours / byte_budget))
    factor = -(-step_hours // base)  # whole columns to a bucket
    step = factor * base * 3600
    start = (metrics.hour0 + first_column * base) * 3600
    n_buckets = (int(columns[-1] - columns[0])) // factor + 1

    metric_of, resource_of = metrics.metrics[kept], metrics.resource_ids[kept]
    percent = pd.Index(metric_of).isin([str(m) for m in PERCENT_METRICS])
    q_max = np.empty((len(kept), n_buckets), dtype=np.uint8)
    q_mean = np.empty_like(q_max)
    scale = np.empty(len(kept))
    first, last = np.empty(len(kept), dtype=np.int64), np.empty(len(kept), dtype=np.int64)
    for chunk in _chunks(len(kept)):
        maxes, means, _ = coarse_columns(metrics, kept[chunk], first_column, n_buckets * factor, factor)
        scale[chunk] = _scales(maxes, percent[chunk])
        q_max[chunk], q_mean[chunk] = quantize(maxes, scale[chunk]), quantize(means, scale[chunk])
        has = ~np.isnan(maxes)
        first[chunk] = has.argmax(axis=1)
        last[chunk] = n_buckets - 1 - has[:, ::-1].argmax(axis=1)

    rows_of: dict[str, list[int]] = {}
    for k, resource_id in enumerate(resource_of.tolist()):
        rows_of.setdefault(resource_id, []).append(k)
    parts: list[str] = []
    offset = 1  # the opening quote
    index: dict[str, dict[str, Any]] = {}
    for resource_id, series in rows_of.items():
        series.sort(key=lambda k: _metric_rank(str(metric_of[k])))
        chunks, described = [], []
        for k in series:
            window = slice(int(first[k]), int(last[k]) + 1)
            chunks += [q_max[k, window].tobytes(), q_mean[k, window].tobytes()]
            described.append([str(metric_of[k]), bool(percent[k]), start + int(first[k]) * step,
                              int(last[k] - first[k] + 1), float(scale[k])])
        encoded = base64.b64encode(b"".join(chunks)).decode("ascii")
        index[resource_id] = {"at": [offset, len(encoded)], "metrics": described}
        parts.append(encoded)
        offset += len(encoded)
    return EncodedSeries(step=step, text='"' + "".join(parts) + '"', index=index)


def _chunks(count: int, size: int = 4096) -> list[slice]:
    """Slices of ``size`` rows: a fleet's series are bucketed a few thousand at a time."""
    return [slice(begin, min(begin + size, count)) for begin in range(0, count, size)]
