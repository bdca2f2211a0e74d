"""Spot: interruptible EC2 fleets, SageMaker managed Spot training, AWS Batch Spot compute environments.

Savings come from the catalog's Spot Instance Advisor figures (savings % off on-demand and the interruption
band, per region and type; SageMaker ``ml.X`` uses EC2 ``X``). A Spot fleet should not depend on one type, so the
EC2 and Batch handlers build a *pool*: types of the same shape (same vCPUs, memory within a tolerance, same
architecture and accelerators) in the lowest interruption bands, ordered by band then Spot price. The pool's
mean Spot price is the cost after: with capacity-optimized allocation any of its types may run.

Parameters: :class:`advisor.engine.actions.params.SpotPoolParameters`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from advisor.catalog import INTERRUPTION_BANDS
from advisor.catalog.catalog import LINUX
from advisor.engine.actions.base import ActionContext, Proposal, monthly, resources
from advisor.engine.actions.params import SpotPoolParameters
from advisor.engine.candidates import candidates
from advisor.engine.pricing import batch_vcpu_prices, platform_of
from advisor.model import Kind

if TYPE_CHECKING:
    from advisor.engine.rules import LoadedRule

TRAINING_CONDITIONS = (
    "Managed Spot training needs EnableManagedSpotTraining=True and MaxWaitTimeInSeconds greater than "
    "MaxRuntimeInSeconds (the wait covers time spent waiting for Spot capacity), and the job should write "
    "checkpoints to /opt/ml/checkpoints (CheckpointConfig) so an interrupted job resumes instead of restarting."
)
PER_VCPU_HOURS = 1000.0


def not_on_demand(rule: LoadedRule, row: pd.Series) -> str | None:
    """Why a resource is no Spot candidate whatever a rule says: its capacity is already paid for (a Capacity
    Block, a reservation, a plan) or it is not on-demand capacity (already Spot, scheduled); None when it is."""
    paid = row.get("paid_capacity")
    if isinstance(paid, str):
        return f"{rule.id}: runs on capacity already paid for ({paid}), never moved to Spot"
    if str(row["lifecycle"]) != "on-demand":
        return f"{rule.id}: runs on {row['lifecycle']} capacity, not on-demand"
    if row["kind"] == Kind.EC2_INSTANCE and platform_of(row) != LINUX:
        return f"{rule.id}: the catalog's Spot figures are for {LINUX}, not {platform_of(row)}"
    return None


def band_label(band: float) -> str | None:
    return None if band is None or pd.isna(band) else INTERRUPTION_BANDS[int(band)]


def ec2_spot(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    out: dict[str, Proposal] = {}
    for rid, row in resources(rows):
        if (why := not_on_demand(rule, row)) is not None:
            out[rid] = Proposal(blocked=why)
            continue
        pool = spot_pool(ctx, rule, row)
        if pool.empty:
            out[rid] = Proposal(blocked=f"{rule.id}: no type of the same shape has Spot data in an interruption band "
                                        f"up to {band_label(SpotPoolParameters.of(rule).max_band)}")
            continue
        spot_hourly = float(pool["spot"].mean())
        options = [_pool_option(rank, str(name), item, row)
                   for rank, (name, item) in enumerate(pool.head(3).iterrows(), 1)]
        out[rid] = Proposal(
            target=str(pool.index[0]), cost_after=monthly(spot_hourly, row), options=options,
            evidence={"spot": {"interruptible_because": _why_interruptible(ctx, row),
                               "pool": _pool_table(pool), "blended_spot_hourly": round(spot_hourly, 4),
                               "allocation_strategy": "capacity-optimized"}},
            notes=[f"Run the group on a diversified Spot pool of {len(pool)} types of the same shape "
                   f"(capacity-optimized allocation); the cost after is the mean Spot price of the pool."],
        )
    return out


def training_spot(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    out: dict[str, Proposal] = {}
    for rid, row in resources(rows):
        if (why := not_on_demand(rule, row)) is not None:
            out[rid] = Proposal(blocked=why)
            continue
        saving = float(row["spot_savings_pct"]) / 100
        notes = [TRAINING_CONDITIONS]
        if not _true(row["checkpointing"]):
            notes.append("This job writes no checkpoints: add a CheckpointConfig before enabling Spot, or an "
                         "interruption restarts it from the beginning.")
        # Spot applies to the training time; time a warm pool kept the instances stays at the on-demand price
        warm = _warm_pool_hours(row)
        cost_after = (monthly(row["spot_hourly"], row)
                      + (float(row["hourly_price"]) - float(row["spot_hourly"])) * warm * float(row["count"]))
        if warm:
            notes.append(f"The warm pool's retained time ({warm:,.1f} h a month) is billed at the on-demand price "
                         "and not reduced by Spot.")
        out[rid] = Proposal(
            target="managed Spot training", cost_after=cost_after,
            evidence={"spot": {"savings_pct": round(saving * 100, 1), "interruption": band_label(
                row["interruption_band"]), "basis": f"Spot Advisor figure for {str(row['instance_type'])[3:]} "
                                                    f"in {row['region']}", "checkpointing": _true(row["checkpointing"]),
                               "cost_basis": "this run's billable time, per month at the "
                                                                 "window's run rate"}},
            notes=notes, confidence=0.8 if _true(row["checkpointing"]) else 0.6,
        )
    return out


def training_spot_realised(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """A job already on managed Spot: what it saved (1 - billable / training seconds). Nothing more to save."""
    out: dict[str, Proposal] = {}
    for rid, row in resources(rows):
        per_month = float(row["hourly_price"]) * float(row["count"]) / 3600 * float(row["runs_per_month"])
        on_demand = per_month * float(row["training_seconds"])
        saved = per_month * (float(row["training_seconds"]) - float(row["billable_seconds"]))
        out[rid] = Proposal(evidence={"spot_realised": {
            "savings_pct": round(float(row["spot_realised_pct"]), 1),
            "saved": round(saved, 2), "on_demand_cost": round(on_demand, 2),
            "billable_seconds": int(row["billable_seconds"]), "training_seconds": int(row["training_seconds"])}},
            confidence=0.9)
    return out


def batch_spot(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """Saving = vCPU-hours x (on-demand - Spot) per vCPU-hour; without vcpu_hours, stated per 1,000 vCPU-hours."""
    out: dict[str, Proposal] = {}
    for rid, row in resources(rows):
        allowed = batch_vcpu_prices(row["instance_type"], row["region"], ctx.catalog)
        pool = _batch_pool(ctx, rule, row, allowed)
        if allowed.empty or pool.empty:
            out[rid] = Proposal(blocked=f"{rule.id}: no Spot data for the environment's types in {row['region']}")
            continue
        ondemand = float(allowed["ondemand"].mean())
        spot = float((pool["spot"] / pool["vcpus"]).mean())
        per_thousand = (ondemand - spot) * PER_VCPU_HOURS
        vcpu_hours = row["vcpu_hours"]
        target = "SPOT_CAPACITY_OPTIMIZED: " + ", ".join(pool.index)
        evidence = {"spot": {"pool": _pool_table(pool), "ondemand_per_vcpu_hour": round(ondemand, 5),
                             "spot_per_vcpu_hour": round(spot, 5),
                             "saving_per_1000_vcpu_hours": round(per_thousand, 2),
                             "vcpu_hours": None if pd.isna(vcpu_hours) else float(vcpu_hours)}}
        if pd.isna(vcpu_hours):
            out[rid] = Proposal(target=target, cost_now=0.0, cost_after=0.0, evidence=evidence, confidence=0.5,
                                notes=[f"The environment's vCPU-hours are unknown: the saving is "
                                       f"${per_thousand:,.2f} per 1,000 vCPU-hours."])
            continue
        out[rid] = Proposal(target=target, cost_now=ondemand * float(vcpu_hours), cost_after=spot * float(vcpu_hours),
                            evidence=evidence, confidence=0.7,
                            notes=["Create a SPOT compute environment with allocation strategy SPOT_CAPACITY_OPTIMIZED "
                                   "and these types, and put it first in the job queue's compute environment order "
                                   "(keep the on-demand one second). Jobs should be retryable (retryStrategy)."])
    return out


def spot_pool(ctx: ActionContext, rule: LoadedRule, row: pd.Series) -> pd.DataFrame:
    """Types of the row's shape with Spot data, lowest band first, then cheapest Spot price (index: type)."""
    t = SpotPoolParameters.of(rule)
    offered = candidates(ctx.catalog, str(row["region"]), "ec2", True)
    tolerance = t.memory_tolerance
    same = ((offered["vcpus"] == row["vcpus"]) & (offered["arch"].astype(str) == str(row["arch"]))
            & ((offered["memory_gib"] / float(row["memory_gib"]) - 1).abs() <= tolerance)
            & (offered["accel_class"] == ("gpu" if row["gpus"] > 0 else "cpu"))
            & (offered["burstable"].astype(bool) == bool(row["burstable"])))
    if row["gpus"] > 0:
        same &= offered["gpu_model"].astype(str) == str(row["gpu_model"])
    return _ranked(offered[same], t, float(row["hourly_price"]) / float(row["vcpus"]))


