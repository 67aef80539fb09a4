"""``ticketpulse personalize``: which rows of the attendees file the API applies.

The API personalises only tickets in status 1, created ("Tickets with a
status other than 1 (Created) are silently skipped"), and answers with an
echo of whatever it was sent: its answer cannot tell what it applied. So the
command reads the user's tickets of the event first (``get_event_tickets``)
and sorts the rows by their ticket:

- created: the row is sent, and reported ``personalised``;
- active, scanned in or out, cancelled (any other status): the row is not
  sent, since the API would skip it, and is reported ``skipped`` with the
  ticket's status and the attendee the ticket keeps;
- not among the user's tickets of the event (a typo, another user's or
  another event's ticket): the API refuses the whole request with a 400
  ("User unauthorized for ticket", "Wordpress user unauthorized for ticket"),
  it does not skip the ticket; the file is refused the same way, before
  anything is sent, naming every such line (exit code 2).

Only the created rows being sent, the request holds exactly what the API
applies, and the report says what it did. :func:`plan` makes no request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._models import Attendee, Ticket, TicketStatus
from ._attendees import AttendeeRow, AttendeesFileError, file_problems
from ._output import format_status

__all__ = ["RowPlan", "all_done_after", "as_json", "plan"]


@dataclass(frozen=True)
class RowPlan:
    """A row of the file and its ticket as read before sending."""

    row: AttendeeRow
    ticket: Ticket

    @property
    def applies(self) -> bool:
        """True when the API personalises this row: its ticket awaits personalisation."""
        return self.ticket.status == TicketStatus.CREATED

    @property
    def reason(self) -> str:
        """Why the API skips the row (``already active``); ``""`` when it applies."""
        if self.applies:
            return ""
        status = self.ticket.status
        if status in (TicketStatus.ACTIVE, TicketStatus.SCANNED_IN, TicketStatus.SCANNED_OUT):
            reason = f"already {format_status(status)}"
        elif status == TicketStatus.CANCELLED:
            reason = "cancelled"
        else:
            reason = f"status {int(status)}, not awaiting personalisation"
        if _holds(self.ticket, self.row.attendee):
            reason += " (same details)"
        return reason

    def attendee_after(self) -> tuple[str, str, str]:
        """Name, email and phone the ticket holds once the row is sent (or skipped)."""
        if self.applies:
            a = self.row.attendee
            return f"{a.first_name} {a.last_name}", a.email, a.tel
        t = self.ticket
        name = " ".join(filter(None, [t.first_name, t.last_name]))
        return name, t.email or "", t.phone or ""


def _holds(ticket: Ticket, attendee: Attendee) -> bool:
    return (ticket.first_name, ticket.last_name, ticket.email, ticket.phone) == (
        attendee.first_name,
        attendee.last_name,
        attendee.email,
        attendee.tel,
    )


def plan(
    rows: Sequence[AttendeeRow],
    tickets: Sequence[Ticket],
    *,
    name: str,
    user_id: int,
    event_id: int,
) -> list[RowPlan]:
    """Each row with its ticket; :class:`AttendeesFileError` naming the rows of no ticket.

    ``tickets``: the user's tickets of the event, read just before; ``name``:
    the file's name for the message.
    """
    by_reference: dict[str, Ticket] = {}
    for ticket in tickets:
        by_reference.setdefault(ticket.id, ticket)
    whose = f"user {user_id}'s tickets for event {event_id}"
    if not by_reference:
        raise AttendeesFileError(f"{name}: user {user_id} has no tickets for event {event_id}")
    unknown = [
        f"line {row.line}: ticket {row.attendee.ticket_id} is not one of {whose}"
        for row in rows
        if row.attendee.ticket_id not in by_reference
    ]
    if unknown:
        raise file_problems(name, unknown)
    return [RowPlan(row, by_reference[row.attendee.ticket_id]) for row in rows]


def all_done_after(plans: Sequence[RowPlan], tickets: Sequence[Ticket]) -> bool | None:
    """Whether sending the created rows leaves their orders with no ticket to personalise.

    What the API's ``all_personalized`` would say (all tickets of the event in
    those orders done), worked out from ``tickets`` as read: for --dry-run.
    ``None`` when no row applies (nothing would be sent).
    """
    sent = {p.ticket.id for p in plans if p.applies}
    if not sent:
        return None
    orders = {p.ticket.order_id for p in plans if p.applies}
    return not any(
        t.status == TicketStatus.CREATED and t.id not in sent
        for t in tickets
        if t.order_id in orders
    )


def as_json(plans: Sequence[RowPlan], all_personalized: bool | None) -> dict[str, Any]:
    """The ``--json`` form: what was (or would be) sent, and every skipped row.

    ``tickets`` and ``all_personalized`` are the API's own answer, for the rows
    sent; ``all_personalized`` is null when nothing was sent.
    """
    return {
        "tickets": [p.row.attendee for p in plans if p.applies],
        "all_personalized": all_personalized,
        "skipped": [
            {
                "line": p.row.line,
                "ticket_id": p.ticket.id,
                "status": int(p.ticket.status),
                "reason": p.reason,
            }
            for p in plans
            if not p.applies
        ],
    }
