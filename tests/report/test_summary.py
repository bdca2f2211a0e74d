"""summarize(): the figures every output shows, on small hand-built audit results."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from advisor.report.summary import TOP_N, summarize

Rec = Callable[..., dict[str, Any]]


def test_totals_spend_and_annual(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [
        rec("i-1", monthly_cost_now=280.32, monthly_savings=140.16),
        rec("i-2", monthly_cost_now=560.64, monthly_savings=420.48, region="eu-west-1"),
    ]
    features = pd.DataFrame({"monthly_cost": [100.0, 50.5, None, 999.0]},
                            index=pd.Index(["i-3", "i-4", "i-5", "i-1"], name="resource_id"))
    summary = summarize(make_result(rows, features=features))
    assert summary["total_monthly_savings"] == 560.64
    assert summary["total_annual_savings"] == 6727.68
    # i-1 and i-2 from the recommendations, i-3 and i-4 from features; i-5 has no price; i-1 is not counted twice
    assert summary["monthly_spend_covered"] == 280.32 + 560.64 + 100.0 + 50.5
    assert summary["recommendations"] == 2
    assert summary["savings_by_region"] == {"eu-west-1": 420.48, "us-east-1": 140.16}
    assert summary["price_list_date"] == "2026-01-15"
    assert summary["window_start"] == "2026-01-01T00:00:00+00:00"
    assert summary["window_end"] == "2026-01-15T00:00:00+00:00"
    json.dumps(summary)  # plain JSON values only


def test_negative_savings_are_cost_increases_not_netted(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [
        rec("i-1", monthly_savings=100.0),
        rec("i-2", action="upsize", monthly_cost_now=140.16, monthly_cost_after=280.32, monthly_savings=-140.16),
        rec("ep-1", action="add-instance", rule="sagemaker-single-instance", monthly_savings=-167.9),
    ]
    summary = summarize(make_result(rows))
    assert summary["total_monthly_savings"] == 100.0
    assert summary["cost_increases"] == {"monthly": 308.06, "count": 2}
    assert summary["savings_by_action"] == {"downsize": 100.0}
    assert summary["resources_with_savings"] == 1
    assert [row["resource_id"] for row in summary["top_savings"]] == ["i-1"]


def test_savings_by_action_account_and_confidence(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [
        rec("i-1", action="downsize", monthly_savings=10.10, confidence="high", account="A"),
        rec("i-2", action="downsize", monthly_savings=20.20, confidence="low", account="B"),
        rec("vol-1", kind="ebs_volume", action="migrate-gp3", monthly_savings=5.05, confidence="high", account="A"),
        rec("i-3", action="spot", monthly_savings=30.0, confidence=None, account=None),
        rec("i-4", action="terminate", monthly_savings=float("nan")),
    ]
    summary = summarize(make_result(rows))
    assert summary["savings_by_action"] == {"downsize": 30.3, "spot": 30.0, "migrate-gp3": 5.05}
    assert list(summary["savings_by_action"]) == ["downsize", "spot", "migrate-gp3"]  # largest first
    assert summary["savings_by_account"] == {"unknown": 30.0, "B": 20.2, "A": 15.15}
    assert summary["savings_by_confidence"] == {"high": 15.15, "unknown": 30.0, "low": 20.2}
    assert sum(summary["savings_by_action"].values()) == pytest.approx(summary["total_monthly_savings"])


def test_alternatives_on_one_resource_count_once(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [
        rec("i-1", action="downsize", monthly_savings=140.16),
        rec("i-1", action="spot", rule="ec2-spot-candidate", monthly_savings=196.22),
        rec("i-2", action="downsize", monthly_savings=50.0),
    ]
    summary = summarize(make_result(rows))
    assert summary["total_monthly_savings"] == 246.22
    assert summary["savings_by_action"] == {"spot": 196.22, "downsize": 50.0}
    assert summary["overlapping_findings"] == 1
    assert summary["recommendations"] == 3
    assert summary["monthly_spend_covered"] == 280.32 * 2


def test_money_is_rounded_to_cents(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [rec(f"i-{n}", monthly_savings=0.1, monthly_cost_now=1 / 3) for n in range(3)]
    summary = summarize(make_result(rows))
    assert summary["total_monthly_savings"] == 0.3
    assert summary["total_annual_savings"] == 3.6
    assert summary["monthly_spend_covered"] == 1.0
    assert summary["savings_by_action"] == {"downsize": 0.3}


def test_counts_estimates_problems_and_top_list(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [rec(f"i-{n:02d}", monthly_savings=float(n + 1), price_estimated=(n == 3)) for n in range(12)]
    inventory = pd.DataFrame({"resource_id": [f"i-{n:02d}" for n in range(12)] + ["i-skip", "i-quiet"]})
    skipped = [{"resource_id": "i-skip", "kind": "ec2_instance", "region": "us-east-1", "name": "x",
                "reason": "only 3 h of data"}]
    summary = summarize(make_result(rows, inventory=inventory, skipped=skipped, problems=["throttled"]))
    assert summary["resources_analysed"] == 13
    assert summary["resources_skipped"] == 1
    assert summary["prices_estimated"] is True
    assert summary["problems"] == ["throttled"]
    top = summary["top_savings"]
    assert len(top) == TOP_N
    assert [row["monthly_savings"] for row in top] == [float(n) for n in range(12, 2, -1)]


def test_empty_audit(make_result: Callable[..., Any]) -> None:
    summary = summarize(make_result([]))
    assert summary["total_monthly_savings"] == 0.0
    assert summary["monthly_spend_covered"] == 0.0
    assert summary["cost_increases"] == {"monthly": 0.0, "count": 0}
    assert summary["savings_by_action"] == {}
    assert summary["top_savings"] == []
    assert summary["prices_estimated"] is False
    assert summary["recommendations"] == 0
