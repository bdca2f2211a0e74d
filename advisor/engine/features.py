"""The features frame: one row per resource with stats, forecast, demand, specs and prices. Rules read only this.

Besides the per-metric statistics (``{metric}_{stat}``) and the forecast columns, it derives the columns the rule
packs need (see ``docs/rules.md`` for each one's meaning and unit): summed read+write I/O series, Spot Advisor
figures for the resource's type, Elastic Inference attachments, SageMaker endpoint traffic shares and job costs.
Everything is vectorized over resources; only Batch environments (a list of types each) loop, and they are few.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor import kinds
from advisor.catalog import Catalog
from advisor.engine import accelerators, forecast, ownership, pricing, stats
from advisor.engine.columns import DERIVED_METRICS, FORECAST_METRICS, SPEC_COLUMNS
from advisor.engine.rules import INVENTORY_FEATURES, known_columns
from advisor.engine.samples import SampleNeeds, SampleSummary, summarize, window_hours
from advisor.model import HOURS_PER_MONTH, Kind
from advisor.settings import Settings

STAT_QUANTILE = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "max": 1.0}
BOOLEAN_COLUMNS = ("managed_spot", "checkpointing", "autoscaling", "scaling_suspended", "multi_attach", "auto_stop")
# A series sits at its capacity (its demand is censored: only known to be at least the capacity) when at least
# this share of its samples is at 98 % or more.
CENSORED_SHARE = 0.01


def sample_needs(settings: Settings) -> SampleNeeds:
    """What :func:`build_features` reads from the samples besides their statistics, under ``settings``."""
    peaks = {("memory", 0.5), *((m, STAT_QUANTILE[settings.policy(m).statistic]) for m in FORECAST_METRICS)}
    return SampleNeeds(peaks=tuple(sorted(peaks)), means=("network_in", "network_out"), active=("invocations",),
                       replay=("invocations",))


def build_features(inventory: pd.DataFrame, metrics: pd.DataFrame | SampleSummary, catalog: Catalog,
                   settings: Settings, window: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    """``metrics`` is the long frame, or its summary (``samples.summarize`` over the same window and
    :func:`sample_needs`)."""
    summary = metrics if isinstance(metrics, SampleSummary) else summarize(metrics, window, sample_needs(settings))
    if tuple(summary.window) != tuple(window):
        raise ValueError(f"samples summarized over {summary.window}, features asked over {window}")
    wide = stats.wide_features(summary.stats)
    if not summary.derived.empty:
        extra = stats.wide_features(summary.derived)
        wide = wide.join(extra[[c for c in extra.columns if c.startswith(tuple(DERIVED_METRICS))]], how="outer")
    inv = inventory.set_index("resource_id")
    features = inv[list(INVENTORY_FEATURES)].copy()
    features["tags"] = inv["tags"]
    for column in BOOLEAN_COLUMNS:
        features[column] = _boolean(features[column])
    features = features.join(wide, how="left")
    features = _add_evidence(features, summary)
    features = _add_forecast(features, summary, settings)
    features = _add_specs_and_prices(features, inventory, catalog)
    features = _per_month(features, window_hours(window))
    features["has_memory_data"] = features.get("memory_samples", pd.Series(np.nan, index=features.index)).fillna(0) > 0
    features["network_demand"] = _sum_if_any(features, "network_in", "network_out",
                                             settings.sizing.network.statistic)
    features["iops_p99"] = features.get("total_iops_p99", pd.Series(np.nan, index=features.index))
    features["iops_used_pct"] = features["iops_p99"] / features["iops"].where(features["iops"] > 0) * 100
    features["attached"] = inv["attached_to"].notna() & (inv["attached_to"].astype(str).str.len() > 0)
    features["in_auto_scaling_group"] = [bool(t.get("aws:autoscaling:groupName")) for t in inv["tags"]]
    features["managed_by"] = [ownership.controller(tags, given)
                              for tags, given in zip(inv["tags"], inv["managed_by"], strict=True)]
    # Spot is for on-demand capacity only: never for a Spot, Capacity Block or reserved instance
    on_demand = (features["lifecycle"] == "on-demand") & features["paid_capacity"].isna()
    features["interruptible"] = on_demand & (features["in_auto_scaling_group"]
                                             | _tagged(inv["tags"], settings.spot.interruptible_tags))
    features = _add_spot(features, catalog)
    features = _add_sagemaker(features, summary)
    missing = [c for c in known_columns() if c not in features.columns]
    return pd.concat([features, pd.DataFrame(np.nan, index=features.index, columns=missing)], axis=1)


def _add_evidence(features: pd.DataFrame, summary: SampleSummary) -> pd.DataFrame:
    """What the history shows beyond percentiles: the busiest day's network traffic, series that sit at their
    capacity (censored demand) and the largest step up of the memory level between two days."""
    daily = [summary.means[m] for m in ("network_in", "network_out")]
    per_day = pd.concat([pd.DataFrame(d.values, index=d.resource_ids) for d in daily])
    per_day = per_day.groupby(level=0).sum(min_count=1)  # bytes/s in + out, per day
    busiest = (per_day * 86_400 / 1e6).max(axis=1)
    features["network_daily_max_mb"] = busiest.reindex(features.index)
    for metric in FORECAST_METRICS:
        share = features.get(f"{metric}_above_98", pd.Series(np.nan, index=features.index))
        features[f"{metric}_censored"] = (share >= CENSORED_SHARE).where(share.notna())
    medians = summary.peaks[("memory", 0.5)]
    rises = pd.DataFrame(medians.values, index=medians.resource_ids).diff(axis=1)
    features["memory_step"] = rises.max(axis=1).clip(lower=0.0).reindex(features.index)
    return features


def _add_forecast(features: pd.DataFrame, summary: SampleSummary, settings: Settings) -> pd.DataFrame:
    """``{metric}_demand``: the policy statistic, raised to the forecast peak when forecasting; a censored
    series' demand is its capacity (100 %), a lower bound that is never extrapolated.

    The forecast holds capacity but does not add it (unless ``forecast_adds_capacity``): it may raise the demand up
    to the level the current capacity holds with the policy's headroom, which keeps the current size against a
    downsize, but a paid upsize needs measured demand (or demand censored at the capacity): a prediction is the
    least certain evidence there is, enough to keep capacity, not to spend on. ``{metric}_forecast_held`` marks
    where the forecast went above that level and was held there."""
    sizing = settings.sizing
    forecasts = []
    for metric in FORECAST_METRICS:
        peaks = summary.peaks[(metric, STAT_QUANTILE[settings.policy(metric).statistic])]
        fc = forecast.forecast_peaks(peaks, sizing.horizon_days, sizing.forecast_method, sizing.forecast_cap)
        fc.columns = [f"{metric}_{c}" for c in fc.columns]
        forecasts.append(fc)
    features = features.join(pd.concat(forecasts, axis=1), how="left")
    for metric in FORECAST_METRICS:
        policy = settings.policy(metric)
        observed = features.get(f"{metric}_{policy.statistic}")
        if observed is None:
            features[f"{metric}_demand"], features[f"{metric}_forecast_held"] = np.nan, False
            continue
        demand = observed
        censored = features[f"{metric}_censored"].fillna(False).astype(bool)
        held = pd.Series(False, index=features.index)
        if sizing.use_forecast:
            upper = features[f"{metric}_upper"].where(observed.notna())
            if not sizing.forecast_adds_capacity:
                held = (upper > policy.held_pct) & (observed < policy.held_pct) & ~censored
                upper = upper.clip(upper=policy.held_pct)
            demand = pd.Series(np.fmax(observed, upper), index=features.index)
        features[f"{metric}_demand"] = demand.where(~censored, 100.0)
        features[f"{metric}_forecast_held"] = held
    return features


def _sum_if_any(features: pd.DataFrame, a: str, b: str, statistic: str) -> pd.Series:
    left, right = features.get(f"{a}_{statistic}"), features.get(f"{b}_{statistic}")
    if left is None and right is None:
        return pd.Series(np.nan, index=features.index)
    left = left if left is not None else pd.Series(np.nan, index=features.index)
    right = right if right is not None else pd.Series(np.nan, index=features.index)
    total = left.fillna(0) + right.fillna(0)
    return total.where(left.notna() | right.notna())


def _boolean(values: pd.Series) -> pd.Series:
    """True/False/NA from booleans, 0/1 or text (a CSV file source gives "True", "false", "yes"...)."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    if values.isna().all():
        return pd.Series(pd.NA, index=values.index, dtype="boolean")
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip().str.lower()
    mapped = text.map({"true": True, "1": True, "1.0": True, "yes": True,
                       "false": False, "0": False, "0.0": False, "no": False})
    return mapped.astype("boolean")


