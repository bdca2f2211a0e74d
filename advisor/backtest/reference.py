"""Reference strategies: what users get from other tools, reproduced from their public documentation.

They size EC2 instances only and never forecast. The sizing ones read a statistic per dimension from the
history, add headroom and reuse :func:`advisor.engine.sizing.size_resources` (the same catalog, candidates and
region rules as ``ours``), so the comparison isolates *how demand is read*:

* ``compute-optimizer``: AWS Compute Optimizer's defaults: CPU p99.5 of the 5-minute maxima + 20 %, memory max
  + 20 %, the last 14 days, at least 30 hours of data.
* ``percentile-buffer``: the common "percentile plus a buffer" rule: CPU p95 + 15 %, memory max + 15 %.
* ``naive-average``: average CPU and average memory, no headroom.
* ``trusted-advisor``: AWS Trusted Advisor's low-utilization check (daily CPU average <= 10 % and network <= 5 MB
  on at least 4 of the last 14 days), answered with one size down in the same family.

GPU utilization is read like CPU and GPU memory like memory. A sizing strategy moves a resource to a cheaper type
when one holds its demand with headroom (sizing's "down" mode), up to the cheapest type that holds it when its CPU
or memory demand exceeds the current type (an upsize whose cause is its headroom on a measured statistic), and
otherwise leaves it alone. A dimension without metrics is held at
its current capacity (sizing's rule).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from advisor.backtest.strategy import Decision, History, Strategy
from advisor.engine.sizing import demand_frame, size_resources
from advisor.model import HOURS_PER_MONTH, Kind
from advisor.settings import MetricPolicy, Settings, SizingConfig

STATISTIC_PATTERN = r"^(mean|max|p\d{1,2}(\.\d+)?)$"
_SECONDS_PER_DAY = 86_400


_CPU_STAT = "CPU (and GPU) demand: mean, max or a percentile such as p99.5"
_MEMORY_STAT = "memory (and GPU memory) demand: mean, max or a percentile"
_CPU_HEADROOM = "fraction added on top of the CPU (and GPU) demand"
_MEMORY_HEADROOM = "fraction added on top of the memory (and GPU memory) demand"
_MAXIMA = "read the statistics from the maximum of each 5-minute period rather than from the samples"
_LOOKBACK = "use only the last N days before the cut-off (None: all of them)"


class SizingSettings(BaseModel):
    """Settings of the percentile-buffer strategy; the other sizing strategies change the defaults."""

    model_config = ConfigDict(extra="forbid")

    cpu_statistic: str = Field("p95", pattern=STATISTIC_PATTERN, description=_CPU_STAT)
    cpu_headroom: float = Field(0.15, ge=0, le=1, description=_CPU_HEADROOM)
    memory_statistic: str = Field("max", pattern=STATISTIC_PATTERN, description=_MEMORY_STAT)
    memory_headroom: float = Field(0.15, ge=0, le=1, description=_MEMORY_HEADROOM)
    five_minute_maxima: bool = Field(False, description=_MAXIMA)
    lookback_days: float | None = Field(None, gt=0, description=_LOOKBACK)
    min_hours: float = Field(30.0, ge=0, description="resources with less history are left alone")


class ComputeOptimizerSettings(SizingSettings):
    cpu_statistic: str = Field("p99.5", pattern=STATISTIC_PATTERN, description=_CPU_STAT)
    cpu_headroom: float = Field(0.20, ge=0, le=1, description=_CPU_HEADROOM)
    memory_headroom: float = Field(0.20, ge=0, le=1, description=_MEMORY_HEADROOM)
    five_minute_maxima: bool = Field(True, description=_MAXIMA)
    lookback_days: float | None = Field(14.0, gt=0, description=_LOOKBACK)


class NaiveAverageSettings(SizingSettings):
    cpu_statistic: str = Field("mean", pattern=STATISTIC_PATTERN, description=_CPU_STAT)
    cpu_headroom: float = Field(0.0, ge=0, le=1, description=_CPU_HEADROOM)
    memory_statistic: str = Field("mean", pattern=STATISTIC_PATTERN, description=_MEMORY_STAT)
    memory_headroom: float = Field(0.0, ge=0, le=1, description=_MEMORY_HEADROOM)


class SizingStrategy(Strategy[SizingSettings]):
    """Statistic + headroom per dimension, then the cheapest type that holds it (no forecast, no rules)."""

    def decide(self, history: History) -> list[Decision]:
        s = self.settings
        metrics = _lookback(history, s.lookback_days)
        frame = _eligible(history, s.min_hours)
        for dim, statistic in (("cpu", s.cpu_statistic), ("memory", s.memory_statistic),
                               ("gpu", s.cpu_statistic), ("gpu_memory", s.memory_statistic)):
            frame[f"{dim}_demand"] = resource_statistic(metrics, dim, statistic, s.five_minute_maxima).reindex(
                frame.index)
        return _size(self.name, history, frame, s.cpu_headroom, s.memory_headroom)


def _eligible(history: History, min_hours: float) -> pd.DataFrame:
    """Running EC2 instances with a known type and price and at least ``min_hours`` of history."""
    features = history.features
    eligible = ((features["kind"] == Kind.EC2_INSTANCE) & (features["state"] == "running")
                & features["vcpus"].notna() & features["hourly_price"].notna()
                & (features["hours_observed"].fillna(0) >= min_hours))
    return features[eligible].copy()


def _size(name: str, history: History, frame: pd.DataFrame, cpu_headroom: float,
          memory_headroom: float) -> list[Decision]:
    """Down to the cheapest type that holds ``{dim}_demand`` + headroom, else up when the current type does not."""
    frame = frame[frame["cpu_demand"].notna()]
    if frame.empty:
        return []
    # Sizing reads only the headroom of each policy: the demand columns are the statistics.
    cpu = MetricPolicy(statistic="max", headroom_pct=cpu_headroom * 100)
    memory = MetricPolicy(statistic="max", headroom_pct=memory_headroom * 100)
    # The reference strategies size CPU and memory only, as defined: a missing network series is not held, and the
    # memory headroom is their percentage alone (no minimum in GiB).
    settings = Settings(sizing=SizingConfig(use_forecast=False, cpu=cpu, memory=memory, gpu=cpu, gpu_memory=memory,
                                            missing_network="ignore", memory_min_headroom_gib=0.0))
    decisions = []
    for resource_id, result in size_resources(frame, history.catalog, settings, "down").items():
        if result.target is not None and result.target_hourly is not None:
            decisions.append(_priced(resource_id, frame.loc[[resource_id]].iloc[0], "downsize", result.target,
                                     result.target_hourly, f"{name}: a cheaper type holds the demand"))
    need = demand_frame(frame, settings, "up")
    hot = (need["need_vcpus"] > frame["vcpus"] + 1e-9) | (need["need_memory"] > frame["memory_gib"] + 1e-9)
    hot = hot & ~frame.index.isin([d.resource_id for d in decisions])
    if hot.any():
        for resource_id, result in size_resources(frame[hot], history.catalog, settings, "up").items():
            if result.target is not None and result.target_hourly is not None:
                decision = _priced(resource_id, frame.loc[[resource_id]].iloc[0], "upsize", result.target,
                                   result.target_hourly, f"{name}: the current type is too small")
                over = need.loc[resource_id]
                row = frame.loc[resource_id]
                dimensions = {dim: {"cause": "headroom", "headroom": headroom} for dim, column, capacity, headroom in
                              (("cpu", "need_vcpus", "vcpus", cpu_headroom),
                               ("memory", "need_memory", "memory_gib", memory_headroom))
                              if over[column] > row[capacity] + 1e-9}
                decisions.append(replace(decision, upsize={"cause": "headroom", "dimensions": dimensions}))
    return decisions


class ComputeOptimizer(SizingStrategy):
    """AWS Compute Optimizer's defaults (CPU p99.5 of 5-minute maxima + 20 %, memory max + 20 %, 14 days)."""

    name = "compute-optimizer"
    summary = "CPU p99.5 of 5-minute maxima + 20 %, memory max + 20 %, last 14 days (Compute Optimizer defaults)"
    settings_model = ComputeOptimizerSettings


