"""The converter against the Partner API documentation (SPEC §3 conversion rules).

Responses are decoded by ``_json.loads`` (floats become Decimal) and structured
by the readers of ``_convert``; ``_core.read_json`` is the whole path from the
body bytes. Outgoing bodies are checked against the doc's Create order example.
"""

from __future__ import annotations

import copy
import re
import types
import typing
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketpulse import (
    Attendee,
    BillingInformation,
    Event,
    NewOrder,
    OrderItemType,
    OrderLine,
    PersonalizationResult,
    SubEvent,
    Ticket,
    TicketStatus,
    TicketType,
    UnexpectedResponseError,
    UserEvent,
    _json,
)
from ticketpulse._convert import (
    read_events,
    read_personalization,
    read_tickets,
    read_user_events,
    unstructure_body,
)
from ticketpulse._core import read_json

# --- The doc's example responses, comments removed -------------------------

# "Get all events". The sub-event's `tickets` is `[ /* same structure as above */ ]`
# in the doc: a realistic ticket type of that structure stands in for it.
EVENTS_BODY = b"""
[
  {
    "id":         12,
    "name":       "Summer Festival 2025",
    "city":       "Amsterdam",
    "start_date": 1753920000,
    "end_date":   1754006400,
    "price":      "29.95",
    "stock":      500,
    "status":     1,
    "tickets": [
      {
        "id":      45,
        "name":    "General Admission",
        "stock":   400,
        "price":   29.95,
        "status":  1,
        "date":    1753920000,
        "enabled": true
      }
    ],
    "children": [
      {
        "id":                    13,
        "name":                  "Day 1 \xe2\x80\x94 Saturday",
        "status":                1,
        "stock":                 250,
        "price":                 "15.00",
        "featured":              false,
        "tickets":               [
          {
            "id":      46,
            "name":    "Day 1 Ticket",
            "stock":   250,
            "price":   15.00,
            "status":  1,
            "date":    1753920000,
            "enabled": true
          }
        ],
        "manage_price_per_ticket": true,
        "manage_stock_per_ticket": true,
        "start_date":            1753920000,
        "end_date":              1753963200,
        "event_params":          {},
        "password":              null,
        "thumbnail":             "event-13.jpg",
        "location":              "Vondelpark",
        "deleted_at":            null
      }
    ]
  }
]
"""

# "Get events by user".
USER_EVENTS_BODY = b"""
[
  {
    "id":         12,
    "name":       "Summer Festival 2025",
    "start_date": "2025-07-31T18:00:00+00:00"
  }
]
"""

# "Get tickets by event". The doc's scraped copy shows "[email protected]" for the
# e-mail address; a real address stands in for it.
TICKETS_BODY = b"""
[
  {
    "id":               "a3f9b",
    "event_name":       "Summer Festival 2025",
    "event_start_date": "2025-07-31T18:00:00+00:00",
    "start_date":       "2025-07-31T18:00:00+00:00",
    "order_id":         "TP-00123",
    "name":             "General Admission",
    "first_name":       "Jane",
    "last_name":        "Doe",
    "email":            "jane.doe@example.com",
    "phone":            "+31612345678",
    "status":           2,
    "is_deprecated":    false
  }
]
"""

# "Personalise tickets": `tickets` echoes the submitted array.
PERSONALIZATION_BODY = b"""
{
  "tickets": [
    {
      "ticket_id":  "a3f9b",
      "first_name": "Jane",
      "last_name":  "Doe",
      "email":      "jane.doe@example.com",
      "tel":        "+31612345678"
    }
  ],
  "all_personalized": true
}
"""

# "Create order" request body, without tp_order_id (that is mark_order_processing).
ORDER_BODY = b"""
{
  "wp_order_id":    "wc_456",
  "wp_user_id":     789,
  "payment_method_title": "iDEAL",
  "payment_method": "ideal",
  "ip_address":     "1.2.3.4",
  "currency":       "EUR",
  "order_total":    59.90,
  "date_created":   "2025-04-11T10:00:00Z",
  "date_paid":      "2025-04-11T10:01:00Z",
  "locale":         "nl",
  "my_tickets_url": "https://yoursite.com/my-tickets",
  "billing_information": {
    "first_name":  "Jane",
    "last_name":   "Doe",
    "address":     "Kerkstraat 1",
    "city":        "Amsterdam",
    "postal_code": "1234 AB",
    "country":     "NL",
    "email":       "jane.doe@example.com",
    "phone":       "+31612345678"
  },
  "order_lines": [
    {
      "tp_event_ticket_id": 45,
      "name":          "General Admission",
      "quantity":      2,
      "product_id":    101,
      "order_item_type": "line_item",
      "unit_price":    29.95
    }
  ]
}
"""

JULY_31 = datetime(2025, 7, 31, tzinfo=UTC)  # 1753920000
PLUS_2 = timezone(timedelta(hours=2))


