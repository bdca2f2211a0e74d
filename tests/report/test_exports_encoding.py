"""The exports' fast encoders give exactly what the json module and the generic ``plain`` gave."""

from __future__ import annotations

import enum
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.report.exports import NESTED_COLUMNS, OneByOne, dumps_indented, neutralise, plain, to_csv, to_json
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


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS)
def test_indented_json_is_the_json_modules(document):
    assert dumps_indented(document) == json.dumps(document, indent=2)


@pytest.mark.parametrize("document", [
    {"subclasses": [Level.HIGH, Band.LOW, np.float64(0.1), True]},
    {"empty": [[], {}, ()], "deep": [[[[[[{"x": [1.5e-05, -0.0, 1e300]}]]]]]]},
    {"escapes": "tab\t quote\" snowman \u2603 nul \x00"},
    {"nested": {"n": 1}, "deeper": {"a": {"b": {"c": None}}}},
    {1: "a key that is not text"},  # the json module decides (it writes "1")
    {"d": pd.Timestamp("2026-01-01", tz="UTC")},  # not JSON: the json module's TypeError
    {"x": np.int64(3)},
])
def test_other_values_are_the_json_modules_too(document):
    try:
        expected = json.dumps(document, indent=2)
    except TypeError as exc:
        with pytest.raises(TypeError, match=str(exc)):
            dumps_indented(document)
        return
    assert dumps_indented(document) == expected


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
    summary = summarize(demo_audit, "team")
    document = {"summary": summary.model_dump(mode="json"),
                "recommendations": [rec.model_dump(mode="json") for rec in demo_audit.recommendations],
                "skipped": [plain(r) for r in demo_audit.skipped.to_dict(orient="records")]}
    for key, part in (("calibration", demo_audit.calibration), ("confidence_bands", demo_audit.confidence)):
        if part is not None:
            document[key] = part.model_dump(mode="json")
    assert to_json(demo_audit, summary) == json.dumps(document, indent=2)
    assert to_json(demo_audit) == json.dumps(document["recommendations"], indent=2)


@pytest.mark.parametrize("items", [[], [{"a": 1}, {"b": [2.5, None]}], [{"a": np.int64(1)}], [{1: "x"}]])
def test_items_made_one_by_one_read_as_a_list(items):
    made = OneByOne(len(items), items.__getitem__)
    for document in (made, {"first": 1, "items": OneByOne(len(items), items.__getitem__)}):
        expected_document = items if isinstance(document, OneByOne) else {"first": 1, "items": items}
        try:
            expected = json.dumps(expected_document, indent=2)
        except TypeError:
            with pytest.raises(TypeError):
                dumps_indented(document)
            continue
        assert dumps_indented(document) == expected


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
