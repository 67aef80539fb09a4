"""The CLI's pieces on their own: the CSV reader, the personalisation plan, file names,
the sandbox command, output."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ticketpulse import Attendee, Ticket, TicketStatus
from ticketpulse._cli import _serve
from ticketpulse._cli._attendees import AttendeeRow, AttendeesFileError, parse_attendees
from ticketpulse._cli._downloads import file_name, plan
from ticketpulse._cli._output import to_json_data
from ticketpulse._cli._personalize import all_done_after
from ticketpulse._cli._personalize import plan as plan_rows
from ticketpulse.testing import DEMO_API_KEY

from .conftest import invoke

HEADER = b"ticket_id,first_name,last_name,email,tel\n"


def test_csv_line_numbers_count_blank_lines_and_multiline_cells() -> None:
    data = HEADER + b'a,A,B,c@x.nl,1\n\n"b","multi\nline",B,c@x.nl,1\nc,A,,c@x.nl,1\n'
    with pytest.raises(AttendeesFileError) as caught:
        parse_attendees(data, "people.csv")
    assert str(caught.value) == (
        "people.csv: line 4: first_name contains a line break or a control character; "
        "line 6: empty last_name"
    )


def test_csv_reports_at_most_five_problems_on_its_one_line() -> None:
    data = HEADER + b"".join(b"t%d,,B,c,1\n" % i for i in range(8))
    with pytest.raises(AttendeesFileError) as caught:
        parse_attendees(data, "f.csv")
    message = str(caught.value)
    assert "\n" not in message
    assert message.count("empty first_name") == 5
    assert message.endswith("(and 3 more)")


def test_csv_not_utf8_names_the_line() -> None:
    with pytest.raises(AttendeesFileError, match=r"f.csv: line 2: not UTF-8"):
        parse_attendees(HEADER + b"a,\xe9,B,c,1\n", "f.csv")


def test_csv_tab_separated_with_columns_in_any_order() -> None:
    data = b"email\ttel\tticket_id\tlast_name\tfirst_name\nc@x.nl\t+31\tab1\tDoe\tJane\n"
    assert parse_attendees(data, "f.tsv") == [
        AttendeeRow(2, Attendee("ab1", "Jane", "Doe", "c@x.nl", "+31"))
    ]


def _row(line: int, reference: str) -> AttendeeRow:
    return AttendeeRow(line, Attendee(reference, "Ann", "Smith", "a@x.nl", "+31"))


def test_plan_sorts_rows_by_their_tickets_status() -> None:
    tickets = [
        Ticket("a", order_id="O-1", status=TicketStatus.CREATED),
        Ticket("b", order_id="O-1", status=TicketStatus.ACTIVE, first_name="Jo"),
        Ticket("c", order_id="O-2", status=TicketStatus.CANCELLED),
        Ticket("d", order_id="O-2", status=TicketStatus(9)),
    ]
    plans = plan_rows(
        [_row(2, "a"), _row(3, "b"), _row(5, "c"), _row(6, "d")],
        tickets,
        name="f.csv",
        user_id=7,
        event_id=12,
    )
    assert [(p.row.line, p.applies, p.reason) for p in plans] == [
        (2, True, ""),
        (3, False, "already active"),
        (5, False, "cancelled"),
        (6, False, "status 9, not awaiting personalisation"),
    ]
    assert plans[1].attendee_after() == ("Jo", "", "")  # what the ticket keeps
    assert plans[0].attendee_after() == ("Ann Smith", "a@x.nl", "+31")


def test_plan_names_every_row_of_a_ticket_the_user_does_not_have() -> None:
    with pytest.raises(AttendeesFileError) as caught:
        plan_rows(
            [_row(2, "a"), _row(3, "x"), _row(4, "y")],
            [Ticket("a")],
            name="f.csv",
            user_id=7,
            event_id=12,
        )
    assert str(caught.value) == (
        "f.csv: line 3: ticket x is not one of user 7's tickets for event 12; "
        "line 4: ticket y is not one of user 7's tickets for event 12"
    )


def test_all_done_after_looks_at_the_orders_of_the_rows_sent() -> None:
    tickets = [
        Ticket("a", order_id="O-1", status=TicketStatus.CREATED),
        Ticket("b", order_id="O-1", status=TicketStatus.ACTIVE),
        Ticket("c", order_id="O-2", status=TicketStatus.CREATED),
    ]

    def done(*references: str) -> bool | None:
        rows = [_row(i + 2, ref) for i, ref in enumerate(references)]
        return all_done_after(plan_rows(rows, tickets, name="f", user_id=7, event_id=12), tickets)

    assert done("a") is True  # O-2 still waits, but nothing of it was sent
    assert done("a", "b") is True
    assert done("b") is None  # nothing to send
    assert done("a", "c") is True
    tickets.append(Ticket("d", order_id="O-2", status=TicketStatus.CREATED))
    assert done("a", "c") is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "line 1: expected a header row"),
        (HEADER, "no tickets after the header row"),
        (
            b"ticket_id,first_name,first_name,last_name,email,tel\n",
            "column first_name appears twice",
        ),
    ],
)
def test_csv_without_usable_rows(data: bytes, message: str) -> None:
    with pytest.raises(AttendeesFileError, match=message):
        parse_attendees(data, "f.csv")


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("a3f9b", "a3f9b.png"),
        ("TP-00123", "TP-00123.png"),
        ("../../etc/passwd", "_.._etc_passwd.png"),
        (".hidden", "hidden.png"),
        ("a/b\\c", "a_b_c.png"),
        ("...", "file.png"),
    ],
)
def test_file_names_never_leave_the_directory(reference: str, expected: str) -> None:
    assert file_name(reference, ".png") == expected


def test_plan_needs_no_request_and_dedupes(tmp_path: Path) -> None:
    def ticket(ref: str, order: str, status: TicketStatus) -> Ticket:
        return Ticket(ref, order_id=order, status=status)

    (tmp_path / "b.png").write_bytes(b"x")
    result = plan(
        [
            ticket("a", "O-1", TicketStatus.ACTIVE),
            ticket("a", "O-1", TicketStatus.ACTIVE),
            ticket("b", "O-1", TicketStatus.SCANNED_IN),
            ticket("c", "O-2", TicketStatus.CANCELLED),
            ticket("d", "O-3", TicketStatus.CREATED),
        ],
        tmp_path,
    )
    assert result.tickets == {"a": tmp_path / "a.png"}
    assert result.orders == {"O-1": tmp_path / "O-1.pdf"}
    assert {(o.reference, o.status, o.detail) for o in result.outcomes} == {
        ("b", "skipped", "already present"),
        ("c", "unavailable", "cancelled"),
        ("d", "unavailable", "awaiting personalisation"),
        ("O-2", "unavailable", "no valid ticket"),
        ("O-3", "unavailable", "not all tickets personalised"),
    }


def test_json_data_keeps_prices_exact() -> None:
    assert to_json_data({"price": Decimal("29.950")}) == {"price": "29.950"}


def test_sandbox_command_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def interrupted() -> None:
        seen.append("waited")
        raise KeyboardInterrupt

    monkeypatch.setattr(_serve, "_wait_until_interrupted", interrupted)
    result = invoke(["sandbox", "--port", "0", "--user", "7"], may_print=[DEMO_API_KEY])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Ticket Pulse sandbox serving at http://127.0.0.1:")
    assert lines[1] == f"API key: {DEMO_API_KEY}"
    assert seen == ["waited"]
    assert result.stderr.splitlines() == ["Press Ctrl-C to stop.", "Stopped."]


def test_sandbox_command_json_banner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_serve, "_wait_until_interrupted", lambda: None)
    result = invoke(["sandbox", "--port", "0", "--json"], may_print=[DEMO_API_KEY])
    banner = json.loads(result.stdout)
    assert banner["api_key"] == DEMO_API_KEY
    assert banner["base_url"].endswith("/tp-api")


def test_sandbox_command_on_a_busy_port_exits_1() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = invoke(["sandbox", "--port", str(port)])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"ticketpulse: error: cannot serve the sandbox on 127.0.0.1:{port}"
    )
