"""Hostile JSON in a 200 answer: a result or UnexpectedResponseError (SPEC §3, §9).

Never ``decimal.InvalidOperation``, ``RecursionError``, ``UnicodeError``,
``ValueError`` (Python's 4300-digit limit) or ``MemoryError``; the error's
text stays readable (not the 20 MB it was given); the follow-up works.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import ticketpulse

from .conftest import EVENTS, Api, HostileServer, Request, response, ticket_url

pytestmark = pytest.mark.anyio

DEEP = 100_000
_EVENT = json.dumps(EVENTS[0])[:-1]  # the first event, its closing brace left off


def _with_field(raw: str) -> bytes:
    """The events list, the event carrying an extra (ignored) field written as ``raw``."""
    return f'[{_EVENT}, "extra_field": {raw}}}]'.encode()


def _with(name: str, raw: str) -> bytes:
    """The events list with the event's field ``name`` written as ``raw``."""
    event = dict(EVENTS[0])
    event[name] = "@@"
    return json.dumps([event]).replace('"@@"', raw).encode()


EVENTS_BODIES: dict[str, bytes | Callable[[], bytes]] = {
    "100000-deep-list": b"[" * DEEP + b"]" * DEEP,
    "100000-deep-object": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "100000-deep-in-ignored-field": _with_field("[" * DEEP + "]" * DEEP),
    "100000-unclosed-lists": b"[" * DEEP,
    "huge-exponent-in-ignored-field": _with_field("1e9999999999999999999999"),
    "huge-negative-exponent-in-ignored-field": _with_field("1e-9999999999999999999999"),
    "huge-exponent-price": _with("price", "1e9999999999999999999999"),
    "huge-exponent-price-string": _with("price", '"1e9999999999999999999999"'),
    "huge-exponent-date": _with("start_date", "1e9999999999999999999999"),
    "huge-exponent-stock": _with("stock", "1e9999999999999999999999"),
    "100000-digit-integer-in-ignored-field": _with_field("9" * 100_000),
    "100000-digit-stock": _with("stock", "9" * 100_000),
    "100000-digit-id": _with("id", "9" * 100_000),
    "100000-digit-price": _with("price", "1." + "9" * 100_000),
    "100000-digit-date": _with("start_date", "9" * 100_000),
    "huge-date": _with("start_date", "99999999999999999999"),
    "nan-price": _with("price", "NaN"),
    "infinity-price": _with("price", "Infinity"),
    "minus-infinity-date": _with("start_date", "-Infinity"),
    "nan-string-price": _with("price", '"NaN"'),
    "snan-string-price": _with("price", '"sNaN"'),
    "invalid-utf8-in-name": _with("name", '"Summer \xff\xfe Festival"').replace(
        "\xff\xfe".encode(), b"\xff\xfe"
    ),
    "invalid-utf8-in-ignored-field": _with_field('"\\u0000"').replace(b"\\u0000", b"\xc3\x28"),
    "lone-surrogate-escape": _with("name", '"\\ud800"'),
    "nul-escape-in-name": _with("name", '"a\\u0000b"'),
    "20-mb-name": lambda: _with("name", '"' + "n" * 20_000_000 + '"'),
    "20-mb-ignored-field": lambda: _with_field('"' + "x" * 20_000_000 + '"'),
    "utf8-bom": b"\xef\xbb\xbf" + json.dumps(EVENTS).encode(),
    "utf16": json.dumps(EVENTS).encode("utf-16"),
    "duplicate-keys": _with_field("1").replace(b'"id": 12', b'"id": 12, "id": "x"'),
    "trailing-garbage": json.dumps(EVENTS).encode() + b"]]]}",
    "two-documents": json.dumps(EVENTS).encode() * 2,
    "empty-body": b"",
    "only-whitespace": b" \r\n\t ",
    "null": b"null",
    "object-not-list": b"{}",
    "a-string": b'"events"',
    "list-of-nulls": b"[null, null]",
}


def _built(body: bytes | Callable[[], bytes]) -> bytes:
    """The body (the 20 MB ones are built only by the test that sends them)."""
    return body if isinstance(body, bytes) else body()


def _check_result_or_unexpected(outcome: Any) -> None:
    outcome.typed()
    if outcome.error is not None:
        error = outcome.failed_with(ticketpulse.UnexpectedResponseError)
        assert len(str(error)) < 10_000, f"an error message of {len(str(error))} characters"


async def _follow_up(api: Api) -> None:
    events = await api.call("get_events")
    assert [e.id for e in events] == [12]
    await api.expect_own_answer("t2")


@pytest.mark.parametrize("case", list(EVENTS_BODIES), ids=list(EVENTS_BODIES))
async def test_hostile_json_events_give_a_result_or_unexpected_response_error(
    api: Api, server: HostileServer, case: str
) -> None:
    answer = response(200, _built(EVENTS_BODIES[case]))

    def script(request: Request) -> bytes | None:
        return answer if request.is_events and request.index == 1 else None

    server.script = script

    outcome = await api.attempt("get_events")
    _check_result_or_unexpected(outcome)
    if outcome.error is None:
        assert isinstance(outcome.value, list)
        assert all(isinstance(e, ticketpulse.Event) for e in outcome.value)
    await _follow_up(api)


TICKET_BODIES: dict[str, bytes | Callable[[], bytes]] = {
    "100000-deep-list": b"[" * DEEP + b"]" * DEEP,
    "huge-exponent": b"1e9999999999999999999999",
    "100000-digit-integer": b"9" * 100_000,
    "invalid-utf8-url": b'"https://files.example/qr/\xff\xfe.png?secret=S"',
    "lone-surrogate-url": b'"https://files.example/qr/\\udc80.png?secret=S"',
    "nul-in-url": b'"https://files.example/qr/a\\u0000b.png?secret=S"',
    "newline-in-url": b'"https://files.example/qr/a\\r\\nX-Evil: 1.png?secret=S"',
    "20-mb-url": lambda: b'"https://files.example/qr/' + b"u" * 20_000_000 + b'.png?secret=S"',
    "empty-string": b'""',
    "null": b"null",
    "a-list": b'["https://files.example/qr/t1.png"]',
    "relative-url": b'"/qr/t1.png?secret=S"',
}


@pytest.mark.parametrize("case", list(TICKET_BODIES), ids=list(TICKET_BODIES))
async def test_hostile_json_signed_urls_give_a_result_or_unexpected_response_error(
    api: Api, server: HostileServer, case: str
) -> None:
    answer = response(200, _built(TICKET_BODIES[case]))

    def script(request: Request) -> bytes | None:
        return answer if request.is_ticket and request.index == 1 else None

    server.script = script

    outcome = await api.ticket("t1")
    _check_result_or_unexpected(outcome)
    if outcome.error is None:
        assert isinstance(outcome.value, ticketpulse.SignedURL)
        assert outcome.value.url != ticket_url("t2")
    await _follow_up(api)
