"""JSON in and out, keeping prices exact.

Incoming floats become ``Decimal`` at decode time, so ``29.95`` on the wire is
``Decimal("29.95")`` with no binary rounding in between. Outgoing ``Decimal``
values are written as JSON numbers with exactly their digits, which the
standard encoder cannot do.
"""

from __future__ import annotations

import json
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any

__all__ = ["dumps", "loads"]


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_decoder = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constants)
_encode_str = encode_basestring_ascii


def loads(body: bytes | str) -> Any:
    """Decode a JSON document; floats become Decimal. Raises ValueError.

    A UTF-8 byte-order mark (some PHP setups send one) is skipped; NaN and
    Infinity are refused; nesting too deep to decode is a ValueError too.
    """
    text = body.decode() if isinstance(body, bytes) else body
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return _decoder.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except ArithmeticError:  # decimal.InvalidOperation: an exponent beyond Decimal's range
        raise ValueError("a number out of range") from None


def dumps(value: Any) -> bytes:
    """Encode plain data (dict, list, str, int, bool, None, Decimal) as compact JSON."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("ascii")


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode {value!r} as JSON")
        out.append(str(value))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"cannot encode {value!r} as JSON")
        out.append(float.__repr__(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():  # pyright: ignore[reportUnknownVariableType]
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {key!r}")
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")
