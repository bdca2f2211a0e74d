"""The HTML report opened in headless Chromium: self-contained, escaped, and its figures, table and charts work."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, Route

from advisor.hourly import HourlyBuckets
from advisor.model import AuditResult
from advisor.report.exports import MAIN_CSV_COLUMNS, to_csv, to_json
from advisor.report.page import render_html, write_html
from advisor.report.summary import summarize

XSS_NAME = "<script>window.__xss=1</script>"
XSS_TAG = '"><img src=x onerror="window.__xss=2">'
SKIPPED_NAME = "<b>not bold</b>"
FORMULA_NAME = "=HYPERLINK(\"http://x\",\"y\")"
WINDOW_END = pd.Timestamp("2026-01-15", tz="UTC")
BLOCKS = {"report-meta", "report-recs", "report-packing", "report-charts", "report-details", "report-series"}


def _evidence(p99: float, vcpus: float = 16, memory_gib: float = 64) -> dict[str, Any]:
    return {
        "window": "2026-01-01 → 2026-01-15 (14 days)",
        "datapoints": {"cpu": 4032, "memory": 4032},
        "coverage": 0.99,
        "stats": {"cpu": {"p50": 5.0, "p95": 12.0, "p99": p99, "max": 31.0},
                  "memory": {"p50": 30.0, "p95": 35.0, "p99": 38.0, "max": 41.0}},
        "forecast": {"cpu": {"trend_per_day": 0.1, "forecast": 22.0, "upper": 25.0, "horizon_days": 30}},
        "rule": "ec2-overprovisioned",
        "rule_file": "ec2.yaml",
        "condition": "cpu_p99 < 40 and memory_p99 < 60",
        "thresholds": {"cpu_below": 40.0, "memory_below": 60.0},
        "capacity": {"vcpus": vcpus, "memory_gib": memory_gib, "gpus": None, "gpu_memory_gib": None},
        "notes": ["memory from the CloudWatch agent", "no rising trend"],
    }


def _option(rank: int, instance_type: str, monthly_cost: float, savings: float, vcpus: int = 4,
            memory_gib: float = 16.0) -> dict[str, Any]:
    label = ["same family", "other family", "Graviton"][rank - 1]
    return {"rank": rank, "instance_type": instance_type, "label": label, "vcpus": vcpus, "memory_gib": memory_gib,
            "hourly_price": round(monthly_cost / 730, 4), "monthly_cost": monthly_cost, "monthly_savings": savings,
            "projected_utilization": {"cpu": 55.0, "memory": 40.0}, "risk": rank}


def _metrics(ids: list[str], start: pd.Timestamp) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    stamps = pd.date_range(start, periods=3 * 288, freq="5min")
    frames = []
    for n, resource_id in enumerate(ids):
        for metric, level in (("cpu", 8.0 + 5 * n), ("memory", 35.0), ("network_in", 2e6)):
            daily = np.sin(np.arange(len(stamps)) / 288 * 2 * np.pi) * level / 10
            values = np.clip(level + daily + rng.normal(0, level / 20, len(stamps)), 0, None)
            frames.append(pd.DataFrame({"resource_id": resource_id, "metric": metric, "timestamp": stamps,
                                        "value": values}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def result(rec: Callable[..., dict[str, Any]], make_result: Callable[..., AuditResult]) -> AuditResult:
    rows = [
        rec("i-0bbb", name="trainer-gpu", region="us-west-2", kind="ec2_instance", rule="gpu-underused",
            action="rightsize-gpu", current="g5.4xlarge", target="g5.xlarge", monthly_cost_now=1189.90,
            monthly_cost_after=734.38, monthly_savings=455.52, confidence="medium", risk=2, price_estimated=True,
            tags={"Name": "trainer-gpu", "Team": "research"}, evidence=_evidence(20.0),
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
        rec("vol-0ccc", kind="ebs_volume", name=FORMULA_NAME, action="migrate-gp3", rule="ebs-gp2-to-gp3",
            current="gp2 500 GiB", target="gp3 500 GiB", monthly_cost_now=50.0, monthly_cost_after=40.0,
            monthly_savings=10.0, confidence="low", projected_utilization={}, evidence={"rule": "ebs-gp2-to-gp3"}),
        rec("ep-inference", kind="sagemaker_endpoint", name="inference-ep", action="add-instance",
            rule="sagemaker-single-instance", current="1 × ml.m5.xlarge", target="2 × ml.m5.xlarge",
            monthly_cost_now=167.90, monthly_cost_after=335.80, monthly_savings=-167.90, confidence="high",
            risk=0, severity="high", evidence={"rule": "sagemaker-single-instance", "notes": ["one AZ"]}),
    ]
    ids = [row["resource_id"] for row in rows]
    all_ids = [*ids, "i-0skip", "i-0skip2", "i-0idle"]
    kinds = ["ec2_instance", "ec2_instance", "ec2_instance", "ebs_volume", "sagemaker_endpoint", "ec2_instance",
             "ec2_instance", "ec2_instance"]
    inventory = pd.DataFrame({"resource_id": all_ids, "kind": kinds})
    features = pd.DataFrame(
        {"kind": kinds,
         "cpu_p99": [20.0, 20.0, 35.0, None, 48.0, None, None, 3.0],
         "memory_max": [41.0, 41.0, 50.0, None, 60.0, None, None, 10.0],
         "coverage": [1.0, 0.95, 0.5, 1.0, 1.0, 0.1, None, 0.99],
         "monthly_cost": [1189.90, 560.64, 124.10, 50.0, 167.90, None, None, 70.08],
         "vcpus": [16, 16, 4, None, 4, None, None, 2],
         "memory_gib": [64, 64, 8, None, 16, None, None, 8],
         "cpu_trend_used": [0.5, 0.0, 0.0, None, 0.0, None, None, 0.0],
         "cpu_forecast": [40.0, 21.0, 36.0, None, 48.0, None, None, 3.0],
         "cpu_upper": [46.0, 24.0, 38.0, None, 50.0, None, None, 3.5],
         "cpu_demand": [46.0, 24.0, 38.0, None, 50.0, None, None, 3.5]},
        index=pd.Index(all_ids, name="resource_id"))
    skipped = [{"resource_id": "i-0skip", "kind": "ec2_instance", "region": "us-east-1", "name": SKIPPED_NAME,
                "reason": "only 6.5 hours of metrics (at least 30 needed): no recommendation yet"},
               {"resource_id": "i-0skip2", "kind": "ec2_instance", "region": "us-east-1", "name": "new",
                "reason": "only 12 hours of metrics (at least 30 needed): no recommendation yet"}]
    return make_result(
        rows, skipped=skipped, inventory=inventory, features=features,
        metrics=_metrics(["i-0aaa", "i-0bbb", "i-0ddd"], WINDOW_END - pd.Timedelta(days=3)),
        problems=["CloudWatch throttled GetMetricData in eu-west-1 <retried 3 times>",
                  "CloudWatch throttled GetMetricData in eu-west-1 <retried 5 times>"],
        rules=[{"id": "ec2-overprovisioned", "title": "Over-provisioned EC2", "kind": "ec2_instance",
                "action": "downsize", "condition": "cpu_p99 < 40 and memory_p99 < 60"}],
    )


@pytest.fixture(scope="module")
def report(result: AuditResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_html(result, tmp_path_factory.mktemp("html") / "report.html", summarize(result))


class Opened:
    """A page showing a report, with what the browser reported while loading and using it."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url
        self.errors: list[str] = []
        self.requests: list[str] = []

    def visible_ids(self) -> list[str]:
        return self.page.locator("#rec-body tr.rec td:nth-child(2)").all_text_contents()

    def expand(self, resource_id: str) -> None:
        """Open a row's details and wait for its drill-down chart."""
        self.page.locator("#rec-body tr.rec", has_text=resource_id).locator(".toggle").click()
        self.page.locator("tr.details:not(.collapsed) .js-plotly-plot").wait_for()

    def traces(self) -> list[dict[str, Any]]:
        """Name, axes and points of every trace of the open drill-down chart."""
        return self.page.evaluate("""() => document.querySelector('tr.details:not(.collapsed) .js-plotly-plot')
            .data.map(t => ({name: t.name, xaxis: t.xaxis, yaxis: t.yaxis, x: Array.from(t.x), y: Array.from(t.y),
                             hover: t.hovertemplate}))""")


