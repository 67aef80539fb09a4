"""The sandbox's state and the meaning of every endpoint, with no HTTP in sight.

One ``SandboxState`` holds accounts, events, ticket types, orders and tickets
behind one re-entrant lock: each endpoint runs whole under it, so concurrent
orders cannot oversell and a reader never sees half an order. Endpoints take
already-parsed query values (``None`` meaning "missing or not an integer")
and raise :class:`APIError` with the doc's exact status and body, checked in
the doc's table order, after authentication.

Sandbox-defined behaviour
=========================

Where the API doc is silent the sandbox decides as follows (plain-text
bodies, ``text/plain; charset=utf-8``, like the documented errors).

Requests and routing (``_app``):

- A path that is no endpoint: 404 ``Not found``; a known path with the wrong
  method: 405 ``Method not allowed`` with an ``Allow`` header. Both are
  answered before authentication.
- With several ``key`` parameters the last one counts (as in PHP).
- Integer query values (``wp_user_id``) must be decimal digits and > 0;
  anything else counts as missing: 400 ``Wordpress user not specified``.
  A non-integer ``eventId`` in a path is 404 ``Event not found`` (with the
  raw segment in ``Event not found (...)`` for personalisation); a
  non-integer ``userId`` is 404 ``External user has no orders``.
- Another account's event, ticket or order is "not found" with the doc's
  wording for that endpoint (``Event not found``, ``Ticket not found``,
  ``Order not found``); ``User unauthorized for ticket`` for personalisation.

Events and tickets:

- An event's tickets include those of its sub-events (GET tickets, the
  personalisation scope, ``all_personalized``); a sub-event's id means that
  sub-event only. GET /users/{userId}/events lists top-level events.
- A ticket's ``event_name`` and ``event_start_date`` are those of the
  (sub-)event its ticket type belongs to; ``start_date`` is the ticket type's
  ``date``, else that event's start. ``first_name``, ``last_name``,
  ``email`` and ``phone`` are ``null`` until the ticket is personalised.
- An event's ``stock``: when created without one, what its ticket types and
  sub-events have left; when created with one, a capacity shared by its own
  ticket types, reduced by orders and enforced like a ticket type's stock.

Create order (POST /orders/create):

- ``tp_order_id`` that is not an integer: 400 ``Invalid order: tp_order_id
  must be an integer``. With ``tp_order_id`` the rest of the body is not
  looked at; an order already Processing stays so (200).
- ``order_lines`` present but not an array: 400 ``Invalid order: order_lines
  must be an array`` (missing, null or ``[]``: the doc's 404).
- A field of the wrong type, or a required line field missing (``name``,
  ``quantity`` > 0, ``product_id``, ``order_item_type``, ``unit_price``):
  400 ``Invalid order: <field path> ...``, e.g. ``Invalid order:
  order_lines[1].quantity is required (a positive integer)``. Booleans are
  not numbers; ``date_created``/``date_paid`` must parse as ISO 8601.
- A ``tp_event_ticket_id`` that does not exist or is another account's: 404
  ``Ticket type not found (<id>)``; a disabled one (``enabled`` false or
  ``status`` not 1): 400 ``Ticket type not available (<id>)``.
- Not enough stock: 400 ``Not enough stock for ticket type <id> (requested
  N, available M)`` (or ``... for event <id> ...`` for an event capacity).
  Lines of one ticket type add up; an order is placed whole or not at all.
- New orders are ``pending``; a line without ``tp_event_ticket_id``
  reserves nothing and makes no ticket. Ids start at 123 (``TP-00123``),
  ticket references at ``a3f9b``, like the doc's examples.

Personalisation:

- ``tickets`` that is missing, not an array or empty: 400 ``Tickets not
  specified`` (also for an empty or non-JSON body).
- Each entry must be an object whose five fields are non-empty strings:
  400 ``Invalid ticket <i>: <field> must be a non-empty string`` (or
  ``Invalid ticket <i>: must be an object``).
- An unknown ticket reference: 400 ``User unauthorized for ticket``; a
  ticket of another event: 400 ``Ticket does not belong to this event``.
- Entries are checked in order and all before any change: a refused call
  changes nothing. ``all_personalized`` covers the orders of the submitted
  tickets. When an order's last status-1 ticket is personalised, its PDF
  "e-mail" is recorded in ``Sandbox.outbox``.

Files:

- A ticket's QR exists at status 2, 3 or 4 (not 1, not 5 cancelled). An
  order's PDF exists once none of its tickets has status 1 and one at least
  is 2-4; it has a page per such ticket (cancelled ones are left out).
- ``order_id`` must be the reference (``TP-00123``), not the number.
- Signed URL ``secret``: a JWT-shaped HS256 token (``eyJ...``) naming the
  file, expiring 3600 s after issue by the sandbox's clock. On the file
  host: a missing, tampered or foreign secret is 401 ``Invalid signature``;
  an expired one 401 ``Link expired``; a file gone since the URL was issued
  (ticket cancelled) 404 ``File not found``; any other ``/files/`` path 404
  ``Not found``; a method other than GET 405.
- The request log shows ``key`` and ``secret`` values as ``***``.

Built-in server: a body over 16 MiB is 413 ``Request body too large``; a
malformed request gets h11's 4xx; a crash in the sandbox is 500
``Internal sandbox error: ...`` (in-process, the exception propagates).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard, cast

from ._clock import Clock
from ._records import (
    AccountRecord,
    EventRecord,
    MailRecord,
    OrderLineRecord,
    OrderRecord,
    TicketRecord,
    TicketTypeRecord,
)

__all__ = ["APIError", "OrderPdfPage", "SandboxState"]

# Ticket statuses (the doc's table).
CREATED, ACTIVE, SCANNED_IN, SCANNED_OUT, CANCELLED = 1, 2, 3, 4, 5
_HAS_QR = frozenset({ACTIVE, SCANNED_IN, SCANNED_OUT})

ORDER_PENDING = "pending"
ORDER_PROCESSING = "processing"

# First ids, as in the doc's examples: event 12, ticket type 45, order 123.
_FIRST_EVENT_ID = 12
_FIRST_TICKET_TYPE_ID = 45
_FIRST_ORDER_ID = 123


class APIError(Exception):
    """An answer other than 200: its status and plain-text body."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True, slots=True)
