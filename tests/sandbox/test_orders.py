"""POST /orders/create: new orders, stock, tickets, Processing, and every error."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ticketpulse.testing import DEMO_API_KEY, Sandbox

KEY = DEMO_API_KEY
Line = Callable[..., dict[str, Any]]


def post(http: httpx.Client, body: Any, *, key: str = KEY) -> httpx.Response:
    if isinstance(body, bytes):
        return http.post("/orders/create", params={"key": key}, content=body)
    return http.post("/orders/create", params={"key": key}, json=body)


def test_create_order_answers_order_created_as_plain_text(
    http: httpx.Client, order_line: Line, sandbox: Sandbox
) -> None:
    body = {
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
            "email": "jane@example.com",
            "phone": "+31612345678",
        },
        "order_lines": [
            order_line(45, 2),
            {**order_line(None), "order_item_type": "shipping", "unit_price": 4.95},
        ],
    }
    response = post(http, body)
    assert response.status_code == 200
    assert response.text == "Order created"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    (order,) = sandbox.orders()
    assert (order.id, order.reference, order.status) == (123, "TP-00123", "pending")
    assert (order.wp_user_id, order.wp_order_id) == (789, "wc_456")
    assert order.ticket_refs == ("a3f9b", sandbox.tickets()[1].reference)
    assert order.lines[0].unit_price == Decimal("29.95")
    assert order.lines[1].tp_event_ticket_id is None
    assert order.body["order_total"] == Decimal("59.90")
    assert order.body["currency"] == "EUR"
    assert [t.status for t in sandbox.tickets(order=order.id)] == [1, 1]
    assert sandbox.stock(45) == 398


def test_ticket_references_are_short_unique_and_deterministic(
    create_order: Callable[..., Any],
) -> None:
    first = create_order((45, 50))
    second = create_order((46, 50))
    refs = first.ticket_refs + second.ticket_refs
    assert refs[0] == "a3f9b"
    assert len(set(refs)) == 100
    assert all(len(r) == 5 and r.isalnum() for r in refs)
    again = Sandbox.demo()
    assert again.add_order(items={45: 3}, wp_user_id=1).ticket_refs == refs[:3]


@pytest.mark.parametrize("body", [b"", b"   ", b"{not json", b"[]", b'"text"', b"42", b"null"])
def test_incorrect_request_for_an_empty_or_non_object_body(http: httpx.Client, body: bytes) -> None:
    response = post(http, body)
    assert (response.status_code, response.text) == (404, "Incorrect request")


@pytest.mark.parametrize("lines", [None, []])
def test_no_order_lines_specified(http: httpx.Client, lines: Any, sandbox: Sandbox) -> None:
    body: dict[str, Any] = {"wp_user_id": 789}
    if lines is not None:
        body["order_lines"] = lines
    response = post(http, body)
    assert (response.status_code, response.text) == (404, "No order lines specified")
    assert sandbox.order_count() == 0


def test_tp_order_id_sets_the_existing_order_to_processing(
    http: httpx.Client, create_order: Callable[..., Any], sandbox: Sandbox
) -> None:
    order = create_order((45, 1))
    response = post(http, {"tp_order_id": order.id, "order_lines": [], "date_paid": "x"})
    assert (response.status_code, response.text) == (200, "Order created")
    assert sandbox.order_count() == 1  # no new order
    assert sandbox.order(order.id).status == "processing"
    assert sandbox.stock(45) == 399  # nothing reserved again


def test_tp_order_id_of_no_order(http: httpx.Client, sandbox: Sandbox) -> None:
    response = post(http, {"tp_order_id": 999})
    assert (response.status_code, response.text) == (404, "Ticket Pulse order does not exist")


def test_tp_order_id_of_another_accounts_order(
    http: httpx.Client, create_order: Callable[..., Any], sandbox: Sandbox
) -> None:
    order = create_order((45, 1))
    sandbox.add_account("other-key")
    response = post(http, {"tp_order_id": order.id}, key="other-key")
    assert (response.status_code, response.text) == (403, "You do not have access to this order")
    assert sandbox.order(order.id).status == "pending"


def test_errors_come_in_the_doc_order(http: httpx.Client, sandbox: Sandbox) -> None:
    # Authentication first, then the body, then the order, then the lines.
    assert post(http, b"", key="nope").text == "Unauthorized"
    assert post(http, {"tp_order_id": 999, "order_lines": []}).text == (
        "Ticket Pulse order does not exist"
    )
    assert post(http, {"order_lines": [], "wp_user_id": "bad"}).text == "No order lines specified"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tp_order_id": "123"}, "Invalid order: tp_order_id must be an integer"),
        ({"order_lines": "x"}, "Invalid order: order_lines must be an array"),
        ({"wp_user_id": "789"}, "Invalid order: wp_user_id must be a positive integer"),
        ({"wp_user_id": True}, "Invalid order: wp_user_id must be a positive integer"),
        ({"wp_order_id": 456}, "Invalid order: wp_order_id must be a string"),
        ({"order_total": "59.90"}, "Invalid order: order_total must be a number"),
        (
            {"date_paid": "yesterday"},
            "Invalid order: date_paid must be an ISO 8601 date-time string",
        ),
        ({"billing_information": []}, "Invalid order: billing_information must be an object"),
        (
            {"billing_information": {"email": 1}},
            "Invalid order: billing_information.email must be a string",
        ),
        ({"order_lines": [1]}, "Invalid order: order_lines[0] must be an object"),
    ],
)
def test_invalid_fields_are_a_sandbox_defined_400(
    http: httpx.Client, order_line: Line, change: dict[str, Any], message: str, sandbox: Sandbox
) -> None:
    body = {"wp_user_id": 789, "order_lines": [order_line(45)], **change}
    response = post(http, body)
    assert (response.status_code, response.text) == (400, message)
    assert sandbox.order_count() == 0
    assert sandbox.stock(45) == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", None),
        ("name", ""),
        ("quantity", None),
        ("quantity", 0),
        ("quantity", -1),
        ("quantity", 1.5),
        ("quantity", True),
        ("product_id", None),
        ("product_id", "101"),
        ("order_item_type", None),
        ("unit_price", None),
        ("unit_price", "29.95"),
        ("tp_event_ticket_id", "45"),
    ],
)
def test_invalid_order_lines_are_a_sandbox_defined_400(
    http: httpx.Client, order_line: Line, field: str, value: Any
) -> None:
    bad = order_line(45)
    if value is None:
        del bad[field]
    else:
        bad[field] = value
    response = post(http, {"order_lines": [order_line(46), bad]})
    assert response.status_code == 400
    assert response.text.startswith(f"Invalid order: order_lines[1].{field} ")


def test_unknown_or_foreign_ticket_type_is_404(
    http: httpx.Client, order_line: Line, sandbox: Sandbox
) -> None:
    other = sandbox.add_account("other-key")
    event = sandbox.add_event(other, name="Theirs")
    theirs = sandbox.add_ticket_type(event, name="T", price=1, stock=5)
    for type_id in (9999, theirs.id):
        response = post(http, {"order_lines": [order_line(type_id)]})
        assert (response.status_code, response.text) == (
            404,
            f"Ticket type not found ({type_id})",
        )


def test_disabled_ticket_type_cannot_be_ordered(http: httpx.Client, order_line: Line) -> None:
    response = post(http, {"order_lines": [order_line(54)]})
    assert (response.status_code, response.text) == (400, "Ticket type not available (54)")


def test_no_overselling_and_no_partial_orders(
    http: httpx.Client, order_line: Line, sandbox: Sandbox
) -> None:
    response = post(http, {"order_lines": [order_line(52)]})  # Early Bird: sold out
    assert (response.status_code, response.text) == (
        400,
        "Not enough stock for ticket type 52 (requested 1, available 0)",
    )
    # Two lines of one type add up; the order is refused whole, nothing taken.
    response = post(
        http, {"order_lines": [order_line(49, 1), order_line(51, 3), order_line(51, 2)]}
    )
    assert response.text == "Not enough stock for ticket type 51 (requested 5, available 4)"
    assert (sandbox.stock(49), sandbox.stock(51), sandbox.order_count()) == (120, 4, 0)
    assert post(http, {"order_lines": [order_line(51, 4)]}).status_code == 200
    assert sandbox.stock(51) == 0


def test_event_capacity_is_enforced(http: httpx.Client, order_line: Line, sandbox: Sandbox) -> None:
    event = sandbox.add_event(name="Small", stock=3)
    a = sandbox.add_ticket_type(event, name="A", price=1, stock=3)
    b = sandbox.add_ticket_type(event, name="B", price=1, stock=3)
    assert post(http, {"order_lines": [order_line(a.id, 2)]}).status_code == 200
    response = post(http, {"order_lines": [order_line(b.id, 2)]})
    assert response.text == f"Not enough stock for event {event.id} (requested 2, available 1)"
    assert sandbox.event(event.id).stock == 1


def test_concurrent_orders_never_oversell(sandbox: Sandbox, order_line: Line) -> None:
    # 24 threads race for the 4 Front Row seats, 1 each: exactly 4 win.
    results: list[int] = []
    barrier = threading.Barrier(24)

    def buy() -> None:
        with httpx.Client(transport=sandbox.transport(), base_url=sandbox.base_url) as client:
            barrier.wait()
            response = client.post(
                "/orders/create", params={"key": KEY}, json={"order_lines": [order_line(51)]}
            )
            results.append(response.status_code)

    threads = [threading.Thread(target=buy) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200] * 4 + [400] * 20
    assert sandbox.stock(51) == 0
    assert sandbox.order_count() == 4
    assert len(sandbox.tickets()) == 4


def test_add_order_helper_reserves_like_the_endpoint(sandbox: Sandbox) -> None:
    order = sandbox.add_order(wp_user_id=1, items={51: 2}, wp_order_id="w1")
    assert (order.reference, len(order.ticket_refs), sandbox.stock(51)) == ("TP-00123", 2, 2)
    with pytest.raises(ValueError, match="Not enough stock"):
        sandbox.add_order(wp_user_id=1, items=[(51, 3)])
    assert sandbox.order_count() == 1