@contextmanager
def open_report(browser: Browser, path: Path) -> Iterator[Opened]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
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
    page.wait_for_selector("body[data-charts-ready]", state="attached")
    try:
        yield view
    finally:
        context.close()


@pytest.fixture(scope="module")
def shared(chromium: Browser, report: Path) -> Iterator[Opened]:
    """One page for the tests of the small report (plotly.js takes a second or two to start on a slow machine)."""
    with open_report(chromium, report) as view:
        yield view


@pytest.fixture
def opened(shared: Opened) -> Opened:
    """The shared page as it was opened: screen media, no filter, rows collapsed, sorted by savings."""
    page = shared.page
    page.emulate_media(media="screen")
    page.click("#filter-reset")
    for toggle in page.locator("#rec-body .toggle[aria-expanded=true]").all():
        toggle.click()
    while page.get_attribute("#rec-table th[data-key=monthly_savings]", "aria-sort") != "descending":
        page.click("#rec-table th[data-key=monthly_savings] button")
    return shared


def _amount(text: str) -> float:
    return float(re.sub(r"[^\d.\-]", "", text))


def _percent(share: float) -> str:
    return f"{100 * share:.1f} %"


# --- the file ------------------------------------------------------------------------------------------


def test_html_is_self_contained_and_data_blocks_are_escaped(result: AuditResult) -> None:
    text = render_html(result, summarize(result))
    assert text.count("* plotly.js v") == 1
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", text, re.IGNORECASE)
    blocks = re.findall(r'<script type="application/json" id="([\w-]+)">(.*?)</script>', text, re.DOTALL)
    assert {name for name, _ in blocks} == BLOCKS
    for _, body in blocks:
        assert not set("<>&") & set(body)
        json.loads(body)
    assert XSS_NAME not in text and SKIPPED_NAME not in text
    assert "&lt;b&gt;not bold&lt;/b&gt;" in text


