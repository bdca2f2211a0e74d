"""The HTML report opened in headless Chromium: self-contained, escaped, and its table and charts work."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, Route

from advisor.model import AuditResult
from advisor.report.html import render_html, write_html
from advisor.report.summary import summarize

XSS_NAME = "<script>window.__xss=1</script>"
XSS_TAG = '"><img src=x onerror="window.__xss=2">'
SKIPPED_NAME = "<b>not bold</b>"


def _evidence(p99: float) -> dict[str, Any]:
    return {
        "window": "2026-01-01 → 2026-01-15 (14 days)",
        "datapoints": {"cpu": 4032, "memory": 4032},
        "coverage": 0.99,
        "stats": {"cpu": {"p50": 5.0, "p95": 12.0, "p99": p99, "max": 31.0},
                  "memory": {"p50": 30.0, "p95": 35.0, "p99": 38.0, "max": 41.0}},
        "forecast": {"cpu": {"trend_per_day": 0.1, "forecast": 22.0, "upper": 25.0}},
        "rule": "ec2-overprovisioned",
        "thresholds": {"cpu_p99": "< 40", "memory_p99": "< 60"},
        "notes": ["memory from the CloudWatch agent", "no rising trend"],
    }


def _option(rank: int, instance_type: str, monthly_cost: float, savings: float) -> dict[str, Any]:
    label = ["same family", "other family", "Graviton"][rank - 1]
    return {"rank": rank, "instance_type": instance_type, "label": label,
            "hourly_price": round(monthly_cost / 730, 4), "monthly_cost": monthly_cost, "monthly_savings": savings,
            "projected_utilization": {"cpu": 55.0, "memory": 40.0}, "risk": rank}


def _metrics(ids: list[str], start: pd.Timestamp) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    stamps = pd.date_range(start, periods=3 * 288, freq="5min")
    frames = []
    for n, resource_id in enumerate(ids):
        for metric, level in (("cpu", 8.0 + 5 * n), ("memory", 35.0)):
            daily = np.sin(np.arange(len(stamps)) / 288 * 2 * np.pi) * 4
            values = np.clip(level + daily + rng.normal(0, 2, len(stamps)), 0, 100)
            frames.append(pd.DataFrame({"resource_id": resource_id, "metric": metric, "timestamp": stamps,
                                        "value": values}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def result(rec: Callable[..., dict[str, Any]], make_result: Callable[..., AuditResult]) -> AuditResult:
    rows = [
        rec("i-0bbb", name="trainer-gpu", region="us-west-2", kind="ec2_instance", rule="gpu-underused",
            action="rightsize-gpu", current="g5.4xlarge", target="g5.xlarge", monthly_cost_now=1189.90,
            monthly_cost_after=734.38, monthly_savings=455.52, confidence="medium", risk=2, price_estimated=True,
            tags={"Name": "trainer-gpu", "team": "research"}, evidence=_evidence(20.0),
            options=[_option(1, "g5.xlarge", 734.38, 455.52), _option(2, "g6.xlarge", 587.65, 602.25)],
            projected_utilization={"cpu": 60.0, "memory": 45.0}),
        rec("i-0aaa", name=XSS_NAME, current="m5.4xlarge", target="m5.xlarge", monthly_cost_now=560.64,
            monthly_cost_after=140.16, monthly_savings=420.48, tags={"Name": XSS_NAME, "team": XSS_TAG},
            evidence=_evidence(20.0), options=[_option(1, "m5.xlarge", 140.16, 420.48)],
            projected_utilization={"cpu": 55.0, "memory": 40.0},
            rationale="CPU p99 20 % and memory p99 38 % over 14 days; the forecast stays below 25 %."),
        rec("i-0ddd", name="batch-worker", action="spot", rule="ec2-spot-candidate", current="c5.xlarge",
            target="c5.xlarge (spot)", monthly_cost_now=124.10, monthly_cost_after=49.64, monthly_savings=74.46,
            account="444455556666", tags={"team": "etl"}, evidence=_evidence(35.0)),
        rec("vol-0ccc", kind="ebs_volume", name="data-volume", action="migrate-gp3", rule="ebs-gp2-to-gp3",
            current="gp2 500 GiB", target="gp3 500 GiB", monthly_cost_now=50.0, monthly_cost_after=40.0,
            monthly_savings=10.0, projected_utilization={}, evidence={"rule": "ebs-gp2-to-gp3"}),
        rec("ep-inference", kind="sagemaker_endpoint", name="inference-ep", action="add-instance",
            rule="sagemaker-single-instance", current="1 × ml.m5.xlarge", target="2 × ml.m5.xlarge",
            monthly_cost_now=167.90, monthly_cost_after=335.80, monthly_savings=-167.90, confidence="high",
            risk=0, severity="high", evidence={"rule": "sagemaker-single-instance", "notes": ["one AZ"]}),
    ]
    ids = [row["resource_id"] for row in rows]
    inventory = pd.DataFrame({"resource_id": [*ids, "i-0skip", "i-0idle"],
                              "kind": ["ec2_instance", "ec2_instance", "ec2_instance", "ebs_volume",
                                       "sagemaker_endpoint", "ec2_instance", "ec2_instance"]})
    features = pd.DataFrame(
        {"cpu_p99": [20.0, 20.0, 35.0, None, 48.0, None, 3.0],
         "monthly_cost": [1189.90, 560.64, 124.10, 50.0, 167.90, None, 70.08]},
        index=pd.Index([*ids, "i-0skip", "i-0idle"], name="resource_id"))
    skipped = [{"resource_id": "i-0skip", "kind": "ec2_instance", "region": "us-east-1", "name": SKIPPED_NAME,
                "reason": "only 6 hours of CPU data (needs 30 h)"}]
    return make_result(
        rows, skipped=skipped, inventory=inventory, features=features,
        metrics=_metrics(["i-0aaa", "i-0bbb", "i-0ddd"], pd.Timestamp("2026-01-12", tz="UTC")),
        problems=["CloudWatch throttled GetMetricData in eu-west-1 <retried 3 times>"],
        rules=[{"id": "ec2-overprovisioned", "title": "Over-provisioned EC2", "kind": "ec2_instance",
                "action": "downsize", "condition": "cpu_p99 < 40 and memory_p99 < 60"}],
    )


@pytest.fixture(scope="module")
def report(result: AuditResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_html(result, tmp_path_factory.mktemp("html") / "report.html")


class Opened:
    """A page showing a report, with what the browser reported while loading and using it."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url
        self.errors: list[str] = []
        self.requests: list[str] = []

    def visible_ids(self) -> list[str]:
        return self.page.locator("#rec-body tr.rec td:nth-child(2)").all_text_contents()


