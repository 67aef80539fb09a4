"""``ticketpulse download-tickets``: every QR code and order PDF of a user's event, at once.

Which files:

- a QR image (``<ticket reference>.png``) for every ticket that has one:
  active, scanned in or scanned out. A ticket awaiting personalisation or
  cancelled has none and is reported as ``unavailable``.
- an order PDF (``<order reference>.pdf``) for every order of the listing
  whose tickets are all personalised (none awaiting personalisation, one at
  least not cancelled); other orders are reported as ``unavailable``.

A file already in the directory is not fetched again (``skipped``). The QR
URLs come from the SDK's bulk ``iter_ticket_urls``; each URL is downloaded as
soon as it arrives, ``concurrency`` at a time, by a pool of threads sharing the
one client. The SDK writes each file under a temporary name and renames it
when complete, so an interrupted run leaves no partial file and the next run
fetches only what is missing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import ticketpulse
from ticketpulse import SignedURL, Ticket, TicketPulseError, TicketStatus

__all__ = ["HAS_QR", "Outcome", "download_event_files", "file_name", "plan"]

HAS_QR = frozenset({TicketStatus.ACTIVE, TicketStatus.SCANNED_IN, TicketStatus.SCANNED_OUT})

Kind = Literal["qr", "pdf"]
Status = Literal["downloaded", "skipped", "unavailable", "failed"]

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def file_name(reference: str, suffix: str) -> str:
    """``a3f9b.png`` for ``a3f9b``; a reference that is no safe file name is cleaned.

    References come from the server: nothing in one may lead out of the
    directory (``../x``) or hide the file (``.x``).
    """
    if not _SAFE.fullmatch(reference):
        reference = re.sub(r"[^A-Za-z0-9._-]", "_", reference).lstrip(".") or "file"
    return reference + suffix


@dataclass
class Outcome:
    """What happened to one file. ``error`` is set when ``status`` is ``failed``."""

    kind: Kind
    reference: str
    path: Path
    status: Status
    detail: str = ""
    error: Exception | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "reference": self.reference,
            "path": str(self.path),
            "status": self.status,
            "detail": self.detail or None,
        }


@dataclass
class Plan:
    """The outcomes already known, and the files to fetch (reference -> path)."""

    outcomes: list[Outcome]
    tickets: dict[str, Path]
    orders: dict[str, Path]


def plan(tickets: Sequence[Ticket], directory: Path) -> Plan:
    """Decide, without any request, what to fetch and what to report as it is."""
    result = Plan([], {}, {})
    by_order: dict[str, list[Ticket]] = {}
    seen: set[str] = set()
    for ticket in tickets:
        if ticket.order_id:
            by_order.setdefault(ticket.order_id, []).append(ticket)
        if ticket.id in seen:
            continue
        seen.add(ticket.id)
        path = directory / file_name(ticket.id, ".png")
        if ticket.status not in HAS_QR:
            reason = {
                TicketStatus.CREATED: "awaiting personalisation",
                TicketStatus.CANCELLED: "cancelled",
            }.get(ticket.status, f"status {int(ticket.status)}")
            result.outcomes.append(Outcome("qr", ticket.id, path, "unavailable", reason))
        elif path.exists():
            result.outcomes.append(Outcome("qr", ticket.id, path, "skipped", "already present"))
        else:
            result.tickets[ticket.id] = path
    for order_id, order_tickets in by_order.items():
        path = directory / file_name(order_id, ".pdf")
        if any(t.status == TicketStatus.CREATED for t in order_tickets):
            result.outcomes.append(
                Outcome("pdf", order_id, path, "unavailable", "not all tickets personalised")
            )
        elif not any(t.status in HAS_QR for t in order_tickets):
            result.outcomes.append(Outcome("pdf", order_id, path, "unavailable", "no valid ticket"))
        elif path.exists():
            result.outcomes.append(Outcome("pdf", order_id, path, "skipped", "already present"))
        else:
            result.orders[order_id] = path
    return result


def download_event_files(
    client: ticketpulse.Client,
    tickets: Sequence[Ticket],
    directory: Path,
    *,
    user_id: int,
    concurrency: int,
    started: Callable[[int], None] = lambda total: None,
    advance: Callable[[], None] = lambda: None,
) -> list[Outcome]:
    """Fetch every missing file of ``plan(tickets, directory)``; one outcome per file.

    ``started(total)`` is called with the number of files to fetch, ``advance()``
    once per file fetched or failed (from worker threads), for a progress bar.
    The outcomes come in the order of the listing, QR codes first.
    """
    todo = plan(tickets, directory)
    started(len(todo.tickets) + len(todo.orders))
    finished: list[Outcome] = []
    futures: list[Future[Outcome]] = []

    def counted(job: Callable[[], Outcome]) -> Callable[[], Outcome]:
        def run() -> Outcome:
            try:
                return job()
            finally:
                advance()

        return run

    def save(kind: Kind, reference: str, url: SignedURL, path: Path) -> Outcome:
        try:
            client.download(url, path)
        except (TicketPulseError, OSError) as exc:
            return Outcome(kind, reference, path, "failed", _reason(exc), exc)
        return Outcome(kind, reference, path, "downloaded")

    def order_pdf(order_id: str, path: Path) -> Outcome:
        try:
            url = client.get_order_pdf_url(order_id, user_id=user_id)
        except TicketPulseError as exc:
            return Outcome("pdf", order_id, path, "failed", _reason(exc), exc)
        return save("pdf", order_id, url, path)

    with ThreadPoolExecutor(concurrency, thread_name_prefix="ticketpulse-download") as pool:
        try:
            for order_id, path in todo.orders.items():
                futures.append(pool.submit(counted(functools.partial(order_pdf, order_id, path))))
            if todo.tickets:
                with client.iter_ticket_urls(
                    todo.tickets, user_id=user_id, concurrency=concurrency
                ) as results:
                    for result in results:
                        path = todo.tickets[result.ticket_id]
                        if result.ok:
                            job = functools.partial(
                                save, "qr", result.ticket_id, result.unwrap(), path
                            )
                            futures.append(pool.submit(counted(job)))
                        else:
                            error = result.error
                            finished.append(
                                Outcome(
                                    "qr", result.ticket_id, path, "failed", _reason(error), error
                                )
                            )
                            advance()
            finished.extend(future.result() for future in futures)
        except BaseException:
            # Ctrl-C: start nothing more; downloads in flight finish or fail cleanly.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return _in_listing_order(todo.outcomes + finished, tickets)


def _reason(error: Exception) -> str:
    if isinstance(error, ticketpulse.APIStatusError):
        return f"{error.status_code} {error.message}".strip()
    if isinstance(error, (ticketpulse.APIConnectionError, ticketpulse.UnexpectedResponseError)):
        return error.message
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error)


def _in_listing_order(outcomes: Iterable[Outcome], tickets: Sequence[Ticket]) -> list[Outcome]:
    rank: dict[tuple[str, str], int] = {}
    for ticket in tickets:
        rank.setdefault(("qr", ticket.id), len(rank))
    for ticket in tickets:
        if ticket.order_id:
            rank.setdefault(("pdf", ticket.order_id), len(rank))
    return sorted(outcomes, key=lambda o: rank.get((o.kind, o.reference), len(rank)))