def test_no_errors_and_no_network(opened: Opened) -> None:
    opened.expand("i-0bbb")
    assert opened.errors == []
    assert {url for url in opened.requests if not url.startswith("blob:")} == {opened.url}  # blob: CSV downloads


# --- summary first --------------------------------------------------------------------------------------


def test_summary_figures_equal_the_json_export(opened: Opened, result: AuditResult) -> None:
    page = opened.page
    summary = json.loads(to_json(result, summarize(result)))["summary"]
    card = {name: page.locator(f"#card-{name}").inner_text() for name in
            ("spend", "monthly-savings", "annual-savings", "recommendations", "resources-with-savings",
             "cost-increases", "resources", "skipped", "coverage-share", "coverage-median")}
    assert _amount(card["spend"]) == summary["monthly_spend_covered"]
    assert _amount(card["monthly-savings"]) == summary["total_monthly_savings"] == 960.46
    assert _amount(card["annual-savings"]) == summary["total_annual_savings"]
    assert _amount(card["cost-increases"]) == summary["cost_increases"]["monthly"] == 167.90
    assert int(card["recommendations"]) == summary["recommendations"] == 5
    assert int(card["resources-with-savings"]) == summary["resources_with_savings"]
    assert int(card["resources"]) == summary["resources_analysed"]
    assert int(card["skipped"]) == summary["resources_skipped"] == 2
    assert card["coverage-share"] == _percent(summary["coverage"]["share_well_covered"]) == "62.5 %"
    assert card["coverage-median"] == _percent(summary["coverage"]["median"])
    for key in ("savings_by_action", "savings_by_tag", "savings_by_account", "savings_by_region",
                "savings_by_confidence"):
        rows = page.locator(f"table[data-breakdown={key}] tbody tr")
        shown = {rows.nth(k).locator("td").first.inner_text(): _amount(rows.nth(k).locator("td").nth(1).inner_text())
                 for k in range(rows.count())}
        assert shown == summary[key], key
        assert list(shown) == list(summary[key]), key  # largest first
    assert summary["savings_by_tag"] == {"research": 455.52, XSS_TAG: 420.48, "etl": 74.46, "(untagged)": 10.0}
    assert summary["price_list_date"] in page.locator("#meta-price-list").inner_text()
    assert page.locator("#meta-window").inner_text() == "2026-01-01 00:00 UTC → 2026-01-15 00:00 UTC (14 days)"
    assert "prices as of 2026-01-15" in page.locator(".page-header").inner_text()