class OrderPdfPage:
    """What one page of an order's ticket PDF shows."""

    reference: str
    event_name: str
    start: datetime | None
    ticket_type: str
    attendee: str
    email: str
    order_reference: str


@dataclass
class _Account:
    id: int
    key: str
    name: str


@dataclass
class _Event:
    id: int
    account_id: int
    parent_id: int | None
    name: str
    city: str | None
    start: datetime | None
    end: datetime | None
    price: Decimal
    stock: int | None  # None: the sum of what its ticket types (and sub-events) have left
    status: int
    featured: bool = False
    manage_price_per_ticket: bool = True
    manage_stock_per_ticket: bool = True
    event_params: dict[str, Any] = field(default_factory=dict[str, Any])
    password: str | None = None
    thumbnail: str | None = None
    location: str | None = None
    deleted_at: datetime | None = None
    ticket_type_ids: list[int] = field(default_factory=list[int])
    child_ids: list[int] = field(default_factory=list[int])


@dataclass
class _TicketType:
    id: int
    event_id: int
    name: str
    price: Decimal
    stock: int
    status: int
    date: datetime | None
    enabled: bool


@dataclass
class _Order:
    id: int
    account_id: int
    reference: str
    status: str
    wp_user_id: int | None
    wp_order_id: str | None
    lines: list[OrderLineRecord]
    created_at: float
    body: dict[str, Any]
    billing_email: str | None
    ticket_refs: list[str] = field(default_factory=list[str])


@dataclass
class _Ticket:
    reference: str
    order_id: int
    ticket_type_id: int
    status: int = CREATED
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    is_deprecated: bool = False


def ticket_reference(serial: int) -> str:
    """The short reference of the ``serial``-th ticket: ``"a3f9b"`` for the first.

    An affine map with an odd multiplier is a bijection modulo a power of two,
    so references are unique without a lookup; 5 hex digits for the first
    million tickets, 8 after that (the lengths differ, so the ranges never
    collide).
    """
    if serial < 1 << 20:
        return format((serial * 0x9E3B5 + 0xA3F9B) & 0xFFFFF, "05x")
    return format((serial * 0x9E3779B1 + 0xA3F9B) & 0xFFFFFFFF, "08x")


def _aware(value: datetime | None) -> datetime | None:
    # A naive datetime is taken as UTC, as the SDK does for naive strings.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _unix(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _decimal(value: Decimal | int | float | str) -> Decimal:
    try:
        result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a price: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a price: {value!r}")
    return result


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | Decimal | float]:
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool)


