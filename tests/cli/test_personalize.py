"""personalize: the CSV is checked whole, the tickets are read, and only what the API
applies is sent and claimed; rows the API skips are listed as skipped (exit code 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ticketpulse.testing import OrderRecord, Respond, Sandbox

from .conftest import TERMINAL, USER, Run, assert_one_error_line

HEADER = "ticket_id,first_name,last_name,email,tel\n"
TICKETS_PATH = "/tp-api/events/12/tickets"
PERSONALIZE_PATH = "/tp-api/events/12/tickets/personalize"
ANN = "Ann,Smith,ann@example.com,+31611111111"
BOB = "Bob,Jones,bob@example.com,+31622222222"


def _csv(tmp_path: Path, text: str, name: str = "attendees.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _rows(stdout: str) -> list[list[str]]:
    header, *rows = stdout.splitlines()
    assert header.split("\t") == [
        "line",
        "ticket",
        "result",
        "attendee",
        "email",
        "phone",
        "detail",
    ]
    return [row.split("\t") for row in rows]


def _paths(sandbox: Sandbox) -> list[str]:
    return [request.path for request in sandbox.requests]


def _activate_first(sandbox: Sandbox, order: OrderRecord) -> str:
    """Personalise the order's first ticket as Jane Doe; its reference."""
    first = order.ticket_refs[0]
    sandbox.personalize_ticket(
        first, first_name="Jane", last_name="Doe", email="jane@example.com", phone="+31612345678"
    )
    return first


