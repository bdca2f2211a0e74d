"""Calibration on the user's own history: the headroom per dimension that keeps the replayed hurt within a budget.

With at least ``MIN_HISTORY_DAYS`` of history, the audit first runs the backtest on the user's data: it recommends
from the first part (everything but the last ``test_days``: a week to two weeks, leaving at least two weeks to
learn from) and replays the rest, once per CPU and memory headroom on the grid (:data:`CPU_HEADROOMS` x
:data:`MEMORY_HEADROOMS`). Each point of the grid gives the share of resources the advice would have hurt and the
monthly savings it kept net of upsizes. The chosen point is the one that kept most with a hurt share within
``[sizing] risk_budget`` (equal savings: the wider headroom); the audit of the whole history then sizes with its
headroom. A dimension the user set explicitly keeps the user's value. The same is computed for half and twice the
budget, so the report can say what a tighter or looser budget would give.

Only the findings that resize (their targets depend on headroom) are recomputed per point; the features and the
other findings come from one analysis of the first part, and each distinct decision is replayed once. Large fleets
are calibrated on a deterministic sample of :data:`MAX_RESOURCES` resources.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import pandas as pd

from advisor.backtest.demand import ResourceDemand, later_demand
from advisor.backtest.oracle import oracle_choices
from advisor.backtest.ours import decisions
from advisor.backtest.replay import replay, summarize
from advisor.backtest.split import plan_split
from advisor.backtest.strategy import Decision
from advisor.catalog import Catalog
from advisor.engine.confidence import backtest_bands, confidence_bands
from advisor.engine.pipeline import Analysis, analyse, audit_of, findings
from advisor.engine.policy import filter_by_tags
from advisor.engine.rules import LoadedRule
from advisor.engine.samples import SampleSummary, history_days
from advisor.model import METRICS_COLUMNS, AuditResult
from advisor.results import Calibration, CalibrationPoint, HoldCount
from advisor.settings import Settings

MIN_HISTORY_DAYS = 21.0
MIN_TRAIN_DAYS = 14.0
TEST_DAYS = (7.0, 14.0)  # the replayed part: at least a week, at most two
MIN_RESOURCES = 20  # replayed resources below which a hurt share says too little to tune on
MAX_RESOURCES = 1000
CPU_HEADROOMS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75)
MEMORY_HEADROOMS = (0.05, 0.1, 0.2, 0.3, 0.5)
DIMENSIONS = ("cpu", "memory")
# Findings whose target depends on the headroom: recomputed at every point of the grid.
RESIZING_ACTIONS = frozenset({"downsize", "upsize", "rightsize_accelerator", "migrate_accelerator", "modernize"})


def calibrated_audit(inventory: pd.DataFrame, metrics: pd.DataFrame | SampleSummary, catalog: Catalog,
                     settings: Settings, rules: list[LoadedRule], source_label: str = "",
                     window: tuple[pd.Timestamp, pd.Timestamp] | None = None, problems: Iterable[str] = (),
                     fixed: Iterable[str] = (), cpu_grid: tuple[float, ...] = CPU_HEADROOMS,
                     memory_grid: tuple[float, ...] = MEMORY_HEADROOMS) -> AuditResult:
    """The audit of the whole history with the headroom calibration chose (the defaults when it could not), each
    finding's ``confidence_score`` from the backtest table updated with the replay of this history.

    ``metrics`` is the long frame or a streaming source's summary (which says how to read the samples of the
    resources calibration replays again: see :class:`~advisor.engine.samples.Reread`)."""
    calibration = calibrate(inventory, metrics, catalog, settings, rules, fixed, cpu_grid, memory_grid)
    analysis = analyse(inventory, metrics, catalog, settings, rules, window)
    result = audit_of(analysis, source_label, problems, calibrated_settings(settings, calibration))
    return with_calibration(result, calibration)


def with_calibration(result: AuditResult, calibration: Calibration) -> AuditResult:
    """``result`` carrying ``calibration`` and the confidence bands it implies: each finding's
    ``confidence_score`` from the backtest table, updated with the replay's counts when it calibrated."""
    bands = backtest_bands()
    if calibration.calibrated:
        bands = confidence_bands({band: count.model_dump() for band, count in
                                  calibration.hold_rate_by_confidence.items()})
        result.recommendations = [rec.model_copy(update={"confidence_score": bands.probability(rec.confidence)})
                                  for rec in result.recommendations]
    result.calibration, result.confidence = calibration, bands
    return result