@contextmanager
def open_report(browser: Browser, path: Path) -> Iterator[Opened]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    view = Opened(page, path.as_uri())

    def record(route: Route) -> None:
        view.requests.append(route.request.url)
        if route.request.url == view.url:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", record)
    page.on("request", lambda request: view.requests.append(request.url))
    page.on("console", lambda message: view.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: view.errors.append(str(error)))
    page.goto(view.url)
    page.wait_for_selector("#rec-table[data-ready]")
    try:
        yield view
    finally:
        context.close()


@pytest.fixture
def opened(chromium: Browser, report: Path) -> Iterator[Opened]:
    with open_report(chromium, report) as view:
        yield view


def test_html_is_self_contained_and_data_blocks_are_escaped(result: AuditResult) -> None:
    text = render_html(result)
    assert text.count("* plotly.js v") == 1
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", text, re.IGNORECASE)
    blocks = re.findall(r'<script type="application/json" id="([\w-]+)">(.*?)</script>', text, re.DOTALL)
    assert {name for name, _ in blocks} == {"report-meta", "report-recs", "report-charts", "report-series"}
    for _, body in blocks:
        assert not set("<>&") & set(body)
        json.loads(body)
    assert XSS_NAME not in text and SKIPPED_NAME not in text
    assert "&lt;b&gt;not bold&lt;/b&gt;" in text


def test_no_errors_and_no_network(opened: Opened) -> None:
    opened.page.locator("#rec-body tr.rec").first.locator(".toggle").click()
    opened.page.wait_for_selector("tr.details .js-plotly-plot")
    assert opened.errors == []
    assert set(opened.requests) == {opened.url}


