"""Text from the data made harmless for a terminal or a log line.

Names, tags and ids come from whoever can tag a resource or write an export. A control character in them (ESC
starting a CSI sequence, a carriage return, a newline, C1 controls, DEL) could move the cursor, rewrite what was
printed before, change the window title or forge a log line. ``printable`` renders every one of them visibly
(``\\x1b``, ``\\n``), so the text is shown, never obeyed.
"""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape

# C0 controls, DEL, C1 controls, and the Unicode format/separator characters that reorder or break lines
# (bidi overrides, zero-width joiners, LINE/PARAGRAPH SEPARATOR).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _render(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(value: Any) -> str:
    """``str(value)`` with every control character rendered as a visible escape (``\\x1b``, ``\\n``)."""
    text = str(value)
    return _CONTROL.sub(_render, text) if _CONTROL.search(text) else text


def markup(value: Any) -> str:
    """``printable`` text, escaped for rich markup: a name like ``[red]`` or ``\\x1b[2J`` is shown literally."""
    return escape(printable(value))

