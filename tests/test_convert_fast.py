"""The fast readers (``_convert.fast_reader``) against the exact path they stand in for.

The exact path is ``_core.read_json`` of ``_convert.structurer``: ``_json.loads``
(JSON numbers as exact Decimals) and the cattrs converter. For any body, the
reader the clients use must return the very same model -- same types, same
Decimal digits and exponent, same datetime offsets -- or raise the same
UnexpectedResponseError message. Bodies are generated as text, so that numbers
can be written as a server might (``29.950``, ``1E2``, 20 digits...).
"""

from __future__ import annotations

import enum
import json
import subprocess
import sys
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ticketpulse import (
    Event,
    PersonalizationResult,
    SubEvent,
    Ticket,
    TicketType,
    UnexpectedResponseError,
    UserEvent,
    _convert,
    _endpoints,
    _json,
)
from ticketpulse._core import read_json

from .test_convert import (
    EVENTS_BODY,
    ID_PATHS,
    PERSONALIZATION_BODY,
    READ_NAMES,
    TICKETS_BODY,
    USER_EVENTS_BODY,
    _paths,
    _without_id,
    mutate,
)

RESPONSE_TYPES: list[Any] = [list[Event], list[UserEvent], list[Ticket], PersonalizationResult]
# Lists of the nested models too, to reach each of their fields directly.
READ_TYPES: list[Any] = [*RESPONSE_TYPES, list[TicketType], list[SubEvent]]
DOC_BODIES = [EVENTS_BODY, USER_EVENTS_BODY, TICKETS_BODY, PERSONALIZATION_BODY]


def exact_reader(cls: Any) -> Callable[[bytes], Any]:
    """The reference: stdlib JSON with Decimal floats, then the cattrs converter."""
    return read_json(_convert.structurer(cls))


_EXACT = {repr(cls): exact_reader(cls) for cls in READ_TYPES}
_FAST = {repr(cls): _convert.compile_reader(cls, _convert._fast()) for cls in READ_TYPES}


def _without_orjson() -> dict[str, Callable[[bytes], Any]]:
    real = _convert._orjson_loads
    _convert._orjson_loads = lambda: None  # type: ignore[assignment]
    try:
        return {repr(c): _convert.compile_reader(c, _convert._fast()) for c in READ_TYPES}
    finally:
        _convert._orjson_loads = real


_FAST_STDLIB = _without_orjson()


def same(a: Any, b: Any, where: str = "$") -> None:
    """``a`` and ``b`` are the same value down to types, Decimal exponents and offsets."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, Decimal):
        assert a.as_tuple() == b.as_tuple(), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, datetime):
        assert a == b, where
        assert a.tzinfo == b.tzinfo, where
        assert a.utcoffset() == b.utcoffset(), where
    elif isinstance(a, enum.Enum):
        assert (a.name, a.value) == (b.name, b.value), where
    elif attrs.has(type(a)):
        for field in attrs.fields(type(a)):
            same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{index}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            same(a[key], b[key], f"{where}.{key}")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def outcome(read: Callable[[bytes], Any], body: bytes) -> tuple[str, Any]:
    """A reader's result, or the message of the UnexpectedResponseError it raised."""
    try:
        return "model", read(body)
    except UnexpectedResponseError as exc:
        return "error", str(exc)


def check_equivalent(cls: Any, body: bytes) -> tuple[str, Any]:
    """The client's reader, and the fast path with and without orjson, match the exact path."""
    expected = outcome(_EXACT[repr(cls)], body)
    readers = {
        "client": _convert.fast_reader(cls, _EXACT[repr(cls)]),
        "fast": _FAST[repr(cls)],
        "fast without orjson": _FAST_STDLIB[repr(cls)],
    }
    for name, read in readers.items():
        got = outcome(read, body)
        if name != "client" and got == ("model", _convert.MISS):
            # Gave up: fine only where the exact path fails too.
            assert expected[0] == "error", f"{name} gave up on a readable body"
            continue
        assert got[0] == expected[0], f"{name}: {got} vs {expected}"
        if got[0] == "error":
            assert got[1] == expected[1], name
        else:
            same(got[1], expected[1])
    return expected


# --- The doc examples and the endpoints ------------------------------------


@pytest.mark.parametrize(("cls", "body"), list(zip(RESPONSE_TYPES, DOC_BODIES, strict=True)))
def test_doc_examples_read_the_same_through_the_fast_path(cls: Any, body: bytes) -> None:
    kind, _ = check_equivalent(cls, body)
    assert kind == "model"
    assert _FAST[repr(cls)](body) is not _convert.MISS