def test_header_cards_and_sections(opened: Opened, result: AuditResult) -> None:
    page = opened.page
    summary = summarize(result)
    shown = page.locator("#card-monthly-savings").inner_text()
    assert float(re.sub(r"[$,]", "", shown)) == summary["total_monthly_savings"] == 960.46
    assert page.locator("#card-annual-savings").inner_text() == "$11,525.52"
    assert page.locator("#card-cost-increases").inner_text() == "+$167.90"
    assert "prices as of 2026-01-15" in page.locator(".page-header").inner_text()
    assert "Some prices are estimated" in page.locator("main").inner_text()
    assert page.locator("#problems li").all_text_contents() == [result.problems[0]]
    assert page.locator("#skipped tbody td").nth(1).inner_text() == SKIPPED_NAME
    assert page.locator("#rules tbody td").first.inner_text() == "ec2-overprovisioned"
    for chart in ("by-action", "by-region", "cost", "cpu"):
        assert page.locator(f"#chart-{chart} .js-plotly-plot").count() == 1


def test_estimated_prices_are_marked(opened: Opened) -> None:
    row = opened.page.locator("#rec-body tr.rec", has_text="i-0bbb")
    assert row.locator("td.savings .est").inner_text() == "est."
    assert opened.page.locator("#rec-body tr.rec", has_text="i-0aaa").locator(".est").count() == 0


def test_filter_by_text_and_action(opened: Opened) -> None:
    page = opened.page
    assert opened.visible_ids() == ["i-0bbb", "i-0aaa", "i-0ddd", "vol-0ccc", "ep-inference"]
    page.fill("#filter-text", "research")  # a tag value
    assert opened.visible_ids() == ["i-0bbb"]
    page.fill("#filter-text", "")
    page.select_option("#filter-action", "downsize")
    assert opened.visible_ids() == ["i-0aaa"]
    page.select_option("#filter-action", "")
    page.fill("#filter-text", "us-east-1 gp3")
    assert opened.visible_ids() == ["vol-0ccc"]
    page.select_option("#filter-action", "spot")
    assert opened.visible_ids() == []
    assert page.locator("#rec-empty").is_visible()
    assert page.locator("#row-count").inner_text() == "showing 0 of 0 matching (5 recommendations)"


def test_sort_by_clicking_headers(opened: Opened) -> None:
    page = opened.page
    page.click("#rec-table th[data-key=resource_id] button")
    assert opened.visible_ids() == ["ep-inference", "i-0aaa", "i-0bbb", "i-0ddd", "vol-0ccc"]
    assert page.get_attribute("#rec-table th[data-key=resource_id]", "aria-sort") == "ascending"
    page.click("#rec-table th[data-key=resource_id] button")
    assert opened.visible_ids() == ["vol-0ccc", "i-0ddd", "i-0bbb", "i-0aaa", "ep-inference"]
    page.click("#rec-table th[data-key=savings] button")  # money sorts largest first
    assert opened.visible_ids() == ["i-0bbb", "i-0aaa", "i-0ddd", "vol-0ccc", "ep-inference"]
    page.click("#rec-table th[data-key=savings] button")
    assert opened.visible_ids() == ["ep-inference", "vol-0ccc", "i-0ddd", "i-0aaa", "i-0bbb"]
    page.click("#rec-table th[data-key=cost_now] button")
    assert opened.visible_ids() == ["i-0bbb", "i-0aaa", "ep-inference", "i-0ddd", "vol-0ccc"]


def test_expanding_shows_evidence_options_and_drill_down_chart(opened: Opened) -> None:
    page = opened.page
    page.locator("#rec-body tr.rec", has_text="i-0bbb").locator(".toggle").click()
    details = page.locator("tr.details:not(.collapsed)")
    details.locator(".js-plotly-plot").wait_for()
    text = details.inner_text()
    for expected in ("Percentiles per metric", "Forecast per metric", "cpu_p99", "< 40", "no rising trend",
                     "99 %", "g6.xlarge", "$602.25", "cpu 55 % · memory 40 %", "team = research"):
        assert expected in text
    assert details.locator(".js-plotly-plot .scatterlayer .trace").count() == 4  # cpu, memory × max, mean
    page.locator("#rec-body tr.rec", has_text="i-0bbb").locator(".toggle").click()
    assert page.locator("tr.details:not(.collapsed)").count() == 0


