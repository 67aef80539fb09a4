"""Type-checked only (mypy --strict, pyright --strict), never run: the public API
used the way users write it, so a typing regression fails the type checkers.

pytest does not collect this file (no ``test_`` prefix).
"""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Never, assert_type

import httpx

import ticketpulse
from ticketpulse import (
    APIConnectionError,
    APIStatusError,
    AsyncClient,
    Attendee,
    BillingInformation,
    Client,
    FileNotReadyError,
    NewOrder,
    NotFoundError,
    OrderItemType,
    OrderLine,
    OrderOutcomeUnknownError,
    SignedURL,
    TicketPulseError,
    TicketStatus,
    TicketURL,
    TicketURLError,
    TicketURLResult,
)


def build_order() -> NewOrder:
    billing = BillingInformation(
        first_name="Jane",
        last_name="Doe",
        address="Kerkstraat 1",
        city="Amsterdam",
        postal_code="1234 AB",
        country="NL",
        email="jane.doe@example.com",
        phone="+31612345678",
    )
    lines = [
        OrderLine(
            name="General Admission",
            quantity=2,
            product_id=101,
            unit_price=Decimal("29.95"),
            order_item_type=OrderItemType.LINE_ITEM,
            tp_event_ticket_id=45,
        ),
        OrderLine(
            name="Shipping", quantity=1, product_id=102, unit_price=4.95, order_item_type="shipping"
        ),
        OrderLine("Coupon", 1, 103, "-5.00", OrderItemType.COUPON),
        OrderLine(name="Tip", quantity=1, product_id=104, unit_price=1),
    ]
    order = NewOrder(
        wp_order_id="wc_456",
        wp_user_id=789,
        payment_method_title="iDEAL",
        payment_method="ideal",
        ip_address="1.2.3.4",
        currency="EUR",
        order_total=Decimal("59.90"),
        date_created=datetime(2025, 4, 11, 10, 0, tzinfo=UTC),
        date_paid=datetime.now(UTC),
        locale="nl",
        my_tickets_url="https://yoursite.com/my-tickets",
        billing_information=billing,
        order_lines=lines,
    )
    total: Decimal | None = order.order_total
    price: Decimal = order.order_lines[0].unit_price
    kind: OrderItemType | str = order.order_lines[1].order_item_type
    del total, price, kind
    return order


def attendees(tickets: list[ticketpulse.Ticket]) -> Iterable[Attendee]:
    for ticket in tickets:
        if ticket.status is TicketStatus.CREATED:
            yield Attendee(
                ticket_id=ticket.id,
                first_name="Jane",
                last_name="Doe",
                email="jane.doe@example.com",
                tel="+31612345678",
            )


def read_models(events: list[ticketpulse.Event], tickets: list[ticketpulse.Ticket]) -> None:
    for event in events:
        event_id: int = event.id
        name: str | None = event.name
        price: Decimal | None = event.price
        start: datetime | None = event.start_date
        types: list[ticketpulse.TicketType] = event.tickets
        for child in event.children:
            sub: ticketpulse.SubEvent = child
            params: dict[str, object] = sub.event_params
            deleted: datetime | None = sub.deleted_at
            del sub, params, deleted
        for ticket_type in types:
            type_id: int = ticket_type.id
            enabled: bool | None = ticket_type.enabled
            date: datetime | None = ticket_type.date
            del type_id, enabled, date
        for child in event.children:
            child_id: int = child.id
            for child_type in child.tickets:
                child_type_id: int = child_type.id
                del child_type_id
            del child_id
        del event_id, name, price, start
    for ticket in tickets:
        reference: str = ticket.id
        assert_type(ticket.id, str)
        order_id: str | None = ticket.order_id
        status: TicketStatus = ticket.status
        active: bool = status == TicketStatus.ACTIVE
        value: int = status.value
        deprecated: bool = ticket.is_deprecated
        del reference, order_id, active, value, deprecated


def read_user_events(user_events: list[ticketpulse.UserEvent]) -> list[int]:
    ids: list[int] = [event.id for event in user_events]
    return ids