def test_endpoints_read_through_the_fast_path() -> None:
    read = _endpoints.get_events().read
    assert read(EVENTS_BODY) == _EXACT[repr(list[Event])](EVENTS_BODY)
    assert read(b"[]") == []
    with pytest.raises(UnexpectedResponseError, match=r"@ \$\[0\]\.tickets\[0\]\.price"):
        read(b'[{"id": 1, "tickets": [{"id": 2, "price": "abc"}]}]')
    with pytest.raises(UnexpectedResponseError, match="not valid JSON"):
        read(b"[1.5,")


# The type each reader of test_convert reads, and the endpoint's reader of it.
_READERS: dict[Any, tuple[Any, Callable[[bytes], Any]]] = {
    _convert.read_events: (list[Event], _endpoints.get_events().read),
    _convert.read_user_events: (list[UserEvent], _endpoints.get_user_events(789).read),
    _convert.read_tickets: (list[Ticket], _endpoints.get_event_tickets(12, user_id=789).read),
}


@pytest.mark.parametrize("null", [False, True], ids=["missing", "null"])
@pytest.mark.parametrize(
    ("reader", "make", "where", "path"),
    ID_PATHS,
    ids=[f"{c[3]} of {READ_NAMES[c[0]]}" for c in ID_PATHS],
)
def test_an_object_without_its_id_fails_the_same_through_the_fast_path(
    reader: Callable[[Any], Any],
    make: Callable[[], Any],
    where: tuple[Any, ...],
    path: str,
    null: bool,
) -> None:
    cls, endpoint_read = _READERS[reader]
    body = _json.dumps(_without_id(make(), where, null))

    kind, message = check_equivalent(cls, body)

    assert kind == "error"
    assert message.endswith(f"@ {path}")
    with pytest.raises(UnexpectedResponseError) as caught:
        endpoint_read(body)
    assert str(caught.value) == message


def test_exact_decimals_survive_the_orjson_path() -> None:
    body = (
        b'[{"id": 1, "price": 29.95,'
        b' "tickets": [{"id": 2, "price": 77.0}, {"id": 3, "price": 0.1}]}]'
    )
    assert _convert.floats_are_exact(body)
    (event,) = _FAST[repr(list[Event])](body)
    assert event.price.as_tuple() == Decimal("29.95").as_tuple()
    assert [t.price.as_tuple() for t in event.tickets] == [
        Decimal("77.0").as_tuple(),
        Decimal("0.1").as_tuple(),
    ]


def test_floats_in_free_form_objects_are_exact_decimals_on_the_orjson_path() -> None:
    body = (
        b'[{"id": 1, "children":'
        b' [{"id": 2, "event_params": {"fee": 2.5, "n": [0.1, {"x": 3.25}]}}]}]'
    )
    assert _convert.floats_are_exact(body)
    (event,) = _FAST[repr(list[Event])](body)
    params = event.children[0].event_params
    same(params, {"fee": Decimal("2.5"), "n": [Decimal("0.1"), {"x": Decimal("3.25")}]})
    check_equivalent(list[Event], body)


@pytest.mark.parametrize(("cls", "body"), list(zip(RESPONSE_TYPES, DOC_BODIES, strict=True)))
def test_models_built_through_init_or_slot_by_slot_are_the_same(
    cls: Any, body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _convert._slots_set_by_init(Event)  # the models are filled slot by slot
    monkeypatch.setattr(_convert, "_slots_set_by_init", lambda _cls: False)
    through_init = _convert.compile_reader(cls, _convert._fast())
    same(through_init(body), _EXACT[repr(cls)](body))


@pytest.mark.parametrize(
    "number",
    [
        b"29.950",
        b"15.00",
        b"1e2",
        b"1E2",
        b"2.5e-3",
        b"0.00001",
        b"1234567890123456.5",
        b"0.1234567890123456",
        b"12345678901.5",
        b"18446744073709551616",
        b"-9223372036854775809",
        b"1234567890123456789",
    ],
)
def test_numbers_a_float_cannot_reproduce_are_flagged(number: bytes) -> None:
    assert not _convert.floats_are_exact(b'{"price": ' + number + b"}")
    assert not _convert.floats_are_exact(b"[" + number + b"]")
    assert not _convert.floats_are_exact(number)


@pytest.mark.parametrize(
    "number", [b"29.95", b"77.0", b"0.0", b"-0.0", b"0.0001", b"1753920000.25", b"1234567.12345678"]
)
def test_numbers_a_float_reproduces_are_not_flagged(number: bytes) -> None:
    assert _convert.floats_are_exact(b"[" + number + b", 12]")


def test_import_loads_no_orjson_and_builds_no_reader() -> None:
    code = (
        "import sys, ticketpulse\n"
        "from ticketpulse import _convert as c\n"
        "print('orjson' in sys.modules, c._fast.cache_info().currsize,"
        " c._inexact_fraction.cache_info().currsize)"
    )
    out = subprocess.run(  # noqa: S603 - runs this interpreter on a fixed script
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.split() == ["False", "0", "0"]


# --- Properties: numbers ------------------------------------------------------

number_texts = st.builds(
    lambda sign, whole, fraction, exponent: f"{sign}{whole}{fraction}{exponent}",
    st.sampled_from(["", "-"]),
    st.one_of(st.integers(0, 999), st.integers(0, 10**22)).map(str),
    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=18).map(lambda d: "." + d)),
    st.one_of(
        st.just(""),
        st.builds(
            lambda e, s, n: f"{e}{s}{n}",
            st.sampled_from("eE"),
            st.sampled_from(["", "+", "-"]),
            st.integers(0, 30),
        ),
    ),
)


