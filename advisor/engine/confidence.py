"""Confidence as a probability: the estimated chance that a finding's advice holds.

A finding's band (high, medium, low) comes from the history behind it, capped by its evidence
(:mod:`advisor.engine.evidence`: a finding resting on a missing metric or censored demand is never high). The band's
probability is the share of that band's advice that held when the backtest replayed it: on the tuned datasets of
the quality benchmark (``data/confidence/hold_rates.json``, with its source and date), updated with the replay of
the user's own history when calibration ran. Per band:

* the benchmark's rate is the posterior mean under a uniform prior, (held + 1) / (judged + 2): a band the backtest
  never judged is 0.5, "unknown", never a confident guess;
* the fleet's own counts are added to it with the benchmark's rate weighing as ``PRIOR_WEIGHT`` observations;
* the bands are then made monotone (adjacent bands that disagree are pooled), so a higher band never carries a lower
  probability than a lower one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from advisor.resources import data_path
from advisor.results import BandRate, ConfidenceBands

BANDS = ("low", "medium", "high")  # ascending
PRIOR_WEIGHT = 20.0


@cache
def _table() -> dict[str, Any]:
    return json.loads(data_path("confidence", "hold_rates.json").read_text(encoding="utf-8"))


def confidence_bands(fleet: Mapping[str, Mapping[str, Any]] | None = None) -> ConfidenceBands:
    """Each band's probability from the packaged backtest table and, when given, the fleet's own replay
    (band -> {"judged", "held"})."""
    table = _table()
    rates, weights, rows = [], [], []
    for band in BANDS:
        counts = table["bands"].get(band, {"judged": 0, "held": 0})
        judged, held = int(counts["judged"]), int(counts["held"])
        rate = (held + 1) / (judged + 2)
        weight = judged + 2.0
        own = fleet.get(band) if fleet is not None else None
        if fleet is not None:
            own_judged, own_held = (int(own["judged"]), int(own["held"])) if own else (0, 0)
            rate = (own_held + PRIOR_WEIGHT * rate) / (own_judged + PRIOR_WEIGHT)
            weight = own_judged + PRIOR_WEIGHT  # the estimate's effective number of observations
            rows.append({"band": band, "backtest_judged": judged, "backtest_held": held,
                         "fleet_judged": own_judged, "fleet_held": own_held})
        else:
            rows.append({"band": band, "backtest_judged": judged, "backtest_held": held})
        rates.append(rate)
        weights.append(weight)
    bands = [BandRate.model_validate(row | {"probability": round(p, 3)})
             for row, p in zip(rows, _monotone(rates, weights), strict=True)]
    return ConfidenceBands(source=table["source"], measured=table["measured"], fleet=fleet is not None,
                           bands=bands[::-1])


@cache
def backtest_bands() -> ConfidenceBands:
    """The bands from the packaged table alone (every audit without calibration)."""
    return confidence_bands()


def _monotone(values: list[float], weights: list[float]) -> list[float]:
    """Non-decreasing values nearest the given ones in weighted least squares (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [weighted sum, weight, members]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([value * weight, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, weight_sum, members = blocks.pop()
            blocks[-1] = [blocks[-1][0] + total, blocks[-1][1] + weight_sum, blocks[-1][2] + members]
    return [total / weight for total, weight, members in blocks for _ in range(int(members))]
