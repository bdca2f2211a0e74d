"""Peak-demand forecast: a robust linear trend over daily peaks, plus the recurring weekly peak.

Each series' daily peaks y_d (the policy percentile of day d) are fitted with a Huber regression
y = a + b*d, so one freak day barely moves the line. A trend is projected only when it is real: rising and
statistically clear (b > 2 standard errors; a falling trend is never used to shrink a machine), seen over at
least ``MIN_TREND_DAYS`` days, and not drawn from a clipped series (a day whose peak sits at the capacity,
``CLIPPED_PEAK`` % or more, says only that demand was at least that). It is then damped (each day ahead adds
``DAMPING`` times the previous day's rise, as Holt's damped trend) over a horizon no longer than the history
behind it. On top comes the *recurring* peak: for each weekday, the smallest residual seen on that weekday across
weeks (a Monday peak that comes back every Monday survives; a one-off spike does not), and at least the 75th
percentile of residuals. ``upper`` is what sizing compares against, capped at ``cap`` times the highest daily peak
seen.

The default solver fits every series at once with iteratively reweighted least squares in numpy (a closed form per
iteration); ``sklearn-huber`` fits one :class:`sklearn.linear_model.HuberRegressor` per series as a reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.engine.stats import DailyPeaks, row_quantile

HUBER_K = 1.345  # the usual Huber tuning constant (95 % efficiency under normal noise)
MIN_FIT_DAYS = 5
MIN_TREND_DAYS = 14  # two weeks: a trend over fewer days is mostly the weekly cycle
CLIPPED_PEAK = 98.0
DAMPING = 0.95


def forecast_peaks(peaks: DailyPeaks, horizon_days: int, method: str = "batched-huber",
                   cap: float = 1.5) -> pd.DataFrame:
    """Forecast columns for every series in ``peaks`` (index resource_id)."""
    y = peaks.values
    mask = ~np.isnan(y)
    fit_days = mask.sum(axis=1)
    t = np.arange(y.shape[1], dtype=float)
    if method == "sklearn-huber":
        intercept, slope, slope_se = _fit_sklearn(y, mask, t)
    else:
        intercept, slope, slope_se = _fit_batched(y, mask, t)
    enough = fit_days >= MIN_FIT_DAYS
    clipped = (np.nan_to_num(y, nan=0.0) >= CLIPPED_PEAK).any(axis=1)
    significant = (fit_days >= MIN_TREND_DAYS) & ~clipped & (slope > 0) & (slope > 2 * slope_se)
    median = _nanmedian_rows(y)
    last_day = np.where(mask.any(axis=1), y.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1), 0)
    trend_slope = np.where(significant, slope, 0.0)
    fitted = np.where(significant[:, None], intercept[:, None] + slope[:, None] * t[None, :], median[:, None])
    residual = np.where(mask, y - fitted, np.nan)
    weekly = _recurring_weekly_peak(residual, peaks.day0)
    q75 = _nanquantile_rows(residual, 0.75)
    bump = np.fmax(np.fmax(weekly, q75), 0.0)
    ahead = damped_days(np.minimum(horizon_days, fit_days))
    level = np.where(significant, intercept + slope * (last_day + ahead), median)
    ceiling = cap * _nanmax_rows(y)
    return pd.DataFrame(
        {
            "trend_per_day": np.where(enough, slope, np.nan),
            "trend_significant": significant,
            "trend_used": trend_slope,
            "forecast": np.fmin(level, ceiling),
            "upper": np.fmin(level + np.nan_to_num(bump), ceiling),
            "fit_days": fit_days,
            "weekly_peak": weekly,
        },
        index=pd.Index(peaks.resource_ids, name="resource_id"),
    )


def damped_days(horizon: np.ndarray) -> np.ndarray:
    """The days of trend a damped projection over ``horizon`` days adds: sum of DAMPING**k for k = 1..horizon."""
    h = np.asarray(horizon, dtype=float)
    return DAMPING * (1 - DAMPING**h) / (1 - DAMPING)


def _fit_batched(y: np.ndarray, mask: np.ndarray, t: np.ndarray, iterations: int = 30):
    """Huber regression of every row at once by IRLS; returns (intercept, slope, slope standard error).

    Each row stops iterating when its own weights have settled, so a row's fit does not depend on which other rows
    share the batch (a sharded audit fits the same lines as one process)."""
    yz = np.where(mask, y, 0.0)
    weights = mask.astype(float)
    active = np.ones(len(y), dtype=bool)
    for _ in range(iterations):
        rows = np.flatnonzero(active)
        if not len(rows):
            break
        w, ya, m = weights[rows], yz[rows], mask[rows]
        intercept, slope = _weighted_line(ya, w, t)
        residual = np.where(m, ya - (intercept[:, None] + slope[:, None] * t), np.nan)
        scale = 1.4826 * _nanmedian_rows(np.abs(residual))
        scale = np.where(np.isfinite(scale) & (scale > 1e-9), scale, 1e-9)
        u = np.abs(np.nan_to_num(residual)) / scale[:, None]
        new_weights = m * np.where(u <= HUBER_K, 1.0, HUBER_K / np.maximum(u, 1e-12))
        settled = np.isclose(new_weights, w, atol=1e-6).all(axis=1)
        weights[rows] = new_weights
        active[rows[settled]] = False
    intercept, slope = _weighted_line(yz, weights, t)
    return intercept, slope, _slope_se(yz, mask, weights, t, intercept, slope)


def _fit_sklearn(y: np.ndarray, mask: np.ndarray, t: np.ndarray):
    # scikit-learn takes over a second to import: only this reference method needs it
    from sklearn.linear_model import HuberRegressor

    intercept = np.zeros(len(y))
    slope = np.zeros(len(y))
    for row in range(len(y)):
        keep = mask[row]
        if keep.sum() < 2:
            intercept[row] = np.nanmean(y[row]) if keep.any() else np.nan
            continue
        model = HuberRegressor(epsilon=HUBER_K, alpha=0.0, max_iter=500).fit(t[keep, None], y[row, keep])
        intercept[row], slope[row] = model.intercept_, model.coef_[0]
    weights = mask.astype(float)
    yz = np.where(mask, y, 0.0)
    return intercept, slope, _slope_se(yz, mask, weights, t, intercept, slope)


def _weighted_line(yz: np.ndarray, w: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sw = w.sum(axis=1)
    st = (w * t).sum(axis=1)
    sy = (w * yz).sum(axis=1)
    stt = (w * t * t).sum(axis=1)
    sty = (w * t * yz).sum(axis=1)
    denom = sw * stt - st * st
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(denom > 1e-12, (sw * sty - st * sy) / denom, 0.0)
        intercept = np.where(sw > 0, (sy - slope * st) / sw, np.nan)
    return intercept, slope


def _slope_se(yz, mask, w, t, intercept, slope) -> np.ndarray:
    residual = np.where(mask, yz - (intercept[:, None] + slope[:, None] * t), 0.0)
    sw = w.sum(axis=1)
    st = (w * t).sum(axis=1)
    stt = (w * t * t).sum(axis=1)
    denom = sw * stt - st * st
    dof = mask.sum(axis=1) - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma2 = (w * residual**2).sum(axis=1) / np.where(dof > 0, dof, np.nan)
        return np.sqrt(sigma2 * sw / np.where(denom > 1e-12, denom, np.nan))


def _recurring_weekly_peak(residual: np.ndarray, day0: pd.Timestamp) -> np.ndarray:
    """Max over weekdays of the smallest residual seen on that weekday (needs two weeks to mean anything)."""
    if residual.shape[1] == 0:
        return np.full(len(residual), np.nan)
    weekday = (day0.day_of_week + np.arange(residual.shape[1])) % 7
    per_weekday = np.full((len(residual), 7), np.nan)
    for day in range(7):
        cols = residual[:, weekday == day]
        if cols.shape[1]:
            per_weekday[:, day] = _nanmin_rows(cols)
    return _nanmax_rows(per_weekday)


def _nanmedian_rows(a: np.ndarray) -> np.ndarray:
    return _nanquantile_rows(a, 0.5)


def _nanquantile_rows(a: np.ndarray, q: float) -> np.ndarray:
    """Row-wise quantile ignoring NaN, by one sort of the whole array (np.nanquantile loops over rows)."""
    if a.shape[1] == 0:
        return np.full(len(a), np.nan)
    ordered = np.sort(a, axis=1)  # NaN sorts last
    counts = (~np.isnan(a)).sum(axis=1)
    out = np.full(len(a), np.nan)
    has = counts > 0
    if has.any():
        out[has] = row_quantile(ordered[has], counts[has], q)
    return out


def _nanmin_rows(a: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(a).all(axis=1), np.nan, np.nanmin(np.where(np.isnan(a), np.inf, a), axis=1))


def _nanmax_rows(a: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(a).all(axis=1), np.nan, np.nanmax(np.where(np.isnan(a), -np.inf, a), axis=1))
