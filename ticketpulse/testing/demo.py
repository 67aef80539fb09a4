"""The SDK's whole flow against the embedded sandbox, printed as a transcript.

Run it with ``nox -s demo`` or ``python -m ticketpulse.testing.demo [--out DIR]``.
It lists the events, creates an order for a user, lists the user's tickets,
shows that the PDF is not ready before personalisation, personalises the
tickets, fetches the QR and PDF URLs, and downloads both files: into ``DIR``,
or into a temporary directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import tempfile
from decimal import Decimal
from pathlib import Path

import anyio

import ticketpulse
from ticketpulse import Attendee, BillingInformation, NewOrder, OrderLine

from ._sandbox import Sandbox

__all__ = ["main", "run"]

USER_ID = 789
ATTENDEES = [
    ("Jane", "Doe", "jane.doe@example.com", "+31612345678"),
    ("John", "Roe", "john.roe@example.com", "+31687654321"),
]


def _step(title: str) -> None:
    print(f"\n== {title}")


def _line(text: str) -> None:
    print(f"   {text}")


async def run(out: Path) -> None:
    """Walk through every endpoint with an :class:`AsyncClient` on a demo sandbox."""
    sandbox = Sandbox.demo()
    print("Ticket Pulse SDK demo: an AsyncClient against the embedded sandbox (no network)")
    print(f"base URL {sandbox.base_url}, demo key {Sandbox.DEMO_API_KEY[:8]}... (never logged)")
    async with sandbox.async_client() as client:
        _step("1. get_events()")
        events = await client.get_events()
        for event in events:
            when = f"{event.start_date:%Y-%m-%d %H:%M %Z}" if event.start_date else "no date"
            _line(f"#{event.id} {event.name} ({event.city}), {when}, from EUR {event.price}")
            for child in event.children:
                _line(f"   sub-event #{child.id} {child.name}")
        festival = events[0]
        ticket_type = festival.tickets[0]
        _line(
            f"ticket type #{ticket_type.id} {ticket_type.name}: "
            f"EUR {ticket_type.price}, {ticket_type.stock} in stock",
        )

        _step(f"2. create_order(): 2 x {ticket_type.name} for user {USER_ID}")
        await client.create_order(
            NewOrder(
                wp_order_id="wc_1001",
                wp_user_id=USER_ID,
                payment_method="ideal",
                currency="EUR",
                order_total=Decimal(2) * (ticket_type.price or Decimal(0)),
                billing_information=BillingInformation(
                    first_name="Jane", last_name="Doe", email="jane.doe@example.com"
                ),
                order_lines=[
                    OrderLine(
                        name=ticket_type.name or "Ticket",
                        quantity=2,
                        product_id=101,
                        unit_price=ticket_type.price or Decimal(0),
                        tp_event_ticket_id=ticket_type.id,
                    )
                ],
            )
        )
        _line(f"order created; stock of #{ticket_type.id} is now {sandbox.stock(ticket_type.id)}")

        _step(f"3. get_user_events({USER_ID}) and get_event_tickets({festival.id})")
        for summary in await client.get_user_events(USER_ID):
            _line(f"user {USER_ID} has tickets for #{summary.id} {summary.name}")
        tickets = await client.get_event_tickets(festival.id, user_id=USER_ID)
        for ticket in tickets:
            _line(
                f"ticket {ticket.id}: {ticket.name}, {ticket.status.name}, order {ticket.order_id}",
            )
        order_ref = tickets[0].order_id or ""

        _step(f"4. get_order_pdf_url({order_ref!r}) before personalisation")
        try:
            await client.get_order_pdf_url(order_ref, user_id=USER_ID)
        except ticketpulse.FileNotReadyError as error:
            _line(f"FileNotReadyError: {error.status_code} {error.message}")

        _step("5. personalize_tickets()")
        people = [
            Attendee(ticket.id, *ATTENDEES[i % len(ATTENDEES)]) for i, ticket in enumerate(tickets)
        ]
        result = await client.personalize_tickets(festival.id, user_id=USER_ID, tickets=people)
        _line(f"{len(result.tickets)} tickets sent, all_personalized={result.all_personalized}")
        for ticket in await client.get_event_tickets(festival.id, user_id=USER_ID):
            _line(
                f"ticket {ticket.id}: {ticket.first_name} {ticket.last_name}, {ticket.status.name}",
            )

        _step("6. get_ticket_url() and get_order_pdf_url()")
        qr = await client.get_ticket_url(tickets[0].id, user_id=USER_ID)
        pdf = await client.get_order_pdf_url(order_ref, user_id=USER_ID)
        _line(f"QR:  {qr!r}")
        _line(f"PDF: {pdf!r}")

        _step(f"7. download() into {out}")
        for signed in (qr, pdf):
            path = await client.download(signed, out)
            _line(f"{path} ({path.stat().st_size:,} bytes)")
    await sandbox.aclose()
    print("\nDone: every call above went through the SDK, retries and checks included.")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: ``python -m ticketpulse.testing.demo [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out",
        type=Path,
        help="keep the files in this directory (default: a temporary one, removed at the end)",
    )
    args = parser.parse_args(argv)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        anyio.run(run, args.out)
        return
    with tempfile.TemporaryDirectory(prefix="ticketpulse-demo-") as temporary:
        anyio.run(run, Path(temporary))
    print(f"(removed {temporary} and the files in it; --out DIR keeps them)")


if __name__ == "__main__":
    main()
