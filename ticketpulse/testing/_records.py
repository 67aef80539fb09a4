"""Read-only snapshots of the sandbox's state, returned by its look-up helpers.

They are copies taken under the sandbox's lock: holding one never blocks the
sandbox, and later changes do not show in it (look it up again instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "AccountRecord",
    "EventRecord",
    "MailRecord",
    "OrderLineRecord",
    "OrderRecord",
    "TicketRecord",
    "TicketTypeRecord",
]


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """A seller account and its private API key (hidden from the repr)."""

    id: int
    name: str
    key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class TicketTypeRecord:
    """A ticket type of an event; ``stock`` is what is left to sell."""

    id: int
    event_id: int
    name: str
    price: Decimal
    stock: int
    status: int
    date: datetime | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event (``parent_id`` is None) or a sub-event of one."""

    id: int
    account_id: int
    parent_id: int | None
    name: str
    city: str | None
    start: datetime | None
    end: datetime | None
    price: Decimal
    stock: int
    status: int
    location: str | None
    ticket_type_ids: tuple[int, ...]
    child_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class OrderLineRecord:
    """One order line, as the sandbox understood it from the request body."""

    name: str
    quantity: int
    product_id: int
    order_item_type: str
    unit_price: Decimal
    tp_event_ticket_id: int | None


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order: ``id`` is the tp_order_id, ``reference`` the "TP-00123" string.

    ``status`` is ``"pending"`` when created and ``"processing"`` once a
    create-order call named it by ``tp_order_id``. ``body`` is the JSON object
    the order was created from (prices as ``Decimal``).
    """

    id: int
    reference: str
    account_id: int
    status: str
    wp_user_id: int | None
    wp_order_id: str | None
    lines: tuple[OrderLineRecord, ...]
    ticket_refs: tuple[str, ...]
    created_at: datetime
    body: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """A ticket: ``reference`` is the API's ticket ``id`` (like ``"a3f9b"``).

    ``status``: 1 created, 2 active (personalised), 3 scanned in, 4 scanned
    out, 5 cancelled. Attendee fields are None until personalised.
    """

    reference: str
    order_id: int
    order_reference: str
    ticket_type_id: int
    event_id: int
    status: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    is_deprecated: bool


@dataclass(frozen=True, slots=True)
class MailRecord:
    """The ticket PDF the real service would have e-mailed.

    The doc: once the tickets are personalised, the PDF is generated and
    e-mailed to the customer. The sandbox "sends" it when the last status-1
    ticket of an order is personalised (from then on the order's PDF URL is
    available). ``event_id`` is the event of that personalize call; ``to`` the
    order's billing e-mail, if it had one.
    """

    order_reference: str
    event_id: int
    to: str | None
    sent_at: datetime
