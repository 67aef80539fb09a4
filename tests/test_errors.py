"""Every documented error answer maps to its SPEC §4 class, with its details."""

from __future__ import annotations

import pickle
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import respx

import ticketpulse
from ticketpulse import (
    APIStatusError,
    Attendee,
    AuthenticationError,
    BadRequestError,
    FileNotReadyError,
    NewOrder,
    NotFoundError,
    NotPermittedError,
    OrderLine,
    RateLimitError,
    ServerError,
)

from .conftest import KEY, Api

pytestmark = pytest.mark.anyio

ORDER = NewOrder(order_lines=[OrderLine(name="GA", quantity=1, product_id=1, unit_price=5)])
PEOPLE = [Attendee("a3f9b", "Jane", "Doe", "[email protected]", "+31612345678")]

# endpoint -> (method, path, how to call it)
CALLS: dict[str, tuple[str, str, Callable[[Api], Awaitable[Any]]]] = {
    "get_events": ("GET", "/events", lambda a: a.get_events()),
    "get_user_events": ("GET", "/users/789/events", lambda a: a.get_user_events(789)),
    "get_event_tickets": (
        "GET",
        "/events/12/tickets",
        lambda a: a.get_event_tickets(12, user_id=789),
    ),
    "personalize_tickets": (
        "POST",
        "/events/12/tickets/personalize",
        lambda a: a.personalize_tickets(12, user_id=789, tickets=PEOPLE),
    ),
    "get_ticket_url": (
        "GET",
        "/users/get-ticket",
        lambda a: a.get_ticket_url("a3f9b", user_id=789),
    ),
    "get_order_pdf_url": (
        "GET",
        "/orders/get-ticket",
        lambda a: a.get_order_pdf_url("TP-00123", user_id=789),
    ),
    "create_order": ("POST", "/orders/create", lambda a: a.create_order(ORDER)),
    "mark_order_processing": ("POST", "/orders/create", lambda a: a.mark_order_processing(123)),
}

# Every error the doc lists, per endpoint, plus the shared 403.
DOCUMENTED = [
    *[(name, 403, "Unauthorized", AuthenticationError) for name in CALLS],
    ("get_event_tickets", 404, "Event not found", NotFoundError),
    ("get_event_tickets", 400, "Wordpress user not specified", BadRequestError),
    ("personalize_tickets", 404, "Event not found (12)", NotFoundError),
    ("personalize_tickets", 400, "Wordpress user not specified", BadRequestError),
    ("personalize_tickets", 400, "Tickets not specified", BadRequestError),
    ("personalize_tickets", 400, "User unauthorized for ticket", BadRequestError),
    ("personalize_tickets", 400, "Wordpress user unauthorized for ticket", BadRequestError),
    ("get_ticket_url", 400, "Wordpress user not specified", BadRequestError),
    ("get_ticket_url", 400, "Ticket id not specified", BadRequestError),
    ("get_ticket_url", 401, "Ticket not found", NotPermittedError),
    ("get_ticket_url", 401, "Not allowed to see this ticket", NotPermittedError),
    ("get_ticket_url", 401, "File not found", FileNotReadyError),
    ("create_order", 404, "Incorrect request", NotFoundError),
    ("create_order", 404, "No order lines specified", NotFoundError),
    ("mark_order_processing", 404, "Ticket Pulse order does not exist", NotFoundError),
    ("mark_order_processing", 403, "You do not have access to this order", AuthenticationError),
    ("get_order_pdf_url", 400, "Wordpress user not specified", BadRequestError),
    ("get_order_pdf_url", 401, "Order not specified", NotPermittedError),
    ("get_order_pdf_url", 401, "Order not found", NotPermittedError),
    ("get_order_pdf_url", 401, "Not allowed to see this order", NotPermittedError),
    ("get_order_pdf_url", 401, "File not found", FileNotReadyError),
]


