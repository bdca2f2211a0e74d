"""What a finding rests on, and how far its confidence may go: a missing metric or censored demand is never "high".

* A finding that changes no capacity through sizing and fired *because* a metric is missing (an ``is_null`` test
  on a metric column that holds for the resource, as ``ec2-possibly-idle``) rests on a missing metric: its
  confidence is at most low. (Sizing holds a dimension without metrics at its current size instead.)
* A sizing finding on a dimension whose demand is censored (the series sat at its capacity, so the demand is only
  known to be at least the capacity), on an EC2 instance without memory metrics (memory held at its size), on memory
  that stepped up by more than the headroom in the history, or that moves an EC2 instance without network metrics
  to a smaller type (whose bandwidth nothing was checked against), is at most medium.
* A finding that moves to a smaller type when memory peaked only in rare spikes (its maximum at least
  ``SPIKE_RATIO`` times its 99th percentile) is at most medium: the tail of such a history is barely measured, the
  next spike may be higher, and memory fails when full.

Each limit comes with a plain sentence for the evidence notes. An upsize also states why it adds capacity
(:func:`upsize_causes`, the ``upsize`` section of its evidence): per dimension whose demand with headroom is above the
current capacity, the cause that put it there.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from advisor.model import Kind
from advisor.settings import Settings

if TYPE_CHECKING:
    from advisor.engine.rules import Condition, LoadedRule

LOW_CAP = 0.5  # under the "medium" label's 0.55
MEDIUM_CAP = 0.75  # under the "high" label's 0.8
METRIC_PREFIXES = ("cpu_", "memory_", "gpu_", "network_", "read_", "write_", "total_", "invocations_")
SIZING_ACTIONS = ("downsize", "upsize", "rightsize_accelerator", "modernize")
SHRINKING = ("downsize", "rightsize_accelerator")  # moves to a smaller type
SPIKE_RATIO = 2.0  # a memory maximum at least this many times its 99th percentile was reached in rare spikes only
CENSORED_DIMENSIONS = {"cpu": "CPU", "memory": "memory", "gpu": "GPU utilization", "gpu_memory": "GPU memory"}
# Why an upsize adds capacity on a dimension, first match wins (and, across dimensions, names the upsize's cause):
# the series sat at its capacity; the forecast raised a statistic that fitted with headroom; the measured statistic
# plus the policy's headroom is above the capacity; nothing sizing reads (``other``). A memory step never adds
# capacity (sizing.memory_need), so it is no cause.
UPSIZE_CAUSES = ("censored", "forecast", "headroom", "other")


@dataclass
class Limits:
    cap: float = 1.0
    notes: list[str] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)  # evidence sections of their own (``upsize``)

    def lower(self, cap: float, note: str) -> None:
        self.cap = min(self.cap, cap)
        self.notes.append(note)


def assess(loaded: LoadedRule, row: Mapping[Hashable, Any], settings: Settings) -> Limits:
    limits = Limits()
    missing = sorted(c for c in _null_tests(loaded.condition) if c.startswith(METRIC_PREFIXES) and _nan(row.get(c)))
    if missing and loaded.rule.action not in SIZING_ACTIONS:
        limits.lower(LOW_CAP, f"Rests on missing metrics ({', '.join(missing)}): verify before acting; confidence "
                              "is at most low.")
    if loaded.rule.action not in SIZING_ACTIONS:
        return limits
    if loaded.rule.action == "upsize":
        limits.sections["upsize"] = upsize = upsize_causes(row, settings)
        limits.notes.append(_upsize_note(upsize))
    for metric, label in CENSORED_DIMENSIONS.items():
        if _true(row.get(f"{metric}_censored")):
            share = row.get(f"{metric}_above_98")
            limits.lower(MEDIUM_CAP, f"Demand censored at capacity: {label} sat at 98 % or more in "
                                     f"{_pct(share)} of samples, so the true demand is at least the capacity. It is "
                                     "sized one step above the capacity, never extrapolated.")
    if row.get("kind") == Kind.EC2_INSTANCE and not _true(row.get("has_memory_data")):
        limits.lower(MEDIUM_CAP, "No memory metrics: memory is held at its current size and the finding is at most "
                                 "medium confidence.")
    if row.get("kind") == Kind.EC2_INSTANCE and loaded.rule.action in SHRINKING and _nan(row.get("network_demand")):
        held = settings.sizing.missing_network == "hold"
        limits.lower(MEDIUM_CAP, "No network metrics: " + (
            "the target keeps at least the current type's baseline network bandwidth" if held else
            "the smaller type's network bandwidth is not checked against any demand ([sizing] missing_network = "
            "\"ignore\")") + ", so the finding is at most medium confidence.")
    peak, p99 = _number(row.get("memory_max")), _number(row.get("memory_p99"))
    if loaded.rule.action in SHRINKING and p99 > 0 and peak >= SPIKE_RATIO * p99:
        limits.lower(MEDIUM_CAP, f"Memory peaked at {peak:.0f}% in rare spikes only (its 99th percentile is "
                                 f"{p99:.0f}%): the next spike may be higher and memory fails when full, so the "
                                 "finding is at most medium confidence.")
    step, memory = _number(row.get("memory_step")), _number(row.get("memory_demand"))
    headroom = settings.sizing.memory.headroom
    if step > 0.5 and step > memory * headroom:
        limits.lower(MEDIUM_CAP, f"Memory stepped up by {step:.0f} points of capacity between two days, more than "
                                 f"the {headroom:.0%} headroom: the memory target keeps that step as "
                                 "headroom, up to the current memory size (a step is a reason to keep memory, not to "
                                 "add it), and the finding is at most medium confidence.")
    return limits


def upsize_causes(row: Mapping[Hashable, Any], settings: Settings) -> dict[str, Any]:
    """Why sizing asks for more than the current type: per dimension whose demand plus headroom is above the current
    capacity (in % of it, as sizing computes it; GPU memory from its peak; memory's step headroom stops at the
    current size, so it is never a cause), the cause (:data:`UPSIZE_CAUSES`), the figures and the headroom;
    ``cause`` names the upsize's first cause. A dimension without metrics is held at its size: never a cause."""
    dimensions: dict[str, dict[str, Any]] = {}
    for metric in CENSORED_DIMENSIONS:
        demand = _number_or_nan(row.get(f"{metric}_demand"))
        if metric == "gpu_memory":
            demand = max(demand, _number_or_nan(row.get("gpu_memory_max")))
        if demand != demand:  # NaN: not measured
            continue
        headroom = settings.policy(metric).headroom
        need = demand * (1 + headroom)
        if need <= 100.0 + 1e-9:
            continue
        statistic = _number_or_nan(row.get(f"{metric}_{settings.policy(metric).statistic}"))
        if _true(row.get(f"{metric}_censored")):
            cause = "censored"
        elif statistic == statistic and statistic * (1 + headroom) <= 100.0 + 1e-9:
            cause = "forecast"
        else:
            cause = "headroom"
        dimensions[metric] = {"cause": cause, "statistic_pct": _round(statistic), "demand_pct": round(demand, 2),
                              "need_pct": round(need, 2), "headroom": headroom}
    causes = {d["cause"] for d in dimensions.values()}
    return {"cause": next((c for c in UPSIZE_CAUSES if c in causes), "other"), "dimensions": dimensions}


def _upsize_note(upsize: Mapping[str, Any]) -> str:
    dimensions = upsize["dimensions"]
    if not dimensions:
        return "Upsized although no measured demand with headroom is above the current capacity (cause: other)."
    parts = [f"{CENSORED_DIMENSIONS[m]} needs {d['need_pct']:.0f}% of the current capacity ({d['cause']})"
             for m, d in dimensions.items()]
    return "Upsized because " + "; ".join(parts) + "."


def _null_tests(condition: Condition) -> set[str]:
    if condition.kind == "test":
        return {str(condition.column)} if condition.op == "is_null" else set()
    if condition.kind == "not":
        return set()
    return set().union(*(_null_tests(c) for c in condition.children)) if condition.children else set()


def _nan(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _number(value: Any) -> float:
    """The value as a float, 0 where it is missing."""
    return 0.0 if _nan(value) else float(value)


def _number_or_nan(value: Any) -> float:
    return float("nan") if _nan(value) else float(value)


def _round(value: float) -> float | None:
    return None if value != value else round(value, 2)


def _true(value: Any) -> bool:
    return not _nan(value) and bool(value)


def _pct(value: Any) -> str:
    return "an unknown share" if _nan(value) else f"{float(value):.1%}"