def test_what_could_not_be_analysed_is_grouped_with_reasons(opened: Opened, result: AuditResult) -> None:
    page = opened.page
    assert page.locator("#skipped-reasons tbody tr").count() == 1
    cells = page.locator("#skipped-reasons tbody td").all_inner_texts()
    assert cells == ["2", "only 6.5–12 hours of metrics (at least 30 needed): no recommendation yet",
                     "i-0skip, i-0skip2"]
    assert page.locator("#problem-groups tbody td").all_inner_texts() == [
        "2", "CloudWatch throttled GetMetricData in eu-west-1 <retried 3–5 times>"]
    assert "Some data could not be collected" in page.locator("main").inner_text()
    page.click("#skipped summary")
    assert page.locator("#skipped tbody td").nth(1).inner_text() == SKIPPED_NAME
    page.click("#problems summary")
    assert page.locator("#problems li").all_text_contents() == result.problems
    kinds = page.locator("#coverage-by-kind tbody tr")
    assert kinds.nth(0).locator("td").all_inner_texts() == ["ebs_volume", "1", "100.0 %", "100.0 %", "0"]


def test_charts_are_drawn(opened: Opened) -> None:
    page = opened.page
    for chart in ("by-action", "by-tag", "cost", "dist-cpu", "dist-memory"):
        assert page.locator(f"#chart-{chart} .js-plotly-plot").count() == 1, chart
    assert not page.locator("#chart-dist-gpu").is_visible()  # no GPU figures in this fleet: no empty panel
    tag_labels = page.evaluate("document.querySelector('#chart-by-tag .js-plotly-plot').data[0].y")
    assert tag_labels[::-1] == ["research", XSS_TAG.replace("<", "&lt;").replace(">", "&gt;"), "etl", "(untagged)"]
    assert XSS_TAG in page.locator("#chart-by-tag").inner_text()  # shown as typed
    kinds = page.evaluate("document.querySelector('#chart-dist-cpu .js-plotly-plot').data.map(t => t.name)")
    assert kinds == ["EC2 instances", "SageMaker endpoints"]  # the registry's names


def test_estimated_prices_are_marked(opened: Opened) -> None:
    row = opened.page.locator("#rec-body tr.rec", has_text="i-0bbb")
    assert row.locator("td.savings .est").inner_text() == "est."
    assert opened.page.locator("#rec-body tr.rec", has_text="i-0aaa").locator(".est").count() == 0
    assert "Some prices are estimated" in opened.page.locator("main").inner_text()


# --- the table ------------------------------------------------------------------------------------------


def _choose(page: Page, key: str, label: str) -> None:
    page.select_option(f"#filter-{key}", label=label)


def test_each_filter_narrows_the_rows(opened: Opened) -> None:
    page = opened.page
    everything = ["i-0bbb", "i-0aaa", "i-0ddd", "vol-0ccc", "ep-inference"]
    assert opened.visible_ids() == everything
    cases = [("action", "downsize", ["i-0aaa"]), ("action", "add-instance", ["ep-inference"]),
             ("account", "444455556666", ["i-0ddd"]), ("region", "us-west-2", ["i-0bbb"]),
             ("group", "research", ["i-0bbb"]), ("group", XSS_TAG, ["i-0aaa"]),
             ("group", "(untagged)", ["vol-0ccc", "ep-inference"]), ("confidence", "low", ["vol-0ccc"]),
             ("confidence", "high", ["i-0aaa", "i-0ddd", "ep-inference"])]
    for key, label, expected in cases:
        _choose(page, key, label)
        assert opened.visible_ids() == expected, (key, label)
        _choose(page, key, "all")
        assert opened.visible_ids() == everything
    page.fill("#filter-text", "etl")  # a tag value
    assert opened.visible_ids() == ["i-0ddd"]
    page.fill("#filter-text", "us-east-1 gp3")  # every word must match
    assert opened.visible_ids() == ["vol-0ccc"]
    page.fill("#filter-text", "")
    _choose(page, "confidence", "high")
    _choose(page, "account", "111122223333")  # filters combine
    assert opened.visible_ids() == ["i-0aaa", "ep-inference"]
    _choose(page, "action", "spot")
    assert opened.visible_ids() == []
    assert page.locator("#rec-empty").is_visible()
    assert page.locator("#row-count").inner_text() == "showing 0 of 0 matching (5 recommendations)"
    page.click("#filter-reset")
    assert opened.visible_ids() == everything
    assert opened.errors == []


