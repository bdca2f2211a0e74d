"""How values are written for people (terminal, HTML report, backtest): one money format, no "nan"."""

from __future__ import annotations

import math
from typing import Any

MISSING = "—"


def usd(value: Any) -> str:
    """US dollars with cents, the minus sign before the dollar sign (``-$1.46``); None or NaN as a dash."""
    if value is None:
        return MISSING
    number = float(value)
    if math.isnan(number):
        return MISSING
    sign = "-" if round(number, 2) < 0 else ""
    return f"{sign}${abs(number):,.2f}"


def cell(value: Any) -> str:
    """A table cell's text: a missing value (None, NaN, NA) is empty, never "nan"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value)
    return "" if text in ("nan", "<NA>", "NaT") else text
