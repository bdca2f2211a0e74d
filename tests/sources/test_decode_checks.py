"""A batch's quick "every row is good" test never hides a row the row-by-row checks reject."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.sources.decode import TimeParser, decode

VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 100.0, 101.0, 101.5, -1.0,
                                                                                      -1.5, 1e12, 1e13]))
ROWS = st.lists(st.tuples(st.sampled_from(["i-1", "i-2"]),
                          st.sampled_from(["cpu", "memory", "network_in", "disk"]),
                          st.sampled_from(["2026-11-02T00:00:00Z", "2026-11-02T00:05:00Z", "not a date"]),
                          st.one_of(VALUES.map(repr), st.sampled_from(["", " ", "abc"]))),
                min_size=1, max_size=40)


def _decoded(rows, numeric: bool):
    rid, metric, stamp, value = (list(column) for column in zip(*rows, strict=True))
    values = pa.array([float(v) if v.strip() and v != "abc" else None for v in value]) if numeric \
        else pa.array(value).dictionary_encode()
    batch = pa.RecordBatch.from_pydict({"resource_id": pa.array(rid).dictionary_encode(),
                                        "metric": pa.array(metric).dictionary_encode(),
                                        "timestamp": pa.array(stamp).dictionary_encode(), "value": values})
    return decode(batch, 0, pd.Index(["i-1", "i-2"]), set(), TimeParser("us"))


@settings(max_examples=400, deadline=None)
@given(ROWS, st.booleans())
def test_all_good_only_when_no_check_fires(rows, numeric):
    decoded = _decoded(rows, numeric)
    bad = np.logical_or.reduce(list(decoded.checks().values()))
    if decoded.all_good():
        assert not bad.any()


def test_a_clean_batch_is_all_good_and_each_fault_is_seen():
    clean = [("i-1", "cpu", "2026-11-02T00:00:00Z", "50"), ("i-1", "cpu", "2026-11-02T00:05:00Z", ""),
             ("i-1", "network_in", "2026-11-02T00:00:00Z", "1e6")]
    assert _decoded(clean, numeric=False).all_good()
    faults = [("i-2", "cpu", "2026-11-02T00:00:00Z", "101.5"), ("i-2", "network_in", "2026-11-02T00:00:00Z", "1e13"),
              ("i-2", "memory", "not a date", "1"), ("i-2", "disk", "2026-11-02T00:00:00Z", "1"),
              ("i-2", "network_in", "2026-11-02T00:00:00Z", "inf"), ("i-2", "cpu", "2026-11-02T00:00:00Z", "abc"),
              ("i-2", "cpu", "2026-11-02T00:00:00Z", "-1.5")]
    for fault in faults:
        assert not _decoded([*clean, fault], numeric=False).all_good(), fault