def test_sort_by_clicking_headers(opened: Opened) -> None:
    page = opened.page

    def sort(key: str) -> list[str]:
        page.click(f"#rec-table th[data-key={key}] button")
        return opened.visible_ids()

    assert sort("resource_id") == ["ep-inference", "i-0aaa", "i-0bbb", "i-0ddd", "vol-0ccc"]
    assert page.get_attribute("#rec-table th[data-key=resource_id]", "aria-sort") == "ascending"
    assert sort("resource_id") == ["vol-0ccc", "i-0ddd", "i-0bbb", "i-0aaa", "ep-inference"]
    assert sort("monthly_savings") == ["i-0bbb", "i-0aaa", "i-0ddd", "vol-0ccc", "ep-inference"]  # largest first
    assert sort("monthly_savings") == ["ep-inference", "vol-0ccc", "i-0ddd", "i-0aaa", "i-0bbb"]
    assert sort("monthly_cost_now") == ["i-0bbb", "i-0aaa", "ep-inference", "i-0ddd", "vol-0ccc"]
    assert sort("group") == ["i-0aaa", "i-0ddd", "i-0bbb", "vol-0ccc", "ep-inference"]  # untagged last
    assert sort("confidence_rank") == ["i-0aaa", "i-0ddd", "ep-inference", "i-0bbb", "vol-0ccc"]
    _choose(page, "confidence", "high")  # sorting keeps the filter
    assert sort("resource_id") == ["ep-inference", "i-0aaa", "i-0ddd"]


def _same(shown: str, exported: str) -> bool:
    """One CSV cell of the download against the export's: numbers, JSON and text compared as such."""
    if shown == exported:
        return True
    try:
        return math.isclose(float(shown), float(exported))
    except ValueError:
        pass
    try:
        return json.loads(shown) == json.loads(exported)
    except ValueError:
        return False


def _download(page: Page) -> pd.DataFrame:
    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    assert download.suggested_filename == "recommendations-filtered.csv"
    return pd.read_csv(download.path(), dtype=str, keep_default_na=False)


def test_csv_download_has_exactly_the_filtered_rows(opened: Opened, result: AuditResult) -> None:
    page = opened.page
    exported = pd.read_csv(io.StringIO(to_csv(result)), dtype=str, keep_default_na=False).set_index("resource_id")
    assert list(MAIN_CSV_COLUMNS) == [c for c in ["resource_id", *exported.columns] if c not in ("evidence",
                                                                                              "options")]
    page.click("#rec-table th[data-key=resource_id] button")
    _choose(page, "account", "111122223333")
    shown = opened.visible_ids()
    assert shown == ["ep-inference", "i-0aaa", "i-0bbb", "vol-0ccc"]
    frame = _download(page)
    assert list(frame.columns) == list(MAIN_CSV_COLUMNS)
    assert frame["resource_id"].tolist() == shown
    for row in frame.to_dict("records"):
        expected = exported.loc[row["resource_id"]]
        for column in MAIN_CSV_COLUMNS[1:]:
            assert _same(row[column], expected[column]), (row["resource_id"], column, row[column], expected[column])
    assert frame.set_index("resource_id").loc["vol-0ccc", "name"] == "'" + FORMULA_NAME  # text in a spreadsheet
    assert frame.set_index("resource_id").loc["i-0aaa", "name"] == XSS_NAME  # quoted, not mangled
    page.fill("#filter-text", "research")
    assert _download(page)["resource_id"].tolist() == opened.visible_ids() == ["i-0bbb"]
    _choose(page, "action", "spot")
    empty = _download(page)
    assert empty.empty and list(empty.columns) == list(MAIN_CSV_COLUMNS)
    assert opened.errors == []


def test_long_tables_are_paged(chromium: Browser, rec: Callable[..., dict[str, Any]],
                               make_result: Callable[..., AuditResult], tmp_path: Path) -> None:
    rows = [rec(f"i-{n:05d}", name=f"worker-{n}", monthly_savings=float(1000 - n),
                action="spot" if n % 3 == 0 else "downsize") for n in range(450)]
    long = make_result(rows)
    with open_report(chromium, write_html(long, tmp_path / "long.html", summarize(long))) as view:
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
        _choose(page, "action", "spot")
        assert len(view.visible_ids()) == 150
        assert len(_download(page)) == 150  # every matching row, not only the ones on the page
        page.click("#rec-table th[data-key=resource_id] button")
        assert view.visible_ids()[:2] == ["i-00000", "i-00003"]
        assert view.errors == []


# --- drill-down -----------------------------------------------------------------------------------------


def test_expanding_shows_evidence_options_and_rule(opened: Opened) -> None:
    page = opened.page
    opened.expand("i-0bbb")
    text = page.locator("tr.details:not(.collapsed)").inner_text()
    for expected in ("Percentiles per metric", "Forecast of the daily peak per metric", "cpu_below", "40",
                     "no rising trend", "99 %", "g6.xlarge", "$602.25", "cpu 55 % · memory 40 %", "Team = research",
                     "gpu-underused (ec2.yaml)", "cpu_p99 < 40 and memory_p99 < 60",
                     "medium (an estimated 90 % chance the advice holds)"):
        assert expected in text, expected
    page.locator("#rec-body tr.rec", has_text="i-0bbb").locator(".toggle").click()
    assert page.locator("tr.details:not(.collapsed)").count() == 0


