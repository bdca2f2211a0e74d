"""CSV and JSON exports of the recommendation rows (the same rows the HTML report shows)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pydantic_core

from advisor.fsutil import atomic_write_text
from advisor.jsonsafe import plain
from advisor.model import AuditResult
from advisor.results import RECOMMENDATION_FIELDS, Recommendation, Summary

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


def _shifted(text: str, levels: int) -> str:
    """An indented JSON text placed ``levels`` deeper: a JSON string holds no raw newline, so every newline is
    layout."""
    return text.replace("\n", "\n" + "  " * levels)


def _json_array(texts: list[str]) -> str:
    """The JSON array of these JSON texts, indented by two spaces as ``json.dumps(..., indent=2)`` does."""
    return "[\n  " + ",\n  ".join(_shifted(text, 1) for text in texts) + "\n]" if texts else "[]"


def _json_object(fields: dict[str, str]) -> str:
    return "{\n  " + ",\n  ".join(f"{json.dumps(key)}: {_shifted(text, 1)}" for key, text in fields.items()) + \
        "\n}"


def to_json(result: AuditResult, summary: Summary | None = None) -> str:
    """A JSON list of recommendation objects; given the run's ``summary``, a document holding it, the
    recommendations, the skipped resources and, when the audit made them, the calibration and the confidence
    bands. Each part is serialized by pydantic (in Rust, one finding at a time: the findings' dicts are never all
    held) and the parts are put together indented by two spaces."""
    records = _json_array([rec.model_dump_json(indent=2) for rec in result.recommendations])
    if summary is None:
        return records
    skipped = [plain(r) for r in result.skipped.to_dict(orient="records")]
    fields = {"summary": summary.model_dump_json(indent=2), "recommendations": records,
              "skipped": pydantic_core.to_json(skipped, indent=2).decode()}
    for key, part in (("calibration", result.calibration), ("confidence_bands", result.confidence)):
        if part is not None:
            fields[key] = part.model_dump_json(indent=2)
    return _json_object(fields)


def to_csv(result: AuditResult) -> str:
    """One row per recommendation; nested fields as JSON text, plus the top option flattened."""
    frame = pd.DataFrame([_csv_record(rec) for rec in result.recommendations], columns=list(RECOMMENDATION_FIELDS))
    frame.insert(list(frame.columns).index("target") + 1, "target_risk",
                 [rec.options[0].risk if rec.options else None for rec in result.recommendations])
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = [neutralise(v) for v in frame[column]]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\r\n")  # RFC 4180; a CR inside a value is then quoted
    return buffer.getvalue()


def _csv_record(recommendation: Recommendation) -> dict[str, Any]:
    """A finding's row, its nested fields as JSON text at once (the dicts of all findings are never held)."""
    row = recommendation.model_dump()
    for column in NESTED_COLUMNS:
        row[column] = json.dumps(plain(row[column]), sort_keys=True)
    return row


def write_exports(result: AuditResult, directory: Path, summary: Summary) -> list[Path]:
    directory = Path(directory)
    return [
        atomic_write_text(directory / "recommendations.json", to_json(result, summary)),
        atomic_write_text(directory / "recommendations.csv", to_csv(result)),
    ]
