"""The GetMetricData planner against CloudWatch's real limits (moto enforces none of them, so we check here)."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from advisor.errors import ConfigError
from advisor.sources.aws.cloudwatch import MAX_POINTS, MAX_QUERIES, minimum_calls, missing_ranges, plan_calls
from advisor.sources.aws.window import SETTLE, Window

DAY = 86_400


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping ranges merged where they touch; overlaps fail the test (asked twice)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        assert not out or start >= out[-1][1], "a period is asked for twice"
        if out and start == out[-1][1]:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _check(calls, needs, period, max_queries=MAX_QUERIES, max_points=MAX_POINTS):
    """Every call within both limits; every (query, period) needed is asked for exactly once."""
    asked: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for call in calls:
        assert len(call.queries) <= max_queries and call.points <= max_points
        assert call.start % period == 0 and call.end % period == 0 and call.start < call.end
        for query in call.queries:
            asked[query].append((call.start, call.end))
    wanted: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for query, start, end in needs:
        wanted[query].append((start, end))
    assert {q: _merged(r) for q, r in asked.items()} == {q: _merged(r) for q, r in wanted.items()}


@pytest.mark.parametrize(("queries", "days", "period"), [
    (3000, 14, 300),  # the benchmark: 500 instances x 6 queries, 4,032 points each -> 25 per call
    (4000, 14, 300),
    (7, 14, 300),
    (1200, 30, 300),  # 8,640 points: whole ranges would fit 11 per call; slicing reaches the bound
    (500, 15, 60),  # 21,600 points per query
    (2500, 400, 3600),
    (1000, 1 / 24, 300),  # an hourly incremental run: 12 points, the query limit binds
])
def test_plans_reach_the_minimum_within_the_limits(queries: int, days: float, period: int) -> None:
    start = 1_700_000_000 - 1_700_000_000 % 3600
    end = start + int(days * DAY)
    needs = [(q, start, end) for q in range(queries)]
    calls = plan_calls(needs, period)
    _check(calls, needs, period)
    lower = minimum_calls(queries, (end - start) // period)
    assert lower <= len(calls) <= math.ceil(1.05 * lower)
    one_per_query = queries
    assert len(calls) < one_per_query or queries < 10


def test_different_missing_ranges_are_planned_separately_and_exactly() -> None:
    period = 300
    needs = [(0, 0, 3000), (1, 0, 3000), (2, 1500, 3000), (3, 0, 600), (3, 1200, 3000)]
    calls = plan_calls(needs, period)
    _check(calls, needs, period)
    assert len(calls) == 4  # three distinct ranges of few points: one call each (0-3000 holds two queries)


def test_tiny_limits_split_the_time_axis() -> None:
    needs = [(q, 0, 12 * 300) for q in range(3)]
    calls = plan_calls(needs, 300, max_queries=2, max_points=8)
    _check(calls, needs, 300, max_queries=2, max_points=8)
    # equal slices of 4 periods, 2 queries each: 3 x 2 calls; the bound (5) would need uneven slices, which the
    # real limits never do (see the 5 % check above)
    assert len(calls) == 6 and minimum_calls(3, 12, 2, 8) == 5


def test_missing_ranges() -> None:
    assert missing_ranges([], 0, 100) == [(0, 100)]
    assert missing_ranges([(0, 40), (60, 100)], 0, 100) == [(40, 60)]
    assert missing_ranges([(0, 40), (30, 70)], 10, 120) == [(70, 120)]
    assert missing_ranges([(-50, 200)], 0, 100) == []
    assert missing_ranges([(200, 300)], 0, 100) == [(0, 100)]


def test_window_period_follows_retention() -> None:
    now = datetime(2026, 6, 1, 12, 7, tzinfo=UTC)
    assert Window.build(days=14, now=now).period == 300  # 5-minute floor by default
    assert Window.build(days=14, now=now, finest=60).period == 60
    assert Window.build(days=20, now=now, finest=60).period == 300  # 1-minute data is gone after 15 days
    assert Window.build(days=90, now=now).period == 3600
    with pytest.raises(ConfigError, match="455 days"):
        Window.build(days=500, now=now)
    with pytest.raises(ConfigError, match="not before"):
        Window.build(start=now, end=now - timedelta(days=1), now=now)


def test_window_aligns_and_marks_unsettled_periods() -> None:
    now = datetime(2026, 6, 1, 12, 7, 31, tzinfo=UTC)
    window = Window.build(days=1, now=now)
    assert window.end == datetime(2026, 6, 1, 12, 5, tzinfo=UTC) and window.start == window.end - timedelta(days=1)
    assert window.points == 288
    assert window.settled == datetime(2026, 6, 1, 11, 50, tzinfo=UTC)  # now - 15 min, floored
    assert window.end - window.settled <= SETTLE
    past = Window.build(start=now - timedelta(days=3), end=now - timedelta(days=2), now=now)
    assert past.settled == past.end
