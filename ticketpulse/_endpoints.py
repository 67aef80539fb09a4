"""Every Partner API operation, described once (paths, parameters, validation,
parsing, documented special answers and retry safety).

Each function validates its arguments and returns a :class:`Call`; both
clients only send it. Nothing here performs I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from . import _json
from . import _validate as check
from ._convert import (
    fast_reader,
    read_events,
    read_personalization,
    read_tickets,
    read_user_events,
    unstructure_body,
)
from ._core import NO_OVERRIDE, Call, new_record, read_json
from ._errors import InvalidRequestError, UnexpectedResponseError
from ._models import (
    SIGNED_URL_LIFETIME,
    Attendee,
    BillingInformation,
    Event,
    NewOrder,
    OrderLine,
    PersonalizationResult,
    SignedURL,
    Ticket,
    UserEvent,
)
from ._validate import MAX_REFERENCE

__all__ = [
    "create_order",
    "download",
    "get_event_tickets",
    "get_events",
    "get_order_pdf_url",
    "get_ticket_url",
    "get_user_events",
    "mark_order_processing",
    "personalize_tickets",
]

_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def _quote(value: str) -> str:
    """Percent-encode a query value: everything but RFC 3986's unreserved characters."""
    if value.isascii() and value.isalnum():  # most ids: cheaper than the regex
        return value
    return value if _UNRESERVED(value) else quote(value, safe="")


_LOOPBACK = ("localhost", "::1")


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, localhost and ::1: the hosts plain http may reach."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    return host in _LOOPBACK or host.endswith(".localhost") or _is_ipv4_loopback(host)


def _is_ipv4_loopback(host: str) -> bool:
    parts = host.split(".")
    return (
        len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)
    )


_GET_EVENTS = Call(
    "GET", "/events", fast_reader(list[Event], read_json(read_events)), operation="get_events"
)


def get_events() -> Call[list[Event]]:
    """GET /events: every event of the account."""
    return _GET_EVENTS


NO_ORDERS = "External user has no orders"


def _no_orders_is_empty(status: int, message: str) -> list[UserEvent] | Any:
    # The doc's 404 for a user without orders is an answer, not a failure.
    return [] if status == 404 and message == NO_ORDERS else NO_OVERRIDE


_READ_USER_EVENTS = fast_reader(list[UserEvent], read_json(read_user_events))


def get_user_events(user_id: int) -> Call[list[UserEvent]]:
    """GET /users/{userId}/events."""
    user_id = check.positive_int("user_id", user_id)
    return Call(
        "GET",
        f"/users/{user_id}/events",
        _READ_USER_EVENTS,
        on_status=_no_orders_is_empty,
        operation="get_user_events",
    )


_READ_TICKETS = fast_reader(list[Ticket], read_json(read_tickets))


def get_event_tickets(event_id: int, *, user_id: int) -> Call[list[Ticket]]:
    """GET /events/{eventId}/tickets?wp_user_id=."""
    event_id = check.positive_int("event_id", event_id)
    user_id = check.positive_int("user_id", user_id)
    return Call(
        "GET",
        f"/events/{event_id}/tickets?wp_user_id={user_id}",
        _READ_TICKETS,
        operation="get_event_tickets",
    )


_READ_PERSONALIZATION = fast_reader(PersonalizationResult, read_json(read_personalization))


def personalize_tickets(
    event_id: int, *, user_id: int, tickets: Iterable[Attendee]
) -> Call[PersonalizationResult]:
    """POST /events/{eventId}/tickets/personalize?wp_user_id= with {"tickets": [...]}.

    Safe to repeat: the API skips tickets that are no longer "created".
    """
    event_id = check.positive_int("event_id", event_id)
    user_id = check.positive_int("user_id", user_id)
    if isinstance(tickets, (str, bytes, Attendee)) or not isinstance(tickets, Iterable):
        raise InvalidRequestError(
            f"tickets must be an iterable of Attendee, not {type(tickets).__name__}"
        )
    attendees = list(tickets)
    if not attendees:
        raise InvalidRequestError("tickets must contain at least one Attendee")
    for index, attendee in enumerate(attendees):
        if not isinstance(attendee, Attendee):
            raise InvalidRequestError(
                f"tickets[{index}] must be an Attendee, not {type(attendee).__name__}"
            )
        for field in ("ticket_id", "first_name", "last_name", "email", "tel"):
            check.text(f"tickets[{index}].{field}", getattr(attendee, field))
    body = _json.dumps({"tickets": unstructure_body(attendees)})
    return Call(
        "POST",
        f"/events/{event_id}/tickets/personalize?wp_user_id={user_id}",
        _READ_PERSONALIZATION,
        body=body,
        operation="personalize_tickets",
    )