def _batch_pool(ctx: ActionContext, rule: LoadedRule, row: pd.Series, allowed: pd.DataFrame) -> pd.DataFrame:
    """The environment's types plus same-shape siblings, ranked and cut like an EC2 pool."""
    offered = candidates(ctx.catalog, str(row["region"]), "ec2", ctx.settings.sizing.allow_burstable_targets)
    t = SpotPoolParameters.of(rule)
    tolerance = t.memory_tolerance
    shapes = offered.loc[offered.index.intersection(allowed.index), ["vcpus", "memory_gib", "arch"]]
    same = np.zeros(len(offered), bool)
    for _, shape in shapes.iterrows():
        same |= ((offered["vcpus"] == shape["vcpus"]) & (offered["arch"].astype(str) == str(shape["arch"]))
                 & ((offered["memory_gib"] / float(shape["memory_gib"]) - 1).abs() <= tolerance)
                 & (offered["accel_class"] == "cpu")).to_numpy()
    return _ranked(offered[same], t, float(allowed["ondemand"].mean()))


def _ranked(frame: pd.DataFrame, t: SpotPoolParameters, ondemand_per_vcpu: float) -> pd.DataFrame:
    """Keep types in the allowed bands whose Spot price per vCPU still saves ``min_savings_pct`` against the
    current on-demand price per vCPU; lowest band first, then cheapest."""
    savings = frame["spot_savings_pct"].astype(float)
    pool = pd.DataFrame({"vcpus": frame["vcpus"].astype(float), "memory_gib": frame["memory_gib"].astype(float),
                         "band": frame["interruption_band"].astype(float), "savings_pct": savings,
                         "ondemand": frame["hourly"], "spot": frame["list_hourly"] * (1 - savings / 100)})
    pool = pool.dropna(subset=["band", "savings_pct"])
    ceiling = ondemand_per_vcpu * (1 - t.min_savings_pct / 100)
    pool = pool[(pool["band"] <= t.max_band) & (pool["spot"] / pool["vcpus"] <= ceiling)]
    pool = pool.sort_values(["band", "spot"], kind="stable")
    return pool.head(t.pool_size)