def test_drill_down_chart_has_capacity_target_and_forecast(opened: Opened, result: AuditResult) -> None:
    opened.expand("i-0bbb")
    traces = opened.traces()
    names = {trace["name"] for trace in traces}
    assert {"hourly max", "hourly mean", "current capacity", "target capacity", "forecast", "forecast band",
            "sizing demand"} <= names
    by_axis = {(t["name"], t["yaxis"], t["xaxis"]): t for t in traces}
    # cpu is the first row (y); its history is on x and the next 30 days on x2 (y4: 3 rows of metrics)
    assert by_axis[("current capacity", "y", "x")]["y"] == [100, 100]
    target = by_axis[("target capacity", "y", "x")]
    assert target["y"] == [25, 25]  # g5.xlarge's 4 vCPUs where g5.4xlarge has 16
    assert "target g5.xlarge: 4 of 16 vCPUs (25 % of current)" in target["hover"]
    assert by_axis[("target capacity", "y2", "x")]["y"] == [25, 25]  # 16 of 64 GiB
    end = WINDOW_END.timestamp() * 1000
    forecast = by_axis[("forecast", "y4", "x2")]
    assert forecast["x"] == [end, end + 30 * 86_400_000]
    assert forecast["y"] == [25.0, 40.0]  # 40 at the horizon, rising 0.5 a day
    assert by_axis[("forecast band", "y4", "x2")]["y"] == [31.0, 46.0]
    assert by_axis[("sizing demand", "y4", "x2")]["y"] == [46.0, 46.0]
    assert ("forecast", "y3", "x2") not in by_axis  # network_in: no capacity, no forecast
    # the decoded hourly maxima are the samples' within the 0.5-point quantization
    samples = result.metrics[(result.metrics["resource_id"] == "i-0bbb") & (result.metrics["metric"] == "cpu")]
    hourly = samples.set_index("timestamp")["value"].resample("h").max()
    shown = by_axis[("hourly max", "y", "x")]
    assert shown["x"][0] == hourly.index[0].timestamp() * 1000
    assert np.allclose(shown["y"], hourly.to_numpy(), atol=0.25)
    assert opened.page.locator("tr.details:not(.collapsed) .js-plotly-plot .annotation-text").filter(
        has_text="current capacity 100 %").count() == 2


def test_resource_without_samples_says_so(opened: Opened) -> None:
    opened.page.locator("#rec-body tr.rec", has_text="vol-0ccc").locator(".toggle").click()
    assert "No utilization samples" in opened.page.locator("tr.details:not(.collapsed)").inner_text()


def test_hostile_names_and_tags_stay_text(opened: Opened) -> None:
    page = opened.page
    row = page.locator("#rec-body tr.rec", has_text="i-0aaa")
    assert row.locator("td.name").inner_text() == XSS_NAME
    assert row.locator("td.group").inner_text() == XSS_TAG
    opened.expand("i-0aaa")
    assert f"team = {XSS_TAG}" in page.locator("tr.details:not(.collapsed)").inner_text()
    assert XSS_NAME in page.locator("#chart-cost").inner_text()  # chart labels shown as typed
    assert XSS_TAG in page.locator("#filter-group").inner_text()
    assert page.locator("table[data-breakdown=savings_by_tag] tbody td").nth(3).inner_text() == XSS_TAG
    page.fill("#filter-text", "onerror")
    assert opened.visible_ids() == ["i-0aaa"]
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img").count() == 0
    assert opened.errors == []


# --- print ----------------------------------------------------------------------------------------------


def test_print_layout_shows_open_details_and_fits_the_page(opened: Opened) -> None:
    page = opened.page
    opened.expand("i-0bbb")
    row = page.locator("#rec-body tr.rec", has_text="i-0ddd")
    row.locator(".toggle").click()
    row.locator(".toggle").click()  # opened, then closed again
    closed = page.locator(f"tr.details[data-i='{row.get_attribute('data-i')}']")
    page.emulate_media(media="print")
    page.wait_for_function("document.documentElement.classList.contains('printing')")
    assert not page.locator(".filters").is_visible()
    assert not page.locator("#download-csv").is_visible()
    assert page.locator("tr.details:not(.collapsed)").is_visible()
    assert not closed.is_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).boxShadow") == "none"
    widths = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                           ".filter(p => p.offsetParent).map(p => p.querySelector('svg').width.baseVal.value)")
    assert widths and max(widths) <= 1040  # redrawn for the A4 landscape page
    page.emulate_media(media="screen")
    page.wait_for_function("document.querySelector('#chart-cost svg').width.baseVal.value > 1100")
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
    assert opened.errors == []


