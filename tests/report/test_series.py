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
    out, position = {}, 0
    for name, percent, t0, n, scale in entry["metrics"]:
        def values(chunk: bytes, scale: float = scale) -> list[float | None]:
            return [None if b == MISSING else b * scale for b in chunk]
        out[name] = {"percent": percent, "t0": t0, "max": values(raw[position:position + n]),
                     "mean": values(raw[position + n:position + 2 * n])}
        position += 2 * n
    return out


def test_hourly_max_and_mean_round_trip_within_half_a_point() -> None:
    cpu = [10.0, 30.3, 55.0, 12.2, 99.9, 100.0]  # three hours of half-hourly samples
    metrics = pd.concat([_samples("i-1", "cpu", cpu), _samples("i-1", "network_in", [1e6, 3e6, 2e6, 4e6, 0, 5e6])])
    encoded = encode_series(["i-1"], metrics)
    assert encoded.step == 3600
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


def test_a_fleet_over_the_budget_gets_coarser_buckets() -> None:
    metrics = pd.concat([_samples(f"i-{k}", "cpu", list(np.linspace(0, 100, 48)), minutes=60) for k in range(10)])
    assert encode_series([f"i-{k}" for k in range(10)], metrics).step == 3600
    coarse = encode_series([f"i-{k}" for k in range(10)], metrics, byte_budget=10 * 2 * 12)
    assert coarse.step == 4 * 3600
    assert _decode(coarse, "i-3")["cpu"]["max"] == pytest.approx(list(np.linspace(0, 100, 48))[3::4], abs=0.25)


def test_nothing_to_encode() -> None:
    empty = pd.DataFrame(columns=["resource_id", "metric", "timestamp", "value"])
    assert encode_series(["i-1"], empty).index == {}
    assert encode_series([], _samples("i-1", "cpu", [1.0])).text == '""'