def calibrate(inventory: pd.DataFrame, metrics: pd.DataFrame | SampleSummary, catalog: Catalog,
              settings: Settings, rules: list[LoadedRule], fixed: Iterable[str] = (),
              cpu_grid: tuple[float, ...] = CPU_HEADROOMS,
              memory_grid: tuple[float, ...] = MEMORY_HEADROOMS) -> Calibration:
    """Choose the CPU and memory headroom on the user's own history (see the module docstring)."""
    fixed = sorted(set(fixed) & set(DIMENSIONS))
    defaults = {dim: settings.policy(dim).headroom for dim in DIMENSIONS}
    if isinstance(metrics, SampleSummary):
        if metrics.reread is None:
            raise ValueError("calibration needs the samples: this summary cannot read them again")
        reread, frame, days = metrics.reread, pd.DataFrame(columns=list(METRICS_COLUMNS)), metrics.reread.history_days
    else:
        reread, frame, days = None, metrics, history_days(metrics["timestamp"])
    base: dict[str, Any] = {"risk_budget": settings.sizing.risk_budget, "history_days": round(days, 2),
                            "headroom": defaults, "defaults": defaults, "fixed": fixed}
    if days < MIN_HISTORY_DAYS - 1e-9:
        return Calibration(status="defaults", reason=f"the history covers {days:.1f} days, fewer than the "
                           f"{MIN_HISTORY_DAYS:g} calibration needs (two weeks to learn from and one to replay): "
                           "the default headroom applies", **base)
    if fixed == list(DIMENSIONS):
        return Calibration(status="defaults", reason="the CPU and memory headroom are set in the configuration: "
                           "they are used as set", **base)
    inventory, frame = filter_by_tags(inventory, frame, settings)
    inventory, sampled_from = sample(inventory)
    chosen_ids = set(inventory["resource_id"])
    history = frame[frame["resource_id"].isin(chosen_ids)] if reread is None else reread.frame_of(chosen_ids)
    test_days = min(max(days - MIN_TRAIN_DAYS, TEST_DAYS[0]), TEST_DAYS[1])
    split = plan_split(history, days - test_days, test_days)
    base |= {"split": split.describe(), "sampled_from": sampled_from}
    demand = later_demand(inventory, split.test(history), catalog)
    if len(demand) < MIN_RESOURCES:
        return Calibration(status="defaults", reason=f"only {len(demand)} resources have data after the cut-off, "
                           f"fewer than the {MIN_RESOURCES} a hurt share needs to mean something: the default "
                           "headroom applies", resources=len(demand), **base)
    analysis = analyse(inventory, split.train(history), catalog, settings, rules, (split.train_start, split.cutoff))
    replayer = _Replayer(analysis, demand, catalog)
    grids = {"cpu": cpu_grid, "memory": memory_grid}
    grid = {dim: (defaults[dim],) if dim in fixed else tuple(sorted({*grids[dim], defaults[dim]}))
            for dim in DIMENSIONS}
    replayed = [replayer.point(settings, cpu, memory) for cpu in grid["cpu"] for memory in grid["memory"]]
    points = [point for point, _ in replayed]
    budget = settings.sizing.risk_budget
    chosen = choose(points, budget)
    reason = (f"recommended from {split.train_days:.1f} days and replayed the next {split.test_days:.1f} on "
              f"{len(demand)} resources: this headroom kept the most savings with at most {budget:.1%} of them hurt")
    if chosen.hurt_share > budget + 1e-12:
        reason = (f"no headroom on the grid kept the replayed hurt within {budget:.1%} (the least was "
                  f"{chosen.hurt_share:.1%}: advice that headroom cannot fix, such as stopped instances that came "
                  "back): the headroom that hurt fewest is used")
    held = next(rates for point, rates in replayed if point is chosen)
    return Calibration(status="calibrated", reason=reason, resources=len(demand), chosen=chosen,
                       at_defaults=next(p for p in points if p.headroom() == defaults),
                       tighter=choose(points, budget / 2), looser=choose(points, budget * 2),
                       hold_rate_by_confidence=held, points=points, **(base | {"headroom": chosen.headroom()}))


