"""Where the history is cut: the pipeline recommends from the part before the cut-off, the part after is replayed.

Defaults: recommend from the first 14 days, replay the next 14. A history shorter than that (the bundled demo
covers 14 days) is cut in half when the user gave neither length nor cut-off, and the split says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from advisor.engine import samples
from advisor.errors import ConfigError

DEFAULT_TRAIN_DAYS = 14.0
DEFAULT_TEST_DAYS = 14.0


@dataclass(frozen=True)
class Split:
    """Train window [train_start, cutoff) and test window [cutoff, test_end)."""

    train_start: pd.Timestamp
    cutoff: pd.Timestamp
    test_end: pd.Timestamp
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def train_days(self) -> float:
        return (self.cutoff - self.train_start).total_seconds() / 86_400

    @property
    def test_days(self) -> float:
        return (self.test_end - self.cutoff).total_seconds() / 86_400

    def train(self, metrics: pd.DataFrame) -> pd.DataFrame:
        ts = metrics["timestamp"]
        return metrics[(ts >= self.train_start) & (ts < self.cutoff)].reset_index(drop=True)

    def test(self, metrics: pd.DataFrame) -> pd.DataFrame:
        ts = metrics["timestamp"]
        return metrics[(ts >= self.cutoff) & (ts < self.test_end)].reset_index(drop=True)

    def describe(self) -> dict[str, object]:
        return {"train_start": self.train_start.isoformat(), "cutoff": self.cutoff.isoformat(),
                "test_end": self.test_end.isoformat(), "train_days": round(self.train_days, 2),
                "test_days": round(self.test_days, 2), "notes": list(self.notes)}


def plan_split(metrics: pd.DataFrame, train_days: float | None = None, test_days: float | None = None,
               cutoff: pd.Timestamp | str | None = None) -> Split:
    """Choose the windows from the history's extent and the user's options (None = not given)."""
    if metrics.empty:
        raise ConfigError("backtest: the source has no metrics to split")
    for name, value in (("--train-days", train_days), ("--test-days", test_days)):
        if value is not None and value <= 0:
            raise ConfigError(f"{name} must be positive, got {value:g}")
    first, last = metrics["timestamp"].min(), metrics["timestamp"].max()
    end = last + sample_period(metrics)  # the last sample covers one period
    span_days = (end - first).total_seconds() / 86_400
    notes: list[str] = []
    if cutoff is not None:
        cut = _timestamp(cutoff)
        if not first < cut < end:
            raise ConfigError(f"--cutoff {cut.isoformat()} is outside the history ({first.isoformat()} to "
                              f"{last.isoformat()})")
        start = max(first, cut - pd.Timedelta(days=train_days)) if train_days else first
    else:
        if train_days is None and test_days is None and span_days < DEFAULT_TRAIN_DAYS + DEFAULT_TEST_DAYS:
            train_days = test_days = span_days / 2
            notes.append(f"the history covers {span_days:.1f} days, less than {DEFAULT_TRAIN_DAYS:g} + "
                         f"{DEFAULT_TEST_DAYS:g}: recommending from the first half and replaying the second")
        start = first
        cut = first + pd.Timedelta(days=train_days or DEFAULT_TRAIN_DAYS)
        if cut >= end:
            raise ConfigError(f"--train-days {train_days or DEFAULT_TRAIN_DAYS:g} leaves nothing to replay: the "
                              f"history covers {span_days:.1f} days")
    wanted = test_days or DEFAULT_TEST_DAYS
    test_end = min(end, cut + pd.Timedelta(days=wanted))
    got = (test_end - cut).total_seconds() / 86_400
    if got < wanted - 1e-6:
        notes.append(f"only {got:.1f} days of history after the cut-off (asked for {wanted:g})")
    return Split(start, cut, test_end, tuple(notes))


def _timestamp(value: pd.Timestamp | str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--cutoff {value!r} is not a date (use ISO 8601, e.g. 2026-11-09T00:00Z)") from exc
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def sample_period(metrics: pd.DataFrame) -> pd.Timedelta:
    """The typical gap between a series' samples (5 minutes when it cannot be told)."""
    return samples.sample_period(metrics["timestamp"])
