"""The retry generator (SPEC §5) as a table: scripted outcomes in, the exact yields out.

``attempts()`` yields None to ask for a send (and receives the scripted Answer or
Failure) and a float to ask for a sleep; each row asserts that whole sequence and
the result or the exact exception. The jitter is pinned; no HTTP, no sleeping.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from ticketpulse import _endpoints as api
from ticketpulse._core import Answer, Call, Failure, FailureKind
from ticketpulse._errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    NotPermittedError,
    OrderOutcomeUnknownError,
    RateLimitError,
    ServerError,
    TicketPulseError,
)
from ticketpulse._models import Attendee, NewOrder, OrderLine, PersonalizationResult
from ticketpulse._retry import PENDING, RetryPolicy, attempts, result_at_once

SEND = "send"
URL = "https://ticket-pulse.com/tp-api/x?key=[redacted]"

GET = api.get_events()
PERSONALIZE = api.personalize_tickets(
    12, user_id=789, tickets=[Attendee("a3f9b", "Jane", "Doe", "j@example.com", "+31")]
)
ORDER = api.create_order(NewOrder(order_lines=[OrderLine("GA", 1, 101, "29.95")]))
PROCESSING = api.mark_order_processing(123)

EVENTS = Answer(200, b"[]")
PERSONALIZED = Answer(200, b'{"tickets": [], "all_personalized": false}')
CREATED = Answer(200, b"Order created")
NOT_SENT = Failure(FailureKind.NOT_SENT, "ConnectError: connection refused")
SENT = Failure(FailureKind.SENT, "ReadError: connection reset")
SENT_TIMEOUT = Failure(FailureKind.SENT, "ReadTimeout: timed out", timeout=True)
NOT_SENT_TIMEOUT = Failure(FailureKind.NOT_SENT, "PoolTimeout: no connection", timeout=True)
INVALID = Failure(FailureKind.INVALID, "UnsupportedProtocol: bad URL")


@dataclasses.dataclass(frozen=True)
class In:
    """A Retry-After HTTP date this many seconds from when the row runs."""

    seconds: int


def status(code: int, retry_after: str | In | None = None, body: bytes = b"busy") -> Answer:
    headers: dict[str, Any] = {} if retry_after is None else {"retry-after": retry_after}
    return Answer(code, body, headers)


class About(float):
    """A sleep that depends on the clock: equal within a second and a half."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, float) and abs(other - float(self)) <= 1.5

    __hash__ = float.__hash__


DEFAULT_POLICY = RetryPolicy()


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    call: Call[Any]
    outcomes: tuple[Answer | Failure, ...]
    steps: tuple[object, ...]
    """SEND for each send asked for, a float for each sleep."""
    result: object = None
    error: type[TicketPulseError] | None = None
    status_code: int | None = None
    """The error's status_code, when it has one."""
    fragment: str = ""
    """A fragment of the error's message."""
    policy: RetryPolicy = DEFAULT_POLICY
    jitter: float = 0.0
    """What random.random() returns."""


def ok(
    name: str,
    call: Call[Any],
    outcomes: tuple[Any, ...],
    steps: tuple[object, ...],
    result: object,
    **kw: Any,
) -> Row:
    return Row(name, call, outcomes, steps, result=result, **kw)


def err(
    name: str,
    call: Call[Any],
    outcomes: tuple[Any, ...],
    steps: tuple[object, ...],
    error: type[TicketPulseError],
    **kw: Any,
) -> Row:
    return Row(name, call, outcomes, steps, error=error, **kw)


ONCE = (SEND,)
TWICE = (SEND, 0.5, SEND)
THRICE = (SEND, 0.5, SEND, 1.0, SEND)

