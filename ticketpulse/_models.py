"""The API's data as frozen attrs classes (SPEC §3).

Fields are named as on the wire and listed in the documentation's order. The
models carry no serialization code: the converter in ``_convert`` reads and
writes them.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal, Never, TypeAlias

import attrs

from ._errors import InvalidRequestError, TicketPulseError
from ._redact import redact
from ._validate import NUMBER

__all__ = [
    "Attendee",
    "BillingInformation",
    "Event",
    "NewOrder",
    "OrderItemType",
    "OrderLine",
    "PersonalizationResult",
    "SignedURL",
    "SubEvent",
    "Ticket",
    "TicketStatus",
    "TicketType",
    "TicketURL",
    "TicketURLError",
    "TicketURLResult",
    "UserEvent",
    "to_decimal",
]


class TicketStatus(enum.IntEnum):
    """A ticket's state. Values the API adds later are kept, named ``UNKNOWN_<n>``."""

    CREATED = 1
    """Awaiting personalisation."""
    ACTIVE = 2
    """Personalised and valid for entry."""
    SCANNED_IN = 3
    SCANNED_OUT = 4
    CANCELLED = 5

    @classmethod
    def _missing_(cls, value: object) -> TicketStatus | None:
        # A status the documentation does not list must not make a whole
        # response unreadable: keep the number as a pseudo-member.
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        member = int.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}"
        member._value_ = value
        return member


class OrderItemType(enum.StrEnum):
    """Kinds of order line. The API maps any other string to "Other"."""

    LINE_ITEM = "line_item"
    """A ticket or digital item."""
    SHIPPING = "shipping"
    FEE = "fee"
    """A surcharge."""
    COUPON = "coupon"
    """A coupon or discount."""


@attrs.frozen
class TicketType:
    """A ticket type of an event or sub-event, as listed by ``get_events``."""

    id: int
    name: str | None = None
    stock: int | None = None
    price: Decimal | None = None
    status: int | None = None
    date: datetime | None = None
    enabled: bool | None = None


@attrs.frozen
class SubEvent:
    """A sub-event (one date of a multi-day event)."""

    id: int
    name: str | None = None
    status: int | None = None
    stock: int | None = None
    price: Decimal | None = None
    featured: bool | None = None
    tickets: list[TicketType] = attrs.Factory(list[TicketType])
    manage_price_per_ticket: bool | None = None
    manage_stock_per_ticket: bool | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    event_params: dict[str, Any] = attrs.Factory(dict[str, Any])
    password: str | None = None
    thumbnail: str | None = None
    location: str | None = None
    deleted_at: datetime | None = None


@attrs.frozen
class Event:
    """An event of the account, with its ticket types and sub-events."""

    id: int
    name: str | None = None
    city: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    price: Decimal | None = None
    stock: int | None = None
    status: int | None = None
    tickets: list[TicketType] = attrs.Factory(list[TicketType])
    children: list[SubEvent] = attrs.Factory(list[SubEvent])


@attrs.frozen
class UserEvent:
    """An event an external user bought tickets for (summary)."""

    id: int
    name: str | None = None
    start_date: datetime | None = None


@attrs.frozen
class Ticket:
    """One ticket of a user for an event, with its personalisation details.

    ``id`` is the ticket reference to pass as ``ticket_id`` elsewhere.
    """

    id: str
    event_name: str | None = None
    event_start_date: datetime | None = None
    start_date: datetime | None = None
    order_id: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    status: TicketStatus = TicketStatus.CREATED
    is_deprecated: bool = False


@attrs.frozen
class Attendee:
    """Attendee details for one ticket (input of ``personalize_tickets``).

    Every field is required and must be a non-empty string; ``ticket_id`` is the
    ticket reference (``Ticket.id``).
    """

    ticket_id: str
    first_name: str
    last_name: str
    email: str
    tel: str


@attrs.frozen
class PersonalizationResult:
    """The answer to ``personalize_tickets``.

    ``tickets`` echoes what was submitted; ``all_personalized`` is true when all
    tickets for the event in the order are personalised (the PDF then exists).
    """

    tickets: list[Attendee] = attrs.Factory(list[Attendee])
    all_personalized: bool = False


def to_decimal(value: Decimal | int | float | str) -> Decimal:
    """Turn a user-given amount into an exact, finite Decimal.

    A float is read through its shortest repr, so ``29.95`` becomes
    ``Decimal("29.95")``, not the binary expansion.
    """
    if isinstance(value, bool):
        raise InvalidRequestError(f"an amount must be a number, not {value!r}")
    try:
        if isinstance(value, Decimal):
            result = value
        elif isinstance(value, int):
            result = Decimal(value)
        elif isinstance(value, float):
            result = Decimal(repr(value))
        elif isinstance(value, str) and NUMBER.fullmatch(value):
            result = Decimal(value.strip())
        else:
            raise InvalidRequestError(f"an amount must be a number, not {type(value).__name__}")
    except InvalidOperation:
        raise InvalidRequestError(f"not a valid amount: {value!r}") from None
    if not result.is_finite():
        raise InvalidRequestError(f"an amount must be finite, not {value!r}")
    return result


