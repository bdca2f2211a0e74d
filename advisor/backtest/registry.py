"""Strategies by the name ``--strategy`` takes."""

from __future__ import annotations

from advisor.backtest.ours import Ours
from advisor.backtest.reference import ComputeOptimizer, NaiveAverage, PercentileBuffer, TrustedAdvisor, Vpa
from advisor.backtest.strategy import Strategy
from advisor.errors import ConfigError

STRATEGIES: dict[str, type[Strategy]] = {cls.name: cls for cls in (
    Ours, ComputeOptimizer, PercentileBuffer, TrustedAdvisor, Vpa, NaiveAverage)}


def get_strategy(name: str) -> Strategy:
    """A strategy with its default settings; unknown names are a usage error."""
    if name not in STRATEGIES:
        raise ConfigError(f"unknown strategy {name!r}: use one of {', '.join(STRATEGIES)} (or 'all')")
    return STRATEGIES[name]()
