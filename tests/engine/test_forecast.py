import numpy as np
import pandas as pd
import pytest

from advisor.engine.forecast import forecast_peaks
from advisor.engine.stats import DailyPeaks

MONDAY = pd.Timestamp("2026-11-02", tz="UTC")  # a Monday


def _forecast(rows: dict[str, np.ndarray], method: str = "batched-huber", horizon: int = 30) -> pd.DataFrame:
    peaks = DailyPeaks(np.array(list(rows)), np.vstack(list(rows.values())).astype(float), MONDAY)
    return forecast_peaks(peaks, horizon, method)


def test_rising_series_is_projected_to_the_horizon():
    t = np.arange(14)
    noise = np.random.default_rng(0).normal(0, 1, 14)
    fc = _forecast({"grow": 30 + 2 * t + noise}).loc["grow"]
    assert fc["trend_significant"]
    assert fc["trend_per_day"] == pytest.approx(2.0, abs=0.3)
    # level at day 13 + 30 days: about 30 + 2 * 43 = 116
    assert fc["forecast"] == pytest.approx(116, abs=8)
    assert fc["upper"] >= fc["forecast"]


def test_flat_noisy_series_has_no_trend_and_stays_near_its_level():
    noise = np.random.default_rng(1).normal(0, 2, 14)
    fc = _forecast({"flat": 40 + noise}).loc["flat"]
    assert not fc["trend_significant"]
    assert 38 < fc["forecast"] < 42
    assert fc["upper"] < 45


def test_one_outlier_day_does_not_create_a_trend_or_a_peak():
    values = 40 + np.random.default_rng(2).normal(0, 1, 14)
    values[12] = 99.0
    fc = _forecast({"spike": values}).loc["spike"]
    assert not fc["trend_significant"]
    assert fc["upper"] < 45


def test_recurring_monday_peak_is_kept():
    t = np.arange(14)
    values = np.where(t % 7 == 0, 80.0, 30.0) + np.random.default_rng(3).normal(0, 1, 14)
    fc = _forecast({"monday": values}).loc["monday"]
    assert fc["upper"] == pytest.approx(80, abs=3)


def test_weekday_weekend_shape_keeps_the_weekday_peak():
    t = np.arange(14)
    values = np.where(t % 7 < 5, 75.0, 15.0)
    fc = _forecast({"weekly": values}).loc["weekly"]
    assert fc["upper"] == pytest.approx(75, abs=1)


def test_falling_trend_never_shrinks_the_forecast_below_the_level():
    t = np.arange(14)
    fc = _forecast({"fall": 80 - 3 * t}).loc["fall"]
    assert not fc["trend_significant"]
    assert fc["trend_used"] == 0.0


def test_gaps_and_short_series():
    values = 30 + 2.0 * np.arange(14)
    values[[2, 5, 6]] = np.nan
    fc = _forecast({"gappy": values, "short": np.r_[np.full(11, np.nan), 50, 52, 54]})
    assert fc.loc["gappy", "trend_significant"]
    assert not fc.loc["short", "trend_significant"]  # three days are too few to project
    assert fc.loc["short", "fit_days"] == 3


def test_batched_solver_agrees_with_sklearn_huber():
    rng = np.random.default_rng(4)
    t = np.arange(14)
    rows = {f"s{i}": 20 + rng.uniform(-1, 3) * t + rng.normal(0, 2, 14) for i in range(20)}
    batched = _forecast(rows)
    reference = _forecast(rows, method="sklearn-huber")
    assert np.allclose(batched["trend_per_day"], reference["trend_per_day"], atol=0.15)
    assert (batched["trend_significant"] == reference["trend_significant"]).mean() >= 0.9