def _object(value: object) -> dict[str, Any] | None:
    """``value`` if it is a JSON object, else None."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def _invalid_order(message: str) -> APIError:
    return APIError(400, f"Invalid order: {message}")


_ORDER_STRING_FIELDS = (
    "wp_order_id",
    "payment_method_title",
    "payment_method",
    "ip_address",
    "currency",
    "locale",
    "my_tickets_url",
)
_BILLING_FIELDS = (
    "first_name",
    "last_name",
    "address",
    "city",
    "postal_code",
    "country",
    "email",
    "phone",
)
_ATTENDEE_FIELDS = ("ticket_id", "first_name", "last_name", "email", "tel")


def _parse_lines(raw_lines: Sequence[Any]) -> list[OrderLineRecord]:
    lines: list[OrderLineRecord] = []
    for i, raw in enumerate(raw_lines):
        where = f"order_lines[{i}]"
        line = _object(raw)
        if line is None:
            raise _invalid_order(f"{where} must be an object")
        name = line.get("name")
        if not isinstance(name, str) or not name:
            raise _invalid_order(f"{where}.name is required (a non-empty string)")
        quantity = line.get("quantity")
        if not _is_int(quantity) or quantity <= 0:
            raise _invalid_order(f"{where}.quantity is required (a positive integer)")
        product_id = line.get("product_id")
        if not _is_int(product_id):
            raise _invalid_order(f"{where}.product_id is required (an integer)")
        item_type = line.get("order_item_type")
        if not isinstance(item_type, str) or not item_type:
            raise _invalid_order(f"{where}.order_item_type is required (a string)")
        unit_price = line.get("unit_price")
        if not _is_number(unit_price):
            raise _invalid_order(f"{where}.unit_price is required (a number)")
        ticket_type_id = line.get("tp_event_ticket_id")
        if ticket_type_id is not None and not _is_int(ticket_type_id):
            raise _invalid_order(f"{where}.tp_event_ticket_id must be an integer")
        lines.append(
            OrderLineRecord(
                name=name,
                quantity=quantity,
                product_id=product_id,
                order_item_type=item_type,
                unit_price=_decimal(unit_price),
                tp_event_ticket_id=ticket_type_id,
            )
        )
    return lines


def _check_order_fields(body: dict[str, Any]) -> None:
    for name in _ORDER_STRING_FIELDS:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise _invalid_order(f"{name} must be a string")
    wp_user_id = body.get("wp_user_id")
    if wp_user_id is not None and (not _is_int(wp_user_id) or wp_user_id <= 0):
        raise _invalid_order("wp_user_id must be a positive integer")
    total = body.get("order_total")
    if total is not None and not _is_number(total):
        raise _invalid_order("order_total must be a number")
    for name in ("date_created", "date_paid"):
        value = body.get(name)
        if value is None:
            continue
        problem = _invalid_order(f"{name} must be an ISO 8601 date-time string")
        if not isinstance(value, str):
            raise problem
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise problem from None
    billing = body.get("billing_information")
    if billing is None:
        return
    info = _object(billing)
    if info is None:
        raise _invalid_order("billing_information must be an object")
    for name in _BILLING_FIELDS:
        value = info.get(name)
        if value is not None and not isinstance(value, str):
            raise _invalid_order(f"billing_information.{name} must be a string")


class SandboxState:
    """Everything the sandbox knows, and what each endpoint does to it."""

    def __init__(self, clock: Clock) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._accounts: dict[int, _Account] = {}
        self._accounts_by_key: dict[str, _Account] = {}
        self._events: dict[int, _Event] = {}
        self._ticket_types: dict[int, _TicketType] = {}
        self._orders: dict[int, _Order] = {}
        self._orders_by_reference: dict[str, _Order] = {}
        self._tickets: dict[str, _Ticket] = {}
        self._outbox: list[MailRecord] = []
        self._next_account_id = 1
        self._next_event_id = _FIRST_EVENT_ID
        self._next_ticket_type_id = _FIRST_TICKET_TYPE_ID
        self._next_order_id = _FIRST_ORDER_ID
        self._ticket_serial = 0

    # ------------------------------------------------------------------ building

    def add_account(self, key: str | None, name: str) -> AccountRecord:
        with self.lock:
            account_id = self._next_account_id
            if key is None:
                key = f"tp_test_account_{account_id:04d}"
            if not key or key != key.strip():
                raise ValueError("an API key must be a non-empty string without outer spaces")
            if key in self._accounts_by_key:
                raise ValueError("an account with this API key already exists")
            self._next_account_id += 1
            account = _Account(id=account_id, key=key, name=name)
            self._accounts[account_id] = account
            self._accounts_by_key[key] = account
            return self._account_record(account)

    def add_event(
        self,
        account_id: int | None,
        parent_id: int | None,
        *,
        name: str,
        city: str | None,
        start: datetime | None,
        end: datetime | None,
        price: Decimal | int | float | str,
        stock: int | None,
        status: int,
        extra: Mapping[str, Any],
    ) -> EventRecord:
        with self.lock:
            if parent_id is not None:
                parent = self._event(parent_id)
                if parent.parent_id is not None:
                    raise ValueError("a sub-event cannot have sub-events of its own")
                account_id = parent.account_id
            if account_id is None or account_id not in self._accounts:
                raise KeyError(f"no account {account_id}")
            if stock is not None and stock < 0:
                raise ValueError("stock cannot be negative")
            event_id = self._next_event_id
            self._next_event_id += 1
            event = _Event(
                id=event_id,
                account_id=account_id,
                parent_id=parent_id,
                name=name,
                city=city,
                start=_aware(start),
                end=_aware(end),
                price=_decimal(price),
                stock=stock,
                status=status,
                **extra,
            )
            event.deleted_at = _aware(event.deleted_at)
            if parent_id is not None and event.thumbnail is None:
                event.thumbnail = f"event-{event_id}.jpg"
            self._events[event_id] = event
            if parent_id is not None:
                self._events[parent_id].child_ids.append(event_id)
            return self._event_record(event)

    def add_ticket_type(
        self,
        event_id: int,
        *,
        name: str,
        price: Decimal | int | float | str,
        stock: int,
        status: int,
        date: datetime | None,
        enabled: bool,
    ) -> TicketTypeRecord:
        with self.lock:
            event = self._event(event_id)
            if stock < 0:
                raise ValueError("stock cannot be negative")
            type_id = self._next_ticket_type_id
            self._next_ticket_type_id += 1
            ticket_type = _TicketType(
                id=type_id,
                event_id=event.id,
                name=name,
                price=_decimal(price),
                stock=stock,
                status=status,
                date=_aware(date),
                enabled=enabled,
            )
            self._ticket_types[type_id] = ticket_type
            event.ticket_type_ids.append(type_id)
            return self._ticket_type_record(ticket_type)

    def set_stock(self, ticket_type_id: int, stock: int) -> None:
        with self.lock:
            if stock < 0:
                raise ValueError("stock cannot be negative")
            self._ticket_type(ticket_type_id).stock = stock

    def add_order(
        self,
        account_id: int,
        *,
        wp_user_id: int | None,
        wp_order_id: str | None,
        items: Iterable[tuple[int, int]],
    ) -> OrderRecord:
        """Place an order directly (no HTTP): ``items`` are (ticket type id, quantity)."""
        with self.lock:
            if account_id not in self._accounts:
                raise KeyError(f"no account {account_id}")
            lines: list[OrderLineRecord] = []
            for type_id, quantity in items:
                ticket_type = self._ticket_type(type_id)
                lines.append(
                    OrderLineRecord(
                        name=ticket_type.name,
                        quantity=quantity,
                        product_id=type_id,
                        order_item_type="line_item",
                        unit_price=ticket_type.price,
                        tp_event_ticket_id=type_id,
                    )
                )
            if not lines:
                raise ValueError("an order needs at least one item")
            body: dict[str, Any] = {"wp_user_id": wp_user_id, "wp_order_id": wp_order_id}
            try:
                order = self._place_order(account_id, body, lines)
            except APIError as exc:
                raise ValueError(exc.body) from None
            return self._order_record(order)

    # ------------------------------------------------------------------ look-ups

    def authenticate(self, key: str | None) -> int | None:
        """The id of the account whose key this is, or None."""
        if not key:
            return None
        with self.lock:
            account = self._accounts_by_key.get(key)
            return None if account is None else account.id

    def account_record(self, account_id: int) -> AccountRecord:
        with self.lock:
            account = self._accounts.get(account_id)
            if account is None:
                raise KeyError(f"no account {account_id}")
            return self._account_record(account)

    def account_records(self) -> list[AccountRecord]:
        with self.lock:
            return [self._account_record(a) for a in self._accounts.values()]

    def event_record(self, event_id: int) -> EventRecord:
        with self.lock:
            return self._event_record(self._event(event_id))

    def event_records(self, account_id: int | None) -> list[EventRecord]:
        with self.lock:
            return [
                self._event_record(e)
                for e in self._events.values()
                if account_id is None or e.account_id == account_id
            ]

    def ticket_type_record(self, ticket_type_id: int) -> TicketTypeRecord:
        with self.lock:
            return self._ticket_type_record(self._ticket_type(ticket_type_id))

    def order_record(self, order: int | str) -> OrderRecord:
        with self.lock:
            found = (
                self._orders_by_reference.get(order)
                if isinstance(order, str)
                else self._orders.get(order)
            )
            if found is None:
                raise KeyError(f"no order {order!r}")
            return self._order_record(found)

    def order_records(self, account_id: int | None) -> list[OrderRecord]:
        with self.lock:
            return [
                self._order_record(o)
                for o in self._orders.values()
                if account_id is None or o.account_id == account_id
            ]

    def order_count(self, account_id: int | None) -> int:
        with self.lock:
            if account_id is None:
                return len(self._orders)
            return sum(1 for o in self._orders.values() if o.account_id == account_id)

    def ticket_record(self, reference: str) -> TicketRecord:
        with self.lock:
            ticket = self._tickets.get(reference)
            if ticket is None:
                raise KeyError(f"no ticket {reference!r}")
            return self._ticket_record(ticket)

    def ticket_records(self, order_id: int | None, event_id: int | None) -> list[TicketRecord]:
        with self.lock:
            scope = None if event_id is None else self._scope(self._event(event_id))
            return [
                self._ticket_record(t)
                for t in self._tickets.values()
                if (order_id is None or t.order_id == order_id)
                and (scope is None or self._ticket_types[t.ticket_type_id].event_id in scope)
            ]

    def outbox(self) -> list[MailRecord]:
        with self.lock:
            return list(self._outbox)

    # ------------------------------------------------------------------ test helpers

    def set_ticket_status(self, reference: str, status: int) -> TicketRecord:
        if not _is_int(status) or not CREATED <= status <= CANCELLED:
            raise ValueError(f"a ticket status is 1 to 5, not {status!r}")
        with self.lock:
            ticket = self._tickets.get(reference)
            if ticket is None:
                raise KeyError(f"no ticket {reference!r}")
            ticket.status = status
            return self._ticket_record(ticket)

    def set_ticket_deprecated(self, reference: str, deprecated: bool) -> TicketRecord:
        with self.lock:
            ticket = self._tickets.get(reference)
            if ticket is None:
                raise KeyError(f"no ticket {reference!r}")
            ticket.is_deprecated = deprecated
            return self._ticket_record(ticket)

    def personalize_ticket(
        self, reference: str, *, first_name: str, last_name: str, email: str, phone: str
    ) -> TicketRecord:
        with self.lock:
            ticket = self._tickets.get(reference)
            if ticket is None:
                raise KeyError(f"no ticket {reference!r}")
            if ticket.status != CREATED:
                raise ValueError(f"ticket {reference!r} has status {ticket.status}, not 1")
            event_id = self._ticket_types[ticket.ticket_type_id].event_id
            scope = self._scope(self._event(self._top(event_id)))
            self._personalize([(ticket, (first_name, last_name, email, phone))], scope, event_id)
            return self._ticket_record(ticket)

    # ------------------------------------------------------------------ endpoints

    def api_events(self, account_id: int) -> list[dict[str, Any]]:
        """GET /events: the account's events with their ticket types and sub-events."""
        with self.lock:
            return [
                self._event_json(e)
                for e in sorted(self._events.values(), key=lambda e: e.id)
                if e.account_id == account_id and e.parent_id is None
            ]

    def api_user_events(self, account_id: int, user_id: int | None) -> list[dict[str, Any]]:
        """GET /users/{userId}/events: the events the external user holds tickets for."""
        with self.lock:
            orders = self._user_orders(account_id, user_id)
            if not orders:
                raise APIError(404, "External user has no orders")
            event_ids = {
                self._top(self._ticket_types[self._tickets[ref].ticket_type_id].event_id)
                for order in orders
                for ref in order.ticket_refs
            }
            return [
                {"id": e.id, "name": e.name, "start_date": _iso(e.start)}
                for e in (self._events[i] for i in sorted(event_ids))
            ]

    def api_event_tickets(
        self, account_id: int, event_id: int | None, wp_user_id: int | None
    ) -> list[dict[str, Any]]:
        """GET /events/{eventId}/tickets: the user's tickets for the event and its sub-events."""
        with self.lock:
            event = self._account_event(account_id, event_id)
            if event is None:
                raise APIError(404, "Event not found")
            if wp_user_id is None:
                raise APIError(400, "Wordpress user not specified")
            scope = self._scope(event)
            return [
                self._ticket_json(ticket)
                for order in self._user_orders(account_id, wp_user_id)
                for ticket in (self._tickets[ref] for ref in order.ticket_refs)
                if self._ticket_types[ticket.ticket_type_id].event_id in scope
            ]

    def api_personalize(
        self,
        account_id: int,
        event_id: int | None,
        raw_event_id: str,
        wp_user_id: int | None,
        body: bytes,
    ) -> dict[str, Any]:
        """POST /events/{eventId}/tickets/personalize."""
        with self.lock:
            event = self._account_event(account_id, event_id)
            if event is None:
                raise APIError(404, f"Event not found ({raw_event_id})")
            if wp_user_id is None:
                raise APIError(400, "Wordpress user not specified")
            try:
                parsed: Any = json.loads(body) if body.strip() else None
            except (ValueError, RecursionError):  # not JSON, or absurdly nested
                parsed = None
            parsed_object = _object(parsed)
            submitted: Any = None if parsed_object is None else parsed_object.get("tickets")
            if not isinstance(submitted, list) or not submitted:
                raise APIError(400, "Tickets not specified")
            entries = cast("Sequence[Any]", submitted)
            scope = self._scope(event)
            # Everything is checked before anything changes: a refused call changes nothing.
            work: list[tuple[_Ticket, tuple[str, str, str, str]]] = []
            for i, entry in enumerate(entries):
                values = _object(entry)
                if values is None:
                    raise APIError(400, f"Invalid ticket {i}: must be an object")
                for name in _ATTENDEE_FIELDS:
                    value = values.get(name)
                    if not isinstance(value, str) or not value:
                        raise APIError(
                            400, f"Invalid ticket {i}: {name} must be a non-empty string"
                        )
                ticket = self._tickets.get(values["ticket_id"])
                order = None if ticket is None else self._orders[ticket.order_id]
                if ticket is None or order is None or order.account_id != account_id:
                    raise APIError(400, "User unauthorized for ticket")
                if order.wp_user_id != wp_user_id:
                    raise APIError(400, "Wordpress user unauthorized for ticket")
                if self._ticket_types[ticket.ticket_type_id].event_id not in scope:
                    raise APIError(400, "Ticket does not belong to this event")
                work.append(
                    (
                        ticket,
                        (values["first_name"], values["last_name"], values["email"], values["tel"]),
                    )
                )
            done = self._personalize(work, scope, event.id)
            return {"tickets": entries, "all_personalized": done}

    def api_create_order(self, account_id: int, body: bytes) -> None:
        """POST /orders/create: a new order, or an existing one set to Processing."""
        with self.lock:
            try:
                parsed: Any = json.loads(body, parse_float=Decimal) if body.strip() else None
            except (ValueError, RecursionError):  # not JSON, or absurdly nested
                parsed = None
            data = _object(parsed)
            if data is None:
                raise APIError(404, "Incorrect request")
            tp_order_id = data.get("tp_order_id")
            if tp_order_id is not None:
                if not _is_int(tp_order_id):
                    raise _invalid_order("tp_order_id must be an integer")
                existing = self._orders.get(tp_order_id)
                if existing is None:
                    raise APIError(404, "Ticket Pulse order does not exist")
                if existing.account_id != account_id:
                    raise APIError(403, "You do not have access to this order")
                existing.status = ORDER_PROCESSING
                return
            raw_lines = data.get("order_lines")
            if raw_lines is None or raw_lines == []:
                raise APIError(404, "No order lines specified")
            if not isinstance(raw_lines, list):
                raise _invalid_order("order_lines must be an array")
            _check_order_fields(data)
            lines = _parse_lines(cast("Sequence[Any]", raw_lines))
            self._place_order(account_id, data, lines)

    def api_ticket_file(self, account_id: int, wp_user_id: int | None, ticket_id: str) -> str:
        """GET /users/get-ticket: the file name of the ticket's QR image."""
        with self.lock:
            if wp_user_id is None:
                raise APIError(400, "Wordpress user not specified")
            if not ticket_id:
                raise APIError(400, "Ticket id not specified")
            ticket = self._tickets.get(ticket_id)
            # Another account's ticket is not even acknowledged to exist.
            if ticket is None or self._orders[ticket.order_id].account_id != account_id:
                raise APIError(401, "Ticket not found")
            if self._orders[ticket.order_id].wp_user_id != wp_user_id:
                raise APIError(401, "Not allowed to see this ticket")
            if ticket.status not in _HAS_QR:
                raise APIError(401, "File not found")
            return f"tickets/ticket_{ticket.reference}.png"

    def api_order_file(self, account_id: int, wp_user_id: int | None, order_ref: str) -> str:
        """GET /orders/get-ticket: the file name of the order's ticket PDF."""
        with self.lock:
            if wp_user_id is None:
                raise APIError(400, "Wordpress user not specified")
            if not order_ref:
                raise APIError(401, "Order not specified")
            order = self._orders_by_reference.get(order_ref)
            if order is None or order.account_id != account_id:
                raise APIError(401, "Order not found")
            if order.wp_user_id != wp_user_id:
                raise APIError(401, "Not allowed to see this order")
            if self._order_pdf_pages(order) is None:
                raise APIError(401, "File not found")
            return f"tickets/order_{order.id}_tickets"

    # ------------------------------------------------------------------ files

    def ticket_png_exists(self, reference: str) -> bool:
        with self.lock:
            ticket = self._tickets.get(reference)
            return ticket is not None and ticket.status in _HAS_QR

    def order_pdf_pages(self, order_id: int) -> list[OrderPdfPage] | None:
        """The pages of the order's PDF, or None while it does not exist."""
        with self.lock:
            order = self._orders.get(order_id)
            return None if order is None else self._order_pdf_pages(order)

    # ------------------------------------------------------------------ internals

    def _event(self, event_id: int) -> _Event:
        event = self._events.get(event_id)
        if event is None:
            raise KeyError(f"no event {event_id}")
        return event

    def _ticket_type(self, ticket_type_id: int) -> _TicketType:
        ticket_type = self._ticket_types.get(ticket_type_id)
        if ticket_type is None:
            raise KeyError(f"no ticket type {ticket_type_id}")
        return ticket_type

    def _account_event(self, account_id: int, event_id: int | None) -> _Event | None:
        event = None if event_id is None else self._events.get(event_id)
        return event if event is not None and event.account_id == account_id else None

    def _top(self, event_id: int) -> int:
        parent = self._events[event_id].parent_id
        return event_id if parent is None else parent

    def _scope(self, event: _Event) -> frozenset[int]:
        """The event and its sub-events: an event's tickets include its sub-events'."""
        return frozenset([event.id, *event.child_ids])

    def _user_orders(self, account_id: int, wp_user_id: int | None) -> list[_Order]:
        if wp_user_id is None:
            return []
        return [
            o
            for o in self._orders.values()
            if o.account_id == account_id and o.wp_user_id == wp_user_id
        ]

    def _event_stock(self, event: _Event) -> int:
        if event.stock is not None:
            return event.stock
        own = sum(self._ticket_types[i].stock for i in event.ticket_type_ids)
        return own + sum(self._event_stock(self._events[i]) for i in event.child_ids)

    def _place_order(
        self, account_id: int, body: dict[str, Any], lines: Sequence[OrderLineRecord]
    ) -> _Order:
        # Check every line's stock before taking any: an order is placed whole or not at all.
        wanted: dict[int, int] = {}
        for line in lines:
            if line.tp_event_ticket_id is None:
                continue
            type_id = line.tp_event_ticket_id
            ticket_type = self._ticket_types.get(type_id)
            if ticket_type is None or self._events[ticket_type.event_id].account_id != account_id:
                raise APIError(404, f"Ticket type not found ({type_id})")
            if not ticket_type.enabled or ticket_type.status != 1:
                raise APIError(400, f"Ticket type not available ({type_id})")
            wanted[type_id] = wanted.get(type_id, 0) + line.quantity
        per_event: dict[int, int] = {}
        for type_id, quantity in wanted.items():
            ticket_type = self._ticket_types[type_id]
            if quantity > ticket_type.stock:
                raise APIError(
                    400,
                    f"Not enough stock for ticket type {type_id}"
                    f" (requested {quantity}, available {ticket_type.stock})",
                )
            per_event[ticket_type.event_id] = per_event.get(ticket_type.event_id, 0) + quantity
        for event_id, quantity in per_event.items():
            capacity = self._events[event_id].stock
            if capacity is not None and quantity > capacity:
                raise APIError(
                    400,
                    f"Not enough stock for event {event_id}"
                    f" (requested {quantity}, available {capacity})",
                )
        for type_id, quantity in wanted.items():
            self._ticket_types[type_id].stock -= quantity
        for event_id, quantity in per_event.items():
            event = self._events[event_id]
            if event.stock is not None:
                event.stock -= quantity

        order_id = self._next_order_id
        self._next_order_id += 1
        billing = _object(body.get("billing_information"))
        billing_email = None if billing is None else billing.get("email")
        order = _Order(
            id=order_id,
            account_id=account_id,
            reference=f"TP-{order_id:05d}",
            status=ORDER_PENDING,
            wp_user_id=body.get("wp_user_id"),
            wp_order_id=body.get("wp_order_id"),
            lines=list(lines),
            created_at=self.clock.time(),
            body=body,
            billing_email=billing_email if isinstance(billing_email, str) else None,
        )
        for line in lines:
            if line.tp_event_ticket_id is None:
                continue
            for _ in range(line.quantity):
                reference = ticket_reference(self._ticket_serial)
                self._ticket_serial += 1
                self._tickets[reference] = _Ticket(
                    reference=reference, order_id=order_id, ticket_type_id=line.tp_event_ticket_id
                )
                order.ticket_refs.append(reference)
        self._orders[order_id] = order
        self._orders_by_reference[order.reference] = order
        return order

    def _pending(self, order: _Order, scope: frozenset[int] | None) -> bool:
        """Whether a ticket of ``order`` (within ``scope``, if given) still has status 1."""
        for ref in order.ticket_refs:
            ticket = self._tickets[ref]
            if ticket.status == CREATED and (
                scope is None or self._ticket_types[ticket.ticket_type_id].event_id in scope
            ):
                return True
        return False

    def _personalize(
        self,
        work: Sequence[tuple[_Ticket, tuple[str, str, str, str]]],
        scope: frozenset[int],
        event_id: int,
    ) -> bool:
        """Activate the status-1 tickets; True when the orders concerned are done in ``scope``."""
        orders = {ticket.order_id: self._orders[ticket.order_id] for ticket, _ in work}
        incomplete = {oid for oid, order in orders.items() if self._pending(order, None)}
        for ticket, (first_name, last_name, email, phone) in work:
            if ticket.status != CREATED:
                continue  # the doc: other statuses are silently skipped
            ticket.status = ACTIVE
            ticket.first_name, ticket.last_name = first_name, last_name
            ticket.email, ticket.phone = email, phone
        for order_id in incomplete:
            order = orders[order_id]
            if not self._pending(order, None):  # its PDF now exists: "e-mailed"
                self._outbox.append(
                    MailRecord(
                        order_reference=order.reference,
                        event_id=event_id,
                        to=order.billing_email,
                        sent_at=datetime.fromtimestamp(self.clock.time(), UTC),
                    )
                )
        return not any(self._pending(order, scope) for order in orders.values())

    def _order_pdf_pages(self, order: _Order) -> list[OrderPdfPage] | None:
        tickets = [self._tickets[ref] for ref in order.ticket_refs]
        if any(t.status == CREATED for t in tickets):
            return None
        pages: list[OrderPdfPage] = []
        for ticket in tickets:
            if ticket.status not in _HAS_QR:
                continue  # cancelled tickets are not printed
            ticket_type = self._ticket_types[ticket.ticket_type_id]
            event = self._events[ticket_type.event_id]
            pages.append(
                OrderPdfPage(
                    reference=ticket.reference,
                    event_name=event.name,
                    start=ticket_type.date or event.start,
                    ticket_type=ticket_type.name,
                    attendee=f"{ticket.first_name or ''} {ticket.last_name or ''}".strip(),
                    email=ticket.email or "",
                    order_reference=order.reference,
                )
            )
        return pages or None

    # ------------------------------------------------------------------ JSON shapes

    def _ticket_type_json(self, ticket_type: _TicketType) -> dict[str, Any]:
        return {
            "id": ticket_type.id,
            "name": ticket_type.name,
            "stock": ticket_type.stock,
            "price": float(ticket_type.price),  # a JSON number here, a string on events
            "status": ticket_type.status,
            "date": _unix(ticket_type.date),
            "enabled": ticket_type.enabled,
        }

    def _event_json(self, event: _Event) -> dict[str, Any]:
        return {
            "id": event.id,
            "name": event.name,
            "city": event.city,
            "start_date": _unix(event.start),
            "end_date": _unix(event.end),
            "price": f"{event.price:.2f}",
            "stock": self._event_stock(event),
            "status": event.status,
            "tickets": [
                self._ticket_type_json(self._ticket_types[i]) for i in event.ticket_type_ids
            ],
            "children": [self._sub_event_json(self._events[i]) for i in event.child_ids],
        }

    def _sub_event_json(self, event: _Event) -> dict[str, Any]:
        return {
            "id": event.id,
            "name": event.name,
            "status": event.status,
            "stock": self._event_stock(event),
            "price": f"{event.price:.2f}",
            "featured": event.featured,
            "tickets": [
                self._ticket_type_json(self._ticket_types[i]) for i in event.ticket_type_ids
            ],
            "manage_price_per_ticket": event.manage_price_per_ticket,
            "manage_stock_per_ticket": event.manage_stock_per_ticket,
            "start_date": _unix(event.start),
            "end_date": _unix(event.end),
            "event_params": dict(event.event_params),
            "password": event.password,
            "thumbnail": event.thumbnail,
            "location": event.location,
            "deleted_at": _unix(event.deleted_at),
        }

    def _ticket_json(self, ticket: _Ticket) -> dict[str, Any]:
        ticket_type = self._ticket_types[ticket.ticket_type_id]
        event = self._events[ticket_type.event_id]
        return {
            "id": ticket.reference,
            "event_name": event.name,
            "event_start_date": _iso(event.start),
            "start_date": _iso(ticket_type.date or event.start),
            "order_id": self._orders[ticket.order_id].reference,
            "name": ticket_type.name,
            "first_name": ticket.first_name,
            "last_name": ticket.last_name,
            "email": ticket.email,
            "phone": ticket.phone,
            "status": ticket.status,
            "is_deprecated": ticket.is_deprecated,
        }

    # ------------------------------------------------------------------ records

    def _account_record(self, account: _Account) -> AccountRecord:
        return AccountRecord(id=account.id, name=account.name, key=account.key)

    def _event_record(self, event: _Event) -> EventRecord:
        return EventRecord(
            id=event.id,
            account_id=event.account_id,
            parent_id=event.parent_id,
            name=event.name,
            city=event.city,
            start=event.start,
            end=event.end,
            price=event.price,
            stock=self._event_stock(event),
            status=event.status,
            location=event.location,
            ticket_type_ids=tuple(event.ticket_type_ids),
            child_ids=tuple(event.child_ids),
        )

    def _ticket_type_record(self, ticket_type: _TicketType) -> TicketTypeRecord:
        return TicketTypeRecord(
            id=ticket_type.id,
            event_id=ticket_type.event_id,
            name=ticket_type.name,
            price=ticket_type.price,
            stock=ticket_type.stock,
            status=ticket_type.status,
            date=ticket_type.date,
            enabled=ticket_type.enabled,
        )

    def _order_record(self, order: _Order) -> OrderRecord:
        return OrderRecord(
            id=order.id,
            reference=order.reference,
            account_id=order.account_id,
            status=order.status,
            wp_user_id=order.wp_user_id,
            wp_order_id=order.wp_order_id,
            lines=tuple(order.lines),
            ticket_refs=tuple(order.ticket_refs),
            created_at=datetime.fromtimestamp(order.created_at, UTC),
            body=copy.deepcopy(order.body),
        )

    def _ticket_record(self, ticket: _Ticket) -> TicketRecord:
        order = self._orders[ticket.order_id]
        return TicketRecord(
            reference=ticket.reference,
            order_id=order.id,
            order_reference=order.reference,
            ticket_type_id=ticket.ticket_type_id,
            event_id=self._ticket_types[ticket.ticket_type_id].event_id,
            status=ticket.status,
            first_name=ticket.first_name,
            last_name=ticket.last_name,
            email=ticket.email,
            phone=ticket.phone,
            is_deprecated=ticket.is_deprecated,
        )
