"""Run strategies on the history before the cut-off and replay the later demand on what they recommended.

Every decision ends in one status: ``held`` (the target held the later demand), ``failed`` (it did not: the resource
would have been hurt), ``censored`` (the later demand sat at the current capacity on a dimension the target keeps or
raises: the demand is only known to be at least the capacity, so the advice is neither held nor hurt), ``not
replayed`` (the advice changes no capacity, or its target's capacity is unknown) or ``no later data``. Resources a
strategy left alone are listed as ``no change`` with the oracle's choice, so missed savings show too.

Savings figures are monthly. *Kept* savings are the savings of decisions that held; upsizes are counted apart
as added cost, since a replay cannot show their benefit (the observed demand is capped by the current capacity).
The oracle covers EC2 instances with later data only, so it is compared like for like: the savings kept on those
resources (``savings_kept_on_oracle``) beside the oracle's, every other resource's reported apart
(``savings_kept_other``, per kind in ``other_by_kind``). The share of the oracle's savings is the former over the
oracle's; the *net* share takes the added cost of upsizes on those same resources off the
kept savings first, so advice that saves on some machines and spends more on others is judged on the balance.

Every EC2 *upsize* (a decision whose target costs more than the current type) is broken down by its cause, as the
strategy states it (``Decision.upsize``; ``other`` when it states none), and by what the later demand says of it,
on the dimensions the cause names (every dimension for ``other``):

* ``cannot tell``: the later demand on one of them sat at the current capacity (censored, as above) or was not
  measured: it may have needed more, nothing shows how much;
* ``needed``: otherwise, on one of them the later demand with the strategy's own headroom on that dimension (CPU
  and GPU: the level exceeded in 1 % of the later samples; memory: the maximum) was above the current capacity;
* ``not needed``: the current type held every one of them with that headroom to spare.

``by_dimension`` counts the same verdicts per dimension and its own cause (an upsize caused by CPU may add memory
for another cause).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from advisor.backtest.demand import (
    STOP_TARGETS,
    Limits,
    ResourceDemand,
    Verdict,
    instance_specs,
    later_demand,
    volume_iops_limit,
)
from advisor.backtest.oracle import OracleChoice, oracle_choices
from advisor.backtest.split import Split
from advisor.backtest.strategy import Decision, History, Strategy
from advisor.catalog import Catalog
from advisor.engine.evidence import UPSIZE_CAUSES
from advisor.model import Kind

STATUSES = ("held", "failed", "censored", "not replayed", "no later data", "no change")
UPSIZE_VERDICTS = ("needed", "not needed", "cannot tell")
_VOLUME_TYPES = frozenset({"gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"})


@dataclass
class StrategyOutcome:
    name: str
    summary_text: str
    settings: dict[str, Any]
    rows: list[dict[str, Any]]  # one per resource with a decision or later data
    summary: dict[str, Any]


@dataclass
class BacktestResult:
    source_label: str
    split: Split
    price_list_date: str
    outcomes: list[StrategyOutcome]
    oracle: dict[str, OracleChoice]
    resources_replayed: int  # resources with later data
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def run_backtest(inventory: pd.DataFrame, metrics: pd.DataFrame, catalog: Catalog, split: Split,
                 strategies: list[Strategy], source_label: str = "") -> BacktestResult:
    history = History(inventory, split.train(metrics), catalog, (split.train_start, split.cutoff))
    demand = later_demand(inventory, split.test(metrics), catalog)
    oracle = oracle_choices(inventory, demand, catalog)
    outcomes = []
    for strategy in strategies:
        rows = replay(strategy.decide(history), inventory, demand, oracle, catalog)
        outcomes.append(StrategyOutcome(strategy.name, strategy.summary, strategy.settings.model_dump(mode="json"),
                                        rows, summarize(rows, len(demand))))
    return BacktestResult(source_label, split, catalog.price_list_date, outcomes, oracle, len(demand))


def replay(decisions: list[Decision], inventory: pd.DataFrame, demand: dict[str, ResourceDemand],
           oracle: dict[str, OracleChoice], catalog: Catalog, unchanged: bool = True) -> list[dict[str, Any]]:
    """One row per resource that has a decision or (with ``unchanged``) later data."""
    by_id = {d.resource_id: d for d in decisions}
    wanted = [*by_id, *(r for r in demand if r not in by_id and unchanged)]
    inv = inventory[inventory["resource_id"].isin(wanted)].drop_duplicates("resource_id")
    resources = inv.set_index("resource_id").to_dict("index")
    targets = instance_specs(catalog, sorted({str(d.target) for d in decisions if d.target}))
    specs = {str(name): targets.loc[[name]] for name in targets.index.unique()}  # one-row frames, once per type
    rows = []
    for resource_id in wanted:
        if resource_id not in resources:
            continue
        resource = resources[resource_id]
        decision = by_id.get(resource_id)
        later = demand.get(resource_id)
        status, verdict = _judge(decision, resource, later, specs)
        choice = oracle.get(resource_id)
        upsize = _upsize(decision, resource, later)
        rows.append({
            "resource_id": resource_id,
            "kind": str(resource["kind"]),
            "name": str(resource["name"]),
            "region": str(resource["region"]),
            "current": _current(resource),
            "action": decision.action if decision else None,
            "target": decision.target if decision else None,
            "reason": decision.reason if decision else None,
            "confidence": decision.confidence if decision else None,
            "monthly_cost_now": decision.monthly_cost_now if decision else None,
            "monthly_savings": decision.monthly_savings if decision else 0.0,
            "status": status,
            "failed_dimensions": verdict.failed if verdict else [],
            "cpu_over_share": verdict.cpu_over_share if verdict else None,
            "worst_overshoot_pct": round(verdict.worst_overshoot_pct, 1) if verdict else None,
            "peak_utilization": verdict.peak_utilization if verdict else {},
            "oracle_target": choice.target if choice else None,
            "oracle_savings": choice.monthly_savings if choice else None,
            "upsize_cause": upsize[0] if upsize else None,
            "upsize_verdict": upsize[1] if upsize else None,
            "upsize_dimensions": upsize[2] if upsize else None,
        })
    return rows


def _upsize(decision: Decision | None, resource: Mapping[Hashable, Any],
            later: ResourceDemand | None) -> tuple[str, str, dict[str, dict[str, str]]] | None:
    """(cause, verdict, per dimension its cause and verdict) of an EC2 upsize (see the module docstring); None for
    any other decision."""
    if decision is None or decision.target is None or decision.monthly_savings >= 0 \
            or resource["kind"] != Kind.EC2_INSTANCE:
        return None
    stated = decision.upsize or {}
    cause = str(stated.get("cause") or "other")
    dimensions = {dim: (str(d.get("cause") or cause), float(d.get("headroom", 0.0)))
                  for dim, d in (stated.get("dimensions") or {}).items()}
    if later is None:
        return cause, "cannot tell", {dim: {"cause": c, "verdict": "cannot tell"} for dim, (c, _) in dimensions.items()}
    if not dimensions:
        dimensions = {dim: (cause, 0.0) for dim in later.dims()}
    censored = set(later.censored())
    judged: dict[str, dict[str, str]] = {}
    for dim, (dim_cause, headroom) in dimensions.items():
        if dim not in later.dims():
            continue
        if dim in censored or dim not in later.samples:
            verdict = "cannot tell"
        elif later.need(dim) * (1 + headroom) > later.current_limit(dim) * (1 + 1e-9):
            verdict = "needed"
        else:
            verdict = "not needed"
        judged[dim] = {"cause": dim_cause, "verdict": verdict}
    verdicts = {d["verdict"] for d in judged.values()}
    # one needed dimension makes the upsize needed; one that cannot be told leaves it untold
    overall = next((v for v in ("needed", "cannot tell") if v in verdicts), "not needed" if verdicts else "cannot tell")
    return cause, overall, judged


def _judge(decision: Decision | None, resource: Mapping[Hashable, Any], later: ResourceDemand | None,
           specs: Mapping[str, pd.DataFrame]) -> tuple[str, Verdict | None]:
    if decision is None:
        return "no change", None
    if decision.target is None:
        return "not replayed", None
    if later is None:
        return "no later data", None
    if decision.target in STOP_TARGETS:
        verdict = later.judge_stop()
    else:
        limits = target_limits(decision, resource, later, specs)
        if limits is None:
            return "not replayed", None
        verdict = later.judge(limits)
        kept = [d for d in later.censored() if d in limits and limits[d] >= later.current_limit(d) * (1 - 1e-9)]
        if kept and not [d for d in verdict.failed if d not in kept]:
            return "censored", verdict
    return ("held" if verdict.held else "failed"), verdict


def target_limits(decision: Decision, resource: Mapping[Hashable, Any], later: ResourceDemand,
                  specs: Mapping[str, pd.DataFrame]) -> Limits | None:
    """The capacity the advice moves the resource to, in the resource's units; None where it cannot be told.
    ``specs``: per type name, its :func:`~advisor.backtest.demand.instance_specs` row as a one-row frame."""
    target = str(decision.target)
    if resource["kind"] == Kind.EBS_VOLUME or target in _VOLUME_TYPES:
        iops = decision.target_iops if decision.target_iops is not None else resource["iops"]
        limit = volume_iops_limit(target, resource["size_gib"], iops)
        return None if limit is None else {"iops": limit}
    name = target.removeprefix("ml.")
    if name not in specs or "iops" in later.current.index:
        return None
    return {dim: float(values[0]) for dim, values in later.limits(specs[name]).items()}


def summarize(rows: list[dict[str, Any]], resources: int) -> dict[str, Any]:
    """Aggregate figures of one strategy's replay."""
    frame = pd.DataFrame(rows, columns=["resource_id", "kind", "status", "monthly_savings", "oracle_savings",
                                        "confidence", "upsize_cause", "upsize_verdict", "upsize_dimensions"])
    status = frame["status"]
    savings = frame["monthly_savings"].astype(float)
    positive = savings.clip(lower=0)
    held, failed = status == "held", status == "failed"
    covered = frame["oracle_savings"].notna()
    oracle_savings = float(frame.loc[covered, "oracle_savings"].sum())
    kept_on_covered = float(positive[held & covered].sum())
    added_on_covered = float((-savings).clip(lower=0)[covered & (status != "no change")].sum())
    net_on_covered = kept_on_covered - added_on_covered
    kept = float(positive[held].sum())
    hurt = int(failed.sum())
    return {
        "resources": resources,
        "recommendations": int((status != "no change").sum()),
        "statuses": {name: int((status == name).sum()) for name in STATUSES},
        "hurt": hurt,
        "hurt_share": round(hurt / resources, 4) if resources else None,
        "hurt_resources": frame.loc[failed, "resource_id"].tolist(),
        "savings_proposed": round(float(positive[status != "no change"].sum()), 2),
        "savings_kept": round(kept, 2),
        "savings_failed": round(float(positive[failed].sum()), 2),
        # like for like: the oracle covers EC2 instances with later data; every other resource is reported apart
        "savings_kept_on_oracle": round(kept_on_covered, 2),
        "savings_failed_on_oracle": round(float(positive[failed & covered].sum()), 2),
        "savings_kept_other": round(float(positive[held & ~covered].sum()), 2),
        "other_by_kind": _by_kind(frame[~covered & (status != "no change")], positive, held, failed),
        "added_cost": round(float((-savings).clip(lower=0).sum()), 2),
        "oracle_savings": round(oracle_savings, 2),
        "oracle_share": round(kept_on_covered / oracle_savings, 4) if oracle_savings > 0 else None,
        "net_savings": round(net_on_covered, 2),
        "net_oracle_share": round(net_on_covered / oracle_savings, 4) if oracle_savings > 0 else None,
        "savings_per_hurt_resource": round(kept / hurt, 2) if hurt else None,
        "hold_rate_by_confidence": _hold_rates(frame),
        "upsizes": _upsizes(frame, savings),
    }


