"""Fixtures for the report tests: a builder of hand-made audit results and one headless Chromium per session."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import Browser, sync_playwright

from advisor.model import SKIPPED_COLUMNS, AuditResult
from advisor.results import RECOMMENDATION_FIELDS, Recommendation

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

MakeResult = Callable[..., AuditResult]


def _install_chromium() -> None:
    """On a fresh CI machine running as root, install Debian's chromium; anywhere else, fail clearly."""
    if CHROMIUM.exists():
        return
    if os.geteuid() != 0:
        pytest.fail(f"{CHROMIUM} is missing and this process is not root: install it with "
                    "`sudo apt-get install -y chromium` to run the report browser tests", pytrace=False)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` failed while installing {CHROMIUM} for the report browser tests:\n"
                        f"{done.stderr[-2000:]}", pytrace=False)
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} still does not exist", pytrace=False)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    _install_chromium()
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
