"""AsyncClient(transport="builtin" | "aiohttp"): the AsyncClient behaviours on asyncio-only I/O.

respx mocks httpx only, so these tests check the same wire format, errors,
retries and redaction through a real server on loopback: the sandbox, its
request log and its fault injection.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import socket
import traceback
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import ticketpulse
from tests._clients import client_class
from ticketpulse import Attendee, NewOrder, OrderLine
from ticketpulse._convert import unstructure_body
from ticketpulse._json import dumps
from ticketpulse.testing import Drop, Respond, Sandbox, Stall

from .conftest import Api
from .test_end_to_end import ga_order
from .test_end_to_end import test_the_whole_flow as whole_flow

pytestmark = pytest.mark.anyio

needs_aiohttp = pytest.mark.skipif(
    importlib.util.find_spec("aiohttp") is None, reason="the ticketpulse[aiohttp] extra"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # both run on asyncio only


@pytest.fixture(
    params=[
        pytest.param("AsyncClient[builtin]"),
        pytest.param("AsyncClient[aiohttp]", marks=needs_aiohttp),  # the ticketpulse[aiohttp] extra
    ]
)
def client_cls(request: pytest.FixtureRequest) -> Any:
    return client_class(request.param)


KEY = "tp_live_aiohttp_S3CRET_0123456789"


@pytest.fixture
def sandbox() -> Sandbox:
    sandbox = Sandbox.demo()
    sandbox.add_account(KEY, name="Second partner")
    return sandbox


@pytest.fixture
async def base_url(sandbox: Sandbox) -> AsyncIterator[str]:
    async with sandbox.aserve() as url:
        yield url


@pytest.fixture
async def client(sandbox: Sandbox, base_url: str, client_cls: Any) -> AsyncIterator[Any]:
    async with client_cls(sandbox.api_key, base_url=base_url) as client:
        yield client


async def test_the_whole_flow(client: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    await whole_flow(Api(client), sandbox, tmp_path)


async def test_wire_format_of_every_endpoint(client: Any, sandbox: Sandbox) -> None:
    await client.get_events()
    await client.get_user_events(789)
    await client.create_order(ga_order(quantity=1))
    await client.get_event_tickets(12, user_id=789)
    [ticket] = sandbox.tickets()
    person = Attendee(ticket.reference, "Jane", "Doe", "jane@example.com", "+31612345678")
    await client.personalize_tickets(12, user_id=789, tickets=[person])
    await client.get_ticket_url(ticket.reference, user_id=789)
    await client.get_order_pdf_url("TP-00123", user_id=789)
    await client.mark_order_processing(123)
    seen = [(r.method, r.path, r.query_string, r.json, r.status) for r in sandbox.requests]
    body = json.loads(dumps(unstructure_body(ga_order(quantity=1))))
    assert seen == [
        ("GET", "/tp-api/events", "key=***", None, 200),
        ("GET", "/tp-api/users/789/events", "key=***", None, 404),
        (
            "POST",
            "/tp-api/orders/create",
            "key=***",
            body,
            200,
        ),
        ("GET", "/tp-api/events/12/tickets", "wp_user_id=789&key=***", None, 200),
        (
            "POST",
            "/tp-api/events/12/tickets/personalize",
            "wp_user_id=789&key=***",
            {
                "tickets": [
                    {
                        "ticket_id": ticket.reference,
                        "first_name": "Jane",
                        "last_name": "Doe",
                        "email": "jane@example.com",
                        "tel": "+31612345678",
                    }
                ]
            },
            200,
        ),
        (
            "GET",
            "/tp-api/users/get-ticket",
            f"wp_user_id=789&ticket_id={ticket.reference}&key=***",
            None,
            200,
        ),
        ("GET", "/tp-api/orders/get-ticket", "wp_user_id=789&order_id=TP-00123&key=***", None, 200),
        ("POST", "/tp-api/orders/create", "key=***", {"tp_order_id": 123}, 200),
    ]


async def test_crafted_references_stay_one_parameter(client: Any, sandbox: Sandbox) -> None:
    with pytest.raises(ticketpulse.NotPermittedError, match="Ticket not found"):
        await client.get_ticket_url("a&key=x/../y", user_id=7)
    [request] = sandbox.requests
    assert request.path == "/tp-api/users/get-ticket"
    assert request.query == {"wp_user_id": "7", "ticket_id": "a&key=x/../y", "key": "***"}


async def test_documented_errors_map_to_their_classes(
    client: Any, sandbox: Sandbox, base_url: str, client_cls: Any
) -> None:
    with pytest.raises(ticketpulse.NotFoundError) as caught:
        await client.get_event_tickets(999, user_id=7)
    assert (caught.value.status_code, caught.value.message, caught.value.method) == (
        404,
        "Event not found",
        "GET",
    )
    assert caught.value.url == f"{base_url}/events/999/tickets?wp_user_id=7&key=***"
    with pytest.raises(ticketpulse.FileNotReadyError):
        await client.create_order(ga_order(quantity=1)) or await client.get_order_pdf_url(
            "TP-00123", user_id=789
        )
    async with client_cls("wrong-key", base_url=base_url) as wrong:
        with pytest.raises(ticketpulse.AuthenticationError, match="Unauthorized"):
            await wrong.get_events()
    assert await client.get_user_events(4242) == []


async def test_transient_failures_are_retried(
    client: Any, sandbox: Sandbox, sleeps: list[float]
) -> None:
    sandbox.faults.inject(Respond(503, retry_after=2), times=1, method="GET")
    sandbox.faults.inject(Drop(), times=1, method="GET")
    assert await client.get_events()
    assert sleeps[0] == 2.0  # Retry-After honoured
    # aiohttp itself re-sends a GET once when a reused keep-alive connection is
    # dropped; the SDK retries otherwise. Either way: three requests, success.
    assert len(sleeps) in (1, 2)
    assert len(sandbox.requests) == 3


async def test_400_is_sent_once(client: Any, sandbox: Sandbox, sleeps: list[float]) -> None:
    sandbox.faults.inject(Respond(400, "Wordpress user not specified"), times=5)
    with pytest.raises(ticketpulse.BadRequestError):
        await client.get_event_tickets(12, user_id=7)
    assert len(sandbox.requests) == 1


async def test_an_order_lost_after_acting_is_unknown_and_not_repeated(
    client: Any, sandbox: Sandbox, sleeps: list[float]
) -> None:
    sandbox.faults.inject(Drop(after_acting=True), times=1, path="/tp-api/orders/create")
    with pytest.raises(ticketpulse.OrderOutcomeUnknownError):
        await client.create_order(ga_order())
    assert sandbox.order_count() == 1
    assert sleeps == []
    sandbox.faults.inject(Respond(429, retry_after=1), times=1, path="/tp-api/orders/create")
    await client.create_order(ga_order())
    assert sandbox.order_count() == 2  # 429 is answered before acting: retried once


async def test_a_stalled_answer_times_out(sandbox: Sandbox, base_url: str, client_cls: Any) -> None:
    sandbox.faults.inject(Stall(2.0), times=1)
    async with client_cls(sandbox.api_key, base_url=base_url, timeout=0.2, max_retries=0) as client:
        with pytest.raises(ticketpulse.APITimeoutError):
            await client.get_events()


async def test_connection_refused_is_a_connection_error(
    sleeps: list[float], client_cls: Any
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client_cls(KEY, base_url=f"http://127.0.0.1:{port}/tp-api") as client:
        with pytest.raises(ticketpulse.APIConnectionError) as caught:
            await client.create_order(ga_order())
    assert type(caught.value) is ticketpulse.APIConnectionError  # never sent: not "unknown"
    assert len(sleeps) == 2


async def test_secrets_never_reach_logs_or_errors(
    sandbox: Sandbox,
    base_url: str,
    caplog: pytest.LogCaptureFixture,
    sleeps: list[float],
    tmp_path: Path,
    client_cls: Any,
) -> None:
    for name in ("", "aiohttp", "aiohttp.client", "ticketpulse", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    async with client_cls(KEY, base_url=base_url) as client:
        sandbox.faults.inject(Respond(503), times=1)
        await client.get_events()
        await client.create_order(NewOrder(wp_user_id=5, order_lines=[OrderLine("GA", 1, 1, 1)]))
        for call in (
            client.get_event_tickets(12, user_id=5),
            client.get_order_pdf_url("TP-99999", user_id=5),
            client.mark_order_processing(123456),
        ):
            try:
                await call
            except ticketpulse.TicketPulseError as exc:
                errors.append(exc)
    assert errors
    assert caplog.records
    for record in caplog.records:
        assert KEY not in record.getMessage()
    for error in errors:
        assert KEY not in "".join(traceback.format_exception(error)) + repr(error)


@needs_aiohttp
async def test_an_injected_session_is_not_closed(sandbox: Sandbox, base_url: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with ticketpulse.AsyncClient(
            sandbox.api_key, base_url=base_url, http_client=session
        ) as client:
            assert await client.get_events()
        assert not session.closed


async def test_bulk_fetch(client: Any, sandbox: Sandbox) -> None:
    await client.create_order(ga_order(quantity=20))
    refs = [t.reference for t in sandbox.tickets()]
    for ref in refs:
        sandbox.activate_ticket(ref)
    urls = await client.get_ticket_urls(refs, user_id=789, concurrency=8)
    assert [u.url.split("ticket_")[1].split(".png")[0] for u in urls] == refs
    async with client.iter_ticket_urls([*refs, "missing"], user_id=789, concurrency=4) as results:
        seen = {r.ticket_id: r.ok async for r in results}
    assert seen == {**dict.fromkeys(refs, True), "missing": False}


@needs_aiohttp
def test_a_bad_session_is_refused() -> None:
    with pytest.raises(ticketpulse.ConfigurationError, match="http_client"):
        ticketpulse.AsyncClient(KEY, http_client="nope")  # type: ignore[arg-type]


def test_trio_gets_a_clear_error(client_cls: Any) -> None:
    import trio

    async def use() -> None:
        async with client_cls(KEY, base_url="http://127.0.0.1:9/tp-api") as client:
            await client.get_events()

    with pytest.raises(ticketpulse.ConfigurationError, match="asyncio only"):
        trio.run(use)
