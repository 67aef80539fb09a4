"""Every API command over real loopback sockets: --base-url and --api-key (or the environment)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from ticketpulse.testing import DEMO_API_KEY, Sandbox, Stall

from .conftest import PDF_MAGIC, PNG_MAGIC, USER, WRONG_KEY, assert_one_error_line, invoke

pytestmark = pytest.mark.sockets


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox.demo()
    order = sandbox.add_order(wp_user_id=USER, items={45: 2})
    sandbox.personalize_ticket(
        order.ticket_refs[0], first_name="Jane", last_name="Doe", email="j@x.nl", phone="+316"
    )
    with sandbox.serve() as base_url:
        yield sandbox, base_url


def remote(base_url: str, *args: str, key: str = DEMO_API_KEY) -> Result:
    return invoke(["--base-url", base_url, "--api-key", key, *args])


def test_read_commands(served: tuple[Sandbox, str]) -> None:
    _, base_url = served
    events = json.loads(remote(base_url, "events", "--json").stdout)
    assert events[0]["name"] == "Summer Festival 2025"
    user_events = remote(base_url, "user-events", str(USER))
    assert user_events.stdout.splitlines()[1].startswith("12\tSummer Festival 2025\t")
    tickets = json.loads(remote(base_url, "tickets", "12", "--user", str(USER), "--json").stdout)
    assert [t["status"] for t in tickets] == [2, 1]


def test_environment_variables_instead_of_options(served: tuple[Sandbox, str]) -> None:
    _, base_url = served
    env = {"TICKETPULSE_API_KEY": DEMO_API_KEY, "TICKETPULSE_BASE_URL": base_url}
    result = invoke(["user-events", str(USER), "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["id"] == 12


def test_files_and_personalisation(served: tuple[Sandbox, str], tmp_path: Path) -> None:
    sandbox, base_url = served
    (order,) = sandbox.orders()
    active, waiting = order.ticket_refs

    url = remote(base_url, "ticket-url", active, "--user", str(USER)).stdout.strip()
    assert url.startswith(base_url.removesuffix("/tp-api") + "/files/tickets/")
    assert remote(base_url, "order-pdf", order.reference, "--user", str(USER)).exit_code == 6

    csv = tmp_path / "attendees.csv"
    csv.write_text(f"ticket_id,first_name,last_name,email,tel\n{waiting},Bob,Jones,b@x.nl,+317\n")
    personalised = remote(base_url, "personalize", "12", "--user", str(USER), "--csv", str(csv))
    assert personalised.exit_code == 0, personalised.stderr
    assert f"All tickets of order {order.reference} are personalised" in personalised.stderr

    out = tmp_path / "files"
    result = remote(base_url, "download-tickets", "12", "--user", str(USER), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert (out / f"{active}.png").read_bytes().startswith(PNG_MAGIC)
    assert (out / f"{waiting}.png").read_bytes().startswith(PNG_MAGIC)
    assert (out / f"{order.reference}.pdf").read_bytes().startswith(PDF_MAGIC)
    again = remote(
        base_url, "download-tickets", "12", "--user", str(USER), "--out", str(out), "--json"
    )
    assert {o["status"] for o in json.loads(again.stdout)} == {"skipped"}

    pdf = tmp_path / "order.pdf"
    downloaded = remote(
        base_url, "order-pdf", order.reference, "--user", str(USER), "--download", str(pdf)
    )
    assert downloaded.exit_code == 0
    assert pdf.read_bytes().startswith(PDF_MAGIC)


def test_error_exit_codes_over_loopback(served: tuple[Sandbox, str]) -> None:
    _, base_url = served
    assert_one_error_line(remote(base_url, "events", key=WRONG_KEY), 3)
    assert_one_error_line(remote(base_url, "tickets", "999", "--user", str(USER)), 4)
    assert_one_error_line(remote(base_url, "order-pdf", "TP-99999", "--user", str(USER)), 4)


def test_timeout_option_bounds_a_stalled_call(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    sandbox.faults.inject(Stall(2.0), path="/tp-api/events", times=1)
    started = time.monotonic()
    result = remote(base_url, "events", "--timeout", "0.2", "--max-retries", "0")
    assert time.monotonic() - started < 1.5
    assert "timed out" in assert_one_error_line(result, 5)


def test_connection_refused_exits_5() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    result = invoke(
        [
            "--base-url",
            f"http://127.0.0.1:{port}/tp-api",
            "--api-key",
            WRONG_KEY,
            "--max-retries",
            "0",
            "events",
        ]
    )
    line = assert_one_error_line(result, 5)
    assert "key=***" in line


def test_plain_http_to_another_host_is_refused_before_sending() -> None:
    result = invoke(["--base-url", "http://example.com/tp-api", "--api-key", WRONG_KEY, "events"])
    assert "https" in assert_one_error_line(result, 3)