class PercentileBuffer(SizingStrategy):
    """A percentile plus a fixed buffer, as many scripts and dashboards do (CPU p95 + 15 %, memory max + 15 %)."""

    name = "percentile-buffer"
    summary = "CPU p95 + 15 %, memory max + 15 % (a percentile plus a fixed buffer)"
    settings_model = SizingSettings


class NaiveAverage(SizingStrategy):
    """Average CPU and average memory with no headroom: what a spreadsheet of averages suggests."""

    name = "naive-average"
    summary = "average CPU and average memory, no headroom"
    settings_model = NaiveAverageSettings


class VpaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    half_life_hours: float = Field(24.0, gt=0, description="a sample's weight halves every this many hours back "
                                   "from the cut-off")
    percentile: float = Field(90.0, gt=0, le=100, description="the weighted percentile read for CPU (samples) "
                              "and memory (daily peaks)")
    margin: float = Field(0.15, ge=0, le=1, description="safety margin added on top (VPA's 15 %)")
    min_hours: float = Field(30.0, ge=0, description="resources with less history are left alone")


class Vpa(Strategy[VpaSettings]):
    """The Kubernetes Vertical Pod Autoscaler's recommender: decayed histograms read at p90, plus a 15 % margin.

    Every sample is weighted by 2^(-age / half-life); CPU demand is the weighted p90 of the samples, memory (and
    GPU memory) demand the weighted p90 of the daily peaks (VPA keeps one peak per aggregation interval), each
    times 1.15. GPU utilization is read like CPU."""

    name = "vpa"
    summary = "decayed weights (24 h half-life): CPU weighted p90 x 1.15, memory weighted p90 of daily peaks x 1.15 " \
              "(Kubernetes VPA recommender)"
    settings_model = VpaSettings

    def decide(self, history: History) -> list[Decision]:
        s = self.settings
        frame = _eligible(history, s.min_hours)
        end = history.window[1]
        for dim, daily in (("cpu", False), ("memory", True), ("gpu", False), ("gpu_memory", True)):
            frame[f"{dim}_demand"] = decayed_percentile(history.metrics, dim, s.percentile / 100, end,
                                                        s.half_life_hours, daily).reindex(frame.index)
        return _size(self.name, history, frame, s.margin, s.margin)