ROWS = [
    # -- GET: retried on 429, 502, 503, 504 and on connection failures
    ok("GET answered", GET, (EVENTS,), ONCE, []),
    ok("GET 429 then answered", GET, (status(429), EVENTS), TWICE, []),
    ok("GET 502 then answered", GET, (status(502), EVENTS), TWICE, []),
    ok("GET 503 then answered", GET, (status(503), EVENTS), TWICE, []),
    ok("GET 504 then answered", GET, (status(504), EVENTS), TWICE, []),
    ok("GET 502, 503 then answered", GET, (status(502), status(503), EVENTS), THRICE, []),
    ok("GET not sent then answered", GET, (NOT_SENT, EVENTS), TWICE, []),
    ok("GET sent, answer lost, then answered", GET, (SENT, EVENTS), TWICE, []),
    ok("GET timed out then answered", GET, (SENT_TIMEOUT, EVENTS), TWICE, []),
    ok("GET pool timeout then answered", GET, (NOT_SENT_TIMEOUT, EVENTS), TWICE, []),
    ok("GET failure, then 503, then answered", GET, (SENT, status(503), EVENTS), THRICE, []),
    # -- max_retries exhausted: the last outcome's error
    err("GET 504 three times", GET, (status(504),) * 3, THRICE, ServerError, status_code=504),
    err("GET 429 three times", GET, (status(429),) * 3, THRICE, RateLimitError, status_code=429),
    err(
        "GET 503, 503, 429",
        GET,
        (status(503), status(503), status(429)),
        THRICE,
        RateLimitError,
        status_code=429,
    ),
    err(
        "GET not sent three times",
        GET,
        (NOT_SENT,) * 3,
        THRICE,
        APIConnectionError,
        fragment="could not connect to the API after 3 attempts",
    ),
    err(
        "GET lost three times",
        GET,
        (SENT,) * 3,
        THRICE,
        APIConnectionError,
        fragment="connection lost before the answer after 3 attempts",
    ),
    err(
        "GET timed out three times",
        GET,
        (SENT_TIMEOUT,) * 3,
        THRICE,
        APITimeoutError,
        fragment="timed out after 3 attempts",
    ),
    err(
        "GET pool timeout three times",
        GET,
        (NOT_SENT_TIMEOUT,) * 3,
        THRICE,
        APITimeoutError,
        fragment="PoolTimeout",
    ),
    err(
        "GET two timeouts, then a reset",
        GET,
        (SENT_TIMEOUT, SENT_TIMEOUT, SENT),
        THRICE,
        APIConnectionError,
        fragment="ReadError",
    ),
    err(
        "GET invalid request: never repeated",
        GET,
        (INVALID,),
        ONCE,
        APIConnectionError,
        fragment="request failed",
    ),
    err(
        "GET with no retries",
        GET,
        (status(503),),
        ONCE,
        ServerError,
        policy=RetryPolicy(max_retries=0),
    ),
    err(
        "GET not sent, no retries",
        GET,
        (NOT_SENT,),
        ONCE,
        APIConnectionError,
        fragment="could not connect to the API (",
        policy=RetryPolicy(max_retries=0),
    ),
    err(
        "GET timed out once, no retries",
        GET,
        (SENT_TIMEOUT,),
        ONCE,
        APITimeoutError,
        fragment="request timed out (",
        policy=RetryPolicy(max_retries=0),
    ),
    # -- never retried
    err(
        "GET 400",
        GET,
        (status(400, body=b"Wordpress user not specified"),),
        ONCE,
        BadRequestError,
        status_code=400,
        fragment="Wordpress user not specified",
    ),
    err("GET 401", GET, (status(401),), ONCE, NotPermittedError, status_code=401),
    err(
        "GET 403",
        GET,
        (status(403, body=b"Unauthorized"),),
        ONCE,
        AuthenticationError,
        status_code=403,
    ),
    err(
        "GET 403 even with Retry-After",
        GET,
        (status(403, "1"),),
        ONCE,
        AuthenticationError,
        status_code=403,
    ),
    err(
        "GET 404",
        GET,
        (status(404, body=b"Event not found"),),
        ONCE,
        NotFoundError,
        status_code=404,
    ),
    err("GET 500", GET, (status(500),), ONCE, ServerError, status_code=500),
    err(
        "GET 500 even with Retry-After",
        GET,
        (status(500, "1"),),
        ONCE,
        ServerError,
        status_code=500,
    ),
    err("GET 501", GET, (status(501),), ONCE, ServerError, status_code=501),
    ok(
        "GET 404 no orders is an answer",
        api.get_user_events(1),
        (status(404, body=b"External user has no orders"),),
        ONCE,
        [],
    ),
    # -- Retry-After (RFC 9110 §10.2.3): seconds or an HTTP date, up to the cap
    ok("Retry-After 3", GET, (status(429, "3"), EVENTS), (SEND, 3.0, SEND), []),
    ok("Retry-After 0", GET, (status(503, "0"), EVENTS), (SEND, 0.0, SEND), []),
    ok(
        "Retry-After with spaces and a fraction",
        GET,
        (status(429, " 2.5 "), EVENTS),
        (SEND, 2.5, SEND),
        [],
    ),
    ok("Retry-After at the cap", GET, (status(429, "60"), EVENTS), (SEND, 60.0, SEND), []),
    ok("Retry-After negative: no wait", GET, (status(429, "-5"), EVENTS), (SEND, 0.0, SEND), []),
    ok("Retry-After as a date", GET, (status(429, In(30)), EVENTS), (SEND, About(30), SEND), []),
    ok("Retry-After as a date past", GET, (status(503, In(-3600)), EVENTS), (SEND, 0.0, SEND), []),
    ok(
        "Retry-After, then backoff",
        GET,
        (status(429, "3"), status(503), EVENTS),
        (SEND, 3.0, SEND, 1.0, SEND),
        [],
    ),
    ok(
        "backoff, then Retry-After",
        GET,
        (status(503), status(429, "7"), EVENTS),
        (SEND, 0.5, SEND, 7.0, SEND),
        [],
    ),
    err(
        "Retry-After over the cap", GET, (status(429, "61"),), ONCE, RateLimitError, status_code=429
    ),
    err(
        "Retry-After over the cap on a 503",
        GET,
        (status(503, "3600"),),
        ONCE,
        ServerError,
        status_code=503,
    ),
    err(
        "Retry-After as a date over the cap",
        GET,
        (status(429, In(3600)),),
        ONCE,
        RateLimitError,
        status_code=429,
    ),
    err(
        "Retry-After over the cap, second try",
        GET,
        (status(503), status(429, "120")),
        TWICE,
        RateLimitError,
    ),
    ok(
        "Retry-After under a raised cap",
        GET,
        (status(429, "120"), EVENTS),
        (SEND, 120.0, SEND),
        [],
        policy=RetryPolicy(max_retry_after=300),
    ),
    ok("Retry-After nonsense: backoff", GET, (status(429, "soon"), EVENTS), TWICE, []),
    ok("Retry-After empty: backoff", GET, (status(429, ""), EVENTS), TWICE, []),
    ok("Retry-After NaN: backoff", GET, (status(429, "nan"), EVENTS), TWICE, []),
    ok("Retry-After inf: backoff", GET, (status(429, "inf"), EVENTS), TWICE, []),
    ok(
        "Retry-After a broken date: backoff",
        GET,
        (status(503, "Mon, 99 Foo 2025 25:61:00 GMT"), EVENTS),
        TWICE,
        [],
    ),
    # -- backoff: 0.5 s doubling up to max_delay, times 0.75-1 for jitter
    ok(
        "backoff up to max_delay",
        GET,
        (status(503),) * 6 + (EVENTS,),
        (SEND, 0.5, SEND, 1.0, SEND, 2.0, SEND, 4.0, SEND, 8.0, SEND, 8.0, SEND),
        [],
        policy=RetryPolicy(max_retries=6),
    ),
    ok(
        "backoff with jitter",
        GET,
        (status(503), NOT_SENT, EVENTS),
        (SEND, 0.4375, SEND, 0.875, SEND),
        [],
        jitter=0.5,
    ),
    ok(
        "backoff with the most jitter",
        GET,
        (status(503), EVENTS),
        (SEND, 0.375, SEND),
        [],
        jitter=1.0,
    ),
    ok(
        "backoff from a policy",
        GET,
        (SENT, SENT, EVENTS),
        (SEND, 0.1, SEND, 0.2, SEND),
        [],
        policy=RetryPolicy(initial_delay=0.1),
    ),
    # -- personalisation: a POST the doc says is safe to repeat
    ok(
        "personalize 503 then answered",
        PERSONALIZE,
        (status(503), PERSONALIZED),
        TWICE,
        PersonalizationResult([], all_personalized=False),
    ),
    ok(
        "personalize lost then answered",
        PERSONALIZE,
        (SENT, PERSONALIZED),
        TWICE,
        PersonalizationResult([], all_personalized=False),
    ),
    err(
        "personalize 400",
        PERSONALIZE,
        (status(400, body=b"Tickets not specified"),),
        ONCE,
        BadRequestError,
    ),
    # -- orders: repeated only when certainly not sent, or on 429
    ok("order created", ORDER, (CREATED,), ONCE, None),
    ok("order not sent then created", ORDER, (NOT_SENT, CREATED), TWICE, None),
    ok("order pool timeout then created", ORDER, (NOT_SENT_TIMEOUT, CREATED), TWICE, None),
    ok("order 429 then created", ORDER, (status(429), CREATED), TWICE, None),
    ok(
        "order 429 with Retry-After then created",
        ORDER,
        (status(429, "2"), CREATED),
        (SEND, 2.0, SEND),
        None,
    ),
    err(
        "order not sent three times",
        ORDER,
        (NOT_SENT,) * 3,
        THRICE,
        APIConnectionError,
        fragment="could not connect",
    ),
    err("order pool timeout three times", ORDER, (NOT_SENT_TIMEOUT,) * 3, THRICE, APITimeoutError),
    err(
        "order 429 three times", ORDER, (status(429),) * 3, THRICE, RateLimitError, status_code=429
    ),
    err("order 429 over the cap", ORDER, (status(429, "61"),), ONCE, RateLimitError),
    err(
        "order lost",
        ORDER,
        (SENT,),
        ONCE,
        OrderOutcomeUnknownError,
        fragment="may have reached the server",
    ),
    err(
        "order timed out after sending",
        ORDER,
        (SENT_TIMEOUT,),
        ONCE,
        OrderOutcomeUnknownError,
        fragment="ReadTimeout",
    ),
    err("order not sent, then lost", ORDER, (NOT_SENT, SENT), TWICE, OrderOutcomeUnknownError),
    err("order 429, then lost", ORDER, (status(429), SENT), TWICE, OrderOutcomeUnknownError),
    err(
        "order 500",
        ORDER,
        (status(500),),
        ONCE,
        OrderOutcomeUnknownError,
        status_code=500,
        fragment="may or may not have been applied",
    ),
    err("order 502", ORDER, (status(502),), ONCE, OrderOutcomeUnknownError, status_code=502),
    err("order 503", ORDER, (status(503),), ONCE, OrderOutcomeUnknownError, status_code=503),
    err(
        "order 503 with Retry-After",
        ORDER,
        (status(503, "1"),),
        ONCE,
        OrderOutcomeUnknownError,
        status_code=503,
    ),
    err("order 504", ORDER, (status(504),), ONCE, OrderOutcomeUnknownError, status_code=504),
    err(
        "order 200 not 'Order created'",
        ORDER,
        (Answer(200, b"<html>Welcome</html>"),),
        ONCE,
        OrderOutcomeUnknownError,
        status_code=200,
        fragment="expected 'Order created'",
    ),
    err(
        "order 200 empty",
        ORDER,
        (Answer(200, b""),),
        ONCE,
        OrderOutcomeUnknownError,
        status_code=200,
    ),
    err(
        "order 202 'Accepted'",
        ORDER,
        (Answer(202, b"Accepted"),),
        ONCE,
        OrderOutcomeUnknownError,
        status_code=202,
    ),
    err("order 400", ORDER, (status(400),), ONCE, BadRequestError, status_code=400),
    err(
        "order 403",
        ORDER,
        (status(403, body=b"You do not have access to this order"),),
        ONCE,
        AuthenticationError,
    ),
    err(
        "order 404",
        ORDER,
        (status(404, body=b"No order lines specified"),),
        ONCE,
        NotFoundError,
        fragment="No order lines specified",
    ),
    err(
        "order invalid request",
        ORDER,
        (INVALID,),
        ONCE,
        APIConnectionError,
        fragment="request failed",
    ),
    ok("processing created", PROCESSING, (CREATED,), ONCE, None),
    ok("processing 429 then created", PROCESSING, (status(429), CREATED), TWICE, None),
    err("processing lost", PROCESSING, (SENT,), ONCE, OrderOutcomeUnknownError),
    err(
        "processing 503",
        PROCESSING,
        (status(503),),
        ONCE,
        OrderOutcomeUnknownError,
        status_code=503,
    ),
    err(
        "processing 200 not 'Order created'",
        PROCESSING,
        (Answer(200, b"OK"),),
        ONCE,
        OrderOutcomeUnknownError,
    ),
]


