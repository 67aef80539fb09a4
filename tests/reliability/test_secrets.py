"""Secrets (issue 5, suite 3): the API key and signed-URL secrets appear nowhere.

One sweep per client (``Client``, ``AsyncClient`` on asyncio and trio,
``AiohttpClient``), in-process and over loopback: every endpoint, every
documented error, every kind of retry, with every logger at DEBUG, warnings
recorded and every exception rendered with its chained causes
(``traceback.format_exception``). The key (raw and percent-encoded), a wrong
key, and the real ``secret=`` values of the URLs the sandbox issued must not
occur in any of it, nor in the repr of clients, results and errors.
"""

from __future__ import annotations

import json
import logging
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import pytest

import ticketpulse
from tests._clients import client_class
from ticketpulse import Attendee, NewOrder, OrderLine, SignedURL
from ticketpulse.testing import (
    Drop,
    FakeClock,
    NotJSON,
    Respond,
    Sandbox,
    Stall,
    StallBody,
    Truncate,
)

from .conftest import FLAVOURS, Api, Flavour, Sleeps, closed_port, with_marks

pytestmark = pytest.mark.anyio

KEY = "tp_live_Secr3t+Key/0123456789=abc"  # needs percent-encoding in a query
WRONG_KEY = "tp_live_WRONG_0123456789abcdef"
USER = 789
OTHER_USER = 790
EVENTS = "/tp-api/events"
TICKET_URL = "/tp-api/users/get-ticket"
LOGGERS = [
    "",
    "httpx",
    "httpcore",
    "ticketpulse",
    "ticketpulse.testing",
    "aiohttp",
    "aiohttp.client",
    "aiohttp.internal",
    "asyncio",
    "hpack",
]


@dataclass(frozen=True)
class Target:
    flavour: Flavour
    mode: str  # "in-process" or "loopback"

    def __str__(self) -> str:
        return f"{self.flavour}-{self.mode}"


TARGETS = [
    Target(flavour, mode)
    for flavour in FLAVOURS
    for mode in ("in-process", "loopback")
    # AiohttpClient and AsyncioClient need sockets: no in-process transport.
    if not (
        flavour.client in ("AsyncClient[aiohttp]", "AsyncClient[builtin]") and mode == "in-process"
    )
]


@pytest.fixture(params=with_marks(TARGETS))
def target(request: pytest.FixtureRequest) -> Target:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def anyio_backend(target: Target) -> str:
    return target.flavour.backend


