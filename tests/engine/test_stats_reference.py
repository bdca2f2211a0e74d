"""Per-series days and sampling period against a plain numpy reference, on irregular series (gaps, repeats on a
second, lone samples, series crossing midnight)."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.engine import stats


def _index(rng: np.random.Generator, n_series: int) -> stats.SeriesIndex:
    counts = rng.choice([1, 2, 3, 50, 400], size=n_series)
    seconds = []
    for count in counts:
        start = int(rng.integers(1_700_000_000, 1_700_400_000))
        steps = rng.choice([0, 60, 300, 300, 300, 3_600, 86_400], size=count - 1)
        seconds.append(start + np.r_[0, np.cumsum(steps)])
    values = rng.uniform(0, 100, int(counts.sum()))
    starts = np.cumsum(counts) - counts
    names = np.array([f"r{i}" for i in range(n_series)], dtype=object)
    return stats.SeriesIndex(names, np.full(n_series, "cpu", dtype=object), starts, counts,
                             np.concatenate(seconds).astype(np.int64), values)


@pytest.mark.parametrize("seed", range(5))
def test_days_and_period_match_a_numpy_reference(seed):
    index = _index(np.random.default_rng(seed), 60)
    out = stats.series_stats(index, 24.0 * 14)
    for row, (start, count) in enumerate(zip(index.starts, index.counts, strict=True)):
        seconds = index.seconds[start:start + count]
        assert out["days"][row] == len(np.unique(seconds // 86_400))
        period = float(np.median(np.diff(seconds))) if count > 1 else 300.0
        period = period if period > 0 else 300.0
        hours = min(count * period, seconds[-1] - seconds[0] + period) / 3600
        assert out["hours"][row] == pytest.approx(hours, rel=1e-6)  # the median of float32 gaps, as before
