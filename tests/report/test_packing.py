"""The report's packed JSON: any value comes back as it went in, escaped for a script block, and smaller."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from packed import unpack_text

from advisor.report.packing import Packer

HOSTILE = ["</script><script>alert(1)</script>", "a & b", "é ✓ 𝄞", "__proto__", "constructor", "[-2]", ""]
leaves = st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=12) | st.sampled_from(HOSTILE)
values = st.recursive(leaves, lambda children: st.lists(children, max_size=4)
                      | st.dictionaries(st.text(max_size=6) | st.sampled_from(HOSTILE), children, max_size=4),
                      max_leaves=30)


def _round_trip(items: list[Any]) -> tuple[Packer, list[str]]:
    packer = Packer()
    return packer, [packer.pack(item) for item in items]


@given(st.lists(values, min_size=1, max_size=6))
def test_every_value_unpacks_to_itself_and_is_safe_in_a_script_block(items: list[Any]) -> None:
    packer, texts = _round_trip(items)
    tables = packer.tables()
    for item, text in zip(items, texts, strict=True):
        assert unpack_text(text, tables) == item
        assert text.isascii() and not set("<>&") & set(text)
    assert tables.isascii() and not set("<>&") & set(tables)


def test_repeated_keys_and_values_are_written_once() -> None:
    row = {"condition": "(state == running and cpu_demand < 40)", "policy": {"cpu": {"statistic": "p99"}},
           "monthly_savings": 140.16}
    rows = [dict(row, monthly_savings=float(k)) for k in range(100)]
    packer, texts = _round_trip(rows)
    packed = sum(map(len, texts)) + len(packer.tables())
    assert packed < len(json.dumps(rows, separators=(",", ":"))) / 3
    assert packer.tables().count("cpu_demand") == 1
    assert texts[0].count("cpu_demand") == 1 and "cpu_demand" not in texts[2]  # in full once, then shared
    assert [unpack_text(text, packer.tables()) for text in texts] == rows


def test_numbers_are_written_as_javascript_reads_them() -> None:
    packer, texts = _round_trip([[336.0, -0.0, 0.1, 1e20, math.nan, -math.inf, np.float64(2.5), np.int64(7),
                                  np.bool_(True), pd.NA, pd.Timestamp("2026-01-15", tz="UTC")]])
    assert json.loads(texts[0]) == [-1, 336, 0, 0.1, 1e20, None, None, 2.5, 7, True, None,
                                    "2026-01-15T00:00:00+00:00"]
