"""The shards' audits merged into the run's: what one process would have produced from the whole inventory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from advisor.backtest.calibration import with_calibration
from advisor.executor.shards import Shard
from advisor.executor.tasks import ShardResult
from advisor.hourly import HourlyBuckets
from advisor.model import METRICS_COLUMNS, SKIPPED_COLUMNS, AuditResult
from advisor.results import Calibration


@dataclass(frozen=True)
class ShardFailure:
    shard: Shard
    error: str  # the first line of what it raised

    @property
    def problem(self) -> str:
        return f"shard {self.shard.label} failed: {self.error} (its {len(self.shard.resource_ids)} resource(s) " \
               "were not analysed)"


def merge_results(parts: Sequence[ShardResult], failures: Sequence[ShardFailure], inventory: pd.DataFrame,
                  label: str, window: tuple[pd.Timestamp, pd.Timestamp], problems: Sequence[str],
                  calibration: Calibration | None) -> AuditResult:
    """One result from the shards' (in ``inventory``'s row order), the failed shards' resources skipped with the
    error, ``problems`` (the source's) followed by the shards' and the failures; with ``calibration``, each
    finding's confidence score from its replay, as :func:`advisor.backtest.calibration.calibrated_audit` does."""
    assert parts, "at least one shard completed"
    first = parts[0].result
    order = pd.Series(range(len(inventory)), index=inventory["resource_id"].astype(str).to_numpy())
    recommendations = sorted((rec for part in parts for rec in part.result.recommendations),
                             key=lambda rec: (-rec.monthly_savings, rec.resource_id))
    # as one process lists them: those skipped before the rules, then those a fired rule gave nothing
    skipped = pd.concat([_in_order([part.result.skipped.iloc[:part.skipped_before_rules] for part in parts], order,
                                   list(SKIPPED_COLUMNS)),
                         _in_order([part.result.skipped.iloc[part.skipped_before_rules:] for part in parts], order,
                                   list(SKIPPED_COLUMNS))], ignore_index=True)
    failed = inventory[inventory["resource_id"].isin({rid for f in failures for rid in f.shard.resource_ids})]
    reasons = {rid: f"not analysed: {f.problem}" for f in failures for rid in f.shard.resource_ids}
    if len(failed):
        skipped = pd.concat([skipped, pd.DataFrame({
            "resource_id": failed["resource_id"], "kind": failed["kind"], "region": failed["region"],
            "name": failed["name"], "reason": failed["resource_id"].map(reasons)})[list(SKIPPED_COLUMNS)]],
            ignore_index=True)
    features = pd.concat([part.result.features for part in parts]).copy()  # one block per dtype, not one per shard
    features = features.iloc[order.reindex(features.index).argsort(kind="stable")]
    result = AuditResult(
        recommendations=recommendations,
        skipped=skipped,
        inventory=_in_order([part.result.inventory for part in parts], order, list(inventory.columns)),
        features=features,
        metrics=pd.DataFrame(columns=list(METRICS_COLUMNS)),
        hourly=_hourly(parts),
        window_start=window[0],
        window_end=window[1],
        price_list_date=first.price_list_date,
        source_label=label,
        catalog_sources=first.catalog_sources,
        rules=first.rules,
        settings=first.settings,
        problems=[*problems, *_shard_problems(parts), *(f.problem for f in failures)],
        generated_at=datetime.now(UTC),
    )
    return result if calibration is None else with_calibration(result, calibration)


def _in_order(frames: list[pd.DataFrame], order: pd.Series, columns: list[str]) -> pd.DataFrame:
    """The frames' rows together, in the order of their resources in the run's inventory."""
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=columns)
    joined = pd.concat(frames, ignore_index=True)
    at = order.reindex(joined["resource_id"].astype(str)).to_numpy()
    return joined.iloc[at.argsort(kind="stable")].reset_index(drop=True)


def _hourly(parts: Sequence[ShardResult]) -> HourlyBuckets | None:
    """The shards' drill-down buckets as one set, all at the widest step any shard had to take."""
    holders = [part.result for part in parts if part.result.hourly is not None]
    if not holders:
        return None
    step = max(holder.hourly.step for holder in holders if holder.hourly is not None)
    for holder in holders:
        assert holder.hourly is not None
        holder.hourly = holder.hourly.coarsen(step // holder.hourly.step)
    return HourlyBuckets.gather(holders)


def _shard_problems(parts: Sequence[ShardResult]) -> list[str]:
    """What the shards met reading their samples, each distinct line once."""
    return list(dict.fromkeys(line for part in parts for line in part.problems))
