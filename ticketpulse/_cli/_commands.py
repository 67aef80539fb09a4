"""The commands that call the API: events, user-events, tickets, personalize,
ticket-url, order-pdf and download-tickets.

Each one asks :meth:`Settings.client` for a blocking ``ticketpulse.Client``,
makes its calls, and writes the result through :class:`Output`. Failures are
raised as they are: the group turns them into one line and an exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click

import ticketpulse
from ticketpulse import Event, SignedURL, SubEvent, Ticket, TicketType

from . import _exit
from ._attendees import COLUMNS, AttendeesFileError, parse_attendees
from ._downloads import Outcome, download_event_files, file_name
from ._exit import CliError
from ._options import EVENT, Command, global_options, pass_settings, user_option
from ._output import Column, Output, format_date, format_status, status_style
from ._personalize import RowPlan, all_done_after, as_json, plan
from ._settings import Settings

__all__ = ["COMMANDS"]

F = TypeVar("F", bound=Callable[..., Any])

# ------------------------------------------------------------------ events


@click.command(
    short_help="Events, sub-events and ticket types of the account.",
    cls=Command,
    epilog="""\b
Examples:
  ticketpulse events
  ticketpulse events --json | jq '.[] | {id, name, start_date}'
  ticketpulse events --sandbox""",
)
@global_options(on_group=False)
@pass_settings
def events(settings: Settings) -> None:
    """Every event of the account, with its dates, sub-events and ticket types.

    Sub-events (the dates of a multi-day event) are listed under their event.
    On a terminal the ticket types follow in a second table; in a pipe they
    are one column, "id name price (stock left)" separated by "; ". A ticket
    type's id is the tp_event_ticket_id of an order line.
    """
    with settings.client() as client:
        found = client.get_events()
    out = Output(json_mode=settings.json)
    if out.json_mode:
        out.json(found)
        return
    plain = out.plain
    columns = [Column("ID", numeric=True, wrap=False)]
    if plain:
        columns.append(Column("Parent ID"))
    columns += [
        Column("Event"),
        Column("Starts", wrap=False),
        Column("Ends", wrap=False),
        Column("Where"),
        Column("Price", numeric=True, wrap=False),
        Column("Stock", numeric=True, wrap=False),
    ]
    if plain:
        columns.append(Column("Ticket types"))
    out.table(columns, [row for event in found for row in _event_rows(event, plain=plain)])
    if not found:
        out.note("No events.")
    elif not plain:
        type_columns = [
            Column("Event", numeric=True, wrap=False),
            Column("ID", numeric=True, wrap=False),
            Column("Ticket type"),
            Column("Price", numeric=True, wrap=False),
            Column("Stock", numeric=True, wrap=False),
            Column("Sales", wrap=False),
            Column("Date", wrap=False),
        ]
        type_rows = [
            _ticket_type_row(item.id, ticket_type)
            for event in found
            for item in _with_children(event)
            for ticket_type in item.tickets
        ]
        if not any(row[-1] for row in type_rows):
            type_columns.pop()  # no ticket type has a date of its own
            type_rows = [row[:-1] for row in type_rows]
        out.table(type_columns, type_rows, title="Ticket types")


def _with_children(event: Event) -> list[Event | SubEvent]:
    return [event, *event.children]


def _event_rows(event: Event, *, plain: bool) -> list[list[str]]:
    """The event's row, then one per sub-event (indented, or naming its parent in plain)."""

    def row(item: Event | SubEvent, parent: Event | None, where: str | None) -> list[str]:
        name = item.name or ""
        cells = [
            str(item.id),
            f"  ↳ {name}" if parent is not None and not plain else name,
            format_date(item.start_date, plain=plain),
            format_date(item.end_date, plain=plain),
            where or "",
            _price(item.price),
            _text(item.stock),
        ]
        if plain:
            cells.insert(1, str(parent.id) if parent is not None else "")
            cells.append(_ticket_types(item.tickets))
        return cells

    return [row(event, None, event.city)] + [
        row(child, event, child.location) for child in event.children
    ]


def _ticket_types(types: Sequence[TicketType]) -> str:
    shown: list[str] = []
    for ticket_type in types:
        stock = {None: "", 0: " (sold out)"}.get(ticket_type.stock, f" ({ticket_type.stock} left)")
        text = f"{ticket_type.id} {ticket_type.name or ''} {_price(ticket_type.price)}{stock}"
        if ticket_type.enabled is False:
            text += " disabled"
        shown.append(" ".join(text.split()))
    return "; ".join(shown)


