"""What the report page does with its packed data (advisor/report/packing.py), in Python, for the tests."""

from __future__ import annotations

import json
from typing import Any


def unpack(value: Any, tables: dict[str, Any]) -> Any:
    """A packed value as plain JSON values, as report.js's ``unpack`` reads it."""
    if not isinstance(value, list):
        return value
    code = value[0]
    if code <= -2:
        return unpack(tables["shared"][-2 - code], tables)
    if code == -1:
        return [unpack(item, tables) for item in value[1:]]
    keys = tables["shapes"][code]
    assert len(keys) == len(value) - 1
    return {key: unpack(item, tables) for key, item in zip(keys, value[1:], strict=True)}


def unpack_text(text: str, tables: str) -> Any:
    """A packed JSON text, with the page's packing tables (JSON text too)."""
    return unpack(json.loads(text), json.loads(tables))


def unpack_array(text: str, tables: str) -> list[Any]:
    """A block of packed values (a plain JSON array of them, as the rows and the details are)."""
    return [unpack(item, json.loads(tables)) for item in json.loads(text)]
