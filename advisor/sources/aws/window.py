"""The time window of a collection and the CloudWatch period it can use.

CloudWatch keeps 60-second data for 15 days, 5-minute data for 63 days and 1-hour data for 455 days, so the
finest period available for a window is set by how far back its start lies. EC2 basic monitoring is 5-minute
anyway, and Compute Optimizer reads 5-minute maxima, so 300 s is the default finest period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from advisor.errors import ConfigError
from advisor.settings import WindowConfig

RETENTION = ((timedelta(days=15), 60), (timedelta(days=63), 300), (timedelta(days=455), 3600))
DEFAULT_PERIOD = 300
# CloudWatch may still add datapoints to a period for a few minutes after it ends: periods ending later than
# this before the fetch are stored but not logged as fetched, so the next run asks for them again.
SETTLE = timedelta(minutes=15)


def retention_period(start: datetime, now: datetime) -> int:
    """The finest period CloudWatch still holds for data that old."""
    age = now - start
    for limit, period in RETENTION:
        if age <= limit:
            return period
    raise ConfigError(f"the window starts {age.days} days ago; CloudWatch keeps at most 455 days")


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True)
class Window:
    """``[start, end)`` in UTC, aligned to ``period``; ``settled`` is where still-changing periods begin;
    ``finest`` is the finest period CloudWatch still holds for ``start`` (a metric may be read finer than
    ``period``, never finer than that)."""

    start: datetime
    end: datetime
    period: int
    settled: datetime
    finest: int = 60

    @classmethod
    def build(cls, days: float | None = WindowConfig().days, start: datetime | None = None, end: datetime | None = None,
              now: datetime | None = None, finest: int = DEFAULT_PERIOD) -> Window:
        now = now or datetime.now(UTC)
        end = end or now
        if start is None:
            if days is None or days <= 0:
                raise ConfigError("--days must be positive")
            start = end - timedelta(days=days)
        if start >= end:
            raise ConfigError(f"--start {start.isoformat()} is not before --end {end.isoformat()}")
        held = retention_period(start, now)
        period = max(finest, held)
        return cls(_floor(start, period), _floor(end, period), period, _floor(min(end, now - SETTLE), period), held)

    @property
    def points(self) -> int:
        return (epoch(self.end) - epoch(self.start)) // self.period


def _floor(moment: datetime, period: int) -> datetime:
    seconds = epoch(moment)
    return datetime.fromtimestamp(seconds - seconds % period, UTC)


def parse_moment(text: str, flag: str) -> datetime:
    """An ISO 8601 date or time (UTC if no offset) from the command line."""
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{flag} {text!r} is not a date or time (use ISO 8601, e.g. 2026-05-01T00:00)") from exc
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()
