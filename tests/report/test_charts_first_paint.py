"""The overview charts are drawn while the report is parsed: already there when the document is parsed, and
when printing starts right after, so a snapshot or a PDF never shows a blank chart. Drill-downs stay on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page

from advisor.model import AuditResult
from advisor.report.page import write_html
from advisor.report.summary import summarize

CHARTS = ("by-action", "by-tag", "cost", "dist-cpu", "dist-memory")  # this fleet's summary charts (no GPU figures)
# Run in the page before its own scripts, so these listeners see the page before the report's own handlers do:
# which chart places exist and which hold plotly's SVG, when the document is parsed and when printing starts.
WATCH = """
window.__charts = {};
function look(moment) {
  window.__charts[moment] = {
    drawn: Array.from(document.querySelectorAll(".chart[id^='chart-']"), node => [
      node.id.slice("chart-".length), node.hidden ? "hidden" : node.querySelector("svg.main-svg") !== null]),
    drills: document.querySelectorAll("tr.details .js-plotly-plot").length,
  };
}
document.addEventListener("DOMContentLoaded", () => look("parsed"));
window.addEventListener("beforeprint", () => look("printing"));
"""


@pytest.fixture(scope="module")
def report(rec: Callable[..., dict[str, Any]], make_result: Callable[..., AuditResult],
           tmp_path_factory: pytest.TempPathFactory) -> Path:
    ids = ["i-big", "i-gpu", "vol-gp2"]
    rows = [rec("i-big", tags={"team": "ml"}),
            rec("i-gpu", action="rightsize_accelerator", current="g5.4xlarge", target="g5.xlarge",
                monthly_cost_now=1189.90, monthly_cost_after=734.38, monthly_savings=455.52),
            rec("vol-gp2", kind="ebs_volume", action="modify_volume", rule="ebs-gp2-to-gp3", current="gp2",
                target="gp3", monthly_cost_now=50.0, monthly_cost_after=40.0, monthly_savings=10.0)]
    features = pd.DataFrame({"kind": ["ec2_instance", "ec2_instance", "ebs_volume"], "cpu_p99": [20.0, 35.0, None],
                             "memory_max": [41.0, 50.0, None]}, index=pd.Index(ids, name="resource_id"))
    result = make_result(rows, features=features,
                         inventory=pd.DataFrame({"resource_id": ids, "kind": features["kind"].tolist()}))
    return write_html(result, tmp_path_factory.mktemp("first-paint") / "report.html", summarize(result))


@contextmanager
def watched(browser: Browser, report: Path) -> Iterator[Page]:
    """A page opening the report, returned once its DOMContentLoaded has fired (nothing later awaited)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        page.add_init_script(WATCH)
        page.goto(report.as_uri(), wait_until="domcontentloaded")
        yield page
    finally:
        context.close()


def _expected() -> list[list[Any]]:
    return [[key, True] for key in CHARTS] + [["dist-gpu", "hidden"]]


def test_the_summary_charts_are_drawn_when_the_document_is_parsed(chromium: Browser, report: Path) -> None:
    with watched(chromium, report) as page:
        seen = page.evaluate("window.__charts.parsed")
    assert seen["drawn"] == _expected()
    assert seen["drills"] == 0  # a row's chart is drawn when the row is opened, never up front


def test_print_to_pdf_right_after_parsing_finds_every_chart_drawn(chromium: Browser, report: Path) -> None:
    with watched(chromium, report) as page:
        pdf = page.pdf()
        seen = page.evaluate("window.__charts.printing")
        widths = page.evaluate("Array.from(document.querySelectorAll('.chart .js-plotly-plot'),"
                               " plot => plot.querySelector('svg.main-svg').width.baseVal.value)")
    assert pdf.startswith(b"%PDF")
    assert seen["drawn"] == _expected()  # before the report's own print handler ran
    assert len(widths) == len(CHARTS) and min(widths) > 0