def decayed_percentile(metrics: pd.DataFrame, metric: str, q: float, end: pd.Timestamp, half_life_hours: float,
                       daily_peaks: bool) -> pd.Series:
    """Per resource, the ``q`` quantile of ``metric`` with samples weighted by 2^(-age / half-life)."""
    rows = _prefer_stat(metrics[metrics["metric"].astype(str) == metric], "max")
    rows = rows[["resource_id", "timestamp", "value"]].assign(resource_id=rows["resource_id"].astype(str))
    if daily_peaks:
        rows = rows.assign(timestamp=rows["timestamp"].dt.floor("D"))
        peaks = rows.groupby(["resource_id", "timestamp"])["value"].max().reset_index()
        rows = peaks.assign(timestamp=peaks["timestamp"] + pd.Timedelta(hours=12))  # a day's peak is dated midday
    age_hours = (end - rows["timestamp"]).dt.total_seconds().clip(lower=0) / 3600
    rows = rows.assign(weight=np.exp2(-age_hours / half_life_hours)).sort_values(["resource_id", "value"])
    out = {}
    for resource_id, group in rows.groupby("resource_id", sort=False):
        cumulative = group["weight"].cumsum().to_numpy()
        position = int(np.searchsorted(cumulative, q * cumulative[-1], side="left"))
        out[resource_id] = float(group["value"].iloc[min(position, len(group) - 1)])
    return pd.Series(out, dtype=float)


class TrustedAdvisorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cpu_daily_average_max: float = Field(10.0, ge=0, le=100, description="a day is low when its average CPU "
                                         "is at most this %")
    network_daily_mb_max: float = Field(5.0, ge=0, description="... and its network traffic (in + out) at most "
                                        "this many MB (10^6 bytes); with no network metrics, CPU alone decides")
    min_days: int = Field(4, ge=1, description="flag the instance when at least this many days are low")
    lookback_days: float = Field(14.0, gt=0, description="the days looked at, before the cut-off")