def _upsizes(frame: pd.DataFrame, savings: pd.Series) -> dict[str, Any]:
    """EC2 upsizes by cause and verdict: how many, and their added cost a month (see the module docstring)."""
    upsized = frame["upsize_cause"].notna()
    added = (-savings).clip(lower=0)
    by_cause: dict[str, dict[str, dict[str, float]]] = {}
    for cause in UPSIZE_CAUSES:
        rows = upsized & (frame["upsize_cause"] == cause)
        if rows.any():
            by_cause[cause] = {verdict: {"count": int((rows & (frame["upsize_verdict"] == verdict)).sum()),
                                         "added_cost": round(float(added[rows & (frame["upsize_verdict"] == verdict)]
                                                                   .sum()), 2)}
                               for verdict in UPSIZE_VERDICTS}
    by_dimension: dict[str, dict[str, dict[str, int]]] = {}
    for judged in frame.loc[upsized, "upsize_dimensions"]:
        for dim, d in (judged if isinstance(judged, dict) else {}).items():
            counts = by_dimension.setdefault(dim, {}).setdefault(d["cause"], dict.fromkeys(UPSIZE_VERDICTS, 0))
            counts[d["verdict"]] += 1
    return {"count": int(upsized.sum()), "added_cost": round(float(added[upsized].sum()), 2), "by_cause": by_cause,
            "by_dimension": by_dimension}


