"""Values made safe for JSON without loading numpy or pandas for it.

A numpy or pandas value can exist only once its library is loaded, so the checks for those types run only then:
``advisor rules list --format json`` and ``config show --format json`` print their data without either.
"""

from __future__ import annotations

import math
import sys
from typing import Any


def plain(value: Any) -> Any:
    """JSON-safe Python values: numpy scalars unwrapped, NaN/NA as null, timestamps as ISO text."""
    kind = type(value)  # the common exact types first (a finding's nested fields are mostly these)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return None if math.isnan(value) or math.isinf(value) else value
    np, pd = sys.modules.get("numpy"), sys.modules.get("pandas")
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple) or (np is not None and isinstance(value, np.ndarray)):
        return [plain(v) for v in value]
    if np is not None and isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is None or (pd is not None and (value is pd.NA or value is pd.NaT)):
        return None
    if pd is not None and isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