def test_the_lists_since_the_previous_run_fit_a_1024_pixel_laptop(chromium: Browser, result: AuditResult,
                                                                   tmp_path: Path) -> None:
    """New, resolved and persisting findings with long names and targets: each list keeps to its own box (they
    used to share one row of the page and run into each other) and the page never scrolls sideways."""
    row = {"name": "batch-training-ondemand", "resource_id": "arn:aws:batch:us-east-1:111111111111:compute-"
           "environment/batch-training-ondemand", "rule": "batch-spot-compute-environment",
           "current": "m5.2xlarge,c5.2xlarge,r5.2xlarge", "target": "SPOT_CAPACITY_OPTIMIZED: c7i-flex.2xlarge, "
           "m7i-flex.2xlarge, m5d.2xlarge", "monthly_savings": 1970.94, "done": False, "gone": False,
           "open_days": 3.0}
    changes = {"base": "20261201T000000Z-aaaa", "head": "20261202T000000Z-bbbb", "realised_savings": 0.0,
               "new": [row] * 3, "resolved": [row] * 3, "persisting": [row] * 3}
    path = write_html(dataclasses.replace(result, changes=changes), tmp_path / "report.html", summarize(result))
    context = chromium.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = context.new_page()
        page.goto(path.as_uri())
        boxes = [page.locator(f"#changes .change-lists > div:nth-child({n})").bounding_box() for n in (1, 2, 3)]
        assert all(box is not None for box in boxes)
        for upper, lower in zip(boxes, boxes[1:], strict=False):
            assert upper is not None and lower is not None and upper["y"] + upper["height"] <= lower["y"]
        widths = page.evaluate("() => [...document.querySelectorAll('#changes .change-lists > div')]"
                               ".map(d => d.scrollWidth - d.clientWidth)")
        assert widths == [0, 0, 0]
        assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") == 0
    finally:
        context.close()


def test_usable_on_a_1024_pixel_laptop(chromium: Browser, report: Path) -> None:
    """No sideways scroll, on the page or in the table, and the savings column on screen, rows open or closed."""
    context = chromium.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = context.new_page()
        page.goto(report.as_uri())
        page.wait_for_selector("body[data-charts-ready]", state="attached")
        overflow = ("() => { const wrap = document.querySelector('#rec-table').parentNode;"
                    " return [document.documentElement.scrollWidth - window.innerWidth,"
                    " wrap.scrollWidth - wrap.clientWidth]; }")
        assert page.evaluate(overflow) == [0, 0]
        savings = page.locator("#rec-table th[data-key=monthly_savings]").bounding_box()
        assert savings is not None and savings["x"] + savings["width"] <= 1024
        page.locator("#rec-body tr.rec").first.locator(".toggle").click()
        assert page.evaluate(overflow) == [0, 0]
        assert page.locator("#rec-table th[data-key=account]").is_hidden()  # in the filters and the details
    finally:
        context.close()


# --- scale ----------------------------------------------------------------------------------------------