def _pool_option(rank: int, name: str, item: pd.Series, row: pd.Series) -> dict:
    return {"instance_type": name, "label": f"Spot, interruption {band_label(item['band'])}", "rank": rank,
            "hourly_price": round(float(item["spot"]), 4), "monthly_cost": round(monthly(item["spot"], row), 2),
            "monthly_savings": round(monthly(float(row["hourly_price"]) - item["spot"], row), 2),
            "spot_savings_pct": float(item["savings_pct"]), "interruption": band_label(item["band"]),
            "projected_utilization": {}, "risk": None}


def _pool_table(pool: pd.DataFrame) -> list[dict]:
    return [{"instance_type": name, "interruption": band_label(item["band"]),
             "spot_savings_pct": float(item["savings_pct"]), "spot_hourly": round(float(item["spot"]), 4)}
            for name, item in pool.iterrows()]


def _why_interruptible(ctx: ActionContext, row: pd.Series) -> str:
    tags = row["tags"] if isinstance(row["tags"], dict) else {}
    if tags.get("aws:autoscaling:groupName"):
        return f"member of Auto Scaling group {tags['aws:autoscaling:groupName']}"
    for key, values in ctx.settings.spot.interruptible_tags.items():
        if str(tags.get(key, "")).lower() in {v.lower() for v in values}:
            return f"tagged {key}={tags[key]}"
    return "interruptible"


def _warm_pool_hours(row: pd.Series) -> float:
    """Hours a month a job's warm pool kept its instances after the run (its run rate applied)."""
    seconds = row.get("warm_pool_seconds")
    if seconds is None or pd.isna(seconds):
        return 0.0
    return float(seconds) / 3600 * float(row["runs_per_month"])


def _true(value) -> bool:
    return value is not None and not pd.isna(value) and bool(value)
