"""Fixtures for the report tests: a builder of hand-made audit results and one headless Chromium per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from chromium_setup import CHROMIUM, require_chromium
from playwright.sync_api import Browser, sync_playwright

from advisor.model import SKIPPED_COLUMNS, AuditResult
from advisor.results import RECOMMENDATION_FIELDS, Recommendation

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

MakeResult = Callable[..., AuditResult]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


def recommendation(resource_id: str, **fields: Any) -> dict[str, Any]:
    """One recommendation's fields (every field of :class:`Recommendation`); ``fields`` override the defaults."""
    row: dict[str, Any] = {
        "resource_id": resource_id, "kind": "ec2_instance", "account": "111122223333", "region": "us-east-1",
        "name": resource_id, "tags": {}, "rule": "ec2-overprovisioned", "title": "Over-provisioned instance",
        "action": "downsize", "severity": "medium", "current": "m5.2xlarge", "target": "m5.xlarge",
        "monthly_cost_now": 280.32, "monthly_cost_after": 140.16, "monthly_savings": 140.16,
        "confidence": "high", "confidence_score": 0.9, "risk": 1, "projected_utilization": {"cpu": 50.0},
        "evidence": {}, "rationale": "CPU p99 stays low.", "options": [], "price_estimated": False,
        "price_list_date": "2026-01-15",
    }
    unknown = set(fields) - set(RECOMMENDATION_FIELDS)
    assert not unknown, f"not recommendation columns: {unknown}"
    row.update(fields)
    return row


def build_result(rows: list[dict[str, Any]], *, skipped: list[dict[str, Any]] | None = None,
                 inventory: pd.DataFrame | None = None, features: pd.DataFrame | None = None,
                 metrics: pd.DataFrame | None = None, problems: list[str] | None = None,
                 rules: list[dict[str, Any]] | None = None) -> AuditResult:
    recs = [Recommendation.model_validate(row) for row in rows]
    return AuditResult(
        recommendations=recs,
        skipped=pd.DataFrame(skipped or [], columns=list(SKIPPED_COLUMNS)),
        inventory=inventory if inventory is not None
        else pd.DataFrame({"resource_id": [rec.resource_id for rec in recs]}),
        features=features if features is not None else pd.DataFrame(index=pd.Index([], name="resource_id")),
        metrics=metrics if metrics is not None else pd.DataFrame(columns=["resource_id", "metric", "timestamp",
                                                                           "value"]),
        window_start=pd.Timestamp("2026-01-01", tz="UTC"),
        window_end=pd.Timestamp("2026-01-15", tz="UTC"),
        price_list_date="2026-01-15",
        source_label="files:tests",
        problems=problems or [],
        rules=rules or [],
    )


@pytest.fixture(scope="session")
def rec() -> Callable[..., dict[str, Any]]:
    return recommendation


@pytest.fixture(scope="session")
def make_result() -> MakeResult:
    return build_result
