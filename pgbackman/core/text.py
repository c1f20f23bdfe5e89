"""Names shown on one line: database, role and node names are data and PostgreSQL lets them
hold control characters; a log line, a table cell or a one-line error must stay one line."""

from __future__ import annotations

import re

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def has_control_chars(text: str) -> bool:
    return _CONTROL_RE.search(text) is not None


def printable(text: str) -> str:
    """``text`` with control characters escaped as Python does (``\\n``, ``\\x1b``)."""
    if _CONTROL_RE.search(text) is None:
        return text
    return _CONTROL_RE.sub(lambda m: repr(m.group(0))[1:-1], text)


def undecodable(text: str) -> str | None:
    """The first byte that was not valid UTF-8 (Python maps it to a lone surrogate when it
    decodes argv or stdin with ``surrogateescape``), as ``0xFF``; None when the text is
    clean. Such text cannot be sent to PostgreSQL or written to a UTF-8 log."""
    for ch in text:
        if "\ud800" <= ch <= "\udfff":
            code = ord(ch)
            return f"0x{code - 0xDC00:02X}" if 0xDC80 <= code <= 0xDCFF else hex(code)
    return None
