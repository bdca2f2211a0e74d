"""The recommendations as the page's script reads them: light table rows, and details read on demand.

Table rows (one JSON array, parsed at load) hold what the table, the filters and the CSV download need. The
details of a row (evidence, options, drill-down lines, where its series are) are one value each in a second
array; a row carries the offset and length of its value in that text, so expanding a row parses a few kilobytes
and loading the page parses none of it. Both arrays are packed (:mod:`advisor.report.packing`: keys and repeated
values written once, in a table the page reads at load), which makes them about a third of their plain JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from advisor.model import AuditResult
from advisor.report.drill import feature_rows, forecast_lines, target_lines
from advisor.report.encoding import number
from advisor.report.exports import MAIN_CSV_COLUMNS
from advisor.report.packing import Packer
from advisor.report.series import EncodedSeries
from advisor.report.summary import UNKNOWN, UNTAGGED, tag_value
from advisor.settings import SizingConfig

MAX_OPTIONS = 3
CONFIDENCE_ORDER = {"high": 3, "medium": 2, "low": 1}


@dataclass
class PageRecords:
    rows: list[dict[str, Any]] = field(default_factory=list)
    rows_text: str = "[]"  # the rows, packed
    details: str = "[]"  # the details, packed; row["d"] = [offset, length] of the row's value in this text
    packing: str = '{"shapes":[],"shared":[]}'  # what both are unpacked with
    filters: list[dict[str, Any]] = field(default_factory=list)
    window_end: int | None = None  # epoch seconds: where the drill-down's forecast starts
    horizon_days: float = 30.0


def csv_columns() -> list[str]:
    """The columns of the browser's CSV download (the CSV export's main columns), each a key of the table rows."""
    return list(MAIN_CSV_COLUMNS)


def _filters(rows: list[dict[str, Any]], group_tag: str) -> list[dict[str, Any]]:
    """The filter menus: each field's distinct values (a missing value last, shown as ``none``)."""
    menus = [("action", "Action", UNKNOWN), ("account", "Account", UNKNOWN), ("region", "Region", UNKNOWN),
             ("group", group_tag, UNTAGGED), ("confidence", "Confidence", UNKNOWN)]
    out = []
    for key, title, none in menus:
        present = {row[key] for row in rows}
        values: list[str | None] = sorted(v for v in present if v)
        if None in present or "" in present:
            values.append(None)
        out.append({"key": key, "label": title, "none": none, "values": values})
    return out


def page_records(result: AuditResult, series: EncodedSeries, group_tag: str) -> PageRecords:
    """Table rows, the details text and the filter menus for every recommendation."""
    recs = result.recommendations
    features = feature_rows(result.features, [rec.resource_id for rec in recs])
    horizon = float((result.settings.get("sizing") or {}).get("horizon_days") or SizingConfig().horizon_days)
    window_end = None if result.window_end is None else int(pd.Timestamp(result.window_end).timestamp())
    packer = Packer()
    rows: list[dict[str, Any]] = []
    packed_rows, parts, offset = [], [], 1  # offsets count the opening "["
    for i, rec in enumerate(recs):
        options = rec.options[:MAX_OPTIONS]
        feature = {k: v for k, v in features.get(rec.resource_id, {}).items() if not pd.isna(v)}
        detail = packer.pack({
            "evidence": rec.evidence.model_dump(mode="json"),
            "options": [option.model_dump(mode="json") for option in options],
            "series": series.index.get(rec.resource_id),
            "targets": target_lines(rec.evidence.capacity, options[0] if options else None, rec.current, feature),
            "forecast": forecast_lines(feature, horizon),
        })
        rows.append({
            "i": i,
            "d": [offset, len(detail)],
            "resource_id": rec.resource_id,
            "name": rec.name,
            "kind": rec.kind,
            "account": rec.account,
            "region": rec.region,
            "group": tag_value(rec.tags, group_tag),
            "rule": rec.rule,
            "title": rec.title,
            "action": rec.action,
            "severity": rec.severity,
            "current": rec.current,
            "target": rec.target or "",
            "target_risk": options[0].risk if options else None,
            "monthly_cost_now": number(rec.monthly_cost_now),
            "monthly_cost_after": number(rec.monthly_cost_after),
            "monthly_savings": number(rec.monthly_savings),
            "confidence": rec.confidence,
            "confidence_score": number(rec.confidence_score),
            "confidence_rank": CONFIDENCE_ORDER[rec.confidence],
            "risk": rec.risk,
            "price_estimated": rec.price_estimated,
            "price_list_date": rec.price_list_date or "",
            "price_dates": rec.price_dates,
            "rationale": rec.rationale,
            "tags": rec.tags,
            "projected_utilization": rec.projected_utilization,
        })
        parts.append(detail)
        packed_rows.append(packer.pack(rows[-1]))  # row by row, so a value common to the rows is shared early
        offset += len(detail) + 1  # and the comma
    rows_text = "[" + ",".join(packed_rows) + "]"
    return PageRecords(rows=rows, rows_text=rows_text, details="[" + ",".join(parts) + "]", packing=packer.tables(),
                       filters=_filters(rows, group_tag), window_end=window_end, horizon_days=horizon)