# A JSON string of printable ASCII without a quote or a backslash (RFC 8259 §7):
# it decodes to its own characters, so the decoder is needed only for others.
# Possessive (``*+``): the class cannot take the closing quote, so giving back
# never helps, and not keeping the state to do so is cheaper.
_PLAIN_JSON_STRING = re.compile(rb'"([ !#-\[\]-~]*+)"')


def _read_signed_url(body: bytes) -> SignedURL:
    fetched_at = datetime.now(UTC)
    plain = _PLAIN_JSON_STRING.fullmatch(body)
    if plain is not None:
        url: Any = plain[1].decode("ascii")
    else:
        try:
            url = _json.loads(body)
        except ValueError:
            raise UnexpectedResponseError("unexpected response: not valid JSON") from None
    if not isinstance(url, str):
        raise UnexpectedResponseError(
            f"unexpected response: expected a URL string, got {type(url).__name__} @ $"
        )
    if not url.startswith(("https://", "http://")) or len(url) < 10:
        raise UnexpectedResponseError("unexpected response: expected an absolute http(s) URL @ $")
    return SignedURL(url, fetched_at + SIGNED_URL_LIFETIME)


def _signed_url_calls(
    path: str, name: str, operation: str, user_id: int
) -> Callable[[str], Call[SignedURL]]:
    """The calls for one user's references: ``user_id`` is checked once, here."""
    user_id = check.positive_int("user_id", user_id)
    prefix = f"{path}?wp_user_id={user_id}&{name}="

    def call_for(ref: str) -> Call[SignedURL]:
        if type(ref) is str and ref.isascii() and ref.isalnum() and len(ref) <= MAX_REFERENCE:
            # Most ids: valid, and unreserved as they are (what the checks would find).
            target = prefix + ref
        else:
            target = prefix + _quote(check.reference(name, ref))
        # A bulk run makes one per id: new_record, every field in order.
        call: Call[SignedURL] = new_record(
            Call, ("GET", target, _read_signed_url, None, True, None, None, operation)
        )
        return call

    return call_for


def ticket_url_calls(user_id: int) -> Callable[[str], Call[SignedURL]]:
    """``get_ticket_url(id, user_id=user_id)`` for many ids: raises InvalidRequestError
    for an invalid ``user_id`` at once, and for an invalid id when its call is made."""
    return _signed_url_calls("/users/get-ticket", "ticket_id", "get_ticket_url", user_id)


def get_ticket_url(ticket_id: str, *, user_id: int) -> Call[SignedURL]:
    """GET /users/get-ticket?wp_user_id=&ticket_id=: the signed QR image URL."""
    return ticket_url_calls(user_id)(ticket_id)


def get_order_pdf_url(order_id: str, *, user_id: int) -> Call[SignedURL]:
    """GET /orders/get-ticket?wp_user_id=&order_id=: the signed order PDF URL."""
    return _signed_url_calls("/orders/get-ticket", "order_id", "get_order_pdf_url", user_id)(
        order_id
    )


def _read_order_answer(body: bytes) -> None:
    # The API answers 200 "Order created" (text/plain). Anything else with a 2xx
    # status -- a proxy's or portal's page, say -- proves nothing about the order.
    if not body.strip().lower().startswith(b"order created"):
        shown = body[:60].decode("utf-8", errors="replace")
        raise UnexpectedResponseError(
            f"unexpected response: expected 'Order created', got {shown!r}"
        )


