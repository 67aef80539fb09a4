"""personalize: the CSV is checked whole before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ticketpulse.testing import OrderRecord, Sandbox

from .conftest import USER, Run, assert_one_error_line

HEADER = "ticket_id,first_name,last_name,email,tel\n"


def _csv(tmp_path: Path, text: str, name: str = "attendees.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_personalises_every_row(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    first, second = order.ticket_refs
    csv = _csv(
        tmp_path,
        HEADER
        + f"{first},Ann,Smith,ann@example.com,+31611111111\n"
        + f"{second},Bob,Jones,bob@example.com,+31622222222\n",
    )
    result = run("personalize", "12", "--user", str(USER), "--csv", csv)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].split("\t") == [
        first,
        "Ann",
        "Smith",
        "ann@example.com",
        "+31611111111",
    ]
    assert "All tickets of the order are personalised" in result.stderr
    assert [t.status for t in sandbox.tickets(order=order.id)] == [2, 2]
    assert sandbox.ticket(second).first_name == "Bob"
    (request,) = sandbox.requests
    assert request.method == "POST"
    assert request.path == "/tp-api/events/12/tickets/personalize"
    assert request.json["tickets"][0] == {
        "ticket_id": first,
        "first_name": "Ann",
        "last_name": "Smith",
        "email": "ann@example.com",
        "tel": "+31611111111",
    }


def test_json_output_is_the_personalisation_result(
    run: Run, order: OrderRecord, tmp_path: Path
) -> None:
    first = order.ticket_refs[0]
    csv = _csv(tmp_path, HEADER + f"{first},Ann,Smith,ann@example.com,+316\n")
    result = run("personalize", "12", "--user", str(USER), "--csv", csv, "--json")
    assert json.loads(result.stdout) == {
        "tickets": [
            {
                "ticket_id": first,
                "first_name": "Ann",
                "last_name": "Smith",
                "email": "ann@example.com",
                "tel": "+316",
            }
        ],
        "all_personalized": False,  # the second ticket still waits
    }


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
    assert sandbox.ticket(first).phone == "+316"
    assert sandbox.ticket(second).email == "bob@example.com"


def test_dry_run_sends_nothing(run: Run, sandbox: Sandbox, tmp_path: Path) -> None:
    csv = _csv(tmp_path, HEADER + "a3f9b,Ann,Smith,ann@example.com,+316\n")
    result = run("personalize", "12", "--user", str(USER), "--csv", csv, "--dry-run", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["ticket_id"] == "a3f9b"
    assert len(sandbox.requests) == 0


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


def test_a_ticket_of_someone_else_is_an_api_error(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    csv = _csv(tmp_path, HEADER + "zzzzz,Ann,Smith,ann@example.com,+316\n")
    line = assert_one_error_line(run("personalize", "12", "--user", str(USER), "--csv", csv), 1)
    assert "400 User unauthorized for ticket" in line
    assert "key=***" in line


def test_a_missing_file_is_a_usage_error(run: Run, tmp_path: Path) -> None:
    result = run("personalize", "12", "--user", str(USER), "--csv", str(tmp_path / "nope.csv"))
    line = assert_one_error_line(result, 2)
    assert "no such file" in line
