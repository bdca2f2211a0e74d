"""The features frame: one row per resource with stats, forecast, demand, specs and prices. Rules read only this."""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.catalog import Catalog
from advisor.engine import forecast, stats
from advisor.model import HOURS_PER_MONTH, INVENTORY_COLUMNS, Kind, Metric
from advisor.settings import Settings

FORECAST_METRICS = ("cpu", "memory", "gpu", "gpu_memory")
STAT_QUANTILE = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "max": 1.0}
SPEC_COLUMNS = ("family", "generation", "vcpus", "memory_gib", "gpus", "gpu_model", "gpu_memory_gib", "accelerator",
                "arch", "burstable", "network_gbps")
INVENTORY_FEATURES = tuple(c for c in INVENTORY_COLUMNS if c not in ("resource_id", "tags", "attached_to"))
DERIVED_COLUMNS = ("hourly_price", "monthly_cost", "price_estimated", "has_memory_data", "attached",
                   "network_demand", "iops_p99", "hours_observed", "days_observed", "coverage", "datapoints",
                   "in_auto_scaling_group")


def known_columns() -> list[str]:
    """Every column a rule may name (validated at rule load time)."""
    names = [f"{m.value}_{s}" for m in Metric for s in (*stats.STAT_NAMES, "coverage")]
    names += [f"{m}_{c}" for m in FORECAST_METRICS for c in (*forecast.FORECAST_COLUMNS, "demand")]
    return sorted({*names, *SPEC_COLUMNS, *INVENTORY_FEATURES, *DERIVED_COLUMNS})


def build_features(inventory: pd.DataFrame, metrics: pd.DataFrame, catalog: Catalog, settings: Settings,
                   window: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    start, end = window
    window_hours = max((end - start).total_seconds() / 3600.0, 1e-9)
    index = stats.index_series(metrics)
    wide = stats.wide_features(stats.series_stats(index, window_hours))
    features = inventory.set_index("resource_id")[list(INVENTORY_FEATURES)].copy()
    features["tags"] = inventory.set_index("resource_id")["tags"]
    features = features.join(wide, how="left")
    features = _add_forecast(features, index, settings, start, end)
    features = _add_specs_and_prices(features, inventory, catalog)
    features["has_memory_data"] = features.get("memory_samples", pd.Series(np.nan, index=features.index)).fillna(0) > 0
    features["network_demand"] = _sum_if_any(features, "network_in", "network_out", settings.network.statistic)
    features["iops_p99"] = _sum_if_any(features, "read_iops", "write_iops", "p99")
    inv = inventory.set_index("resource_id")
    features["attached"] = inv["attached_to"].notna() & (inv["attached_to"].astype(str).str.len() > 0)
    features["in_auto_scaling_group"] = [bool(t.get("aws:autoscaling:groupName")) for t in inv["tags"]]
    missing = [c for c in known_columns() if c not in features.columns]
    return pd.concat([features, pd.DataFrame(np.nan, index=features.index, columns=missing)], axis=1)


def _add_forecast(features: pd.DataFrame, index: stats.SeriesIndex, settings: Settings,
                  start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    day0 = start.floor("D")
    n_days = int(np.ceil((end - day0).total_seconds() / 86_400)) or 1
    for metric in FORECAST_METRICS:
        policy = settings.policy(metric)
        peaks = stats.daily_peaks(index, metric, STAT_QUANTILE[policy.statistic], day0, n_days)
        fc = forecast.forecast_peaks(peaks, settings.horizon_days, settings.forecast_method)
        fc.columns = [f"{metric}_{c}" for c in fc.columns]
        features = features.join(fc, how="left")
        observed = features.get(f"{metric}_{policy.statistic}")
        if observed is None:
            features[f"{metric}_demand"] = np.nan
            continue
        if settings.use_forecast:
            features[f"{metric}_demand"] = np.fmax(observed, features[f"{metric}_upper"].where(observed.notna()))
        else:
            features[f"{metric}_demand"] = observed
    return features


def _sum_if_any(features: pd.DataFrame, a: str, b: str, statistic: str) -> pd.Series:
    left, right = features.get(f"{a}_{statistic}"), features.get(f"{b}_{statistic}")
    if left is None and right is None:
        return pd.Series(np.nan, index=features.index)
    left = left if left is not None else pd.Series(np.nan, index=features.index)
    right = right if right is not None else pd.Series(np.nan, index=features.index)
    total = left.fillna(0) + right.fillna(0)
    return total.where(left.notna() | right.notna())


def _add_specs_and_prices(features: pd.DataFrame, inventory: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    types = inventory["instance_type"].astype(object).where(inventory["instance_type"].notna(), "")
    base = types.str.removeprefix("ml.")
    specs = catalog.types.reindex(base.to_numpy())[list(SPEC_COLUMNS)]
    specs.index = inventory["resource_id"].to_numpy()
    features = features.join(specs)
    hourly, estimated, monthly = [], [], []
    for row in inventory.itertuples(index=False):
        price, est, month = _price(row, catalog)
        hourly.append(price)
        estimated.append(est)
        monthly.append(month)
    prices = pd.DataFrame({"hourly_price": hourly, "price_estimated": estimated, "monthly_cost": monthly},
                          index=inventory["resource_id"].to_numpy())
    return features.join(prices)


def _price(row, catalog: Catalog) -> tuple[float, bool, float]:
    """(hourly price of one unit, estimated?, monthly cost of the resource) - NaN when unknown."""
    count = float(row.count or 1)
    kind = row.kind
    if kind == Kind.EBS_VOLUME:
        if not _text(row.volume_type) or pd.isna(row.size_gib):
            return np.nan, False, np.nan
        monthly, est = catalog.ebs_monthly(row.volume_type, row.size_gib, _num(row.iops), _num(row.throughput_mibps),
                                           row.region)
        return monthly / HOURS_PER_MONTH, est, monthly
    if not _text(row.instance_type):
        return np.nan, False, np.nan
    if kind == Kind.EC2_INSTANCE:
        price = catalog.hourly_price(row.instance_type, row.region)
        if price is None:
            return np.nan, False, np.nan
        return price, False, price * HOURS_PER_MONTH * count
    found = catalog.sagemaker_hourly(row.instance_type, row.region)
    if found is None:
        return np.nan, False, np.nan
    price, est = found
    if kind == Kind.SAGEMAKER_ENDPOINT and _text(row.accelerator_type):
        extra = catalog.sagemaker_hourly(row.accelerator_type, row.region)
        if extra is not None:
            price, est = price + extra[0], est or extra[1]
    if kind == Kind.SAGEMAKER_TRAINING_JOB:
        seconds = _num(row.billable_seconds) or _num(row.training_seconds) or 0.0
        return price, est, price * count * seconds / 3600.0
    return price, est, price * HOURS_PER_MONTH * count


def _text(value) -> str | None:
    """A non-empty string, or None for missing values (None, NaN, NA, "")."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "" else str(value)


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