def _dated(outcome: Answer | Failure) -> Answer | Failure:
    if not isinstance(outcome, Answer):
        return outcome
    headers = {
        name: (
            format_datetime(datetime.now(UTC) + timedelta(seconds=value.seconds), usegmt=True)
            if isinstance(value, In)
            else value
        )
        for name, value in outcome.headers.items()
    }
    return outcome._replace(headers=headers)


def drive(row: Row, *, as_clients: bool) -> tuple[list[object], object, BaseException | None]:
    """Run the row's outcomes through the retry policy: (yields, result, error).

    ``as_clients``: as both clients do, the first attempt outside the generator
    (``result_at_once``, then ``attempts(first=...)``); else all through it.
    """
    steps: list[object] = []
    script = list(row.outcomes)
    first: Answer | Failure | None = None
    if as_clients:
        steps.append(SEND)
        first = _dated(script.pop(0))
        try:
            result = result_at_once(row.call, first, method=row.call.method, url=URL)
        except TicketPulseError as exc:
            return steps, None, exc
        if result is not PENDING:
            assert not script, f"{len(script)} scripted outcomes never asked for"
            return steps, result, None
    generator = attempts(row.call, row.policy, method=row.call.method, url=URL, first=first)
    try:
        step = next(generator)
        while True:
            if step is None:
                steps.append(SEND)
                assert script, f"asked to send more than {len(row.outcomes)} times"
                step = generator.send(_dated(script.pop(0)))
            else:
                assert type(step) is float, step
                steps.append(step)
                step = generator.send(None)
    except StopIteration as stop:
        error, result = None, stop.value
    except TicketPulseError as exc:
        error, result = exc, None
    assert not script, f"{len(script)} scripted outcomes never asked for"
    return steps, result, error


