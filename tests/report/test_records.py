"""The page's data: table rows, per-row details read by offset, filter menus, and the drill-down lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from packed import unpack_array, unpack_text

from advisor.model import AuditResult
from advisor.report.drill import forecast_lines, target_lines
from advisor.report.exports import MAIN_CSV_COLUMNS
from advisor.report.records import csv_columns, page_records
from advisor.report.series import EncodedSeries
from advisor.results import Capacity, Option

OPTION = Option.model_validate({"instance_type": "m5.xlarge", "vcpus": 4, "memory_gib": 16.0, "risk": 1,
                                 "projected_utilization": {"cpu": 50.0, "gpu": 30.0}})


def test_target_lines_put_the_target_on_the_current_scale() -> None:
    capacity = Capacity(vcpus=16.0, memory_gib=64.0)
    lines = target_lines(capacity, OPTION, "m5.4xlarge", {})
    assert lines == {"cpu": {"percent": 25.0, "label": "target m5.xlarge: 4 of 16 vCPUs (25 % of current)"},
                     "memory": {"percent": 25.0, "label": "target m5.xlarge: 16 of 64 GiB (25 % of current)"}}
    # capacity from the features row when the evidence has none; no line for what the option does not state
    assert set(target_lines(Capacity(), OPTION, "m5.4xlarge", {"vcpus": 8.0, "gpus": 1.0})) == {"cpu"}


@pytest.mark.parametrize("target, current", [(None, "m5.4xlarge"), (OPTION, "m5.xlarge"),
                                             (Option(instance_type=None), "m5.4xlarge")])
def test_no_target_line_without_a_different_target(target: Option | None, current: str) -> None:
    assert target_lines(Capacity(vcpus=16.0), target, current, {}) == {}


def test_forecast_runs_from_the_window_end_over_the_horizon() -> None:
    features = {"cpu_trend_used": 0.5, "cpu_forecast": 40.0, "cpu_upper": 46.0, "cpu_demand": 46.0,
                "memory_trend_used": 0.0, "memory_forecast": 30.0, "memory_upper": 29.0}
    lines = forecast_lines(features, 30)
    assert lines["cpu"] == {"forecast": [25.0, 40.0], "upper": [31.0, 46.0], "demand": 46.0}
    assert lines["memory"] == {"forecast": [30.0, 30.0], "upper": [30.0, 29.0], "demand": None}
    assert forecast_lines({}, 30) == {}


def test_details_are_read_by_offset_and_filters_keep_missing_values(
        rec: Callable[..., dict[str, Any]], make_result: Callable[..., AuditResult]) -> None:
    rows = [rec("i-1", tags={"Team": "ml"}, options=[OPTION], evidence={"capacity": {"vcpus": 16.0}, "note": "é"}),
            rec("i-2", account="", confidence="low", tags={}, evidence={"x": "</script><b>"})]
    features = pd.DataFrame({"vcpus": [16.0, 4.0], "cpu_forecast": [20.0, None], "cpu_upper": [22.0, None],
                             "cpu_trend_used": [0.0, None]}, index=pd.Index(["i-1", "i-2"], name="resource_id"))
    result = make_result(rows, features=features)
    series = EncodedSeries(index={"i-1": {"at": [1, 4], "step": 3600, "means": True, "metrics": [], "scales": []}})
    records = page_records(result, series, "team")
    details = unpack_array(records.details, records.packing)
    for text in (records.details, records.rows_text, records.packing):
        assert text.isascii() and not set("<>&") & set(text)
    assert unpack_array(records.rows_text, records.packing) == records.rows
    for row, expected in zip(records.rows, details, strict=True):
        offset, length = row["d"]
        assert unpack_text(records.details[offset:offset + length], records.packing) == expected
    first, second = details
    assert first["evidence"]["note"] == "é" and second["evidence"]["x"] == "</script><b>"
    assert first["series"]["step"] == 3600 and second["series"] is None
    assert first["targets"]["cpu"]["percent"] == 25.0
    assert first["forecast"]["cpu"]["forecast"] == [20.0, 20.0] and second["forecast"] == {}
    assert records.window_end == int(pd.Timestamp("2026-01-15", tz="UTC").timestamp())
    assert [row["group"] for row in records.rows] == ["ml", None]
    assert records.rows[0]["target_risk"] == 1 and records.rows[1]["target_risk"] is None
    menus = {menu["key"]: menu for menu in records.filters}
    assert menus["group"]["values"] == ["ml", None] and menus["group"]["none"] == "(untagged)"
    assert menus["account"]["values"] == ["111122223333", None]
    assert menus["confidence"]["values"] == ["high", "low"]


def test_csv_columns_name_a_table_row_key_for_every_export_column(
        rec: Callable[..., dict[str, Any]], make_result: Callable[..., AuditResult]) -> None:
    row = page_records(make_result([rec("i-1")]), EncodedSeries(), "team").rows[0]
    assert csv_columns() == list(MAIN_CSV_COLUMNS)
    assert all(column in row for column in csv_columns())
