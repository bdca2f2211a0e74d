"""summarize(): the figures every output shows, on small hand-built audit results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from advisor.report.summary import TOP_N, UNTAGGED, group_reasons, head_and_rest, summarize, tag_value

Rec = Callable[..., dict[str, Any]]


def test_totals_spend_and_annual(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [
        rec("i-1", monthly_cost_now=280.32, monthly_savings=140.16),
        rec("i-2", monthly_cost_now=560.64, monthly_savings=420.48, region="eu-west-1"),
    ]
    features = pd.DataFrame({"monthly_cost": [100.0, 50.5, None, 999.0]},
                            index=pd.Index(["i-3", "i-4", "i-5", "i-1"], name="resource_id"))
    summary = summarize(make_result(rows, features=features)).model_dump()
    assert summary["total_monthly_savings"] == 560.64
    assert summary["total_annual_savings"] == 6727.68
    # i-1 and i-2 from the recommendations, i-3 and i-4 from features; i-5 has no price; i-1 is not counted twice
    assert summary["monthly_spend_covered"] == 280.32 + 560.64 + 100.0 + 50.5
    assert summary["recommendations"] == 2
    assert summary["savings_by_region"] == {"eu-west-1": 420.48, "us-east-1": 140.16}
    assert summary["price_list_date"] == "2026-01-15"
    assert summary["window_start"] == "2026-01-01T00:00:00+00:00"
    assert summary["window_end"] == "2026-01-15T00:00:00+00:00"


def test_negative_savings_are_cost_increases_not_netted(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [
        rec("i-1", monthly_savings=100.0),
        rec("i-2", action="upsize", monthly_cost_now=140.16, monthly_cost_after=280.32, monthly_savings=-140.16),
        rec("ep-1", action="add-instance", rule="sagemaker-single-instance", monthly_savings=-167.9),
    ]
    summary = summarize(make_result(rows)).model_dump()
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
        rec("i-3", action="spot", monthly_savings=30.0, confidence="medium", account="C"),
        rec("i-4", action="terminate", monthly_savings=float("nan")),
    ]
    summary = summarize(make_result(rows)).model_dump()
    assert summary["savings_by_action"] == {"downsize": 30.3, "spot": 30.0, "migrate-gp3": 5.05}
    assert list(summary["savings_by_action"]) == ["downsize", "spot", "migrate-gp3"]  # largest first
    assert summary["savings_by_account"] == {"C": 30.0, "B": 20.2, "A": 15.15}
    assert summary["savings_by_confidence"] == {"high": 15.15, "medium": 30.0, "low": 20.2}
    assert sum(summary["savings_by_action"].values()) == pytest.approx(summary["total_monthly_savings"])


def test_alternatives_on_one_resource_count_once(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [
        rec("i-1", action="downsize", monthly_savings=140.16),
        rec("i-1", action="spot", rule="ec2-spot-candidate", monthly_savings=196.22),
        rec("i-2", action="downsize", monthly_savings=50.0),
    ]
    summary = summarize(make_result(rows)).model_dump()
    assert summary["total_monthly_savings"] == 246.22
    assert summary["savings_by_action"] == {"spot": 196.22, "downsize": 50.0}
    assert summary["overlapping_findings"] == 1
    assert summary["recommendations"] == 3
    assert summary["monthly_spend_covered"] == 280.32 * 2


def test_money_is_rounded_to_cents(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [rec(f"i-{n}", monthly_savings=0.1, monthly_cost_now=1 / 3) for n in range(3)]
    summary = summarize(make_result(rows)).model_dump()
    assert summary["total_monthly_savings"] == 0.3
    assert summary["total_annual_savings"] == 3.6
    assert summary["monthly_spend_covered"] == 1.0
    assert summary["savings_by_action"] == {"downsize": 0.3}


def test_counts_estimates_problems_and_top_list(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [rec(f"i-{n:02d}", monthly_savings=float(n + 1), price_estimated=(n == 3)) for n in range(12)]
    inventory = pd.DataFrame({"resource_id": [f"i-{n:02d}" for n in range(12)] + ["i-skip", "i-quiet"]})
    skipped = [{"resource_id": "i-skip", "kind": "ec2_instance", "region": "us-east-1", "name": "x",
                "reason": "only 3 h of data"}]
    result = make_result(rows, inventory=inventory, skipped=skipped, problems=["throttled"])
    summary = summarize(result).model_dump()
    assert summary["resources_analysed"] == 13
    assert summary["resources_skipped"] == 1
    assert summary["prices_estimated"] is True
    assert summary["problems"] == ["throttled"]
    top = summary["top_savings"]
    assert len(top) == TOP_N
    assert [row["monthly_savings"] for row in top] == [float(n) for n in range(12, 2, -1)]


def test_empty_audit(make_result: Callable[..., Any]) -> None:
    summary = summarize(make_result([])).model_dump()
    assert summary["total_monthly_savings"] == 0.0
    assert summary["monthly_spend_covered"] == 0.0
    assert summary["cost_increases"] == {"monthly": 0.0, "count": 0}
    assert summary["savings_by_action"] == {}
    assert summary["top_savings"] == []
    assert summary["prices_estimated"] is False
    assert summary["recommendations"] == 0


def test_savings_by_a_chosen_tag(rec: Rec, make_result: Callable[..., Any]) -> None:
    rows = [
        rec("i-1", monthly_savings=10.0, tags={"team": "ml", "cost-centre": "CC-1"}),
        rec("i-2", monthly_savings=30.0, tags={"Team": "web"}),  # the key is matched ignoring case
        rec("i-3", monthly_savings=5.0, tags={}),
        rec("i-4", monthly_savings=-50.0, tags={"team": "ml"}),  # a cost increase: not a saving
    ]
    result = make_result(rows)
    summary = summarize(result).model_dump()
    assert summary["group_tag"] == "team"
    assert summary["savings_by_tag"] == {"web": 30.0, "ml": 10.0, UNTAGGED: 5.0}
    assert summarize(result, "cost-centre").model_dump()["savings_by_tag"] == {UNTAGGED: 35.0, "CC-1": 10.0}
    assert sum(summary["savings_by_tag"].values()) == summary["total_monthly_savings"]


def test_tag_value_prefers_the_exact_key() -> None:
    assert tag_value({"team": "a", "Team": "b"}, "Team") == "b"
    assert tag_value({"TEAM": "a"}, "team") == "a"
    assert tag_value({}, "team") is None
    assert tag_value(None, "team") is None


def test_coverage_share_median_and_by_kind(rec: Rec, make_result: Callable[..., Any]) -> None:
    features = pd.DataFrame({"kind": ["ec2_instance"] * 3 + ["ebs_volume"],
                             "coverage": [1.0, 0.95, 0.5, None]},
                            index=pd.Index(["i-1", "i-2", "i-3", "vol-1"], name="resource_id"))
    coverage = summarize(make_result([], features=features)).model_dump()["coverage"]
    assert coverage["share_well_covered"] == 0.5
    assert coverage["median"] == 0.725
    assert coverage["without_metrics"] == 1
    assert coverage["by_kind"]["ec2_instance"] == {"resources": 3, "without_metrics": 0,
                                                   "share_well_covered": 0.6667, "median": 0.95}
    assert coverage["by_kind"]["ebs_volume"]["median"] == 0.0
    assert summarize(make_result([])).model_dump()["coverage"] is None  # no features: nothing to say


def test_skipped_reasons_and_problems_are_grouped(rec: Rec, make_result: Callable[..., Any]) -> None:
    skipped = [{"resource_id": f"i-{n}", "kind": "ec2_instance", "region": "us-east-1", "name": "x",
                "reason": f"only {hours} hours of metrics (at least 30 needed)"}
               for n, hours in enumerate((3, 12.5, 7))]
    skipped.append({"resource_id": "i-9", "kind": "ec2_instance", "region": "us-east-1", "name": "y",
                    "reason": "instance type m5.xlarge is not in the catalog"})
    problems = ["eu-west-1: AccessDenied", "eu-west-1: AccessDenied"]
    summary = summarize(make_result([], skipped=skipped, problems=problems)).model_dump()
    assert summary["skipped_reasons"] == [
        {"reason": "only 3–12.5 hours of metrics (at least 30 needed)", "count": 3, "examples": ["i-0", "i-1", "i-2"]},
        {"reason": "instance type m5.xlarge is not in the catalog", "count": 1, "examples": ["i-9"]},
    ]
    assert summary["problem_groups"] == [{"reason": "eu-west-1: AccessDenied", "count": 2, "examples": []}]
    assert group_reasons([("a", "type g5.4xlarge unknown"), ("b", "type g6.4xlarge unknown")])[0].count == 1


def test_head_and_rest() -> None:
    breakdown = {"a": 5.0, "b": 3.0, "c": 1.0, "d": 0.5}
    assert head_and_rest(breakdown, 2) == [("a", 5.0, 1), ("b", 3.0, 1), ("", 1.5, 2)]
    assert head_and_rest(breakdown, 3) == [("a", 5.0, 1), ("b", 3.0, 1), ("c", 1.0, 1), ("d", 0.5, 1)]
