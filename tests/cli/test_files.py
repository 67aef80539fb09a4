"""ticket-url, order-pdf and download-tickets: signed URLs and the files written."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from ticketpulse.testing import Drop, OrderRecord, Sandbox

from .conftest import PDF_MAGIC, PNG_MAGIC, USER, Run, assert_one_error_line, personalise_all


def test_ticket_url_prints_the_signed_url(run: Run, sandbox: Sandbox, order: OrderRecord) -> None:
    personalise_all(sandbox, order)
    reference = order.ticket_refs[0]
    result = run("ticket-url", reference, "--user", str(USER))
    assert result.exit_code == 0
    (url,) = result.stdout.splitlines()
    assert url.startswith(
        f"https://sandbox.ticket-pulse.test/files/tickets/ticket_{reference}.png?secret="
    )
    assert "Valid until" in result.stderr


def test_ticket_url_json_and_download(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    personalise_all(sandbox, order)
    reference = order.ticket_refs[0]
    result = run(
        "ticket-url", reference, "--user", str(USER), "--download", str(tmp_path), "--json"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["path"] == str(tmp_path / f"{reference}.png")
    assert datetime.fromisoformat(data["expires_at"]).tzinfo is not None
    assert (tmp_path / f"{reference}.png").read_bytes().startswith(PNG_MAGIC)


def test_qr_of_a_ticket_not_personalised_is_not_ready(run: Run, order: OrderRecord) -> None:
    line = assert_one_error_line(run("ticket-url", order.ticket_refs[0], "--user", str(USER)), 6)
    assert "401 File not found" in line
    assert "personalise" in line


def test_order_pdf_before_personalisation_is_not_ready(run: Run, order: OrderRecord) -> None:
    line = assert_one_error_line(run("order-pdf", "TP-00123", "--user", str(USER)), 6)
    assert "401 File not found" in line


def test_order_pdf_downloads_to_a_file(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    personalise_all(sandbox, order)
    target = tmp_path / "order.pdf"
    result = run("order-pdf", "TP-00123", "--user", str(USER), "--download", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(target)
    assert target.read_bytes().startswith(PDF_MAGIC)
    assert [r.path for r in sandbox.requests] == [
        "/tp-api/orders/get-ticket",
        "/files/tickets/order_123_tickets",
    ]
    assert "key" not in sandbox.requests[1].query  # the file host never gets the key


def test_order_pdf_into_a_directory_is_named_after_the_order(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    personalise_all(sandbox, order)
    result = run("order-pdf", "TP-00123", "--user", str(USER), "--download", str(tmp_path))
    assert result.exit_code == 0
    assert (tmp_path / "TP-00123.pdf").read_bytes().startswith(PDF_MAGIC)


def test_download_into_a_missing_directory_is_a_usage_error(
    run: Run, sandbox: Sandbox, tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "order.pdf"
    result = run("order-pdf", "TP-00123", "--user", str(USER), "--download", str(target))
    assert "no such directory" in assert_one_error_line(result, 2)
    assert len(sandbox.requests) == 0


def test_an_unknown_order_is_not_found(run: Run) -> None:
    line = assert_one_error_line(run("order-pdf", "TP-99999", "--user", str(USER)), 4)
    assert "401 Order not found" in line


def test_download_tickets_writes_every_file_then_skips_them(
    run: Run, sandbox: Sandbox, tmp_path: Path
) -> None:
    ready = sandbox.add_order(wp_user_id=USER, items={45: 2})
    personalise_all(sandbox, ready)
    waiting = sandbox.add_order(wp_user_id=USER, items={46: 1})
    out = tmp_path / "tickets"

    result = run("download-tickets", "12", "--user", str(USER), "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    outcomes = {(o["kind"], o["reference"]): o for o in json.loads(result.stdout)}
    first, second = ready.ticket_refs
    (pending,) = waiting.ticket_refs
    assert {k: o["status"] for k, o in outcomes.items()} == {
        ("qr", first): "downloaded",
        ("qr", second): "downloaded",
        ("qr", pending): "unavailable",
        ("pdf", "TP-00123"): "downloaded",
        ("pdf", "TP-00124"): "unavailable",
    }
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{first}.png", f"{second}.png", "TP-00123.pdf"]
    )
    assert (out / f"{first}.png").read_bytes().startswith(PNG_MAGIC)
    assert (out / "TP-00123.pdf").read_bytes().startswith(PDF_MAGIC)
    assert "3 downloaded, 0 skipped" in result.stderr
    # The bulk URL calls, one per active ticket.
    assert sum(r.path == "/tp-api/users/get-ticket" for r in sandbox.requests) == 2

    sandbox.requests.clear()
    again = run("download-tickets", "12", "--user", str(USER), "--out", str(out))
    assert again.exit_code == 0
    rows = [line.split("\t") for line in again.stdout.splitlines()]
    assert rows[0] == ["file", "kind", "reference", "status", "detail"]
    assert sorted(row[3] for row in rows[1:]) == ["skipped"] * 3 + ["unavailable"] * 2
    assert "0 downloaded, 3 skipped (already present)" in again.stderr
    assert [r.path for r in sandbox.requests] == ["/tp-api/events/12/tickets"]  # nothing fetched


def test_download_tickets_with_a_progress_bar_on_a_terminal(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    personalise_all(sandbox, order)
    result = run(
        "download-tickets",
        "12",
        "--user",
        str(USER),
        "--out",
        str(tmp_path),
        env={"TTY_COMPATIBLE": "1"},
    )
    assert result.exit_code == 0, result.stderr
    assert "┃" in result.stdout
    assert len(list(tmp_path.iterdir())) == 3


def test_download_tickets_reports_a_network_failure(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    personalise_all(sandbox, order)
    sandbox.faults.inject(Drop(), path="/files/tickets/order_", times=10)
    result = run(
        "download-tickets", "12", "--user", str(USER), "--out", str(tmp_path), "--max-retries", "0"
    )
    line = assert_one_error_line(result, 5, after_notes=True)
    assert "1 of 3 files failed (first: TP-00123.pdf" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{r}.png" for r in order.ticket_refs
    )


def test_download_tickets_of_a_cancelled_ticket(
    run: Run, sandbox: Sandbox, order: OrderRecord, tmp_path: Path
) -> None:
    personalise_all(sandbox, order)
    cancelled = order.ticket_refs[1]
    sandbox.cancel_ticket(cancelled)
    result = run("download-tickets", "12", "--user", str(USER), "--out", str(tmp_path), "--json")
    statuses = {o["reference"]: (o["status"], o["detail"]) for o in json.loads(result.stdout)}
    assert statuses[cancelled] == ("unavailable", "cancelled")
    assert statuses["TP-00123"] == ("downloaded", None)
    assert not (tmp_path / f"{cancelled}.png").exists()
