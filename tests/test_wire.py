"""Wire format: method, path, every query parameter and the JSON body, per the doc."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import respx

import ticketpulse
from ticketpulse import Attendee, NewOrder, OrderLine

from .conftest import KEY, SECRET, Api
from .test_convert import doc_order

pytestmark = pytest.mark.anyio

# The doc's example "Create order" body (comments removed).
DOC_ORDER_BODY = {
    "wp_order_id": "wc_456",
    "wp_user_id": 789,
    "payment_method_title": "iDEAL",
    "payment_method": "ideal",
    "ip_address": "1.2.3.4",
    "currency": "EUR",
    "order_total": 59.90,
    "date_created": "2025-04-11T10:00:00Z",
    "date_paid": "2025-04-11T10:01:00Z",
    "locale": "nl",
    "my_tickets_url": "https://yoursite.com/my-tickets",
    "billing_information": {
        "first_name": "Jane",
        "last_name": "Doe",
        "address": "Kerkstraat 1",
        "city": "Amsterdam",
        "postal_code": "1234 AB",
        "country": "NL",
        "email": "jane.doe@example.com",
        "phone": "+31612345678",
    },
    "order_lines": [
        {
            "tp_event_ticket_id": 45,
            "name": "General Admission",
            "quantity": 2,
            "product_id": 101,
            "order_item_type": "line_item",
            "unit_price": 29.95,
        }
    ],
}


def only_request(route: respx.Route) -> httpx.Request:
    assert route.call_count == 1
    return route.calls.last.request


def query(request: httpx.Request) -> list[tuple[str, str]]:
    return list(request.url.params.multi_items())


def body(request: httpx.Request) -> object:
    return json.loads(request.content)


async def test_get_events_sends_only_the_key(api: Api, mock: respx.MockRouter) -> None:
    route = mock.get("/events").respond(200, json=[])
    assert await api.get_events() == []
    request = only_request(route)
    assert request.method == "GET"
    assert request.url.path == "/tp-api/events"
    assert query(request) == [("key", KEY)]
    assert request.content == b""
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("ticketpulse-python/")


async def test_get_user_events_puts_the_user_in_the_path(api: Api, mock: respx.MockRouter) -> None:
    route = mock.get("/users/789/events").respond(
        200,
        json=[
            {"id": 12, "name": "Summer Festival 2025", "start_date": "2025-07-31T18:00:00+00:00"}
        ],
    )
    events = await api.get_user_events(789)
    request = only_request(route)
    assert request.method == "GET"
    assert request.url.path == "/tp-api/users/789/events"
    assert query(request) == [("key", KEY)]
    assert events == [
        ticketpulse.UserEvent(
            id=12, name="Summer Festival 2025", start_date=datetime(2025, 7, 31, 18, tzinfo=UTC)
        )
    ]


async def test_get_event_tickets_sends_wp_user_id(api: Api, mock: respx.MockRouter) -> None:
    route = mock.get("/events/12/tickets").respond(200, json=[])
    await api.get_event_tickets(12, user_id=789)
    request = only_request(route)
    assert request.method == "GET"
    assert request.url.path == "/tp-api/events/12/tickets"
    assert query(request) == [("wp_user_id", "789"), ("key", KEY)]


async def test_personalize_sends_the_documented_body(api: Api, mock: respx.MockRouter) -> None:
    doc_body = {
        "tickets": [
            {
                "ticket_id": "a3f9b",
                "first_name": "Jane",
                "last_name": "Doe",
                "email": "[email protected]",
                "tel": "+31612345678",
            }
        ]
    }
    route = mock.post("/events/12/tickets/personalize").respond(
        200, json={"tickets": doc_body["tickets"], "all_personalized": True}
    )
    result = await api.personalize_tickets(
        12,
        user_id=789,
        tickets=[Attendee("a3f9b", "Jane", "Doe", "[email protected]", "+31612345678")],
    )
    request = only_request(route)
    assert request.method == "POST"
    assert request.url.path == "/tp-api/events/12/tickets/personalize"
    assert query(request) == [("wp_user_id", "789"), ("key", KEY)]
    assert request.headers["content-type"] == "application/json"
    assert body(request) == doc_body
    assert result.all_personalized is True
    assert result.tickets == [Attendee("a3f9b", "Jane", "Doe", "[email protected]", "+31612345678")]


async def test_personalize_accepts_a_generator(api: Api, mock: respx.MockRouter) -> None:
    route = mock.post("/events/12/tickets/personalize").respond(
        200, json={"tickets": [], "all_personalized": False}
    )
    people = (Attendee(f"t{i}", "A", "B", "a@b.c", "1") for i in range(3))
    await api.personalize_tickets(12, user_id=7, tickets=people)
    sent = body(only_request(route))
    assert isinstance(sent, dict)
    assert [t["ticket_id"] for t in sent["tickets"]] == ["t0", "t1", "t2"]


async def test_get_ticket_url_sends_user_and_ticket(api: Api, mock: respx.MockRouter) -> None:
    signed = f"https://ticket-pulse.com/files/tickets/ticket_a3f9b.png?secret={SECRET}"
    route = mock.get("/users/get-ticket").respond(200, json=signed)
    before = datetime.now(UTC)
    url = await api.get_ticket_url("a3f9b", user_id=789)
    request = only_request(route)
    assert request.method == "GET"
    assert request.url.path == "/tp-api/users/get-ticket"
    assert query(request) == [("wp_user_id", "789"), ("ticket_id", "a3f9b"), ("key", KEY)]
    assert url.url == signed
    # The doc: "The signed URL expires after 1 hour."
    assert 3599 <= (url.expires_at - before).total_seconds() <= 3601
    assert not url.expired


async def test_get_order_pdf_url_sends_user_and_order(api: Api, mock: respx.MockRouter) -> None:
    signed = f"https://ticket-pulse.com/files/tickets/order_123_tickets?secret={SECRET}"
    route = mock.get("/orders/get-ticket").respond(200, json=signed)
    url = await api.get_order_pdf_url("TP-00123", user_id=789)
    request = only_request(route)
    assert request.url.path == "/tp-api/orders/get-ticket"
    assert query(request) == [("wp_user_id", "789"), ("order_id", "TP-00123"), ("key", KEY)]
    assert url.url == signed


async def test_create_order_sends_the_documented_body(api: Api, mock: respx.MockRouter) -> None:
    route = mock.post("/orders/create").respond(200, text="Order created")
    assert await api.create_order(doc_order()) is None
    request = only_request(route)
    assert request.method == "POST"
    assert request.url.path == "/tp-api/orders/create"
    assert query(request) == [("key", KEY)]
    assert request.headers["content-type"] == "application/json"
    sent = json.loads(request.content, parse_float=Decimal)
    expected = json.loads(json.dumps(DOC_ORDER_BODY), parse_float=Decimal)
    assert sent == expected
    assert "tp_order_id" not in sent
    # Exact digits on the wire, not a float's expansion.
    assert b'"unit_price":29.95' in request.content
    assert b'"order_total":59.90' in request.content


async def test_create_order_leaves_out_unset_fields(api: Api, mock: respx.MockRouter) -> None:
    route = mock.post("/orders/create").respond(200, text="Order created")
    await api.create_order(
        NewOrder(order_lines=[OrderLine(name="GA", quantity=1, product_id=5, unit_price=10)])
    )
    assert body(only_request(route)) == {
        "order_lines": [
            {
                "name": "GA",
                "quantity": 1,
                "product_id": 5,
                "unit_price": 10,
                "order_item_type": "line_item",
            }
        ]
    }


async def test_mark_order_processing_sends_tp_order_id(api: Api, mock: respx.MockRouter) -> None:
    route = mock.post("/orders/create").respond(200, text="Order created")
    await api.mark_order_processing(123)
    request = only_request(route)
    assert query(request) == [("key", KEY)]
    assert body(request) == {"tp_order_id": 123}


async def test_mark_order_processing_merges_order_fields(api: Api, mock: respx.MockRouter) -> None:
    route = mock.post("/orders/create").respond(200, text="Order created")
    await api.mark_order_processing(
        123,
        order=NewOrder(wp_order_id="wc_456", date_paid=datetime(2025, 4, 11, 10, 1, tzinfo=UTC)),
    )
    assert body(only_request(route)) == {
        "tp_order_id": 123,
        "wp_order_id": "wc_456",
        "date_paid": "2025-04-11T10:01:00Z",
    }


async def test_download_gets_the_signed_url_without_the_key(
    api: Api, mock: respx.MockRouter, tmp_path: Path
) -> None:
    signed = f"https://ticket-pulse.com/files/tickets/ticket_a3f9b.png?secret={SECRET}"
    png = b"\x89PNG\r\n\x1a\n" + b"x" * 200_000
    route = mock.get(signed).respond(200, content=png, headers={"content-type": "image/png"})
    written = await api.download(signed, tmp_path)
    request = only_request(route)
    assert request.method == "GET"
    assert query(request) == [("secret", SECRET)]  # our API key never goes to the file host
    assert written == tmp_path / "ticket_a3f9b.png"
    assert written.read_bytes() == png
    assert list(tmp_path.iterdir()) == [written]


async def test_download_names_a_pdf_from_its_content_type(
    api: Api, mock: respx.MockRouter, tmp_path: Path
) -> None:
    signed = ticketpulse.SignedURL(
        url=f"https://ticket-pulse.com/files/tickets/order_123_tickets?secret={SECRET}",
        expires_at=datetime.now(UTC),
    )
    mock.get(signed.url).respond(
        200, content=b"%PDF-1.7 ...", headers={"content-type": "application/pdf"}
    )
    written = await api.download(signed, tmp_path)
    assert written == tmp_path / "order_123_tickets.pdf"
    explicit = await api.download(signed, tmp_path / "mine.pdf")
    assert explicit == tmp_path / "mine.pdf"
    assert explicit.read_bytes() == b"%PDF-1.7 ..."


async def test_failed_download_leaves_no_file(
    api: Api, mock: respx.MockRouter, tmp_path: Path
) -> None:
    signed = f"https://ticket-pulse.com/files/tickets/ticket_a3f9b.png?secret={SECRET}"
    mock.get(signed).respond(401, text="File not found")
    with pytest.raises(ticketpulse.FileNotReadyError):
        await api.download(signed, tmp_path / "qr.png")
    assert list(tmp_path.iterdir()) == []


async def test_downloaded_files_follow_the_umask(
    api: Api, mock: respx.MockRouter, tmp_path: Path
) -> None:
    import os
    import stat

    url = f"https://ticket-pulse.com/files/tickets/ticket_a3f9b.png?secret={SECRET}"
    mock.get(url).respond(200, content=b"png")
    old = os.umask(0o022)
    try:
        written = await api.download(url, tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
