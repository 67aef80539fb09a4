"""GET /events and GET /users/{userId}/events: shapes, formats, isolation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ticketpulse.testing import DEMO_API_KEY, Sandbox

KEY = DEMO_API_KEY

EVENT_FIELDS = [
    "id",
    "name",
    "city",
    "start_date",
    "end_date",
    "price",
    "stock",
    "status",
    "tickets",
    "children",
]
TICKET_TYPE_FIELDS = ["id", "name", "stock", "price", "status", "date", "enabled"]
SUB_EVENT_FIELDS = [
    "id",
    "name",
    "status",
    "stock",
    "price",
    "featured",
    "tickets",
    "manage_price_per_ticket",
    "manage_stock_per_ticket",
    "start_date",
    "end_date",
    "event_params",
    "password",
    "thumbnail",
    "location",
    "deleted_at",
]


def test_events_have_the_doc_fields_in_the_doc_formats(http: httpx.Client) -> None:
    response = http.get("/events", params={"key": KEY})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    events = response.json()
    assert [e["id"] for e in events] == [12, 15, 16]
    festival = events[0]
    assert list(festival) == EVENT_FIELDS
    assert festival["name"] == "Summer Festival 2025"
    assert festival["city"] == "Amsterdam"
    assert festival["start_date"] == int(datetime(2025, 8, 2, 12, tzinfo=UTC).timestamp())
    assert isinstance(festival["end_date"], int)
    assert festival["price"] == "29.95"  # a string on events
    assert (festival["stock"], festival["status"]) == (500, 1)
    general = festival["tickets"][0]
    assert list(general) == TICKET_TYPE_FIELDS
    assert general == {
        "id": 45,
        "name": "General Admission",
        "stock": 400,
        "price": 29.95,  # a JSON number on ticket types
        "status": 1,
        "date": None,
        "enabled": True,
    }
    day1 = festival["children"][0]
    assert list(day1) == SUB_EVENT_FIELDS
    assert day1["name"] == "Day 1 — Saturday"
    assert day1["price"] == "15.00"
    assert day1["featured"] is False
    assert day1["event_params"] == {}
    assert day1["password"] is None
    assert day1["deleted_at"] is None
    assert day1["thumbnail"] == "event-13.jpg"
    assert day1["location"] == "Vondelpark"
    assert day1["stock"] == 250
    assert day1["tickets"][0]["date"] == day1["start_date"]
    assert [c["name"] for c in festival["children"]] == ["Day 1 — Saturday", "Day 2 — Sunday"]


def test_price_number_keeps_its_decimal_digits(http: httpx.Client) -> None:
    raw = http.get("/events", params={"key": KEY}).text
    assert '"price": 29.95' in raw
    assert '"price": "29.95"' in raw
    prices = [
        t["price"] for e in http.get("/events", params={"key": KEY}).json() for t in e["tickets"]
    ]
    assert all(isinstance(p, float) for p in prices)


def test_stock_goes_down_with_orders(
    http: httpx.Client, create_order: Callable[..., Any], sandbox: Sandbox
) -> None:
    create_order((45, 3), (47, 2))
    festival = http.get("/events", params={"key": KEY}).json()[0]
    assert festival["tickets"][0]["stock"] == 397
    assert festival["stock"] == 497  # an explicit capacity, shared by its own ticket types
    assert festival["children"][0]["tickets"][0]["stock"] == 248
    assert festival["children"][0]["stock"] == 248  # no capacity: what its types have left
    assert sandbox.stock(45) == 397


def test_custom_events_and_sub_events(sandbox: Sandbox, http: httpx.Client) -> None:
    account = sandbox.add_account("other-key", name="Other")
    event = sandbox.add_event(
        account,
        name="Open Air",
        city=None,
        start=datetime(2026, 6, 1, 18, 30),  # naive: taken as UTC
        price=Decimal(10),
    )
    sub = sandbox.add_sub_event(
        event, name="Evening", featured=True, password="pw", event_params={"a": 1}
    )
    sandbox.add_ticket_type(sub, name="Seat", price="12.5", stock=7, enabled=False, status=2)
    events = http.get("/events", params={"key": "other-key"}).json()
    assert events == [
        {
            "id": event.id,
            "name": "Open Air",
            "city": None,
            "start_date": int(datetime(2026, 6, 1, 18, 30, tzinfo=UTC).timestamp()),
            "end_date": None,
            "price": "10.00",
            "stock": 7,
            "status": 1,
            "tickets": [],
            "children": [
                {
                    "id": sub.id,
                    "name": "Evening",
                    "status": 1,
                    "stock": 7,
                    "price": "0.00",
                    "featured": True,
                    "tickets": [
                        {
                            "id": sandbox.events(account)[1].ticket_type_ids[0],
                            "name": "Seat",
                            "stock": 7,
                            "price": 12.5,
                            "status": 2,
                            "date": None,
                            "enabled": False,
                        }
                    ],
                    "manage_price_per_ticket": True,
                    "manage_stock_per_ticket": True,
                    "start_date": None,
                    "end_date": None,
                    "event_params": {"a": 1},
                    "password": "pw",
                    "thumbnail": f"event-{sub.id}.jpg",
                    "location": None,
                    "deleted_at": None,
                }
            ],
        }
    ]


def test_a_sub_event_cannot_have_sub_events(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="sub-event"):
        sandbox.add_sub_event(13, name="Nested")


def test_an_account_sees_only_its_own_events(sandbox: Sandbox, http: httpx.Client) -> None:
    sandbox.add_account("empty-key")
    assert http.get("/events", params={"key": "empty-key"}).json() == []


def test_user_events_lists_events_the_user_bought_for(
    http: httpx.Client, create_order: Callable[..., Any]
) -> None:
    create_order((47, 1))  # a sub-event's ticket: listed under its event
    create_order((49, 2))
    create_order((53, 1), wp_user_id=790)
    response = http.get("/users/789/events", params={"key": KEY})
    assert response.status_code == 200
    assert response.json() == [
        {"id": 12, "name": "Summer Festival 2025", "start_date": "2025-08-02T12:00:00+00:00"},
        {"id": 15, "name": "Jazz Night", "start_date": "2025-09-12T20:00:00+00:00"},
    ]


@pytest.mark.parametrize("user", ["788", "abc", "0", "-1", "7.5"])
def test_user_events_404_when_the_user_has_no_orders(
    http: httpx.Client, create_order: Callable[..., Any], user: str
) -> None:
    create_order((45, 1))
    response = http.get(f"/users/{user}/events", params={"key": KEY})
    assert response.status_code == 404
    assert response.text == "External user has no orders"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_user_events_of_another_account_are_not_seen(
    sandbox: Sandbox, http: httpx.Client, create_order: Callable[..., Any]
) -> None:
    create_order((45, 1))
    sandbox.add_account("other-key")
    response = http.get("/users/789/events", params={"key": "other-key"})
    assert (response.status_code, response.text) == (404, "External user has no orders")


def test_user_with_orders_but_no_tickets_gets_an_empty_list(
    http: httpx.Client, order_line: Callable[..., dict[str, Any]]
) -> None:
    body = {"wp_user_id": 5, "order_lines": [order_line(None)]}  # a line without ticket type
    assert http.post("/orders/create", params={"key": KEY}, json=body).status_code == 200
    response = http.get("/users/5/events", params={"key": KEY})
    assert (response.status_code, response.json()) == (200, [])
