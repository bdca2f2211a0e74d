"""The self-contained HTML report: one file, plotly.js inlined once, nothing fetched when it is opened.

plotly.js runs before the overview charts, and each chart is drawn by an inline script right after its container
while the page is parsed (``reports/report.charts.js``): the first paint, a headless snapshot and print-to-PDF
right after loading never show a blank chart. The drill-down charts are drawn only when their row is expanded.

The template, stylesheet and scripts live in the top-level ``reports/`` folder. Everything that comes from the
audit reaches the page either through jinja2 (autoescape on) or as JSON in ``<script type="application/json">``
blocks with ``<``, ``>`` and ``&`` escaped (:mod:`advisor.report.encoding`); the scripts parse those blocks and
insert text with ``textContent`` only.

Scale: the table rows are one packed JSON array (:mod:`advisor.report.packing`); each row's details and
utilization series are read from their own slice of two large blocks only when the row is expanded
(:mod:`advisor.report.records`, :mod:`advisor.report.series`), so a 10,000-resource report opens without parsing
its drill-downs, and stays under 20 MB.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import jinja2
import pandas as pd
import plotly.offline
from markupsafe import Markup

from advisor.display import usd
from advisor.fsutil import atomic_write_text
from advisor.model import SKIPPED_COLUMNS, AuditResult
from advisor.report.charts import overview_charts
from advisor.report.encoding import inline_script, jsonable, script_json, text
from advisor.report.exports import FORMULA_START
from advisor.report.records import csv_columns, page_records
from advisor.report.series import encode_series
from advisor.report.summary import counted_savings_rows, head_and_rest
from advisor.resources import resource_dir
from advisor.results import Summary
from advisor.settings import OutputConfig
from advisor.version import __version__

SCRIPTS = ("report.js", "report.drill.js")  # concatenated into one inline script, in this order
CHARTS_SCRIPT = "report.charts.js"  # runs before the overview charts, with plotly.js


def _when(value: str | None) -> str:
    if not value:
        return "unknown"
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def _percent(value: float | None) -> str:
    """A 0-1 share as a percentage with one decimal."""
    return "—" if value is None else f"{100 * value:.1f} %"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(resource_dir("reports")), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = usd
    env.filters["when"] = _when
    env.filters["percent"] = _percent
    env.filters["head_and_rest"] = head_and_rest
    return env


@cache
def _static(name: str) -> str:
    return (resource_dir("reports") / name).read_text(encoding="utf-8")


def _window_days(result: AuditResult) -> str | None:
    if result.window_start is None or result.window_end is None:
        return None
    return f"{round((result.window_end - result.window_start) / pd.Timedelta(days=1), 1):g}"


def _by_savings(result: AuditResult) -> list[str]:
    """The recommended resources, the largest saving first (a resource by its largest finding; a saving that is
    not a number last)."""
    recs = sorted(result.recommendations,
                  key=lambda rec: -rec.monthly_savings if math.isfinite(rec.monthly_savings) else math.inf)
    return list(dict.fromkeys(rec.resource_id for rec in recs))


def render_html(result: AuditResult, summary: Summary,
                full_resolution_top: int = OutputConfig().full_resolution_top) -> str:
    """The whole report as one HTML string: the run's ``summary`` (savings also broken down by its tag) and
    every recommendation; drill-downs at full resolution for all, or for the ``full_resolution_top`` resources
    with the largest savings when a large fleet's would not fit (:mod:`advisor.report.series`)."""
    group_tag = summary.group_tag
    series = encode_series(_by_savings(result), result.metrics if result.hourly is None else result.hourly,
                           full_top=full_resolution_top)
    records = page_records(result, series, group_tag)
    meta = {"price_list_date": result.price_list_date, "group_tag": group_tag, "window_end": records.window_end,
            "horizon_days": records.horizon_days, "full_top": full_resolution_top,
            "filters": records.filters, "csv": csv_columns(), "formula_start": FORMULA_START}
    return _environment().get_template("report.html.j2").render(
        summary=summary,
        changes=result.changes,
        calibration=result.calibration,
        confidence=result.confidence,
        version=__version__,
        window_days=_window_days(result),
        skipped=result.skipped.reindex(columns=SKIPPED_COLUMNS).map(text).to_dict("records"),
        rules=[jsonable(rule) for rule in result.rules],
        catalog_sources=[jsonable(source) for source in result.catalog_sources],
        css=Markup(_static("report.css")),
        meta_json=script_json(meta),
        recs_json=Markup(records.rows_text),
        packing_json=Markup(records.packing),
        details_json=Markup(records.details),
        series_json=Markup(series.text),
        charts_json=script_json(overview_charts(result, summary, counted_savings_rows(result.recommendations))),
        plotly_js=inline_script(plotly.offline.get_plotlyjs()),
        charts_js=inline_script(_static(CHARTS_SCRIPT)),
        report_js=inline_script("\n".join(_static(name) for name in SCRIPTS)),
    )


def write_html(result: AuditResult, path: Path | str, summary: Summary) -> Path:
    """Render the report and write it atomically; returns the path written."""
    return atomic_write_text(Path(path), render_html(result, summary))
