"""Compact JSON for the report's table rows and details: object keys written once, repeated values written once.

10,000 recommendations repeat the same keys (``"monthly_cost_now"``…) and many of the same values (a rule's
condition, the data window, the sizing policy, an option's label) in every row; written as plain JSON they were
most of a large report. Packed, a value is JSON in which

* an object is ``[k, v1, v2, …]``: ``k`` (0 or more) indexes its list of keys in ``shapes``, the values follow;
* a list is ``[-1, item1, item2, …]``;
* ``[-2 - j]`` stands for entry ``j`` of ``shared``, itself a packed value;
* anything else (text, numbers, true, false, null) is itself.

A value (text, object or list) whose packed text is longer than a reference is written in full the first time it is
met and as a reference from the second time on, so one pass packs the rows in order and a row can still be unpacked
on its own (the page's ``unpack`` in report.js). Every text is JSON-escaped with ``<``, ``>`` and ``&`` written as
``\\u003c``…, and every character outside ASCII as ``\\uXXXX``, so a packed value is safe inside a script block and
its offsets in the text are the same in Python and in JavaScript.
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii
from typing import Any

from advisor.report.encoding import jsonable, safe_json

MIN_SHARED = 6  # characters: a shorter value is written in full every time (a reference takes 4 to 8)
INLINE = 2  # times a value is written in full before it is shared: one met twice costs less written twice


def _text(value: str) -> str:
    text: str = encode_basestring_ascii(value)
    if "<" in text or ">" in text or "&" in text:
        text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return text


class Packer:
    """Packs the values of one page; its :meth:`tables` (the keys and the shared values) go into the page once."""

    def __init__(self) -> None:
        self._shapes: dict[tuple[Any, ...], int] = {}
        self._seen: dict[str, int] = {}  # packed text -> -(times left to write it in full) - 1, or its index
        self._shared: list[str] = []
        self._texts: dict[str, str] = {}  # text -> its escaped JSON (names, labels and rules repeat)

    def pack(self, value: Any) -> str:
        """The packed JSON text of ``value``, never itself a reference (a row is read on its own)."""
        return self._value(value, top=True)

    def tables(self) -> str:
        """The JSON the page unpacks with: ``{"shapes": [[key, …], …], "shared": [packed value, …]}``."""
        shapes = safe_json([[str(key) for key in keys] for keys in self._shapes], ascii_only=True)
        return '{"shapes":' + shapes + ',"shared":[' + ",".join(self._shared) + "]}"

    def _share(self, text: str) -> str:
        if len(text) <= MIN_SHARED:
            return text
        index = self._seen.get(text, -INLINE)
        if index < -1:  # met fewer than INLINE times: written in full
            self._seen[text] = index + 1
            return text
        if index == -1:
            index = self._seen[text] = len(self._shared)
            self._shared.append(text)
        return f"[{-2 - index}]"

    def _value(self, value: Any, top: bool = False) -> str:
        # The hottest function of a large report (about a hundred calls per finding): the commonest kinds come
        # first and the short paths are written out here rather than called.
        kind = type(value)
        if kind is float:  # a whole one without its ".0" (JavaScript has one kind of number); NaN, infinities null
            text = float.__repr__(value)
            if text.endswith(".0"):
                return text[:-2]
            return "null" if text[-1] in "nf" else text  # nan, inf, -inf
        if kind is str:
            escaped = self._texts.get(value)
            if escaped is None:
                escaped = self._texts[value] = _text(value)
            return escaped if len(escaped) <= MIN_SHARED else self._share(escaped)
        if kind is dict:
            key = tuple(value)
            shape = self._shapes.get(key)
            if shape is None:
                shape = self._shapes[key] = len(self._shapes)
            text = "[" + ",".join([str(shape), *map(self._value, value.values())]) + "]"
        elif kind is list or kind is tuple:
            text = "[" + ",".join(["-1", *map(self._value, value)]) + "]"
        elif value is None:
            return "null"
        elif kind is bool:
            return "true" if value else "false"
        elif kind is int:
            return str(value)
        else:  # numpy scalars and arrays, timestamps, pandas' missing values, subclasses of the above
            return self._other(jsonable(value), top)
        return text if top or len(text) <= MIN_SHARED else self._share(text)

    def _other(self, value: Any, top: bool) -> str:
        """A value :func:`jsonable` converted, as the plain type it is an instance of."""
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(int(value))
        if isinstance(value, float):
            return self._value(float(value), top)
        if isinstance(value, dict):
            return self._value(dict(value), top)
        if isinstance(value, list | tuple):
            return self._value(list(value), top)
        return self._share(_text(str(value)))
