"""What a finding rests on, and how far its confidence may go: a missing metric or censored demand is never "high".

* A finding that changes no capacity through sizing and fired *because* a metric is missing (an ``is_null`` test
  on a metric column that holds for the resource, as ``ec2-possibly-idle``) rests on a missing metric: its
  confidence is at most low. (Sizing holds a dimension without metrics at its current size instead.)
* A sizing finding on a dimension whose demand is censored (the series sat at its capacity, so the demand is only
  known to be at least the capacity), on an EC2 instance without memory metrics (memory held at its size), on memory
  that stepped up by more than the headroom in the history, or that moves an EC2 instance without network metrics
  to a smaller type (whose bandwidth nothing was checked against), is at most medium.

Each limit comes with a plain sentence for the evidence notes.
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
CENSORED_DIMENSIONS = {"cpu": "CPU", "memory": "memory", "gpu": "GPU utilization", "gpu_memory": "GPU memory"}


@dataclass
class Limits:
    cap: float = 1.0
    notes: list[str] = field(default_factory=list)

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
    step, memory = _number(row.get("memory_step")), _number(row.get("memory_demand"))
    headroom = settings.sizing.memory.headroom
    if step > 0.5 and step > memory * headroom:
        limits.lower(MEDIUM_CAP, f"Memory stepped up by {step:.0f} points of capacity between two days, more than "
                                 f"the {headroom:.0%} headroom: the memory target keeps that step as "
                                 "headroom, and the finding is at most medium confidence.")
    return limits


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


def _true(value: Any) -> bool:
    return not _nan(value) and bool(value)


def _pct(value: Any) -> str:
    return "an unknown share" if _nan(value) else f"{float(value):.1%}"