@pytest.mark.parametrize("as_clients", [False, True], ids=["generator", "as-clients"])
@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_retries(row: Row, as_clients: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "random", lambda: row.jitter)
    steps, result, error = drive(row, as_clients=as_clients)
    assert steps == list(row.steps)
    if row.error is None:
        assert error is None
        assert result == row.result
        return
    assert type(error) is row.error
    assert error.method == row.call.method
    assert error.url == URL
    assert row.fragment in str(error)
    if row.status_code is not None:
        assert error.status_code == row.status_code


def test_the_table_drives_every_kind_of_outcome() -> None:
    scripted = {type(o).__name__ for row in ROWS for o in row.outcomes}
    kinds = {o.kind for row in ROWS for o in row.outcomes if isinstance(o, Failure)}
    statuses = {o.status for row in ROWS for o in row.outcomes if isinstance(o, Answer)}
    assert scripted == {"Answer", "Failure"}
    assert kinds == set(FailureKind)
    assert {429, 502, 503, 504, 400, 401, 403, 404, 500} <= statuses
    assert {row.call.idempotent for row in ROWS} == {True, False}


def test_the_jitter_is_drawn_for_every_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([0.0, 1.0])
    monkeypatch.setattr(random, "random", lambda: next(draws))
    row = Row("", GET, (status(503), status(503), EVENTS), ())
    steps, result, _ = drive(row, as_clients=False)
    assert (steps, result) == ([SEND, 0.5, SEND, 0.75, SEND], [])


def test_a_429_that_is_not_retried_says_how_long_to_wait() -> None:
    row = Row("", GET, (status(429, "90"),), ())
    _, _, error = drive(row, as_clients=False)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 90.0


def test_an_error_body_echoing_the_key_is_scrubbed() -> None:
    secret = "tp_live_S3CRETkey0123456789"
    row = Row(
        "", ORDER, (status(503, body=f"upstream /orders/create?key={secret} failed".encode()),), ()
    )
    _, _, error = drive(row, as_clients=False)
    assert isinstance(error, OrderOutcomeUnknownError)
    assert secret not in str(error)
    assert secret not in repr(error.args)