def doc(body: bytes) -> Any:
    return _json.loads(body)


def one_event(**changes: Any) -> list[dict[str, Any]]:
    event = doc(EVENTS_BODY)[0]
    event.update(changes)
    return [event]


def one_ticket(**changes: Any) -> list[dict[str, Any]]:
    ticket = doc(TICKETS_BODY)[0]
    ticket.update(changes)
    return [ticket]


def one_child(**changes: Any) -> list[dict[str, Any]]:
    events = doc(EVENTS_BODY)
    events[0]["children"][0].update(changes)
    return events


def one_ticket_type(**changes: Any) -> list[dict[str, Any]]:
    events = doc(EVENTS_BODY)
    events[0]["tickets"][0].update(changes)
    return events


def assert_exact(value: Any, expected: str) -> None:
    """A Decimal equal to ``expected`` with exactly its digits."""
    assert isinstance(value, Decimal)
    assert str(value) == expected


def assert_utc(value: Any, expected: datetime) -> None:
    assert isinstance(value, datetime)
    assert value == expected
    assert value.utcoffset() == timedelta(0)


# --- The doc's examples ------------------------------------------------------


def test_doc_events_example_is_read_into_models() -> None:
    events = read_events(doc(EVENTS_BODY))

    assert events == [
        Event(
            id=12,
            name="Summer Festival 2025",
            city="Amsterdam",
            start_date=JULY_31,
            end_date=datetime(2025, 8, 1, tzinfo=UTC),
            price=Decimal("29.95"),
            stock=500,
            status=1,
            tickets=[
                TicketType(
                    id=45,
                    name="General Admission",
                    stock=400,
                    price=Decimal("29.95"),
                    status=1,
                    date=JULY_31,
                    enabled=True,
                )
            ],
            children=[
                SubEvent(
                    id=13,
                    name="Day 1 \u2014 Saturday",
                    status=1,
                    stock=250,
                    price=Decimal("15.00"),
                    featured=False,
                    tickets=[
                        TicketType(
                            id=46,
                            name="Day 1 Ticket",
                            stock=250,
                            price=Decimal("15.00"),
                            status=1,
                            date=JULY_31,
                            enabled=True,
                        )
                    ],
                    manage_price_per_ticket=True,
                    manage_stock_per_ticket=True,
                    start_date=JULY_31,
                    end_date=datetime(2025, 7, 31, 12, tzinfo=UTC),
                    event_params={},
                    password=None,
                    thumbnail="event-13.jpg",
                    location="Vondelpark",
                    deleted_at=None,
                )
            ],
        )
    ]


def test_doc_events_example_has_exact_prices_and_utc_dates() -> None:
    (event,) = read_events(doc(EVENTS_BODY))
    child = event.children[0]

    assert_exact(event.price, "29.95")  # written "29.95"
    assert_exact(event.tickets[0].price, "29.95")  # written 29.95
    assert_exact(child.price, "15.00")  # written "15.00"
    assert_exact(child.tickets[0].price, "15.00")  # written 15.00
    assert_utc(event.start_date, datetime(2025, 7, 31, 0, 0, tzinfo=UTC))
    assert_utc(event.end_date, datetime(2025, 8, 1, 0, 0, tzinfo=UTC))
    assert_utc(event.tickets[0].date, datetime(2025, 7, 31, 0, 0, tzinfo=UTC))
    assert_utc(child.end_date, datetime(2025, 7, 31, 12, 0, tzinfo=UTC))
    assert child.deleted_at is None
    assert child.password is None


def test_doc_user_events_example_is_read_into_models() -> None:
    events = read_user_events(doc(USER_EVENTS_BODY))

    assert events == [
        UserEvent(
            id=12, name="Summer Festival 2025", start_date=datetime(2025, 7, 31, 18, tzinfo=UTC)
        )
    ]
    assert_utc(events[0].start_date, datetime(2025, 7, 31, 18, tzinfo=UTC))


def test_doc_tickets_example_is_read_into_models() -> None:
    tickets = read_tickets(doc(TICKETS_BODY))

    assert tickets == [
        Ticket(
            id="a3f9b",
            event_name="Summer Festival 2025",
            event_start_date=datetime(2025, 7, 31, 18, tzinfo=UTC),
            start_date=datetime(2025, 7, 31, 18, tzinfo=UTC),
            order_id="TP-00123",
            name="General Admission",
            first_name="Jane",
            last_name="Doe",
            email="jane.doe@example.com",
            phone="+31612345678",
            status=TicketStatus.ACTIVE,
            is_deprecated=False,
        )
    ]
    assert tickets[0].status is TicketStatus.ACTIVE


