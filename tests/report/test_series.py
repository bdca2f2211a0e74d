"""encode_series(): bucketed, quantized, base64 series that decode to what the samples say."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from advisor.report.series import MISSING, encode_series

START = pd.Timestamp("2026-01-01", tz="UTC")


def _samples(resource_id: str, metric: str, values: list[float], minutes: int = 30, **extra: object) -> pd.DataFrame:
    stamps = START + pd.to_timedelta(np.arange(len(values)) * minutes, unit="min")
    return pd.DataFrame({"resource_id": resource_id, "metric": metric, "timestamp": stamps, "value": values,
                         **extra})


def _decode(encoded, resource_id: str) -> dict[str, dict[str, object]]:
    """What the page's script does: slice the resource's base64, split it per metric, scale the bytes."""
    entry = encoded.index[resource_id]
    offset, length = entry["at"]
    raw = base64.b64decode(encoded.text[offset:offset + length])
    per_value = 2 if entry["means"] else 1
    assert len(raw) == per_value * sum(n for *_, n in entry["metrics"])
    out, position = {}, 0
    for (name, percent, t0, n), scale in zip(entry["metrics"], entry["scales"], strict=True):
        def values(chunk: bytes, scale: float = scale) -> list[float | None]:
            return [None if b == MISSING else b * scale for b in chunk]
        out[name] = {"percent": percent, "t0": t0, "step": entry["step"], "max": values(raw[position:position + n]),
                     "mean": values(raw[position + n:position + 2 * n]) if entry["means"] else None}
        position += per_value * n
    return out


def test_hourly_max_and_mean_round_trip_within_half_a_point() -> None:
    cpu = [10.0, 30.3, 55.0, 12.2, 99.9, 100.0]  # three hours of half-hourly samples
    metrics = pd.concat([_samples("i-1", "cpu", cpu), _samples("i-1", "network_in", [1e6, 3e6, 2e6, 4e6, 0, 5e6])])
    encoded = encode_series(["i-1"], metrics)
    assert encoded.index["i-1"]["step"] == 3600 and encoded.index["i-1"]["means"] is True
    json.loads(encoded.text)  # one JSON string: the page's data block
    series = _decode(encoded, "i-1")
    assert list(series) == ["cpu", "network_in"]  # percentages first
    assert series["cpu"]["t0"] == int(START.timestamp())
    assert series["cpu"]["max"] == pytest.approx([30.5, 55.0, 100.0], abs=0.25)
    assert series["cpu"]["mean"] == pytest.approx([20.15, 33.6, 99.95], abs=0.25)
    assert series["network_in"]["percent"] is False
    assert series["network_in"]["max"] == pytest.approx([3e6, 4e6, 5e6], rel=1 / 250)


def test_gaps_are_missing_not_zero_and_series_are_trimmed() -> None:
    stamps = START + pd.to_timedelta([0, 30, 240, 270], unit="min")  # hours 0 and 4 only
    metrics = pd.DataFrame({"resource_id": "i-1", "metric": "memory", "timestamp": stamps,
                            "value": [40.0, 42.0, 50.0, 51.0]})
    other = _samples("i-2", "memory", [5.0] * 20)  # starts at the same hour, runs longer
    series = _decode(encode_series(["i-1", "i-2"], pd.concat([metrics, other])), "i-1")["memory"]
    assert series["max"] == [42.0, None, None, None, 51.0]


def test_only_wanted_resources_and_avg_samples_for_the_mean() -> None:
    metrics = pd.concat([_samples("i-1", "cpu", [10.0, 20.0], stat="avg"), _samples("i-1", "cpu", [90.0, 95.0],
                                                                                     stat="max"),
                         _samples("i-other", "cpu", [50.0, 50.0])])
    encoded = encode_series(["i-1", "i-missing"], metrics)
    assert set(encoded.index) == {"i-1"}
    series = _decode(encoded, "i-1")["cpu"]
    assert series["max"] == [95.0]
    assert series["mean"] == [15.0]


def _fleet(n: int, hours: int = 48) -> pd.DataFrame:
    """n resources with hourly cpu over ``hours`` hours: i-0 flat at 10 %, i-1 at 11 %…, with a peak at hour 7."""
    frames = []
    for k in range(n):
        values = [10.0 + k] * hours
        values[7] = 90.0
        frames.append(_samples(f"i-{k}", "cpu", values, minutes=60))
    return pd.concat(frames)


def test_a_fleet_within_the_budget_keeps_full_resolution_throughout() -> None:
    ids = [f"i-{k}" for k in range(10)]
    encoded = encode_series(ids, _fleet(10), byte_budget=10 * 2 * 48, full_top=2)
    assert {entry["step"] for entry in encoded.index.values()} == {3600}
    assert all(entry["means"] for entry in encoded.index.values())


def test_over_the_budget_the_top_findings_keep_full_resolution_and_the_rest_get_maxima() -> None:
    ids = [f"i-{k}" for k in (9, 4, *range(9))]  # in order of savings: i-9 and i-4 first
    encoded = encode_series(ids, _fleet(10), byte_budget=2 * 2 * 48 + 8 * 9, full_top=2)
    for resource_id in ("i-9", "i-4"):
        entry = encoded.index[resource_id]
        assert entry["step"] == 3600 and entry["means"] is True
    for k in (0, 1, 2, 3, 5, 6, 7, 8):
        assert encoded.index[f"i-{k}"]["step"] == 6 * 3600 and encoded.index[f"i-{k}"]["means"] is False
    compact = _decode(encoded, "i-3")["cpu"]
    assert compact["t0"] == int(START.timestamp())  # buckets on the grid of 6 hours
    assert compact["max"] == pytest.approx([13.0, 90.0] + [13.0] * 6, abs=0.25)  # the peak of hour 7 is kept
    assert compact["mean"] is None
    assert len(encoded.text) - 2 <= 4 / 3 * (2 * 2 * 48 + 8 * 9) + 4 * 10  # base64 of the budget, padded


def test_a_tight_budget_gives_daily_peaks_on_utc_days() -> None:
    late = _fleet(4, hours=72)
    late["timestamp"] += pd.Timedelta(hours=5)  # from 05:00: the first day's bucket starts at midnight
    encoded = encode_series(["i-0", "i-1", "i-2", "i-3"], late, byte_budget=2 * 2 * 72 + 2 * 4, full_top=2)
    peaks = _decode(encoded, "i-3")["cpu"]
    assert peaks["step"] == 86_400 and peaks["t0"] == int(START.timestamp())
    assert peaks["max"] == pytest.approx([90.0, 13.0, 13.0, 13.0], abs=0.25)


def test_a_fleet_over_the_budget_with_no_full_resolution_at_all() -> None:
    encoded = encode_series([f"i-{k}" for k in range(10)], _fleet(10), byte_budget=25, full_top=0)
    assert {(entry["step"], entry["means"]) for entry in encoded.index.values()} == {(2 * 86_400, False)}


def test_nothing_to_encode() -> None:
    empty = pd.DataFrame(columns=["resource_id", "metric", "timestamp", "value"])
    assert encode_series(["i-1"], empty).index == {}
    assert encode_series([], _samples("i-1", "cpu", [1.0])).text == '""'
