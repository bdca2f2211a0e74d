"""Actions that move a resource to another instance type: downsize, upsize, modernize, and the accelerator moves.

``rightsize_accelerator`` sizes an under-used GPU host down across GPU models (by the throughput table), and may
offer Inferentia (inference) or Trainium (training) types and, when the GPU is idle, CPU-only types.
``migrate_accelerator`` replaces an Elastic Inference attachment: a small GPU type that holds the host's CPU and
memory demand and the EI accelerator's full capacity (EI reports no utilization we can read) is the target, beside
a CPU-only type, Inferentia and, for an endpoint whose model and traffic fit, SageMaker Serverless Inference, each
priced.

A Neuron target (Inferentia, Trainium) needs the model ported to AWS Neuron: it is the target only when nothing
else holds the demand for less, its finding is at most medium confidence, and it is never the only option (keeping
the current type is listed beside it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from advisor.catalog.catalog import LINUX
from advisor.engine import accelerators, pricing
from advisor.engine.actions.base import ActionContext, Proposal, monthly, resources
from advisor.engine.actions.params import AcceleratorParameters, MigrationParameters
from advisor.engine.candidates import candidates, service_of
from advisor.engine.sizing import (
    NEEDS_REBUILD,
    Mode,
    Scope,
    SizingResult,
    demand_frame,
    scale_out_options,
    size_resources,
)
from advisor.model import Kind

if TYPE_CHECKING:
    from advisor.engine.rules import LoadedRule

MODES: dict[str, Mode] = {"downsize": "down", "upsize": "up", "modernize": "modernize"}
EI_OPTION_LABEL = "Elastic Inference-style (service ended April 2024: for comparison only)"
MEDIUM = 0.75  # the highest confidence of a finding whose target needs a port (under "high")
PORTED = ("Inferentia", "Trainium")
GPU_LABELS = ("same accelerator model", "other GPU")
CPU_ONLY_NOTE = "runs the model on CPU without an accelerator: measure its latency before moving"
SERVERLESS_MAX_CONCURRENCY = 200  # ProductionVariantServerlessConfig.MaxConcurrency
SERVERLESS_MEMORY_GB = (1, 2, 3, 4, 5, 6)  # MemorySizeInMB: 1,024 to 6,144 in 1 GB steps


def resize(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    rows, out = _without_clusters(rule, rows)
    if not rows.empty:
        results = _size(ctx, rule, rows, MODES[rule.rule.action])
        out |= {rid: _proposal(rule, rows, rid, result) for rid, result in results.items()}
        if rule.rule.action == "upsize":
            for rid, option in scale_out_options(rows, ctx.settings).items():
                out[rid] = _with_scale_out(out[rid], option, rows.loc[[rid]].iloc[0])
    return out


def _with_scale_out(proposal: Proposal, option: dict[str, Any], row: pd.Series) -> Proposal:
    """More instances of the current type beside the larger types; the finding itself when no larger type holds
    the demand."""
    if not proposal.blocked:
        kept = proposal.options[:2]
        proposal.options = [*kept, option | {"rank": len(kept) + 1}]
        cheaper = option["monthly_cost"] < proposal.cost_after if proposal.cost_after is not None else False
        proposal.notes.append(f"It scales out: {option['instance_type']} costs ${option['monthly_cost']:,.2f} a "
                              f"month, {'less' if cheaper else 'more'} than {proposal.target}.")
        return proposal
    cost_after = monthly(option["hourly_price"], row, option["instances"])
    return Proposal(target=option["instance_type"], cost_after=cost_after,
                    options=[option | {"rank": 1}], risk=option["risk"], projected=option["projected_utilization"],
                    demand=proposal.demand, price_estimated=option["price_estimated"],
                    notes=[f"No larger type holds the demand; it scales out to {option['instances']} instances "
                           f"({option['note']})."])


def _size(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame, mode: Mode,
          scope: Scope | None = None, max_options: int = 3) -> dict[str, SizingResult]:
    """Size ``rows``; an EC2 instance bought otherwise than Linux on-demand (another platform, a Spot Instance) is
    sized on the Linux on-demand prices the candidates carry, then its target and options are priced as it buys
    them (:func:`advisor.engine.pricing.basis_hourly`)."""
    special = [rid for rid, row in resources(rows) if row["kind"] == Kind.EC2_INSTANCE
               and (pricing.platform_of(row) != LINUX or pricing.on_spot(row))]
    view = rows
    if special:
        view = rows.copy()
        for rid in special:
            row = rows.loc[rid]
            listed = ctx.catalog.hourly_price(str(row["instance_type"]), str(row["region"]))
            extra = float(np.nan_to_num(row["ei_hourly"]))
            view.loc[rid, "hourly_price"] = (np.nan if listed is None else
                                             listed * ctx.catalog.discounts.factor(row["instance_type"]) + extra)
    results = size_resources(view, ctx.catalog, ctx.settings, mode, max_options=max_options, scope=scope)
    for rid in special:
        results[rid] = _at_basis(rows.loc[[rid]].iloc[0], results[rid], ctx, mode)
    return results


def _at_basis(row: pd.Series, result: SizingResult, ctx: ActionContext, mode: Mode) -> SizingResult:
    """The sizing's options priced as the instance buys them; an option without such a price, or one that no longer
    saves where the mode must save, is dropped. The target stays the sizing's choice, if it survives."""
    basis = "Spot" if pricing.on_spot(row) else f"{pricing.platform_of(row)} on-demand"
    now = float(row["hourly_price"])
    units = float(row["hours_billed"]) * float(row["count"])
    options = []
    for option in result.options:
        name = str(option["instance_type"])
        hourly, listed = pricing.basis_hourly(name, row, ctx.catalog), ctx.catalog.hourly_price(name, row["region"])
        if hourly is None or listed is None:
            continue
        # keep what is priced beside the type (an Elastic Inference attachment)
        hourly += option["hourly_price"] - listed * ctx.catalog.discounts.factor(name)
        if mode != "up" and hourly >= now - 1e-9:
            continue
        options.append({**option, "hourly_price": round(hourly, 4), "monthly_cost": round(hourly * units, 2),
                        "monthly_savings": round((now - hourly) * units, 2), "price_basis": basis})
    for rank, option in enumerate(options, start=1):
        option["rank"] = rank
    target = next((o for o in options if o["instance_type"] == result.target), None)
    if target is None:
        note = (f"no target saves at the instance's {basis} price" if result.target is not None else result.note)
        return SizingResult(result.resource_id, None, None, options=options, demand=result.demand, note=note)
    return SizingResult(result.resource_id, result.target, target["hourly_price"],
                        projected_utilization=result.projected_utilization, risk=result.risk, options=options,
                        demand=result.demand, price_estimated=result.price_estimated)