def _optional_decimal(value: Decimal | int | float | str | None) -> Decimal | None:
    return None if value is None else to_decimal(value)


@attrs.frozen(kw_only=True)
class BillingInformation:
    """The buyer's billing details sent with a new order (all optional)."""

    first_name: str | None = None
    last_name: str | None = None
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    email: str | None = None
    phone: str | None = None


@attrs.frozen
class OrderLine:
    """One line of a new order.

    ``quantity`` must be positive; ``unit_price`` accepts a Decimal, an int, a
    float or a numeric string and is kept as an exact Decimal;
    ``tp_event_ticket_id`` is the Ticket Pulse ticket type to reserve stock
    from (tickets are created for lines that have one).
    """

    name: str
    quantity: int
    product_id: int
    unit_price: Decimal = attrs.field(converter=to_decimal)
    order_item_type: OrderItemType | str = OrderItemType.LINE_ITEM
    tp_event_ticket_id: int | None = None


@attrs.frozen(kw_only=True)
class NewOrder:
    """The body of "Create order": your platform's order and its lines.

    ``create_order`` needs at least one order line; ``mark_order_processing``
    may send any of these fields along with the ``tp_order_id``.
    """

    wp_order_id: str | None = None
    wp_user_id: int | None = None
    payment_method_title: str | None = None
    payment_method: str | None = None
    ip_address: str | None = None
    currency: str | None = None
    order_total: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    date_created: datetime | None = None
    date_paid: datetime | None = None
    locale: str | None = None
    my_tickets_url: str | None = None
    billing_information: BillingInformation | None = None
    order_lines: list[OrderLine] = attrs.Factory(list[OrderLine])


# The documentation: "The signed URL expires after 1 hour."
SIGNED_URL_LIFETIME = timedelta(hours=1)


@attrs.frozen(repr=False)
class SignedURL:
    """A short-lived signed URL of a ticket's QR image or an order's PDF.

    ``expires_at`` is the time it was fetched plus one hour (the API's stated
    lifetime). Fetch a fresh one to present a ticket; do not cache it. The repr
    hides the URL's ``secret``.
    """

    url: str
    expires_at: datetime

    @property
    def expired(self) -> bool:
        """True once ``expires_at`` has passed."""
        return datetime.now(UTC) >= self.expires_at

    def __repr__(self) -> str:
        return f"SignedURL(url={redact(self.url)!r}, expires_at={self.expires_at!r})"


@attrs.frozen
class TicketURL:
    """A ticket's signed URL in ``iter_ticket_urls``: its outcome when ``ok``.

    ``ticket_id`` is the id as given. One of the two :data:`TicketURLResult`
    classes. A success has no ``error``: reading it raises ``AttributeError``
    (``getattr(result, "error", None)`` gives None).
    """

    ticket_id: str
    url: SignedURL
    ok: ClassVar[Literal[True]] = True
    """Always True: the URL was fetched."""

    @property
    def error(self) -> Never:
        """Absent on a success: raises ``AttributeError`` (check ``ok`` first)."""
        raise AttributeError(
            f"ticket {self.ticket_id!r} has no error: its URL was fetched (check result.ok)",
            name="error",
            obj=self,
        )

    def unwrap(self) -> SignedURL:
        """The signed URL."""
        return self.url


@attrs.frozen
class TicketURLError:
    """A ticket's error in ``iter_ticket_urls``: its outcome when not ``ok``.

    ``ticket_id`` is the id as given; ``error`` is what fetching its URL met
    (what ``get_ticket_url`` would have raised). One of the two
    :data:`TicketURLResult` classes. A failure has no ``url``: reading it
    raises ``AttributeError`` (``getattr(result, "url", None)`` gives None);
    ``unwrap()`` raises the ticket's error.
    """

    ticket_id: str
    error: TicketPulseError
    ok: ClassVar[Literal[False]] = False
    """Always False: the URL could not be fetched."""

    @property
    def url(self) -> Never:
        """Absent on a failure: raises ``AttributeError`` (check ``ok`` first)."""
        raise AttributeError(
            f"ticket {self.ticket_id!r} has no URL: fetching it failed with "
            f"{type(self.error).__name__} (check result.ok, or call result.unwrap())",
            name="url",
            obj=self,
        )

    def unwrap(self) -> Never:
        """Raises the ticket's error."""
        raise self.error


TicketURLResult: TypeAlias = TicketURL | TicketURLError
"""One ticket's outcome in ``iter_ticket_urls``: its signed URL or the error it met.

``if result.ok:`` tells the two apart: there ``result.url`` is the
:class:`SignedURL`, and otherwise ``result.error`` is the
:class:`TicketPulseError` (``isinstance(result, TicketURL)`` and ``match`` too;
``isinstance(x, TicketURLResult)`` works at run time). ``result.unwrap()``
returns the URL or raises the error.

Each class types the attribute only the other one holds as ``Never`` (reading
it raises ``AttributeError``), so ``result.url`` in the ``ok`` branch is a
``SignedURL`` and ``result.error`` in the other a ``TicketPulseError`` under
mypy, which narrows the union on ``result.ok``, and under pyright, which
narrows a union only on ``result.ok is True``, not on its truthiness.
"""