@pytest.mark.parametrize(("endpoint", "status", "text", "error"), DOCUMENTED)
async def test_documented_error_maps_to_its_class(
    api: Api,
    mock: respx.MockRouter,
    endpoint: str,
    status: int,
    text: str,
    error: type[APIStatusError],
) -> None:
    method, path, call = CALLS[endpoint]
    route = mock.route(method=method, path=path).respond(status, text=text)
    with pytest.raises(error) as caught:
        await call(api)
    assert type(caught.value) is error
    assert caught.value.status_code == status
    assert caught.value.message == text
    assert caught.value.method == method
    assert caught.value.url.startswith(f"https://ticket-pulse.com/tp-api{path}?")
    assert caught.value.url.endswith("key=***")
    assert KEY not in caught.value.url
    assert route.call_count == 1  # none of these is retried
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith(f"{status} {text} ({method} ")


async def test_user_without_orders_is_an_empty_list(api: Api, mock: respx.MockRouter) -> None:
    mock.get("/users/789/events").respond(404, text="External user has no orders")
    assert await api.get_user_events(789) == []


async def test_other_404_for_user_events_still_raises(api: Api, mock: respx.MockRouter) -> None:
    mock.get("/users/789/events").respond(404, text="Not Found")
    with pytest.raises(NotFoundError):
        await api.get_user_events(789)


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, RateLimitError), (500, ServerError), (502, ServerError), (418, APIStatusError)],
)
async def test_undocumented_statuses_map_by_class(
    make_api: Callable[..., Api], mock: respx.MockRouter, status: int, error: type[Exception]
) -> None:
    api = make_api(max_retries=0)
    mock.get("/events").respond(status, text="nope")
    with pytest.raises(error) as caught:
        await api.get_events()
    assert type(caught.value) is error


async def test_html_error_page_becomes_one_short_line(
    make_api: Callable[..., Api], mock: respx.MockRouter
) -> None:
    api = make_api(max_retries=0)
    page = (
        "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>"
        + "x" * 2000
        + "</body></html>"
    )
    mock.get("/events").respond(502, text=page, headers={"content-type": "text/html"})
    with pytest.raises(ServerError) as caught:
        await api.get_events()
    assert "\n" not in caught.value.message
    assert len(caught.value.message) <= 300
    assert caught.value.message.startswith("<html> <head><title>502 Bad Gateway")


async def test_non_json_success_is_an_unexpected_response(api: Api, mock: respx.MockRouter) -> None:
    mock.get("/events").respond(200, text="<html>oops</html>")
    with pytest.raises(ticketpulse.UnexpectedResponseError) as caught:
        await api.get_events()
    assert "not valid JSON" in str(caught.value)
    assert caught.value.method == "GET"
    assert caught.value.url.endswith("key=***")


async def test_wrong_type_names_the_json_path(api: Api, mock: respx.MockRouter) -> None:
    events = [{"id": i, "tickets": []} for i in range(4)]
    events[3]["tickets"] = [{"id": 1, "price": {"amount": 1}}]
    mock.get("/events").respond(200, json=events)
    with pytest.raises(ticketpulse.UnexpectedResponseError, match=r"\$\[3\]\.tickets\[0\]\.price"):
        await api.get_events()


async def test_signed_url_must_be_a_url(api: Api, mock: respx.MockRouter) -> None:
    mock.get("/users/get-ticket").respond(200, json={"url": "x"})
    with pytest.raises(ticketpulse.UnexpectedResponseError):
        await api.get_ticket_url("a3f9b", user_id=1)


def test_errors_survive_pickling() -> None:
    error = NotFoundError(
        "Event not found", status_code=404, method="GET", url="https://x/?key=***"
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is NotFoundError
    assert (copy.status_code, copy.message, copy.method, copy.url) == (
        404,
        "Event not found",
        "GET",
        "https://x/?key=***",
    )
    assert str(copy) == str(error)
