"""The demo data of :meth:`Sandbox.demo`: the same ids, names and stock every time.

One account, key ``tp_demo_0123456789abcdef`` ("Demo Partner"), with:

====  ==============================  ==========  ===============================
id    event                           city        ticket types (id: name, price, stock)
====  ==============================  ==========  ===============================
12    Summer Festival 2025            Amsterdam   45: General Admission 29.95 x400,
                                                  46: VIP 89.50 x50 (event stock 500)
13    - Day 1 — Saturday (sub-event)  Vondelpark  47: Saturday Pass 15.00 x250
14    - Day 2 — Sunday (sub-event)    Vondelpark  48: Sunday Pass 15.00 x250
15    Jazz Night                      Rotterdam   49: Standing 24.50 x120,
                                                  50: Balcony 34.50 x30,
                                                  51: Front Row 49.00 x4
16    Tech Conference 2025            Utrecht     52: Early Bird 149.00 x0 (sold out),
                                                  53: Regular 199.00 x300,
                                                  54: Workshop 49.00 x20 (disabled)
====  ==============================  ==========  ===============================

No orders exist yet; the first order created gets id 123 ("TP-00123") and
its first ticket the reference "a3f9b", as in the API doc's examples.

``Sandbox.demo(users=[789])`` (what ``python -m ticketpulse.testing`` and the
command line's sandbox serve) first gives each of those users two orders of
event 12, by :func:`seed_demo_orders`; for the first user they are:

========  ==============  =============================================
order     tickets         state
========  ==============  =============================================
TP-00123  a3f9b, 42350    2 x General Admission, personalised (Jane Doe,
                          John Doe): the QR codes and the PDF are ready
TP-00124  e0705, 7eaba    2 x VIP, awaiting personalisation (status 1)
========  ==============  =============================================
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._sandbox import Sandbox

__all__ = ["DEMO_API_KEY", "DEMO_USER_ID", "populate_demo", "seed_demo_orders"]

DEMO_API_KEY = "tp_demo_0123456789abcdef"

# The user the README's examples and the demo servers use.
DEMO_USER_ID = 789

# The attendees of the personalised demo order (ticket type 45, General Admission).
_PEOPLE = (
    ("Jane", "Doe", "jane@example.com", "+31612345678"),
    ("John", "Doe", "john@example.com", "+31687654321"),
)


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def populate_demo(sandbox: Sandbox) -> None:
    account = sandbox.add_account(DEMO_API_KEY, name="Demo Partner")

    festival = sandbox.add_event(
        account,
        name="Summer Festival 2025",
        city="Amsterdam",
        start=_at(8, 2, 12),
        end=_at(8, 3, 23),
        price=Decimal("29.95"),
        stock=500,
    )
    sandbox.add_ticket_type(festival, name="General Admission", price=Decimal("29.95"), stock=400)
    sandbox.add_ticket_type(festival, name="VIP", price=Decimal("89.50"), stock=50)
    for day, (label, date) in enumerate(
        [("Day 1 — Saturday", _at(8, 2, 12)), ("Day 2 — Sunday", _at(8, 3, 12))]
    ):
        sub = sandbox.add_sub_event(
            festival,
            name=label,
            start=date,
            end=date.replace(hour=23),
            price=Decimal("15.00"),
            location="Vondelpark",
        )
        pass_name = ("Saturday Pass", "Sunday Pass")[day]
        sandbox.add_ticket_type(sub, name=pass_name, price=Decimal("15.00"), stock=250, date=date)

    jazz = sandbox.add_event(
        account,
        name="Jazz Night",
        city="Rotterdam",
        start=_at(9, 12, 20),
        end=_at(9, 12, 23, 30),
        price=Decimal("24.50"),
    )
    sandbox.add_ticket_type(jazz, name="Standing", price=Decimal("24.50"), stock=120)
    sandbox.add_ticket_type(jazz, name="Balcony", price=Decimal("34.50"), stock=30)
    sandbox.add_ticket_type(jazz, name="Front Row", price=Decimal("49.00"), stock=4)

    conference = sandbox.add_event(
        account,
        name="Tech Conference 2025",
        city="Utrecht",
        start=_at(10, 7, 8),
        end=_at(10, 8, 18),
        price=Decimal("199.00"),
    )
    sandbox.add_ticket_type(conference, name="Early Bird", price=Decimal("149.00"), stock=0)
    sandbox.add_ticket_type(conference, name="Regular", price=Decimal("199.00"), stock=300)
    sandbox.add_ticket_type(
        conference, name="Workshop", price=Decimal("49.00"), stock=20, enabled=False
    )


def seed_demo_orders(sandbox: Sandbox, user_id: int) -> None:
    """Give ``user_id`` the two demo orders, unless the user already has an order.

    One order of 2 x General Admission (ticket type 45), personalised, and one
    of 2 x VIP (46), awaiting personalisation; on a fresh demo sandbox the
    first user's are TP-00123 (tickets a3f9b, 42350) and TP-00124 (e0705, 7eaba).
    """
    if any(order.wp_user_id == user_id for order in sandbox.orders()):
        return
    ready = sandbox.add_order(wp_user_id=user_id, items={45: 2}, wp_order_id=f"demo-{user_id}-1")
    for reference, (first, last, email, phone) in zip(ready.ticket_refs, _PEOPLE, strict=True):
        sandbox.personalize_ticket(
            reference, first_name=first, last_name=last, email=email, phone=phone
        )
    sandbox.add_order(wp_user_id=user_id, items={46: 2}, wp_order_id=f"demo-{user_id}-2")
