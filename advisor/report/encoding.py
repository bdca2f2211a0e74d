"""Safe text for the HTML report: plain JSON values, JSON for script blocks, chart labels and inline scripts.

Everything from the audit reaches the page through jinja2 (autoescape on) or through these helpers: JSON in
``<script type="application/json">`` blocks has ``<``, ``>`` and ``&`` escaped, so no value can end the block.
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)


def jsonable(value: Any) -> Any:
    """Turn numpy/pandas values, NaN and timestamps inside nested containers into plain JSON values."""
    if value is None or isinstance(value, str | bool | int):  # the common leaves first: this runs per value
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray | pd.Series):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, datetime | pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if pd.isna(value):
        return None
    return str(value)


def safe_json(value: Any, ascii_only: bool = False) -> str:
    """JSON text with no ``<``, ``>`` or ``&`` left (escaped as ``\\u003c`` …), safe inside a script block.

    Values that are not plain JSON (numpy scalars, NaN, timestamps…) are converted as :func:`jsonable` does.
    ``ascii_only`` escapes every non-ASCII character too, so that offsets into the text are the same in Python
    and in JavaScript (whose strings count UTF-16 units).
    """
    options: dict[str, Any] = {"ensure_ascii": ascii_only, "separators": (",", ":"), "allow_nan": False}
    try:  # the fast path: plain values, numpy scalars and timestamps converted as met
        text = json.dumps(value, default=_convert, **options)
    except (ValueError, TypeError):  # a NaN, an infinity or a non-text key somewhere: clean the whole value
        text = json.dumps(jsonable(value), **options)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _convert(value: Any) -> Any:
    converted = jsonable(value)
    if converted is value:
        raise TypeError(f"not JSON serializable: {type(value).__name__}")
    return converted


def script_json(value: Any) -> Markup:
    """:func:`safe_json` marked safe for a ``<script type="application/json">`` block in the template."""
    return Markup(safe_json(value))


def inline_script(code: str) -> Markup:
    """Trusted script text for an inline ``<script>``; ``</script`` written as ``<\\/script`` just in case."""
    return Markup(_SCRIPT_END.sub(r"<\\/\1", code))


def label(value: Any) -> str:
    """A chart label: plotly understands a few HTML tags in labels, so entity-escape ``&``, ``<`` and ``>``
    (shown as typed; plotly would show ``&quot;`` literally, and a quote cannot open a tag)."""
    return html.escape(text(value), quote=False)


def text(value: Any) -> str:
    """A cell's text: empty for missing values (None, NaN, NA)."""
    return "" if value is None or (not isinstance(value, dict | list) and pd.isna(value)) else str(value)


def number(value: Any, digits: int | None = 2) -> float | None:
    """A finite number (rounded to ``digits`` unless None), or None for anything else."""
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(parsed):
        return None
    return parsed if digits is None else round(parsed, digits)