def _without_clusters(rule: LoadedRule, rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Proposal]]:
    """A heterogeneous training cluster (several instance groups) is not one type to resize: blocked with why."""
    clusters = rows["instance_groups"].notna() if "instance_groups" in rows else pd.Series(False, index=rows.index)
    blocked = {str(rid): Proposal(blocked=f"{rule.id}: a heterogeneous cluster ({groups}) is sized group by group, "
                                          "not as one instance type")
               for rid, groups in rows.loc[clusters, "instance_groups"].astype(str).items()}
    return rows[~clusters], blocked


def rightsize_accelerator(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """CPU-only options when GPU p99 and the GPU memory maximum are both at most the parameters: dropping every GPU
    needs positive evidence that GPU memory is empty, so a missing GPU memory metric keeps a GPU."""
    rows, blocked = _without_clusters(rule, rows)
    if rows.empty:
        return blocked
    training = (rows["kind"] == Kind.SAGEMAKER_TRAINING_JOB).to_numpy()
    parameters = AcceleratorParameters.of(rule)
    cpu_limit = -np.inf if parameters.cpu_only_gpu_p99 is None else parameters.cpu_only_gpu_p99
    # empty means every GPU: the fullest one where the agent reports each (NaN compares False)
    fullest = np.fmax(rows["gpu_memory_max"].to_numpy(float),
                      accelerators.fullest_device_share(rows, np.ones(len(rows), bool)) * 100)
    empty = fullest <= parameters.cpu_only_gpu_memory_max
    scope = Scope(neuron=np.where(training, "trainium", "inferentia"),
                  cpu_only=(rows["gpu_p99"].to_numpy(float) <= cpu_limit) & empty)
    results = _size(ctx, rule, rows, "down", scope)
    proposals = {rid: _proposal(rule, rows, rid, _or_alternative(result)) for rid, result in results.items()}
    endpoints = rows[rows["kind"] == Kind.SAGEMAKER_ENDPOINT]
    for rid, option in _elastic_inference_options(ctx, endpoints).items():
        proposal = proposals[rid]
        if proposal.blocked:
            continue
        kept = proposal.options[:2]
        proposal.options = [*kept, option | {"rank": len(kept) + 1}]
        proposal.notes.append(accelerators.elastic_inference_notice())
    return {rid: _port_caveat(proposals[rid], row) for rid, row in resources(rows) if rid in proposals} | blocked


def migrate_accelerator(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """A small GPU type as the target (it runs the same framework code), beside a CPU-only type, Inferentia (after a
    Neuron port) and, for an endpoint whose model and traffic fit, serverless inference: each priced."""
    t = MigrationParameters.of(rule)
    scope = Scope(cpu_only=np.ones(len(rows), bool), migrate_ei=True)
    results = _size(ctx, rule, rows, "up", scope, max_options=8)
    proposals = {}
    for rid, row in resources(rows):
        result = results[rid]
        choice = {label: next((o for o in result.options if o["label"] in labels), None) for label, labels in
                  (("gpu", GPU_LABELS), ("inferentia", ("Inferentia",)), ("cpu", ("CPU only",)))}
        options = [dict(o) for o in choice.values() if o is not None]
        for option in options:
            if option["label"] == "CPU only":
                option["note"] = CPU_ONLY_NOTE
        serverless = _serverless_option(ctx, row, t) if row["kind"] == Kind.SAGEMAKER_ENDPOINT else None
        first = choice["gpu"] or choice["inferentia"] or choice["cpu"]
        if first is not None:
            options.sort(key=lambda o: (o["instance_type"] != first["instance_type"], o["monthly_cost"]))
        options += [serverless] if serverless else []
        for rank, option in enumerate(options, 1):
            option["rank"] = rank
        sized = SizingResult(rid, None, None, options=options, demand=result.demand,
                             note="no GPU, Inferentia or CPU type offered in the region holds the host's demand and "
                                  "the accelerator's capacity")
        if first is not None:
            sized = SizingResult(rid, first["instance_type"], first["hourly_price"],
                                 projected_utilization=first["projected_utilization"], risk=first["risk"],
                                 options=options, demand=result.demand, price_estimated=first["price_estimated"])
        proposal = _port_caveat(_proposal(rule, rows, rid, sized), row)
        if first is not None and first["label"] == "CPU only":
            proposal.confidence_cap = min(proposal.confidence_cap, MEDIUM)
            proposal.notes.append("No GPU or Inferentia type holds the accelerator's capacity: the target "
                                  f"{CPU_ONLY_NOTE}.")
        proposal.notes.append(accelerators.elastic_inference_notice())
        proposal.evidence["elastic_inference"] = {"accelerator": rows.at[rid, "accelerator_type"],
                                                  "hourly_price": _round(rows.at[rid, "ei_hourly"])}
        proposals[rid] = proposal
    return proposals


def _serverless_option(ctx: ActionContext, row: pd.Series, t: MigrationParameters) -> dict[str, Any] | None:
    """SageMaker Serverless Inference where the model fits (no accelerator, at most 6 GB) and the traffic does (the
    peak minute's concurrency within 200), priced per GB-second at the assumed seconds per request."""
    used = row["memory_max"] / 100 * row["memory_gib"] if pd.notna(row["memory_max"]) else np.nan
    per_minute, peak = row.get("invocations_mean"), row.get("invocations_max")
    if pd.isna(used) or pd.isna(per_minute) or pd.isna(peak):
        return None
    size = next((gb for gb in SERVERLESS_MEMORY_GB if gb >= used * 1.2), None)  # the model's peak + 20 %
    concurrency = float(peak) * t.serverless_seconds_per_request / 60
    if size is None or concurrency > SERVERLESS_MAX_CONCURRENCY:
        return None
    region = str(row["region"])
    ratio = 1.0 if region == "us-east-1" else (ctx.catalog.region_ratio(region) or 1.0)
    seconds = float(per_minute) * 60 * float(row["hours_billed"]) * t.serverless_seconds_per_request
    cost = seconds * size * t.serverless_usd_per_gb_second * ratio
    return {"instance_type": f"serverless {size * 1024} MB", "label": "Serverless Inference",
            "hourly_price": None, "monthly_cost": round(cost, 2),
            "monthly_savings": round(float(row["monthly_cost"]) - cost, 2), "projected_utilization": {},
            "risk": None, "price_estimated": True,
            "note": (f"no accelerator and at most 6 GB: the model peaks at {used:.1f} GiB; {per_minute:,.1f} "
                     f"requests a minute on average, {peak:,.0f} at the peak minute (concurrency about "
                     f"{concurrency:,.1f} of 200), priced at an assumed {t.serverless_seconds_per_request:g} s of "
                     "compute a request; cold starts add latency after idle periods")}


def _port_caveat(proposal: Proposal, row: pd.Series) -> Proposal:
    """A Neuron target needs a port: at most medium confidence, and never the only option (keep the current type)."""
    target = next((o for o in proposal.options if o["instance_type"] == proposal.target), None)
    if proposal.blocked or target is None or target["label"] not in PORTED:
        return proposal
    proposal.confidence_cap = min(proposal.confidence_cap, MEDIUM)
    proposal.notes.append(f"The target {target['instance_type']} {NEEDS_REBUILD[target['label']]}: a port to plan "
                          "and test, so the finding is at most medium confidence.")
    if not any(o["label"] not in PORTED and o.get("available", True) for o in proposal.options):
        cost = float(row["monthly_cost"])
        proposal.options.append({"instance_type": str(row["instance_type"]), "label": "keep (no port)",
                                 "hourly_price": _round(row["hourly_price"]), "monthly_cost": round(cost, 2),
                                 "monthly_savings": 0.0, "projected_utilization": {}, "risk": None,
                                 "rank": len(proposal.options) + 1,
                                 "note": "no cheaper type runs the model without a Neuron port"})
    return proposal


def _proposal(rule: LoadedRule, rows: pd.DataFrame, rid: str, result: SizingResult) -> Proposal:
    if result.target is None:
        return Proposal(blocked=_blocked_reason(rule, rows.loc[[rid]].iloc[0], result), options=result.options,
                        demand=result.demand)
    assert result.target_hourly is not None, "sizing prices every target it returns"
    units = {"hours_billed": rows.at[rid, "hours_billed"], "count": rows.at[rid, "count"]}
    return Proposal(target=result.target, cost_after=monthly(result.target_hourly, units), options=result.options,
                    risk=result.risk, projected=result.projected_utilization, demand=result.demand,
                    price_estimated=result.price_estimated)


def _or_alternative(result: SizingResult) -> SizingResult:
    """When only a rebuild (Inferentia, Trainium, Graviton) is cheaper, that is the accelerator's right size."""
    if result.target is not None or not result.options:
        return result
    first = result.options[0]
    return SizingResult(result.resource_id, first["instance_type"], first["hourly_price"],
                        projected_utilization=first["projected_utilization"], risk=first["risk"],
                        options=result.options, demand=result.demand, price_estimated=first["price_estimated"])


def _blocked_reason(rule: LoadedRule, row: pd.Series, result: SizingResult) -> str:
    note = result.note or "no suitable target"
    rising = [m for m in ("cpu", "memory") if _true(row.get(f"{m}_trend_significant"))]
    if rule.rule.action == "downsize" and rising:
        trend = ", ".join(f"{m} +{row[f'{m}_trend_per_day']:.2f} pts/day" for m in rising)
        return (f"{rule.id}: kept at {row['instance_type']}: the rising trend ({trend}) raises the forecast peak "
                f"to {row['cpu_upper']:.0f}% CPU / {_fmt(row['memory_upper'])}% memory, which {note}")
    return f"{rule.id}: {note}"


def _elastic_inference_options(ctx: ActionContext, rows: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """A CPU host plus the smallest EI accelerator that holds the GPU demand, where the region's price list still
    has EI rows (never the target: the service has ended)."""
    if rows.empty:
        return {}
    table = accelerators.throughput_table()
    ei = table[table["kind"] == "elastic_inference"].sort_values("fp16_tflops")
    listed = ctx.catalog.sagemaker
    demand = demand_frame(rows, ctx.settings, "down")
    out: dict[str, dict[str, Any]] = {}
    for rid, row in resources(rows):
        region = str(row["region"])
        in_region = listed[(listed["region"] == region) & listed["instance_type"].isin(ei.index)]
        prices = dict(zip(in_region["instance_type"], in_region["hourly"], strict=True))
        need = demand.loc[[rid]].iloc[0]
        fits = ei[(ei["fp16_tflops"] >= need["need_fp16"]) & (ei["fp32_tflops"] >= need["need_fp32"])
                  & (ei["memory_gib"] >= need["need_accel_memory"]) & ei.index.isin(list(prices))]
        host = _cheapest_cpu_host(ctx, row, need)
        if fits.empty or host is None:
            continue
        name = fits.index[0]
        hourly = host[1] + float(prices[name])
        out[rid] = {
            "instance_type": f"{host[0]} + {name}", "label": EI_OPTION_LABEL, "hourly_price": round(hourly, 4),
            "monthly_cost": round(monthly(hourly, row), 2),
            "monthly_savings": round(monthly(float(row["hourly_price"]) - hourly, row), 2),
            "projected_utilization": {}, "risk": None, "available": False, "price_estimated": True,
            "note": accelerators.elastic_inference_notice(),
        }
    return out


def _cheapest_cpu_host(ctx: ActionContext, row: pd.Series, need: pd.Series) -> tuple[str, float] | None:
    service = service_of(pd.Series([row["kind"]]))[0]
    offered = candidates(ctx.catalog, str(row["region"]), service, ctx.settings.sizing.allow_burstable_targets)
    fits = offered[(offered["accel_class"] == "cpu") & (offered["vcpus"] >= need["need_vcpus"] - 1e-9)
                   & (offered["memory_gib"] >= need["need_memory"] - 1e-9)
                   & (offered["arch"].astype(str) == str(row["arch"]))]
    if fits.empty:
        return None
    best = fits["hourly"].idxmin()
    return str(fits.at[best, "name"]), float(fits.at[best, "hourly"])


def _true(value) -> bool:
    return value is not None and not pd.isna(value) and bool(value)


def _fmt(value) -> str:
    return "n/a" if pd.isna(value) else f"{value:.0f}"


def _round(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)
