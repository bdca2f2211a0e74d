"""CSV and JSON exports of the recommendation rows (the same rows the HTML report shows)."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.fsutil import atomic_write_text
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


def plain(value: Any) -> Any:
    """JSON-safe Python values: numpy scalars unwrapped, NaN/NA as null, timestamps as ISO text."""
    kind = type(value)  # the common exact types first (a dump of the findings is mostly these)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return None if math.isnan(value) or math.isinf(value) else value
    if kind is dict:
        return {k if type(k) is str else str(k): plain(v) for k, v in value.items()}
    if kind is list:
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is pd.NA or value is pd.NaT or value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


class _NotPlain(Exception):
    """A value the fast encoder leaves to the json module."""


class OneByOne:
    """A list whose items are made and encoded one at a time by :func:`dumps_indented` (each finding's dict is
    dropped once it is text: at 100,000 findings the dicts of all of them took gigabytes)."""

    def __init__(self, count: int, item: Callable[[int], Any]) -> None:
        self.count, self.item = count, item

    def whole(self) -> list[Any]:
        return [self.item(position) for position in range(self.count)]


def _whole(document: Any) -> Any:
    """The document with its :class:`OneByOne` lists (at its top or one level down) made whole."""
    if isinstance(document, OneByOne):
        return document.whole()
    if isinstance(document, dict):
        return {key: value.whole() if isinstance(value, OneByOne) else value for key, value in document.items()}
    return document


def dumps_indented(document: Any) -> str:
    """``json.dumps(document, indent=2)``, character for character, faster: the json module encodes an indented
    document in Python, one generator per container; this appends to one list. A value of another type than the
    json module's own (or a key that is not text) hands the document to ``json.dumps``."""
    out: list[str] = []
    try:
        _encode(document, 0, out)
    except (_NotPlain, RecursionError, IndexError):  # IndexError: nested deeper than _INDENTS
        return json.dumps(_whole(document), indent=2)
    return "".join(out)


_INDENTS = ["\n" + "  " * level for level in range(64)]
_escape = json.encoder.encode_basestring_ascii


def _encode(value: Any, level: int, out: list[str]) -> None:
    """``value`` as ``json.encoder`` writes it at ``level`` (its tests, in its order)."""
    if isinstance(value, str):
        out.append(_escape(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = _INDENTS[level + 1]
        separator = "," + inner
        out.append("[" + inner)
        for position, item in enumerate(value):
            if position:
                out.append(separator)
            _encode(item, level + 1, out)
        out.append(_INDENTS[level] + "]")
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = _INDENTS[level + 1]
        separator = "," + inner
        out.append("{" + inner)
        for position, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise _NotPlain
            out.append((separator if position else "") + _escape(key) + ": ")
            _encode(item, level + 1, out)
        out.append(_INDENTS[level] + "}")
    elif isinstance(value, OneByOne):
        if not value.count:
            out.append("[]")
            return
        inner = _INDENTS[level + 1]
        out.append("[" + inner)
        for position in range(value.count):
            piece: list[str] = ["," + inner] if position else []
            _encode(value.item(position), level + 1, piece)
            out.append("".join(piece))  # one string per item: its dict and chunks are dropped
        out.append(_INDENTS[level] + "]")
    else:
        raise _NotPlain


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    return float.__repr__(value)


def to_json(result: AuditResult, summary: Summary | None = None) -> str:
    """A JSON list of recommendation objects; given the run's ``summary``, a document holding it, the
    recommendations, the skipped resources and, when the audit made them, the calibration and the confidence
    bands."""
    recommendations = result.recommendations
    records = OneByOne(len(recommendations), lambda position: recommendations[position].model_dump(mode="json"))
    if summary is None:
        return dumps_indented(records)
    document = {
        "summary": summary.model_dump(mode="json"),
        "recommendations": records,
        "skipped": [plain(r) for r in result.skipped.to_dict(orient="records")],
    }
    for key, part in (("calibration", result.calibration), ("confidence_bands", result.confidence)):
        if part is not None:
            document[key] = part.model_dump(mode="json")
    return dumps_indented(document)


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