def test_personalises_every_row_and_exits_0(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    first, second = order.ticket_refs
    csv = _csv(tmp_path, HEADER + f"{first},{ANN}\n{second},{BOB}\n")
    result = run("personalize", "12", "--user", str(USER), "--csv", csv)
    assert result.exit_code == 0, result.stderr
    assert _rows(result.stdout) == [
        ["2", first, "personalised", "Ann Smith", "ann@example.com", "+31611111111", ""],
        ["3", second, "personalised", "Bob Jones", "bob@example.com", "+31622222222", ""],
    ]
    assert result.stderr.splitlines() == [
        "Personalised 2 tickets.",
        f"All tickets of order {order.reference} are personalised: its PDF is ready "
        "(ticketpulse order-pdf / download-tickets).",
    ]
    assert [t.status for t in sandbox.tickets(order=order.id)] == [2, 2]
    assert sandbox.ticket(second).first_name == "Bob"
    # The tickets are read first, then the rows are sent.
    assert _paths(sandbox) == [TICKETS_PATH, PERSONALIZE_PATH]
    assert sandbox.requests[1].method == "POST"
    assert sandbox.requests[1].json["tickets"][0] == {
        "ticket_id": first,
        "first_name": "Ann",
        "last_name": "Smith",
        "email": "ann@example.com",
        "tel": "+31611111111",
    }


def test_a_row_for_an_active_ticket_is_skipped_not_claimed_and_exits_7(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    active = _activate_first(sandbox, order)
    waiting = order.ticket_refs[1]
    csv = _csv(tmp_path, HEADER + f"{active},{ANN}\n{waiting},{BOB}\n")
    result = run("personalize", "12", "--user", str(USER), "--csv", csv)
    assert result.exit_code == 7, result.stderr
    # The skipped row shows its ticket's status and the attendee it keeps, not the row's.
    assert _rows(result.stdout) == [
        ["2", active, "skipped", "Jane Doe", "jane@example.com", "+31612345678", "already active"],
        ["3", waiting, "personalised", "Bob Jones", "bob@example.com", "+31622222222", ""],
    ]
    assert "Ann" not in result.stdout
    assert result.stderr.startswith("Personalised 1 ticket; skipped 1 (not awaiting")
    assert "Sent 2" not in result.stderr
    # The API was sent only the row it applies; the active ticket kept its attendee.
    assert _paths(sandbox) == [TICKETS_PATH, PERSONALIZE_PATH]
    assert [t["ticket_id"] for t in sandbox.requests[1].json["tickets"]] == [waiting]
    kept = sandbox.ticket(active)
    assert (kept.status, kept.first_name, kept.last_name) == (2, "Jane", "Doe")
    assert sandbox.ticket(waiting).first_name == "Bob"


def test_skipped_rows_in_a_terminal_table(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    active = _activate_first(sandbox, order)
    waiting = order.ticket_refs[1]
    csv = _csv(tmp_path, HEADER + f"{active},{ANN}\n{waiting},{BOB}\n")
    result = run("personalize", "12", "--user", str(USER), "--csv", csv, env=TERMINAL)
    assert result.exit_code == 7, result.stderr
    skipped_line = next(line for line in result.stdout.splitlines() if active in line)
    assert "skipped" in skipped_line
    assert "already active" in skipped_line
    assert "Jane Doe" in skipped_line
    assert "│" in skipped_line  # a rich table, not tab-separated
    assert "Ann" not in result.stdout
    assert "Personalised 1 ticket; skipped 1" in result.stderr


def test_json_lists_what_was_sent_and_each_skipped_row(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    active = _activate_first(sandbox, order)
    waiting = order.ticket_refs[1]
    csv = _csv(tmp_path, HEADER + f"{active},{ANN}\n{waiting},Bob,Jones,bob@example.com,+316\n")
    result = run("personalize", "12", "--user", str(USER), "--csv", csv, "--json")
    assert result.exit_code == 7, result.stderr
    assert json.loads(result.stdout) == {
        "tickets": [
            {
                "ticket_id": waiting,
                "first_name": "Bob",
                "last_name": "Jones",
                "email": "bob@example.com",
                "tel": "+316",
            }
        ],
        "all_personalized": True,  # the API's answer: both tickets are now active
        "skipped": [{"line": 2, "ticket_id": active, "status": 2, "reason": "already active"}],
    }


def test_json_of_a_partial_personalisation_says_the_order_still_waits(
    run: Run, order: OrderRecord, tmp_path: Path
) -> None:
    first = order.ticket_refs[0]
    csv = _csv(tmp_path, HEADER + f"{first},{ANN}\n")
    result = run("personalize", "12", "--user", str(USER), "--csv", csv, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [t["ticket_id"] for t in data["tickets"]] == [first]
    assert data["all_personalized"] is False  # the second ticket still waits
    assert data["skipped"] == []
    assert "still await personalisation" in result.stderr


@pytest.mark.parametrize(
    ("status", "reason"),
    [(3, "already scanned in"), (4, "already scanned out"), (5, "cancelled")],
)
def test_every_status_but_created_is_skipped_with_its_name(
    run: Run,
    sandbox: Sandbox,
    order: OrderRecord,
    tmp_path: Path,
    status: int,
    reason: str,
) -> None:
    first, second = order.ticket_refs
    _activate_first(sandbox, order)
    sandbox.set_ticket_status(first, status)
    csv = _csv(tmp_path, HEADER + f"{first},{ANN}\n{second},{BOB}\n")
    result = run("personalize", "12", "--user", str(USER), "--csv", csv)
    assert result.exit_code == 7, result.stderr
    assert _rows(result.stdout)[0][:3] == ["2", first, "skipped"]
    assert _rows(result.stdout)[0][-1] == reason
    assert sandbox.ticket(first).status == status
    assert sandbox.ticket(first).first_name == "Jane"


def test_when_every_row_is_skipped_nothing_is_sent(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    active = _activate_first(sandbox, order)
    csv = _csv(tmp_path, HEADER + f"{active},{ANN}\n")
    result = run("personalize", "12", "--user", str(USER), "--csv", csv, "--json")
    assert result.exit_code == 7, result.stderr
    data = json.loads(result.stdout)
    assert data["tickets"] == []
    assert data["all_personalized"] is None  # the API was not asked
    assert [s["ticket_id"] for s in data["skipped"]] == [active]
    assert "Personalised 0 tickets; skipped 1" in result.stderr
    assert "nothing was sent" in result.stderr
    assert _paths(sandbox) == [TICKETS_PATH]


def test_sending_the_same_file_again_skips_every_row_as_same_details(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    first, second = order.ticket_refs
    csv = _csv(tmp_path, HEADER + f"{first},{ANN}\n{second},{BOB}\n")
    assert run("personalize", "12", "--user", str(USER), "--csv", csv).exit_code == 0
    again = run("personalize", "12", "--user", str(USER), "--csv", csv)
    assert again.exit_code == 7
    assert [row[2:] for row in _rows(again.stdout)] == [
        [
            "skipped",
            "Ann Smith",
            "ann@example.com",
            "+31611111111",
            "already active (same details)",
        ],
        [
            "skipped",
            "Bob Jones",
            "bob@example.com",
            "+31622222222",
            "already active (same details)",
        ],
    ]
    assert _paths(sandbox).count(PERSONALIZE_PATH) == 1


def test_a_ticket_the_user_does_not_have_stops_the_file_before_sending(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    # The API refuses a whole request naming a ticket the user does not own (400),
    # it does not skip it: no row is sent, every such line is named.
    first = order.ticket_refs[0]
    csv = _csv(tmp_path, HEADER + f"{first},{ANN}\nzzzzz,{BOB}\nyyyyy,{BOB}\n")
    line = assert_one_error_line(run("personalize", "12", "--user", str(USER), "--csv", csv), 2)
    assert "line 3: ticket zzzzz is not one of user 789's tickets for event 12" in line
    assert "line 4: ticket yyyyy" in line
    assert "nothing was sent" in line
    assert _paths(sandbox) == [TICKETS_PATH]
    assert sandbox.ticket(first).status == 1


def test_a_ticket_of_another_user_or_event_is_not_one_of_the_users_tickets(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    someone_else = sandbox.add_order(wp_user_id=USER + 1, items={45: 1}).ticket_refs[0]
    jazz = sandbox.add_order(wp_user_id=USER, items={49: 1}).ticket_refs[0]  # event 15
    csv = _csv(tmp_path, HEADER + f"{someone_else},{ANN}\n{jazz},{BOB}\n")
    line = assert_one_error_line(run("personalize", "12", "--user", str(USER), "--csv", csv), 2)
    assert f"line 2: ticket {someone_else} is not one of" in line
    assert f"line 3: ticket {jazz} is not one of" in line
    assert PERSONALIZE_PATH not in _paths(sandbox)


def test_a_user_without_tickets_for_the_event_is_told_so(
    run: Run, sandbox: Sandbox, tmp_path: Path
) -> None:
    csv = _csv(tmp_path, HEADER + f"a3f9b,{ANN}\n")
    line = assert_one_error_line(run("personalize", "12", "--user", str(USER), "--csv", csv), 2)
    assert "user 789 has no tickets for event 12" in line
    assert "nothing was sent" in line
    assert _paths(sandbox) == [TICKETS_PATH]


def test_the_api_refusing_the_rows_after_the_read_is_an_api_error(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    # Say the order changed hands between the read and the send.
    sandbox.faults.inject(
        Respond(400, "Wordpress user unauthorized for ticket"), method="POST", path=PERSONALIZE_PATH
    )
    csv = _csv(tmp_path, HEADER + f"{order.ticket_refs[0]},{ANN}\n")
    line = assert_one_error_line(run("personalize", "12", "--user", str(USER), "--csv", csv), 1)
    assert "400 Wordpress user unauthorized for ticket" in line
    assert "key=***" in line
    assert sandbox.ticket(order.ticket_refs[0]).status == 1


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("a3f9b,Ann,Smith,,+316\n", "line 2: empty email"),
        ("a3f9b,Ann,Smith,ann@example.com,+316\n42350,Bob\n", "line 3: missing last_name"),
        (
            "a3f9b,Ann,Smith,ann@example.com,+316\n\n42350,Bob,  ,b@x.nl,+316\n",
            "line 4: empty last_name",
        ),
        (
            "a3f9b,Ann,Smith,ann@example.com,+316\na3f9b,Ann,Smith,ann@example.com,+316\n",
            "line 3: ticket a3f9b is already on line 2",
        ),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_nothing_is_sent(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path, rows: str, expected: str
) -> None:
    csv = _csv(tmp_path, HEADER + rows)
    result = run("personalize", "12", "--user", str(USER), "--csv", csv)
    line = assert_one_error_line(result, 2)
    assert expected in line
    assert "nothing was sent" in line
    assert len(sandbox.requests) == 0
    assert [t.status for t in sandbox.tickets(order=order.id)] == [1, 1]


def test_a_missing_column_is_reported_on_line_1(run: Run, sandbox: Sandbox, tmp_path: Path) -> None:
    csv = _csv(tmp_path, "ticket_id,first_name,last_name,email\na3f9b,Ann,Smith,a@x.nl\n")
    line = assert_one_error_line(run("personalize", "12", "--user", str(USER), "--csv", csv), 2)
    assert "line 1: missing column tel" in line
    assert len(sandbox.requests) == 0


def test_spreadsheet_exports_are_understood(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    # Semicolons, a byte-order mark, CRLF, headings as people write them, an extra column.
    first, second = order.ticket_refs
    text = (
        "\ufeffTicket ID;First name;Last name;E-mail;Phone;Notes\r\n"
        f"{first};Ann;Smith;ann@example.com;+316;vegetarian\r\n"
        ";;;;;\r\n"
        f"{second};Bob;Jones;bob@example.com;+317;\r\n"
    )
    csv = _csv(tmp_path, text)
    result = run("personalize", "12", "--user", str(USER), "--csv", csv)
    assert result.exit_code == 0, result.stderr
    assert [row[0] for row in _rows(result.stdout)] == ["2", "4"]  # the file's line numbers
    assert sandbox.ticket(first).phone == "+316"
    assert sandbox.ticket(second).email == "bob@example.com"


def test_dry_run_reads_the_tickets_and_changes_nothing(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    active = _activate_first(sandbox, order)
    waiting = order.ticket_refs[1]
    csv = _csv(tmp_path, HEADER + f"{active},{ANN}\n{waiting},{BOB}\n")
    result = run("personalize", "12", "--user", str(USER), "--csv", csv, "--dry-run")
    assert result.exit_code == 7, result.stderr  # as the run would
    assert [row[1:3] for row in _rows(result.stdout)] == [
        [active, "skipped"],
        [waiting, "to personalise"],
    ]
    assert "Would personalise 1 ticket; would skip 1" in result.stderr
    assert "Nothing was sent (--dry-run)" in result.stderr
    assert _paths(sandbox) == [TICKETS_PATH]
    assert sandbox.ticket(waiting).status == 1
    assert sandbox.ticket(active).first_name == "Jane"


def test_dry_run_json_predicts_the_outcome_and_exits_0_when_every_row_applies(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    first, second = order.ticket_refs
    csv = _csv(tmp_path, HEADER + f"{first},{ANN}\n{second},{BOB}\n")
    result = run("personalize", "12", "--user", str(USER), "--csv", csv, "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [t["ticket_id"] for t in data["tickets"]] == [first, second]
    assert data["all_personalized"] is True
    assert data["skipped"] == []
    assert _paths(sandbox) == [TICKETS_PATH]


def test_reads_stdin(run: Run, sandbox: Sandbox, order: OrderRecord) -> None:
    first = order.ticket_refs[0]
    result = run(
        "personalize",
        "12",
        "--user",
        str(USER),
        "--csv",
        "-",
        input=HEADER + f"{first},Ann,Smith,ann@example.com,+316\n",
    )
    assert result.exit_code == 0, result.stderr
    assert sandbox.ticket(first).status == 2


def test_a_missing_file_is_a_usage_error(run: Run, tmp_path: Path) -> None:
    result = run("personalize", "12", "--user", str(USER), "--csv", str(tmp_path / "nope.csv"))
    line = assert_one_error_line(result, 2)
    assert "no such file" in line


def test_the_help_documents_exit_code_7(run: Run) -> None:
    result = run("personalize", "--help")
    assert result.exit_code == 0
    assert "7  some rows were skipped" in result.stdout