def test_doc_personalization_example_is_read_into_models() -> None:
    result = read_personalization(doc(PERSONALIZATION_BODY))

    assert result == PersonalizationResult(
        tickets=[Attendee("a3f9b", "Jane", "Doe", "jane.doe@example.com", "+31612345678")],
        all_personalized=True,
    )


@pytest.mark.parametrize(
    ("reader", "body", "model"),
    [
        (read_events, EVENTS_BODY, Event),
        (read_user_events, USER_EVENTS_BODY, UserEvent),
        (read_tickets, TICKETS_BODY, Ticket),
    ],
)
def test_read_json_reads_doc_example_bytes(
    reader: Callable[[Any], list[Any]], body: bytes, model: type
) -> None:
    result = read_json(reader)(body)

    assert result == reader(doc(body))
    assert [type(item) for item in result] == [model]


def test_read_json_keeps_prices_exact_from_bytes() -> None:
    (event,) = read_json(read_events)(EVENTS_BODY)

    assert_exact(event.price, "29.95")
    assert_exact(event.tickets[0].price, "29.95")
    assert_exact(event.children[0].price, "15.00")


def test_read_json_reads_personalization_bytes() -> None:
    result = read_json(read_personalization)(PERSONALIZATION_BODY)

    assert result.all_personalized is True
    assert [a.ticket_id for a in result.tickets] == ["a3f9b"]


@pytest.mark.parametrize(
    "body",
    [b"", b"Order created", b"<html>502 Bad Gateway</html>", b"[{", b"\xff\xfe", b"[1,]"],
)
def test_non_json_body_raises_unexpected_response(body: bytes) -> None:
    with pytest.raises(UnexpectedResponseError, match="not valid JSON"):
        read_json(read_events)(body)


def test_deeply_nested_body_raises_unexpected_response() -> None:
    with pytest.raises(UnexpectedResponseError):
        read_json(read_events)(b"[" * 100_000 + b"]" * 100_000)


# --- Prices ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'"29.95"', "29.95"),
        (b"29.95", "29.95"),
        (b'"15.00"', "15.00"),
        (b"15.00", "15.00"),
        (b"30", "30"),
        (b'"30"', "30"),
        (b"0.1", "0.1"),
        (b'" 7.50 "', "7.50"),
        (b"1E+2", "1E+2"),
    ],
)
def test_price_is_the_exact_decimal_written(raw: bytes, expected: str) -> None:
    body = b'[{"id": 45, "price": ' + raw + b"}]"
    events = read_json(read_events)(b'[{"id": 12, "tickets": ' + body + b"}]")

    assert_exact(events[0].tickets[0].price, expected)


def test_price_given_as_python_float_is_read_through_its_shortest_repr() -> None:
    (event,) = read_events([{"id": 1, "price": 29.95}])

    assert_exact(event.price, "29.95")


@pytest.mark.parametrize(
    "price",
    ["abc", "", "29,95", "NaN", "Infinity", True, [], {}, float("nan"), float("inf")],
)
def test_price_that_is_not_a_finite_number_is_rejected(price: Any) -> None:
    with pytest.raises(UnexpectedResponseError, match=re.escape("@ $[0].price")):
        read_events(one_event(price=price))


