import numpy as np
import pandas as pd
import pytest
from fleet_builders import START, FleetBuilder

from advisor.engine import stats


def _stats(metrics: pd.DataFrame, window_hours: float = 14 * 24) -> pd.DataFrame:
    return stats.series_stats(stats.index_series(metrics), window_hours).set_index(["resource_id", "metric"])


def test_percentiles_match_numpy_for_every_series():
    fleet = FleetBuilder(days=3)
    a, b = fleet.noise(0, 100), fleet.noise(10, 20)
    fleet.ec2("i-a", "m5.large", cpu=a, memory=b)
    fleet.ec2("i-b", "m5.large", cpu=b[: fleet.n // 2])
    _, metrics = fleet.frames()
    result = _stats(metrics.sample(frac=1.0, random_state=3))  # order must not matter
    for (rid, metric), values in (("i-a", "cpu"), a), (("i-a", "memory"), b), (("i-b", "cpu"), b[: fleet.n // 2]):
        row = result.loc[(rid, metric)]
        for name, q in stats.PERCENTILES.items():
            assert row[name] == pytest.approx(np.percentile(values, q * 100))
        assert row["max"] == pytest.approx(values.max())
        assert row["mean"] == pytest.approx(values.mean())
        assert row["samples"] == len(values)
        assert row["above_90"] == pytest.approx((values > 90).mean())


def test_hours_days_and_coverage_of_a_series_with_a_gap():
    fleet = FleetBuilder(days=4)
    values = fleet.noise(0, 10)
    values[288:576] = np.nan  # one day missing: dropped by normalize_metrics
    fleet.ec2("i-gap", "m5.large", cpu=values)
    _, metrics = fleet.frames()
    row = _stats(metrics, window_hours=96).loc[("i-gap", "cpu")]
    assert row["hours"] == pytest.approx(72.0)
    assert row["days"] == 3
    assert row["coverage"] == pytest.approx(0.75)


def test_prefers_maxima_when_a_source_gives_avg_and_max():
    ts = pd.date_range(START, periods=4, freq="5min")
    frame = pd.DataFrame({"resource_id": "i-1", "metric": "cpu", "timestamp": list(ts) * 2,
                          "value": [10, 10, 10, 10, 50, 60, 70, 80], "stat": ["avg"] * 4 + ["max"] * 4})
    row = _stats(frame).loc[("i-1", "cpu")]
    assert row["max"] == 80 and row["samples"] == 4 and row["mean"] == 65


def test_daily_peaks_take_the_percentile_of_each_day():
    fleet = FleetBuilder(days=3)
    values = np.concatenate([np.full(288, 10.0), np.full(288, 20.0), np.full(288, 30.0)])
    values[300] = 95.0  # a single spike on day 2 does not move its p99 much
    fleet.ec2("i-1", "m5.large", cpu=values)
    _, metrics = fleet.frames()
    peaks = stats.daily_peaks(stats.index_series(metrics), "cpu", 0.99, START, 3)
    assert peaks.values.shape == (1, 3)
    assert peaks.values[0].tolist() == pytest.approx([10.0, 20.0, 30.0])
    daily_max = stats.daily_peaks(stats.index_series(metrics), "cpu", 1.0, START, 3)
    assert daily_max.values[0, 1] == 95.0


def test_wide_features_has_one_row_per_resource():
    fleet = FleetBuilder(days=2)
    fleet.ec2("i-a", "m5.large", cpu=fleet.noise(0, 5), memory=fleet.noise(0, 5))
    fleet.ec2("i-b", "m5.large", cpu=fleet.noise(0, 5))
    _, metrics = fleet.frames()
    wide = stats.wide_features(stats.series_stats(stats.index_series(metrics), 48))
    assert list(wide.index) == ["i-a", "i-b"]
    assert wide.loc["i-a", "memory_samples"] == 576
    assert np.isnan(wide.loc["i-b", "memory_p99"])
    assert wide.loc["i-a", "hours_observed"] == pytest.approx(48)