@settings(max_examples=300, deadline=None)
@given(text=number_texts)
@example(text="29.950")
@example(text="9007199254740993")
@example(text="0.30000000000000004")
def test_flagged_or_reproduced_exactly(text: str) -> None:
    """Every number not flagged decodes, through orjson, to the exact Decimal of _json."""
    body = f"[{text}]".encode()
    if not _convert.floats_are_exact(body):
        return
    expected = _json.loads(body)
    got = _convert.to_exact(orjson.loads(body))
    same(got, expected)


# JSON-ish text, with the characters that matter to the scan and to decoders.
json_ish = st.lists(
    st.sampled_from([*'0123456789.eE+-,:[]{}" \\ntrufalsn', "\u00e9", "\ud800", "\\u", "\ufeff"]),
    max_size=40,
).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None)
@given(body=json_ish | st.binary(max_size=30))
def test_orjson_is_used_only_where_it_agrees_with_json(body: bytes) -> None:
    if not _convert.floats_are_exact(body):
        return
    try:
        got = orjson.loads(body)
    except ValueError:
        return  # the fast path then decodes with _json
    same(_convert.to_exact(got), _json.loads(body))


# --- Properties: whole answers ------------------------------------------------


class Raw:
    """A JSON number written with exactly this text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def write(value: Any) -> str:
    """JSON text of ``value``; ``Raw`` numbers keep their text."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        items = typing.cast("dict[str, Any]", value).items()
        return "{" + ",".join(f"{json.dumps(k)}:{write(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(write(v) for v in typing.cast("list[Any]", value)) + "]"
    return json.dumps(value)


prices = st.one_of(
    st.integers(0, 10**6).map(lambda cents: Raw(f"{cents // 100}.{cents % 100:02d}")),
    st.integers(0, 10**5).map(lambda cents: Raw(f"{cents / 100!r}")),
    st.integers(0, 10**5).map(lambda cents: f"{cents // 100}.{cents % 100:02d}"),
    st.integers(0, 500).map(lambda n: Raw(str(n))),
    number_texts.map(Raw),
    st.none(),
)
timestamps = st.one_of(
    st.integers(0, 2**32),
    st.integers(0, 2**32).map(str),
    st.integers(0, 2**32).map(lambda t: Raw(f"{t}.5")),
    st.integers(0, 2**32).map(lambda t: datetime.fromtimestamp(t, UTC).isoformat()),
    st.integers(0, 2**32).map(
        lambda t: datetime.fromtimestamp(t, timezone(timedelta(hours=2))).isoformat()
    ),
    st.integers(0, 2**32).map(
        lambda t: datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    ),
    st.none(),
)
ints = st.one_of(
    st.integers(1, 10**6),
    st.integers(-(2**70), 2**70),
    st.integers(1, 10**6).map(str),
    st.integers(1, 1000).map(lambda n: Raw(f"{n}.0")),
)
strings = st.one_of(
    st.text(max_size=8), st.integers(0, 10**6), st.text("\ud800a\u00e9", max_size=3)
)
bools = st.one_of(st.booleans(), st.sampled_from([0, 1, "true", "0", "", " False "]))
params = st.one_of(
    st.just({}),
    st.just([]),
    st.dictionaries(
        st.text(max_size=4),
        st.one_of(
            st.text(max_size=4),
            st.integers(),
            prices,
            number_texts.map(Raw),
            st.lists(prices, max_size=2),
            st.dictionaries(st.text(max_size=2), prices, max_size=2),
        ),
        max_size=3,
    ),
)
statuses = st.one_of(st.integers(1, 7), st.sampled_from(["2", "5"]))