def _check_order(order: NewOrder, *, lines_required: bool) -> None:
    if not isinstance(order, NewOrder):
        raise InvalidRequestError(f"order must be a NewOrder, not {type(order).__name__}")
    if order.wp_user_id is not None:
        check.positive_int("order.wp_user_id", order.wp_user_id)
    for name in (
        "wp_order_id",
        "payment_method_title",
        "payment_method",
        "ip_address",
        "currency",
        "locale",
        "my_tickets_url",
    ):
        check.optional_text(f"order.{name}", getattr(order, name))
    if order.order_total is not None:
        check.decimal("order.order_total", order.order_total)
    check.aware_datetime("order.date_created", order.date_created)
    check.aware_datetime("order.date_paid", order.date_paid)
    billing = order.billing_information
    if billing is not None:
        if not isinstance(billing, BillingInformation):
            raise InvalidRequestError(
                "order.billing_information must be a BillingInformation, "
                f"not {type(billing).__name__}"
            )
        for name in ("first_name", "last_name", "address", "city", "postal_code", "country"):
            check.optional_text(f"order.billing_information.{name}", getattr(billing, name))
        check.optional_text("order.billing_information.email", billing.email)
        check.optional_text("order.billing_information.phone", billing.phone)
    if not isinstance(order.order_lines, list):
        raise InvalidRequestError("order.order_lines must be a list of OrderLine")
    if lines_required and not order.order_lines:
        raise InvalidRequestError("a new order needs at least one order line")
    for index, line in enumerate(order.order_lines):
        where = f"order.order_lines[{index}]"
        if not isinstance(line, OrderLine):
            raise InvalidRequestError(f"{where} must be an OrderLine, not {type(line).__name__}")
        check.text(f"{where}.name", line.name)
        check.positive_int(f"{where}.quantity", line.quantity)
        check.positive_int(f"{where}.product_id", line.product_id)
        check.decimal(f"{where}.unit_price", line.unit_price)
        check.text(f"{where}.order_item_type", line.order_item_type)
        if line.tp_event_ticket_id is not None:
            check.positive_int(f"{where}.tp_event_ticket_id", line.tp_event_ticket_id)


def create_order(order: NewOrder) -> Call[None]:
    """POST /orders/create without tp_order_id: a new order. Not idempotent."""
    _check_order(order, lines_required=True)
    body = _json.dumps(unstructure_body(order))
    return Call(
        "POST",
        "/orders/create",
        _read_order_answer,
        body=body,
        idempotent=False,
        operation="create_order",
    )


def mark_order_processing(tp_order_id: int, *, order: NewOrder | None = None) -> Call[None]:
    """POST /orders/create with tp_order_id: set an existing order to Processing."""
    tp_order_id = check.positive_int("tp_order_id", tp_order_id)
    fields: dict[str, Any] = {"tp_order_id": tp_order_id}
    if order is not None:
        _check_order(order, lines_required=False)
        fields.update(unstructure_body(order))
        if not order.order_lines:
            del fields["order_lines"]  # an empty list would read as "no order lines"
    return Call(
        "POST",
        "/orders/create",
        _read_order_answer,
        body=_json.dumps(fields),
        idempotent=False,
        operation="mark_order_processing",
    )


def _read_raw(body: bytes) -> bytes:
    return body


_SENDABLE_URL = re.compile(r"[!-~]+")  # visible ASCII: what a request line can carry
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def download(signed_url: SignedURL | str, *, allow_http: bool = False) -> Call[bytes]:
    """GET on a signed file URL (no key is added: the URL carries its own secret).

    ``allow_http``: plain http is allowed (for loopback hosts only), as when the
    client's own API is the sandbox on loopback. Otherwise the URL must be https:
    an https client never fetches ``http://`` anything, whatever the API answered.
    """
    url = signed_url.url if isinstance(signed_url, SignedURL) else signed_url
    if not isinstance(url, str):
        raise InvalidRequestError(
            f"signed_url must be a SignedURL or a str, not {type(signed_url).__name__}"
        )
    checked = check.optional_text("signed_url", url)
    if not checked:
        raise InvalidRequestError("signed_url must not be empty")
    url = checked
    if _SENDABLE_URL.fullmatch(url) is None:
        raise InvalidRequestError(
            "signed_url has characters a URL cannot carry (spaces, non-ASCII, control characters)"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        host = parts.hostname
    except ValueError as exc:
        raise InvalidRequestError(f"signed_url is not a valid URL: {exc}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidRequestError("signed_url must be an absolute https URL")
    if parts.scheme == "http" and not (allow_http and is_loopback(host)):
        raise InvalidRequestError(
            "signed_url must be https (plain http only for loopback hosts, and only when "
            "the client's own base_url is one)"
        )
    if parts.username or parts.password:
        raise InvalidRequestError("signed_url must not contain credentials")
    if not _valid_host(host):
        raise InvalidRequestError("signed_url's host is not a valid host name")
    return Call("GET", parts.path, _read_raw, url=url, operation="download")


def _valid_host(host: str) -> bool:
    if ":" in host:  # an IPv6 literal (urlsplit took it from between brackets)
        return all(c in "0123456789abcdefABCDEF:." for c in host)
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)