def _ticket_type_row(event_id: int, ticket_type: TicketType) -> list[str]:
    if ticket_type.enabled is False:
        sales = "disabled"
    elif ticket_type.stock == 0:
        sales = "sold out"
    else:
        sales = "on sale"
    return [
        str(event_id),
        str(ticket_type.id),
        ticket_type.name or "",
        _price(ticket_type.price),
        _text(ticket_type.stock),
        sales,
        format_date(ticket_type.date, plain=False),
    ]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _price(value: Decimal | None) -> str:
    """At least two decimals, as prices are written (89.5 -> 89.50); never rounded."""
    if value is None:
        return ""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(_CENTS)
    return str(value)


_CENTS = Decimal("0.01")


# ------------------------------------------------------------------ user-events


@click.command(
    "user-events",
    short_help="Events a user bought tickets for.",
    cls=Command,
    epilog="""\b
Examples:
  ticketpulse user-events 789
  ticketpulse user-events 789 --json
  ticketpulse user-events 789 --sandbox""",
)
@click.argument("user_id", metavar="USER", type=click.IntRange(min=1))
@global_options(on_group=False)
@pass_settings
def user_events(settings: Settings, user_id: int) -> None:
    """The events USER (your platform's user id) bought tickets for.

    A user without orders has no events (an empty list, exit code 0).
    """
    with settings.client(user_id) as client:
        found = client.get_user_events(user_id)
    out = Output(json_mode=settings.json)
    if out.json_mode:
        out.json(found)
        return
    rows = [[str(e.id), e.name or "", format_date(e.start_date, plain=out.plain)] for e in found]
    out.table([Column("ID", numeric=True), Column("Event"), Column("Starts")], rows)
    if not found:
        out.note(f"User {user_id} has no orders.")


# ------------------------------------------------------------------ tickets


@click.command(
    short_help="A user's tickets for an event.",
    cls=Command,
    epilog="""\b
Examples:
  ticketpulse tickets 12 --user 789
  ticketpulse tickets 12 --user 789 --json | jq -r '.[] | select(.status == 1) | .id'
  ticketpulse tickets 12 --user 789 --sandbox""",
)
@click.argument("event_id", metavar="EVENT", type=EVENT)
@user_option
@global_options(on_group=False)
@pass_settings
def tickets(settings: Settings, event_id: int, user_id: int) -> None:
    """USER's tickets for EVENT, with their status and attendee details.

    Status "created" means awaiting personalisation (see personalize); an
    "active" ticket has its QR code. The ticket column is the reference that
    ticket-url and the CSV of personalize take.
    """
    with settings.client(user_id) as client:
        found = client.get_event_tickets(event_id, user_id=user_id)
    out = Output(json_mode=settings.json)
    if out.json_mode:
        out.json(found)
        return
    columns = [
        Column("Ticket", wrap=False),
        Column("Order", wrap=False),
        Column("Type"),
        Column("Status", wrap=False),
        Column("Attendee"),
        Column("Email", wrap=False),
        Column("Phone", wrap=False),
        Column("Starts", wrap=False),
    ]
    rows = [_ticket_row(ticket, plain=out.plain) for ticket in found]
    title = None
    starts = {row[-1] for row in rows}
    if not out.plain and found and len(starts) == 1:
        # One date for all (the usual case): in the title, leaving room for the rest.
        title = f"{found[0].event_name or f'Event {event_id}'} · {starts.pop()}"
        columns.pop()
        rows = [row[:-1] for row in rows]
    out.table(columns, rows, title=title)
    if not found:
        out.note(f"User {user_id} has no tickets for event {event_id}.")


def _ticket_row(ticket: Ticket, *, plain: bool) -> list[Any]:
    from rich.text import Text

    status = format_status(ticket.status)
    attendee = " ".join(filter(None, [ticket.first_name, ticket.last_name]))
    return [
        ticket.id,
        ticket.order_id or "",
        ticket.name or "",
        status if plain else Text(status, style=status_style(ticket.status)),
        attendee,
        ticket.email or "",
        ticket.phone or "",
        format_date(ticket.start_date or ticket.event_start_date, plain=plain),
    ]


# ------------------------------------------------------------------ personalize


