"""Every endpoint's :class:`Call` as tables, per the Partner API doc: no HTTP at all.

Arguments -> the request (method, path, query, JSON body, retry safety, URL);
invalid arguments -> InvalidRequestError; sample answers -> results or errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketpulse import _endpoints as api
from ticketpulse import _validate as check
from ticketpulse._core import NO_OVERRIDE, Answer, Call, read_answer
from ticketpulse._errors import (
    AuthenticationError,
    BadRequestError,
    FileNotReadyError,
    InvalidRequestError,
    NotFoundError,
    NotPermittedError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from ticketpulse._models import (
    Attendee,
    BillingInformation,
    Event,
    NewOrder,
    OrderItemType,
    OrderLine,
    PersonalizationResult,
    SignedURL,
    SubEvent,
    Ticket,
    TicketStatus,
    TicketType,
    UserEvent,
)

ENDPOINTS = {
    "get_events",
    "get_user_events",
    "get_event_tickets",
    "personalize_tickets",
    "get_ticket_url",
    "get_order_pdf_url",
    "create_order",
    "mark_order_processing",
    "download",
}
JANE = Attendee("a3f9b", "Jane", "Doe", "jane@example.com", "+31612345678")
JANE_JSON = {
    "ticket_id": "a3f9b",
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane@example.com",
    "tel": "+31612345678",
}
LINE = OrderLine("General Admission", 2, 101, 29.95, tp_event_ticket_id=45)
LINE_JSON = {
    "name": "General Admission",
    "quantity": 2,
    "product_id": 101,
    "unit_price": Decimal("29.95"),
    "order_item_type": "line_item",
    "tp_event_ticket_id": 45,
}
CEST = timezone(timedelta(hours=2))
FULL_ORDER = NewOrder(
    wp_order_id="wc_456",
    wp_user_id=789,
    payment_method_title="iDEAL",
    payment_method="ideal",
    ip_address="1.2.3.4",
    currency="EUR",
    order_total="59.90",
    date_created=datetime(2025, 4, 11, 10, 0, tzinfo=UTC),
    date_paid=datetime(2025, 4, 11, 12, 1, 30, tzinfo=CEST),
    locale="nl",
    my_tickets_url="https://yoursite.com/my-tickets",
    billing_information=BillingInformation(
        first_name="Jane",
        last_name="Doe",
        address="Kerkstraat 1",
        city="Amsterdam",
        postal_code="1234 AB",
        country="NL",
        email="jane@example.com",
        phone="+31612345678",
    ),
    order_lines=[LINE, OrderLine("Fee", 1, 7, "1.50", OrderItemType.FEE)],
)
FULL_ORDER_JSON = {
    "wp_order_id": "wc_456",
    "wp_user_id": 789,
    "payment_method_title": "iDEAL",
    "payment_method": "ideal",
    "ip_address": "1.2.3.4",
    "currency": "EUR",
    "order_total": Decimal("59.90"),
    "date_created": "2025-04-11T10:00:00Z",
    "date_paid": "2025-04-11T10:01:30Z",
    "locale": "nl",
    "my_tickets_url": "https://yoursite.com/my-tickets",
    "billing_information": {
        "first_name": "Jane",
        "last_name": "Doe",
        "address": "Kerkstraat 1",
        "city": "Amsterdam",
        "postal_code": "1234 AB",
        "country": "NL",
        "email": "jane@example.com",
        "phone": "+31612345678",
    },
    "order_lines": [
        LINE_JSON,
        {
            "name": "Fee",
            "quantity": 1,
            "product_id": 7,
            "unit_price": Decimal("1.50"),
            "order_item_type": "fee",
        },
    ],
}
SIGNED = "https://ticket-pulse.com/files/tickets/ticket_a3f9b.png?secret=eyJ0"


def request(
    method: str,
    target: str,
    body: Any = None,
    *,
    idempotent: bool = True,
    url: str | None = None,
) -> dict[str, Any]:
    return {
        "method": method,
        "target": target,
        "body": body,
        "idempotent": idempotent,
        "url": url,
    }


def fields(call: Call[Any]) -> dict[str, Any]:
    """The request a call describes; the body as JSON, numbers as Decimal."""
    return {
        "method": call.method,
        "target": call.target,
        "body": None if call.body is None else json.loads(call.body, parse_float=Decimal),
        "idempotent": call.idempotent,
        "url": call.url,
    }


CALLS: list[tuple[str, Callable[[], Call[Any]], dict[str, Any]]] = [
    ("get_events", api.get_events, request("GET", "/events")),
    ("get_user_events", lambda: api.get_user_events(789), request("GET", "/users/789/events")),
    (
        "get_user_events, the largest id",
        lambda: api.get_user_events(2**63 - 1),
        request("GET", f"/users/{2**63 - 1}/events"),
    ),
    (
        "get_event_tickets",
        lambda: api.get_event_tickets(12, user_id=789),
        request("GET", "/events/12/tickets?wp_user_id=789"),
    ),
    (
        "personalize_tickets",
        lambda: api.personalize_tickets(12, user_id=789, tickets=[JANE]),
        request("POST", "/events/12/tickets/personalize?wp_user_id=789", {"tickets": [JANE_JSON]}),
    ),
    (
        "personalize_tickets from a generator, order kept",
        lambda: api.personalize_tickets(
            12, user_id=789, tickets=(a for a in [JANE, Attendee("b", "B", "C", "e", "t")])
        ),
        request(
            "POST",
            "/events/12/tickets/personalize?wp_user_id=789",
            {
                "tickets": [
                    JANE_JSON,
                    {
                        "ticket_id": "b",
                        "first_name": "B",
                        "last_name": "C",
                        "email": "e",
                        "tel": "t",
                    },
                ]
            },
        ),
    ),
    (
        "personalize_tickets, non-ASCII names",
        lambda: api.personalize_tickets(
            1, user_id=2, tickets=(Attendee("x", "Zoë", "Ødegård", "z@example.com", "+1"),)
        ),
        request(
            "POST",
            "/events/1/tickets/personalize?wp_user_id=2",
            {
                "tickets": [
                    {
                        "ticket_id": "x",
                        "first_name": "Zoë",
                        "last_name": "Ødegård",
                        "email": "z@example.com",
                        "tel": "+1",
                    }
                ]
            },
        ),
    ),
    (
        "get_ticket_url",
        lambda: api.get_ticket_url("a3f9b", user_id=789),
        request("GET", "/users/get-ticket?wp_user_id=789&ticket_id=a3f9b"),
    ),
    (
        "get_ticket_url, a reference with query syntax stays one value",
        lambda: api.get_ticket_url("a&key=evil#x", user_id=789),
        request("GET", "/users/get-ticket?wp_user_id=789&ticket_id=a%26key%3Devil%23x"),
    ),
    (
        "get_order_pdf_url",
        lambda: api.get_order_pdf_url("TP-00123", user_id=789),
        request("GET", "/orders/get-ticket?wp_user_id=789&order_id=TP-00123"),
    ),
    (
        "create_order, every documented field",
        lambda: api.create_order(FULL_ORDER),
        request("POST", "/orders/create", body=FULL_ORDER_JSON, idempotent=False),
    ),
    (
        "create_order, None fields left out",
        lambda: api.create_order(
            NewOrder(order_lines=[OrderLine("Shipping", 1, 9, 0, "shipping")])
        ),
        request(
            "POST",
            "/orders/create",
            body={
                "order_lines": [
                    {
                        "name": "Shipping",
                        "quantity": 1,
                        "product_id": 9,
                        "unit_price": 0,
                        "order_item_type": "shipping",
                    }
                ]
            },
            idempotent=False,
        ),
    ),
    (
        "mark_order_processing",
        lambda: api.mark_order_processing(123),
        request("POST", "/orders/create", body={"tp_order_id": 123}, idempotent=False),
    ),
    (
        "mark_order_processing with fields, no order lines",
        lambda: api.mark_order_processing(123, order=NewOrder(wp_order_id="wc_456", locale="nl")),
        request(
            "POST",
            "/orders/create",
            body={"tp_order_id": 123, "wp_order_id": "wc_456", "locale": "nl"},
            idempotent=False,
        ),
    ),
    (
        "mark_order_processing with order lines",
        lambda: api.mark_order_processing(123, order=NewOrder(order_lines=[LINE])),
        request(
            "POST",
            "/orders/create",
            body={"tp_order_id": 123, "order_lines": [LINE_JSON]},
            idempotent=False,
        ),
    ),
    (
        "download",
        lambda: api.download(SIGNED),
        request("GET", "/files/tickets/ticket_a3f9b.png", url=SIGNED),
    ),
    (
        "download a SignedURL",
        lambda: api.download(SignedURL(SIGNED, datetime.now(UTC))),
        request("GET", "/files/tickets/ticket_a3f9b.png", url=SIGNED),
    ),
    (
        "download, https with a port and a 63-character label",
        lambda: api.download("https://" + "a" * 63 + ".example:8443/f"),
        request("GET", "/f", url="https://" + "a" * 63 + ".example:8443/f"),
    ),
    (
        "download https from an IPv6 literal",
        lambda: api.download("https://[2001:db8::1]/f.pdf?secret=s"),
        request("GET", "/f.pdf", url="https://[2001:db8::1]/f.pdf?secret=s"),
    ),
    (
        "download http from 127.0.0.1 when allowed",
        lambda: api.download("http://127.0.0.1:8000/files/x.png", allow_http=True),
        request("GET", "/files/x.png", url="http://127.0.0.1:8000/files/x.png"),
    ),
    (
        "download http from localhost when allowed",
        lambda: api.download("http://localhost/files/x.png?secret=s", allow_http=True),
        request("GET", "/files/x.png", url="http://localhost/files/x.png?secret=s"),
    ),
    (
        "download http from ::1 when allowed",
        lambda: api.download("http://[::1]:9/x", allow_http=True),
        request("GET", "/x", url="http://[::1]:9/x"),
    ),
    (
        "download https when http is allowed",
        lambda: api.download(SIGNED, allow_http=True),
        request("GET", "/files/tickets/ticket_a3f9b.png", url=SIGNED),
    ),
]


def test_every_endpoint_is_in_the_table() -> None:
    assert set(api.__all__) == ENDPOINTS
    named = {name.split(",")[0].split(" ")[0] for name, _, _ in CALLS}
    assert named == ENDPOINTS


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_call(make: Callable[[], Call[Any]], expected: dict[str, Any]) -> None:
    assert fields(make()) == expected


def test_amounts_are_sent_with_exactly_their_digits() -> None:
    body = api.create_order(FULL_ORDER).body
    assert body is not None
    assert b'"order_total":59.90,' in body
    assert b'"unit_price":29.95,' in body
    assert b'"unit_price":1.50,' in body


def test_only_get_user_events_gives_a_status_its_own_meaning() -> None:
    with_override = {
        name.split(",")[0].split(" ")[0] for name, make, _ in CALLS if make().on_status is not None
    }
    assert with_override == {"get_user_events"}


NAIVE = datetime(2025, 4, 11, 10, 0)  # naive on purpose: refused


def order(**changes: Any) -> NewOrder:
    return NewOrder(**{"order_lines": [LINE], **changes})


def line(**changes: Any) -> OrderLine:
    values = {"name": "GA", "quantity": 1, "product_id": 1, "unit_price": 1, **changes}
    return OrderLine(**values)


def attendee(**changes: Any) -> Attendee:
    values = {
        "ticket_id": "a3f9b",
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane@example.com",
        "tel": "+31",
        **changes,
    }
    return Attendee(**values)


INVALID: list[tuple[str, Callable[[], object], str]] = [
    # ids: positive ints below 2**63, bool refused (SPEC §6)
    ("user id 0", lambda: api.get_user_events(0), "user_id must be a positive int"),
    ("user id -1", lambda: api.get_user_events(-1), "user_id must be a positive int"),
    ("user id 2**63", lambda: api.get_user_events(2**63), "below 2**63"),
    ("user id True", lambda: api.get_user_events(True), "user_id must be a positive int"),
    ("user id as a string", lambda: api.get_user_events("789"), "not str"),  # type: ignore[arg-type]
    ("user id as a float", lambda: api.get_user_events(789.0), "not float"),  # type: ignore[arg-type]
    ("user id None", lambda: api.get_user_events(None), "not NoneType"),  # type: ignore[arg-type]
    ("user id path traversal", lambda: api.get_user_events("../orders"), "user_id"),  # type: ignore[arg-type]
    ("event id 0", lambda: api.get_event_tickets(0, user_id=1), "event_id"),
    ("event id as a string", lambda: api.get_event_tickets("12", user_id=1), "event_id"),  # type: ignore[arg-type]
    ("tickets' user id False", lambda: api.get_event_tickets(12, user_id=False), "user_id"),
    # personalisation
    (
        "personalize event id 0",
        lambda: api.personalize_tickets(0, user_id=1, tickets=[JANE]),
        "event_id",
    ),
    (
        "personalize user id 0",
        lambda: api.personalize_tickets(1, user_id=0, tickets=[JANE]),
        "user_id",
    ),
    ("no tickets", lambda: api.personalize_tickets(1, user_id=1, tickets=[]), "at least one"),
    (
        "an empty generator",
        lambda: api.personalize_tickets(1, user_id=1, tickets=iter(())),
        "at least one",
    ),
    (
        "one Attendee, not a list",
        lambda: api.personalize_tickets(1, user_id=1, tickets=JANE),
        "iterable",
    ),  # type: ignore[arg-type]
    (
        "tickets as a string",
        lambda: api.personalize_tickets(1, user_id=1, tickets="a3f9b"),
        "iterable",
    ),  # type: ignore[arg-type]
    ("tickets None", lambda: api.personalize_tickets(1, user_id=1, tickets=None), "iterable"),  # type: ignore[arg-type]
    (
        "a dict in tickets",
        lambda: api.personalize_tickets(1, user_id=1, tickets=[JANE_JSON]),
        "tickets[0] must be an Attendee",
    ),  # type: ignore[list-item]
    (
        "an empty first name",
        lambda: api.personalize_tickets(1, user_id=1, tickets=[JANE, attendee(first_name="")]),
        "tickets[1].first_name must not be empty",
    ),
    (
        "a blank last name",
        lambda: api.personalize_tickets(1, user_id=1, tickets=[attendee(last_name="  ")]),
        "last_name must not be empty",
    ),
    (
        "CRLF in an email",
        lambda: api.personalize_tickets(1, user_id=1, tickets=[attendee(email="a@b\r\nBcc: c")]),
        "email must not contain control",
    ),
    (
        "a ticket id as an int",
        lambda: api.personalize_tickets(1, user_id=1, tickets=[attendee(ticket_id=5)]),
        "ticket_id must be a str",
    ),
    (
        "a tel None",
        lambda: api.personalize_tickets(1, user_id=1, tickets=[attendee(tel=None)]),
        "tel must be a str",
    ),
    # references
    ("empty ticket id", lambda: api.get_ticket_url("", user_id=1), "ticket_id must not be empty"),
    (
        "blank ticket id",
        lambda: api.get_ticket_url(" \t", user_id=1),
        "ticket_id must not be empty",
    ),
    ("CRLF in a ticket id", lambda: api.get_ticket_url("a\r\nb", user_id=1), "control characters"),
    ("NUL in a ticket id", lambda: api.get_ticket_url("a\x00", user_id=1), "control characters"),
    ("DEL in a ticket id", lambda: api.get_ticket_url("a\x7f", user_id=1), "control characters"),
    (
        "line separator in a ticket id",
        lambda: api.get_ticket_url("a\u2028b", user_id=1),
        "control characters",
    ),
    (
        "lone surrogate in a ticket id",
        lambda: api.get_ticket_url("a\ud800", user_id=1),
        "control characters",
    ),
    (
        "201-character ticket id",
        lambda: api.get_ticket_url("a" * 201, user_id=1),
        "longer than 200",
    ),
    ("ticket id as an int", lambda: api.get_ticket_url(12, user_id=1), "ticket_id must be a str"),  # type: ignore[arg-type]
    ("ticket url user id 0", lambda: api.get_ticket_url("a3f9b", user_id=0), "user_id"),
    ("empty order id", lambda: api.get_order_pdf_url("", user_id=1), "order_id must not be empty"),
    ("order id None", lambda: api.get_order_pdf_url(None, user_id=1), "order_id must be a str"),  # type: ignore[arg-type]
    ("order pdf user id True", lambda: api.get_order_pdf_url("TP-1", user_id=True), "user_id"),
    # orders
    ("order as a dict", lambda: api.create_order({"order_lines": []}), "order must be a NewOrder"),  # type: ignore[arg-type]
    ("order without lines", lambda: api.create_order(NewOrder()), "at least one order line"),
    (
        "order lines as a tuple",
        lambda: api.create_order(order(order_lines=(LINE,))),
        "must be a list",
    ),
    (
        "order line as a dict",
        lambda: api.create_order(order(order_lines=[LINE_JSON])),
        "order_lines[0] must be an OrderLine",
    ),
    (
        "order line quantity 0",
        lambda: api.create_order(order(order_lines=[LINE, line(quantity=0)])),
        "order_lines[1].quantity",
    ),
    (
        "order line product id True",
        lambda: api.create_order(order(order_lines=[line(product_id=True)])),
        "product_id",
    ),
    (
        "order line empty name",
        lambda: api.create_order(order(order_lines=[line(name="")])),
        "name must not be empty",
    ),
    (
        "order line empty item type",
        lambda: api.create_order(order(order_lines=[line(order_item_type="")])),
        "order_item_type",
    ),
    (
        "order line ticket type -1",
        lambda: api.create_order(order(order_lines=[line(tp_event_ticket_id=-1)])),
        "tp_event_ticket_id",
    ),
    ("naive date_created", lambda: api.create_order(order(date_created=NAIVE)), "timezone-aware"),
    (
        "date_paid as a string",
        lambda: api.create_order(order(date_paid="2025-04-11")),
        "date_paid must be a datetime",
    ),
    ("order wp_user_id 0", lambda: api.create_order(order(wp_user_id=0)), "wp_user_id"),
    (
        "order wp_user_id as a string",
        lambda: api.create_order(order(wp_user_id="789")),
        "wp_user_id",
    ),
    (
        "newline in wp_order_id",
        lambda: api.create_order(order(wp_order_id="wc\n1")),
        "control characters",
    ),
    (
        "currency as an int",
        lambda: api.create_order(order(currency=978)),
        "currency must be a str or None",
    ),
    (
        "billing as a dict",
        lambda: api.create_order(order(billing_information={"city": "A"})),
        "BillingInformation",
    ),
    (
        "NUL in a billing city",
        lambda: api.create_order(order(billing_information=BillingInformation(city="A\x00"))),
        "city must not contain",
    ),
    ("tp order id 0", lambda: api.mark_order_processing(0), "tp_order_id"),
    ("tp order id as a string", lambda: api.mark_order_processing("123"), "tp_order_id"),  # type: ignore[arg-type]
    ("tp order id True", lambda: api.mark_order_processing(True), "tp_order_id"),
    (
        "processing order as a dict",
        lambda: api.mark_order_processing(1, order={"locale": "nl"}),
        "NewOrder",
    ),  # type: ignore[arg-type]
    (
        "processing order naive date",
        lambda: api.mark_order_processing(1, order=NewOrder(date_paid=NAIVE)),
        "timezone-aware",
    ),
    # signed URLs (SPEC §6, §9)
    ("plain http", lambda: api.download("http://ticket-pulse.com/f.png"), "must be https"),
    (
        "plain http, allowed, to a public host",
        lambda: api.download("http://ticket-pulse.com/f.png", allow_http=True),
        "must be https",
    ),
    (
        "plain http to loopback, not allowed",
        lambda: api.download("http://127.0.0.1/f.png"),
        "must be https",
    ),
    (
        "plain http to a look-alike of loopback",
        lambda: api.download("http://127.0.0.1.evil.example/f", allow_http=True),
        "must be https",
    ),
    (
        "plain http to localhost.evil",
        lambda: api.download("http://localhost.evil.example/f", allow_http=True),
        "must be https",
    ),
    ("ftp", lambda: api.download("ftp://ticket-pulse.com/f.png"), "absolute https URL"),
    ("file", lambda: api.download("file:///etc/passwd"), "absolute https URL"),
    ("relative", lambda: api.download("/files/tickets/x.png"), "absolute https URL"),
    ("no host", lambda: api.download("https:///files/x.png"), "absolute https URL"),
    ("empty", lambda: api.download(""), "must not be empty"),
    ("None", lambda: api.download(None), "must be a SignedURL or a str"),  # type: ignore[arg-type]
    ("bytes", lambda: api.download(SIGNED.encode()), "must be a SignedURL or a str"),  # type: ignore[arg-type]
    (
        "space in the path",
        lambda: api.download("https://ticket-pulse.com/a b.png"),
        "characters a URL cannot carry",
    ),
    (
        "non-ASCII path",
        lambda: api.download("https://ticket-pulse.com/tïcket.png"),
        "characters a URL cannot carry",
    ),
    (
        "non-ASCII host",
        lambda: api.download("https://tïcket-pulse.com/f.png"),
        "characters a URL cannot carry",
    ),
    (
        "control character",
        lambda: api.download("https://ticket-pulse.com/f\x01.png"),
        "control characters",
    ),
    (
        "CRLF",
        lambda: api.download("https://ticket-pulse.com/f\r\nHost: evil"),
        "control characters",
    ),
    (
        "64-character label",
        lambda: api.download("https://" + "a" * 64 + ".example/f"),
        "not a valid host name",
    ),
    (
        "254-character host",
        lambda: api.download("https://" + "a." * 126 + "aa/f"),
        "not a valid host name",
    ),
    (
        "label starting with a hyphen",
        lambda: api.download("https://-evil.example/f"),
        "not a valid host name",
    ),
    (
        "percent in the host",
        lambda: api.download("https://ticket%2Dpulse.com/f"),
        "not a valid host name",
    ),
    ("IPv6 zone", lambda: api.download("https://[fe80::1%25eth0]/f"), "not a valid host name"),
    ("credentials", lambda: api.download("https://user:pw@ticket-pulse.com/f"), "credentials"),
    ("a user name", lambda: api.download("https://user@ticket-pulse.com/f"), "credentials"),
    (
        "credentials on loopback http",
        lambda: api.download("http://u:p@127.0.0.1/f", allow_http=True),
        "credentials",
    ),
    (
        "port out of range",
        lambda: api.download("https://ticket-pulse.com:99999/f"),
        "not a valid URL",
    ),
    (
        "port not a number",
        lambda: api.download("https://ticket-pulse.com:https/f"),
        "not a valid URL",
    ),
    ("unclosed IPv6 bracket", lambda: api.download("https://[::1/f"), "not a valid URL"),
]


@pytest.mark.parametrize(
    ("make", "fragment"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_arguments(make: Callable[[], object], fragment: str) -> None:
    with pytest.raises(Exception) as info:  # noqa: PT011 - the exact type is asserted below
        make()
    assert type(info.value) is InvalidRequestError
    assert fragment in str(info.value)
    assert info.value.__cause__ is None


def test_invalid_arguments_cover_every_endpoint_but_get_events() -> None:
    import inspect

    covered = set()
    for _, make, _ in INVALID:
        source = inspect.getsource(make)
        covered |= {name for name in ENDPOINTS if f"api.{name}(" in source}
    assert covered == ENDPOINTS - {"get_events"}


# -- reading answers: each endpoint's `read`, and its documented error answers

EVENTS_BODY = b"""[
  {
    "id": 12, "name": "Summer Festival 2025", "city": "Amsterdam",
    "start_date": 1753920000, "end_date": 1754006400, "price": "29.95",
    "stock": 500, "status": 1,
    "tickets": [{"id": 45, "name": "General Admission", "stock": 400, "price": 29.95,
                 "status": 1, "date": 1753920000, "enabled": true}],
    "children": [{"id": 13, "name": "Day 1", "status": 1, "stock": 250, "price": "15.00",
                  "featured": false, "tickets": [], "manage_price_per_ticket": true,
                  "manage_stock_per_ticket": true, "start_date": 1753920000,
                  "end_date": 1753963200, "event_params": {}, "password": null,
                  "thumbnail": "event-13.jpg", "location": "Vondelpark", "deleted_at": null}]
  }
]"""
SAT = datetime(2025, 7, 31, 0, 0, tzinfo=UTC)
EVENTS = [
    Event(
        id=12,
        name="Summer Festival 2025",
        city="Amsterdam",
        start_date=SAT,
        end_date=datetime(2025, 8, 1, 0, 0, tzinfo=UTC),
        price=Decimal("29.95"),
        stock=500,
        status=1,
        tickets=[TicketType(45, "General Admission", 400, Decimal("29.95"), 1, SAT, True)],
        children=[
            SubEvent(
                id=13,
                name="Day 1",
                status=1,
                stock=250,
                price=Decimal("15.00"),
                featured=False,
                tickets=[],
                manage_price_per_ticket=True,
                manage_stock_per_ticket=True,
                start_date=SAT,
                end_date=datetime(2025, 7, 31, 12, 0, tzinfo=UTC),
                event_params={},
                password=None,
                thumbnail="event-13.jpg",
                location="Vondelpark",
                deleted_at=None,
            )
        ],
    )
]
TICKETS_BODY = b"""[{"id": "a3f9b", "event_name": "Summer Festival 2025",
  "event_start_date": "2025-07-31T18:00:00+00:00", "start_date": "2025-07-31T18:00:00+00:00",
  "order_id": "TP-00123", "name": "General Admission", "first_name": "Jane",
  "last_name": "Doe", "email": "jane@example.com", "phone": "+31612345678",
  "status": 2, "is_deprecated": false}]"""
EVENING = datetime(2025, 7, 31, 18, 0, tzinfo=UTC)
TICKETS = [
    Ticket(
        "a3f9b",
        "Summer Festival 2025",
        EVENING,
        EVENING,
        "TP-00123",
        "General Admission",
        "Jane",
        "Doe",
        "jane@example.com",
        "+31612345678",
        TicketStatus.ACTIVE,
        False,
    )
]
PERSONALIZED_BODY = (
    b'{"tickets": [{"ticket_id": "a3f9b", "first_name": "Jane", "last_name": "Doe",'
    b' "email": "jane@example.com", "tel": "+31612345678"}], "all_personalized": true}'
)

GET_EVENTS = api.get_events()
USER_EVENTS = api.get_user_events(789)
EVENT_TICKETS = api.get_event_tickets(12, user_id=789)
PERSONALIZE = api.personalize_tickets(12, user_id=789, tickets=[JANE])
TICKET_URL = api.get_ticket_url("a3f9b", user_id=789)
ORDER_PDF = api.get_order_pdf_url("TP-00123", user_id=789)
CREATE = api.create_order(order())
PROCESSING = api.mark_order_processing(123)
DOWNLOAD = api.download(SIGNED)

ANSWERS: list[tuple[str, Call[Any], Answer, object]] = [
    # 2xx: the documented bodies
    ("events", GET_EVENTS, Answer(200, EVENTS_BODY), EVENTS),
    ("no events", GET_EVENTS, Answer(200, b"[]"), []),
    ("events with a BOM", GET_EVENTS, Answer(200, b"\xef\xbb\xbf[]"), []),
    ("events not JSON", GET_EVENTS, Answer(200, b"<html>"), UnexpectedResponseError),
    ("events an object", GET_EVENTS, Answer(200, b'{"id": 12}'), UnexpectedResponseError),
    ("event without an id", GET_EVENTS, Answer(200, b'[{"name": "x"}]'), UnexpectedResponseError),
    (
        "user events",
        USER_EVENTS,
        Answer(
            200,
            b'[{"id": 12, "name": "Summer Festival 2025",'
            b' "start_date": "2025-07-31T18:00:00+00:00"}]',
        ),
        [UserEvent(12, "Summer Festival 2025", EVENING)],
    ),
    ("tickets", EVENT_TICKETS, Answer(200, TICKETS_BODY), TICKETS),
    (
        "a ticket status the doc does not list is kept",
        EVENT_TICKETS,
        Answer(200, b'[{"id": "x", "status": 9}]'),
        [Ticket("x", status=TicketStatus(9))],
    ),
    (
        "personalized",
        PERSONALIZE,
        Answer(200, PERSONALIZED_BODY),
        PersonalizationResult([JANE], all_personalized=True),
    ),
    ("order created", CREATE, Answer(200, b"Order created"), None),
    ("order set to processing", PROCESSING, Answer(200, b"Order created\n"), None),
    ("order answer empty", CREATE, Answer(200, b""), UnexpectedResponseError),
    ("order answer says it failed", CREATE, Answer(200, b"Order failed"), UnexpectedResponseError),
    (
        "order answer a gateway page",
        CREATE,
        Answer(200, b"<html>ok</html>"),
        UnexpectedResponseError,
    ),
    ("a file", DOWNLOAD, Answer(200, b"\x89PNG\r\n\x1a\n"), b"\x89PNG\r\n\x1a\n"),
    ("an empty file", DOWNLOAD, Answer(200, b""), b""),
    ("ticket url a list", TICKET_URL, Answer(200, b'["https://x/y"]'), UnexpectedResponseError),
    (
        "ticket url not absolute",
        TICKET_URL,
        Answer(200, b'"/files/x.png"'),
        UnexpectedResponseError,
    ),
    (
        "ticket url javascript",
        TICKET_URL,
        Answer(200, b'"javascript:alert(1)"'),
        UnexpectedResponseError,
    ),
    ("ticket url not JSON", ORDER_PDF, Answer(200, b"https://x/y"), UnexpectedResponseError),
    # documented special and error answers
    (
        "user without orders is an empty list",
        USER_EVENTS,
        Answer(404, b"External user has no orders"),
        [],
    ),
    (
        "user without orders, with a newline",
        USER_EVENTS,
        Answer(404, b"External user has no orders\n"),
        [],
    ),
    ("user events 404 otherwise", USER_EVENTS, Answer(404, b"Not Found"), NotFoundError),
    (
        "the no-orders text on another status",
        USER_EVENTS,
        Answer(400, b"External user has no orders"),
        BadRequestError,
    ),
    (
        "the no-orders text on another endpoint",
        EVENT_TICKETS,
        Answer(404, b"External user has no orders"),
        NotFoundError,
    ),
    ("event not found", EVENT_TICKETS, Answer(404, b"Event not found"), NotFoundError),
    (
        "user not specified",
        EVENT_TICKETS,
        Answer(400, b"Wordpress user not specified"),
        BadRequestError,
    ),
    (
        "personalize event not found",
        PERSONALIZE,
        Answer(404, b"Event not found (12)"),
        NotFoundError,
    ),
    (
        "user unauthorized for ticket",
        PERSONALIZE,
        Answer(400, b"User unauthorized for ticket"),
        BadRequestError,
    ),
    ("ticket not found", TICKET_URL, Answer(401, b"Ticket not found"), NotPermittedError),
    ("ticket QR not ready", TICKET_URL, Answer(401, b"File not found"), FileNotReadyError),
    ("order PDF not ready", ORDER_PDF, Answer(401, b"File not found"), FileNotReadyError),
    (
        "not allowed to see this order",
        ORDER_PDF,
        Answer(401, b"Not allowed to see this order"),
        NotPermittedError,
    ),
    ("incorrect order request", CREATE, Answer(404, b"Incorrect request"), NotFoundError),
    (
        "order of another account",
        PROCESSING,
        Answer(403, b"You do not have access to this order"),
        AuthenticationError,
    ),
    ("no order lines", CREATE, Answer(404, b"No order lines specified"), NotFoundError),
    ("bad key", GET_EVENTS, Answer(403, b"Unauthorized"), AuthenticationError),
    ("rate limited", GET_EVENTS, Answer(429, b"Too Many Requests"), RateLimitError),
    ("server error", GET_EVENTS, Answer(500, b"oops"), ServerError),
    ("gateway error", DOWNLOAD, Answer(502, b"<html>Bad Gateway</html>"), ServerError),
    ("file gone", DOWNLOAD, Answer(404, b"Not found"), NotFoundError),
]


@pytest.mark.parametrize(
    ("call", "answer", "expected"), [a[1:] for a in ANSWERS], ids=[a[0] for a in ANSWERS]
)
def test_reading_an_answer(call: Call[Any], answer: Answer, expected: object) -> None:
    if isinstance(expected, type):
        with pytest.raises(Exception) as info:  # noqa: PT011 - the exact type is asserted below
            read_answer(call, answer, method=call.method, url="https://x/redacted")
        assert type(info.value) is expected
        assert info.value.url == "https://x/redacted"
        if answer.status >= 300:
            assert info.value.status_code == answer.status
            assert info.value.message == answer.body.decode().strip()[:300]
    else:
        assert read_answer(call, answer, method=call.method, url="https://x") == expected


def test_a_signed_url_expires_an_hour_after_it_was_read() -> None:
    before = datetime.now(UTC)
    for call in (TICKET_URL, ORDER_PDF):
        url = call.read(json.dumps(SIGNED).encode())
        assert isinstance(url, SignedURL)
        assert url.url == SIGNED
        assert (
            before + timedelta(hours=1) <= url.expires_at <= datetime.now(UTC) + timedelta(hours=1)
        )
        assert "eyJ0" not in repr(url)


def test_only_the_documented_404_text_means_no_orders() -> None:
    on_status = USER_EVENTS.on_status
    assert on_status is not None
    assert on_status(404, "External user has no orders") == []
    for status, message in [
        (404, "external user has no orders"),
        (401, "External user has no orders"),
        (404, "External user has no orders."),
        (404, ""),
    ]:
        assert on_status(status, message) is NO_OVERRIDE, (status, message)


SIGNED_URL_BODIES = [
    ("plain", b'"https://files.example/qr/t.png?expires=1&secret=abc"'),
    ("escaped slashes, as PHP writes them", b'"https:\\/\\/files.example\\/qr\\/t.png?secret=abc"'),
    ("a unicode escape", b'"https://files.example/qr/t\\u00e9.png"'),
    ("UTF-8 in the string", '"https://files.example/qr/té.png"'.encode()),
    ("spaces around it", b' "https://files.example/qr/t.png" \n'),
    ("a byte-order mark", b'\xef\xbb\xbf"https://files.example/qr/t.png"'),
    ("an escaped quote", b'"https://files.example/qr/t\\".png"'),
    ("a tab inside (invalid JSON)", b'"https://files.example/qr/t\t.png"'),
    ("a control byte inside (invalid JSON)", b'"https://files.example/qr/t\x01.png"'),
    ("no closing quote", b'"https://files.example/qr/t.png'),
    ("two strings", b'"https://a.example/x" "https://b.example/y"'),
    ("a quote inside, unescaped", b'"https://a.example/x"y"'),
    ("a list", b'["https://files.example/qr/t.png"]'),
    ("a relative URL", b'"/qr/t.png"'),
    ("invalid UTF-8", b'"https://files.example/\xff.png"'),
]


@pytest.mark.parametrize(
    "body", [b for _, b in SIGNED_URL_BODIES], ids=[n for n, _ in SIGNED_URL_BODIES]
)
def test_the_signed_url_reader_agrees_with_a_json_decoder(body: bytes) -> None:
    # The reader skips the decoder for plain strings: its answer must be the same.
    try:
        decoded = json.loads(body.decode("utf-8-sig"))
    except ValueError:
        decoded = ValueError
    if (
        isinstance(decoded, str)
        and decoded.startswith(("https://", "http://"))
        and len(decoded) >= 10
    ):
        assert TICKET_URL.read(body).url == decoded
    else:
        with pytest.raises(UnexpectedResponseError):
            TICKET_URL.read(body)


REFERENCES = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="abcXYZ019", min_size=199, max_size=202),  # around MAX_REFERENCE
    st.sampled_from(["٣", "Ⅻ", "ﬁ", "a b", "a\x00", " ", "", "T-1", "ü1"]),
)


@settings(max_examples=300, deadline=None)
@given(ref=REFERENCES)
def test_a_bulk_call_checks_and_encodes_its_id_as_a_single_call_does(ref: str) -> None:
    # The bulk maker takes most ids (short, ASCII alphanumeric) without the checks:
    # for any id, it must refuse exactly what the checks refuse and encode the same.
    prefix = "/users/get-ticket?wp_user_id=7&ticket_id="
    make = api.ticket_url_calls(7)
    try:
        checked = check.reference("ticket_id", ref)
    except InvalidRequestError as exc:
        refusal = str(exc)
    else:
        refusal = None
    if refusal is not None:
        with pytest.raises(InvalidRequestError) as info:
            make(ref)
        assert str(info.value) == refusal
        return
    assert make(ref).target == prefix + quote(checked, safe="")
    assert make(type("Id", (str,), {})(ref)).target == prefix + quote(checked, safe="")


_INJECTED = " HTTP/1.1\r\nX-Injected: 1\r\n"


class _LyingStr(str):
    """A str whose methods lie about what it holds (what a subclass could do to
    a URL if its own methods were trusted)."""

    __slots__ = ()

    def __add__(self, other: object) -> str:
        return _INJECTED

    def __radd__(self, other: object) -> str:
        return f"{other}{_INJECTED}"

    def __format__(self, spec: str) -> str:
        return _INJECTED

    def __str__(self) -> str:
        return _INJECTED

    def __len__(self) -> int:
        return 1

    def isascii(self) -> bool:
        return True

    def isalnum(self) -> bool:
        return True

    def isprintable(self) -> bool:
        return True

    def strip(self, chars: str | None = None) -> str:
        return "x"


class _LyingInt(int):
    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return _INJECTED

    def __str__(self) -> str:
        return _INJECTED

    def __repr__(self) -> str:
        return _INJECTED


_SENDABLE = re.compile(r"[!-~]+")


def _targets(ref: str, number: int) -> list[Callable[[], Call[Any]]]:
    """Every endpoint that puts a caller's value in its target, given these."""
    return [
        lambda: api.get_ticket_url(ref, user_id=number),
        lambda: api.ticket_url_calls(number)(ref),
        lambda: api.get_order_pdf_url(ref, user_id=number),
        lambda: api.get_user_events(number),
        lambda: api.get_event_tickets(number, user_id=number),
        lambda: api.personalize_tickets(
            number,
            user_id=number,
            tickets=[Attendee("T-1", "A", "B", "a@b.c", "+1")],
        ),
        lambda: api.mark_order_processing(number),
    ]


@settings(max_examples=200, deadline=None)
@given(ref=REFERENCES, number=st.integers(min_value=-3, max_value=2**64))
def test_every_target_can_go_on_a_request_line_as_it_is(ref: str, number: int) -> None:
    # The builtin transport does not check an API call's target again at send
    # (``request_bytes(checked=True)``): each endpoint must make it sendable,
    # visible ASCII, whatever it is given, or refuse it. Subclasses with lying
    # methods give the target their plain value gives.
    for plain, lying in zip(
        _targets(ref, number), _targets(_LyingStr(ref), _LyingInt(number)), strict=True
    ):
        try:
            expected = plain()
        except InvalidRequestError:
            with pytest.raises(InvalidRequestError):
                lying()
            continue
        assert _SENDABLE.fullmatch(expected.target), expected.target
        assert lying().target == expected.target