def ids_are_required(event: ticketpulse.Event, sub: ticketpulse.SubEvent) -> None:
    """Every model's id is its type, never None, and a model is not built without it."""
    assert_type(event.id, int)
    assert_type(event.tickets[0].id, int)
    assert_type(sub.id, int)
    assert_type(sub.tickets[0].id, int)
    ticketpulse.Event()  # type: ignore[call-arg]  # mypy's warn_unused_ignores: needs the id
    ticketpulse.Ticket(id=None)  # type: ignore[arg-type]
    ticketpulse.UserEvent(id=None)  # type: ignore[arg-type]


def ticket_url_results(results: Iterator[TicketURLResult]) -> list[SignedURL]:
    """Each way of telling a result's two classes apart narrows it in both checkers."""
    urls: list[SignedURL] = []
    for result in results:
        ticket_id: str = result.ticket_id
        if result.ok:
            assert_type(result.url, SignedURL)
            urls.append(result.url)
            raw: str = result.url.url
            del raw
        else:
            assert_type(result.error, TicketPulseError)
            handle(result.error)
        if not result.ok:
            message: str = str(result.error)
            del message
        shown: SignedURL | TicketPulseError = result.url if result.ok else result.error
        assert_type(result.unwrap(), SignedURL)
        if isinstance(result, TicketURL):
            assert_type(result, TicketURL)
            assert_type(result.url, SignedURL)
            assert_type(result.error, Never)
        else:
            assert_type(result, TicketURLError)
            assert_type(result.error, TicketPulseError)
            assert_type(result.url, Never)
        if result.ok is True:
            assert_type(result, TicketURL)
        else:
            assert_type(result, TicketURLError)
        match result:
            case TicketURL(url=url):
                assert_type(url, SignedURL)
            case TicketURLError(error=error):
                assert_type(error, TicketPulseError)
        del ticket_id, shown
    return urls


def ticket_url_lists(results: list[TicketURLResult]) -> None:
    urls: list[SignedURL] = [r.url for r in results if r.ok]
    errors: dict[str, TicketPulseError] = {r.ticket_id: r.error for r in results if not r.ok}
    fetched: list[TicketURL] = [r for r in results if isinstance(r, TicketURL)]
    ok: bool = results[0].ok
    del urls, errors, fetched, ok


async def async_ticket_url_results(results: AsyncIterator[TicketURLResult]) -> None:
    async for result in results:
        if result.ok:
            assert_type(result.url, SignedURL)
        else:
            assert_type(result.error, TicketPulseError)


def handle(error: TicketPulseError) -> str:
    if isinstance(error, APIStatusError):
        code: int = error.status_code
        message: str = error.message
        method: str = error.method
        url: str = error.url
        return f"{code} {message} {method} {url}"
    if isinstance(error, OrderOutcomeUnknownError):
        status: int | None = error.status_code
        return f"{status} {error.message} {error.method} {error.url}"
    if isinstance(error, APIConnectionError):
        return f"{error.message} {error.method} {error.url}"
    return str(error)


def sync_usage(tmpdir: pathlib.Path) -> None:
    client = Client()
    client = Client("tp_live_key", base_url="https://ticket-pulse.com/tp-api")
    client = Client(api_key="tp_live_key", timeout=10.0, max_retries=5)
    client = Client(timeout=httpx.Timeout(10.0, connect=2.0), max_retries=0)
    client.close()

    with httpx.Client() as http, Client("tp_live_key", http_client=http) as client:
        base_url: str = client.base_url
        timeout: httpx.Timeout = client.timeout
        retries: int = client.max_retries
        patient: Client = client.with_options(timeout=120.0)
        eager: Client = client.with_options(max_retries=0, timeout=httpx.Timeout(1.0))

        events: list[ticketpulse.Event] = client.get_events()
        user_events: list[ticketpulse.UserEvent] = patient.get_user_events(789)
        tickets: list[ticketpulse.Ticket] = client.get_event_tickets(12, user_id=789)
        result: ticketpulse.PersonalizationResult = client.personalize_tickets(
            12, user_id=789, tickets=attendees(tickets)
        )
        done: bool = result.all_personalized
        echoed: list[Attendee] = result.tickets
        url: ticketpulse.SignedURL = client.get_ticket_url("a3f9b", user_id=789)
        pdf: ticketpulse.SignedURL = eager.get_order_pdf_url("TP-00123", user_id=789)
        expired: bool = url.expired
        expires_at: datetime = url.expires_at
        raw: str = pdf.url
        path: pathlib.Path = client.download(url, tmpdir)
        other: pathlib.Path = client.download(pdf.url, str(tmpdir / "order.pdf"))
        client.create_order(build_order())
        client.mark_order_processing(123)
        client.mark_order_processing(123, order=NewOrder(wp_order_id="wc_456"))
        read_models(events, tickets)
        with client.iter_ticket_urls([t.id for t in tickets], user_id=789) as results:
            ticket_url_results(results)
        read_user_events(user_events)
        del base_url, timeout, retries, user_events, done, echoed, expired, expires_at, raw
        del path, other

    try:
        Client().get_ticket_url("a3f9b", user_id=7)
    except FileNotReadyError as error:
        handle(error)
    except NotFoundError as error:
        not_found: int = error.status_code
        del not_found
    except TicketPulseError as error:
        handle(error)