# --- Dates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1753920000, JULY_31),
        (1753920000.0, JULY_31),
        (Decimal("1753920000.5"), JULY_31 + timedelta(milliseconds=500)),
        ("1753920000", JULY_31),
        (" 1753920000 ", JULY_31),
        ("1753920000.25", JULY_31 + timedelta(milliseconds=250)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_unix_timestamp_becomes_aware_utc_datetime(value: Any, expected: datetime) -> None:
    (event,) = read_events(one_event(start_date=value))

    assert_utc(event.start_date, expected)
    assert event.start_date is not None
    assert event.start_date.tzinfo is UTC


def test_every_unix_date_field_reads_timestamps() -> None:
    events = one_event(start_date=1753920000, end_date="1754006400")
    events[0]["tickets"][0]["date"] = 1753920000.0
    events[0]["children"][0].update(start_date="1753920000", deleted_at=1753963200)

    (event,) = read_events(events)

    assert_utc(event.start_date, JULY_31)
    assert_utc(event.end_date, JULY_31 + timedelta(days=1))
    assert_utc(event.tickets[0].date, JULY_31)
    assert_utc(event.children[0].start_date, JULY_31)
    assert_utc(event.children[0].deleted_at, JULY_31 + timedelta(hours=12))


def test_iso_date_keeps_its_offset() -> None:
    (ticket,) = read_tickets(one_ticket(start_date="2025-07-31T20:00:00+02:00"))

    assert ticket.start_date == datetime(2025, 7, 31, 18, tzinfo=UTC)
    assert ticket.start_date is not None
    assert ticket.start_date.utcoffset() == timedelta(hours=2)
    assert ticket.start_date.hour == 20


def test_iso_date_with_z_is_utc() -> None:
    (ticket,) = read_tickets(one_ticket(event_start_date="2025-07-31T18:00:00Z"))

    assert_utc(ticket.event_start_date, datetime(2025, 7, 31, 18, tzinfo=UTC))


def test_naive_iso_date_is_taken_as_utc() -> None:
    (user_event,) = read_user_events([{"id": 12, "start_date": "2025-07-31T18:00:00"}])

    assert_utc(user_event.start_date, datetime(2025, 7, 31, 18, tzinfo=UTC))


def test_iso_date_in_unix_field_is_accepted() -> None:
    events = one_event(start_date="2025-07-31T20:00:00+02:00", end_date="2025-08-01T00:00:00Z")
    events[0]["tickets"][0]["date"] = "2025-07-31T00:00:00"
    events[0]["children"][0]["deleted_at"] = "2025-07-31T12:00:00+00:00"

    (event,) = read_events(events)

    assert event.start_date == datetime(2025, 7, 31, 18, tzinfo=UTC)
    assert event.start_date is not None
    assert event.start_date.utcoffset() == timedelta(hours=2)
    assert_utc(event.end_date, datetime(2025, 8, 1, tzinfo=UTC))
    assert_utc(event.tickets[0].date, JULY_31)
    assert_utc(event.children[0].deleted_at, datetime(2025, 7, 31, 12, tzinfo=UTC))


@pytest.mark.parametrize("value", [1753920000, 1753920000.0, "1753920000", Decimal("1753920000")])
def test_unix_timestamp_in_iso_field_is_accepted(value: Any) -> None:
    (ticket,) = read_tickets(one_ticket(start_date=value, event_start_date=value))
    (user_event,) = read_user_events([{"id": 12, "start_date": value}])

    assert_utc(ticket.start_date, JULY_31)
    assert_utc(ticket.event_start_date, JULY_31)
    assert_utc(user_event.start_date, JULY_31)


def test_null_dates_are_none() -> None:
    events = one_event(start_date=None, end_date=None)
    events[0]["tickets"][0]["date"] = None
    events[0]["children"][0].update(start_date=None, end_date=None, deleted_at=None)
    (event,) = read_events(events)
    (ticket,) = read_tickets(one_ticket(start_date=None, event_start_date=None))
    (user_event,) = read_user_events([{"id": 1, "start_date": None}])

    child = event.children[0]
    assert (event.start_date, event.end_date, event.tickets[0].date) == (None, None, None)
    assert (child.start_date, child.end_date, child.deleted_at) == (None, None, None)
    assert (ticket.start_date, ticket.event_start_date) == (None, None)
    assert user_event.start_date is None


@pytest.mark.parametrize(
    "value", ["tomorrow", "", "2025-13-01T00:00:00Z", True, [], {}, 10**30, float("inf")]
)
def test_invalid_date_is_rejected_with_its_path(value: Any) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        read_tickets(one_ticket(start_date=value))

    assert str(caught.value).endswith("@ $[0].start_date")


# --- Lenient scalars ---------------------------------------------------------


def test_numeric_strings_are_read_as_ints() -> None:
    events = one_event(id="12", stock="500", status="1")
    events[0]["tickets"][0].update(id="45", stock=" 400 ")

    (event,) = read_events(events)

    assert (event.id, event.stock, event.status) == (12, 500, 1)
    assert (event.tickets[0].id, event.tickets[0].stock) == (45, 400)
    assert type(event.id) is int


def test_integral_json_number_is_read_as_int() -> None:
    (event,) = read_events(one_event(stock=Decimal("500.0")))

    assert event.stock == 500
    assert type(event.stock) is int


@pytest.mark.parametrize("value", ["12a", "1.5", "", Decimal("1.5"), True, [], None])
def test_non_integer_id_is_rejected(value: Any) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        read_events(one_event(id=value))

    assert str(caught.value).endswith("@ $[0].id")


def test_int_field_rejects_a_number_with_a_huge_exponent() -> None:
    with pytest.raises(UnexpectedResponseError, match=re.escape("@ $[0].stock")):
        read_json(read_events)(b'[{"id": 12, "stock": 1e5000}]')


def test_int_literal_beyond_the_decoder_limit_is_unexpected_response() -> None:
    with pytest.raises(UnexpectedResponseError):
        read_json(read_events)(b'[{"id": 12, "stock": ' + b"1" * 5000 + b"}]")


@pytest.mark.parametrize(
    ("raw", "expected"), [(0, False), (1, True), ("0", False), ("1", True), (True, True)]
)
def test_zero_and_one_are_read_as_bools(raw: Any, expected: bool) -> None:
    (ticket,) = read_tickets(one_ticket(is_deprecated=raw))
    events = one_child(featured=raw, manage_price_per_ticket=raw)
    events[0]["tickets"][0]["enabled"] = raw
    (event,) = read_events(events)

    assert ticket.is_deprecated is expected
    assert event.children[0].featured is expected
    assert event.children[0].manage_price_per_ticket is expected
    assert event.tickets[0].enabled is expected


@pytest.mark.parametrize("value", [2, -1, "yes", [], {}, Decimal("0.5")])
def test_other_values_for_bools_are_rejected(value: Any) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        read_tickets(one_ticket(is_deprecated=value))

    assert str(caught.value).endswith("@ $[0].is_deprecated")


def test_numeric_ticket_reference_is_read_as_string() -> None:
    (ticket,) = read_tickets(one_ticket(id=12345, order_id=123))

    assert ticket.id == "12345"
    assert ticket.order_id == "123"


# --- Unknown and missing fields --------------------------------------------


def test_unknown_fields_are_ignored() -> None:
    events = one_event(venue={"capacity": 9000}, tags=["x"])
    events[0]["tickets"][0]["vat_rate"] = "21"
    events[0]["children"][0]["new_field"] = None
    tickets = one_ticket(seat="A12", barcode=None)

    assert read_events(events) == read_events(doc(EVENTS_BODY))
    assert read_tickets(tickets) == read_tickets(doc(TICKETS_BODY))
    assert read_user_events([{"id": 12, "extra": 1}]) == [UserEvent(id=12)]
    assert read_personalization({"tickets": [], "all_personalized": False, "pdf": "x"}) == (
        PersonalizationResult(tickets=[], all_personalized=False)
    )


def test_missing_optional_fields_take_defaults() -> None:
    events = read_events([{"id": 12, "children": [{"id": 13, "tickets": [{"id": 46}]}]}])
    tickets = read_tickets([{"id": "a3f9b"}])

    assert events == [
        Event(id=12, children=[SubEvent(id=13, tickets=[TicketType(id=46)])]),
    ]
    event = events[0]
    assert (event.name, event.price, event.start_date, event.tickets) == (None, None, None, [])
    assert events[0].children[0].event_params == {}
    assert tickets == [Ticket(id="a3f9b")]
    assert tickets[0].status is TicketStatus.CREATED
    assert tickets[0].is_deprecated is False
    assert read_user_events([{"id": 12}]) == [UserEvent(id=12, name=None, start_date=None)]
    assert read_personalization({}) == PersonalizationResult(tickets=[], all_personalized=False)


def test_null_optional_strings_are_none() -> None:
    (ticket,) = read_tickets(one_ticket(phone=None, email=None, name=None))

    assert (ticket.phone, ticket.email, ticket.name) == (None, None, None)


def test_unknown_ticket_status_is_kept() -> None:
    tickets = read_tickets([*one_ticket(), *one_ticket(id="b7c1d", status=9)])

    status = tickets[1].status
    assert isinstance(status, TicketStatus)
    assert status == 9
    assert status.value == 9
    assert status not in list(TicketStatus)
    assert tickets[0].status is TicketStatus.ACTIVE


@pytest.mark.parametrize(
    ("raw", "expected"), [(1, "CREATED"), ("3", "SCANNED_IN"), (5, "CANCELLED")]
)
def test_known_ticket_status_is_the_enum_member(raw: Any, expected: str) -> None:
    (ticket,) = read_tickets(one_ticket(status=raw))

    assert ticket.status is TicketStatus[expected]


@pytest.mark.parametrize("value", ["active", True, None, 2.5, []])
def test_non_integer_ticket_status_is_rejected(value: Any) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        read_tickets(one_ticket(status=value))

    assert str(caught.value).endswith("@ $[0].status")


def test_empty_php_array_for_event_params_is_an_empty_dict() -> None:
    (event,) = read_events(one_child(event_params=[]))

    assert event.children[0].event_params == {}


def test_event_params_object_is_kept() -> None:
    params = {"age_limit": 18, "tags": ["outdoor"], "price": Decimal("1.50")}
    (event,) = read_events(one_child(event_params=params))

    assert event.children[0].event_params == params


def test_empty_php_object_for_a_list_is_an_empty_list() -> None:
    (event,) = read_events(one_event(tickets={}, children={}))

    assert (event.tickets, event.children) == ([], [])


# --- Errors name the JSON path ---------------------------------------------


def _four_events() -> list[dict[str, Any]]:
    events = []
    for index in range(4):
        event = doc(EVENTS_BODY)[0]
        event["id"] = 12 + index
        events.append(event)
    return events


def test_wrong_type_deep_in_response_names_its_path() -> None:
    events = _four_events()
    events[3]["tickets"][0]["price"] = {"amount": "29.95"}

    with pytest.raises(UnexpectedResponseError) as caught:
        read_events(events)

    assert str(caught.value).endswith("@ $[3].tickets[0].price")


def test_bad_date_in_second_child_names_its_path() -> None:
    events = doc(EVENTS_BODY)
    second = copy.deepcopy(events[0]["children"][0])
    second.update(id=14, start_date="next saturday")
    events[0]["children"].append(second)

    with pytest.raises(UnexpectedResponseError) as caught:
        read_events(events)

    assert str(caught.value).endswith("@ $[0].children[1].start_date")


def test_missing_required_id_names_its_path() -> None:
    events = doc(EVENTS_BODY)
    del events[0]["id"]

    with pytest.raises(UnexpectedResponseError) as caught:
        read_events(events)

    assert str(caught.value) == "unexpected response: required field missing @ $[0].id"


def _without_id(data: Any, where: tuple[Any, ...], null: bool) -> Any:
    """``data`` with the id of the object at ``where`` removed, or null."""
    target = data
    for step in where:
        target = target[step]
    if null:
        target["id"] = None
    else:
        del target["id"]
    return data


def _two_of_each() -> list[dict[str, Any]]:
    """Two events, each with two ticket types and two sub-events of two ticket types."""
    events = doc(EVENTS_BODY)
    event = events[0]
    event["tickets"].append({**event["tickets"][0], "id": 47})
    child = event["children"][0]
    child["tickets"].append({**child["tickets"][0], "id": 48})
    event["children"].append({**copy.deepcopy(child), "id": 14})
    events.append({**copy.deepcopy(event), "id": 15})
    return events


READ_NAMES = {read_events: "events", read_user_events: "user events", read_tickets: "tickets"}

# Every model's id, at a position other than the first where it can be.
ID_PATHS: list[tuple[Callable[[Any], Any], Callable[[], Any], tuple[Any, ...], str]] = [
    (read_events, _two_of_each, (1,), "$[1].id"),
    (read_events, _two_of_each, (0, "tickets", 1), "$[0].tickets[1].id"),
    (read_events, _two_of_each, (1, "children", 1), "$[1].children[1].id"),
    (
        read_events,
        _two_of_each,
        (0, "children", 1, "tickets", 1),
        "$[0].children[1].tickets[1].id",
    ),
    (read_user_events, lambda: [*doc(USER_EVENTS_BODY), *doc(USER_EVENTS_BODY)], (1,), "$[1].id"),
    (read_tickets, lambda: [*one_ticket(), *one_ticket(id="b7c1d")], (1,), "$[1].id"),
]


@pytest.mark.parametrize("null", [False, True], ids=["missing", "null"])
@pytest.mark.parametrize(
    ("reader", "make", "where", "path"),
    ID_PATHS,
    ids=[f"{c[3]} of {READ_NAMES[c[0]]}" for c in ID_PATHS],
)
def test_object_without_its_id_is_unexpected_response_naming_the_path(
    reader: Callable[[Any], Any],
    make: Callable[[], Any],
    where: tuple[Any, ...],
    path: str,
    null: bool,
) -> None:
    assert reader(make())  # readable with every id
    data = _without_id(make(), where, null)

    with pytest.raises(UnexpectedResponseError) as caught:
        reader(data)

    problem = "expected an integer, got null" if null else "required field missing"
    if null and reader is read_tickets:
        problem = "expected a string, got null"
    assert str(caught.value) == f"unexpected response: {problem} @ {path}"


@pytest.mark.parametrize(
    ("reader", "data", "path"),
    [
        (read_events, {"id": 12}, "$"),
        (read_events, "[]", "$"),
        (read_events, None, "$"),
        (read_events, [12], "$[0]"),
        (read_events, [None], "$[0]"),
        (read_events, one_event(tickets="none"), "$[0].tickets"),
        (read_events, one_child(event_params=[1, 2]), "$[0].children[0].event_params"),
        (read_events, one_ticket_type(enabled="maybe"), "$[0].tickets[0].enabled"),
        (read_events, one_child(stock="lots"), "$[0].children[0].stock"),
        (read_user_events, {"events": []}, "$"),
        (read_user_events, [{"id": 12, "start_date": []}], "$[0].start_date"),
        (read_user_events, [{"name": "x"}], "$[0].id"),
        (read_tickets, one_ticket(id=None), "$[0].id"),
        (read_tickets, one_ticket(email=["a"]), "$[0].email"),
        (read_personalization, [], "$"),
        (read_personalization, {"tickets": [{"ticket_id": "a"}]}, "$.tickets[0].first_name"),
        (read_personalization, {"all_personalized": "yes"}, "$.all_personalized"),
        (read_personalization, {"tickets": 1}, "$.tickets"),
    ],
)
def test_malformed_response_names_the_json_path(
    reader: Callable[[Any], Any], data: Any, path: str
) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        reader(data)

    message = str(caught.value)
    assert message.startswith("unexpected response: ")
    assert re.search(re.escape(f"@ {path}") + r"(;|$)", message), message


def test_several_problems_are_summarised_in_one_line() -> None:
    data = [{"name": 1}, {"name": 2}, {"name": 3}, {"name": 4}, {"name": 5}]

    with pytest.raises(UnexpectedResponseError) as caught:
        read_user_events(data)

    message = str(caught.value)
    assert "\n" not in message
    assert "@ $[0].id" in message
    assert "more)" in message


def test_unexpected_response_chains_no_internal_exception() -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        read_events([{"id": "x"}])

    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ is True


# --- Property: the readers return well-typed models or UnexpectedResponseError


def _conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` matches the type hint, recursively through attrs models."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (types.UnionType, typing.Union):
        return any(_conforms(value, arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_conforms(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    if hint is bool:
        return type(value) is bool
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is datetime:
        return isinstance(value, datetime) and value.utcoffset() is not None
    if hint is Decimal:
        return isinstance(value, Decimal) and value.is_finite()
    if isinstance(hint, type) and attrs.has(hint):
        hints = typing.get_type_hints(hint)
        return type(value) is hint and all(
            _conforms(getattr(value, f.name), hints[f.name]) for f in attrs.fields(hint)
        )
    return isinstance(hint, type) and isinstance(value, hint)


FIELD_NAMES = sorted(
    {
        f.name
        for cls in (Event, SubEvent, TicketType, UserEvent, Ticket, Attendee, PersonalizationResult)
        for f in attrs.fields(cls)
    }
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-1, max_value=10),
    st.floats(),
    st.integers(min_value=-(10**6), max_value=10**6).map(lambda n: Decimal(n).scaleb(-2)),
    st.text(max_size=12),
    # numeric strings and ISO dates, which the lenient hooks read
    st.integers(min_value=-(10**11), max_value=10**11).map(str),
    st.integers(min_value=0, max_value=2**32).map(
        lambda t: datetime.fromtimestamp(t, UTC).isoformat()
    ),
)

json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)

# Replacement values for mutations: shallow, so that generating them stays cheap.
shallow_values = (
    scalars
    | st.lists(scalars, max_size=3)
    | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), scalars, max_size=3)
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def mutate(draw: st.DrawFn, data: Any, values: st.SearchStrategy[Any]) -> Any:
    """``data``, changed in place: one to three keys dropped or values drawn from ``values``."""
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(data))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(values)
    return data


@st.composite
def mutations(draw: st.DrawFn, example: Any) -> Any:
    """The doc example with one to three keys dropped or values replaced by random ones."""
    return mutate(draw, copy.deepcopy(example), shallow_values)


READERS: list[tuple[Callable[[Any], Any], Any, bytes]] = [
    (read_events, list[Event], EVENTS_BODY),
    (read_user_events, list[UserEvent], USER_EVENTS_BODY),
    (read_tickets, list[Ticket], TICKETS_BODY),
    (read_personalization, PersonalizationResult, PERSONALIZATION_BODY),
]
READER_IDS = ["events", "user_events", "tickets", "personalization"]

FUZZ = settings(max_examples=200, deadline=None)


def _read_or_explain(reader: Callable[[Any], Any], result_type: Any, data: Any) -> None:
    try:
        result = reader(data)
    except UnexpectedResponseError as exc:
        message = str(exc)
        assert message.startswith("unexpected response: ")
        assert " @ $" in message
        assert "\n" not in message
    else:
        assert _conforms(result, result_type), result


@FUZZ
@given(value=json_values)
def test_readers_on_arbitrary_json_give_model_or_unexpected_response(value: Any) -> None:
    for reader, result_type, _ in READERS:
        _read_or_explain(reader, result_type, value)


@pytest.mark.parametrize(("reader", "result_type", "body"), READERS, ids=READER_IDS)
@FUZZ
@given(data=st.data())
def test_reader_on_mutated_doc_example_gives_model_or_unexpected_response(
    reader: Callable[[Any], Any], result_type: Any, body: bytes, data: st.DataObject
) -> None:
    _read_or_explain(reader, result_type, data.draw(mutations(doc(body))))


@pytest.mark.parametrize(("reader", "result_type", "body"), READERS, ids=READER_IDS)
def test_doc_examples_conform_to_the_model_types(
    reader: Callable[[Any], Any], result_type: Any, body: bytes
) -> None:
    assert _conforms(reader(doc(body)), result_type)


# --- Outgoing ----------------------------------------------------------------


def doc_order() -> NewOrder:
    """The doc's Create order example as a NewOrder."""
    return NewOrder(
        wp_order_id="wc_456",
        wp_user_id=789,
        payment_method_title="iDEAL",
        payment_method="ideal",
        ip_address="1.2.3.4",
        currency="EUR",
        order_total=Decimal("59.90"),
        date_created=datetime(2025, 4, 11, 10, 0, tzinfo=UTC),
        date_paid=datetime(2025, 4, 11, 10, 1, tzinfo=UTC),
        locale="nl",
        my_tickets_url="https://yoursite.com/my-tickets",
        billing_information=BillingInformation(
            first_name="Jane",
            last_name="Doe",
            address="Kerkstraat 1",
            city="Amsterdam",
            postal_code="1234 AB",
            country="NL",
            email="jane.doe@example.com",
            phone="+31612345678",
        ),
        order_lines=[
            OrderLine(
                name="General Admission",
                quantity=2,
                product_id=101,
                unit_price=29.95,
                order_item_type=OrderItemType.LINE_ITEM,
                tp_event_ticket_id=45,
            )
        ],
    )


def body_of(value: Any) -> bytes:
    return _json.dumps(unstructure_body(value))


def test_doc_order_is_written_with_exactly_the_doc_fields() -> None:
    written = _json.loads(body_of(doc_order()))

    assert written == doc(ORDER_BODY)
    assert list(written) == list(doc(ORDER_BODY))
    assert set(written["billing_information"]) == set(doc(ORDER_BODY)["billing_information"])
    assert set(written["order_lines"][0]) == set(doc(ORDER_BODY)["order_lines"][0])


def test_order_amounts_are_json_numbers_with_exactly_their_digits() -> None:
    body = body_of(doc_order())

    assert b'"order_total":59.90,' in body
    assert b'"unit_price":29.95' in body
    written = _json.loads(body)
    assert_exact(written["order_total"], "59.90")
    assert_exact(written["order_lines"][0]["unit_price"], "29.95")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("29.95"), b"29.95"),
        (Decimal("59.90"), b"59.90"),
        ("15.00", b"15.00"),
        (29.95, b"29.95"),
        (30, b"30"),
        (Decimal("0.10"), b"0.10"),
    ],
)
def test_unit_price_is_written_as_its_exact_digits(amount: Any, expected: bytes) -> None:
    line = OrderLine(name="Ticket", quantity=1, product_id=101, unit_price=amount)

    assert b'"unit_price":' + expected + b"," in body_of(line)


def test_datetimes_are_written_in_utc_with_z() -> None:
    order = NewOrder(
        date_created=datetime(2025, 4, 11, 12, 0, tzinfo=PLUS_2),
        date_paid=datetime(2025, 4, 11, 10, 1, 30, tzinfo=UTC),
    )

    written = _json.loads(body_of(order))

    assert written["date_created"] == "2025-04-11T10:00:00Z"
    assert written["date_paid"] == "2025-04-11T10:01:30Z"


def test_datetime_with_microseconds_is_written_in_utc_with_z() -> None:
    order = NewOrder(date_created=datetime(2025, 4, 11, 1, 0, 0, 250000, tzinfo=PLUS_2))

    written = _json.loads(body_of(order))

    assert written["date_created"] == "2025-04-10T23:00:00.250000Z"
    assert datetime.fromisoformat(written["date_created"]) == order.date_created


def test_none_fields_are_left_out() -> None:
    order = NewOrder(
        wp_order_id="wc_456",
        billing_information=BillingInformation(first_name="Jane", email="jane.doe@example.com"),
        order_lines=[OrderLine(name="General Admission", quantity=2, product_id=101, unit_price=1)],
    )

    written = _json.loads(body_of(order))

    assert written == {
        "wp_order_id": "wc_456",
        "billing_information": {"first_name": "Jane", "email": "jane.doe@example.com"},
        "order_lines": [
            {
                "name": "General Admission",
                "quantity": 2,
                "product_id": 101,
                "unit_price": 1,
                "order_item_type": "line_item",
            }
        ],
    }
    assert b"null" not in body_of(order)


@pytest.mark.parametrize(
    ("item_type", "expected"),
    [
        (OrderItemType.LINE_ITEM, "line_item"),
        (OrderItemType.SHIPPING, "shipping"),
        (OrderItemType.FEE, "fee"),
        (OrderItemType.COUPON, "coupon"),
        ("gift_wrap", "gift_wrap"),
    ],
)
def test_order_item_type_is_written_as_its_string(item_type: Any, expected: str) -> None:
    line = OrderLine(
        name="x", quantity=1, product_id=101, unit_price="1.00", order_item_type=item_type
    )

    body = body_of(line)

    assert f'"order_item_type":"{expected}"'.encode() in body
    assert _json.loads(body)["order_item_type"] == expected


def test_attendee_is_written_with_the_doc_field_names() -> None:
    attendee = Attendee("a3f9b", "Jane", "Doe", "jane.doe@example.com", "+31612345678")

    written = _json.loads(_json.dumps({"tickets": unstructure_body([attendee])}))

    assert written == {
        "tickets": [
            {
                "ticket_id": "a3f9b",
                "first_name": "Jane",
                "last_name": "Doe",
                "email": "jane.doe@example.com",
                "tel": "+31612345678",
            }
        ]
    }
