"""The SDK's whole flow against the sandbox: in-process and over loopback sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ticketpulse
from ticketpulse import Attendee, NewOrder, OrderLine, TicketStatus
from ticketpulse.testing import Drop, Respond, Sandbox

from .conftest import Api

pytestmark = pytest.mark.anyio

USER = 789
OTHER_USER = 790


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox.demo()


@pytest.fixture(params=["in-process", "builtin", "uvicorn"])
async def live(
    request: pytest.FixtureRequest,
    sandbox: Sandbox,
    client_class: type[ticketpulse.Client | ticketpulse.AsyncClient],
) -> AsyncIterator[Api]:
    """An Api on the sandbox: in-process, or over loopback on either server."""
    mode = str(request.param)
    if mode == "in-process":
        client: Any = (
            sandbox.async_client() if client_class is ticketpulse.AsyncClient else sandbox.client()
        )
        api = Api(client)
        yield api
        await api.close()
        await sandbox.aclose()
        return
    async with sandbox.aserve(server="builtin" if mode == "builtin" else "uvicorn") as base_url:
        api = Api(client_class(sandbox.api_key, base_url=base_url))
        try:
            yield api
        finally:
            await api.close()


def ga_order(quantity: int = 2, user: int = USER) -> NewOrder:
    return NewOrder(
        wp_order_id="wc_456",
        wp_user_id=user,
        currency="EUR",
        order_total=Decimal("59.90"),
        date_paid=datetime(2025, 4, 11, 10, 1, tzinfo=UTC),
        order_lines=[
            OrderLine(
                name="General Admission",
                quantity=quantity,
                product_id=101,
                unit_price=Decimal("29.95"),
                tp_event_ticket_id=45,
            )
        ],
    )


async def test_the_whole_flow(live: Api, sandbox: Sandbox, tmp_path: Path) -> None:
    events = await live.get_events()
    festival = next(e for e in events if e.id == 12)
    assert festival.name == "Summer Festival 2025"
    assert festival.price == Decimal("29.95")
    assert festival.start_date is not None
    assert festival.start_date.tzinfo is not None
    general = next(t for t in festival.tickets if t.id == 45)
    assert (general.price, general.stock) == (Decimal("29.95"), 400)
    assert [c.name for c in festival.children] == ["Day 1 — Saturday", "Day 2 — Sunday"]

    assert await live.get_user_events(USER) == []

    await live.create_order(ga_order())
    assert sandbox.order_count() == 1
    assert sandbox.stock(45) == 398

    [summary] = await live.get_user_events(USER)
    assert (summary.id, summary.name) == (12, "Summer Festival 2025")

    tickets = await live.get_event_tickets(12, user_id=USER)
    assert len(tickets) == 2
    assert {t.status for t in tickets} == {TicketStatus.CREATED}
    order_ref = tickets[0].order_id
    assert order_ref is not None
    assert order_ref.startswith("TP-")

    with pytest.raises(ticketpulse.FileNotReadyError):
        await live.get_order_pdf_url(order_ref, user_id=USER)
    with pytest.raises(ticketpulse.FileNotReadyError):
        await live.get_ticket_url(tickets[0].id, user_id=USER)

    first = Attendee(tickets[0].id, "Jane", "Doe", "jane@example.com", "+31612345678")
    second = Attendee(tickets[1].id, "John", "Roe", "john@example.com", "+31687654321")
    partial = await live.personalize_tickets(12, user_id=USER, tickets=[first])
    assert partial.all_personalized is False
    assert partial.tickets == [first]
    done = await live.personalize_tickets(12, user_id=USER, tickets=[first, second])
    assert done.all_personalized is True

    tickets = await live.get_event_tickets(12, user_id=USER)
    assert {t.status for t in tickets} == {TicketStatus.ACTIVE}
    assert {(t.first_name, t.last_name) for t in tickets} == {("Jane", "Doe"), ("John", "Roe")}

    qr = await live.get_ticket_url(tickets[0].id, user_id=USER)
    assert not qr.expired
    png = await live.download(qr, tmp_path)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    pdf_url = await live.get_order_pdf_url(order_ref, user_id=USER)
    pdf = await live.download(pdf_url, tmp_path / "order.pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")

    order_id = sandbox.orders()[0].id
    await live.mark_order_processing(order_id)
    assert sandbox.order(order_id).status == "processing"
    assert sandbox.order_count() == 1


async def test_documented_errors_come_through(live: Api, sandbox: Sandbox) -> None:
    with pytest.raises(ticketpulse.NotFoundError) as caught:
        await live.get_event_tickets(999, user_id=USER)
    assert caught.value.message == "Event not found"
    with pytest.raises(ticketpulse.NotFoundError) as caught:
        await live.mark_order_processing(999)
    assert caught.value.message == "Ticket Pulse order does not exist"

    await live.create_order(ga_order(quantity=1))
    [ticket] = await live.get_event_tickets(12, user_id=USER)
    with pytest.raises(ticketpulse.NotPermittedError) as caught:
        await live.get_ticket_url(ticket.id, user_id=OTHER_USER)
    assert caught.value.message == "Not allowed to see this ticket"
    with pytest.raises(ticketpulse.BadRequestError) as caught:
        await live.personalize_tickets(
            12, user_id=OTHER_USER, tickets=[Attendee(ticket.id, "A", "B", "a@b.c", "1")]
        )
    assert caught.value.message == "Wordpress user unauthorized for ticket"


async def test_a_wrong_key_is_an_authentication_error_sent_once(sandbox: Sandbox) -> None:
    async with (
        sandbox.aserve() as base_url,
        ticketpulse.AsyncClient("not-the-key", base_url=base_url) as client,
    ):
        with pytest.raises(ticketpulse.AuthenticationError) as caught:
            await client.get_events()
    assert caught.value.message == "Unauthorized"
    assert len(sandbox.requests) == 1
    assert "not-the-key" not in repr(list(sandbox.requests))


async def test_retries_reach_the_sandbox(live: Api, sandbox: Sandbox, sleeps: list[float]) -> None:
    sandbox.faults.inject(Respond(503, retry_after=1), times=2, method="GET")
    events = await live.get_events()
    assert events
    assert sleeps == [1.0, 1.0]
    assert len(sandbox.requests) == 3


async def test_an_order_lost_after_acting_is_reported_once(
    live: Api, sandbox: Sandbox, sleeps: list[float]
) -> None:
    sandbox.faults.inject(Drop(after_acting=True), times=1, path="/tp-api/orders/create")
    with pytest.raises(ticketpulse.OrderOutcomeUnknownError):
        await live.create_order(ga_order())
    assert sandbox.order_count() == 1  # created once, never twice
    assert sleeps == []
