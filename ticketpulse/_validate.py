"""Checks on user input, run before anything is sent (SPEC §6).

Every failure raises :class:`InvalidRequestError` naming the argument.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from ._errors import InvalidRequestError

__all__ = [
    "MAX_REFERENCE",
    "NUMBER",
    "aware_datetime",
    "decimal",
    "optional_text",
    "positive_int",
    "reference",
    "text",
]

NUMBER = re.compile(r"\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*")
"""A plain decimal number in ASCII digits (no underscores, NaN or Infinity)."""

# Control characters, line separators and lone surrogates (which cannot be
# encoded as UTF-8, so cannot be sent at all).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_MAX_ID = 2**63 - 1
MAX_REFERENCE = 200
"""The longest reference (ticket or order id) accepted."""


def positive_int(name: str, value: Any) -> int:
    """An id: a positive ``int`` (``bool`` and numeric strings are refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(f"{name} must be a positive int, not {_show(value)}")
    # An exact int from here on: a subclass's __format__ could write anything
    # into the URL the id goes into (which is not checked again at send).
    number: int = value if type(value) is int else int.__int__(value)
    if not 0 < number <= _MAX_ID:
        shown = number if -(10**18) < number <= 0 else "a number that large"
        raise InvalidRequestError(f"{name} must be a positive int below 2**63, not {shown}")
    return number


def reference(name: str, value: Any) -> str:
    """A reference such as a ticket or order id: a short, non-empty, printable string."""
    checked = text(name, value)
    if len(checked) > MAX_REFERENCE:
        raise InvalidRequestError(f"{name} is longer than {MAX_REFERENCE} characters")
    return checked


def text(name: str, value: Any) -> str:
    """A required, non-empty string without control characters."""
    if not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be a str, not {_show(value)}")
    # An exact str from here on: a subclass's methods (strip, __add__, ...)
    # could hide what it holds from these checks or from the percent-encoding.
    string: str = value if type(value) is str else str.__str__(value)
    if not string.strip():
        raise InvalidRequestError(f"{name} must not be empty")
    # Printable ASCII (most ids) holds none of them: the regex only for the rest.
    if not (string.isascii() and string.isprintable()) and _CONTROL.search(string):
        raise InvalidRequestError(f"{name} must not contain control characters")
    return string


def optional_text(name: str, value: Any) -> str | None:
    """An optional string (None allowed) without control characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be a str or None, not {_show(value)}")
    string: str = value if type(value) is str else str.__str__(value)  # exact, as in text()
    if _CONTROL.search(string):
        raise InvalidRequestError(f"{name} must not contain control characters")
    return string


def decimal(name: str, value: Any) -> Decimal:
    """A finite Decimal (models convert numbers to Decimal on construction)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidRequestError(f"{name} must be a finite Decimal, not {_show(value)}")
    return value


def aware_datetime(name: str, value: Any) -> datetime | None:
    """An optional datetime that knows its timezone (a naive one is ambiguous)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidRequestError(f"{name} must be a datetime, not {_show(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRequestError(
            f"{name} must be timezone-aware (e.g. datetime.now(UTC)); a naive datetime is ambiguous"
        )
    return value


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"