@click.command(
    short_help="Personalise a user's tickets from a CSV file.",
    cls=Command,
    epilog="""\b
Example attendees.csv (comma, semicolon or tab separated; UTF-8):
  ticket_id,first_name,last_name,email,tel
  e0705,Ann,Smith,ann@example.com,+31611111111
  7eaba,Bob,Jones,bob@example.com,+31622222222

\b
Examples:
  ticketpulse personalize 12 --user 789 --csv attendees.csv
  ticketpulse personalize 12 --user 789 --csv attendees.csv --dry-run
  ticketpulse personalize 12 --user 789 --csv attendees.csv --json | jq '.skipped'
  ticketpulse personalize 12 --user 789 --csv attendees.csv --sandbox

\b
Exit codes (the others: ticketpulse --help):
  0  every row was personalised
  2  a bad row, or a row for a ticket that is not one of USER's tickets
     for EVENT: nothing was sent
  7  some rows were skipped, their tickets no longer awaiting
     personalisation; the other rows were personalised""",
)
@click.argument("event_id", metavar="EVENT", type=EVENT)
@user_option
@click.option(
    "--csv",
    "csv_path",
    required=True,
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help=f"Attendees, one ticket a row; columns {', '.join(COLUMNS)} ('-' reads stdin).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the file against the tickets and show what would be done; change nothing.",
)
@global_options(on_group=False)
@pass_settings
def personalize(
    settings: Settings, event_id: int, user_id: int, csv_path: Path, dry_run: bool
) -> None:
    """Give USER's tickets for EVENT their attendees, from a CSV file.

    The whole file is checked first: a row with a missing or empty field is
    reported with its line number and nothing is sent. Then USER's tickets
    for EVENT are read: a row for a ticket that is not one of them is
    reported the same way (the API would refuse the whole request), and
    nothing is sent.

    The API personalises only tickets awaiting personalisation (status
    created) and leaves the others as they are, so only those rows are sent.
    Every other row is listed as "skipped" with its ticket's status (already
    active, scanned in or out, cancelled), and the exit code is then 7;
    sending the same file again is safe. The attendee columns show what each ticket holds
    afterwards. Once all tickets of an order are personalised, the order's
    PDF is generated (see order-pdf, download-tickets).

    --dry-run reads the tickets, sends nothing, and exits as the run would.
    """
    name = "stdin" if str(csv_path) == "-" else str(csv_path)
    data = _read_input(csv_path)
    try:
        rows = parse_attendees(data, name)
    except AttendeesFileError as exc:
        raise CliError(f"{exc} — nothing was sent", _exit.USAGE) from None
    out = Output(json_mode=settings.json)
    with settings.client(user_id) as client:
        found = client.get_event_tickets(event_id, user_id=user_id)
        try:
            plans = plan(rows, found, name=name, user_id=user_id, event_id=event_id)
        except AttendeesFileError as exc:
            raise CliError(
                f"{exc} — nothing was sent (see ticketpulse tickets {event_id} --user {user_id})",
                _exit.USAGE,
            ) from None
        applying = [p.row.attendee for p in plans if p.applies]
        if dry_run:
            all_personalized = all_done_after(plans, found)
        elif applying:
            result = client.personalize_tickets(event_id, user_id=user_id, tickets=applying)
            all_personalized = result.all_personalized
        else:
            all_personalized = None  # nothing to send: the API is not asked
    _report_personalisation(out, plans, all_personalized, user_id=user_id, dry_run=dry_run)
    if any(not p.applies for p in plans):
        click.get_current_context().exit(_exit.SKIPPED)


def _report_personalisation(
    out: Output,
    plans: Sequence[RowPlan],
    all_personalized: bool | None,
    *,
    user_id: int,
    dry_run: bool,
) -> None:
    from rich.text import Text

    if out.json_mode:
        out.json(as_json(plans, all_personalized))
    else:
        done = "to personalise" if dry_run else "personalised"
        styles = {done: "green", "skipped": "yellow"}
        rows: list[list[Any]] = []
        for p in plans:
            result = done if p.applies else "skipped"
            attendee, email, phone = p.attendee_after()
            rows.append(
                [
                    str(p.row.line),
                    p.ticket.id,
                    result if out.plain else Text(result, style=styles[result]),
                    attendee,
                    email,
                    phone,
                    p.reason,
                ]
            )
        out.table(
            [
                Column("Line", numeric=True, wrap=False),
                Column("Ticket", wrap=False),
                Column("Result", wrap=False),
                Column("Attendee"),
                Column("Email", wrap=False),
                Column("Phone", wrap=False),
                Column("Detail"),
            ],
            rows,
        )
    applied = sum(1 for p in plans if p.applies)
    skipped = len(plans) - applied
    summary = f"{'Would personalise' if dry_run else 'Personalised'} {_tickets(applied)}"
    if skipped:
        summary += (
            f"; {'would skip' if dry_run else 'skipped'} {skipped} (not awaiting "
            "personalisation: the API leaves those tickets as they are)"
        )
    if dry_run:
        summary += ". Nothing was sent (--dry-run)"
    elif not applied:
        summary += "; nothing was sent"
    out.note(summary + ".")
    if all_personalized is not None:
        out.note(_pdf_note(plans, all_personalized, dry_run=dry_run))