class TrustedAdvisor(Strategy[TrustedAdvisorSettings]):
    """AWS Trusted Advisor's "Low Utilization Amazon EC2 Instances" check, answered with one size down in the same
    family (the next cheaper type of the family offered in the region), since the check itself names no target."""

    name = "trusted-advisor"
    summary = ("daily CPU average <= 10 % and network <= 5 MB on 4 of the last 14 days -> one size down in the "
               "same family (Trusted Advisor's low-utilization check)")
    settings_model = TrustedAdvisorSettings

    def decide(self, history: History) -> list[Decision]:
        s = self.settings
        metrics = _lookback(history, s.lookback_days)
        features = history.features
        low_days = _low_days(metrics, s.cpu_daily_average_max, s.network_daily_mb_max * 1e6)
        flagged = low_days[low_days >= s.min_days].index
        rows = features.loc[features.index.isin(flagged)]
        rows = rows[(rows["kind"] == Kind.EC2_INSTANCE) & (rows["state"] == "running") & rows["hourly_price"].notna()]
        decisions = []
        for region, group in rows.groupby("region", sort=False):
            offered = history.catalog.offered(str(region))
            offered = offered[~offered["bare_metal"].astype(bool)]
            for resource_id, row in group.iterrows():
                family = offered[(offered["family"] == row["family"])
                                 & (offered["ondemand_hourly"] < float(row["hourly_price"]) - 1e-9)]
                if family.empty:
                    continue
                target = str(family["ondemand_hourly"].idxmax())
                decisions.append(_priced(str(resource_id), row, "downsize", target,
                                         float(family.at[target, "ondemand_hourly"]),
                                         f"{self.name}: low utilization on {int(low_days[str(resource_id)])} days"))
        return decisions


def resource_statistic(metrics: pd.DataFrame, metric: str, statistic: str, five_minute_maxima: bool) -> pd.Series:
    """``statistic`` (mean, max or pNN.N) of one metric per resource; NaN-free, index resource_id.

    Where a source gives both averages and maxima, the mean reads the averages and the rest the maxima.
    """
    rows = _prefer_stat(metrics[metrics["metric"].astype(str) == metric], "avg" if statistic == "mean" else "max")
    if five_minute_maxima:
        rows = rows.assign(timestamp=rows["timestamp"].dt.floor("5min"))
        rows = rows.groupby(["resource_id", "timestamp"], observed=True)["value"].max().reset_index()
    grouped = rows.groupby("resource_id", observed=True)["value"]
    if statistic == "mean":
        return grouped.mean()
    if statistic == "max":
        return grouped.max()
    return grouped.quantile(float(statistic[1:]) / 100)


def _prefer_stat(rows: pd.DataFrame, wanted: str) -> pd.DataFrame:
    if "stat" not in rows.columns:
        return rows
    stat = rows["stat"].astype(str).str.lower()
    has_wanted = rows.loc[stat == wanted, "resource_id"].unique()
    return rows[(stat == wanted).to_numpy() | ~rows["resource_id"].isin(has_wanted).to_numpy()]


def _lookback(history: History, days: float | None) -> pd.DataFrame:
    metrics = history.metrics
    if days is None:
        return metrics
    return metrics[metrics["timestamp"] >= history.window[1] - pd.Timedelta(days=days)]


def _low_days(metrics: pd.DataFrame, cpu_max: float, network_bytes_max: float) -> pd.Series:
    """Per resource, the number of days whose average CPU and network traffic were both low."""
    day = metrics["timestamp"].dt.floor("D")
    keyed = metrics.assign(day=day, metric=metrics["metric"].astype(str))
    cpu = _prefer_stat(keyed[keyed["metric"] == "cpu"], "avg")
    daily_cpu = cpu.groupby(["resource_id", "day"], observed=True)["value"].mean()
    network = _prefer_stat(keyed[keyed["metric"].isin(["network_in", "network_out"])], "avg")
    # bytes/s averaged over the day x seconds per day, in and out added
    daily_net = (network.groupby(["resource_id", "day", "metric"], observed=True)["value"].mean()
                 .groupby(level=["resource_id", "day"]).sum() * _SECONDS_PER_DAY)
    daily_net = daily_net.reindex(daily_cpu.index)
    has_network = daily_cpu.index.get_level_values("resource_id").isin(network["resource_id"].unique())
    quiet = (daily_net <= network_bytes_max) | ~has_network
    low = (daily_cpu <= cpu_max) & quiet
    return low.groupby(level="resource_id").sum()


def _priced(resource_id: str, row: pd.Series, action: str, target: str, target_hourly: float,
            reason: str) -> Decision:
    count = float(row["count"])
    return Decision(resource_id=resource_id, action=action, target=target,
                    monthly_cost_now=round(float(row["hourly_price"]) * HOURS_PER_MONTH * count, 2),
                    monthly_cost_after=round(target_hourly * HOURS_PER_MONTH * count, 2), reason=reason)