def choose(points: list[CalibrationPoint], budget: float) -> CalibrationPoint:
    """The point that kept most net savings with a hurt share within ``budget`` (equal savings: the wider
    headroom); when none is within it, the one that hurt fewest (then the most savings)."""
    within = [p for p in points if p.hurt_share <= budget + 1e-12]
    if within:
        return max(within, key=lambda p: (p.net_savings, p.cpu_headroom + p.memory_headroom))
    return min(points, key=lambda p: (p.hurt, -p.net_savings))


def calibrated_settings(settings: Settings, calibration: Calibration) -> Settings:
    """``settings`` with the chosen headroom (unchanged when calibration kept the defaults)."""
    if not calibration.calibrated:
        return settings
    return _at(settings, calibration.headroom["cpu"], calibration.headroom["memory"])


class _Replayer:
    """Points of the grid: the resizing findings at each headroom pair, replayed with the other findings."""

    def __init__(self, analysis: Analysis, demand: dict[str, ResourceDemand], catalog: Catalog) -> None:
        self.analysis, self.demand, self.catalog = analysis, demand, catalog
        self.oracle = oracle_choices(analysis.inventory, demand, catalog)
        resizing = {rid for rid, loaded in analysis.rules.items() if loaded.rule.action in RESIZING_ACTIONS}
        self.resizing = sorted(resizing)
        self.fixed, _ = findings(analysis, rule_ids=sorted(set(analysis.rules) - resizing))
        unchanged = replay([], analysis.inventory, demand, self.oracle, catalog)
        self.no_change = {row["resource_id"]: row for row in unchanged}
        self.rows: dict[Decision, dict[str, Any]] = {}

    def point(self, settings: Settings, cpu: float,
              memory: float) -> tuple[CalibrationPoint, dict[str, HoldCount]]:
        """The replay's figures at one headroom pair, and per confidence band the advice judged and held."""
        resized, _ = findings(self.analysis, _at(settings, cpu, memory), self.resizing)
        ranked = sorted([*self.fixed, *resized], key=lambda rec: (-rec.monthly_savings, rec.resource_id))
        chosen = decisions(ranked)
        new = [d for d in chosen if d not in self.rows]
        replayed = replay(new, self.analysis.inventory, self.demand, self.oracle, self.catalog, unchanged=False)
        self.rows.update(zip(new, replayed, strict=True))
        decided = {d.resource_id for d in chosen}
        rows = [self.rows[d] for d in chosen if d in self.rows]
        rows += [row for rid, row in self.no_change.items() if rid not in decided]
        s = summarize(rows, len(self.demand))
        point = CalibrationPoint(cpu_headroom=cpu, memory_headroom=memory, hurt=s["hurt"],
                                 hurt_share=s["hurt_share"] or 0.0, savings_kept=s["savings_kept"],
                                 added_cost=s["added_cost"],
                                 net_savings=round(s["savings_kept"] - s["added_cost"], 2),
                                 recommendations=s["recommendations"])
        return point, {band: HoldCount.model_validate(rates) for band, rates in s["hold_rate_by_confidence"].items()}


def _at(settings: Settings, cpu: float, memory: float) -> Settings:
    """The settings with CPU and memory headroom given as fractions (the schema holds percent)."""
    sizing = settings.sizing
    return settings.model_copy(update={"sizing": sizing.model_copy(update={
        "cpu": sizing.cpu.model_copy(update={"headroom_pct": round(cpu * 100, 9)}),
        "memory": sizing.memory.model_copy(update={"headroom_pct": round(memory * 100, 9)})})})


def _with(grid: tuple[float, ...], value: float) -> tuple[float, ...]:
    """The grid with the configured value in it (so the defaults' point is always replayed)."""
    return tuple(sorted({*grid, value}))


def sample(inventory: pd.DataFrame, limit: int = MAX_RESOURCES) -> tuple[pd.DataFrame, int | None]:
    """At most ``limit`` resources, chosen by a hash of their id (the same fleet gives the same sample, whatever
    its order), and the fleet's size when it was sampled."""
    if len(inventory) <= limit:
        return inventory, None
    digest = inventory["resource_id"].astype(str).map(lambda rid: hashlib.sha256(rid.encode()).hexdigest())
    keep = digest.sort_values(kind="stable").index[:limit]
    return inventory.loc[keep].reset_index(drop=True), len(inventory)
