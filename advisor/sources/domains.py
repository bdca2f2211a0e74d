"""The domain of every file-source field, and the row-by-row check against it.

A value outside its domain (CPU at 150 %, ``count = 1e308``, a volume type AWS does not have, a timestamp that is
not a date) rejects the resource it belongs to, with a reason naming the file, the row and the field; every other
resource is read as if the bad row were not there. Limits are AWS's own where AWS has one (EBS sizes, IOPS and
throughput), else far above any real estate but low enough that no sum of them can overflow a float.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from advisor import kinds
from advisor.model import PERCENT_METRICS, Metric, parse_tags

PERCENT_TOLERANCE = 1.0  # exporters round and CloudWatch reports 100.4 % now and then: clipped to 0-100
SECONDS_CAP = 10 * 365 * 86_400.0  # ten years of compute in one job or tuning total


@dataclass(frozen=True)
class Numeric:
    low: float
    high: float
    integer: bool = False

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} from {self.low:g} to {self.high:g}"


# Inventory numbers (empty = not given). AWS limits: EBS io2 Block Express 64 TiB, 256,000 IOPS, 4,000 MiB/s.
INVENTORY_NUMBERS: dict[str, Numeric] = {
    "count": Numeric(0, 10_000, integer=True),  # 0: a variant scaled to zero instances
    "size_gib": Numeric(1, 65_536),
    "iops": Numeric(0, 256_000),
    "throughput_mibps": Numeric(0, 4_000),
    "min_count": Numeric(0, 10_000, integer=True),
    "max_count": Numeric(0, 10_000, integer=True),
    "weight": Numeric(0, 1_000_000),
    "billable_seconds": Numeric(0, SECONDS_CAP),
    "training_seconds": Numeric(0, SECONDS_CAP),
    "warm_pool_seconds": Numeric(0, SECONDS_CAP),
    "training_jobs": Numeric(0, 100_000, integer=True),
    "lagging_billable_seconds": Numeric(0, SECONDS_CAP),
    "max_vcpus": Numeric(0, 10_000_000, integer=True),
    "vcpu_hours": Numeric(0, 1e10),
}
BOOLEANS = {"true": True, "1": True, "1.0": True, "yes": True, "false": False, "0": False, "0.0": False, "no": False}
INVENTORY_BOOLEANS = ("managed_spot", "checkpointing", "autoscaling")
INVENTORY_CHOICES: dict[str, tuple[str, ...]] = {
    # AWS's InstanceLifecycle values, "on-demand" where it gives none
    "lifecycle": ("on-demand", "spot", "scheduled", "capacity-block", "interruptible-capacity-reservation"),
    "tenancy": ("default", "dedicated", "host"),
    "early_stopping": ("Off", "Auto"),
    "endpoint_type": ("realtime", "async", "serverless"),
}


def inventory_choices(column: str) -> tuple[str, ...] | None:
    """The accepted values of a column with a fixed set, or None. Kinds are read from the registry when a row is
    checked, so a kind registered at run time is accepted like a bundled one."""
    if column == "kind":
        return tuple(kinds.ids())
    return INVENTORY_CHOICES.get(column)


# Metric values: percentages 0-100 (with tolerance), rates non-negative with a ceiling far above any instance
# (400 Gbit/s is 5e10 bytes/s).
RATE_CAP = 1e12


PERCENT_NAMES = frozenset(m.value for m in PERCENT_METRICS)
METRIC_NAMES = frozenset(m.value for m in Metric)


def metric_range(metric: str) -> tuple[float, float]:
    """The accepted values of a metric (percentages within the tolerance are later clipped to 0-100)."""
    if metric in PERCENT_NAMES:
        return -PERCENT_TOLERANCE, 100 + PERCENT_TOLERANCE
    return 0.0, RATE_CAP


def describe_range(metric: str) -> str:
    return "0 to 100 %" if metric in PERCENT_NAMES else f"0 to {RATE_CAP:g}"


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or \
        value is pd.NaT or (isinstance(value, str) and not value.strip())


def check_number(value: Any, domain: Numeric) -> tuple[float | None, str | None]:
    """``(number, None)`` or ``(None, why it is not in the domain)``; blank gives ``(None, None)``."""
    if blank(value):
        return None, None
    if isinstance(value, bool | np.bool_):
        return None, f"{value!r} is not {domain.describe()}"
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        return None, f"{show(value)} is not {domain.describe()}"
    if not math.isfinite(number) or not domain.low <= number <= domain.high or \
            (domain.integer and number != int(number)):
        return None, f"{show(value)} is not {domain.describe()}"
    return number, None


def check_boolean(value: Any) -> tuple[bool | None, str | None]:
    if blank(value):
        return None, None
    if isinstance(value, bool | np.bool_):
        return bool(value), None
    mapped = BOOLEANS.get(str(value).strip().lower())
    return (mapped, None) if mapped is not None else (None, f"{show(value)} is not true or false")


def check_choice(value: Any, choices: tuple[str, ...]) -> tuple[str | None, str | None]:
    if blank(value):
        return None, None
    text = str(value).strip()
    if text in choices:
        return text, None
    return None, f"unknown value {show(value)} (expected one of {', '.join(choices)})"


def check_instance_groups(value: Any) -> tuple[str | None, str | None]:
    """A heterogeneous cluster's groups, ``TYPE:COUNT;TYPE:COUNT`` (each count a whole number from 1)."""
    if blank(value):
        return None, None
    parts = [part.strip() for part in str(value).split(";")]
    for part in parts:
        name, _, count = part.rpartition(":")
        if not name.strip() or not count.strip().isdigit() or int(count) < 1:
            return None, f"{show(value)} is not TYPE:COUNT;TYPE:COUNT (e.g. ml.p4d.24xlarge:2;ml.c5.4xlarge:4)"
    return ";".join(parts), None


def check_tags(value: Any) -> tuple[dict[str, str] | None, str | None]:
    from advisor.errors import SourceError

    try:
        return parse_tags(value), None
    except (SourceError, AttributeError) as exc:  # AttributeError: JSON that is not an object
        return None, str(exc) if isinstance(exc, SourceError) else f"{show(value)} is not a JSON object"


def show(value: Any, limit: int = 40) -> str:
    """A value quoted for a message, cut short (a cell may hold megabytes)."""
    text = repr(value if not isinstance(value, np.generic) else value.item())
    return text if len(text) <= limit else text[:limit] + "…"
