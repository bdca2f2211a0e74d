"""The exports: the JSON document is what the json module would write of the same data, and the fast path of
``plain`` changes no value."""

from __future__ import annotations

import enum
import io
import json
import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.jsonsafe import plain
from advisor.report.exports import NESTED_COLUMNS, neutralise, to_csv, to_json
from advisor.report.summary import summarize
from advisor.results import recommendations_frame

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True,
                                                                                       allow_infinity=True),
                    st.text(max_size=12))
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=30)


class Level(enum.IntEnum):
    HIGH = 3


class Band(enum.StrEnum):
    LOW = "low"


def _plain_reference(value):
    """``plain`` as it was written before its fast path (isinstance tests only)."""
    if isinstance(value, dict):
        return {str(k): _plain_reference(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain_reference(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is pd.NA or value is pd.NaT or value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS)
def test_plain_is_unchanged(document):
    assert json.dumps(plain(document)) == json.dumps(_plain_reference(document))


def test_plain_of_other_types_is_unchanged():
    document = {Band.LOW: [np.float32(np.nan), np.int64(2), pd.NA, pd.NaT, pd.Timestamp("2026-01-02", tz="UTC"),
                           np.array([1.5, np.inf]), (Level.HIGH, "x")], 3: {"k": float("-inf")}}
    assert plain(document) == _plain_reference(document)


def test_the_demo_document_is_the_json_modules(demo_audit):
    """The same data as ``json.dumps`` of the dumped models gives, laid out two spaces a level."""
    summary = summarize(demo_audit, "team")
    document = {"summary": summary.model_dump(mode="json"),
                "recommendations": [rec.model_dump(mode="json") for rec in demo_audit.recommendations],
                "skipped": [plain(r) for r in demo_audit.skipped.to_dict(orient="records")]}
    for key, part in (("calibration", demo_audit.calibration), ("confidence_bands", demo_audit.confidence)):
        if part is not None:
            document[key] = part.model_dump(mode="json")
    written = to_json(demo_audit, summary)
    assert json.loads(written) == json.loads(json.dumps(document))
    assert list(json.loads(written)) == list(document)
    assert json.loads(to_json(demo_audit)) == json.loads(json.dumps(document["recommendations"]))
    for text in (written, to_json(demo_audit)):
        lines = text.split("\n")
        assert all((len(line) - len(line.lstrip(" "))) % 2 == 0 for line in lines)
        assert len(lines) == len(json.dumps(json.loads(text), indent=2).split("\n"))  # one value or key a line


def test_an_empty_audit_is_an_empty_list(make_result):
    assert to_json(make_result([])) == "[]"
    assert json.loads(to_json(make_result([]), summarize(make_result([]), "team")))["recommendations"] == []


def test_the_demo_csv_is_the_frames(demo_audit):
    """The CSV made finding by finding is the CSV of the whole frame of findings, as it was made before."""
    frame = recommendations_frame(demo_audit.recommendations)
    frame.insert(list(frame.columns).index("target") + 1, "target_risk",
                 [rec.options[0].risk if rec.options else None for rec in demo_audit.recommendations])
    for column in NESTED_COLUMNS:
        frame[column] = [json.dumps(plain(v), sort_keys=True) for v in frame[column]]
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = [neutralise(v) for v in frame[column]]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\r\n")
    assert to_csv(demo_audit) == buffer.getvalue()
