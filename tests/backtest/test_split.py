"""Where the history is cut, by default and on request."""

import pandas as pd
import pytest

from advisor.backtest.split import plan_split
from advisor.errors import ConfigError


def _metrics(days: float) -> pd.DataFrame:
    stamps = pd.date_range("2026-11-02", periods=int(days * 288), freq="5min", tz="UTC")
    return pd.DataFrame({"resource_id": "i-a", "metric": "cpu", "timestamp": stamps, "value": 1.0})


def test_default_recommends_from_14_days_and_replays_the_next_14():
    split = plan_split(_metrics(30))
    assert split.train_start == pd.Timestamp("2026-11-02", tz="UTC")
    assert (split.train_days, split.test_days) == (14, 14) and not split.notes
    train, test = split.train(_metrics(30)), split.test(_metrics(30))
    assert len(train) == len(test) == 14 * 288 and train["timestamp"].max() < test["timestamp"].min()


def test_a_short_history_is_cut_in_half_and_says_so():
    split = plan_split(_metrics(14))
    assert split.cutoff == pd.Timestamp("2026-11-09", tz="UTC") and split.test_days == pytest.approx(7)
    assert "first half" in split.notes[0]


def test_explicit_lengths_and_cutoff():
    split = plan_split(_metrics(30), train_days=10, test_days=5)
    assert (split.train_days, split.test_days) == (10, 5)
    split = plan_split(_metrics(30), train_days=7, cutoff="2026-11-20")
    assert split.train_start == pd.Timestamp("2026-11-13", tz="UTC") and split.test_days == 12
    short = plan_split(_metrics(14), train_days=10)
    assert short.test_days == pytest.approx(4) and "only 4.0 days" in short.notes[0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"cutoff": "2027-01-01"}, "outside the history"),
    ({"cutoff": "yesterday-ish"}, "not a date"),
    ({"train_days": 20}, "leaves nothing to replay"),
    ({"test_days": 0}, "must be positive"),
])
def test_impossible_splits_are_usage_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        plan_split(_metrics(14), **kwargs)
