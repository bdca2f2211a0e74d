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


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for missing) and the distinct values as text; categoricals keep their codes."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories.astype(str).to_numpy()
    codes, uniques = pd.factorize(column)
    return codes, np.asarray(uniques).astype(str)


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


@dataclass
class _Samples:
    """The usable samples of the wanted resources, as flat arrays."""

    series: np.ndarray  # index into ``resource_of`` / ``metric_of``, per sample
    resource_of: np.ndarray  # per series
    metric_of: np.ndarray  # per series
    seconds: np.ndarray  # epoch seconds, per sample
    values: np.ndarray
    for_mean: np.ndarray | None  # samples that count for the mean (None: all); "max" samples do not


def _samples(wanted: np.ndarray, metrics: pd.DataFrame) -> _Samples | None:
    res_codes, res_names = _codes(metrics["resource_id"])
    metric_codes, metric_names = _codes(metrics["metric"])
    values = pd.to_numeric(metrics["value"], errors="coerce").to_numpy(dtype=float)
    stamps = pd.to_datetime(metrics["timestamp"], utc=True).dt.tz_convert(None).to_numpy()
    seconds = stamps.astype("datetime64[s]").view(np.int64)
    keep = (pd.Index(res_names).isin(wanted)[res_codes] & (res_codes >= 0) & (metric_codes >= 0)
            & np.isfinite(values) & ~np.isnat(stamps))
    for_mean = (~(metrics["stat"] == "max").to_numpy(dtype=bool, na_value=False)
                if "stat" in metrics.columns else None)
    if not keep.any():
        return None
    if not keep.all():  # copies of 100-million-sample arrays only when something is left out
        res_codes, metric_codes, seconds, values = res_codes[keep], metric_codes[keep], seconds[keep], values[keep]
        for_mean = None if for_mean is None else for_mean[keep]
    n_metrics = len(metric_names)
    pair = res_codes.astype(np.intp)  # in-place arithmetic from here on: fewer 100-million-element temporaries
    pair *= n_metrics
    pair += metric_codes
    present_mask = np.bincount(pair, minlength=len(res_names) * n_metrics) > 0
    present = np.flatnonzero(present_mask)
    return _Samples(series=(np.cumsum(present_mask) - 1)[pair], resource_of=res_names[present // n_metrics],
                    metric_of=metric_names[present % n_metrics], seconds=seconds, values=values, for_mean=for_mean)


def encode_series(resource_ids: list[str], metrics: pd.DataFrame, byte_budget: int = BYTE_BUDGET) -> EncodedSeries:
    """Bucket max and mean per resource and metric, encoded compactly (see the module docstring).

    Vectorized over all samples at once (integer codes, ``bincount`` and ``maximum.at``): a 10,000-resource fleet's
    170 million samples take seconds, not a Python loop per sample.
    """
    wanted = pd.Series(resource_ids, dtype=object).dropna().astype(str).drop_duplicates().to_numpy()
    found = _samples(wanted, metrics) if len(wanted) and not metrics.empty else None
    if found is None:
        return EncodedSeries()
    seconds, n_series = found.seconds, len(found.resource_of)
    start = int(seconds.min()) // 3600 * 3600
    hours = (int(seconds.max()) - start) // 3600 + 1
    step_hours = max(1, math.ceil(hours / MAX_BUCKETS), math.ceil(2 * n_series * hours / byte_budget))
    step = step_hours * 3600
    n_buckets = (int(seconds.max()) - start) // step + 1
    key = found.series
    key *= n_buckets
    bucket = seconds - start
    bucket //= step
    key += bucket
    del bucket
    maxes, means = _bucket(key, found.values, found.for_mean, n_series * n_buckets)
    maxes, means = maxes.reshape(-1, n_buckets), means.reshape(-1, n_buckets)

    metric_of, resource_of = found.metric_of, found.resource_of
    percent = pd.Index(metric_of).isin([str(m) for m in PERCENT_METRICS])
    scale = _scales(maxes, percent)
    q_max, q_mean = quantize(maxes, scale), quantize(means, scale)
    has = ~np.isnan(maxes)
    first = has.argmax(axis=1)
    last = n_buckets - 1 - has[:, ::-1].argmax(axis=1)

    rows_of: dict[str, list[int]] = {}
    for k, resource_id in enumerate(resource_of.tolist()):
        rows_of.setdefault(resource_id, []).append(k)
    parts: list[str] = []
    offset = 1  # the opening quote
    index: dict[str, dict[str, Any]] = {}
    for resource_id, rows in rows_of.items():
        rows.sort(key=lambda k: _metric_rank(str(metric_of[k])))
        chunks, described = [], []
        for k in rows:
            window = slice(int(first[k]), int(last[k]) + 1)
            chunks += [q_max[k, window].tobytes(), q_mean[k, window].tobytes()]
            described.append([str(metric_of[k]), bool(percent[k]), start + int(first[k]) * step,
                              int(last[k] - first[k] + 1), float(scale[k])])
        encoded = base64.b64encode(b"".join(chunks)).decode("ascii")
        index[resource_id] = {"at": [offset, len(encoded)], "metrics": described}
        parts.append(encoded)
        offset += len(encoded)
    return EncodedSeries(step=step, text='"' + "".join(parts) + '"', index=index)


def _bucket(key: np.ndarray, values: np.ndarray, for_mean: np.ndarray | None,
            size: int) -> tuple[np.ndarray, np.ndarray]:
    """Maximum (of all samples) and mean (of ``for_mean`` samples) per bucket key in ``range(size)``; NaN if none."""
    maxes = np.full(size, -np.inf)
    np.maximum.at(maxes, key, values)
    maxes[np.isneginf(maxes)] = np.nan
    if for_mean is not None:
        key, values = key[for_mean], values[for_mean]
    sums = np.bincount(key, weights=values, minlength=size)
    counts = np.bincount(key, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    return maxes, means