def _pdf_note(plans: Sequence[RowPlan], all_personalized: bool, *, dry_run: bool) -> str:
    """Whether the orders of the rows sent are complete, so that their PDFs exist."""
    orders = sorted({p.ticket.order_id for p in plans if p.applies and p.ticket.order_id})
    if not orders:
        which, pdf, is_ = "the order", "its PDF", "is"
    elif len(orders) == 1:
        which, pdf, is_ = f"order {orders[0]}", "its PDF", "is"
    else:
        which, pdf, is_ = f"orders {', '.join(orders)}", "their PDFs", "are"
    if not all_personalized:
        return (
            f"Some tickets of {which} still await personalisation: {pdf} {is_} not generated yet."
        )
    if dry_run:
        return f"All tickets of {which} would then be personalised, and {pdf} generated."
    return (
        f"All tickets of {which} are personalised: {pdf} {is_} ready "
        "(ticketpulse order-pdf / download-tickets)."
    )


def _tickets(count: int) -> str:
    return f"{count} ticket" if count == 1 else f"{count} tickets"


def _read_input(path: Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file", _exit.USAGE) from None


# ------------------------------------------------------------------ ticket-url, order-pdf


def _download_option(what: str) -> Callable[[F], F]:
    return click.option(
        "--download",
        "destination",
        metavar="PATH",
        type=click.Path(path_type=Path),
        help=f"Also download the {what} to PATH (a file, or a directory to save it in "
        "as the reference's name). An existing file is replaced.",
    )


@click.command(
    "ticket-url",
    short_help="Signed URL of a ticket's QR code (--download to save it).",
    cls=Command,
    epilog="""\b
Examples:
  ticketpulse ticket-url a3f9b --user 789
  ticketpulse ticket-url a3f9b --user 789 --download tickets/     # tickets/a3f9b.png
  ticketpulse ticket-url a3f9b --user 789 --sandbox""",
)
@click.argument("ticket_id", metavar="TICKET")
@user_option
@_download_option("QR image")
@global_options(on_group=False)
@pass_settings
def ticket_url(settings: Settings, ticket_id: str, user_id: int, destination: Path | None) -> None:
    """The signed URL of TICKET's QR code image (valid for one hour).

    TICKET is a ticket reference from the tickets command. The QR code exists
    once the ticket is personalised (exit code 6 before that).
    """
    _signed_file(settings, user_id, file_name(ticket_id, ".png"), destination, _qr_url(ticket_id))


@click.command(
    "order-pdf",
    short_help="Signed URL of an order's PDF (--download to save it).",
    cls=Command,
    epilog="""\b
Examples:
  ticketpulse order-pdf TP-00123 --user 789
  ticketpulse order-pdf TP-00123 --user 789 --download .     # ./TP-00123.pdf
  ticketpulse order-pdf TP-00123 --user 789 --sandbox""",
)
@click.argument("order_id", metavar="ORDER")
@user_option
@_download_option("PDF")
@global_options(on_group=False)
@pass_settings
def order_pdf(settings: Settings, order_id: str, user_id: int, destination: Path | None) -> None:
    """The signed URL of ORDER's ticket PDF (valid for one hour).

    ORDER is an order reference (like TP-00123) from the tickets command. The
    PDF exists once every ticket of the order is personalised (exit code 6
    before that).
    """
    _signed_file(settings, user_id, file_name(order_id, ".pdf"), destination, _pdf_url(order_id))


Fetch = Callable[[ticketpulse.Client, int], SignedURL]


def _qr_url(ticket_id: str) -> Fetch:
    return lambda client, user_id: client.get_ticket_url(ticket_id, user_id=user_id)


def _pdf_url(order_id: str) -> Fetch:
    return lambda client, user_id: client.get_order_pdf_url(order_id, user_id=user_id)


def _signed_file(
    settings: Settings, user_id: int, name: str, destination: Path | None, fetch: Fetch
) -> None:
    """Print a signed URL; with ``destination``, download it there (as ``name`` in a directory)."""
    target: Path | None = None
    if destination is not None:
        target = destination / name if destination.is_dir() else destination
        if not target.parent.is_dir():
            raise CliError(f"--download: no such directory: {target.parent}", _exit.USAGE)
    with settings.client(user_id) as client:
        url = fetch(client, user_id)
        written = client.download(url, target) if target is not None else None
    out = Output(json_mode=settings.json)
    if out.json_mode:
        data: dict[str, Any] = {"url": url.url, "expires_at": url.expires_at}
        if written is not None:
            data["path"] = str(written)
        out.json(data)
        return
    if written is not None:
        out.line(str(written))
        return
    out.line(url.url)
    out.note(f"Valid until {format_date(url.expires_at, plain=False)}.")


# ------------------------------------------------------------------ download-tickets


@click.command(
    "download-tickets",
    short_help="Download every QR code and order PDF of an event.",
    cls=Command,
    epilog="""\b
Files: <ticket>.png per ticket with a QR code (active, scanned in or out),
<order>.pdf per order whose tickets are all personalised. Others are listed
as "unavailable"; files already in DIR are "skipped", so running the command
again fetches only what is missing.

\b
Examples:
  ticketpulse download-tickets 12 --user 789 --out tickets/
  ticketpulse download-tickets 12 --user 789 --out tickets/ --json
  ticketpulse download-tickets 12 --user 789 --out demo/ --sandbox""",
)
@click.argument("event_id", metavar="EVENT", type=EVENT)
@user_option
@click.option(
    "--out",
    "directory",
    required=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to save the files in (created if missing).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    metavar="N",
    help="Files fetched at once.",
)
@global_options(on_group=False)
@pass_settings
def download_tickets(
    settings: Settings, event_id: int, user_id: int, directory: Path, concurrency: int
) -> None:
    """Download the QR codes and order PDFs of USER's tickets for EVENT into DIR.

    Fetched concurrently, with a progress bar on a terminal. Each file is
    written under a temporary name and renamed when complete: an interrupted
    run leaves no partial file. Exit code: 0 when every available file is in
    DIR, else that of the first failure (e.g. 5 for the network).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    out = Output(json_mode=settings.json)
    directory.mkdir(parents=True, exist_ok=True)
    with settings.client(user_id) as client:
        found = client.get_event_tickets(event_id, user_id=user_id)
        progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out.stderr,
            transient=True,
            disable=not out.stderr.is_terminal,
        )
        # The bar appears once the number of files to fetch is known.
        task = progress.add_task("Downloading", total=None, visible=False)
        with progress:
            outcomes = download_event_files(
                client,
                found,
                directory,
                user_id=user_id,
                concurrency=concurrency,
                started=lambda total: progress.update(task, total=total, visible=total > 0),
                advance=lambda: progress.advance(task),
            )
    _report_downloads(out, outcomes, directory)


def _report_downloads(out: Output, outcomes: list[Outcome], directory: Path) -> None:
    from rich.text import Text

    if out.json_mode:
        out.json([outcome.as_json() for outcome in outcomes])
    else:
        styles = {"downloaded": "green", "skipped": "dim", "unavailable": "yellow", "failed": "red"}
        out.table(
            [
                Column("File", wrap=False),
                Column("Kind", wrap=False),
                Column("Reference", wrap=False),
                Column("Status", wrap=False),
                Column("Detail"),
            ],
            [
                [
                    str(o.path),
                    "QR code" if o.kind == "qr" else "order PDF",
                    o.reference,
                    o.status if out.plain else Text(o.status, style=styles[o.status]),
                    o.detail,
                ]
                for o in outcomes
            ],
        )
    counts = {status: sum(1 for o in outcomes if o.status == status) for status in _STATUSES}
    if not outcomes:
        out.note("No tickets: nothing to download.")
    else:
        out.note(
            f"{counts['downloaded']} downloaded, {counts['skipped']} skipped (already present), "
            f"{counts['unavailable']} unavailable, {counts['failed']} failed — in {directory}"
        )
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        first = failed[0]
        code = _exit.API_ERROR
        if isinstance(first.error, ticketpulse.TicketPulseError):
            code = _exit.describe(first.error)[0]
        raise CliError(
            f"{len(failed)} of {len(outcomes)} files failed (first: {first.path.name}: "
            f"{first.detail})",
            code,
        )


_STATUSES = ("downloaded", "skipped", "unavailable", "failed")


COMMANDS = [events, user_events, tickets, personalize, ticket_url, order_pdf, download_tickets]
