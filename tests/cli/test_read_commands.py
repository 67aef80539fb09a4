"""events, user-events and tickets against the sandbox in-process: plain, table and JSON output."""

from __future__ import annotations

import json

from ticketpulse.testing import OrderRecord, Sandbox

from .conftest import TERMINAL, USER, Run, personalise_all


def test_events_plain_is_tab_separated_with_a_header(run: Run, sandbox: Sandbox) -> None:
    result = run("events")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == [
        "id",
        "parent_id",
        "event",
        "starts",
        "ends",
        "where",
        "price",
        "stock",
        "ticket_types",
    ]
    rows = [line.split("\t") for line in lines[1:]]
    assert [row[0] for row in rows] == ["12", "13", "14", "15", "16"]
    assert rows[0][1:5] == [
        "",
        "Summer Festival 2025",
        "2025-08-02T12:00:00Z",
        "2025-08-03T23:00:00Z",
    ]
    assert rows[1][1:3] == ["12", "Day 1 — Saturday"]  # a sub-event names its parent
    assert "46 VIP 89.50 (50 left)" in rows[0][8]  # the API's 89.5, written as a price
    assert "52 Early Bird 149.00 (sold out)" in rows[4][8]
    assert [r.path for r in sandbox.requests] == ["/tp-api/events"]


def test_events_json_is_the_models_json_form(run: Run) -> None:
    result = run("events", "--json")
    assert result.exit_code == 0
    events = json.loads(result.stdout)
    festival = events[0]
    assert festival["name"] == "Summer Festival 2025"
    assert festival["start_date"] == "2025-08-02T12:00:00Z"
    assert festival["price"] == "29.95"  # exact decimal strings
    assert festival["tickets"][1]["price"] == "89.5"  # as the API wrote it
    assert festival["children"][0]["tickets"][0]["date"] == "2025-08-02T12:00:00Z"
    assert [e["id"] for e in events] == [12, 15, 16]


def test_global_options_are_accepted_before_and_after_the_command(run: Run) -> None:
    before = run("--json", "events")
    after = run("events", "--json")
    assert before.exit_code == after.exit_code == 0
    assert json.loads(before.stdout) == json.loads(after.stdout)


def test_events_on_a_terminal_is_a_table(run: Run) -> None:
    result = run("events", env=TERMINAL)
    assert result.exit_code == 0
    assert "┃" in result.stdout  # rich's table
    assert "↳ Day 1 — Saturday" in result.stdout
    assert "2025-08-02 12:00 UTC" in result.stdout
    assert "\t" not in result.stdout
    types = result.stdout.split("Ticket types")[1]  # a second table
    assert "Early Bird" in types
    assert "sold out" in types


def test_user_events_of_a_user_without_orders_is_empty(run: Run) -> None:
    result = run("user-events", str(USER))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["id\tevent\tstarts"]
    assert "has no orders" in result.stderr
    assert json.loads(run("user-events", str(USER), "--json").stdout) == []


def test_user_events_lists_the_events_bought(run: Run, order: OrderRecord) -> None:
    result = run("user-events", str(USER), "--json")
    assert json.loads(result.stdout) == [
        {"id": 12, "name": "Summer Festival 2025", "start_date": "2025-08-02T12:00:00Z"}
    ]


def test_tickets_lists_status_and_attendees(run: Run, sandbox: Sandbox, order: OrderRecord) -> None:
    first, second = order.ticket_refs
    sandbox.personalize_ticket(
        first, first_name="Jane", last_name="Doe", email="jane@example.com", phone="+316"
    )
    result = run("tickets", "12", "--user", str(USER))
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert rows[0] == ["ticket", "order", "type", "status", "attendee", "email", "phone", "starts"]
    assert rows[1][:7] == [
        first,
        "TP-00123",
        "General Admission",
        "active",
        "Jane Doe",
        "jane@example.com",
        "+316",
    ]
    assert rows[2][:5] == [second, "TP-00123", "General Admission", "created", ""]
    query = sandbox.requests[-1].query
    assert query["wp_user_id"] == str(USER)
    assert query["key"] == "***"


def test_tickets_json_keeps_the_api_status_numbers(
    run: Run, sandbox: Sandbox, order: OrderRecord
) -> None:
    personalise_all(sandbox, order)
    tickets = json.loads(run("tickets", "12", "--user", str(USER), "--json").stdout)
    assert [t["id"] for t in tickets] == list(order.ticket_refs)
    assert {t["status"] for t in tickets} == {2}
    assert tickets[0]["order_id"] == "TP-00123"
    assert tickets[0]["event_start_date"] == "2025-08-02T12:00:00Z"


def test_tickets_table_on_a_terminal(run: Run, order: OrderRecord) -> None:
    result = run("tickets", "12", "--user", str(USER), env=TERMINAL)
    assert result.exit_code == 0
    title = result.stdout.splitlines()[0]  # one date for all tickets: in the title
    assert "Summer Festival 2025 · 2025-08-02 12:00 UTC" in title
    assert "┃" in result.stdout
    assert "created" in result.stdout
    assert order.ticket_refs[0] in result.stdout


def test_no_tickets_is_not_an_error(run: Run) -> None:
    result = run("tickets", "15", "--user", str(USER))
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 1
    assert "no tickets for event 15" in result.stderr