async def async_usage(tmpdir: pathlib.Path) -> None:
    aclient = AsyncClient()
    aclient = AsyncClient("tp_live_key", base_url="http://127.0.0.1:8000/tp-api")
    aclient = AsyncClient(api_key="tp_live_key", timeout=10.0, max_retries=5)
    aclient = AsyncClient(timeout=httpx.Timeout(10.0, connect=2.0))
    await aclient.aclose()

    async with httpx.AsyncClient() as http, AsyncClient(http_client=http) as aclient:
        base_url: str = aclient.base_url
        timeout: httpx.Timeout = aclient.timeout
        patient: AsyncClient = aclient.with_options(timeout=120.0, max_retries=3)

        events: list[ticketpulse.Event] = await aclient.get_events()
        user_events: list[ticketpulse.UserEvent] = await patient.get_user_events(789)
        tickets: list[ticketpulse.Ticket] = await aclient.get_event_tickets(12, user_id=789)
        result: ticketpulse.PersonalizationResult = await aclient.personalize_tickets(
            12, user_id=789, tickets=list(attendees(tickets))
        )
        url: ticketpulse.SignedURL = await aclient.get_ticket_url("a3f9b", user_id=7)
        pdf: ticketpulse.SignedURL = await aclient.get_order_pdf_url("TP-00123", user_id=7)
        path: pathlib.Path = await aclient.download(url, tmpdir)
        other: pathlib.Path = await aclient.download(pdf, tmpdir / "order.pdf")
        await aclient.create_order(build_order())
        await aclient.mark_order_processing(123, order=None)
        read_models(events, tickets)
        async with aclient.iter_ticket_urls([t.id for t in tickets], user_id=789) as results:
            await async_ticket_url_results(results)
        del base_url, timeout, user_events, result, path, other

    try:
        await AsyncClient().create_order(build_order())
    except OrderOutcomeUnknownError as error:
        handle(error)
    except APIStatusError as error:
        message: str = error.message
        method: str = error.method
        where: str = error.url
        code: int = error.status_code
        del message, method, where, code


async def choose_a_transport(session: object) -> None:
    """Each client's ``transport=`` and what it accepts (SPEC §2)."""
    import aiohttp

    blocking_builtin = ticketpulse.Client(transport="builtin", max_connections=8)
    blocking_httpx = ticketpulse.Client(transport="httpx", max_response_size=1 << 20)
    async with (
        ticketpulse.AsyncClient(transport="builtin") as builtin,
        ticketpulse.AsyncClient(transport="aiohttp") as over_aiohttp,
        aiohttp.ClientSession() as own_session,
        ticketpulse.AsyncClient(http_client=own_session) as injected,
    ):
        urls: list[ticketpulse.SignedURL] = await builtin.get_ticket_urls(["a"], user_id=7)
        del urls, over_aiohttp, injected
    try:
        blocking_builtin.get_events()
    except ticketpulse.RateLimitError as error:
        wait: float | None = error.retry_after
        del wait
    except ticketpulse.UsageError as error:
        also: RuntimeError = error
        del also
    blocking_builtin.close()
    blocking_httpx.close()