def test_resource_without_samples_says_so(opened: Opened) -> None:
    opened.page.locator("#rec-body tr.rec", has_text="vol-0ccc").locator(".toggle").click()
    assert "No utilization samples" in opened.page.locator("tr.details:not(.collapsed)").inner_text()


def test_hostile_names_and_tags_stay_text(opened: Opened) -> None:
    page = opened.page
    row = page.locator("#rec-body tr.rec", has_text="i-0aaa")
    assert row.locator("td.name").inner_text() == XSS_NAME
    row.locator(".toggle").click()
    details = page.locator("tr.details:not(.collapsed)")
    details.locator(".js-plotly-plot").wait_for()
    assert f"team = {XSS_TAG}" in details.inner_text()
    assert XSS_NAME in page.locator("#chart-cost").inner_text()  # chart labels shown as typed
    page.fill("#filter-text", "onerror")
    assert opened.visible_ids() == ["i-0aaa"]
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img").count() == 0
    assert opened.errors == []


def test_print_layout_hides_filters_and_shows_details(opened: Opened) -> None:
    page = opened.page
    row = page.locator("#rec-body tr.rec", has_text="i-0ddd")
    row.locator(".toggle").click()
    row.locator(".toggle").click()  # opened, then closed again
    details = page.locator(f"tr.details[data-i='{row.get_attribute('data-i')}']")
    assert not details.is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".filters").is_visible()
    assert details.is_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).boxShadow") == "none"


def test_long_tables_are_paged(chromium: Browser, rec: Callable[..., dict[str, Any]],
                               make_result: Callable[..., AuditResult], tmp_path: Path) -> None:
    rows = [rec(f"i-{n:05d}", name=f"worker-{n}", monthly_savings=float(1000 - n),
                action="spot" if n % 3 == 0 else "downsize") for n in range(450)]
    with open_report(chromium, write_html(make_result(rows), tmp_path / "long.html")) as view:
        page = view.page
        assert len(view.visible_ids()) == 200
        assert page.locator("#row-count").inner_text() == "showing 200 of 450"
        page.fill("#filter-text", "worker-449")  # far beyond the first page
        assert view.visible_ids() == ["i-00449"]
        page.fill("#filter-text", "")
        page.click("#show-more")
        assert len(view.visible_ids()) == 400
        page.click("#show-all")
        assert len(view.visible_ids()) == 450
        assert not page.locator("#rec-more").is_visible()
        page.select_option("#filter-action", "spot")
        assert len(view.visible_ids()) == 150
        page.click("#rec-table th[data-key=resource_id] button")
        assert view.visible_ids()[:2] == ["i-00000", "i-00003"]
        assert view.errors == []


def test_ten_thousand_recommendations_stay_usable(chromium: Browser, rec: Callable[..., dict[str, Any]],
                                                  make_result: Callable[..., AuditResult], tmp_path: Path) -> None:
    n = 10_000
    rows = [rec(f"i-{k:017x}", name=f"worker-{k}", monthly_savings=float(k % 900 + 1), evidence=_evidence(20.0),
                options=[_option(1, "m5.xlarge", 140.16, 420.48), _option(2, "c5.xlarge", 124.10, 436.54)],
                tags={"team": f"team-{k % 40}"}) for k in range(n)]
    stamps = pd.date_range("2026-01-08", periods=7 * 24, freq="h", tz="UTC")
    ids = np.array([row["resource_id"] for row in rows])
    metrics = pd.DataFrame({
        "resource_id": np.repeat(ids, 2 * len(stamps)),
        "metric": pd.Categorical(np.tile(np.repeat(["cpu", "memory"], len(stamps)), n)),
        "timestamp": np.tile(np.tile(stamps, 2), n),
        "value": np.random.default_rng(3).uniform(0, 60, 2 * n * len(stamps)),
    })
    path = write_html(make_result(rows, metrics=metrics), tmp_path / "fleet.html")
    with open_report(chromium, path) as view:
        page = view.page
        assert page.locator("#rec-body tr.rec").count() == 200  # the DOM holds one page, not 10,000 rows
        page.fill("#filter-text", "worker-9999")
        assert view.visible_ids() == [rows[-1]["resource_id"]]
        page.locator("#rec-body .toggle").click()
        page.locator("tr.details .js-plotly-plot").wait_for()
        assert page.locator("tr.details .js-plotly-plot").count() == 1  # one figure drawn, on demand
        assert view.errors == []
