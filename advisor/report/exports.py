"""CSV and JSON exports of the recommendation rows (the same rows the HTML report shows)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from advisor.fsutil import atomic_write_text
from advisor.jsonsafe import plain
from advisor.model import AuditResult
from advisor.results import RECOMMENDATION_FIELDS, Summary, recommendations_frame

NESTED_COLUMNS = ("tags", "projected_utilization", "evidence", "options")
# The CSV export's columns without the bulky nested evidence and options: what the report's "Download CSV" writes.
MAIN_CSV_COLUMNS = tuple(column for name in RECOMMENDATION_FIELDS if name not in ("evidence", "options")
                         for column in ((name, "target_risk") if name == "target" else (name,)))
# Text a spreadsheet would evaluate as a formula starts with one of these (OWASP "CSV injection"). The one rule
# for every CSV the tool writes: this export, `recommend --format csv`, and the report's "Download CSV" (the
# report page receives these characters in its metadata rather than repeating them).
FORMULA_START = "=+-@\t\r"


def neutralise(value: Any) -> Any:
    """Text starting with a formula character gets a leading apostrophe, so a spreadsheet shows it as text;
    numbers (a negative saving is a number) and everything else pass unchanged."""
    if isinstance(value, str) and value[:1] and value[0] in FORMULA_START:
        return "'" + value
    return value


def recommendation_records(result: AuditResult) -> list[dict[str, Any]]:
    return [rec.model_dump(mode="json") for rec in result.recommendations]


def to_json(result: AuditResult, summary: Summary | None = None) -> str:
    """A JSON list of recommendation objects; given the run's ``summary``, a document holding it, the
    recommendations, the skipped resources and, when the audit made them, the calibration and the confidence
    bands."""
    records = recommendation_records(result)
    if summary is None:
        return json.dumps(records, indent=2)
    document = {
        "summary": summary.model_dump(mode="json"),
        "recommendations": records,
        "skipped": [plain(r) for r in result.skipped.to_dict(orient="records")],
    }
    for key, part in (("calibration", result.calibration), ("confidence_bands", result.confidence)):
        if part is not None:
            document[key] = part.model_dump(mode="json")
    return json.dumps(document, indent=2)


def to_csv(result: AuditResult) -> str:
    """One row per recommendation; nested fields as JSON text, plus the top option flattened."""
    frame = recommendations_frame(result.recommendations)
    frame.insert(list(frame.columns).index("target") + 1, "target_risk",
                 [rec.options[0].risk if rec.options else None for rec in result.recommendations])
    for column in NESTED_COLUMNS:
        frame[column] = [json.dumps(plain(v), sort_keys=True) for v in frame[column]]
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = [neutralise(v) for v in frame[column]]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\r\n")  # RFC 4180; a CR inside a value is then quoted
    return buffer.getvalue()


def write_exports(result: AuditResult, directory: Path, summary: Summary) -> list[Path]:
    directory = Path(directory)
    return [
        atomic_write_text(directory / "recommendations.json", to_json(result, summary)),
        atomic_write_text(directory / "recommendations.csv", to_csv(result)),
    ]