def field_values(hint: Any) -> st.SearchStrategy[Any]:
    """Valid (leniently so) JSON values for a model field of type ``hint``."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is list:
        return st.one_of(st.lists(objects(args[0]), max_size=2), st.just({}))
    if attrs.has(hint):
        return objects(hint)
    base = next((a for a in args if a is not type(None)), hint)
    optional = type(None) in args
    table: dict[Any, st.SearchStrategy[Any]] = {
        int: ints,
        str: strings,
        bool: bools,
        Decimal: prices,
        datetime: timestamps,
        dict[str, Any]: params,
    }
    if base not in table:
        table[base] = statuses  # TicketStatus
    values = table[base]
    return st.one_of(values, st.none()) if optional else values


@st.composite
def objects(draw: st.DrawFn, cls: type[Any]) -> dict[str, Any]:
    """A JSON object for model ``cls``: some optional fields left out, unknown ones added."""
    hints = typing.get_type_hints(cls)
    data: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.default is attrs.NOTHING or draw(st.integers(0, 4)):
            data[field.name] = draw(field_values(hints[field.name]))
    if draw(st.integers(0, 5)) == 0:
        data["unknown_" + draw(st.text("xyz", max_size=2))] = draw(st.one_of(prices, strings))
    order = draw(st.permutations(list(data))) if draw(st.integers(0, 5)) == 0 else list(data)
    return {key: data[key] for key in order}


def documents(cls: Any) -> st.SearchStrategy[Any]:
    if typing.get_origin(cls) is list:
        return st.lists(objects(typing.get_args(cls)[0]), max_size=3)
    return objects(cls)


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    number_texts.map(Raw),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def mutated(draw: st.DrawFn, cls: Any) -> Any:
    """A valid document with one to three values replaced by junk or removed."""
    data = draw(documents(cls))
    if not list(_paths(data)):
        return draw(junk)
    return mutate(draw, data, junk)


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(data=st.data())
def test_valid_answers_read_the_same_and_through_the_fast_path(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(RESPONSE_TYPES))
    body = write(data.draw(documents(cls))).encode("utf-8", "surrogatepass")
    kind, _ = check_equivalent(cls, body)
    if kind == "model":
        assert _FAST[repr(cls)](body) is not _convert.MISS, body
        assert _FAST_STDLIB[repr(cls)](body) is not _convert.MISS, body


@PROPERTY
@given(data=st.data())
def test_mutated_answers_read_the_same_or_fail_the_same(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(RESPONSE_TYPES))
    body = write(data.draw(mutated(cls))).encode("utf-8", "surrogatepass")
    if data.draw(st.integers(0, 9)) == 0:
        body = body[: data.draw(st.integers(0, len(body)))]  # cut short: not JSON
    check_equivalent(cls, body)


fees = st.floats(0, 9).map(lambda fee: round(fee, 2))
compact_ticket_types = st.fixed_dictionaries(
    {
        "id": st.integers(1, 10**9),
        "name": st.sampled_from(["Regular", "VIP", "Early Bird"]),
        "stock": st.integers(0, 1000),
        "price": st.floats(5, 150).map(lambda price: round(price, 2)),
        "status": st.just(1),
        "date": st.none() | st.integers(1_753_920_000, 1_763_920_000),
        "enabled": st.booleans(),
    }
)


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(
        st.fixed_dictionaries(
            {
                "id": st.integers(1, 10**9),
                "price": st.floats(5, 150).map(lambda price: f"{price:.2f}"),
                "start_date": st.integers(1_753_920_000, 1_763_920_000),
                "tickets": st.lists(compact_ticket_types, max_size=3),
                "children": st.lists(
                    st.fixed_dictionaries(
                        {
                            "id": st.integers(1, 10**9),
                            "tickets": st.lists(compact_ticket_types, max_size=3),
                            "event_params": st.just({})
                            | st.fixed_dictionaries(
                                {
                                    "door": st.just("B"),
                                    "fee": st.floats(0, 9).map(lambda f: round(f, 2)),
                                }
                            ),
                            "deleted_at": st.none(),
                        }
                    ),
                    max_size=2,
                ),
            }
        ),
        max_size=3,
    )
)
def test_benchmark_like_answers_read_the_same(events: list[dict[str, Any]]) -> None:
    """Compact bodies with float prices and int timestamps, as in the benchmark: orjson's."""
    body = json.dumps(events, separators=(",", ":")).encode()
    assert _convert.floats_are_exact(body)
    assert check_equivalent(list[Event], body)[0] == "model"
    assert _FAST[repr(list[Event])](body) is not _convert.MISS


@PROPERTY
@given(data=st.data())
def test_any_one_field_of_another_type_reads_the_same_or_fails_the_same(
    data: st.DataObject,
) -> None:
    """Each field of each model, in turn given a value of another kind (a bool, say)."""
    cls = data.draw(st.sampled_from(READ_TYPES))
    model = typing.get_args(cls)[0] if typing.get_origin(cls) is list else cls
    obj = data.draw(objects(model))
    obj[data.draw(st.sampled_from([f.name for f in attrs.fields(model)]))] = data.draw(junk)
    check_equivalent(cls, write([obj] if model is not cls else obj).encode())
