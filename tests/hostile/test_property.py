"""Property: any inventory and metrics the documented schema allows (extreme floats, empty strings, odd
timestamps, unknown names) gives exit code 0 or 2 with a readable message, never a traceback."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from hostile.fleet import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.model import Kind, Metric

IDS = ["i-1", "i-2", "vol-1", "ep-1", ""]
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10, 10**6).map(str),
                    st.sampled_from(["", "1e308", "-0", "abc", " 7 "]))
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
TIMES = st.one_of(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC))
                  .map(lambda t: t.isoformat()),
                  st.datetimes(min_value=datetime(2026, 11, 1), max_value=datetime(2026, 11, 15),
                               timezones=st.just(UTC)).map(lambda t: t.isoformat()),
                  st.sampled_from(["", "yesterday", "2026-13-01T00:00:00Z", "0"]))
INVENTORY_ROW = st.fixed_dictionaries({
    "resource_id": st.sampled_from(IDS),
    "kind": st.sampled_from([*(k.value for k in Kind), "lambda", ""]),
    "region": st.sampled_from(["us-east-1", "eu-west-1", "", "mars-1"]),
    "name": TEXT,
    "instance_type": st.sampled_from(["m5.large", "ml.m5.xlarge", "p3.2xlarge", "t9.huge", ""]),
    "count": NUMBERS,
    "state": st.sampled_from(["running", "stopped", "", "InService"]),
    "tags": st.sampled_from(["", "{bad", '{"team": "ml"}', "team=ml;x", "[1]"]),
    "volume_type": st.sampled_from(["gp2", "gp3", "gp4", ""]),
    "size_gib": NUMBERS,
    "iops": NUMBERS,
    "min_count": NUMBERS,
    "max_count": NUMBERS,
    "managed_spot": st.sampled_from(["True", "false", "", "maybe"]),
    "billable_seconds": NUMBERS,
})
METRIC_ROW = st.fixed_dictionaries({
    "resource_id": st.sampled_from([*IDS, "ghost"]),
    "metric": st.sampled_from([*(m.value for m in Metric), "disk", ""]),
    "timestamp": TIMES,
    "value": NUMBERS,
})


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # examples: tests/conftest.py
@given(inventory=st.lists(INVENTORY_ROW, min_size=1, max_size=4),
       metrics=st.lists(METRIC_ROW, min_size=0, max_size=30))
def test_any_file_source_gives_exit_0_or_2_and_no_traceback(inventory: list[dict], metrics: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory)
        pd.DataFrame(inventory).to_csv(source / "inventory.csv", index=False, lineterminator="\r\n")
        pd.DataFrame(metrics, columns=["resource_id", "metric", "timestamp", "value"]).to_csv(
            source / "metrics.csv", index=False, lineterminator="\r\n")
        run = run_cli("recommend", "--source", f"files:{source}", "--format", "json")
    assert run.exit_code in (0, 2), (run.exit_code, run.stderr)
    assert "Traceback" not in run.stderr + run.stdout
    assert "unexpected failure" not in run.stderr, run.stderr
    if run.exit_code == 2:
        assert run.stderr.startswith("error: ") and str(source) in run.stderr, run.stderr
