"""GET /events/{id}/tickets and POST /events/{id}/tickets/personalize."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ticketpulse.testing import DEMO_API_KEY, Sandbox

KEY = DEMO_API_KEY
TICKET_FIELDS = [
    "id",
    "event_name",
    "event_start_date",
    "start_date",
    "order_id",
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "status",
    "is_deprecated",
]
Personalize = Callable[..., httpx.Response]


def tickets(http: httpx.Client, event_id: object, **params: Any) -> httpx.Response:
    return http.get(f"/events/{event_id}/tickets", params={"key": KEY, **params})


def test_tickets_of_an_event_include_its_sub_events(
    http: httpx.Client, create_order: Callable[..., Any]
) -> None:
    create_order((45, 1), (47, 1))
    create_order((45, 1), wp_user_id=790)  # another user's
    response = tickets(http, 12, wp_user_id="789")
    assert response.status_code == 200
    first, second = response.json()
    assert list(first) == TICKET_FIELDS
    assert first == {
        "id": "a3f9b",
        "event_name": "Summer Festival 2025",
        "event_start_date": "2025-08-02T12:00:00+00:00",
        "start_date": "2025-08-02T12:00:00+00:00",
        "order_id": "TP-00123",
        "name": "General Admission",
        "first_name": None,
        "last_name": None,
        "email": None,
        "phone": None,
        "status": 1,
        "is_deprecated": False,
    }
    assert (second["event_name"], second["name"]) == ("Day 1 — Saturday", "Saturday Pass")
    # A sub-event's id gives only its own tickets.
    assert [t["id"] for t in tickets(http, 13, wp_user_id=789).json()] == [second["id"]]
    assert tickets(http, 14, wp_user_id=789).json() == []


def test_ticket_date_is_the_ticket_types_own_date_when_it_has_one(
    sandbox: Sandbox, http: httpx.Client, create_order: Callable[..., Any]
) -> None:
    create_order((48, 1))
    (ticket,) = tickets(http, 14, wp_user_id=789).json()
    assert ticket["start_date"] == "2025-08-03T12:00:00+00:00"


@pytest.mark.parametrize("event_id", ["999", "abc", "0", "12.0", "-12"])
def test_event_not_found(http: httpx.Client, event_id: str) -> None:
    response = tickets(http, event_id, wp_user_id=789)
    assert (response.status_code, response.text) == (404, "Event not found")


def test_another_accounts_event_is_not_found(sandbox: Sandbox, http: httpx.Client) -> None:
    sandbox.add_account("other-key")
    response = http.get("/events/12/tickets", params={"key": "other-key", "wp_user_id": 789})
    assert (response.status_code, response.text) == (404, "Event not found")


@pytest.mark.parametrize(
    "params", [{}, {"wp_user_id": ""}, {"wp_user_id": "x"}, {"wp_user_id": "0"}]
)
def test_wordpress_user_not_specified(http: httpx.Client, params: dict[str, str]) -> None:
    response = tickets(http, 12, **params)
    assert (response.status_code, response.text) == (400, "Wordpress user not specified")


def test_event_not_found_comes_before_a_missing_user(http: httpx.Client) -> None:
    assert tickets(http, 999).text == "Event not found"


def test_personalize_activates_created_tickets_and_echoes_the_submission(
    http: httpx.Client, create_order: Callable[..., Any], sandbox: Sandbox
) -> None:
    order = create_order((45, 2))
    submitted = [
        {
            "ticket_id": order.ticket_refs[0],
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "jane@example.com",
            "tel": "+31612345678",
            "extra": [1, {"kept": True}],
        }
    ]
    response = http.post(
        "/events/12/tickets/personalize",
        params={"key": KEY, "wp_user_id": 789},
        json={"tickets": submitted},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"tickets": submitted, "all_personalized": False}
    ticket = tickets(http, 12, wp_user_id=789).json()[0]
    assert (ticket["status"], ticket["first_name"], ticket["last_name"]) == (2, "Jane", "Doe")
    assert (ticket["email"], ticket["phone"]) == ("jane@example.com", "+31612345678")
    assert sandbox.ticket(order.ticket_refs[1]).status == 1


def test_all_personalized_when_every_ticket_of_the_event_in_the_order_is_done(
    create_order: Callable[..., Any], personalize: Personalize, sandbox: Sandbox
) -> None:
    order = create_order((45, 2), (47, 1))
    ga1, ga2, day1 = order.ticket_refs
    assert personalize(12, ga1).json()["all_personalized"] is False
    # Event 12's scope includes its sub-event 13: the Saturday pass is still pending.
    assert personalize(12, ga2).json()["all_personalized"] is False
    assert sandbox.outbox == []
    assert personalize(13, day1).json()["all_personalized"] is True
    assert personalize(12, ga1, ga2).json()["all_personalized"] is True
    (mail,) = sandbox.outbox  # the order's PDF, "e-mailed" once
    assert (mail.order_reference, mail.event_id, mail.to) == ("TP-00123", 13, "jane@example.com")


def test_other_statuses_are_silently_skipped(
    create_order: Callable[..., Any], http: httpx.Client, sandbox: Sandbox
) -> None:
    order = create_order((45, 3))
    a, b, c = order.ticket_refs
    sandbox.personalize_ticket(a, first_name="Ann", last_name="A", email="a@x", phone="1")
    sandbox.scan_in(b)
    sandbox.cancel_ticket(c)
    body = {
        "tickets": [
            {"ticket_id": r, "first_name": "New", "last_name": "N", "email": "n@x", "tel": "2"}
            for r in (a, b, c)
        ]
    }
    response = http.post(
        "/events/12/tickets/personalize", params={"key": KEY, "wp_user_id": 789}, json=body
    )
    assert response.json()["all_personalized"] is True
    assert [(t.status, t.first_name) for t in sandbox.tickets(order=order.id)] == [
        (2, "Ann"),
        (3, None),
        (5, None),
    ]


def test_resubmitting_is_safe(create_order: Callable[..., Any], personalize: Personalize) -> None:
    order = create_order((45, 1))
    first = personalize(12, *order.ticket_refs)
    second = personalize(12, *order.ticket_refs)
    assert first.json() == second.json()
    assert second.json()["all_personalized"] is True


@pytest.mark.parametrize("event_id", ["999", "abc"])
def test_personalize_event_not_found_names_the_id(personalize: Personalize, event_id: str) -> None:
    response = personalize(event_id, "a3f9b")
    assert (response.status_code, response.text) == (404, f"Event not found ({event_id})")


def test_personalize_wordpress_user_not_specified(http: httpx.Client) -> None:
    response = http.post("/events/12/tickets/personalize", params={"key": KEY}, json={})
    assert (response.status_code, response.text) == (400, "Wordpress user not specified")


@pytest.mark.parametrize(
    "body",
    [b"", b"{bad", b"[]", b"{}", b'{"tickets": []}', b'{"tickets": {}}', b'{"tickets": null}'],
)
def test_tickets_not_specified(http: httpx.Client, body: bytes) -> None:
    response = http.post(
        "/events/12/tickets/personalize", params={"key": KEY, "wp_user_id": 789}, content=body
    )
    assert (response.status_code, response.text) == (400, "Tickets not specified")


def test_user_unauthorized_for_an_unknown_or_foreign_ticket(
    sandbox: Sandbox, create_order: Callable[..., Any], personalize: Personalize
) -> None:
    other = sandbox.add_account("other-key")
    event = sandbox.add_event(other, name="Theirs")
    ticket_type = sandbox.add_ticket_type(event, name="T", price=1, stock=5)
    theirs = sandbox.add_order(other, wp_user_id=789, items={ticket_type.id: 1})
    for ref in ("zzzzz", theirs.ticket_refs[0]):
        response = personalize(12, ref)
        assert (response.status_code, response.text) == (400, "User unauthorized for ticket")


def test_wordpress_user_unauthorized_for_another_users_ticket(
    create_order: Callable[..., Any], personalize: Personalize, sandbox: Sandbox
) -> None:
    mine = create_order((45, 1))
    theirs = create_order((45, 1), wp_user_id=790)
    response = personalize(12, mine.ticket_refs[0], theirs.ticket_refs[0])
    assert (response.status_code, response.text) == (400, "Wordpress user unauthorized for ticket")
    # A refused call changes nothing, not even the valid tickets before the bad one.
    assert sandbox.ticket(mine.ticket_refs[0]).status == 1


def test_a_ticket_of_another_event_is_refused(
    create_order: Callable[..., Any], personalize: Personalize
) -> None:
    order = create_order((49, 1))
    response = personalize(12, order.ticket_refs[0])
    assert (response.status_code, response.text) == (400, "Ticket does not belong to this event")


@pytest.mark.parametrize("missing", ["ticket_id", "first_name", "last_name", "email", "tel"])
def test_every_attendee_field_is_required(
    http: httpx.Client, create_order: Callable[..., Any], missing: str
) -> None:
    order = create_order((45, 1))
    entry = {
        "ticket_id": order.ticket_refs[0],
        "first_name": "J",
        "last_name": "D",
        "email": "e",
        "tel": "t",
    }
    del entry[missing]
    response = http.post(
        "/events/12/tickets/personalize",
        params={"key": KEY, "wp_user_id": 789},
        json={"tickets": [entry]},
    )
    assert (response.status_code, response.text) == (
        400,
        f"Invalid ticket 0: {missing} must be a non-empty string",
    )


def test_errors_come_in_the_doc_order(http: httpx.Client) -> None:
    url = "/events/{}/tickets/personalize"
    assert http.post(url.format(999), params={"key": "bad"}).text == "Unauthorized"
    assert http.post(url.format(999), params={"key": KEY}).text == "Event not found (999)"
    assert http.post(url.format(12), params={"key": KEY}).text == "Wordpress user not specified"
    assert (
        http.post(url.format(12), params={"key": KEY, "wp_user_id": 1}).text
        == "Tickets not specified"
    )


def test_ticket_helpers(create_order: Callable[..., Any], sandbox: Sandbox) -> None:
    (ref,) = create_order((45, 1)).ticket_refs
    assert sandbox.set_ticket_status(ref, 4).status == 4
    assert sandbox.scan_out(ref).status == 4
    assert sandbox.activate_ticket(ref).status == 2
    assert sandbox.set_ticket_deprecated(ref).is_deprecated is True
    with pytest.raises(ValueError, match="1 to 5"):
        sandbox.set_ticket_status(ref, 6)
    with pytest.raises(KeyError):
        sandbox.ticket("nope")
    assert [t.reference for t in sandbox.tickets(event=12)] == [ref]
    assert sandbox.tickets(event=15) == []