def test_ten_thousand_recommendations_stay_usable(chromium: Browser, rec: Callable[..., dict[str, Any]],
                                                  make_result: Callable[..., AuditResult], tmp_path: Path) -> None:
    n = 10_000
    evidence, options = _evidence(20.0), [_option(1, "m5.xlarge", 140.16, 420.48), _option(2, "c5.xlarge", 124.10,
                                                                                           436.54)]
    rows = [rec(f"i-{k:017x}", name=f"worker-{k}", monthly_savings=float(k % 900 + 1), evidence=evidence,
                options=options, tags={"team": f"team-{k % 40}"}) for k in range(n)]
    stamps = pd.date_range("2026-01-08", periods=7 * 24, freq="h", tz="UTC")
    ids = np.array([row["resource_id"] for row in rows])
    metrics = pd.DataFrame({
        "resource_id": np.repeat(ids, 2 * len(stamps)),
        "metric": pd.Categorical(np.tile(np.repeat(["cpu", "memory"], len(stamps)), n)),
        "timestamp": np.tile(np.tile(stamps, 2), n),
        "value": np.random.default_rng(3).uniform(0, 60, 2 * n * len(stamps)),
    })
    fleet = make_result(rows, metrics=metrics)
    path = write_html(fleet, tmp_path / "fleet.html", summarize(fleet))
    with open_report(chromium, path) as view:
        page = view.page
        assert page.locator("#rec-body tr.rec").count() == 200  # the DOM holds one page, not 10,000 rows
        _choose(page, "group", "team-7")
        assert page.locator("#row-count").inner_text() == "showing 200 of 250 matching (10,000 recommendations)"
        page.click("#filter-reset")
        page.fill("#filter-text", "worker-9999")
        assert view.visible_ids() == [rows[-1]["resource_id"]]
        view.expand(rows[-1]["resource_id"])
        assert page.locator("tr.details .js-plotly-plot").count() == 1  # one figure drawn, on demand
        assert view.errors == []


def _fleet_hourly(ids: list[str], start: pd.Timestamp, hours: int) -> HourlyBuckets:
    """Hourly cpu, memory and network maxima and means of every resource, as a streamed source keeps them."""
    metrics = ("cpu", "memory", "network_in", "network_out")
    maxes = np.random.default_rng(5).uniform(0, 80, (len(ids) * len(metrics), hours)).astype(np.float32)
    return HourlyBuckets(np.repeat(np.array(ids, dtype=object), len(metrics)),
                         np.tile(np.array(metrics, dtype=object), len(ids)), int(start.timestamp()) // 3600, maxes,
                         maxes / 2, np.full(maxes.shape, 12, dtype=np.uint16))


def test_large_fleets_show_compact_series_and_say_so(chromium: Browser, rec: Callable[..., dict[str, Any]],
                                                     make_result: Callable[..., AuditResult], tmp_path: Path) -> None:
    """Over the series budget, the top findings keep hourly maxima and means; the others show wider maxima, and
    every drill-down states which it shows."""
    n, top = 2_400, 5
    ids = [f"i-{k:05d}" for k in range(n)]
    rows = [rec(resource_id, name=f"worker-{k}", monthly_savings=float(n - k), evidence=_evidence(20.0),
                tags={"team": "etl"}) for k, resource_id in enumerate(ids)]
    rows[-1]["tags"] = {"__proto__": "not a prototype", "constructor": "not a function"}
    start = WINDOW_END - pd.Timedelta(days=14)
    fleet = make_result(rows[::-1])  # the top findings are chosen by savings, not by their place in the result
    fleet.hourly = _fleet_hourly(ids, start, 14 * 24)
    path = tmp_path / "fleet.html"
    path.write_text(render_html(fleet, summarize(fleet), full_resolution_top=top), encoding="utf-8")
    with open_report(chromium, path) as view:
        page = view.page
        view.expand(ids[0])  # the largest saving
        open_detail = page.locator("tr.details:not(.collapsed)")
        assert open_detail.locator(".resolution").inner_text() == "Resolution: hourly maxima and means."
        traces = {trace["name"]: trace for trace in view.traces()}
        assert {"hourly max", "hourly mean"} <= set(traces)
        assert np.diff(traces["hourly max"]["x"]).tolist() == [3_600_000] * (14 * 24 - 1)
        page.locator("#rec-body tr.rec", has_text=ids[0]).locator(".toggle").click()

        page.fill("#filter-text", f"worker-{n - 1}")
        view.expand(ids[-1])  # the smallest: compact
        note = open_detail.locator(".resolution").inner_text()
        assert note.startswith("Resolution: 2-hourly maxima. A compact series: this report keeps hourly maxima "
                               f"and means for the {top} findings with the largest savings")
        traces = {(trace["name"], trace["yaxis"]): trace for trace in view.traces()}
        assert not any("mean" in name for name, _ in traces)
        shown = traces[("2-hourly max", "y")]  # cpu, the first row
        assert np.diff(shown["x"]).tolist() == [7_200_000] * (7 * 24 - 1)
        cpu = fleet.hourly.maxes[4 * (n - 1)]  # the resource's first series: cpu
        assert np.allclose(shown["y"], cpu.reshape(-1, 2).max(axis=1), atol=0.25)  # the maximum of each 2 hours
        tags = open_detail.inner_text()
        assert "__proto__ = not a prototype" in tags and "constructor = not a function" in tags
        assert view.errors == []
