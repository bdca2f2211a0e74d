"""SageMaker endpoints and tuning jobs: instance counts, auto scaling, scale-to-zero, A/B variants, early stopping.

Endpoint money is the variant's instances x the SageMaker hourly price x 730 h. Auto scaling and
scale-to-zero savings are estimated by replaying the variant's own invocation history hour by hour.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from advisor.engine.actions.base import ActionContext, Proposal, monthly, resources
from advisor.engine.actions.params import AutoscaleParameters, EarlyStoppingParameters, VariantParameters
from advisor.engine.stats import series_of
from advisor.model import Kind

if TYPE_CHECKING:
    from advisor.engine.rules import LoadedRule

SERVERLESS_MAX_GIB = 6.0  # serverless inference: 1-6 GB of memory, no GPU (DESIGN §5)
ASYNC_MIN_ZERO = "auto scaling to 0 (async MinCapacity 0)"
ASYNC_NOTE = ("The endpoint already uses asynchronous inference, which can scale its instances to 0: an Application "
              "Auto Scaling target with MinCapacity 0 removes the idle cost without moving it.")
SCALING_METRIC = "SageMakerVariantInvocationsPerInstance"
HOUR = 3600


def add_instance(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """A reliability fix: one more instance, so SageMaker spreads the variant over two Availability Zones."""
    return {rid: Proposal(target=f"{row['instance_type']} x{int(row['count']) + 1}",
                          cost_after=monthly(row["hourly_price"], row, float(row["count"]) + 1),
                          evidence={"instances": {"now": int(row["count"]), "after": int(row["count"]) + 1}},
                          notes=["A cost increase for availability, not a saving: with two or more instances "
                                 "SageMaker places them in different Availability Zones."], confidence=0.9)
            for rid, row in resources(rows)}


def autoscale(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """Target tracking on invocations per instance, replayed over the history.

    The target keeps each instance at or below the per-instance load the variant carries at its peak today
    (p99 invocations / instances), lowered when the busiest resource (CPU or GPU p99) is above
    ``target_utilization``. Min is ``min_instances``; max holds the observed maximum at the target. The cost
    after is the mean instance count the policy would have run, each hour sized for that hour's peak minute.
    """
    t = AutoscaleParameters.of(rule)
    out: dict[str, Proposal] = {}
    for rid, row in resources(rows):
        hourly_peak = _hourly(ctx, rid, np.max)
        if hourly_peak is None:
            out[rid] = Proposal(blocked=f"{rule.id}: no invocation history to replay")
            continue
        count = float(row["count"])
        per_instance = float(row["invocations_p99"]) / count
        busiest = np.nanmax([row.get("cpu_p99", np.nan), row.get("gpu_p99", np.nan), 0.0])
        target_util = t.target_utilization
        target = per_instance * (min(1.0, target_util / busiest) if busiest > 0 else 1.0)
        if target <= 0:
            out[rid] = Proposal(blocked=f"{rule.id}: the variant has no invocations at its p99")
            continue
        low = t.min_instances
        high = max(int(count), int(np.ceil(float(np.nanmax(hourly_peak)) / target)))
        needed = np.clip(np.ceil(hourly_peak / target), low, high)
        mean_instances = float(np.mean(needed))
        notes = [f"Register the variant as a scalable target (min {low}, max {high}) and attach a target-tracking "
                 f"policy on {SCALING_METRIC} at {target:,.0f}; the saving replays {len(needed)} hours of traffic at "
                 f"a mean of {mean_instances:.1f} instances instead of {count:.0f}."]
        notes += _scaling_now(row)
        policy = {"TargetValue": round(target, 1), "PredefinedMetricSpecification": {
            "PredefinedMetricType": SCALING_METRIC}, "ScaleInCooldown": 300, "ScaleOutCooldown": 60}
        out[rid] = Proposal(
            target=f"auto scaling {low}-{high} instances at {target:,.0f} invocations/instance/min",
            cost_after=monthly(row["hourly_price"], row, mean_instances),
            evidence={"autoscaling": {"min_capacity": low, "max_capacity": high, "target_value": round(target, 1),
                                      "metric": SCALING_METRIC, "mean_instances": round(mean_instances, 2),
                                      "hours_replayed": int(len(needed)),
                                      "hourly_profile": _profile(ctx, rid),
                                      "policy": json.dumps(policy, sort_keys=True)}},
            notes=notes,
        )
    return out


def _scaling_now(row: pd.Series) -> list[str]:
    """Why a variant with a scalable target still counts as fixed-size (suspended scaling, or min = max)."""
    if _flag(row.get("scaling_suspended")):
        return ["Its scalable target exists but its dynamic scaling is suspended (SuspendedState): it no longer "
                "follows the load; resume it with this policy."]
    low, high = row.get("min_count"), row.get("max_count")
    if low is not None and high is not None and pd.notna(low) and pd.notna(high) and low == high:
        return [f"Its scalable target pins the count (min = max = {int(low)}): it cannot scale."]
    return []


def _flag(value: Any) -> bool:
    return value is not None and not pd.isna(value) and bool(value)


def delete_endpoint(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """An idle endpoint: delete it, or keep it reachable at no idle cost (serverless where the model fits, async)."""
    out: dict[str, Proposal] = {}
    for rid, row in resources(rows):
        options = [_option("delete", "delete the endpoint (keep the model and endpoint config)", 0.0, row)]
        fits, why = serverless_fit(row)
        if is_async(row):  # already asynchronous: it can scale its own instances to 0
            fits, why = False, ASYNC_NOTE
            options.append(_option(ASYNC_MIN_ZERO, "auto scaling with minimum capacity 0: no idle cost", 0.0, row))
        elif fits:
            options.append(_option("serverless inference", "serverless: no idle cost, billed per request", 0.0, row))
        if not is_async(row):
            options.append(_option("asynchronous inference", "async with minimum capacity 0: no idle cost", 0.0, row))
        for rank, option in enumerate(options[:3], 1):
            option["rank"] = rank
        out[rid] = Proposal(target="delete", cost_after=0.0, options=options[:3], notes=[why],
                            evidence={"idle_days": round(float(row["invocations_idle_days"]), 1),
                                      "serverless_fits": fits})
    return out


def scale_to_zero(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """Traffic in bursts: asynchronous inference scaled to 0 (or Batch Transform) runs only in the active hours.

    Cost after = the cost now x the share of hours that saw any invocation (each active hour billed in full).
    """
    out: dict[str, Proposal] = {}
    for rid, row in resources(rows):
        hourly_sum = _hourly(ctx, rid, np.sum)
        if hourly_sum is None:
            out[rid] = Proposal(blocked=f"{rule.id}: no invocation history to replay")
            continue
        if is_async(row) and _true(row["autoscaling"]) and row["min_count"] == 0:
            out[rid] = Proposal(blocked=f"{rule.id}: already asynchronous with auto scaling down to 0 instances")
            continue
        active = float(np.mean(hourly_sum > 0))
        after = float(row["monthly_cost"]) * active
        if is_async(row):
            target, why = ASYNC_MIN_ZERO, ASYNC_NOTE
            options = [_option(ASYNC_MIN_ZERO, "register a scalable target with MinCapacity 0 (scales out on "
                                               "queued requests)", after, row)]
        else:
            target = "asynchronous inference (scale to 0)"
            options = [_option("asynchronous inference", "async, min capacity 0 (scales out on queued requests)",
                               after, row)]
        options.append(_option("Batch Transform", "Batch Transform jobs for the scheduled bursts", after, row))
        fits, fit_note = serverless_fit(row)
        if not is_async(row):
            why = fit_note
            if fits:
                options.append(_option("serverless inference", "serverless (price per request, not modelled)",
                                       None, row))
        for rank, option in enumerate(options, 1):
            option["rank"] = rank
        out[rid] = Proposal(target=target, cost_after=after, options=options,
                            evidence={"active_hour_share": round(active, 3),
                                      "active_sample_share": _round(row["invocations_nonzero"]),
                                      "hourly_profile": _profile(ctx, rid)},
                            notes=[f"Invocations arrived in {active:.0%} of the hours observed.", why])
    return out


def rightsize_variant(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """An A/B variant with a small share of the traffic gets the instances its own peak needs.

    Per-instance capacity is taken from the endpoint's busiest variant (its p99 invocations / instances), plus
    ``headroom``; at least ``min_instances``.
    """
    t = VariantParameters.of(rule)
    out: dict[str, Proposal] = {}
    siblings = ctx.features[ctx.features["kind"] == Kind.SAGEMAKER_ENDPOINT]
    for rid, row in resources(rows):
        group = siblings[(siblings["endpoint"] == row["endpoint"]) & (siblings.index != rid)]
        if group.empty or group["invocations_p99"].isna().all():
            out[rid] = Proposal(blocked=f"{rule.id}: the endpoint's other variants have no invocation data")
            continue
        main = group.loc[group["invocations_mean"].idxmax()]
        per_instance = float(main["invocations_p99"]) / float(main["count"])
        needed = max(t.min_instances,
                     int(np.ceil(float(row["invocations_p99"]) * (1 + t.headroom) / per_instance)))
        if needed >= row["count"]:
            out[rid] = Proposal(blocked=f"{rule.id}: its own peak needs all {int(row['count'])} instances")
            continue
        out[rid] = Proposal(
            target=f"{row['instance_type']} x{needed}", cost_after=monthly(row["hourly_price"], row, float(needed)),
            evidence={"ab_test": {"variant_share": _round(row["variant_share"]), "weight": _round(row["weight"]),
                                  "main_variant": str(main["variant"]), "main_instances": int(main["count"]),
                                  "main_invocations_p99": _round(main["invocations_p99"]),
                                  "invocations_p99": _round(row["invocations_p99"]), "instances_after": needed}},
            notes=[f"The variant serves {row['variant_share']:.0%} of the endpoint's invocations with as many "
                   f"instances as {main['variant']}; UpdateEndpointWeightsAndCapacities sets its instance count."],
        )
    return out


def enable_early_stopping(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """Early stopping ``Auto`` stops training jobs whose objective lags the median of earlier jobs.

    The evidence is the cost of the jobs that lagged; the saving assumes ``share_saved`` of it (a stopped job has
    run part of its epochs), a stated estimate, not a measurement.
    """
    share = EarlyStoppingParameters.of(rule).share_saved
    out: dict[str, Proposal] = {}
    for rid, row in resources(rows):
        lagging = (float(row["hourly_price"]) * float(row["count"]) * float(row["lagging_billable_seconds"]) / HOUR
                   * float(row["runs_per_month"]))
        cost = float(row["monthly_cost"])
        out[rid] = Proposal(
            target="TrainingJobEarlyStoppingType=Auto", cost_after=cost - lagging * share, confidence=0.6,
            evidence={"tuning": {"training_jobs": _int(row["training_jobs"]), "total_cost": round(cost, 2),
                                 "lagging_jobs_cost": round(lagging, 2), "share_saved": share,
                                 "cost_basis": "this tuning job's billable training time, per month at the window's "
                                               "run rate"}},
            notes=[f"Training jobs whose objective lagged the median cost ${lagging:,.2f} of ${cost:,.2f} a month at "
                   f"this tuning job's run rate; with early stopping they would have been stopped part-way "
                   f"(estimated {share:.0%} of that saved)."],
        )
    return out


def is_async(row: pd.Series) -> bool:
    """The endpoint uses asynchronous inference (its endpoint config has an AsyncInferenceConfig)."""
    return str(row.get("endpoint_type") or "") == "async"


def _true(value) -> bool:
    return value is not None and not pd.isna(value) and bool(value)


def serverless_fit(row: pd.Series) -> tuple[bool, str]:
    """Serverless inference holds models up to 6 GB of memory and no GPU."""
    if row["gpus"] > 0 or row["has_elastic_inference"]:
        return False, "Serverless inference does not fit: it has no GPU or accelerator."
    used = row["memory_max"] / 100 * row["memory_gib"] if pd.notna(row["memory_max"]) else np.nan
    if pd.isna(used):
        return False, "Serverless inference may fit (no memory data to check its 6 GB limit)."
    if used > SERVERLESS_MAX_GIB:
        return False, f"Serverless inference does not fit: the model uses {used:.1f} GiB (limit 6 GB)."
    return True, f"Serverless inference fits: peak memory {used:.1f} GiB is within its 6 GB limit, no GPU."


def _hourly(ctx: ActionContext, resource_id: str, how) -> np.ndarray | None:
    """Per-hour aggregate (max or sum) of the variant's invocations per minute."""
    found = series_of(ctx.series, resource_id, "invocations")
    if found is None or len(found[0]) == 0:
        return None
    seconds, values = found
    hours = (seconds - seconds[0]) // HOUR
    frame = pd.Series(values).groupby(hours)
    return (frame.max() if how is np.max else frame.sum()).to_numpy(float)


def _profile(ctx: ActionContext, resource_id: str) -> list[float]:
    """Mean invocations per minute for each hour of the day (UTC), for the evidence."""
    found = series_of(ctx.series, resource_id, "invocations")
    if found is None:
        return []
    seconds, values = found
    hour_of_day = (seconds // HOUR) % 24
    means = pd.Series(values).groupby(hour_of_day).mean().reindex(range(24))
    return [None if pd.isna(v) else round(float(v), 1) for v in means]


def _option(name: str, label: str, cost: float | None, row: pd.Series) -> dict:
    now = float(row["monthly_cost"])
    return {"instance_type": name, "label": label, "hourly_price": None,  # not an instance price
            "monthly_cost": None if cost is None else round(cost, 2),
            "monthly_savings": None if cost is None else round(now - cost, 2), "projected_utilization": {},
            "risk": None}


def _round(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 3)


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)
