"""JSON-safe values: numpy and pandas values become plain Python ones, NaN and NA become null."""

import json
import math

import numpy as np
import pandas as pd

from advisor.jsonsafe import plain


def test_numpy_and_pandas_values_become_plain_json():
    data = {"count": np.int64(3), "share": np.float32(0.5), "gone": np.float64("nan"), "na": pd.NA, "nat": pd.NaT,
            "when": pd.Timestamp("2026-12-03T10:00:00Z"), "series": np.array([1.5, np.nan]), 7: (math.inf, "x")}
    assert plain(data) == {"count": 3, "share": 0.5, "gone": None, "na": None, "nat": None,
                           "when": "2026-12-03T10:00:00+00:00", "series": [1.5, None], "7": [None, "x"]}
    assert type(plain(np.int64(3))) is int
    json.dumps(plain(data), allow_nan=False)


def test_plain_python_values_pass_and_nan_is_null():
    assert plain({"a": [1, "b", None, float("nan")], "c": {"d": 2.5}}) == {"a": [1, "b", None, None], "c": {"d": 2.5}}
