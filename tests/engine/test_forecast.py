import numpy as np
import pandas as pd
import pytest

from advisor.engine.forecast import forecast_peaks
from advisor.engine.stats import DailyPeaks

MONDAY = pd.Timestamp("2026-11-02", tz="UTC")  # a Monday


def _forecast(rows: dict[str, np.ndarray], method: str = "batched-huber", horizon: int = 30) -> pd.DataFrame:
    peaks = DailyPeaks(np.array(list(rows)), np.vstack(list(rows.values())).astype(float), MONDAY)
    return forecast_peaks(peaks, horizon, method)


def test_rising_series_is_projected_damped_over_no_more_days_than_its_history():
    t = np.arange(14)
    noise = np.random.default_rng(0).normal(0, 1, 14)
    fc = _forecast({"grow": 30 + 2 * t + noise}).loc["grow"]
    assert fc["trend_significant"]
    assert fc["trend_per_day"] == pytest.approx(2.0, abs=0.3)
    # 14 days of history: the 30-day horizon shrinks to 14, damped to 0.95 + 0.95^2 + ... + 0.95^14 = 9.7 days
    # of trend, so the level is about 30 + 2 * (13 + 9.7) = 75 (no longer 30 + 2 * 43 = 116)
    assert fc["forecast"] == pytest.approx(75, abs=5)
    assert fc["upper"] >= fc["forecast"]


def test_a_trend_needs_two_weeks():
    t = np.arange(13)
    fc = _forecast({"grow": 30 + 2.0 * t}).loc["grow"]
    assert not fc["trend_significant"] and fc["trend_used"] == 0.0
    assert fc["forecast"] == pytest.approx(np.median(30 + 2.0 * t))


def test_a_clipped_series_is_never_extrapolated():
    # daily peaks pinned at the capacity: the "rising trend" is the clipping, not demand (was a 390 % forecast)
    t = np.arange(14)
    values = np.minimum(60 + 8.0 * t, 100.0)
    fc = _forecast({"pinned": values}).loc["pinned"]
    assert not fc["trend_significant"]
    assert fc["upper"] <= 100.0


def test_the_forecast_is_capped_at_a_multiple_of_the_highest_daily_peak():
    t = np.arange(28)
    values = 10 + 3.0 * t  # highest daily peak 91; the damped projection reaches 10 + 3 * (27 + 14.5) = 134
    fc = _forecast({"steep": values}, horizon=30).loc["steep"]
    assert fc["trend_significant"]
    assert fc["upper"] == pytest.approx(134.4, abs=0.5) and fc["upper"] <= 1.5 * 91
    peaks = DailyPeaks(np.array(["steep"]), values[None, :], MONDAY)
    assert forecast_peaks(peaks, 30, cap=1.2).loc["steep", "upper"] == pytest.approx(1.2 * 91)


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
    values = 30 + 2.0 * np.arange(17)
    values[[2, 5, 6]] = np.nan
    fc = _forecast({"gappy": values, "short": np.r_[np.full(14, np.nan), 50, 52, 54]})
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


def test_a_series_is_fitted_the_same_whatever_shares_its_batch():
    """A sharded audit fits each shard's series in its own batch: every row's line must not depend on the others
    (each row stops iterating when its own weights settle, not when the whole batch has)."""
    rng = np.random.default_rng(4)
    t = np.arange(28)
    rows = {
        "outliers": 40 + 0.8 * t + rng.normal(0, 1, 28) + np.where(t % 9 == 0, 35.0, 0.0),  # many reweighting steps
        "clean": 20 + 0.5 * t + rng.normal(0, 0.5, 28),  # settles at once
        "flat": np.full(28, 12.0),
        "noisy": 50 + rng.normal(0, 8, 28),
    }
    together = _forecast(rows)
    for name, values in rows.items():
        alone = _forecast({name: values})
        pd.testing.assert_frame_equal(alone, together.loc[[name]], check_exact=True)