class Capture(logging.Handler):
    """Every record of every logger, formatted with its exception and stack."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))
        self.texts.append(f"{record.msg!r} {record.args!r}")
        if record.stack_info:
            self.texts.append(record.stack_info)


@pytest.fixture
def logs() -> Iterator[Capture]:
    capture = Capture()
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def build_sandbox(clock: FakeClock) -> tuple[Sandbox, int, int]:
    """An account with KEY, an event with a ticket type, another account; the two ids."""
    sandbox = Sandbox(clock=clock)
    account = sandbox.add_account(KEY, name="Secretive partner")
    sandbox.add_account(name="Someone else")
    event = sandbox.add_event(account, name="Night", city="Utrecht", price="20.00")
    kind = sandbox.add_ticket_type(event, name="Standing", price="20.00", stock=100)
    return sandbox, event.id, kind.id


def an_order(reference: str, kind: int, quantity: int = 2, user: int = USER) -> NewOrder:
    return NewOrder(
        wp_order_id=reference,
        wp_user_id=user,
        order_lines=[OrderLine("Standing", quantity, 1, Decimal("20.00"), tp_event_ticket_id=kind)],
    )


class Sweep:
    """Runs calls, keeping their results and errors for inspection."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.results: list[Any] = []
        self.errors: list[BaseException] = []

    async def ok(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = await getattr(self.api, method)(*args, **kwargs)
        self.results.append(result)
        return result

    async def fails(
        self, error: type[BaseException], method: str, *args: Any, **kwargs: Any
    ) -> BaseException:
        with pytest.raises(error) as caught:
            await getattr(self.api, method)(*args, **kwargs)
        self.errors.append(caught.value)
        return caught.value


def rendered(error: BaseException) -> str:
    parts = ["".join(traceback.format_exception(error)), repr(error), str(error)]
    parts.append(repr(vars(error)))
    return "\n".join(parts)


def secret_of(url: SignedURL) -> str:
    return dict(parse_qsl(urlsplit(url.url).query))["secret"]


async def test_no_secret_appears_in_logs_warnings_errors_or_reprs(
    target: Target, logs: Capture, retry_sleeps: Sleeps, tmp_path: Path
) -> None:
    clock = FakeClock()
    sandbox, event, kind = build_sandbox(clock)
    server = sandbox.start_server() if target.mode == "loopback" else None
    cls = client_class(target.flavour.client)

    def make(key: str, **kwargs: Any) -> Api:
        if server is not None:
            return Api(cls(key, base_url=server.base_url, **kwargs))
        if target.flavour.client == "Client":
            return Api(sandbox.client(api_key=key, **kwargs))
        return Api(sandbox.async_client(api_key=key, **kwargs))

    api = make(KEY)
    short = Api(api.client.with_options(timeout=0.3))
    wrong = make(WRONG_KEY)
    probe = closed_port()
    unreachable = Api(cls(KEY, base_url=f"http://127.0.0.1:{probe.getsockname()[1]}/tp-api"))
    go, slow = Sweep(api), Sweep(short)
    faults = sandbox.faults
    with warnings.catch_warnings(record=True) as caught_warnings:
        warnings.simplefilter("always")
        try:
            # Every endpoint, with a retry of every kind on the way.
            faults.inject(Respond(503, retry_after=1), times=1)
            await go.ok("get_events")
            faults.inject(Respond(429, retry_after=datetime.now(UTC) + timedelta(seconds=9)))
            assert await go.ok("get_user_events", USER) == []
            faults.inject(Respond(429, retry_after=1), times=1, path="/tp-api/orders/create")
            await go.ok("create_order", an_order("first", kind))
            faults.inject(Drop(), times=1, method="GET")
            tickets = await go.ok("get_event_tickets", event, user_id=USER)
            people = [
                Attendee(t.id, "Jane", "Doe", "jane@example.com", "+31612345678") for t in tickets
            ]
            faults.inject(Drop(after_acting=True), times=1, method="POST")
            await go.ok("personalize_tickets", event, user_id=USER, tickets=people)
            faults.inject(Truncate(), times=1, method="GET")
            qr = await go.ok("get_ticket_url", tickets[0].id, user_id=USER)
            faults.inject(Respond.bad_gateway_html(), times=1)
            pdf = await go.ok("get_order_pdf_url", tickets[0].order_id, user_id=USER)
            faults.inject(Truncate(), times=1, path="/files/")
            await go.ok("download", qr, tmp_path)
            faults.inject(StallBody(30), times=1, path="/files/")
            await slow.ok("download", pdf, tmp_path / "order.pdf")
            urls = await go.ok("get_ticket_urls", [t.id for t in tickets], user_id=USER)
            go.results.append(await api.collect([t.id for t in tickets], user_id=USER))
            faults.inject(Stall(30), times=1, method="GET")
            await slow.ok("get_events")
            await go.ok("mark_order_processing", sandbox.orders()[0].id, order=an_order("x", kind))

            # Every documented error, and the failures a network adds.
            elsewhere = Sweep(wrong)
            await elsewhere.fails(ticketpulse.AuthenticationError, "get_events")
            await elsewhere.fails(
                ticketpulse.AuthenticationError, "create_order", an_order("w", kind)
            )
            await go.fails(ticketpulse.NotFoundError, "get_event_tickets", 999, user_id=USER)
            await go.fails(ticketpulse.NotFoundError, "mark_order_processing", 99999)
            await go.fails(
                ticketpulse.BadRequestError,
                "personalize_tickets",
                event,
                user_id=OTHER_USER,
                tickets=people[:1],
            )
            await go.fails(ticketpulse.NotPermittedError, "get_ticket_url", "nope", user_id=USER)
            await go.fails(
                ticketpulse.NotPermittedError, "get_ticket_url", tickets[0].id, user_id=OTHER_USER
            )
            await go.fails(ticketpulse.NotPermittedError, "get_order_pdf_url", "TP-9", user_id=USER)
            await go.ok("create_order", an_order("second", kind, quantity=1))
            listed = await go.ok("get_event_tickets", event, user_id=USER)
            fresh = [t for t in listed if t.status == 1]
            await go.fails(
                ticketpulse.FileNotReadyError, "get_ticket_url", fresh[0].id, user_id=USER
            )
            await go.fails(
                ticketpulse.FileNotReadyError, "get_order_pdf_url", fresh[0].order_id, user_id=USER
            )
            faults.inject(Respond(503), times=3, path=EVENTS)
            await go.fails(ticketpulse.ServerError, "get_events")
            faults.inject(Respond(429, retry_after=3600), times=1, path=EVENTS)
            await go.fails(ticketpulse.RateLimitError, "get_events")
            faults.inject(
                Respond(500, f"failed: GET /tp-api/events?key={quote(KEY, safe='')}"), path=EVENTS
            )
            await go.fails(ticketpulse.ServerError, "get_events")
            faults.inject(Respond(502, f"upstream {qr.url} failed"), times=3, path=TICKET_URL)
            await go.fails(ticketpulse.ServerError, "get_ticket_url", tickets[0].id, user_id=USER)
            faults.inject(NotJSON(f"<a href='/tp-api/events?key={KEY}'>login</a>"), path=EVENTS)
            await go.fails(ticketpulse.UnexpectedResponseError, "get_events")
            for fault in (Drop(), Respond(503), Truncate(), Stall(30)):
                faults.inject(fault, times=1, path="/tp-api/orders/create")
                await slow.fails(
                    ticketpulse.OrderOutcomeUnknownError, "create_order", an_order("lost", kind)
                )
            faults.inject(Stall(30), times=None, method="GET")
            await slow.fails(ticketpulse.APITimeoutError, "get_events")
            faults.clear()
            faults.inject(Drop(), times=None, method="GET")
            await go.fails(ticketpulse.APIConnectionError, "get_events")
            faults.clear()
            nowhere = Sweep(unreachable)
            await nowhere.fails(ticketpulse.APIConnectionError, "create_order", an_order("u", kind))
            await nowhere.fails(ticketpulse.APIConnectionError, "get_ticket_url", "a", user_id=1)
            tampered = SignedURL(
                url=qr.url.replace("secret=", "secret=x"), expires_at=qr.expires_at
            )
            await go.fails(ticketpulse.NotPermittedError, "download", tampered, tmp_path)
            clock.advance(7200)
            await go.fails(ticketpulse.NotPermittedError, "download", pdf, tmp_path)
            # Last: its cancelled sibling may reach the server after the failure.
            await go.fails(
                ticketpulse.NotPermittedError, "get_ticket_urls", [qr_id(qr), "nope"], user_id=USER
            )
        finally:
            for each in (api, wrong, unreachable):
                await each.close()
            if server is not None:
                server.stop()
            probe.close()
            if target.flavour.client not in ("AsyncClient[aiohttp]", "AsyncClient[builtin]"):
                await sandbox.aclose()

    signed = {secret_of(url) for url in (qr, pdf, *urls)}
    assert len(signed) == 3  # the QR codes of both tickets and the PDF (one clock tick)
    secrets = {KEY, quote(KEY, safe=""), quote_plus(KEY), WRONG_KEY}
    secrets |= signed | {quote(s, safe="") for s in signed}
    texts: dict[str, str] = {}
    texts |= {f"log {i}": text for i, text in enumerate(logs.texts)}
    texts |= {f"warning {i}": f"{w.message!s} {w.filename}" for i, w in enumerate(caught_warnings)}
    errors = go.errors + slow.errors + elsewhere.errors + nowhere.errors
    for i, error in enumerate(errors):
        texts[f"error {i} {type(error).__name__}"] = rendered(error)
    for i, result in enumerate(go.results + slow.results):
        texts[f"result {i}"] = repr(result) + str(result)
    for name, each in (("client", api), ("short", short), ("wrong", wrong)):
        texts[name] = repr(each.client) + str(each.client) + repr(vars(each.client))
    texts["sandbox log"] = repr(list(sandbox.requests)) + repr(sandbox)
    assert len(logs.texts) > 50  # the sweep was logged (httpx/httpcore/aiohttp, retries)
    assert len(errors) == 26  # every error of the sweep was caught and rendered
    leaks = [(where, s) for where, text in texts.items() for s in secrets if s in text]
    assert leaks == []


def qr_id(url: SignedURL) -> str:
    return urlsplit(url.url).path.rsplit("ticket_", 1)[-1].removesuffix(".png")


@pytest.mark.parametrize(
    "answer",
    [
        [{"id": KEY}],
        [{"id": 12, "start_date": KEY}],
        [{"id": 12, "start_date": "https://x.test/files/a.png?secret=S3cretSignature0123"}],
    ],
    ids=["key-as-id", "key-as-date", "signed-url-as-date"],
)
def test_a_2xx_answer_echoing_a_secret_does_not_put_it_in_the_error(answer: Any) -> None:
    sandbox, _, _ = build_sandbox(FakeClock())
    sandbox.faults.inject(Respond(200, json.dumps(answer), content_type="application/json"))
    with sandbox.client() as client, pytest.raises(ticketpulse.UnexpectedResponseError) as caught:
        client.get_events()
    text = rendered(caught.value)
    assert KEY not in text
    assert "S3cretSignature0123" not in text
