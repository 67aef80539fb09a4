"""``_json``: exact decimals in and out, strict encoding of everything else."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketpulse import OrderItemType, TicketStatus, _json


def typed(value: Any) -> Any:
    """``value`` with every scalar tagged by its type, so that 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, Decimal):
        return (Decimal, str(value))
    return (type(value), value)


# --- Decoding ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["29.95", "59.90", "15.00", "0.1", "-0.50", "1E+2", "1.5e-7"])
def test_loads_reads_floats_as_exact_decimals(text: str) -> None:
    value = _json.loads(text.encode())

    assert isinstance(value, Decimal)
    assert value == Decimal(text)
    assert str(value) == str(Decimal(text))


def test_loads_keeps_ints_strings_bools_and_nulls() -> None:
    value = _json.loads(b'{"a": 1, "b": "x", "c": true, "d": false, "e": null, "f": [2]}')

    assert typed(value) == typed(
        {"a": 1, "b": "x", "c": True, "d": False, "e": None, "f": [2]},
    )


def test_loads_accepts_str_and_bytes() -> None:
    assert _json.loads('["Caf\u00e9"]') == _json.loads('["Caf\u00e9"]'.encode()) == ["Caf\u00e9"]


@pytest.mark.parametrize("body", [b"", b"{", b"[1,]", b"'x'", b"Order created", b"\xff"])
def test_loads_raises_value_error_for_non_json(body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the documented contract is ValueError
        _json.loads(body)


# --- Encoding ----------------------------------------------------------------


def test_dumps_writes_compact_ascii_bytes() -> None:
    body = _json.dumps({"a": [1, True, None], "b": "x"})

    assert body == b'{"a":[1,true,null],"b":"x"}'
    assert isinstance(body, bytes)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("29.95"), b"29.95"),
        (Decimal("59.90"), b"59.90"),
        (Decimal("15.00"), b"15.00"),
        (Decimal("0.10"), b"0.10"),
        (Decimal("-3.5"), b"-3.5"),
        (Decimal("100"), b"100"),
        (Decimal("1E+2"), b"1E+2"),
        (Decimal("0.0000001"), b"1E-7"),
    ],
)
def test_dumps_writes_decimal_with_exactly_its_digits(value: Decimal, expected: bytes) -> None:
    assert _json.dumps(value) == expected
    assert _json.dumps({"price": value}) == b'{"price":' + expected + b"}"


@pytest.mark.parametrize(("value", "expected"), [(29.95, b"29.95"), (0.1, b"0.1"), (1.0, b"1.0")])
def test_dumps_writes_float_by_its_shortest_repr(value: float, expected: bytes) -> None:
    assert _json.dumps(value) == expected


def test_dumps_writes_bool_as_json_bool_not_int() -> None:
    assert _json.dumps([True, False, 1, 0]) == b"[true,false,1,0]"


def test_dumps_writes_tuple_as_array() -> None:
    assert _json.dumps({"a": (1, "b")}) == b'{"a":[1,"b"]}'


def test_dumps_writes_int_subclass_as_plain_number() -> None:
    assert _json.dumps([TicketStatus.ACTIVE]) == b"[2]"


def test_dumps_writes_str_subclass_as_plain_string() -> None:
    assert _json.dumps({"order_item_type": OrderItemType.FEE}) == b'{"order_item_type":"fee"}'


@pytest.mark.parametrize(
    "text",
    [
        'say "hi"',
        "back\\slash",
        "C:\\tmp\\new",
        "line\nbreak\r\ttab",
        "\x00\x01\x1f\x7f",
        "\b\f",
        "Caf\u00e9 \u2014 \u00fc\u00df",
        "\u2028\u2029",
        "emoji \U0001f3ab",
        "</script>",
        "\ud800",  # a lone surrogate is still written losslessly
    ],
)
def test_dumps_escapes_strings_so_stdlib_json_reads_them_back(text: str) -> None:
    body = _json.dumps({"k": text, text: [text]})

    assert body.isascii()
    assert not any(byte < 0x20 for byte in body)
    assert json.loads(body) == {"k": text, text: [text]}
    assert _json.loads(body) == {"k": text, text: [text]}


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
    ],
)
def test_dumps_rejects_nan_and_infinity(value: Any) -> None:
    with pytest.raises(ValueError, match="cannot encode"):
        _json.dumps({"order_total": value})


@pytest.mark.parametrize("key", [1, None, 1.5, True, ("a",), Decimal("1")])
def test_dumps_rejects_non_string_keys(key: Any) -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        _json.dumps({"ok": 1, key: "x"})


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, object(), 1j])
def test_dumps_rejects_values_that_are_not_json(value: Any) -> None:
    with pytest.raises(TypeError, match="cannot encode"):
        _json.dumps([value])


# --- Round trips -------------------------------------------------------------


def test_round_trip_of_an_order_body_is_exact() -> None:
    order = {
        "order_total": Decimal("59.90"),
        "order_lines": [{"unit_price": Decimal("29.95"), "quantity": 2, "name": "GA"}],
        "locale": "nl",
        "paid": True,
        "note": None,
    }

    assert typed(_json.loads(_json.dumps(order))) == typed(order)


json_text = st.text()  # any code points except surrogates
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.decimals(
        min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False
    ).filter(lambda d: "E" in str(d) or "." in str(d))
    | json_text
)
json_documents = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(json_text, children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_documents)
def test_dumps_then_loads_is_the_identity(value: Any) -> None:
    body = _json.dumps(value)

    assert typed(_json.loads(body)) == typed(value)
    assert typed(json.loads(body, parse_float=Decimal)) == typed(value)


def test_loads_reads_what_stdlib_json_writes() -> None:
    data = {"name": "Caf\u00e9 \U0001f3ab", "price": 29.95, "ids": [1, 2], "ok": True, "x": None}

    for ensure_ascii in (True, False):
        decoded = _json.loads(json.dumps(data, ensure_ascii=ensure_ascii).encode("utf-8"))
        assert typed(decoded) == typed({**data, "price": Decimal("29.95")})