def _by_kind(frame: pd.DataFrame, positive: pd.Series, held: pd.Series, failed: pd.Series) -> dict[str, Any]:
    """Per kind outside the oracle's scope: recommendations, held and failed, and their kept and failed savings."""
    out = {}
    for kind, rows in frame.groupby("kind", sort=True):
        index = rows.index
        out[str(kind)] = {"recommendations": len(rows), "held": int(held[index].sum()),
                          "failed": int(failed[index].sum()),
                          "savings_kept": round(float(positive[index][held[index]].sum()), 2),
                          "savings_failed": round(float(positive[index][failed[index]].sum()), 2)}
    return out


def _hold_rates(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per confidence band the advice stated: judged decisions (held or failed) and the share that held."""
    judged = frame[frame["status"].isin(["held", "failed"]) & frame["confidence"].notna()]
    out = {}
    for band in ("high", "medium", "low"):
        rows = judged[judged["confidence"] == band]
        if len(rows):
            out[band] = {"judged": len(rows), "held": int((rows["status"] == "held").sum()),
                         "hold_rate": round(float((rows["status"] == "held").mean()), 4)}
    return out


def _current(resource: Mapping[Hashable, Any]) -> str:
    for column in ("instance_type", "volume_type"):
        value = resource[column]
        if isinstance(value, str) and value:
            return value
    return ""