def _tagged(tags: pd.Series, rules: dict[str, list[str]]) -> np.ndarray:
    wanted = {key: {v.lower() for v in values} for key, values in rules.items()}
    return np.array([any(str(t.get(k, "")).lower() in v for k, v in wanted.items()) for t in tags], dtype=bool)


def _add_specs_and_prices(features: pd.DataFrame, inventory: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    types = inventory["instance_type"].astype(object).where(inventory["instance_type"].notna(), "")
    base = types.str.removeprefix("ml.")
    specs = catalog.types.reindex(base.to_numpy())[list(SPEC_COLUMNS)]
    specs.index = inventory["resource_id"].to_numpy()
    features = features.join(specs)
    records = list(inventory.itertuples(index=False))
    prices = pd.DataFrame([pricing.price(row, catalog) for row in records], columns=list(pricing.COLUMNS),
                          index=inventory["resource_id"].to_numpy())
    features = features.join(prices)
    groups = [pricing.instance_groups(value) for value in inventory["instance_groups"]]
    totals = pd.Series([sum(n for _, n in g) if g else np.nan for g in groups], index=features.index)
    features["count"] = totals.fillna(features["count"])  # a cluster's instances are its groups'
    features["paid_capacity"] = [pricing.paid_capacity(row) for row in records]
    features["running"] = _running(features)
    # what is not running costs nothing now (a stopped instance, a failed endpoint, a variant at 0 instances)
    features["monthly_cost"] = features["monthly_cost"].where(features["running"] | features["monthly_cost"].isna(),
                                                              0.0)
    features["has_elastic_inference"] = accelerators.is_elastic_inference(features["accelerator_type"])
    return features


def _running(features: pd.DataFrame) -> pd.Series:
    """Whether the resource's instances run now: its kind calls its state active and (kinds priced by instance)
    at least one instance runs."""
    active = [kinds.get(kind).is_active(state) for kind, state in zip(features["kind"], features["state"], strict=True)]
    by_instance = features["kind"].map({k.id: k.pricing == "instance" for k in kinds.all_kinds()}).fillna(False)
    return pd.Series(active, index=features.index, dtype=bool) & ~(by_instance.astype(bool) & (features["count"] <= 0))


def _per_month(features: pd.DataFrame, window_hours: float) -> pd.DataFrame:
    """Jobs' money as a monthly rate: a run's cost x ``runs_per_month``, the runs seen in the window (one per job
    resource) scaled to 730 hours. Every money column is then per month, whatever the kind.

    A window shorter than the run itself counts as the run's length: a job repeated back to back costs at most
    what its instances cost running all month.
    """
    per_run = features["kind"].map({k.id: k.per_run for k in kinds.all_kinds()}).fillna(False).astype(bool)
    span = np.fmax(window_hours, features["hours_billed"].to_numpy(float))
    rate = pd.Series(np.where(per_run, HOURS_PER_MONTH / span, np.nan), index=features.index)
    features["runs_per_month"] = rate
    features["run_hours"] = features["hours_billed"].where(per_run)  # one run's billed hours, before the rate
    for column in ("monthly_cost", "hours_billed"):
        features[column] = features[column].where(~per_run, features[column] * rate)
    return features


def _add_spot(features: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Spot Advisor savings % and interruption band of each resource's type (SageMaker ml.X as EC2 X)."""
    table = catalog.spot_table
    base = features["instance_type"].astype(object).where(features["instance_type"].notna(), "").astype(str)
    key = pd.MultiIndex.from_arrays([base.str.removeprefix("ml.").to_numpy(), features["region"].astype(str)])
    found = table.reindex(key)
    features["spot_savings_pct"] = found["spot_savings_pct"].astype(float).to_numpy()
    features["interruption_band"] = found["interruption_band"].astype(float).to_numpy()
    batch = features.index[features["kind"] == Kind.BATCH_COMPUTE_ENVIRONMENT]
    for resource_id in batch:
        per_vcpu = pricing.batch_vcpu_prices(features.at[resource_id, "instance_type"],
                                             str(features.at[resource_id, "region"]), catalog).dropna()
        if not per_vcpu.empty:
            features.at[resource_id, "spot_savings_pct"] = 100 * (1 - per_vcpu["spot"].mean() / per_vcpu["list"].mean())
            features.at[resource_id, "interruption_band"] = per_vcpu["band"].min()
    for resource_id in features.index[features["instance_groups"].notna()]:  # a heterogeneous cluster
        row = features.loc[resource_id]
        features.loc[resource_id, ["spot_savings_pct", "interruption_band"]] = _cluster_spot(
            pricing.instance_groups(row["instance_groups"]), str(row["region"]), table, catalog)
    # no discount covers Spot: its price comes from the public on-demand price
    features["spot_hourly"] = features["ondemand_hourly"] * (1 - features["spot_savings_pct"] / 100)
    return features


def _cluster_spot(groups: list[tuple[str, float]], region: str, table: pd.DataFrame,
                  catalog: Catalog) -> tuple[float, float]:
    """A cluster's Spot savings % weighted by each group's public on-demand cost, and its highest interruption
    band (managed Spot training runs the whole cluster on Spot)."""
    weights, savings, bands = [], [], []
    for name, n in groups:
        base = name.removeprefix("ml.")
        listed = catalog.hourly_price(base, region)
        if (base, region) not in table.index or listed is None:
            return np.nan, np.nan
        weights.append(listed * n)
        savings.append(float(table["spot_savings_pct"].loc[(base, region)]))
        bands.append(float(table["interruption_band"].loc[(base, region)]))
    if not sum(weights) or any(np.isnan(savings)):
        return np.nan, np.nan
    return float(np.average(savings, weights=weights)), float(np.max(bands))


def _add_sagemaker(features: pd.DataFrame, summary: SampleSummary) -> pd.DataFrame:
    """Job durations, realised Spot savings, endpoint idleness, traffic shape and A/B variant shares."""
    training = features["training_seconds"]
    features["training_hours"] = training / 3600
    spot = features["managed_spot"].fillna(False).astype(bool)
    billed_share = features["billable_seconds"] / training.where(training > 0)
    features["spot_realised_pct"] = (100 * (1 - billed_share)).where(spot)
    features["invocations_idle_days"] = summary.quiet_days("invocations")
    median = features.get("invocations_p50", pd.Series(np.nan, index=features.index))
    features["invocations_peak_to_median"] = features.get("invocations_p95", np.nan) / median.where(median > 0)
    endpoint_rows = (features["kind"] == Kind.SAGEMAKER_ENDPOINT) & features["endpoint"].notna()
    ep = features.loc[endpoint_rows]
    if ep.empty:
        return features
    group = ep["endpoint"].astype(str)
    calls = ep.get("invocations_mean", pd.Series(np.nan, index=ep.index))
    total = calls.groupby(group).transform("sum", min_count=1)
    weights = ep["weight"].where(ep["weight"] >= 0)
    weight_share = weights / weights.groupby(group).transform("sum", min_count=1)
    features.loc[ep.index, "variants"] = group.map(group.value_counts()).astype(float)
    features.loc[ep.index, "variant_share"] = (calls / total.where(total > 0)).fillna(weight_share)
    features.loc[ep.index, "endpoint_max_count"] = ep["count"].groupby(group).transform("max").astype(float)
    return features
